//! The hotlists screen: bulk lists with versions and ages, the local
//! entries, adding one (a plate or a pattern), re-prioritizing and
//! removing one, and the node's refusals.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, ErrorKind, HotlistWire, LocalEntryWire,
};
use alpr_protocol::hotlist::{Category, Detail, Entry, Priority};
use alpr_protocol::identity::NodeId;
use alpr_protocol::plate::PlateText;
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

fn local(
    id: u64,
    plate: &str,
    pattern: Option<&str>,
    priority: Priority,
    removed: bool,
) -> LocalEntryWire {
    LocalEntryWire {
        id,
        entry: Entry {
            plate: PlateText::parse(plate).unwrap(),
            region: Some("CA".into()),
            category: Category::StolenVehicle,
            reference: format!("R{id}"),
            detail: Detail {
                priority,
                expires: Some(Timestamp(NOW.0 + 10 * 86_400_000)),
                notes: "robbery 26-7781".into(),
                ..Detail::default()
            },
        },
        added_by: "sgt-park".into(),
        added_at: Timestamp(NOW.0 - 86_400_000),
        removed: removed.then(|| ("chief".to_string(), NOW)),
        pattern: pattern.map(str::to_string),
        edited: None,
    }
}

fn listed(app: &mut App) {
    app.update(Msg::Answer(
        Asked::Hotlists,
        Ok(ControlResponse::Hotlists {
            lists: vec![HotlistWire {
                list: "ncic-stolen".into(),
                version: 42,
                entries: 181_220,
                content: [0; 32],
                published_at: Timestamp(NOW.0 - 30 * 3_600_000),
                author: NodeId([1; 32]),
            }],
            local: vec![
                local(1, "7AB12", Some("7AB*12"), Priority::High, false),
                local(2, "BOLO77", None, Priority::Normal, false),
                local(3, "4GHJ552", None, Priority::Low, true),
            ],
        }),
    ));
}

#[test]
fn the_hotlists_at_80x24_and_wide() {
    let mut app = logged_in();
    let effects = app.update(Msg::Key(Key::Char('h')));
    assert_eq!(app.screen, Screen::Hotlists);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(
            Asked::Hotlists,
            ControlRequest::ListHotlists { .. }
        )]
    ));
    listed(&mut app);
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Bulk lists: STALE, older than the node's limit ──────────────────────────────┐
        │list                         version  entries   published    by               │
        │ncic-stolen                  42       181220    30 h ago     0101010101010101 │
        └──────────────────────────────────────────────────────────────────────────────┘
        ┌ Local entries (the fleet's own list) ────────────────────────────────────────┐
        │id   plate      region prio    category        state            added by   rea│
        │1    7AB*12     CA     high    stolen-vehicle  until 2026-12-10 sgt-park   rob│
        │2    BOLO77     CA     normal  stolen-vehicle  until 2026-12-10 sgt-park   rob│
        │3    4GHJ552    CA     low     stolen-vehicle  removed by chief sgt-park   rob│
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

         n  new entry  p  priority  x  remove  r  refresh  Esc  back
    "#]],
    );
    check(
        &app,
        130,
        30,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Bulk lists: STALE, older than the node's limit ────────────────────────────────────────────────────────────────────────────────┐
        │list                                                                           version  entries   published    by               │
        │ncic-stolen                                                                    42       181220    30 h ago     0101010101010101 │
        └────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
        ┌ Local entries (the fleet's own list) ──────────────────────────────────────────────────────────────────────────────────────────┐
        │id   plate      region prio    category        state            added by   reason                                               │
        │1    7AB*12     CA     high    stolen-vehicle  until 2026-12-10 sgt-park   robbery 26-7781                                      │
        │2    BOLO77     CA     normal  stolen-vehicle  until 2026-12-10 sgt-park   robbery 26-7781                                      │
        │3    4GHJ552    CA     low     stolen-vehicle  removed by chief sgt-park   robbery 26-7781                                      │
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

         n  new entry  p  priority  x  remove  r  refresh  Esc  back
    "#]],
    );
}

