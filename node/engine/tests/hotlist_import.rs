//! Hotlist imports as departments receive them (NCIC fixed-width extracts,
//! vendors' CSV files through a source config), the report of what became
//! of every row, publishing through the engine (a dry run, unchanged
//! content), and the local list's richer entries (wildcards, edits).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::path::{Path, PathBuf};

use alpr_engine::agency::{Agency, EnrollRequest};
use alpr_engine::datadir::Node;
use alpr_engine::engine::{AccessError, Engine, NewUser};
use alpr_engine::hotlist::{
    Format, HotlistFileError, ImportOptions, Imported, LocalEdit, Source, import, ncic,
};
use alpr_engine::policy::UserRole;
use alpr_protocol::hotlist::{Category, Detail, Entry, Priority};
use alpr_protocol::{AuditEvent, KdfParams, Outcome, PlateText, Role, Timestamp};

const PASS: &[u8] = b"node passphrase";
const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z: the tests' "now".
const T0: i64 = 1_793_491_200_000;
const ADMIN_PW: &str = "staff services 2026";
const OFFICER_PW: &str = "patrol district 9";
const HEADER: &str = "NCIC HOTLIST EXTRACT 20261101 CA DOJ";
const EXAMPLE: &str = "V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK";

fn t(ms: i64) -> Timestamp {
    Timestamp(T0 + ms)
}

fn day(text: &str) -> Timestamp {
    Timestamp(text.parse::<jiff::Timestamp>().unwrap().as_millisecond())
}

