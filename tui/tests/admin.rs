//! The administration screens: the menu; users and training (the list,
//! adding one, each edit); login limits and retention; holds and the
//! export of a case; requests, decisions and releases. Each at 80x24 and
//! wide, with the node's refusals as it words them, the requests the
//! forms make, and nothing sent while a required field is empty.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, DecisionWire, ErrorKind, HoldScopeWire, HoldWire,
    PurposeKindWire, RequestWire, RoleWire, UserEditWire, UserWire,
};
use alpr_protocol::identity::NodeId;
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

const DAY: i64 = 86_400_000;

fn refused(message: &str) -> Result<ControlResponse, String> {
    Ok(ControlResponse::Error {
        kind: ErrorKind::Refused,
        message: message.into(),
    })
}

fn invalid(message: &str) -> Result<ControlResponse, String> {
    Ok(ControlResponse::Error {
        kind: ErrorKind::Invalid,
        message: message.into(),
    })
}

/// The one request the effects send, and what it answers.
fn sent(effects: &[Effect]) -> (Asked, ControlRequest) {
    match effects {
        [Effect::Send(asked, request)] => (*asked, request.clone()),
        other => panic!("{other:?}"),
    }
}

fn user(
    name: &str,
    role: RoleWire,
    active: bool,
    trained: Option<i64>,
    expires: Option<i64>,
) -> UserWire {
    UserWire {
        name: name.into(),
        role,
        active,
        trained_on: trained.map(|d| Timestamp(NOW.0 + d * DAY)),
        training_expires: expires.map(|d| Timestamp(NOW.0 + d * DAY)),
        // ofc-lee mistyped a password three times and is locked out here.
        failures: if name == "ofc-lee" { 3 } else { 0 },
        locked_until: (name == "ofc-lee").then_some(Timestamp(NOW.0 + 20 * 60_000)),
    }
}

fn users_listed(app: &mut App) {
    key(app, Key::Char('m'));
    let (asked, request) = sent(&key(app, Key::Char('1')));
    assert_eq!(asked, Asked::Users);
    assert!(matches!(request, ControlRequest::ListUsers { .. }));
    app.update(Msg::Answer(
        Asked::Users,
        Ok(ControlResponse::Users(vec![
            user("chief", RoleWire::Administrator, true, Some(-400), None),
            user("ofc-ruiz", RoleWire::Officer, true, Some(-200), Some(165)),
            user("ofc-lee", RoleWire::Officer, true, Some(-500), Some(-60)),
            user(
                "sgt-park",
                RoleWire::Supervisor,
                false,
                Some(-300),
                Some(65),
            ),
            user("rookie", RoleWire::Officer, true, None, None),
        ])),
    ));
}

#[test]
fn the_menu_at_80x24_and_wide() {
    let mut app = logged_in();
    assert!(
        key(&mut app, Key::Char('m')).is_empty(),
        "the menu sends nothing"
    );
    assert_eq!(app.screen, Screen::Admin);
    key(&mut app, Key::Down);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Administration and oversight ────────────────────────────────────────────────┐
            │Every change here is the node's to allow, and every one is logged.            │
            │                                                                              │
            │ 1 Users and training                                                         │
            │     add users, record training, roles, passwords, unlock                     │
            │ 2 Login limits and retention                                                 │
            │     failed logins, lockout, idle lock; how long records are kept             │
            │ 3 Holds and evidence export                                                  │
            │     keep reads past retention for a case; export a case's bundle             │
            │ 4 Requests and releases                                                      │
            │     outside requests and their decisions; releases to agencies               │
            │ 5 Quarterly audit                                                            │
            │     draw a quarter's sample, mark each event, sign the report                │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             ↑↓ Enter  open  1-5  open  Esc  back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Administration and oversight ────────────────────────────────────────────────────────────────────────────────────────┐
            │Every change here is the node's to allow, and every one is logged.                                                    │
            │                                                                                                                      │
            │ 1 Users and training            add users, record training, roles, passwords, unlock                                 │
            │ 2 Login limits and retention    failed logins, lockout, idle lock; how long records are kept                         │
            │ 3 Holds and evidence export     keep reads past retention for a case; export a case's bundle                         │
            │ 4 Requests and releases         outside requests and their decisions; releases to agencies                           │
            │ 5 Quarterly audit               draw a quarter's sample, mark each event, sign the report                            │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
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

             ↑↓ Enter  open  1-5  open  Esc  back
        "#]],
    );
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Dashboard);
}

#[test]
fn users_and_training_at_80x24_and_wide() {
    let mut app = logged_in();
    users_listed(&mut app);
    assert_eq!(app.screen, Screen::Users);
    key(&mut app, Key::Down);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Users and training ──────────────────────────────────────────────────────────┐
            │user                  role          state    trained    training              │
            │chief                 administrator active   2025-10-26 no expiry             │
            │ofc-ruiz              officer       active   2026-05-14 until 2027-05-14      │
            │ofc-lee               officer       LOCKED   2025-07-18 EXPIRED 2026-10-01    │
            │sgt-park              supervisor    inactive 2026-02-03 until 2027-02-03      │
            │rookie                officer       active   -          never trained         │
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

             n new  t training  o role  p password  x active  u unlock  r refresh  Esc back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Users and training ──────────────────────────────────────────────────────────────────────────────────────────────────┐
            │user                                                          role          state    trained    training              │
            │chief                                                         administrator active   2025-10-26 no expiry             │
            │ofc-ruiz                                                      officer       active   2026-05-14 until 2027-05-14      │
            │ofc-lee                                                       officer       LOCKED   2025-07-18 EXPIRED 2026-10-01    │
            │sgt-park                                                      supervisor    inactive 2026-02-03 until 2027-02-03      │
            │rookie                                                        officer       active   -          never trained         │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
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

             n  new  t  training  o  role  p  password  x  active  u  unlock  r  refresh  Esc  back
        "#]],
    );
}

