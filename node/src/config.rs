//! `node.toml`: what `alpr-node run` is told to do, parsed whole before
//! anything starts. Unknown keys and bad values are errors that name the
//! key and the line (`toml` spans); every option is documented in
//! `node.example.toml`, which a test parses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration file that cannot be used: the file, the line and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML itself, an unknown key or a value of the wrong type; the
    /// message names the line, the column and the key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value of the right type that is out of range, with its key and line.
    #[error("{path}:{line}: {key}: {message}")]
    Value {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub node: NodeSection,
    /// Capture sources; a station may have none.
    #[serde(default, rename = "camera")]
    pub cameras: Vec<CameraConfig>,
    #[serde(default)]
    pub recognition: RecognitionConfig,
    /// Where reads are taken: a GPS receiver, or a fixed place.
    #[serde(default)]
    pub position: PositionConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub purge: PurgeConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub log: LogConfig,
}

/// `[node]`: the data directory and how its key is unlocked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// The node's data directory (from `alpr-node init`); relative to the
    /// configuration file's folder when not absolute.
    pub data: PathBuf,
    /// A 0600 file holding the node key's passphrase; without it the
    /// passphrase comes from `ALPR_PASSPHRASE` or the terminal.
    pub passphrase_file: Option<PathBuf>,
    /// Flag alerts and status as stale when hotlists were brought up to
    /// date longer ago than this (minutes).
    #[serde(default = "default_stale_minutes")]
    pub stale_lists_minutes: u32,
}

fn default_stale_minutes() -> u32 {
    24 * 60
}

/// One `[[camera]]`: a capture source and the name its reads carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawCamera")]
pub struct CameraConfig {
    /// The name stored with each read (`rear`, `front-left`).
    pub name: String,
    pub source: SourceConfig,
}

/// A `[[camera]]` table as written: every key any source takes (serde's
/// `flatten` cannot refuse unknown keys), then sorted into its source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    name: String,
    source: SourceKind,
    device: Option<DeviceId>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<u32>,
    format: Option<PixelFormat>,
    path: Option<PathBuf>,
    order: Option<FileOrder>,
    rate: Option<f64>,
    time: Option<FrameTime>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SourceKind {
    Device,
    Files,
    Mjpeg,
}

impl TryFrom<RawCamera> for CameraConfig {
    type Error = String;

    fn try_from(raw: RawCamera) -> Result<Self, String> {
        let kind = match raw.source {
            SourceKind::Device => "device",
            SourceKind::Files => "files",
            SourceKind::Mjpeg => "mjpeg",
        };
        let not_for = |key: &str, given: bool| {
            if given {
                Err(format!(
                    "camera '{}': `{key}` is not an option of source = \"{kind}\"",
                    raw.name
                ))
            } else {
                Ok(())
            }
        };
        let need = |key: &str| format!("camera '{}': source = \"{kind}\" needs `{key}`", raw.name);
        let source = match raw.source {
            SourceKind::Device => {
                not_for("path", raw.path.is_some())?;
                not_for("order", raw.order.is_some())?;
                not_for("rate", raw.rate.is_some())?;
                not_for("time", raw.time.is_some())?;
                SourceConfig::Device(DeviceConfig {
                    device: raw.device.ok_or_else(|| need("device"))?,
                    width: raw.width.unwrap_or_else(default_width),
                    height: raw.height.unwrap_or_else(default_height),
                    fps: raw.fps.unwrap_or_else(default_fps),
                    format: raw.format.unwrap_or_default(),
                })
            }
            SourceKind::Files | SourceKind::Mjpeg => {
                not_for("device", raw.device.is_some())?;
                not_for("width", raw.width.is_some())?;
                not_for("height", raw.height.is_some())?;
                not_for("fps", raw.fps.is_some())?;
                not_for("format", raw.format.is_some())?;
                let path = raw.path.ok_or_else(|| need("path"))?;
                if let SourceKind::Files = raw.source {
                    SourceConfig::Files(FilesConfig {
                        path,
                        order: raw.order.unwrap_or_default(),
                        rate: raw.rate,
                        time: raw.time.unwrap_or_default(),
                    })
                } else {
                    not_for("order", raw.order.is_some())?;
                    not_for("time", raw.time.is_some())?;
                    SourceConfig::Mjpeg(MjpegConfig {
                        path,
                        rate: raw.rate,
                    })
                }
            }
        };
        Ok(CameraConfig {
            name: raw.name,
            source,
        })
    }
}

