//! `doctor`: checks a node's installation against its `node.toml` and
//! says what to fix: keys and passphrase, enrollment validity, models,
//! cameras, GPS, the clock, peers and free disk.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;

use super::Outcome;
use super::args::NodePassphrase;
use super::run::load_config;
use super::time::{format_time, now};
use crate::config::{NodeConfig, PositionConfig, SourceConfig};
use crate::control::ControlClient;
use crate::datadir::Node;

/// `doctor --config node.toml`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The node's configuration.
    #[arg(long, value_name = "FILE", default_value = "node.toml")]
    config: PathBuf,
    /// Seconds to wait for a GPS fix.
    #[arg(long, default_value_t = 5)]
    gps_wait_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Default)]
struct Report {
    failed: usize,
    warned: usize,
}

impl Report {
    /// One line per check, and under a problem what to do about it.
    fn line(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        let tag = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => {
                self.warned += 1;
                "WARN"
            }
            Verdict::Fail => {
                self.failed += 1;
                "FAIL"
            }
        };
        println!("{tag}  {what:<12} {detail}");
        if let (Some(fix), true) = (fix, verdict != Verdict::Ok) {
            println!("      {:<12} fix: {fix}", "");
        }
    }
}

/// Below this free space the node refuses new reads (the engine's reserve,
/// kept for logins, audit and the purge); warn well before.
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;
/// A certificate this close to expiry needs a new enrollment soon.
const CERT_WARN_DAYS: i64 = 30;

pub fn doctor(args: DoctorArgs) -> Result<Outcome> {
    let mut r = Report::default();
    let config = match load_config(&args.config) {
        Ok(c) => {
            r.line(
                Verdict::Ok,
                "config",
                &args.config.display().to_string(),
                None,
            );
            c
        }
        Err(e) => {
            r.line(
                Verdict::Fail,
                "config",
                &format!("{e:#}"),
                Some(
                    "correct the key the message names (node.example.toml documents every option)",
                ),
            );
            return finish(&r);
        }
    };
    let node = check_node(&mut r, &config);
    check_models(&mut r);
    check_cameras(&mut r, &config);
    let gps_time = check_position(&mut r, &config, Duration::from_secs(args.gps_wait_seconds));
    check_clock(&mut r, node.as_ref(), gps_time);
    if let Some(node) = node {
        check_peers(&mut r, &config, node);
    }
    check_disk(&mut r, &config);
    finish(&r)
}

fn finish(r: &Report) -> Result<Outcome> {
    println!();
    println!(
        "{} problem{} to fix, {} warning{}",
        r.failed,
        if r.failed == 1 { "" } else { "s" },
        r.warned,
        if r.warned == 1 { "" } else { "s" }
    );
    Ok(if r.failed > 0 {
        Outcome::Damaged
    } else {
        Outcome::Done
    })
}

/// Keys, passphrase and enrollment: the node opens as `run` would open it.
fn check_node(r: &mut Report, config: &NodeConfig) -> Option<Node> {
    let data = &config.node.data;
    if ControlClient::connect(data).is_some() {
        r.line(
            Verdict::Ok,
            "daemon",
            &format!(
                "running on {} (keys and peers checked by it)",
                data.display()
            ),
            None,
        );
        return None;
    }
    let pass = NodePassphrase {
        passphrase_file: config.node.passphrase_file.clone(),
    };
    let secret = match pass.get() {
        Ok(s) => s,
        Err(e) => {
            r.line(
                Verdict::Fail,
                "passphrase",
                &format!("{e:#}"),
                Some("set [node] passphrase_file to a 0600 file, or ALPR_PASSPHRASE"),
            );
            return None;
        }
    };
    let node = match Node::open(data, &secret) {
        Ok(n) => n,
        Err(e) => {
            r.line(
                Verdict::Fail,
                "keys",
                &e.to_string(),
                Some("check [node] data names the directory `alpr-node init` made, and the passphrase"),
            );
            return None;
        }
    };
    r.line(
        Verdict::Ok,
        "keys",
        &format!("node key and data key unlock in {}", data.display()),
        None,
    );
    let cert = node.certificate.certificate();
    let t = now();
    let days_left = cert.not_after.0.saturating_sub(t.0) / 86_400_000;
    let (verdict, fix) = if t < cert.not_before || t > cert.not_after {
        (
            Verdict::Fail,
            Some("enroll the node again at the agency (`agency enroll`, then `init`)"),
        )
    } else if days_left < CERT_WARN_DAYS {
        (
            Verdict::Warn,
            Some("ask the agency Administrator for a new enrollment before it expires"),
        )
    } else {
        (Verdict::Ok, None)
    };
    r.line(
        verdict,
        "enrollment",
        &format!(
            "{} ({}), valid {} to {} ({days_left} days left)",
            cert.name,
            cert.role.name(),
            format_time(cert.not_before),
            format_time(cert.not_after)
        ),
        fix,
    );
    Some(node)
}

