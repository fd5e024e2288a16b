//! Store, search and verify through the engine API, on real redb files.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::path::Path;

use alpr_engine::agency::{Agency, EnrollRequest};
use alpr_engine::datadir::{DataDirError, Node, STORE_FILE};
use alpr_engine::recorder::{AuditEntry, Recorder};
use alpr_engine::search::{Hit, Query, search};
use alpr_engine::store::{Store, StoreError, TimeRange};
use alpr_engine::verify::verify;
use alpr_protocol::{
    Action, Capture, KdfParams, Outcome, PlatePattern, PlateText, Role, Sealer, Timestamp,
};

const PASS: &[u8] = b"node passphrase";
const T0: i64 = 1_795_000_000_000;

fn node(dir: &Path, name: &str) -> Node {
    let mut rng = rand::rng();
    let agency = Agency::init(
        &dir.join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rng,
    )
    .unwrap();
    enroll(&agency, dir, name)
}

fn enroll(agency: &Agency, dir: &Path, name: &str) -> Node {
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: name.into(),
                role: Role::Vehicle,
                not_before: Timestamp(T0),
                not_after: Timestamp(T0 + 86_400_000 * 365),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap();
    let path = dir.join(format!("{name}.enroll"));
    std::fs::write(&path, bundle.to_bytes()).unwrap();
    Node::init(&dir.join(name), &path, PASS, &mut rand::rng()).unwrap()
}

fn body(plate: &str) -> Capture {
    Capture {
        plate: PlateText::parse(plate).unwrap(),
        region: None,
        confidence: 0.9,
        char_confidences: vec![0.9; plate.len()],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
        overview_jpeg: None,
        candidates: Vec::new(),
    }
}

fn record(node: &Node, plates: &[(&str, i64)]) {
    let mut rec = Recorder::load(node).unwrap();
    let batch = plates
        .iter()
        .map(|(p, dt)| (Timestamp(T0 + dt), body(p)))
        .collect();
    rec.record_reads(node, batch, &mut rand::rng()).unwrap();
}

fn plates(node: &Node, query: Query, range: TimeRange) -> (Vec<String>, u64) {
    let r = search(node, &query, range, 100).unwrap();
    let names = r
        .hits
        .iter()
        .map(|h| match h {
            Hit::Read(v) => v.read().body.plate.to_string(),
            Hit::Damaged { id, reason } => panic!("{id} damaged: {reason}"),
        })
        .collect();
    (names, r.total)
}

#[test]
fn exact_and_wildcard_search_with_time_windows() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    record(
        &n,
        &[
            ("7ABC123", 1_000),
            ("7ABD999", 2_000),
            ("8XYZ001", 3_000),
            ("7ABC123", 4_000),
        ],
    );
    let exact = Query::Plate(PlateText::parse("7abc-123").unwrap());
    assert_eq!(
        plates(&n, exact.clone(), TimeRange::ALL),
        (vec!["7ABC123".into(), "7ABC123".into()], 2)
    );
    let window = TimeRange {
        from: Timestamp(T0 + 1_500),
        to: Timestamp(T0 + 4_000),
    };
    assert_eq!(plates(&n, exact, window).1, 1);
    let pattern = Query::Pattern(PlatePattern::parse("7AB*").unwrap());
    // Newest first.
    assert_eq!(
        plates(&n, pattern.clone(), TimeRange::ALL).0,
        vec!["7ABC123", "7ABD999", "7ABC123"]
    );
    assert_eq!(plates(&n, pattern, window).0, vec!["7ABC123", "7ABD999"]);
    let one = Query::Pattern(PlatePattern::parse("?XYZ00?").unwrap());
    assert_eq!(plates(&n, one, TimeRange::ALL).0, vec!["8XYZ001"]);
    let none = Query::Plate(PlateText::parse("NOPE1").unwrap());
    assert_eq!(plates(&n, none, TimeRange::ALL).1, 0);
}

#[test]
fn search_limit_pages_but_counts_all() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let many: Vec<(&str, i64)> = (0..30).map(|i| ("AAA111", i)).collect();
    record(&n, &many);
    let r = search(
        &n,
        &Query::Plate(PlateText::parse("AAA111").unwrap()),
        TimeRange::ALL,
        5,
    )
    .unwrap();
    assert_eq!((r.hits.len(), r.total), (5, 30));
}