#[test]
fn an_officer_sees_the_nodes_refusal_as_it_words_it() {
    let mut app = logged_in_as("ofc-ruiz", RoleWire::Officer);
    users_listed(&mut app);
    app.update(Msg::Answer(
        Asked::Users,
        refused("user 'ofc-ruiz' (officer) may not administer users"),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · ofc-ruiz (officer)
            ┌ Users and training ──────────────────────────────────────────────────────────┐
            │refused: user 'ofc-ruiz' (officer) may not administer users                   │
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

             n new  t training  o role  p password  x active  u unlock  r refresh  Esc back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · ofc-ruiz (officer)
            ┌ Users and training ──────────────────────────────────────────────────────────────────────────────────────────────────┐
            │refused: user 'ofc-ruiz' (officer) may not administer users                                                           │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
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

             n  new  t  training  o  role  p  password  x  active  u  unlock  r  refresh  Esc  back
        "#]],
    );
}

#[test]
fn a_new_user_is_sent_from_the_form_and_nothing_while_a_field_is_missing() {
    let mut app = logged_in();
    users_listed(&mut app);
    key(&mut app, Key::Char('n'));
    // Nothing typed: nothing sent, and the form says what is missing.
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("name: type the new user's name"));
    typed(&mut app, "ofc-diaz");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Char(' '));
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("password: type the new password"));
    typed(&mut app, "correct horse");
    key(&mut app, Key::Tab);
    typed(&mut app, "correct hose");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("repeat: the two passwords differ"));
    key(&mut app, Key::Backspace);
    key(&mut app, Key::Backspace);
    key(&mut app, Key::Backspace);
    typed(&mut app, "orse");
    key(&mut app, Key::Tab);
    typed(&mut app, "2026-11-02");
    key(&mut app, Key::Tab);
    typed(&mut app, "2027-11-02x");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("training expires: '2027-11-02x' is not a time"));
    key(&mut app, Key::Backspace);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Users and training ──────────────────────────────────────────────────────────┐
            │user                  role          state    trained    training              │
            │chief                 administrator active   2025-10-26 no expiry             │
            │ofc-ruiz              officer       active   2026-05-14 until 2027-05-14      │
            │ofc┌ New user ────────────────────────────────────────────────────────────┐   │
            │sgt│             name  ofc-diaz                  a-z 0-9 . - _            │   │
            │roo│             role  < supervisor >  Space changes                      │   │
            │   │         password  •••••••••••••             never shown              │   │
            │   │            again  •••••••••••••             the same password        │   │
            │   │       trained on  2026-11-02                date, UTC                │   │
            │   │ training expires  2027-11-02                empty: none              │   │
            │   │                                                                      │   │
            │   │Without training on record the node refuses the user's logins.        │   │
            │   │                                                                      │   │
            │   │                                                                      │   │
            │   └──────────────────────────────────────────────────────────────────────┘   │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             Tab  next field  Space  change  Enter  add  Esc  cancel
        "#]],
    );
    let shown = screen(&app, 120, 30);
    assert!(!shown.contains("correct"), "the password is never drawn");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::AddUser);
    let ControlRequest::AddUser {
        name,
        role,
        password,
        trained_on,
        training_expires,
        ..
    } = request
    else {
        panic!("{request:?}");
    };
    assert_eq!((name.as_str(), role), ("ofc-diaz", RoleWire::Supervisor));
    assert_eq!(password, "correct horse");
    assert_eq!(trained_on, Some(Timestamp(1_793_577_600_000)));
    assert_eq!(training_expires, Some(Timestamp(1_825_113_600_000)));
    // The node refuses: the form stays, with its words.
    app.update(Msg::Answer(
        Asked::AddUser,
        invalid("user name 'ofc-diaz' is taken"),
    ));
    assert!(screen(&app, 80, 24).contains("refused: user name 'ofc-diaz' is taken"));
    key(&mut app, Key::Enter);
    let effects = app.update(Msg::Answer(Asked::AddUser, Ok(ControlResponse::Done)));
    assert!(matches!(sent(&effects).1, ControlRequest::ListUsers { .. }));
    assert!(app.users.adding.is_none());
    assert!(screen(&app, 80, 24).contains("user ofc-diaz (supervisor) added"));
}

