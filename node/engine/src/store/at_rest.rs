//! Policy, login and hotlist values sealed at rest, so a copied database
//! file shows no plate, case, reference, user name or password hash.
//!
//! Each value is XChaCha20-Poly1305 under a per-database key (HKDF of the
//! data key and the database's random salt), with the table name and the
//! value's key as associated data: a value moved to another key or table
//! does not open. The 24-byte nonce is a counter kept in the `meta` table
//! (advanced in the same write transaction as the value it seals, so it is
//! never reused across crashes) followed by 16 random bytes, so a file
//! rolled back to a backup or snapshot, whose counter rolls back with it,
//! still never repeats a nonce. Records (reads, images, audit events) are
//! sealed envelopes already and need none of this.
//!
//! Value layout: `0xA1 ‖ nonce (counter u64 BE ‖ 16 random bytes) ‖ ciphertext ‖ tag`.
//!
//! Users' login failure state is keyed by an HMAC of the user name (as the
//! plate index is), so the name itself is never a key on disk.

use alpr_protocol::DataKey;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, KeyInit, Mac};
use redb::{ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use sha2::Sha256;

use super::{StoreError, dberr};

const TAG: u8 = 0xA1;
const HEADER: usize = 1 + 24;
/// The meta row holding the next nonce counter.
const COUNTER: &str = "at_rest_counter";

pub(super) struct AtRest {
    cipher: XChaCha20Poly1305,
    user_blind: Hmac<Sha256>,
}

impl AtRest {
    pub(super) fn new(data_key: &DataKey, db_salt: &[u8; 16]) -> Self {
        let mut info = b"store values at rest v1:".to_vec();
        info.extend_from_slice(db_salt);
        let key = data_key.derive(&info);
        let blind = data_key.derive(b"store user blind index v1");
        AtRest {
            cipher: XChaCha20Poly1305::new(&key.into()),
            user_blind: <Hmac<Sha256> as KeyInit>::new_from_slice(&blind)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length")),
        }
    }

    /// The key a user's login state is stored under.
    pub(super) fn user_key(&self, user: &str) -> [u8; 16] {
        let mut mac = self.user_blind.clone();
        mac.update(user.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag[..16]);
        out
    }

    /// Seals `plain` as the value of `key` in `table`, advancing the
    /// database's nonce counter in `tx`.
    pub(super) fn seal(
        &self,
        tx: &WriteTransaction,
        table: &str,
        key: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let mut meta = tx.open_table(super::META).map_err(dberr)?;
        let counter = match meta.get(COUNTER).map_err(dberr)? {
            None => 0,
            Some(v) => u64::from_be_bytes(
                <[u8; 8]>::try_from(v.value())
                    .map_err(|_| StoreError::Corrupt(format!("meta '{COUNTER}' is not 8 bytes")))?,
            ),
        };
        let next = counter
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt("at-rest nonce counter exhausted".into()))?;
        meta.insert(COUNTER, next.to_be_bytes().as_slice())
            .map_err(dberr)?;
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&counter.to_be_bytes());
        // The thread's CSPRNG, seeded by the OS: the store has no generator
        // passed in, and these bytes only keep a rolled-back file's nonces apart.
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce[8..]);
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad(table, key),
                },
            )
            .map_err(|_| StoreError::Corrupt("sealing a value failed".into()))?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(TAG);
        out.extend_from_slice(&nonce);
        out.extend(sealed);
        Ok(out)
    }

    /// Opens a value sealed by [`AtRest::seal`] under the same table and key.
    pub(super) fn open(
        &self,
        table: &str,
        key: &[u8],
        value: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let damaged = || {
            StoreError::Corrupt(format!(
                "a sealed value in '{table}' does not open: altered, moved, or of another database"
            ))
        };
        if value.len() < HEADER || value[0] != TAG {
            return Err(damaged());
        }
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&value[1..HEADER]);
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &value[HEADER..],
                    aad: &aad(table, key),
                },
            )
            .map_err(|_| damaged())
    }
}

fn aad(table: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(table.len() + 1 + key.len());
    out.extend_from_slice(table.as_bytes());
    out.push(0);
    out.extend_from_slice(key);
    out
}

/// Seals in place every value of a `&str`-keyed table written in the clear
/// by an earlier schema.
pub(super) fn seal_str_table(
    rest: &AtRest,
    tx: &WriteTransaction,
    def: TableDefinition<&str, &[u8]>,
) -> Result<(), StoreError> {
    let name = def.name().to_string();
    let rows: Vec<(String, Vec<u8>)> = {
        let table = tx.open_table(def).map_err(dberr)?;
        table
            .iter()
            .map_err(dberr)?
            .map(|e| e.map(|(k, v)| (k.value().to_string(), v.value().to_vec())))
            .collect::<Result<_, _>>()
            .map_err(dberr)?
    };
    for (k, v) in rows {
        let sealed = rest.seal(tx, &name, k.as_bytes(), &v)?;
        tx.open_table(def)
            .map_err(dberr)?
            .insert(k.as_str(), sealed.as_slice())
            .map_err(dberr)?;
    }
    Ok(())
}
