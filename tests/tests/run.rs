//! `alpr-node run` end to end with real processes: the daemon reads a
//! folder and an MJPEG stream through the shipped models, stores the reads,
//! raises an alert on a listed plate and syncs to a station process;
//! SIGTERM mid-capture loses no acknowledged read and leaves no socket; a
//! configuration with an unknown key is refused by name and line.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use alpr_sim::scene::{self, Plate};
use alpr_tests::{Daemon, Fixture, alpr, ok, run};

const PURPOSE: [&str; 4] = ["--purpose", "alert", "--reason", "check the daemon's reads"];

/// Frames of vehicles passing, one after another, as PNG files.
fn frames(dir: &Path, seed: u64, plates: &[(&str, &str)], per_vehicle: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut n = 0;
    for (v, (text, band)) in plates.iter().enumerate() {
        for (img, _) in scene::pass(seed + v as u64, &Plate::new(text, band), per_vehicle) {
            img.save(dir.join(format!("f{n:04}.png"))).unwrap();
            n += 1;
        }
    }
}

/// The same, as one MJPEG stream (concatenated JPEGs).
fn mjpeg(path: &Path, seed: u64, plates: &[(&str, &str)]) {
    let mut out = Vec::new();
    for (v, (text, band)) in plates.iter().enumerate() {
        for (img, _) in scene::pass(seed + v as u64, &Plate::new(text, band), 10) {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
                .encode_image(&img)
                .unwrap();
        }
    }
    std::fs::write(path, out).unwrap();
}

