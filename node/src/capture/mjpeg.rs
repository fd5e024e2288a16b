//! Concatenated JPEGs (MJPEG as many IP cameras and `ffmpeg -f mjpeg`
//! write it): a sans-IO splitter that finds each whole JPEG in a byte
//! stream by walking its markers, and the source that reads a file, a FIFO
//! or standard input through it.
//!
//! The splitter walks segment lengths rather than searching for the end
//! marker, because an embedded EXIF thumbnail carries its own end marker;
//! inside entropy-coded data only a 0xFF followed by a byte that is not 0x00
//! or a restart marker ends the scan. Bytes between frames (a multipart
//! boundary, garbage) are skipped and counted.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alpr_protocol::Timestamp;

use super::{CaptureError, Frame, FrameSource};

/// Largest JPEG taken from a stream: a larger one is skipped whole.
pub const FRAME_BYTES_MAX: usize = 16 * 1024 * 1024;

/// What the splitter has found so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SplitStats {
    pub frames: u64,
    /// Bytes outside any JPEG (boundaries, garbage), skipped.
    pub skipped_bytes: u64,
    /// JPEGs over [`FRAME_BYTES_MAX`], skipped.
    pub skipped_frames: u64,
}

/// Splits a byte stream into JPEGs. Feed it with [`Splitter::push`]; take
/// whole frames with [`Splitter::next_frame`]. Memory is bounded by
/// [`FRAME_BYTES_MAX`] plus one pushed chunk.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    /// Where the walk of the frame at the start of `buf` has got to.
    at: usize,
    /// Inside entropy-coded data (after a start-of-scan header).
    in_scan: bool,
    pub stats: SplitStats,
}

impl Splitter {
    pub fn new() -> Splitter {
        Splitter::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole JPEG, if the bytes pushed so far hold one.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.at == 0 && !self.sync_to_start() {
                return None;
            }
            match self.walk() {
                Walk::Frame(end) => {
                    let frame: Vec<u8> = self.buf.drain(..end).collect();
                    self.reset_walk();
                    self.stats.frames += 1;
                    return Some(frame);
                }
                Walk::NeedMore => {
                    if self.buf.len() > FRAME_BYTES_MAX {
                        // Too big to keep: drop what is held; the rest of
                        // the frame is skipped as bytes before the next start.
                        self.stats.skipped_bytes += self.buf.len() as u64;
                        self.buf.clear();
                        self.reset_walk();
                        self.stats.skipped_frames += 1;
                    }
                    return None;
                }
                Walk::Broken => {
                    // Not a JPEG after all: skip its start marker and look again.
                    self.buf.drain(..2);
                    self.stats.skipped_bytes += 2;
                    self.reset_walk();
                }
            }
        }
    }

    /// Bytes held and not yet a frame (at the end of a stream, a torn frame).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    fn reset_walk(&mut self) {
        self.at = 0;
        self.in_scan = false;
    }

    /// Drops bytes before the next start-of-image marker (FF D8 FF); true
    /// when `buf` now starts with one.
    fn sync_to_start(&mut self) -> bool {
        let found = self.buf.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF]);
        match found {
            Some(i) => {
                self.buf.drain(..i);
                self.stats.skipped_bytes += i as u64;
                self.at = 2;
                true
            }
            None => {
                // Keep the last two bytes: a marker may be cut between pushes.
                let keep = self.buf.len().min(2);
                let drop = self.buf.len() - keep;
                self.buf.drain(..drop);
                self.stats.skipped_bytes += drop as u64;
                false
            }
        }
    }

    /// Walks markers from `at`; total over any bytes.
    fn walk(&mut self) -> Walk {
        let b = &self.buf;
        loop {
            if self.in_scan {
                // Entropy-coded data: FF 00 is a data byte, FF D0..D7 a restart.
                loop {
                    let Some(&x) = b.get(self.at) else {
                        return Walk::NeedMore;
                    };
                    if x != 0xFF {
                        self.at += 1;
                        continue;
                    }
                    let Some(&y) = b.get(self.at + 1) else {
                        return Walk::NeedMore;
                    };
                    if y == 0x00 || (0xD0..=0xD7).contains(&y) || y == 0xFF {
                        self.at += if y == 0xFF { 1 } else { 2 };
                        continue;
                    }
                    self.in_scan = false;
                    break;
                }
            }
            let (Some(&ff), Some(&marker)) = (b.get(self.at), b.get(self.at + 1)) else {
                return Walk::NeedMore;
            };
            if ff != 0xFF {
                return Walk::Broken;
            }
            match marker {
                // Fill bytes before a marker.
                0xFF => self.at += 1,
                0xD9 => return Walk::Frame(self.at + 2),
                // Markers without a length.
                0x01 | 0xD0..=0xD7 => self.at += 2,
                // A second start of image before the end: the first was torn.
                0xD8 => return Walk::Broken,
                0x00 => return Walk::Broken,
                _ => {
                    let (Some(&hi), Some(&lo)) = (b.get(self.at + 2), b.get(self.at + 3)) else {
                        return Walk::NeedMore;
                    };
                    let len = u16::from_be_bytes([hi, lo]) as usize;
                    if len < 2 {
                        return Walk::Broken;
                    }
                    self.at += 2 + len;
                    if marker == 0xDA {
                        self.in_scan = true;
                    }
                }
            }
        }
    }
}

