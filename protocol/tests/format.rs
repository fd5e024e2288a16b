//! The byte formats of FORMAT.md, pinned: snapshot tests, and checks that
//! use only the raw primitives (as an outside expert would) at the documented offsets.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_protocol::{
    AgencyKey, Capture, Certificate, DataKey, KdfParams, NodeKey, PlateText, Region, Role, Sealer,
    SecretKind, Timestamp, WrappedSecret,
};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, VerifyingKey};
use expect_test::expect;
use rand::SeedableRng;
use rand::rngs::StdRng;

struct Keys {
    agency: AgencyKey,
    node: NodeKey,
    data: DataKey,
}

fn keys() -> Keys {
    let mut rng = StdRng::seed_from_u64(2026);
    Keys {
        agency: AgencyKey::generate(&mut rng),
        node: NodeKey::generate(&mut rng),
        data: DataKey::generate(&mut rng),
    }
}

fn read_envelope(k: &Keys) -> Vec<u8> {
    let body = Capture {
        plate: PlateText::parse("7ABC123").unwrap(),
        region: Some(Region {
            code: "CA".into(),
            confidence: 0.5,
        }),
        confidence: 0.75,
        char_confidences: vec![1.0; 7],
        camera: "front".into(),
        location: Some(alpr_protocol::Location {
            lat: 37.774_929,
            lon: -122.419_416,
            accuracy_m: 4.5,
        }),
        fix: alpr_protocol::Fix::Gps(alpr_protocol::GpsFix {
            quality: alpr_protocol::FixQuality::ThreeD,
            satellites: Some(9),
            speed_mps: Some(13.4),
            heading_deg: Some(271.5),
            age_ms: 420,
        }),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        overview_jpeg: None,
        candidates: Vec::new(),
    };
    Sealer {
        node_key: &k.node,
        data_key: &k.data,
    }
    .seal_read(
        42,
        Timestamp(1_795_000_000_000),
        body,
        &mut StdRng::seed_from_u64(1),
    )
    .read
    .envelope()
    .to_vec()
}

#[test]
fn read_envelope_bytes_are_pinned() {
    let bytes = read_envelope(&keys());
    expect!["414c50520201"].assert_eq(&hex::encode(&bytes[..6]));
    expect![[r#"000000000000002a"#]].assert_eq(&hex::encode(&bytes[38..46]));
    expect!["000001a1ee565e00"].assert_eq(&hex::encode(&bytes[46..54]));
    expect!["414c505202010f2d19c89c372ced756fd6314b51e407620bd9ce20556463780726e26375ba21000000000000002a000001a1ee565e0042758b4bf0d2dce56612fbe7d8005dd879a1d9d9fa1ba1f537b4517850450a251ce73bf5c7aa1a48611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6d000000af8dc8299b1df2ae9ee968211fc64588155639163045e47ec5b10abac4b61bc5a0d16515a922c70db8cafdd6b60afaa0c3ee49296bcfe67b6c1ea7394c84b84d89eebdde2fd574b35775d8192e6748d6bbf88228c05faf2b91e191fc70ddafa412af825aef11b4627859ce7d706e36798297af76de782b353f358fee83b94ff3850e598da38c3c8f3482e903a73d353b7617bb43801d7e1ccc394675bc06f25be39770b5bc2439379cd57a297ef9b012a27d5d8e52314e6f683e79e1ea1bc161e7f26a4d90bf395ee8bf3099985da42a5ea161ccbabd7c2d32d7f6404415ae0ab82173359a753b7ac811b34ccd891801"].assert_eq(&hex::encode(&bytes));
}

#[test]
fn read_envelope_checks_out_with_raw_primitives_at_documented_offsets() {
    let k = keys();
    let bytes = read_envelope(&k);
    // Header fields.
    assert_eq!(&bytes[0..4], b"ALPR");
    assert_eq!(bytes[4], 2, "format version: reads are written as 2");
    assert_eq!(bytes[5], 1, "kind: read");
    assert_eq!(&bytes[6..38], k.node.id().as_bytes());
    assert_eq!(u64::from_be_bytes(bytes[38..46].try_into().unwrap()), 42);
    assert_eq!(
        i64::from_be_bytes(bytes[46..54].try_into().unwrap()),
        1_795_000_000_000
    );
    assert_eq!(&bytes[54..62], &k.data.id().0);
    let n = u32::from_be_bytes(bytes[118..122].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 122 + n + 64);
    // Signature: plain Ed25519 over bytes 0..122+N, by the origin's key.
    let vk = VerifyingKey::from_bytes(k.node.id().as_bytes()).unwrap();
    let sig = Signature::from_bytes(bytes[122 + n..].try_into().unwrap());
    vk.verify_strict(&bytes[..122 + n], &sig).unwrap();
    // Seal: XChaCha20-Poly1305 under the data key, AAD = bytes 0..118.
    let nonce: [u8; 24] = bytes[94..118].try_into().unwrap();
    let opening = XChaCha20Poly1305::new(k.data.as_bytes().into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &bytes[122..122 + n],
                aad: &bytes[..118],
            },
        )
        .unwrap();
    // Commitment: SHA-256 of the opening, at offset 62.
    use sha2::Digest;
    assert_eq!(&bytes[62..94], sha2::Sha256::digest(&opening).as_slice());
    // Body after the 32-byte salt: postcard; the plate is the first field, a varint length and its bytes.
    let plain = &opening[32..];
    assert_eq!(plain[0], 7);
    assert_eq!(&plain[1..8], b"7ABC123");
    expect!["0737414243313233010243410000003f0000403f070000803f0000803f0000803f0000803f0000803f0000803f0000803f0566726f6e74016adc9bdf30e34240d3da34b6d79a5ec0000090400132461d5bd1773012acef0ba15636752949bd7c2ce50f9172159d9f56cf0dd9af04000301010901666656410100c08743a403"].assert_eq(&hex::encode(plain));
}

/// A read written before fixes were recorded (format 1, these bytes were
/// pinned then): it still opens, with the fix unknown.
const READ_FORMAT_1: &str = "414c505201010f2d19c89c372ced756fd6314b51e407620bd9ce20556463780726e26375ba21000000000000002a000001a1ee565e0042758b4bf0d2dce575bf2a1439f0c22fa849fe4973471fa8534851f65a3407d8522b6cc56b2ca98c611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6d0000008b8dc8299b1df2ae9ee968211fc64588155639163045e47ec5b10abac4b61bc5a0d16515a922c70db8cafdd6b60afaa0c3ee49296bcfe67b6c1ea7394c84b84d89eebdde2fd574b35775d8192e6748d6bbf88228c05faf2b908a7f21b2b69d91626ef4815267780acd7087504c43e1300ebe6b9c713c48d7ed3bddd87d1cf607215b1a8eb23376a511f02033ad6878e25657ddcc5c7bcb4a3004593a4bc0b1c2ffe58afddd719c739845679d59d17b5850df7c63ee35b5eb611305d6e2ddf81e53f738c3703fe17a561ef006";

#[test]
fn a_format_1_read_still_decodes_with_its_fix_unknown() {
    let k = keys();
    let bytes = hex::decode(READ_FORMAT_1).unwrap();
    assert_eq!(bytes[4], 1);
    let n = u32::from_be_bytes(bytes[118..122].try_into().unwrap()) as usize;
    let nonce: [u8; 24] = bytes[94..118].try_into().unwrap();
    let opening = XChaCha20Poly1305::new(k.data.as_bytes().into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &bytes[122..122 + n],
                aad: &bytes[..118],
            },
        )
        .unwrap();
    let body = alpr_protocol::ReadBody::decode(1, &opening[32..]).unwrap();
    assert_eq!(body.plate.as_str(), "7ABC123");
    assert_eq!(body.fix, alpr_protocol::Fix::Unknown);
    assert_eq!(body.location, None);
    // The same bytes read as format 2 lack the fix: refused, not guessed.
    assert!(alpr_protocol::ReadBody::decode(2, &opening[32..]).is_err());
    assert!(alpr_protocol::ReadBody::decode(3, &opening[32..]).is_err());
}

