//! The audit screen: the access log with its filters, the outcome filter,
//! the node's verification, and a refusal for a role that may not see it.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::{AuditEventWire, ControlRequest, ControlResponse, ErrorKind};
use alpr_protocol::identity::NodeId;
use alpr_protocol::record::{Action, Outcome};
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

fn event(seq: u64, user: &str, action: Action, object: &str, outcome: Outcome) -> AuditEventWire {
    AuditEventWire {
        origin: NodeId([7; 32]),
        seq,
        time: Timestamp(NOW.0 - (100 - seq as i64) * 60_000),
        user: user.into(),
        action,
        object: object.into(),
        purpose: (action == Action::Search).then(|| "investigation: stolen vehicle".into()),
        case: (action == Action::Search).then(|| "26-4411".into()),
        outcome,
    }
}

fn answered(app: &mut App) {
    app.update(Msg::Answer(
        Asked::AuditLog,
        Ok(ControlResponse::AuditLog {
            events: vec![
                event(
                    9,
                    "ofc-ruiz",
                    Action::Search,
                    "search plate 8XYZ001: 2 matches",
                    Outcome::Success,
                ),
                event(
                    8,
                    "ofc-ruiz",
                    Action::ViewRead,
                    "read 0707070707070707/41",
                    Outcome::Success,
                ),
                event(
                    7,
                    "ofc-lee",
                    Action::Search,
                    "search plate 7ABC123",
                    Outcome::Refused("training expired on 2026-10-01".into()),
                ),
                event(6, "chief", Action::Login, "console", Outcome::Success),
            ],
            total: 4,
            damaged: 0,
        }),
    ));
}

#[test]
fn the_audit_log_at_80x24_and_wide() {
    let mut app = logged_in();
    let effects = app.update(Msg::Key(Key::Char('a')));
    assert_eq!(app.screen, Screen::Audit);
    let [Effect::Send(Asked::AuditLog, ControlRequest::AuditLog { filter, limit, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*filter, Default::default());
    assert_eq!(*limit, 500);
    answered(&mut app);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Audit log: filters ──────────────────────────────────────────────────────────┐
            │user               action any            outcome any                          │
            │text                 case                                                     │
            │from                   to                   (UTC)                             │
            └──────────────────────────────────────────────────────────────────────────────┘
            chain not verified in this session (V in the table verifies)
            ┌ 4 of 4 matching ─────────────────────────────────────────────────────────────┐
            │time (UTC)          user       action        outcome  object                  │
            │2026-11-29 23:22:20 ofc-ruiz   search        ok       search plate 8XYZ001: 2 │
            │2026-11-29 23:21:20 ofc-ruiz   view read     ok       read 0707070707070707/41│
            │2026-11-29 23:20:20 ofc-lee    search        refused  search plate 7ABC123    │
            │2026-11-29 23:19:20 chief      login         ok       console                 │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            object   search plate 8XYZ001: 2 matches
            purpose  investigation: stolen vehicle · case 26-4411
            outcome  success

             Tab  next filter  Space  change  Enter  query  Esc  back
        "#]],
    );
    check(
        &app,
        140,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Audit log: filters ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │user               action any            outcome any                                                                                      │
            │text                 case                                                                                                                 │
            │from                   to                   (UTC)                                                                                         │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            chain not verified in this session (V in the table verifies)
            ┌ 4 of 4 matching ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │time (UTC)          user       action        purpose                        case       outcome                            object          │
            │2026-11-29 23:22:20 ofc-ruiz   search        investigation: stolen vehicle  26-4411    ok                                 search plate 8XY│
            │2026-11-29 23:21:20 ofc-ruiz   view read                                               ok                                 read 07070707070│
            │2026-11-29 23:20:20 ofc-lee    search        investigation: stolen vehicle  26-4411    refused: training expired on 2026- search plate 7AB│
            │2026-11-29 23:19:20 chief      login                                                   ok                                 console         │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            │                                                                                                                                          │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘

             Tab  next filter  Space  change  Enter  query  Esc  back
        "#]],
    );
}

#[test]
fn filters_are_sent_to_the_node_and_the_outcome_narrows_the_table() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('a')));
    answered(&mut app);
    typed(&mut app, "ofc-ruiz");
    app.update(Msg::Key(Key::Tab));
    // Any, login, login failed, lockout, logout, search.
    for _ in 0..5 {
        app.update(Msg::Key(Key::Right));
    }
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "8XYZ");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "26-4411");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "2026-11-29");
    let effects = app.update(Msg::Key(Key::Enter));
    let [Effect::Send(Asked::AuditLog, ControlRequest::AuditLog { filter, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(filter.user.as_deref(), Some("ofc-ruiz"));
    assert_eq!(filter.action, Some(Action::Search));
    assert_eq!(filter.contains.as_deref(), Some("8XYZ"));
    assert_eq!(filter.case.as_deref(), Some("26-4411"));
    assert!(filter.from.is_some() && filter.to.is_none());
    // A time the form cannot read is refused before anything is sent.
    typed(&mut app, "x");
    assert!(app.update(Msg::Key(Key::Enter)).is_empty());
    assert!(screen(&app, 80, 24).contains("is not a time"));
    app.update(Msg::Key(Key::Backspace));
    // The outcome filter: refused or failed only.
    app.update(Msg::Key(Key::Tab));
    app.update(Msg::Key(Key::Tab));
    app.update(Msg::Key(Key::Right));
    app.update(Msg::Key(Key::Right));
    answered(&mut app);
    let shown = screen(&app, 140, 30);
    assert!(shown.contains("1 of 4 matching"), "{shown}");
    assert!(shown.contains("training expired"), "{shown}");
    assert!(!shown.contains("read 0707070707070707/41"), "{shown}");
}

#[test]
fn verification_and_refusals_are_shown_as_the_node_says() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('a')));
    answered(&mut app);
    // V verifies from the table.
    app.update(Msg::Key(Key::BackTab));
    let effects = app.update(Msg::Key(Key::Char('V')));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::SendLong(
                Asked::Verify,
                ControlRequest::Verify { .. }
            )]
        ),
        "{effects:?}"
    );
    assert!(screen(&app, 80, 24).contains("verifying every record and chain"));
    // The node says how far it is.
    app.update(Msg::Progress(
        Asked::Verify,
        "reads".into(),
        2048,
        Some(5123),
    ));
    assert!(screen(&app, 80, 24).contains("verifying reads: 2048 of 5123 (39%)… (Esc cancels)"));
    app.update(Msg::Answer(
        Asked::Verify,
        Ok(ControlResponse::Verified {
            reads: 5123,
            images: 5000,
            audit_events: 812,
            failures: vec!["audit chain of 0707070707070707 breaks at seq 77".into()],
            cancelled: false,
        }),
    ));
    let shown = screen(&app, 140, 30);
    assert!(
        shown.contains("VERIFICATION FAILED (1): audit chain of 0707070707070707 breaks at seq 77"),
        "{shown}"
    );
    // An officer may not read the log: the node refuses, the screen says so.
    app.update(Msg::Key(Key::Tab));
    app.update(Msg::Answer(
        Asked::AuditLog,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "role officer may not read the audit log".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Audit log: filters ──────────────────────────────────────────────────────────┐
            │user               action any            outcome any                          │
            │text                 case                                                     │
            │from                   to                   (UTC)                             │
            └──────────────────────────────────────────────────────────────────────────────┘
            VERIFICATION FAILED (1): audit chain of 0707070707070707 breaks at seq 77
            ┌ 4 of 4 matching ─────────────────────────────────────────────────────────────┐
            │refused: role officer may not read the audit log                              │
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

             Tab  next filter  Space  change  Enter  query  Esc  back
        "#]],
    );
}

