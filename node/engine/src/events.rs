//! The node's live events: what a console's live view follows (reads as
//! they are stored, meetings with peers, purge runs; alerts when they land).
//!
//! The engine publishes into a bounded ring and never waits on anyone:
//! each subscriber keeps its own cursor, and one that falls behind by more
//! than the ring holds is told how many events it missed. A slow or stuck
//! console therefore costs the node nothing but the ring's fixed memory,
//! and the backpressure lands on that console alone (it sees a gap, not
//! a stalled camera).
//!
//! The ring sits behind its own lock, not the engine's, so a subscriber
//! waiting for events never holds the engine.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use alpr_protocol::{NodeId, Timestamp};

use crate::store::RecordId;

/// Events the ring keeps: a console this far behind misses the oldest.
pub const EVENTS_KEPT: usize = 4096;
/// Most events one [`Events::wait`] returns.
pub const EVENT_BATCH_MAX: usize = 256;

/// Something that happened on this node.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A read this node recorded (camera, replay or import), durable.
    Read(ReadEvent),
    /// A meeting with a peer started or ended.
    Sync(SyncEvent),
    /// A purge finished.
    Purge(PurgeEvent),
    /// An alert was raised or disposed of here, or arrived from a car.
    Alert(AlertEvent),
}

/// An alert record as a live view shows it: enough to order, ring and
/// open it (the view asks the engine for the rest, audited).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub id: RecordId,
    pub at: Timestamp,
    /// None for a raised alert; the outcome's name for a disposition.
    pub disposed: Option<String>,
    /// The alert this disposition closes (the alert itself when raised).
    pub alert: RecordId,
    pub plate: String,
    pub list: String,
    pub entry: String,
    pub priority: alpr_protocol::hotlist::Priority,
    pub kind: String,
    pub covert: bool,
    pub stale: bool,
    pub retro: bool,
}

