//! The policy records' bytes, pinned: each record replicates inside the
//! policy document as the postcard of its struct (FORMAT.md, "Policy
//! document"), so a change of layout here would make nodes of two builds
//! refuse each other's policy. A record's layout only grows at its end,
//! with the decoder keeping every older layout; a failing snapshot means a
//! format change that needs exactly that.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_protocol::hotlist::{Category, Detail, Entry, Priority, Vehicle};
use alpr_protocol::policy::{
    AuditReport, Decision, Hold, HoldScope, LocalEntry, LoginLimits, Quarter, Release,
    ReportSignature, Request, RequestOutcome, Retention, Revocation, SampleItem, User, UserRole,
};
use alpr_protocol::{NodeId, PlateText, Timestamp};
use expect_test::{Expect, expect};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Pins the record's bytes, and checks they decode to the same record.
fn pinned<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    record: &T,
    bytes: Expect,
) {
    let encoded = postcard::to_allocvec(record).unwrap();
    bytes.assert_eq(&hex::encode(&encoded));
    assert_eq!(&postcard::from_bytes::<T>(&encoded).unwrap(), record);
}

const AT: Timestamp = Timestamp(1_795_000_123_456);

#[test]
fn user_retention_and_limits() {
    pinned(
        &User {
            name: "j.smith".into(),
            role: UserRole::Supervisor,
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA".into(),
            trained_on: Some(Timestamp(AT.0 - 86_400_000)),
            training_expires: None,
            active: true,
            created_by: "chief".into(),
            created_at: AT,
        },
        expect![
            "076a2e736d6974680128246172676f6e32696424763d3139246d3d382c743d312c703d3124633246736441246147467a61410180918f93bd6800010563686965668081c2e5bd68"
        ],
    );
    pinned(
        &Retention {
            reads_days: 183,
            plate_images_days: 30,
            overview_images_days: 7,
            audit_days: 1_095,
            alerts_days: 400,
        },
        expect!["b7011e07c7089003"],
    );
    pinned(
        &LoginLimits {
            failures_max: 3,
            lockout_minutes: 45,
            idle_lock_minutes: 12,
        },
        expect!["032d0c"],
    );
}

#[test]
fn holds_requests_releases_and_revocations() {
    pinned(
        &Hold {
            id: 7,
            case: "26-00417".into(),
            reason: "hit-and-run, Elm St".into(),
            scope: HoldScope::Plate {
                plate: PlateText::parse("7ABC123").unwrap(),
                from: Timestamp(AT.0 - 3_600_000),
                to: AT,
            },
            placed_by: "chief".into(),
            placed_at: AT,
            expires: Some(Timestamp(AT.0 + 90 * 86_400_000)),
            released: Some(("chief".into(), Timestamp(AT.0 + 1))),
        },
        expect![
            "070832362d3030343137136869742d616e642d72756e2c20456c6d20537401073741424331323380c78ae2bd688081c2e5bd680563686965668081c2e5bd680180e1a4ddf768010563686965668281c2e5bd68"
        ],
    );
    pinned(
        &HoldScope::Reads(vec![(NodeId([0xab; 32]), 41)]),
        expect!["0001abababababababababababababababababababababababababababababababab29"],
    );
    pinned(
        &Request {
            id: 3,
            requester: "Daily Planet (public records request)".into(),
            what: "reads of 7ABC123 in October".into(),
            referred_to: "commander.lee".into(),
            registered_by: "sgt.ortiz".into(),
            received_at: AT,
            decision: Some(Decision {
                outcome: RequestOutcome::PartlyGranted,
                note: "counts only, no plates".into(),
                by: "commander.lee".into(),
                at: Timestamp(AT.0 + 5),
            }),
        },
        expect![
            "03254461696c7920506c616e657420287075626c6963207265636f7264732072657175657374291b7265616473206f66203741424331323320696e204f63746f6265720d636f6d6d616e6465722e6c6565097367742e6f7274697a8081c2e5bd68010116636f756e7473206f6e6c792c206e6f20706c617465730d636f6d6d616e6465722e6c65658a81c2e5bd68"
        ],
    );
    pinned(
        &Release {
            id: 2,
            case: "26-00417".into(),
            agency: "County Sheriff".into(),
            official: "Lt. Park".into(),
            legal_basis: "mutual aid agreement 2024-11".into(),
            reads: vec![(NodeId([0x11; 32]), 9)],
            by: "chief".into(),
            at: AT,
            manifest_sha256: "9f".repeat(32),
        },
        expect![
            "020832362d30303431370e436f756e74792053686572696666084c742e205061726b1c6d757475616c206169642061677265656d656e7420323032342d3131011111111111111111111111111111111111111111111111111111111111111111090563686965668081c2e5bd684039663966396639663966396639663966396639663966396639663966396639663966396639663966396639663966396639663966396639663966396639663966"
        ],
    );
    pinned(
        &Revocation {
            name: "car-7".into(),
            reason: "stolen laptop".into(),
            by: "chief".into(),
            at: AT,
        },
        expect!["056361722d370d73746f6c656e206c6170746f700563686965668081c2e5bd68"],
    );
}

