//! Cameras over V4L2: the listing of what is plugged in (`alpr-node
//! cameras`), the choice of one camera and one of its modes for a
//! `source = "device"`, and the frame source that captures from it: a V4L2
//! mmap stream through the `v4l` crate, with a timeout on every wait for a
//! frame, and nokhwa's decoders to RGB. Capture needs the `camera` feature;
//! without it, listing and opening answer [`CaptureError::NoCameraSupport`].
//!
//! Choosing a camera ([`select_camera`]) and a mode ([`choose_mode`]) are
//! pure functions over what the listing found, so they are tested without a
//! device. The listing reads each `/dev/videoN` with read-only ioctls
//! (capabilities, formats, sizes, rates) through the `v4l` crate nokhwa is
//! built on: nokhwa's own query lists metadata nodes as cameras, offers no
//! formats without opening (and reconfiguring) the device, and panics on a
//! `/dev/video*` name without a number.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alpr_protocol::Timestamp;

use super::{CaptureError, FrameSource};
use crate::config::{DeviceConfig, DeviceId, PixelFormat};

/// Largest frame side taken from a camera, in pixels: larger modes are
/// neither listed nor chosen, and a frame that claims more is refused before
/// it is decoded.
pub const FRAME_SIDE_MAX: u32 = 8192;
/// Modes kept per camera (format, size); the rest are not listed.
pub const MODES_MAX: usize = 256;
/// Longest camera name kept from the driver, in characters.
pub const NAME_CHARS_MAX: usize = 128;

/// The shortest wait for a frame before a camera counts as stalled.
pub const STALL_MIN: Duration = Duration::from_secs(2);
/// Frame intervals waited for a frame before a camera counts as stalled,
/// when that is longer than [`STALL_MIN`].
pub const STALL_FRAMES: u64 = 5;
/// The longest wait for a frame, whatever interval a driver claims.
pub const STALL_MAX: Duration = Duration::from_secs(60);
/// The shortest wait for the first frame after streaming starts: a UVC
/// camera can take a few seconds to settle its exposure before it sends.
pub const FIRST_FRAME_MIN: Duration = Duration::from_secs(5);

/// What the V4L2 listing says when there is nothing to list.
pub const NO_CAMERAS: &str = "no cameras found (V4L2: no /dev/video* devices)";

/// One V4L2 capture device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// The `N` of `/dev/videoN`: what `device = N` in a config names.
    pub index: u32,
    /// The name the driver gives it (`HD Pro Webcam C920`).
    pub name: String,
    /// The kernel driver (`uvcvideo`); empty when it could not be asked.
    pub driver: String,
    /// Where it is attached (`usb-0000:00:14.0-2`); empty when unknown.
    pub bus: String,
    /// Its device node (`/dev/video0`).
    pub path: PathBuf,
    /// What it offers that this build decodes, in the driver's order.
    pub modes: Vec<CameraMode>,
    /// Formats it offers that this build does not decode (`H264`).
    pub other_formats: Vec<String>,
    /// Why it could not be fully read (permission denied): then `modes`
    /// may be empty.
    pub problem: Option<String>,
}

/// A pixel encoding a camera sends that nokhwa decodes to RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    Mjpeg,
    Yuyv,
    Nv12,
    Gray,
    Rgb24,
    Bgr24,
}

impl Encoding {
    /// Every encoding, in the order one is taken when the asked one is not
    /// offered: compressed first (least USB bandwidth), then packed YUV.
    pub const ALL: [Encoding; 6] = [
        Encoding::Mjpeg,
        Encoding::Yuyv,
        Encoding::Nv12,
        Encoding::Rgb24,
        Encoding::Bgr24,
        Encoding::Gray,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Mjpeg => "mjpeg",
            Encoding::Yuyv => "yuyv",
            Encoding::Nv12 => "nv12",
            Encoding::Gray => "gray",
            Encoding::Rgb24 => "rgb24",
            Encoding::Bgr24 => "bgr24",
        }
    }

    /// Its V4L2 four-character code.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            Encoding::Mjpeg => *b"MJPG",
            Encoding::Yuyv => *b"YUYV",
            Encoding::Nv12 => *b"NV12",
            Encoding::Gray => *b"GREY",
            Encoding::Rgb24 => *b"RGB3",
            Encoding::Bgr24 => *b"BGR3",
        }
    }

    pub fn from_fourcc(fourcc: [u8; 4]) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.fourcc() == fourcc)
    }

    fn asked(format: PixelFormat) -> Encoding {
        match format {
            PixelFormat::Mjpeg => Encoding::Mjpeg,
            PixelFormat::Yuyv => Encoding::Yuyv,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One encoding at one size, with the frame rates offered there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraMode {
    pub encoding: Encoding,
    pub width: u32,
    pub height: u32,
    /// Whole frames per second, highest first; empty when the driver does
    /// not say.
    pub fps: Vec<u32>,
}

/// The mode chosen for a config: what is asked of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub encoding: Encoding,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{} {} {} frames/s",
            self.width, self.height, self.encoding, self.fps
        )
    }
}

/// The cameras, for a message: `0 'HD Webcam' (/dev/video0), …`.
fn what_is_there(cameras: &[CameraInfo]) -> String {
    if cameras.is_empty() {
        return "no cameras found on this machine (see `alpr-node cameras`)".to_string();
    }
    let list: Vec<String> = cameras
        .iter()
        .map(|c| format!("{} '{}' ({})", c.index, c.name, c.path.display()))
        .collect();
    format!("cameras here: {}", list.join(", "))
}

/// The camera a config names: by index (`/dev/videoN`), by device path, or
/// by its name, case-insensitively, whole or in part. A whole name wins
/// over a part (`HD Camera` over `HD Camera 2`); a name that several
/// cameras share (two of the same model) or a part that several contain is
/// refused, since the wrong camera would be read without a word.
pub fn select_camera<'a>(
    cameras: &'a [CameraInfo],
    device: &DeviceId,
) -> Result<&'a CameraInfo, String> {
    let name = match device {
        DeviceId::Index(index) => {
            return cameras.iter().find(|c| c.index == *index).ok_or_else(|| {
                format!("no camera at /dev/video{index}; {}", what_is_there(cameras))
            });
        }
        DeviceId::Name(name) => name.trim(),
    };
    if name.is_empty() {
        return Err(format!(
            "an empty camera name names no camera; {}",
            what_is_there(cameras)
        ));
    }
    if let Some(c) = cameras.iter().find(|c| c.path.as_os_str() == name) {
        return Ok(c);
    }
    let wanted = name.to_lowercase();
    let whole: Vec<&CameraInfo> = cameras
        .iter()
        .filter(|c| c.name.to_lowercase() == wanted)
        .collect();
    let candidates = if whole.is_empty() {
        cameras
            .iter()
            .filter(|c| c.name.to_lowercase().contains(&wanted))
            .collect()
    } else {
        whole
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no camera named '{name}'; {}",
            what_is_there(cameras)
        )),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|c| format!("{} '{}' ({})", c.index, c.name, c.path.display()))
                .collect();
            Err(format!(
                "'{name}' names {} cameras: {}; give its index, its /dev/v4l/by-id path, or more of its name",
                many.len(),
                list.join(", ")
            ))
        }
    }
}