#[test]
fn users_are_edited_one_change_at_a_time() {
    let mut app = logged_in();
    users_listed(&mut app);
    key(&mut app, Key::Down);
    key(&mut app, Key::Down);
    // Training: a completion date is needed.
    key(&mut app, Key::Char('t'));
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("trained on: type the date the training was completed"));
    typed(&mut app, "2026-11-20");
    key(&mut app, Key::Tab);
    typed(&mut app, "2027-11-20");
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Users and training ──────────────────────────────────────────────────────────┐
            │user                  role          state    trained    training              │
            │chief                 administrator active   2025-10-26 no expiry             │
            │ofc-ruiz              officer       active   2026-05-14 until 2027-05-14      │
            │ofc-lee               officer       LOCKED   2025-07-18 EXPIRED 2026-10-01    │
            │sgt-park              supervisor    inactive 2026-02-03 until 2027-02-03      │
            │roo┌ Record ofc-lee's training ───────────────────────────────────────────┐   │
            │   │       trained on  2026-11-20                date, UTC                │   │
            │   │ training expires  2027-11-20                empty: none              │   │
            │   │                                                                      │   │
            │   │                                                                      │   │
            │   │                                                                      │   │
            │   │                                                                      │   │
            │   │                                                                      │   │
            │   └──────────────────────────────────────────────────────────────────────┘   │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             Tab  next field  Space  change  Enter  save  Esc  cancel
        "#]],
    );
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::EditUser);
    assert_eq!(
        request,
        ControlRequest::EditUser {
            token: [3; 32],
            name: "ofc-lee".into(),
            edit: UserEditWire::Training {
                on: Some(Timestamp(1_795_132_800_000)),
                expires: Some(Timestamp(1_826_668_800_000)),
            },
        }
    );
    app.update(Msg::Answer(Asked::EditUser, Ok(ControlResponse::Done)));
    assert!(screen(&app, 80, 24).contains("user ofc-lee: training recorded"));
    // The role: the form starts at the user's own.
    key(&mut app, Key::Char('o'));
    key(&mut app, Key::Right);
    let (_, request) = sent(&key(&mut app, Key::Enter));
    assert!(matches!(
        request,
        ControlRequest::EditUser {
            edit: UserEditWire::Role(RoleWire::Supervisor),
            ..
        }
    ));
    app.update(Msg::Answer(
        Asked::EditUser,
        refused("user 'chief' (administrator) may not demote the last administrator"),
    ));
    assert!(screen(&app, 80, 24).contains("refused: user 'chief' (administrator) may not demote"));
    key(&mut app, Key::Esc);
    // A password, twice.
    key(&mut app, Key::Char('p'));
    typed(&mut app, "new one 2026");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("repeat: the two passwords differ"));
    typed(&mut app, "new one 2026");
    let (_, request) = sent(&key(&mut app, Key::Enter));
    assert!(matches!(
        request,
        ControlRequest::EditUser { edit: UserEditWire::Password(ref p), .. } if p == "new one 2026"
    ));
    app.update(Msg::Answer(Asked::EditUser, Ok(ControlResponse::Done)));
    // Deactivating asks first; any other key keeps the user.
    key(&mut app, Key::Char('x'));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Users: deactivate ofc-lee? y to do it, any other key keeps it ───────────────┐
            │user                  role          state    trained    training              │
            │chief                 administrator active   2025-10-26 no expiry             │
            │ofc-ruiz              officer       active   2026-05-14 until 2027-05-14      │
            │ofc-lee               officer       LOCKED   2025-07-18 EXPIRED 2026-10-01    │
            │sgt-park              supervisor    inactive 2026-02-03 until 2027-02-03      │
            │rookie                officer       active   -          never trained         │
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
            user ofc-lee: password reset
             y  yes, do it  any other key  no
        "#]],
    );
    assert!(key(&mut app, Key::Char('n')).is_empty());
    key(&mut app, Key::Char('x'));
    let (_, request) = sent(&key(&mut app, Key::Char('y')));
    assert!(matches!(
        request,
        ControlRequest::EditUser { ref name, edit: UserEditWire::Active(false), .. } if name == "ofc-lee"
    ));
    app.update(Msg::Answer(Asked::EditUser, Ok(ControlResponse::Done)));
    // Unlock, after a confirmation too, and only a user locked out here.
    key(&mut app, Key::Up);
    assert!(key(&mut app, Key::Char('u')).is_empty());
    assert!(app.users.confirm.is_none());
    assert!(screen(&app, 80, 24).contains("ofc-ruiz is not locked out"));
    key(&mut app, Key::Down);
    key(&mut app, Key::Char('u'));
    let (asked, request) = sent(&key(&mut app, Key::Char('y')));
    assert_eq!(asked, Asked::UnlockUser);
    assert!(matches!(request, ControlRequest::UnlockUser { ref name, .. } if name == "ofc-lee"));
    app.update(Msg::Answer(Asked::UnlockUser, Ok(ControlResponse::Done)));
    assert!(screen(&app, 80, 24).contains("ofc-lee unlocked: failed logins cleared on this node"));
}

