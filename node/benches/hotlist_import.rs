//! `hotlist import` of a generated 1,000,000-line NCIC extract: parse
//! (read, decode, filter, merge duplicates), then publish through the
//! engine at a station as the CLI does (staged in parts, sorted, hashed,
//! signed, stored), a dry run of a 1% change against it, and the same
//! content again (unchanged: no new version).
//!
//! `cargo bench -p alpr-node --bench hotlist_import` (ALPR_BENCH_LINES sets
//! the extract's length, default 1,000,000). Prints figures for the issue
//! notes; asserts nothing but that the import did what it says.

use std::io::Write;
use std::time::Instant;

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::Node;
use alpr_node::engine::{Engine, NewUser};
use alpr_node::hotlist::{Format, ImportOptions, Source};
use alpr_node::policy::UserRole;
use alpr_protocol::hotlist::Entry;
use alpr_protocol::{KdfParams, Role, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const PASS: &[u8] = b"bench passphrase";
const DAY: i64 = 86_400_000;
const CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
const PART: usize = alpr_protocol::control::HOTLIST_PART_MAX;

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One record in the extract's columns, of a random plate, state and vehicle.
fn line(rng: &mut StdRng, i: usize, out: &mut impl Write) -> std::io::Result<()> {
    let code = ['V', 'V', 'V', 'P', 'P', 'A', 'W', 'M', 'F', 'X'][rng.random_range(0..10)];
    let len = [6, 7, 7, 7, 8][rng.random_range(0..5)];
    let plate: String = (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    let state = ["CA", "NV", "OR", "AZ"][rng.random_range(0..4)];
    let (make, model, style) = [
        ("TOYT", "CAM", "4D"),
        ("HOND", "CIV", "4D"),
        ("FORD", "F15", "PK"),
        ("CHEV", "EQU", "UT"),
        ("YAMA", "CYL", "MC"),
    ][rng.random_range(0..5)];
    let color = ["BLK", "WHI", "SIL", "RED/WHI", "BLU"][rng.random_range(0..5)];
    writeln!(
        out,
        "{code}{:09}CA0190000{}{:02}{:02}{plate:<10}{state}2026PC{}{make}{model}{style}{color}",
        i % 1_000_000_000,
        2000 + rng.random_range(0..27),
        rng.random_range(1..13),
        rng.random_range(1..29),
        1990 + rng.random_range(0..36),
    )
}

fn station(dir: &std::path::Path, t0: i64) -> Engine {
    let mut rng = StdRng::seed_from_u64(7);
    let agency = Agency::init(
        &dir.join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rng,
    )
    .expect("agency");
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: "station-1".into(),
                role: Role::Station,
                not_before: Timestamp(t0 - 1000 * DAY),
                not_after: Timestamp(t0 + 1000 * DAY),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            &mut rng,
        )
        .expect("enroll");
    let path = dir.join("station-1.enroll");
    std::fs::write(&path, bundle.to_bytes()).expect("bundle");
    let node = Node::init(&dir.join("station-1"), &path, PASS, &mut rng).expect("node");
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
    engine
}

/// The parts the CLI sends: all but the last staged, the last with the
/// publish (or the dry run).
fn parts(entries: Vec<Entry>) -> (Vec<Vec<Entry>>, Vec<Entry>) {
    let mut parts = Vec::new();
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        parts.push(entries.by_ref().take(PART).collect::<Vec<_>>());
    }
    let last = parts.pop().unwrap_or_default();
    (parts, last)
}

fn main() {
    let lines: usize = std::env::var("ALPR_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("extract.txt");
    let started = Instant::now();
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("extract"));
        writeln!(out, "NCIC HOTLIST EXTRACT BENCH").expect("header");
        let mut rng = StdRng::seed_from_u64(23);
        for i in 0..lines {
            line(&mut rng, i, &mut out).expect("line");
        }
        out.flush().expect("flush");
    }
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "wrote {lines} lines ({:.1} MB) in {:.2} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let source = Source::default();
    let options = ImportOptions {
        format: Format::Ncic,
        skip_bad: false,
    };
    let started = Instant::now();
    let imported =
        alpr_node::hotlist::import(&path, &source, options, &mut |_| {}).expect("import");
    let parse = started.elapsed().as_secs_f64();
    let r = &imported.report;
    assert_eq!(r.rows, lines as u64);
    assert_eq!(r.bad_lines(), 0);
    println!(
        "parsed {} rows in {parse:.2} s ({:.0} rows/s, {:.0} MB/s): {} entries, {} duplicates, {} skipped by code, {} by the skip list; peak resident {:.0} MB",
        r.rows,
        r.rows as f64 / parse,
        bytes as f64 / 1e6 / parse,
        r.imported,
        r.duplicates,
        r.skipped_code,
        r.skipped_plate,
        peak_rss_mb()
    );

    let t0 = now().0;
    let mut e = station(dir.path(), t0);
    let token = e
        .login(now(), "chief", "staff services 2026")
        .expect("login");
    let entries = imported.entries;
    // Kept for the runs after this one; the publish takes its own copy.
    let first = entries.clone();
    let started = Instant::now();
    let (staged, last) = parts(first);
    for part in staged {
        e.stage_hotlist(now(), token, "ncic", part).expect("stage");
    }
    let v1 = e
        .publish_hotlist(now(), token, "ncic", last)
        .expect("publish");
    let publish = started.elapsed().as_secs_f64();
    println!(
        "published version {} of {} entries in {publish:.2} s (staged in parts of {PART}, sorted, hashed, signed, stored)",
        v1.version, v1.entries
    );
    println!(
        "parse + publish: {:.2} s for {lines} lines ({:.0} lines/s); peak resident {:.0} MB",
        parse + publish,
        lines as f64 / (parse + publish),
        peak_rss_mb()
    );

    // A 1% change: every hundredth entry's priority lowered.
    let mut changed = entries.clone();
    for e in changed.iter_mut().step_by(100) {
        e.detail.priority = alpr_protocol::hotlist::Priority::Low;
    }
    let started = Instant::now();
    let (staged, last) = parts(changed);
    for part in staged {
        e.stage_hotlist(now(), token, "ncic", part).expect("stage");
    }
    let d = e.diff_hotlist(now(), token, "ncic", last).expect("diff");
    println!(
        "dry run of a 1% change: {} added, {} removed, {} changed, {} unchanged in {:.2} s",
        d.diff.added,
        d.diff.removed,
        d.diff.changed,
        d.diff.unchanged,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let (staged, last) = parts(entries);
    for part in staged {
        e.stage_hotlist(now(), token, "ncic", part).expect("stage");
    }
    let again = e
        .publish_hotlist(now(), token, "ncic", last)
        .expect("republish");
    assert_eq!(
        again.version, v1.version,
        "unchanged content, no new version"
    );
    println!(
        "the same content again: unchanged at version {} in {:.2} s",
        again.version,
        started.elapsed().as_secs_f64()
    );
}
