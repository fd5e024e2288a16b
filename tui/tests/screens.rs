//! The console's screens, rendered with ratatui's TestBackend at 80x24 and
//! at a wide size, in their main states (refusals included), and the
//! model's update: what each key and answer does.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::control::{ControlRequest, ControlResponse, ErrorKind};
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

#[test]
fn login_sends_the_typed_user_and_password_and_never_shows_the_password() {
    let mut app = App::new("/var/lib/alpr/car-12");
    assert!(typed(&mut app, "chief").is_empty());
    app.update(Msg::Key(Key::Enter));
    typed(&mut app, "pw1x");
    app.update(Msg::Key(Key::Backspace));
    let effects = app.update(Msg::Key(Key::Enter));
    let [Effect::Send(Asked::Login, ControlRequest::Login { user, password, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!((user.as_str(), password.as_str()), ("chief", "pw1"));
    assert!(!screen(&app, 80, 24).contains("pw1"));
    // While the node answers, keys are not taken.
    assert!(app.update(Msg::Key(Key::Enter)).is_empty());
}

#[test]
fn the_login_screen_at_80x24_and_wide() {
    let mut app = App::new("/var/lib/alpr/car-12");
    typed(&mut app, "chief");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "secret");
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
                      │  password  ••••••                                        │
                      │                                                          │
                      │                                                          │
                      │                                                          │
                      └──────────────────────────────────────────────────────────┘







             Tab  next field  Enter  log in  Esc  quit
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · /var/lib/alpr/car-12









                                          ┌ Log in ──────────────────────────────────────────────────┐
                                          │Authorized, trained users only. Every access is logged.   │
                                          │                                                          │
                                          │      user  chief                                         │
                                          │  password  ••••••                                        │
                                          │                                                          │
                                          │                                                          │
                                          │                                                          │
                                          └──────────────────────────────────────────────────────────┘










             Tab  next field  Enter  log in  Esc  quit
        "#]],
    );
}

#[test]
fn a_refused_login_says_why_and_clears_the_password() {
    let mut app = App::new("/var/lib/alpr/car-12");
    typed(&mut app, "rookie");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "whatever1");
    app.update(Msg::Key(Key::Enter));
    app.update(Msg::Answer(
        Asked::Login,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Login,
            message: "rookie has no current ALPR training on record (policy III.A.1)".into(),
        }),
    ));
    assert!(app.login.password.is_empty());
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · /var/lib/alpr/car-12






                      ┌ Log in ──────────────────────────────────────────────────┐
                      │Authorized, trained users only. Every access is logged.   │
                      │                                                          │
                      │      user  rookie                                        │
                      │  password                                                │
                      │                                                          │
                      │refused: rookie has no current ALPR training on record    │
                      │(policy III.A.1)                                          │
                      └──────────────────────────────────────────────────────────┘







             Tab  next field  Enter  log in  Esc  quit
        "#]],
    );
}

