//! Policy 206 through the engine: for each clause, the refusal and the permitted path,
//! and the audit event that documents both.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::path::Path;

use alpr_engine::agency::{Agency, EnrollRequest};
use alpr_engine::datadir::Node;
use alpr_engine::engine::{
    AccessError, Engine, NewHold, NewRelease, NewUser, PurgeActor, PurposeInput, SessionToken,
    UserEdit,
};
use alpr_engine::evidence::MemorySink;
use alpr_engine::policy::{HoldScope, LoginLimits, Quarter, RequestOutcome, Retention, UserRole};
use alpr_engine::recorder::Recorder;
use alpr_engine::search::Query;
use alpr_engine::store::{RecordId, TimeRange};
use alpr_protocol::{Action, AuditEvent, Capture, KdfParams, Outcome, PlateText, Role, Timestamp};

const PASS: &[u8] = b"node passphrase";
const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;
/// 2026-11-01T00:00:00Z: the tests' "now".
const T0: i64 = 1_793_491_200_000;
const ADMIN_PW: &str = "staff services 2026";
const OFFICER_PW: &str = "patrol district 9";

fn t(ms: i64) -> Timestamp {
    Timestamp(T0 + ms)
}

fn enrolled(agency: &Agency, dir: &Path, name: &str) -> Node {
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: name.into(),
                role: Role::Station,
                not_before: Timestamp(T0 - 400 * DAY),
                not_after: Timestamp(T0 + 400 * DAY),
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

fn agency(dir: &Path) -> Agency {
    Agency::init(
        &dir.join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rand::rng(),
    )
    .unwrap()
}

/// An engine with an Administrator "chief" (trained) and an Officer "jsmith" (trained).
fn engine(dir: &Path) -> Engine {
    let a = agency(dir);
    let mut e = Engine::open(enrolled(&a, dir, "station-1"), [7; 32]).unwrap();
    e.bootstrap_admin(
        t(0),
        user("chief", UserRole::Administrator, ADMIN_PW, Some(-30 * DAY)),
    )
    .unwrap();
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("jsmith", UserRole::Officer, OFFICER_PW, Some(-10 * DAY)),
    )
    .unwrap();
    e.logout(t(0), admin).unwrap();
    e
}

fn user(name: &str, role: UserRole, pw: &str, trained: Option<i64>) -> NewUser {
    NewUser {
        name: name.into(),
        role,
        password: pw.into(),
        trained_on: trained.map(t),
        training_expires: None,
    }
}

fn purpose(kind: &str, reason: &str, case: Option<&str>) -> PurposeInput {
    PurposeInput {
        kind: Some(kind.into()),
        reason: Some(reason.into()),
        case: case.map(str::to_string),
    }
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
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        overview_jpeg: None,
        candidates: Vec::new(),
    }
}

fn record(node: &Node, reads: &[(&str, i64)]) {
    let mut rec = Recorder::load(node).unwrap();
    rec.record_reads(
        node,
        reads.iter().map(|(p, at)| (t(*at), body(p))).collect(),
        &mut rand::rng(),
    )
    .unwrap();
}

/// Every audit event on the node, opened and verified, in seq order.
fn audit_log(e: &Engine) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    e.node()
        .store
        .for_each_audit(|_, bytes| {
            out.push(e.node().trust.open_audit(bytes).unwrap().event().clone())
        })
        .unwrap();
    out
}

fn last_event(e: &Engine) -> AuditEvent {
    audit_log(e).pop().unwrap()
}

#[test]
fn iii_a_1_untrained_users_cannot_log_in_and_trained_ones_can() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(1), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(1),
        admin,
        user("rookie", UserRole::Officer, "first day on the job", None),
    )
    .unwrap();
    let err = e.login(t(2), "rookie", "first day on the job").unwrap_err();
    assert!(matches!(err, AccessError::Training(_)), "{err}");
    let ev = last_event(&e);
    assert_eq!(
        (ev.body.user.as_str(), ev.body.action),
        ("rookie", Action::LoginFailed)
    );
    assert!(
        matches!(&ev.body.outcome, Outcome::Refused(r) if r.contains("no recorded ALPR training"))
    );

    e.edit_user(
        t(3),
        admin,
        "rookie",
        UserEdit::Training {
            on: Some(t(3)),
            expires: Some(t(90 * DAY)),
        },
    )
    .unwrap();
    let token = e.login(t(4), "rookie", "first day on the job").unwrap();
    assert_eq!(last_event(&e).body.action, Action::Login);
    e.logout(t(5), token).unwrap();

    // Training lapses: refused again, even mid-session.
    let token = e
        .login(t(90 * DAY - MIN), "rookie", "first day on the job")
        .unwrap();
    let err = e
        .search(
            t(90 * DAY),
            token,
            &purpose("alert", "hit follow-up", None),
            &Query::Plate(PlateText::parse("ABC1").unwrap()),
            TimeRange::ALL,
            10,
        )
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(
        e.login(t(91 * DAY), "rookie", "first day on the job")
            .is_err()
    );
}

#[test]
fn iii_a_2_search_needs_a_purpose_and_investigations_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    record(e.node(), &[("7ABC123", 1), ("7ABC123", 2), ("8XYZ001", 3)]);
    let token = e.login(t(10), "jsmith", OFFICER_PW).unwrap();
    let q = Query::Plate(PlateText::parse("7ABC123").unwrap());

    let err = e
        .search(
            t(11),
            token,
            &PurposeInput::default(),
            &q,
            TimeRange::ALL,
            10,
        )
        .unwrap_err();
    assert!(matches!(err, AccessError::Purpose(_)), "{err}");
    let ev = last_event(&e);
    assert_eq!(ev.body.action, Action::Search);
    assert!(matches!(ev.body.outcome, Outcome::Refused(_)));

    let err = e
        .search(
            t(12),
            token,
            &purpose("investigation", "burglary suspect", None),
            &q,
            TimeRange::ALL,
            10,
        )
        .unwrap_err();
    assert!(err.to_string().contains("case number"), "{err}");

    let found = e
        .search(
            t(13),
            token,
            &purpose("investigation", "burglary suspect", Some("26-0042")),
            &q,
            TimeRange::ALL,
            10,
        )
        .unwrap();
    assert_eq!(found.total, 2);
    let ev = last_event(&e);
    assert_eq!(
        (ev.body.user.as_str(), ev.body.action),
        ("jsmith", Action::Search)
    );
    assert_eq!(
        ev.body.purpose.as_deref(),
        Some("investigation: burglary suspect")
    );
    assert_eq!(ev.body.case.as_deref(), Some("26-0042"));
    assert!(
        ev.body.object.contains("plate 7ABC123"),
        "{}",
        ev.body.object
    );
    assert!(ev.body.object.contains("2 matches"), "{}", ev.body.object);
    assert_eq!(ev.body.outcome, Outcome::Success);

    // Viewing one read is documented too, with the plate.
    let id = RecordId {
        origin: e.node().node_key.id(),
        seq: 3,
    };
    let v = e
        .view_read(t(14), token, &purpose("alert", "hotlist hit", None), id)
        .unwrap();
    let (v, crop) = v;
    assert_eq!(v.read().body.plate.as_str(), "8XYZ001");
    assert_eq!(
        crop.as_deref(),
        Some(&[0xFF, 0xD8, 0xFF, 0xD9][..]),
        "the plate crop comes along"
    );
    let ev = last_event(&e);
    assert_eq!(ev.body.action, Action::ViewRead);
    assert!(ev.body.object.contains("8XYZ001"));
}