#[test]
fn login_limits_and_retention_at_80x24_and_wide() {
    let mut app = logged_in();
    key(&mut app, Key::Char('m'));
    let (asked, request) = sent(&key(&mut app, Key::Char('2')));
    assert_eq!(app.screen, Screen::Limits);
    assert_eq!(asked, Asked::Retention);
    assert!(matches!(request, ControlRequest::Status { .. }));
    app.update(Msg::Answer(Asked::Retention, Ok(status())));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Login limits ────────────────────────────────────────────────────────────────┐
            │     failed logins  3         in a row, before a lockout                      │
            │   lockout minutes  30        how long a lockout lasts                        │
            │      idle minutes  15        before a session locks                          │
            │                                                                              │
            │From the node's status; only a limit you change is sent.                      │
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌ Retention (days) ────────────────────────────────────────────────────────────┐
            │             reads  365       now 365 days                                    │
            │      plate images  365       now 365 days                                    │
            │   overview images  90        now 90 days                                     │
            │      audit events  1095      now 1095 days                                   │
            │            alerts  365       now 365 days                                    │
            │                                                                              │
            │Days to keep each; "now" is the node's status.                                │
            └──────────────────────────────────────────────────────────────────────────────┘






             Tab  next field  Enter  set this part  Esc  back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Login limits ────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │     failed logins  3         in a row, before a lockout                                                              │
            │   lockout minutes  30        how long a lockout lasts                                                                │
            │      idle minutes  15        before a session locks                                                                  │
            │                                                                                                                      │
            │From the node's status; only a limit you change is sent.                                                              │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            ┌ Retention (days) ────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │             reads  365       now 365 days                                                                            │
            │      plate images  365       now 365 days                                                                            │
            │   overview images  90        now 90 days                                                                             │
            │      audit events  1095      now 1095 days                                                                           │
            │            alerts  365       now 365 days                                                                            │
            │                                                                                                                      │
            │Days to keep each; "now" is the node's status.                                                                        │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘












             Tab  next field  Enter  set this part  Esc  back
        "#]],
    );
    // Limits: the node's values fill the fields; only a changed one is sent.
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("no limit changed"));
    key(&mut app, Key::Backspace);
    typed(&mut app, "5");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    key(&mut app, Key::Backspace);
    key(&mut app, Key::Backspace);
    typed(&mut app, "20");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::SetLimits);
    assert_eq!(
        request,
        ControlRequest::SetLimits {
            token: [3; 32],
            failures_max: Some(5),
            lockout_minutes: None,
            idle_lock_minutes: Some(20),
        }
    );
    app.update(Msg::Answer(
        Asked::SetLimits,
        invalid("sessions lock after 1 to 30 idle minutes (asked for 45)"),
    ));
    assert!(screen(&app, 80, 24).contains("refused: sessions lock after 1 to 30 idle minutes"));
    // Set: the node is asked again, and its answer fills the fields.
    let (asked, _) = sent(&app.update(Msg::Answer(Asked::SetLimits, Ok(ControlResponse::Done))));
    assert_eq!(asked, Asked::Retention);
    assert!(screen(&app, 80, 24).contains("login limits set"));
    // Retention: every period is needed; Enter in this part sends it.
    key(&mut app, Key::Tab);
    for _ in 0..3 {
        key(&mut app, Key::Backspace);
    }
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("reads: type the days to keep reads"));
    typed(&mut app, "400");
    for _ in 0..3 {
        key(&mut app, Key::Tab);
    }
    for _ in 0..4 {
        key(&mut app, Key::Backspace);
    }
    typed(&mut app, "100");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::SetRetention);
    assert_eq!(
        request,
        ControlRequest::SetRetention {
            token: [3; 32],
            reads_days: 400,
            plate_images_days: 365,
            overview_images_days: 90,
            audit_days: 100,
            alerts_days: 365,
        }
    );
    app.update(Msg::Answer(
        Asked::SetRetention,
        invalid("audit events are kept at least 365 days (asked for 100)"),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Login limits ────────────────────────────────────────────────────────────────┐
            │     failed logins  5         in a row, before a lockout                      │
            │   lockout minutes  30        how long a lockout lasts                        │
            │      idle minutes  20        before a session locks                          │
            │                                                                              │
            │From the node's status; only a limit you change is sent.                      │
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌ Retention (days) ────────────────────────────────────────────────────────────┐
            │             reads  400       now 365 days                                    │
            │      plate images  365       now 365 days                                    │
            │   overview images  90        now 90 days                                     │
            │      audit events  100       now 1095 days                                   │
            │            alerts  365       now 365 days                                    │
            │                                                                              │
            │Days to keep each; "now" is the node's status.                                │
            └──────────────────────────────────────────────────────────────────────────────┘
            refused: audit events are kept at least 365 days (asked for 100)




            login limits set
             Tab  next field  Enter  set this part  Esc  back
        "#]],
    );
    let effects = app.update(Msg::Answer(Asked::SetRetention, Ok(ControlResponse::Done)));
    assert_eq!(
        sent(&effects).0,
        Asked::Retention,
        "the node's values are shown again"
    );
}

fn hold(id: u64, case: &str, scope: HoldScopeWire, standing: bool) -> HoldWire {
    HoldWire {
        id,
        case: case.into(),
        reason: "robbery, Main St, 26-4411".into(),
        scope,
        placed_by: "chief".into(),
        placed_at: Timestamp(NOW.0 - 3 * DAY),
        expires: Some(Timestamp(NOW.0 + 90 * DAY)),
        standing,
    }
}

fn holds_listed(app: &mut App) {
    key(app, Key::Char('m'));
    let (asked, _) = sent(&key(app, Key::Char('3')));
    assert_eq!(asked, Asked::Holds);
    app.update(Msg::Answer(
        Asked::Holds,
        Ok(ControlResponse::Holds(vec![
            hold(
                1,
                "26-4411",
                HoldScopeWire::Reads(vec![(NodeId([7; 32]), 41), (NodeId([7; 32]), 42)]),
                true,
            ),
            hold(
                2,
                "26-4502",
                HoldScopeWire::Plate {
                    plate: "8XYZ001".into(),
                    from: Timestamp(NOW.0 - 30 * DAY),
                    to: Timestamp(NOW.0 - 20 * DAY),
                },
                false,
            ),
        ])),
    ));
}

#[test]
fn holds_at_80x24_and_wide() {
    let mut app = logged_in();
    holds_listed(&mut app);
    assert_eq!(app.screen, Screen::Holds);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Evidence holds ──────────────────────────────────────────────────────────────┐
            │hold case       state    placed     by         expires    scope               │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads             │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..│
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
            reason   robbery, Main St, 26-4411
            scope    0707070707070707/41, 0707070707070707/42
            placed   2026-11-27 00:53:20 by chief

             n  new hold  x  release  e  export a case  r  refresh  Esc  back
        "#]],
    );
    check(
        &app,
        130,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Evidence holds ────────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │hold case       state    placed     by         expires    scope                            reason                               │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads                          robbery, Main St, 26-4411            │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..2026-11-10   robbery, Main St, 26-4411            │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            └────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            reason   robbery, Main St, 26-4411
            scope    0707070707070707/41, 0707070707070707/42
            placed   2026-11-27 00:53:20 by chief

             n  new hold  x  release  e  export a case  r  refresh  Esc  back
        "#]],
    );
}