#[test]
fn plates_are_not_on_disk_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    record(&n, &[("ZQXJ7733", 10)]);
    drop(n);
    let bytes = std::fs::read(dir.path().join("car-1").join(STORE_FILE)).unwrap();
    assert!(
        !bytes.windows(8).any(|w| w == b"ZQXJ7733"),
        "plate text found in clear in the database"
    );
    let reopened = Node::open(&dir.path().join("car-1"), PASS).unwrap();
    assert_eq!(
        plates(
            &reopened,
            Query::Plate(PlateText::parse("ZQXJ7733").unwrap()),
            TimeRange::ALL
        )
        .1,
        1
    );
}

#[test]
fn reinserting_the_same_record_is_a_no_op_and_different_bytes_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let sealer = Sealer {
        node_key: &n.node_key,
        data_key: &n.data_key,
    };
    let mut rng = rand::rng();
    let a = sealer.seal_read(1, Timestamp(T0 + 5), body("ABC123"), &mut rng);
    assert_eq!(n.store.append_sealed(std::slice::from_ref(&a)).unwrap(), 1);
    assert_eq!(n.store.append_sealed(std::slice::from_ref(&a)).unwrap(), 0);
    let b = sealer.seal_read(1, Timestamp(T0 + 5), body("XYZ789"), &mut rng);
    assert!(matches!(
        n.store.append_sealed(&[b]),
        Err(StoreError::Conflict { seq: 1, .. })
    ));
    assert_eq!(n.store.last_read_seq(n.node_key.id()).unwrap(), Some(1));
    assert!(verify(&n).unwrap().ok());
}

#[test]
fn sequence_numbers_continue_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    record(&n, &[("AAA1", 1), ("AAA2", 2)]);
    drop(n);
    let n = Node::open(&dir.path().join("car-1"), PASS).unwrap();
    record(&n, &[("AAA3", 3)]);
    assert_eq!(n.store.last_read_seq(n.node_key.id()).unwrap(), Some(3));
}

#[test]
fn reads_outside_the_certificate_window_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let mut rec = Recorder::load(&n).unwrap();
    let err = rec
        .record_reads(
            &n,
            vec![(Timestamp(T0 - 1), body("AAA1"))],
            &mut rand::rng(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("not valid at"), "{err}");
    assert_eq!(n.store.last_read_seq(n.node_key.id()).unwrap(), None);
}

#[test]
fn verify_names_a_broken_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let mut rec = Recorder::load(&n).unwrap();
    let entry = |object: &str| AuditEntry {
        user: "jsmith".into(),
        action: Action::Search,
        object: object.into(),
        purpose: Some("patrol".into()),
        case: None,
        outcome: Outcome::Success,
        floors: Vec::new(),
    };
    let mut rng = rand::rng();
    for i in 0..3 {
        rec.record_audit(&n, Timestamp(T0 + i), entry("q"), &[], &mut rng)
            .unwrap();
    }
    assert!(verify(&n).unwrap().ok());
    // An event that skips seq 4 and links to nothing: a deleted event shows as a gap.
    let sealer = Sealer {
        node_key: &n.node_key,
        data_key: &n.data_key,
    };
    let forged = sealer.seal_audit(
        5,
        Timestamp(T0 + 9),
        alpr_protocol::AuditBody {
            user: "x".into(),
            action: Action::Search,
            object: "q".into(),
            purpose: None,
            case: None,
            outcome: Outcome::Success,
            prev_hash: [0; 32],
            floors: Vec::new(),
        },
        &mut rng,
    );
    n.store.append_audit(&[forged]).unwrap();
    let report = verify(&n).unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(
        report.failures[0].what.ends_with("/5"),
        "{}",
        report.failures[0]
    );
    assert!(
        report.failures[0].reason.contains("4..4 are missing"),
        "{}",
        report.failures[0]
    );
}

