//! Nothing acknowledged is lost: kill -9 a real `alpr-node import` mid-ingest, reopen, check.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use alpr_node::datadir::Node;
use alpr_node::store::RecordId;
use alpr_node::verify::verify;
use alpr_tests::{Fixture, NODE_PASSPHRASE, alpr};
use rand::{RngExt, SeedableRng};

/// Parses an acknowledgement line `committed reads A..=B`, returning B.
fn acked_seq(line: &str) -> Option<u64> {
    line.strip_prefix("committed reads ")?
        .split("..=")
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

#[test]
fn acknowledged_reads_survive_kill_9() {
    let seed: u64 = std::env::var("ALPR_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("durability seed {seed} (set ALPR_TEST_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let f = Fixture::new("car-1");
    let file = f.reads_file("shift.jsonl", 4_000, 2_048, |i| format!("K{i:06}"));
    let data = f.path("car-1");
    let mut acked = 0u64;
    for round in 0..3 {
        let kill_after = rng.random_range(1..=6);
        let mut child = alpr(&["import", "--data", &data, "--batch", "200", &file])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn import");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read ack");
            if let Some(seq) = acked_seq(&line) {
                acked = acked.max(seq);
                seen += 1;
            }
            if seen == kill_after {
                // SIGKILL while the next batch is being sealed or committed.
                child.kill().expect("kill -9");
                break;
            }
        }
        let status = child.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: import finished before the kill (seed {seed})"
        );
        eprintln!("round {round}: killed after {kill_after} acks, acked up to seq {acked}");
    }

    let node = Node::open(std::path::Path::new(&data), NODE_PASSPHRASE.as_bytes())
        .expect("reopen after kill");
    let me = node.node_key.id();
    for seq in 1..=acked {
        let bytes = node
            .store
            .read_envelope(RecordId { origin: me, seq })
            .expect("read")
            .unwrap_or_else(|| panic!("acknowledged read {seq} lost (seed {seed})"));
        node.trust.open_read(&bytes).unwrap_or_else(|e| {
            panic!("acknowledged read {seq} does not verify: {e} (seed {seed})")
        });
    }
    let stored = node
        .store
        .last_read_seq(me)
        .expect("last seq")
        .expect("some reads");
    assert!(stored >= acked);
    let report = verify(&node).expect("verify");
    assert!(
        report.ok(),
        "torn or damaged records after kill -9 (seed {seed}): {:?}",
        report.failures
    );
    assert_eq!(
        report.reads, stored,
        "sequence numbers have gaps (seed {seed})"
    );
}