#[test]
fn the_dashboard_at_80x24_and_wide() {
    let app = logged_in();
    assert_eq!(app.screen, Screen::Dashboard);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            alerts     2 PENDING
            hotlists   STALE: brought up to date 30 h ago
            capture    front 24.5 fps
            retention  365 d reads, 365 plate images, 90 overviews, 1095 audit, 365 alerts
            reads      5123 stored · 1 standing hold · purge next at 2026-11-30T01:23:20Z
            audit      OVERDUE: no signed audit of 2026Q3
            disk       40.0 GiB free, database 300.0 MiB   certificate EXPIRES in 20 days

            ┌ Peers ───────────────────────────────┐┌ Hotlists ────────────────────────────┐
            │peer                      last sync   ││list              version published   │
            │station-1                 3 h ago     ││ncic-stolen       42      30 h ago    │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            │                                      ││                                      │
            └──────────────────────────────────────┘└──────────────────────────────────────┘

             v live  s find  h lists  a audit  m admin  p peers  r refresh  l logout  q quit
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            alerts     2 PENDING
            hotlists   STALE: brought up to date 30 h ago
            capture    front 24.5 fps
            retention  365 d reads, 365 plate images, 90 overviews, 1095 audit, 365 alerts
            reads      5123 stored · 1 standing hold · purge next at 2026-11-30T01:23:20Z
            audit      OVERDUE: no signed audit of 2026Q3
            disk       40.0 GiB free, database 300.0 MiB   certificate EXPIRES in 20 days

            ┌ Peers ───────────────────────────────────────────────────┐┌ Hotlists ────────────────────────────────────────────────┐
            │peer                                          last sync   ││list                                  version published   │
            │station-1                                     3 h ago     ││ncic-stolen                           42      30 h ago    │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            │                                                          ││                                                          │
            └──────────────────────────────────────────────────────────┘└──────────────────────────────────────────────────────────┘

             v  live  s  find  h  lists  a  audit  m  admin  p  peers  r  refresh  l  logout  q  quit
        "#]],
    );
}

#[test]
fn a_locked_session_goes_back_to_login_and_leaving_logs_out() {
    let mut app = logged_in();
    let effects = app.update(Msg::Key(Key::Char('r')));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(Asked::Status, _)]
    ));
    app.update(Msg::Answer(
        Asked::Status,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Session,
            message: "the session locked after 15 idle minutes".into(),
        }),
    ));
    assert_eq!(app.screen, Screen::Login);
    assert!(app.session.is_none());
    assert!(
        screen(&app, 80, 24).contains("the session locked after 15 idle minutes: log in again")
    );
    assert_eq!(app.login.user, "chief", "the name stays for the next login");

    let mut app = logged_in();
    let effects = app.update(Msg::Key(Key::Char('q')));
    assert!(
        matches!(
            effects.as_slice(),
            [
                Effect::Send(Asked::Logout, ControlRequest::Logout { .. }),
                Effect::Quit
            ]
        ),
        "{effects:?}"
    );
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('l')));
    assert_eq!(app.screen, Screen::Login);
    assert!(screen(&app, 80, 24).contains("logged out"));
}

#[test]
fn the_live_view_asks_a_purpose_then_shows_reads_and_alerts_by_priority() {
    use alpr_protocol::control::EventWire;
    use alpr_protocol::hotlist::Priority;
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('v')));
    assert_eq!(app.screen, Screen::LivePurpose);
    // No reason, no view.
    assert!(app.update(Msg::Key(Key::Enter)).is_empty());
    assert!(screen(&app, 80, 24).contains("say why you watch live reads"));
    let effects = typed(&mut app, "patrol, district 4");
    assert!(effects.is_empty());
    let effects = app.update(Msg::Key(Key::Enter));
    let [Effect::Subscribe(_, purpose)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(purpose.reason.as_deref(), Some("patrol, district 4"));
    app.update(Msg::LiveOpened(Ok(())));
    assert_eq!(app.screen, Screen::Live);
    let bell = app.update(Msg::Live(
        vec![
            EventWire::Read(read("7ABC123", 1, NOW.0 - 5_000)),
            EventWire::Read(read("8XYZ001", 2, NOW.0 - 2_000)),
            alert("8XYZ001", 1, Priority::Normal),
        ],
        0,
    ));
    assert_eq!(bell, [Effect::Bell]);
    // Muted: a normal alert rings no bell, a high one still does.
    app.update(Msg::Key(Key::Char('m')));
    assert!(
        app.update(Msg::Live(vec![alert("5KLM333", 2, Priority::Low)], 0))
            .is_empty()
    );
    assert_eq!(
        app.update(Msg::Live(vec![alert("6TRS818", 3, Priority::High)], 3)),
        [Effect::Bell]
    );
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Alerts: 3 pending (muted) ───────────────────────────────────────────────────┐
            │HIGH   6TRS818    exact on ncic-stolen (6TRS818 CA stolen-vehicle)  PENDING   │
            │NORMAL 8XYZ001    exact on ncic-stolen (8XYZ001 CA stolen-vehicle)  PENDING   │
            │LOW    5KLM333    exact on ncic-stolen (5KLM333 CA stolen-vehicle)  PENDING   │
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌ Reads (LIVE: 2, 3 missed) ───────────────────────────────────────────────────┐
            │time      plate       conf  region  camera                                    │
            │00:53:18  8XYZ001     97%   CA      front                                     │
            │00:53:15  7ABC123     97%   CA      front                                     │
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

             m  unmute  ↑↓ Enter  dispose  Esc  back
        "#]],
    );
    let effects = app.update(Msg::Key(Key::Esc));
    assert!(
        matches!(effects.first(), Some(Effect::Unsubscribe)),
        "{effects:?}"
    );
    assert_eq!(app.screen, Screen::Dashboard);
    // The view the user left ends with its connection: no notice for that.
    app.update(Msg::LiveEnded("the node closed the connection".into()));
    assert_eq!(app.notice, None);
    // One the node ends while open is said.
    app.update(Msg::LiveOpened(Ok(())));
    app.update(Msg::LiveEnded(
        "session locked after 15 idle minutes".into(),
    ));
    assert_eq!(
        app.notice.as_deref(),
        Some("live view closed: session locked after 15 idle minutes")
    );
}