enum Walk {
    /// A whole JPEG ends before this index.
    Frame(usize),
    NeedMore,
    Broken,
}

/// An MJPEG file, FIFO or standard input as a frame source.
pub struct MjpegSource {
    name: String,
    path: PathBuf,
    input: Box<dyn Read + Send>,
    splitter: Splitter,
    live: bool,
    pace: Option<Duration>,
    next_due: Option<Instant>,
    clock: fn() -> Timestamp,
    ended: bool,
}

impl std::fmt::Debug for MjpegSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MjpegSource")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

/// Bytes read from the stream at a time.
const CHUNK: usize = 64 * 1024;

impl MjpegSource {
    /// Opens `path` (`-`: standard input). A FIFO or stdin blocks here
    /// until a writer opens it, which is what a camera pipe does.
    pub fn open(
        camera: &str,
        path: &Path,
        rate: Option<f64>,
        clock: fn() -> Timestamp,
    ) -> Result<MjpegSource, CaptureError> {
        let err = |message: String| CaptureError::Source {
            source_name: format!("camera '{camera}' ({})", path.display()),
            message,
        };
        let (input, stream): (Box<dyn Read + Send>, bool) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), true)
        } else {
            use std::os::unix::fs::FileTypeExt;
            let kind = std::fs::metadata(path)
                .map_err(|e| err(e.to_string()))?
                .file_type();
            let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
            (
                Box::new(file),
                kind.is_fifo() || kind.is_socket() || kind.is_char_device(),
            )
        };
        Ok(MjpegSource {
            name: camera.to_string(),
            path: path.to_path_buf(),
            input,
            splitter: Splitter::new(),
            live: stream || rate.is_some(),
            pace: rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next_due: None,
            clock,
            ended: false,
        })
    }

    /// The next JPEG's bytes, reading as needed; `None` at the end.
    fn next_jpeg(&mut self) -> Result<Option<Vec<u8>>, CaptureError> {
        let mut chunk = vec![0u8; CHUNK];
        loop {
            if let Some(frame) = self.splitter.next_frame() {
                return Ok(Some(frame));
            }
            if self.ended {
                return Ok(None);
            }
            match self.input.read(&mut chunk) {
                Ok(0) => {
                    self.ended = true;
                    if self.splitter.pending() > 2 {
                        tracing::warn!(
                            camera = %self.name,
                            bytes = self.splitter.pending(),
                            "the stream ended inside a frame; its bytes are dropped"
                        );
                    }
                }
                Ok(n) => self.splitter.push(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CaptureError::Source {
                        source_name: format!("camera '{}' ({})", self.name, self.path.display()),
                        message: e.to_string(),
                    });
                }
            }
        }
    }
}

