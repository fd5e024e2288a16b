//! Evidence bundles on portable media: writing them, and reading one back for `evidence verify`.
//!
//! The layout and the checks are the protocol's (`alpr_protocol::bundle`);
//! this module does the file I/O and gathers what a case holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alpr_protocol::bundle::{
    self, AGENCY_FILE, BUNDLE_FORMAT, BundleKind, FileEntry, MANIFEST_FILE, Manifest, ReleaseInfo,
    SIGNATURE_FILE, record_stem, sha256_hex,
};
use alpr_protocol::{ImageKind, NodeId, Timestamp};

use crate::datadir::Node;
use crate::policy::{HoldScope, Policy};
use crate::search::ImageState;
use crate::store::{RecordId, StoreError, TimeRange};

/// Largest bundle `evidence verify` reads into memory, and largest file in it.
pub const BUNDLE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;
pub const BUNDLE_FILES_MAX: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} exists and is not empty; export into a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("{path}: {what}")]
    Bundle { path: PathBuf, what: String },
    #[error("record {id} does not verify, so it cannot be exported: {reason}")]
    BadRecord { id: RecordId, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What goes into a bundle, besides the records.
#[derive(Debug, Clone)]
pub struct BundleRequest {
    pub kind: BundleKind,
    pub case: String,
    pub exported_by: String,
    pub purpose: String,
    pub release: Option<ReleaseInfo>,
    pub now: Timestamp,
}

/// The reads an active hold of `case` protects, in (origin, seq) order.
pub fn case_reads(
    node: &Node,
    policy: &Policy,
    case: &str,
    now: Timestamp,
) -> Result<Vec<RecordId>, StoreError> {
    let mut ids = BTreeSet::new();
    for hold in policy
        .holds
        .iter()
        .filter(|h| h.case == case && h.active(now))
    {
        match &hold.scope {
            HoldScope::Reads(list) => {
                ids.extend(list.iter().map(|(origin, seq)| RecordId {
                    origin: *origin,
                    seq: *seq,
                }));
            }
            HoldScope::Plate { plate, from, to } => {
                let m = node.store.find_plate(
                    plate,
                    TimeRange {
                        from: *from,
                        to: *to,
                    },
                    usize::MAX,
                )?;
                ids.extend(m.ids.into_iter().map(|(_, id)| id));
            }
        }
    }
    Ok(ids.into_iter().collect())
}

/// Collects files in memory (path -> bytes), then writes them and a signed manifest.
struct Files {
    out: BTreeMap<String, Vec<u8>>,
}

impl Files {
    fn add(&mut self, path: String, bytes: Vec<u8>) {
        self.out.insert(path, bytes);
    }

    fn add_json(&mut self, path: String, value: &serde_json::Value) {
        // Invariant: a serde_json::Value always serializes.
        let mut text = serde_json::to_vec_pretty(value).unwrap_or_default();
        text.push(b'\n');
        self.add(path, text);
    }
}

/// Writes a bundle of `reads` and of the audit events whose case is
/// `request.case`, into `out` (created; must be new or empty). Returns the
/// manifest and the SHA-256 of its bytes as written.
pub fn write_bundle(
    node: &Node,
    reads: &[RecordId],
    request: &BundleRequest,
    out: &Path,
) -> Result<(Manifest, String), EvidenceError> {
    if out.exists() && fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(EvidenceError::NotEmpty(out.to_path_buf()));
    }
    let mut files = Files {
        out: BTreeMap::new(),
    };
    let mut origins: BTreeSet<NodeId> = BTreeSet::new();
    origins.insert(node.node_key.id());

    for id in reads {
        let bytes = node
            .store
            .read_envelope(*id)?
            .ok_or_else(|| EvidenceError::BadRecord {
                id: *id,
                reason: "not stored on this node (purged, or not yet replicated here)".into(),
            })?;
        let bad = |e: alpr_protocol::EnvelopeError| EvidenceError::BadRecord {
            id: *id,
            reason: e.to_string(),
        };
        let v = node.trust.open_read(&bytes).map_err(bad)?;
        let opening = node.trust.opening(&bytes).map_err(bad)?;
        let r = v.read();
        let stem = format!("reads/{}", record_stem(r.origin, r.seq));
        let mut images = serde_json::Map::new();
        for (kind, suffix) in [
            (ImageKind::PlateCrop, "crop"),
            (ImageKind::Overview, "overview"),
        ] {
            let name = format!("{}-{suffix}.jpg", record_stem(r.origin, r.seq));
            let state = match crate::search::image_of(node, &v, kind)? {
                ImageState::Present(jpeg) => {
                    files.add(format!("reads/{name}"), jpeg);
                    serde_json::Value::from(name)
                }
                // A damaged image is left out and said so; the read stands on its own signature.
                ImageState::Damaged(why) => serde_json::Value::from(format!("withheld: {why}")),
                ImageState::Absent => serde_json::Value::Null,
            };
            images.insert(suffix.to_string(), state);
        }
        let mut doc = bundle::read_document(r);
        doc.insert("images".into(), images.into());
        files.add_json(format!("{stem}.json"), &doc.into());
        files.add(format!("{stem}.opening"), opening);
        files.add(format!("{stem}.envelope"), bytes);
        origins.insert(r.origin);
    }

    let mut audit_events = 0u64;
    let mut audit_error = None;
    node.store.for_each_audit(|id, bytes| {
        let (Ok(v), Ok(opening)) = (node.trust.open_audit(bytes), node.trust.opening(bytes)) else {
            audit_error.get_or_insert(id);
            return;
        };
        let e = v.event();
        if e.body.case.as_deref() != Some(request.case.as_str()) {
            return;
        }
        let stem = format!("audit/{}", record_stem(e.origin, e.seq));
        files.add_json(format!("{stem}.json"), &bundle::audit_document(e));
        files.add(format!("{stem}.opening"), opening);
        files.add(format!("{stem}.envelope"), bytes.to_vec());
        origins.insert(e.origin);
        audit_events += 1;
    })?;
    if let Some(id) = audit_error {
        return Err(EvidenceError::BadRecord {
            id,
            reason: "audit event does not verify; run `verify`".into(),
        });
    }

    for origin in &origins {
        let cert = node
            .trust
            .certificate(origin)
            .ok_or_else(|| EvidenceError::Bundle {
                path: out.to_path_buf(),
                what: format!("no certificate for node {origin:?}"),
            })?;
        files.add(
            format!("certs/{}.cert", origin.to_hex()),
            cert.signed().as_bytes().to_vec(),
        );
    }
    files.add(
        AGENCY_FILE.into(),
        format!("{}\n", node.trust.agency()).into_bytes(),
    );

    let manifest = Manifest {
        format: BUNDLE_FORMAT.into(),
        kind: request.kind,
        case: request.case.clone(),
        agency: node.trust.agency().to_hex(),
        exporting_node: node.node_key.id().to_hex(),
        exported_by: request.exported_by.clone(),
        exported_at: request.now.to_string(),
        exported_at_ms: request.now.as_millis(),
        purpose: request.purpose.clone(),
        release: request.release.clone(),
        reads: reads.len() as u64,
        audit_events,
        files: files
            .out
            .iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    // Invariant: the manifest is plain data and always serializes.
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    manifest_bytes.push(b'\n');
    let signature = node.node_key.sign(&manifest_bytes);
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    files.add(MANIFEST_FILE.into(), manifest_bytes);
    files.add(
        SIGNATURE_FILE.into(),
        format!("{}\n", hex::encode(signature)).into_bytes(),
    );

    for (path, bytes) in &files.out {
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
    Ok((manifest, manifest_sha256))
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
