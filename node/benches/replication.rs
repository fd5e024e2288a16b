//! Replication benchmarks over real QUIC on loopback, real redb files:
//! a 10,000-read shift car -> station, a re-sync with nothing new, and a
//! 1,000,000-entry hotlist updated by 1%.
//!
//! `cargo bench -p alpr-node --bench replication` (ALPR_BENCH_READS sets the
//! shift, default 10,000; ALPR_BENCH_HOTLIST the list size, default
//! 1,000,000). Prints figures for the issue notes; asserts nothing.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::Node;
use alpr_node::engine::{Engine, NewUser};
use alpr_node::policy::UserRole;
use alpr_node::recorder::Recorder;
use alpr_node::replication::{self, Local};
use alpr_protocol::hotlist::{Category, Entry};
use alpr_protocol::{Capture, KdfParams, PlateText, Region, Role, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const PASS: &[u8] = b"bench passphrase";
const DAY: i64 = 86_400_000;

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

fn enroll(
    agency: &Agency,
    dir: &std::path::Path,
    name: &str,
    role: Role,
    t0: i64,
    rng: &mut StdRng,
) -> Node {
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: name.into(),
                role,
                not_before: Timestamp(t0 - 1000 * DAY),
                not_after: Timestamp(t0 + 1000 * DAY),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            rng,
        )
        .expect("enroll");
    let path = dir.join(format!("{name}.enroll"));
    std::fs::write(&path, bundle.to_bytes()).expect("bundle");
    Node::init(&dir.join(name), &path, PASS, rng).expect("node")
}

