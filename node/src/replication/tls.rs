//! Peer authentication inside the QUIC handshake.
//!
//! Each node presents a self-signed X.509 certificate over its own Ed25519
//! node key (made with rcgen) that carries its agency enrollment certificate
//! in a private extension. Both sides run the same check ([`PeerCheck`]):
//! the enrollment verifies under our agency key, is valid now, names exactly
//! the key that signs the handshake, and the node is not revoked. There is no
//! CA and no host name: a peer is who its agency enrolled, nothing else.

use crate::engine::replica::{Refused, admit};
use std::sync::Arc;

use alpr_protocol::{
    AgencyId, CertificateError, NodeId, NodeKey, Role, SignedCertificate, Timestamp,
    VerifiedCertificate,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The private extension that carries the enrollment certificate.
/// (An arc under the IANA private enterprise space, reserved for this project's use.)
pub const ENROLLMENT_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 61_413, 1, 1];
const ED25519_OID: &str = "1.3.101.112";
/// The ALPN name of this protocol and its version.
pub const ALPN: &[u8] = b"alpr-sync/1";

/// An authenticated peer.
#[derive(Debug, Clone)]
pub struct Peer {
    pub node: NodeId,
    pub role: Role,
    pub name: String,
    pub certificate: VerifiedCertificate,
}

/// Why a peer was refused in the handshake.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    #[error("its TLS certificate is not a node certificate: {0}")]
    NotANodeCertificate(String),
    #[error("its enrollment: {0}")]
    Enrollment(#[from] CertificateError),
    #[error("node '{name}' signs with a key its enrollment does not name")]
    KeyMismatch { name: String },
    #[error("node '{name}' ({node}) is revoked")]
    Revoked { name: String, node: NodeId },
}

/// The nodes this node refuses, shared with the verifiers so a revocation
/// applies to the next handshake.
pub use crate::engine::Revoked;

/// The check both sides run on the other's certificate.
#[derive(Debug, Clone)]
pub struct PeerCheck {
    pub agency: AgencyId,
    pub revoked: Revoked,
}

impl PeerCheck {
    pub fn check(&self, der: &[u8], now: Timestamp) -> Result<Peer, Refusal> {
        let not_ours = |m: &str| Refusal::NotANodeCertificate(m.to_string());
        let (_, x509) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Refusal::NotANodeCertificate(e.to_string()))?;
        let spki = x509.public_key();
        if spki.algorithm.algorithm.to_id_string() != ED25519_OID {
            return Err(not_ours("its key is not Ed25519"));
        }
        let key: [u8; 32] = spki
            .subject_public_key
            .data
            .as_ref()
            .try_into()
            .map_err(|_| not_ours("its Ed25519 key is not 32 bytes"))?;
        let oid = x509_parser::der_parser::oid::Oid::from(ENROLLMENT_OID)
            .map_err(|_| not_ours("enrollment extension id"))?;
        let extension = x509
            .get_extension_unique(&oid)
            .map_err(|e| Refusal::NotANodeCertificate(e.to_string()))?
            .ok_or_else(|| not_ours("it carries no enrollment certificate"))?;
        let enrollment = SignedCertificate::from_bytes(extension.value.to_vec());
        // Checked for the key before admission: a certificate that names
        // another node's key is refused as such, revoked or not.
        if let Ok(v) = enrollment.verify(self.agency)
            && v.certificate().node.0 != key
        {
            return Err(Refusal::KeyMismatch {
                name: v.certificate().name.clone(),
            });
        }
        let verified =
            admit(self.agency, &self.revoked, &enrollment, now).map_err(|e| match e {
                Refused::Enrollment(e) => Refusal::Enrollment(e),
                Refused::Revoked { name, node } => Refusal::Revoked { name, node },
            })?;
        let c = verified.certificate();
        Ok(Peer {
            node: c.node,
            role: c.role,
            name: c.name.clone(),
            certificate: verified,
        })
    }
}

/// This node's TLS certificate and key: self-signed over the node key, with
/// the enrollment certificate inside.
pub fn node_certificate(
    key: &NodeKey,
    enrollment: &SignedCertificate,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), rcgen::Error> {
    let pkcs8 = PrivatePkcs8KeyDer::from(key.to_pkcs8_der());
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)?;
    // No names, no issuer: the enrollment inside is the identity, and every
    // byte here crosses the link at each meeting.
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serial_number = Some(rcgen::SerialNumber::from(1u64));
    params
        .custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            ENROLLMENT_OID,
            enrollment.as_bytes().to_vec(),
        ));
    let cert = params.self_signed(&pair)?;
    Ok((cert.der().clone(), PrivateKeyDer::Pkcs8(pkcs8)))
}

