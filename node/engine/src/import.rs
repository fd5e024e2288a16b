//! Imports reads made elsewhere (fixed-site cameras that recognize on board) from JSON lines.
//!
//! One read per line:
//! `{"plate":"7ABC123","time":"2026-11-28T10:15:00Z","camera":"gate-2",
//!   "confidence":0.93,"region":"CA","region_confidence":0.8,
//!   "lat":37.77,"lon":-122.42,"crop":"crops/0001.jpg"}`.
//! `crop` is a JPEG path relative to the file. Every line is parsed and
//! checked before anything is stored, so a bad file stores nothing.

use std::path::{Path, PathBuf};

use alpr_protocol::{Capture, Location, PlateText, Region, Timestamp};
use serde::Deserialize;

pub use alpr_protocol::record::CROP_BYTES_MAX;

/// Largest import file: about a million reads' lines.
pub const FILE_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// Longest line: one read's fields (its crop is a path, not bytes).
pub const LINE_BYTES_MAX: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    plate: String,
    time: String,
    #[serde(default = "default_camera")]
    camera: String,
    #[serde(default = "one")]
    confidence: f32,
    #[serde(default)]
    char_confidences: Vec<f32>,
    region: Option<String>,
    region_confidence: Option<f32>,
    lat: Option<f64>,
    lon: Option<f64>,
    accuracy_m: Option<f32>,
    crop: Option<PathBuf>,
}

fn default_camera() -> String {
    "import".into()
}

fn one() -> f32 {
    1.0
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Parses a whole file into reads in file order; `check` vets each read's
/// capture time (the node's certificate window) so errors name the line.
pub fn parse_file(
    path: &Path,
    check: impl Fn(Timestamp) -> Result<(), String>,
) -> Result<Vec<(Timestamp, Capture)>, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A pipe, a device or /dev/zero would hang or fill memory: only a
    // regular file, and at most FILE_BYTES_MAX of it.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a pipe, device or directory); give a JSON-lines file",
        )));
    }
    if meta.len() > FILE_BYTES_MAX {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} bytes, over the {FILE_BYTES_MAX}-byte limit of one import file; split it",
                meta.len()
            ),
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let err = |reason: String| ImportError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        if raw.len() > LINE_BYTES_MAX {
            return Err(err(format!(
                "{} bytes, over the {LINE_BYTES_MAX}-byte limit of one read",
                raw.len()
            )));
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| err(e.to_string()))?;
        let (at, body) = parse_line(line, base).map_err(err)?;
        check(at).map_err(err)?;
        // Every limit sealing would enforce, checked here, so a bad line
        // stores nothing and is named by its line, not its batch.
        body.check().map_err(err)?;
        out.push((at, body));
    }
    Ok(out)
}

fn parse_line(line: Line, base: &Path) -> Result<(Timestamp, Capture), String> {
    let plate = PlateText::parse(&line.plate).map_err(|e| e.to_string())?;
    let time: jiff::Timestamp = line.time.parse().map_err(|e| {
        format!(
            "time '{}': {e} (use RFC 3339, e.g. 2026-11-28T10:15:00Z)",
            line.time
        )
    })?;
    let unit = |name: &str, v: f32| {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{name} {v} is outside 0..1"))
        }
    };
    let confidence = unit("confidence", line.confidence)?;
    for c in &line.char_confidences {
        unit("char confidence", *c)?;
    }
    if !line.char_confidences.is_empty() && line.char_confidences.len() != plate.as_str().len() {
        return Err(format!(
            "{} char confidences for a {}-character plate",
            line.char_confidences.len(),
            plate.as_str().len()
        ));
    }
    let region = match line.region {
        Some(code) => Some(Region {
            code,
            confidence: unit("region confidence", line.region_confidence.unwrap_or(1.0))?,
        }),
        None => None,
    };
    let location = match (line.lat, line.lon) {
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some(Location {
                lat,
                lon,
                accuracy_m: line.accuracy_m.unwrap_or(0.0),
            })
        }
        (None, None) => None,
        _ => return Err("lat and lon must both be given, within -90..90 and -180..180".into()),
    };
    let crop_jpeg = match line.crop {
        None => Vec::new(),
        Some(rel) => {
            let p = base.join(&rel);
            // A line names any path: /dev/zero or a pipe would fill memory
            // or hang the import before the size check below. Only a
            // regular file of at most CROP_BYTES_MAX is read.
            let meta = std::fs::metadata(&p).map_err(|e| format!("crop {}: {e}", p.display()))?;
            if !meta.is_file() || meta.len() > CROP_BYTES_MAX as u64 {
                return Err(format!(
                    "crop {} is not a regular file of at most {CROP_BYTES_MAX} bytes",
                    p.display()
                ));
            }
            let bytes = std::fs::read(&p).map_err(|e| format!("crop {}: {e}", p.display()))?;
            if bytes.len() > CROP_BYTES_MAX {
                return Err(format!(
                    "crop {} is {} bytes, over {CROP_BYTES_MAX}",
                    p.display(),
                    bytes.len()
                ));
            }
            if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                return Err(format!("crop {} is not a JPEG", p.display()));
            }
            bytes
        }
    };
    let char_confidences = if line.char_confidences.is_empty() {
        vec![confidence; plate.as_str().len()]
    } else {
        line.char_confidences
    };
    Ok((
        Timestamp(time.as_millisecond()),
        Capture {
            plate,
            region,
            confidence,
            char_confidences,
            camera: line.camera,
            location,
            fix: Default::default(),
            crop_jpeg,
            overview_jpeg: None,
            candidates: Vec::new(),
        },
    ))
}
