//! Alerts through the engine, on engines meeting in memory: a hit raised
//! where the read is recorded (in its transaction), kinds of match, a
//! disposition that closes it once, the station receiving both, retro-hits
//! from a list that gains an entry, covert entries hidden from officers,
//! stale lists flagged, and the alert purge keeping what a hold protects.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

mod fleet;

use alpr_engine::engine::{Engine, NewUser, PurgeActor};
use alpr_engine::policy::UserRole;
use alpr_protocol::replicate::Collection;
use alpr_protocol::{Capture, PlateText, Role, Timestamp};
use fleet::*;

use alpr_engine::engine::{AlertFilter, CaptureSource, NewHold, PurposeInput};
use alpr_engine::policy::{HoldScope, Retention};
use alpr_protocol::alert::{HitKind, Outcome};
use alpr_protocol::hotlist::{Category, Detail, Entry, Priority, Vehicle};

fn entry(plate: &str, category: Category) -> Entry {
    Entry {
        plate: PlateText::parse(plate).unwrap(),
        region: Some("CA".into()),
        category,
        reference: format!("NCIC-{plate}"),
        detail: Detail {
            priority: Priority::High,
            vehicle: Vehicle {
                year: Some(2009),
                make: "Yamaha".into(),
                model: "motorcycle".into(),
                color: "black".into(),
            },
            ..Detail::default()
        },
    }
}

fn capture(plate: &str, region: Option<&str>, candidates: &[&str]) -> Capture {
    Capture {
        plate: PlateText::parse(plate).unwrap(),
        region: region.map(|r| alpr_protocol::Region {
            code: r.into(),
            confidence: 0.8,
        }),
        confidence: 0.93,
        char_confidences: vec![0.93; plate.len()],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        overview_jpeg: None,
        candidates: candidates.iter().map(|c| c.to_string()).collect(),
    }
}

fn record(e: &mut Engine, now: Timestamp, reads: Vec<Capture>) {
    let at = now;
    e.record(
        now,
        &CaptureSource::Replay("frames".into()),
        reads.into_iter().map(|c| (at, c)).collect(),
    )
    .unwrap();
}

fn alert_purpose() -> PurposeInput {
    PurposeInput {
        kind: Some("alert".into()),
        reason: Some("respond to hotlist hits".into()),
        case: None,
    }
}

fn alerts(e: &mut Engine, now: Timestamp, pending: bool) -> Vec<alpr_engine::engine::AlertView> {
    let token = login(e, now);
    let v = e
        .alerts(
            now,
            token,
            &alert_purpose(),
            AlertFilter {
                pending_only: pending,
                limit: 100,
            },
        )
        .unwrap();
    e.logout(now, token).unwrap();
    v
}

/// A station publishing `entries` as `list`, and a car that met it.
fn fleet_with_list(list: &str, entries: Vec<Entry>) -> (Fleet, Engine, Engine, Timestamp) {
    let fleet = Fleet::new();
    let mut car = fleet.node("car-1", Role::Vehicle);
    let mut station = fleet.node("station-1", Role::Station);
    let mut now = Timestamp(T0);
    let token = login(&mut station, now);
    station.publish_hotlist(now, token, list, entries).unwrap();
    station.logout(now, token).unwrap();
    meet(&mut car, &mut station, &mut now, None).unwrap();
    car.meeting_ended(now, station.node().node_key.id(), Ok((0, 0)))
        .unwrap();
    (fleet, car, station, now)
}

#[test]
fn a_listed_plate_raises_one_alert_that_one_disposition_closes_and_the_station_receives() {
    let (_fleet, mut car, mut station, mut now) = fleet_with_list(
        "ncic-stolen",
        vec![
            entry("ABC1234", Category::StolenVehicle),
            entry("7XYZ001", Category::Bolo),
        ],
    );
    now = now.saturating_add_millis(60_000);
    record(
        &mut car,
        now,
        vec![
            capture("ABC1234", Some("CA"), &[]),
            capture("QQQ111", None, &[]),
        ],
    );
    let pending = alerts(&mut car, now, true);
    assert_eq!(pending.len(), 1, "{pending:?}");
    let a = &pending[0];
    assert_eq!(a.alert.hit.kind, HitKind::Exact);
    assert_eq!(a.alert.list.name, "ncic-stolen");
    assert_eq!(a.alert.list.version, 1);
    assert_eq!(
        a.alert.entry.detail.vehicle.describe(),
        "2009 Yamaha motorcycle, black"
    );
    assert!(!a.alert.hit.region_mismatch && !a.alert.stale && !a.alert.retro);
    assert_eq!(a.alert.read.seq, 1, "the read it came from");

    // A dismissal needs a reason; a disposition closes it once.
    let token = login(&mut car, now);
    let err = car
        .dispose_alert(now, token, a.id, Outcome::Dismissed, "  ")
        .unwrap_err();
    assert!(err.to_string().contains("needs a reason"), "{err}");
    car.dispose_alert(
        now,
        token,
        a.id,
        Outcome::Confirmed,
        "dispatch confirmed stolen",
    )
    .unwrap();
    let again = car
        .dispose_alert(now, token, a.id, Outcome::Misread, "")
        .unwrap_err();
    assert!(
        again
            .to_string()
            .contains("already disposed of as confirmed"),
        "{again}"
    );
    let log = car
        .audit_log(
            now,
            token,
            &alpr_engine::engine::AuditFilter {
                action: Some(alpr_protocol::Action::DisposeAlert),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    car.logout(now, token).unwrap();
    let outcomes: Vec<String> = log
        .events
        .iter()
        .map(|e| e.body.outcome.to_string())
        .collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "success").count(), 1);
    assert!(alerts(&mut car, now, true).is_empty());

    // The station gets the alert and its disposition, verified.
    let (c, s) = meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&c, Collection::Alerts).0, 2, "{c:?}");
    assert_eq!(count(&s, Collection::Alerts).2, 2, "{s:?}");
    let at_station = alerts(&mut station, now, false);
    assert_eq!(at_station.len(), 1);
    assert_eq!(at_station[0].dispositions.len(), 1);
    assert_eq!(at_station[0].dispositions[0].2.outcome, Outcome::Confirmed);
    assert!(verified(&mut station, now).ok());

    // Alerts never go to another car.
    let mut other = _fleet.node("car-2", Role::Vehicle);
    let (o, _) = meet(&mut other, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&o, Collection::Alerts).1, 0, "{o:?}");
}

