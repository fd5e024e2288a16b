//! Evidence export to portable media and offline verification, end to end with the real binary.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use alpr_tests::{Fixture, ok, run};

fn verify_out(dir: &str) -> (Option<i32>, String) {
    let out = run(&["evidence", "verify", dir]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn files_under(dir: &Path, prefix: &str, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir.join(prefix))
        .expect("bundle subdir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

#[test]
fn a_case_exports_verifies_offline_and_names_an_altered_image() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let file = f.reads_file("reads.jsonl", 12, 700, |i| {
        if i % 4 == 0 {
            "4GHJ552".into()
        } else {
            format!("Q{i:05}")
        }
    });
    ok(&["import", "--data", &data, &file]);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert!(
        ok(&[
            "hold",
            "add",
            "--data",
            &data,
            "--case",
            "26-0042",
            "--reason",
            "armed robbery suspect vehicle",
            "--plate",
            "4GHJ552",
            "--from",
            &today,
            "--to",
            &today,
        ])
        .contains("hold 1 placed")
    );
    let purpose = [
        "--purpose",
        "investigation",
        "--reason",
        "armed robbery",
        "--case",
        "26-0042",
    ];
    let mut search = vec!["search", "--data", &data, "--plate", "4GHJ552"];
    search.extend(purpose);
    assert!(ok(&search).contains("3 matching reads"));

    // Without a purpose naming the case, nothing is exported.
    let out_dir = f.path("usb/case-26-0042");
    let refused = run(&[
        "evidence", "export", "--data", &data, "--out", &out_dir, "--case", "26-0042",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("purpose is required"));

    let mut export = vec!["evidence", "export", "--data", &data, "--out", &out_dir];
    export.extend(purpose);
    let exported = ok(&export);
    assert!(exported.contains("3 reads and"), "{exported}");
    // Where it went, as the file system names it, and how much was written.
    let written: u64 = walk_bytes(std::path::Path::new(&out_dir));
    let real = std::fs::canonicalize(&out_dir).unwrap();
    assert!(
        exported.contains(&format!("written to {} (", real.display())),
        "{exported}"
    );
    let listed: u64 = exported
        .split(" bytes")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        listed > 0 && listed < written,
        "{listed} of {written}: {exported}"
    );

    let (code, report) = verify_out(&out_dir);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("3 reads"), "{report}");
    assert!(report.contains(", 0 problems"), "{report}");
    // Anchored to the agency key the court holds: the right key passes, another fails.
    let agency = std::fs::read_to_string(f.path("agency/agency.pub")).expect("agency.pub");
    let anchored = ok(&["evidence", "verify", &out_dir, "--agency", agency.trim()]);
    assert!(
        anchored.contains("checked against the key you gave"),
        "{anchored}"
    );
    let other = Fixture::new("car-9");
    let other_agency =
        std::fs::read_to_string(other.path("agency/agency.pub")).expect("agency.pub");
    let forged = run(&[
        "evidence",
        "verify",
        &out_dir,
        "--agency",
        other_agency.trim(),
    ]);
    assert_eq!(forged.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&forged.stdout).contains("not the agency you trust"));
    // The case's audit trail went along: the search, hold and export requests that named it.
    assert!(!files_under(Path::new(&out_dir), "audit", ".envelope").is_empty());

    // One byte of one plate crop changes: verify names exactly that file.
    let crops = files_under(Path::new(&out_dir), "reads", "-crop.jpg");
    assert_eq!(crops.len(), 3);
    let mut bytes = std::fs::read(&crops[1]).expect("crop");
    bytes[100] ^= 0x20;
    std::fs::write(&crops[1], bytes).expect("alter crop");
    let (code, report) = verify_out(&out_dir);
    assert_eq!(code, Some(2), "{report}");
    let name = crops[1]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        report.contains(&format!("FAIL reads/{name}: altered")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "FAIL reads/{name}: not the image the signed record commits to"
        )),
        "{report}"
    );
    assert!(report.contains(", 2 problems"), "{report}");
}

