//! Enrollment: the agency root key certifies each node (id, name, role, validity window).
//!
//! Certificate layout (see FORMAT.md, "Enrollment certificate"):
//! `"ALPC" | version u8 | body_len u16 BE | body (postcard Certificate) | signature[64]`,
//! signed by the agency root key over every byte before the signature.

use serde::{Deserialize, Serialize};

use crate::identity::{AgencyId, AgencyKey, DataKey, KeyId, NodeId};
use crate::keyfile::{KeyFileError, WrappedSecret};
use crate::time::Timestamp;

const CERT_MAGIC: &[u8; 4] = b"ALPC";
const CERT_VERSION: u8 = 1;
const CERT_BODY_BYTES_MAX: usize = 1024;
const NODE_NAME_LEN_MAX: usize = 64;

/// What a node is: a car, or a station that collects from cars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Vehicle,
    Station,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text.to_ascii_lowercase().as_str() {
            "vehicle" | "car" => Some(Role::Vehicle),
            "station" => Some(Role::Station),
            _ => None,
        }
    }

    /// The role in words, as people type and read it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Vehicle => "vehicle",
            Role::Station => "station",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The certified facts about a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub agency: AgencyId,
    pub node: NodeId,
    pub name: String,
    pub role: Role,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("certificate is truncated or malformed: {0}")]
    Malformed(String),
    #[error(
        "certificate format version {0} is not supported (this build reads version {CERT_VERSION})"
    )]
    UnsupportedVersion(u8),
    #[error(
        "certificate of node '{name}' belongs to another agency ({found:?}, expected {expected:?})"
    )]
    WrongAgency {
        name: String,
        found: AgencyId,
        expected: AgencyId,
    },
    #[error("certificate of node '{name}' has a bad signature: forged or altered")]
    BadSignature { name: String },
    #[error(
        "certificate of node '{name}' is not valid at {at} (valid {not_before} to {not_after})"
    )]
    NotValidAt {
        name: String,
        at: Timestamp,
        not_before: Timestamp,
        not_after: Timestamp,
    },
    #[error("node name '{0}' must be 1 to {NODE_NAME_LEN_MAX} printable characters")]
    BadName(String),
}

/// A certificate as bytes, signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCertificate {
    bytes: Vec<u8>,
}

/// A certificate whose signature was checked against a trusted agency key.
/// Only [`SignedCertificate::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    certificate: Certificate,
    signed: SignedCertificate,
    /// The node's key decompressed once: every record of the node is
    /// verified with it, and decompressing a point per record was a fifth
    /// of a station's work in the fleet simulator. `None` when the bytes are
    /// no curve point, so no signature by it verifies. Boxed: a
    /// decompressed point is 160 bytes, and certificates travel in the
    /// replica's checks by value.
    key: Option<Box<ed25519_dalek::VerifyingKey>>,
}

impl Certificate {
    pub fn sign(&self, agency_key: &AgencyKey) -> Result<SignedCertificate, CertificateError> {
        let name_ok = !self.name.is_empty()
            && self.name.chars().count() <= NODE_NAME_LEN_MAX
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err(CertificateError::BadName(self.name.clone()));
        }
        if self.agency != agency_key.id() {
            return Err(CertificateError::WrongAgency {
                name: self.name.clone(),
                found: self.agency,
                expected: agency_key.id(),
            });
        }
        let body =
            postcard::to_allocvec(self).map_err(|e| CertificateError::Malformed(e.to_string()))?;
        let body_len = u16::try_from(body.len())
            .ok()
            .filter(|len| usize::from(*len) <= CERT_BODY_BYTES_MAX)
            .ok_or_else(|| CertificateError::Malformed("body too long".into()))?;
        let mut bytes = Vec::with_capacity(7 + body.len() + 64);
        bytes.extend_from_slice(CERT_MAGIC);
        bytes.push(CERT_VERSION);
        bytes.extend_from_slice(&body_len.to_be_bytes());
        bytes.extend_from_slice(&body);
        let signature = agency_key.sign(&bytes);
        bytes.extend_from_slice(&signature);
        Ok(SignedCertificate { bytes })
    }

    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