/// The offered mode closest to what `config` asks: the nearest size first
/// (the size decides what a plate reader can read), then the asked
/// encoding if it is offered at that size, then the nearest frame rate
/// (the higher on a tie). `None` when nothing offered is within
/// [`FRAME_SIDE_MAX`].
pub fn choose_mode(modes: &[CameraMode], config: &DeviceConfig) -> Option<Choice> {
    let asked = Encoding::asked(config.format);
    let rank = |e: Encoding| -> usize {
        if e == asked {
            0
        } else {
            1 + Encoding::ALL.iter().position(|x| *x == e).unwrap_or(0)
        }
    };
    let in_bounds = |m: &&CameraMode| {
        (1..=FRAME_SIDE_MAX).contains(&m.width) && (1..=FRAME_SIDE_MAX).contains(&m.height)
    };
    let distance = |m: &CameraMode| {
        u64::from(m.width.abs_diff(config.width)) + u64::from(m.height.abs_diff(config.height))
    };
    let mode = modes.iter().filter(in_bounds).min_by_key(|m| {
        (
            distance(m),
            // Of two sizes as far from the asked one, the larger.
            std::cmp::Reverse(u64::from(m.width) * u64::from(m.height)),
            rank(m.encoding),
        )
    })?;
    let fps = mode
        .fps
        .iter()
        .copied()
        .filter(|f| *f > 0)
        .min_by_key(|f| (f.abs_diff(config.fps), std::cmp::Reverse(*f)))
        // A driver that lists no rates: ask for the configured one.
        .unwrap_or(config.fps);
    Some(Choice {
        encoding: mode.encoding,
        width: mode.width,
        height: mode.height,
        fps,
    })
}

/// The V4L2 device nodes, `/dev/videoN`, by `N`. Other names under `/dev`
/// that start with `video` are not device nodes this reads.
pub fn video_nodes() -> Result<Vec<(u32, PathBuf)>, CaptureError> {
    video_nodes_in(Path::new("/dev"))
}

fn video_nodes_in(dev: &Path) -> Result<Vec<(u32, PathBuf)>, CaptureError> {
    let entries = std::fs::read_dir(dev).map_err(|e| CaptureError::Source {
        source_name: "V4L2".into(),
        message: format!("cannot list {}: {e}", dev.display()),
    })?;
    let mut nodes: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let digits = name.to_str()?.strip_prefix("video")?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((digits.parse().ok()?, entry.path()))
        })
        .collect();
    nodes.sort();
    Ok(nodes)
}

/// Every V4L2 capture device on this machine, by index. Nodes that are not
/// capture devices (a UVC camera's metadata node, codecs) are left out; a
/// node that cannot be opened is listed with its `problem`.
pub fn list_cameras() -> Result<Vec<CameraInfo>, CaptureError> {
    #[cfg(feature = "camera")]
    {
        Ok(device::list(&video_nodes()?))
    }
    #[cfg(not(feature = "camera"))]
    {
        Err(CaptureError::NoCameraSupport("/dev/video*".into()))
    }
}

/// Opens the camera `config` names for `alpr-node run` as camera
/// `camera_name`, in the mode [`choose_mode`] picks; `describe()` says what
/// the camera granted. Frames are stamped by `clock` as they are taken off
/// the device. A camera that disappears or fails makes `next` answer
/// [`CaptureError::Source`] naming it (the pipeline then reopens it); a
/// frame that does not decode answers [`CaptureError::Frame`].
pub fn open_camera(
    camera_name: &str,
    config: &DeviceConfig,
    clock: fn() -> Timestamp,
) -> Result<Box<dyn FrameSource>, CaptureError> {
    #[cfg(feature = "camera")]
    {
        Ok(Box::new(device::CameraSource::open(
            camera_name,
            config,
            clock,
        )?))
    }
    #[cfg(not(feature = "camera"))]
    {
        let _ = (config, clock);
        Err(CaptureError::NoCameraSupport(camera_name.to_string()))
    }
}

/// The width and height a JPEG's frame header declares, found by walking
/// its marker segments up to the first scan. `None` when the bytes are not
/// a JPEG or end before a frame header.
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2usize;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        // Fill bytes: any number of 0xFF before a marker.
        while *bytes.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at)?;
        at += 1;
        match marker {
            // Markers without a segment.
            0x01 | 0xD0..=0xD8 => continue,
            // The end, or a scan, before any frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        if length < 2 {
            return None;
        }
        // SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC): length,
        // precision, then height and width.
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes([*bytes.get(at + 3)?, *bytes.get(at + 4)?]);
            let width = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
            return Some((u32::from(width), u32::from(height)));
        }
        at = at.checked_add(length)?;
    }
}

/// How long to wait for a frame from a camera granted a frame interval of
/// `numerator / denominator` seconds: [`STALL_FRAMES`] intervals or
/// [`STALL_MIN`], whichever is longer, in whole seconds (rounded up), at
/// most [`STALL_MAX`]. An interval the driver leaves unset (a zero) waits
/// [`STALL_MIN`].
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
fn stall_timeout(numerator: u32, denominator: u32) -> Duration {
    if numerator == 0 || denominator == 0 {
        return STALL_MIN;
    }
    let frames = STALL_FRAMES * u64::from(numerator);
    let secs = frames.div_ceil(u64::from(denominator));
    Duration::from_secs(secs).clamp(STALL_MIN, STALL_MAX)
}

