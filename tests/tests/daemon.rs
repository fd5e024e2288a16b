//! The daemon's control socket, end to end: a real `alpr-node serve` process and real clients.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;

use alpr_tests::{Daemon, Fixture, ok, run};

#[test]
fn clients_go_through_the_daemon_and_bad_frames_do_not_stop_it() {
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let file = f.reads_file("reads.jsonl", 6, 200, |i| format!("D{i:04}"));
    ok(&["import", "--data", &data, &file]);
    let daemon = Daemon::start(&data, &[]);

    let socket = std::path::Path::new(&data).join("control.sock");
    let mode = std::fs::metadata(&socket)
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "control socket must be owner-only");
    // It was bound under a staging name and moved into place once owner-only.
    let staged: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".new"))
        .collect();
    assert!(staged.is_empty(), "a staging socket was left: {staged:?}");

    let found = ok(&[
        "search",
        "--data",
        &data,
        "--pattern",
        "D*",
        "--purpose",
        "alert",
        "--reason",
        "bolo check",
    ]);
    assert!(found.contains("6 matching reads"), "{found}");
    let refused = run(&["search", "--data", &data, "--pattern", "D*"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a purpose is required"));

    // Garbage on the socket: answered with an error, and the daemon keeps serving.
    let mut raw = UnixStream::connect(&socket).expect("connect");
    raw.write_all(&[0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff])
        .expect("write");
    let mut prefix = [0u8; 4];
    raw.read_exact(&mut prefix).expect("an answer");
    let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
    raw.read_exact(&mut body).expect("answer body");
    let answer: alpr_protocol::control::ControlResponse =
        alpr_protocol::control::decode_frame(&body).expect("decodes");
    assert!(
        matches!(
            answer,
            alpr_protocol::control::ControlResponse::Error { .. }
        ),
        "{answer:?}"
    );
    let mut huge = UnixStream::connect(&socket).expect("connect");
    huge.write_all(&u32::MAX.to_be_bytes()).expect("write");
    let verified = ok(&["verify", "--data", &data]);
    assert!(verified.contains("checked 6 reads"), "{verified}");

    // Every command goes through the daemon while it owns the database.
    assert!(ok(&["user", "list", "--data", &data]).contains("chief"));
    let more = f.reads_file("more.jsonl", 3, 200, |i| format!("E{i:04}"));
    assert!(ok(&["import", "--data", &data, &more]).contains("committed reads 7..=9"));

    drop(daemon);
    // The daemon documented what it served: searches (with the refusal) and the verify.
    let after = ok(&["verify", "--data", &data]);
    assert!(after.contains("0 failures"), "{after}");
}

fn call_raw(
    socket: &std::path::Path,
    request: &alpr_protocol::control::ControlRequest,
) -> alpr_protocol::control::ControlResponse {
    let mut raw = UnixStream::connect(socket).expect("connect");
    raw.write_all(&alpr_protocol::control::encode_frame(request).expect("frames"))
        .expect("write");
    let mut prefix = [0u8; 4];
    raw.read_exact(&mut prefix).expect("an answer");
    let mut body = vec![0u8; u32::from_be_bytes(prefix) as usize];
    raw.read_exact(&mut body).expect("answer body");
    alpr_protocol::control::decode_frame(&body).expect("decodes")
}

#[test]
fn a_forged_token_with_a_9_mib_field_is_refused_by_name_and_the_log_stays_whole() {
    use alpr_protocol::control::{ControlRequest, ControlResponse, ErrorKind, HoldScopeWire};
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let daemon = Daemon::start(&data, &[]);
    let socket = std::path::Path::new(&data).join("control.sock");
    // A client of another control version is told so, by number.
    let other = call_raw(
        &socket,
        &ControlRequest::Login {
            version: alpr_protocol::control::CONTROL_VERSION + 1,
            user: "chief".into(),
            password: "pw".into(),
        },
    );
    assert!(
        matches!(&other, ControlResponse::Error { message, .. }
            if message.contains(&format!("control version {}", alpr_protocol::control::CONTROL_VERSION + 1))),
        "{other:?}"
    );
    let huge = "x".repeat(9 * 1024 * 1024);
    let answer = call_raw(
        &socket,
        &ControlRequest::Login {
            version: alpr_protocol::control::CONTROL_VERSION,
            user: huge.clone(),
            password: "pw".into(),
        },
    );
    let ControlResponse::Error { kind, message } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(kind, ErrorKind::Invalid);
    assert!(message.contains("login: user is 9437184 long"), "{message}");
    let answer = call_raw(
        &socket,
        &ControlRequest::PlaceHold {
            token: [7; 32],
            case: huge,
            reason: "r".into(),
            scope: HoldScopeWire::Reads(vec![]),
            expires: None,
        },
    );
    assert!(
        matches!(&answer, ControlResponse::Error { message, .. } if message.contains("place hold: case")),
        "{answer:?}"
    );
    let verified = ok(&["verify", "--data", &data]);
    assert!(verified.contains("0 failures"), "{verified}");
    // Both refusals are documented, by size and field, never by content.
    let log = ok(&[
        "audit",
        "log",
        "--data",
        &data,
        "--contains",
        "malformed request",
    ]);
    assert!(log.contains("login: user is 9437184 long"), "{log}");
    assert!(log.contains("place hold: case is"), "{log}");
    assert!(
        !log.contains("xxxxxxxxxxxxxxxx"),
        "the field itself was logged"
    );
    drop(daemon);
}

#[test]
fn sixteen_silent_connections_do_not_lock_anyone_out() {
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let daemon = Daemon::start(&data, &[]);
    let socket = std::path::Path::new(&data).join("control.sock");
    let silent: Vec<UnixStream> = (0..16)
        .map(|_| UnixStream::connect(&socket).expect("connect"))
        .collect();
    // Served once the silent ones are dropped (seconds), not 35 minutes.
    let started = std::time::Instant::now();
    let listed = ok(&["user", "list", "--data", &data]);
    assert!(listed.contains("chief"), "{listed}");
    let waited = started.elapsed();
    // Every silent connection was closed by the daemon.
    for mut s in silent {
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut rest = Vec::new();
        assert!(
            s.read_to_end(&mut rest).is_ok(),
            "a silent connection is still open"
        );
    }
    eprintln!("served after {waited:?} with 16 silent connections open");
    // A burst of more clients than slots is queued, not refused.
    let burst: Vec<_> = (0..24)
        .map(|_| {
            let data = data.clone();
            std::thread::spawn(move || run(&["user", "list", "--data", &data]))
        })
        .collect();
    for b in burst {
        let out = b.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(daemon);
}

#[test]
fn sigterm_stops_the_daemon_cleanly_and_removes_its_socket() {
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let file = f.reads_file("reads.jsonl", 4, 200, |i| format!("T{i:04}"));
    for signal in ["-TERM", "-INT"] {
        let mut daemon = Daemon::start(&data, &[]);
        ok(&["import", "--data", &data, &file]);
        let socket = std::path::Path::new(&data).join("control.sock");
        assert!(socket.exists());
        let sent = std::process::Command::new("kill")
            .args([signal, &daemon.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = daemon.child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "{signal}: {status}\n{}",
            daemon.log()
        );
        assert!(!socket.exists(), "{signal} left {}", socket.display());
        assert!(daemon.log().contains("stopping"), "{}", daemon.log());
    }
    let verified = ok(&["verify", "--data", &data]);
    assert!(verified.contains("checked 4 reads"), "{verified}");
    assert!(verified.contains("0 failures"), "{verified}");
}

#[test]
fn a_client_dripping_bytes_is_dropped_at_the_login_deadline() {
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let daemon = Daemon::start(&data, &[]);
    let socket = std::path::Path::new(&data).join("control.sock");
    let mut drip = UnixStream::connect(&socket).expect("connect");
    let mut writer = drip.try_clone().unwrap();
    let started = std::time::Instant::now();
    // A frame's prefix and body, one byte a second: each read is quick, the
    // request never completes.
    std::thread::spawn(move || {
        for b in [0u8, 0, 0, 200]
            .into_iter()
            .chain(std::iter::repeat_n(7, 20))
        {
            if writer.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    });
    drip.set_read_timeout(Some(std::time::Duration::from_secs(12)))
        .unwrap();
    let mut rest = Vec::new();
    assert!(
        drip.read_to_end(&mut rest).is_ok(),
        "still open after {:?}",
        started.elapsed()
    );
    let closed_after = started.elapsed();
    assert!(
        closed_after < std::time::Duration::from_secs(9),
        "{closed_after:?}"
    );
    drop(daemon);
}

#[test]
fn a_purge_through_the_daemon_runs_in_steps_and_is_refused_to_an_officer() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let data = f.path("station-1");
    f.add_user(&data, "jsmith", "officer", "night shift district 4");
    let file = f.reads_file("reads.jsonl", 5, 100, |i| format!("PG{i:03}"));
    let daemon = Daemon::start(&data, &[]);
    ok(&["import", "--data", &data, &file]);
    // Nothing is past retention yet: the steps find nothing, and say so.
    let purged = ok(&["purge", "--data", &data]);
    assert!(
        purged.contains("purged 0 reads captured before"),
        "{purged}"
    );
    let dry = ok(&["purge", "--data", &data, "--dry-run"]);
    assert!(dry.contains("would purge 0 reads"), "{dry}");
    let log = ok(&[
        "audit", "log", "--data", &data, "--action", "purge", "--json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&log).unwrap();
    let objects: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["object"].as_str().unwrap())
        .collect();
    assert!(
        objects.iter().any(|o| o.contains("nothing past retention")),
        "{objects:?}"
    );
    // An officer's purge is refused on record, through the same path.
    let refused = alpr_tests::alpr(&["purge", "--data", &data])
        .env("ALPR_USER", "jsmith")
        .env("ALPR_USER_PASSWORD", "night shift district 4")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("may not purge"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // The reads are all still there, and the daemon keeps serving.
    let verified = ok(&["verify", "--data", &data]);
    assert!(verified.contains("checked 5 reads"), "{verified}");
    drop(daemon);
}

#[test]
fn a_live_view_streams_reads_as_they_are_stored_and_is_audited_with_its_purpose() {
    use std::io::BufRead;
    let f = Fixture::new("station-1");
    let data = f.path("station-1");
    let daemon = Daemon::start(&data, &[]);
    // No purpose: refused before anything streams.
    let refused = run(&["watch", "--data", &data, "--count", "1"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a purpose is required"));

    let mut watch = alpr_tests::alpr(&[
        "watch",
        "--data",
        &data,
        "--purpose",
        "alert",
        "--reason",
        "patrol shift",
        "--count",
        "3",
        "--json",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("spawn watch");
    let mut stderr = std::io::BufReader::new(watch.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("watch speaks");
    assert!(line.starts_with("watching"), "{line}");
    let file = f.reads_file("reads.jsonl", 3, 200, |i| format!("LV{i:04}"));
    ok(&["import", "--data", &data, &file]);
    let out = watch.wait_with_output().expect("watch ends");
    assert!(out.status.success(), "{out:?}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let plates: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "read")
        .map(|e| e["plate"].as_str().expect("plate"))
        .collect();
    assert_eq!(plates, ["LV0000", "LV0001", "LV0002"]);
    assert!(events.iter().all(|e| e["schema"] == "alpr-node.event"));

    // Opened and closed, each with the purpose, under the user's name.
    let mut log = String::new();
    for _ in 0..150 {
        log = ok(&["audit", "log", "--data", &data, "--action", "live-view"]);
        if log.contains("live view closed") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(log.contains("live view opened"), "{log}");
    assert!(log.contains("3 reads shown"), "{log}");
    assert!(log.contains("patrol shift"), "{log}");
    drop(daemon);
}

/// A verify through the daemon says how far it is, and a client that hangs
/// up stops it: the audit log says it was cancelled, and the daemon serves on.
#[test]
fn a_verify_reports_progress_and_a_client_hanging_up_cancels_it() {
    use alpr_node::control::ControlClient;
    use alpr_protocol::control::{CONTROL_VERSION, ControlRequest, ControlResponse};
    let f = Fixture::new("car-1");
    let data = f.path("car-1");
    let file = f.reads_file("shift.jsonl", 2100, 200, |i| format!("VP{i:05}"));
    ok(&["import", "--data", &data, &file]);
    let daemon = Daemon::start(&data, &[]);
    let login = |client: &mut ControlClient| {
        let ControlResponse::LoggedIn { token, .. } = client
            .call(&ControlRequest::Login {
                version: CONTROL_VERSION,
                user: alpr_tests::ADMIN.into(),
                password: alpr_tests::ADMIN_PASSWORD.into(),
            })
            .expect("login")
        else {
            panic!("no login");
        };
        token
    };
    // Whole: progress frames come first, then the answer.
    let mut client = ControlClient::connect(std::path::Path::new(&data)).expect("daemon");
    let token = login(&mut client);
    let mut seen = Vec::new();
    let answer = client
        .call_watching(&ControlRequest::Verify { token }, |what, done, total| {
            seen.push((what.to_string(), done, total));
        })
        .expect("verify");
    assert!(
        matches!(answer, ControlResponse::Verified { reads: 2100, cancelled: false, ref failures, .. } if failures.is_empty()),
        "{answer:?}"
    );
    assert!(
        seen.contains(&("reads".into(), 2048, Some(2100))),
        "{seen:?}"
    );
    assert!(seen.iter().any(|(w, ..)| w == "images"), "{seen:?}");

    // Cancelled: the client reads the first progress frame and hangs up.
    let mut client = ControlClient::connect(std::path::Path::new(&data)).expect("daemon");
    let token = login(&mut client);
    let mut raw =
        std::os::unix::net::UnixStream::connect(std::path::Path::new(&data).join("control.sock"))
            .expect("socket");
    raw.write_all(
        &alpr_protocol::control::encode_frame(&ControlRequest::Verify { token }).unwrap(),
    )
    .expect("send");
    let mut prefix = [0u8; 4];
    raw.read_exact(&mut prefix).expect("a first frame");
    drop(raw);
    // The daemon serves on, and its log of accesses says the verify was cancelled.
    for _ in 0..100 {
        let events = ok(&[
            "audit", "log", "--data", &data, "--action", "verify", "--json",
        ]);
        if events.contains("cancelled by the user") {
            daemon.stop();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "no cancelled verify in the audit log:\n{}",
        ok(&[
            "audit", "log", "--data", &data, "--action", "verify", "--json"
        ])
    );
}
