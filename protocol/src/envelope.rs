//! The record envelope: clear header, XChaCha20-Poly1305 sealed body, ed25519 signature.
//!
//! Layout (integers big-endian; FORMAT.md, "Record envelope"):
//!
//! ```text
//! 0   4  magic "ALPR"
//! 4   1  format version (1; audit events and reads 2: chain floors, GPS fix)
//! 5   1  kind (1 read, 2 audit event, 3 plate image, 4 overview, 5 alert, 6 disposition)
//! 6  32  origin node id (ed25519 public key)
//! 38  8  seq (u64)
//! 46  8  time (i64 ms since the Unix epoch)
//! 54  8  data key id
//! 62 32  commitment: SHA-256(opening), opening = salt[32] || postcard body
//! 94 24  nonce
//! 118 4  N = sealed length, tag included
//! 122 N  XChaCha20-Poly1305(data key, nonce, aad = bytes 0..118, opening)
//! 122+N 64 ed25519 signature by origin over bytes 0..122+N
//! ```
//!
//! The commitment lets an evidence bundle disclose one record's opening
//! (its plaintext) so that anyone can check it against the origin's
//! signature without the data key. The random salt keeps the commitment
//! from confirming guesses about low-entropy bodies such as audit events.
//!
//! Invariant: a [`VerifiedRead`] or [`VerifiedAuditEvent`] exists only if its
//! bytes passed [`Trust::open_read`] / [`Trust::open_audit`], or were made by
//! [`Sealer`] in this process (which signs and seals them itself).

use std::collections::HashMap;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::CryptoRng;
use sha2::{Digest, Sha256};

use crate::alert::{AlertBody, AlertItem, AlertRecord, DispositionBody};
use crate::enrollment::{CertificateError, VerifiedCertificate};
use crate::identity::{AgencyId, DataKey, KeyId, NodeId, NodeKey};
use crate::record::{
    AuditBody, AuditEvent, Capture, ImageBody, ImageKind, READ_BODY_VERSION, Read, ReadBody,
};
use crate::time::Timestamp;

const MAGIC: &[u8; 4] = b"ALPR";
/// The envelope layout's version: 1 for every kind. Audit events and reads
/// are written as 2, which differs only in the body's layout (the chain
/// floors of a purge, `AuditBody::floors`; a read's GPS fix,
/// `ReadBody::fix`); a reader takes 1 and 2 for them.
pub const ENVELOPE_VERSION: u8 = 1;
pub use crate::record::AUDIT_BODY_VERSION;
pub const HEADER_LEN: usize = 118;
const COMMITMENT_AT: usize = 62;
const NONCE_AT: usize = 94;
pub const SALT_LEN: usize = 32;
const PREFIX_LEN: usize = HEADER_LEN + 4;
const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;
/// Largest sealed body accepted: a plate crop plus an overview frame fit well within it.
pub const SEALED_BODY_BYTES_MAX: usize = 8 * 1024 * 1024;

/// What an envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Read = 1,
    AuditEvent = 2,
    PlateImage = 3,
    OverviewImage = 4,
    Alert = 5,
    Disposition = 6,
}

impl RecordKind {
    /// Reads and audit events carry their origin's signature. Image records
    /// do not: the read, which is signed, commits to each image by SHA-256,
    /// so an image is authentic exactly when it matches its read. Signing
    /// them too would double the signing work per read for nothing.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            RecordKind::Read | RecordKind::AuditEvent | RecordKind::Alert | RecordKind::Disposition
        )
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(RecordKind::Read),
            2 => Some(RecordKind::AuditEvent),
            3 => Some(RecordKind::PlateImage),
            4 => Some(RecordKind::OverviewImage),
            5 => Some(RecordKind::Alert),
            6 => Some(RecordKind::Disposition),
            _ => None,
        }
    }
}