#[test]
fn a_rewritten_manifest_and_an_extra_file_are_caught() {
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let file = f.reads_file("reads.jsonl", 3, 300, |_| "8XYZ001".into());
    ok(&["import", "--data", &data, &file]);
    let listed = alpr_tests::search_items(&[
        "search",
        "--data",
        &data,
        "--plate",
        "8XYZ001",
        "--purpose",
        "alert",
        "--reason",
        "bolo hit",
    ]);
    let id = listed[0]["id"].as_str().expect("a read's id").to_string();
    ok(&[
        "hold",
        "add",
        "--data",
        &data,
        "--case",
        "26-7",
        "--reason",
        "hit and run",
        "--read",
        &id,
    ]);
    let out_dir = f.path("bundle");
    ok(&[
        "evidence",
        "export",
        "--data",
        &data,
        "--out",
        &out_dir,
        "--purpose",
        "investigation",
        "--reason",
        "hit and run",
        "--case",
        "26-7",
    ]);
    assert_eq!(verify_out(&out_dir).0, Some(0));

    // Someone edits a plate in the readable copy and fixes up the manifest's hash:
    // the manifest no longer matches its signature, and the JSON no longer matches the signed record.
    let json = files_under(Path::new(&out_dir), "reads", ".json").remove(0);
    let text = std::fs::read_to_string(&json)
        .expect("json")
        .replace("8XYZ001", "8XYZ007");
    std::fs::write(&json, &text).expect("write json");
    let manifest_path = Path::new(&out_dir).join("MANIFEST.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    let rel = format!(
        "reads/{}",
        json.file_name().expect("name").to_string_lossy()
    );
    for entry in manifest["files"].as_array_mut().expect("files") {
        if entry["path"] == rel.as_str() {
            use sha2::Digest;
            entry["sha256"] = hex::encode(sha2::Sha256::digest(text.as_bytes())).into();
            entry["bytes"] = text.len().into();
        }
    }
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).expect("ser"),
    )
    .expect("write manifest");
    std::fs::write(Path::new(&out_dir).join("reads/notes.txt"), "added later").expect("extra");
    let (code, report) = verify_out(&out_dir);
    assert_eq!(code, Some(2));
    assert!(
        report.contains("FAIL MANIFEST.sig: does not verify"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "FAIL {rel}: plate differs from the signed record (8XYZ001)"
        )),
        "{report}"
    );
    assert!(
        report.contains("FAIL reads/notes.txt: not listed in the manifest"),
        "{report}"
    );
}

/// Bytes of every file under `dir`.
fn walk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk_bytes(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

/// Through the daemon, an export says how many files it has written, and a
/// client that hangs up stops it: nothing is left on the media, and the
/// audit log says the export was cancelled.
#[test]
fn an_export_reports_its_files_and_hanging_up_cancels_it_leaving_nothing() {
    use alpr_protocol::control::{
        CONTROL_VERSION, ControlRequest, ControlResponse, PurposeKindWire, PurposeWire,
    };
    use std::io::{Read, Write};
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let file = f.reads_file("reads.jsonl", 60, 700, |_| "4GHJ552".into());
    ok(&["import", "--data", &data, &file]);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    ok(&[
        "hold",
        "add",
        "--data",
        &data,
        "--case",
        "26-0042",
        "--reason",
        "armed robbery",
        "--plate",
        "4GHJ552",
        "--from",
        &today,
        "--to",
        &today,
    ]);
    let daemon = alpr_tests::Daemon::start(&data, &[]);
    let socket = Path::new(&data).join("control.sock");
    let frame = |stream: &mut std::os::unix::net::UnixStream| -> ControlResponse {
        let mut prefix = [0u8; 4];
        stream.read_exact(&mut prefix).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
        stream.read_exact(&mut body).unwrap();
        alpr_protocol::control::decode_frame(&body).unwrap()
    };
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    let send = |stream: &mut std::os::unix::net::UnixStream, r: &ControlRequest| {
        stream
            .write_all(&alpr_protocol::control::encode_frame(r).unwrap())
            .unwrap();
    };
    send(
        &mut stream,
        &ControlRequest::Login {
            version: CONTROL_VERSION,
            user: alpr_tests::ADMIN.into(),
            password: alpr_tests::ADMIN_PASSWORD.into(),
        },
    );
    let ControlResponse::LoggedIn { token, .. } = frame(&mut stream) else {
        panic!("no login");
    };
    let out = f.path("usb/26-0042");
    send(
        &mut stream,
        &ControlRequest::ExportEvidence {
            token,
            purpose: PurposeWire {
                kind: Some(PurposeKindWire::Investigation),
                reason: Some("court".into()),
                case: Some("26-0042".into()),
            },
            case: "26-0042".into(),
            out: out.clone(),
        },
    );
    let first = frame(&mut stream);
    assert!(
        matches!(&first, ControlResponse::Progress { what, done: 0, total: Some(n) } if what == "files" && *n > 60),
        "{first:?}"
    );
    drop(stream);
    for _ in 0..100 {
        let log = ok(&[
            "audit", "log", "--data", &data, "--action", "export", "--json",
        ]);
        if log.contains("cancelled by the user") {
            assert!(!Path::new(&out).exists(), "the cancelled export left {out}");
            daemon.stop();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no cancelled export in the audit log");
}
