//! Evidence bundles over arbitrary reads and audit events: whatever a node
//! stores, a bundle it writes passes its own offline check, and a bundle
//! with a readable copy altered does not.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::path::Path;

use alpr_engine::agency::{Agency, EnrollRequest};
use alpr_engine::datadir::Node;
use alpr_engine::evidence::{BundleRequest, build_bundle};
use alpr_engine::recorder::{AuditEntry, Recorder};
use alpr_engine::store::RecordId;
use alpr_protocol::bundle::{
    self, BundleKind, MANIFEST_FILE, Manifest, SIGNATURE_FILE, sha256_hex,
};
use alpr_protocol::{
    Action, Capture, Fix, FixQuality, GpsFix, KdfParams, Location, Outcome, PlateText, Region,
    Role, Timestamp,
};
use proptest::prelude::*;

const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200_000;
const CASE: &str = "26-0042";

fn node(dir: &Path) -> Node {
    let agency = Agency::init(
        &dir.join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rand::rng(),
    )
    .unwrap();
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: "car-1".into(),
                role: Role::Vehicle,
                not_before: Timestamp(T0 - 400 * DAY),
                not_after: Timestamp(T0 + 400 * DAY),
            },
            b"node passphrase",
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap();
    let path = dir.join("car-1.enroll");
    std::fs::write(&path, bundle.to_bytes()).unwrap();
    Node::init(
        &dir.join("car-1"),
        &path,
        b"node passphrase",
        &mut rand::rng(),
    )
    .unwrap()
}

/// Any f32 a confidence may be: the whole of 0..=1, not round values.
fn unit() -> impl Strategy<Value = f32> {
    prop_oneof![
        (0u32..=0x3F80_0000).prop_map(f32::from_bits),
        Just(0.0f32),
        Just(1.0f32),
        Just(-0.0f32),
        Just(f32::MIN_POSITIVE),
    ]
}

fn capture() -> impl Strategy<Value = Capture> {
    let plate = "[A-Z0-9]{1,10}";
    (
        plate,
        unit(),
        proptest::option::of(("[A-Z]{1,8}", unit())),
        "\\PC{1,64}",
        proptest::option::of((
            -90.0f64..=90.0,
            -180.0f64..=180.0,
            prop_oneof![
                (0u32..0x7F80_0000).prop_map(f32::from_bits),
                Just(f32::INFINITY)
            ],
        )),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..300)),
    )
        .prop_flat_map(|(plate, conf, region, camera, loc, crop, overview)| {
            let n = plate.len();
            (
                Just((plate, conf, region, camera, loc, crop, overview)),
                proptest::collection::vec(unit(), n),
            )
        })
        .prop_map(
            |((plate, confidence, region, camera, loc, crop, overview), chars)| Capture {
                plate: PlateText::parse(&plate).unwrap(),
                region: region.map(|(code, confidence)| Region { code, confidence }),
                confidence,
                char_confidences: chars,
                camera: camera.chars().take(64).collect(),
                location: loc.map(|(lat, lon, accuracy_m)| Location {
                    lat,
                    lon,
                    accuracy_m,
                }),
                crop_jpeg: crop,
                overview_jpeg: overview,
                candidates: Vec::new(),
                fix: Fix::Unknown,
            },
        )
        .prop_flat_map(|c| (Just(c), fix()))
        .prop_map(|(c, fix)| Capture { fix, ..c })
}

/// Any fix a receiver could report, floats included (NaN and infinities too).
fn fix() -> impl Strategy<Value = Fix> {
    let quality = prop_oneof![
        Just(FixQuality::TwoD),
        Just(FixQuality::ThreeD),
        Just(FixQuality::Differential),
        Just(FixQuality::Rtk),
        Just(FixQuality::Estimated),
    ];
    prop_oneof![
        Just(Fix::Unknown),
        Just(Fix::NoFix),
        Just(Fix::Surveyed),
        (
            quality,
            any::<Option<u8>>(),
            any::<Option<f32>>(),
            any::<Option<f32>>(),
            any::<u32>()
        )
            .prop_map(|(quality, satellites, speed_mps, heading_deg, age_ms)| {
                Fix::Gps(GpsFix {
                    quality,
                    satellites,
                    speed_mps,
                    heading_deg,
                    age_ms,
                })
            }),
    ]
}

