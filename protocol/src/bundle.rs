//! Evidence bundles (policy IV.B, V.A.4): a directory that proves itself.
//!
//! ```text
//! MANIFEST.json            what is in the bundle, with SHA-256 of every file
//! MANIFEST.sig             hex Ed25519 signature of MANIFEST.json's bytes by the exporting node
//! agency.pub               the agency public key, hex
//! certs/<node>.cert        enrollment certificates: the exporting node and every origin
//! reads/<origin>-<seq>.envelope   each read's original signed, sealed envelope
//! reads/<origin>-<seq>.opening    its opening (salt ‖ body): checks against the signed commitment
//! reads/<origin>-<seq>.json       the same read, readable
//! reads/<origin>-<seq>-crop.jpg   its plate crop (and -overview.jpg, if any)
//! audit/<origin>-<seq>.envelope|.opening|.json   the case's audit trail, the same way
//! ```
//!
//! [`verify`] checks a bundle from its bytes alone — no database, no data
//! key — and names every file that does not check out. It is pure: the
//! caller reads the directory.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enrollment::{SignedCertificate, VerifiedCertificate};
use crate::envelope::{Envelope, RecordKind, check_opening, decode_body, decode_read_body};
use crate::identity::{AgencyId, NodeId};
use crate::record::Outcome;
use crate::record::{AuditBody, AuditEvent, Read, ReadBody};

pub const BUNDLE_FORMAT: &str = "alpr-evidence/2";
/// The first format: its audit copies wrote the action and outcome as
/// Rust names (`ViewRead`, `Refused("…")`). Still verified.
pub const BUNDLE_FORMAT_V1: &str = "alpr-evidence/1";
pub const MANIFEST_FILE: &str = "MANIFEST.json";
pub const SIGNATURE_FILE: &str = "MANIFEST.sig";
pub const AGENCY_FILE: &str = "agency.pub";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleKind {
    /// Evidence for a case (policy IV.B).
    Evidence,
    /// A release to another agency (policy V.A.4).
    Release,
}

/// To whom and on what basis records were released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    pub agency: String,
    pub official: String,
    pub legal_basis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub kind: BundleKind,
    pub case: String,
    pub agency: String,
    pub exporting_node: String,
    pub exported_by: String,
    pub exported_at: String,
    pub exported_at_ms: i64,
    pub purpose: String,
    pub release: Option<ReleaseInfo>,
    pub reads: u64,
    pub audit_events: u64,
    /// Alerts and dispositions (bundles written before alerts had none).
    #[serde(default)]
    pub alerts: u64,
    /// Every other file of the bundle, sorted by path.
    pub files: Vec<FileEntry>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The file name stem of a record: 16 hex digits of the origin, then the seq.
pub fn record_stem(origin: NodeId, seq: u64) -> String {
    format!("{}-{seq}", origin.short())
}

/// The readable copy of a read, as `reads/<stem>.json` holds it, less its
/// `images` entry (what the exporting node held of the images, which the
/// writer adds). Export writes it and [`verify`] rebuilds it from the
/// signed record, so the two can never disagree on how a field is written.
pub fn read_document(read: &Read) -> serde_json::Map<String, serde_json::Value> {
    let b = &read.body;
    let doc = serde_json::json!({
        "origin": read.origin.to_hex(),
        "seq": read.seq,
        "time": read.captured_at.to_string(),
        "time_ms": read.captured_at.as_millis(),
        "plate": b.plate.as_str(),
        "confidence": b.confidence,
        "char_confidences": b.char_confidences,
        "region": b.region.as_ref().map(|g| &g.code),
        "region_confidence": b.region.as_ref().map(|g| g.confidence),
        "camera": b.camera,
        "lat": b.location.map(|l| l.lat),
        "lon": b.location.map(|l| l.lon),
        "accuracy_m": b.location.map(|l| l.accuracy_m),
    });
    let mut map = match doc {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    };
    // Only reads that recorded their fix (format 2) carry these keys, so a
    // bundle written before fixes were recorded still verifies.
    if b.fix != crate::record::Fix::Unknown {
        map.insert("fix".into(), b.fix.name().into());
        if let crate::record::Fix::Gps(g) = b.fix {
            map.insert("satellites".into(), serde_json::json!(g.satellites));
            map.insert("speed_mps".into(), serde_json::json!(g.speed_mps));
            map.insert("heading_deg".into(), serde_json::json!(g.heading_deg));
            map.insert("fix_age_ms".into(), g.age_ms.into());
        }
    }
    map
}

