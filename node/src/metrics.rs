//! What `alpr-node run` counts, and the two ways a person sees it: the
//! Prometheus endpoint (`serve`, text exposition format 0.0.4 from
//! `render`) and the periodic health line in the log
//! (`Metrics::health_since`).
//!
//! Counters are atomics the capture and recognition threads bump without a
//! lock; only registering a camera takes one. The engine's own figures
//! (disk, database, hotlist age, sync lag) are not kept here: the daemon
//! reads them when scraped and hands them in as `NodeGauges`.
//!
//! The text encoding is written here rather than through `prometheus-client`:
//! that crate writes OpenMetrics (not format 0.0.4) and does not escape label
//! values, and camera and peer names come from configuration and peers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Upper bounds of `alpr_recognition_seconds`' buckets, in seconds: one
/// frame through recognition takes from a few milliseconds (no plate) to a
/// second or two (many plates on a slow CPU). An observation above the last
/// falls in `+Inf`.
pub const RECOGNITION_BUCKETS_SECONDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0,
];

/// Buckets including `+Inf`.
const BUCKETS: usize = RECOGNITION_BUCKETS_SECONDS.len() + 1;

/// Largest HTTP request head read from a scraper.
pub const REQUEST_BYTES_MAX: usize = 8 * 1024;
/// How long a scraper has to send its request, in all.
pub const REQUEST_READ_SECS: u64 = 5;
/// How long a scraper has to take the response.
const RESPONSE_WRITE_SECS: u64 = 5;

/// The daemon's counters. One per process, shared as `Arc<Metrics>`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By name, so the exposition lists cameras in a stable order.
    cameras: Mutex<BTreeMap<String, Arc<CameraMetrics>>>,
    reads_stored: AtomicU64,
    alerts_raised: AtomicU64,
    store_failures: AtomicU64,
}

/// One camera's counters, handed to its capture and recognition threads.
#[derive(Debug, Default)]
pub struct CameraMetrics {
    frames: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    sightings: AtomicU64,
    /// Non-cumulative: each observation lands in exactly one bucket, so a
    /// snapshot's count is the sum of its buckets and `+Inf` always equals
    /// `_count`.
    recognition_buckets: [AtomicU64; BUCKETS],
    recognition_micros: AtomicU64,
    queue_depth: AtomicU64,
    connected: AtomicBool,
}

/// What the daemon reads from the engine when scraped (the closure given to
/// `serve` is the daemon's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeGauges {
    pub disk_free_bytes: Option<u64>,
    pub database_bytes: Option<u64>,
    pub alerts_pending: u64,
    pub lists_age_seconds: Option<f64>,
    /// Per peer: name, seconds since the last meeting in sync.
    pub sync_lag_seconds: Vec<(String, f64)>,
    /// `None`: no GPS configured.
    pub gps_fix: Option<bool>,
}

/// The counters at one moment, as plain data: for the health line and tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Sorted by name.
    pub cameras: Vec<CameraSnapshot>,
    pub reads_stored: u64,
    pub alerts_raised: u64,
    pub store_failures: u64,
}

/// One camera's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraSnapshot {
    pub name: String,
    pub frames: u64,
    pub dropped: u64,
    pub failed: u64,
    /// Plates seen, summed over the frames recognized.
    pub sightings: u64,
    /// Frames through recognition per bucket of
    /// `RECOGNITION_BUCKETS_SECONDS`, not cumulative; the last is `+Inf`.
    pub recognition_buckets: [u64; BUCKETS],
    pub recognition_seconds_sum: f64,
    pub queue_depth: u64,
    pub connected: bool,
}

