//! A node's data directory: its wrapped keys, certificate, agency key and database.
//!
//! ```text
//! DIR/node.key      node signing key, wrapped under the node passphrase (0600)
//! DIR/data.key      agency data key, wrapped under the node passphrase (0600)
//! DIR/node.cert     this node's enrollment certificate
//! DIR/agency.pub    the agency public key (hex)
//! DIR/store.redb    the database
//! ```

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use alpr_protocol::{
    AgencyId, DataKey, EnrollmentBundle, KeyFileError, NodeKey, SecretKind, SignedCertificate,
    Trust, VerifiedCertificate, WrappedSecret, enrollment::BundleError,
};

use crate::agency::{self, AGENCY_PUB_FILE, AgencyError};
use crate::keyfile::{self, KeyFileIoError};
use crate::store::{Store, StoreError, StoreIdentity};

pub const NODE_KEY_FILE: &str = "node.key";
pub const DATA_KEY_FILE: &str = "data.key";
pub const CERT_FILE: &str = "node.cert";
pub const STORE_FILE: &str = "store.redb";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(transparent)]
    File(#[from] KeyFileIoError),
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyFileError },
    #[error("{path}: {source}")]
    Bundle { path: PathBuf, source: BundleError },
    #[error("{path}: {source}")]
    Certificate {
        path: PathBuf,
        source: alpr_protocol::CertificateError,
    },
    #[error(transparent)]
    Agency(#[from] AgencyError),
    #[error("{path} is already a node data directory (of agency {agency}); use another directory")]
    AlreadyInitialized { path: PathBuf, agency: AgencyId },
    #[error("{path} holds data of agency {found}, but this bundle is for {expected}")]
    OtherAgency {
        path: PathBuf,
        found: AgencyId,
        expected: AgencyId,
    },
    #[error("{path}: the data key does not belong to this node's agency keys")]
    KeyMismatch { path: PathBuf },
    #[error("the node's parts do not belong together: {0}")]
    Parts(String),
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Store { path: PathBuf, source: StoreError },
}

/// A node's opened data directory: keys unwrapped, database open, trust built.
#[derive(Debug)]
pub struct Node {
    /// The data directory, for a node that has one (the control socket lives there).
    pub dir: Option<PathBuf>,
    pub node_key: NodeKey,
    pub data_key: DataKey,
    pub certificate: VerifiedCertificate,
    pub trust: Trust,
    pub store: Store,
}

fn unwrap(path: &Path, kind: SecretKind, passphrase: &[u8]) -> Result<[u8; 32], DataDirError> {
    let bytes = keyfile::read_private(path, kind.name())?;
    let key_err = |source| DataDirError::Key {
        path: path.to_path_buf(),
        source,
    };
    let wrapped = WrappedSecret::parse(&bytes).map_err(key_err)?;
    Ok(*wrapped.unwrap_secret(kind, passphrase).map_err(key_err)?)
}

/// Reads the agency id recorded in an existing data directory, if any.
fn existing_agency(dir: &Path) -> Option<AgencyId> {
    agency::read_agency_pub(&dir.join(AGENCY_PUB_FILE)).ok()
}

/// The data directory is the node account's alone (an earlier build left
/// it 0755): nobody else lists it or reaches its socket.
fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