/// rustls gives the time in whole seconds, an enrollment's validity is in
/// milliseconds: the check is made at the second's last millisecond, so a
/// node enrolled this very second is not refused for up to a second (a test
/// met it), at the cost of taking one up to a second past its end.
fn to_timestamp(now: UnixTime) -> Timestamp {
    let ms = now.as_secs().saturating_mul(1000).saturating_add(999);
    Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn refuse(side: &str, refusal: &Refusal) -> rustls::Error {
    tracing::warn!(%refusal, "refused a {side} in the handshake");
    rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
        Arc::new(refusal.clone()),
    )))
}

/// Both verifiers: the peer check, and handshake signatures by the peer's key.
#[derive(Debug)]
pub struct Verifier {
    check: PeerCheck,
    algorithms: WebPkiSupportedAlgorithms,
}

impl Verifier {
    pub fn new(check: PeerCheck, provider: &CryptoProvider) -> Arc<Self> {
        Arc::new(Verifier {
            check,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl Verifier {
    fn check_peer(&self, side: &str, der: &[u8], now: UnixTime) -> Result<(), rustls::Error> {
        self.check
            .check(der, to_timestamp(now))
            .map(|_| ())
            .map_err(|r| refuse(side, &r))
    }

    fn tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

/// QUIC is TLS 1.3 only.
fn no_tls12() -> Result<HandshakeSignatureValid, rustls::Error> {
    Err(rustls::Error::PeerIncompatible(
        rustls::PeerIncompatible::Tls12NotOffered,
    ))
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check_peer("server", end_entity, now)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        no_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for Verifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check_peer("client", end_entity, now)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        no_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// The QUIC configurations of a node: it both dials and accepts.
pub fn configs(
    key: &NodeKey,
    enrollment: &SignedCertificate,
    check: PeerCheck,
) -> Result<(quinn::ClientConfig, quinn::ServerConfig), Box<dyn std::error::Error + Send + Sync>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Verifier::new(check, &provider);
    let (cert, private) = node_certificate(key, enrollment)?;

    let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_client_auth_cert(vec![cert.clone()], private.clone_key())?;
    client.alpn_protocols = vec![ALPN.to_vec()];
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], private)?;
    server.alpn_protocols = vec![ALPN.to_vec()];
    // No resumption tickets: measured, a resumed meeting puts as many bytes
    // on the wire as a full one (every datagram carrying an Initial packet
    // is padded to 1,200 bytes either way) and was no faster on loopback,
    // while each ticket costs its bytes at every meeting.
    server.send_tls13_tickets = 0;

    let mut transport = quinn::TransportConfig::default();
    // Links come and go: keep a quiet link open with pings, and give up on
    // one that stays silent for a minute (the next meeting resumes the sync).
    transport.keep_alive_interval(Some(std::time::Duration::from_secs(10)));
    transport.max_idle_timeout(Some(quinn::VarInt::from_u32(60_000).into()));
    // Path MTU probes cost more than a short meeting carries (measured: 4
    // probes of ~1,450 bytes each way on a re-sync with nothing new); a
    // shift goes out at the safe 1,200-byte MTU instead, ~2% more packets.
    transport.mtu_discovery_config(None);
    // Nothing here uses unreliable datagrams: don't advertise them.
    transport.datagram_receive_buffer_size(None);
    let transport = Arc::new(transport);

    let mut client_config = quinn::ClientConfig::new(Arc::new(
        quinn::crypto::rustls::QuicClientConfig::try_from(client)?,
    ));
    client_config.transport_config(transport.clone());
    let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(
        quinn::crypto::rustls::QuicServerConfig::try_from(server)?,
    ));
    server_config.transport_config(transport);
    Ok((client_config, server_config))
}

/// The authenticated peer of an established connection.
pub fn peer_of(
    connection: &quinn::Connection,
    check: &PeerCheck,
    now: Timestamp,
) -> Result<Peer, Refusal> {
    let identity = connection
        .peer_identity()
        .and_then(|any| any.downcast::<Vec<CertificateDer<'static>>>().ok())
        .ok_or_else(|| Refusal::NotANodeCertificate("no certificate presented".into()))?;
    let first = identity
        .first()
        .ok_or_else(|| Refusal::NotANodeCertificate("no certificate presented".into()))?;
    check.check(first, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_second_is_checked_at_its_last_millisecond() {
        // An enrollment made at 214.047 s is valid within the second rustls
        // reports as 214.
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_796_704_214));
        assert_eq!(to_timestamp(now), Timestamp::from_millis(1_796_704_214_999));
        assert!(to_timestamp(now) >= Timestamp::from_millis(1_796_704_214_047));
    }
}