fn check_models(r: &mut Report) {
    let started = Instant::now();
    let result = crate::recognize::Recognizer::shipped()
        .and_then(|rec| rec.recognize(&image::RgbImage::new(1280, 720)));
    match result {
        Ok(plates) if plates.is_empty() => r.line(
            Verdict::Ok,
            "models",
            &format!(
                "detector and reader load and run ({} ms on a blank 1280x720 frame)",
                started.elapsed().as_millis()
            ),
            None,
        ),
        Ok(plates) => r.line(
            Verdict::Fail,
            "models",
            &format!("{} plates read on a blank frame", plates.len()),
            Some("reinstall alpr-node: the shipped models are damaged"),
        ),
        Err(e) => r.line(
            Verdict::Fail,
            "models",
            &e.to_string(),
            Some("reinstall alpr-node: the shipped models do not load"),
        ),
    }
}

fn check_cameras(r: &mut Report, config: &NodeConfig) {
    if config.cameras.is_empty() {
        r.line(Verdict::Ok, "cameras", "none configured (a station)", None);
        return;
    }
    let mut listed = None;
    for c in &config.cameras {
        let what = format!("camera {}", c.name);
        match &c.source {
            SourceConfig::Device(d) => {
                let cameras = listed.get_or_insert_with(crate::capture::camera::list_cameras);
                match cameras {
                    Err(e) => r.line(
                        Verdict::Fail,
                        &what,
                        &e.to_string(),
                        Some("build with `--features camera`, or check /dev/video* and the video group"),
                    ),
                    Ok(list) => match crate::capture::camera::select_camera(list, &d.device) {
                        Ok(found) => r.line(
                            Verdict::Ok,
                            &what,
                            &format!("{} at {}", found.name, found.path.display()),
                            None,
                        ),
                        Err(e) => r.line(
                            Verdict::Fail,
                            &what,
                            &e,
                            Some("plug the camera in, or set `device` to what `alpr-node cameras` lists"),
                        ),
                    },
                }
            }
            SourceConfig::Files(f) => {
                let exists = f.path.exists()
                    || f.path
                        .parent()
                        .is_some_and(|p| p.is_dir() && f.path.to_string_lossy().contains('*'));
                r.line(
                    if exists { Verdict::Ok } else { Verdict::Fail },
                    &what,
                    &format!("files {}", f.path.display()),
                    Some("set `path` to a folder of frames or a glob that matches some"),
                );
            }
            SourceConfig::Mjpeg(m) => {
                let exists = m.path.as_os_str() == "-" || m.path.exists();
                r.line(
                    if exists { Verdict::Ok } else { Verdict::Fail },
                    &what,
                    &format!("MJPEG {}", m.path.display()),
                    Some("set `path` to the stream's file or FIFO, or `-` for standard input"),
                );
            }
        }
    }
}

