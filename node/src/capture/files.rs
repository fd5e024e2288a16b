//! Image files as a frame source: a folder of frames, or a glob in the
//! file name part (`recordings/cam1-*.jpg`), in natural name order or by
//! modification time, each at its own pace or as fast as recognition takes
//! them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alpr_protocol::Timestamp;

use super::{CaptureError, Frame, FrameSource};
use crate::config::{FileOrder, FilesConfig, FrameTime};
use crate::replay::{load_frame, natural_order};

/// Most files one source takes (a larger folder is refused, not truncated).
pub const FILES_MAX: usize = 1_000_000;

/// The files of a source, in capture order.
#[derive(Debug)]
pub struct FileSource {
    name: String,
    files: std::collections::VecDeque<PathBuf>,
    total: usize,
    pace: Option<Duration>,
    next_due: Option<Instant>,
    time: FrameTime,
    clock: fn() -> Timestamp,
    describe: String,
}

impl FileSource {
    pub fn open(
        camera: &str,
        config: &FilesConfig,
        clock: fn() -> Timestamp,
    ) -> Result<FileSource, CaptureError> {
        let files = list(camera, &config.path, config.order)?;
        let total = files.len();
        Ok(FileSource {
            name: camera.to_string(),
            files: files.into(),
            total,
            pace: config.rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next_due: None,
            time: config.time,
            clock,
            describe: format!(
                "{total} frames from {}{}",
                config.path.display(),
                match config.rate {
                    Some(r) => format!(" at {r} frames/s"),
                    None => String::new(),
                }
            ),
        })
    }
}

impl FrameSource for FileSource {
    fn next(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(path) = self.files.pop_front() else {
            return Ok(None);
        };
        if let Some(pace) = self.pace {
            wait_until(&mut self.next_due, pace);
        }
        let at = match self.time {
            FrameTime::Now => (self.clock)(),
            FrameTime::File => modified(&path).unwrap_or_else(|| (self.clock)()),
        };
        let image = load_frame(&path).map_err(|e| CaptureError::Frame {
            source_name: format!("camera '{}'", self.name),
            message: format!(
                "frame {} of {}: {e}",
                self.total - self.files.len(),
                self.total
            ),
        })?;
        Ok(Some(Frame { image, at }))
    }

    fn is_live(&self) -> bool {
        self.pace.is_some()
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

/// Sleeps until the next frame is due at `pace`, then books the one after.
/// A source that fell behind does not rush to catch up: frames keep their
/// spacing from the one just taken.
pub(crate) fn wait_until(next_due: &mut Option<Instant>, pace: Duration) {
    let now = Instant::now();
    if let Some(due) = *next_due
        && due > now
    {
        std::thread::sleep(due - now);
    }
    let base = next_due.map_or(now, |d| d.max(now - pace));
    *next_due = Some(base + pace);
}

fn modified(path: &Path) -> Option<Timestamp> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some(Timestamp(i64::try_from(ms).ok()?))
}

/// The frame files a path names: every PNG or JPEG of a folder, or the
/// files a glob in the last path component matches.
fn list(camera: &str, path: &Path, order: FileOrder) -> Result<Vec<PathBuf>, CaptureError> {
    let err = |message: String| CaptureError::Source {
        source_name: format!("camera '{camera}' ({})", path.display()),
        message,
    };
    let text = path.to_string_lossy();
    let mut files: Vec<PathBuf> = if path.is_dir() {
        crate::replay::frame_files(path).map_err(|e| err(e.to_string()))?
    } else if text.contains(['*', '?', '[']) {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let mut found = Vec::new();
        for entry in glob::glob_with(&text, options).map_err(|e| err(e.to_string()))? {
            let p = entry.map_err(|e| err(e.to_string()))?;
            if p.is_file() {
                found.push(p);
            }
            if found.len() > FILES_MAX {
                return Err(err(format!("matches over {FILES_MAX} files")));
            }
        }
        if found.is_empty() {
            return Err(err("the pattern matches no file".into()));
        }
        found
    } else if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        return Err(err("no such folder or file".into()));
    };
    if files.len() > FILES_MAX {
        return Err(err(format!("{} files, over {FILES_MAX}", files.len())));
    }
    match order {
        FileOrder::Name => {
            files.sort_by(|a, b| natural_order(&a.to_string_lossy(), &b.to_string_lossy()));
        }
        FileOrder::Time => {
            let mut timed: Vec<(Option<Timestamp>, PathBuf)> =
                files.into_iter().map(|p| (modified(&p), p)).collect();
            timed.sort_by(|(ta, a), (tb, b)| {
                ta.cmp(tb)
                    .then_with(|| natural_order(&a.to_string_lossy(), &b.to_string_lossy()))
            });
            files = timed.into_iter().map(|(_, p)| p).collect();
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str, age_s: u64) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, b"x").unwrap_or_else(|e| panic!("{e}"));
        let t = std::time::SystemTime::now() - Duration::from_secs(age_s);
        let f = std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("{e}"));
        f.set_modified(t).unwrap_or_else(|e| panic!("{e}"));
        p
    }

    #[test]
    fn a_glob_takes_matching_files_in_name_or_time_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = dir.path();
        touch(d, "cam-10.jpg", 30);
        touch(d, "cam-9.jpg", 10);
        touch(d, "cam-2.jpg", 20);
        touch(d, "other-1.jpg", 5);
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|p| {
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        };
        let glob = d.join("cam-*.jpg");
        let by_name = list("c", &glob, FileOrder::Name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(by_name), ["cam-2.jpg", "cam-9.jpg", "cam-10.jpg"]);
        let by_time = list("c", &glob, FileOrder::Time).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(by_time), ["cam-10.jpg", "cam-2.jpg", "cam-9.jpg"]);
        let err = list("c", &d.join("none-*.jpg"), FileOrder::Name)
            .unwrap_err()
            .to_string();
        assert!(err.contains("matches no file"), "{err}");
        let err = list("c", &d.join("missing"), FileOrder::Name)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("camera 'c'") && err.contains("missing"),
            "{err}"
        );
    }
}
