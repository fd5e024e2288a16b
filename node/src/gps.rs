//! The GPS position feed: the place and fix each read is stamped with.
//!
//! [`Position`] is started from the node's [`PositionConfig`]: no position,
//! a fixed (surveyed) place, a gpsd server, or NMEA 0183 from a serial
//! receiver. For the two live sources a thread reads lines (bounded by
//! [`lines::LineSplitter`]), hands them to a sans-IO parser ([`nmea`],
//! [`gpsd`]) and files the reports in a [`History`] keyed by when this
//! node received them; [`Position::at`] answers for a read's capture time.
//! The clock is passed in, so a test or the simulator decides what "now"
//! is. A bad line is counted in [`GpsStatus`], never fatal; a lost server
//! or device is retried with backoff.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;

use alpr_protocol::{Fix, Location, Timestamp};

use crate::config::PositionConfig;

mod driver;
pub mod gpsd;
pub mod history;
pub mod lines;
pub mod nmea;

pub use history::{History, Report, Sample, Update};

/// Why one line from a receiver or gpsd was not used. Counted, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("line longer than {max_bytes} bytes")]
    TooLong { max_bytes: usize },
    #[error("not ASCII text")]
    NotText,
    #[error("not an NMEA sentence ($...*hh)")]
    NotNmea,
    #[error("NMEA checksum {found:02X}, the sentence sums to {computed:02X}")]
    Checksum { found: u8, computed: u8 },
    #[error("NMEA: {0}")]
    Nmea(String),
    #[error("gpsd JSON: {0}")]
    Json(String),
    #[error("gpsd reported an error: {0}")]
    Gpsd(String),
}

impl From<lines::FrameError> for LineError {
    fn from(e: lines::FrameError) -> Self {
        match e {
            lines::FrameError::TooLong { max_bytes } => LineError::TooLong { max_bytes },
        }
    }
}

/// A position source that cannot be started as configured.
#[derive(Debug, thiserror::Error)]
pub enum GpsError {
    #[error("gpsd address '{address}': {reason} (expected host:port, e.g. 127.0.0.1:2947)")]
    Address { address: String, reason: String },
    #[error(
        "serial GPS {}: {baud} baud is not a standard rate ({})",
        device.display(),
        driver::STANDARD_BAUDS_TEXT
    )]
    Baud { device: PathBuf, baud: u32 },
    #[error("GPS {source_name}: cannot start its reader thread: {error}")]
    Spawn {
        source_name: String,
        error: std::io::Error,
    },
}

/// What the position source is doing, for the status command, metrics and
/// `doctor`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpsStatus {
    /// The source in words: `none`, `fixed at 45.51850, -122.65000`,
    /// `gpsd at 127.0.0.1:2947`, `NMEA from /dev/ttyACM0 at 9600 baud`.
    pub source: String,
    /// Connected to gpsd, or the device open, now.
    pub connected: bool,
    /// A plain file of NMEA was read to its end; nothing more will come.
    pub ended: bool,
    /// Connections made (or device opens), reconnections included.
    pub connects: u64,
    /// This node's clock when the latest report (fix or not) came.
    pub last_report_received: Option<Timestamp>,
    /// This node's clock when the latest fix came.
    pub last_fix_received: Option<Timestamp>,
    /// The receiver's time for that fix: against `last_fix_received`, how
    /// far the node's clock is from GPS time.
    pub last_fix_gps_time: Option<Timestamp>,
    /// Epochs with a usable fix.
    pub fixes: u64,
    /// Lines received, good and bad.
    pub lines: u64,
    /// Lines that were not used: framing, checksum, syntax.
    pub bad_lines: u64,
    /// Why the latest bad line was bad.
    pub last_bad_line: Option<String>,
    /// The latest connection or device error, kept after recovery (see
    /// `connected`).
    pub last_error: Option<String>,
}

/// The node's position source. Dropping it stops its reader thread.
#[derive(Debug)]
pub struct Position {
    source: Source,
    status: GpsStatus,
}

#[derive(Debug)]
enum Source {
    None,
    Fixed(Location),
    Live(Live),
}

#[derive(Debug)]
struct Live {
    shared: Arc<Mutex<Shared>>,
    /// Dropping the sender tells the thread to stop.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the reader thread and the readers of positions share.
#[derive(Debug)]
struct Shared {
    history: History,
    status: GpsStatus,
    /// Whether the current epoch has been counted in `status.fixes` (an
    /// epoch can gain its fix in an amendment).
    epoch_counted: bool,
}

impl Shared {
    fn new(max_age_ms: u32, source: String) -> Self {
        Shared {
            history: History::new(max_age_ms),
            status: GpsStatus {
                source,
                ..GpsStatus::default()
            },
            epoch_counted: false,
        }
    }

