//! The control API between the node's daemon and its local clients (the CLI, the console).
//!
//! Frames on the Unix socket: `len u32 BE | postcard(message)`, at most
//! [`FRAME_BYTES_MAX`]. One request, one response, in order. Every request
//! but `Login` carries the session token `Login` returned. The daemon's
//! engine does all checking; these types only carry what a person asked.

use serde::{Deserialize, Serialize};

use crate::identity::NodeId;
use crate::time::Timestamp;

/// Largest frame either side accepts.
pub const FRAME_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A session token, as `Login` returns it.
pub type Token = [u8; 32];

/// A purpose as typed (the engine parses and may refuse it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeWire {
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub case: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryWire {
    Plate(String),
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ControlRequest {
    Login {
        user: String,
        password: String,
    },
    Logout {
        token: Token,
    },
    Search {
        token: Token,
        purpose: PurposeWire,
        query: QueryWire,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        limit: u32,
    },
    ViewRead {
        token: Token,
        purpose: PurposeWire,
        origin: NodeId,
        seq: u64,
    },
    Verify {
        token: Token,
    },
    Purge {
        token: Token,
        dry_run: bool,
    },
    /// Policy status: retention, holds, overdue audit, who is logged in as.
    Status {
        token: Token,
    },
    /// One batch of reads recognized elsewhere (at most 4,096).
    Import {
        token: Token,
        source: String,
        reads: Vec<(Timestamp, crate::record::Capture)>,
    },
    AddUser {
        token: Token,
        name: String,
        role: String,
        password: String,
        trained_on: Option<Timestamp>,
        training_expires: Option<Timestamp>,
    },
    EditUser {
        token: Token,
        name: String,
        edit: UserEditWire,
    },
    ListUsers {
        token: Token,
    },
    /// Publish the next version of a bulk hotlist (at a station).
    PublishHotlist {
        token: Token,
        list: String,
        entries: Vec<crate::hotlist::Entry>,
    },
    ListHotlists {
        token: Token,
    },
    /// Put a plate on the local hotlist (a BOLO).
    AddHotlistEntry {
        token: Token,
        entry: crate::hotlist::Entry,
    },
    RemoveHotlistEntry {
        token: Token,
        id: u64,
    },
    /// Revoke a node: by name, full id or unique id prefix.
    RevokeNode {
        token: Token,
        node: String,
        reason: String,
    },
    SetRetention {
        token: Token,
        reads_days: u32,
        plate_images_days: u32,
        overview_images_days: u32,
        audit_days: u32,
        alerts_days: u32,
    },
    PlaceHold {
        token: Token,
        case: String,
        reason: String,
        scope: HoldScopeWire,
        expires: Option<Timestamp>,
    },
    ReleaseHold {
        token: Token,
        id: u64,
    },
    /// Login limits, within the CJIS bounds; None keeps a value.
    SetLimits {
        token: Token,
        failures_max: Option<u32>,
        lockout_minutes: Option<u32>,
        idle_lock_minutes: Option<u32>,
    },
    ListHolds {
        token: Token,
    },
    /// Writes the bundle to a directory on the daemon's machine.
    ExportEvidence {
        token: Token,
        purpose: PurposeWire,
        case: String,
        out: String,
    },
    RegisterRequest {
        token: Token,
        requester: String,
        what: String,
        referred_to: String,
    },
    DecideRequest {
        token: Token,
        id: u64,
        decision: String,
        note: String,
    },
    ListRequests {
        token: Token,
    },
    Release {
        token: Token,
        purpose: PurposeWire,
        agency: String,
        official: String,
        legal_basis: String,
        reads: Vec<(NodeId, u64)>,
        out: String,
    },
    AuditSample {
        token: Token,
        quarter: String,
        seed: u64,
        size: u32,
    },
    AuditMark {
        token: Token,
        report: u64,
        item: u32,
        compliant: bool,
        note: String,
    },
    AuditSign {
        token: Token,
        report: u64,
    },
    ListAudits {
        token: Token,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEditWire {
    Training {
        on: Option<Timestamp>,
        expires: Option<Timestamp>,
    },
    Active(bool),
    Role(String),
    Password(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldScopeWire {
    Reads(Vec<(NodeId, u64)>),
    Plate {
        plate: String,
        from: Timestamp,
        to: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWire {
    pub name: String,
    pub role: String,
    pub active: bool,
    pub trained_on: Option<Timestamp>,
    pub training_expires: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldWire {
    pub id: u64,
    pub case: String,
    pub reason: String,
    pub scope: HoldScopeWire,
    pub placed_by: String,
    pub placed_at: Timestamp,
    pub expires: Option<Timestamp>,
    pub standing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestWire {
    pub id: u64,
    pub requester: String,
    pub what: String,
    pub referred_to: String,
    pub registered_by: String,
    pub received_at: Timestamp,
    /// Outcome, note, by, at.
    pub decision: Option<(String, String, String, Timestamp)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditWire {
    pub id: u64,
    pub quarter: String,
    pub seed: u64,
    pub population: u64,
    pub auditor: String,
    pub signed: bool,
    /// Origin, seq, finding (None until marked), note.
    pub items: Vec<(NodeId, u64, Option<bool>, String)>,
}

/// One read as a client shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadSummary {
    pub origin: NodeId,
    pub seq: u64,
    pub captured_at: Timestamp,
    pub plate: String,
    pub confidence: f32,
    pub region: Option<String>,
    pub camera: String,
    pub location: Option<(f64, f64)>,
    pub crop_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Hit {
    Read(ReadSummary),
    Damaged {
        origin: NodeId,
        seq: u64,
        reason: String,
    },
}

/// Why a request was refused or failed, for a client to show as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// Bad user or password, locked out, deactivated, untrained.
    Login,
    /// No session, or it locked when idle: log in again.
    Session,
    /// Role or purpose forbids it.
    Refused,
    /// The request itself is malformed or names nothing.
    Invalid,
    /// The node could not do it (storage, damaged data).
    Failed,
}

/// An entry of the local hotlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalEntryWire {
    pub id: u64,
    pub entry: crate::hotlist::Entry,
    pub added_by: String,
    pub added_at: Timestamp,
    pub removed: Option<(String, Timestamp)>,
}

/// A hotlist version a node holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotlistWire {
    pub list: String,
    pub version: u64,
    pub entries: u64,
    pub content: [u8; 32],
    pub published_at: Timestamp,
    pub author: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ControlResponse {
    LoggedIn {
        token: Token,
        user: String,
        role: String,
    },
    Done,
    Found {
        hits: Vec<Hit>,
        total: u64,
    },
    Read {
        read: ReadSummary,
        crop_jpeg: Vec<u8>,
    },
    Verified {
        reads: u64,
        images: u64,
        audit_events: u64,
        failures: Vec<String>,
    },
    Purged {
        purged: u64,
        held: u64,
        cutoff: Timestamp,
        images: u64,
        audit_events: u64,
        dry_run: bool,
    },
    Status {
        user: String,
        role: String,
        reads_days: u32,
        plate_images_days: u32,
        overview_images_days: u32,
        audit_days: u32,
        alerts_days: u32,
        standing_holds: u64,
        audit_overdue: Option<String>,
        /// Every node this node holds a certificate of.
        nodes: Vec<NodeId>,
        /// This node's certificate window: it can record reads captured only within it.
        valid_from: Timestamp,
        valid_until: Timestamp,
    },
    Imported {
        first_seq: u64,
        last_seq: u64,
    },
    Users(Vec<UserWire>),
    Hotlists {
        lists: Vec<HotlistWire>,
        local: Vec<LocalEntryWire>,
    },
    HotlistEntryAdded {
        id: u64,
    },
    Holds(Vec<HoldWire>),
    HoldPlaced {
        id: u64,
    },
    Exported {
        reads: u64,
        audit_events: u64,
        files: u64,
    },
    Requests(Vec<RequestWire>),
    RequestRegistered {
        id: u64,
    },
    Released {
        id: u64,
    },
    Audits {
        reports: Vec<AuditWire>,
        overdue: Option<String>,
    },
    AuditDrawn {
        id: u64,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {0} bytes exceeds the {FRAME_BYTES_MAX}-byte limit")]
    TooLarge(usize),
    #[error("frame does not decode: {0}")]
    Decode(String),
}

/// Encodes a message as one frame (length prefix included).
pub fn encode_frame<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let body = postcard::to_allocvec(message).map_err(|e| FrameError::Decode(e.to_string()))?;
    if body.len() > FRAME_BYTES_MAX {
        return Err(FrameError::TooLarge(body.len()));
    }
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

/// Checks a frame's announced length before its body is read.
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > FRAME_BYTES_MAX {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

/// Decodes a frame body (after its length prefix); total, never panics.
pub fn decode_frame<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, FrameError> {
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| FrameError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Decode(format!("{} trailing bytes", rest.len())));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_refused() {
        let req = ControlRequest::Search {
            token: [1; 32],
            purpose: PurposeWire {
                kind: Some("alert".into()),
                reason: Some("hit".into()),
                case: None,
            },
            query: QueryWire::Pattern("7AB*".into()),
            from: None,
            to: Some(Timestamp(5)),
            limit: 50,
        };
        let frame = encode_frame(&req).unwrap();
        let len = frame_len(frame[..4].try_into().unwrap()).unwrap();
        assert_eq!(len, frame.len() - 4);
        assert_eq!(decode_frame::<ControlRequest>(&frame[4..]).unwrap(), req);
        for cut in 0..frame.len() - 4 {
            let _ = decode_frame::<ControlRequest>(&frame[4..4 + cut]);
        }
        assert!(decode_frame::<ControlRequest>(&[0xff; 9]).is_err());
        assert_eq!(
            frame_len([0xff; 4]),
            Err(FrameError::TooLarge(u32::MAX as usize))
        );
    }
}
