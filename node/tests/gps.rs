//! The GPS position feed against real sources: a real gpsd (run by
//! gpsfake) replaying the patrol log, the same log as a plain file, and a
//! pty standing in for a serial receiver that is then unplugged.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alpr_node::config::PositionConfig;
use alpr_node::gps::{GpsStatus, Position};
use alpr_protocol::{Fix, FixQuality, Timestamp};

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn patrol_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/gps/patrol.nmea")
}

/// One point of the log, read from its RMC with a parser of this test's
/// own (not the one under test).
#[derive(Debug, Clone, Copy)]
struct Point {
    lat: f64,
    lon: f64,
    speed_mps: f32,
    course_deg: f32,
}

fn route() -> Vec<Point> {
    let text = std::fs::read_to_string(patrol_log()).expect("the patrol log");
    let degrees = |field: &str, hemisphere: &str, deg_digits: usize| {
        let d: f64 = field[..deg_digits].parse().expect("degrees");
        let m: f64 = field[deg_digits..].parse().expect("minutes");
        let v = d + m / 60.0;
        if hemisphere == "S" || hemisphere == "W" {
            -v
        } else {
            v
        }
    };
    text.lines()
        .filter(|l| l.starts_with("$GPRMC"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Point {
                lat: degrees(f[3], f[4], 2),
                lon: degrees(f[5], f[6], 3),
                speed_mps: f[7].parse::<f32>().expect("knots") * 1852.0 / 3600.0,
                course_deg: f[8].parse().expect("course"),
            }
        })
        .collect()
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dlat = (a.0 - b.0) * 111_132.0;
    let dlon = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
    dlat.hypot(dlon)
}