impl CameraSnapshot {
    /// Frames through recognition.
    pub fn recognized(&self) -> u64 {
        self.recognition_buckets.iter().sum()
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// Registers a camera (idempotent by name) and returns its counters.
    pub fn camera(&self, name: &str) -> Arc<CameraMetrics> {
        let mut cameras = self.cameras.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(cameras.entry(name.to_owned()).or_default())
    }

    pub fn reads_stored(&self, n: u64) {
        self.reads_stored.fetch_add(n, Ordering::Relaxed);
    }

    pub fn alerts_raised(&self, n: u64) {
        self.alerts_raised.fetch_add(n, Ordering::Relaxed);
    }

    /// A batch the engine refused or failed to store.
    pub fn store_failed(&self) {
        self.store_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let cameras = self.cameras.lock().unwrap_or_else(PoisonError::into_inner);
        MetricsSnapshot {
            cameras: cameras.iter().map(|(n, c)| c.snapshot(n)).collect(),
            reads_stored: self.reads_stored.load(Ordering::Relaxed),
            alerts_raised: self.alerts_raised.load(Ordering::Relaxed),
            store_failures: self.store_failures.load(Ordering::Relaxed),
        }
    }

    /// The health line over the `secs` since `prev`, which becomes the
    /// snapshot taken now (so the next call covers the next interval and no
    /// count falls between two). See `health_line` for its fields.
    pub fn health_since(&self, prev: &mut MetricsSnapshot, secs: f64) -> String {
        let now = self.snapshot();
        let line = health_line(prev, &now, secs);
        *prev = now;
        line
    }
}

impl CameraMetrics {
    pub fn frame_captured(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    /// The oldest frame dropped when recognition fell behind.
    pub fn frame_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// A frame that could not be decoded.
    pub fn frame_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// One frame through recognition, which took `millis` and saw
    /// `sightings` plates. A negative or non-finite time counts as 0.
    pub fn recognized(&self, millis: f64, sightings: usize) {
        let secs = if millis.is_finite() && millis > 0.0 {
            millis / 1000.0
        } else {
            0.0
        };
        let bucket = RECOGNITION_BUCKETS_SECONDS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS - 1);
        self.recognition_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        // `as` saturates: a time beyond u64 microseconds is not a real one.
        let micros = (secs * 1e6).round() as u64;
        self.recognition_micros.fetch_add(micros, Ordering::Relaxed);
        self.sightings.fetch_add(
            u64::try_from(sightings).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn set_queue_depth(&self, depth: usize) {
        let depth = u64::try_from(depth).unwrap_or(u64::MAX);
        self.queue_depth.store(depth, Ordering::Relaxed);
    }

    /// The source is open (`true`) or lost.
    pub fn set_connected(&self, up: bool) {
        self.connected.store(up, Ordering::Relaxed);
    }

    fn snapshot(&self, name: &str) -> CameraSnapshot {
        CameraSnapshot {
            name: name.to_owned(),
            frames: self.frames.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            sightings: self.sightings.load(Ordering::Relaxed),
            recognition_buckets: std::array::from_fn(|i| {
                self.recognition_buckets[i].load(Ordering::Relaxed)
            }),
            recognition_seconds_sum: self.recognition_micros.load(Ordering::Relaxed) as f64 / 1e6,
            queue_depth: self.queue_depth.load(Ordering::Relaxed),
            connected: self.connected.load(Ordering::Relaxed),
        }
    }
}

// ---------------------------------------------------------------------------
// The health line.

/// The health line between two snapshots `secs` apart, in logfmt:
///
/// `reads=R alerts=A store_failures=F` then, per camera,
/// `camera=NAME up=0|1 fps=F dropped=D failed=X queue=Q` and, when frames
/// went through recognition in the interval, `rec_ms_mean=M rec_ms_p95=P`.
/// Counts are over the interval; `up` and `queue` are as of `now`. The p95
/// is interpolated within its histogram bucket (as PromQL's
/// `histogram_quantile` does), and reads `>2000` past the last bucket. A
/// camera name is quoted when it holds a space, `=`, `"` or a control
/// character.
pub fn health_line(prev: &MetricsSnapshot, now: &MetricsSnapshot, secs: f64) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "reads={} alerts={} store_failures={}",
        now.reads_stored.saturating_sub(prev.reads_stored),
        now.alerts_raised.saturating_sub(prev.alerts_raised),
        now.store_failures.saturating_sub(prev.store_failures),
    );
    let empty = CameraSnapshot::default();
    for cam in &now.cameras {
        let before = prev
            .cameras
            .iter()
            .find(|c| c.name == cam.name)
            .unwrap_or(&empty);
        let frames = cam.frames.saturating_sub(before.frames);
        let fps = if secs > 0.0 && secs.is_finite() {
            frames as f64 / secs
        } else {
            0.0
        };
        out.push_str(" camera=");
        push_logfmt_value(&mut out, &cam.name);
        let _ = write!(
            out,
            " up={} fps={fps:.1} dropped={} failed={} queue={}",
            u8::from(cam.connected),
            cam.dropped.saturating_sub(before.dropped),
            cam.failed.saturating_sub(before.failed),
            cam.queue_depth,
        );
        let buckets: [u64; BUCKETS] = std::array::from_fn(|i| {
            cam.recognition_buckets[i].saturating_sub(before.recognition_buckets[i])
        });
        let count: u64 = buckets.iter().sum();
        if count > 0 {
            let sum = (cam.recognition_seconds_sum - before.recognition_seconds_sum).max(0.0);
            let mean_ms = sum * 1000.0 / count as f64;
            let _ = write!(out, " rec_ms_mean={mean_ms:.1} rec_ms_p95=");
            match quantile(&buckets, 0.95) {
                Some(secs) => {
                    let _ = write!(out, "{:.1}", secs * 1000.0);
                }
                None => {
                    let last = RECOGNITION_BUCKETS_SECONDS[BUCKETS - 2];
                    let _ = write!(out, ">{}", last * 1000.0);
                }
            }
        }
    }
    out
}

/// The `q` quantile of non-cumulative `buckets`, interpolated linearly
/// within its bucket; `None` when it falls in `+Inf`.
fn quantile(buckets: &[u64; BUCKETS], q: f64) -> Option<f64> {
    let count: u64 = buckets.iter().sum();
    let rank = q * count as f64;
    let mut below = 0u64;
    let mut lower = 0.0;
    for (i, &n) in buckets.iter().enumerate() {
        let upper = *RECOGNITION_BUCKETS_SECONDS.get(i)?;
        if n > 0 && (below + n) as f64 >= rank {
            let within = (rank - below as f64) / n as f64;
            return Some(lower + (upper - lower) * within);
        }
        below += n;
        lower = upper;
    }
    None
}

fn push_logfmt_value(out: &mut String, value: &str) {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control());
    if plain {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// The exposition.

/// Prometheus text exposition format 0.0.4 of everything: the counters and
/// the engine's gauges. A gauge the daemon does not know (`None`) is left
/// out, and so is a family with no sample.
pub fn render(metrics: &Metrics, gauges: &NodeGauges) -> String {
    render_snapshot(&metrics.snapshot(), gauges)
}

fn render_snapshot(s: &MetricsSnapshot, g: &NodeGauges) -> String {
    let mut out = Exposition(String::new());
    let cams = &s.cameras;

    out.family(
        "alpr_frames_total",
        "counter",
        "Frames captured.",
        cams.iter().map(|c| (camera(c), c.frames as f64)),
    );
    out.family(
        "alpr_frames_dropped_total",
        "counter",
        "Oldest frames dropped because recognition fell behind.",
        cams.iter().map(|c| (camera(c), c.dropped as f64)),
    );
    out.family(
        "alpr_frames_failed_total",
        "counter",
        "Frames that could not be decoded.",
        cams.iter().map(|c| (camera(c), c.failed as f64)),
    );
    out.family(
        "alpr_plate_sightings_total",
        "counter",
        "Plates seen in recognized frames.",
        cams.iter().map(|c| (camera(c), c.sightings as f64)),
    );
    if !cams.is_empty() {
        out.head(
            "alpr_recognition_seconds",
            "histogram",
            "Time one frame took through recognition.",
        );
        for c in cams {
            let mut cumulative = 0;
            for (i, n) in c.recognition_buckets.iter().enumerate() {
                cumulative += n;
                let le = RECOGNITION_BUCKETS_SECONDS
                    .get(i)
                    .map_or_else(|| "+Inf".to_owned(), |&le| float(le));
                out.sample(
                    "alpr_recognition_seconds_bucket",
                    &[("camera", &c.name), ("le", &le)],
                    cumulative as f64,
                );
            }
            out.sample(
                "alpr_recognition_seconds_sum",
                &camera(c),
                c.recognition_seconds_sum,
            );
            out.sample(
                "alpr_recognition_seconds_count",
                &camera(c),
                cumulative as f64,
            );
        }
    }
    out.family(
        "alpr_queue_depth",
        "gauge",
        "Frames waiting for recognition.",
        cams.iter().map(|c| (camera(c), c.queue_depth as f64)),
    );
    out.family(
        "alpr_camera_up",
        "gauge",
        "1 while the camera's source is open.",
        cams.iter()
            .map(|c| (camera(c), f64::from(u8::from(c.connected)))),
    );

    out.family(
        "alpr_reads_stored_total",
        "counter",
        "Reads stored.",
        [(vec![], s.reads_stored as f64)],
    );
    out.family(
        "alpr_alerts_raised_total",
        "counter",
        "Hotlist alerts raised.",
        [(vec![], s.alerts_raised as f64)],
    );
    out.family(
        "alpr_store_failures_total",
        "counter",
        "Batches of reads the engine refused or failed to store.",
        [(vec![], s.store_failures as f64)],
    );

    out.family(
        "alpr_disk_free_bytes",
        "gauge",
        "Free space on the data directory's file system.",
        g.disk_free_bytes.map(|v| (vec![], v as f64)),
    );
    out.family(
        "alpr_database_bytes",
        "gauge",
        "Size of the node's database.",
        g.database_bytes.map(|v| (vec![], v as f64)),
    );
    out.family(
        "alpr_alerts_pending",
        "gauge",
        "Alerts not yet disposed of.",
        [(vec![], g.alerts_pending as f64)],
    );
    out.family(
        "alpr_hotlist_age_seconds",
        "gauge",
        "Seconds since this node's hotlists were last brought up to date.",
        g.lists_age_seconds.map(|v| (vec![], v)),
    );
    out.family(
        "alpr_sync_lag_seconds",
        "gauge",
        "Seconds since the last meeting in sync with each peer.",
        g.sync_lag_seconds
            .iter()
            .map(|(peer, lag)| (vec![("peer", peer.as_str())], *lag)),
    );
    out.family(
        "alpr_gps_fix",
        "gauge",
        "1 while the GPS has a fix.",
        g.gps_fix.map(|fix| (vec![], f64::from(u8::from(fix)))),
    );
    out.0
}

fn camera(c: &CameraSnapshot) -> Vec<(&'static str, &str)> {
    vec![("camera", c.name.as_str())]
}

struct Exposition(String);

impl Exposition {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape(help, false));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    /// A family of samples, left out whole when there is none.
    fn family<'a, L>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = (L, f64)>,
    ) where
        L: AsRef<[(&'a str, &'a str)]>,
    {
        let mut samples = samples.into_iter().peekable();
        if samples.peek().is_none() {
            return;
        }
        self.head(name, kind, help);
        for (labels, value) in samples {
            self.sample(name, labels.as_ref(), value);
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"{}\"", escape(value, true));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", float(value));
    }
}