#[test]
fn misreads_match_by_kind_and_a_bolo_only_exactly() {
    let (_fleet, mut car, _station, mut now) = fleet_with_list(
        "ncic",
        vec![
            entry("ABC1234", Category::StolenVehicle),
            entry("DEF5678", Category::StolenPlate),
            entry("BOLO77", Category::Bolo),
            Entry {
                detail: Detail {
                    priority: Priority::Low,
                    ..Detail::default()
                },
                ..entry("GHI9012", Category::WantedPerson)
            },
        ],
    );
    now = now.saturating_add_millis(60_000);
    record(
        &mut car,
        now,
        vec![
            capture("A8C1234", Some("CA"), &[]),         // B read as 8
            capture("DEF567", Some("NV"), &[]),          // last character lost, other state
            capture("B0L077", Some("CA"), &[]),          // a BOLO: look-alikes do not alert
            capture("XXX999", Some("CA"), &["GHI9012"]), // a candidate matches
        ],
    );
    let all = alerts(&mut car, now, true);
    let by_entry = |p: &str| all.iter().find(|a| a.alert.entry.plate.as_str() == p);
    let look = by_entry("ABC1234").expect("look-alike");
    assert_eq!(look.alert.hit.kind, HitKind::LookAlike { changes: 1 });
    assert_eq!(look.alert.hit.differs.len(), 1);
    assert_eq!(
        (
            look.alert.hit.differs[0].read,
            look.alert.hit.differs[0].entry
        ),
        ('8', 'B')
    );
    let end = by_entry("DEF5678").expect("end missing");
    assert_eq!(end.alert.hit.kind, HitKind::EndMissing);
    assert!(
        end.alert.hit.region_mismatch,
        "NV read, CA entry: flagged, not dropped"
    );
    assert!(by_entry("BOLO77").is_none(), "{all:?}");
    let cand = by_entry("GHI9012").expect("candidate");
    assert!(cand.alert.hit.from_candidate);
    assert_eq!(all.len(), 3);
    // Pending alerts are ordered by priority: the low one comes last.
    assert_eq!(all[2].alert.entry.plate.as_str(), "GHI9012", "{all:?}");
    assert!(all[..2].iter().all(|a| a.priority() == Priority::High));
}

#[test]
fn an_entry_added_today_raises_a_retro_hit_on_yesterdays_read() {
    let (_fleet, mut car, mut station, mut now) =
        fleet_with_list("ncic", vec![entry("ABC1234", Category::StolenVehicle)]);
    record(&mut car, now, vec![capture("RET001", Some("CA"), &[])]);
    assert!(alerts(&mut car, now, true).is_empty());
    now = now.saturating_add_millis(DAY);
    let token = login(&mut station, now);
    station
        .publish_hotlist(
            now,
            token,
            "ncic",
            vec![
                entry("ABC1234", Category::StolenVehicle),
                entry("RET001", Category::StolenVehicle),
            ],
        )
        .unwrap();
    station.logout(now, token).unwrap();
    meet(&mut car, &mut station, &mut now, None).unwrap();
    car.meeting_ended(now, station.node().node_key.id(), Ok((0, 0)))
        .unwrap();
    let retro = alerts(&mut car, now, true);
    assert_eq!(retro.len(), 1, "{retro:?}");
    assert!(retro[0].alert.retro);
    assert_eq!(retro[0].alert.list.version, 2);
    // Met again, nothing is raised twice.
    meet(&mut car, &mut station, &mut now, None).unwrap();
    car.meeting_ended(now, station.node().node_key.id(), Ok((0, 0)))
        .unwrap();
    assert_eq!(alerts(&mut car, now, true).len(), 1);
}