#[test]
fn a_hold_is_placed_on_reads_or_a_plate_and_released_after_a_confirmation() {
    let mut app = logged_in();
    holds_listed(&mut app);
    key(&mut app, Key::Char('n'));
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("case: type the case the reads are evidence of"));
    typed(&mut app, "26-4600");
    key(&mut app, Key::Tab);
    typed(&mut app, "hit and run");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("reads: type the reads to hold"));
    // A prefix of a node id the node knows, as search shows it.
    typed(&mut app, "07070707/41, 0707070707070707/43");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::PlaceHold);
    assert_eq!(
        request,
        ControlRequest::PlaceHold {
            token: [3; 32],
            case: "26-4600".into(),
            reason: "hit and run".into(),
            scope: HoldScopeWire::Reads(vec![(NodeId([7; 32]), 41), (NodeId([7; 32]), 43)]),
            expires: None,
        }
    );
    app.update(Msg::Answer(
        Asked::PlaceHold,
        invalid("read 0707070707070707/43 is not stored here"),
    ));
    assert!(screen(&app, 80, 24).contains("refused: read 0707070707070707/43 is not stored here"));
    // By plate: the window is needed.
    key(&mut app, Key::BackTab);
    key(&mut app, Key::Char(' '));
    key(&mut app, Key::Tab);
    typed(&mut app, "7abc123");
    key(&mut app, Key::Tab);
    typed(&mut app, "2026-11-01");
    assert!(key(&mut app, Key::Enter).is_empty());
    // The form's focus went to the field that is missing.
    assert!(screen(&app, 80, 24).contains("to: type the window's to (UTC)"));
    typed(&mut app, "2026-11-07");
    key(&mut app, Key::Tab);
    typed(&mut app, "2027-06-30");
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Evidence holds ──────────────────────────────────────────────────────────────┐
            │hold case       state    placed     by         expires    scope               │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads             │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..│
            │ ┌ New hold ────────────────────────────────────────────────────────────────┐ │
            │ │         case  26-4600                       the reads are evidence of    │ │
            │ │       reason  hit and run                   why they are held            │ │
            │ │         hold  < a plate over a time window >  Space changes              │ │
            │ │        plate  7abc123                       every read of it             │ │
            │ │   from (UTC)  2026-11-01                    2026-11-01                   │ │
            │ │     to (UTC)  2026-11-07                    a date: its end              │ │
            │ │      expires  2027-06-30                    date, UTC; empty: never      │ │
            │ │                                                                          │ │
            │ │                                                                          │ │
            │ │                                                                          │ │
            │ └──────────────────────────────────────────────────────────────────────────┘ │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            reason   robbery, Main St, 26-4411
            scope    0707070707070707/41, 0707070707070707/42
            placed   2026-11-27 00:53:20 by chief

             Tab  next field  Space  change  Enter  place  Esc  cancel
        "#]],
    );
    let (_, request) = sent(&key(&mut app, Key::Enter));
    let ControlRequest::PlaceHold { scope, expires, .. } = request else {
        panic!("{request:?}");
    };
    assert_eq!(
        scope,
        HoldScopeWire::Plate {
            plate: "7ABC123".into(),
            from: Timestamp(1_793_491_200_000),
            to: Timestamp(1_794_095_999_999),
        }
    );
    assert_eq!(expires, Some(Timestamp(1_814_399_999_999)));
    let effects = app.update(Msg::Answer(
        Asked::PlaceHold,
        Ok(ControlResponse::HoldPlaced { id: 3 }),
    ));
    assert_eq!(sent(&effects).0, Asked::Holds);
    assert!(screen(&app, 80, 24).contains("hold 3 placed"));
    // Releasing asks first.
    key(&mut app, Key::Down);
    key(&mut app, Key::Char('x'));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Holds: release hold 2? y to release, any other key keeps it ─────────────────┐
            │hold case       state    placed     by         expires    scope               │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads             │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..│
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
            reason   robbery, Main St, 26-4411
            scope    8XYZ001 2026-10-31..2026-11-10
            placed   2026-11-27 00:53:20 by chief
            hold 3 placed
             y  yes, do it  any other key  no
        "#]],
    );
    let (asked, request) = sent(&key(&mut app, Key::Char('y')));
    assert_eq!(asked, Asked::ReleaseHold);
    assert_eq!(
        request,
        ControlRequest::ReleaseHold {
            token: [3; 32],
            id: 2
        }
    );
    app.update(Msg::Answer(Asked::ReleaseHold, Ok(ControlResponse::Done)));
    assert!(screen(&app, 80, 24).contains("hold released"));
}

