//! Engines meeting in memory, on a simulated clock: the node's whole half of
//! replication (verify, store, hotlists, policy) through `Replica`, with no
//! transport, the way quinn-proto's tests pair two connections. A shift
//! reaches the station and no other car, a purged prefix leaves a gap the
//! station accepts, a forged record refuses its batch, and two stations'
//! policy edits merge the same on both.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

mod fleet;

use alpr_engine::engine::replica::ReplicaError;
use alpr_engine::engine::{Engine, NewUser, PurgeActor};
use alpr_engine::policy::UserRole;
use alpr_protocol::replicate::{Collection, SyncMessage};
use alpr_protocol::{Capture, PlateText, Role, Timestamp};
use fleet::*;

/// Imports reads of these plates, one a minute from `from`, as the node's Administrator.
fn shift(e: &mut Engine, from: Timestamp, plates: &[String]) {
    let token = login(e, from);
    let reads: Vec<(Timestamp, Capture)> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                from.saturating_add_millis(i as i64 * 60_000),
                Capture {
                    plate: PlateText::parse(p).unwrap(),
                    region: None,
                    confidence: 0.9,
                    char_confidences: vec![0.9; p.len()],
                    camera: "front".into(),
                    location: None,
                    fix: Default::default(),
                    crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
                    overview_jpeg: None,
                    candidates: Vec::new(),
                },
            )
        })
        .collect();
    e.import(from, token, "shift", std::iter::once(reads), |_| true)
        .unwrap();
    e.logout(from, token).unwrap();
}

fn plates(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:04}")).collect()
}

#[test]
fn a_shift_reaches_the_station_and_no_other_car() {
    let fleet = Fleet::new();
    let mut car = fleet.node("car-1", Role::Vehicle);
    let mut other = fleet.node("car-2", Role::Vehicle);
    let mut station = fleet.node("station-1", Role::Station);
    let mut now = Timestamp(T0);
    shift(&mut car, now, &plates("SH", 300));
    now = now.saturating_add_millis(DAY);

    let (c, s) = meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&c, Collection::Reads).0, 300, "{c:?}");
    assert_eq!(count(&s, Collection::Reads), (0, 300, 300), "{s:?}");
    assert!(
        count(&s, Collection::AuditEvents).2 > 0,
        "the car's audit chain too"
    );
    assert_eq!(station.node().store.index_counts().unwrap().0, 300);
    assert!(verified(&mut station, now).ok());

    // Meeting again moves nothing; a car never receives another car's reads.
    let (c, s) = meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&c, Collection::Reads).0, 0);
    assert_eq!(count(&s, Collection::Reads).1, 0);
    let (o, _) = meet(&mut other, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&o, Collection::Reads).1, 0, "{o:?}");
    assert_eq!(other.node().store.index_counts().unwrap().0, 0);
}

#[test]
fn a_purged_prefix_leaves_a_gap_the_station_accepts() {
    let fleet = Fleet::new();
    let mut car = fleet.node("car-1", Role::Vehicle);
    let mut station = fleet.node("station-1", Role::Station);
    // Reads a year and a quarter ago, and a week ago.
    let old = Timestamp(T0 - 380 * DAY);
    shift(&mut car, old, &plates("OLD", 40));
    let recent = Timestamp(T0 - 7 * DAY);
    shift(&mut car, recent, &plates("NEW", 20));
    let mut now = Timestamp(T0);
    // The car purges the old ones (365 days by default) before it meets a station.
    let report = car.purge(now, PurgeActor::Schedule, false).unwrap();
    assert_eq!(report.purged, 40, "{report:?}");

    let (_, s) = meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&s, Collection::Reads).2, 20, "{s:?}");
    let me = car.node().node_key.id();
    let mark = station
        .node()
        .store
        .vector(Collection::Reads)
        .unwrap()
        .mark(&me);
    assert_eq!(mark.contiguous, 60, "the gap counts as held: {mark:?}");
    assert!(verified(&mut station, now).ok());
    // And the station asks for nothing more of it.
    let (c, _) = meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(count(&c, Collection::Reads).0, 0);
}

#[test]
fn a_forged_record_refuses_its_batch_and_stores_nothing_of_it() {
    let fleet = Fleet::new();
    let mut car = fleet.node("car-1", Role::Vehicle);
    let mut station = fleet.node("station-1", Role::Station);
    let mut now = Timestamp(T0);
    shift(&mut car, now, &plates("FG", 10));
    // A byte of the fourth read's sealed body flipped on the way.
    let mut forge = |m: &mut SyncMessage| {
        if let SyncMessage::Batch(b) = m
            && b.collection == Collection::Reads
            && let Some(r) = b.records.get_mut(3)
        {
            let at = r.envelope.len() - 80;
            r.envelope[at] ^= 0x01;
        }
    };
    let err = meet(&mut car, &mut station, &mut now, Some(&mut forge)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ReplicaError::BadRecord(_)), "{err:?}");
    assert!(text.contains("/4"), "the record is named: {text}");
    assert_eq!(
        station.node().store.index_counts().unwrap().0,
        0,
        "the batch is refused whole"
    );
    // Untouched, the same records go through.
    meet(&mut car, &mut station, &mut now, None).unwrap();
    assert_eq!(station.node().store.index_counts().unwrap().0, 10);
}

#[test]
fn two_stations_policy_edits_merge_the_same_on_both() {
    let fleet = Fleet::new();
    let mut north = fleet.node("station-north", Role::Station);
    let mut south = fleet.node("station-south", Role::Station);
    let mut car = fleet.node("car-1", Role::Vehicle);
    let mut now = Timestamp(T0);
    for (e, name) in [(&mut north, "officer-n"), (&mut south, "officer-s")] {
        let token = login(e, now);
        e.add_user(
            now,
            token,
            NewUser {
                name: name.into(),
                role: UserRole::Officer,
                password: "night shift district 4".into(),
                trained_on: Some(Timestamp(T0 - DAY)),
                training_expires: None,
            },
        )
        .unwrap();
        e.logout(now, token).unwrap();
    }
    let (n, s) = meet(&mut north, &mut south, &mut now, None).unwrap();
    assert!(n.policy_changed && s.policy_changed, "{n:?} {s:?}");
    assert_eq!(north.policy_heads(), south.policy_heads());
    for e in [&north, &south] {
        let users = &e.policy().users;
        assert!(users.contains_key("officer-n") && users.contains_key("officer-s"));
    }
    // A car that meets one station learns both users.
    meet(&mut car, &mut south, &mut now, None).unwrap();
    assert!(car.policy().users.contains_key("officer-n"));
    assert!(
        car.login(now, "officer-n", "night shift district 4")
            .is_ok()
    );
}
