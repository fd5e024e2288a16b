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

/// The control contract's version, carried by `Login` (every session's
/// first message): a daemon answers a client of another version with an
/// error naming both, never a misread request. Raised whenever a message
/// changes.
pub const CONTROL_VERSION: u32 = 6;

/// A session token, as `Login` returns it.
pub type Token = [u8; 32];

/// A user's role (policy II.A, III.A.4): the policy record's own type,
/// one enum from the replicated document to the console.
pub use crate::policy::UserRole as RoleWire;

/// The kind of a stated purpose (policy III.A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PurposeKindWire {
    Investigation,
    Alert,
    Audit,
    Administration,
}

impl PurposeKindWire {
    pub fn name(self) -> &'static str {
        match self {
            PurposeKindWire::Investigation => "investigation",
            PurposeKindWire::Alert => "alert",
            PurposeKindWire::Audit => "audit",
            PurposeKindWire::Administration => "administration",
        }
    }
}

/// A decision on a request from outside law enforcement (policy V.A.1):
/// the policy record's own type.
pub use crate::policy::RequestOutcome as DecisionWire;

/// A purpose as stated (the engine checks the reason and case and may refuse it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeWire {
    pub kind: Option<PurposeKindWire>,
    pub reason: Option<String>,
    pub case: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryWire {
    Plate(String),
    Pattern(String),
    /// A plate with the letter O and the digit 0 taken as one.
    LookAlike(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ControlRequest {
    Login {
        /// [`CONTROL_VERSION`] of the client.
        version: u32,
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
        /// Reads of this camera only (its name, case-insensitive).
        camera: Option<String>,
        /// Reads of this node only: its name, full id or a unique id prefix.
        node: Option<String>,
    },
    ViewRead {
        token: Token,
        purpose: PurposeWire,
        origin: NodeId,
        seq: u64,
    },
    /// One image of a read (an access of its own): the overview frame or the plate crop.
    ViewImage {
        token: Token,
        purpose: PurposeWire,
        origin: NodeId,
        seq: u64,
        kind: crate::record::ImageKind,
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
        role: RoleWire,
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
    /// Clear a user's failed logins and lockout on this node.
    UnlockUser {
        token: Token,
        name: String,
    },
    /// Part of a list too large for one frame, held by the daemon for this
    /// session until `PublishHotlist` of the same list publishes it whole.
    StageHotlist {
        token: Token,
        list: String,
        entries: Vec<crate::hotlist::Entry>,
    },
    /// Publish the next version of a bulk hotlist (at a station): the
    /// entries staged for it in this session, and these.
    PublishHotlist {
        token: Token,
        list: String,
        entries: Vec<crate::hotlist::Entry>,
    },
    ListHotlists {
        token: Token,
    },
    /// Put a plate on the local hotlist (a BOLO), or with `pattern` a
    /// wildcard entry (`entry.plate` is then set from the pattern).
    AddHotlistEntry {
        token: Token,
        entry: crate::hotlist::Entry,
        pattern: Option<String>,
    },
    RemoveHotlistEntry {
        token: Token,
        id: u64,
    },
    /// Change a local hotlist entry's priority, expiry, reason or covert flag.
    EditHotlistEntry {
        token: Token,
        id: u64,
        edit: LocalEditWire,
    },
    /// What publishing these entries (and those staged) would change in
    /// the list's current version; publishes nothing.
    DiffHotlist {
        token: Token,
        list: String,
        entries: Vec<crate::hotlist::Entry>,
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
        decision: DecisionWire,
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
    /// Audit events that match every filter given, newest first (Auditors
    /// and Administrators): who searched a plate, what a user did.
    AuditLog {
        token: Token,
        filter: AuditFilterWire,
        limit: u32,
    },
    /// Turns this connection into a stream of the node's live events, with
    /// a stated purpose (reads are data): answered `Subscribed`, then
    /// `Events` frames until the client hangs up or the session ends (a
    /// last `Error` says which). A console keeps a second connection for
    /// its requests.
    Subscribe {
        token: Token,
        purpose: PurposeWire,
    },
    /// Alerts with their dispositions, pending first, then by priority.
    ListAlerts {
        token: Token,
        purpose: PurposeWire,
        pending_only: bool,
        limit: u32,
    },
    /// One alert, with its read's plate crop where held.
    ShowAlert {
        token: Token,
        purpose: PurposeWire,
        origin: NodeId,
        seq: u64,
    },
    /// Closes an alert with a disposition.
    DisposeAlert {
        token: Token,
        origin: NodeId,
        seq: u64,
        outcome: crate::alert::Outcome,
        reason: String,
    },
    /// Counts of alerts raised in a time range.
    HitReport {
        token: Token,
        purpose: PurposeWire,
        from: Timestamp,
        to: Timestamp,
    },
    /// The peers and sync view: each peer, its meetings and what is pending
    /// each way, and the revoked nodes.
    Peers {
        token: Token,
    },
    /// Releases to other agencies as recorded (Auditors, Administrators).
    ListReleases {
        token: Token,
    },
}

/// Per collection (reads, audit events, alerts), how many records.
pub type CountsWire = Vec<(crate::replicate::Collection, u64)>;

/// One peer as the peers view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerWire {
    pub node: NodeId,
    /// From its certificate, where this node holds it.
    pub name: Option<String>,
    pub role: Option<crate::enrollment::Role>,
    /// A meeting with it is running, since then.
    pub connected_since: Option<Timestamp>,
    /// The last meeting that ended in sync (kept across restarts).
    pub last_in_sync: Option<Timestamp>,
    /// Meetings ended since the node started, and how many failed.
    pub meetings: u64,
    pub failures: u64,
    /// The last failure since the node started: when, and why.
    pub last_failure: Option<(Timestamp, String)>,
    /// Records to send it, per collection that flows to it, counted
    /// against what it held at the last meeting in sync; None until such a
    /// meeting since the node started.
    pub pending_out: Option<CountsWire>,
    /// Records it held at its last Hello that this node still lacks; None
    /// until it said so since the node started.
    pub pending_in: Option<CountsWire>,
}

/// A peer address a daemon tries to meet (node.toml's `peers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAddressWire {
    pub address: String,
    pub last_try: Timestamp,
    /// The node met there last, and when.
    pub last_met: Option<(NodeId, Timestamp)>,
    /// The last failed try: when, and why (unreachable, refused, cut).
    pub last_failure: Option<(Timestamp, String)>,
}

/// A revoked node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedWire {
    pub node: NodeId,
    pub name: String,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

/// A disposition as a client shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionWire {
    pub origin: NodeId,
    pub seq: u64,
    pub at: Timestamp,
    pub body: crate::alert::DispositionBody,
}

/// An alert as a client shows it: the signed alert's body, and its dispositions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertWire {
    pub origin: NodeId,
    pub seq: u64,
    pub raised_at: Timestamp,
    pub alert: crate::alert::AlertBody,
    pub dispositions: Vec<DispositionWire>,
}