#[test]
fn v_a_2_five_failures_lock_the_account_for_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    for i in 0..4 {
        assert!(matches!(
            e.login(t(i), "jsmith", "wrong password!"),
            Err(AccessError::BadCredentials)
        ));
        assert_eq!(last_event(&e).body.action, Action::LoginFailed);
    }
    assert!(matches!(
        e.login(t(5), "jsmith", "wrong password!"),
        Err(AccessError::BadCredentials)
    ));
    assert_eq!(last_event(&e).body.action, Action::Lockout);
    // The right password does not help while locked, and the lock survives a restart.
    let node = {
        let dir_node = dir.path().join("station-1");
        drop(e);
        Node::open(&dir_node, PASS).unwrap()
    };
    let mut e = Engine::open(node, [8; 32]).unwrap();
    let err = e.login(t(9 * MIN), "jsmith", OFFICER_PW).unwrap_err();
    assert!(matches!(err, AccessError::LockedOut { .. }), "{err}");
    assert!(e.login(t(10 * MIN + 6), "jsmith", OFFICER_PW).is_ok());
    // Unknown names are refused the same way, and documented.
    assert!(matches!(
        e.login(t(11 * MIN), "nobody", "whatever it is"),
        Err(AccessError::BadCredentials)
    ));
    assert!(matches!(&last_event(&e).body.outcome, Outcome::Refused(r) if r == "unknown user"));
}

#[test]
fn v_a_2_idle_sessions_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let token = e.login(t(0), "jsmith", OFFICER_PW).unwrap();
    let q = Query::Plate(PlateText::parse("ABC1").unwrap());
    let p = purpose("alert", "hit follow-up", None);
    assert!(
        e.search(t(29 * MIN), token, &p, &q, TimeRange::ALL, 10)
            .is_ok()
    );
    assert!(
        e.search(t(58 * MIN), token, &p, &q, TimeRange::ALL, 10)
            .is_ok(),
        "activity keeps it open"
    );
    let err = e
        .search(t(89 * MIN), token, &p, &q, TimeRange::ALL, 10)
        .unwrap_err();
    assert!(matches!(err, AccessError::SessionLocked(30)), "{err}");
    assert!(matches!(
        e.search(t(90 * MIN), token, &p, &q, TimeRange::ALL, 10),
        Err(AccessError::NoSession)
    ));
}

#[test]
fn v_a_2_passwords_follow_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    for bad in ["short", "password123", "Qwerty123", "akim-secret-pw"] {
        let err = e
            .add_user(t(1), admin, user("akim", UserRole::Officer, bad, Some(0)))
            .unwrap_err();
        assert!(matches!(err, AccessError::Password(_)), "{bad}: {err}");
        assert!(matches!(last_event(&e).body.outcome, Outcome::Refused(_)));
    }
    e.add_user(
        t(2),
        admin,
        user("akim", UserRole::Officer, "night shift harbor", Some(0)),
    )
    .unwrap();
    // Stored as Argon2id, never in clear.
    let stored = &e.policy().users["akim"].password_hash;
    assert!(stored.starts_with("$argon2id$") && !stored.contains("night shift"));
}

#[test]
fn ii_a_only_administrators_change_users_retention_and_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let officer = e.login(t(0), "jsmith", OFFICER_PW).unwrap();
    let hold = NewHold {
        case: "26-0042".into(),
        reason: "homicide".into(),
        scope: HoldScope::Plate {
            plate: PlateText::parse("ABC1").unwrap(),
            from: t(0),
            to: t(DAY),
        },
        expires: None,
    };
    let tries: Vec<(&str, AccessError)> = vec![
        (
            "add user",
            e.add_user(
                t(1),
                officer,
                user("x1", UserRole::Officer, "something long", Some(0)),
            )
            .unwrap_err(),
        ),
        (
            "retention",
            e.set_retention(
                t(2),
                officer,
                Retention {
                    reads_days: 1,
                    plate_images_days: 1,
                    overview_images_days: 1,
                    audit_days: 400,
                    alerts_days: 365,
                },
            )
            .unwrap_err(),
        ),
        (
            "hold",
            e.place_hold(t(3), officer, hold.clone()).unwrap_err(),
        ),
        (
            "purge",
            e.purge(t(4), PurgeActor::User(officer), false).unwrap_err(),
        ),
        (
            "limits",
            e.set_limits(t(5), officer, LoginLimits::default())
                .unwrap_err(),
        ),
        (
            "revoke a node",
            e.revoke_node(t(6), officer, alpr_protocol::NodeId([9; 32]), "lost")
                .unwrap_err(),
        ),
    ];
    for (what, err) in tries {
        assert!(
            matches!(err, AccessError::Forbidden { .. }),
            "{what}: {err}"
        );
    }
    let refusals = audit_log(&e)
        .iter()
        .filter(|ev| ev.body.user == "jsmith" && matches!(ev.body.outcome, Outcome::Refused(_)))
        .count();
    assert_eq!(refusals, 6);

    let admin = e.login(t(6), "chief", ADMIN_PW).unwrap();
    let lost = alpr_protocol::NodeId([9; 32]);
    e.revoke_node(t(6), admin, lost, "car stolen").unwrap();
    assert_eq!(last_event(&e).body.action, Action::EditNodes);
    assert!(e.revoked().read().unwrap().contains(&lost));
    // Alerts have a period of their own, audited with the others.
    let retention = Retention {
        reads_days: 30,
        plate_images_days: 30,
        overview_images_days: 30,
        audit_days: 400,
        alerts_days: 730,
    };
    e.set_retention(t(7), admin, retention).unwrap();
    assert_eq!(last_event(&e).body.action, Action::EditRetention);
    assert!(
        last_event(&e).body.object.contains("alerts 730 days"),
        "{}",
        last_event(&e).body.object
    );
    let no_alerts = Retention {
        alerts_days: 0,
        ..retention
    };
    let err = e.set_retention(t(7), admin, no_alerts).unwrap_err();
    assert!(
        err.to_string().contains("alerts are kept at least 1 day"),
        "{err}"
    );
    let short_audit = Retention {
        audit_days: 100,
        ..retention
    };
    let err = e.set_retention(t(8), admin, short_audit).unwrap_err();
    assert!(err.to_string().contains("at least 365"), "{err}");
    let id = e.place_hold(t(9), admin, hold).unwrap();
    assert_eq!(last_event(&e).body.action, Action::EditHold);
    e.release_hold(t(10), admin, id).unwrap();
    // Policy changes persist with their audit events.
    let node = {
        drop(e);
        Node::open(&dir.path().join("station-1"), PASS).unwrap()
    };
    let e = Engine::open(node, [9; 32]).unwrap();
    assert_eq!(e.policy().retention.reads_days, 30);
    assert_eq!(e.policy().retention.alerts_days, 730);
    assert!(e.policy().holds[0].released.is_some());
    assert!(
        e.revoked().read().unwrap().contains(&lost),
        "revocations persist"
    );
}

