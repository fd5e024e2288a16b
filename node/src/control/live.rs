//! A live view over the control socket: the node's events, streamed to one
//! client until it hangs up or its session ends.
//!
//! The stream waits on the engine's event ring, not on the engine, and
//! takes the engine only to check the session and name peers between
//! frames. A client that stops reading blocks only its own thread: the
//! write times out ([`super::WRITE_TIMEOUT_SECS`]) and the stream closes,
//! while the ring goes on without it (the engine never waits on a view).

use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alpr_protocol::Timestamp;
use alpr_protocol::control::{ControlResponse, EventWire, ReadSummary, SyncStatusWire};

use super::{error, write_frame};
use crate::engine::{Engine, Shown, Subscription};
use crate::events::{EVENT_BATCH_MAX, Event, SyncStatus};

/// An empty frame goes out this often when nothing happens, so a client
/// knows the node is there.
pub const HEARTBEAT_SECS: u64 = 10;
/// How often a quiet stream checks that its client is still there and its
/// session still stands (a logout ends the view within this).
const CHECK_SECS: u64 = 1;

/// Whether the client hung up (or spoke, which a stream's client never
/// does): a read that finds the end of the stream, or bytes.
fn client_left(stream: &mut UnixStream) -> bool {
    use std::io::Read;
    if stream
        .set_read_timeout(Some(Duration::from_millis(1)))
        .is_err()
    {
        return true;
    }
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        // End of stream (0) or bytes from a client that should only listen.
        Ok(0 | 1..) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
        ),
    }
}

/// Streams events to the client, then documents the view's close.
pub(super) fn stream(
    stream: &mut UnixStream,
    engine: &Mutex<Engine>,
    clock: fn() -> Timestamp,
    view: Subscription,
) {
    let Ok(events) = engine.lock().map(|e| e.events()) else {
        return;
    };
    if write_frame(stream, &ControlResponse::Subscribed).is_err() {
        close(engine, clock, &view, Shown::default(), "client hung up");
        return;
    }
    let mut cursor = view.cursor;
    let mut shown = Shown::default();
    let mut last_frame = Instant::now();
    let why = loop {
        let batch = events.wait(cursor, EVENT_BATCH_MAX, Duration::from_secs(CHECK_SECS));
        cursor = batch.next;
        if client_left(stream) {
            break "client hung up";
        }
        let frame = {
            let Ok(e) = engine.lock() else {
                break "the engine stopped";
            };
            if let Err(err) = e.subscription_stands(clock(), &view) {
                drop(e);
                let _ = write_frame(stream, &error(err));
                break "session ended";
            }
            if batch.events.is_empty()
                && batch.missed == 0
                && last_frame.elapsed() < Duration::from_secs(HEARTBEAT_SECS)
            {
                continue;
            }
            ControlResponse::Events {
                events: batch
                    .events
                    .iter()
                    // A covert entry's hit is logged, not shown to an officer.
                    .filter(|ev| view.covert || !matches!(ev, Event::Alert(a) if a.covert))
                    .map(|ev| wire(&e, ev))
                    .collect(),
                missed: batch.missed,
            }
        };
        if write_frame(stream, &frame).is_err() {
            break "client hung up";
        }
        last_frame = Instant::now();
        shown.reads += batch
            .events
            .iter()
            .filter(|e| matches!(e, Event::Read(_)))
            .count() as u64;
        shown.missed += batch.missed;
    };
    close(engine, clock, &view, shown, why);
}

fn close(
    engine: &Mutex<Engine>,
    clock: fn() -> Timestamp,
    view: &Subscription,
    shown: Shown,
    why: &str,
) {
    if let Ok(mut e) = engine.lock()
        && let Err(err) = e.unsubscribe(clock(), view, shown, why)
    {
        tracing::warn!(%err, "could not document a live view's close");
    }
}

fn wire(engine: &Engine, event: &Event) -> EventWire {
    match event {
        Event::Read(r) => EventWire::Read(ReadSummary {
            origin: r.id.origin,
            seq: r.id.seq,
            captured_at: r.captured_at,
            plate: r.plate.clone(),
            confidence: r.confidence,
            region: r.region.clone(),
            camera: r.camera.clone(),
            location: r.location,
            crop_bytes: r.crop_bytes,
            fix: r.fix,
        }),
        Event::Sync(s) => EventWire::Sync {
            at: s.at,
            peer: s.peer,
            name: engine
                .node()
                .trust
                .certificate(&s.peer)
                .map(|c| c.certificate().name.clone()),
            status: match &s.status {
                SyncStatus::Started => SyncStatusWire::Started,
                SyncStatus::InSync {
                    reads,
                    audit_events,
                } => SyncStatusWire::InSync {
                    reads: *reads,
                    audit_events: *audit_events,
                },
                SyncStatus::Failed(why) => SyncStatusWire::Failed(why.clone()),
            },
        },
        Event::Purge(p) => EventWire::Purge {
            at: p.at,
            by: p.by.clone(),
            purged: p.purged,
            held: p.held,
            audit_events: p.audit_purged,
            images: p.images_purged,
        },
        Event::Alert(a) => EventWire::Alert {
            origin: a.id.origin,
            seq: a.id.seq,
            at: a.at,
            alert_origin: a.alert.origin,
            alert_seq: a.alert.seq,
            disposed: a.disposed.clone(),
            plate: a.plate.clone(),
            list: a.list.clone(),
            entry: a.entry.clone(),
            priority: a.priority,
            kind: a.kind.clone(),
            stale: a.stale,
            retro: a.retro,
        },
    }
}
