//! What people and scripts read from the CLI: snapshots of the human tables
//! and JSON documents (so Debug text and ragged columns cannot come back),
//! exit statuses, the audit-log query, look-alike search, the overview
//! frame, a case's trail with its hold, completions and man pages.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_node::datadir::Node;
use alpr_tests::{Fixture, NODE_PASSPHRASE, alpr, found, ok, run, search_items};

/// Output with what changes from run to run replaced: ids, times, hashes,
/// paths and the free disk space.
struct Normalize {
    pairs: Vec<(String, String)>,
}

impl Normalize {
    fn new(f: &Fixture, data: &str) -> Normalize {
        let node = Node::open(std::path::Path::new(data), NODE_PASSPHRASE.as_bytes()).unwrap();
        let id = node.node_key.id();
        let agency = node.certificate.certificate().agency;
        Normalize {
            pairs: vec![
                (id.to_hex(), "<NODE-ID>".into()),
                // As wide as the id it stands for, so columns stay aligned.
                (
                    id.short(),
                    format!("{:<w$}", "<NODE>", w = id.short().len()),
                ),
                (agency.to_hex(), "<AGENCY-ID>".into()),
                (f.root.path().display().to_string(), "<DIR>".into()),
            ],
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.pairs {
            out = out.replace(from, to);
        }
        let out = times(&out);
        let out = hashes(&out);
        out.lines()
            .map(|l| {
                // Free space and ages vary with the machine and the clock.
                if let Some(at) = l.find("\"disk_free_bytes\": ") {
                    let rest = l[at..].trim_start_matches(|c: char| !c.is_ascii_digit());
                    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                    format!("{}\"disk_free_bytes\": <N>{rest}", &l[..at])
                } else if l.starts_with("disk ") {
                    "disk         <FREE>".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Replaces every `2026-12-01T22:46:05.220Z` with `<TIME>` padded to the
/// same width, so aligned columns stay aligned in the snapshot.
fn times(text: &str) -> String {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let fits = i + shape.len() <= chars.len()
            && shape.chars().zip(&chars[i..]).all(|(s, c)| match s {
                'd' => c.is_ascii_digit(),
                other => other == *c,
            });
        if fits {
            out.push_str(&format!("{:<24}", "<TIME>"));
            i += shape.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Replaces runs of 16 or more lowercase hex digits with a letter among
/// them (content hashes) with `<HASH>`.
fn hashes(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || ('a'..='f').contains(&c) {
            run.push(c);
            continue;
        }
        if run.len() >= 16 && run.chars().any(|c| c.is_ascii_alphabetic()) {
            out.push_str(&format!("{:<width$}", "<HASH>", width = run.len().min(16)));
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

const ALERT: [&str; 4] = ["--purpose", "alert", "--reason", "hotlist hit follow-up"];

fn with(args: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
    args.iter().chain(more).copied().collect()
}

#[test]
fn listings_read_as_tables_with_headers_and_as_versioned_json() {
    let f = Fixture::new("car-1");
    // Users are administered at a station.
    f.enroll_as("station-1", "station");
    let data = f.path("station-1");
    let data: &'static str = Box::leak(data.into_boxed_str());
    let file = f.reads_file("reads.jsonl", 3, 200, |i| {
        ["7ABC123", "8XYZ001", "7ABC124"][i].into()
    });
    ok(&["import", "--data", data, &file]);
    f.add_user(data, "jsmith", "officer", "night shift district 4");
    ok(&[
        "hotlist",
        "add",
        "--data",
        data,
        "--plate",
        "8XYZ001",
        "--region",
        "CA",
        "--category",
        "stolen-vehicle",
        "--reference",
        "report 26-118",
    ]);
    ok(&[
        "hold",
        "add",
        "--data",
        data,
        "--case",
        "26-7781",
        "--reason",
        "hit and run on Elm",
        "--plate",
        "7ABC123",
        "--from",
        "2026-01-01",
        "--to",
        "2099-12-31",
    ]);
    let norm = Normalize::new(&f, data);
    let mut snapshot = String::new();
    let mut show = |title: &str, args: &[&str]| {
        let out = found(args);
        snapshot.push_str(&format!(
            "$ alpr-node {title}\n{}\n\n",
            norm.apply(out.trim_end())
        ));
    };
    let search = with(&["search", "--data", data, "--pattern", "7ABC*"], &ALERT);
    show("search --pattern 7ABC*", &search);
    show("search --pattern 7ABC* --json", &with(&search, &["--json"]));
    show("user list", &["user", "list", "--data", data]);
    show(
        "user list --json",
        &["user", "list", "--data", data, "--json"],
    );
    show("hold list", &["hold", "list", "--data", data]);
    show("hotlist list", &["hotlist", "list", "--data", data]);
    show(
        "audit log --action search",
        &["audit", "log", "--data", data, "--action", "search"],
    );
    show("retention --json", &["retention", "--data", data, "--json"]);
    show("status", &["status", "--data", data]);
    show("status --json", &["status", "--data", data, "--json"]);
    for debug in [
        "Officer",
        "Administrator",
        "StolenVehicle",
        "Timestamp(",
        "Some(",
        "[0x",
    ] {
        assert!(
            !snapshot.contains(debug),
            "Debug text '{debug}' in:\n{snapshot}"
        );
    }
    expect_test::expect_file!["snapshots/listings.txt"].assert_eq(&snapshot);
}

#[test]
fn exit_statuses_say_usage_nothing_found_refused_bad_input_and_io() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let code = |args: &[&str]| run(args).status.code();
    // Usage: a value clap or the CLI rejects, before the node is asked.
    assert_eq!(
        code(&[
            "search",
            "--data",
            &data,
            "--pattern",
            "A*",
            "--purpose",
            "curiosity"
        ]),
        Some(64)
    );
    assert_eq!(
        code(&[
            "search",
            "--data",
            &data,
            "--pattern",
            "A*",
            "--from",
            "yesterday"
        ]),
        Some(64)
    );
    assert_eq!(
        code(&["hold", "list", "--data", &data, "--bogus"]),
        Some(64)
    );
    assert_eq!(code(&["--help"]), Some(0));
    // Nothing found.
    assert_eq!(
        code(&with(
            &[
                "search",
                "--data",
                Box::leak(data.clone().into_boxed_str()),
                "--pattern",
                "Q*"
            ],
            &ALERT
        )),
        Some(1)
    );
    // Refused by the node: no purpose; a wrong password.
    assert_eq!(
        code(&["search", "--data", &data, "--pattern", "A*"]),
        Some(2)
    );
    let wrong = alpr(&["user", "list", "--data", &data])
        .env("ALPR_USER_PASSWORD", "not the password at all")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    // Bad input: an import line that is not JSON; I/O: a file that is not there.
    let bad = f.path("bad.jsonl");
    std::fs::write(&bad, "{not json\n").unwrap();
    assert_eq!(code(&["import", "--data", &data, &bad]), Some(65));
    assert_eq!(
        code(&["import", "--data", &data, &f.path("missing.jsonl")]),
        Some(74)
    );
    // A bundle that is not one: bad input; a peer nobody answers at: unavailable.
    let junk = f.path("junk.enroll");
    std::fs::write(&junk, b"not a bundle").unwrap();
    let out = f.path("car-9");
    assert_eq!(
        code(&[
            "init",
            "--enroll",
            &junk,
            "--data",
            &out,
            "--admin",
            "chief",
            "--admin-trained-on",
            "2026-01-15",
        ]),
        Some(65)
    );
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = format!("127.0.0.1:{port}");
    assert_eq!(code(&["sync", "--data", &data, "--peer", &peer]), Some(69));
    let help = ok(&["--help"]);
    assert!(
        help.contains("Exit status: 0 done; 1 nothing found"),
        "{help}"
    );
}

#[test]
fn the_audit_log_answers_who_searched_a_plate_and_only_to_auditors_and_administrators() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let data = f.path("station-1");
    let file = f.reads_file("reads.jsonl", 2, 200, |i| format!("7ABC12{i}"));
    ok(&["import", "--data", &data, &file]);
    f.add_user(&data, "jsmith", "officer", "night shift district 4");
    let as_officer = |args: &[&str]| {
        alpr(args)
            .env("ALPR_USER", "jsmith")
            .env("ALPR_USER_PASSWORD", "night shift district 4")
            .output()
            .unwrap()
    };
    let searched = as_officer(&with(
        &[
            "search",
            "--data",
            Box::leak(data.clone().into_boxed_str()),
            "--plate",
            "7ABC121",
        ],
        &ALERT,
    ));
    assert!(searched.status.success());
    let log = |more: &[&str]| -> serde_json::Value {
        let mut args = vec!["audit", "log", "--data", &data, "--json"];
        args.extend(more);
        serde_json::from_str(&found(&args)).unwrap()
    };
    let doc = log(&["--action", "search", "--contains", "7abc121"]);
    assert_eq!(doc["schema"], "alpr-node.audit-log");
    assert_eq!(doc["total"], 1, "{doc}");
    let event = &doc["items"][0];
    assert_eq!(event["user"], "jsmith");
    assert_eq!(event["action"], "search");
    assert!(
        event["purpose"]
            .as_str()
            .unwrap()
            .contains("hotlist hit follow-up"),
        "{event}"
    );
    // What one user did, newest first.
    let by = log(&["--by", "jsmith"]);
    let actions: Vec<&str> = by["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["logout", "search", "login"], "{by}");
    // An officer may not read the log; the query itself is logged.
    let refused = as_officer(&["audit", "log", "--data", &data]);
    assert_eq!(refused.status.code(), Some(2));
    let queries = log(&["--action", "audit-review", "--contains", "audit log query"]);
    assert!(queries["total"].as_u64().unwrap() >= 2, "{queries}");
    let nothing = run(&["audit", "log", "--data", &data, "--by", "nobody"]);
    assert_eq!(nothing.status.code(), Some(1));
}

#[test]
fn a_plate_search_takes_o_and_zero_as_one_unless_exact() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let data: &'static str = Box::leak(data.into_boxed_str());
    let file = f.reads_file("reads.jsonl", 3, 200, |i| {
        ["7ABO03", "7AB003", "7AB0O3"][i].into()
    });
    ok(&["import", "--data", data, &file]);
    let plates = |more: &[&'static str]| -> Vec<String> {
        let mut found: Vec<String> =
            search_items(&with(&with(&["search", "--data", data], more), &ALERT))
                .iter()
                .map(|h| h["plate"].as_str().unwrap().to_string())
                .collect();
        found.sort();
        found
    };
    assert_eq!(
        plates(&["--plate", "7AB003"]),
        ["7AB003", "7AB0O3", "7ABO03"]
    );
    assert_eq!(
        plates(&["--plate", "7ABOO3"]),
        ["7AB003", "7AB0O3", "7ABO03"]
    );
    assert_eq!(plates(&["--plate", "7AB003", "--exact"]), ["7AB003"]);
}

#[test]
fn a_case_trail_includes_its_hold_and_evidence_leaves_only_for_an_investigation() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let file = f.reads_file("reads.jsonl", 2, 200, |i| format!("4GHJ55{i}"));
    ok(&["import", "--data", &data, &file]);
    ok(&[
        "hold",
        "add",
        "--data",
        &data,
        "--case",
        "26-9",
        "--reason",
        "hit and run",
        "--plate",
        "4GHJ550",
        "--from",
        "2026-01-01",
        "--to",
        "2099-12-31",
    ]);
    let out = f.path("usb");
    let refused = run(&[
        "evidence",
        "export",
        "--data",
        &data,
        "--out",
        &out,
        "--purpose",
        "alert",
        "--reason",
        "hit follow-up",
        "--case",
        "26-9",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("only for an investigation"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
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
        "court packet",
        "--case",
        "26-9",
    ]);
    let mut trail = String::new();
    for entry in std::fs::read_dir(std::path::Path::new(&out).join("audit")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            trail.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    assert!(trail.contains("place hold for case 26-9"), "{trail}");
    assert!(trail.contains("\"action\": \"edit hold\""), "{trail}");
    let verified = ok(&["evidence", "verify", &out]);
    assert!(verified.contains(", 0 problems"), "{verified}");
}

#[test]
fn completions_and_man_pages_come_from_the_same_definitions() {
    let bash = ok(&["completions", "bash"]);
    assert!(
        bash.contains("alpr-node") && bash.contains("--purpose"),
        "{bash}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    ok(&["man", "--out", &out]);
    let page = std::fs::read_to_string(dir.path().join("alpr-node.1")).unwrap();
    assert!(page.contains(".TH alpr-node"), "{page}");
    assert!(dir.path().join("alpr-node-search.1").exists());
}