    /// Files one line's outcome.
    fn line(&mut self, outcome: Result<Option<Update>, LineError>) {
        self.status.lines += 1;
        match outcome {
            Ok(None) => {}
            Ok(Some(update)) => {
                if matches!(update, Update::New(_)) {
                    self.epoch_counted = false;
                }
                self.history.apply(update);
                let Some(latest) = self.history.latest() else {
                    return;
                };
                self.status.last_report_received = Some(latest.received);
                if latest.sample.is_some() {
                    self.status.last_fix_received = Some(latest.received);
                    self.status.last_fix_gps_time = latest.gps_time;
                    if !self.epoch_counted {
                        self.status.fixes += 1;
                        self.epoch_counted = true;
                    }
                }
            }
            Err(e) => {
                self.status.bad_lines += 1;
                self.status.last_bad_line = Some(e.to_string());
            }
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // A panic in the reader thread leaves the history as it was between
    // two lines: still sound to read.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Position {
    /// Starts the configured source. Only a configuration that cannot work
    /// is an error; a gpsd that is not up yet or a receiver not plugged in
    /// is retried in the background and shown in [`Position::status`].
    pub fn start(config: &PositionConfig, clock: fn() -> Timestamp) -> Result<Position, GpsError> {
        match config {
            PositionConfig::None => Ok(Position {
                source: Source::None,
                status: GpsStatus {
                    source: "none".into(),
                    ..GpsStatus::default()
                },
            }),
            PositionConfig::Fixed {
                lat,
                lon,
                accuracy_m,
            } => Ok(Position {
                source: Source::Fixed(Location {
                    lat: *lat,
                    lon: *lon,
                    accuracy_m: *accuracy_m,
                }),
                status: GpsStatus {
                    source: format!("fixed at {lat:.5}, {lon:.5}"),
                    ..GpsStatus::default()
                },
            }),
            PositionConfig::Gpsd {
                address,
                max_age_seconds,
            } => {
                check_address(address)?;
                let name = format!("gpsd at {address}");
                let address = address.clone();
                Self::live(name, *max_age_seconds, clock, move |ctx| {
                    driver::run_gpsd(&ctx, &address);
                })
            }
            PositionConfig::Serial {
                device,
                baud,
                max_age_seconds,
            } => {
                if !driver::STANDARD_BAUDS.contains(baud) {
                    return Err(GpsError::Baud {
                        device: device.clone(),
                        baud: *baud,
                    });
                }
                let name = format!("NMEA from {} at {baud} baud", device.display());
                let (device, baud) = (device.clone(), *baud);
                Self::live(name, *max_age_seconds, clock, move |ctx| {
                    driver::run_serial(&ctx, &device, baud);
                })
            }
        }
    }

    fn live(
        name: String,
        max_age_seconds: f64,
        clock: fn() -> Timestamp,
        run: impl FnOnce(driver::Ctx) + Send + 'static,
    ) -> Result<Position, GpsError> {
        // The config allows 0.1 to 3600 s.
        let max_age_ms = (max_age_seconds * 1000.0)
            .round()
            .clamp(0.0, f64::from(u32::MAX)) as u32;
        let shared = Arc::new(Mutex::new(Shared::new(max_age_ms, name.clone())));
        let (stop_tx, stop_rx) = mpsc::channel();
        let ctx = driver::Ctx::new(Arc::clone(&shared), stop_rx, clock);
        let thread = std::thread::Builder::new()
            .name("gps".into())
            .spawn(move || run(ctx))
            .map_err(|error| GpsError::Spawn {
                source_name: name.clone(),
                error,
            })?;
        Ok(Position {
            source: Source::Live(Live {
                shared,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            status: GpsStatus {
                source: name,
                ..GpsStatus::default()
            },
        })
    }

    /// The position and fix for a read captured `at`: see
    /// [`History::position_at`]. No source: no location, [`Fix::Unknown`];
    /// a fixed place: it, [`Fix::Surveyed`].
    pub fn at(&self, at: Timestamp) -> (Option<Location>, Fix) {
        match &self.source {
            Source::None => (None, Fix::Unknown),
            Source::Fixed(location) => (Some(*location), Fix::Surveyed),
            Source::Live(live) => lock(&live.shared).history.position_at(at),
        }
    }

    /// What the source is doing now.
    pub fn status(&self) -> GpsStatus {
        match &self.source {
            Source::None | Source::Fixed(_) => self.status.clone(),
            Source::Live(live) => lock(&live.shared).status.clone(),
        }
    }

    /// Stops the reader thread and waits for it (at most a poll interval,
    /// or a connect timeout while connecting). Positions already received
    /// stay readable. Idempotent; dropping does the same.
    pub fn stop(&mut self) {
        if let Source::Live(live) = &mut self.source {
            live.stop.take();
            if let Some(thread) = live.thread.take() {
                // A panicked reader has nothing more to say; its panic was
                // printed where it happened.
                let _ = thread.join();
            }
            lock(&live.shared).status.connected = false;
        }
    }
}

impl Drop for Position {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks the shape of a gpsd address without resolving it: a name that
/// does not resolve yet is retried, a malformed address never works.
fn check_address(address: &str) -> Result<(), GpsError> {
    let bad = |reason: &str| GpsError::Address {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    if host.is_empty() || host == "[]" {
        return Err(bad("no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(bad("the port is not 1 to 65535")),
    }
}

/// A course in degrees, folded into 0 to 360 (360 excluded); `None` for
/// what is no number.
fn degrees(d: f32) -> Option<f32> {
    if !d.is_finite() {
        return None;
    }
    let h = d.rem_euclid(360.0);
    // rem_euclid of a tiny negative rounds up to 360.0.
    Some(if h >= 360.0 { 0.0 } else { h })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Timestamp {
        Timestamp(1_000)
    }

    #[test]
    fn no_source_is_unknown_and_fixed_is_surveyed() {
        let none = Position::start(&PositionConfig::None, clock).expect("starts");
        assert_eq!(none.at(Timestamp(5)), (None, Fix::Unknown));
        assert_eq!(none.status().source, "none");
        let fixed = Position::start(
            &PositionConfig::Fixed {
                lat: 45.5,
                lon: -122.6,
                accuracy_m: 2.0,
            },
            clock,
        )
        .expect("starts");
        assert_eq!(
            fixed.at(Timestamp(5)),
            (
                Some(Location {
                    lat: 45.5,
                    lon: -122.6,
                    accuracy_m: 2.0
                }),
                Fix::Surveyed
            )
        );
        assert_eq!(fixed.status().source, "fixed at 45.50000, -122.60000");
    }

    #[test]
    fn malformed_gpsd_addresses_and_odd_bauds_are_refused_by_name() {
        for address in [
            "localhost",
            ":2947",
            "127.0.0.1:0",
            "127.0.0.1:gpsd",
            "h:99999",
        ] {
            let e = Position::start(
                &PositionConfig::Gpsd {
                    address: address.into(),
                    max_age_seconds: 2.0,
                },
                clock,
            )
            .expect_err(address);
            assert!(e.to_string().contains(&format!("'{address}'")), "{e}");
        }
        let e = Position::start(
            &PositionConfig::Serial {
                device: "/dev/ttyACM0".into(),
                baud: 9601,
                max_age_seconds: 2.0,
            },
            clock,
        )
        .expect_err("odd baud");
        assert!(
            e.to_string()
                .starts_with("serial GPS /dev/ttyACM0: 9601 baud"),
            "{e}"
        );
    }

    #[test]
    fn a_live_source_with_nothing_yet_is_no_fix_and_stops_on_drop() {
        // Port 1 on loopback: refused at once; the thread keeps retrying.
        let mut p = Position::start(
            &PositionConfig::Gpsd {
                address: "127.0.0.1:1".into(),
                max_age_seconds: 2.0,
            },
            clock,
        )
        .expect("starts");
        assert_eq!(p.at(Timestamp(1_000)), (None, Fix::NoFix));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while p.status().last_error.is_none() {
            assert!(std::time::Instant::now() < deadline, "no error recorded");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let status = p.status();
        assert!(!status.connected);
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("127.0.0.1:1")),
            "{status:?}"
        );
        let started = std::time::Instant::now();
        p.stop();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        p.stop();
    }

    #[test]
    fn status_counts_fixes_once_per_epoch_and_bad_lines_with_reasons() {
        let mut shared = Shared::new(2_000, "test".into());
        let mut parser = nmea::NmeaParser::new();
        let lines: [&[u8]; 5] = [
            b"$GPRMC,,V,,,,,,,,,,N*53",
            b"$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76",
            b"$GPRMC,092750.000,A,5321.6802,N,00630.3372,W,0.02,31.66,280511,,,A*43",
            b"$GPGGA,092751.000,5321.6802,N,00630.3371,W,1,8,1.03,61.7,M,55.3,M,,*75",
            b"$GPGGA,garbage*00",
        ];
        for (i, line) in lines.iter().enumerate() {
            shared.line(parser.line(line, Timestamp(1_000 * i as i64)));
        }
        let s = &shared.status;
        assert_eq!((s.lines, s.fixes, s.bad_lines), (5, 2, 1));
        assert_eq!(s.last_fix_received, Some(Timestamp(3_000)));
        assert!(
            s.last_bad_line
                .as_deref()
                .is_some_and(|e| e.contains("checksum"))
        );
        // GGA alone after an RMC: the date carries over.
        assert_eq!(
            s.last_fix_gps_time.map(|t| t.to_string()),
            Some("2011-05-28T09:27:51Z".into())
        );
    }

    #[test]
    fn degrees_fold_into_a_circle() {
        assert_eq!(degrees(-90.0), Some(270.0));
        assert_eq!(degrees(360.0), Some(0.0));
        assert_eq!(degrees(-1e-9), Some(0.0));
        assert_eq!(degrees(f32::NAN), None);
        assert_eq!(degrees(f32::INFINITY), None);
    }
}