/// The index of the route point nearest `at`, and how far it is.
fn nearest(route: &[Point], at: (f64, f64)) -> (usize, f64) {
    route
        .iter()
        .enumerate()
        .map(|(i, p)| (i, metres((p.lat, p.lon), at)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a route")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // gpsfake looks for gpsd in /usr/sbin too.
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .any(|dir| dir.join(program).is_file())
}

/// gpsfake and the gpsd it runs, in their own process group; the group is
/// stopped when this is dropped, a failing test included.
struct GpsFake {
    child: Child,
    output: tempfile::NamedTempFile,
}

impl GpsFake {
    fn start(port: u16, log: &Path) -> GpsFake {
        use std::os::unix::process::CommandExt;
        let output = tempfile::NamedTempFile::new().expect("a temp file");
        let child = Command::new("gpsfake")
            // -q quiet; -n gpsd reads without waiting for a client; -c a
            // sentence every 0.1 s, so the 40 s log plays in 8 s, over and
            // over (no -1).
            .args(["-q", "-n", "-c", "0.1", "-P", &port.to_string()])
            .arg(log)
            .stdin(Stdio::null())
            .stdout(output.reopen().expect("reopen"))
            .stderr(output.reopen().expect("reopen"))
            .process_group(0)
            .spawn()
            .expect("spawn gpsfake");
        GpsFake { child, output }
    }
}

impl Drop for GpsFake {
    fn drop(&mut self) {
        use rustix::process::{Pid, Signal, kill_process_group};
        let group = Pid::from_child(&self.child);
        // TERM first: gpsfake's handler stops its gpsd and removes its
        // control socket. Errors: the group is gone already.
        let _ = kill_process_group(group, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever of the group is left (gpsd, should gpsfake have gone
        // first).
        let _ = kill_process_group(group, Signal::KILL);
        let _ = self.child.wait();
        if std::thread::panicking() {
            let out = std::fs::read_to_string(self.output.path()).unwrap_or_default();
            eprintln!("gpsfake's output:\n{out}");
        }
    }
}

fn free_port() -> u16 {
    // Closed again before gpsd binds it: a small race, and a clear failure
    // (gpsd cannot bind) if lost.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Seen {
    index: usize,
    quality: FixQuality,
    speed_mps: Option<f32>,
    heading_deg: Option<f32>,
    satellites: Option<u8>,
    accuracy_m: f32,
    age_ms: u32,
}

#[test]
fn gpsd_under_gpsfake_delivers_the_patrol_route_in_order() {
    if !on_path("gpsfake") || !on_path("gpsd") {
        let note =
            "gpsfake or gpsd is not installed: install the Debian packages gpsd and gpsd-clients";
        assert!(std::env::var_os("CI").is_none(), "{note}");
        eprintln!("skipping the gpsd test: {note}");
        return;
    }
    let route = route();
    assert_eq!(route.len(), 40);
    let port = free_port();
    let gpsfake = GpsFake::start(port, &patrol_log());
    let max_age_seconds = 2.0;
    let mut position = Position::start(
        &PositionConfig::Gpsd {
            address: format!("127.0.0.1:{port}"),
            max_age_seconds,
        },
        now,
    )
    .expect("starts");

    // gpsd takes a second or two to come up; the client retries after 1 s.
    // Then 30 points (6 s at five epochs a second) take in the turn
    // wherever on the route they start.
    let mut seen: Vec<Seen> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(16);
    while seen.len() < 30 && Instant::now() < deadline {
        if let (Some(loc), Fix::Gps(g)) = position.at(now()) {
            let (index, off) = nearest(&route, (loc.lat, loc.lon));
            assert!(off < 3.0, "{loc:?} is {off:.1} m from the route");
            if seen.last().is_none_or(|s| s.index != index) {
                seen.push(Seen {
                    index,
                    quality: g.quality,
                    speed_mps: g.speed_mps,
                    heading_deg: g.heading_deg,
                    satellites: g.satellites,
                    accuracy_m: loc.accuracy_m,
                    age_ms: g.age_ms,
                });
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let status: GpsStatus = position.status();
    assert!(
        seen.len() >= 30,
        "saw {} route points in 16 s; status {status:?}",
        seen.len()
    );

    // In route order: each point after the last, but for one wrap when
    // gpsfake starts the log again.
    let mut wraps = 0;
    for pair in seen.windows(2) {
        let (a, b) = (pair[0].index, pair[1].index);
        if b < a {
            wraps += 1;
            assert!(a >= 30 && b <= 10, "went back from point {a} to {b}");
        }
    }
    assert!(wraps <= 1, "wrapped {wraps} times in 30 points");

    for s in &seen {
        let p = route[s.index];
        assert!(
            matches!(s.quality, FixQuality::ThreeD | FixQuality::TwoD),
            "{:?}",
            s.quality
        );
        let speed = s.speed_mps.expect("gpsd gives speed");
        assert!(
            (speed - p.speed_mps).abs() < 0.05,
            "point {}: speed {speed}, log {}",
            s.index,
            p.speed_mps
        );
        let heading = s.heading_deg.expect("gpsd gives track");
        let turn = (heading - p.course_deg).rem_euclid(360.0);
        assert!(
            turn.min(360.0 - turn) < 0.5,
            "point {}: heading {heading}, log {}",
            s.index,
            p.course_deg
        );
        assert!(s.accuracy_m > 0.0 && s.accuracy_m < 100.0);
        assert!(s.age_ms <= 2_000);
        // This log has no GSV or GSA: gpsd sends no SKY, so no count.
        assert_eq!(s.satellites, None);
    }
    assert!(seen.iter().any(|s| s.quality == FixQuality::ThreeD));
    // The turn and the slow corner came through, not one copied value.
    assert!(seen.iter().any(|s| (21..=23).contains(&s.index)));
    assert!(seen.iter().any(|s| s.speed_mps.is_some_and(|v| v < 6.0)));

    assert!(status.connected, "{status:?}");
    assert_eq!(status.bad_lines, 0, "{status:?}");
    assert!(status.fixes >= 30);
    // gpsfake replays 2025 times: the GPS time is the log's, the receive
    // time this machine's; a clock check would see the difference.
    let gps_time = status.last_fix_gps_time.expect("gpsd gives time");
    assert!(
        gps_time.to_string().starts_with("2025-06-14T14:30:"),
        "{gps_time}"
    );
    let received = status.last_fix_received.expect("received");
    assert!(received.0 - gps_time.0 > 86_400_000);

    // gpsd goes away: the client notices, and is back once it returns on
    // the same port (after a 1 s, then a 2 s wait, as gpsd takes a moment).
    drop(gpsfake);
    wait_for("the loss of gpsd", Duration::from_secs(5), || {
        !position.status().connected
    });
    let lost = position.status();
    let why = lost.last_error.clone().unwrap_or_default();
    assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
    let _gpsfake = GpsFake::start(port, &patrol_log());
    wait_for("the reconnection", Duration::from_secs(10), || {
        let s = position.status();
        s.connected && s.fixes > lost.fixes
    });
    assert!(position.status().connects >= 2);

    // Dropping the feed's thread is prompt even while connected.
    let t = Instant::now();
    position.stop();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(!position.status().connected);
}

#[test]
fn a_plain_file_of_nmea_is_read_to_its_end() {
    let mut position = Position::start(
        &PositionConfig::Serial {
            device: patrol_log(),
            baud: 4800,
            max_age_seconds: 2.0,
        },
        now,
    )
    .expect("starts");
    wait_for("the file's end", Duration::from_secs(10), || {
        position.status().ended
    });
    let status = position.status();
    assert_eq!(
        (status.lines, status.bad_lines, status.fixes),
        (80, 0, 40),
        "{status:?}"
    );
    assert!(!status.connected);
    assert_eq!(
        status.last_fix_gps_time.map(|t| t.to_string()),
        Some("2025-06-14T14:30:39Z".to_string())
    );
    // Read at once, so every epoch was received just now: the last serves.
    let (loc, fix) = position.at(now());
    let loc = loc.expect("a location");
    let last = *route().last().expect("a route");
    assert!(metres((loc.lat, loc.lon), (last.lat, last.lon)) < 0.01);
    let Fix::Gps(g) = fix else { panic!("{fix:?}") };
    assert_eq!((g.quality, g.satellites), (FixQuality::ThreeD, Some(8)));
    assert!((loc.accuracy_m - 1.2 * 5.0).abs() < 1e-3);
    assert_eq!(g.heading_deg, Some(0.0));
    assert!((g.speed_mps.expect("speed") - 11.0).abs() < 0.01);
    position.stop();
}

/// A pty's slave end is a tty like a USB receiver's: the feed sets it raw
/// at the configured rate, reads sentences written to the master, and
/// notices when the master goes (the receiver unplugged).
#[test]
fn a_serial_tty_is_set_raw_read_and_its_hangup_noticed() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::io::Write;

    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let slave = PathBuf::from(
        ptsname(&master, Vec::new())
            .expect("ptsname")
            .into_string()
            .expect("a UTF-8 path"),
    );
    let mut position = Position::start(
        &PositionConfig::Serial {
            device: slave.clone(),
            baud: 9600,
            max_age_seconds: 2.0,
        },
        now,
    )
    .expect("starts");
    wait_for("the device open", Duration::from_secs(5), || {
        position.status().connected
    });

    // The master sees the slave's settings.
    let t = rustix::termios::tcgetattr(&master).expect("tcgetattr");
    assert_eq!(t.input_speed(), 9600);
    assert!(!t.local_modes.contains(rustix::termios::LocalModes::ICANON));
    assert!(!t.local_modes.contains(rustix::termios::LocalModes::ECHO));

    let mut master = std::fs::File::from(master);
    let log = std::fs::read_to_string(patrol_log()).expect("log");
    // Three epochs, and a line of noise as a receiver sends when opened
    // mid-sentence.
    master
        .write_all(b"4.5,M,,*47\r\n")
        .expect("write to the master");
    for line in log.lines().take(6) {
        master.write_all(line.as_bytes()).expect("write");
        master.write_all(b"\r\n").expect("write");
    }
    wait_for("three fixes", Duration::from_secs(5), || {
        position.status().fixes == 3
    });
    let status = position.status();
    assert_eq!((status.lines, status.bad_lines), (7, 1), "{status:?}");
    assert!(matches!(position.at(now()), (Some(_), Fix::Gps(_))));

    drop(master);
    wait_for("the hangup", Duration::from_secs(5), || {
        !position.status().connected
    });
    let status = position.status();
    let error = status.last_error.expect("an error");
    assert!(error.contains(&slave.display().to_string()), "{error}");
    assert!(!status.ended);
    position.stop();
}