/// What an audit-log query matches; None matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilterWire {
    /// The acting user, exactly (case-insensitive).
    pub user: Option<String>,
    pub action: Option<crate::record::Action>,
    /// Text the event's object contains (case-insensitive): a plate, a record id, a list.
    pub contains: Option<String>,
    pub case: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One audit event as a client shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEventWire {
    pub origin: NodeId,
    pub seq: u64,
    pub time: Timestamp,
    pub user: String,
    pub action: crate::record::Action,
    pub object: String,
    pub purpose: Option<String>,
    pub case: Option<String>,
    pub outcome: crate::record::Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEditWire {
    Training {
        on: Option<Timestamp>,
        expires: Option<Timestamp>,
    },
    Active(bool),
    Role(RoleWire),
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
    pub role: RoleWire,
    pub active: bool,
    pub trained_on: Option<Timestamp>,
    pub training_expires: Option<Timestamp>,
    /// Failed logins in a row on this node since the last good one.
    pub failures: u32,
    /// Locked out on this node until then (only while it lasts).
    pub locked_until: Option<Timestamp>,
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
    pub decision: Option<(DecisionWire, String, String, Timestamp)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditWire {
    pub id: u64,
    pub quarter: String,
    pub seed: u64,
    pub population: u64,
    pub auditor: String,
    pub signed: bool,
    /// Origin, seq, finding (None until marked), note.
    pub items: Vec<(NodeId, u64, Option<bool>, String)>,
    /// Each item's event as this node holds it, in the items' order: who
    /// did what, when, for what purpose; None where it is not held here
    /// (purged, or not yet received) or does not verify. Empty for a
    /// signed report (final: its findings stand).
    pub events: Vec<Option<AuditEventWire>>,
}

/// One of a daemon's cameras, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraWire {
    pub name: String,
    /// The source is open.
    pub up: bool,
    /// Frames recognized per second, over the last few seconds.
    pub frames_per_s: f32,
    /// Frames dropped (recognition behind a live source) and frames that
    /// could not be decoded, since the daemon started.
    pub dropped: u64,
    pub failed: u64,
    /// What the source is, in words.
    pub source: String,
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
    /// How the location was known (a GPS fix, surveyed, no fix, unknown).
    pub fix: crate::record::Fix,
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
    /// A wildcard entry's pattern.
    pub pattern: Option<String>,
    /// The last edit: who, when.
    pub edited: Option<(String, Timestamp)>,
}

/// A change to a local hotlist entry: each field given is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalEditWire {
    pub priority: Option<crate::hotlist::Priority>,
    /// `Some(None)` takes the expiry off.
    pub expires: Option<Option<Timestamp>>,
    pub reason: Option<String>,
    pub covert: Option<bool>,
}