/// The clear header: what a store or a peer may know without the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub kind: RecordKind,
    pub origin: NodeId,
    pub seq: u64,
    pub time: Timestamp,
    pub key_id: KeyId,
    /// SHA-256 of the opening (salt and body); see the module docs.
    pub commitment: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvelopeError {
    #[error("envelope truncated: {len} bytes, needs at least {needed}")]
    Truncated { len: usize, needed: usize },
    #[error("not a record envelope (bad magic)")]
    BadMagic,
    #[error(
        "envelope format version {0} is not supported (this build reads version {ENVELOPE_VERSION}, and {AUDIT_BODY_VERSION} for reads and audit events)"
    )]
    UnsupportedVersion(u8),
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    #[error("expected a {expected:?} envelope, found a {found:?}")]
    WrongKind {
        expected: RecordKind,
        found: RecordKind,
    },
    #[error("sealed body of {0} bytes exceeds the {SEALED_BODY_BYTES_MAX}-byte limit")]
    TooLarge(usize),
    #[error("envelope length {len} does not match its header (expected {expected})")]
    LengthMismatch { len: usize, expected: usize },
    #[error("origin {0:?} has no certificate from this agency")]
    UnknownOrigin(NodeId),
    #[error("origin certificate: {0}")]
    Certificate(#[from] CertificateError),
    #[error("bad signature: the record was altered or not signed by its origin {0:?}")]
    BadSignature(NodeId),
    #[error("unknown data key id {0}: sealed under another agency's or a retired key")]
    UnknownKeyId(KeyId),
    #[error("seal broken: the sealed body does not open under data key {0}")]
    SealBroken(KeyId),
    #[error("sealed body does not decode: {0}")]
    BadBody(String),
    #[error("the opening does not match the signed commitment")]
    CommitmentMismatch,
}

/// A structurally sound envelope, not yet verified or opened.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub header: Header,
    bytes: &'a [u8],
    nonce: [u8; 24],
    sealed_len: usize,
}

impl<'a> Envelope<'a> {
    /// Total: never panics on any input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() < PREFIX_LEN + TAG_LEN + SALT_LEN {
            return Err(EnvelopeError::Truncated {
                len: bytes.len(),
                needed: PREFIX_LEN + TAG_LEN + SALT_LEN,
            });
        }
        if &bytes[..4] != MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        let kind = RecordKind::from_byte(bytes[5]).ok_or(EnvelopeError::UnknownKind(bytes[5]))?;
        let known = bytes[4] == ENVELOPE_VERSION
            || (kind == RecordKind::AuditEvent && bytes[4] == AUDIT_BODY_VERSION)
            || (kind == RecordKind::Read && bytes[4] == READ_BODY_VERSION);
        if !known {
            return Err(EnvelopeError::UnsupportedVersion(bytes[4]));
        }
        let header = Header {
            version: bytes[4],
            kind,
            origin: NodeId(array(&bytes[6..38])),
            seq: u64::from_be_bytes(array(&bytes[38..46])),
            time: Timestamp(i64::from_be_bytes(array(&bytes[46..54]))),
            key_id: KeyId(array(&bytes[54..62])),
            commitment: array(&bytes[COMMITMENT_AT..NONCE_AT]),
        };
        let sealed_len = u32::from_be_bytes(array(&bytes[HEADER_LEN..PREFIX_LEN])) as usize;
        if sealed_len > SEALED_BODY_BYTES_MAX {
            return Err(EnvelopeError::TooLarge(sealed_len));
        }
        let signature_len = if kind.is_signed() { SIGNATURE_LEN } else { 0 };
        let expected = PREFIX_LEN + sealed_len + signature_len;
        if bytes.len() < expected {
            return Err(EnvelopeError::Truncated {
                len: bytes.len(),
                needed: expected,
            });
        }
        if bytes.len() != expected || sealed_len < TAG_LEN + SALT_LEN {
            return Err(EnvelopeError::LengthMismatch {
                len: bytes.len(),
                expected,
            });
        }
        Ok(Envelope {
            header,
            bytes,
            nonce: array(&bytes[NONCE_AT..HEADER_LEN]),
            sealed_len,
        })
    }

    /// Whether the signature verifies under the origin's key (the header's
    /// origin id); false for an unsigned kind.
    pub fn signature_valid(&self) -> bool {
        self.header.kind.is_signed()
            && self
                .header
                .origin
                .verify(self.signed_part(), &self.signature())
    }

    fn signed_part(&self) -> &'a [u8] {
        &self.bytes[..PREFIX_LEN + self.sealed_len]
    }

    fn signature(&self) -> [u8; 64] {
        array(&self.bytes[PREFIX_LEN + self.sealed_len..])
    }

    fn sealed(&self) -> &'a [u8] {
        &self.bytes[PREFIX_LEN..PREFIX_LEN + self.sealed_len]
    }
}

fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(slice);
    out
}

/// Checks an opening (salt and body) against the header's commitment.
pub fn check_opening(header: &Header, opening: &[u8]) -> Result<(), EnvelopeError> {
    let digest: [u8; 32] = Sha256::digest(opening).into();
    if opening.len() < SALT_LEN || digest != header.commitment {
        return Err(EnvelopeError::CommitmentMismatch);
    }
    Ok(())
}

/// Decodes the body from an opening (after its salt); total, never panics.
pub fn decode_body<T: serde::de::DeserializeOwned>(opening: &[u8]) -> Result<T, EnvelopeError> {
    let plain = opening
        .get(SALT_LEN..)
        .ok_or_else(|| EnvelopeError::BadBody("opening shorter than its salt".into()))?;
    let (body, rest) =
        postcard::take_from_bytes::<T>(plain).map_err(|e| EnvelopeError::BadBody(e.to_string()))?;
    if !rest.is_empty() {
        return Err(EnvelopeError::BadBody(format!(
            "{} trailing bytes",
            rest.len()
        )));
    }
    Ok(body)
}

/// Decodes an audit event's opening in the layout its header's version names.
pub fn decode_audit_body(header: &Header, opening: &[u8]) -> Result<AuditBody, EnvelopeError> {
    let plain = opening
        .get(SALT_LEN..)
        .ok_or_else(|| EnvelopeError::BadBody("opening shorter than its salt".into()))?;
    AuditBody::decode(header.version, plain).map_err(EnvelopeError::BadBody)
}

/// Decodes a read's opening in the layout its header's version names.
pub fn decode_read_body(header: &Header, opening: &[u8]) -> Result<ReadBody, EnvelopeError> {
    let plain = opening
        .get(SALT_LEN..)
        .ok_or_else(|| EnvelopeError::BadBody("opening shorter than its salt".into()))?;
    ReadBody::decode(header.version, plain).map_err(EnvelopeError::BadBody)
}

/// SHA-256 of a whole envelope: the link from an audit event to its predecessor.
pub fn envelope_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A read that was verified and opened (or sealed here), with its original bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRead {
    read: Read,
    bytes: Vec<u8>,
}

impl VerifiedRead {
    pub fn read(&self) -> &Read {
        &self.read
    }
    pub fn envelope(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_parts(self) -> (Read, Vec<u8>) {
        (self.read, self.bytes)
    }
}

/// A read sealed here, with the image records it commits to.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedRead {
    pub read: VerifiedRead,
    pub images: Vec<VerifiedImage>,
}

impl ImageKind {
    pub fn record_kind(self) -> RecordKind {
        match self {
            ImageKind::PlateCrop => RecordKind::PlateImage,
            ImageKind::Overview => RecordKind::OverviewImage,
        }
    }
}

/// An image record that was verified and opened (or sealed here).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedImage {
    pub origin: NodeId,
    /// The seq of the read it belongs to.
    pub seq: u64,
    pub captured_at: Timestamp,
    pub kind: ImageKind,
    pub jpeg: Vec<u8>,
    bytes: Vec<u8>,
}

impl VerifiedImage {
    pub fn envelope(&self) -> &[u8] {
        &self.bytes
    }
}

impl crate::record::Read {
    /// Whether `image` is the one this signed read commits to: the same
    /// origin, seq and capture time, and of the kind whose SHA-256 and
    /// length the read carries. The one rule every reader of an image
    /// applies (replication, search, verify, evidence).
    pub fn commits_to(&self, image: &VerifiedImage) -> bool {
        let reference = match image.kind {
            ImageKind::PlateCrop => self.body.crop,
            ImageKind::Overview => self.body.overview,
        };
        image.origin == self.origin
            && image.seq == self.seq
            && image.captured_at == self.captured_at
            && reference.is_some_and(|r| r.matches(&image.jpeg))
    }
}

/// [`ImageBody`] by reference: the same postcard bytes without copying the JPEG.
#[derive(serde::Serialize)]
struct ImageBodyRef<'a> {
    #[serde(with = "serde_bytes")]
    jpeg: &'a [u8],
}

/// An audit event that was verified and opened (or sealed here), with its original bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAuditEvent {
    event: AuditEvent,
    bytes: Vec<u8>,
}