impl AlertEvent {
    pub fn of(r: &alpr_protocol::alert::AlertRecord) -> AlertEvent {
        use alpr_protocol::alert::AlertItem;
        let id = r.id();
        match &r.item {
            AlertItem::Raised(a) => AlertEvent {
                id,
                at: r.time,
                disposed: None,
                alert: id,
                plate: a.plate.as_str().to_string(),
                list: a.list.name.clone(),
                entry: a.entry.plate.as_str().to_string(),
                priority: a.entry.detail.priority,
                kind: a.hit.kind.name().to_string(),
                covert: a.entry.detail.covert,
                stale: a.stale,
                retro: a.retro,
            },
            AlertItem::Disposed(d) => AlertEvent {
                id,
                at: r.time,
                disposed: Some(d.outcome.name().to_string()),
                alert: d.alert,
                plate: String::new(),
                list: String::new(),
                entry: String::new(),
                priority: alpr_protocol::hotlist::Priority::Normal,
                kind: String::new(),
                covert: false,
                stale: false,
                retro: false,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadEvent {
    pub id: RecordId,
    pub captured_at: Timestamp,
    pub plate: String,
    pub confidence: f32,
    pub region: Option<String>,
    pub camera: String,
    pub location: Option<(f64, f64)>,
    pub fix: alpr_protocol::Fix,
    pub crop_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncEvent {
    pub at: Timestamp,
    pub peer: NodeId,
    pub status: SyncStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Started,
    /// Both sides hold what the other had: the counts this node stored.
    InSync {
        reads: u64,
        audit_events: u64,
    },
    /// The meeting failed; the reason is bounded.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PurgeEvent {
    pub at: Timestamp,
    /// Who ran it: a user's name or `(schedule)`.
    pub by: String,
    pub purged: u64,
    pub held: u64,
    pub audit_purged: u64,
    pub images_purged: u64,
}

/// Longest failure reason an event carries, in bytes.
pub const REASON_BYTES_MAX: usize = 512;

/// What a subscriber gets: the events after its cursor, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub events: Vec<Event>,
    /// Events that left the ring before this subscriber saw them.
    pub missed: u64,
    /// The cursor to ask from next time.
    pub next: u64,
}

#[derive(Debug, Default)]
struct Ring {
    /// The number the next event published gets; events are numbered from 0.
    next: u64,
    kept: VecDeque<Event>,
}

impl Ring {
    fn since(&self, cursor: u64, max: usize) -> Batch {
        let first = self.next - self.kept.len() as u64;
        let from = cursor.clamp(first, self.next);
        let skip = (from - first) as usize;
        let events: Vec<Event> = self.kept.iter().skip(skip).take(max).cloned().collect();
        Batch {
            missed: from - cursor.min(from),
            next: from + events.len() as u64,
            events,
        }
    }
}

/// The node's event ring, shared between the engine (which publishes) and
/// the drivers' subscribers (which wait).
#[derive(Debug, Clone, Default)]
pub struct Events(Arc<(Mutex<Ring>, Condvar)>);

impl Events {
    pub fn new() -> Events {
        Events::default()
    }

    /// Adds an event, dropping the oldest past [`EVENTS_KEPT`], and wakes the waiters.
    pub fn publish(&self, event: Event) {
        let (ring, ready) = &*self.0;
        // A subscriber that panicked while holding the lock leaves the ring
        // as it was: still usable.
        let mut ring = ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.kept.len() == EVENTS_KEPT {
            ring.kept.pop_front();
        }
        ring.kept.push_back(event);
        ring.next += 1;
        ready.notify_all();
    }

    /// The cursor of the next event to be published: a new subscriber
    /// starts here (it sees what happens from now on, not the past).
    pub fn head(&self) -> u64 {
        let (ring, _) = &*self.0;
        ring.lock().unwrap_or_else(|p| p.into_inner()).next
    }

    /// At most `max` events after `cursor`, at once (possibly none).
    pub fn since(&self, cursor: u64, max: usize) -> Batch {
        let (ring, _) = &*self.0;
        ring.lock()
            .unwrap_or_else(|p| p.into_inner())
            .since(cursor, max.min(EVENT_BATCH_MAX))
    }

    /// Like [`Events::since`], but waits up to `timeout` for an event when
    /// there is none yet.
    pub fn wait(&self, cursor: u64, max: usize, timeout: Duration) -> Batch {
        let (ring, ready) = &*self.0;
        let guard = ring.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = ready
            .wait_timeout_while(guard, timeout, |r| r.next <= cursor)
            .unwrap_or_else(|p| p.into_inner());
        guard.since(cursor, max.min(EVENT_BATCH_MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge(n: u64) -> Event {
        Event::Purge(PurgeEvent {
            at: Timestamp(0),
            by: "(schedule)".into(),
            purged: n,
            held: 0,
            audit_purged: 0,
            images_purged: 0,
        })
    }

    fn numbers(b: &Batch) -> Vec<u64> {
        b.events
            .iter()
            .map(|e| match e {
                Event::Purge(p) => p.purged,
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn a_subscriber_sees_what_follows_its_cursor_in_order() {
        let events = Events::new();
        events.publish(purge(0));
        let cursor = events.head();
        assert_eq!(cursor, 1);
        for n in 1..=3 {
            events.publish(purge(n));
        }
        let b = events.since(cursor, 2);
        assert_eq!((numbers(&b), b.missed, b.next), (vec![1, 2], 0, 3));
        let b = events.since(b.next, 10);
        assert_eq!((numbers(&b), b.missed, b.next), (vec![3], 0, 4));
        let b = events.since(b.next, 10);
        assert_eq!((b.events.len(), b.missed, b.next), (0, 0, 4));
    }

    #[test]
    fn a_subscriber_left_behind_is_told_how_much_it_missed() {
        let events = Events::new();
        let cursor = events.head();
        let total = EVENTS_KEPT as u64 + 10;
        for n in 0..total {
            events.publish(purge(n));
        }
        let b = events.since(cursor, 3);
        assert_eq!(b.missed, 10);
        assert_eq!(numbers(&b), vec![10, 11, 12]);
        // Memory stays bounded however many are published.
        assert_eq!(events.since(0, usize::MAX).events.len(), EVENT_BATCH_MAX);
        // A cursor from the future (a client's bad number) gets nothing, no panic.
        let b = events.since(u64::MAX, 10);
        assert_eq!((b.events.len(), b.missed), (0, 0));
    }

    #[test]
    fn a_waiter_wakes_when_an_event_lands() {
        let events = Events::new();
        let cursor = events.head();
        let publisher = events.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            publisher.publish(purge(7));
        });
        let b = events.wait(cursor, 10, Duration::from_secs(30));
        t.join().unwrap();
        assert_eq!(numbers(&b), vec![7]);
        // Nothing new: the wait ends at its timeout with nothing.
        let b = events.wait(b.next, 10, Duration::from_millis(10));
        assert!(b.events.is_empty());
    }
}
