//! Frames from files: decoding image files, and `replay` of a folder of
//! frames through recognition and tracking into captures ready to store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alpr_protocol::{Capture, Fix, Location, PlateError, PlateText, Region, Timestamp};
use image::RgbImage;

use crate::recognize::{RecognizeError, Recognizer};
use crate::track::{TrackConfig, TrackedRead, Tracker};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {source}")]
    Frame {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("{folder}: {source}")]
    Folder {
        folder: PathBuf,
        source: std::io::Error,
    },
    #[error("{folder}: no PNG or JPEG frames")]
    NoFrames { folder: PathBuf },
    #[error("--fps {0} must be from 0.001 (a frame each 1000 s) to 1000")]
    Fps(f64),
    #[error(transparent)]
    Recognize(#[from] RecognizeError),
    #[error("read '{text}': {source}")]
    Plate { text: String, source: PlateError },
    #[error("encoding a JPEG: {0}")]
    Jpeg(image::ImageError),
}

/// Decodes an image file into RGB, naming the file on failure.
pub fn load_frame(path: &Path) -> Result<RgbImage, ReplayError> {
    let frame_err = |source| ReplayError::Frame {
        path: path.to_path_buf(),
        source,
    };
    let img = image::ImageReader::open(path)
        .map_err(|e| frame_err(image::ImageError::IoError(e)))?
        .with_guessed_format()
        .map_err(|e| frame_err(image::ImageError::IoError(e)))?
        .decode()
        .map_err(frame_err)?;
    Ok(img.into_rgb8())
}

/// Frame files in a folder (PNG or JPEG), in natural name order (`img9`
/// before `img10`, as cameras number them): the capture order.
pub fn frame_files(folder: &Path) -> Result<Vec<PathBuf>, ReplayError> {
    let folder_err = |source| ReplayError::Folder {
        folder: folder.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(folder_err)? {
        let path = entry.map_err(folder_err)?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
            files.push(path);
        }
    }
    files.sort_by(|a, b| natural_order(&a.to_string_lossy(), &b.to_string_lossy()));
    if files.is_empty() {
        return Err(ReplayError::NoFrames {
            folder: folder.to_path_buf(),
        });
    }
    Ok(files)
}

/// Compares names with runs of digits taken as numbers: `f9 < f10 < f010b`.
/// Equal numbers with more leading zeros sort after, so the order is total.
pub fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (&a[..da], &b[..db]);
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                let order = by_value.then_with(|| na.len().cmp(&nb.len()));
                if order != Ordering::Equal {
                    return order;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

/// How a folder of frames maps to capture times and a camera.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Capture time of the first frame.
    pub start: Timestamp,
    pub fps: f64,
    pub camera: String,
    /// Where a fixed camera stands, stored with every read.
    pub location: Option<alpr_protocol::record::Location>,
}

/// What a replay saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplayStats {
    pub frames: usize,
    pub sightings: usize,
    pub reads: usize,
}

/// Work done, as it is done: the driver keeps progress and timing (a bar,
/// a clock), the pipeline neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEvent {
    /// Frame `index` is decoded; recognition starts.
    Decoded { index: usize },
    /// Frame `index` is recognized, with this many plate sightings.
    Recognized { index: usize, sightings: usize },
}

/// A frame kept by the tracker for the read it may become.
pub type Shot = Arc<RgbImage>;

/// Plate crops are stored with this margin around the plate, so a reviewer
/// sees the plate's edges.
const CROP_MARGIN: f32 = 0.15;
/// Overview frames are stored at most this wide (a 1280x720 frame as 640x360).
const OVERVIEW_WIDTH: u32 = 640;

/// Runs the frames through recognition and tracking; each finished read is
/// handed to `on_read` as a capture ready to seal, in the order vehicles
/// left. The first error, the replay's or `on_read`'s, ends it.
pub fn replay<E: From<ReplayError>>(
    files: &[PathBuf],
    options: &ReplayOptions,
    mut on_frame: impl FnMut(FrameEvent),
    mut on_read: impl FnMut(Timestamp, Capture) -> Result<(), E>,
) -> Result<ReplayStats, E> {
    if !(0.001..=1000.0).contains(&options.fps) {
        return Err(ReplayError::Fps(options.fps).into());
    }
    let recognizer = Recognizer::shipped().map_err(ReplayError::from)?;
    let mut tracker: Tracker<Shot> = Tracker::new(TrackConfig::default());
    let mut stats = ReplayStats::default();
    let mut emit = |read: TrackedRead<Shot>, stats: &mut ReplayStats| -> Result<(), E> {
        stats.reads += 1;
        let capture = capture_of(&read, &options.camera, options.location, Fix::Unknown)?;
        on_read(read.at, capture)
    };
    for (i, path) in files.iter().enumerate() {
        // Saturating: a start near the end of time stays a time.
        let at = options
            .start
            .saturating_add_millis((i as f64 * 1000.0 / options.fps).round() as i64);
        let frame = Arc::new(load_frame(path)?);
        on_frame(FrameEvent::Decoded { index: i });
        let plates = recognizer.recognize(&frame).map_err(ReplayError::from)?;
        on_frame(FrameEvent::Recognized {
            index: i,
            sightings: plates.len(),
        });
        stats.frames += 1;
        stats.sightings += plates.len();
        let sightings = plates.into_iter().map(|p| (p, frame.clone())).collect();
        for read in tracker.observe(at, sightings) {
            emit(read, &mut stats)?;
        }
    }
    for read in tracker.finish() {
        emit(read, &mut stats)?;
    }
    Ok(stats)
}

/// The read as the store takes it: text, confidences, region, the plate crop
/// and a reduced overview of the best frame, both JPEG, and where it was taken.
pub fn capture_of(
    read: &TrackedRead<Shot>,
    camera: &str,
    location: Option<Location>,
    fix: Fix,
) -> Result<Capture, ReplayError> {
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
        plate: PlateText::parse(&read.text).map_err(|source| ReplayError::Plate {
            text: read.text.clone(),
            source,
        })?,
        region: read.region.as_ref().map(|(code, confidence)| Region {
            code: code.clone(),
            confidence: *confidence,
        }),
        confidence: read.confidence,
        char_confidences: read.char_confidences.clone(),
        camera: camera.to_string(),
        location,
        fix,
        crop_jpeg: jpeg(&crop, 90)?,
        overview_jpeg: Some(jpeg(&overview, 80)?),
        // The runner-up readings, for hotlist matching (the best is the plate).
        candidates: read
            .candidates
            .iter()
            .filter(|c| c.text != read.text)
            .filter_map(|c| PlateText::parse(&c.text).ok())
            .filter(|p| p.as_str().len() <= 10)
            .take(alpr_protocol::record::CANDIDATES_MAX)
            .map(|p| p.as_str().to_string())
            .collect(),
    })
}

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, ReplayError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(ReplayError::Jpeg)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_sort_as_cameras_number_them() {
        let mut names = vec![
            "img10.png",
            "img9.png",
            "img010.png",
            "img1.png",
            "b.png",
            "a2.png",
        ];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            names,
            [
                "a2.png",
                "b.png",
                "img1.png",
                "img9.png",
                "img10.png",
                "img010.png"
            ]
        );
        assert_eq!(natural_order("x", "x"), std::cmp::Ordering::Equal);
        assert_eq!(natural_order("é2", "é10"), std::cmp::Ordering::Less);
    }
}
