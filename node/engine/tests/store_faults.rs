//! A disk that fails at any point loses nothing acknowledged: a node on a
//! faulty in-memory disk records reads in batches until an injected fault
//! (a failed or torn write, a failed sync) stops it; after the crash the
//! store reopens, every acknowledged read is there and verifies, and the
//! node goes on recording where it left off.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_engine::datadir::Node;
use alpr_engine::recorder::Recorder;
use alpr_engine::store::backend::{Countdown, FaultyBackend, MemoryDisk};
use alpr_engine::store::{RecordId, Store, StoreIdentity};
use alpr_protocol::{
    AgencyKey, Capture, Certificate, DataKey, NodeKey, PlateText, Role, Timestamp,
    VerifiedCertificate,
};

/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200_000;

struct Parts {
    agency: AgencyKey,
    node_key: [u8; 32],
    data_key: DataKey,
    certificate: VerifiedCertificate,
}

fn parts() -> Parts {
    let mut rng = rand::rng();
    let agency = AgencyKey::generate(&mut rng);
    let node_key = NodeKey::generate(&mut rng);
    let certificate = Certificate {
        agency: agency.id(),
        node: node_key.id(),
        name: "car-1".into(),
        role: Role::Vehicle,
        not_before: Timestamp(T0 - 1_000_000),
        not_after: Timestamp(T0 + 1_000_000_000),
    }
    .sign(&agency)
    .unwrap()
    .verify(agency.id())
    .unwrap();
    Parts {
        node_key: node_key.secret_bytes(),
        agency,
        data_key: DataKey::generate(&mut rng),
        certificate,
    }
}

fn node_on(p: &Parts, store: Store) -> Node {
    Node::from_parts(
        NodeKey::from_secret(&p.node_key),
        p.data_key.clone(),
        p.certificate.clone(),
        store,
    )
    .unwrap()
}

fn reads(batch: u64, n: u64) -> Vec<(Timestamp, Capture)> {
    (0..n)
        .map(|i| {
            let plate = format!("F{batch:03}{i:02}");
            (
                Timestamp(T0 + (batch * 100 + i) as i64 * 1000),
                Capture {
                    plate: PlateText::parse(&plate).unwrap(),
                    region: None,
                    confidence: 0.9,
                    char_confidences: vec![0.9; plate.len()],
                    camera: "front".into(),
                    location: None,
                    fix: Default::default(),
                    crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9, batch as u8, i as u8],
                    overview_jpeg: None,
                    candidates: Vec::new(),
                },
            )
        })
        .collect()
}

/// Records until the fault after `after` writes stops it; returns the
/// acknowledged reads' ids and the number of batches tried.
fn run_until_fault(p: &Parts, disk: &MemoryDisk, after: u64, tear: bool) -> Vec<RecordId> {
    let countdown = Countdown::default();
    let identity = StoreIdentity {
        agency: p.agency.id(),
        node: p.certificate.certificate().node,
    };
    let store = Store::create_with_backend(
        FaultyBackend::new(disk.clone(), countdown.clone(), tear),
        identity,
        &p.data_key,
        &mut rand::rng(),
    )
    .unwrap();
    let node = node_on(p, store);
    let mut rec = Recorder::load(&node).unwrap();
    countdown.fail_after(after);
    let mut acknowledged = Vec::new();
    for batch in 0..12 {
        match rec.record_reads(&node, reads(batch, 4), &mut rand::rng()) {
            Ok(stored) => acknowledged.extend(stored.iter().map(|r| RecordId {
                origin: r.read().origin,
                seq: r.read().seq,
            })),
            Err(_) => break,
        }
    }
    acknowledged
}

#[test]
fn a_fault_at_any_write_loses_nothing_acknowledged() {
    let p = parts();
    let mut faulted = 0;
    // Every point of a run of 12 commits, in both crash models.
    for after in (0..400).step_by(4) {
        for (tear, keep_unsynced) in [(false, false), (true, true), (true, false)] {
            let disk = MemoryDisk::new();
            let acknowledged = run_until_fault(&p, &disk, after, tear);
            if acknowledged.len() < 48 {
                faulted += 1;
            }
            disk.crash(keep_unsynced);
            let store = Store::open_with_backend(
                FaultyBackend::new(disk.clone(), Countdown::default(), false),
                p.agency.id(),
                &p.data_key,
            )
            .unwrap_or_else(|e| panic!("reopen after a fault at write {after}: {e}"));
            let node = node_on(&p, store);
            for id in &acknowledged {
                let bytes = node.store.read_envelope(*id).unwrap().unwrap_or_else(|| {
                    panic!("acknowledged read {id} lost (fault at {after}, tear {tear})")
                });
                node.trust.open_read(&bytes).unwrap();
            }
            let report = alpr_engine::verify::verify(&node).unwrap();
            assert!(report.ok(), "fault at {after}: {:?}", report.failures);
            // The node goes on where it left off: the next seq follows the last stored.
            let mut rec = Recorder::load(&node).unwrap();
            let next = rec
                .record_reads(&node, reads(99, 1), &mut rand::rng())
                .unwrap();
            let last = node
                .store
                .last_read_seq(node.node_key.id())
                .unwrap()
                .unwrap();
            assert_eq!(next[0].read().seq, last);
            assert!(last as usize > acknowledged.len());
        }
    }
    assert!(faulted > 80, "the faults stopped only {faulted} runs early");
}
