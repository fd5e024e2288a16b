//! The policy records that replicate inside the policy document: users,
//! retention, login limits, holds, requests, releases, audit reports,
//! revocations and local hotlist entries, with their plain-data rules
//! (parsing, bounds, dates). Each is stored as the postcard of its struct
//! under its key (FORMAT.md, "Policy document"); the layouts are pinned by
//! `tests/policy_records.rs`, and a record's layout only grows at its end.
//!
//! What a role may do, and every decision over these records, is the
//! engine's (`alpr-engine`'s `policy`).

use serde::{Deserialize, Serialize};

use crate::identity::NodeId;
use crate::plate::PlateText;
use crate::time::Timestamp;

pub const DAY_MS: i64 = 86_400_000;
pub const MINUTE_MS: i64 = 60_000;
/// Audit events are kept at least a year (policy IV.B and the audit clause).
pub const AUDIT_RETENTION_DAYS_MIN: u32 = 365;
pub const USER_NAME_LEN_MAX: usize = 64;

/// Roles of policy II.A and III.A.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserRole {
    Officer,
    Supervisor,
    /// The Staff Services Commander and designees.
    Administrator,
    Auditor,
}

impl UserRole {
    pub fn parse(text: &str) -> Option<UserRole> {
        match text.to_ascii_lowercase().as_str() {
            "officer" => Some(UserRole::Officer),
            "supervisor" => Some(UserRole::Supervisor),
            "administrator" | "admin" => Some(UserRole::Administrator),
            "auditor" => Some(UserRole::Auditor),
            _ => None,
        }
    }

    /// The role in words, as people type and read it.
    pub fn name(self) -> &'static str {
        match self {
            UserRole::Officer => "officer",
            UserRole::Supervisor => "supervisor",
            UserRole::Administrator => "administrator",
            UserRole::Auditor => "auditor",
        }
    }
}

/// A person who may log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: UserRole,
    /// Argon2id, PHC string format.
    pub password_hash: String,
    /// When ALPR training was completed; None until it is.
    pub trained_on: Option<Timestamp>,
    /// When that training stops counting, if the department sets an expiry.
    pub training_expires: Option<Timestamp>,
    pub active: bool,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    #[error("user '{0}' has no recorded ALPR training (policy III.A.1)")]
    None(String),
    #[error("user '{user}' completes training only on {on} (policy III.A.1)")]
    NotYet { user: String, on: Timestamp },
    #[error("training of user '{user}' expired on {on} (policy III.A.1)")]
    Expired { user: String, on: Timestamp },
}

impl User {
    pub fn training_current(&self, now: Timestamp) -> Result<(), TrainingError> {
        let Some(on) = self.trained_on else {
            return Err(TrainingError::None(self.name.clone()));
        };
        if now < on {
            return Err(TrainingError::NotYet {
                user: self.name.clone(),
                on,
            });
        }
        match self.training_expires {
            Some(until) if now >= until => Err(TrainingError::Expired {
                user: self.name.clone(),
                on: until,
            }),
            _ => Ok(()),
        }
    }
}

/// A user name: 1 to 64 of a-z, 0-9, '.', '-', '_' (lower case, so names compare as people expect).
pub fn parse_user_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= USER_NAME_LEN_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "user name '{text}' must be 1 to {USER_NAME_LEN_MAX} of a-z, 0-9, '.', '-', '_'"
        ))
    }
}

/// How long records are kept (policy IV.B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub reads_days: u32,
    /// Plate crops; at most as long as the reads (a read outlives its images).
    pub plate_images_days: u32,
    /// Overview frames; at most as long as the reads.
    pub overview_images_days: u32,
    pub audit_days: u32,
    /// Alerts (hotlist hits and their dispositions). Set apart from the
    /// reads: a department may keep hits longer than the reads that were not.
    /// Last in the record, so a record written before it existed still decodes
    /// (see `policy::document`).
    pub alerts_days: u32,
}

/// How long alerts are kept when the policy has never set it.
pub const ALERTS_DAYS_DEFAULT: u32 = 365;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            reads_days: 365,
            plate_images_days: 365,
            overview_images_days: 90,
            audit_days: 3 * 365,
            alerts_days: ALERTS_DAYS_DEFAULT,
        }
    }
}