#[test]
fn esc_cancels_a_verification_and_the_screen_says_so() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('a')));
    answered(&mut app);
    app.update(Msg::Key(Key::BackTab));
    app.update(Msg::Key(Key::Char('V')));
    app.update(Msg::Progress(
        Asked::Verify,
        "audit events".into(),
        1024,
        None,
    ));
    assert!(screen(&app, 80, 24).contains("verifying audit events: 1024… (Esc cancels)"));
    // While it runs, keys other than Esc do nothing; Esc cancels once.
    assert!(app.update(Msg::Key(Key::Char('V'))).is_empty());
    assert_eq!(app.update(Msg::Key(Key::Esc)), vec![Effect::Cancel]);
    assert!(app.update(Msg::Key(Key::Esc)).is_empty());
    assert_eq!(app.screen, Screen::Audit);
    assert!(screen(&app, 80, 24).contains("cancelling the verification"));
    // The connection closed under the request: that was the cancel.
    app.update(Msg::Answer(
        Asked::Verify,
        Err("the node closed the connection".into()),
    ));
    assert!(!app.audit.verifying);
    assert!(screen(&app, 80, 24).contains("verification cancel sent"));
    // A node that stopped at the cancel and answered says what it checked.
    app.update(Msg::Key(Key::Char('V')));
    app.update(Msg::Answer(
        Asked::Verify,
        Ok(ControlResponse::Verified {
            reads: 3072,
            images: 0,
            audit_events: 0,
            failures: vec![],
            cancelled: true,
        }),
    ));
    assert!(
        screen(&app, 80, 24).contains("verification CANCELLED: 0 failures in what was checked")
    );
}

/// The idle lock, or leaving, while the node verifies cancels it, and its
/// late answer never reaches the next user.
#[test]
fn the_idle_lock_while_the_node_verifies_cancels_it_and_drops_its_answer() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('a')));
    answered(&mut app);
    app.update(Msg::Key(Key::BackTab));
    app.update(Msg::Key(Key::Char('V')));
    app.update(Msg::Tick(alpr_protocol::Timestamp(1_000)));
    let effects = app.update(Msg::Tick(alpr_protocol::Timestamp(1_000 + 15 * 60_000)));
    assert_eq!(effects.first(), Some(&Effect::Cancel), "{effects:?}");
    assert_eq!(app.screen, Screen::Login);
    // The next user logs in; the old verify's answer arrives and is dropped.
    let next = logged_in();
    app.session = next.session;
    app.update(Msg::Answer(
        Asked::Verify,
        Ok(ControlResponse::Verified {
            reads: 1,
            images: 1,
            audit_events: 1,
            failures: vec!["audit chain broken".into()],
            cancelled: false,
        }),
    ));
    assert_eq!(app.audit.verification, None);
    // Leaving (Ctrl-C) while the node verifies cancels it before logging out.
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('a')));
    answered(&mut app);
    app.update(Msg::Key(Key::BackTab));
    app.update(Msg::Key(Key::Char('V')));
    let effects = app.update(Msg::Key(Key::Interrupt));
    assert!(
        matches!(
            effects.as_slice(),
            [
                Effect::Cancel,
                Effect::Send(Asked::Logout, ControlRequest::Logout { .. }),
                Effect::Quit
            ]
        ),
        "{effects:?}"
    );
}
