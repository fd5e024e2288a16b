//! Policy 206 as data: users, roles, training, login limits, retention and evidence holds.
//!
//! The whole policy is one document (`Policy`), stored as one value and
//! changed only through the engine, which checks the actor's role and writes
//! the new document together with the audit event that documents the change.
//! It is kept in one place so that it can become the replicated (automerge)
//! policy document when replication lands.

pub mod document;
pub mod password;
pub mod purpose;

use std::collections::BTreeMap;

use alpr_protocol::{NodeId, Timestamp};
use serde::{Deserialize, Serialize};

pub use password::PasswordError;
pub use purpose::{Purpose, PurposeError, PurposeKind};

/// The policy records, as they replicate (their layouts are pinned in
/// `alpr-protocol`): re-exported so the engine reads them from one place.
pub use alpr_protocol::policy::{
    ALERTS_DAYS_DEFAULT, AUDIT_RETENTION_DAYS_MIN, AuditReport, DAY_MS, Decision, Hold, HoldScope,
    LocalEntry, LoginLimits, MINUTE_MS, Quarter, Release, ReportSignature, Request, RequestOutcome,
    Retention, Revocation, SampleItem, TrainingError, USER_NAME_LEN_MAX, User, UserRole,
    parse_user_name, time_bound,
};

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Run the reader: capture or import reads.
    Operate,
    /// Check the whole database's integrity.
    Verify,
    SearchReads,
    ViewReads,
    ExportEvidence,
    AdministerUsers,
    AdministerRetention,
    AdministerHolds,
    /// Publish bulk hotlist versions (at a station).
    AdministerHotlists,
    /// See which hotlist versions a node holds.
    ViewHotlists,
    /// Revoke a node of the fleet.
    AdministerNodes,
    /// Add a plate to the local hotlist.
    AddHotlistEntry,
    Purge,
    /// Release records to another agency (V.A.4).
    Release,
    /// Register a non-law-enforcement request (V.A.1).
    RegisterRequest,
    /// Decide one (the Staff Services Commander or designee).
    DecideRequest,
    /// Draw, mark and sign quarterly audit samples (V.A.5).
    AuditAccess,
    /// See audit reports and whether one is overdue.
    ViewAudits,
    /// See alerts (an Auditor under an audit purpose).
    ViewAlerts,
    /// Record an alert's disposition: the people who act on hits.
    DisposeAlerts,
    /// See hits on covert entries: the car logs them, its officer is not told.
    ViewCovertAlerts,
}

impl Permission {
    /// Whether `role` may do this at all (training and purpose are checked separately).
    pub fn granted_to(self, role: UserRole) -> bool {
        use Permission::*;
        use UserRole::*;
        match self {
            // Auditors examine records too, but only under an audit purpose (checked by the engine).
            SearchReads | ViewReads => true,
            // Any officer in a car may put a plate on the local list (a BOLO).
            AddHotlistEntry => role != Auditor,
            Operate => role != Auditor,
            Verify => matches!(role, Administrator | Auditor),
            ExportEvidence => matches!(role, Supervisor | Administrator),
            AdministerUsers | AdministerRetention | AdministerHolds | AdministerHotlists
            | AdministerNodes | Purge | Release | DecideRequest => role == Administrator,
            ViewHotlists => true,
            RegisterRequest => matches!(role, Supervisor | Administrator),
            AuditAccess => role == Auditor,
            ViewAudits => matches!(role, Auditor | Administrator),
            ViewAlerts => true,
            DisposeAlerts => role != Auditor,
            ViewCovertAlerts => matches!(role, Supervisor | Administrator | Auditor),
        }
    }
}

/// The node's policy document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub users: BTreeMap<String, User>,
    pub retention: Retention,
    pub limits: LoginLimits,
    pub holds: Vec<Hold>,
    pub requests: Vec<Request>,
    pub releases: Vec<Release>,
    pub audits: Vec<AuditReport>,
    /// Nodes refused as peers, and their records refused, from now on.
    pub revoked: BTreeMap<NodeId, Revocation>,
    /// Hotlist entries made here and there (an officer's BOLO), beside the
    /// bulk lists: few, edited concurrently, so they live in the document.
    pub local_hotlist: Vec<LocalEntry>,
}

/// The policy document as the first schema wrote it (before revocations).
#[derive(Deserialize)]
struct PolicyV1 {
    users: BTreeMap<String, User>,
    retention: Retention,
    limits: LoginLimits,
    holds: Vec<Hold>,
    requests: Vec<Request>,
    releases: Vec<Release>,
    audits: Vec<AuditReport>,
}

