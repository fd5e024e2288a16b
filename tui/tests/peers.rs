//! The peers and sync screen: each peer's state, last sync and what is
//! pending each way, the selected peer's last failure, the addresses the
//! daemon tries, the revoked nodes, and the node's refusal.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, ErrorKind, PeerAddressWire, PeerWire, RevokedWire,
};
use alpr_protocol::enrollment::Role;
use alpr_protocol::identity::NodeId;
use alpr_protocol::replicate::Collection;
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

const MIN: i64 = 60_000;

fn peer(b: u8, name: &str, role: Role) -> PeerWire {
    PeerWire {
        node: NodeId([b; 32]),
        name: Some(name.into()),
        role: Some(role),
        connected_since: None,
        last_in_sync: Some(Timestamp(NOW.0 - 42 * MIN)),
        meetings: 7,
        failures: 0,
        last_failure: None,
        pending_out: Some(vec![]),
        pending_in: Some(vec![]),
    }
}

fn answered(app: &mut App) {
    let station_1 = PeerWire {
        pending_out: Some(vec![
            (Collection::Reads, 1_873),
            (Collection::AuditEvents, 41),
            (Collection::Alerts, 2),
        ]),
        failures: 3,
        last_failure: Some((
            Timestamp(NOW.0 - 5 * MIN),
            "cannot reach 10.20.0.1:4433: no answer within 5 s".into(),
        )),
        ..peer(1, "station-1", Role::Station)
    };
    let station_2 = PeerWire {
        connected_since: Some(Timestamp(NOW.0 - MIN)),
        pending_in: Some(vec![(Collection::Reads, 0)]),
        ..peer(2, "station-2", Role::Station)
    };
    let car = PeerWire {
        name: None,
        role: None,
        last_in_sync: None,
        meetings: 0,
        pending_out: None,
        pending_in: None,
        ..peer(3, "?", Role::Vehicle)
    };
    app.update(Msg::Answer(
        Asked::Peers,
        Ok(ControlResponse::Peers {
            peers: vec![station_1, station_2, car],
            addresses: vec![PeerAddressWire {
                address: "10.20.0.1:4433".into(),
                last_try: Timestamp(NOW.0 - 5 * MIN),
                last_met: Some((NodeId([1; 32]), Timestamp(NOW.0 - 42 * MIN))),
                last_failure: Some((
                    Timestamp(NOW.0 - 5 * MIN),
                    "cannot reach 10.20.0.1:4433: no answer within 5 s".into(),
                )),
            }],
            revoked: vec![RevokedWire {
                node: NodeId([4; 32]),
                name: "car-07".into(),
                reason: "stolen from the lot".into(),
                by: "chief".into(),
                at: Timestamp(NOW.0 - 3 * 86_400_000),
            }],
        }),
    ));
}

#[test]
fn the_peers_screen_at_80x24_and_wide() {
    let mut app = logged_in();
    let effects = key(&mut app, Key::Char('p'));
    assert_eq!(app.screen, Screen::Peers);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(Asked::Peers, ControlRequest::Peers { .. })]
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        asking the node for its peers…





















         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
    answered(&mut app);
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Peers and sync: 3 ───────────────────────────────────────────────────────────┐
        │peer               role    state   last sync   to send r/a/al  to take r/a/al │
        │station-1          station FAILED  42 min ago  1873/41/2       none           │
        │station-2          station meeting 42 min ago  none            none           │
        │0303030303030303   ?       idle    never       ?               ?              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Selected ────────────────────────────────────────────────────────────────────┐
        │station-1: last failed 2026-11-30 00:48:20: cannot reach 10.20.0.1:4433: no   │
        │answer within 5 s                                                             │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Addresses this node tries ───────────────────────────────────────────────────┐
        │10.20.0.1:4433: met 0101010101010101 42 min ago                               │
        │  FAILED 5 min ago: cannot reach 10.20.0.1:4433: no answer within 5 s         │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Revoked nodes (refused as peers) ────────────────────────────────────────────┐
        │node           revoked    by           reason                                 │
        │car-07         2026-11-27 chief        stolen from the lot                    │
        └──────────────────────────────────────────────────────────────────────────────┘

         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Peers and sync: 3 ───────────────────────────────────────────────────────────────────────────────────────────────────┐
        │peer                                                       role    state   last sync   to send r/a/al  to take r/a/al │
        │station-1                                                  station FAILED  42 min ago  1873/41/2       none           │
        │station-2                                                  station meeting 42 min ago  none            none           │
        │0303030303030303                                           ?       idle    never       ?               ?              │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
        ┌ Selected ────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
        │station-1: last failed 2026-11-30 00:48:20: cannot reach 10.20.0.1:4433: no answer within 5 s                         │
        │                                                                                                                      │
        └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
        ┌ Addresses this node tries ───────────────────────────────────────────────────────────────────────────────────────────┐
        │10.20.0.1:4433: met 0101010101010101 42 min ago                                                                       │
        │  FAILED 5 min ago: cannot reach 10.20.0.1:4433: no answer within 5 s                                                 │
        └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
        ┌ Revoked nodes (refused as peers) ────────────────────────────────────────────────────────────────────────────────────┐
        │node           revoked    by           reason                                                                         │
        │car-07         2026-11-27 chief        stolen from the lot                                                            │
        └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘

         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
}

