//! Store benchmarks: batched ingest, exact lookup, wildcard scan, bytes on disk.
//!
//! `cargo bench -p alpr-node --bench store` (ALPR_BENCH_READS sets the store
//! size, default 1,000,000). Prints figures for the issue notes; it asserts nothing.

use std::time::Instant;

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::{Node, STORE_FILE};
use alpr_node::recorder::Recorder;
use alpr_node::search::{Hit, Query, search};
use alpr_node::store::TimeRange;
use alpr_protocol::{Capture, KdfParams, PlatePattern, PlateText, Region, Role, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

const PASS: &[u8] = b"bench passphrase";
const BATCH: usize = 4000;
const CROP_BYTES: usize = 2048;

fn plate_for(i: u64) -> String {
    // Distinct plates, spread so wildcard prefixes select a realistic share.
    let x = i.wrapping_mul(2_654_435_761) % 36u64.pow(6);
    let mut s = String::from("7");
    let mut v = x;
    for _ in 0..6 {
        let d = (v % 36) as u8;
        s.push(if d < 10 {
            (b'0' + d) as char
        } else {
            (b'A' + d - 10) as char
        });
        v /= 36;
    }
    s
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
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
    let mut rng = StdRng::seed_from_u64(7);
    let t0 = jiff::Timestamp::now().as_millisecond();
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
                role: Role::Vehicle,
                not_before: Timestamp(t0),
                not_after: Timestamp(t0 + 10 * 365 * 86_400_000),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            &mut rng,
        )
        .expect("enroll");
    let bundle_path = dir.path().join("bench.enroll");
    std::fs::write(&bundle_path, bundle.to_bytes()).expect("bundle");
    let node = Node::init(&dir.path().join("node"), &bundle_path, PASS, &mut rng).expect("node");
    let mut recorder = Recorder::load(&node).expect("recorder");
    println!(
        "store bench: {n} reads, {CROP_BYTES}-byte crops, batches of {BATCH}; load before: {}",
        load()
    );

    let mut crop = vec![0u8; CROP_BYTES];
    let mut envelope_bytes = 0u64;
    let started = Instant::now();
    let mut gen_rng = StdRng::seed_from_u64(8);
    let batches = (0..n.div_ceil(BATCH as u64)).map(|b| {
        (b * BATCH as u64..((b + 1) * BATCH as u64).min(n))
            .map(|k| {
                gen_rng.fill_bytes(&mut crop);
                crop[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
                let plate = plate_for(k);
                (
                    Timestamp(t0 + 1 + k as i64 * 50),
                    Capture {
                        char_confidences: vec![0.95; plate.len()],
                        plate: PlateText::parse(&plate).expect("plate"),
                        region: Some(Region {
                            code: "CA".into(),
                            confidence: 0.8,
                        }),
                        confidence: 0.95,
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
    recorder
        .record_stream(
            &node,
            batches,
            &mut rng,
            |stored, _| {
                envelope_bytes += stored
                    .iter()
                    .map(|s| {
                        s.read.envelope().len() as u64
                            + s.images
                                .iter()
                                .map(|i| i.envelope().len() as u64)
                                .sum::<u64>()
                    })
                    .sum::<u64>();
                true
            },
            |_| Vec::new(),
        )
        .expect("ingest");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingest: {:.0} reads/s ({n} reads in {secs:.1} s; sign + seal + index + fsync per batch)",
        n as f64 / secs
    );
    let meta = std::fs::metadata(dir.path().join("node").join(STORE_FILE)).expect("db");
    // Blocks actually allocated: redb grows the file with set_len, which
    // leaves the not-yet-written tail sparse.
    let disk_bytes = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
    let per_read = |bytes: u64| bytes as f64 / n as f64;
    println!(
        "disk: {:.0} bytes/read allocated on disk ({:.0} file length) vs {:.0} bytes of envelopes (read + plate image) = {:.3}x ({:.3}x of length)",
        per_read(disk_bytes),
        per_read(meta.len()),
        per_read(envelope_bytes),
        disk_bytes as f64 / envelope_bytes as f64,
        meta.len() as f64 / envelope_bytes as f64
    );

    println!("redb space: {:?}", node.store.space().expect("space"));

    let mut times = Vec::new();
    for _ in 0..2000 {
        let k = rng.random_range(0..n);
        let q = Query::Plate(PlateText::parse(&plate_for(k)).expect("plate"));
        let s = Instant::now();
        let r = search(&node, &q, TimeRange::ALL, 50).expect("search");
        times.push(s.elapsed().as_secs_f64() * 1e3);
        assert!(
            matches!(r.hits.first(), Some(Hit::Read(_))),
            "plate {k} not found"
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "exact lookup (blind index + open hits), {} queries: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );

    for pattern in ["7AB*", "7?X?1*", "*Z9"] {
        let q = Query::Pattern(PlatePattern::parse(pattern).expect("pattern"));
        let mut runs = Vec::new();
        let mut total = 0;
        for _ in 0..3 {
            let s = Instant::now();
            total = search(&node, &q, TimeRange::ALL, 50).expect("search").total;
            runs.push(s.elapsed().as_secs_f64());
        }
        runs.sort_by(f64::total_cmp);
        println!(
            "wildcard '{pattern}' over {n} reads: median {:.3} s ({total} matches, first 50 opened)",
            runs[1]
        );
    }
    println!("load after: {}", load());
}
