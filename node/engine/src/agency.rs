//! The agency directory on the Administrator's offline machine: root key, data key, enrollment.

use std::path::{Path, PathBuf};

use alpr_protocol::{
    AgencyId, AgencyKey, Certificate, CertificateError, DataKey, EnrollmentBundle, KdfParams,
    KeyFileError, NodeKey, Role, SecretKind, Timestamp, WrappedSecret,
};
use rand::CryptoRng;

use crate::keyfile::{self, KeyFileIoError};

pub const ROOT_KEY_FILE: &str = "agency-root.key";
pub const DATA_KEY_FILE: &str = "data.key";
pub const AGENCY_PUB_FILE: &str = "agency.pub";

#[derive(Debug, thiserror::Error)]
pub enum AgencyError {
    #[error(transparent)]
    File(#[from] KeyFileIoError),
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyFileError },
    #[error("{path}: not a valid agency public key (expected 64 hex characters)")]
    BadPublicKey { path: PathBuf },
    #[error("{path} does not match the agency root key: the directory was mixed up")]
    Mismatch { path: PathBuf },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
}

/// An opened agency: the root signing key and the data key.
#[derive(Debug)]
pub struct Agency {
    pub key: AgencyKey,
    pub data_key: DataKey,
}

/// What a new node is enrolled as.
#[derive(Debug, Clone)]
pub struct EnrollRequest {
    pub name: String,
    pub role: Role,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

fn unwrap_file(path: &Path, kind: SecretKind, passphrase: &[u8]) -> Result<[u8; 32], AgencyError> {
    let bytes = keyfile::read_private(path, kind.name())?;
    let key_err = |source| AgencyError::Key {
        path: path.to_path_buf(),
        source,
    };
    let wrapped = WrappedSecret::parse(&bytes).map_err(key_err)?;
    Ok(*wrapped.unwrap_secret(kind, passphrase).map_err(key_err)?)
}

pub fn read_agency_pub(path: &Path) -> Result<AgencyId, AgencyError> {
    let text = keyfile::read_public(path, "agency public key")?;
    std::str::from_utf8(&text)
        .ok()
        .and_then(AgencyId::from_hex)
        .ok_or_else(|| AgencyError::BadPublicKey {
            path: path.to_path_buf(),
        })
}

impl Agency {
    /// Creates an agency directory with a new root key and data key.
    pub fn init<R: CryptoRng + ?Sized>(
        dir: &Path,
        passphrase: &[u8],
        params: KdfParams,
        rng: &mut R,
    ) -> Result<Agency, AgencyError> {
        std::fs::create_dir_all(dir).map_err(|source| AgencyError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let key = AgencyKey::generate(rng);
        let data_key = DataKey::generate(rng);
        let wrap = |kind, secret: &[u8; 32], rng: &mut R| {
            WrappedSecret::wrap(kind, secret, passphrase, params, rng).map_err(|source| {
                AgencyError::Key {
                    path: dir.to_path_buf(),
                    source,
                }
            })
        };
        let root = wrap(SecretKind::AgencyKey, &key.secret_bytes(), rng)?;
        let data = wrap(SecretKind::DataKey, data_key.as_bytes(), rng)?;
        keyfile::write_private(&dir.join(ROOT_KEY_FILE), root.as_bytes())?;
        keyfile::write_private(&dir.join(DATA_KEY_FILE), data.as_bytes())?;
        keyfile::write_public(
            &dir.join(AGENCY_PUB_FILE),
            format!("{}\n", key.id()).as_bytes(),
        )?;
        Ok(Agency { key, data_key })
    }

    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Agency, AgencyError> {
        let key = AgencyKey::from_secret(&unwrap_file(
            &dir.join(ROOT_KEY_FILE),
            SecretKind::AgencyKey,
            passphrase,
        )?);
        let data_key = DataKey::from_bytes(unwrap_file(
            &dir.join(DATA_KEY_FILE),
            SecretKind::DataKey,
            passphrase,
        )?);
        let pub_path = dir.join(AGENCY_PUB_FILE);
        if read_agency_pub(&pub_path)? != key.id() {
            return Err(AgencyError::Mismatch { path: pub_path });
        }
        Ok(Agency { key, data_key })
    }

    /// Makes a node key, certifies it, and wraps the node key and data key
    /// under the new node's passphrase.
    pub fn enroll<R: CryptoRng + ?Sized>(
        &self,
        request: &EnrollRequest,
        node_passphrase: &[u8],
        params: KdfParams,
        rng: &mut R,
    ) -> Result<EnrollmentBundle, AgencyError> {
        let node_key = NodeKey::generate(rng);
        let certificate = Certificate {
            agency: self.key.id(),
            node: node_key.id(),
            name: request.name.clone(),
            role: request.role,
            not_before: request.not_before,
            not_after: request.not_after,
        }
        .sign(&self.key)?;
        let key_err = |source| AgencyError::Key {
            path: PathBuf::from("(enrollment bundle)"),
            source,
        };
        let data_key_id = self.data_key.id();
        let binding = self.key.sign(&alpr_protocol::enrollment::binding_message(
            &certificate,
            data_key_id,
        ));
        Ok(EnrollmentBundle {
            agency: self.key.id(),
            data_key_id,
            binding,
            certificate,
            node_key: WrappedSecret::wrap(
                SecretKind::NodeKey,
                &node_key.secret_bytes(),
                node_passphrase,
                params,
                rng,
            )
            .map_err(key_err)?,
            data_key: WrappedSecret::wrap(
                SecretKind::DataKey,
                self.data_key.as_bytes(),
                node_passphrase,
                params,
                rng,
            )
            .map_err(key_err)?,
        })
    }
}