#[test]
fn v_a_5_auditors_see_records_only_for_an_audit() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("audit1", UserRole::Auditor, "quarterly review q4", Some(0)),
    )
    .unwrap();
    let auditor = e.login(t(1), "audit1", "quarterly review q4").unwrap();
    let q = Query::Plate(PlateText::parse("ABC1").unwrap());
    let err = e
        .search(
            t(2),
            auditor,
            &purpose("alert", "curious", None),
            &q,
            TimeRange::ALL,
            5,
        )
        .unwrap_err();
    assert!(matches!(err, AccessError::Forbidden { .. }), "{err}");
    assert!(
        e.search(
            t(3),
            auditor,
            &purpose("audit", "Q4 sample check", None),
            &q,
            TimeRange::ALL,
            5
        )
        .is_ok()
    );
    // Auditors verify but do not import.
    assert!(e.verify(t(4), auditor).unwrap().ok());
    let err = e
        .import(t(5), auditor, "x", std::iter::empty(), |_| true)
        .unwrap_err();
    assert!(matches!(err, AccessError::Forbidden { .. }), "{err}");
}

#[test]
fn deactivated_users_are_refused_and_the_last_administrator_stays() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.edit_user(t(1), admin, "jsmith", UserEdit::Active(false))
        .unwrap();
    assert!(matches!(
        e.login(t(2), "jsmith", OFFICER_PW),
        Err(AccessError::Inactive(_))
    ));
    let err = e
        .edit_user(t(3), admin, "chief", UserEdit::Active(false))
        .unwrap_err();
    assert!(err.to_string().contains("no active Administrator"), "{err}");
}

fn purge_survivors(e: &mut Engine, now: Timestamp) -> Vec<String> {
    let admin = e.login(now, "chief", ADMIN_PW).unwrap();
    e.purge(now, PurgeActor::User(admin), false).unwrap();
    let mut left = Vec::new();
    e.node()
        .store
        .for_each_read(|r| {
            if let alpr_engine::store::StoredRead::Envelope(_, bytes) = r {
                let v = e.node().trust.open_read(bytes).unwrap();
                left.push(format!(
                    "{}@{}",
                    v.read().body.plate,
                    v.read().captured_at.as_millis() - T0
                ));
            }
        })
        .unwrap();
    left.sort();
    left
}

#[test]
fn iv_b_purge_is_deterministic_across_nodes_and_spares_held_reads() {
    let dir = tempfile::tempdir().unwrap();
    let a = agency(dir.path());
    let car = enrolled(&a, dir.path(), "car-1");
    let reads: Vec<(&str, i64)> = (0..40)
        .map(|i| (["AAA111", "BBB222", "CCC333"][i % 3], i as i64 * DAY))
        .collect();
    record(&car, &reads);
    let mut envelopes = Vec::new();
    car.store
        .for_each_read(|r| {
            if let alpr_engine::store::StoredRead::Envelope(_, bytes) = r {
                envelopes.push(car.trust.open_read(bytes).unwrap());
            }
        })
        .unwrap();

    // Two stations hold the car's reads (as replication will give them) and the same policy.
    let mut stations = Vec::new();
    for name in ["station-1", "station-2"] {
        let node = enrolled(&a, dir.path(), name);
        node.store
            .put_certificate(car.node_key.id(), car.certificate.signed())
            .unwrap();
        drop(node);
        let node = Node::open(&dir.path().join(name), PASS).unwrap();
        node.store.append_reads(&envelopes).unwrap();
        let mut e = Engine::open(node, [1; 32]).unwrap();
        e.bootstrap_admin(
            t(0),
            user("chief", UserRole::Administrator, ADMIN_PW, Some(-DAY)),
        )
        .unwrap();
        let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
        e.set_retention(
            t(0),
            admin,
            Retention {
                reads_days: 30,
                plate_images_days: 30,
                overview_images_days: 30,
                audit_days: 365,
                alerts_days: 365,
            },
        )
        .unwrap();
        // Hold every BBB222 read from days 0-5 and one AAA111 read by id (seq 1, day 0).
        for scope in [
            HoldScope::Plate {
                plate: PlateText::parse("BBB222").unwrap(),
                from: t(0),
                to: t(5 * DAY),
            },
            HoldScope::Reads(vec![(car.node_key.id(), 1)]),
        ] {
            e.place_hold(
                t(0),
                admin,
                NewHold {
                    case: "26-0007".into(),
                    reason: "robbery".into(),
                    scope,
                    expires: None,
                },
            )
            .unwrap();
        }
        stations.push(e);
    }
    let now = t(45 * DAY);
    let dry = {
        let e = &mut stations[0];
        let admin = e.login(now, "chief", ADMIN_PW).unwrap();
        e.purge(now, PurgeActor::User(admin), true).unwrap()
    };
    // Days 0-14 are past 30 days at day 45: 15 reads, 3 of them held (BBB222 on days 1 and 4, seq 1).
    assert_eq!((dry.purged, dry.held), (12, 3));
    let left_1 = purge_survivors(&mut stations[0], now);
    let left_2 = purge_survivors(&mut stations[1], now);
    assert_eq!(
        left_1, left_2,
        "two nodes with one policy must keep the same reads"
    );
    assert_eq!(left_1.len(), 40 - 12);
    assert!(left_1.contains(&"AAA111@0".to_string()), "held by id");
    assert!(
        left_1.contains(&"BBB222@3".to_string()) || left_1.iter().any(|s| s.starts_with("BBB222@")),
        "held by plate"
    );
    for s in &left_1 {
        let day: i64 = s.split('@').nth(1).unwrap().parse::<i64>().unwrap() / DAY;
        assert!(
            day >= 15 || s == "AAA111@0" || s.starts_with("BBB222@"),
            "{s} should have gone"
        );
    }
    // The purge is documented with its count, and the databases still verify.
    for e in &mut stations {
        let log = audit_log(e);
        let purge = log
            .iter()
            .rev()
            .find(|ev| ev.body.action == Action::Purge)
            .unwrap();
        assert!(
            purge.body.object.contains("deleted 12 reads"),
            "{}",
            purge.body.object
        );
        let admin = e.login(now, "chief", ADMIN_PW).unwrap();
        let report = e.verify(now, admin).unwrap();
        assert!(report.ok(), "{:?}", report.failures);
        assert_eq!(report.reads, 28);
    }
    // Releasing the hold lets the next purge take the reads it protected.
    let e = &mut stations[0];
    let admin = e.login(now, "chief", ADMIN_PW).unwrap();
    e.release_hold(now, admin, 1).unwrap();
    e.release_hold(now, admin, 2).unwrap();
    let report = e.purge(now, PurgeActor::Schedule, false).unwrap();
    assert_eq!((report.purged, report.held), (3, 0));
    assert_eq!(last_event(e).body.user, "(schedule)");
}

#[test]
fn every_access_is_in_a_verifiable_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let _ = e.login(t(0), "jsmith", "not my password");
    let token: SessionToken = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
    let _ = e.search(
        t(2),
        token,
        &purpose("alert", "hit follow-up", None),
        &Query::Plate(PlateText::parse("ABC1").unwrap()),
        TimeRange::ALL,
        5,
    );
    e.logout(t(3), token).unwrap();
    let actions: Vec<Action> = audit_log(&e).iter().map(|ev| ev.body.action).collect();
    assert_eq!(
        actions,
        vec![
            Action::EditUser, // bootstrap chief
            Action::Login,
            Action::EditUser, // add jsmith
            Action::Logout,
            Action::LoginFailed,
            Action::Login,
            Action::Search,
            Action::Logout
        ]
    );
    for (i, ev) in audit_log(&e).iter().enumerate() {
        assert_eq!(ev.seq, i as u64 + 1);
        assert_eq!(ev.origin, e.node().node_key.id());
    }
    let admin = e.login(t(4), "chief", ADMIN_PW).unwrap();
    assert!(e.verify(t(5), admin).unwrap().ok());
}

