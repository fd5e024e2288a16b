//! Keys and the ids derived from them: node keys, the agency root key, the agency data key.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A node's identity: its ed25519 public key.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct NodeId(pub [u8; 32]);

/// An agency's identity: the public half of its offline root key.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct AgencyId(pub [u8; 32]);

macro_rules! public_key_id {
    ($name:ident, $label:literal) => {
        impl $name {
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// The first 8 bytes in hex: enough to tell nodes apart in a listing.
            pub fn short(&self) -> String {
                hex::encode(&self.0[..8])
            }

            pub fn from_hex(text: &str) -> Option<Self> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
                Some($name(bytes))
            }

            /// Verifies an ed25519 signature by this key (strict: no malleable encodings).
            pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
                let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
                    return false;
                };
                key.verify_strict(message, &Signature::from_bytes(signature))
                    .is_ok()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "({})"), self.short())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

public_key_id!(NodeId, "NodeId");
public_key_id!(AgencyId, "AgencyId");

macro_rules! signing_key {
    ($name:ident, $id:ident, $label:literal) => {
        /// An ed25519 signing key. The secret half never leaves a process unwrapped.
        #[derive(Clone)]
        pub struct $name(SigningKey);

        impl $name {
            pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
                $name(SigningKey::generate(rng))
            }

            pub fn from_secret(secret: &[u8; 32]) -> Self {
                $name(SigningKey::from_bytes(secret))
            }

            pub fn secret_bytes(&self) -> [u8; 32] {
                self.0.to_bytes()
            }

            pub fn id(&self) -> $id {
                $id(self.0.verifying_key().to_bytes())
            }

            pub fn sign(&self, message: &[u8]) -> [u8; 64] {
                self.0.sign(message).to_bytes()
            }

            /// The key as PKCS#8 DER, for TLS (the node's QUIC certificate).
            pub fn to_pkcs8_der(&self) -> Vec<u8> {
                use ed25519_dalek::pkcs8::EncodePrivateKey;
                self.0
                    .to_pkcs8_der()
                    .map(|d| d.as_bytes().to_vec())
                    .unwrap_or_default()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "({:?})"), self.id())
            }
        }
    };
}

signing_key!(NodeKey, NodeId, "NodeKey");
signing_key!(AgencyKey, AgencyId, "AgencyKey");

/// Identifies a data key without revealing it: the first 8 bytes of
/// SHA-256("ALPR data key id v1" || key).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex::encode(self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The agency data key: seals every record (XChaCha20-Poly1305) and, through
/// HKDF, keys the store's blind indexes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        DataKey(key)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(b"ALPR data key id v1")
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// A 32-byte subkey for one local purpose (HKDF-SHA256, info = `purpose`).
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"ALPR data key subkey v1"), &self.0);
        let mut out = [0u8; 32];
        // Invariant: 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        #[allow(clippy::expect_used)]
        hkdf.expand(purpose, &mut out)
            .expect("32-byte HKDF output is always valid");
        out
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({:?})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_only_for_its_key_and_message() {
        let mut rng = rand::rng();
        let key = NodeKey::generate(&mut rng);
        let other = NodeKey::generate(&mut rng);
        let sig = key.sign(b"hello");
        assert!(key.id().verify(b"hello", &sig));
        assert!(!key.id().verify(b"hellp", &sig));
        assert!(!other.id().verify(b"hello", &sig));
    }

    #[test]
    fn key_ids_differ_and_subkeys_differ_by_purpose() {
        let a = DataKey::from_bytes([1; 32]);
        let b = DataKey::from_bytes([2; 32]);
        assert_ne!(a.id(), b.id());
        assert_ne!(a.derive(b"x"), a.derive(b"y"));
        assert_eq!(a.derive(b"x"), a.derive(b"x"));
    }
}