/// More alerts than the pane's six lines: the pane follows the selection
/// and says which of them it shows.
#[test]
fn the_alert_pane_scrolls_with_the_selection() {
    use alpr_protocol::hotlist::Priority;
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('v')));
    typed(&mut app, "patrol");
    app.update(Msg::Key(Key::Enter));
    app.update(Msg::LiveOpened(Ok(())));
    let plates = [
        "1AAA111", "2BBB222", "3CCC333", "4DDD444", "5EEE555", "6FFF666", "7GGG777", "8HHH888",
        "9JJJ999",
    ];
    let events = plates
        .iter()
        .enumerate()
        .map(|(i, p)| alert(p, i as u64 + 1, Priority::Normal))
        .collect();
    app.update(Msg::Live(events, 0));
    let top = screen(&app, 80, 24);
    assert!(top.contains("1-6 of 9"), "{top}");
    for _ in 0..7 {
        app.update(Msg::Key(Key::Down));
    }
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Alerts: 9 pending, 3-8 of 9 ─────────────────────────────────────────────────┐
        │NORMAL 7GGG777    exact on ncic-stolen (7GGG777 CA stolen-vehicle)  PENDING   │
        │NORMAL 6FFF666    exact on ncic-stolen (6FFF666 CA stolen-vehicle)  PENDING   │
        │NORMAL 5EEE555    exact on ncic-stolen (5EEE555 CA stolen-vehicle)  PENDING   │
        │NORMAL 4DDD444    exact on ncic-stolen (4DDD444 CA stolen-vehicle)  PENDING   │
        │NORMAL 3CCC333    exact on ncic-stolen (3CCC333 CA stolen-vehicle)  PENDING   │
        │NORMAL 2BBB222    exact on ncic-stolen (2BBB222 CA stolen-vehicle)  PENDING   │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Reads (LIVE: 0) ─────────────────────────────────────────────────────────────┐
        │time      plate       conf  region  camera                                    │
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

         m  mute (not high priority)  ↑↓ Enter  dispose  Esc  back
    "#]],
    );
    // Back up past the window's top: it follows.
    for _ in 0..7 {
        app.update(Msg::Key(Key::Up));
    }
    assert!(screen(&app, 80, 24).contains("1-6 of 9"));
    // To the end and no further.
    for _ in 0..20 {
        app.update(Msg::Key(Key::Down));
    }
    assert!(screen(&app, 80, 24).contains("4-9 of 9"));
}