fn audit_entry() -> impl Strategy<Value = AuditEntry> {
    (
        "\\PC{0,40}",
        "\\PC{0,200}",
        proptest::option::of("\\PC{0,80}"),
        prop_oneof![
            Just(Outcome::Success),
            "\\PC{0,80}".prop_map(Outcome::Refused),
            "\\PC{0,80}".prop_map(Outcome::Failed),
        ],
    )
        .prop_map(|(user, object, purpose, outcome)| AuditEntry {
            user,
            action: Action::Search,
            object,
            purpose,
            case: Some(CASE.into()),
            outcome,
            floors: Vec::new(),
        })
}

fn request() -> BundleRequest {
    BundleRequest {
        kind: BundleKind::Evidence,
        case: CASE.into(),
        exported_by: "chief".into(),
        purpose: "investigation".into(),
        release: None,
        now: Timestamp(T0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_bundle_written_passes_its_own_check(
        captures in proptest::collection::vec(capture(), 1..12),
        audits in proptest::collection::vec(audit_entry(), 0..6),
        offset in 0i64..(300 * DAY),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let node = node(dir.path());
        let mut rec = Recorder::load(&node).unwrap();
        let at = Timestamp(T0 - offset);
        let stored = rec
            .record_reads(
                &node,
                captures.into_iter().enumerate().map(|(i, c)| (Timestamp(at.0 + i as i64), c)).collect(),
                &mut rand::rng(),
            )
            .unwrap();
        if !audits.is_empty() {
            rec.record_audits(&node, Timestamp(T0), audits, &mut rand::rng()).unwrap();
        }
        let ids: Vec<RecordId> = stored
            .iter()
            .map(|r| RecordId { origin: r.read().origin, seq: r.read().seq })
            .collect();
        let built = build_bundle(&node, &ids, &request()).unwrap();
        let report = alpr_protocol::bundle::verify(&built.files, Some(node.trust.agency()));
        prop_assert!(report.ok(), "problems: {:?}", report.problems);
        prop_assert_eq!(report.reads, ids.len() as u64);
    }
}

/// The readable copy is held to the signed record: a confidence one ULP
/// off, written back with a valid manifest hash, is still named.
#[test]
fn a_readable_copy_one_ulp_off_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let node = node(dir.path());
    let mut rec = Recorder::load(&node).unwrap();
    let mut c = Capture {
        plate: PlateText::parse("4GHJ552").unwrap(),
        region: None,
        confidence: 0.9,
        char_confidences: vec![0.93; 7],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        overview_jpeg: None,
        candidates: Vec::new(),
    };
    c.confidence = 0.912_345_7;
    let stored = rec
        .record_reads(&node, vec![(Timestamp(T0), c)], &mut rand::rng())
        .unwrap();
    let id = RecordId {
        origin: stored[0].read().origin,
        seq: stored[0].read().seq,
    };
    let built = build_bundle(&node, &[id], &request()).unwrap();
    let mut files = built.files.clone();
    let rel = files
        .keys()
        .find(|p| p.starts_with("reads/") && p.ends_with(".json"))
        .unwrap()
        .clone();
    let mut doc: serde_json::Value = serde_json::from_slice(&files[&rel]).unwrap();
    let genuine = f64::from(0.912_345_7f32);
    doc["confidence"] = serde_json::Value::from(f64::from_bits(genuine.to_bits() + 1));
    let altered = serde_json::to_vec_pretty(&doc).unwrap();
    // A dishonest exporter re-signs the manifest over the altered copy.
    let mut manifest: Manifest = serde_json::from_slice(&files[MANIFEST_FILE]).unwrap();
    for entry in &mut manifest.files {
        if entry.path == rel {
            entry.sha256 = sha256_hex(&altered);
            entry.bytes = altered.len() as u64;
        }
    }
    files.insert(rel.clone(), altered);
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let signature = node.node_key.sign(&manifest_bytes);
    files.insert(MANIFEST_FILE.into(), manifest_bytes);
    files.insert(SIGNATURE_FILE.into(), hex::encode(signature).into_bytes());
    let report = bundle::verify(&files, Some(node.trust.agency()));
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].path, rel);
    assert_eq!(
        report.problems[0].what,
        "confidence differs from the signed record (4GHJ552)"
    );
}