/// Where frames come from.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// A V4L2 camera (the `camera` feature).
    Device(DeviceConfig),
    /// Image files: a folder, or a glob such as `frames/*.jpg`.
    Files(FilesConfig),
    /// Concatenated JPEGs (MJPEG), from a file or FIFO, or `-` for stdin.
    Mjpeg(MjpegConfig),
}

/// `source = "device"`.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The camera: its index (`0`, as `/dev/video0`), or (part of) its name
    /// as `alpr-node cameras` lists it.
    pub device: DeviceId,
    pub width: u32,
    pub height: u32,
    /// Frames per second asked of the camera.
    pub fps: u32,
    pub format: PixelFormat,
}

fn default_width() -> u32 {
    1280
}
fn default_height() -> u32 {
    720
}
fn default_fps() -> u32 {
    30
}

/// A camera by index or by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DeviceId {
    Index(u32),
    Name(String),
}

/// The pixel format asked of a camera.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    /// Motion JPEG: what most USB cameras give at 720p and above.
    #[default]
    Mjpeg,
    Yuyv,
}

/// `source = "files"`.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// A folder of PNG or JPEG frames, or a glob (`*`, `?`, `[...]` in the
    /// file name part only).
    pub path: PathBuf,
    pub order: FileOrder,
    /// Frames per second; absent, frames go as fast as recognition takes
    /// them and none is dropped.
    pub rate: Option<f64>,
    /// What time a frame was taken: when it is read (`now`), or the file's
    /// modification time (`file`).
    pub time: FrameTime,
}

/// The order files are taken in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileOrder {
    /// Natural name order (`img9` before `img10`).
    #[default]
    Name,
    /// Modification time, oldest first (then name).
    Time,
}

/// Where a file frame's capture time comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameTime {
    #[default]
    Now,
    File,
}

/// `source = "mjpeg"`.
#[derive(Debug, Clone)]
pub struct MjpegConfig {
    /// A file or FIFO of concatenated JPEGs, or `-` for standard input.
    pub path: PathBuf,
    /// Frames per second; absent, frames are taken as they arrive. A
    /// stream (stdin, a FIFO) or a set rate is live: when recognition falls
    /// behind, the oldest waiting frame is dropped and counted.
    pub rate: Option<f64>,
}

/// `[recognition]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionConfig {
    /// Frames waiting for recognition, per camera, before the oldest is
    /// dropped (1 to 64).
    #[serde(default = "default_queue")]
    pub queue_frames: usize,
    /// A plate gone this long (ms) closes its track and becomes a read.
    #[serde(default = "default_gap")]
    pub track_gap_ms: u32,
}

fn default_queue() -> usize {
    4
}
fn default_gap() -> u32 {
    1500
}

impl Default for RecognitionConfig {
    fn default() -> Self {
        RecognitionConfig {
            queue_frames: default_queue(),
            track_gap_ms: default_gap(),
        }
    }
}

/// `[position]`: how reads get their place.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PositionConfig {
    /// No position: reads say their fix is unknown.
    #[default]
    None,
    /// A fixed camera or station: every read has this place, marked surveyed.
    Fixed {
        lat: f64,
        lon: f64,
        #[serde(default)]
        accuracy_m: f32,
    },
    /// A gpsd server (its JSON protocol), `127.0.0.1:2947` by default.
    Gpsd {
        #[serde(default = "default_gpsd")]
        address: String,
        /// A fix older than this (seconds) at a frame's time is no fix.
        #[serde(default = "default_max_age")]
        max_age_seconds: f64,
    },
    /// NMEA 0183 sentences from a serial device (or any file of them).
    Serial {
        device: PathBuf,
        #[serde(default = "default_baud")]
        baud: u32,
        #[serde(default = "default_max_age")]
        max_age_seconds: f64,
    },
}