/// A wait as `poll(2)` takes it: whole milliseconds, rounded up so a poll
/// never ends before the deadline it was given, at most `i32::MAX`.
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
fn poll_ms(wait: Duration) -> i32 {
    let ms = wait.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// Waits until `poll` says a frame is ready, for `timeout` in all: `poll`
/// is given what is left of it, and a wait a signal cuts short (`EINTR`)
/// goes on for what is left. `Ok(false)` when the time is up without a
/// frame. `now` is the clock the deadline is kept by.
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
fn wait_for_frame(
    timeout: Duration,
    mut now: impl FnMut() -> Instant,
    mut poll: impl FnMut(Duration) -> std::io::Result<bool>,
) -> std::io::Result<bool> {
    let deadline = now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(now());
        match poll(left) {
            Ok(ready) => return Ok(ready),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if now() >= deadline {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// What a stalled camera's error says.
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
fn stalled(timeout: Duration) -> String {
    format!("no frame for {} s; reopening", timeout.as_secs())
}

/// Capture over a V4L2 mmap stream (the `v4l` crate), decoding through
/// nokhwa, and the listing's ioctls.
#[cfg(feature = "camera")]
mod device {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use alpr_protocol::Timestamp;
    use image::RgbImage;
    use nokhwa::Buffer;
    use nokhwa::pixel_format::RgbFormat;
    use nokhwa::utils::{FrameFormat, Resolution};
    use v4l::io::traits::CaptureStream as _;
    use v4l::video::Capture as _;

    use super::{
        CameraInfo, CameraMode, Choice, Encoding, FIRST_FRAME_MIN, FRAME_SIDE_MAX, MODES_MAX,
        NAME_CHARS_MAX, choose_mode, jpeg_size, poll_ms, select_camera, stall_timeout, stalled,
        wait_for_frame,
    };
    use crate::capture::{CaptureError, Frame, FrameSource};
    use crate::config::{DeviceConfig, DeviceId};

    /// Formats read per device, and sizes per format: a driver that lists
    /// more is cut off here.
    const FORMATS_MAX: usize = 64;
    const SIZES_MAX: usize = 64;
    /// Buffers asked of the driver for the mmap stream (it may grant
    /// others).
    const BUFFERS: u32 = 4;
    /// `POLLIN` of `poll(2)` on Linux, the only system V4L2 runs on.
    const POLLIN: i16 = 0x001;
    /// Sizes offered from a stepwise or continuous range, besides its ends.
    const COMMON_SIZES: [(u32, u32); 6] = [
        (640, 480),
        (800, 600),
        (1280, 720),
        (1920, 1080),
        (2560, 1440),
        (3840, 2160),
    ];

    pub(super) fn list(nodes: &[(u32, PathBuf)]) -> Vec<CameraInfo> {
        nodes
            .iter()
            .filter_map(|(index, path)| describe_node(*index, path))
            .collect()
    }

    fn bounded(text: &str) -> String {
        text.trim().chars().take(NAME_CHARS_MAX).collect()
    }

    /// One node as a camera; `None` when it is not a capture device.
    fn describe_node(index: u32, path: &Path) -> Option<CameraInfo> {
        let sysfs_name =
            std::fs::read_to_string(format!("/sys/class/video4linux/video{index}/name"))
                .ok()
                .map(|n| bounded(&n))
                .filter(|n| !n.is_empty());
        let mut info = CameraInfo {
            index,
            name: sysfs_name.clone().unwrap_or_else(|| "?".into()),
            driver: String::new(),
            bus: String::new(),
            path: path.to_path_buf(),
            modes: Vec::new(),
            other_formats: Vec::new(),
            problem: None,
        };
        let device = match v4l::Device::with_path(path) {
            Ok(d) => d,
            Err(e) => {
                let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
                    " (is this user in the `video` group?)"
                } else {
                    ""
                };
                info.problem = Some(format!("cannot be opened: {e}{hint}"));
                return Some(info);
            }
        };
        let caps = match device.query_caps() {
            Ok(c) => c,
            Err(e) => {
                info.problem = Some(format!("cannot be asked what it is: {e}"));
                return Some(info);
            }
        };
        // The node's own capabilities (device_caps): a UVC camera's second
        // node carries metadata only, and is no camera.
        if !caps
            .capabilities
            .contains(v4l::capability::Flags::VIDEO_CAPTURE)
        {
            return None;
        }
        if sysfs_name.is_none() && !caps.card.trim().is_empty() {
            info.name = bounded(&caps.card);
        }
        info.driver = bounded(&caps.driver);
        info.bus = bounded(&caps.bus);
        match modes(&device) {
            Ok((modes, other)) => {
                info.modes = modes;
                info.other_formats = other;
            }
            Err(e) => info.problem = Some(format!("cannot list its formats: {e}")),
        }
        Some(info)
    }

    /// Whole frames per second of a frame interval (seconds per frame).
    fn fps_of(interval: v4l::Fraction) -> Option<u32> {
        if interval.numerator == 0 || interval.denominator == 0 {
            return None;
        }
        let fps = (f64::from(interval.denominator) / f64::from(interval.numerator)).round();
        // Bounded: no camera sends more than a thousand frames a second.
        (1.0..=1000.0).contains(&fps).then_some(fps as u32)
    }

    fn modes(device: &v4l::Device) -> std::io::Result<(Vec<CameraMode>, Vec<String>)> {
        let mut modes: Vec<CameraMode> = Vec::new();
        let mut other = Vec::new();
        for format in device.enum_formats()?.into_iter().take(FORMATS_MAX) {
            let Some(encoding) = Encoding::from_fourcc(format.fourcc.repr) else {
                let code = String::from_utf8_lossy(&format.fourcc.repr)
                    .trim()
                    .to_string();
                if !other.contains(&code) {
                    other.push(code);
                }
                continue;
            };
            if modes.iter().any(|m| m.encoding == encoding) {
                continue;
            }
            let mut sizes: Vec<(u32, u32)> = Vec::new();
            for size in device
                .enum_framesizes(format.fourcc)
                .unwrap_or_default()
                .into_iter()
                .take(SIZES_MAX)
            {
                match size.size {
                    v4l::framesize::FrameSizeEnum::Discrete(d) => sizes.push((d.width, d.height)),
                    v4l::framesize::FrameSizeEnum::Stepwise(s) => {
                        let fits = |(w, h): (u32, u32)| {
                            (s.min_width..=s.max_width).contains(&w)
                                && (s.min_height..=s.max_height).contains(&h)
                                && (w - s.min_width) % s.step_width.max(1) == 0
                                && (h - s.min_height) % s.step_height.max(1) == 0
                        };
                        sizes.push((s.min_width, s.min_height));
                        sizes.extend(COMMON_SIZES.into_iter().filter(|size| fits(*size)));
                        sizes.push((s.max_width, s.max_height));
                    }
                }
            }
            let mut seen = Vec::new();
            for (width, height) in sizes {
                let in_bounds =
                    (1..=FRAME_SIDE_MAX).contains(&width) && (1..=FRAME_SIDE_MAX).contains(&height);
                if !in_bounds || seen.contains(&(width, height)) || modes.len() >= MODES_MAX {
                    continue;
                }
                seen.push((width, height));
                let mut fps: Vec<u32> = Vec::new();
                for interval in device
                    .enum_frameintervals(format.fourcc, width, height)
                    .unwrap_or_default()
                    .into_iter()
                    .take(SIZES_MAX)
                {
                    match interval.interval {
                        v4l::frameinterval::FrameIntervalEnum::Discrete(f) => {
                            fps.extend(fps_of(f));
                        }
                        // The shortest interval is the highest rate.
                        v4l::frameinterval::FrameIntervalEnum::Stepwise(s) => {
                            fps.extend(fps_of(s.min));
                            fps.extend(fps_of(s.max));
                        }
                    }
                }
                fps.sort_unstable_by(|a, b| b.cmp(a));
                fps.dedup();
                modes.push(CameraMode {
                    encoding,
                    width,
                    height,
                    fps,
                });
            }
        }
        debug_assert!(modes.len() <= MODES_MAX);
        Ok((modes, other))
    }

    fn frame_format(encoding: Encoding) -> FrameFormat {
        match encoding {
            Encoding::Mjpeg => FrameFormat::MJPEG,
            Encoding::Yuyv => FrameFormat::YUYV,
            Encoding::Nv12 => FrameFormat::NV12,
            Encoding::Gray => FrameFormat::GRAY,
            Encoding::Rgb24 => FrameFormat::RAWRGB,
            Encoding::Bgr24 => FrameFormat::RAWBGR,
        }
    }

    /// The message of a panic caught at the nokhwa boundary.
    fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    }

    /// Runs a call into nokhwa, turning a panic into an error. mozjpeg
    /// unwinds out of libjpeg on a corrupt JPEG (a frame cut short on USB
    /// is common), and nokhwa does not catch it. This relies on the build
    /// unwinding on panic (the workspace's profiles do).
    fn guarded<T>(call: impl FnOnce() -> Result<T, nokhwa::NokhwaError>) -> Result<T, String> {
        match catch_unwind(AssertUnwindSafe(call)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(payload) => Err(panic_text(payload.as_ref())),
        }
    }

    /// A camera being read: one V4L2 stream of mmap'd buffers, each wait
    /// for a frame bounded by a timeout, each frame decoded to RGB on the
    /// capture thread.
    pub(super) struct CameraSource {
        /// Always `Some` until dropped (see the `Drop` impl).
        stream: Option<v4l::io::mmap::Stream<'static>>,
        /// Whether the first frame has been taken: the stream is started
        /// (buffers queued, `VIDIOC_STREAMON`) by the first `next`.
        started: bool,
        /// How long a wait for a frame may last before the camera counts
        /// as stalled.
        stall: Duration,
        /// Why the stream failed: after a [`CaptureError::Source`] its
        /// buffers are in an unknown state, so it is not read again.
        failed: Option<String>,
        /// `camera 'front' (/dev/video0 'HD Webcam')`, for errors.
        source_name: String,
        info: CameraInfo,
        asked: Choice,
        granted: Choice,
        clock: fn() -> Timestamp,
        frames: u64,
    }

    impl std::fmt::Debug for CameraSource {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("CameraSource")
                .field("source_name", &self.source_name)
                .field("granted", &self.granted)
                .field("stall", &self.stall)
                .field("frames", &self.frames)
                .finish_non_exhaustive()
        }
    }

    impl Drop for CameraSource {
        fn drop(&mut self) {
            // v4l's stream panics when `VIDIOC_STREAMOFF` or unmapping its
            // buffers fails with anything but ENODEV (a camera in a bad
            // state can answer EIO): that must not unwind out of the
            // pipeline's reopen.
            if let Some(stream) = self.stream.take()
                && let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(stream)))
            {
                tracing::warn!(
                    camera = %self.source_name,
                    error = %panic_text(payload.as_ref()),
                    "the camera's stream did not stop cleanly"
                );
            }
        }
    }

    /// Why a wait for a frame from the camera at `path` failed, in words.
    fn failure(path: &Path, e: &std::io::Error, timeout: Duration) -> String {
        if e.kind() == std::io::ErrorKind::TimedOut {
            stalled(timeout)
        } else if path.exists() {
            format!("failed: {e}")
        } else {
            format!("is gone (unplugged?): {e}")
        }
    }

    impl CameraSource {
        pub(super) fn open(
            camera_name: &str,
            config: &DeviceConfig,
            clock: fn() -> Timestamp,
        ) -> Result<CameraSource, CaptureError> {
            let fail = |source_name: &str, message: String| CaptureError::Source {
                source_name: source_name.to_string(),
                message,
            };
            let plain_name = format!("camera '{camera_name}'");
            // A path (`/dev/v4l/by-id/usb-…-video-index0`, the stable way
            // to name one of two identical cameras) names the node it
            // links to.
            let device = match &config.device {
                DeviceId::Name(name) if name.starts_with('/') => {
                    let resolved = std::fs::canonicalize(name)
                        .map_err(|e| fail(&plain_name, format!("{name}: {e}")))?;
                    DeviceId::Name(resolved.to_string_lossy().into_owned())
                }
                other => other.clone(),
            };
            let cameras = list(&super::video_nodes()?);
            let info = select_camera(&cameras, &device)
                .map_err(|m| fail(&plain_name, m))?
                .clone();
            let source_name = format!(
                "camera '{camera_name}' ({} '{}')",
                info.path.display(),
                info.name
            );
            if let Some(problem) = &info.problem {
                return Err(fail(&source_name, problem.clone()));
            }
            let asked = Choice {
                encoding: Encoding::asked(config.format),
                width: config.width,
                height: config.height,
                fps: config.fps,
            };
            let choice = choose_mode(&info.modes, config).ok_or_else(|| {
                let other = if info.other_formats.is_empty() {
                    String::new()
                } else {
                    format!(" (it offers {})", info.other_formats.join(", "))
                };
                fail(
                    &source_name,
                    format!("offers no format this build decodes{other}"),
                )
            })?;
            let device = v4l::Device::with_path(&info.path)
                .map_err(|e| fail(&source_name, format!("cannot be opened: {e}")))?;
            let format = device
                .set_format(&v4l::Format::new(
                    choice.width,
                    choice.height,
                    v4l::FourCC::new(&choice.encoding.fourcc()),
                ))
                .map_err(|e| fail(&source_name, format!("cannot be set to {choice}: {e}")))?;
            let encoding = Encoding::from_fourcc(format.fourcc.repr).ok_or_else(|| {
                fail(
                    &source_name,
                    format!(
                        "asked {choice}, it granted {}, which this build does not decode",
                        String::from_utf8_lossy(&format.fourcc.repr).trim()
                    ),
                )
            })?;
            // A driver without frame rate control (no VIDIOC_S_PARM) sends
            // at its own rate: then the one it reports, or the asked one.
            let interval = device
                .set_params(&v4l::video::capture::Parameters::with_fps(choice.fps.max(1)))
                .or_else(|e| {
                    tracing::debug!(camera = camera_name, error = %e, "the camera's frame rate cannot be set");
                    device.params()
                })
                .map(|p| p.interval)
                .ok()
                .filter(|i| fps_of(*i).is_some())
                .unwrap_or(v4l::Fraction::new(1, choice.fps.max(1)));
            let granted = Choice {
                encoding,
                width: format.width,
                height: format.height,
                fps: fps_of(interval).unwrap_or(choice.fps),
            };
            if !(1..=FRAME_SIDE_MAX).contains(&granted.width)
                || !(1..=FRAME_SIDE_MAX).contains(&granted.height)
            {
                return Err(fail(
                    &source_name,
                    format!("granted {granted}, over {FRAME_SIDE_MAX} pixels a side"),
                ));
            }
            // The stream keeps the device's file open; streaming starts
            // with the first frame asked for.
            let stream = v4l::io::mmap::Stream::with_buffers(
                &device,
                v4l::buffer::Type::VideoCapture,
                BUFFERS,
            )
            .map_err(|e| fail(&source_name, format!("cannot start streaming: {e}")))?;
            let stall = stall_timeout(interval.numerator, interval.denominator);
            if granted != asked {
                tracing::warn!(
                    camera = camera_name,
                    asked = %asked,
                    granted = %granted,
                    "the camera does not offer the asked mode; capturing in the closest it offers"
                );
            }
            Ok(CameraSource {
                stream: Some(stream),
                started: false,
                stall,
                failed: None,
                source_name,
                info,
                asked,
                granted,
                clock,
                frames: 0,
            })
        }

        /// The error of a stream that cannot go on; the stream is not read
        /// again.
        fn fail(&mut self, message: String) -> CaptureError {
            self.failed = Some(message.clone());
            CaptureError::Source {
                source_name: self.source_name.clone(),
                message,
            }
        }

        /// The next frame off the device, as nokhwa's buffer (a copy of
        /// the bytes the driver filled), with whether the driver marked it
        /// damaged. Waits at most the stall timeout (the first frame, at
        /// least [`FIRST_FRAME_MIN`]).
        fn take(&mut self) -> Result<(Buffer, bool), String> {
            let Some(stream) = self.stream.as_mut() else {
                return Err("the stream is closed".into());
            };
            let timeout = if self.started {
                self.stall
            } else {
                self.stall.max(FIRST_FRAME_MIN)
            };
            if self.started {
                // Wait here, where a signal that cuts the wait short can
                // be waited past: v4l's own wait (below) gives EINTR back
                // after it has queued the last frame's buffer again, and
                // the stream cannot be read after that.
                let handle = stream.handle();
                let ready = wait_for_frame(timeout, Instant::now, |left| {
                    handle.poll(POLLIN, poll_ms(left)).map(|n| n > 0)
                });
                match ready {
                    Ok(true) => {}
                    Ok(false) => return Err(stalled(timeout)),
                    Err(e) => return Err(failure(&self.info.path, &e, timeout)),
                }
            }
            // Bounded as well: the first frame waits here, and a later one
            // is ready (or the device failed) by now.
            stream.set_timeout(timeout);
            self.started = true;
            let resolution = Resolution::new(self.granted.width, self.granted.height);
            let format = frame_format(self.granted.encoding);
            let taken = stream.next().map(|(data, meta)| {
                // The driver says how much of the buffer it filled; the
                // rest is stale.
                let used = usize::try_from(meta.bytesused).unwrap_or(usize::MAX);
                let data = if used > 0 && used <= data.len() {
                    &data[..used]
                } else {
                    data
                };
                let damaged = meta.flags.contains(v4l::buffer::Flags::ERROR);
                (Buffer::new(resolution, data, format), damaged)
            });
            match taken {
                Ok(taken) => Ok(taken),
                Err(e) => Err(failure(&self.info.path, &e, timeout)),
            }
        }
    }

    /// One frame's RGB image, checked against the granted mode before
    /// it is decoded so a corrupt header cannot make the decoder
    /// allocate past [`FRAME_SIDE_MAX`].
    fn decode(buffer: &Buffer, granted: Choice) -> Result<RgbImage, String> {
        let (width, height) = (granted.width, granted.height);
        let pixels = width as usize * height as usize;
        let data = buffer.buffer();
        let needed = match granted.encoding {
            Encoding::Mjpeg => {
                let size = jpeg_size(data).ok_or("not a JPEG (no frame header)")?;
                if size != (width, height) {
                    return Err(format!(
                        "a {}x{} JPEG in a {width}x{height} stream",
                        size.0, size.1
                    ));
                }
                0
            }
            Encoding::Yuyv => pixels * 2,
            Encoding::Nv12 => pixels * 3 / 2,
            Encoding::Gray => pixels,
            Encoding::Rgb24 | Encoding::Bgr24 => pixels * 3,
        };
        if data.len() < needed {
            return Err(format!(
                "cut short: {} bytes of {needed} for {width}x{height} {}",
                data.len(),
                granted.encoding
            ));
        }
        // A buffer can be longer than the frame (a driver that does not
        // say how much it filled hands over the whole mmap'd buffer), and
        // nokhwa's decoders convert every byte given.
        let trimmed;
        let buffer = if needed > 0 && data.len() > needed {
            trimmed = Buffer::new(
                buffer.resolution(),
                &data[..needed],
                buffer.source_frame_format(),
            );
            &trimmed
        } else {
            buffer
        };
        let image = guarded(|| buffer.decode_image::<RgbFormat>())?;
        if image.dimensions() != (width, height) {
            return Err(format!(
                "decoded {}x{}, not {width}x{height}",
                image.width(),
                image.height()
            ));
        }
        Ok(image)
    }

    impl FrameSource for CameraSource {
        fn next(&mut self) -> Result<Option<Frame>, CaptureError> {
            if let Some(why) = &self.failed {
                let message = format!("the stream failed before: {why}");
                return Err(self.fail(message));
            }
            // Waits until the driver fills a buffer, for the stall timeout
            // at most: a camera that stops sending without going away is
            // then a source error, and the pipeline reopens it; one that is
            // unplugged fails the wait.
            let (buffer, damaged) = match self.take() {
                Ok(taken) => taken,
                Err(message) => return Err(self.fail(message)),
            };
            // The time the frame came off the device, from the node's clock.
            // The V4L2 buffer timestamp is not used: it is not the clock
            // this node runs on (which tests replace), drivers may leave it
            // zero, and its clock (CLOCK_MONOTONIC or not) is the driver's
            // choice. The frame is at most a frame interval or two old here
            // while this thread keeps up, since decoding is the only work
            // between dequeues.
            let at = (self.clock)();
            self.frames += 1;
            let frame_error = |message: String| CaptureError::Frame {
                source_name: self.source_name.clone(),
                message: format!("frame {}: {message}", self.frames),
            };
            if damaged {
                return Err(frame_error(
                    "the driver marked it damaged (V4L2_BUF_FLAG_ERROR)".into(),
                ));
            }
            let image = decode(&buffer, self.granted).map_err(frame_error)?;
            Ok(Some(Frame { image, at }))
        }

        fn is_live(&self) -> bool {
            true
        }

        fn describe(&self) -> String {
            let asked = if self.asked == self.granted {
                String::new()
            } else {
                format!(" (asked {})", self.asked)
            };
            format!(
                "{} '{}' {} {}{asked}",
                self.info.path.display(),
                self.info.name,
                self.info.driver,
                self.granted
            )
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn encoding(format: FrameFormat) -> Encoding {
            match format {
                FrameFormat::MJPEG => Encoding::Mjpeg,
                FrameFormat::YUYV => Encoding::Yuyv,
                FrameFormat::NV12 => Encoding::Nv12,
                FrameFormat::GRAY => Encoding::Gray,
                FrameFormat::RAWRGB => Encoding::Rgb24,
                FrameFormat::RAWBGR => Encoding::Bgr24,
            }
        }

        #[test]
        fn frame_rates_round_to_whole_frames() {
            assert_eq!(fps_of(v4l::Fraction::new(1, 30)), Some(30));
            assert_eq!(fps_of(v4l::Fraction::new(1001, 30000)), Some(30));
            assert_eq!(fps_of(v4l::Fraction::new(0, 30)), None);
            assert_eq!(fps_of(v4l::Fraction::new(1, 100_000)), None);
        }

        #[test]
        fn encodings_map_both_ways() {
            for e in Encoding::ALL {
                assert_eq!(encoding(frame_format(e)), e);
            }
        }

        fn granted(encoding: Encoding, width: u32, height: u32) -> Choice {
            Choice {
                encoding,
                width,
                height,
                fps: 30,
            }
        }

        fn buffer(encoding: Encoding, width: u32, height: u32, data: &[u8]) -> Buffer {
            Buffer::new(Resolution::new(width, height), data, frame_format(encoding))
        }

        fn jpeg_of(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
            let image = RgbImage::from_pixel(width, height, image::Rgb(colour));
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
                .encode_image(&image)
                .unwrap();
            out
        }

        #[test]
        fn mjpeg_frames_decode_to_rgb_through_mozjpeg() {
            let jpeg = jpeg_of(64, 48, [200, 30, 30]);
            // The mmap'd buffer is longer than the JPEG: the rest is stale.
            let mut data = jpeg.clone();
            data.resize(64 * 48 * 2, 0xAB);
            let image = decode(
                &buffer(Encoding::Mjpeg, 64, 48, &data),
                granted(Encoding::Mjpeg, 64, 48),
            )
            .unwrap();
            assert_eq!(image.dimensions(), (64, 48));
            let p = image.get_pixel(32, 24).0;
            assert!(p[0] > 170 && p[1] < 60 && p[2] < 60, "{p:?}");
        }

        #[test]
        fn a_jpeg_of_another_size_is_refused_before_decoding() {
            let jpeg = jpeg_of(64, 48, [0, 0, 0]);
            let err = decode(
                &buffer(Encoding::Mjpeg, 32, 24, &jpeg),
                granted(Encoding::Mjpeg, 32, 24),
            )
            .unwrap_err();
            assert_eq!(err, "a 64x48 JPEG in a 32x24 stream");
            let err = decode(
                &buffer(Encoding::Mjpeg, 32, 24, b"\0\0\0\0"),
                granted(Encoding::Mjpeg, 32, 24),
            )
            .unwrap_err();
            assert!(err.contains("not a JPEG"), "{err}");
        }

        #[test]
        fn a_corrupt_jpeg_is_an_error_not_a_panic() {
            let jpeg = jpeg_of(64, 48, [10, 200, 10]);
            // The header whole, the scan cut short and overwritten: what a
            // frame torn on USB looks like.
            let mut torn = jpeg[..jpeg.len() / 2].to_vec();
            torn.extend(std::iter::repeat_n(0xFF, 16));
            let mut garbage = jpeg.clone();
            let sos = garbage.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
            // Damage the Huffman tables and scan header after the frame header.
            for b in &mut garbage[sos + 2..sos + 12] {
                *b = 0xFF;
            }
            for data in [torn, garbage] {
                // An error or a damaged image, but no unwinding out of decode.
                let _ = decode(
                    &buffer(Encoding::Mjpeg, 64, 48, &data),
                    granted(Encoding::Mjpeg, 64, 48),
                );
            }
            let mut bad_tables = jpeg.clone();
            let dht = bad_tables
                .windows(2)
                .position(|w| w == [0xFF, 0xC4])
                .unwrap();
            bad_tables.truncate(dht + 4);
            let err = decode(
                &buffer(Encoding::Mjpeg, 64, 48, &bad_tables),
                granted(Encoding::Mjpeg, 64, 48),
            )
            .unwrap_err();
            // mozjpeg unwinds out of libjpeg with this message; `guarded` caught it.
            assert!(err.contains("Bogus Huffman table"), "{err}");
        }

        #[test]
        fn yuyv_frames_are_trimmed_to_their_size_and_short_ones_refused() {
            // Mid grey: Y 128, U and V neutral, then stale bytes past the frame.
            let mut data = [128u8, 128, 128, 128].repeat(4 * 2 / 2);
            data.extend([0u8; 64]);
            let image = decode(
                &buffer(Encoding::Yuyv, 4, 2, &data),
                granted(Encoding::Yuyv, 4, 2),
            )
            .unwrap();
            assert_eq!(image.dimensions(), (4, 2));
            assert_eq!(image.as_raw().len(), 4 * 2 * 3);
            let p = image.get_pixel(3, 1).0;
            assert!(p.iter().all(|c| (120..=136).contains(c)), "{p:?}");
            let err = decode(
                &buffer(Encoding::Yuyv, 4, 2, &data[..10]),
                granted(Encoding::Yuyv, 4, 2),
            )
            .unwrap_err();
            assert_eq!(err, "cut short: 10 bytes of 16 for 4x2 yuyv");
        }

        #[test]
        fn a_panic_in_nokhwa_is_an_error() {
            let r: Result<(), String> = guarded(|| std::panic::resume_unwind(Box::new("corrupt")));
            assert_eq!(r, Err("corrupt".to_string()));
        }

        #[test]
        fn a_device_that_sends_nothing_times_out_and_one_that_sends_is_read() {
            // A FIFO stands in for a stalled camera: v4l opens it as it
            // opens a device node, and polling it waits like a camera
            // that sends no frame.
            let dir = tempfile::tempdir().unwrap();
            let fifo = dir.path().join("video0");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            let device = v4l::Device::with_path(&fifo).unwrap();
            let handle = device.handle();
            let poll = |left: Duration| handle.poll(POLLIN, poll_ms(left)).map(|n| n > 0);
            let timeout = Duration::from_millis(150);
            let started = Instant::now();
            assert!(!wait_for_frame(timeout, Instant::now, poll).unwrap());
            let waited = started.elapsed();
            assert!(waited >= timeout, "{waited:?}");
            assert!(waited < Duration::from_secs(5), "{waited:?}");
            // Something to read: ready at once.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .and_then(|mut f| std::io::Write::write_all(&mut f, b"frame"))
                .unwrap();
            assert!(wait_for_frame(Duration::from_secs(5), Instant::now, poll).unwrap());
        }

        #[test]
        fn a_stall_reads_as_one_and_a_vanished_device_as_gone() {
            let timed_out = std::io::Error::new(std::io::ErrorKind::TimedOut, "VIDIOC_DQBUF");
            let here = std::env::temp_dir();
            assert_eq!(
                failure(&here, &timed_out, Duration::from_secs(2)),
                "no frame for 2 s; reopening"
            );
            let io = std::io::Error::from_raw_os_error(5);
            let err = failure(&here, &io, Duration::from_secs(2));
            assert!(err.starts_with("failed: "), "{err}");
            let gone = Path::new("/nonexistent/dev/video9");
            let err = failure(gone, &io, Duration::from_secs(2));
            assert!(err.starts_with("is gone (unplugged?): "), "{err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(index: u32, name: &str) -> CameraInfo {
        CameraInfo {
            index,
            name: name.into(),
            driver: "uvcvideo".into(),
            bus: String::new(),
            path: PathBuf::from(format!("/dev/video{index}")),
            modes: Vec::new(),
            other_formats: Vec::new(),
            problem: None,
        }
    }

    fn here() -> Vec<CameraInfo> {
        vec![
            camera(0, "HD Pro Webcam C920"),
            camera(2, "USB2.0 PC CAMERA"),
            camera(4, "HD Camera"),
            camera(6, "HD Camera 2"),
        ]
    }

    fn name(n: &str) -> DeviceId {
        DeviceId::Name(n.into())
    }

    #[test]
    fn selects_by_index_as_dev_video_n() {
        let cams = here();
        assert_eq!(select_camera(&cams, &DeviceId::Index(2)).unwrap().index, 2);
        let err = select_camera(&cams, &DeviceId::Index(1)).unwrap_err();
        assert!(err.contains("no camera at /dev/video1"), "{err}");
        assert!(
            err.contains("0 'HD Pro Webcam C920' (/dev/video0)"),
            "{err}"
        );
    }

    #[test]
    fn selects_by_part_of_the_name_in_any_case() {
        let cams = here();
        assert_eq!(select_camera(&cams, &name("c920")).unwrap().index, 0);
        assert_eq!(select_camera(&cams, &name("  usb2.0 ")).unwrap().index, 2);
        assert_eq!(select_camera(&cams, &name("/dev/video4")).unwrap().index, 4);
    }

    #[test]
    fn a_whole_name_wins_over_a_part() {
        let cams = here();
        assert_eq!(select_camera(&cams, &name("hd camera")).unwrap().index, 4);
        assert_eq!(select_camera(&cams, &name("HD Camera 2")).unwrap().index, 6);
    }

    #[test]
    fn an_ambiguous_name_is_refused_with_the_candidates() {
        let cams = here();
        let err = select_camera(&cams, &name("hd")).unwrap_err();
        assert!(err.contains("'hd' names 3 cameras"), "{err}");
        assert!(err.contains("4 'HD Camera' (/dev/video4)"), "{err}");
        assert!(!err.contains("USB2.0"), "{err}");
        // Two of the same model share a name: neither is taken.
        let twins = vec![camera(0, "HD Camera"), camera(2, "HD Camera")];
        let err = select_camera(&twins, &name("HD Camera")).unwrap_err();
        assert!(err.contains("names 2 cameras"), "{err}");
        assert!(err.contains("by-id"), "{err}");
    }

    #[test]
    fn an_absent_or_empty_name_lists_what_is_there() {
        let cams = here();
        let err = select_camera(&cams, &name("logitech brio")).unwrap_err();
        assert!(err.contains("no camera named 'logitech brio'"), "{err}");
        assert!(err.contains("2 'USB2.0 PC CAMERA' (/dev/video2)"), "{err}");
        let err = select_camera(&cams, &name(" ")).unwrap_err();
        assert!(err.contains("empty camera name"), "{err}");
        let err = select_camera(&[], &DeviceId::Index(0)).unwrap_err();
        assert!(err.contains("no cameras found on this machine"), "{err}");
    }

    fn mode(encoding: Encoding, width: u32, height: u32, fps: &[u32]) -> CameraMode {
        CameraMode {
            encoding,
            width,
            height,
            fps: fps.to_vec(),
        }
    }

    fn config(width: u32, height: u32, fps: u32, format: PixelFormat) -> DeviceConfig {
        DeviceConfig {
            device: DeviceId::Index(0),
            width,
            height,
            fps,
            format,
        }
    }

    fn choice(encoding: Encoding, width: u32, height: u32, fps: u32) -> Option<Choice> {
        Some(Choice {
            encoding,
            width,
            height,
            fps,
        })
    }

    /// What a common UVC webcam offers: MJPEG up to 1080p at 30, YUYV at
    /// full rate only up to 640x480.
    fn webcam() -> Vec<CameraMode> {
        vec![
            mode(Encoding::Mjpeg, 1920, 1080, &[30, 15]),
            mode(Encoding::Mjpeg, 1280, 720, &[60, 30]),
            mode(Encoding::Mjpeg, 640, 480, &[30]),
            mode(Encoding::Yuyv, 1920, 1080, &[5]),
            mode(Encoding::Yuyv, 1280, 720, &[10]),
            mode(Encoding::Yuyv, 640, 480, &[30]),
        ]
    }

    #[test]
    fn the_asked_mode_when_offered() {
        let modes = webcam();
        let c = config(1280, 720, 30, PixelFormat::Mjpeg);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Mjpeg, 1280, 720, 30)
        );
        let c = config(640, 480, 30, PixelFormat::Yuyv);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Yuyv, 640, 480, 30)
        );
    }

    #[test]
    fn size_first_then_encoding_then_rate() {
        let modes = webcam();
        // 1024x576 is nearest 1280x720; YUYV is offered there, at 10.
        let c = config(1024, 576, 30, PixelFormat::Yuyv);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Yuyv, 1280, 720, 10)
        );
        // 45 frames/s: 30 and 60 are as near; the higher is taken.
        let c = config(1280, 720, 45, PixelFormat::Mjpeg);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Mjpeg, 1280, 720, 60)
        );
        // Asked YUYV at a size only MJPEG has: MJPEG.
        let modes = vec![
            mode(Encoding::Mjpeg, 1920, 1080, &[30]),
            mode(Encoding::Yuyv, 640, 480, &[30]),
        ];
        let c = config(1920, 1080, 30, PixelFormat::Yuyv);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Mjpeg, 1920, 1080, 30)
        );
    }

    #[test]
    fn another_encoding_when_the_asked_one_is_not_offered() {
        let modes = vec![
            mode(Encoding::Gray, 1280, 720, &[30]),
            mode(Encoding::Nv12, 1280, 720, &[30]),
        ];
        let c = config(1280, 720, 30, PixelFormat::Mjpeg);
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Nv12, 1280, 720, 30)
        );
    }

    #[test]
    fn modes_out_of_bounds_are_never_chosen() {
        let modes = vec![
            mode(Encoding::Mjpeg, 16384, 16384, &[30]),
            mode(Encoding::Mjpeg, 0, 0, &[30]),
        ];
        let c = config(16384, 16384, 30, PixelFormat::Mjpeg);
        assert_eq!(choose_mode(&modes, &c), None);
        assert_eq!(choose_mode(&[], &c), None);
        // A driver that lists no rates is asked the configured one.
        let modes = vec![mode(Encoding::Yuyv, 8192, 8192, &[])];
        assert_eq!(
            choose_mode(&modes, &c),
            choice(Encoding::Yuyv, 8192, 8192, 30)
        );
    }

    #[test]
    fn fourccs_round_trip() {
        for e in Encoding::ALL {
            assert_eq!(Encoding::from_fourcc(e.fourcc()), Some(e));
        }
        assert_eq!(Encoding::from_fourcc(*b"H264"), None);
    }

    #[test]
    fn only_numbered_video_nodes_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "video10", "video2", "video", "videoX", "video0a", "vbi0", "media0",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let nodes = video_nodes_in(dir.path()).unwrap();
        let found: Vec<u32> = nodes.iter().map(|(n, _)| *n).collect();
        assert_eq!(found, [2, 10]);
        assert!(nodes[0].1.ends_with("video2"));
    }

    /// A JPEG's frame header, after an APP0 segment and fill bytes.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB]);
        b.extend([0xFF, 0xFF, 0xC0, 0x00, 0x0B, 0x08]);
        b.extend(height.to_be_bytes());
        b.extend(width.to_be_bytes());
        b.extend([0x01, 0x01, 0x11, 0x00]);
        b.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        b
    }

    #[test]
    fn a_jpeg_declares_its_size_in_its_frame_header() {
        assert_eq!(jpeg_size(&jpeg(1280, 720)), Some((1280, 720)));
        assert_eq!(jpeg_size(&jpeg(65535, 65535)), Some((65535, 65535)));
        // A real encoder's output.
        let image = image::RgbImage::new(33, 17);
        let mut encoded = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut encoded)
            .encode_image(&image)
            .unwrap();
        assert_eq!(jpeg_size(&encoded), Some((33, 17)));
    }

    #[test]
    fn damaged_jpegs_have_no_size() {
        // Cut anywhere before the frame header's width ends: no size.
        let whole = jpeg(1280, 720);
        for cut in 0..whole.len() {
            let expected = (cut >= 18).then_some((1280, 720));
            assert_eq!(jpeg_size(&whole[..cut]), expected, "cut at {cut}");
        }
        assert_eq!(jpeg_size(b"not a jpeg"), None);
        // A scan before any frame header.
        assert_eq!(jpeg_size(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]), None);
        // A segment length under 2 would not move on.
        assert_eq!(jpeg_size(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]), None);
    }

    #[test]
    fn the_stall_timeout_is_five_frames_or_two_seconds_whichever_is_longer() {
        let secs = |n, d| stall_timeout(n, d).as_secs();
        assert_eq!(secs(1, 30), 2);
        assert_eq!(secs(1001, 30000), 2);
        assert_eq!(secs(1, 3), 2);
        // 5 × 2/3 s, rounded up.
        assert_eq!(secs(2, 3), 4);
        assert_eq!(secs(1, 1), 5);
        assert_eq!(secs(2, 1), 10);
        // Bounded whatever the driver claims, and an unset interval waits
        // the least.
        assert_eq!(secs(1000, 1), 60);
        assert_eq!(secs(u32::MAX, 1), 60);
        assert_eq!(secs(0, 30), 2);
        assert_eq!(secs(30, 0), 2);
        assert_eq!(stalled(stall_timeout(1, 1)), "no frame for 5 s; reopening");
        assert!(FIRST_FRAME_MIN >= STALL_MIN && FIRST_FRAME_MIN <= STALL_MAX);
    }

    #[test]
    fn poll_waits_round_up_to_whole_milliseconds() {
        assert_eq!(poll_ms(Duration::ZERO), 0);
        assert_eq!(poll_ms(Duration::from_nanos(1)), 1);
        assert_eq!(poll_ms(Duration::from_millis(2000)), 2000);
        assert_eq!(poll_ms(Duration::from_micros(2_000_001)), 2001);
        assert_eq!(poll_ms(Duration::from_secs(u64::MAX)), i32::MAX);
    }

    /// A clock the fake polls move on.
    struct FakeClock(std::cell::Cell<Instant>);

    impl FakeClock {
        fn new() -> FakeClock {
            FakeClock(std::cell::Cell::new(Instant::now()))
        }
        fn now(&self) -> Instant {
            self.0.get()
        }
        fn pass(&self, d: Duration) {
            self.0.set(self.0.get() + d);
        }
    }

    fn interrupted() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::Interrupted)
    }

    #[test]
    fn a_frame_that_is_ready_ends_the_wait() {
        let clock = FakeClock::new();
        let mut given = Vec::new();
        let ready = wait_for_frame(
            Duration::from_secs(2),
            || clock.now(),
            |left| {
                given.push(left);
                clock.pass(Duration::from_millis(30));
                Ok(true)
            },
        );
        assert!(ready.unwrap());
        assert_eq!(given, [Duration::from_secs(2)]);
    }

    #[test]
    fn a_camera_that_sends_nothing_times_out() {
        let clock = FakeClock::new();
        let mut polls = 0;
        let ready = wait_for_frame(
            Duration::from_secs(2),
            || clock.now(),
            |left| {
                polls += 1;
                // A poll that blocks for all it is given, then times out.
                clock.pass(left);
                Ok(false)
            },
        );
        assert!(!ready.unwrap());
        assert_eq!(polls, 1);
    }

    #[test]
    fn a_signal_does_not_restart_or_end_the_wait() {
        let clock = FakeClock::new();
        let start = clock.now();
        let mut given = Vec::new();
        let ready = wait_for_frame(
            Duration::from_secs(2),
            || clock.now(),
            |left| {
                given.push(left);
                if given.len() <= 2 {
                    clock.pass(Duration::from_millis(700));
                    Err(interrupted())
                } else {
                    clock.pass(left);
                    Ok(false)
                }
            },
        );
        assert!(!ready.unwrap());
        // Each poll is given what is left of the one deadline.
        assert_eq!(
            given,
            [
                Duration::from_millis(2000),
                Duration::from_millis(1300),
                Duration::from_millis(600)
            ]
        );
        assert_eq!(clock.now() - start, Duration::from_secs(2));
        // Signals until past the deadline: no frame, and no poll after it.
        let mut polls = 0;
        let ready = wait_for_frame(
            Duration::from_secs(2),
            || clock.now(),
            |_| {
                polls += 1;
                clock.pass(Duration::from_millis(900));
                Err(interrupted())
            },
        );
        assert!(!ready.unwrap());
        assert_eq!(polls, 3);
    }

    #[test]
    fn a_failed_poll_is_an_error() {
        let clock = FakeClock::new();
        let err = wait_for_frame(
            Duration::from_secs(2),
            || clock.now(),
            |_| Err(std::io::Error::from_raw_os_error(19)),
        )
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(19));
    }
}