/// The readable copy of an alert or a disposition, as `alerts/<stem>.json`
/// holds it: written by export and rebuilt by [`verify`] from the signed
/// record, like a read's.
pub fn alert_document(record: &crate::alert::AlertRecord) -> serde_json::Value {
    use crate::alert::AlertItem;
    let mut doc = serde_json::json!({
        "origin": record.origin.to_hex(),
        "seq": record.seq,
        "time": record.time.to_string(),
        "time_ms": record.time.as_millis(),
    });
    let more = match &record.item {
        AlertItem::Raised(a) => {
            let e = &a.entry;
            serde_json::json!({
                "record": "alert",
                "read_origin": a.read.origin.to_hex(),
                "read_seq": a.read.seq,
                "read_time": a.read_at.to_string(),
                "plate": a.plate.as_str(),
                "read_region": a.read_region,
                "camera": a.camera,
                "list": a.list.name,
                "list_version": a.list.version,
                "list_published": a.list.published_at.to_string(),
                "local_entry": a.list.local_id,
                "entry_plate": e.plate.as_str(),
                "entry_region": e.region,
                "category": e.category.name(),
                "reference": e.reference,
                "priority": e.detail.priority.name(),
                "vehicle": e.detail.vehicle.describe(),
                "notes": e.detail.notes,
                "source": e.detail.source,
                "covert": e.detail.covert,
                "pattern": a.pattern,
                "match": a.hit.kind.name(),
                "score": a.hit.score,
                "matched_text": a.hit.text,
                "from_candidate": a.hit.from_candidate,
                "differs": a.hit.differs.iter().map(|d| format!("{}:{}/{}", d.at, d.read, d.entry)).collect::<Vec<_>>(),
                "region_mismatch": a.hit.region_mismatch,
                "stale": a.stale,
                "retro": a.retro,
            })
        }
        AlertItem::Disposed(d) => serde_json::json!({
            "record": "disposition",
            "alert_origin": d.alert.origin.to_hex(),
            "alert_seq": d.alert.seq,
            "outcome": d.outcome.name(),
            "reason": d.reason,
            "by": d.by,
        }),
    };
    if let (Some(map), serde_json::Value::Object(more)) = (doc.as_object_mut(), more) {
        map.extend(more);
    }
    doc
}

/// The readable copy of an audit event, as `audit/<stem>.json` holds it.
pub fn audit_document(event: &AuditEvent) -> serde_json::Value {
    let b = &event.body;
    let (outcome, reason) = match &b.outcome {
        Outcome::Success => ("success", None),
        Outcome::Refused(why) => ("refused", Some(why)),
        Outcome::Failed(why) => ("failed", Some(why)),
    };
    let mut doc = serde_json::json!({
        "origin": event.origin.to_hex(),
        "seq": event.seq,
        "time": event.time.to_string(),
        "time_ms": event.time.as_millis(),
        "user": b.user,
        "action": b.action.to_string(),
        "object": b.object,
        "purpose": b.purpose,
        "case": b.case,
        "outcome": outcome,
        "reason": reason,
    });
    // Only a purge of audit events has floors; every other copy keeps the
    // fields bundles had before floors were typed.
    if !b.floors.is_empty()
        && let Some(map) = doc.as_object_mut()
    {
        let floors = b
            .floors
            .iter()
            .map(|f| {
                serde_json::json!({
                    "origin": f.origin.to_hex(),
                    "seq": f.seq,
                    "hash": hex::encode(f.hash),
                })
            })
            .collect();
        map.insert("floors".into(), serde_json::Value::Array(floors));
    }
    doc
}

/// An audit event's readable copy as format 1 wrote it.
fn audit_document_v1(event: &AuditEvent) -> serde_json::Value {
    let b = &event.body;
    serde_json::json!({
        "origin": event.origin.to_hex(),
        "seq": event.seq,
        "time": event.time.to_string(),
        "time_ms": event.time.as_millis(),
        "user": b.user,
        "action": format!("{:?}", b.action),
        "object": b.object,
        "purpose": b.purpose,
        "case": b.case,
        "outcome": format!("{:?}", b.outcome),
    })
}

