//! The CLI end to end: errors a person can act on, and `verify` naming a record altered on disk.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::process::Stdio;

use alpr_node::datadir::{Node, STORE_FILE};
use alpr_node::store::RecordId;
use alpr_tests::{Fixture, NODE_PASSPHRASE, alpr, ok, run};

fn stderr_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        !out.status.success(),
        "alpr-node {args:?} should have failed"
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !err.contains("panicked"),
        "alpr-node {args:?} panicked: {err}"
    );
    assert!(
        err.starts_with("error: "),
        "not a person's error message: {err}"
    );
    err
}

#[test]
fn import_search_verify_round_trip() {
    let f = Fixture::new("car-1");
    let file = f.reads_file("reads.jsonl", 30, 512, |i| {
        if i % 3 == 0 {
            format!("7AB{i:03}")
        } else {
            format!("X{i:05}")
        }
    });
    let data = f.path("car-1");
    assert!(ok(&["import", "--data", &data, &file]).contains("committed reads 1..=30"));
    let out = ok(&[
        "search",
        "--data",
        &data,
        "--pattern",
        "7ab*",
        "--purpose",
        "alert",
        "--reason",
        "test alert",
    ]);
    assert!(out.contains("10 matching reads, 10 shown"), "{out}");
    let items = alpr_tests::search_items(&[
        "search",
        "--data",
        &data,
        "--plate",
        "7AB 003",
        "--purpose",
        "investigation",
        "--reason",
        "test",
        "--case",
        "26-1",
    ]);
    assert_eq!(items.len(), 1, "{items:?}");
    let line = &items[0];
    assert_eq!(line["plate"], "7AB003");
    assert_eq!(line["crop_bytes"], 512);
    let verified = ok(&["verify", "--data", &data]);
    // The first Administrator's creation; login, import, logout; login, search,
    // logout twice; and this verify's login.
    assert!(
        verified.contains("checked 30 reads, 30 images and 11 audit events: 0 failures"),
        "{verified}"
    );
}

/// Flips one bit inside a record's sealed bytes, found in the database
/// file by its last 100 bytes (stored as written, in the clear of redb).
fn flip_a_byte_of(data: &str, envelope: &[u8]) {
    let db_path = std::path::Path::new(data).join(STORE_FILE);
    let mut db = std::fs::read(&db_path).expect("db file");
    let sealed_tail = &envelope[envelope.len() - 100..];
    let at = db
        .windows(sealed_tail.len())
        .position(|w| w == sealed_tail)
        .expect("envelope bytes in the file");
    db[at + 10] ^= 0x01;
    std::fs::write(&db_path, db).expect("write altered db");
}

/// A car with `n` imported reads (plates PREFIX000...), and what `take`
/// finds of its read `seq` with the node open, beside the node's short
/// name. The node is closed again before this returns, for the CLI to open.
fn imported<T>(
    n: usize,
    prefix: &str,
    seq: u64,
    take: impl FnOnce(&Node, RecordId) -> T,
) -> (Fixture, String, (String, T)) {
    let f = Fixture::new("car-1");
    let file = f.reads_file("reads.jsonl", n, 300, |i| format!("{prefix}{i:03}"));
    let data = f.path("car-1");
    ok(&["import", "--data", &data, &file]);
    let node = Node::open(std::path::Path::new(&data), NODE_PASSPHRASE.as_bytes()).expect("open");
    let id = RecordId {
        origin: node.node_key.id(),
        seq,
    };
    let found = (node.node_key.id().short(), take(&node, id));
    drop(node);
    (f, data, found)
}

