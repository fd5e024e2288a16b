//! Frames from files: `recognize` on images, `replay` of a folder of frames
//! through recognition and tracking into stored reads.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use alpr_protocol::{Capture, PlateText, Region, Timestamp};
use anyhow::{Context, Result};
use image::RgbImage;
use serde::Serialize;

use crate::recognize::{PlateRead, Recognizer};
use crate::track::{TrackConfig, TrackedRead, Tracker};

#[derive(Debug, Serialize)]
struct PlateJson<'a> {
    text: &'a str,
    confidence: f32,
    region: Option<&'a str>,
    region_confidence: Option<f32>,
    #[serde(rename = "box")]
    bbox: [u32; 4],
    candidates: Vec<CandidateJson<'a>>,
}

#[derive(Debug, Serialize)]
struct CandidateJson<'a> {
    text: &'a str,
    confidence: f32,
}

#[derive(Debug, Serialize)]
struct ImageJson<'a> {
    file: String,
    /// Recognition time on the decoded frame.
    ms: f64,
    /// Time to read and decode the file.
    decode_ms: f64,
    plates: Vec<PlateJson<'a>>,
}

fn plate_json(p: &PlateRead) -> PlateJson<'_> {
    PlateJson {
        text: &p.text,
        confidence: round3(p.confidence),
        region: p.region.as_ref().map(|(r, _)| r.as_str()),
        region_confidence: p.region.as_ref().map(|(_, c)| round3(*c)),
        bbox: p.bbox,
        candidates: p
            .candidates
            .iter()
            .map(|c| CandidateJson {
                text: &c.text,
                confidence: round3(c.confidence),
            })
            .collect(),
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// Decodes an image file into RGB, naming the file on failure.
pub fn load_frame(path: &Path) -> Result<image::RgbImage> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("{}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("{}", path.display()))?
        .decode()
        .with_context(|| format!("{}: not a PNG or JPEG image it can decode", path.display()))?;
    Ok(img.into_rgb8())
}

/// `alpr-node recognize`: one line per image, JSON or for people.
pub fn recognize_files(images: &[PathBuf], json: bool) -> Result<()> {
    let recognizer = Recognizer::shipped()?;
    let mut out = std::io::stdout().lock();
    for path in images {
        let t0 = Instant::now();
        let frame = load_frame(path)?;
        let t1 = Instant::now();
        let plates = recognizer.recognize(&frame)?;
        let ms = t1.elapsed().as_secs_f64() * 1000.0;
        let decode_ms = (t1 - t0).as_secs_f64() * 1000.0;
        if json {
            let line = ImageJson {
                file: path.display().to_string(),
                ms: (ms * 100.0).round() / 100.0,
                decode_ms: (decode_ms * 100.0).round() / 100.0,
                plates: plates.iter().map(plate_json).collect(),
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        } else if plates.is_empty() {
            writeln!(out, "{}: no plate ({ms:.1} ms)", path.display())?;
        } else {
            for p in &plates {
                let region = p
                    .region
                    .as_ref()
                    .map(|(r, c)| format!(" {r} {:.0}%", c * 100.0))
                    .unwrap_or_default();
                let others: Vec<&str> = p
                    .candidates
                    .iter()
                    .skip(1)
                    .map(|c| c.text.as_str())
                    .collect();
                writeln!(
                    out,
                    "{}: {} {:.0}%{region} at {:?} ({ms:.1} ms){}",
                    path.display(),
                    p.text,
                    p.confidence * 100.0,
                    p.bbox,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" or {}", others.join(", "))
                    }
                )?;
            }
        }
    }
    Ok(())
}

/// Frame files in a folder (PNG or JPEG), in name order: the capture order.
pub fn frame_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).with_context(|| format!("{}", folder.display()))? {
        let path = entry
            .with_context(|| format!("{}", folder.display()))?
            .path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        anyhow::bail!("{}: no PNG or JPEG frames", folder.display());
    }
    Ok(files)
}