#[test]
fn open_refuses_wrong_passphrase_and_other_agencies() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let store_path = dir.path().join("car-1").join(STORE_FILE);
    let data_key = n.data_key.clone();
    drop(n);
    assert!(matches!(
        Node::open(&dir.path().join("car-1"), b"not the passphrase"),
        Err(DataDirError::Key { .. })
    ));
    let other = tempfile::tempdir().unwrap();
    let other_agency = Agency::init(
        other.path(),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rand::rng(),
    )
    .unwrap();
    assert!(matches!(
        Store::open(&store_path, other_agency.key.id(), &data_key),
        Err(StoreError::WrongAgency { .. })
    ));
    // A bundle of another agency cannot initialize over this directory.
    let foreign = enroll(&other_agency, other.path(), "car-9");
    drop(foreign);
    let err = Node::init(
        &dir.path().join("car-1"),
        &other.path().join("car-9.enroll"),
        PASS,
        &mut rand::rng(),
    )
    .unwrap_err();
    assert!(matches!(err, DataDirError::OtherAgency { .. }), "{err}");
}

#[test]
fn in_memory_store_works_like_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let mem = Store::in_memory(n.store.identity(), &n.data_key, &mut rand::rng()).unwrap();
    let sealer = Sealer {
        node_key: &n.node_key,
        data_key: &n.data_key,
    };
    let r = sealer.seal_read(1, Timestamp(T0 + 1), body("MEM1"), &mut rand::rng());
    mem.append_sealed(&[r]).unwrap();
    let m = mem
        .find_pattern(&PlatePattern::parse("MEM*").unwrap(), TimeRange::ALL, 10)
        .unwrap();
    assert_eq!(m.total, 1);
}

#[test]
fn reads_arriving_in_any_order_are_all_stored_once() {
    use alpr_engine::store::RecordId;
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};

    let seed: u64 = rand::rng().random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let sealer = Sealer {
        node_key: &n.node_key,
        data_key: &n.data_key,
    };
    // 2 KB crops: 300 reads fill about ten blocks, so inserts land inside full blocks and split them.
    let mut reads: Vec<_> = (1..=300u64)
        .map(|seq| {
            let mut b = body(&format!("ORD{seq:04}"));
            b.crop_jpeg = vec![(seq % 251) as u8; 2048];
            sealer.seal_read(seq, Timestamp(T0 + seq as i64), b, &mut rng)
        })
        .collect();
    reads.shuffle(&mut rng);
    let mut at = 0;
    while at < reads.len() {
        let len = rng.random_range(1..=40).min(reads.len() - at);
        n.store.append_sealed(&reads[at..at + len]).unwrap();
        at += len;
    }
    assert_eq!(
        n.store.append_sealed(&reads).unwrap(),
        0,
        "seed {seed}: duplicates were stored"
    );
    for r in &reads {
        let id = RecordId {
            origin: r.read.read().origin,
            seq: r.read.read().seq,
        };
        assert_eq!(
            n.store.read_envelope(id).unwrap().as_deref(),
            Some(r.read.envelope()),
            "seed {seed}: read {id} lost"
        );
        assert_eq!(
            n.store
                .read_image(id, alpr_protocol::ImageKind::PlateCrop)
                .unwrap()
                .as_deref(),
            Some(r.images[0].envelope()),
            "seed {seed}: plate crop of {id} lost"
        );
    }
    assert_eq!(n.store.last_read_seq(n.node_key.id()).unwrap(), Some(300));
    let report = verify(&n).unwrap();
    assert!(
        report.ok() && report.reads == 300,
        "seed {seed}: {:?}",
        report.failures
    );
    let (names, total) = plates(
        &n,
        Query::Pattern(PlatePattern::parse("ORD01*").unwrap()),
        TimeRange::ALL,
    );
    assert_eq!((names.len(), total), (100, 100));
}

#[test]
fn open_names_a_foreign_schema_a_foreign_file_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    let agency = n.trust.agency();
    let data_key = n.data_key.clone();
    drop(n);
    let path = dir.path().join("car-1").join(STORE_FILE);
    {
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
            .unwrap()
            .insert("schema", 99u32.to_be_bytes().as_slice())
            .unwrap();
        tx.commit().unwrap();
    }
    let err = Store::open(&path, agency, &data_key).unwrap_err();
    assert_eq!(
        err.to_string(),
        "database schema version 99 is not supported (this build uses 5)"
    );

    let other = dir.path().join("other.redb");
    drop(redb::Database::create(&other).unwrap());
    assert!(matches!(
        Store::open(&other, agency, &data_key),
        Err(StoreError::NotAStore { .. })
    ));

    let garbage = dir.path().join("garbage.redb");
    std::fs::write(&garbage, vec![0x5a; 10_000]).unwrap();
    let err = Store::open(&garbage, agency, &data_key).unwrap_err();
    assert!(err.to_string().contains("garbage.redb"), "{err}");
}

