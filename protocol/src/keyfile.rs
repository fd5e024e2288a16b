//! Wrapped secrets: a 32-byte key sealed under a passphrase (Argon2id, then XChaCha20-Poly1305).
//!
//! Layout (all integers big-endian; see FORMAT.md, "Wrapped secret"):
//! `"ALPRKEY1" | kind u8 | m_cost u32 | t_cost u32 | p_cost u32 | salt[16] | nonce[24] | ct[48]`.
//! The ciphertext's associated data is every byte before the nonce, so the
//! kind and the KDF parameters cannot be changed without detection.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::CryptoRng;
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"ALPRKEY1";
const HEADER_LEN: usize = 8 + 1 + 12 + 16;
const NONCE_LEN: usize = 24;
const CT_LEN: usize = 32 + 16;
pub const WRAPPED_SECRET_LEN: usize = HEADER_LEN + NONCE_LEN + CT_LEN;

/// Limits on parameters read from a file, so a hostile file cannot make
/// unwrapping take gigabytes or hours.
// What a key file may demand before its passphrase is even tried: four
// times the default memory and under three times its passes, a few seconds
// on a car's CPU. A tampered file asking for more is refused at once.
const M_COST_KIB_MAX: u32 = 256 * 1024;
const T_COST_MAX: u32 = 8;
const P_COST_MAX: u32 = 4;

/// What a wrapped secret is, so a data key is never loaded as a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    NodeKey = 1,
    AgencyKey = 2,
    DataKey = 3,
}

impl SecretKind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(SecretKind::NodeKey),
            2 => Some(SecretKind::AgencyKey),
            3 => Some(SecretKind::DataKey),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SecretKind::NodeKey => "node signing key",
            SecretKind::AgencyKey => "agency root key",
            SecretKind::DataKey => "agency data key",
        }
    }
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes: about a quarter second on a car's CPU, once per start.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Cheap parameters for tests that wrap many keys. Never for real keys.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn argon2(&self) -> Result<argon2::Argon2<'static>, KeyFileError> {
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| KeyFileError::BadParameters(e.to_string()))?;
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error(
        "not a wrapped key file (expected {WRAPPED_SECRET_LEN} bytes starting with ALPRKEY1, got {0} bytes)"
    )]
    NotAKeyFile(usize),
    #[error("unknown key kind {0}")]
    UnknownKind(u8),
    #[error("expected the {expected}, but the file holds the {found}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("key derivation parameters rejected: {0}")]
    BadParameters(String),
    #[error("wrong passphrase, or the key file was altered")]
    WrongPassphrase,
}

/// A secret sealed under a passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedSecret {
    bytes: Vec<u8>,
}

impl WrappedSecret {
    pub fn wrap<R: CryptoRng + ?Sized>(
        kind: SecretKind,
        secret: &[u8; 32],
        passphrase: &[u8],
        params: KdfParams,
        rng: &mut R,
    ) -> Result<Self, KeyFileError> {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut bytes = Vec::with_capacity(WRAPPED_SECRET_LEN);
        bytes.extend_from_slice(MAGIC);
        bytes.push(kind as u8);
        bytes.extend_from_slice(&params.m_cost_kib.to_be_bytes());
        bytes.extend_from_slice(&params.t_cost.to_be_bytes());
        bytes.extend_from_slice(&params.p_cost.to_be_bytes());
        bytes.extend_from_slice(&salt);
        let kek = derive_kek(passphrase, &salt, params)?;
        let cipher = XChaCha20Poly1305::new(&(*kek).into());
        let ct = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &bytes,
                },
            )
            .map_err(|_| KeyFileError::WrongPassphrase)?;
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ct);
        Ok(WrappedSecret { bytes })
    }

    /// Parses the structure (not the passphrase) and bounds the KDF cost.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyFileError> {
        if bytes.len() != WRAPPED_SECRET_LEN || &bytes[..8] != MAGIC {
            return Err(KeyFileError::NotAKeyFile(bytes.len()));
        }
        SecretKind::from_byte(bytes[8]).ok_or(KeyFileError::UnknownKind(bytes[8]))?;
        let params = read_params(bytes);
        if params.m_cost_kib > M_COST_KIB_MAX
            || params.t_cost > T_COST_MAX
            || params.p_cost > P_COST_MAX
        {
            return Err(KeyFileError::BadParameters(format!(
                "memory {} KiB, {} passes, {} lanes exceed the limits ({M_COST_KIB_MAX} KiB, {T_COST_MAX} passes, {P_COST_MAX} lanes)",
                params.m_cost_kib, params.t_cost, params.p_cost
            )));
        }
        Ok(WrappedSecret {
            bytes: bytes.to_vec(),
        })
    }

    pub fn kind(&self) -> SecretKind {
        // Invariant: `parse` and `wrap` only build values with a known kind byte.
        SecretKind::from_byte(self.bytes[8]).unwrap_or(SecretKind::DataKey)
    }

    pub fn params(&self) -> KdfParams {
        read_params(&self.bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn unwrap_secret(
        &self,
        expected: SecretKind,
        passphrase: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
        if self.kind() != expected {
            return Err(KeyFileError::WrongKind {
                expected: expected.name(),
                found: self.kind().name(),
            });
        }
        let salt = &self.bytes[HEADER_LEN - 16..HEADER_LEN];
        let kek = derive_kek(passphrase, salt, self.params())?;
        let cipher = XChaCha20Poly1305::new(&(*kek).into());
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&self.bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN]);
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &self.bytes[HEADER_LEN + NONCE_LEN..],
                        aad: &self.bytes[..HEADER_LEN],
                    },
                )
                .map_err(|_| KeyFileError::WrongPassphrase)?,
        );
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&plain);
        Ok(secret)
    }
}

