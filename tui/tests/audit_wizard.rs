//! The quarterly audit wizard: the reports and whether one is overdue,
//! drawing a sample with a seed the driver supplies (a fixed one here),
//! stepping through its events marking each, signing, and the node's
//! refusals as it words them.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::{
    AuditEventWire, AuditWire, ControlRequest, ControlResponse, ErrorKind, RoleWire,
};
use alpr_protocol::identity::NodeId;
use alpr_protocol::record::{Action, Outcome};
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

fn sent(effects: &[Effect]) -> (Asked, ControlRequest) {
    match effects {
        [Effect::Send(asked, request)] => (*asked, request.clone()),
        other => panic!("{other:?}"),
    }
}

fn report(id: u64, quarter: &str, size: u64, marked: u64, signed: bool) -> AuditWire {
    AuditWire {
        id,
        quarter: quarter.into(),
        seed: 9_000 + id,
        population: 812,
        auditor: "aud-okafor".into(),
        signed,
        items: (0..size)
            .map(|i| {
                let finding = (i < marked).then_some(i != 1);
                let note = match finding {
                    Some(false) => "no case number for an investigation",
                    Some(true) => "purpose and case on record",
                    None => "",
                };
                (NodeId([7; 32]), 100 + i * 7, finding, note.to_string())
            })
            .collect(),
        // The node holds every sampled event but the last (purged here).
        events: (0..size)
            .map(|i| {
                (i + 1 < size).then(|| AuditEventWire {
                    origin: NodeId([7; 32]),
                    seq: 100 + i * 7,
                    time: Timestamp(1_793_700_000_000 + i as i64 * 3_600_000),
                    user: "ofc-ruiz".into(),
                    action: Action::Search,
                    object: format!("search pattern 7AB* from any to any: {i} matches, {i} shown"),
                    purpose: Some("investigation: stolen vehicle report".into()),
                    case: (i != 1).then(|| "26-4411".to_string()),
                    outcome: Outcome::Success,
                })
            })
            .collect(),
    }
}

fn audits(reports: Vec<AuditWire>) -> Result<ControlResponse, String> {
    Ok(ControlResponse::Audits {
        reports,
        overdue: Some("2026Q3".into()),
    })
}

/// An auditor at the wizard, opened from the audit log, reports listed.
fn at_the_wizard() -> App {
    let mut app = logged_in_as("aud-okafor", RoleWire::Auditor);
    key(&mut app, Key::Char('a'));
    app.update(Msg::Answer(
        Asked::AuditLog,
        Ok(ControlResponse::AuditLog {
            events: vec![],
            total: 0,
            damaged: 0,
        }),
    ));
    // Q works from the table, as V does.
    key(&mut app, Key::BackTab);
    let (asked, request) = sent(&key(&mut app, Key::Char('Q')));
    assert_eq!(app.screen, Screen::AuditWizard);
    assert_eq!(asked, Asked::Audits);
    assert!(matches!(request, ControlRequest::ListAudits { .. }));
    app.update(Msg::Answer(
        Asked::Audits,
        audits(vec![
            report(1, "2026Q2", 25, 25, true),
            report(2, "2026Q3", 5, 2, false),
        ]),
    ));
    app
}

#[test]
fn the_reports_at_80x24_and_wide() {
    let app = at_the_wizard();
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · aud-okafor (auditor)
        OVERDUE: no signed audit of 2026Q3
        ┌ Audit reports ───────────────────────────────────────────────────────────────┐
        │audit quarter auditor      sample       marked    not ok state   seed         │
        │1     2026Q2  aud-okafor   25 of 812    25 of 25  1      signed  9001         │
        │2     2026Q3  aud-okafor   5 of 812     2 of 5    1      open    9002         │
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

         ↑↓ Enter  mark  n  draw a sample  S  sign  r  refresh  Esc  back
    "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
        ALPR console · car-12 (vehicle) · aud-okafor (auditor)
        OVERDUE: no signed audit of 2026Q3
        ┌ Audit reports ───────────────────────────────────────────────────────────────────────────────────────────────────────┐
        │audit quarter auditor      sample       marked    not ok state   seed                                                 │
        │1     2026Q2  aud-okafor   25 of 812    25 of 25  1      signed  9001                                                 │
        │2     2026Q3  aud-okafor   5 of 812     2 of 5    1      open    9002                                                 │
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

         ↑↓ Enter  mark  n  draw a sample  S  sign  r  refresh  Esc  back
    "#]],
    );
    let mut app = app;
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Audit, "back where it was opened");
}