#[test]
fn a_case_is_exported_to_a_directory_and_the_nodes_answer_shown() {
    let mut app = logged_in();
    holds_listed(&mut app);
    // The selected hold's case fills the form.
    key(&mut app, Key::Char('e'));
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("reason: say why you export"));
    typed(&mut app, "court, 26-4411");
    key(&mut app, Key::Tab);
    typed(&mut app, "usb/26-4411");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("directory: type an absolute path"));
    for _ in 0.."usb/26-4411".len() {
        key(&mut app, Key::Backspace);
    }
    typed(&mut app, "/media/usb/26-4411");
    let effects = key(&mut app, Key::Enter);
    let [Effect::SendLong(asked, request)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let (asked, request) = (*asked, request.clone());
    assert_eq!(asked, Asked::Export);
    let ControlRequest::ExportEvidence {
        purpose, case, out, ..
    } = request
    else {
        panic!("{request:?}");
    };
    assert_eq!(
        (case.as_str(), out.as_str()),
        ("26-4411", "/media/usb/26-4411")
    );
    assert_eq!(purpose.kind, Some(PurposeKindWire::Investigation));
    assert_eq!(purpose.case.as_deref(), Some("26-4411"));
    assert_eq!(purpose.reason.as_deref(), Some("court, 26-4411"));
    // While the node writes, the form says how far and takes no key but Esc.
    assert!(key(&mut app, Key::Enter).is_empty());
    app.update(Msg::Progress(Asked::Export, "files".into(), 32, Some(41)));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Evidence holds ──────────────────────────────────────────────────────────────┐
            │hold case       state    placed     by         expires    scope               │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads             │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..│
            │ ┌ Export a case's evidence ────────────────────────────────────────────────┐ │
            │ │         case  26-4411                       its held reads               │ │
            │ │      purpose  < investigation >  Space changes                           │ │
            │ │       reason  court, 26-4411                logged                       │ │
            │ │    directory  /media/usb/26-4411            new or empty                 │ │
            │ │on the node's machine, e.g. a USB drive mounted there                     │ │
            │ │                                                                          │ │
            │ │exporting… 32 of 41 files written (Esc cancels)                           │ │
            │ │                                                                          │ │
            │ │                                                                          │ │
            │ │                                                                          │ │
            │ └──────────────────────────────────────────────────────────────────────────┘ │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            reason   robbery, Main St, 26-4411
            scope    0707070707070707/41, 0707070707070707/42
            placed   2026-11-27 00:53:20 by chief

             Tab  next field  Space  change  Enter  export  Esc  close
        "#]],
    );
    app.update(Msg::Answer(
        Asked::Export,
        Ok(ControlResponse::Exported {
            reads: 2,
            audit_events: 14,
            files: 6,
            path: "/media/usb0/26-4411".into(),
            bytes: 48_213,
        }),
    ));
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Evidence holds ──────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │hold case       state    placed     by         expires    scope                            reason                     │
            │1    26-4411    standing 2026-11-27 chief      2027-02-28 2 reads                          robbery, Main St, 26-4411  │
            │2    26-4502    lapsed   2026-11-27 chief      2027-02-28 8XYZ001 2026-10-31..2026-11-10   robbery, Main St, 26-4411  │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                     ┌ Export a case's evidence ────────────────────────────────────────────────┐                     │
            │                     │         case  26-4411                       its held reads               │                     │
            │                     │      purpose  < investigation >  Space changes                           │                     │
            │                     │       reason  court, 26-4411                logged                       │                     │
            │                     │    directory  /media/usb/26-4411            new or empty                 │                     │
            │                     │on the node's machine, e.g. a USB drive mounted there                     │                     │
            │                     │                                                                          │                     │
            │                     │case 26-4411: 2 reads and 14 audit events written to /media/usb0/26-4411  │                     │
            │                     │(6 files, 48 KiB, signed manifest)                                        │                     │
            │                     │                                                                          │                     │
            │                     │                                                                          │                     │
            │                     └──────────────────────────────────────────────────────────────────────────┘                     │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            reason   robbery, Main St, 26-4411
            scope    0707070707070707/41, 0707070707070707/42
            placed   2026-11-27 00:53:20 by chief

             Tab  next field  Space  change  Enter  export  Esc  close
        "#]],
    );
    // Esc while the node writes cancels: the connection closes under it.
    key(&mut app, Key::Enter);
    assert_eq!(key(&mut app, Key::Esc), vec![Effect::Cancel]);
    assert!(key(&mut app, Key::Esc).is_empty());
    assert!(screen(&app, 80, 24).contains("cancelling the export"));
    app.update(Msg::Answer(
        Asked::Export,
        Err("the node closed the connection".into()),
    ));
    assert!(
        screen(&app, 120, 30).contains("export cancel sent: the node stops at its next progress")
    );
    // Again, refused as the node says.
    key(&mut app, Key::Enter);
    app.update(Msg::Answer(
        Asked::Export,
        refused("user 'sgt-park' (supervisor) may not export evidence without an investigation purpose naming the case"),
    ));
    assert!(screen(&app, 120, 30).contains("refused: user 'sgt-park' (supervisor) may not export"));
    key(&mut app, Key::Esc);
    assert!(app.holds.exporting.is_none());
}

fn request(id: u64, decided: bool) -> RequestWire {
    RequestWire {
        id,
        requester: if decided {
            "Daily Courier"
        } else {
            "J. Smith, attorney"
        }
        .into(),
        what: "every read of 7ABC123 in October".into(),
        referred_to: "Staff Services Commander".into(),
        registered_by: "sgt-park".into(),
        received_at: Timestamp(NOW.0 - (10 - id as i64) * DAY),
        decision: decided.then(|| {
            (
                DecisionWire::Denied,
                "not a law enforcement purpose".to_string(),
                "chief".to_string(),
                Timestamp(NOW.0 - DAY),
            )
        }),
    }
}

/// Asked on opening and after a change: the register, then the releases.
fn asked_both(effects: &[Effect]) {
    assert!(
        matches!(
            effects,
            [
                Effect::Send(Asked::Requests, ControlRequest::ListRequests { .. }),
                Effect::Send(Asked::Releases, ControlRequest::ListReleases { .. }),
            ]
        ),
        "{effects:?}"
    );
}

