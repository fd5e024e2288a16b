//! Keys for the store's local indexes, derived from the data key, and the two index encodings.
//!
//! - Blind index: HMAC-SHA256(blind key, plate) truncated to 16 bytes. The
//!   same plate gives the same entry on every node of the agency, and nobody
//!   without the data key can tell which plate an entry stands for.
//! - Plate column: the plate, padded to a fixed length, XORed with a ChaCha20
//!   keystream under a per-database key (HKDF of the data key and the
//!   database's random salt) with the record's (origin index, seq) as nonce.
//!   Each nonce is used once per key: (origin index, seq) is unique in a
//!   database and records never change. The column carries no tag: it is a
//!   search aid, and every search result is checked against the record's
//!   verified envelope; `verify` checks the column against every record.

use alpr_protocol::DataKey;
use alpr_protocol::plate::PLATE_LEN_MAX;
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const BLIND_LEN: usize = 16;
/// Length byte and the plate padded to [`PLATE_LEN_MAX`]: lengths do not show.
pub const COLUMN_LEN: usize = 1 + PLATE_LEN_MAX;

pub struct IndexKeys {
    blind: Hmac<Sha256>,
    column_key: [u8; 32],
}

impl std::fmt::Debug for IndexKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKeys(..)")
    }
}

impl IndexKeys {
    pub fn new(data_key: &DataKey, db_salt: &[u8; 16]) -> Self {
        let blind_key = data_key.derive(b"store plate blind index v1");
        let mut info = b"store plate column v1:".to_vec();
        info.extend_from_slice(db_salt);
        IndexKeys {
            blind: <Hmac<Sha256> as KeyInit>::new_from_slice(&blind_key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length")),
            column_key: data_key.derive(&info),
        }
    }

    pub fn blind(&self, plate: &str) -> [u8; BLIND_LEN] {
        let mut mac = self.blind.clone();
        mac.update(plate.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; BLIND_LEN];
        out.copy_from_slice(&tag[..BLIND_LEN]);
        out
    }

    fn keystream(&self, nonce: &[u8; 12], buf: &mut [u8; COLUMN_LEN]) {
        let mut cipher = ChaCha20::new(&self.column_key.into(), &(*nonce).into());
        cipher.apply_keystream(buf);
    }

    pub fn seal_column(&self, nonce: &[u8; 12], plate: &str) -> [u8; COLUMN_LEN] {
        let mut buf = [0u8; COLUMN_LEN];
        let text = plate.as_bytes();
        let len = text.len().min(PLATE_LEN_MAX);
        buf[0] = len as u8;
        buf[1..1 + len].copy_from_slice(&text[..len]);
        self.keystream(nonce, &mut buf);
        buf
    }

    /// The plate bytes in a column entry; None if it is not a well-formed entry.
    pub fn open_column(
        &self,
        nonce: &[u8; 12],
        sealed: &[u8],
    ) -> Option<([u8; COLUMN_LEN], usize)> {
        let mut buf: [u8; COLUMN_LEN] = sealed.try_into().ok()?;
        self.keystream(nonce, &mut buf);
        let len = usize::from(buf[0]);
        (1..=PLATE_LEN_MAX).contains(&len).then_some((buf, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_round_trips_and_hides_the_plate() {
        let keys = IndexKeys::new(&DataKey::from_bytes([3; 32]), &[1; 16]);
        let nonce = [9; 12];
        let sealed = keys.seal_column(&nonce, "7ABC123");
        assert!(!sealed.windows(7).any(|w| w == b"7ABC123"));
        let (buf, len) = keys.open_column(&nonce, &sealed).unwrap();
        assert_eq!(&buf[1..1 + len], b"7ABC123");
        let other_db = IndexKeys::new(&DataKey::from_bytes([3; 32]), &[2; 16]);
        assert_ne!(other_db.seal_column(&nonce, "7ABC123"), sealed);
        assert_eq!(keys.blind("7ABC123"), other_db.blind("7ABC123"));
        assert_ne!(keys.blind("7ABC123"), keys.blind("7ABC124"));
    }
}