impl VerifiedAuditEvent {
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }
    pub fn envelope(&self) -> &[u8] {
        &self.bytes
    }
    /// The value the next event of this origin must carry as `prev_hash`.
    pub fn hash(&self) -> [u8; 32] {
        envelope_hash(&self.bytes)
    }
}

/// An alert or disposition record whose signature and seal were checked
/// (or which this process sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAlertRecord {
    record: AlertRecord,
    bytes: Vec<u8>,
}

impl VerifiedAlertRecord {
    pub fn record(&self) -> &AlertRecord {
        &self.record
    }
    pub fn envelope(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_parts(self) -> (AlertRecord, Vec<u8>) {
        (self.record, self.bytes)
    }
}

/// Signs and seals this node's own records.
#[derive(Debug)]
pub struct Sealer<'k> {
    pub node_key: &'k NodeKey,
    pub data_key: &'k DataKey,
}

impl Sealer<'_> {
    /// Seals a captured read: the read record and one record per image, all
    /// with the read's seq and capture time.
    pub fn seal_read<R: CryptoRng + ?Sized>(
        &self,
        seq: u64,
        captured_at: Timestamp,
        capture: Capture,
        rng: &mut R,
    ) -> SealedRead {
        let (body, crop, overview) = capture.split();
        let plain = encode_body(&body);
        let bytes = self.seal_as(
            READ_BODY_VERSION,
            RecordKind::Read,
            seq,
            captured_at,
            &plain,
            rng,
        );
        let image = |kind: ImageKind, jpeg: Vec<u8>, rng: &mut R| {
            let plain = encode_body(&ImageBodyRef { jpeg: &jpeg });
            let bytes = self.seal(kind.record_kind(), seq, captured_at, &plain, rng);
            VerifiedImage {
                origin: self.node_key.id(),
                seq,
                captured_at,
                kind,
                jpeg,
                bytes,
            }
        };
        let crop = crop.map(|j| image(ImageKind::PlateCrop, j, rng));
        let overview = overview.map(|j| image(ImageKind::Overview, j, rng));
        SealedRead {
            read: VerifiedRead {
                read: Read {
                    origin: self.node_key.id(),
                    seq,
                    captured_at,
                    body,
                },
                bytes,
            },
            images: crop.into_iter().chain(overview).collect(),
        }
    }

    pub fn seal_audit<R: CryptoRng + ?Sized>(
        &self,
        seq: u64,
        time: Timestamp,
        body: AuditBody,
        rng: &mut R,
    ) -> VerifiedAuditEvent {
        self.seal_audit_as(AUDIT_BODY_VERSION, seq, time, body, rng)
    }

    /// Seals an audit event in the layout of format `version` (1 or 2).
    /// Nodes write 2; format 1 (which drops `floors`) is for tests that
    /// prove chains written before format 2 still verify.
    pub fn seal_audit_as<R: CryptoRng + ?Sized>(
        &self,
        version: u8,
        seq: u64,
        time: Timestamp,
        body: AuditBody,
        rng: &mut R,
    ) -> VerifiedAuditEvent {
        let version = if version == 1 { 1 } else { AUDIT_BODY_VERSION };
        let body = if version == 1 {
            AuditBody {
                floors: Vec::new(),
                ..body
            }
        } else {
            body
        };
        let plain = body.encode(version);
        let bytes = self.seal_as(version, RecordKind::AuditEvent, seq, time, &plain, rng);
        VerifiedAuditEvent {
            event: AuditEvent {
                origin: self.node_key.id(),
                seq,
                time,
                body,
            },
            bytes,
        }
    }

    /// Seals an alert (kind 5) or a disposition (kind 6) as record `seq`
    /// of this node's alerts, at `time`.
    pub fn seal_alert<R: CryptoRng + ?Sized>(
        &self,
        seq: u64,
        time: Timestamp,
        item: AlertItem,
        rng: &mut R,
    ) -> VerifiedAlertRecord {
        let (kind, plain) = match &item {
            AlertItem::Raised(a) => (RecordKind::Alert, encode_body(a.as_ref())),
            AlertItem::Disposed(d) => (RecordKind::Disposition, encode_body(d)),
        };
        let bytes = self.seal(kind, seq, time, &plain, rng);
        VerifiedAlertRecord {
            record: AlertRecord {
                origin: self.node_key.id(),
                seq,
                time,
                item,
            },
            bytes,
        }
    }

    fn seal<R: CryptoRng + ?Sized>(
        &self,
        kind: RecordKind,
        seq: u64,
        time: Timestamp,
        plain: &[u8],
        rng: &mut R,
    ) -> Vec<u8> {
        self.seal_as(ENVELOPE_VERSION, kind, seq, time, plain, rng)
    }

    /// Crate-visible so the envelope fuzz target (`fuzzing::envelope`) can
    /// seal arbitrary bodies and reach the decoders behind the seal.
    pub(crate) fn seal_as<R: CryptoRng + ?Sized>(
        &self,
        version: u8,
        kind: RecordKind,
        seq: u64,
        time: Timestamp,
        plain: &[u8],
        rng: &mut R,
    ) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut nonce);
        let mut opening = Vec::with_capacity(SALT_LEN + plain.len());
        opening.resize(SALT_LEN, 0);
        rng.fill_bytes(&mut opening[..SALT_LEN]);
        opening.extend_from_slice(plain);
        let commitment: [u8; 32] = Sha256::digest(&opening).into();
        let sealed_len = opening.len() + TAG_LEN;
        let mut bytes = Vec::with_capacity(PREFIX_LEN + sealed_len + SIGNATURE_LEN);
        bytes.extend_from_slice(MAGIC);
        bytes.push(version);
        bytes.push(kind as u8);
        bytes.extend_from_slice(self.node_key.id().as_bytes());
        bytes.extend_from_slice(&seq.to_be_bytes());
        bytes.extend_from_slice(&time.as_millis().to_be_bytes());
        bytes.extend_from_slice(&self.data_key.id().0);
        bytes.extend_from_slice(&commitment);
        bytes.extend_from_slice(&nonce);
        let cipher = XChaCha20Poly1305::new(self.data_key.as_bytes().into());
        // Invariant: XChaCha20-Poly1305 encryption only fails past 2^38 bytes,
        // far above SEALED_BODY_BYTES_MAX.
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &opening,
                    aad: &bytes[..HEADER_LEN],
                },
            )
            .unwrap_or_default();
        debug_assert_eq!(sealed.len(), sealed_len);
        bytes.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&sealed);
        if kind.is_signed() {
            let signature = self.node_key.sign(&bytes);
            bytes.extend_from_slice(&signature);
        }
        bytes
    }
}