#[test]
fn choosing_a_peer_shows_its_last_meetings() {
    let mut app = logged_in();
    key(&mut app, Key::Char('p'));
    answered(&mut app);
    key(&mut app, Key::Down);
    key(&mut app, Key::Down);
    key(&mut app, Key::Down);
    assert_eq!(app.peers.selected, 2, "the cursor stops at the last peer");
    key(&mut app, Key::Up);
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Peers and sync: 3 ───────────────────────────────────────────────────────────┐
        │peer               role    state   last sync   to send r/a/al  to take r/a/al │
        │station-1          station FAILED  42 min ago  1873/41/2       none           │
        │station-2          station meeting 42 min ago  none            none           │
        │0303030303030303   ?       idle    never       ?               ?              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Selected ────────────────────────────────────────────────────────────────────┐
        │station-2 (0202020202020202): 7 meetings since the node started, none failed  │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Addresses this node tries ───────────────────────────────────────────────────┐
        │10.20.0.1:4433: met 0101010101010101 42 min ago                               │
        │  FAILED 5 min ago: cannot reach 10.20.0.1:4433: no answer within 5 s         │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Revoked nodes (refused as peers) ────────────────────────────────────────────┐
        │node           revoked    by           reason                                 │
        │car-07         2026-11-27 chief        stolen from the lot                    │
        └──────────────────────────────────────────────────────────────────────────────┘

         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
    // r asks again; Esc goes back to the dashboard.
    assert!(matches!(
        key(&mut app, Key::Char('r')).as_slice(),
        [Effect::Send(Asked::Peers, ControlRequest::Peers { .. })]
    ));
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Dashboard);
}

#[test]
fn no_peer_yet_and_a_refusal() {
    let mut app = logged_in();
    key(&mut app, Key::Char('p'));
    app.update(Msg::Answer(
        Asked::Peers,
        Ok(ControlResponse::Peers {
            peers: vec![],
            addresses: vec![],
            revoked: vec![],
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Peers and sync: 0 ───────────────────────────────────────────────────────────┐
        │no peer met yet                                                               │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Selected ────────────────────────────────────────────────────────────────────┐
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Revoked nodes (refused as peers) ────────────────────────────────────────────┐
        │no node revoked                                                               │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
    app.update(Msg::Answer(
        Asked::Peers,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "user 'jdoe' has no current training on record".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Peers and sync ──────────────────────────────────────────────────────────────┐
        │refused: user 'jdoe' has no current training on record                        │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         ↑↓  choose  r  refresh  Esc  back
    "#]],
    );
}

#[test]
fn logging_out_forgets_the_peers() {
    let mut app = logged_in();
    key(&mut app, Key::Char('p'));
    answered(&mut app);
    key(&mut app, Key::Esc);
    key(&mut app, Key::Char('l'));
    assert_eq!(app.screen, Screen::Login);
    assert!(app.peers.peers.is_empty() && !app.peers.asked);
}
