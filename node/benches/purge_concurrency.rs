//! A search while a large purge runs: how long a control request waits.
//!
//! `cargo bench -p alpr-node --bench purge_concurrency` (ALPR_BENCH_READS
//! sets the reads to purge, default 1,000,000). A daemon's purge runs in
//! steps of at most `PURGE_BATCH_MAX` reads, releasing the engine between
//! them; a second thread sends search requests through the control
//! dispatch the whole time and records each one's latency (waiting for the
//! engine included). Prints p50, p99 and the longest; asserts nothing.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::Node;
use alpr_node::engine::{Engine, NewUser, PURGE_BATCH_MAX, PurgeActor};
use alpr_node::policy::UserRole;
use alpr_node::recorder::Recorder;
use alpr_protocol::control::{ControlRequest, ControlResponse, PurposeWire, QueryWire};
use alpr_protocol::{Capture, KdfParams, PlateText, Role, Timestamp};
use rand::SeedableRng;
use rand::rngs::StdRng;

const PASS: &[u8] = b"bench passphrase";
const DAY: i64 = 86_400_000;

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: u64 = std::env::var("ALPR_BENCH_READS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = StdRng::seed_from_u64(7);
    let t0 = now().0;
    let agency = Agency::init(
        &dir.path().join("agency"),
        PASS,
        KdfParams::INSECURE_FAST,
        &mut rng,
    )
    .expect("agency");
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: "bench".into(),
                role: Role::Station,
                not_before: Timestamp(t0 - 500 * DAY),
                not_after: Timestamp(t0 + 500 * DAY),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            &mut rng,
        )
        .expect("enroll");
    let path = dir.path().join("bench.enroll");
    std::fs::write(&path, bundle.to_bytes()).expect("bundle");
    let node = Node::init(&dir.path().join("node"), &path, PASS, &mut rng).expect("node");

    // Reads 400 days old, past the default 365 days: all of them go.
    let started = Instant::now();
    let mut recorder = Recorder::load(&node).expect("recorder");
    let batches = (0..n.div_ceil(4000)).map(|b| {
        (b * 4000..((b + 1) * 4000).min(n))
            .map(|k| {
                let plate = format!("P{:06}", k % 1_000_000);
                (
                    Timestamp(t0 - 400 * DAY + k as i64 * 10),
                    Capture {
                        char_confidences: vec![0.9; plate.len()],
                        plate: PlateText::parse(&plate).expect("plate"),
                        region: None,
                        confidence: 0.9,
                        camera: "front".into(),
                        location: None,
                        fix: Default::default(),
                        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
                        overview_jpeg: None,
                        candidates: Vec::new(),
                    },
                )
            })
            .collect::<Vec<_>>()
    });
    recorder
        .record_stream(&node, batches, &mut rng, |_, _| true, |_| Vec::new())
        .expect("ingest");
    println!(
        "purge concurrency bench: {n} reads stored in {:.1} s; steps of {PURGE_BATCH_MAX} reads",
        started.elapsed().as_secs_f64()
    );

    let mut engine = Engine::open(node, [9; 32]).expect("engine");
    engine
        .bootstrap_admin(
            Timestamp(t0 - 450 * DAY),
            NewUser {
                name: "chief".into(),
                role: UserRole::Administrator,
                password: "staff services 2026".into(),
                trained_on: Some(Timestamp(t0 - 460 * DAY)),
                training_expires: None,
            },
        )
        .expect("admin");
    let token = engine
        .login(now(), "chief", "staff services 2026")
        .expect("login")
        .0;
    let engine = Arc::new(Mutex::new(engine));

    let purging = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || {
            let t = Instant::now();
            let stepped = alpr_node::control::purge_in_steps(&engine, now, PurgeActor::Schedule)
                .expect("purge");
            (stepped, t.elapsed().as_secs_f64())
        })
    };
    let mut latencies = Vec::new();
    while !purging.is_finished() {
        let t = Instant::now();
        let response = {
            let mut e = engine.lock().expect("engine");
            alpr_node::control::handle(
                &mut e,
                now(),
                ControlRequest::Search {
                    token,
                    purpose: PurposeWire {
                        kind: Some(alpr_protocol::control::PurposeKindWire::Alert),
                        reason: Some("hotlist hit follow-up".into()),
                        case: None,
                    },
                    query: QueryWire::Plate("P123456".into()),
                    from: None,
                    to: None,
                    limit: 10,
                    camera: None,
                    node: None,
                },
            )
        };
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(
            matches!(response, ControlResponse::Found { .. }),
            "{response:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (stepped, secs) = purging.join().expect("purge thread");
    let report = &stepped.report;
    latencies.sort_by(f64::total_cmp);
    println!(
        "purge: {} reads deleted in {secs:.1} s ({:.0} reads/s), {} held; {} steps, the longest {:.1} ms",
        report.purged,
        report.purged as f64 / secs,
        report.held,
        stepped.steps,
        stepped.longest_step.as_secs_f64() * 1000.0
    );
    println!(
        "search during the purge: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
}