fn requests_listed(app: &mut App) {
    key(app, Key::Char('m'));
    asked_both(&key(app, Key::Char('4')));
    app.update(Msg::Answer(
        Asked::Requests,
        Ok(ControlResponse::Requests(vec![
            request(1, true),
            request(2, false),
        ])),
    ));
    app.update(Msg::Answer(
        Asked::Releases,
        Ok(ControlResponse::Releases(vec![
            alpr_protocol::policy::Release {
                id: 1,
                case: "26-3980".into(),
                agency: "State Police".into(),
                official: "Lt. Okafor".into(),
                legal_basis: "mutual aid agreement".into(),
                reads: vec![(NodeId([7; 32]), 12), (NodeId([7; 32]), 13)],
                by: "chief".into(),
                at: Timestamp(NOW.0 - 5 * DAY),
                manifest_sha256: "ab".repeat(32),
            },
        ])),
    ));
}

#[test]
fn requests_at_80x24_and_wide() {
    let mut app = logged_in();
    requests_listed(&mut app);
    assert_eq!(app.screen, Screen::Requests);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Requests from outside law enforcement ───────────────────────────────────────┐
            │id   received   from               decision       what                        │
            │1    2026-11-21 Daily Courier      denied         every read of 7ABC123 in Oct│
            │2    2026-11-22 J. Smith, attorney pending        every read of 7ABC123 in Oct│
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
            what      every read of 7ABC123 in October
            referred  to Staff Services Commander · registered by sgt-park
            decision  denied by chief at 2026-11-29 00:53:20: not a law enforcement purpose
            ┌ Releases to other agencies ──────────────────────────────────────────────────┐
            │id   at         case       to agency      official     reads basis            │
            │1    2026-11-25 26-3980    State Police   Lt. Okafor   2     mutual aid agreem│
            └──────────────────────────────────────────────────────────────────────────────┘

             n  register  d  decide  a  release to an agency  r  refresh  Esc  back
        "#]],
    );
    check(
        &app,
        130,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Requests from outside law enforcement ─────────────────────────────────────────────────────────────────────────────────────────┐
            │id   received   from               decision       registered by referred to                what                                 │
            │1    2026-11-21 Daily Courier      denied         sgt-park      Staff Services Commander   every read of 7ABC123 in October     │
            │2    2026-11-22 J. Smith, attorney pending        sgt-park      Staff Services Commander   every read of 7ABC123 in October     │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            │                                                                                                                                │
            └────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            what      every read of 7ABC123 in October
            referred  to Staff Services Commander · registered by sgt-park
            decision  denied by chief at 2026-11-29 00:53:20: not a law enforcement purpose
            ┌ Releases to other agencies ────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │id   at         case       to agency      official     reads basis                                                              │
            │1    2026-11-25 26-3980    State Police   Lt. Okafor   2     mutual aid agreement                                               │
            └────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘

             n  register  d  decide  a  release to an agency  r  refresh  Esc  back
        "#]],
    );
    // A Supervisor keeps the register but not the releases: the pane says why.
    app.update(Msg::Answer(
        Asked::Releases,
        refused("user 'sgt-park' (supervisor) may not see releases to other agencies"),
    ));
    assert!(screen(&app, 80, 24).contains("not shown: user 'sgt-park' (supervisor) may not"));
}