impl Node {
    /// Initializes a data directory from an enrollment bundle. The bundle's
    /// passphrase becomes the node passphrase: it is checked here, before
    /// anything is written.
    pub fn init<R: rand::CryptoRng + ?Sized>(
        dir: &Path,
        bundle_path: &Path,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<Node, DataDirError> {
        let bytes = keyfile::read_public(bundle_path, "enrollment bundle")?;
        let (bundle, cert) =
            EnrollmentBundle::parse(&bytes).map_err(|source| DataDirError::Bundle {
                path: bundle_path.to_path_buf(),
                source,
            })?;
        if let Some(found) = existing_agency(dir) {
            return Err(if found == bundle.agency {
                DataDirError::AlreadyInitialized {
                    path: dir.to_path_buf(),
                    agency: found,
                }
            } else {
                DataDirError::OtherAgency {
                    path: dir.to_path_buf(),
                    found,
                    expected: bundle.agency,
                }
            });
        }
        let key_err = |source| DataDirError::Key {
            path: bundle_path.to_path_buf(),
            source,
        };
        let node_key = NodeKey::from_secret(
            &*bundle
                .node_key
                .unwrap_secret(SecretKind::NodeKey, passphrase)
                .map_err(key_err)?,
        );
        let data_key = DataKey::from_bytes(
            *bundle
                .data_key
                .unwrap_secret(SecretKind::DataKey, passphrase)
                .map_err(key_err)?,
        );
        bundle
            .check_data_key(&data_key)
            .map_err(|source| DataDirError::Bundle {
                path: bundle_path.to_path_buf(),
                source,
            })?;
        if node_key.id() != cert.certificate().node {
            return Err(DataDirError::KeyMismatch {
                path: bundle_path.to_path_buf(),
            });
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .and_then(|()| owner_only_dir(dir))
            .map_err(|source| DataDirError::Create {
                path: dir.to_path_buf(),
                source,
            })?;
        let store_path = dir.join(STORE_FILE);
        let store = Store::create(
            &store_path,
            StoreIdentity {
                agency: bundle.agency,
                node: node_key.id(),
            },
            &data_key,
            rng,
        )
        .map_err(|source| DataDirError::Store {
            path: store_path.clone(),
            source,
        })?;
        store
            .put_certificate(node_key.id(), &bundle.certificate)
            .map_err(|source| DataDirError::Store {
                path: store_path,
                source,
            })?;
        keyfile::write_private(&dir.join(NODE_KEY_FILE), bundle.node_key.as_bytes())?;
        keyfile::write_private(&dir.join(DATA_KEY_FILE), bundle.data_key.as_bytes())?;
        keyfile::write_public(&dir.join(CERT_FILE), bundle.certificate.as_bytes())?;
        // Written last: its presence marks a complete initialization.
        keyfile::write_public(
            &dir.join(AGENCY_PUB_FILE),
            format!("{}\n", bundle.agency).as_bytes(),
        )?;
        let mut trust = Trust::new(bundle.agency);
        trust.add_data_key(data_key.clone());
        trust
            .add_certificate(cert.clone())
            .map_err(|source| DataDirError::Certificate {
                path: bundle_path.to_path_buf(),
                source,
            })?;
        Ok(Node {
            dir: Some(dir.to_path_buf()),
            node_key,
            data_key,
            certificate: cert,
            trust,
            store,
        })
    }

    /// A node assembled from its keys, certificate and a store, with no
    /// directory: the store may be in memory or over any redb backend (the
    /// simulator, the fault tests). Trust is built from the certificates
    /// the store holds, and the node's own is stored if it is not yet.
    pub fn from_parts(
        node_key: NodeKey,
        data_key: DataKey,
        certificate: VerifiedCertificate,
        store: Store,
    ) -> Result<Node, DataDirError> {
        let c = certificate.certificate();
        let agency = c.agency;
        if c.node != node_key.id() {
            return Err(DataDirError::Parts(format!(
                "the certificate of {} is not for this node key",
                c.name
            )));
        }
        let identity = store.identity();
        if identity.agency != agency || identity.node != c.node {
            return Err(DataDirError::Parts(format!(
                "the store belongs to node {} of agency {}",
                identity.node.short(),
                identity.agency
            )));
        }
        let parts = |e: StoreError| DataDirError::Parts(e.to_string());
        let mut trust = Trust::new(agency);
        trust.add_data_key(data_key.clone());
        for signed in store.certificates().map_err(parts)? {
            if let Ok(v) = signed.verify(agency) {
                let _ = trust.add_certificate(v);
            }
        }
        if trust.certificate(&c.node).is_none() {
            store
                .put_certificate(c.node, certificate.signed())
                .map_err(parts)?;
        }
        let _ = trust.add_certificate(certificate.clone());
        Ok(Node {
            dir: None,
            node_key,
            data_key,
            certificate,
            trust,
            store,
        })
    }

    /// Opens an initialized data directory with the node passphrase.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Node, DataDirError> {
        let agency = agency::read_agency_pub(&dir.join(AGENCY_PUB_FILE))?;
        owner_only_dir(dir).map_err(|source| DataDirError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let node_key = NodeKey::from_secret(&unwrap(
            &dir.join(NODE_KEY_FILE),
            SecretKind::NodeKey,
            passphrase,
        )?);
        let data_key = DataKey::from_bytes(unwrap(
            &dir.join(DATA_KEY_FILE),
            SecretKind::DataKey,
            passphrase,
        )?);
        let cert_path = dir.join(CERT_FILE);
        let cert_bytes = keyfile::read_public(&cert_path, "node certificate")?;
        let certificate = SignedCertificate::from_bytes(cert_bytes)
            .verify(agency)
            .map_err(|source| DataDirError::Certificate {
                path: cert_path.clone(),
                source,
            })?;
        if certificate.certificate().node != node_key.id() {
            return Err(DataDirError::KeyMismatch { path: cert_path });
        }
        let store_path = dir.join(STORE_FILE);
        let store_err = |source| DataDirError::Store {
            path: store_path.clone(),
            source,
        };
        let store = Store::open(&store_path, agency, &data_key).map_err(store_err)?;
        let mut trust = Trust::new(agency);
        trust.add_data_key(data_key.clone());
        for signed in store.certificates().map_err(store_err)? {
            // A certificate that no longer verifies is left out of trust, so
            // its records fail verification by name instead of aborting the open.
            if let Ok(v) = signed.verify(agency) {
                let _ = trust.add_certificate(v);
            }
        }
        let _ = trust.add_certificate(certificate.clone());
        Ok(Node {
            dir: Some(dir.to_path_buf()),
            node_key,
            data_key,
            certificate,
            trust,
            store,
        })
    }
}
