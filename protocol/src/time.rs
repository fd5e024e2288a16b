//! Timestamps: milliseconds since the Unix epoch, UTC, as every format stores them.

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
///
/// Drivers read the clock and hand a `Timestamp` in; nothing in this crate
/// reads the clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// Big-endian bytes that sort in time order (sign bit flipped), for index keys.
    pub fn to_sortable_bytes(self) -> [u8; 8] {
        ((self.0 as u64) ^ (1 << 63)).to_be_bytes()
    }

    pub fn from_sortable_bytes(bytes: [u8; 8]) -> Self {
        Timestamp((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
    }

    pub fn saturating_add_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-28T10:15:00.250Z`.
impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_bytes_keep_order_across_zero() {
        let times = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            let a = Timestamp(pair[0]).to_sortable_bytes();
            let b = Timestamp(pair[1]).to_sortable_bytes();
            assert!(a < b, "{} should sort before {}", pair[0], pair[1]);
            assert_eq!(Timestamp::from_sortable_bytes(a), Timestamp(pair[0]));
        }
    }
}