/// An NCIC record from its fields, padded to the extract's columns.
fn record(code: char, nic: &str, date: &str, plate: &str, state: &str, color: &str) -> String {
    format!(
        "{code}{nic:<9}{ori:<9}{date:<8}{plate:<10}{state:<2}{tag:<4}{ptype:<2}{year:<4}{make:<4}{model:<3}{style:<2}{color}",
        ori = "CA0190000",
        tag = "2026",
        ptype = "PC",
        year = "2015",
        make = "TOYT",
        model = "CAM",
        style = "4D",
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

fn extract(dir: &Path, name: &str, records: &[String]) -> PathBuf {
    let mut lines = vec![HEADER.to_string()];
    lines.extend(records.iter().cloned());
    write(dir, name, &lines)
}

fn options(format: Format, skip_bad: bool) -> ImportOptions {
    ImportOptions { format, skip_bad }
}

fn read(path: &Path, source: &Source, format: Format, skip_bad: bool) -> Imported {
    import(path, source, options(format, skip_bad), &mut |_| {}).unwrap()
}

fn enrolled(agency: &Agency, dir: &Path, name: &str, role: Role) -> Node {
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: name.into(),
                role,
                not_before: Timestamp(T0 - 400 * DAY),
                not_after: Timestamp(T0 + 400 * DAY),
            },
            PASS,
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap();
    let path = dir.join(format!("{name}.enroll"));
    std::fs::write(&path, bundle.to_bytes()).unwrap();
    Node::init(&dir.join(name), &path, PASS, &mut rand::rng()).unwrap()
}

fn user(name: &str, role: UserRole, pw: &str) -> NewUser {
    NewUser {
        name: name.into(),
        role,
        password: pw.into(),
        trained_on: Some(t(-30 * DAY)),
        training_expires: None,
    }
}

/// A station with an Administrator "chief", a Supervisor "sgt" and
/// Officers "jsmith" and "mjones", all trained.
fn station(dir: &Path) -> Engine {
    let agency = Agency::init(
        &dir.join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rand::rng(),
    )
    .unwrap();
    let node = enrolled(&agency, dir, "station-1", Role::Station);
    let mut e = Engine::open(node, [7; 32]).unwrap();
    e.bootstrap_admin(t(0), user("chief", UserRole::Administrator, ADMIN_PW))
        .unwrap();
    let admin = e.login(t(0), "chief", ADMIN_PW).unwrap();
    for (name, role) in [
        ("sgt", UserRole::Supervisor),
        ("jsmith", UserRole::Officer),
        ("mjones", UserRole::Officer),
    ] {
        e.add_user(t(0), admin, user(name, role, OFFICER_PW))
            .unwrap();
    }
    e.logout(t(0), admin).unwrap();
    e
}

fn last_event(e: &Engine) -> AuditEvent {
    let mut last = None;
    e.node()
        .store
        .for_each_audit(|_, bytes| {
            last = Some(e.node().trust.open_audit(bytes).unwrap().event().clone())
        })
        .unwrap();
    last.unwrap()
}

fn bolo(plate: &str) -> Entry {
    Entry {
        plate: PlateText::parse(plate).unwrap(),
        region: Some("CA".into()),
        category: Category::Bolo,
        reference: "26-118".into(),
        detail: Detail::default(),
    }
}

mod hotlist {
    use super::*;

    #[test]
    fn the_ncic_example_line_decodes_field_by_field() {
        let r = ncic::parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(r.code, 'V');
        assert_eq!(r.nic, "V123456789");
        assert_eq!(r.ori, "LA0570200");
        assert_eq!(r.entered, Some(day("2019-05-09T00:00:00Z")));
        assert_eq!(r.plate, "AB123456");
        assert_eq!(r.state, "CA");
        assert_eq!(r.tag_year, "2009");
        assert_eq!(r.plate_type, "MC");
        assert_eq!(r.vehicle.year, Some(2009));
        assert_eq!(r.vehicle.make, "Yamaha");
        assert_eq!(r.vehicle.model, "motorcycle");
        assert_eq!(r.vehicle.color, "black");
        assert_eq!(r.vehicle.describe(), "2009 Yamaha motorcycle, black");

        // The same line through an import: the entry it becomes.
        let dir = tempfile::tempdir().unwrap();
        let path = extract(dir.path(), "extract.txt", &[EXAMPLE.to_string()]);
        let got = read(&path, &Source::default(), Format::Ncic, false);
        assert_eq!(got.report.rows, 1);
        assert_eq!(got.report.imported, 1);
        let e = &got.entries[0];
        assert_eq!(e.plate.as_str(), "AB123456");
        assert_eq!(e.region.as_deref(), Some("CA"));
        assert_eq!(e.category, Category::StolenVehicle);
        assert_eq!(e.category.name(), "stolen-vehicle");
        assert_eq!(e.reference, "V123456789");
        assert_eq!(e.detail.priority, Priority::High);
        assert_eq!(e.detail.entered, Some(day("2019-05-09T00:00:00Z")));
        assert_eq!(e.detail.expires, None);
        assert!(!e.detail.covert);
        assert_eq!(e.detail.source, "NCIC V");
        assert_eq!(
            e.detail.notes,
            "ORI LA0570200; plate type MC; tag year 2009"
        );
    }

    #[test]
    fn two_tone_colors_styles_and_unknown_codes_in_hotlist_records() {
        let line = format!("{}RED/WHI", &EXAMPLE[..58]).replace("YAMACYLMC", "ZZZZCIVPK");
        let r = ncic::parse(line.as_bytes()).unwrap();
        assert_eq!(r.vehicle.make, "ZZZZ");
        assert_eq!(r.vehicle.model, "CIV pickup");
        assert_eq!(r.vehicle.color, "red/white");
        // A state written with a zero for the letter O.
        let ohio = EXAMPLE.replace("CA2009", "0H2009");
        assert_eq!(ncic::parse(ohio.as_bytes()).unwrap().state, "OH");
    }

    #[test]
    fn a_bad_hotlist_line_is_named_by_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let mut records: Vec<String> = (0..8)
            .map(|i| {
                record(
                    'V',
                    &format!("{i:09}"),
                    "20260101",
                    &format!("GOOD{i}"),
                    "CA",
                    "BLK",
                )
            })
            .collect();
        // Line 7 of the file (the header is line 1).
        records[5] = record('V', "000000005", "2019X509", "BAD7", "CA", "BLK");
        records[6] = record('V', "000000006", "20260101", "B@D8", "CA", "BLK");
        let path = extract(dir.path(), "extract.txt", &records);
        let err = import(
            &path,
            &Source::default(),
            options(Format::Ncic, false),
            &mut |_| {},
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("extract.txt line 7: incident date: '2019X509' is not YYYYMMDD"),
            "{text}"
        );
        assert!(text.contains("extract.txt line 8: plate:"), "{text}");
        assert!(
            text.contains("2 bad lines, so nothing was imported"),
            "{text}"
        );
        assert!(text.contains("--skip-bad"), "{text}");
        let HotlistFileError::BadLines { bad, errors, .. } = err else {
            panic!("{text}");
        };
        assert_eq!((bad, errors.len()), (2, 2));
        assert_eq!((errors[0].line, errors[0].field), (7, "incident date"));

        // With --skip-bad the rest imports and the report counts by reason.
        let got = read(&path, &Source::default(), Format::Ncic, true);
        assert_eq!(got.report.rows, 8);
        assert_eq!(got.report.imported, 6);
        assert_eq!(got.report.bad_lines(), 2);
        assert_eq!(got.report.bad.get("incident date"), Some(&1));
        assert_eq!(got.report.bad.get("plate"), Some(&1));
        assert!(
            got.entries
                .iter()
                .all(|e| e.plate.as_str().starts_with("GOOD"))
        );
    }

    #[test]
    fn a_hotlist_file_with_many_bad_lines_shows_the_first_ten() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<String> = (0..25)
            .map(|i| record('V', "1", "20261399", &format!("P{i}"), "CA", ""))
            .collect();
        let path = extract(dir.path(), "x.txt", &records);
        let err = import(
            &path,
            &Source::default(),
            options(Format::Ncic, false),
            &mut |_| {},
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("25 bad lines"), "{text}");
        assert!(
            text.contains("x.txt line 11:") && !text.contains("x.txt line 12:"),
            "{text}"
        );
        assert!(text.contains("and 15 more"), "{text}");
    }

    #[test]
    fn hotlist_state_filter_skip_list_codes_and_duplicates_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("ca.toml");
        std::fs::write(
            &config,
            r#"
[source]
name = "CA DOJ"
format = "ncic"
states = ["ca", "NV"]
skip_plates = ["190"]

[codes.X]
import = false

[codes.T]
priority = "normal"
covert = true
"#,
        )
        .unwrap();
        let source = Source::load(&config).unwrap();
        let records = vec![
            record('V', "000000001", "20260101", "7ABC123", "CA", "BLK"),
            record('P', "000000002", "20260101", "NV00001", "NV", "WHI"),
            record('V', "000000003", "20260101", "OR00001", "OR", "WHI"),
            record('V', "000000004", "20260101", "190", "CA", "WHI"),
            // On the built-in skip list.
            record('V', "000000005", "20260101", "000", "CA", "WHI"),
            // The same plate, region and category as the first row.
            record('V', "000000006", "20260102", "7ABC 123", "CA", "RED"),
            record('X', "000000007", "20260101", "SEX0001", "CA", ""),
            // A wanted person without a vehicle.
            record('W', "000000008", "20260101", "", "", ""),
            record('T', "000000009", "", "GANG001", "CA", ""),
            String::new(),
        ];
        let path = extract(dir.path(), "extract.txt", &records);
        let got = read(&path, &source, Format::Ncic, false);
        let r = &got.report;
        assert_eq!(r.rows, 9, "the blank line is not a row");
        assert_eq!(r.skipped_state, 1);
        assert_eq!(r.skipped_plate, 2);
        assert_eq!(r.skipped_code, 1);
        assert_eq!(r.no_plate, 1);
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.imported, 3);
        assert_eq!(r.bad_lines(), 0);
        let first = got
            .entries
            .iter()
            .find(|e| e.plate.as_str() == "7ABC123")
            .unwrap();
        assert_eq!(first.reference, "V000000001", "the first row is kept");
        assert_eq!(first.detail.source, "CA DOJ V");
        let gang = got
            .entries
            .iter()
            .find(|e| e.category == Category::GangOrTerrorist)
            .unwrap();
        assert_eq!(gang.detail.priority, Priority::Normal);
        assert!(gang.detail.covert);
        assert_eq!(gang.detail.entered, None);
    }

    #[test]
    fn an_unknown_hotlist_list_code_is_a_bad_line_naming_the_config_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = extract(
            dir.path(),
            "e.txt",
            &[record('Q', "1", "20260101", "ABC123", "CA", "")],
        );
        let err = import(
            &path,
            &Source::default(),
            options(Format::Ncic, false),
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("e.txt line 2: list code: 'Q' is not an NCIC list code"),
            "{err}"
        );
        assert!(err.contains("[codes.Q]"), "{err}");
        let source = Source::parse(
            "[source]\nname = \"x\"\nformat = \"ncic\"\n[codes.Q]\ncategory = \"bolo\"\n",
        )
        .unwrap();
        let got = read(&path, &source, Format::Ncic, false);
        assert_eq!(got.entries[0].category, Category::Bolo);
        assert_eq!(got.entries[0].detail.priority, Priority::Normal);
    }

    #[test]
    fn a_csv_hotlist_source_maps_its_columns_with_its_delimiter_and_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("vendor.toml");
        std::fs::write(
            &config,
            r#"
[source]
name = "Vendor feed"
format = "csv"

[codes."Stolen Vehicle"]
category = "stolen-vehicle"
[codes.SCRAP]
import = false

[csv]
delimiter = ";"
quote = "'"
plate = "Tag"
region = "State"
category = "Reason"
reference = "Case"
entered = "Date"
expires = "Expires"
priority = "Priority"
notes = "Notes"
source = "Agency"
color = "Colour"
date_formats = ["%m/%d/%Y", "%Y-%m-%d %H:%M"]
"#,
        )
        .unwrap();
        let source = Source::load(&config).unwrap();
        let csv = dir.path().join("feed.csv");
        std::fs::write(
            &csv,
            "Tag;State;Reason;Case;Date;Expires;Priority;Notes;Agency;Colour;Ignored\n\
             7ABC123;ca;Stolen Vehicle;26-1;05/09/2019;12/31/2026;;'armed; dangerous';SFPD;blue;x\n\
             8XYZ001;NV;amber;26-2;2026-10-30 14:30;;low;'child, 6';;;y\n\
             9JUNK99;CA;SCRAP;26-3;;;;;;;z\n\
             1BAD111;CA;Stolen Vehicle;26-4;13/45/2019;;;;;;w\n",
        )
        .unwrap();
        let got = read(&csv, &source, Format::Csv, true);
        assert_eq!(got.report.rows, 4);
        assert_eq!(got.report.skipped_code, 1);
        assert_eq!(got.report.bad.get("entered"), Some(&1));
        assert_eq!(got.report.errors[0].line, 5);
        assert!(
            got.report.errors[0]
                .to_string()
                .contains("feed.csv line 5: entered: '13/45/2019' is not a date"),
            "{}",
            got.report.errors[0]
        );
        assert_eq!(got.entries.len(), 2);
        let sv = &got.entries[0];
        assert_eq!(sv.plate.as_str(), "7ABC123");
        assert_eq!(sv.region.as_deref(), Some("CA"));
        assert_eq!(sv.category, Category::StolenVehicle);
        assert_eq!(sv.reference, "26-1");
        assert_eq!(sv.detail.priority, Priority::High);
        assert_eq!(sv.detail.notes, "armed; dangerous");
        assert_eq!(sv.detail.source, "SFPD");
        assert_eq!(sv.detail.vehicle.color, "blue");
        assert_eq!(sv.detail.entered, Some(day("2019-05-09T00:00:00Z")));
        // A bare expiry date is in force through that day.
        assert_eq!(sv.detail.expires, Some(day("2027-01-01T00:00:00Z")));
        let amber = &got.entries[1];
        assert_eq!(amber.category, Category::Amber);
        assert_eq!(amber.detail.priority, Priority::Low);
        assert_eq!(amber.detail.notes, "child, 6");
        assert_eq!(amber.detail.source, "Vendor feed");
        assert_eq!(amber.detail.entered, Some(day("2026-10-30T14:30:00Z")));
    }

    #[test]
    fn a_csv_hotlist_source_refuses_a_mapped_column_its_header_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let source = Source::parse(
            "[source]\nname = \"v\"\n[csv]\nplate = \"Tag\"\ncategory = \"Reason\"\nnotes = \"Remarks\"\n",
        )
        .unwrap();
        let csv = dir.path().join("feed.csv");
        std::fs::write(&csv, "Tag,Reason\nABC123,bolo\n").unwrap();
        let err = import(&csv, &source, options(Format::Csv, false), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("csv.notes names the column 'Remarks', which the header lacks"),
            "{err}"
        );
    }

    #[test]
    fn a_hotlist_source_config_refuses_unknown_keys_and_bad_values_by_name() {
        let err = Source::parse("[source]\nname = \"x\"\ncolour = \"red\"\n").unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        let err = Source::parse("[source]\nname = \"x\"\n[csv]\nplatee = \"Tag\"\n").unwrap_err();
        assert!(err.contains("unknown field `platee`"), "{err}");
        let err = Source::parse("[source]\nname = \"x\"\n[codes.V]\ncategory = \"stolen-car\"\n")
            .unwrap_err();
        assert!(err.contains("category 'stolen-car' is not one of"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        let err = Source::parse("[source]\nname = \"x\"\n[codes.V]\npriority = \"urgent\"\n")
            .unwrap_err();
        assert!(
            err.contains("priority 'urgent' is not high, normal or low"),
            "{err}"
        );
        let err = Source::parse("[source]\nname = \"x\"\n[csv]\ndelimiter = \";;\"\n").unwrap_err();
        assert!(err.contains("is not one ASCII character"), "{err}");
        let err = Source::parse("[source]\nname = \"x\"\nstates = [\"C A\"]\n").unwrap_err();
        assert!(err.contains("source.states"), "{err}");
        let err =
            Source::parse("[source]\nname = \"x\"\nformat = \"ncic\"\n[codes.VV]\n").unwrap_err();
        assert!(err.contains("codes.VV"), "{err}");
        let err = Source::parse("[source]\nname = \"x\"\nformat = \"fixed\"\n").unwrap_err();
        assert!(err.contains("format"), "{err}");
        // And a file with such a key names its path.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[source]\nname = \"x\"\nstate = [\"CA\"]\n").unwrap();
        let err = Source::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.toml") && err.contains("unknown field `state`"),
            "{err}"
        );
    }

    #[test]
    fn publishing_identical_hotlist_content_makes_no_new_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = station(dir.path());
        let admin = e.login(t(1), "chief", ADMIN_PW).unwrap();
        let path = extract(
            dir.path(),
            "extract.txt",
            &[
                EXAMPLE.to_string(),
                record('P', "000000002", "20260101", "NV00001", "NV", "WHI"),
            ],
        );
        let entries = read(&path, &Source::default(), Format::Ncic, false).entries;
        let v1 = e
            .publish_hotlist(t(2), admin, "ncic", entries.clone())
            .unwrap();
        assert_eq!(v1.version, 1);
        let again = e
            .publish_hotlist(t(3), admin, "ncic", entries.clone())
            .unwrap();
        assert_eq!(again, v1, "the held version, not a new one");
        let event = last_event(&e);
        assert!(
            event.body.object.contains("unchanged from version 1"),
            "{}",
            event.body.object
        );
        assert_eq!(event.body.outcome, Outcome::Success);
        let held = e.hotlists(t(3), admin).unwrap();
        assert_eq!(held[0].1.version, 1);
        // Other content is a new version.
        let v2 = e
            .publish_hotlist(t(4), admin, "ncic", entries[..1].to_vec())
            .unwrap();
        assert_eq!(v2.version, 2);
    }

    #[test]
    fn a_hotlist_dry_run_counts_added_removed_and_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = station(dir.path());
        let admin = e.login(t(1), "chief", ADMIN_PW).unwrap();
        let entry = |plate: &str, region: &str, priority: Priority| Entry {
            plate: PlateText::parse(plate).unwrap(),
            region: Some(region.into()),
            category: Category::StolenVehicle,
            reference: format!("V{plate}"),
            detail: Detail {
                priority,
                ..Detail::default()
            },
        };
        let fresh = e
            .diff_hotlist(
                t(2),
                admin,
                "ncic",
                vec![entry("AAA111", "CA", Priority::High)],
            )
            .unwrap();
        assert!(fresh.base.is_none());
        assert_eq!((fresh.diff.added, fresh.diff.removed), (1, 0));
        assert!(
            e.hotlists(t(2), admin).unwrap().is_empty(),
            "nothing published"
        );
        let old = vec![
            entry("AAA111", "CA", Priority::High),
            entry("BBB222", "CA", Priority::High),
            entry("CCC333", "CA", Priority::High),
        ];
        e.publish_hotlist(t(3), admin, "ncic", old).unwrap();
        let new = [
            entry("AAA111", "CA", Priority::High),
            // The same plate and region, another priority: changed.
            entry("BBB222", "CA", Priority::Low),
            // The same plate in another region: added (and CCC333 removed).
            entry("CCC333", "NV", Priority::High),
            entry("DDD444", "CA", Priority::High),
        ];
        // Staged parts count as a publish's would.
        e.stage_hotlist(t(4), admin, "ncic", new[..2].to_vec())
            .unwrap();
        let d = e
            .diff_hotlist(t(4), admin, "ncic", new[2..].to_vec())
            .unwrap();
        assert_eq!(d.base.as_ref().map(|v| v.version), Some(1));
        assert_eq!(d.entries, 4);
        assert_eq!(
            (
                d.diff.added,
                d.diff.removed,
                d.diff.changed,
                d.diff.unchanged
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(d.diff.changed_sample[0].1.detail.priority, Priority::Low);
        assert_eq!(d.diff.removed_sample[0].plate.as_str(), "CCC333");
        let event = last_event(&e);
        assert!(
            event
                .body
                .object
                .contains("dry run of 4 entries against version 1: 2 added, 1 removed, 1 changed"),
            "{}",
            event.body.object
        );
        assert_eq!(e.hotlists(t(5), admin).unwrap()[0].1.version, 1);
        // An officer may not: the same rule as publishing.
        let officer = e.login(t(5), "jsmith", OFFICER_PW).unwrap();
        assert!(matches!(
            e.diff_hotlist(t(5), officer, "ncic", vec![]),
            Err(AccessError::Forbidden { .. })
        ));
    }

    #[test]
    fn hotlist_wildcard_entries_are_bounded_in_the_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = station(dir.path());
        let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
        let id = e
            .add_hotlist_pattern(t(2), officer, "7ab-*12", bolo("X"))
            .unwrap();
        let added = e
            .policy()
            .local_hotlist
            .iter()
            .find(|x| x.id == id)
            .unwrap();
        assert_eq!(added.pattern.as_deref(), Some("7AB*12"));
        assert_eq!(added.entry.plate.as_str(), "7AB12");
        assert_eq!(added.entry.detail.source, "jsmith");
        let refused = |e: &mut Engine, at: i64, p: &str| {
            let err = e
                .add_hotlist_pattern(t(at), officer, p, bolo("X"))
                .unwrap_err();
            assert!(matches!(err, AccessError::Invalid(_)), "{err}");
            assert!(matches!(last_event(e).body.outcome, Outcome::Refused(_)));
            err.to_string()
        };
        assert!(refused(&mut e, 3, "*A*B*C").contains("at most 2"));
        assert!(refused(&mut e, 3, "7*").contains("at least 3"));
        assert!(refused(&mut e, 3, "7A!*").contains("'!'"));
        // A pattern without a wildcard is a plain entry.
        let plain = e
            .add_hotlist_pattern(t(3), officer, "8XYZ001", bolo("X"))
            .unwrap();
        let plain = e
            .policy()
            .local_hotlist
            .iter()
            .find(|x| x.id == plain)
            .unwrap();
        assert_eq!(
            (plain.pattern.as_deref(), plain.entry.plate.as_str()),
            (None, "8XYZ001")
        );
        for i in 1..100 {
            e.add_hotlist_pattern(t(4), officer, &format!("{i:03}*"), bolo("X"))
                .unwrap();
        }
        let err = refused(&mut e, 4, "ZZZ*");
        assert!(
            err.contains("already 100 wildcard entries in force"),
            "{err}"
        );
        // A wildcard taken off, or expired, makes room.
        e.remove_hotlist_entry(t(5), officer, id).unwrap();
        let mut expiring = bolo("X");
        expiring.detail.expires = Some(t(10));
        e.add_hotlist_pattern(t(6), officer, "ZZZ*", expiring)
            .unwrap();
        refused(&mut e, 7, "YYY*");
        e.add_hotlist_pattern(t(11), officer, "YYY*", bolo("X"))
            .unwrap();
    }

    #[test]
    fn a_local_hotlist_entry_is_edited_by_its_author_or_a_supervisor() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = station(dir.path());
        let officer = e.login(t(1), "jsmith", OFFICER_PW).unwrap();
        let mut entry = bolo("BOLO77");
        entry.detail.notes = "armed robbery".into();
        entry.detail.covert = true;
        let id = e.add_hotlist_entry(t(2), officer, entry).unwrap();
        let edit = LocalEdit {
            priority: Some(Priority::High),
            expires: Some(Some(t(30 * DAY))),
            reason: Some("robbery suspect, case 26-7781".into()),
            covert: Some(false),
        };
        e.edit_hotlist_entry(t(3), officer, id, edit.clone())
            .unwrap();
        let event = last_event(&e);
        assert!(
            event
                .body
                .object
                .contains(&format!("edit local hotlist entry {id}: priority high")),
            "{}",
            event.body.object
        );
        let got = e
            .policy()
            .local_hotlist
            .iter()
            .find(|x| x.id == id)
            .unwrap();
        let d = &got.entry.detail;
        assert_eq!(d.priority, Priority::High);
        assert_eq!(d.expires, Some(t(30 * DAY)));
        assert_eq!(d.notes, "robbery suspect, case 26-7781");
        assert!(!d.covert);
        assert_eq!(got.edited, Some(("jsmith".to_string(), t(3))));

        let other = e.login(t(4), "mjones", OFFICER_PW).unwrap();
        let err = e
            .edit_hotlist_entry(
                t(4),
                other,
                id,
                LocalEdit {
                    priority: Some(Priority::Low),
                    ..LocalEdit::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("added by jsmith"), "{err}");
        assert!(matches!(last_event(&e).body.outcome, Outcome::Refused(_)));
        let sgt = e.login(t(5), "sgt", OFFICER_PW).unwrap();
        e.edit_hotlist_entry(
            t(5),
            sgt,
            id,
            LocalEdit {
                expires: Some(None),
                ..LocalEdit::default()
            },
        )
        .unwrap();
        let got = e
            .policy()
            .local_hotlist
            .iter()
            .find(|x| x.id == id)
            .unwrap();
        assert_eq!(got.entry.detail.expires, None);
        assert_eq!(got.edited, Some(("sgt".to_string(), t(5))));
        // Nothing to change, an expiry in the past, a reason too long.
        for (edit, says) in [
            (LocalEdit::default(), "nothing to change"),
            (
                LocalEdit {
                    expires: Some(Some(t(0))),
                    ..LocalEdit::default()
                },
                "not in the future",
            ),
            (
                LocalEdit {
                    reason: Some("r".repeat(300)),
                    ..LocalEdit::default()
                },
                "longer than 256",
            ),
        ] {
            let err = e.edit_hotlist_entry(t(6), sgt, id, edit).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
        assert!(matches!(
            e.edit_hotlist_entry(
                t(7),
                officer,
                999,
                LocalEdit {
                    covert: Some(true),
                    ..LocalEdit::default()
                }
            ),
            Err(AccessError::NotFound(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_lines_never_panic_the_hotlist_ncic_parser(
            line in proptest::collection::vec(proptest::num::u8::ANY, 0..120)
        ) {
            let _ = ncic::code(&line);
            let _ = ncic::parse(&line);
        }

        #[test]
        fn ascii_lines_near_the_layout_never_panic_the_hotlist_import(
            lines in proptest::collection::vec("[ -~]{0,70}", 1..8)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), "p.txt", &lines);
            let _ = import(&path, &Source::default(), options(Format::Ncic, true), &mut |_| {});
        }
    }
}