#[test]
fn v_a_1_requests_are_registered_referred_and_decided_on_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("sgt", UserRole::Supervisor, "front desk duty", Some(0)),
    )
    .unwrap();
    let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
    let err = e
        .register_request(
            t(1),
            officer,
            "Daily Courier",
            "all reads on Main St",
            "chief",
        )
        .unwrap_err();
    assert!(matches!(err, AccessError::Forbidden { .. }), "{err}");
    let sgt = e.login(t(2), "sgt", "front desk duty").unwrap();
    let id = e
        .register_request(
            t(2),
            sgt,
            "Daily Courier (press)",
            "all reads on Main St, May 1",
            "Staff Services Commander",
        )
        .unwrap();
    assert!(matches!(
        e.decide_request(t(3), sgt, id, RequestOutcome::Denied, "not releasable"),
        Err(AccessError::Forbidden { .. })
    ));
    e.decide_request(
        t(4),
        admin,
        id,
        RequestOutcome::Denied,
        "ALPR data is not public (policy IV.A)",
    )
    .unwrap();
    assert!(
        e.decide_request(t(5), admin, id, RequestOutcome::Granted, "changed my mind")
            .is_err()
    );
    let r = &e.policy().requests[0];
    assert_eq!(
        (r.registered_by.as_str(), r.referred_to.as_str()),
        ("sgt", "Staff Services Commander")
    );
    let d = r.decision.as_ref().unwrap();
    assert_eq!(
        (d.outcome, d.by.as_str(), d.at),
        (RequestOutcome::Denied, "chief", t(4))
    );
    let steps: Vec<_> = audit_log(&e)
        .into_iter()
        .filter(|ev| ev.body.action == Action::Request)
        .map(|ev| (ev.body.user, matches!(ev.body.outcome, Outcome::Success)))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("jsmith".into(), false),
            ("sgt".into(), true),
            ("sgt".into(), false),
            ("chief".into(), true),
            ("chief".into(), false)
        ]
    );
}

#[test]
fn v_a_4_releases_are_recorded_and_exported_as_verifiable_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    record(e.node(), &[("7ABC123", 1), ("8XYZ001", 2), ("7ABC123", 3)]);
    let me = e.node().node_key.id();
    let release = NewRelease {
        case: "26-0099".into(),
        agency: "County District Attorney".into(),
        official: "ADA R. Diaz".into(),
        legal_basis: "subpoena 2026-SB-114".into(),
        reads: vec![
            RecordId { origin: me, seq: 1 },
            RecordId { origin: me, seq: 3 },
        ],
    };
    let p = purpose(
        "investigation",
        "prosecution of case 26-0099",
        Some("26-0099"),
    );
    let officer = e.login(t(10), "jsmith", OFFICER_PW).unwrap();
    let err = e
        .release(
            t(10),
            officer,
            &p,
            release.clone(),
            &mut MemorySink::default(),
        )
        .unwrap_err();
    assert!(matches!(err, AccessError::Forbidden { .. }), "{err}");
    let admin = e.login(t(11), "chief", ADMIN_PW).unwrap();
    let mut out = MemorySink::default();
    let id = e.release(t(11), admin, &p, release, &mut out).unwrap();
    let report = alpr_protocol::bundle::verify(&out.files, Some(e.node().trust.agency()));
    assert!(report.ok(), "{:?}", report.problems);
    let m = report.manifest.unwrap();
    assert_eq!(
        (m.reads, m.kind),
        (2, alpr_protocol::bundle::BundleKind::Release)
    );
    assert_eq!(m.release.unwrap().agency, "County District Attorney");
    let rel = &e.policy().releases[0];
    assert_eq!(
        (rel.id, rel.reads.len(), rel.official.as_str()),
        (id, 2, "ADA R. Diaz")
    );
    let ev = last_event(&e);
    assert_eq!(
        (ev.body.action, ev.body.case.as_deref()),
        (Action::Release, Some("26-0099"))
    );
    assert!(
        ev.body.object.contains("County District Attorney")
            && ev.body.object.contains(&rel.manifest_sha256)
    );
}

#[test]
fn v_a_5_quarterly_audit_samples_are_reproducible_marked_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("audit1", UserRole::Auditor, "quarterly review q4", Some(0)),
    )
    .unwrap();
    // Twenty searches this quarter (2026Q4) to sample from.
    let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
    for i in 0..20 {
        let q = Query::Plate(PlateText::parse(&format!("ABC{i}")).unwrap());
        e.search(
            t(2 + i),
            officer,
            &purpose("alert", "hotlist hit follow-up", None),
            &q,
            TimeRange::ALL,
            5,
        )
        .unwrap();
    }
    let q4 = Quarter::parse("2026Q4").unwrap();
    assert_eq!(
        e.policy().audit_overdue(t(100)),
        Some(Quarter::parse("2026Q3").unwrap())
    );
    let officer_try = e.draw_audit_sample(t(100), officer, q4, 1, 5).unwrap_err();
    assert!(matches!(officer_try, AccessError::Forbidden { .. }));
    let auditor = e.login(t(100), "audit1", "quarterly review q4").unwrap();
    let a = e
        .draw_audit_sample(t(101), auditor, q4, 20261231, 5)
        .unwrap();
    let b = e
        .draw_audit_sample(t(102), auditor, q4, 20261231, 5)
        .unwrap();
    let c = e.draw_audit_sample(t(103), auditor, q4, 7, 5).unwrap();
    let items = |id: u64, e: &Engine| -> Vec<(alpr_protocol::NodeId, u64)> {
        e.policy()
            .audits
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .items
            .iter()
            .map(|i| (i.origin, i.seq))
            .collect()
    };
    assert_eq!(
        items(a, &e),
        items(b, &e),
        "the same seed draws the same sample"
    );
    assert_ne!(items(a, &e), items(c, &e), "another seed draws another");
    // The auditor sees each sampled event itself: who searched, and why.
    let (with_events, _) = e.audits_with_events(t(104), auditor).unwrap();
    let (first, events) = &with_events[0];
    assert_eq!(events.len(), first.items.len());
    for (item, event) in first.items.iter().zip(events) {
        let event = event.as_ref().expect("a sampled event is held here");
        assert_eq!((event.origin, event.seq), (item.origin, item.seq));
        assert_eq!(event.body.action, Action::Search);
        assert!(event.body.purpose.is_some(), "{event:?}");
    }
    let report = e.policy().audits[0].clone();
    assert_eq!(
        (report.population, report.items.len(), report.seed),
        (20, 5, 20261231)
    );
    // The sample is exactly the five lowest SHA-256(seed, origin, seq) among the quarter's searches.
    let mut expected: Vec<_> = audit_log(&e)
        .into_iter()
        .filter(|ev| ev.body.action == Action::Search)
        .map(|ev| {
            (
                alpr_engine::engine::sample_score(20261231, ev.origin, ev.seq),
                ev.origin,
                ev.seq,
            )
        })
        .collect();
    expected.sort();
    let mut want: Vec<_> = expected
        .into_iter()
        .take(5)
        .map(|(_, o, s)| (o, s))
        .collect();
    want.sort();
    assert_eq!(items(a, &e), want);

    assert!(e.sign_audit(t(104), auditor, a).is_err(), "unmarked items");
    for i in 1..=5 {
        e.mark_audit_item(
            t(105),
            auditor,
            a,
            i,
            i != 3,
            if i == 3 { "reason too vague" } else { "ok" },
        )
        .unwrap();
    }
    let signed = e.sign_audit(t(106), auditor, a).unwrap();
    assert!(signed.signature_valid());
    let ev = last_event(&e);
    assert!(
        ev.body.object.contains("1 not compliant"),
        "{}",
        ev.body.object
    );
    let mut forged = signed.clone();
    forged.items[2].compliant = Some(true);
    assert!(
        !forged.signature_valid(),
        "a changed finding breaks the signature"
    );
    assert!(matches!(
        e.mark_audit_item(t(107), auditor, a, 1, false, "late"),
        Err(AccessError::NotFound(_))
    ));

    // Q4's report does not cover Q3: still overdue until Q3 is audited.
    assert_eq!(
        e.policy().audit_overdue(t(108)),
        Some(Quarter::parse("2026Q3").unwrap())
    );
    let q3 = e
        .draw_audit_sample(t(109), auditor, Quarter::parse("2026Q3").unwrap(), 3, 10)
        .unwrap();
    e.sign_audit(t(110), auditor, q3).unwrap();
    assert_eq!(e.policy().audit_overdue(t(111)), None);
}