impl Retention {
    pub fn check(&self) -> Result<(), String> {
        if self.reads_days == 0 || self.plate_images_days == 0 || self.overview_images_days == 0 {
            return Err("reads and images are kept at least 1 day".into());
        }
        if self.alerts_days == 0 {
            return Err("alerts are kept at least 1 day".into());
        }
        if self.plate_images_days > self.reads_days || self.overview_images_days > self.reads_days {
            return Err(format!(
                "images are kept no longer than their reads ({} days)",
                self.reads_days
            ));
        }
        if self.audit_days < AUDIT_RETENTION_DAYS_MIN {
            return Err(format!(
                "audit events are kept at least {AUDIT_RETENTION_DAYS_MIN} days (asked for {})",
                self.audit_days
            ));
        }
        Ok(())
    }

    /// Audit events from before this are past retention at `now`.
    pub fn audit_cutoff(&self, now: Timestamp) -> Timestamp {
        Timestamp(
            now.as_millis()
                .saturating_sub(i64::from(self.audit_days) * DAY_MS),
        )
    }

    /// Images of `kind` captured before this are past retention at `now`.
    pub fn images_cutoff(&self, kind: crate::ImageKind, now: Timestamp) -> Timestamp {
        let days = match kind {
            crate::ImageKind::PlateCrop => self.plate_images_days,
            crate::ImageKind::Overview => self.overview_images_days,
        };
        Timestamp(now.as_millis().saturating_sub(i64::from(days) * DAY_MS))
    }

    /// Reads captured before this are past retention at `now`.
    pub fn reads_cutoff(&self, now: Timestamp) -> Timestamp {
        Timestamp(
            now.as_millis()
                .saturating_sub(i64::from(self.reads_days) * DAY_MS),
        )
    }
}

/// Login limits, configurable within the CJIS Security Policy's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginLimits {
    /// Consecutive failures that lock an account: 1 to 5.
    pub failures_max: u32,
    /// How long a lockout lasts: at least 10 minutes.
    pub lockout_minutes: u32,
    /// Idle time after which a session locks: 1 to 30 minutes.
    pub idle_lock_minutes: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            failures_max: 5,
            lockout_minutes: 10,
            idle_lock_minutes: 30,
        }
    }
}

impl LoginLimits {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=5).contains(&self.failures_max) {
            return Err(format!(
                "lockout after 1 to 5 failures (asked for {})",
                self.failures_max
            ));
        }
        if !(10..=7 * 24 * 60).contains(&self.lockout_minutes) {
            return Err(format!(
                "lockout lasts 10 minutes to 7 days (asked for {} minutes)",
                self.lockout_minutes
            ));
        }
        if !(1..=30).contains(&self.idle_lock_minutes) {
            return Err(format!(
                "sessions lock after 1 to 30 idle minutes (asked for {})",
                self.idle_lock_minutes
            ));
        }
        Ok(())
    }
}

/// What an evidence hold protects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldScope {
    /// These reads, by (origin, seq).
    Reads(Vec<(NodeId, u64)>),
    /// Every read of this plate captured in this window (both ends inclusive).
    Plate {
        plate: PlateText,
        from: Timestamp,
        to: Timestamp,
    },
}

/// A time bound in words: the open ends of a window read as such, not as
/// the extreme millisecond they are stored as.
pub fn time_bound(t: Timestamp) -> String {
    if t == Timestamp::MIN {
        "the first read".into()
    } else if t == Timestamp::MAX {
        "the last read".into()
    } else {
        t.to_string()
    }
}

impl std::fmt::Display for HoldScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HoldScope::Reads(ids) => {
                write!(f, "{} reads", ids.len())?;
                for (i, (origin, seq)) in ids.iter().enumerate().take(8) {
                    write!(
                        f,
                        "{} {}/{seq}",
                        if i == 0 { ":" } else { "," },
                        origin.short()
                    )?;
                }
                if ids.len() > 8 {
                    write!(f, ", …")?;
                }
                Ok(())
            }
            HoldScope::Plate { plate, from, to } => write!(
                f,
                "plate {plate} from {} to {}",
                time_bound(*from),
                time_bound(*to)
            ),
        }
    }
}