/// The GPS: a fix within the wait. Returns the offset of GPS time from
/// this clock, when a fix came with one.
fn check_position(r: &mut Report, config: &NodeConfig, wait: Duration) -> Option<i64> {
    match &config.position {
        PositionConfig::None => {
            r.line(
                Verdict::Warn,
                "position",
                "none configured: reads carry no place",
                Some("set [position] to gpsd, serial or fixed"),
            );
            return None;
        }
        PositionConfig::Fixed { lat, lon, .. } => {
            r.line(
                Verdict::Ok,
                "position",
                &format!("fixed at {lat:.5}, {lon:.5}"),
                None,
            );
            return None;
        }
        PositionConfig::Gpsd { .. } | PositionConfig::Serial { .. } => {}
    }
    let position = match crate::gps::Position::start(&config.position, now) {
        Ok(p) => p,
        Err(e) => {
            r.line(
                Verdict::Fail,
                "gps",
                &e.to_string(),
                Some("check the gpsd address or the serial device and its permissions"),
            );
            return None;
        }
    };
    let deadline = Instant::now() + wait;
    let fix = loop {
        let (location, fix) = position.at(now());
        if let (Some(l), alpr_protocol::Fix::Gps(g)) = (location, fix) {
            break Some((l, g));
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let status = position.status();
    match fix {
        Some((l, g)) => {
            r.line(
                Verdict::Ok,
                "gps",
                &format!(
                    "{}: {} fix at {:.5}, {:.5} (±{:.0} m), {} satellites",
                    status.source,
                    g.quality.name(),
                    l.lat,
                    l.lon,
                    l.accuracy_m,
                    g.satellites.map_or("?".into(), |s| s.to_string())
                ),
                None,
            );
            match (status.last_fix_gps_time, status.last_fix_received) {
                (Some(gps), Some(local)) => Some(local.0 - gps.0),
                _ => None,
            }
        }
        None => {
            let why = status
                .last_error
                .clone()
                .unwrap_or_else(|| format!("{} lines, {} fixes", status.lines, status.fixes));
            r.line(
                Verdict::Fail,
                "gps",
                &format!(
                    "{}: no fix within {} s ({why})",
                    status.source,
                    wait.as_secs()
                ),
                Some("check the antenna has sky view and gpsd runs (`gpsmon`, `cgps`)"),
            );
            None
        }
    }
}

/// The clock: not before the certificate, and close to GPS time.
fn check_clock(r: &mut Report, node: Option<&Node>, gps_offset_ms: Option<i64>) {
    let t = now();
    if let Some(node) = node
        && t < node.certificate.certificate().not_before
    {
        r.line(
            Verdict::Fail,
            "clock",
            &format!("{} is before this node was enrolled", format_time(t)),
            Some("set the clock (timedatectl; chrony with the GPS as a source)"),
        );
        return;
    }
    match gps_offset_ms {
        Some(off) if off.abs() > 2_000 => r.line(
            Verdict::Warn,
            "clock",
            &format!("{:.1} s from GPS time", off as f64 / 1000.0),
            Some("sync the clock (chrony with gpsd as a refclock): read times are evidence"),
        ),
        Some(off) => r.line(
            Verdict::Ok,
            "clock",
            &format!("{} ({} ms from GPS time)", format_time(t), off),
            None,
        ),
        None => r.line(Verdict::Ok, "clock", &format_time(t), None),
    }
}

fn check_peers(r: &mut Report, config: &NodeConfig, node: Node) {
    if config.sync.peers.is_empty() {
        return;
    }
    let engine = match super::session::open_engine(node) {
        Ok(e) => std::sync::Arc::new(std::sync::Mutex::new(e)),
        Err(e) => {
            r.line(Verdict::Fail, "peers", &e.to_string(), None);
            return;
        }
    };
    for peer in &config.sync.peers {
        let what = format!("peer {peer}");
        let addr = match std::net::ToSocketAddrs::to_socket_addrs(peer.as_str())
            .ok()
            .and_then(|mut a| a.next())
        {
            Some(a) => a,
            None => {
                r.line(
                    Verdict::Warn,
                    &what,
                    "does not resolve from here now",
                    Some("a car out of range cannot resolve its station; check the name when in range"),
                );
                continue;
            }
        };
        let local = match crate::replication::Local::new(std::sync::Arc::clone(&engine)) {
            Ok(l) => l,
            Err(e) => {
                r.line(Verdict::Fail, &what, &e.to_string(), None);
                continue;
            }
        };
        match crate::replication::handshake(local, addr, now) {
            Ok(name) => r.line(
                Verdict::Ok,
                &what,
                &format!("{name} answers; certificates accepted both ways"),
                None,
            ),
            Err(e) => r.line(
                Verdict::Warn,
                &what,
                &e.to_string(),
                Some("out of range is normal for a car; at the station, check the address and UDP port"),
            ),
        }
    }
}

fn check_disk(r: &mut Report, config: &NodeConfig) {
    let data = &config.node.data;
    let free = rustix::fs::statvfs(data.as_path())
        .ok()
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    let used = std::fs::metadata(data.join(crate::datadir::STORE_FILE))
        .ok()
        .map(|m| m.len());
    let gib = |b: u64| b as f64 / (1024.0 * 1024.0 * 1024.0);
    match free {
        Some(free) => r.line(
            if free < DISK_WARN_BYTES {
                Verdict::Warn
            } else {
                Verdict::Ok
            },
            "disk",
            &format!(
                "{:.1} GiB free{}",
                gib(free),
                used.map_or(String::new(), |u| format!(", database {:.2} GiB", gib(u)))
            ),
            Some("free space, or shorten retention: below 32 MiB new reads are refused"),
        ),
        None => r.line(
            Verdict::Warn,
            "disk",
            &format!("cannot read free space of {}", data.display()),
            None,
        ),
    }
}