/// Escapes per the text format: `\` and line feed everywhere, `"` in label
/// values.
fn escape(text: &str, label_value: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label_value => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as the text format spells it: Go's `ParseFloat` reads
/// Rust's shortest round-trip decimal; the infinities and NaN are named.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        v.to_string()
    }
}

// ---------------------------------------------------------------------------
// The endpoint.

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `GET /metrics` on a loopback TCP address in a thread of its own,
/// for the life of the process, and returns the bound address (port 0 picks
/// one). Anything else is answered 404 (405 for another method on
/// `/metrics`, 400 or 431 for a request that cannot be read). Connections
/// are served one at a time, each with at most `REQUEST_READ_SECS` to send
/// at most `REQUEST_BYTES_MAX` of request head: a scraper asks every few
/// seconds, and a stuck one must not hold the node's threads.
pub fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    gauges: Box<dyn Fn() -> NodeGauges + Send + Sync>,
) -> std::io::Result<SocketAddr> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the metrics endpoint is local only: {addr} is not a loopback address"),
        ));
    }
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(stream) => answer(stream, &metrics, gauges.as_ref()),
                    Err(e) => {
                        // Out of descriptors, most likely: wait, don't spin.
                        tracing::warn!(error = %e, "metrics endpoint: accept failed");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        })?;
    Ok(bound)
}