/// An audit event is bounded whatever it was handed: a 100 MB object and a
/// 9 MiB user name are kept cut, with a marker, so the chain still verifies
/// and the case still exports.
#[test]
fn a_huge_audit_entry_is_kept_cut_and_the_case_still_exports() {
    let dir = tempfile::tempdir().unwrap();
    let node = node(dir.path());
    let mut rec = Recorder::load(&node).unwrap();
    let entry = AuditEntry {
        user: "u".repeat(9 * 1024 * 1024),
        action: Action::Import,
        object: format!("import line 1: region {}", "R".repeat(100_000_000)),
        purpose: Some("p".repeat(5_000_000)),
        case: Some(CASE.into()),
        outcome: Outcome::Failed("e".repeat(1_000_000)),
        floors: Vec::new(),
    };
    let stored = rec
        .record_audits(&node, Timestamp(T0), vec![entry], &mut rand::rng())
        .unwrap();
    let body = &stored[0].event().body;
    assert!(body.user.len() <= alpr_protocol::AUDIT_USER_BYTES_MAX);
    assert!(body.object.len() <= alpr_protocol::AUDIT_TEXT_BYTES_MAX);
    assert!(body.object.starts_with("import line 1: region RRR"));
    assert!(
        body.object.ends_with("[cut: 100000022 bytes in all]"),
        "{}",
        &body.object[4000..]
    );
    assert!(alpr_engine::verify::verify(&node).unwrap().ok());
    let built = build_bundle(&node, &[], &request()).unwrap();
    let manifest = built.manifest.clone();
    assert_eq!(manifest.audit_events, 1);
    assert!(alpr_protocol::bundle::verify(&built.files, None).ok());
}

/// A bundle of the first format (audit copies with Rust names for the
/// action and outcome) still verifies, and an altered copy of it does not.
#[test]
fn a_bundle_of_the_first_format_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let node = node(dir.path());
    let mut rec = Recorder::load(&node).unwrap();
    let c = Capture {
        plate: PlateText::parse("4GHJ552").unwrap(),
        region: None,
        confidence: 0.9,
        char_confidences: vec![0.93; 7],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        overview_jpeg: None,
        candidates: Vec::new(),
    };
    let stored = rec
        .record_reads(&node, vec![(Timestamp(T0), c)], &mut rand::rng())
        .unwrap();
    let entry = |action, outcome| AuditEntry {
        user: "chief".into(),
        action,
        object: "place hold for case 26-0042".into(),
        purpose: Some("investigation: hit and run".into()),
        case: Some(CASE.into()),
        outcome,
        floors: Vec::new(),
    };
    rec.record_audits(
        &node,
        Timestamp(T0),
        vec![
            entry(Action::EditHold, Outcome::Success),
            entry(Action::ViewRead, Outcome::Refused("no purpose".into())),
        ],
        &mut rand::rng(),
    )
    .unwrap();
    let id = RecordId {
        origin: stored[0].read().origin,
        seq: stored[0].read().seq,
    };
    let built = build_bundle(&node, &[id], &request()).unwrap();
    let genuine = built.files.clone();
    // As the first format wrote it: Rust names, no separate reason.
    let as_v1 = |tamper: bool| {
        let mut files = genuine.clone();
        let mut manifest: Manifest = serde_json::from_slice(&files[MANIFEST_FILE]).unwrap();
        manifest.format = "alpr-evidence/1".into();
        let audit: Vec<String> = files
            .keys()
            .filter(|p| p.starts_with("audit/") && p.ends_with(".json"))
            .cloned()
            .collect();
        assert_eq!(audit.len(), 2);
        for path in audit {
            let mut doc: serde_json::Value = serde_json::from_slice(&files[&path]).unwrap();
            let (action, outcome) = match doc["action"].as_str().unwrap() {
                "edit hold" => ("EditHold", "Success".to_string()),
                _ if tamper => ("Search", "Refused(\"no purpose\")".to_string()),
                _ => ("ViewRead", "Refused(\"no purpose\")".to_string()),
            };
            doc["action"] = action.into();
            doc["outcome"] = outcome.into();
            doc.as_object_mut().unwrap().remove("reason");
            let bytes = serde_json::to_vec_pretty(&doc).unwrap();
            for e in &mut manifest.files {
                if e.path == path {
                    e.sha256 = sha256_hex(&bytes);
                    e.bytes = bytes.len() as u64;
                }
            }
            files.insert(path, bytes);
        }
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        let signature = node.node_key.sign(&manifest_bytes);
        files.insert(MANIFEST_FILE.into(), manifest_bytes);
        files.insert(SIGNATURE_FILE.into(), hex::encode(signature).into_bytes());
        bundle::verify(&files, Some(node.trust.agency()))
    };
    let report = as_v1(false);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.audit_events, 2);
    let report = as_v1(true);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].what.contains("action"),
        "{:?}",
        report.problems
    );
}
