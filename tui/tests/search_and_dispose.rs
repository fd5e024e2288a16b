//! The search screens (form, results, a read with its crop and overview)
//! and the alert disposition form: snapshots at 80x24 and wide, and what
//! each key and answer sends.

#![allow(clippy::unwrap_used)]

mod support;

use alpr_protocol::Timestamp;
use alpr_protocol::alert::{
    AlertBody, DispositionBody, Hit as HitBody, HitKind, ListRef, Outcome, RecordRef,
};
use alpr_protocol::control::{
    AlertWire, ControlRequest, ControlResponse, DispositionWire, ErrorKind, EventWire, Hit,
    PurposeKindWire, QueryWire,
};
use alpr_protocol::hotlist::{Category, Detail, Entry, Priority, Vehicle};
use alpr_protocol::identity::NodeId;
use alpr_protocol::plate::PlateText;
use alpr_protocol::record::ImageKind;
use alpr_tui::app::{App, Asked, Effect, Key, Msg, Screen};
use expect_test::expect;
use support::*;

/// A real JPEG: a dark plate-like band with light marks, as a camera's
/// crop would be (the console decodes what the node sends).
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let mark = (x / 6) % 2 == 0 && y > height / 4 && y < 3 * height / 4;
        if mark {
            image::Rgb([230, 230, 220])
        } else {
            image::Rgb([30, 40, 90])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

fn key(app: &mut App, k: Key) -> Vec<Effect> {
    app.update(Msg::Key(k))
}

/// The search form filled in: a plate, a day, an investigation with its case.
fn filled_search() -> (App, Vec<Effect>) {
    let mut app = logged_in();
    key(&mut app, Key::Char('s'));
    assert_eq!(app.screen, Screen::Search);
    typed(&mut app, "8xyz001");
    key(&mut app, Key::Tab); // O and 0
    key(&mut app, Key::Tab);
    typed(&mut app, "2026-11-29");
    key(&mut app, Key::Tab);
    typed(&mut app, "2026-11-29");
    key(&mut app, Key::Tab);
    typed(&mut app, "front");
    key(&mut app, Key::Tab);
    typed(&mut app, "car-12");
    key(&mut app, Key::Tab); // purpose: investigation
    key(&mut app, Key::Tab);
    typed(&mut app, "stolen vehicle report");
    key(&mut app, Key::Tab);
    typed(&mut app, "26-4411");
    let effects = key(&mut app, Key::Enter);
    (app, effects)
}

#[test]
fn a_search_states_its_purpose_and_the_form_says_what_is_wrong() {
    let mut app = logged_in();
    key(&mut app, Key::Char('s'));
    // No plate: nothing is sent, the form says so.
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("type a plate"));
    typed(&mut app, "8XYZ*");
    key(&mut app, Key::Tab);
    key(&mut app, Key::Tab);
    typed(&mut app, "29 Nov");
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("'29 Nov' is not a time"));
    for _ in 0..6 {
        key(&mut app, Key::Backspace);
    }
    // No reason: nothing is sent either.
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("say why you search"));
    // The node decides the rest: an investigation with no case is refused there.
    typed(&mut app, "follow up");
    let effects = key(&mut app, Key::Enter);
    let [Effect::Send(Asked::Search, ControlRequest::Search { query, purpose, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(query, &QueryWire::Pattern("8XYZ*".into()));
    assert_eq!(purpose.kind, Some(PurposeKindWire::Investigation));
    assert_eq!(purpose.case, None);
    app.update(Msg::Answer(
        Asked::Search,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Refused,
            message: "an investigation needs a case number (policy V.A.3)".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Search reads ────────────────────────────────────────────────────────────────┐
            │      plate  8XYZ*                         * any run, ? one character         │
            │    O and 0  < distinct >  Space changes                                      │
            │ from (UTC)                                2026-12-07 or 2026-12-07 14:30     │
            │   to (UTC)                                empty: no bound                    │
            │     camera                                empty: every camera                │
            │       node                                name or id; empty: every node      │
            │                                                                              │
            │    purpose  < investigation >  Space changes                                 │
            │     reason  follow up                     why you search                     │
            │       case                                an investigation needs one         │
            │                                                                              │
            │refused: an investigation needs a case number (policy V.A.3)                  │
            │Your name, the time, the purpose and the query are logged.                    │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             Tab  next field  Space  change  Enter  search  Esc  back
        "#]],
    );
}

#[test]
fn the_search_form_at_80x24_and_wide() {
    let (app, effects) = filled_search();
    let [
        Effect::Send(
            Asked::Search,
            ControlRequest::Search {
                query,
                from,
                to,
                purpose,
                limit,
                camera,
                node,
                ..
            },
        ),
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(query, &QueryWire::Plate("8xyz001".into()));
    assert_eq!(camera.as_deref(), Some("front"));
    assert_eq!(node.as_deref(), Some("car-12"));
    // A date alone is the whole day, UTC.
    assert_eq!(from.unwrap().0 + 86_400_000 - 1, to.unwrap().0);
    assert_eq!(purpose.reason.as_deref(), Some("stolen vehicle report"));
    assert_eq!(purpose.case.as_deref(), Some("26-4411"));
    assert_eq!(*limit, 100);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Search reads ────────────────────────────────────────────────────────────────┐
            │      plate  8xyz001                       * any run, ? one character         │
            │    O and 0  < distinct >  Space changes                                      │
            │ from (UTC)  2026-11-29                    2026-12-07 or 2026-12-07 14:30     │
            │   to (UTC)  2026-11-29                    empty: no bound                    │
            │     camera  front                         empty: every camera                │
            │       node  car-12                        name or id; empty: every node      │
            │                                                                              │
            │    purpose  < investigation >  Space changes                                 │
            │     reason  stolen vehicle report         why you search                     │
            │       case  26-4411                       an investigation needs one         │
            │                                                                              │
            │searching…                                                                    │
            │Your name, the time, the purpose and the query are logged.                    │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             Tab  next field  Space  change  Enter  search  Esc  back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Search reads ────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │      plate  8xyz001                       * any run, ? one character                                                 │
            │    O and 0  < distinct >  Space changes                                                                              │
            │ from (UTC)  2026-11-29                    2026-12-07 or 2026-12-07 14:30                                             │
            │   to (UTC)  2026-11-29                    empty: no bound                                                            │
            │     camera  front                         empty: every camera                                                        │
            │       node  car-12                        name or id; empty: every node                                              │
            │                                                                                                                      │
            │    purpose  < investigation >  Space changes                                                                         │
            │     reason  stolen vehicle report         why you search                                                             │
            │       case  26-4411                       an investigation needs one                                                 │
            │                                                                                                                      │
            │searching…                                                                                                            │
            │Your name, the time, the purpose and the query are logged.                                                            │
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

             Tab  next field  Space  change  Enter  search  Esc  back
        "#]],
    );
}

fn summary(plate: &str, seq: u64, at: i64) -> alpr_protocol::control::ReadSummary {
    let mut r = read(plate, seq, at);
    r.location = Some((38.581_57, -121.494_4));
    r
}

fn found(app: &mut App) {
    app.update(Msg::Answer(
        Asked::Search,
        Ok(ControlResponse::Found {
            hits: vec![
                Hit::Read(summary("8XYZ001", 41, NOW.0 - 3_600_000)),
                Hit::Damaged {
                    origin: NodeId([7; 32]),
                    seq: 17,
                    reason: "the seal does not open".into(),
                },
                Hit::Read(summary("8XYZ001", 12, NOW.0 - 30 * 3_600_000)),
            ],
            total: 3,
        }),
    ));
}

#[test]
fn results_open_a_read_with_its_crop_and_overview_under_the_same_purpose() {
    let (mut app, _) = filled_search();
    found(&mut app);
    assert_eq!(app.screen, Screen::Results);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ 8xyz001 · 3 matches, 3 shown · investigation 26-4411 ────────────────────────┐
            │time (UTC)          plate       conf  region camera   node             seq    │
            │2026-11-29 23:53:20 8XYZ001     97%   CA     front    0707070707070707 41     │
            │-                   DAMAGED                  the seal 0707070707070707 17     │
            │2026-11-28 18:53:20 8XYZ001     97%   CA     front    0707070707070707 12     │
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

             ↑↓  choose  Enter  open the read  Esc  back
        "#]],
    );
    // A damaged record does not open; it says why.
    key(&mut app, Key::Down);
    assert!(key(&mut app, Key::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("does not open: the seal does not open"));
    key(&mut app, Key::Down);
    let effects = key(&mut app, Key::Enter);
    let [Effect::Send(Asked::ViewRead, ControlRequest::ViewRead { purpose, seq, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*seq, 12);
    assert_eq!(purpose.case.as_deref(), Some("26-4411"));
    let effects = app.update(Msg::Answer(
        Asked::ViewRead,
        Ok(ControlResponse::Read {
            read: summary("8XYZ001", 12, NOW.0 - 30 * 3_600_000),
            crop_jpeg: jpeg(96, 24),
        }),
    ));
    // The overview is its own access, under the same purpose.
    let [Effect::Send(Asked::Overview, ControlRequest::ViewImage { kind, purpose, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*kind, ImageKind::Overview);
    assert_eq!(purpose.reason.as_deref(), Some("stolen vehicle report"));
    assert!(screen(&app, 80, 24).contains("asking the node for the overview"));
    app.update(Msg::Answer(
        Asked::Overview,
        Ok(ControlResponse::Image {
            jpeg: jpeg(320, 180),
        }),
    ));
    let shown = screen(&app, 80, 24);
    // Both images are drawn (half-blocks here).
    assert!(shown.matches(['▀', '▄']).count() > 200, "{shown}");
    check(
        &app,
        80,
        24,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Read ────────────────────────────────────┐┌ Plate ───────────────────────────┐
        │plate    8XYZ001  97%                     ││▀▄▄▄▄▀▀▀▀▀▀▄▄▄▄▀▄▀▄▄▄▄▀▀▀▀▀▀▄▄▄▄▀▀│
        │region   CA                               ││▄▄▄▄▄▄▄▀▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▀▄▄▄▄▄▄▄▄▀│
        │time     2026-11-28 18:53:20 UTC          ││▀▀▀▄▀▀▄▀▀▀▀ ▀▀▀  ▀▀▀▄▀▀▄▀▀▀▀ ▀▀▀ ▀│
        │camera   front                            ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
        │where    38.58157, -121.49440 (no fix)    ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
        │read     0707070707070707/12              ││                                  │
        │opening this read is logged               ││                                  │
        └──────────────────────────────────────────┘└──────────────────────────────────┘
        ┌ Overview ────────────────────────────────────────────────────────────────────┐
        │                                                                              │
        │                                                                              │
        │▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄                                          │
        │                                                                              │
        │                                                                              │
        │                                                                              │
        │                                   ▀                                          │
        │▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀                                          │
        │                                                                              │
        │                                                                              │
        └──────────────────────────────────────────────────────────────────────────────┘

         Esc  back to the results
    "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
        ALPR console · car-12 (vehicle) · chief (administrator)
        ┌ Read ────────────────────────────────────┐┌ Plate ───────────────────────────────────────────────────────────────────┐
        │plate    8XYZ001  97%                     ││▄▀▀▀▀▄▀▄▀▄▄▄▄▀▄▀▀▀▀▄▀▄▀▄▄▄▄▀▄▀▀▀▀▄▀▄▀▄▄▄▄▀▄▀▀▀▀▄▀▄▀▄▄▄▄▀                  │
        │region   CA                               ││▄▄▄▄▀▀▄▄▄▄▄▀▄▀▄▄▄▄▀▀▄▄▄▄▄▀▄▀▄▄▄▄▀▀▄▄▄▄▄▀▄▀▄▄▄▄▀▀▄▄▄▄▄▀▄▀                  │
        │time     2026-11-28 18:53:20 UTC          ││▄▄▄▄▀▀▄▄▄▄▄▄▀▄▄▄▄▄▀▀▄▄▄▄▄▄▀▄▄▄▄▄▀▀▄▄▄▄▄▄▀▄▄▄▄▄▀▀▄▄▄▄▄▄▀▀                  │
        │camera   front                            ││                                                                          │
        │where    38.58157, -121.49440 (no fix)    ││▀▄▀▄▀▄▀▄▀▄▄▄▀▄▀▄▀▄▀▄▀▄▀▄▄▄▀▄▀▄▀▄▀▄▀▄▀▄▄▄▀▄▀▄▀▄▀▄▀▄▀▄▄▄▀▄                  │
        │read     0707070707070707/12              ││▀▀▀▀▄▄▀▀▀▀▀▀▀▀▀▀▀▀▄▄▀▀▀▀▀▀▀▀▀▀▀▀▄▄▀▀▀▀▀▀▀▀▀▀▀▀▄▄▀▀▀▀▀▀▀▄                  │
        │opening this read is logged               ││▀▄▄▀▄▄▄▀▀▀▀▀▀▀▀▄▄▀▄▄▄▀▀▀▀▀▀▀▀▄▄▀▄▄▄▀▀▀▀▀▀▀▀▄▄▀▄▄▄▀▀▀▀▀▀▄                  │
        └──────────────────────────────────────────┘└──────────────────────────────────────────────────────────────────────────┘
        ┌ Overview ────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄                                                             │
        │▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄                                                             │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        │▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀                                                             │
        │▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀                                                             │
        │                                                                                                                      │
        │                                                                                                                      │
        │                                                                                                                      │
        └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘

         Esc  back to the results
    "#]],
    );
    // Back to the results; the images leave with the screen.
    key(&mut app, Key::Esc);
    assert_eq!(app.screen, Screen::Results);
    assert!(app.read.is_none());
}

#[test]
fn an_image_that_does_not_decode_says_so_and_a_missing_overview_too() {
    let (mut app, _) = filled_search();
    found(&mut app);
    key(&mut app, Key::Enter);
    app.update(Msg::Answer(
        Asked::ViewRead,
        Ok(ControlResponse::Read {
            read: summary("8XYZ001", 41, NOW.0 - 3_600_000),
            crop_jpeg: b"\xff\xd8 not a jpeg".to_vec(),
        }),
    ));
    app.update(Msg::Answer(
        Asked::Overview,
        Ok(ControlResponse::Image { jpeg: Vec::new() }),
    ));
    let shown = screen(&app, 120, 30);
    assert!(shown.contains("the image does not decode"), "{shown}");
    assert!(shown.contains("no overview held"), "{shown}");
}

fn alert_wire(seq: u64, disposed: Option<Outcome>) -> AlertWire {
    let origin = NodeId([7; 32]);
    AlertWire {
        origin,
        seq,
        raised_at: Timestamp(NOW.0 - 60_000),
        alert: AlertBody {
            read: RecordRef { origin, seq: 2 },
            read_at: Timestamp(NOW.0 - 61_000),
            plate: PlateText::parse("8XYZ001").unwrap(),
            read_region: Some("CA".into()),
            camera: "front".into(),
            list: ListRef {
                name: "ncic-stolen".into(),
                version: 42,
                published_at: Timestamp(NOW.0 - 5 * 3_600_000),
                local_id: None,
            },
            entry: Entry {
                plate: PlateText::parse("8XYZ001").unwrap(),
                region: Some("CA".into()),
                category: Category::StolenVehicle,
                reference: "V123456789".into(),
                detail: Detail {
                    priority: Priority::High,
                    vehicle: Vehicle {
                        year: Some(2019),
                        make: "Honda".into(),
                        model: "Civic".into(),
                        color: "grey".into(),
                    },
                    entered: None,
                    expires: None,
                    covert: false,
                    notes: "armed robbery suspect vehicle".into(),
                    source: "NCIC V".into(),
                },
            },
            pattern: None,
            hit: HitBody {
                kind: HitKind::Exact,
                score: 1.0,
                text: "8XYZ001".into(),
                from_candidate: false,
                differs: Vec::new(),
                region_mismatch: false,
            },
            stale: false,
            retro: false,
        },
        dispositions: disposed
            .map(|outcome| DispositionWire {
                origin,
                seq: seq + 1,
                at: NOW,
                body: DispositionBody {
                    alert: RecordRef { origin, seq },
                    outcome,
                    reason: String::new(),
                    by: "ofc-ruiz".into(),
                },
            })
            .into_iter()
            .collect(),
    }
}

/// Live, with one high alert on screen, the cursor on it.
fn live_with_alert() -> App {
    let mut app = logged_in();
    key(&mut app, Key::Char('v'));
    typed(&mut app, "patrol, district 4");
    key(&mut app, Key::Enter);
    app.update(Msg::LiveOpened(Ok(())));
    app.update(Msg::Live(
        vec![
            EventWire::Read(read("8XYZ001", 2, NOW.0 - 61_000)),
            alert("8XYZ001", 1, Priority::High),
        ],
        0,
    ));
    app
}

#[test]
fn an_alert_opens_its_disposition_form_with_the_crop_entry_and_vehicle() {
    let mut app = live_with_alert();
    let effects = key(&mut app, Key::Enter);
    let [Effect::Send(Asked::ShowAlert, ControlRequest::ShowAlert { purpose, seq, .. })] =
        effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*seq, 1);
    assert_eq!(purpose.kind, Some(PurposeKindWire::Alert));
    assert_eq!(purpose.reason.as_deref(), Some("patrol, district 4"));
    app.update(Msg::Answer(
        Asked::ShowAlert,
        Ok(ControlResponse::Alert {
            alert: Box::new(alert_wire(1, None)),
            crop: Some(jpeg(96, 24)),
            stale: false,
        }),
    ));
    assert_eq!(app.screen, Screen::Disposition);
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Alert 0707070707070707/1 ────────────────────┐┌ Plate as read ───────────────┐
            │HIGH 8XYZ001 stolen-vehicle · exact 100%      ││▄▄▄▄▄▄▀▄▄▄▄▄▄▀▄▄▄▄▄▄▄▀▄▄▄▄▄▄▀▀│
            │entry    8XYZ001 CA  ref V123456789           ││▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▀│
            │vehicle  2019 Honda Civic, grey               ││▀▀▀▀▀▀▄▀▀▀▀▀▀▀▀▀▀▀▀▀▀▄▀▀▀▀▀▀▀▄│
            │list     ncic-stolen v42 (published 5 h ago)  ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │from NCIC V                                   ││                              │
            │read     2026-11-30 00:52:19 UTC on front     ││                              │
            │notes    armed robbery suspect vehicle        ││                              │
            │                                              ││                              │
            │                                              ││                              │
            │                                              ││                              │
            │                                              ││                              │
            │                                              ││                              │
            └──────────────────────────────────────────────┘└──────────────────────────────┘
            ┌ Disposition ─────────────────────────────────────────────────────────────────┐
            │outcome   confirmed   misread   wrong-state   dismissed                       │
            │reason                                                                        │
            │a dismissal needs a reason; the disposition is signed with your name          │
            │                                                                              │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             ←→  outcome  Enter  record  Esc  back
        "#]],
    );
    check(
        &app,
        120,
        30,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Alert 0707070707070707/1 ────────────────────────────────────────────┐┌ Plate as read ───────────────────────────────┐
            │HIGH 8XYZ001 stolen-vehicle · exact 100%                              ││▄▀▀▀▄▀▄▄▄▄▀▀▄▀▀▄ ▄▀▄▄▄▀▄▀▀▀▄▀▄▄▄▄▀▀▄▀▀▄ ▄▀▄▄▄▀│
            │entry    8XYZ001 CA  ref V123456789                                   ││▄▄▄▄▀▄▄▄▄▄▄▄▄▄▄▀▄▄▄▄▄▄▄▄▄▄▄▀▄▄▄▄▄▄▄▄▄▄▀▄▄▄▄▄▄▀│
            │vehicle  2019 Honda Civic, grey                                       ││ ▀▀▄  ▀ ▀▀    ▀  ▀▄▀ ▄  ▀▀▄  ▀ ▀▀    ▀  ▀▄▀ ▄▀│
            │list     ncic-stolen v42 (published 5 h ago) from NCIC V              ││▀▄▀▀▄ ▄ ▄▄  ▄▀▀▀▄▄▀▄▄▀▄▀▄▀▀▄ ▄ ▄▄  ▄▀▀▀▄▄▀▄▄▀▄│
            │read     2026-11-30 00:52:19 UTC on front                             ││▀▀▀▀▄▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▄▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │notes    armed robbery suspect vehicle                                ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            │                                                                      ││                                              │
            └──────────────────────────────────────────────────────────────────────┘└──────────────────────────────────────────────┘
            ┌ Disposition ─────────────────────────────────────────────────────────────────────────────────────────────────────────┐
            │outcome   confirmed   misread   wrong-state   dismissed                                                               │
            │reason                                                                                                                │
            │a dismissal needs a reason; the disposition is signed with your name                                                  │
            │                                                                                                                      │
            │                                                                                                                      │
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘

             ←→  outcome  Enter  record  Esc  back
        "#]],
    );
}

#[test]
fn a_disposition_is_sent_refusals_shown_and_the_live_list_updated() {
    let mut app = live_with_alert();
    key(&mut app, Key::Enter);
    app.update(Msg::Answer(
        Asked::ShowAlert,
        Ok(ControlResponse::Alert {
            alert: Box::new(alert_wire(1, None)),
            crop: None,
            stale: true,
        }),
    ));
    // Dismissed, with no reason: the node refuses, the form says why.
    key(&mut app, Key::Left);
    let effects = key(&mut app, Key::Enter);
    let [
        Effect::Send(
            Asked::Dispose,
            ControlRequest::DisposeAlert {
                outcome, reason, ..
            },
        ),
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!((*outcome, reason.as_str()), (Outcome::Dismissed, ""));
    app.update(Msg::Answer(
        Asked::Dispose,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Invalid,
            message: "a dismissal needs a reason".into(),
        }),
    ));
    check(
        &app,
        80,
        24,
        expect![[r#"
            ALPR console · car-12 (vehicle) · chief (administrator)
            ┌ Alert 0707070707070707/1 ────────────────────┐┌ Plate as read ───────────────┐
            │HIGH 8XYZ001 stolen-vehicle · exact 100%      ││no plate image held           │
            │entry    8XYZ001 CA  ref V123456789           ││                              │
            │vehicle  2019 Honda Civic, grey               ││                              │
            │list     ncic-stolen v42 (published 5 h ago)  ││                              │
            │from NCIC V                                   ││                              │
            │read     2026-11-30 00:52:19 UTC on front     ││                              │
            │notes    armed robbery suspect vehicle        ││                              │
            │STALE LIST: confirm with dispatch             ││                              │
            │                                              ││                              │
            │                                              ││                              │
            │                                              ││                              │
            │                                              ││                              │
            └──────────────────────────────────────────────┘└──────────────────────────────┘
            ┌ Disposition ─────────────────────────────────────────────────────────────────┐
            │outcome   confirmed   misread   wrong-state   dismissed                       │
            │reason                                                                        │
            │a dismissal needs a reason; the disposition is signed with your name          │
            │refused: a dismissal needs a reason                                           │
            │                                                                              │
            └──────────────────────────────────────────────────────────────────────────────┘

             ←→  outcome  Enter  record  Esc  back
        "#]],
    );
    // Misread, with a reason.
    key(&mut app, Key::Left);
    key(&mut app, Key::Left);
    typed(&mut app, "plate is 8XYZ00I");
    let effects = key(&mut app, Key::Enter);
    let [
        Effect::Send(
            Asked::Dispose,
            ControlRequest::DisposeAlert {
                outcome, reason, ..
            },
        ),
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(
        (*outcome, reason.as_str()),
        (Outcome::Misread, "plate is 8XYZ00I")
    );
    // While the node answers, keys are not taken.
    assert!(key(&mut app, Key::Enter).is_empty());
    app.update(Msg::Answer(
        Asked::Dispose,
        Ok(ControlResponse::Disposed {
            origin: NodeId([7; 32]),
            seq: 1,
        }),
    ));
    assert_eq!(app.screen, Screen::Live);
    assert_eq!(app.live.alerts[0].disposed.as_deref(), Some("misread"));
    assert!(screen(&app, 80, 24).contains("alert 8XYZ001 misread"));
}

#[test]
fn a_closed_alert_shows_who_closed_it_and_logout_forgets_what_was_seen() {
    let mut app = live_with_alert();
    key(&mut app, Key::Enter);
    app.update(Msg::Answer(
        Asked::ShowAlert,
        Ok(ControlResponse::Alert {
            alert: Box::new(alert_wire(1, Some(Outcome::Confirmed))),
            crop: None,
            stale: false,
        }),
    ));
    assert!(screen(&app, 80, 24).contains("closed: confirmed by ofc-ruiz"));
    // The session ends at the node: back to login, nothing of it kept.
    let effects = app.update(Msg::Answer(
        Asked::Dispose,
        Ok(ControlResponse::Error {
            kind: ErrorKind::Session,
            message: "the session expired".into(),
        }),
    ));
    assert_eq!(effects, [Effect::Unsubscribe]);
    assert_eq!(app.screen, Screen::Login);
    assert!(app.disposition.is_none() && app.live.alerts.is_empty() && app.live.reads.is_empty());
    assert!(app.purpose.is_empty());
}
