//! Policy benchmarks: login cost, audit append rate, purge of 1,000,000 reads.
//!
//! `cargo bench -p alpr-node --bench policy` (ALPR_BENCH_READS sets the purge
//! size, default 1,000,000). Prints figures for the issue notes; asserts nothing.

use std::time::Instant;

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::Node;
use alpr_node::engine::{Engine, NewUser, PurgeActor};
use alpr_node::policy::password;
use alpr_node::policy::{Retention, UserRole};
use alpr_node::recorder::{AuditEntry, Recorder};
use alpr_protocol::{Action, Capture, KdfParams, Outcome, PlateText, Role, Timestamp};
use rand::SeedableRng;
use rand::rngs::StdRng;

const PASS: &[u8] = b"bench passphrase";
const DAY: i64 = 86_400_000;

fn node(dir: &std::path::Path, t0: i64, rng: &mut StdRng) -> Node {
    let agency =
        Agency::init(&dir.join("agency"), PASS, KdfParams::INSECURE_FAST, rng).expect("agency");
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: "bench".into(),
                role: Role::Station,
                not_before: Timestamp(t0 - 1000 * DAY),
                not_after: Timestamp(t0 + 1000 * DAY),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            rng,
        )
        .expect("enroll");
    let path = dir.join("bench.enroll");
    std::fs::write(&path, bundle.to_bytes()).expect("bundle");
    Node::init(&dir.join("node"), &path, PASS, rng).expect("node")
}

/// An engine over `node` with a trained Administrator "chief".
fn with_admin(node: Node, seed: [u8; 32], t0: i64) -> Engine {
    let mut engine = Engine::open(node, seed).expect("engine");
    engine
        .bootstrap_admin(
            Timestamp(t0),
            NewUser {
                name: "chief".into(),
                role: UserRole::Administrator,
                password: "staff services 2026".into(),
                trained_on: Some(Timestamp(t0 - DAY)),
                training_expires: None,
            },
        )
        .expect("admin");
    engine
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn main() {
    let n: u64 = std::env::var("ALPR_BENCH_READS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = StdRng::seed_from_u64(11);
    let t0 = jiff::Timestamp::now().as_millisecond();
    println!("policy bench; load before: {}", load());

    // Login: the Argon2id check alone, and a whole login (check + audit event + fsync).
    let hash = password::hash(
        "correct horse battery",
        password::PasswordCost::Standard,
        &mut rng,
    );
    let verify_ms = median(
        (0..20)
            .map(|_| {
                let s = Instant::now();
                assert!(password::verify("correct horse battery", &hash));
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );
    let mut engine = with_admin(node(dir.path(), t0, &mut rng), [3; 32], t0);
    let login_ms = median(
        (0..20)
            .map(|i| {
                let s = Instant::now();
                let token = engine
                    .login(Timestamp(t0 + i), "chief", "staff services 2026")
                    .expect("login");
                let ms = s.elapsed().as_secs_f64() * 1e3;
                engine.logout(Timestamp(t0 + i), token).expect("logout");
                ms
            })
            .collect(),
    );
    println!(
        "login: argon2id verify {verify_ms:.1} ms median; whole login (verify + audit event + fsync) {login_ms:.1} ms median"
    );
    drop(engine);

    // Audit append: chained, sealed, signed, batched 1,000 per transaction.
    let adir = tempfile::tempdir().expect("tempdir");
    let anode = node(adir.path(), t0, &mut rng);
    let mut rec = Recorder::load(&anode).expect("recorder");
    let events = 100_000;
    let s = Instant::now();
    for b in 0..events / 1000 {
        let batch = (0..1000)
            .map(|i| AuditEntry {
                user: "jsmith".into(),
                action: Action::Search,
                object: format!(
                    "search plate 7ABC{:03} ({} matches)",
                    (b * 1000 + i) % 1000,
                    i % 7
                ),
                purpose: Some("investigation: burglary series".into()),
                case: Some("26-0042".into()),
                outcome: Outcome::Success,
                floors: Vec::new(),
            })
            .collect();
        rec.record_audits(&anode, Timestamp(t0 + b as i64), batch, &mut rng)
            .expect("audit");
    }
    let secs = s.elapsed().as_secs_f64();
    println!(
        "audit append: {:.0} events/s ({events} events, batches of 1,000: chain + seal + sign + fsync)",
        events as f64 / secs
    );
    drop(anode);

    // Purge: n reads with 2 KB crops, all past a 30-day retention.
    let pdir = tempfile::tempdir().expect("tempdir");
    let pnode = node(pdir.path(), t0, &mut rng);
    let mut rec = Recorder::load(&pnode).expect("recorder");
    let crop = vec![0x5au8; 2048];
    let batches = (0..n.div_ceil(4000)).map(|b| {
        (b * 4000..((b + 1) * 4000).min(n))
            .map(|k| {
                let plate = format!("P{:06}", k % 1_000_000);
                (
                    Timestamp(t0 - 900 * DAY + k as i64 * 10),
                    Capture {
                        char_confidences: vec![0.9; plate.len()],
                        plate: PlateText::parse(&plate).expect("plate"),
                        region: None,
                        confidence: 0.9,
                        camera: "front".into(),
                        location: None,
                        fix: Default::default(),
                        crop_jpeg: crop.clone(),
                        overview_jpeg: None,
                        candidates: Vec::new(),
                    },
                )
            })
            .collect::<Vec<_>>()
    });
    rec.record_stream(&pnode, batches, &mut rng, |_, _| true, |_| Vec::new())
        .expect("ingest");
    let mut engine = with_admin(pnode, [4; 32], t0);
    let token = engine
        .login(Timestamp(t0), "chief", "staff services 2026")
        .expect("login");
    engine
        .set_retention(
            Timestamp(t0),
            token,
            Retention {
                reads_days: 30,
                plate_images_days: 30,
                overview_images_days: 30,
                audit_days: 365,
                alerts_days: 365,
            },
        )
        .expect("retention");
    println!("purge: {n} reads stored; load: {}", load());
    let s = Instant::now();
    let report = engine
        .purge(Timestamp(t0), PurgeActor::Schedule, false)
        .expect("purge");
    let secs = s.elapsed().as_secs_f64();
    println!(
        "purge: {} reads deleted in {secs:.2} s ({:.0} reads/s, batches of {} each with its audit event)",
        report.purged,
        report.purged as f64 / secs,
        alpr_node::engine::PURGE_BATCH_MAX
    );
    println!("load after: {}", load());
}