/// The fields in which a readable copy differs from the signed record, as
/// "plate differs" or "camera, lat differ"; empty when they agree.
fn differing(copy: &serde_json::Value, signed: &serde_json::Value) -> String {
    let (Some(copy), Some(signed)) = (copy.as_object(), signed.as_object()) else {
        return "the whole document differs (not a JSON object)".into();
    };
    let mut keys: Vec<&str> = copy
        .keys()
        .chain(signed.keys())
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let fields: Vec<&str> = keys
        .into_iter()
        .filter(|k| copy.get(*k) != signed.get(*k))
        .collect();
    match fields.len() {
        0 => String::new(),
        1 => format!("{} differs", fields[0]),
        _ => format!("{} differ", fields.join(", ")),
    }
}

/// A document as a reader of its file gets it: written, then parsed.
///
/// Floats are compared this way because text is what the file holds: an
/// f32 is written in its shortest form, which parses back to an f64 that is
/// not the f32's own value, and an f64's parse may differ from it in the
/// last place. The same value written the same way parses the same, so a
/// genuine copy always compares equal, and an altered number does not.
fn as_parsed(doc: impl Into<serde_json::Value>) -> serde_json::Value {
    let text = serde_json::to_vec(&doc.into()).unwrap_or_default();
    serde_json::from_slice(&text).unwrap_or_default()
}

/// One thing wrong with a bundle, by file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct BundleReport {
    pub manifest: Option<Manifest>,
    /// The agency key the bundle names.
    pub agency: Option<AgencyId>,
    /// Whether that key was checked against one the caller trusts.
    pub anchored: bool,
    pub reads: u64,
    pub audit_events: u64,
    /// Alerts and dispositions.
    pub alerts: u64,
    pub problems: Vec<Problem>,
}

impl BundleReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.manifest.is_some()
    }

    fn problem(&mut self, path: &str, what: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            what: what.into(),
        });
    }
}