#[test]
fn a_schema_1_database_gains_replication_marks_on_open() {
    use alpr_protocol::replicate::Collection;
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path(), "car-1");
    record(&n, &[("AAA111", 1), ("BBB222", 2), ("CCC333", 3)]);
    let (me, agency, data_key) = (n.node_key.id(), n.trust.agency(), n.data_key.clone());
    drop(n);
    let path = dir.path().join("car-1").join(STORE_FILE);
    {
        // As schema 1 left it: no marks.
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
            .unwrap()
            .insert("schema", 1u32.to_be_bytes().as_slice())
            .unwrap();
        tx.delete_table(redb::TableDefinition::<[u8; 33], u64>::new("marks"))
            .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path, agency, &data_key).unwrap();
    assert_eq!(
        store
            .vector(Collection::Reads)
            .unwrap()
            .mark(&me)
            .contiguous,
        3
    );
    drop(store);
    // And it is schema 2 from now on.
    let store = Store::open(&path, agency, &data_key).unwrap();
    assert_eq!(
        store
            .vector(Collection::Reads)
            .unwrap()
            .mark(&me)
            .contiguous,
        3
    );
}

/// A chain cut by a purge that signed the cut as format 1 did (the floor
/// named in the event's text) still verifies; the same cut without it is
/// reported as deleted events. Format 2 signs the floor as a typed field
/// (the engine's purge tests cover it).
#[test]
fn a_chain_cut_by_a_format_1_purge_event_still_verifies() {
    use alpr_engine::store::AuditPrefix;
    use alpr_protocol::envelope::envelope_hash;
    for named in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let n = node(dir.path(), "car-1");
        let mut rec = Recorder::load(&n).unwrap();
        let mut rng = rand::rng();
        for i in 0..3 {
            let entry = AuditEntry {
                user: "jsmith".into(),
                action: Action::Search,
                object: format!("q{i}"),
                purpose: Some("patrol".into()),
                case: None,
                outcome: Outcome::Success,
                floors: Vec::new(),
            };
            rec.record_audit(&n, Timestamp(T0 + i), entry, &[], &mut rng)
                .unwrap();
        }
        let mut hashes = Vec::new();
        n.store
            .for_each_audit(|_, bytes| hashes.push(envelope_hash(bytes)))
            .unwrap();
        let me = n.node_key.id();
        let label = alpr_protocol::record::floor_label(me, 2, &hashes[1]);
        let sealer = Sealer {
            node_key: &n.node_key,
            data_key: &n.data_key,
        };
        let purge = sealer.seal_audit_as(
            1,
            4,
            Timestamp(T0 + 10),
            alpr_protocol::AuditBody {
                user: "(schedule)".into(),
                action: Action::Purge,
                object: if named {
                    format!("purge audit events: deleted 2 from 1 nodes; {label}")
                } else {
                    "purge audit events: deleted 2 from 1 nodes".into()
                },
                purpose: None,
                case: None,
                outcome: Outcome::Success,
                prev_hash: hashes[2],
                // Format 1 has no such field: dropped by the sealer.
                floors: vec![alpr_protocol::record::AuditFloor {
                    origin: me,
                    seq: 2,
                    hash: hashes[1],
                }],
            },
            &mut rng,
        );
        assert_eq!(purge.envelope()[4], 1, "written as format 1");
        assert!(
            n.trust
                .open_audit(purge.envelope())
                .unwrap()
                .event()
                .body
                .floors
                .is_empty()
        );
        let prefix = AuditPrefix {
            origin: me,
            upto: 2,
            hash: hashes[1],
            count: 2,
        };
        n.store.delete_audit_prefix(&[prefix], &purge).unwrap();
        let report = verify(&n).unwrap();
        if named {
            assert!(report.ok(), "{:?}", report.failures);
        } else {
            assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
            assert!(
                report.failures[0].reason.contains("events were deleted"),
                "{}",
                report.failures[0]
            );
        }
    }
}
