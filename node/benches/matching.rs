//! Hotlist matching: a 1,000,000-entry list, index build time, resident
//! memory of the index, and the time to match one read with candidates.
//!
//! `cargo bench -p alpr-node --bench matching` (ALPR_BENCH_ENTRIES sets the
//! list size). Prints figures for the issue notes; asserts nothing.
//! Goals (issue 23): match ≤ 5 µs per read with candidates; index build
//! ≤ 2 s; ≤ 200 MB resident for the index.

use std::time::Instant;

use alpr_node::matching::{Index, ListIndex, ReadTexts};
use alpr_protocol::PlateText;
use alpr_protocol::hotlist::{Category, Entry};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";

/// Plates of the lengths lists hold: mostly 7 (US), 6, some 8.
fn plate(rng: &mut StdRng) -> String {
    let len = match rng.random_range(0..10) {
        0..=5 => 7,
        6..=8 => 6,
        _ => 8,
    };
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let n: usize = std::env::var("ALPR_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = StdRng::seed_from_u64(23);
    let plates: Vec<String> = (0..n).map(|_| plate(&mut rng)).collect();
    let before = rss_mb();
    let entries: Vec<Entry> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| Entry {
            plate: PlateText::parse(p).expect("plate"),
            region: Some(["CA", "NV", "OR", "AZ"][i % 4].into()),
            category: Category::StolenVehicle,
            reference: format!("V{i:09}"),
            detail: Default::default(),
        })
        .collect();
    let with_entries = rss_mb();
    let started = Instant::now();
    let list = ListIndex::build("ncic-stolen", &entries, None);
    let build = started.elapsed();
    let mut index = Index::new();
    index.put_list(list);
    let after = rss_mb();
    // The index holds no entries (a hit reads its one entry from the
    // store), so what it adds is what stays resident once they are dropped.
    drop(entries);
    println!(
        "{n} entries: index built in {:.0} ms; {:.0} MB for the entries while building, {:.0} MB for the index",
        build.as_secs_f64() * 1000.0,
        with_entries - before,
        after - with_entries
    );

    // Reads: a tenth on the list (some misread by one look-alike), the rest
    // not; each with three candidates, as the reader gives them.
    let reads: Vec<(String, Vec<String>)> = (0..100_000)
        .map(|i| {
            let best = if i % 10 == 0 {
                let mut p = plates[rng.random_range(0..n)].clone().into_bytes();
                if i % 20 == 0 {
                    let at = rng.random_range(0..p.len());
                    p[at] = match p[at] {
                        b'0' => b'O',
                        b'8' => b'B',
                        b'5' => b'S',
                        other => other,
                    };
                }
                String::from_utf8(p).expect("ascii")
            } else {
                plate(&mut rng)
            };
            let candidates = (0..3).map(|_| plate(&mut rng)).collect();
            (best, candidates)
        })
        .collect();
    let (mut listed_hits, mut other_hits) = (0usize, 0usize);
    let started = Instant::now();
    for (i, (best, candidates)) in reads.iter().enumerate() {
        let n = index
            .alerts(ReadTexts {
                plate: best,
                region: Some("CA"),
                candidates,
            })
            .len();
        if i % 10 == 0 {
            listed_hits += usize::from(n > 0);
        } else {
            other_hits += usize::from(n > 0);
        }
    }
    let per_read = started.elapsed().as_secs_f64() * 1e6 / reads.len() as f64;
    println!(
        "{} reads with 3 candidates each: {per_read:.2} µs a read; {listed_hits} of {} listed plates (half misread by a look-alike) matched; {other_hits} of {} random plates matched something (look-alike and end matches on a list this dense)",
        reads.len(),
        reads.len() / 10,
        reads.len() - reads.len() / 10
    );
}
