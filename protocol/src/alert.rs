//! Alerts and their dispositions: the records a hotlist hit makes.
//!
//! An alert says which read matched which entry of which list version, how
//! (exact, a look-alike with the characters that differ, an end character
//! missing or extra, a wildcard) and with what score, whether the node's
//! lists were stale and whether the hit was found later (retro). A
//! disposition is the officer's answer to one alert: confirmed, misread,
//! wrong state or dismissed with a reason, by whom and when. Both are
//! records of the node that wrote them, signed and sealed like reads
//! (envelope kinds 5 and 6), numbered in one seq space per origin, and
//! replicated car to station as the alerts collection, never to another
//! car. An alert is closed only by a disposition.
//!
//! Byte layouts are in FORMAT.md ("Alerts").

use serde::{Deserialize, Serialize};

use crate::hotlist::Entry;
use crate::identity::NodeId;
use crate::plate::PlateText;
use crate::time::Timestamp;

/// Longest reason a disposition carries.
pub const REASON_LEN_MAX: usize = 512;
/// Most differing characters an alert lists (a plate is at most 10).
pub const DIFFERS_MAX: usize = 10;

/// A record named by its origin and seq (a read, an alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub origin: NodeId,
    pub seq: u64,
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.origin.short(), self.seq)
    }
}

/// How a read matched an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HitKind {
    Exact,
    /// Same length, differing only in look-alike characters (how many).
    LookAlike {
        changes: u8,
    },
    /// The read lacks the entry's first or last character.
    EndMissing,
    /// The read has a character the entry lacks, at its start or end.
    EndExtra,
    /// A wildcard entry's pattern matched.
    Wildcard,
}

impl HitKind {
    pub fn name(self) -> &'static str {
        match self {
            HitKind::Exact => "exact",
            HitKind::LookAlike { .. } => "look-alike",
            HitKind::EndMissing => "end missing",
            HitKind::EndExtra => "end extra",
            HitKind::Wildcard => "wildcard",
        }
    }
}

/// One position where the read's text differs from the entry's plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Differ {
    pub at: u8,
    pub read: char,
    pub entry: char,
}

/// How the read matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub kind: HitKind,
    /// 0..1: how much the match is worth believing (an exact best text is 1).
    pub score: f32,
    /// The text that matched: the read's best text or one of its candidates.
    pub text: String,
    pub from_candidate: bool,
    pub differs: Vec<Differ>,
    /// The read's region and the entry's are both known and differ: shown,
    /// never a reason to drop the alert.
    pub region_mismatch: bool,
}

/// The list an alert's entry is on, as the node held it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRef {
    pub name: String,
    /// The bulk list's signed version; 0 for the fleet's local list.
    pub version: u64,
    /// When that version was published (a local entry: when it was added),
    /// so an alert tells the list's age when it was raised.
    pub published_at: Timestamp,
    /// The local entry's id, for the fleet's local list.
    pub local_id: Option<u64>,
}

/// A hotlist hit on one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertBody {
    pub read: RecordRef,
    pub read_at: Timestamp,
    pub plate: PlateText,
    pub read_region: Option<String>,
    pub camera: String,
    pub list: ListRef,
    pub entry: Entry,
    /// A wildcard entry's pattern.
    pub pattern: Option<String>,
    pub hit: Hit,
    /// The node's lists were older than its limit when the alert was raised.
    pub stale: bool,
    /// Found after the read was stored, by a new entry or list version.
    pub retro: bool,
}

/// An officer's answer to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Confirmed visually and by dispatch.
    Confirmed,
    /// The reader misread the plate: not the listed vehicle.
    Misread,
    /// The plate matches but its state or country does not.
    WrongState,
    /// Closed for another reason, which the disposition gives.
    Dismissed,
}

pub const OUTCOMES: [Outcome; 4] = [
    Outcome::Confirmed,
    Outcome::Misread,
    Outcome::WrongState,
    Outcome::Dismissed,
];

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Misread => "misread",
            Outcome::WrongState => "wrong-state",
            Outcome::Dismissed => "dismissed",
        }
    }
}

/// An officer's disposition of one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionBody {
    pub alert: RecordRef,
    pub outcome: Outcome,
    /// Why (required when dismissed; at most [`REASON_LEN_MAX`] bytes).
    pub reason: String,
    /// The user who disposed of it.
    pub by: String,
}

/// Why a disposition is refused before it is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispositionError {
    #[error("a dismissal needs a reason")]
    NoReason,
    #[error("the reason is longer than {REASON_LEN_MAX} bytes ({0})")]
    ReasonTooLong(usize),
    #[error("the reason holds control characters")]
    ControlCharacters,
}

impl DispositionBody {
    /// Checks what a person typed: a dismissal has a reason, and every
    /// reason is bounded and printable.
    pub fn check(&self) -> Result<(), DispositionError> {
        if self.reason.len() > REASON_LEN_MAX {
            return Err(DispositionError::ReasonTooLong(self.reason.len()));
        }
        if self.reason.chars().any(char::is_control) {
            return Err(DispositionError::ControlCharacters);
        }
        if self.outcome == Outcome::Dismissed && self.reason.trim().is_empty() {
            return Err(DispositionError::NoReason);
        }
        Ok(())
    }
}

/// What an alert record carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlertItem {
    Raised(Box<AlertBody>),
    Disposed(DispositionBody),
}

/// An alert or a disposition, with its place in its origin's alert records.
///
/// `origin`, `seq` and `time` (when it was raised or disposed) travel in
/// the envelope's clear header; the item is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub origin: NodeId,
    pub seq: u64,
    pub time: Timestamp,
    pub item: AlertItem,
}

impl AlertRecord {
    pub fn id(&self) -> RecordRef {
        RecordRef {
            origin: self.origin,
            seq: self.seq,
        }
    }
}