#[test]
fn iv_b_audit_events_outlive_reads_and_their_purge_keeps_the_chain_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.set_retention(
        t(0),
        admin,
        Retention {
            reads_days: 30,
            plate_images_days: 30,
            overview_images_days: 30,
            audit_days: 365,
            alerts_days: 365,
        },
    )
    .unwrap();
    let officer = e.login(t(DAY), "jsmith", OFFICER_PW).unwrap();
    let q = Query::Plate(PlateText::parse("ABC1").unwrap());
    for i in 0..10 {
        e.search(
            t(DAY + i),
            officer,
            &purpose("alert", "hit follow-up", None),
            &q,
            TimeRange::ALL,
            5,
        )
        .unwrap();
    }
    let before = audit_log(&e).len();
    // 200 days on: the reads' retention has passed, the audit events' has not.
    let report = e.purge(t(200 * DAY), PurgeActor::Schedule, false).unwrap();
    assert_eq!(report.audit_purged, 0);
    assert_eq!(audit_log(&e).len(), before + 1);
    // 390 days on: everything from the first days goes; the chain still verifies from its floor.
    let dry = e.purge(t(390 * DAY), PurgeActor::Schedule, true).unwrap();
    assert_eq!(
        dry.audit_purged, before as u64,
        "all but the newest (day 200) event"
    );
    let report = e.purge(t(390 * DAY), PurgeActor::Schedule, false).unwrap();
    assert_eq!(report.audit_purged, before as u64);
    let left = audit_log(&e);
    assert_eq!(
        left.first().unwrap().seq,
        before as u64 + 1,
        "the day-200 purge event is the chain's new start"
    );
    let (floor_seq, floor_hash) = e.node().store.audit_floor(e.node().node_key.id()).unwrap();
    assert_eq!(floor_seq, before as u64);
    // The purge event signs the floor as a typed field (format 2), not in its text.
    let cut_by = left
        .iter()
        .find(|ev| !ev.body.floors.is_empty())
        .expect("a purge event with floors");
    assert_eq!(cut_by.body.action, Action::Purge);
    assert_eq!(
        cut_by.body.floors,
        [alpr_protocol::record::AuditFloor {
            origin: e.node().node_key.id(),
            seq: floor_seq,
            hash: floor_hash,
        }]
    );
    assert!(
        !cut_by.body.object.contains("floor "),
        "{}",
        cut_by.body.object
    );
    let admin = e.login(t(390 * DAY), "chief", ADMIN_PW).unwrap();
    let verified = e.verify(t(390 * DAY), admin).unwrap();
    assert!(verified.ok(), "{:?}", verified.failures);
    // A restart continues the chain where it was.
    let node = {
        drop(e);
        Node::open(&dir.path().join("station-1"), PASS).unwrap()
    };
    let mut e = Engine::open(node, [5; 32]).unwrap();
    let admin = e.login(t(391 * DAY), "chief", ADMIN_PW).unwrap();
    let again = e.verify(t(391 * DAY), admin).unwrap();
    assert!(again.ok(), "{:?}", again.failures);
    // A cut of the chain that no signed purge event records is caught.
    let me = e.node().node_key.id();
    let log = audit_log(&e);
    let cut = &log[2];
    let bytes = {
        let mut found = None;
        e.node()
            .store
            .for_each_audit(|id, b| {
                if id.seq == cut.seq {
                    found = Some(b.to_vec());
                }
            })
            .unwrap();
        found.unwrap()
    };
    let rec = Recorder::load(e.node()).unwrap();
    let unrelated = rec
        .seal_audit(
            e.node(),
            t(391 * DAY),
            alpr_engine::recorder::AuditEntry {
                user: "x".into(),
                action: Action::Logout,
                object: "logout".into(),
                purpose: None,
                case: None,
                outcome: Outcome::Success,
                floors: Vec::new(),
            },
            &mut rand::rng(),
        )
        .unwrap();
    let prefix = alpr_engine::store::AuditPrefix {
        origin: me,
        upto: cut.seq,
        hash: alpr_protocol::envelope::envelope_hash(&bytes),
        count: 3,
    };
    e.node()
        .store
        .delete_audit_prefix(&[prefix], &unrelated)
        .unwrap();
    let tampered = alpr_engine::verify::verify(e.node()).unwrap();
    assert!(
        tampered
            .failures
            .iter()
            .any(|f| f.reason.contains("no signed purge event records that cut")),
        "{:?}",
        tampered.failures
    );
    // Past its certificate the node signs nothing, and says why.
    let err = e.login(t(401 * DAY), "chief", ADMIN_PW).unwrap_err();
    assert!(err.to_string().contains("re-enroll"), "{err}");
}

