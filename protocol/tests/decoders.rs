//! Every decoder of outside input is total: random and mutated bytes are refused, never a panic.

use std::collections::BTreeMap;

use alpr_protocol::bundle::{self, MANIFEST_FILE};
use alpr_protocol::control::{self, ControlRequest, ControlResponse};
use alpr_protocol::{EnrollmentBundle, SignedCertificate, WrappedSecret};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn control_frames(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = control::decode_frame::<ControlRequest>(&bytes);
        let _ = control::decode_frame::<ControlResponse>(&bytes);
        if bytes.len() >= 4 {
            let _ = control::frame_len([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
    }

    #[test]
    fn key_files_bundles_and_certificates(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = WrappedSecret::parse(&bytes);
        let _ = EnrollmentBundle::parse(&bytes);
        let agency = alpr_protocol::AgencyId([7; 32]);
        let _ = SignedCertificate::from_bytes(bytes.clone()).verify(agency);
    }

    #[test]
    fn evidence_bundles(
        manifest in prop::collection::vec(any::<u8>(), 0..200),
        names in prop::collection::vec("[a-z/.]{1,20}", 0..6),
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 6),
    ) {
        let mut files = BTreeMap::new();
        files.insert(MANIFEST_FILE.to_string(), manifest);
        for (name, body) in names.into_iter().zip(bodies) {
            files.insert(name, body);
        }
        let report = bundle::verify(&files, None);
        prop_assert!(!report.ok());
    }

    #[test]
    fn evidence_manifests_that_parse_but_lie(reads in 0u64..5, paths in prop::collection::vec("(reads|audit|certs)/[a-z0-9-]{1,12}\\.(envelope|opening|json|cert)", 0..5)) {
        let manifest = serde_json::json!({
            "format": bundle::BUNDLE_FORMAT, "kind": "evidence", "case": "X", "agency": hex::encode([1u8; 32]),
            "exporting_node": hex::encode([2u8; 32]), "exported_by": "x", "exported_at": "t", "exported_at_ms": 0,
            "purpose": "p", "release": null, "reads": reads, "audit_events": 0,
            "files": paths.iter().map(|p| serde_json::json!({"path": p, "sha256": "00", "bytes": 1})).collect::<Vec<_>>(),
        });
        let mut files = BTreeMap::new();
        files.insert(MANIFEST_FILE.to_string(), serde_json::to_vec(&manifest).unwrap_or_default());
        files.insert(bundle::AGENCY_FILE.to_string(), hex::encode([1u8; 32]).into_bytes());
        for p in &paths {
            files.insert(p.clone(), vec![0x41; 130]);
        }
        prop_assert!(!bundle::verify(&files, None).ok());
    }
}