#[test]
fn a_sample_is_drawn_with_the_drivers_seed_or_a_typed_one() {
    let mut app = at_the_wizard();
    key(&mut app, Key::Char('n'));
    // The overdue quarter and the usual size to start with.
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · aud-okafor (auditor)
        OVERDUE: no signed audit of 2026Q3
        ┌ Audit reports ───────────────────────────────────────────────────────────────┐
        │audit quarter auditor      sample       marked    not ok state   seed         │
        │1     2026Q2  aud-okafor   25 of 812    25 of 25  1      signed  9001         │
        │2     2026Q3  aud-okafor   5 of 812     2 of 5    1      open    9002         │
        │    ┌ Draw a quarter's sample ───────────────────────────────────────────┐    │
        │    │ quarter  2026Q3        e.g. 2026Q3, one that has begun             │    │
        │    │    size  25            access events to draw                       │    │
        │    │    seed                empty: a random one                         │    │
        │    │                                                                    │    │
        │    │The seed is recorded with the report: anyone can redo the draw.     │    │
        │    │                                                                    │    │
        │    │                                                                    │    │
        │    │                                                                    │    │
        │    └────────────────────────────────────────────────────────────────────┘    │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         Tab  next field  Enter  draw  Esc  cancel
    "#]],
    );
    // No seed typed: the driver is asked for one; nothing is sent yet.
    assert_eq!(key(&mut app, Key::Enter), [Effect::DrawSeed]);
    let (asked, request) = sent(&app.update(Msg::Seed(Ok(42))));
    assert_eq!(asked, Asked::AuditSample);
    assert_eq!(
        request,
        ControlRequest::AuditSample {
            token: [3; 32],
            quarter: "2026Q3".into(),
            seed: 42,
            size: 25,
        }
    );
    // The node refuses (an Administrator may see reports, not draw).
    app.update(Msg::Answer(
        Asked::AuditSample,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "user 'aud-okafor' (auditor) has no current ALPR training on record".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · aud-okafor (auditor)
        OVERDUE: no signed audit of 2026Q3
        ┌ Audit reports ───────────────────────────────────────────────────────────────┐
        │audit quarter auditor      sample       marked    not ok state   seed         │
        │1     2026Q2  aud-okafor   25 of 812    25 of 25  1      signed  9001         │
        │2     2026Q3  aud-okafor   5 of 812     2 of 5    1      open    9002         │
        │    ┌ Draw a quarter's sample ───────────────────────────────────────────┐    │
        │    │ quarter  2026Q3        e.g. 2026Q3, one that has begun             │    │
        │    │    size  25            access events to draw                       │    │
        │    │    seed                empty: a random one                         │    │
        │    │                                                                    │    │
        │    │The seed is recorded with the report: anyone can redo the draw.     │    │
        │    │refused: user 'aud-okafor' (auditor) has no current ALPR training on│    │
        │    │record                                                              │    │
        │    │                                                                    │    │
        │    └────────────────────────────────────────────────────────────────────┘    │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         Tab  next field  Enter  draw  Esc  cancel
    "#]],
    );
    // A seed typed is used as it is, to redo a draw.
    key(&mut app, Key::Tab);
    key(&mut app, Key::Backspace);
    key(&mut app, Key::Backspace);
    typed(&mut app, "30");
    key(&mut app, Key::Tab);
    typed(&mut app, "9002");
    let (_, request) = sent(&key(&mut app, Key::Enter));
    assert!(matches!(
        request,
        ControlRequest::AuditSample {
            seed: 9002,
            size: 30,
            ..
        }
    ));
    // A seed that comes late, or to a form that has one, draws nothing.
    assert!(app.update(Msg::Seed(Ok(7))).is_empty());
    let effects = app.update(Msg::Answer(
        Asked::AuditSample,
        Ok(ControlResponse::AuditDrawn { id: 3 }),
    ));
    assert_eq!(sent(&effects).0, Asked::Audits);
    assert!(
        screen(&app, 80, 24)
            .contains("audit 3: sample of 30 events of 2026Q3 drawn with seed 9002")
    );
    // The new report opens at its first event.
    app.update(Msg::Answer(
        Asked::Audits,
        audits(vec![
            report(1, "2026Q2", 25, 25, true),
            report(2, "2026Q3", 5, 2, false),
            report(3, "2026Q3", 30, 0, false),
        ]),
    ));
    assert!(screen(&app, 80, 24).contains("Audit 3 of 2026Q3 · event 1 of 30"));
}