/// An evidence hold (policy IV.B): held reads are never purged while it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: u64,
    pub case: String,
    pub reason: String,
    pub scope: HoldScope,
    pub placed_by: String,
    pub placed_at: Timestamp,
    pub expires: Option<Timestamp>,
    pub released: Option<(String, Timestamp)>,
}

impl Hold {
    pub fn active(&self, now: Timestamp) -> bool {
        self.released.is_none() && self.expires.is_none_or(|e| now < e)
    }

    pub fn covers(&self, origin: NodeId, seq: u64, captured_at: Timestamp, plate: &str) -> bool {
        match &self.scope {
            HoldScope::Reads(ids) => ids.iter().any(|(o, s)| *o == origin && *s == seq),
            HoldScope::Plate { plate: p, from, to } => {
                p.as_str() == plate && *from <= captured_at && captured_at <= *to
            }
        }
    }
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestOutcome {
    Granted,
    PartlyGranted,
    Denied,
}

impl RequestOutcome {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "granted" => Some(RequestOutcome::Granted),
            "partly-granted" | "partlygranted" | "partial" => Some(RequestOutcome::PartlyGranted),
            "denied" => Some(RequestOutcome::Denied),
            _ => None,
        }
    }

    /// The decision in words, as people type and read it.
    pub fn name(self) -> &'static str {
        match self {
            RequestOutcome::Granted => "granted",
            RequestOutcome::PartlyGranted => "partly-granted",
            RequestOutcome::Denied => "denied",
        }
    }
}

impl std::fmt::Display for RequestOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for UserRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for LoginLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed logins lock an account for {} minutes; sessions lock after {} idle minutes",
            self.failures_max, self.lockout_minutes, self.idle_lock_minutes
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: RequestOutcome,
    pub note: String,
    pub by: String,
    pub at: Timestamp,
}

/// A request for ALPR data from outside law enforcement (policy V.A.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub requester: String,
    pub what: String,
    /// The Staff Services Commander or the designee it was referred to.
    pub referred_to: String,
    pub registered_by: String,
    pub received_at: Timestamp,
    pub decision: Option<Decision>,
}

/// Records released to another agency (policy V.A.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: u64,
    pub case: String,
    pub agency: String,
    pub official: String,
    pub legal_basis: String,
    pub reads: Vec<(NodeId, u64)>,
    pub by: String,
    pub at: Timestamp,
    /// SHA-256 of the release bundle's signed manifest.
    pub manifest_sha256: String,
}

/// One sampled access event and the auditor's finding on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleItem {
    pub origin: NodeId,
    pub seq: u64,
    pub compliant: Option<bool>,
    pub note: String,
}

/// A quarterly audit by random sampling (policy V.A.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub id: u64,
    pub quarter: Quarter,
    /// The seed the sample was drawn with: the same seed draws the same sample.
    pub seed: u64,
    /// Access events in the quarter the sample was drawn from.
    pub population: u64,
    pub items: Vec<SampleItem>,
    pub auditor: String,
    pub drawn_at: Timestamp,
    pub signed: Option<ReportSignature>,
}

/// The node's signature over a completed report (postcard of the report with `signed` = None).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSignature {
    pub node: NodeId,
    pub at: Timestamp,
    pub signature: Vec<u8>,
}

/// A calendar quarter in UTC, e.g. 2026Q4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Quarter {
    pub year: i16,
    pub q: u8,
}