impl Policy {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Invariant: postcard encoding of plain data into a Vec cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        match postcard::from_bytes::<Policy>(bytes) {
            Ok(p) => Ok(p),
            // A document written before revocations existed reads as one with none.
            Err(e) => match postcard::from_bytes::<PolicyV1>(bytes) {
                Ok(v1) => Ok(Policy {
                    users: v1.users,
                    retention: v1.retention,
                    limits: v1.limits,
                    holds: v1.holds,
                    requests: v1.requests,
                    releases: v1.releases,
                    audits: v1.audits,
                    revoked: BTreeMap::new(),
                    local_hotlist: Vec::new(),
                }),
                Err(_) => Err(format!("policy document does not decode: {e}")),
            },
        }
    }

    /// Whether an active hold protects this read at `now`.
    pub fn held(
        &self,
        now: Timestamp,
        origin: NodeId,
        seq: u64,
        captured_at: Timestamp,
        plate: &str,
    ) -> bool {
        self.holds
            .iter()
            .any(|h| h.active(now) && h.covers(origin, seq, captured_at, plate))
    }

    pub fn next_hold_id(&self) -> u64 {
        self.holds.iter().map(|h| h.id).max().unwrap_or(0) + 1
    }

    /// Whether the quarterly audit is overdue at `now`: the last full quarter
    /// has no signed audit report (policy V.A.5).
    pub fn audit_overdue(&self, now: Timestamp) -> Option<Quarter> {
        let due = Quarter::containing(now).previous();
        let done = self
            .audits
            .iter()
            .any(|a| a.signed.is_some() && a.quarter == due);
        (!done).then_some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(trained: Option<i64>, expires: Option<i64>) -> User {
        User {
            name: "jsmith".into(),
            role: UserRole::Officer,
            password_hash: String::new(),
            trained_on: trained.map(Timestamp),
            training_expires: expires.map(Timestamp),
            active: true,
            created_by: "admin".into(),
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn training_must_be_current() {
        assert!(matches!(
            user(None, None).training_current(Timestamp(5)),
            Err(TrainingError::None(_))
        ));
        assert!(matches!(
            user(Some(10), None).training_current(Timestamp(5)),
            Err(TrainingError::NotYet { .. })
        ));
        assert!(
            user(Some(1), Some(10))
                .training_current(Timestamp(5))
                .is_ok()
        );
        assert!(matches!(
            user(Some(1), Some(10)).training_current(Timestamp(10)),
            Err(TrainingError::Expired { .. })
        ));
    }

    #[test]
    fn limits_stay_within_cjis_bounds() {
        assert!(LoginLimits::default().check().is_ok());
        for bad in [
            LoginLimits {
                failures_max: 6,
                ..Default::default()
            },
            LoginLimits {
                lockout_minutes: 9,
                ..Default::default()
            },
            LoginLimits {
                idle_lock_minutes: 31,
                ..Default::default()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        let r = Retention {
            reads_days: 30,
            plate_images_days: 30,
            overview_images_days: 7,
            audit_days: 365,
            alerts_days: 730,
        };
        assert!(r.check().is_ok());
        assert!(
            Retention {
                alerts_days: 0,
                ..r
            }
            .check()
            .is_err()
        );
        assert!(
            Retention {
                audit_days: 364,
                ..r
            }
            .check()
            .is_err()
        );
        assert!(
            Retention {
                plate_images_days: 31,
                ..r
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn quarters() {
        let q = Quarter::parse("2026q4").unwrap();
        assert_eq!(q.to_string(), "2026Q4");
        let (a, b) = q.bounds();
        assert_eq!(a.to_string(), "2026-10-01T00:00:00Z");
        assert_eq!(b.to_string(), "2027-01-01T00:00:00Z");
        assert_eq!(Quarter::containing(a), q);
        assert_eq!(Quarter::containing(Timestamp(b.as_millis() - 1)), q);
        assert_eq!(Quarter::parse("2027Q1").unwrap().previous(), q);
        assert!(Quarter::parse("2026Q5").is_err());
    }

    #[test]
    fn user_names_are_normalized() {
        assert_eq!(parse_user_name(" JSmith ").unwrap(), "jsmith");
        assert!(parse_user_name("j smith").is_err());
        assert!(parse_user_name("").is_err());
    }
}