fn read_params(bytes: &[u8]) -> KdfParams {
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    KdfParams {
        m_cost_kib: word(9),
        t_cost: word(13),
        p_cost: word(17),
    }
}

fn derive_kek(
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let mut kek = Zeroizing::new([0u8; 32]);
    params
        .argon2()?
        .hash_password_into(passphrase, salt, kek.as_mut())
        .map_err(|e| KeyFileError::BadParameters(e.to_string()))?;
    Ok(kek)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped() -> WrappedSecret {
        WrappedSecret::wrap(
            SecretKind::DataKey,
            &[7; 32],
            b"correct horse",
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap()
    }

    #[test]
    fn round_trip_with_right_passphrase() {
        let w = WrappedSecret::parse(wrapped().as_bytes()).unwrap();
        assert_eq!(
            *w.unwrap_secret(SecretKind::DataKey, b"correct horse")
                .unwrap(),
            [7; 32]
        );
    }

    #[test]
    fn wrong_passphrase_and_wrong_kind_are_refused() {
        let w = wrapped();
        assert_eq!(
            w.unwrap_secret(SecretKind::DataKey, b"correct horsf"),
            Err(KeyFileError::WrongPassphrase)
        );
        assert!(matches!(
            w.unwrap_secret(SecretKind::NodeKey, b"correct horse"),
            Err(KeyFileError::WrongKind { .. })
        ));
    }

    #[test]
    fn altered_parameters_are_detected() {
        let mut bytes = wrapped().as_bytes().to_vec();
        bytes[16] ^= 2; // t_cost 1 -> 3
        let w = WrappedSecret::parse(&bytes).unwrap();
        assert_eq!(
            w.unwrap_secret(SecretKind::DataKey, b"correct horse"),
            Err(KeyFileError::WrongPassphrase)
        );
    }

    #[test]
    fn hostile_costs_and_short_files_are_refused_before_hashing() {
        let mut bytes = wrapped().as_bytes().to_vec();
        bytes[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            WrappedSecret::parse(&bytes),
            Err(KeyFileError::BadParameters(_))
        ));
        assert_eq!(
            WrappedSecret::parse(&bytes[..10]),
            Err(KeyFileError::NotAKeyFile(10))
        );
        // 1 GiB and 64 passes (a minute of hashing) no longer pass as costs.
        let costs = |m: u32, t: u32| {
            let mut b = wrapped().as_bytes().to_vec();
            b[9..13].copy_from_slice(&m.to_be_bytes());
            b[13..17].copy_from_slice(&t.to_be_bytes());
            WrappedSecret::parse(&b)
        };
        assert!(costs(1024 * 1024, 1).is_err());
        assert!(costs(64 * 1024, 64).is_err());
        assert!(costs(256 * 1024, 8).is_ok());
        let d = KdfParams::DEFAULT;
        assert!(
            costs(d.m_cost_kib, d.t_cost).is_ok(),
            "the default is within bounds"
        );
    }
}