#[test]
fn verify_names_a_record_altered_in_the_database_file() {
    let (_f, data, (short, envelope)) = imported(20, "ALT", 7, |node, id| {
        node.store.read_envelope(id).expect("read").expect("seq 7")
    });
    flip_a_byte_of(&data, &envelope);

    let out = run(&["verify", "--data", &data]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("FAIL read {short}/7: bad signature")),
        "{stdout}"
    );
    // Its plate crop, a record of its own, is flagged too: its read no longer vouches for it.
    assert!(
        stdout.contains(&format!(
            "FAIL plate crop image of read {short}/7: its read is missing or does not verify"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("2 failures"), "{stdout}");
    let search = ok(&[
        "search",
        "--data",
        &data,
        "--pattern",
        "ALT*",
        "--purpose",
        "alert",
        "--reason",
        "test",
    ]);
    assert!(search.contains(&format!("DAMAGED {short}/7")), "{search}");
}

#[test]
fn verify_names_an_image_altered_under_a_sound_read() {
    let (_f, data, (short, crop)) = imported(12, "IMG", 3, |node, id| {
        node.store
            .read_image(id, alpr_protocol::ImageKind::PlateCrop)
            .expect("read image")
            .expect("a crop of seq 3")
    });
    flip_a_byte_of(&data, &crop);
    let out = run(&["verify", "--data", &data]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The crop is named; its read still verifies and is not.
    assert!(
        stdout.contains(&format!("FAIL plate crop image of read {short}/3: ")),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&format!("FAIL read {short}/3")),
        "{stdout}"
    );
    assert!(stdout.contains("1 failure"), "{stdout}");
}

#[test]
fn errors_say_what_and_where() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");

    let mut wrong = alpr(&["verify", "--data", &data]);
    wrong.env("ALPR_PASSPHRASE", "not the passphrase");
    let out = wrong.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node.key: wrong passphrase"), "{err}");

    let mut no_pass = alpr(&["verify", "--data", &data]);
    no_pass.env_remove("ALPR_PASSPHRASE").stdin(Stdio::null());
    let err = String::from_utf8_lossy(&no_pass.output().expect("run").stderr).into_owned();
    assert!(err.contains("no passphrase: set ALPR_PASSPHRASE"), "{err}");

    let err = stderr_of(&[
        "init",
        "--enroll",
        &f.path("nope.enroll"),
        "--data",
        &f.path("car-2"),
        "--admin",
        "chief",
        "--admin-trained-on",
        "2026-01-15",
    ]);
    assert!(
        err.contains("nope.enroll is missing (enrollment bundle)"),
        "{err}"
    );

    // A bundle of another agency refuses to initialize over this node's data.
    let other = Fixture::new("car-9");
    let err = stderr_of(&[
        "init",
        "--enroll",
        &other.path("car-9.enroll"),
        "--data",
        &data,
        "--admin",
        "chief",
        "--admin-trained-on",
        "2026-01-15",
    ]);
    assert!(err.contains("holds data of agency"), "{err}");

    // Not a bundle at all.
    std::fs::write(f.path("junk.enroll"), b"hello").expect("write");
    let err = stderr_of(&[
        "init",
        "--enroll",
        &f.path("junk.enroll"),
        "--data",
        &f.path("car-3"),
        "--admin",
        "chief",
        "--admin-trained-on",
        "2026-01-15",
    ]);
    assert!(err.contains("not an enrollment bundle"), "{err}");

    let t = jiff::Timestamp::now();
    std::fs::write(
        f.path("bad.jsonl"),
        format!(
            "{{\"plate\":\"ABC1\",\"time\":\"{t}\"}}\n{{\"plate\":\"A B!\",\"time\":\"{t}\"}}\n"
        ),
    )
    .expect("write");
    let err = stderr_of(&["import", "--data", &data, &f.path("bad.jsonl")]);
    assert!(
        err.contains("bad.jsonl line 2: plate 'A B!' has '!'"),
        "{err}"
    );
    // Nothing from the bad file was stored, not even its good first line.
    assert!(ok(&["verify", "--data", &data]).contains("checked 0 reads"));

    let err = stderr_of(&[
        "search",
        "--data",
        &data,
        "--pattern",
        "AB%",
        "--purpose",
        "alert",
        "--reason",
        "test",
    ]);
    assert!(err.contains("pattern 'AB%' has '%'"), "{err}");
    let err = stderr_of(&[
        "search",
        "--data",
        &data,
        "--plate",
        "ABC",
        "--from",
        "yesterday",
    ]);
    assert!(err.contains("'yesterday' is not a time"), "{err}");

    // Login limits are set at a station, within the CJIS bounds; a car
    // receives them.
    let err = stderr_of(&["limits", "--data", &data, "--failures", "3"]);
    assert!(err.contains("administered at a station"), "{err}");
    f.enroll_as("station-1", "station");
    let station = f.path("station-1");
    let err = stderr_of(&["limits", "--data", &station, "--idle-minutes", "45"]);
    assert!(
        err.contains("sessions lock after 1 to 30 idle minutes"),
        "{err}"
    );
    assert!(ok(&["limits", "--data", &station, "--failures", "3"]).contains("login limits set"));

    // The data directory of an uninitialized path.
    let err = stderr_of(&["verify", "--data", &f.path("empty")]);
    assert!(err.contains("agency.pub is missing"), "{err}");
}

