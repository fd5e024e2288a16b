//! Evidence bundles: what a case holds, built in memory as a self-verifying
//! bundle, and handed to a sink the driver owns (a directory on portable
//! media, or memory for tests and the simulator).
//!
//! The layout and the checks are the protocol's (`alpr_protocol::bundle`).
//! The engine never writes or deletes a directory itself: it builds, gives
//! the files to the sink, documents the export, and tells the sink to
//! discard them when the export cannot be documented.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use alpr_protocol::bundle::{
    self, AGENCY_FILE, BUNDLE_FORMAT, BundleKind, FileEntry, MANIFEST_FILE, Manifest, ReleaseInfo,
    SIGNATURE_FILE, record_stem, sha256_hex,
};
use alpr_protocol::{ImageKind, NodeId, Timestamp};

use crate::datadir::Node;
use crate::policy::{HoldScope, Policy};
use crate::search::ImageState;
use crate::store::{RecordId, StoreError, TimeRange};

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
    /// The person exporting stopped it; the sink removes what it wrote.
    #[error("cancelled by the user; what was written is removed")]
    Cancelled,
}

/// Where a bundle goes. The driver owns it: the engine hands it the files,
/// and asks it to take them back if the export cannot be documented.
pub trait BundleSink {
    /// Where, in words, for the audit event ("/media/usb/case-26").
    fn describe(&self) -> String;
    /// Refuses a destination that cannot take a bundle (a directory that
    /// is not empty), before anything is built.
    fn check(&self) -> Result<(), EvidenceError>;
    /// Stores every file of the bundle durably, or fails.
    fn put(&mut self, files: &BTreeMap<String, Vec<u8>>) -> Result<(), EvidenceError>;
    /// Removes what `put` stored, whole or in part; nothing that was there
    /// before (the engine calls it after any failure, a refused `check` included).
    fn discard(&mut self);
}

/// A sink in memory: the bundle's files by path.
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl BundleSink for MemorySink {
    fn describe(&self) -> String {
        "memory".into()
    }
    fn check(&self) -> Result<(), EvidenceError> {
        Ok(())
    }
    fn put(&mut self, files: &BTreeMap<String, Vec<u8>>) -> Result<(), EvidenceError> {
        self.files = files.clone();
        Ok(())
    }
    fn discard(&mut self) {
        self.files.clear();
    }
}

/// A built bundle: its files (path -> bytes), the manifest among them, and
/// the SHA-256 of the manifest's bytes (what the audit event and a release
/// record name).
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub files: BTreeMap<String, Vec<u8>>,
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

/// Builds a bundle of `reads` and of the audit events whose case is
/// `request.case`, signed by this node, in memory.
pub fn build_bundle(
    node: &Node,
    reads: &[RecordId],
    request: &BundleRequest,
) -> Result<Bundle, EvidenceError> {
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

    // The case's alerts: those raised on its reads, and their dispositions.
    let in_case: BTreeSet<(NodeId, u64)> = reads.iter().map(|id| (id.origin, id.seq)).collect();
    let mut alert_records = Vec::new();
    let mut raised = BTreeSet::new();
    for (id, bytes) in node.store.alert_envelopes()? {
        let v = node
            .trust
            .open_alert(&bytes)
            .map_err(|e| EvidenceError::BadRecord {
                id,
                reason: format!("alert record does not verify: {e}"),
            })?;
        if let alpr_protocol::alert::AlertItem::Raised(a) = &v.record().item
            && in_case.contains(&(a.read.origin, a.read.seq))
        {
            raised.insert((id.origin, id.seq));
        }
        alert_records.push((id, v, bytes));
    }
    let mut alerts = 0u64;
    for (id, v, bytes) in alert_records {
        let keep = match &v.record().item {
            alpr_protocol::alert::AlertItem::Raised(_) => raised.contains(&(id.origin, id.seq)),
            alpr_protocol::alert::AlertItem::Disposed(d) => {
                raised.contains(&(d.alert.origin, d.alert.seq))
            }
        };
        if !keep {
            continue;
        }
        let opening = node
            .trust
            .opening(&bytes)
            .map_err(|e| EvidenceError::BadRecord {
                id,
                reason: e.to_string(),
            })?;
        let stem = format!("alerts/{}", record_stem(id.origin, id.seq));
        files.add_json(format!("{stem}.json"), &bundle::alert_document(v.record()));
        files.add(format!("{stem}.opening"), opening);
        files.add(format!("{stem}.envelope"), bytes);
        origins.insert(id.origin);
        alerts += 1;
    }

    for origin in &origins {
        let cert = node
            .trust
            .certificate(origin)
            .ok_or_else(|| EvidenceError::Bundle {
                path: PathBuf::from(AGENCY_FILE),
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
        alerts,
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

    Ok(Bundle {
        manifest,
        manifest_sha256,
        files: files.out,
    })
}