impl FrameSource for MjpegSource {
    fn next(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(jpeg) = self.next_jpeg()? else {
            return Ok(None);
        };
        if let Some(pace) = self.pace {
            super::files::wait_until(&mut self.next_due, pace);
        }
        let at = (self.clock)();
        let image =
            image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).map_err(|e| {
                CaptureError::Frame {
                    source_name: format!("camera '{}'", self.name),
                    message: format!(
                        "frame {} of {}: {e}",
                        self.splitter.stats.frames,
                        self.path.display()
                    ),
                }
            })?;
        Ok(Some(Frame {
            image: image.into_rgb8(),
            at,
        }))
    }

    fn is_live(&self) -> bool {
        self.live
    }

    fn describe(&self) -> String {
        let rate = match self.pace {
            Some(p) => format!("{:.1} frames/s", 1.0 / p.as_secs_f64()),
            None => "as it comes".into(),
        };
        let path = if self.path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            self.path.display().to_string()
        };
        format!("MJPEG from {path}, {rate}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32, shade: u8) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([shade, 100, 50]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&img)
            .unwrap_or_else(|e| panic!("{e}"));
        out
    }

    fn split_all(bytes: &[u8], chunk: usize) -> (Vec<Vec<u8>>, SplitStats) {
        let mut s = Splitter::new();
        let mut frames = Vec::new();
        for part in bytes.chunks(chunk.max(1)) {
            s.push(part);
            while let Some(f) = s.next_frame() {
                frames.push(f);
            }
        }
        (frames, s.stats)
    }

    #[test]
    fn concatenated_jpegs_split_whole_at_any_chunk_size() {
        let frames = [jpeg(64, 48, 10), jpeg(32, 32, 200), jpeg(100, 20, 90)];
        let stream: Vec<u8> = frames.concat();
        for chunk in [1, 2, 3, 7, 100, 4096, stream.len()] {
            let (got, stats) = split_all(&stream, chunk);
            assert_eq!(got, frames, "chunk {chunk}");
            assert_eq!(stats.skipped_bytes, 0);
        }
    }

    #[test]
    fn boundaries_and_garbage_between_frames_are_skipped() {
        let a = jpeg(16, 16, 1);
        let b = jpeg(16, 16, 2);
        let mut stream = b"--boundary\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
        stream.extend_from_slice(&a);
        stream.extend_from_slice(b"\r\n--boundary\r\n\r\n\xFF\xD8\x00junk");
        stream.extend_from_slice(&b);
        let (got, stats) = split_all(&stream, 5);
        assert_eq!(got, vec![a, b]);
        assert!(stats.skipped_bytes > 40);
    }

    #[test]
    fn an_embedded_thumbnail_does_not_end_the_frame() {
        let thumb = jpeg(8, 8, 3);
        let main = jpeg(32, 32, 4);
        // An APP1 segment carrying a whole JPEG, as EXIF thumbnails are.
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((thumb.len() + 2) as u16).to_be_bytes());
        app1.extend_from_slice(&thumb);
        let mut framed = main[..2].to_vec();
        framed.extend_from_slice(&app1);
        framed.extend_from_slice(&main[2..]);
        let mut stream = framed.clone();
        stream.extend_from_slice(&main);
        let (got, _) = split_all(&stream, 64);
        assert_eq!(got, vec![framed.clone(), main]);
        assert!(image::load_from_memory(&got[0]).is_ok());
    }

    #[test]
    fn any_bytes_split_without_panic_and_memory_stays_bounded() {
        let mut s = Splitter::new();
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let chunk: Vec<u8> = (0..997)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    // Many FF and D8/D9/DA bytes, so markers are common.
                    match (x >> 16) % 8 {
                        0 => 0xFF,
                        1 => 0xD8,
                        2 => 0xDA,
                        3 => 0xD9,
                        _ => (x >> 8) as u8,
                    }
                })
                .collect();
            s.push(&chunk);
            while s.next_frame().is_some() {}
            assert!(s.pending() <= FRAME_BYTES_MAX + 2 * 997);
        }
    }
}