#[test]
fn an_import_is_checked_whole_by_line_and_a_second_run_stores_nothing_new() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let good = f.reads_file("good.jsonl", 3000, 100, |i| format!("IMP{i:04}"));
    // Line 2,500 names a camera longer than any record may carry; line 2,800
    // carries a 1 MB region.
    let text = std::fs::read_to_string(&good).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2499] = lines[2499].replace(
        "\"camera\":\"front\"",
        &format!("\"camera\":\"{}\"", "c".repeat(100)),
    );
    lines[2799] = lines[2799].replace(
        "\"camera\":\"front\"",
        &format!(
            "\"camera\":\"front\",\"region\":\"{}\"",
            "R".repeat(1_000_000)
        ),
    );
    let bad = f.path("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = run(&["import", "--data", &data, &bad]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.jsonl line 2500: camera name must be 1 to 64 characters"),
        "{err}"
    );
    assert!(ok(&["verify", "--data", &data]).contains("checked 0 reads"));
    lines[2499] = text.lines().nth(2499).unwrap().to_string();
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let err = String::from_utf8_lossy(&run(&["import", "--data", &data, &bad]).stderr).into_owned();
    assert!(err.contains("bad.jsonl line 2800: 1000"), "{err}");
    assert!(
        err.contains("over the 65536-byte limit of one read"),
        "{err}"
    );

    // A FIFO is refused at once, not waited on.
    let fifo = f.path("reads.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err =
        String::from_utf8_lossy(&run(&["import", "--data", &data, &fifo]).stderr).into_owned();
    assert!(err.contains("not a regular file"), "{err}");

    let first = ok(&["import", "--data", &data, &good]);
    assert!(first.contains("committed reads 1..="), "{first}");
    let again = ok(&["import", "--data", &data, &good]);
    assert!(!again.contains("committed reads"), "{again}");
    assert!(
        again.contains("3000 reads already stored here or repeated in the input, skipped"),
        "{again}"
    );
    assert!(ok(&["verify", "--data", &data]).contains("checked 3000 reads"));
    // A line given three times in one file (one batch) is stored once.
    let line = f.reads_file("one.jsonl", 1, 100, |_| "TWICE1".into());
    let text = std::fs::read_to_string(&line).unwrap();
    let thrice = f.path("thrice.jsonl");
    std::fs::write(&thrice, text.repeat(3)).unwrap();
    let out = ok(&["import", "--data", &data, &thrice]);
    assert!(out.contains("committed reads 3001..=3001"), "{out}");
    assert!(
        out.contains("2 reads already stored here or repeated"),
        "{out}"
    );
}

#[test]
fn a_stray_quote_in_a_hotlist_extract_is_refused_by_line_and_rows_are_counted() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let station = f.path("station-1");
    let csv = f.path("ncic.csv");
    std::fs::write(
        &csv,
        "plate,region,category,reference\n\
         AAA111,CA,stolen-vehicle,\"NIC/V1 unterminated\n\
         BBB222,CA,stolen-vehicle,NIC/V2\n\
         AMB999,NV,amber,NIC/A3\n\
         CCC333,CA,stolen-plate,\"NIC/V4\"\n",
    )
    .unwrap();
    let out = run(&[
        "hotlist", "publish", "--data", &station, "--list", "ncic", &csv,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ncic.csv line 2: quoting: the reference field runs over several lines"),
        "{err}"
    );
    assert!(err.contains("--allow-multiline"), "{err}");

    let fixed = "plate,region,category,reference\n\
                 AAA111,CA,stolen-vehicle,NIC/V1\n\
                 BBB222,CA,stolen-vehicle,NIC/V2\n\
                 BBB222,CA,stolen-vehicle,NIC/V2\n\
                 AMB999,NV,amber,\"NIC/A3, child\"\n";
    std::fs::write(&csv, fixed).unwrap();
    let done = ok(&[
        "hotlist", "publish", "--data", &station, "--list", "ncic", &csv,
    ]);
    assert!(
        done.contains("4 rows read, 3 entries published (1 duplicate row merged)"),
        "{done}"
    );
}