impl SignedCertificate {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SignedCertificate { bytes }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Decodes the body without checking the signature: for error messages only.
    fn decode(&self) -> Result<(Certificate, usize), CertificateError> {
        let b = &self.bytes;
        if b.len() < 7 + 64 || &b[..4] != CERT_MAGIC {
            return Err(CertificateError::Malformed(format!(
                "{} bytes, expected ALPC header, body and 64-byte signature",
                b.len()
            )));
        }
        if b[4] != CERT_VERSION {
            return Err(CertificateError::UnsupportedVersion(b[4]));
        }
        let body_len = usize::from(u16::from_be_bytes([b[5], b[6]]));
        if body_len > CERT_BODY_BYTES_MAX || b.len() != 7 + body_len + 64 {
            return Err(CertificateError::Malformed(format!(
                "body length {body_len} does not match total length {}",
                b.len()
            )));
        }
        let (cert, rest) = postcard::take_from_bytes::<Certificate>(&b[7..7 + body_len])
            .map_err(|e| CertificateError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertificateError::Malformed("trailing bytes in body".into()));
        }
        Ok((cert, 7 + body_len))
    }

    /// Checks structure, agency and signature. Validity in time is checked
    /// separately against the moment that matters (now for a connection, the
    /// capture time for a record).
    pub fn verify(&self, agency: AgencyId) -> Result<VerifiedCertificate, CertificateError> {
        let (certificate, signed_len) = self.decode()?;
        if certificate.agency != agency {
            return Err(CertificateError::WrongAgency {
                name: certificate.name,
                found: certificate.agency,
                expected: agency,
            });
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&self.bytes[signed_len..]);
        if !agency.verify(&self.bytes[..signed_len], &signature) {
            return Err(CertificateError::BadSignature {
                name: certificate.name,
            });
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(certificate.node.as_bytes())
            .ok()
            .map(Box::new);
        Ok(VerifiedCertificate {
            certificate,
            signed: self.clone(),
            key,
        })
    }
}

impl VerifiedCertificate {
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Verifies a signature by the certified node, as
    /// [`NodeId::verify`] does (strict), with the key decompressed once.
    pub fn verify_signature(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key.as_ref().is_some_and(|key| {
            key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
                .is_ok()
        })
    }

    pub fn signed(&self) -> &SignedCertificate {
        &self.signed
    }

    pub fn check_valid_at(&self, at: Timestamp) -> Result<(), CertificateError> {
        let c = &self.certificate;
        if c.is_valid_at(at) {
            Ok(())
        } else {
            Err(CertificateError::NotValidAt {
                name: c.name.clone(),
                at,
                not_before: c.not_before,
                not_after: c.not_after,
            })
        }
    }
}

const BUNDLE_MAGIC: &[u8; 8] = b"ALPRENR2";
/// Bundles written before they named their data key.
const BUNDLE_MAGIC_V1: &[u8; 8] = b"ALPRENR1";
/// Context of the agency's signature binding a certificate to its data key.
const BINDING_CONTEXT: &[u8; 8] = b"ALPRENB1";
const BUNDLE_BYTES_MAX: usize = 16 * 1024;

/// What `agency enroll` hands a new node on portable media: its certificate,
/// its signing key and the agency data key (both wrapped under the bundle
/// passphrase), and the agency public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentBundle {
    pub agency: AgencyId,
    pub certificate: SignedCertificate,
    pub node_key: WrappedSecret,
    pub data_key: WrappedSecret,
    /// The id of the agency data key the bundle carries, and the agency's
    /// signature over `ALPRENB1 ‖ certificate ‖ that id`: a bundle cannot
    /// pair a genuine certificate with another agency's data key.
    pub data_key_id: KeyId,
    pub binding: [u8; 64],
}