#[test]
fn a_covert_hit_is_logged_but_not_shown_to_an_officer() {
    let fleet = Fleet::new();
    // A station (a fixed camera) administers its own users.
    let mut car = fleet.node("station-1", Role::Station);
    let now = Timestamp(T0);
    let token = login(&mut car, now);
    let mut covert = entry("CVT123", Category::Bolo);
    covert.detail.covert = true;
    car.add_hotlist_entry(now, token, covert).unwrap();
    car.add_user(
        now,
        token,
        NewUser {
            name: "officer".into(),
            role: UserRole::Officer,
            password: "patrol shift two 2026".into(),
            trained_on: Some(Timestamp(T0 - DAY)),
            training_expires: None,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    car.logout(now, token).unwrap();
    record(&mut car, now, vec![capture("CVT123", None, &[])]);
    assert_eq!(
        alerts(&mut car, now, false).len(),
        1,
        "an Administrator sees it"
    );
    let officer = car.login(now, "officer", "patrol shift two 2026").unwrap();
    let seen = car
        .alerts(
            now,
            officer,
            &alert_purpose(),
            AlertFilter {
                pending_only: false,
                limit: 100,
            },
        )
        .unwrap();
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn stale_lists_flag_the_alert() {
    let (_fleet, mut car, _station, mut now) =
        fleet_with_list("ncic", vec![entry("ABC1234", Category::StolenVehicle)]);
    now = now.saturating_add_millis(2 * DAY);
    assert!(car.lists_stale(now));
    record(&mut car, now, vec![capture("ABC1234", None, &[])]);
    let a = alerts(&mut car, now, true);
    assert!(a[0].alert.stale);
    car.set_stale_limit(3 * DAY);
    assert!(!car.lists_stale(now));
}

#[test]
fn the_alert_purge_keeps_what_a_hold_protects() {
    let (_fleet, mut car, mut station, mut now) = fleet_with_list(
        "ncic",
        vec![
            entry("ABC1234", Category::StolenVehicle),
            entry("HLD999", Category::StolenVehicle),
        ],
    );
    let token = login(&mut station, now);
    station
        .set_retention(
            now,
            token,
            Retention {
                alerts_days: 30,
                ..Retention::default()
            },
        )
        .unwrap();
    station.logout(now, token).unwrap();
    meet(&mut car, &mut station, &mut now, None).unwrap();
    record(
        &mut car,
        now,
        vec![capture("ABC1234", None, &[]), capture("HLD999", None, &[])],
    );
    let token = login(&mut car, now);
    let first = alerts(&mut car, now, true);
    let abc = first
        .iter()
        .find(|a| a.alert.plate.as_str() == "ABC1234")
        .unwrap();
    car.dispose_alert(now, token, abc.id, Outcome::Misread, "")
        .unwrap();
    car.place_hold(
        now,
        token,
        NewHold {
            case: "26-0042".into(),
            reason: "stolen motorcycle case".into(),
            scope: HoldScope::Plate {
                plate: PlateText::parse("HLD999").unwrap(),
                from: Timestamp(T0 - DAY),
                to: Timestamp(T0 + DAY),
            },
            expires: None,
        },
    )
    .unwrap();
    car.logout(now, token).unwrap();
    now = now.saturating_add_millis(31 * DAY);
    let token = login(&mut car, now);
    let dry = car.purge(now, PurgeActor::User(token), true).unwrap();
    assert_eq!((dry.alerts_purged, dry.alerts_held), (2, 1), "{dry:?}");
    let report = car.purge(now, PurgeActor::User(token), false).unwrap();
    car.logout(now, token).unwrap();
    assert_eq!(
        (report.alerts_purged, report.alerts_held),
        (2, 1),
        "{report:?}"
    );
    let left = alerts(&mut car, now, false);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].alert.plate.as_str(), "HLD999");

    // The case's evidence carries its alert, and the bundle verifies.
    let token = login(&mut car, now);
    let held = left[0].id;
    car.dispose_alert(now, token, held, Outcome::Confirmed, "recovered")
        .unwrap();
    let mut sink = alpr_engine::evidence::MemorySink::default();
    let manifest = car
        .export_evidence(
            now,
            token,
            &PurposeInput {
                kind: Some("investigation".into()),
                reason: Some("court exhibit".into()),
                case: Some("26-0042".into()),
            },
            "26-0042",
            &mut sink,
        )
        .unwrap();
    car.logout(now, token).unwrap();
    assert_eq!((manifest.reads, manifest.alerts), (1, 2));
    let report = alpr_protocol::bundle::verify(&sink.files, Some(car.node().trust.agency()));
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.alerts, 2);
    // A readable copy altered by hand is caught.
    let mut altered = sink.files.clone();
    let json = altered
        .keys()
        .find(|k| k.starts_with("alerts/") && k.ends_with(".json"))
        .unwrap()
        .clone();
    let text = String::from_utf8(altered[&json].clone()).unwrap();
    altered.insert(json, text.replace("HLD999", "HLD998").into_bytes());
    assert!(!alpr_protocol::bundle::verify(&altered, None).ok());
}