#[test]
fn init_checks_the_administrator_first_and_leaves_nothing_behind() {
    let f = Fixture::new("car-0");
    let bundle = f.bundle("car-1", "vehicle");
    let data = f.path("car-1");
    let init = |pw: &str, trained: &str| {
        alpr_tests::alpr(&[
            "init",
            "--enroll",
            &bundle,
            "--data",
            &data,
            "--admin",
            "chief",
            "--admin-trained-on",
            trained,
        ])
        .env("ALPR_NEW_PASSWORD", pw)
        .output()
        .unwrap()
    };
    let banned = init("password", "2026-01-15");
    assert!(!banned.status.success());
    let err = String::from_utf8_lossy(&banned.stderr);
    assert!(err.contains("the Administrator's password"), "{err}");
    assert!(
        !std::path::Path::new(&data).exists(),
        "a refused init left {data}"
    );
    let future = init("staff services 2026", "2099-01-01");
    let err = String::from_utf8_lossy(&future.stderr);
    assert!(
        err.contains("training cannot be completed in the future"),
        "{err}"
    );
    assert!(!std::path::Path::new(&data).exists());
    // Then it is usable, first time.
    let done = init("staff services 2026", "2026-01-15");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(ok(&["verify", "--data", &data]).contains("0 failures"));
}

#[test]
fn secrets_and_bundles_from_files_are_bounded_and_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let pass = f.path("pass.txt");
    std::fs::write(&pass, "node passphrase for tests\n").unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = alpr_tests::alpr(&["verify", "--data", &data, "--passphrase-file", &pass])
        .env_remove("ALPR_PASSPHRASE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("others could read it"), "{err}");
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = alpr_tests::alpr(&["verify", "--data", &data, "--passphrase-file", &pass])
        .env_remove("ALPR_PASSPHRASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // /dev/zero as an enrollment bundle: refused at once, not read forever.
    let out = run(&[
        "init",
        "--enroll",
        "/dev/zero",
        "--data",
        &f.path("car-2"),
        "--admin",
        "chief",
        "--admin-trained-on",
        "2026-01-15",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero cannot be the enrollment bundle"),
        "{err}"
    );
}

#[test]
fn replay_refuses_a_rate_that_would_run_past_the_end_of_time() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let frames = f.root.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for i in 0..2 {
        image::GrayImage::new(64, 32)
            .save(frames.join(format!("f{i}.png")))
            .unwrap();
    }
    let frames = frames.to_string_lossy().into_owned();
    for fps in ["1e-300", "0", "-1", "1e9"] {
        let rate = format!("--fps={fps}");
        let out = run(&["replay", "--data", &data, &rate, &frames]);
        assert!(!out.status.success(), "--fps {fps} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("must be from 0.001"), "--fps {fps}: {err}");
    }
}

#[test]
fn holds_and_local_entries_print_in_words_not_debug_values() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    assert!(ok(&["hold", "list", "--data", &data]).contains("no holds"));
    let secs = jiff::Timestamp::now().as_second();
    let from = jiff::Timestamp::from_second(secs - 3600)
        .unwrap()
        .to_string();
    let to = jiff::Timestamp::from_second(secs + 3600)
        .unwrap()
        .to_string();
    ok(&[
        "hold",
        "add",
        "--data",
        &data,
        "--case",
        "26-0042",
        "--reason",
        "robbery suspect",
        "--plate",
        "4GHJ552",
        "--from",
        &from,
        "--to",
        &to,
    ]);
    let listed = ok(&["hold", "list", "--data", &data]);
    assert!(
        listed.contains(&format!("plate 4GHJ552 from {from} to {to}")),
        "{listed}"
    );
    for debug in ["Plate {", "Timestamp(", "-9223372036854775808", "PlateText"] {
        assert!(!listed.contains(debug), "{listed}");
    }
    ok(&[
        "hotlist",
        "add",
        "--data",
        &data,
        "--plate",
        "BOLO77",
        "--category",
        "stolen-vehicle",
        "--reference",
        "blue sedan",
    ]);
    let lists = ok(&["hotlist", "list", "--data", &data]);
    assert!(
        lists.contains("BOLO77  -       stolen-vehicle") && lists.contains("blue sedan"),
        "{lists}"
    );
    let one = f.reads_file("one.jsonl", 1, 100, |_| "4GHJ552".into());
    ok(&["import", "--data", &data, &one]);
    let found = ok(&[
        "search",
        "--data",
        &data,
        "--plate",
        "4GHJ552",
        "--purpose",
        "investigation",
        "--reason",
        "robbery suspect",
        "--case",
        "26-0042",
    ]);
    assert!(found.contains("1 matching read, 1 shown"), "{found}");
    // The search's audit event names an open window in words, as the
    // case's bundle will carry it.
    let out = f.path("usb");
    ok(&[
        "evidence",
        "export",
        "--data",
        &data,
        "--out",
        &out,
        "--purpose",
        "investigation",
        "--reason",
        "robbery suspect",
        "--case",
        "26-0042",
    ]);
    let mut objects = String::new();
    for e in std::fs::read_dir(format!("{out}/audit")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            objects.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    assert!(
        objects.contains("from the first read to the last read"),
        "{objects}"
    );
    assert!(!objects.contains("-9223372036854775808"), "{objects}");
    assert!(objects.contains("\"action\": \"search\""), "{objects}");
}

#[test]
fn user_unlock_clears_a_lockout_on_this_node() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let data = f.path("station-1");
    f.add_user(&data, "mrodriguez", "officer", "night shift district 4");
    let search_as = |pw: &str| {
        alpr_tests::alpr(&[
            "search",
            "--data",
            &data,
            "--user",
            "mrodriguez",
            "--pattern",
            "A*",
            "--purpose",
            "alert",
            "--reason",
            "hit follow-up",
        ])
        .env("ALPR_USER_PASSWORD", pw)
        .output()
        .unwrap()
    };
    for _ in 0..5 {
        assert!(!search_as("wrong password here").status.success());
    }
    let locked = search_as("night shift district 4");
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("locked"),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    // The list says who is locked out here, until when.
    let listed = ok(&["user", "list", "--data", &data]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("mrodriguez"))
        .unwrap();
    assert!(line.contains("LOCKED until"), "{listed}");
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&["user", "list", "--data", &data, "--json"])).unwrap();
    let me = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "mrodriguez")
        .unwrap();
    assert_eq!(me["failed_logins"], 5, "{doc}");
    assert!(me["locked_until"].is_string(), "{doc}");
    let unlocked = ok(&["user", "unlock", "--data", &data, "--name", "mrodriguez"]);
    assert!(unlocked.contains("mrodriguez unlocked"), "{unlocked}");
    let listed = ok(&["user", "list", "--data", &data]);
    assert!(!listed.contains("LOCKED"), "{listed}");
    let served = search_as("night shift district 4");
    // Logged in and served: the node holds no reads, so "nothing found" (1).
    assert_eq!(
        served.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
}