/// How a folder of frames maps to capture times and a camera.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Capture time of the first frame.
    pub start: Timestamp,
    pub fps: f64,
    pub camera: String,
}

/// What a replay saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplayStats {
    pub frames: usize,
    pub sightings: usize,
    pub reads: usize,
    pub recognize_ms: f64,
}

/// A frame kept by the tracker for the read it may become.
type Shot = Arc<RgbImage>;

/// Plate crops are stored with this margin around the plate, so a reviewer
/// sees the plate's edges.
const CROP_MARGIN: f32 = 0.15;
/// Overview frames are stored at most this wide (a 1280x720 frame as 640x360).
const OVERVIEW_WIDTH: u32 = 640;

/// Runs the frames through recognition and tracking; each finished read is
/// handed to `on_read` as a capture ready to seal, in the order vehicles left.
pub fn replay(
    files: &[PathBuf],
    options: &ReplayOptions,
    progress: &indicatif::ProgressBar,
    mut on_read: impl FnMut(Timestamp, Capture) -> Result<()>,
) -> Result<ReplayStats> {
    if !(options.fps > 0.0 && options.fps <= 1000.0) {
        anyhow::bail!("--fps {} must be above 0 and at most 1000", options.fps);
    }
    let recognizer = Recognizer::shipped()?;
    let mut tracker: Tracker<Shot> = Tracker::new(TrackConfig::default());
    let mut stats = ReplayStats::default();
    let mut emit = |read: TrackedRead<Shot>, stats: &mut ReplayStats| -> Result<()> {
        stats.reads += 1;
        let capture = capture_of(&read, &options.camera)?;
        on_read(read.at, capture)
    };
    for (i, path) in files.iter().enumerate() {
        let at = Timestamp(options.start.0 + (i as f64 * 1000.0 / options.fps).round() as i64);
        let frame = Arc::new(load_frame(path)?);
        let t = Instant::now();
        let plates = recognizer.recognize(&frame)?;
        stats.recognize_ms += t.elapsed().as_secs_f64() * 1000.0;
        stats.frames += 1;
        stats.sightings += plates.len();
        let sightings = plates.into_iter().map(|p| (p, frame.clone())).collect();
        for read in tracker.observe(at, sightings) {
            emit(read, &mut stats)?;
        }
        progress.inc(1);
    }
    for read in tracker.finish() {
        emit(read, &mut stats)?;
    }
    Ok(stats)
}

/// The read as the store takes it: text, confidences, region, the plate crop
/// and a reduced overview of the best frame, both JPEG.
fn capture_of(read: &TrackedRead<Shot>, camera: &str) -> Result<Capture> {
    let frame = &read.best;
    let [x, y, w, h] = read.best_bbox;
    let mx = (w as f32 * CROP_MARGIN) as u32;
    let my = (h as f32 * CROP_MARGIN) as u32;
    let x0 = x.saturating_sub(mx);
    let y0 = y.saturating_sub(my);
    let x1 = (x + w + mx).min(frame.width());
    let y1 = (y + h + my).min(frame.height());
    let crop = image::imageops::crop_imm(&**frame, x0, y0, x1 - x0, y1 - y0).to_image();
    let overview = if frame.width() > OVERVIEW_WIDTH {
        let oh = (frame.height() as u64 * OVERVIEW_WIDTH as u64 / frame.width() as u64) as u32;
        image::imageops::resize(
            &**frame,
            OVERVIEW_WIDTH,
            oh.max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        (**frame).clone()
    };
    Ok(Capture {
        plate: PlateText::parse(&read.text)?,
        region: read.region.as_ref().map(|(code, confidence)| Region {
            code: code.clone(),
            confidence: *confidence,
        }),
        confidence: read.confidence,
        char_confidences: read.char_confidences.clone(),
        camera: camera.to_string(),
        location: None,
        crop_jpeg: jpeg(&crop, 90)?,
        overview_jpeg: Some(jpeg(&overview, 80)?),
    })
}

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(img)?;
    Ok(out)
}