#[test]
fn iv_b_images_go_on_their_own_retention_and_reads_still_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    let retention = Retention {
        reads_days: 30,
        plate_images_days: 10,
        overview_images_days: 5,
        audit_days: 365,
        alerts_days: 365,
    };
    e.set_retention(t(0), admin, retention).unwrap();
    {
        let mut rec = Recorder::load(e.node()).unwrap();
        let batch = (0..20)
            .map(|d| {
                let mut c = body(if d == 2 { "HELD01" } else { "PLAIN1" });
                c.overview_jpeg = Some(vec![0xFF, 0xD8, 0xFF, d as u8]);
                (t(d * DAY), c)
            })
            .collect();
        rec.record_reads(e.node(), batch, &mut rand::rng()).unwrap();
    }
    e.place_hold(
        t(0),
        admin,
        NewHold {
            case: "26-0101".into(),
            reason: "fraud".into(),
            scope: HoldScope::Plate {
                plate: PlateText::parse("HELD01").unwrap(),
                from: t(0),
                to: t(30 * DAY),
            },
            expires: None,
        },
    )
    .unwrap();
    let now = t(25 * DAY);
    let dry = e.purge(now, PurgeActor::Schedule, true).unwrap();
    // Crops before day 15: days 0-14 less the held one (14); overviews before day 20: 19.
    assert_eq!((dry.purged, dry.images_purged), (0, 14 + 19));
    let report = e.purge(now, PurgeActor::Schedule, false).unwrap();
    assert_eq!((report.purged, report.images_purged), (0, 33));
    assert_eq!(
        e.node().store.image_counts().unwrap(),
        (6, 1),
        "crops of days 14-19 and the held one's; its overview too"
    );

    let me = e.node().node_key.id();
    let officer = e.login(now, "jsmith", OFFICER_PW).unwrap();
    let p = purpose("alert", "hit follow-up", None);
    let (old, old_crop) = e
        .view_read(now, officer, &p, RecordId { origin: me, seq: 1 })
        .unwrap();
    assert!(old_crop.is_none(), "past the crops' retention");
    assert!(
        old.read().body.crop.is_some(),
        "the read still records which crop it had"
    );
    let (_, held_crop) = e
        .view_read(now, officer, &p, RecordId { origin: me, seq: 3 })
        .unwrap();
    assert!(held_crop.is_some(), "held as evidence");
    let (_, new_crop) = e
        .view_read(
            now,
            officer,
            &p,
            RecordId {
                origin: me,
                seq: 20,
            },
        )
        .unwrap();
    assert!(new_crop.is_some());
    let admin = e.login(now, "chief", ADMIN_PW).unwrap();
    let verified = e.verify(now, admin).unwrap();
    assert!(verified.ok(), "{:?}", verified.failures);
    assert_eq!((verified.reads, verified.images), (20, 7));
    // An evidence bundle of a read whose crop is gone still verifies.
    e.place_hold(
        now,
        admin,
        NewHold {
            case: "26-0102".into(),
            reason: "assault".into(),
            scope: HoldScope::Reads(vec![(me, 1)]),
            expires: None,
        },
    )
    .unwrap();
    let mut out = MemorySink::default();
    e.export_evidence(
        now,
        admin,
        &purpose("investigation", "assault", Some("26-0102")),
        "26-0102",
        &mut out,
    )
    .unwrap();
    let bundle = alpr_protocol::bundle::verify(&out.files, Some(e.node().trust.agency()));
    assert!(bundle.ok(), "{:?}", bundle.problems);

    // Media that fail mid-write (a full stick): the export is documented
    // as failed, under the sink's name, and the sink is not left holding it.
    struct FullStick(u32);
    impl alpr_engine::evidence::BundleSink for FullStick {
        fn describe(&self) -> String {
            "/media/full-stick".into()
        }
        fn check(&self) -> Result<(), alpr_engine::evidence::EvidenceError> {
            Ok(())
        }
        fn put(
            &mut self,
            _: &std::collections::BTreeMap<String, Vec<u8>>,
        ) -> Result<(), alpr_engine::evidence::EvidenceError> {
            Err(alpr_engine::evidence::EvidenceError::Io {
                path: "/media/full-stick/reads".into(),
                source: std::io::Error::other("no space left on device"),
            })
        }
        fn discard(&mut self) {
            self.0 += 1;
        }
    }
    let mut stick = FullStick(0);
    let err = e
        .export_evidence(
            now,
            admin,
            &purpose("investigation", "assault", Some("26-0102")),
            "26-0102",
            &mut stick,
        )
        .unwrap_err();
    assert_eq!(stick.0, 1, "what was half-written is discarded");
    assert!(err.to_string().contains("no space left"), "{err}");
    let ev = last_event(&e);
    assert!(
        ev.body.object.contains("to /media/full-stick"),
        "{}",
        ev.body.object
    );
    assert!(
        matches!(ev.body.outcome, Outcome::Failed(_)),
        "{:?}",
        ev.body.outcome
    );
}

#[test]
fn imports_are_checked_whole_and_a_damaged_image_is_withheld_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let officer = e.login(t(0), "jsmith", OFFICER_PW).unwrap();
    // One read in the batch has an overview over the limit: nothing of the batch is stored.
    let mut huge = body("BIG1");
    huge.overview_jpeg = Some(vec![0; alpr_protocol::record::OVERVIEW_BYTES_MAX + 1]);
    let err = e
        .import(
            t(1),
            officer,
            "camera",
            std::iter::once(vec![(t(1), body("OK1")), (t(2), huge)]),
            |_| true,
        )
        .unwrap_err();
    assert!(err.to_string().contains("overview frame exceeds"), "{err}");
    assert_eq!(
        e.node()
            .store
            .last_read_seq(e.node().node_key.id())
            .unwrap(),
        None
    );
    assert!(matches!(last_event(&e).body.outcome, Outcome::Failed(_)));

    // A read whose stored crop is not the one it commits to: the read is shown, the crop withheld.
    let me = e.node().node_key.id();
    let sealer = alpr_protocol::Sealer {
        node_key: &e.node().node_key,
        data_key: &e.node().data_key,
    };
    let genuine = sealer.seal_read(1, t(5), body("DMG1"), &mut rand::rng());
    let mut other = body("DMG1");
    other.crop_jpeg = vec![0xFF, 0xD8, 0xFF, 0x00, 0x42];
    let impostor = sealer.seal_read(1, t(5), other, &mut rand::rng());
    e.node()
        .store
        .append_records(std::slice::from_ref(&genuine.read), &impostor.images)
        .unwrap();
    let (read, crop) = e
        .view_read(
            t(6),
            officer,
            &purpose("alert", "hit follow-up", None),
            RecordId { origin: me, seq: 1 },
        )
        .unwrap();
    assert_eq!(read.read().body.plate.as_str(), "DMG1");
    assert!(crop.is_none());
    assert!(
        last_event(&e).body.object.contains("withheld"),
        "{}",
        last_event(&e).body.object
    );
    let admin = e.login(t(7), "chief", ADMIN_PW).unwrap();
    let report = e.verify(t(7), admin).unwrap();
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.reason.contains("not the image its read commits to")),
        "{:?}",
        report.failures
    );
}

#[test]
fn a_policy_of_the_first_schema_converts_to_a_signed_document_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let legacy = e.policy().clone();
    drop(e);
    let node = Node::open(&dir.path().join("station-1"), PASS).unwrap();
    // As the first schema stored it: the whole policy, postcard.
    node.store
        .append_audit_with(
            &[],
            &[alpr_engine::store::Effect::Policy(&legacy.to_bytes())],
        )
        .unwrap();
    assert!(node.store.policy_signatures().unwrap().len() >= 2);
    let before = node.store.policy_signatures().unwrap().len();
    let e = Engine::open(node, [9; 32]).unwrap();
    assert_eq!(e.policy().users, legacy.users);
    assert_eq!(
        e.node().store.policy_signatures().unwrap().len(),
        before + 1,
        "the conversion is one signed change by this node"
    );
    let mut e = e;
    let admin = e.login(t(1), "chief", ADMIN_PW).unwrap();
    e.logout(t(1), admin).unwrap();
}