#[derive(Serialize, Deserialize)]
struct BundleWire {
    agency: AgencyId,
    certificate: Vec<u8>,
    node_key: Vec<u8>,
    data_key: Vec<u8>,
    data_key_id: [u8; 8],
    binding: Vec<u8>,
}

/// The bytes the agency signs to bind a certificate to its data key.
pub fn binding_message(certificate: &SignedCertificate, data_key_id: KeyId) -> Vec<u8> {
    let mut out = BINDING_CONTEXT.to_vec();
    out.extend_from_slice(certificate.as_bytes());
    out.extend_from_slice(&data_key_id.0);
    out
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("not an enrollment bundle (expected ALPRENR2 and at most {BUNDLE_BYTES_MAX} bytes)")]
    NotABundle,
    #[error(
        "this enrollment bundle (ALPRENR1) was made before bundles named their agency's data key: enroll the node again"
    )]
    OldVersion,
    #[error(
        "the bundle's data key is not the one its agency signed for this certificate (its id is {found}, the agency's {signed})"
    )]
    ForeignDataKey { found: KeyId, signed: KeyId },
    #[error("the agency's signature binding this certificate to its data key does not verify")]
    BadBinding,
    #[error("enrollment bundle is malformed: {0}")]
    Malformed(String),
    #[error("enrollment bundle: {0}")]
    Certificate(#[from] CertificateError),
    #[error("enrollment bundle key: {0}")]
    Key(#[from] KeyFileError),
}

impl EnrollmentBundle {
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = BundleWire {
            agency: self.agency,
            certificate: self.certificate.as_bytes().to_vec(),
            node_key: self.node_key.as_bytes().to_vec(),
            data_key: self.data_key.as_bytes().to_vec(),
            data_key_id: self.data_key_id.0,
            binding: self.binding.to_vec(),
        };
        let mut out = BUNDLE_MAGIC.to_vec();
        // Invariant: postcard cannot fail to encode this plain struct into a Vec.
        out.extend(postcard::to_allocvec(&wire).unwrap_or_default());
        out
    }

    /// Parses the bundle and checks that the certificate was signed by the bundle's agency.
    pub fn parse(bytes: &[u8]) -> Result<(Self, VerifiedCertificate), BundleError> {
        if bytes.len() >= 8 && &bytes[..8] == BUNDLE_MAGIC_V1 {
            return Err(BundleError::OldVersion);
        }
        if bytes.len() > BUNDLE_BYTES_MAX || bytes.len() < 8 || &bytes[..8] != BUNDLE_MAGIC {
            return Err(BundleError::NotABundle);
        }
        let (wire, rest) = postcard::take_from_bytes::<BundleWire>(&bytes[8..])
            .map_err(|e| BundleError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(BundleError::Malformed("trailing bytes".into()));
        }
        let certificate = SignedCertificate::from_bytes(wire.certificate);
        let verified = certificate.verify(wire.agency)?;
        let bundle = EnrollmentBundle {
            agency: wire.agency,
            certificate,
            node_key: WrappedSecret::parse(&wire.node_key)?,
            data_key: WrappedSecret::parse(&wire.data_key)?,
            data_key_id: KeyId(wire.data_key_id),
            binding: <[u8; 64]>::try_from(wire.binding.as_slice())
                .map_err(|_| BundleError::Malformed("binding is not 64 bytes".into()))?,
        };
        if !bundle.agency.verify(
            &binding_message(&bundle.certificate, bundle.data_key_id),
            &bundle.binding,
        ) {
            return Err(BundleError::BadBinding);
        }
        Ok((bundle, verified))
    }

    /// Checks that the unwrapped data key is the one the agency signed for.
    pub fn check_data_key(&self, key: &DataKey) -> Result<(), BundleError> {
        if key.id() != self.data_key_id {
            return Err(BundleError::ForeignDataKey {
                found: key.id(),
                signed: self.data_key_id,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::NodeKey;

    fn cert(agency: &AgencyKey, node: &NodeKey) -> Certificate {
        Certificate {
            agency: agency.id(),
            node: node.id(),
            name: "car-12".into(),
            role: Role::Vehicle,
            not_before: Timestamp(1_000),
            not_after: Timestamp(2_000),
        }
    }

    #[test]
    fn verifies_under_its_agency_only() {
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let other = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        let signed = cert(&agency, &node).sign(&agency).unwrap();
        let v = signed.verify(agency.id()).unwrap();
        assert_eq!(v.certificate().node, node.id());
        assert!(matches!(
            signed.verify(other.id()),
            Err(CertificateError::WrongAgency { .. })
        ));
    }

    #[test]
    fn forged_and_expired_certificates_are_refused() {
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let forger = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        // A forger signs a body that claims the real agency.
        let mut forged = cert(&forger, &node)
            .sign(&forger)
            .unwrap()
            .as_bytes()
            .to_vec();
        forged[7..39].copy_from_slice(agency.id().as_bytes());
        let forged = SignedCertificate::from_bytes(forged);
        assert!(matches!(
            forged.verify(agency.id()),
            Err(CertificateError::BadSignature { .. })
        ));
        let v = cert(&agency, &node)
            .sign(&agency)
            .unwrap()
            .verify(agency.id())
            .unwrap();
        assert!(v.check_valid_at(Timestamp(1_500)).is_ok());
        assert!(matches!(
            v.check_valid_at(Timestamp(2_001)),
            Err(CertificateError::NotValidAt { .. })
        ));
    }

    #[test]
    fn truncated_certificates_never_panic() {
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        let bytes = cert(&agency, &node)
            .sign(&agency)
            .unwrap()
            .as_bytes()
            .to_vec();
        for len in 0..bytes.len() {
            let c = SignedCertificate::from_bytes(bytes[..len].to_vec());
            assert!(c.verify(agency.id()).is_err());
        }
    }

    #[test]
    fn a_bundle_cannot_carry_another_agencys_data_key() {
        use crate::keyfile::{KdfParams, SecretKind};
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        let ours = DataKey::generate(&mut rng);
        let theirs = DataKey::generate(&mut rng);
        let pass = b"node passphrase";
        let wrap = |k: &DataKey, rng: &mut rand::rngs::ThreadRng| {
            WrappedSecret::wrap(
                SecretKind::DataKey,
                k.as_bytes(),
                pass,
                KdfParams::INSECURE_FAST,
                rng,
            )
            .unwrap()
        };
        let certificate = cert(&agency, &node).sign(&agency).unwrap();
        let binding = agency.sign(&binding_message(&certificate, ours.id()));
        let genuine = EnrollmentBundle {
            agency: agency.id(),
            certificate: certificate.clone(),
            node_key: WrappedSecret::wrap(
                SecretKind::NodeKey,
                &node.secret_bytes(),
                pass,
                KdfParams::INSECURE_FAST,
                &mut rng,
            )
            .unwrap(),
            data_key: wrap(&ours, &mut rng),
            data_key_id: ours.id(),
            binding,
        };
        let (parsed, _) = EnrollmentBundle::parse(&genuine.to_bytes()).unwrap();
        parsed.check_data_key(&ours).unwrap();

        // Another agency's key in a genuine bundle: the signed id names ours.
        let swapped = EnrollmentBundle {
            data_key: wrap(&theirs, &mut rng),
            ..genuine.clone()
        };
        let (parsed, _) = EnrollmentBundle::parse(&swapped.to_bytes()).unwrap();
        assert!(matches!(
            parsed.check_data_key(&theirs),
            Err(BundleError::ForeignDataKey { .. })
        ));
        // Changing the id too breaks the agency's signature.
        let relabelled = EnrollmentBundle {
            data_key_id: theirs.id(),
            ..swapped
        };
        assert_eq!(
            EnrollmentBundle::parse(&relabelled.to_bytes()),
            Err(BundleError::BadBinding)
        );
        // A bundle of the first format is refused by name.
        let mut old = genuine.to_bytes();
        old[..8].copy_from_slice(b"ALPRENR1");
        assert_eq!(EnrollmentBundle::parse(&old), Err(BundleError::OldVersion));
    }
}