fn encode_body<T: serde::Serialize>(body: &T) -> Vec<u8> {
    // Invariant: postcard encoding of these plain structs into a Vec cannot fail.
    postcard::to_allocvec(body).unwrap_or_default()
}

/// What a node trusts: its agency, the certificates of the nodes it knows, its data keys.
#[derive(Debug, Clone)]
pub struct Trust {
    agency: AgencyId,
    certificates: HashMap<NodeId, VerifiedCertificate>,
    data_keys: HashMap<KeyId, DataKey>,
}

impl Trust {
    pub fn new(agency: AgencyId) -> Self {
        Trust {
            agency,
            certificates: HashMap::new(),
            data_keys: HashMap::new(),
        }
    }

    pub fn agency(&self) -> AgencyId {
        self.agency
    }

    pub fn add_data_key(&mut self, key: DataKey) {
        self.data_keys.insert(key.id(), key);
    }

    /// Adds a certificate; it must be one of this agency's.
    pub fn add_certificate(&mut self, cert: VerifiedCertificate) -> Result<(), CertificateError> {
        let c = cert.certificate();
        if c.agency != self.agency {
            return Err(CertificateError::WrongAgency {
                name: c.name.clone(),
                found: c.agency,
                expected: self.agency,
            });
        }
        self.certificates.insert(c.node, cert);
        Ok(())
    }

