//! Secret files on disk: created 0600 and durable, refused if others can read them.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileIoError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is missing ({what})")]
    Missing { path: PathBuf, what: &'static str },
    #[error("{path} already exists; refusing to overwrite a key")]
    Exists { path: PathBuf },
    #[error("{path} has mode {mode:o}: others could read it; run chmod 600 on it")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path} cannot be the {what}: not a regular file, or over {KEY_FILE_BYTES_MAX} bytes")]
    NotAKeyFile { path: PathBuf, what: &'static str },
}

/// Largest key, certificate, bundle or passphrase file read: all are far
/// smaller, and `/dev/zero` or a pipe must not fill memory or hang.
pub const KEY_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Reads a regular file of at most [`KEY_FILE_BYTES_MAX`] bytes.
fn read_bounded(
    path: &Path,
    what: &'static str,
    meta: &fs::Metadata,
) -> Result<Vec<u8>, KeyFileIoError> {
    if !meta.is_file() || meta.len() > KEY_FILE_BYTES_MAX {
        return Err(KeyFileIoError::NotAKeyFile {
            path: path.to_path_buf(),
            what,
        });
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| {
            std::io::Read::read_to_end(
                &mut std::io::Read::take(f, KEY_FILE_BYTES_MAX + 1),
                &mut bytes,
            )
        })
        .map_err(io(path))?;
    if bytes.len() as u64 > KEY_FILE_BYTES_MAX {
        return Err(KeyFileIoError::NotAKeyFile {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(bytes)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileIoError + '_ {
    move |source| KeyFileIoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a new file readable by the owner only, and syncs it and its directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyFileIoError> {
    write_new(path, bytes, 0o600)
}

/// Writes a new file that anyone may read (public keys, certificates).
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<(), KeyFileIoError> {
    write_new(path, bytes, 0o644)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyFileIoError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyFileIoError::Exists {
                path: path.to_path_buf(),
            },
            _ => KeyFileIoError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// Reads a secret file, refusing one that group or others may read.
pub fn read_private(path: &Path, what: &'static str) -> Result<Vec<u8>, KeyFileIoError> {
    let meta = fs::metadata(path).map_err(|e| missing_or_io(path, what, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileIoError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    read_bounded(path, what, &meta)
}

pub fn read_public(path: &Path, what: &'static str) -> Result<Vec<u8>, KeyFileIoError> {
    let meta = fs::metadata(path).map_err(|e| missing_or_io(path, what, e))?;
    read_bounded(path, what, &meta)
}

fn missing_or_io(path: &Path, what: &'static str, e: std::io::Error) -> KeyFileIoError {
    if e.kind() == std::io::ErrorKind::NotFound {
        KeyFileIoError::Missing {
            path: path.to_path_buf(),
            what,
        }
    } else {
        KeyFileIoError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_open_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write_private(&p, b"secret").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_private(&p, "key").unwrap(), b"secret");
        assert!(matches!(
            write_private(&p, b"x"),
            Err(KeyFileIoError::Exists { .. })
        ));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private(&p, "key"),
            Err(KeyFileIoError::TooOpen { .. })
        ));
        assert!(matches!(
            read_private(&dir.path().join("nope"), "key"),
            Err(KeyFileIoError::Missing { .. })
        ));
    }
}