fn answer(
    mut stream: TcpStream,
    metrics: &Metrics,
    gauges: &(dyn Fn() -> NodeGauges + Send + Sync),
) {
    let response = match read_head(&mut stream) {
        Ok(head) => respond(&head, metrics, gauges),
        Err(HeadError::TooLarge) => status(431, "Request Header Fields Too Large"),
        Err(HeadError::Malformed) => status(400, "Bad Request"),
        // Timed out or gone: nobody to answer.
        Err(HeadError::Io) => return,
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(RESPONSE_WRITE_SECS)));
    let _ = stream.write_all(&response);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

enum HeadError {
    TooLarge,
    Malformed,
    Io,
}

/// Reads up to the blank line that ends a request head, within the byte
/// and time bounds; returns the request line.
fn read_head(stream: &mut TcpStream) -> Result<String, HeadError> {
    let deadline = Instant::now() + Duration::from_secs(REQUEST_READ_SECS);
    let mut buf = vec![0u8; REQUEST_BYTES_MAX];
    let mut len = 0;
    loop {
        if let Some(end) = head_end(&buf[..len]) {
            let head = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::Malformed)?;
            let line = head.lines().next().unwrap_or_default();
            return Ok(line.to_owned());
        }
        if len == buf.len() {
            return Err(HeadError::TooLarge);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HeadError::Io);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| HeadError::Io)?;
        match stream.read(&mut buf[len..]) {
            // The client closed before a full head: answer what it sent.
            Ok(0) if len > 0 => return Err(HeadError::Malformed),
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Io),
        }
    }
}