#[test]
fn a_local_entry_is_added_from_the_form_and_a_pattern_is_kept() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('h')));
    listed(&mut app);
    app.update(Msg::Key(Key::Char('n')));
    // No plate: the form says so before anything is sent.
    assert!(app.update(Msg::Key(Key::Enter)).is_empty());
    assert!(screen(&app, 80, 24).contains("type a plate"));
    typed(&mut app, "8x?z*");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "ca");
    app.update(Msg::Key(Key::Tab));
    app.update(Msg::Key(Key::Left)); // bolo, back one: amber
    app.update(Msg::Key(Key::Tab));
    app.update(Msg::Key(Key::Left)); // normal, back one: high
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "26-9001");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "amber alert, grey sedan");
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "2026-12-31");
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Bulk lists: STALE, older than the node's limit ──────────────────────────────┐
        │list                         version  entries   published    by               │
        │ncic-stolen                  42       181220    30 h ago     0101010101010101 │
        └────┌ New local entry ───────────────────────────────────────────────────┐────┘
        ┌ Loc│     plate  8x?z*                     or 7AB*12, ?                  │────┐
        │id  │    region  ca                        CA, D, …                      │ rea│
        │1   │  category  < amber >                                               │ rob│
        │2   │  priority  < high >                                                │ rob│
        │3   │ reference  26-9001                   case or report                │ rob│
        │    │    reason  amber alert, grey sedan   why it is listed              │    │
        │    │   expires  2026-12-31                date, UTC; empty: none        │    │
        │    │                                                                    │    │
        │    │It reaches every node of the fleet. Enter adds, Esc cancels.        │    │
        │    │refused: type a plate, or a pattern with * and ?                    │    │
        │    │                                                                    │    │
        │    │                                                                    │    │
        │    └────────────────────────────────────────────────────────────────────┘    │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         Tab  next field  Space  change  Enter  add  Esc  cancel
    "#]],
    );
    let effects = app.update(Msg::Key(Key::Enter));
    let [Effect::Send(Asked::AddEntry, ControlRequest::AddHotlistEntry { entry, pattern, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(pattern.as_deref(), Some("8x?z*"));
    assert_eq!(entry.plate.as_str(), "8XZ");
    assert_eq!(entry.region.as_deref(), Some("CA"));
    assert_eq!(entry.category, Category::Amber);
    assert_eq!(entry.detail.priority, Priority::High);
    assert_eq!(entry.detail.notes, "amber alert, grey sedan");
    assert!(entry.detail.expires.is_some());
    // The node refuses (a role that may not edit lists): the form says why.
    app.update(Msg::Answer(
        Asked::AddEntry,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "role officer may not edit hotlists".into(),
        }),
    ));
    assert!(screen(&app, 80, 24).contains("refused: role officer may not edit"));
    let effects = app.update(Msg::Answer(
        Asked::AddEntry,
        Ok(ControlResponse::HotlistEntryAdded { id: 4 }),
    ));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(
            Asked::Hotlists,
            ControlRequest::ListHotlists { .. }
        )]
    ));
    assert!(app.hotlists.adding.is_none());
    assert!(screen(&app, 80, 24).contains("local hotlist entry 4 added"));
}

#[test]
fn an_entry_is_reprioritized_and_removed_after_a_confirmation() {
    let mut app = logged_in();
    app.update(Msg::Key(Key::Char('h')));
    listed(&mut app);
    app.update(Msg::Key(Key::Down));
    let effects = app.update(Msg::Key(Key::Char('p')));
    let [Effect::Send(Asked::EditEntry, ControlRequest::EditHotlistEntry { id, edit, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!((*id, edit.priority), (2, Some(Priority::Low)));
    // x asks first; any key but y keeps the entry.
    assert!(app.update(Msg::Key(Key::Char('x'))).is_empty());
    assert!(screen(&app, 100, 24).contains("remove entry 2?"));
    assert!(app.update(Msg::Key(Key::Char('n'))).is_empty());
    assert!(app.hotlists.adding.is_none());
    app.update(Msg::Key(Key::Char('x')));
    let effects = app.update(Msg::Key(Key::Char('y')));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(
            Asked::RemoveEntry,
            ControlRequest::RemoveHotlistEntry { id: 2, .. }
        )]
    ));
    // A removed entry cannot be removed again.
    app.update(Msg::Key(Key::Down));
    assert!(app.update(Msg::Key(Key::Char('x'))).is_empty());
    assert!(app.hotlists.confirm_remove.is_none());
}