/// Checks a bundle given every file in it (path relative to the bundle,
/// '/'-separated). `trusted_agency` is the agency key the checker holds from
/// elsewhere; without it the bundle is checked against its own `agency.pub`,
/// which proves integrity but not who made it.
pub fn verify(files: &BTreeMap<String, Vec<u8>>, trusted_agency: Option<AgencyId>) -> BundleReport {
    let mut report = BundleReport::default();
    let Some(manifest_bytes) = files.get(MANIFEST_FILE) else {
        report.problem(MANIFEST_FILE, "missing");
        return report;
    };
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            report.problem(MANIFEST_FILE, format!("does not parse: {e}"));
            return report;
        }
    };
    let v1 = manifest.format == BUNDLE_FORMAT_V1;
    if manifest.format != BUNDLE_FORMAT && !v1 {
        report.problem(
            MANIFEST_FILE,
            format!(
                "format '{}' is not {BUNDLE_FORMAT} (or {BUNDLE_FORMAT_V1})",
                manifest.format
            ),
        );
        return report;
    }
    let agency = files
        .get(AGENCY_FILE)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(AgencyId::from_hex);
    let Some(agency) = agency else {
        report.problem(AGENCY_FILE, "missing or not a hex public key");
        return report;
    };
    if agency.to_hex() != manifest.agency {
        report.problem(AGENCY_FILE, "differs from the manifest's agency");
    }
    report.agency = Some(agency);
    if let Some(trusted) = trusted_agency {
        if trusted != agency {
            report.problem(
                AGENCY_FILE,
                format!("is agency {agency}, not the agency you trust ({trusted}): the bundle is not that agency's"),
            );
        }
        report.anchored = true;
    }

    // Certificates, each checked against the agency key.
    let mut certs: BTreeMap<NodeId, VerifiedCertificate> = BTreeMap::new();
    for (path, bytes) in files
        .range("certs/".to_string()..)
        .take_while(|(p, _)| p.starts_with("certs/"))
    {
        match SignedCertificate::from_bytes(bytes.clone()).verify(agency) {
            Ok(c) => {
                certs.insert(c.certificate().node, c);
            }
            Err(e) => report.problem(path, e.to_string()),
        }
    }

    // The manifest signature, by the exporting node.
    let exporter = NodeId::from_hex(&manifest.exporting_node);
    let signature = files
        .get(SIGNATURE_FILE)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| {
            let mut sig = [0u8; 64];
            hex::decode_to_slice(t.trim(), &mut sig).ok().map(|()| sig)
        });
    match (exporter, signature) {
        (None, _) => report.problem(MANIFEST_FILE, "exporting node is not a node id"),
        (_, None) => report.problem(SIGNATURE_FILE, "missing or not a hex signature"),
        (Some(node), Some(sig)) => {
            if !certs.contains_key(&node) {
                report.problem(
                    MANIFEST_FILE,
                    "the exporting node has no certificate in certs/",
                );
            } else if !node.verify(manifest_bytes, &sig) {
                report.problem(SIGNATURE_FILE, "does not verify: MANIFEST.json was altered or not signed by the exporting node");
            }
        }
    }

    // Every file hashed as listed, and nothing unlisted.
    let mut listed = std::collections::BTreeSet::new();
    for entry in &manifest.files {
        listed.insert(entry.path.as_str());
        match files.get(&entry.path) {
            None => report.problem(&entry.path, "listed in the manifest but missing"),
            Some(bytes)
                if sha256_hex(bytes) != entry.sha256 || bytes.len() as u64 != entry.bytes =>
            {
                report.problem(
                    &entry.path,
                    "altered: its SHA-256 differs from the manifest",
                )
            }
            Some(_) => {}
        }
    }
    for path in files.keys() {
        if path != MANIFEST_FILE && path != SIGNATURE_FILE && !listed.contains(path.as_str()) {
            report.problem(path, "not listed in the manifest");
        }
    }

    // Every record file belongs to a record the bundle holds.
    for path in files.keys() {
        if !(path.starts_with("reads/") || path.starts_with("audit/")) {
            continue;
        }
        let stem = [
            ".envelope",
            ".opening",
            ".json",
            "-crop.jpg",
            "-overview.jpg",
        ]
        .iter()
        .find_map(|suffix| path.strip_suffix(suffix));
        match stem {
            None => report.problem(path, "not a record file (envelope, opening, json or image)"),
            Some(stem) if !files.contains_key(&format!("{stem}.envelope")) => {
                report.problem(path, "belongs to no record in the bundle")
            }
            Some(_) => {}
        }
    }

    // Each record: origin signature, certificate window, opening, and the readable copies.
    for (path, bytes) in files {
        let Some(stem) = path.strip_suffix(".envelope") else {
            continue;
        };
        check_record(&mut report, files, &certs, path, stem, bytes, v1);
    }
    if report.reads != manifest.reads
        || report.audit_events != manifest.audit_events
        || report.alerts != manifest.alerts
    {
        report.problem(
            MANIFEST_FILE,
            format!(
                "lists {} reads, {} audit events and {} alert records, the bundle holds {}, {} and {}",
                manifest.reads,
                manifest.audit_events,
                manifest.alerts,
                report.reads,
                report.audit_events,
                report.alerts
            ),
        );
    }
    report.manifest = Some(manifest);
    report
}