    /// The nodes whose certificates this trust holds.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.certificates.keys().copied()
    }

    pub fn certificate(&self, node: &NodeId) -> Option<&VerifiedCertificate> {
        self.certificates.get(node)
    }

    /// Checks the origin's certificate (valid at the record's time) and signature,
    /// then opens the seal; returns the body's plaintext.
    fn verify_and_open(&self, env: &Envelope<'_>) -> Result<Vec<u8>, EnvelopeError> {
        let h = env.header;
        let cert = self
            .certificates
            .get(&h.origin)
            .ok_or(EnvelopeError::UnknownOrigin(h.origin))?;
        cert.check_valid_at(h.time)?;
        // The certificate's key is the origin's (it certifies `h.origin`),
        // decompressed once rather than per record.
        if h.kind.is_signed() && !cert.verify_signature(env.signed_part(), &env.signature()) {
            return Err(EnvelopeError::BadSignature(h.origin));
        }
        let key = self
            .data_keys
            .get(&h.key_id)
            .ok_or(EnvelopeError::UnknownKeyId(h.key_id))?;
        let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
        let opening = cipher
            .decrypt(
                &XNonce::from(env.nonce),
                Payload {
                    msg: env.sealed(),
                    aad: &env.bytes[..HEADER_LEN],
                },
            )
            .map_err(|_| EnvelopeError::SealBroken(h.key_id))?;
        check_opening(&h, &opening)?;
        Ok(opening)
    }

    fn open<T: serde::de::DeserializeOwned>(
        &self,
        bytes: &[u8],
        kind: RecordKind,
    ) -> Result<(Header, T), EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        if env.header.kind != kind {
            return Err(EnvelopeError::WrongKind {
                expected: kind,
                found: env.header.kind,
            });
        }
        let opening = self.verify_and_open(&env)?;
        let body = decode_body::<T>(&opening)?;
        Ok((env.header, body))
    }

    /// Verifies an envelope and returns its opening (salt and body), for
    /// disclosure in an evidence bundle.
    pub fn opening(&self, bytes: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        self.verify_and_open(&env)
    }

    pub fn open_read(&self, bytes: &[u8]) -> Result<VerifiedRead, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        if env.header.kind != RecordKind::Read {
            return Err(EnvelopeError::WrongKind {
                expected: RecordKind::Read,
                found: env.header.kind,
            });
        }
        let opening = self.verify_and_open(&env)?;
        let body = decode_read_body(&env.header, &opening)?;
        let h = env.header;
        Ok(VerifiedRead {
            read: Read {
                origin: h.origin,
                seq: h.seq,
                captured_at: h.time,
                body,
            },
            bytes: bytes.to_vec(),
        })
    }

    /// Verifies and opens an image record of either kind.
    pub fn open_image(&self, bytes: &[u8]) -> Result<VerifiedImage, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        let kind = match env.header.kind {
            RecordKind::PlateImage => ImageKind::PlateCrop,
            RecordKind::OverviewImage => ImageKind::Overview,
            found => {
                return Err(EnvelopeError::WrongKind {
                    expected: RecordKind::PlateImage,
                    found,
                });
            }
        };
        let (h, body) = self.open::<ImageBody>(bytes, env.header.kind)?;
        Ok(VerifiedImage {
            origin: h.origin,
            seq: h.seq,
            captured_at: h.time,
            kind,
            jpeg: body.jpeg,
            bytes: bytes.to_vec(),
        })
    }

    /// Verifies and opens an alert or a disposition.
    pub fn open_alert(&self, bytes: &[u8]) -> Result<VerifiedAlertRecord, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        let h = env.header;
        if !matches!(h.kind, RecordKind::Alert | RecordKind::Disposition) {
            return Err(EnvelopeError::WrongKind {
                expected: RecordKind::Alert,
                found: h.kind,
            });
        }
        let opening = self.verify_and_open(&env)?;
        let item = if h.kind == RecordKind::Alert {
            AlertItem::Raised(Box::new(decode_body::<AlertBody>(&opening)?))
        } else {
            AlertItem::Disposed(decode_body::<DispositionBody>(&opening)?)
        };
        Ok(VerifiedAlertRecord {
            record: AlertRecord {
                origin: h.origin,
                seq: h.seq,
                time: h.time,
                item,
            },
            bytes: bytes.to_vec(),
        })
    }

    pub fn open_audit(&self, bytes: &[u8]) -> Result<VerifiedAuditEvent, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        if env.header.kind != RecordKind::AuditEvent {
            return Err(EnvelopeError::WrongKind {
                expected: RecordKind::AuditEvent,
                found: env.header.kind,
            });
        }
        let opening = self.verify_and_open(&env)?;
        let h = env.header;
        let body = decode_audit_body(&h, &opening)?;
        Ok(VerifiedAuditEvent {
            event: AuditEvent {
                origin: h.origin,
                seq: h.seq,
                time: h.time,
                body,
            },
            bytes: bytes.to_vec(),
        })
    }
}
