//! The console's idle lock: after the node's idle limit without a key it
//! logs out, closes a live view and goes back to login, saying why; a key
//! starts the count again; logged out, nothing counts.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::ControlRequest;
use alpr_tui::app::{Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

const MIN: i64 = 60_000;

fn at(minutes: i64) -> Msg {
    Msg::Tick(Timestamp(NOW.0 + minutes * MIN))
}

#[test]
fn the_console_locks_at_the_node_s_idle_limit_and_a_key_restarts_the_count() {
    // The node's status says sessions lock after 15 idle minutes.
    let mut app = logged_in();
    assert!(app.update(at(0)).is_empty());
    assert!(app.update(at(14)).is_empty());
    // A key at minute 14 starts the count again from the next tick.
    key(&mut app, Key::Char('r'));
    assert!(app.update(at(14)).is_empty());
    assert!(app.update(at(28)).is_empty());
    assert_eq!(app.screen, Screen::Dashboard);
    let effects = app.update(Msg::Tick(Timestamp(NOW.0 + 29 * MIN + 1)));
    assert_eq!(
        effects,
        vec![Effect::Send(
            Asked::Logout,
            ControlRequest::Logout { token: [3; 32] }
        )]
    );
    assert_eq!(app.screen, Screen::Login);
    assert!(app.session.is_none() && app.dashboard.is_none());
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · /var/lib/alpr/car-12






                      ┌ Log in ──────────────────────────────────────────────────┐
                      │Authorized, trained users only. Every access is logged.   │
                      │                                                          │
                      │      user  chief                                         │
                      │  password                                                │
                      │                                                          │
                      │                                                          │
                      │                                                          │
                      └──────────────────────────────────────────────────────────┘






            locked after 15 min without a key: log in again
             Tab  next field  Enter  log in  Esc  quit
        "#]],
    );
    // Logged out, time passes without effect.
    assert!(app.update(at(500)).is_empty());
}

#[test]
fn a_live_view_left_unattended_is_closed_when_the_console_locks() {
    let mut app = logged_in();
    key(&mut app, Key::Char('v'));
    typed(&mut app, "patrol");
    key(&mut app, Key::Enter);
    app.update(Msg::LiveOpened(Ok(())));
    assert!(app.live.open);
    app.update(at(0));
    // Reads arriving are not a key: watching is not activity (as the node counts it).
    app.update(Msg::Live(vec![], 0));
    let effects = app.update(at(15));
    assert_eq!(effects.first(), Some(&Effect::Unsubscribe), "{effects:?}");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Send(Asked::Logout, _)))
    );
    assert_eq!(app.screen, Screen::Login);
    assert!(!app.live.open);
}