#[test]
fn the_sample_form_sends_nothing_while_a_field_is_missing_or_wrong() {
    let mut app = at_the_wizard();
    key(&mut app, Key::Char('n'));
    for _ in 0..6 {
        key(&mut app, Key::Backspace);
    }
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("quarter: type the quarter to audit"));
    typed(&mut app, "2026-3");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("'2026-3' is not a quarter: use e.g. 2026Q4"));
    for _ in 0..2 {
        key(&mut app, Key::Backspace);
    }
    typed(&mut app, "Q3");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Backspace);
    key(&mut app, Key::Backspace);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("size: type how many events to draw"));
    typed(&mut app, "25");
    key(&mut app, Key::Tab);
    typed(&mut app, "lucky");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("seed: 'lucky' is not a whole number"));
    // The system has no randomness to give: the form says so.
    for _ in 0..5 {
        key(&mut app, Key::Backspace);
    }
    assert_eq!(key(&mut app, Key::Enter), [Effect::DrawSeed]);
    assert!(
        app.update(Msg::Seed(Err("/dev/urandom: not found".into())))
            .is_empty()
    );
    assert!(screen(&app, 80, 24).contains("no random seed from the system"));
    key(&mut app, Key::Esc);
    assert!(app.wizard.drawing.is_none());
}

#[test]
fn each_event_is_marked_in_turn_and_the_report_signed() {
    let mut app = at_the_wizard();
    key(&mut app, Key::Down);
    // Enter opens the report at its first unmarked event.
    assert!(key(&mut app, Key::Enter).is_empty());
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · aud-okafor (auditor)
            ┌ Audit 2 of 2026Q3 · event 3 of 5 ────────────────────────────────────────────┐
            │  event  0707070707070707/114                                                 │
            │finding  < choose >  Space changes                                            │
            │   note                                            the finding, in words      │
            │ marked  2 of 5, 1 not compliant                                              │
            │    who  ofc-ruiz · search · 2026-11-03 12:00:00 UTC · success                │
            │    why  investigation: stolen vehicle report · case 26-4411                  │
            │   what  search pattern 7AB* from any to any: 2 matches, 2 shown              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌ Sampled events ──────────────────────────────────────────────────────────────┐
            │item event                    finding       note                              │
            │1    0707070707070707/100     compliant     purpose and case on record        │
            │2    0707070707070707/107     NOT COMPLIANT no case number for an investigatio│
            │3    0707070707070707/114     unmarked                                        │
            │4    0707070707070707/121     unmarked                                        │
            │5    0707070707070707/128     unmarked                                        │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             ↑↓  event  Space  finding  Tab  note  Enter  mark  S  sign  Esc  reports
        "#]],
    );
    // No finding is assumed.
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("finding: choose compliant or not compliant"));
    key(&mut app, Key::Char(' '));
    key(&mut app, Key::Tab);
    typed(&mut app, "stolen-vehicle hit, case 26-4411");
    let (asked, request) = sent(&key(&mut app, Key::Enter));
    assert_eq!(asked, Asked::AuditMark);
    assert_eq!(
        request,
        ControlRequest::AuditMark {
            token: [3; 32],
            report: 2,
            item: 3,
            compliant: true,
            note: "stolen-vehicle hit, case 26-4411".into(),
        }
    );
    let effects = app.update(Msg::Answer(Asked::AuditMark, Ok(ControlResponse::Done)));
    assert_eq!(sent(&effects).0, Asked::Audits);
    let mut marked = report(2, "2026Q3", 5, 3, false);
    marked.items[2].3 = "stolen-vehicle hit, case 26-4411".into();
    app.update(Msg::Answer(
        Asked::Audits,
        audits(vec![report(1, "2026Q2", 25, 25, true), marked]),
    ));
    // On to the next event.
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · aud-okafor (auditor)
            ┌ Audit 2 of 2026Q3 · event 4 of 5 ────────────────────────────────────────────────────────────────────────────────────┐
            │  event  0707070707070707/121                                                                                         │
            │finding  < choose >  Space changes                                                                                    │
            │   note                                            the finding, in words                                              │
            │ marked  3 of 5, 1 not compliant                                                                                      │
            │    who  ofc-ruiz · search · 2026-11-03 13:00:00 UTC · success                                                        │
            │    why  investigation: stolen vehicle report · case 26-4411                                                          │
            │   what  search pattern 7AB* from any to any: 3 matches, 3 shown                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            ┌ Sampled events ──────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │item event                    finding       note                                                                      │
            │1    0707070707070707/100     compliant     purpose and case on record                                                │
            │2    0707070707070707/107     NOT COMPLIANT no case number for an investigation                                       │
            │3    0707070707070707/114     compliant     stolen-vehicle hit, case 26-4411                                          │
            │4    0707070707070707/121     unmarked                                                                                │
            │5    0707070707070707/128     unmarked                                                                                │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            │                                                                                                                      │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            event 3 of 5 marked compliant
             ↑↓  event  Space  finding  Tab  note  Enter  mark  S  sign  Esc  reports
        "#]],
    );
    // Back one: the node's finding and note are shown.
    key(&mut app, Key::Up);
    assert!(screen(&app, 80, 24).contains("stolen-vehicle hit, case 26-4411"));
    key(&mut app, Key::Down);
    // The last sampled event is not held here: the screen says so.
    key(&mut app, Key::Down);
    assert!(screen(&app, 80, 24).contains("this event is not held here"));
    key(&mut app, Key::Up);
    key(&mut app, Key::Left);
    let (_, request) = sent(&key(&mut app, Key::Enter));
    assert!(matches!(
        request,
        ControlRequest::AuditMark {
            item: 4,
            compliant: false,
            ..
        }
    ));
    app.update(Msg::Answer(Asked::AuditMark, Ok(ControlResponse::Done)));
    let mut marked = report(2, "2026Q3", 5, 4, false);
    marked.items[2].3 = "stolen-vehicle hit, case 26-4411".into();
    marked.items[3] = (NodeId([7; 32]), 121, Some(false), String::new());
    app.update(Msg::Answer(
        Asked::Audits,
        audits(vec![report(1, "2026Q2", 25, 25, true), marked]),
    ));
    // Signing asks first; the node refuses while events are unmarked.
    key(&mut app, Key::Char('S'));
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("Sign audit 2? Its findings become final. y signs"),
        "{shown}"
    );
    assert!(shown.contains("y  yes, do it"), "{shown}");
    let (asked, request) = sent(&key(&mut app, Key::Char('y')));
    assert_eq!(asked, Asked::AuditSign);
    assert_eq!(
        request,
        ControlRequest::AuditSign {
            token: [3; 32],
            report: 2
        }
    );
    app.update(Msg::Answer(
        Asked::AuditSign,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Invalid,
            message: "1 sampled events are not marked yet".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · aud-okafor (auditor)
            ┌ Audit 2 of 2026Q3 · event 5 of 5 ────────────────────────────────────────────┐
            │  event  0707070707070707/128                                                 │
            │finding  < choose >  Space changes                                            │
            │   note                                            the finding, in words      │
            │ marked  4 of 5, 2 not compliant                                              │
            │this event is not held here (purged, or not yet received) or does not verify  │
            │refused: 1 sampled events are not marked yet                                  │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌ Sampled events ──────────────────────────────────────────────────────────────┐
            │item event                    finding       note                              │
            │1    0707070707070707/100     compliant     purpose and case on record        │
            │2    0707070707070707/107     NOT COMPLIANT no case number for an investigatio│
            │3    0707070707070707/114     compliant     stolen-vehicle hit, case 26-4411  │
            │4    0707070707070707/121     NOT COMPLIANT                                   │
            │5    0707070707070707/128     unmarked                                        │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘
            event 4 of 5 marked not compliant
             ↑↓  event  Space  finding  Tab  note  Enter  mark  S  sign  Esc  reports
        "#]],
    );
    key(&mut app, Key::Char('S'));
    sent(&key(&mut app, Key::Char('y')));
    let effects = app.update(Msg::Answer(Asked::AuditSign, Ok(ControlResponse::Done)));
    assert_eq!(sent(&effects).0, Asked::Audits);
    assert!(app.wizard.marking.is_none());
    assert!(screen(&app, 80, 24).contains("audit signed"));
}