#[test]
fn local_hotlist_entries_are_added_by_officers_and_removed_by_them_or_supervisors() {
    use alpr_protocol::hotlist::{Category, Entry};
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("mjones", UserRole::Officer, "another long one", Some(-DAY)),
    )
    .unwrap();
    e.add_user(
        t(0),
        admin,
        user("audra", UserRole::Auditor, "auditing all day", Some(-DAY)),
    )
    .unwrap();
    let entry = Entry {
        plate: PlateText::parse("BOLO77").unwrap(),
        region: Some("CA".into()),
        category: Category::Bolo,
        reference: "armed robbery".into(),
        detail: Default::default(),
    };
    let auditor = e.login(t(1), "audra", "auditing all day").unwrap();
    assert!(matches!(
        e.add_hotlist_entry(t(1), auditor, entry.clone()),
        Err(AccessError::Forbidden { .. })
    ));
    let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
    let id = e.add_hotlist_entry(t(2), officer, entry.clone()).unwrap();
    assert_eq!(last_event(&e).body.action, Action::EditHotlist);
    let other = e.login(t(3), "mjones", "another long one").unwrap();
    let err = e.remove_hotlist_entry(t(3), other, id).unwrap_err();
    assert!(err.to_string().contains("added by jsmith"), "{err}");
    assert!(matches!(last_event(&e).body.outcome, Outcome::Refused(_)));
    e.remove_hotlist_entry(t(4), officer, id).unwrap();
    let id2 = e.add_hotlist_entry(t(5), other, entry).unwrap();
    e.remove_hotlist_entry(t(6), admin, id2).unwrap();
    assert!(e.policy().local_hotlist.iter().all(|x| x.removed.is_some()));
}

#[test]
fn local_hotlist_entries_are_held_to_the_bounds_of_published_ones() {
    use alpr_protocol::hotlist::{Category, Entry};
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
    let entry = |region: &str, reference: &str| Entry {
        plate: PlateText::parse("BOLO77").unwrap(),
        region: Some(region.into()),
        category: Category::Bolo,
        reference: reference.into(),
        detail: Default::default(),
    };
    let err = e
        .add_hotlist_entry(t(2), officer, entry(&"X".repeat(131_000), "ok"))
        .unwrap_err();
    assert!(matches!(err, AccessError::Invalid(_)), "{err}");
    assert!(
        err.to_string().contains("is not a state or country code"),
        "{err}"
    );
    let err = e
        .add_hotlist_entry(t(2), officer, entry("C A", "ok"))
        .unwrap_err();
    assert!(err.to_string().contains("'C A'"), "{err}");
    let err = e
        .add_hotlist_entry(t(2), officer, entry("CA", &"r".repeat(65)))
        .unwrap_err();
    assert!(err.to_string().contains("longer than 64"), "{err}");
    assert!(e.policy().local_hotlist.is_empty());
    assert!(matches!(last_event(&e).body.outcome, Outcome::Refused(_)));
    e.add_hotlist_entry(t(3), officer, entry("ca", "armed robbery"))
        .unwrap();
    assert_eq!(
        e.policy().local_hotlist[0].entry.region.as_deref(),
        Some("CA")
    );
}

#[test]
fn v_a_2_an_administrator_unlocks_a_locked_out_user_on_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    for i in 0..5 {
        let _ = e.login(t(i), "jsmith", "wrong password!");
    }
    assert!(matches!(
        e.login(t(10), "jsmith", OFFICER_PW),
        Err(AccessError::LockedOut { .. })
    ));
    // An officer may not unlock anyone, and the refusal is documented.
    let other = {
        let admin = e.login(t(11), "chief", ADMIN_PW).unwrap();
        e.add_user(
            t(11),
            admin,
            user("mjones", UserRole::Officer, "another long one", Some(-DAY)),
        )
        .unwrap();
        e.login(t(12), "mjones", "another long one").unwrap()
    };
    assert!(matches!(
        e.unlock_user(t(13), other, "jsmith"),
        Err(AccessError::Forbidden { .. })
    ));
    let admin = e.login(t(14), "chief", ADMIN_PW).unwrap();
    assert!(matches!(
        e.unlock_user(t(14), admin, "nobody"),
        Err(AccessError::NotFound(_))
    ));
    assert_eq!(e.unlock_user(t(15), admin, "jsmith").unwrap(), 5);
    let ev = last_event(&e);
    assert_eq!(ev.body.action, Action::EditUser);
    assert_eq!(ev.body.user, "chief");
    assert!(
        ev.body
            .object
            .contains("unlock user jsmith: 5 failed logins cleared")
    );
    assert!(e.login(t(16), "jsmith", OFFICER_PW).is_ok());
}

#[test]
fn v_a_5_no_sample_of_a_quarter_not_begun_and_no_signing_an_empty_one_early() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(0),
        admin,
        user("audit1", UserRole::Auditor, "quarterly review q4", Some(0)),
    )
    .unwrap();
    let auditor = e.login(t(1), "audit1", "quarterly review q4").unwrap();
    // T0 is in 2026Q4: 2027Q1 has not begun.
    let refused = e
        .draw_audit_sample(t(2), auditor, Quarter::parse("2027Q1").unwrap(), 1, 5)
        .unwrap_err();
    assert!(refused.to_string().contains("has not begun"), "{refused}");
    // This quarter has no accesses yet: its empty sample attests nothing until it ends.
    let q4 = Quarter::parse("2026Q4").unwrap();
    let early = e.draw_audit_sample(t(3), auditor, q4, 1, 5).unwrap();
    let err = e.sign_audit(t(4), auditor, early).unwrap_err();
    assert!(err.to_string().contains("has not ended"), "{err}");
    // A past quarter without accesses is attested by an empty, signed sample.
    let q3 = e
        .draw_audit_sample(t(5), auditor, Quarter::parse("2026Q3").unwrap(), 1, 5)
        .unwrap();
    e.sign_audit(t(6), auditor, q3).unwrap();
    assert_eq!(e.policy().audit_overdue(t(7)), None);
}

#[test]
fn a_camera_records_without_a_login_under_its_own_name() {
    use alpr_engine::engine::CaptureSource;
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let front = CaptureSource::Camera("front".into());
    let batch = vec![
        (t(1), body("CAM001")),
        (t(2), body("CAM002")),
        (t(1), body("CAM001")),
    ];
    let recorded = e.record(t(3), &front, batch.clone()).unwrap();
    assert_eq!(recorded.ids.len(), 2, "a read given twice is stored once");
    assert_eq!(recorded.already_stored, 1);
    let ev = last_event(&e);
    assert_eq!(ev.body.user, "(camera front)");
    assert_eq!(ev.body.action, Action::Import);
    assert!(
        ev.body.object.contains("2 reads, seqs 1..=2"),
        "{}",
        ev.body.object
    );
    // The same batch again (a replayed buffer) stores nothing new.
    let again = e.record(t(4), &front, batch).unwrap();
    assert!(again.ids.is_empty());
    assert_eq!(again.already_stored, 3);
    // Searchable like any read, by a person with a purpose.
    let officer = e.login(t(5), "jsmith", OFFICER_PW).unwrap();
    let q = Query::Plate(PlateText::parse("CAM002").unwrap());
    let found = e
        .search(
            t(6),
            officer,
            &purpose("alert", "hit follow-up", None),
            &q,
            TimeRange::ALL,
            5,
        )
        .unwrap();
    assert_eq!(found.total, 1);
    // A batch over the limit is refused on record, and stores nothing.
    let huge: Vec<_> = (0..alpr_engine::recorder::READ_BATCH_MAX + 1)
        .map(|i| (t(10 + i as i64), body("CAM999")))
        .collect();
    let err = e.record(t(7), &front, huge).unwrap_err();
    assert!(matches!(err, AccessError::Invalid(_)), "{err}");
    let ev = last_event(&e);
    assert_eq!(ev.body.user, "(camera front)");
    assert!(matches!(ev.body.outcome, Outcome::Refused(_)));
}