#[test]
fn a_release_to_another_agency_is_recorded_and_listed_for_audit() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let data = f.path("station-1");
    let file = f.reads_file("r.jsonl", 2, 200, |i| format!("RL{i:03}"));
    ok(&["import", "--data", &data, &file]);
    assert!(ok(&["releases", "--data", &data]).contains("no releases recorded"));
    let found: serde_json::Value = serde_json::from_str(&ok(&[
        "search",
        "--data",
        &data,
        "--pattern",
        "RL*",
        "--purpose",
        "alert",
        "--reason",
        "release check",
        "--json",
    ]))
    .unwrap();
    let id = found["items"][0]["id"].as_str().unwrap().replace(' ', "");
    let out = f.path("release-1");
    ok(&[
        "release",
        "--data",
        &data,
        "--purpose",
        "investigation",
        "--reason",
        "court order",
        "--case",
        "26-7000",
        "--agency",
        "County DA",
        "--official",
        "ADA Lee",
        "--legal-basis",
        "subpoena 26-113",
        "--read",
        &id,
        "--out",
        &out,
    ]);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&["releases", "--data", &data, "--json"])).unwrap();
    let r = &listed["items"][0];
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(r["agency"], "County DA", "{listed}");
    assert_eq!(r["official"], "ADA Lee", "{listed}");
    assert_eq!(r["legal_basis"], "subpoena 26-113", "{listed}");
    assert_eq!(r["case"], "26-7000", "{listed}");
    assert_eq!(r["reads"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(r["manifest_sha256"].as_str().unwrap().len(), 64, "{listed}");
    let text = ok(&["releases", "--data", &data]);
    assert!(
        text.contains("County DA") && text.contains("subpoena 26-113"),
        "{text}"
    );
    // An officer does not see the register.
    f.add_user(&data, "ofc-ruiz", "officer", "night shift district 4");
    let refused = alpr_tests::alpr(&["releases", "--data", &data, "--user", "ofc-ruiz"])
        .env("ALPR_USER_PASSWORD", "night shift district 4")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("see releases to other agencies"), "{why}");
}