fn default_gpsd() -> String {
    "127.0.0.1:2947".into()
}
fn default_max_age() -> f64 {
    5.0
}
fn default_baud() -> u32 {
    4800
}

/// `[sync]`: replication over QUIC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Accept peers on this UDP address (a station: `0.0.0.0:7447`).
    pub listen: Option<String>,
    /// Peers to keep meeting (HOST:PORT).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Seconds between meetings with each peer.
    #[serde(default = "default_sync_every")]
    pub every_seconds: u64,
}

fn default_sync_every() -> u64 {
    15
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            listen: None,
            peers: Vec::new(),
            every_seconds: default_sync_every(),
        }
    }
}

/// `[purge]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeConfig {
    /// Minutes between scheduled purges (at least 1).
    #[serde(default = "default_purge_every")]
    pub every_minutes: u64,
}

fn default_purge_every() -> u64 {
    60
}

impl Default for PurgeConfig {
    fn default() -> Self {
        PurgeConfig {
            every_minutes: default_purge_every(),
        }
    }
}

/// `[metrics]`: the Prometheus text endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A loopback TCP address (`127.0.0.1:9187`); absent, no endpoint.
    pub listen: Option<SocketAddr>,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter (`info`, `alpr_node=debug`); `ALPR_LOG` overrides it.
    #[serde(default = "default_level")]
    pub level: String,
    /// Seconds between health lines (0: none).
    #[serde(default = "default_health")]
    pub health_every_seconds: u64,
}

