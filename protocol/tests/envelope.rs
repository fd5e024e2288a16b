//! Envelope round trips and rejection of every kind of damage.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_protocol::{
    Action, AgencyKey, AuditBody, Capture, Certificate, DataKey, EnvelopeError, NodeKey, Outcome,
    PlateText, Region, Role, Sealer, Timestamp, Trust,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

struct Fleet {
    agency: AgencyKey,
    node: NodeKey,
    data: DataKey,
    trust: Trust,
}

fn fleet(seed: u64) -> Fleet {
    let mut rng = StdRng::seed_from_u64(seed);
    let agency = AgencyKey::generate(&mut rng);
    let node = NodeKey::generate(&mut rng);
    let data = DataKey::generate(&mut rng);
    let cert = Certificate {
        agency: agency.id(),
        node: node.id(),
        name: "car-7".into(),
        role: Role::Vehicle,
        not_before: Timestamp(0),
        not_after: Timestamp(10_000_000),
    }
    .sign(&agency)
    .unwrap()
    .verify(agency.id())
    .unwrap();
    let mut trust = Trust::new(agency.id());
    trust.add_certificate(cert).unwrap();
    trust.add_data_key(data.clone());
    Fleet {
        agency,
        node,
        data,
        trust,
    }
}

fn body(plate: &str) -> Capture {
    Capture {
        plate: PlateText::parse(plate).unwrap(),
        region: Some(Region {
            code: "CA".into(),
            confidence: 0.9,
        }),
        confidence: 0.97,
        char_confidences: vec![0.99; plate.len()],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: (0..200u32).map(|i| (i * 7) as u8).collect(),
        overview_jpeg: None,
        candidates: Vec::new(),
    }
}

fn sealed_read(f: &Fleet, seq: u64) -> Vec<u8> {
    let sealer = Sealer {
        node_key: &f.node,
        data_key: &f.data,
    };
    sealer
        .seal_read(
            seq,
            Timestamp(5_000),
            body("7ABC123"),
            &mut StdRng::seed_from_u64(seq),
        )
        .read
        .envelope()
        .to_vec()
}

#[test]
fn read_round_trips() {
    let f = fleet(1);
    let bytes = sealed_read(&f, 3);
    let v = f.trust.open_read(&bytes).unwrap();
    assert_eq!(v.read().seq, 3);
    assert_eq!(v.read().origin, f.node.id());
    assert_eq!(v.read().body, body("7ABC123").split().0);
    assert_eq!(v.envelope(), &bytes[..]);
}

#[test]
fn images_are_records_of_their_own_that_the_read_commits_to() {
    let f = fleet(11);
    let sealer = Sealer {
        node_key: &f.node,
        data_key: &f.data,
    };
    let mut capture = body("7ABC123");
    capture.overview_jpeg = Some(vec![0xFF, 0xD8, 0xFF, 0xE1, 9, 9]);
    let sealed = sealer.seal_read(4, Timestamp(5_000), capture.clone(), &mut rand::rng());
    assert_eq!(sealed.images.len(), 2);
    let read = f.trust.open_read(sealed.read.envelope()).unwrap();
    for image in &sealed.images {
        let opened = f.trust.open_image(image.envelope()).unwrap();
        assert_eq!((opened.seq, opened.origin), (4, f.node.id()));
        let reference = match opened.kind {
            alpr_protocol::ImageKind::PlateCrop => read.read().body.crop.unwrap(),
            alpr_protocol::ImageKind::Overview => read.read().body.overview.unwrap(),
        };
        assert!(reference.matches(&opened.jpeg));
        assert!(
            f.trust.open_read(image.envelope()).is_err(),
            "an image is not a read"
        );
    }
    assert!(
        f.trust.open_image(sealed.read.envelope()).is_err(),
        "a read is not an image"
    );
    // A read without a crop commits to none and seals no image.
    capture.crop_jpeg.clear();
    capture.overview_jpeg = None;
    let bare = sealer.seal_read(5, Timestamp(5_000), capture, &mut rand::rng());
    assert!(bare.images.is_empty() && bare.read.read().body.crop.is_none());
}