fn engine(node: Node, t0: i64) -> Arc<Mutex<Engine>> {
    let mut engine = Engine::open(node, [5; 32]).expect("engine");
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
    Arc::new(Mutex::new(engine))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Peak resident memory of this process so far (both nodes live in it).
fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn entry(i: u64) -> Entry {
    Entry {
        plate: PlateText::parse(&format!("{:07}", i * 7919 % 10_000_000)).expect("plate"),
        region: Some(["CA", "NV", "OR", "AZ"][(i % 4) as usize].into()),
        category: Category::StolenVehicle,
        reference: format!("V{:09}", i),
        detail: Default::default(),
    }
}

fn main() {
    let reads: u64 = std::env::var("ALPR_BENCH_READS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let list_size: u64 = std::env::var("ALPR_BENCH_HOTLIST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    println!("replication bench; load before: {}", load());
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
    let car_node = enroll(&agency, dir.path(), "car-1", Role::Vehicle, t0, &mut rng);
    let station_node = enroll(
        &agency,
        dir.path(),
        "station-1",
        Role::Station,
        t0,
        &mut rng,
    );

    // The car's shift: reads with 2 KB crops.
    let mut recorder = Recorder::load(&car_node).expect("recorder");
    let mut envelope_bytes = 0u64;
    let crop: Vec<u8> = (0..2048).map(|_| rng.random()).collect();
    for b in 0..reads.div_ceil(1000) {
        let batch = (0..1000.min(reads - b * 1000))
            .map(|i| {
                let n = b * 1000 + i;
                (
                    Timestamp(t0 - 86_400_000 + n as i64 * 100),
                    Capture {
                        plate: PlateText::parse(&format!("7A{n:05}")).expect("plate"),
                        region: Some(Region {
                            code: "CA".into(),
                            confidence: 0.8,
                        }),
                        confidence: 0.95,
                        char_confidences: vec![0.95; 7],
                        camera: "front".into(),
                        location: None,
                        fix: Default::default(),
                        crop_jpeg: crop.clone(),
                        overview_jpeg: None,
                        candidates: Vec::new(),
                    },
                )
            })
            .collect();
        let stored = recorder
            .record_reads(&car_node, batch, &mut rng)
            .expect("record");
        envelope_bytes += stored
            .iter()
            .map(|r| r.envelope().len() as u64)
            .sum::<u64>();
    }
    // The crops are image records of their own: count their envelopes too.
    car_node
        .store
        .for_each_image(alpr_protocol::ImageKind::PlateCrop, |stored| {
            if let alpr_node::store::StoredRead::Envelope(_, bytes) = stored {
                envelope_bytes += bytes.len() as u64;
            }
        })
        .expect("images");
    let car = engine(car_node, t0);
    let station = engine(station_node, t0);

    let station_local = Local::new(Arc::clone(&station)).expect("local");
    let addr = replication::spawn_daemon(
        station_local,
        "127.0.0.1:0".parse().expect("addr"),
        vec![],
        std::time::Duration::from_secs(3600),
        now,
    )
    .expect("station listens");

    let sync = |label: &str| {
        let local = Local::new(Arc::clone(&car)).expect("local");
        let s = Instant::now();
        let summary = replication::sync_once(local, addr, now).expect("sync");
        let secs = s.elapsed().as_secs_f64();
        (summary, secs, label.to_string())
    };
    let before_sync = peak_rss_mb();
    let (summary, secs, _) = sync("shift");
    println!(
        "  in sync after {:.2} s; {} packets sent, {} lost; peak RSS {:.0} MB before the sync, {:.0} MB after, {:.0} MB now (both nodes, one process)",
        summary.elapsed.as_secs_f64(),
        summary.packets_sent,
        summary.packets_lost,
        before_sync,
        peak_rss_mb(),
        status_mb("VmRSS:")
    );
    let sent = summary.sent.values().sum::<u64>();
    println!(
        "shift car -> station: {sent} records ({reads} reads + audit events) in {secs:.2} s \
         ({:.0} reads/s), verified and committed; wire {} bytes out + {} in = {:.3}x the {} bytes of envelopes",
        reads as f64 / secs,
        summary.wire_tx,
        summary.wire_rx,
        (summary.wire_tx + summary.wire_rx) as f64 / envelope_bytes as f64,
        envelope_bytes
    );
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..10 {
        let (summary, secs, _) = sync("empty");
        if times.is_empty() {
            println!(
                "  empty re-sync: in sync after {:.1} ms of {:.1} ms; packets sent {} ({} MTU probes)",
                summary.elapsed.as_secs_f64() * 1e3,
                secs * 1e3,
                summary.packets_sent,
                summary.mtu_probes
            );
        }
        times.push(secs * 1e3);
        bytes.push(summary.wire_tx + summary.wire_rx);
    }
    times.sort_by(f64::total_cmp);
    bytes.sort_unstable();
    println!(
        "re-sync with nothing new, 10 meetings: median {:.1} ms, max {:.1} ms (handshake included); bytes on the wire both ways: median {}, min {}, max {}",
        times[times.len() / 2],
        times[times.len() - 1],
        bytes[bytes.len() / 2],
        bytes[0],
        bytes[bytes.len() - 1]
    );

    // A daemon meeting the same station again keeps its endpoint and
    // runtime: what a meeting costs without process start-up.
    {
        let local = Local::new(Arc::clone(&car)).expect("local");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (times, bytes) = rt.block_on(async {
            let (endpoint, client) =
                replication::endpoint(&local, "127.0.0.1:0".parse().expect("addr"), false)
                    .expect("endpoint");
            let mut times = Vec::new();
            let mut bytes = Vec::new();
            for _ in 0..10 {
                let s = Instant::now();
                let summary = replication::sync_with(&local, &endpoint, client.clone(), addr, now)
                    .await
                    .expect("sync");
                times.push(s.elapsed().as_secs_f64() * 1e3);
                bytes.push(summary.wire_tx + summary.wire_rx);
            }
            (times, bytes)
        });
        println!(
            "re-sync by a daemon keeping its endpoint: {:.1} ms median; bytes on the wire per meeting {:?}",
            {
                let mut t = times.clone();
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            },
            bytes
        );
    }

    // A bulk hotlist: the whole list once, then a 1% change as a delta.
    let publish = |entries: Vec<Entry>| {
        let mut e = station.lock().expect("engine");
        let token = e
            .login(now(), "chief", "staff services 2026")
            .expect("login");
        let v = e
            .publish_hotlist(now(), token, "ncic-stolen", entries)
            .expect("publish");
        e.logout(now(), token).expect("logout");
        v
    };
    let s = Instant::now();
    let v1 = publish((0..list_size).map(entry).collect());
    println!(
        "hotlist of {} entries published (sorted, hashed, signed, stored) in {:.2} s",
        v1.entries,
        s.elapsed().as_secs_f64()
    );
    let (summary, secs, _) = sync("hotlist v1");
    println!(
        "hotlist v1 to a car without it: {:.2} s, {} bytes received ({:.1} bytes/entry)",
        secs,
        summary.wire_rx,
        summary.wire_rx as f64 / list_size as f64
    );
    let changed = list_size / 100;
    // 1%: that many entries removed and as many new ones added.
    let v2: Vec<Entry> = (changed..list_size)
        .chain(list_size..list_size + changed)
        .map(entry)
        .collect();
    publish(v2);
    let (summary, secs, _) = sync("hotlist v2");
    println!(
        "hotlist v2 ({changed} removed, {changed} added) to a car holding v1: {:.2} s, {} bytes received, {} sent",
        secs, summary.wire_rx, summary.wire_tx
    );
    println!("load after: {}", load());
}