#[test]
fn iv_b_retention_lengthened_while_a_purge_runs_holds_from_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    // 1,500 reads 380 days old: past the default 365 days, within 400.
    let plates: Vec<String> = (0..1500).map(|i| format!("RT{i:04}")).collect();
    let reads: Vec<(&str, i64)> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), -380 * DAY + i as i64))
        .collect();
    record(e.node(), &reads);
    let mut run = e.purge_start(t(0), PurgeActor::Schedule).unwrap();
    assert!(e.purge_step(t(0), &mut run).unwrap());
    assert_eq!(run.report.purged, 1024, "one step: one batch");
    // An Administrator keeps reads 400 days now, between two steps.
    let admin = e.login(t(1), "chief", ADMIN_PW).unwrap();
    let longer = Retention {
        reads_days: 400,
        ..e.policy().retention
    };
    e.set_retention(t(1), admin, longer).unwrap();
    while e.purge_step(t(2), &mut run).unwrap() {}
    assert_eq!(
        run.report.purged, 1024,
        "the rest is kept under the new period"
    );
    assert_eq!(e.node().store.index_counts().unwrap().0, 1500 - 1024);
}

#[test]
fn iii_a_2_a_live_view_needs_a_purpose_shows_new_reads_and_ends_with_its_session() {
    use alpr_engine::engine::{CaptureSource, Shown};
    use alpr_engine::events::{Event, SyncStatus};
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let front = CaptureSource::Camera("front".into());
    // A read before the view opens is not part of it.
    e.record(t(1), &front, vec![(t(1), body("OLD001"))])
        .unwrap();
    let officer = e.login(t(2), "jsmith", OFFICER_PW).unwrap();
    let none = PurposeInput {
        kind: None,
        reason: None,
        case: None,
    };
    let err = e.subscribe(t(2), officer, &none).unwrap_err();
    assert!(matches!(err, AccessError::Purpose(_)), "{err}");
    let refused = last_event(&e);
    assert_eq!(refused.body.action, Action::LiveView);
    assert!(matches!(refused.body.outcome, Outcome::Refused(_)));

    let view = e
        .subscribe(t(3), officer, &purpose("alert", "patrol shift", None))
        .unwrap();
    let opened = last_event(&e);
    assert_eq!(
        (opened.body.user.as_str(), opened.body.action),
        ("jsmith", Action::LiveView)
    );
    assert_eq!(opened.body.purpose.as_deref(), Some("alert: patrol shift"));
    e.record(
        t(4),
        &front,
        vec![(t(4), body("NEW001")), (t(5), body("NEW002"))],
    )
    .unwrap();
    let mut run = e.purge_start(t(6), PurgeActor::Schedule).unwrap();
    while e.purge_step(t(6), &mut run).unwrap() {}
    let batch = e.events().since(view.cursor, 100);
    let plates: Vec<&str> = batch
        .events
        .iter()
        .filter_map(|ev| match ev {
            Event::Read(r) => Some(r.plate.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(plates, ["NEW001", "NEW002"]);
    assert!(
        matches!(batch.events.last(), Some(Event::Purge(p)) if p.by == "(schedule)"),
        "{:?}",
        batch.events
    );
    // A meeting's end is an event too (and noted for status when in sync).
    let peer = e.node().node_key.id();
    e.meeting_ended(t(7), peer, Err("x".repeat(10_000)))
        .unwrap();
    let last = e.events().since(batch.next, 10).events.pop().unwrap();
    let Event::Sync(s) = last else {
        panic!("{last:?}")
    };
    let SyncStatus::Failed(why) = s.status else {
        panic!()
    };
    assert!(
        why.len() <= alpr_engine::events::REASON_BYTES_MAX,
        "bounded"
    );

    // Watching is not activity: past the idle limit the view's session is locked.
    assert!(e.subscription_stands(t(8), &view).is_ok());
    let idle = i64::from(e.policy().limits.idle_lock_minutes) * MIN;
    let err = e.subscription_stands(t(3 + idle + 1), &view).unwrap_err();
    assert!(matches!(err, AccessError::SessionLocked(_)), "{err}");
    e.unsubscribe(
        t(9),
        &view,
        Shown {
            reads: 2,
            missed: 0,
        },
        "session ended",
    )
    .unwrap();
    let closed = last_event(&e);
    assert!(
        closed
            .body
            .object
            .contains("live view closed (session ended): 2 reads shown"),
        "{}",
        closed.body.object
    );
    // After a logout the view stands no longer.
    e.logout(t(10), officer).unwrap();
    assert!(matches!(
        e.subscription_stands(t(10), &view),
        Err(AccessError::NoSession)
    ));

    // An Auditor watches only for an audit purpose.
    let admin = e.login(t(11), "chief", ADMIN_PW).unwrap();
    e.add_user(
        t(11),
        admin,
        user(
            "auditor",
            UserRole::Auditor,
            "quarterly review 26",
            Some(-DAY),
        ),
    )
    .unwrap();
    let auditor = e.login(t(12), "auditor", "quarterly review 26").unwrap();
    let err = e
        .subscribe(t(12), auditor, &purpose("alert", "patrol shift", None))
        .unwrap_err();
    assert!(matches!(err, AccessError::Forbidden { .. }), "{err}");
}

#[test]
fn iv_b_a_dry_run_counts_exactly_what_the_purge_then_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    e.set_retention(
        t(0),
        admin,
        Retention {
            reads_days: 60,
            plate_images_days: 10,
            overview_images_days: 5,
            ..e.policy().retention
        },
    )
    .unwrap();
    // Past the reads' period, past only the images' periods, and current;
    // 1,300 of the old ones so the real run takes more than one step.
    let mut reads: Vec<(String, i64)> = Vec::new();
    for i in 0..1300 {
        reads.push((format!("OLD{i:04}"), -100 * DAY + i as i64));
    }
    for i in 0..40 {
        reads.push((format!("MID{i:04}"), -30 * DAY + i as i64));
    }
    for i in 0..25 {
        reads.push((format!("NEW{i:04}"), -DAY + i as i64));
    }
    let refs: Vec<(&str, i64)> = reads.iter().map(|(p, at)| (p.as_str(), *at)).collect();
    record(e.node(), &refs);
    // A hold keeps one old plate and one mid one (and so their images).
    for plate in ["OLD0007", "MID0003"] {
        e.place_hold(
            t(1),
            admin,
            NewHold {
                case: "26-0555".into(),
                reason: "pending review".into(),
                scope: HoldScope::Plate {
                    plate: PlateText::parse(plate).unwrap(),
                    from: Timestamp::MIN,
                    to: Timestamp::MAX,
                },
                expires: None,
            },
        )
        .unwrap();
    }
    let dry = e.purge(t(2), PurgeActor::User(admin), true).unwrap();
    assert_eq!(
        e.node().store.index_counts().unwrap().0,
        1365,
        "a dry run deletes nothing"
    );
    let real = e.purge(t(2), PurgeActor::User(admin), false).unwrap();
    assert_eq!(
        (dry.purged, dry.held, dry.images_purged, dry.audit_purged),
        (
            real.purged,
            real.held,
            real.images_purged,
            real.audit_purged
        ),
        "dry {dry:?} against real {real:?}"
    );
    assert_eq!((real.purged, real.held), (1299, 1));
    assert_eq!(
        real.images_purged, 39,
        "the mid reads' crops, less the held one"
    );
}
