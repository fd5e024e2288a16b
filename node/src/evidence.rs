//! Evidence bundles on portable media: the directory sink the engine hands
//! a bundle to, and reading a bundle back for `evidence verify`.
//!
//! The engine builds bundles in memory (`alpr_engine::evidence`, re-exported
//! here); only this driver touches the media.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use alpr_engine::evidence::*;
use alpr_protocol::bundle;

/// Largest bundle `evidence verify` reads into memory, and largest file in it.
pub const BUNDLE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;
pub const BUNDLE_FILES_MAX: usize = 1_000_000;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A bundle directory on portable media: created if missing, refused unless
/// new or empty, every file and directory synced before the export is
/// documented.
pub struct DirSink<'a> {
    dir: PathBuf,
    /// Whether this sink created the directory (so discarding removes it).
    written: bool,
    /// Told how many files are written; answering false cancels the export.
    watcher: Option<alpr_engine::verify::Watcher<'a>>,
}

impl std::fmt::Debug for DirSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirSink")
            .field("dir", &self.dir)
            .field("written", &self.written)
            .field("watched", &self.watcher.is_some())
            .finish()
    }
}

/// Files written between two calls of a sink's watcher.
pub const FILES_PER_PROGRESS: u64 = 16;

impl DirSink<'static> {
    pub fn new(dir: impl Into<PathBuf>) -> DirSink<'static> {
        DirSink {
            dir: dir.into(),
            written: false,
            watcher: None,
        }
    }
}

impl<'a> DirSink<'a> {
    /// A sink that tells `watcher` how many files it has written (phase
    /// "files") and stops, removing them, when the watcher answers false.
    pub fn watched(dir: impl Into<PathBuf>, watcher: alpr_engine::verify::Watcher<'a>) -> Self {
        DirSink {
            dir: dir.into(),
            written: false,
            watcher: Some(watcher),
        }
    }
}

impl BundleSink for DirSink<'_> {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn check(&self) -> Result<(), EvidenceError> {
        let out = &self.dir;
        if out.exists() && fs::read_dir(out).map_err(io(out))?.next().is_some() {
            return Err(EvidenceError::NotEmpty(out.clone()));
        }
        Ok(())
    }

    fn put(&mut self, files: &BTreeMap<String, Vec<u8>>) -> Result<(), EvidenceError> {
        self.check()?;
        self.written = true;
        let out = &self.dir;
        let total = files.len() as u64;
        for (n, (path, bytes)) in files.iter().enumerate() {
            if let Some(w) = &mut self.watcher
                && (n as u64).is_multiple_of(FILES_PER_PROGRESS)
                && !w("files", n as u64, Some(total))
            {
                return Err(EvidenceError::Cancelled);
            }
            let full = out.join(path);
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            let mut f = fs::File::create(&full).map_err(io(&full))?;
            f.write_all(bytes).map_err(io(&full))?;
            f.sync_all().map_err(io(&full))?;
        }
        for dir in [
            out.join("reads"),
            out.join("audit"),
            out.join("certs"),
            out.to_path_buf(),
        ] {
            if dir.exists() {
                fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io(&dir))?;
            }
        }
        Ok(())
    }

    fn discard(&mut self) {
        // Only what this sink wrote: `check` made sure the directory held
        // nothing before.
        if self.written {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Reads every file of a bundle directory into memory, with bounds.
pub fn read_bundle(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, EvidenceError> {
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let path = entry.path();
            // file_type() does not follow links: only real directories and files are read.
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() {
                return Err(EvidenceError::Bundle {
                    path,
                    what: "not a regular file (a link, device or pipe); a bundle holds only files"
                        .into(),
                });
            }
            let rel = path
                .strip_prefix(dir)
                .ok()
                .and_then(|p| p.to_str())
                .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
                .ok_or_else(|| EvidenceError::Bundle {
                    path: path.clone(),
                    what: "file name is not UTF-8".into(),
                })?;
            total += entry.metadata().map_err(io(&path))?.len();
            if total > BUNDLE_BYTES_MAX || out.len() >= BUNDLE_FILES_MAX {
                return Err(EvidenceError::Bundle {
                    path: dir.to_path_buf(),
                    what: format!(
                        "larger than {BUNDLE_BYTES_MAX} bytes or {BUNDLE_FILES_MAX} files"
                    ),
                });
            }
            let mut bytes = Vec::new();
            fs::File::open(&path)
                .and_then(|f| {
                    std::io::Read::read_to_end(
                        &mut std::io::Read::take(f, BUNDLE_BYTES_MAX),
                        &mut bytes,
                    )
                })
                .map_err(io(&path))?;
            out.insert(rel, bytes);
        }
    }
    Ok(out)
}

/// Verifies a bundle directory; see [`bundle::verify`].
pub fn verify_dir(
    dir: &Path,
    trusted_agency: Option<alpr_protocol::AgencyId>,
) -> Result<bundle::BundleReport, EvidenceError> {
    Ok(bundle::verify(&read_bundle(dir)?, trusted_agency))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.
    use super::*;

    #[test]
    fn a_directory_sink_refuses_a_full_directory_and_discards_only_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let files: BTreeMap<String, Vec<u8>> = [
            ("manifest.json".to_string(), b"{}\n".to_vec()),
            ("reads/a.json".to_string(), b"[]".to_vec()),
        ]
        .into();
        // Written, read back the same.
        let out = dir.path().join("usb");
        let mut sink = DirSink::new(&out);
        sink.check().unwrap();
        sink.put(&files).unwrap();
        assert_eq!(read_bundle(&out).unwrap(), files);
        // A second export into it is refused, and discarding after that
        // refusal leaves the first bundle alone.
        let mut again = DirSink::new(&out);
        assert!(matches!(again.check(), Err(EvidenceError::NotEmpty(_))));
        assert!(again.put(&files).is_err());
        again.discard();
        assert_eq!(read_bundle(&out).unwrap(), files);
        // What a sink wrote is removed when the export is not documented.
        sink.discard();
        assert!(!out.exists());
    }
}