fn write_config(f: &Fixture, name: &str, body: &str) -> String {
    let path = f.path(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn plates_at(data: &str, pattern: &str) -> Vec<serde_json::Value> {
    let mut args = vec!["search", "--data", data, "--pattern", pattern, "--json"];
    args.extend(PURPOSE);
    let out = alpr(&args).output().unwrap();
    if out.status.code() == Some(1) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    doc["items"].as_array().cloned().unwrap_or_default()
}

fn plate_texts(items: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = items
        .iter()
        .map(|i| i["plate"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn the_daemon_reads_a_folder_and_a_stream_raises_an_alert_and_syncs_to_a_station() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let (car, station) = (f.path("car-1"), f.path("station-1"));
    std::fs::write(
        f.path("list.csv"),
        "plate,region,category,reference\n6TRS818,AZ,stolen-vehicle,V6TRS818\n",
    )
    .unwrap();
    ok(&[
        "hotlist",
        "publish",
        "--data",
        &station,
        "--list",
        "ncic-stolen",
        &f.path("list.csv"),
    ]);
    let station_daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    // The car leaves the station with its lists.
    ok(&["sync", "--data", &car, "--peer", station_daemon.addr()]);

    frames(
        &f.root.path().join("folder"),
        40,
        &[("6TRS818", "Arizona"), ("2MNP004", "Texas")],
        10,
    );
    mjpeg(
        &f.root.path().join("stream.mjpeg"),
        70,
        &[("5KLM333", "Oregon")],
    );
    let config = write_config(
        &f,
        "car.toml",
        &format!(
            r#"
[node]
data = "car-1"

[[camera]]
name = "front"
source = "files"
path = "folder"

[[camera]]
name = "rear"
source = "mjpeg"
path = "stream.mjpeg"

[position]
source = "fixed"
lat = 45.523064
lon = -122.676483
accuracy_m = 3.0

[sync]
peers = ["{}"]
every_seconds = 1

[metrics]
listen = "127.0.0.1:0"

[log]
health_every_seconds = 1
"#,
            station_daemon.addr()
        ),
    );
    let daemon = Daemon::run(&config);
    // Three vehicles, three reads; one on the list.
    for _ in 0..600 {
        if daemon.log().matches("stored read").count() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    daemon.wait_log_for("hotlist alert raised", 100);
    // The health line comes every second: a run that reads its frames in
    // under a second has not logged one yet.
    let log = daemon.wait_log_for("health ", 100);
    assert_eq!(log.matches("stored read").count(), 3, "{log}");
    // No plate text in the log: reads are named by id only.
    for plate in ["6TRS818", "2MNP004", "5KLM333"] {
        assert!(!log.contains(plate), "{plate} in the log:\n{log}");
    }

    // While the daemon runs, the CLI goes through its socket.
    let items = plates_at(&car, "*");
    assert_eq!(plate_texts(&items), ["2MNP004", "5KLM333", "6TRS818"]);
    for i in &items {
        assert_eq!(i["fix"]["kind"], "surveyed", "{i}");
        assert_eq!(i["lat"], 45.523064, "{i}");
        let camera = i["camera"].as_str().unwrap();
        let want = if i["plate"] == "5KLM333" {
            "rear"
        } else {
            "front"
        };
        assert_eq!(camera, want, "{i}");
    }
    let mut args = vec!["alerts", "list", "--data", &car, "--json", "--pending"];
    args.extend(PURPOSE);
    let alerts: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let alerts = alerts["items"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["plate"], "6TRS818");
    assert_eq!(
        alerts[0]["retro"], false,
        "raised live, as the read was stored"
    );

    // Status shows the cameras, the next purge and the database's size.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--data", &car, "--json"])).unwrap();
    let cameras = status["cameras"].as_array().unwrap();
    let names: Vec<&str> = cameras
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["front", "rear"], "{status}");
    assert!(status["next_purge"].is_string(), "{status}");
    assert!(status["database_bytes"].as_u64().unwrap() > 0, "{status}");

    // The metrics endpoint counts what happened, per camera.
    let metrics = daemon.scrape();
    assert!(
        metrics.contains("alpr_frames_total{camera=\"front\"} 20"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alpr_frames_total{camera=\"rear\"} 10"),
        "{metrics}"
    );
    assert!(metrics.contains("alpr_reads_stored_total 3"), "{metrics}");
    assert!(metrics.contains("alpr_alerts_raised_total 1"), "{metrics}");
    assert!(
        metrics.contains("alpr_frames_dropped_total{camera=\"front\"} 0"),
        "{metrics}"
    );

    // The car syncs to the station on its own (every second).
    let mut at_station = Vec::new();
    for _ in 0..200 {
        at_station = plates_at(&station, "*");
        if at_station.len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(plate_texts(&at_station), ["2MNP004", "5KLM333", "6TRS818"]);
    let status = daemon.terminate();
    assert!(status.success(), "{status}");
    assert!(!Path::new(&car).join("control.sock").exists());
}

#[test]
fn sigterm_during_capture_loses_no_acknowledged_read_and_leaves_no_socket() {
    let f = Fixture::new("car-1");
    let car = f.path("car-1");
    let plates = [
        ("7ABC123", "California"),
        ("8XYZ001", "Nevada"),
        ("5KLM333", "Oregon"),
        ("6TRS818", "Arizona"),
        ("2MNP004", "Texas"),
        ("4GHJ552", "Oregon"),
    ];
    frames(&f.root.path().join("folder"), 10, &plates, 8);
    // Paced like a camera: 48 frames at 6 per second, 8 s of capture.
    let config = write_config(
        &f,
        "car.toml",
        r#"
[node]
data = "car-1"

[[camera]]
name = "front"
source = "files"
path = "folder"
rate = 6.0

[log]
format = "json"
"#,
    );
    let daemon = Daemon::run(&config);
    daemon.wait_log_for("stored read", 300);
    let status = daemon.terminate();
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(format!("{config}.log")).unwrap();
    assert!(log.contains("stopping"), "{log}");
    assert!(!Path::new(&car).join("control.sock").exists());
    // The log is JSON lines; every read it acknowledged is stored and verifies.
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let acknowledged: Vec<String> = events
        .iter()
        .filter(|e| e["fields"]["message"] == "stored read" || e["message"] == "stored read")
        .map(|e| {
            let read = if e["read"].is_string() {
                &e["read"]
            } else {
                &e["fields"]["read"]
            };
            read.as_str().unwrap().to_string()
        })
        .collect();
    assert!(!acknowledged.is_empty(), "{log}");
    assert!(
        acknowledged.len() < plates.len(),
        "stopped mid-capture: {log}"
    );
    let items = plates_at(&car, "*");
    let stored: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    for id in &acknowledged {
        assert!(
            stored.contains(id),
            "{id} acknowledged, not stored: {stored:?}"
        );
    }
    ok(&["verify", "--data", &car]);
}

#[test]
fn a_configuration_with_an_unknown_key_is_refused_by_name_and_line() {
    let f = Fixture::new("car-1");
    let config = write_config(
        &f,
        "car.toml",
        "[node]\ndata = \"car-1\"\n\n[sync]\npeer = [\"127.0.0.1:7447\"]\n",
    );
    let out = run(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("car.toml"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("unknown field `peer`"), "{err}");
    let bad = write_config(
        &f,
        "bad.toml",
        "[node]\ndata = \"car-1\"\n[[camera]]\nname = \"rear\"\nsource = \"files\"\npath = \"x\"\nwidth = 640\n",
    );
    let out = run(&["run", "--config", &bad]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`width` is not an option of source = \"files\""),
        "{err}"
    );
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn doctor_says_what_is_wrong_and_what_to_fix() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let station = Daemon::start(&f.path("station-1"), &["--listen", "127.0.0.1:0"]);
    frames(
        &f.root.path().join("folder"),
        5,
        &[("7ABC123", "California")],
        2,
    );
    let config = write_config(
        &f,
        "car.toml",
        &format!(
            r#"
[node]
data = "car-1"
[[camera]]
name = "front"
source = "files"
path = "folder"
[[camera]]
name = "rear"
source = "mjpeg"
path = "no-such-stream.mjpeg"
[position]
source = "fixed"
lat = 45.5
lon = -122.6
[sync]
peers = ["{}"]
"#,
            station.addr()
        ),
    );
    let out = run(&["doctor", "--config", &config]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let line = |what: &str| -> String {
        text.lines()
            .find(|l| l[6..].starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line:\n{text}"))
            .to_string()
    };
    assert!(line("keys").starts_with("ok"), "{text}");
    assert!(line("enrollment").contains("car-1 (vehicle)"), "{text}");
    assert!(line("models").starts_with("ok"), "{text}");
    assert!(line("camera front").starts_with("ok"), "{text}");
    assert!(line("camera rear").starts_with("FAIL"), "{text}");
    assert!(
        text.contains("fix: set `path` to the stream's file"),
        "{text}"
    );
    assert!(line("position").contains("fixed at 45.50000"), "{text}");
    let peer = line(&format!("peer {}", station.addr()));
    assert!(peer.contains("station-1 answers"), "{text}");
    assert!(text.contains("1 problem to fix"), "{text}");
}

/// gpsfake and the gpsd it runs, in a process group of their own, stopped
/// when dropped (a failing test included).
struct GpsFake(std::process::Child);

impl Drop for GpsFake {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
        let _ = self.0.wait();
    }
}

/// The positions of a log's RMC sentences, in order.
fn route(log: &str) -> Vec<(f64, f64)> {
    let angle = |v: &str, deg_digits: usize, hemi: &str| -> f64 {
        let deg: f64 = v[..deg_digits].parse().unwrap();
        let min: f64 = v[deg_digits..].parse().unwrap();
        let a = deg + min / 60.0;
        if hemi == "S" || hemi == "W" { -a } else { a }
    };
    log.lines()
        .filter(|l| l.starts_with("$GPRMC"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (angle(f[3], 2, f[4]), angle(f[5], 3, f[6]))
        })
        .collect()
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dlat = (a.0 - b.0) * 111_320.0;
    let dlon = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
    (dlat * dlat + dlon * dlon).sqrt()
}

#[test]
fn reads_carry_positions_along_a_patrol_route_from_a_real_gpsd() {
    use std::os::unix::process::CommandExt;
    let installed = std::process::Command::new("gpsfake")
        .arg("-h")
        .output()
        .is_ok();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "gpsfake is missing: install gpsd and gpsd-clients (scripts/check does)"
        );
        eprintln!("skipped: gpsfake is not installed (apt-get install gpsd gpsd-clients)");
        return;
    }
    let log_path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/gps/patrol.nmea");
    let points = route(&std::fs::read_to_string(log_path).unwrap());
    assert_eq!(points.len(), 40);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A sentence every 0.1 s: the 40 s patrol plays in 8 s, over and over.
    let _gpsd = GpsFake(
        std::process::Command::new("gpsfake")
            .args(["-q", "-n", "-c", "0.1", "-P", &port.to_string(), log_path])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let f = Fixture::new("car-1");
    let car = f.path("car-1");
    frames(
        &f.root.path().join("folder"),
        20,
        &[
            ("7ABC123", "California"),
            ("8XYZ001", "Nevada"),
            ("5KLM333", "Oregon"),
        ],
        8,
    );
    let config = write_config(
        &f,
        "car.toml",
        &format!(
            r#"
[node]
data = "car-1"
[[camera]]
name = "front"
source = "files"
path = "folder"
rate = 4.0
[position]
source = "gpsd"
address = "127.0.0.1:{port}"
max_age_seconds = 2.0
"#
        ),
    );
    // gpsd takes a moment to start under gpsfake; the daemon reconnects.
    let daemon = Daemon::run(&config);
    for _ in 0..600 {
        if daemon.log().matches("stored read").count() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = daemon.terminate();
    assert!(status.success());
    let items = plates_at(&car, "*");
    assert_eq!(items.len(), 3, "{items:?}");
    let mut with_fix = 0;
    for i in &items {
        let fix = &i["fix"];
        if fix["kind"] == "no fix" {
            // Only before gpsd's first report can a read lack a fix.
            assert!(i["lat"].is_null(), "{i}");
            continue;
        }
        with_fix += 1;
        assert_eq!(fix["kind"], "gps", "{i}");
        assert!(
            ["2d", "3d"].contains(&fix["quality"].as_str().unwrap()),
            "{i}"
        );
        let speed = fix["speed_mps"].as_f64().unwrap();
        assert!((4.5..=11.5).contains(&speed), "{i}");
        let heading = fix["heading_deg"].as_f64().unwrap();
        assert!((0.0..=360.0).contains(&heading), "{i}");
        assert!(fix["age_ms"].as_u64().unwrap() <= 2_000, "{i}");
        let at = (i["lat"].as_f64().unwrap(), i["lon"].as_f64().unwrap());
        let nearest = points
            .iter()
            .map(|p| metres(*p, at))
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 5.0, "{at:?} is {nearest:.1} m off the route: {i}");
    }
    assert!(with_fix >= 2, "{items:?}");
}