fn default_level() -> String {
    "info".into()
}
fn default_health() -> u64 {
    60
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::default(),
            level: default_level(),
            health_every_seconds: default_health(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human text (colour only on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Largest configuration file read.
const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

impl NodeConfig {
    /// Reads and checks a file; relative paths in it are taken from the
    /// file's folder.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let read_err = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut text = String::new();
        use std::io::Read;
        file.take(CONFIG_BYTES_MAX + 1)
            .read_to_string(&mut text)
            .map_err(read_err)?;
        if text.len() as u64 > CONFIG_BYTES_MAX {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("over {CONFIG_BYTES_MAX} bytes"),
            });
        }
        let mut config = NodeConfig::parse(path, &text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Parses and checks the text of a file named `path` (for messages).
    pub fn parse(path: &Path, text: &str) -> Result<NodeConfig, ConfigError> {
        let config: NodeConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: parse_message(text, &e),
        })?;
        config.check(path, text)?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && p.as_os_str() != "-" {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.node.data);
        if let Some(p) = &mut self.node.passphrase_file {
            fix(p);
        }
        for camera in &mut self.cameras {
            match &mut camera.source {
                SourceConfig::Files(f) => fix(&mut f.path),
                SourceConfig::Mjpeg(m) => fix(&mut m.path),
                SourceConfig::Device(_) => {}
            }
        }
    }

    /// Ranges serde cannot express, each named by key and line.
    fn check(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Value {
            path: path.to_path_buf(),
            line: line_of(text, key),
            key: key.to_string(),
            message,
        };
        let mut names = std::collections::BTreeSet::new();
        for camera in &self.cameras {
            if camera.name.is_empty() || camera.name.len() > 64 {
                return Err(bad("name", "a camera name is 1 to 64 characters".into()));
            }
            if !names.insert(camera.name.as_str()) {
                return Err(bad(
                    "name",
                    format!("two cameras are named '{}'", camera.name),
                ));
            }
            let rate = match &camera.source {
                SourceConfig::Files(f) => f.rate,
                SourceConfig::Mjpeg(m) => m.rate,
                SourceConfig::Device(d) => {
                    if !(1..=120).contains(&d.fps) {
                        return Err(bad("fps", format!("{} is not 1 to 120", d.fps)));
                    }
                    if !(16..=8192).contains(&d.width) || !(16..=8192).contains(&d.height) {
                        return Err(bad(
                            "width",
                            format!("{}x{} is not a camera resolution", d.width, d.height),
                        ));
                    }
                    None
                }
            };
            if let Some(r) = rate
                && !(0.001..=1000.0).contains(&r)
            {
                return Err(bad(
                    "rate",
                    format!("{r} frames per second is not 0.001 to 1000"),
                ));
            }
        }
        if !(1..=64).contains(&self.recognition.queue_frames) {
            return Err(bad(
                "queue_frames",
                format!("{} is not 1 to 64", self.recognition.queue_frames),
            ));
        }
        if !(100..=60_000).contains(&self.recognition.track_gap_ms) {
            return Err(bad(
                "track_gap_ms",
                format!("{} is not 100 to 60000", self.recognition.track_gap_ms),
            ));
        }
        match &self.position {
            PositionConfig::Fixed {
                lat,
                lon,
                accuracy_m,
            } => {
                if !(-90.0..=90.0).contains(lat) {
                    return Err(bad("lat", format!("{lat} is not -90 to 90")));
                }
                if !(-180.0..=180.0).contains(lon) {
                    return Err(bad("lon", format!("{lon} is not -180 to 180")));
                }
                if !(0.0..=100_000.0).contains(accuracy_m) {
                    return Err(bad(
                        "accuracy_m",
                        format!("{accuracy_m} is not 0 to 100000"),
                    ));
                }
            }
            PositionConfig::Gpsd {
                max_age_seconds, ..
            }
            | PositionConfig::Serial {
                max_age_seconds, ..
            } => {
                if !(0.1..=3600.0).contains(max_age_seconds) {
                    return Err(bad(
                        "max_age_seconds",
                        format!("{max_age_seconds} is not 0.1 to 3600"),
                    ));
                }
            }
            PositionConfig::None => {}
        }
        if self.purge.every_minutes == 0 {
            return Err(bad("every_minutes", "at least 1".into()));
        }
        if !(1..=86_400).contains(&self.sync.every_seconds) {
            return Err(bad(
                "every_seconds",
                format!("{} is not 1 to 86400", self.sync.every_seconds),
            ));
        }
        if let Some(addr) = self.metrics.listen
            && !addr.ip().is_loopback()
        {
            return Err(bad(
                "listen",
                format!("the metrics endpoint is local only: {addr} is not a loopback address"),
            ));
        }
        if self.log.health_every_seconds > 86_400 {
            return Err(bad("health_every_seconds", "at most 86400".into()));
        }
        Ok(())
    }
}

/// The line of the first `key =` in the text (1 when not found): for range
/// errors, which serde reports without a span.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// toml's message with the line and column its span starts at.
fn parse_message(text: &str, e: &toml::de::Error) -> String {
    let what = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            let key = text
                .get(span.clone())
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 64 && !k.contains('\n'));
            match key {
                Some(k) => format!("line {line}, column {column}: {what} (at `{k}`)"),
                None => format!("line {line}, column {column}: {what}"),
            }
        }
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        NodeConfig::parse(Path::new("node.toml"), text)
    }

    #[test]
    fn the_example_parses() {
        let text = include_str!("../../node.example.toml");
        let config = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!config.cameras.is_empty());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let err =
            parse("[node]\ndata = \"d\"\n\n[sync]\nlisten = \"0.0.0.0:1\"\npeer = [\"x:1\"]\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("peer"), "{err}");
    }

    #[test]
    fn a_bad_value_is_named_with_its_key_and_line() {
        let err = parse(
            "[node]\ndata = \"d\"\n[[camera]]\nname = \"rear\"\nsource = \"files\"\npath = \"f\"\nrate = 0.0\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "node.toml:7: rate: 0 frames per second is not 0.001 to 1000"
        );
        let err = parse("[node]\ndata = \"d\"\n[metrics]\nlisten = \"0.0.0.0:9187\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("node.toml:4: listen"), "{err}");
        let err = parse("[node]\ndata = 5\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse("[node]\ndata = \"d\"\n[[camera]]\nname = \"x\"\nsource = \"webcam\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("webcam"), "{err}");
    }
}