#[test]
fn audit_reports_and_local_entries() {
    pinned(
        &AuditReport {
            id: 1,
            quarter: Quarter { year: 2026, q: 3 },
            seed: 0x5eed_0000_0000_0042,
            population: 12_345,
            items: vec![SampleItem {
                origin: NodeId([0x22; 32]),
                seq: 77,
                compliant: Some(false),
                note: "no case number".into(),
            }],
            auditor: "auditor".into(),
            drawn_at: AT,
            signed: Some(ReportSignature {
                node: NodeId([0x33; 32]),
                at: Timestamp(AT.0 + 9),
                signature: vec![0x44; 64],
            }),
        },
        expect![
            "01d41f03c28080808080c0f65eb9600122222222222222222222222222222222222222222222222222222222222222224d01000e6e6f2063617365206e756d6265720761756469746f728081c2e5bd680133333333333333333333333333333333333333333333333333333333333333339281c2e5bd684044444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444"
        ],
    );
    let local = LocalEntry {
        id: 12,
        entry: Entry {
            plate: PlateText::parse("8XYZ001").unwrap(),
            region: Some("NV".into()),
            category: Category::Bolo,
            reference: "BOLO 26-118".into(),
            detail: Detail::default(),
        },
        added_by: "j.smith".into(),
        added_at: AT,
        removed: None,
        pattern: None,
        edited: None,
    };
    // The layout written before entries had detail still decodes, with
    // default detail: documents outlive releases.
    let v1 = hex::decode(
        "0c073858595a30303101024e56050b424f4c4f2032362d313138076a2e736d6974688081c2e5bd6800",
    )
    .unwrap();
    assert_eq!(LocalEntry::decode(&v1).unwrap(), local);
    pinned(
        &LocalEntry {
            entry: Entry {
                detail: Detail {
                    priority: Priority::High,
                    vehicle: Vehicle {
                        year: Some(2009),
                        make: "Yamaha".into(),
                        model: "motorcycle".into(),
                        color: "black".into(),
                    },
                    entered: Some(AT),
                    expires: None,
                    covert: true,
                    notes: "case 26-118".into(),
                    source: "j.smith".into(),
                },
                ..local.entry.clone()
            },
            pattern: Some("8XYZ*".into()),
            ..local.clone()
        },
        expect![
            "0c073858595a30303101024e56050b424f4c4f2032362d3131380001d90f0659616d6168610a6d6f746f726379636c6505626c61636b018081c2e5bd6800010b636173652032362d313138076a2e736d697468076a2e736d6974688081c2e5bd680001053858595a2a00"
        ],
    );
}
