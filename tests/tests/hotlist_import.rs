//! `hotlist import` and the local list's richer entries, through the real
//! binary: an NCIC extract and a vendor's CSV imported at a station (a dry
//! run, a publish, a re-import that changes nothing), a bad line refused by
//! its line and skipped on request, and wildcard entries added, listed,
//! edited and bounded.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_tests::{Fixture, alpr, ok, run};

/// A committed test file under tests/data/hotlists/.
fn data(name: &str) -> String {
    format!("{}/data/hotlists/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn hotlists_json(data_dir: &str) -> serde_json::Value {
    let out = ok(&["hotlist", "list", "--data", data_dir, "--json"]);
    serde_json::from_str(&out).unwrap()
}

fn station() -> (Fixture, String) {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let station = f.path("station-1");
    (f, station)
}

#[test]
fn an_ncic_extract_is_imported_once_and_again_unchanged() {
    let (_f, station) = station();
    let extract = data("ncic-extract.txt");
    let config = data("ca-doj.toml");
    let import = |more: &[&str]| {
        let mut args = vec![
            "hotlist",
            "import",
            "--data",
            &station,
            "--list",
            "ncic-ca",
            "--source-config",
            &config,
        ];
        args.extend_from_slice(more);
        args.push(&extract);
        ok(&args)
    };
    let dry = import(&["--dry-run"]);
    assert!(
        dry.contains("ncic-extract.txt: 7 rows read, 4 entries to import"),
        "{dry}"
    );
    assert!(
        dry.contains("1 skipped by the state filter (CA, NV)"),
        "{dry}"
    );
    assert!(dry.contains("1 skipped by list code"), "{dry}");
    assert!(dry.contains("1 without a plate"), "{dry}");
    assert!(
        dry.contains("dry run: ncic-ca is new here; it would hold 4 entries"),
        "{dry}"
    );
    assert!(dry.contains("4 added, 0 removed, 0 changed"), "{dry}");
    assert!(
        dry.contains(
            "+ AB123456 CA stolen-vehicle high V123456789 (2009 Yamaha motorcycle, black)"
        ),
        "{dry}"
    );
    assert!(dry.contains("nothing published"), "{dry}");
    assert_eq!(
        hotlists_json(&station)["total"],
        0,
        "a dry run publishes nothing"
    );

    let published = import(&[]);
    assert!(
        published.contains("published ncic-ca version 1: 4 entries"),
        "{published}"
    );
    let again = import(&[]);
    assert!(
        again.contains("ncic-ca unchanged at version 1 (4 entries): nothing published"),
        "{again}"
    );
    let lists = hotlists_json(&station);
    assert_eq!(lists["total"], 1, "{lists}");
    assert_eq!(lists["items"][0]["version"], 1, "{lists}");
    assert_eq!(lists["items"][0]["entries"], 4, "{lists}");
    let dry = import(&["--dry-run"]);
    assert!(
        dry.contains("0 added, 0 removed, 0 changed, 4 unchanged"),
        "{dry}"
    );
    assert!(
        dry.contains("publishing it would make no new version"),
        "{dry}"
    );

    // Without the config, every state and code: added, and changed where
    // the source named in each entry differs.
    let dry = ok(&[
        "hotlist",
        "import",
        "--data",
        &station,
        "--list",
        "ncic-ca",
        "--format",
        "ncic",
        "--dry-run",
        &extract,
    ]);
    assert!(dry.contains("2 added, 0 removed, 4 changed"), "{dry}");
    assert!(dry.contains("source 'CA DOJ V' -> 'NCIC V'"), "{dry}");
}

#[test]
fn a_hotlist_file_with_a_bad_line_is_refused_by_line_unless_skipped() {
    let (_f, station) = station();
    let bad = data("ncic-bad-line.txt");
    let args = [
        "hotlist", "import", "--data", &station, "--list", "ncic", "--format", "ncic", &bad,
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ncic-bad-line.txt line 4: incident date: '2019X509' is not YYYYMMDD"),
        "{err}"
    );
    assert!(err.contains("--skip-bad"), "{err}");
    assert_eq!(hotlists_json(&station)["total"], 0, "nothing published");

    let mut skip = args.to_vec();
    skip.push("--skip-bad");
    let out = alpr(&skip).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("4 rows read, 3 entries to import"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 bad line skipped: 1 incident date"),
        "{stdout}"
    );
    assert!(
        stdout.contains("published ncic version 1: 3 entries"),
        "{stdout}"
    );
    assert!(
        stderr.contains("skipped ") && stderr.contains("line 4"),
        "{stderr}"
    );
}

#[test]
fn a_vendor_csv_is_imported_through_its_column_mapping() {
    let (_f, station) = station();
    let out = ok(&[
        "hotlist",
        "import",
        "--data",
        &station,
        "--list",
        "vendor",
        "--source-config",
        &data("vendor.toml"),
        &data("vendor.csv"),
    ]);
    assert!(out.contains("2 rows read, 2 entries to import"), "{out}");
    assert!(
        out.contains("published vendor version 1: 2 entries"),
        "{out}"
    );
    // A format the config contradicts is a usage error.
    let out = run(&[
        "hotlist",
        "import",
        "--data",
        &station,
        "--list",
        "vendor",
        "--format",
        "ncic",
        "--source-config",
        &data("vendor.toml"),
        &data("vendor.csv"),
    ]);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

#[test]
fn a_hotlist_is_imported_only_at_a_station() {
    let f = Fixture::new("car-1");
    let out = run(&[
        "hotlist",
        "import",
        "--data",
        &f.path("car-1"),
        "--list",
        "ncic",
        "--format",
        "ncic",
        &data("ncic-extract.txt"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("published at a station"), "{err}");
}

#[test]
fn local_hotlist_wildcards_are_added_listed_edited_and_bounded() {
    let f = Fixture::new("car-1");
    let car = f.path("car-1");
    let added = ok(&[
        "hotlist",
        "add",
        "--data",
        &car,
        "7ab*12",
        "--region",
        "CA",
        "--category",
        "stolen-vehicle",
        "--priority",
        "high",
        "--covert",
        "--expires",
        "2099-12-31",
        "--reason",
        "partial plate, robbery 26-7781",
    ]);
    assert!(
        added.contains("local hotlist entry 1 added: wildcard 7ab*12"),
        "{added}"
    );
    let plain = ok(&[
        "hotlist",
        "add",
        "--data",
        &car,
        "--plate",
        "BOLO77",
        "--reference",
        "r1",
    ]);
    assert!(plain.contains("local hotlist entry 2 added"), "{plain}");
    let lists = ok(&["hotlist", "list", "--data", &car]);
    assert!(lists.contains("PRIORITY"), "{lists}");
    assert!(lists.contains("7AB*12"), "{lists}");
    assert!(lists.contains("covert"), "{lists}");
    assert!(lists.contains("partial plate, robbery 26-7781"), "{lists}");
    let json = hotlists_json(&car);
    let first = &json["local"][0];
    assert_eq!(first["pattern"], "7AB*12", "{json}");
    assert_eq!(first["priority"], "high", "{json}");
    assert_eq!(first["covert"], true, "{json}");
    // In force through the date typed: it expires as the next day begins.
    assert!(first["expires"].is_string(), "{json}");
    assert_eq!(first["in_force"], true, "{json}");

    // Three stars is refused by the node, with the rule.
    let out = run(&["hotlist", "add", "--data", &car, "*A*B*C"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 2"),
        "{out:?}"
    );

    let edited = ok(&[
        "hotlist",
        "edit",
        "--data",
        &car,
        "1",
        "--priority",
        "low",
        "--covert",
        "false",
        "--expires",
        "never",
    ]);
    assert!(edited.contains("local hotlist entry 1 edited"), "{edited}");
    let json = hotlists_json(&car);
    let first = &json["local"][0];
    assert_eq!(first["priority"], "low", "{json}");
    assert_eq!(first["covert"], false, "{json}");
    assert!(first["expires"].is_null(), "{json}");
    assert_eq!(first["edited_by"], "chief", "{json}");
    // Nothing to change is a usage error, before the node is asked.
    let out = run(&["hotlist", "edit", "--data", &car, "1"]);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}