#[test]
fn audit_event_round_trips_and_is_not_a_read() {
    let f = fleet(2);
    let sealer = Sealer {
        node_key: &f.node,
        data_key: &f.data,
    };
    let ev = sealer.seal_audit(
        1,
        Timestamp(6_000),
        AuditBody {
            user: "jsmith".into(),
            action: Action::Search,
            object: "plate 7ABC123".into(),
            purpose: Some("stolen vehicle".into()),
            case: Some("24-001".into()),
            outcome: Outcome::Success,
            prev_hash: [0; 32],
            floors: Vec::new(),
        },
        &mut rand::rng(),
    );
    let opened = f.trust.open_audit(ev.envelope()).unwrap();
    assert_eq!(opened.event(), ev.event());
    assert!(matches!(
        f.trust.open_read(ev.envelope()),
        Err(EnvelopeError::WrongKind { .. })
    ));
    // Audit events and reads are written as format 2 (each body grew a
    // field); a version no layout has is refused by name.
    assert_eq!(ev.envelope()[4], 2);
    let mut read = sealed_read(&f, 1);
    assert_eq!(read[4], 2);
    read[4] = 3;
    assert_eq!(
        alpr_protocol::envelope::Envelope::parse(&read).unwrap_err(),
        EnvelopeError::UnsupportedVersion(3)
    );
}

#[test]
fn wrong_data_key_is_an_unknown_key_id() {
    let f = fleet(3);
    let bytes = sealed_read(&f, 1);
    let mut other = Trust::new(f.agency.id());
    other
        .add_certificate(f.trust.certificate(&f.node.id()).unwrap().clone())
        .unwrap();
    other.add_data_key(DataKey::from_bytes([9; 32]));
    assert!(matches!(
        other.open_read(&bytes),
        Err(EnvelopeError::UnknownKeyId(_))
    ));
}

#[test]
fn a_node_of_another_agency_is_unknown() {
    let f = fleet(4);
    let g = fleet(5);
    let bytes = sealed_read(&g, 1);
    assert!(matches!(
        f.trust.open_read(&bytes),
        Err(EnvelopeError::UnknownOrigin(_))
    ));
    // And its certificate cannot be added to this agency's trust.
    let cert = g.trust.certificate(&g.node.id()).unwrap().clone();
    let mut t = f.trust.clone();
    assert!(t.add_certificate(cert).is_err());
}

#[test]
fn a_record_outside_its_certificate_window_is_refused() {
    let f = fleet(6);
    let sealer = Sealer {
        node_key: &f.node,
        data_key: &f.data,
    };
    let late = sealer.seal_read(1, Timestamp(10_000_001), body("ABC"), &mut rand::rng());
    assert!(matches!(
        f.trust.open_read(late.read.envelope()),
        Err(EnvelopeError::Certificate(_))
    ));
}

#[test]
fn every_truncation_is_rejected_without_panic() {
    let f = fleet(7);
    let bytes = sealed_read(&f, 1);
    for len in 0..bytes.len() {
        assert!(
            f.trust.open_read(&bytes[..len]).is_err(),
            "accepted {len} bytes"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        f.trust.open_read(&longer),
        Err(EnvelopeError::LengthMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Flipping any bit of any byte (header, nonce, body, tag or signature) is detected.
    #[test]
    fn any_single_byte_change_is_rejected(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = fleet(8);
        let mut bytes = sealed_read(&f, 1);
        let at = index.index(bytes.len());
        bytes[at] ^= flip;
        prop_assert!(f.trust.open_read(&bytes).is_err(), "byte {} ^ {:#x} accepted", at, flip);
    }

    /// Image records are not signed, but the seal covers every byte: any change is rejected.
    #[test]
    fn any_single_byte_change_to_an_image_is_rejected(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = fleet(10);
        let sealer = Sealer { node_key: &f.node, data_key: &f.data };
        let sealed = sealer.seal_read(1, Timestamp(5_000), body("7ABC123"), &mut StdRng::seed_from_u64(3));
        let mut bytes = sealed.images[0].envelope().to_vec();
        let at = index.index(bytes.len());
        bytes[at] ^= flip;
        prop_assert!(f.trust.open_image(&bytes).is_err(), "byte {} ^ {:#x} accepted", at, flip);
    }

    /// Decoding arbitrary bytes never panics.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let f = fleet(9);
        let _ = f.trust.open_read(&bytes);
        let _ = f.trust.open_audit(&bytes);
    }
}