#[test]
fn a_request_is_registered_and_decided_and_reads_released() {
    let mut app = logged_in();
    requests_listed(&mut app);
    // Register: who asks and what; who decides starts as the CLI's default.
    key(&mut app, Key::Char('n'));
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("requester: type who asks"));
    typed(&mut app, "County Herald");
    key(&mut app, Key::Tab);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("what: type what they ask for"));
    typed(&mut app, "reads near the fair, August");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::RegisterRequest);
    assert_eq!(
        request,
        ControlRequest::RegisterRequest {
            token: [3; 32],
            requester: "County Herald".into(),
            what: "reads near the fair, August".into(),
            referred_to: "Staff Services Commander".into(),
        }
    );
    let effects = app.update(Msg::Answer(
        Asked::RegisterRequest,
        Ok(ControlResponse::RequestRegistered { id: 3 }),
    ));
    asked_both(&effects);
    assert!(
        screen(&app, 80, 24).contains("request 3 registered, referred to Staff Services Commander")
    );
    // A decided request is not decided again.
    key(&mut app, Key::Char('d'));
    assert!(app.requests.deciding.is_none());
    assert!(screen(&app, 80, 24).contains("request 1 is already decided"));
    // Decide: no decision is assumed, and the why is needed.
    key(&mut app, Key::Down);
    key(&mut app, Key::Char('d'));
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("decision: choose granted, partly granted or denied"));
    key(&mut app, Key::Right);
    key(&mut app, Key::Right);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("why: say why, in words"));
    typed(&mut app, "reads of the named plate only");
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Requests from outside law enforcement ───────────────────────────────────────┐
            │id   received   from               decision       what                        │
            │1    2026-11-21 Daily Courier      denied         every read of 7ABC123 in Oct│
            │2    2026-11-22 J. Smith, attorney pending        every read of 7ABC123 in Oct│
            │                                                                              │
            │                                                                              │
            │  ┌ Decide request 2 ──────────────────────────────────────────────────────┐  │
            │  │    decision  < partly-granted >  Space changes                         │  │
            │  │         why  reads of the named plate only   in words                  │  │
            │  │                                                                        │  │
            │  │                                                                        │  │
            │  │                                                                        │  │
            │  │                                                                        │  │
            └──└────────────────────────────────────────────────────────────────────────┘──┘
            what      every read of 7ABC123 in October
            referred  to Staff Services Commander · registered by sgt-park
            decision  pending
            ┌ Releases to other agencies ──────────────────────────────────────────────────┐
            │id   at         case       to agency      official     reads basis            │
            │1    2026-11-25 26-3980    State Police   Lt. Okafor   2     mutual aid agreem│
            └──────────────────────────────────────────────────────────────────────────────┘
            request 1 is already decided
             Tab  next field  Space  change  Enter  record  Esc  cancel
        "#]],
    );
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::DecideRequest);
    assert_eq!(
        request,
        ControlRequest::DecideRequest {
            token: [3; 32],
            id: 2,
            decision: DecisionWire::PartlyGranted,
            note: "reads of the named plate only".into(),
        }
    );
    app.update(Msg::Answer(
        Asked::DecideRequest,
        refused("user 'sgt-park' (supervisor) may not decide requests"),
    ));
    assert!(
        screen(&app, 80, 24)
            .contains("refused: user 'sgt-park' (supervisor) may not decide requests")
    );
    key(&mut app, Key::Enter);
    app.update(Msg::Answer(Asked::DecideRequest, Ok(ControlResponse::Done)));
    assert!(screen(&app, 80, 24).contains("request 2: partly-granted"));
    // Release: every field is needed; the reads are typed as search shows them.
    key(&mut app, Key::Char('a'));
    typed(&mut app, "26-4411");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    typed(&mut app, "release to the DA, 26-4411");
    key(&mut app, Key::Tab);
    typed(&mut app, "County DA");
    key(&mut app, Key::Tab);
    typed(&mut app, "ADA Moreno");
    key(&mut app, Key::Tab);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("legal basis: type it"));
    typed(&mut app, "subpoena 26-SP-19");
    key(&mut app, Key::Tab);
    typed(&mut app, "07070707/41");
    key(&mut app, Key::Tab);
    typed(&mut app, "/media/usb/release-da");
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Requests from outside law enforcement ───────────────────────────────────────┐
            │id   received   from               decision       what                        │
            │1    2026-11-21 Daily Courier      denied         every read of 7ABC123 in Oct│
            │2    2026-11-22 J. Smith, attorney pending        every read of 7ABC123 in Oct│
            │  ┌ Release reads to an agency ────────────────────────────────────────────┐  │
            │  │        case  26-4411                         released                  │  │
            │  │     purpose  < investigation >  Space changes                          │  │
            │  │      reason  release to the DA, 26-4411      logged                    │  │
            │  │      agency  County DA                       receiving                 │  │
            │  │    official  ADA Moreno                      receiving                 │  │
            │  │ legal basis  subpoena 26-SP-19               subpoena, order           │  │
            │  │       reads  07070707/41                     ORIGIN/SEQ, …             │  │
            │  │   directory  /media/usb/release-da           on the node               │  │
            └──│                                                                        │──┘
            wha│                                                                        │
            ref│                                                                        │
            dec└────────────────────────────────────────────────────────────────────────┘
            ┌ Releases to other agencies ──────────────────────────────────────────────────┐
            │id   at         case       to agency      official     reads basis            │
            │1    2026-11-25 26-3980    State Police   Lt. Okafor   2     mutual aid agreem│
            └──────────────────────────────────────────────────────────────────────────────┘
            request 2: partly-granted
             Tab  next field  Space  change  Enter  record  Esc  cancel
        "#]],
    );
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::Release);
    let ControlRequest::Release {
        purpose,
        agency,
        official,
        legal_basis,
        reads,
        out,
        ..
    } = request
    else {
        panic!("{request:?}");
    };
    assert_eq!(purpose.case.as_deref(), Some("26-4411"));
    assert_eq!(purpose.kind, Some(PurposeKindWire::Investigation));
    assert_eq!(
        (agency.as_str(), official.as_str()),
        ("County DA", "ADA Moreno")
    );
    assert_eq!(legal_basis, "subpoena 26-SP-19");
    assert_eq!(reads, [(NodeId([7; 32]), 41)]);
    assert_eq!(out, "/media/usb/release-da");
    let (asked, _) = sent(&app.update(Msg::Answer(
        Asked::Release,
        Ok(ControlResponse::Released { id: 1 }),
    )));
    assert_eq!(
        asked,
        Asked::Releases,
        "the recorded releases are asked again"
    );
    assert!(app.requests.releasing.is_none());
    assert!(screen(&app, 80, 24).contains("release 1 written to /media/usb/release-da"));
}

#[test]
fn logging_out_forgets_what_the_admin_screens_saw() {
    let mut app = logged_in();
    users_listed(&mut app);
    key(&mut app, Key::Char('n'));
    typed(&mut app, "ofc-diaz");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    typed(&mut app, "a password");
    key(&mut app, Key::Esc);
    key(&mut app, Key::Esc);
    key(&mut app, Key::Char('3'));
    app.update(Msg::Answer(
        Asked::Holds,
        Ok(ControlResponse::Holds(vec![hold(
            1,
            "26-4411",
            HoldScopeWire::Reads(vec![]),
            true,
        )])),
    ));
    key(&mut app, Key::Esc);
    key(&mut app, Key::Char('4'));
    app.update(Msg::Answer(
        Asked::Requests,
        Ok(ControlResponse::Requests(vec![request(1, true)])),
    ));
    key(&mut app, Key::Esc);
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Dashboard);
    key(&mut app, Key::Char('l'));
    assert_eq!(app.screen, Screen::Login);
    assert!(app.users.users.is_empty() && app.users.adding.is_none());
    assert!(app.holds.holds.is_empty() && app.requests.requests.is_empty());
    assert_eq!(app.admin.selected, 0);
    // A session the node ended drops them too.
    let mut app = logged_in();
    users_listed(&mut app);
    app.update(Msg::Answer(
        Asked::Users,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Session,
            message: "the session locked after 15 idle minutes".into(),
        }),
    ));
    assert_eq!(app.screen, Screen::Login);
    assert!(app.users.users.is_empty());
}