fn check_record(
    report: &mut BundleReport,
    files: &BTreeMap<String, Vec<u8>>,
    certs: &BTreeMap<NodeId, VerifiedCertificate>,
    path: &str,
    stem: &str,
    bytes: &[u8],
    v1: bool,
) {
    let env = match Envelope::parse(bytes) {
        Ok(e) => e,
        Err(e) => return report.problem(path, e.to_string()),
    };
    let h = env.header;
    match certs.get(&h.origin) {
        None => {
            return report.problem(
                path,
                format!("origin {:?} has no certificate in certs/", h.origin),
            );
        }
        Some(c) => {
            if let Err(e) = c.check_valid_at(h.time) {
                report.problem(path, e.to_string());
            }
        }
    }
    if !env.signature_valid() {
        return report.problem(path, "bad signature: the envelope was altered");
    }
    let opening_path = format!("{stem}.opening");
    let Some(opening) = files.get(&opening_path) else {
        return report.problem(&opening_path, "missing");
    };
    if check_opening(&h, opening).is_err() {
        return report.problem(
            &opening_path,
            "does not match the envelope's signed commitment",
        );
    }
    let json_path = format!("{stem}.json");
    let json: Option<serde_json::Value> = files
        .get(&json_path)
        .and_then(|b| serde_json::from_slice(b).ok());
    let Some(json) = json else {
        return report.problem(&json_path, "missing or not JSON");
    };
    let folder = match h.kind {
        RecordKind::Read => "reads",
        RecordKind::AuditEvent => "audit",
        RecordKind::Alert | RecordKind::Disposition => "alerts",
        // Images travel as files checked against their read's commitment.
        RecordKind::PlateImage | RecordKind::OverviewImage => {
            return report.problem(path, "an image record: bundles hold images as .jpg files");
        }
    };
    if stem != format!("{folder}/{}", record_stem(h.origin, h.seq)) {
        report.problem(
            path,
            format!(
                "its name does not match its header ({folder}/{})",
                record_stem(h.origin, h.seq)
            ),
        );
    }
    match h.kind {
        RecordKind::Read => {
            report.reads += 1;
            let body: ReadBody = match decode_read_body(&h, opening) {
                Ok(b) => b,
                Err(e) => return report.problem(&opening_path, e.to_string()),
            };
            let signed = Read {
                origin: h.origin,
                seq: h.seq,
                captured_at: h.time,
                body,
            };
            let mut readable = json;
            // What the exporting node held of the images is its own statement;
            // the images themselves are checked against the commitments below.
            if let Some(map) = readable.as_object_mut() {
                map.remove("images");
            }
            let fields = differing(&readable, &as_parsed(read_document(&signed)));
            if !fields.is_empty() {
                report.problem(
                    &json_path,
                    format!("{} from the signed record ({})", fields, signed.body.plate),
                );
            }
            let body = signed.body;
            let crop_path = format!("{stem}-crop.jpg");
            // Images are checked against the SHA-256 the signed read commits to.
            for (image, p) in [
                (body.crop, crop_path),
                (body.overview, format!("{stem}-overview.jpg")),
            ] {
                match (image, files.get(&p)) {
                    (Some(r), Some(jpeg)) if r.matches(jpeg) => {}
                    (Some(_), Some(_)) => {
                        report.problem(&p, "not the image the signed record commits to")
                    }
                    // Purged under its own retention, or never taken: the read still stands.
                    (Some(_), None) | (None, None) => {}
                    (None, Some(_)) => report.problem(&p, "the signed record has no such image"),
                }
            }
        }
        RecordKind::PlateImage | RecordKind::OverviewImage => {}
        RecordKind::Alert | RecordKind::Disposition => {
            report.alerts += 1;
            let item = if h.kind == RecordKind::Alert {
                decode_body::<crate::alert::AlertBody>(opening)
                    .map(|a| crate::alert::AlertItem::Raised(Box::new(a)))
            } else {
                decode_body::<crate::alert::DispositionBody>(opening)
                    .map(crate::alert::AlertItem::Disposed)
            };
            let item = match item {
                Ok(i) => i,
                Err(e) => return report.problem(&opening_path, e.to_string()),
            };
            let signed = crate::alert::AlertRecord {
                origin: h.origin,
                seq: h.seq,
                time: h.time,
                item,
            };
            let fields = differing(&json, &as_parsed(alert_document(&signed)));
            if !fields.is_empty() {
                report.problem(&json_path, format!("{fields} from the signed alert record"));
            }
        }
        RecordKind::AuditEvent => {
            report.audit_events += 1;
            let body: AuditBody = match crate::envelope::decode_audit_body(&h, opening) {
                Ok(b) => b,
                Err(e) => return report.problem(&opening_path, e.to_string()),
            };
            let signed = AuditEvent {
                origin: h.origin,
                seq: h.seq,
                time: h.time,
                body,
            };
            let document = if v1 {
                audit_document_v1(&signed)
            } else {
                audit_document(&signed)
            };
            let fields = differing(&json, &as_parsed(document));
            if !fields.is_empty() {
                report.problem(&json_path, format!("{fields} from the signed event"));
            }
        }
    }
}