/// Where the head ends (`\r\n\r\n`, or `\n\n` from a lax client).
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn respond(
    request_line: &str,
    metrics: &Metrics,
    gauges: &(dyn Fn() -> NodeGauges + Send + Sync),
) -> Vec<u8> {
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return status(400, "Bad Request");
    };
    if !version.starts_with("HTTP/1.") {
        return status(400, "Bad Request");
    }
    let path = target.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return status(404, "Not Found");
    }
    if method != "GET" && method != "HEAD" {
        return response(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
    }
    // The closure is the daemon's: a panic in it costs one scrape, not the
    // endpoint.
    let Ok(gauges) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(gauges)) else {
        return status(500, "Internal Server Error");
    };
    let body = render(metrics, &gauges);
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method == "GET" {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

fn status(code: u16, reason: &str) -> Vec<u8> {
    response(code, reason, "")
}

/// A response whose body is its reason; `headers` are whole lines.
fn response(code: u16, reason: &str, headers: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} {reason}\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{reason}\n",
        reason.len() + 1
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::{Shutdown, TcpStream};

    use expect_test::expect;

    use super::*;

    /// A sample line: name, labels, value.
    type Sample = (String, Vec<(String, String)>, String);

    const ODD: &str = "gate \"B\"\\east\nside";

    /// Two cameras (one with a name that needs every escape), a few frames
    /// through recognition, and every gauge known.
    fn known_state() -> (Arc<Metrics>, NodeGauges) {
        let m = Metrics::new();
        let front = m.camera("front");
        for _ in 0..5 {
            front.frame_captured();
        }
        front.frame_dropped();
        front.recognized(4.0, 0);
        front.recognized(30.0, 1);
        front.recognized(120.0, 2);
        front.set_queue_depth(2);
        front.set_connected(true);
        let odd = m.camera(ODD);
        odd.frame_captured();
        odd.frame_failed();
        odd.recognized(2500.0, 0);
        m.reads_stored(3);
        m.alerts_raised(1);
        m.store_failed();
        let gauges = NodeGauges {
            disk_free_bytes: Some(1_000_000),
            database_bytes: Some(4096),
            alerts_pending: 1,
            lists_age_seconds: Some(90.5),
            sync_lag_seconds: vec![("station \"1\"".into(), 12.25)],
            gps_fix: Some(false),
        };
        (m, gauges)
    }

    #[test]
    fn exposition_of_a_known_state() {
        let (m, gauges) = known_state();
        expect![[r##"
            # HELP alpr_frames_total Frames captured.
            # TYPE alpr_frames_total counter
            alpr_frames_total{camera="front"} 5
            alpr_frames_total{camera="gate \"B\"\\east\nside"} 1
            # HELP alpr_frames_dropped_total Oldest frames dropped because recognition fell behind.
            # TYPE alpr_frames_dropped_total counter
            alpr_frames_dropped_total{camera="front"} 1
            alpr_frames_dropped_total{camera="gate \"B\"\\east\nside"} 0
            # HELP alpr_frames_failed_total Frames that could not be decoded.
            # TYPE alpr_frames_failed_total counter
            alpr_frames_failed_total{camera="front"} 0
            alpr_frames_failed_total{camera="gate \"B\"\\east\nside"} 1
            # HELP alpr_plate_sightings_total Plates seen in recognized frames.
            # TYPE alpr_plate_sightings_total counter
            alpr_plate_sightings_total{camera="front"} 3
            alpr_plate_sightings_total{camera="gate \"B\"\\east\nside"} 0
            # HELP alpr_recognition_seconds Time one frame took through recognition.
            # TYPE alpr_recognition_seconds histogram
            alpr_recognition_seconds_bucket{camera="front",le="0.005"} 1
            alpr_recognition_seconds_bucket{camera="front",le="0.01"} 1
            alpr_recognition_seconds_bucket{camera="front",le="0.025"} 1
            alpr_recognition_seconds_bucket{camera="front",le="0.05"} 2
            alpr_recognition_seconds_bucket{camera="front",le="0.075"} 2
            alpr_recognition_seconds_bucket{camera="front",le="0.1"} 2
            alpr_recognition_seconds_bucket{camera="front",le="0.15"} 3
            alpr_recognition_seconds_bucket{camera="front",le="0.25"} 3
            alpr_recognition_seconds_bucket{camera="front",le="0.5"} 3
            alpr_recognition_seconds_bucket{camera="front",le="1"} 3
            alpr_recognition_seconds_bucket{camera="front",le="2"} 3
            alpr_recognition_seconds_bucket{camera="front",le="+Inf"} 3
            alpr_recognition_seconds_sum{camera="front"} 0.154
            alpr_recognition_seconds_count{camera="front"} 3
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.005"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.01"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.025"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.05"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.075"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.1"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.15"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.25"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="0.5"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="1"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="2"} 0
            alpr_recognition_seconds_bucket{camera="gate \"B\"\\east\nside",le="+Inf"} 1
            alpr_recognition_seconds_sum{camera="gate \"B\"\\east\nside"} 2.5
            alpr_recognition_seconds_count{camera="gate \"B\"\\east\nside"} 1
            # HELP alpr_queue_depth Frames waiting for recognition.
            # TYPE alpr_queue_depth gauge
            alpr_queue_depth{camera="front"} 2
            alpr_queue_depth{camera="gate \"B\"\\east\nside"} 0
            # HELP alpr_camera_up 1 while the camera's source is open.
            # TYPE alpr_camera_up gauge
            alpr_camera_up{camera="front"} 1
            alpr_camera_up{camera="gate \"B\"\\east\nside"} 0
            # HELP alpr_reads_stored_total Reads stored.
            # TYPE alpr_reads_stored_total counter
            alpr_reads_stored_total 3
            # HELP alpr_alerts_raised_total Hotlist alerts raised.
            # TYPE alpr_alerts_raised_total counter
            alpr_alerts_raised_total 1
            # HELP alpr_store_failures_total Batches of reads the engine refused or failed to store.
            # TYPE alpr_store_failures_total counter
            alpr_store_failures_total 1
            # HELP alpr_disk_free_bytes Free space on the data directory's file system.
            # TYPE alpr_disk_free_bytes gauge
            alpr_disk_free_bytes 1000000
            # HELP alpr_database_bytes Size of the node's database.
            # TYPE alpr_database_bytes gauge
            alpr_database_bytes 4096
            # HELP alpr_alerts_pending Alerts not yet disposed of.
            # TYPE alpr_alerts_pending gauge
            alpr_alerts_pending 1
            # HELP alpr_hotlist_age_seconds Seconds since this node's hotlists were last brought up to date.
            # TYPE alpr_hotlist_age_seconds gauge
            alpr_hotlist_age_seconds 90.5
            # HELP alpr_sync_lag_seconds Seconds since the last meeting in sync with each peer.
            # TYPE alpr_sync_lag_seconds gauge
            alpr_sync_lag_seconds{peer="station \"1\""} 12.25
            # HELP alpr_gps_fix 1 while the GPS has a fix.
            # TYPE alpr_gps_fix gauge
            alpr_gps_fix 0
        "##]].assert_eq(&render(&m, &gauges));
    }

    /// A sample line split into name, labels (unescaped) and value, by the
    /// text format's grammar; `None` when the line does not follow it.
    fn parse_sample(line: &str) -> Option<Sample> {
        let name_end = line.find(['{', ' '])?;
        let name = line[..name_end].to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return None;
        }
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            rest = r;
            loop {
                if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                }
                let eq = rest.find('=')?;
                let key = rest[..eq].to_owned();
                rest = rest[eq + 1..].strip_prefix('"')?;
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let end = loop {
                    match chars.next()? {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next()?.1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            _ => return None,
                        },
                        (_, '\n') => return None,
                        (_, c) => value.push(c),
                    }
                };
                labels.push((key, value));
                rest = &rest[end + 1..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
        }
        let value = rest.strip_prefix(' ')?;
        if value.contains(' ') {
            return None;
        }
        Some((name, labels, value.to_owned()))
    }

    fn samples(text: &str) -> Vec<Sample> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| parse_sample(l).unwrap_or_else(|| panic!("not a sample line: {l:?}")))
            .collect()
    }

    #[test]
    fn label_values_are_escaped_and_read_back() {
        let (m, gauges) = known_state();
        let text = render(&m, &gauges);
        assert!(text.contains(r#"alpr_frames_total{camera="gate \"B\"\\east\nside"} 1"#));
        assert!(text.contains(r#"alpr_sync_lag_seconds{peer="station \"1\""} 12.25"#));
        // Every line is a comment or a sample a scraper can parse, and the
        // names come back as they went in.
        let parsed = samples(&text);
        let cameras: Vec<&str> = parsed
            .iter()
            .filter(|(n, _, _)| n == "alpr_frames_total")
            .map(|(_, l, _)| l[0].1.as_str())
            .collect();
        assert_eq!(cameras, ["front", ODD]);
        for line in text.lines().filter(|l| l.starts_with('#')) {
            let mut words = line.split(' ');
            assert!(matches!(words.nth(1), Some("HELP" | "TYPE")), "{line}");
        }
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_inf() {
        let (m, gauges) = known_state();
        let parsed = samples(&render(&m, &gauges));
        for camera in ["front", ODD] {
            let of = |name: &str| {
                parsed
                    .iter()
                    .filter(|(n, l, _)| n == name && l[0] == ("camera".into(), camera.into()))
                    .collect::<Vec<_>>()
            };
            let buckets = of("alpr_recognition_seconds_bucket");
            assert_eq!(buckets.len(), RECOGNITION_BUCKETS_SECONDS.len() + 1);
            let les: Vec<&str> = buckets.iter().map(|(_, l, _)| l[1].1.as_str()).collect();
            assert_eq!(les.last(), Some(&"+Inf"));
            for (le, bound) in les.iter().zip(RECOGNITION_BUCKETS_SECONDS) {
                assert_eq!(le.parse::<f64>().ok(), Some(bound));
            }
            let counts: Vec<u64> = buckets
                .iter()
                .map(|(_, _, v)| v.parse().unwrap_or(u64::MAX))
                .collect();
            assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
            let count = &of("alpr_recognition_seconds_count")[0].2;
            assert_eq!(counts.last().map(u64::to_string).as_ref(), Some(count));
        }
        let front = |le: &str| {
            parsed
                .iter()
                .find(|(n, l, _)| {
                    n == "alpr_recognition_seconds_bucket" && l[0].1 == "front" && l[1].1 == le
                })
                .map(|(_, _, v)| v.as_str())
        };
        // 4 ms, 30 ms and 120 ms.
        assert_eq!(front("0.005"), Some("1"));
        assert_eq!(front("0.025"), Some("1"));
        assert_eq!(front("0.05"), Some("2"));
        assert_eq!(front("0.15"), Some("3"));
        assert_eq!(front("+Inf"), Some("3"));
    }

    #[test]
    fn unknown_gauges_are_left_out() {
        let m = Metrics::new();
        let text = render(&m, &NodeGauges::default());
        for absent in [
            "alpr_disk_free_bytes",
            "alpr_database_bytes",
            "alpr_hotlist_age_seconds",
            "alpr_sync_lag_seconds",
            "alpr_gps_fix",
            "alpr_frames_total",
            "alpr_recognition_seconds",
        ] {
            assert!(!text.contains(absent), "{absent} in\n{text}");
        }
        assert!(text.contains("\nalpr_alerts_pending 0\n"));
        assert!(text.contains("\nalpr_reads_stored_total 0\n"));
        samples(&text);
    }

    #[test]
    fn cameras_are_registered_once_by_name() {
        let m = Metrics::new();
        let a = m.camera("a");
        let again = m.camera("a");
        assert!(Arc::ptr_eq(&a, &again));
        a.frame_captured();
        again.frame_captured();
        m.camera("b");
        let s = m.snapshot();
        assert_eq!(s.cameras.len(), 2);
        assert_eq!(s.cameras[0].frames, 2);
    }

    #[test]
    fn impossible_times_count_as_zero() {
        let m = Metrics::new();
        let c = m.camera("c");
        c.recognized(f64::NAN, 0);
        c.recognized(-5.0, 0);
        c.recognized(f64::INFINITY, 0);
        let s = m.snapshot();
        assert_eq!(s.cameras[0].recognition_buckets[0], 3);
        assert_eq!(s.cameras[0].recognition_seconds_sum, 0.0);
    }

    #[test]
    fn p95_interpolates_within_its_bucket() {
        let mut b = [0; BUCKETS];
        // 100 frames, all in (0.05, 0.075]: the 95th is 95% of the way up.
        b[4] = 100;
        let p = quantile(&b, 0.95).unwrap_or(f64::NAN);
        assert!((p - (0.05 + 0.025 * 0.95)).abs() < 1e-9, "{p}");
        b[BUCKETS - 1] = 1000;
        assert_eq!(quantile(&b, 0.95), None);
    }

    #[test]
    fn health_line_covers_the_interval() {
        let m = Metrics::new();
        let front = m.camera("front");
        for _ in 0..10 {
            front.frame_captured();
        }
        m.reads_stored(7);
        let mut last = m.snapshot();

        for _ in 0..50 {
            front.frame_captured();
        }
        front.frame_dropped();
        front.set_queue_depth(3);
        front.set_connected(true);
        for _ in 0..19 {
            front.recognized(40.0, 1);
        }
        front.recognized(140.0, 0);
        m.reads_stored(2);
        m.alerts_raised(1);
        // A camera that appeared in the interval, with a frame past 2 s.
        let late = m.camera("rear gate");
        late.frame_captured();
        late.frame_failed();
        late.recognized(3000.0, 0);

        let line = m.health_since(&mut last, 10.0);
        expect![[r#"reads=2 alerts=1 store_failures=0 camera=front up=1 fps=5.0 dropped=1 failed=0 queue=3 rec_ms_mean=45.0 rec_ms_p95=50.0 camera="rear gate" up=0 fps=0.1 dropped=0 failed=1 queue=0 rec_ms_mean=3000.0 rec_ms_p95=>2000"#]].assert_eq(&line);
        // The next interval starts where this one ended.
        assert_eq!(
            m.health_since(&mut last, 10.0),
            "reads=0 alerts=0 store_failures=0 \
             camera=front up=1 fps=0.0 dropped=0 failed=0 queue=3 \
             camera=\"rear gate\" up=0 fps=0.0 dropped=0 failed=0 queue=0"
        );
        // No time passed: no rate, and no division by zero.
        assert!(m.health_since(&mut last, 0.0).contains("fps=0.0"));
    }

    #[test]
    fn health_line_quotes_odd_names() {
        let m = Metrics::new();
        m.camera(ODD);
        let line = m.health_since(&mut MetricsSnapshot::default(), 1.0);
        assert!(
            line.contains(r#"camera="gate \"B\"\\east\nside" up=0"#),
            "{line}"
        );
    }

    /// Sends `request` (then closes the write side) and reads the whole
    /// answer.
    fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap_or_else(|e| panic!("{e}"));
        s.write_all(request)
            .unwrap_or_else(|e| panic!("write: {e}"));
        let _ = s.shutdown(Shutdown::Write);
        let mut out = Vec::new();
        s.read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("read: {e}"));
        String::from_utf8_lossy(&out).into_owned()
    }

    fn serve_known_state() -> SocketAddr {
        let (m, gauges) = known_state();
        let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
        serve(addr, m, Box::new(move || gauges.clone())).unwrap_or_else(|e| panic!("serve: {e}"))
    }

    #[test]
    fn serve_answers_metrics_and_nothing_else() {
        let addr = serve_known_state();
        assert_ne!(addr.port(), 0);
        let (m, gauges) = known_state();
        let expected = render(&m, &gauges);

        let answer = exchange(
            addr,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
        );
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", expected.len())));
        assert_eq!(body, expected);

        let answer = exchange(addr, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");

        let answer = exchange(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n"), "{answer}");

        for other in [
            "GET / HTTP/1.1",
            "GET /metrics/x HTTP/1.1",
            "GET /favicon.ico HTTP/1.1",
        ] {
            let answer = exchange(addr, format!("{other}\r\n\r\n").as_bytes());
            assert!(
                answer.starts_with("HTTP/1.1 404 Not Found\r\n"),
                "{other}: {answer}"
            );
        }
        let answer = exchange(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
        assert!(answer.contains("Allow: GET, HEAD\r\n"), "{answer}");
    }

    #[test]
    fn serve_survives_garbage_and_a_megabyte() {
        let addr = serve_known_state();
        for garbage in [
            &b"\xff\xfe\x00garbage\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics SPDY/9\r\n\r\n",
            b"no blank line at all",
            b"\n\n",
        ] {
            let answer = exchange(addr, garbage);
            assert!(answer.starts_with("HTTP/1.1 400 "), "{garbage:?}: {answer}");
        }
        // A client that connects and leaves at once.
        drop(TcpStream::connect(addr));

        // A megabyte with no end of head: refused after 8 KiB. The server
        // closes with most of it unread, so the client may see a reset
        // rather than the answer; either way the next scrape is served.
        let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut writer = s.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let sender = std::thread::spawn(move || {
            let mut big = b"GET /metrics HTTP/1.1\r\nX-Junk: ".to_vec();
            big.resize(1024 * 1024, b'a');
            let _ = writer.write_all(&big);
        });
        let mut answer = Vec::new();
        if s.read_to_end(&mut answer).is_ok() {
            let answer = String::from_utf8_lossy(&answer);
            assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        }
        sender.join().unwrap_or_else(|_| panic!("sender panicked"));

        let answer = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    }

    #[test]
    fn serve_answers_500_when_the_gauges_panic() {
        let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
        let addr = serve(addr, Metrics::new(), Box::new(|| panic!("engine gone")))
            .unwrap_or_else(|e| panic!("serve: {e}"));
        let answer = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
        let answer = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
    }

    #[test]
    fn serve_refuses_a_non_loopback_address() {
        let addr = "0.0.0.0:0".parse().unwrap_or_else(|e| panic!("{e}"));
        let err = serve(addr, Metrics::new(), Box::new(NodeGauges::default));
        assert_eq!(
            err.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::InvalidInput)
        );
    }
}