#[test]
fn a_role_the_node_does_not_allow_sees_its_refusal() {
    let mut app = logged_in_as("ofc-ruiz", RoleWire::Officer);
    key(&mut app, Key::Char('m'));
    let (asked, _) = sent(&key(&mut app, Key::Char('5')));
    assert_eq!(asked, Asked::Audits);
    app.update(Msg::Answer(
        Asked::Audits,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "user 'ofc-ruiz' (officer) may not see audit reports".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · ofc-ruiz (officer)
        ┌ Quarterly audit ─────────────────────────────────────────────────────────────┐
        │refused: user 'ofc-ruiz' (officer) may not see audit reports                  │
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

         ↑↓ Enter  mark  n  draw a sample  S  sign  r  refresh  Esc  back
    "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
        ALPR console · car-12 (vehicle) · ofc-ruiz (officer)
        ┌ Quarterly audit ─────────────────────────────────────────────────────────────────────────────────────────────────────┐
        │refused: user 'ofc-ruiz' (officer) may not see audit reports                                                          │
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

         ↑↓ Enter  mark  n  draw a sample  S  sign  r  refresh  Esc  back
    "#]],
    );
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Admin, "back to the menu it came from");
}

#[test]
fn logging_out_forgets_the_sample() {
    let mut app = at_the_wizard();
    key(&mut app, Key::Enter);
    key(&mut app, Key::Esc);
    key(&mut app, Key::Esc);
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Dashboard);
    key(&mut app, Key::Char('l'));
    assert!(app.wizard.reports.is_empty() && app.wizard.marking.is_none());
    assert!(app.wizard.overdue.is_none());
}