impl Quarter {
    pub fn parse(text: &str) -> Result<Quarter, String> {
        let bad = || format!("'{text}' is not a quarter: use e.g. 2026Q4");
        let (y, q) = text
            .to_ascii_uppercase()
            .split_once('Q')
            .map(|(y, q)| (y.to_string(), q.to_string()))
            .ok_or_else(bad)?;
        let year: i16 = y.parse().map_err(|_| bad())?;
        let q: u8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Quarter { year, q })
    }

    pub fn containing(t: Timestamp) -> Quarter {
        let (year, month) = jiff::Timestamp::from_millisecond(t.as_millis())
            .map(|ts| {
                let d = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
                (d.year(), d.month())
            })
            .unwrap_or((1970, 1));
        Quarter {
            year,
            q: ((month - 1) / 3 + 1) as u8,
        }
    }

    /// First millisecond of the quarter and first millisecond after it.
    pub fn bounds(&self) -> (Timestamp, Timestamp) {
        let start = |year: i16, month: i8| {
            jiff::civil::date(year, month, 1)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| Timestamp(z.timestamp().as_millisecond()))
                .unwrap_or(Timestamp(0))
        };
        let month = (self.q as i8 - 1) * 3 + 1;
        let end = if self.q == 4 {
            start(self.year + 1, 1)
        } else {
            start(self.year, month + 3)
        };
        (start(self.year, month), end)
    }

    pub fn previous(&self) -> Quarter {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

/// A hotlist entry someone in the fleet added by hand. Its priority,
/// expiry, covert flag and reason are the entry's [`Detail`](crate::hotlist::Detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalEntry {
    pub id: u64,
    pub entry: crate::hotlist::Entry,
    pub added_by: String,
    pub added_at: Timestamp,
    pub removed: Option<(String, Timestamp)>,
    /// A wildcard entry's pattern (at most 2 `*`): it matches by the
    /// pattern, and `entry.plate` holds the pattern's fixed characters.
    pub pattern: Option<String>,
    /// The last edit: who and when (an Administrator's change of priority,
    /// expiry or reason).
    pub edited: Option<(String, Timestamp)>,
}

/// The local entry as written before entries had detail and patterns.
#[derive(Debug, Clone, Deserialize)]
pub struct LocalEntryV1 {
    pub id: u64,
    pub entry: EntryV1,
    pub added_by: String,
    pub added_at: Timestamp,
    pub removed: Option<(String, Timestamp)>,
}

/// An entry as written before entries had detail.
#[derive(Debug, Clone, Deserialize)]
pub struct EntryV1 {
    pub plate: crate::plate::PlateText,
    pub region: Option<String>,
    pub category: crate::hotlist::Category,
    pub reference: String,
}

impl LocalEntry {
    /// Decodes either layout: a document written by an older build keeps
    /// its local entries (with default detail), rather than losing them.
    pub fn decode(bytes: &[u8]) -> Result<LocalEntry, postcard::Error> {
        postcard::from_bytes::<LocalEntry>(bytes).or_else(|e| {
            let old: LocalEntryV1 = postcard::from_bytes(bytes).map_err(|_| e)?;
            Ok(LocalEntry {
                id: old.id,
                entry: crate::hotlist::Entry {
                    plate: old.entry.plate,
                    region: old.entry.region,
                    category: old.entry.category,
                    reference: old.entry.reference,
                    detail: crate::hotlist::Detail::default(),
                },
                added_by: old.added_by,
                added_at: old.added_at,
                removed: old.removed,
                pattern: None,
                edited: None,
            })
        })
    }
}

/// Why and by whom a node was revoked (a lost or compromised car, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub name: String,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

/// What a report's signature covers starts with this tag (FORMAT.md).
pub const REPORT_SIGNATURE_CONTEXT: &[u8] = b"ALPRAUD1";

impl AuditReport {
    /// The bytes the node signs: a context tag and the report without its signature.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let unsigned = AuditReport {
            signed: None,
            ..self.clone()
        };
        let mut out = REPORT_SIGNATURE_CONTEXT.to_vec();
        // Invariant: postcard encoding of plain data into a Vec cannot fail.
        out.extend(postcard::to_allocvec(&unsigned).unwrap_or_default());
        out
    }

    /// Whether the report carries a valid signature by the node it names.
    pub fn signature_valid(&self) -> bool {
        let Some(sig) = &self.signed else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(sig.signature.as_slice()) else {
            return false;
        };
        sig.node.verify(&self.signed_bytes(), &bytes)
    }
}