#[test]
fn certificate_bytes_are_pinned_and_check_out_with_raw_ed25519() {
    let k = keys();
    let cert = Certificate {
        agency: k.agency.id(),
        node: k.node.id(),
        name: "car-12".into(),
        role: Role::Vehicle,
        not_before: Timestamp(1_795_000_000_000),
        not_after: Timestamp(1_826_536_000_000),
    }
    .sign(&k.agency)
    .unwrap();
    let b = cert.as_bytes();
    assert_eq!(&b[..4], b"ALPC");
    assert_eq!(b[4], 1);
    let body_len = u16::from_be_bytes([b[5], b[6]]) as usize;
    assert_eq!(b.len(), 7 + body_len + 64);
    let vk = VerifyingKey::from_bytes(k.agency.id().as_bytes()).unwrap();
    vk.verify_strict(
        &b[..7 + body_len],
        &Signature::from_bytes(b[7 + body_len..].try_into().unwrap()),
    )
    .unwrap();
    expect!["414c5043010054f47fe6fe3327d6cead81f04dcd0a3e8a7320ea42a0aa35ba07167de9e6f32bdd0f2d19c89c372ced756fd6314b51e407620bd9ce20556463780726e26375ba21066361722d31320080f8b2e5bd6880a8bce0a86a36f6af2b823bcb4dcdd3002f802df4e648dc28fa30aabd034f3b68b424fa6816b4f65214122a0d3021ded41101f271cd615b1392cf85dbfcdc858b79f1389707"].assert_eq(&hex::encode(b));
}

#[test]
fn wrapped_secret_layout_is_pinned() {
    let w = WrappedSecret::wrap(
        SecretKind::DataKey,
        &[0x11; 32],
        b"passphrase",
        KdfParams::INSECURE_FAST,
        &mut StdRng::seed_from_u64(3),
    )
    .unwrap();
    let b = w.as_bytes();
    assert_eq!(b.len(), 109);
    expect!["414c50524b45593103000000400000000100000001ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e6daa2a2d9a3ee5933df5cfb0a5c9d9a6fe881382945b5a1eff802f82f70ba25269077fc190c205cc02189ff14132d8787e788ce48a130e0338"].assert_eq(&hex::encode(b));
}
