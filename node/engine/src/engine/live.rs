//! The live view through the engine: who may follow the node's events, with
//! what purpose, documented when the view opens and when it closes; and
//! the events the engine publishes (reads stored, meetings, purges).
//!
//! Reads in a live view are data seen (policy III.A.2, V.A.2): a view
//! opens only for a trained user allowed to search, with a purpose, and is
//! audited once when it opens and once when it closes with the number of
//! reads it showed (auditing every read shown would write an event per
//! capture). It stays open only while its session stands: it never
//! refreshes the session's idle time, so an unattended console locks on
//! the node's limit like any other.

use alpr_protocol::{Action, NodeId, Outcome, Timestamp, VerifiedRead};

use super::{AccessError, Engine, PurgeReport, PurposeInput, SessionToken};
use crate::events::{
    Event, Events, PurgeEvent, REASON_BYTES_MAX, ReadEvent, SyncEvent, SyncStatus,
};
use crate::policy::{MINUTE_MS, Permission, Purpose};
use crate::store::RecordId;

/// An open live view: whose, why, and where in the event ring it starts.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub token: SessionToken,
    pub user: String,
    pub purpose: Purpose,
    /// The first event this view will see.
    pub cursor: u64,
    /// Whether the viewer's role may see hits on covert entries.
    pub covert: bool,
}

/// What a live view showed, for its closing audit event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shown {
    pub reads: u64,
    pub missed: u64,
}

impl Engine {
    /// The node's event ring, for drivers that wait on it without the engine.
    pub fn events(&self) -> Events {
        self.events.clone()
    }

    /// Opens a live view of the node's events (reads as they are stored),
    /// with a purpose; audited.
    pub fn subscribe(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
    ) -> Result<Subscription, AccessError> {
        let object = "live view opened".to_string();
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::SearchReads,
            "watch reads as they are stored",
            Action::LiveView,
            &object,
            purpose,
        )?;
        self.audit(
            now,
            &user,
            Action::LiveView,
            object,
            Some(&purpose),
            Outcome::Success,
            &[],
        )?;
        Ok(Subscription {
            token,
            user,
            purpose,
            cursor: self.events.head(),
            covert: self
                .session_role(token)
                .is_some_and(|r| crate::policy::Permission::ViewCovertAlerts.granted_to(r)),
        })
    }

    /// Whether the view's session still stands (not ended, idle-locked,
    /// deactivated or out of training). Checked, not refreshed: watching is
    /// not activity.
    pub fn subscription_stands(
        &self,
        now: Timestamp,
        view: &Subscription,
    ) -> Result<(), AccessError> {
        let session = self
            .sessions
            .get(&view.token)
            .ok_or(AccessError::NoSession)?;
        let idle = self.policy.limits.idle_lock_minutes;
        if now.as_millis() - session.last_active.as_millis() > i64::from(idle) * MINUTE_MS {
            return Err(AccessError::SessionLocked(idle));
        }
        let user = self.policy.users.get(&view.user).ok_or_else(|| {
            AccessError::NotFound(format!("user '{}' no longer exists", view.user))
        })?;
        if !user.active {
            return Err(AccessError::Inactive(view.user.clone()));
        }
        user.training_current(now)?;
        Ok(())
    }

    /// Closes a live view, documenting what it showed and why it ended.
    pub fn unsubscribe(
        &mut self,
        now: Timestamp,
        view: &Subscription,
        shown: Shown,
        why: &str,
    ) -> Result<(), AccessError> {
        let object = format!(
            "live view closed ({why}): {} reads shown{}",
            shown.reads,
            if shown.missed > 0 {
                format!(", {} events missed while the client lagged", shown.missed)
            } else {
                String::new()
            }
        );
        self.audit(
            now,
            &view.user,
            Action::LiveView,
            object,
            Some(&view.purpose),
            Outcome::Success,
            &[],
        )
    }

    /// Publishes the reads just stored.
    pub(super) fn publish_reads(&self, stored: &[VerifiedRead]) {
        publish(&self.events, stored);
    }

    pub(super) fn publish_purge(&self, now: Timestamp, by: &str, report: &PurgeReport) {
        self.events.publish(Event::Purge(PurgeEvent {
            at: now,
            by: by.to_string(),
            purged: report.purged,
            held: report.held,
            audit_purged: report.audit_purged,
            images_purged: report.images_purged,
        }));
    }

    /// A meeting with `peer` started (the transport proved who it is).
    pub fn meeting_started(&self, now: Timestamp, peer: NodeId) {
        self.events.publish(Event::Sync(SyncEvent {
            at: now,
            peer,
            status: SyncStatus::Started,
        }));
    }

    /// A meeting with `peer` ended: in sync (what this node stored), or
    /// failed. A meeting in sync is noted for `status`.
    pub fn meeting_ended(
        &mut self,
        now: Timestamp,
        peer: NodeId,
        result: Result<(u64, u64), String>,
    ) -> Result<(), AccessError> {
        // Bounded before it is kept or shown: the reason may be the peer's words.
        let result = result.map_err(|r| alpr_protocol::record::bounded_text(r, REASON_BYTES_MAX));
        self.peers.ended(now, peer, &result);
        let status = match &result {
            Ok((reads, audit_events)) => SyncStatus::InSync {
                reads: *reads,
                audit_events: *audit_events,
            },
            Err(reason) => SyncStatus::Failed(reason.clone()),
        };
        let in_sync = matches!(status, SyncStatus::InSync { .. });
        self.events.publish(Event::Sync(SyncEvent {
            at: now,
            peer,
            status,
        }));
        if in_sync {
            self.node.store.note_meeting(peer, now)?;
        }
        // Lists and local entries the meeting brought are matched from the
        // next read on, and against stored reads now (retro-hits).
        self.refresh_matcher(now)?;
        Ok(())
    }
}

/// Publishes reads just stored (also from inside an import's commit callback).
/// Alert records stored here (raised, disposed of, or from a car).
pub(super) fn publish_alerts(events: &Events, records: &[alpr_protocol::VerifiedAlertRecord]) {
    for r in records {
        events.publish(Event::Alert(crate::events::AlertEvent::of(r.record())));
    }
}

pub(super) fn publish<'a>(events: &Events, stored: impl IntoIterator<Item = &'a VerifiedRead>) {
    for r in stored {
        let read = r.read();
        let body = &read.body;
        events.publish(Event::Read(ReadEvent {
            id: RecordId {
                origin: read.origin,
                seq: read.seq,
            },
            captured_at: read.captured_at,
            plate: body.plate.as_str().to_string(),
            confidence: body.confidence,
            region: body.region.as_ref().map(|r| r.code.clone()),
            camera: body.camera.clone(),
            location: body.location.as_ref().map(|l| (l.lat, l.lon)),
            fix: body.fix,
            crop_bytes: body.crop.as_ref().map_or(0, |c| u64::from(c.bytes)),
        }));
    }
}