/// Entries of each kind a dry-run answer carries.
pub const DIFF_SAMPLE_MAX: usize = 20;

/// A dry run of publishing a list: its version here (if any) and the
/// change, counted, with the first few entries of each kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotlistDiffWire {
    pub list: String,
    pub base_version: Option<u64>,
    /// Entries the new version would hold.
    pub entries: u64,
    pub added: u64,
    pub removed: u64,
    /// Same plate and region, other fields differ.
    pub changed: u64,
    pub unchanged: u64,
    pub added_sample: Vec<crate::hotlist::Entry>,
    pub removed_sample: Vec<crate::hotlist::Entry>,
    /// Old, then new.
    pub changed_sample: Vec<(crate::hotlist::Entry, crate::hotlist::Entry)>,
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
        role: RoleWire,
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
    /// The image asked for; empty when there is none to show.
    Image {
        jpeg: Vec<u8>,
    },
    Verified {
        reads: u64,
        images: u64,
        audit_events: u64,
        failures: Vec<String>,
        /// The client stopped the check: what it found so far.
        cancelled: bool,
    },
    /// How far a long request is (a verify, an export), sent before its
    /// answer: the phase, records done, and how many in all where known. A
    /// client that hangs up cancels the request at the next of these.
    Progress {
        what: String,
        done: u64,
        total: Option<u64>,
    },
    Purged {
        purged: u64,
        held: u64,
        cutoff: Timestamp,
        images: u64,
        audit_events: u64,
        /// Alert records (alerts and their dispositions) past their period.
        alerts: u64,
        /// Alerts past their period kept because a hold covers their read.
        alerts_held: u64,
        dry_run: bool,
    },
    Status {
        user: String,
        role: RoleWire,
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
        /// This node: name, id, role, agency.
        node_name: String,
        node_id: NodeId,
        node_role: crate::enrollment::Role,
        agency: crate::identity::AgencyId,
        reads: u64,
        /// The last meeting in sync with each peer: id, name if known, when.
        meetings: Vec<(NodeId, Option<String>, Timestamp)>,
        /// Each bulk hotlist held: name, version, when published.
        hotlists: Vec<(String, u64, Timestamp)>,
        disk_free: Option<u64>,
        alerts_pending: u64,
        lists_age_ms: Option<i64>,
        lists_stale: bool,
        database_bytes: Option<u64>,
        /// The next scheduled purge, when a daemon runs.
        next_purge: Option<Timestamp>,
        /// The daemon's cameras (none without one, or at a station).
        cameras: Vec<CameraWire>,
        /// Login limits in force: failures before a lockout, its minutes,
        /// and the idle minutes after which a session locks (a console
        /// locks its screen then too).
        failures_max: u32,
        lockout_minutes: u32,
        idle_lock_minutes: u32,
    },
    /// The seqs this batch stored (0, 0 when none), and how many of its
    /// reads were already stored here (an import run twice).
    Imported {
        first_seq: u64,
        last_seq: u64,
        already_stored: u64,
    },
    Users(Vec<UserWire>),
    Hotlists {
        lists: Vec<HotlistWire>,
        local: Vec<LocalEntryWire>,
    },
    HotlistEntryAdded {
        id: u64,
    },
    HotlistDiff(HotlistDiffWire),
    Holds(Vec<HoldWire>),
    HoldPlaced {
        id: u64,
    },
    Exported {
        reads: u64,
        audit_events: u64,
        files: u64,
        /// Where the node wrote the bundle (its directory, absolute), and
        /// the bytes of the files the manifest lists.
        path: String,
        bytes: u64,
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
    /// Matching events (at most the limit asked), how many matched in all,
    /// and how many stored events did not verify (and were not searched).
    AuditLog {
        events: Vec<AuditEventWire>,
        total: u64,
        damaged: u64,
    },
    /// The stream is open: events from now on follow.
    Subscribed,
    Alerts {
        alerts: Vec<AlertWire>,
        /// This node's lists are older than its limit.
        stale: bool,
        /// How long ago its lists were brought up to date (none held: None).
        lists_age_ms: Option<i64>,
    },
    Alert {
        alert: Box<AlertWire>,
        #[serde(with = "serde_bytes")]
        crop: Option<Vec<u8>>,
        stale: bool,
    },
    Disposed {
        origin: NodeId,
        seq: u64,
    },
    HitReport {
        alerts: u64,
        pending: u64,
        by_list: Vec<(String, u64)>,
        by_outcome: Vec<(String, u64)>,
        by_camera: Vec<(String, u64)>,
        by_day: Vec<(String, u64)>,
    },
    /// Releases to other agencies, the policy records as they stand.
    Releases(Vec<crate::policy::Release>),
    Peers {
        peers: Vec<PeerWire>,
        /// The addresses the daemon tries to meet, and how the last try went.
        addresses: Vec<PeerAddressWire>,
        revoked: Vec<RevokedWire>,
    },
    /// Events in the order they happened; `missed` counts those that left
    /// the node's bounded ring before this client read them (it fell
    /// behind). An empty frame is a heartbeat.
    Events {
        events: Vec<EventWire>,
        missed: u64,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

/// One live event (see `Subscribe`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventWire {
    /// A read this node stored.
    Read(ReadSummary),
    /// A meeting with a peer started, reached sync, or failed.
    Sync {
        at: Timestamp,
        peer: NodeId,
        /// The peer's name where its certificate is known.
        name: Option<String>,
        status: SyncStatusWire,
    },
    /// A purge finished.
    Purge {
        at: Timestamp,
        by: String,
        purged: u64,
        held: u64,
        audit_events: u64,
        images: u64,
    },
    /// An alert raised (or arrived), or a disposition of one (`disposed`
    /// names its outcome). Covert alerts reach only roles that may see them.
    Alert {
        origin: NodeId,
        seq: u64,
        at: Timestamp,
        alert_origin: NodeId,
        alert_seq: u64,
        disposed: Option<String>,
        plate: String,
        list: String,
        entry: String,
        priority: crate::hotlist::Priority,
        kind: String,
        stale: bool,
        retro: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatusWire {
    Started,
    InSync { reads: u64, audit_events: u64 },
    Failed(String),
}

/// Longest name a request may carry (a user, list, node, role, source),
/// before the engine's own, tighter rules.
pub const NAME_BYTES_MAX: usize = 256;
/// Longest password or free text (a reason, note, legal basis, path).
pub const TEXT_BYTES_MAX: usize = 4096;
/// Most records one request may name (reads to hold or release).
pub const RECORDS_MAX: usize = 100_000;
/// Most reads one import request may carry: one recorder batch
/// (`READ_BATCH_MAX` in the node, asserted equal there).
pub const IMPORT_BATCH_MAX: usize = 4096;
/// Most hotlist entries one request may carry (a larger list is staged in parts).
pub const HOTLIST_PART_MAX: usize = 100_000;

/// A request field over its bound: which request, which field, how large.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{request}: {field} is {len} long, over the limit of {max}")]
pub struct FieldTooLarge {
    pub request: &'static str,
    pub field: &'static str,
    pub len: usize,
    pub max: usize,
}

struct Sizes {
    request: &'static str,
    first: Option<FieldTooLarge>,
}

impl Sizes {
    fn len(&mut self, field: &'static str, len: usize, max: usize) -> &mut Self {
        if len > max && self.first.is_none() {
            self.first = Some(FieldTooLarge {
                request: self.request,
                field,
                len,
                max,
            });
        }
        self
    }
    fn name(&mut self, field: &'static str, v: &str) -> &mut Self {
        self.len(field, v.len(), NAME_BYTES_MAX)
    }
    fn text(&mut self, field: &'static str, v: &str) -> &mut Self {
        self.len(field, v.len(), TEXT_BYTES_MAX)
    }
    fn purpose(&mut self, p: &PurposeWire) -> &mut Self {
        self.text("purpose reason", p.reason.as_deref().unwrap_or(""))
            .name("purpose case", p.case.as_deref().unwrap_or(""))
    }
    fn entry(&mut self, e: &crate::hotlist::Entry) -> &mut Self {
        self.name("entry region", e.region.as_deref().unwrap_or(""))
            .name("entry reference", &e.reference)
    }
}

impl ControlRequest {
    /// Checks every field a person or a client put in the request against a
    /// bound, before any of it reaches the engine or an audit event. The
    /// engine's own rules are tighter; these keep an unauthenticated or
    /// hostile request from carrying megabytes into a log.
    pub fn check_sizes(&self) -> Result<(), FieldTooLarge> {
        use ControlRequest as R;
        let mut s = Sizes {
            request: self.name(),
            first: None,
        };
        match self {
            R::Login { user, password, .. } => {
                s.name("user", user).text("password", password);
            }
            R::Search {
                purpose,
                query,
                camera,
                node,
                ..
            } => {
                let (QueryWire::Plate(q) | QueryWire::Pattern(q) | QueryWire::LookAlike(q)) = query;
                s.purpose(purpose)
                    .name("query", q)
                    .name("camera", camera.as_deref().unwrap_or(""))
                    .name("node", node.as_deref().unwrap_or(""));
            }
            R::ViewRead { purpose, .. }
            | R::ViewImage { purpose, .. }
            | R::Subscribe { purpose, .. }
            | R::ListAlerts { purpose, .. }
            | R::ShowAlert { purpose, .. }
            | R::HitReport { purpose, .. } => {
                s.purpose(purpose);
            }
            R::DisposeAlert { reason, .. } => {
                s.text("reason", reason);
            }
            R::Import { source, reads, .. } => {
                s.name("source", source)
                    .len("reads", reads.len(), IMPORT_BATCH_MAX);
                for (_, c) in reads {
                    s.name("camera", &c.camera);
                    if let Some(r) = &c.region {
                        s.name("region", &r.code);
                    }
                }
            }
            R::AddUser { name, password, .. } => {
                s.name("name", name).text("password", password);
            }
            R::UnlockUser { name, .. } => {
                s.name("name", name);
            }
            R::EditUser { name, edit, .. } => {
                s.name("name", name);
                match edit {
                    UserEditWire::Password(p) => s.text("password", p),
                    UserEditWire::Role(_)
                    | UserEditWire::Training { .. }
                    | UserEditWire::Active(_) => &mut s,
                };
            }
            R::PublishHotlist { list, entries, .. } | R::StageHotlist { list, entries, .. } => {
                s.name("list", list)
                    .len("entries", entries.len(), HOTLIST_PART_MAX);
                for e in entries {
                    s.entry(e);
                }
            }
            R::AddHotlistEntry { entry, pattern, .. } => {
                s.entry(entry)
                    .name("pattern", pattern.as_deref().unwrap_or(""));
            }
            R::EditHotlistEntry { edit, .. } => {
                s.text("reason", edit.reason.as_deref().unwrap_or(""));
            }
            R::DiffHotlist { list, entries, .. } => {
                s.name("list", list)
                    .len("entries", entries.len(), HOTLIST_PART_MAX);
                for e in entries {
                    s.entry(e);
                }
            }
            R::AuditLog { filter, .. } => {
                s.name("user", filter.user.as_deref().unwrap_or(""))
                    .text("contains", filter.contains.as_deref().unwrap_or(""))
                    .name("case", filter.case.as_deref().unwrap_or(""));
            }
            R::RevokeNode { node, reason, .. } => {
                s.name("node", node).text("reason", reason);
            }
            R::PlaceHold {
                case,
                reason,
                scope,
                ..
            } => {
                s.name("case", case).text("reason", reason);
                match scope {
                    HoldScopeWire::Reads(ids) => s.len("reads", ids.len(), RECORDS_MAX),
                    HoldScopeWire::Plate { plate, .. } => s.name("plate", plate),
                };
            }
            R::ExportEvidence {
                purpose, case, out, ..
            } => {
                s.purpose(purpose).name("case", case).text("out", out);
            }
            R::RegisterRequest {
                requester,
                what,
                referred_to,
                ..
            } => {
                s.text("requester", requester)
                    .text("what", what)
                    .text("referred to", referred_to);
            }
            R::DecideRequest { note, .. } => {
                s.text("note", note);
            }
            R::Release {
                purpose,
                agency,
                official,
                legal_basis,
                reads,
                out,
                ..
            } => {
                s.purpose(purpose)
                    .text("agency", agency)
                    .text("official", official)
                    .text("legal basis", legal_basis)
                    .len("reads", reads.len(), RECORDS_MAX)
                    .text("out", out);
            }
            R::AuditSample { quarter, .. } => {
                s.name("quarter", quarter);
            }
            R::AuditMark { note, .. } => {
                s.text("note", note);
            }
            R::Logout { .. }
            | R::Verify { .. }
            | R::Purge { .. }
            | R::Status { .. }
            | R::ListUsers { .. }
            | R::ListHotlists { .. }
            | R::RemoveHotlistEntry { .. }
            | R::SetRetention { .. }
            | R::ReleaseHold { .. }
            | R::SetLimits { .. }
            | R::ListHolds { .. }
            | R::ListRequests { .. }
            | R::AuditSign { .. }
            | R::ListAudits { .. }
            | R::Peers { .. }
            | R::ListReleases { .. } => {}
        }
        s.first.map_or(Ok(()), Err)
    }

    /// The session token the request carries (every request but `Login`).
    pub fn token(&self) -> Option<Token> {
        use ControlRequest as R;
        match self {
            R::Login { .. } => None,
            R::Logout { token }
            | R::Search { token, .. }
            | R::AuditLog { token, .. }
            | R::Subscribe { token, .. }
            | R::ListAlerts { token, .. }
            | R::ShowAlert { token, .. }
            | R::DisposeAlert { token, .. }
            | R::HitReport { token, .. }
            | R::ViewRead { token, .. }
            | R::ViewImage { token, .. }
            | R::Verify { token }
            | R::Purge { token, .. }
            | R::Status { token }
            | R::Import { token, .. }
            | R::AddUser { token, .. }
            | R::EditUser { token, .. }
            | R::ListUsers { token }
            | R::UnlockUser { token, .. }
            | R::PublishHotlist { token, .. }
            | R::StageHotlist { token, .. }
            | R::ListHotlists { token }
            | R::AddHotlistEntry { token, .. }
            | R::RemoveHotlistEntry { token, .. }
            | R::EditHotlistEntry { token, .. }
            | R::DiffHotlist { token, .. }
            | R::RevokeNode { token, .. }
            | R::SetRetention { token, .. }
            | R::PlaceHold { token, .. }
            | R::ReleaseHold { token, .. }
            | R::SetLimits { token, .. }
            | R::ListHolds { token }
            | R::ExportEvidence { token, .. }
            | R::RegisterRequest { token, .. }
            | R::DecideRequest { token, .. }
            | R::ListRequests { token }
            | R::Release { token, .. }
            | R::AuditSample { token, .. }
            | R::AuditMark { token, .. }
            | R::AuditSign { token, .. }
            | R::ListAudits { token }
            | R::Peers { token }
            | R::ListReleases { token } => Some(*token),
        }
    }

    /// The audited action the request asks for.
    pub fn action(&self) -> crate::record::Action {
        use crate::record::Action as A;
        use ControlRequest as R;
        match self {
            R::Login { .. } => A::LoginFailed,
            R::Logout { .. } => A::Logout,
            R::Search { .. } => A::Search,
            R::Subscribe { .. } => A::LiveView,
            R::ListAlerts { .. } | R::ShowAlert { .. } | R::HitReport { .. } => A::ViewAlert,
            R::DisposeAlert { .. } => A::DisposeAlert,
            R::ViewRead { .. } => A::ViewRead,
            R::ViewImage { .. } => A::ViewImage,
            R::Verify { .. } => A::Verify,
            R::Purge { .. } => A::Purge,
            R::Import { .. } => A::Import,
            R::AddUser { .. } | R::EditUser { .. } | R::UnlockUser { .. } => A::EditUser,
            R::PublishHotlist { .. }
            | R::StageHotlist { .. }
            | R::AddHotlistEntry { .. }
            | R::RemoveHotlistEntry { .. }
            | R::EditHotlistEntry { .. }
            | R::DiffHotlist { .. } => A::EditHotlist,
            R::RevokeNode { .. } => A::EditNodes,
            R::SetRetention { .. } | R::SetLimits { .. } => A::EditRetention,
            R::PlaceHold { .. } | R::ReleaseHold { .. } => A::EditHold,
            R::ExportEvidence { .. } => A::Export,
            R::RegisterRequest { .. } | R::DecideRequest { .. } => A::Request,
            R::Release { .. } => A::Release,
            R::AuditSample { .. }
            | R::AuditMark { .. }
            | R::AuditSign { .. }
            | R::AuditLog { .. } => A::AuditReview,
            R::Status { .. }
            | R::Peers { .. }
            | R::ListReleases { .. }
            | R::ListUsers { .. }
            | R::ListHotlists { .. }
            | R::ListHolds { .. }
            | R::ListRequests { .. }
            | R::ListAudits { .. } => A::ViewPolicy,
        }
    }

    /// The request's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        use ControlRequest as R;
        match self {
            R::Login { .. } => "login",
            R::Logout { .. } => "logout",
            R::Search { .. } => "search",
            R::AuditLog { .. } => "audit log",
            R::Subscribe { .. } => "subscribe",
            R::ListAlerts { .. } => "list alerts",
            R::ShowAlert { .. } => "show alert",
            R::DisposeAlert { .. } => "dispose alert",
            R::HitReport { .. } => "hit report",
            R::ViewRead { .. } => "view read",
            R::ViewImage { .. } => "view image",
            R::Verify { .. } => "verify",
            R::Purge { .. } => "purge",
            R::Status { .. } => "status",
            R::Peers { .. } => "peers",
            R::ListReleases { .. } => "list releases",
            R::Import { .. } => "import",
            R::AddUser { .. } => "add user",
            R::EditUser { .. } => "edit user",
            R::ListUsers { .. } => "list users",
            R::UnlockUser { .. } => "unlock user",
            R::PublishHotlist { .. } => "publish hotlist",
            R::StageHotlist { .. } => "stage hotlist",
            R::ListHotlists { .. } => "list hotlists",
            R::AddHotlistEntry { .. } => "add hotlist entry",
            R::RemoveHotlistEntry { .. } => "remove hotlist entry",
            R::EditHotlistEntry { .. } => "edit hotlist entry",
            R::DiffHotlist { .. } => "diff hotlist",
            R::RevokeNode { .. } => "revoke node",
            R::SetRetention { .. } => "set retention",
            R::PlaceHold { .. } => "place hold",
            R::ReleaseHold { .. } => "release hold",
            R::SetLimits { .. } => "set limits",
            R::ListHolds { .. } => "list holds",
            R::ExportEvidence { .. } => "export evidence",
            R::RegisterRequest { .. } => "register request",
            R::DecideRequest { .. } => "decide request",
            R::ListRequests { .. } => "list requests",
            R::Release { .. } => "release",
            R::AuditSample { .. } => "audit sample",
            R::AuditMark { .. } => "audit mark",
            R::AuditSign { .. } => "audit sign",
            R::ListAudits { .. } => "list audits",
        }
    }
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
                kind: Some(PurposeKindWire::Alert),
                reason: Some("hit".into()),
                case: None,
            },
            query: QueryWire::Pattern("7AB*".into()),
            from: None,
            to: Some(Timestamp(5)),
            limit: 50,
            camera: None,
            node: None,
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

    #[test]
    fn an_oversized_field_is_named_before_the_engine_sees_it() {
        let req = ControlRequest::Login {
            version: CONTROL_VERSION,
            user: "x".repeat(9 * 1024 * 1024),
            password: "pw".into(),
        };
        let err = req.check_sizes().unwrap_err();
        assert_eq!(
            (err.request, err.field, err.max),
            ("login", "user", NAME_BYTES_MAX)
        );
        assert!(err.to_string().contains("login: user is 9437184 long"));
        let hold = ControlRequest::PlaceHold {
            token: [0; 32],
            case: "26-1".into(),
            reason: "r".repeat(TEXT_BYTES_MAX + 1),
            scope: HoldScopeWire::Reads(vec![]),
            expires: None,
        };
        assert_eq!(hold.check_sizes().unwrap_err().field, "reason");
        let fine = ControlRequest::Logout { token: [0; 32] };
        assert_eq!(fine.check_sizes(), Ok(()));
    }
}
