//! A meeting between two nodes over a simulated link: both run the check
//! on the other's enrollment that the QUIC handshake runs, then their real
//! replicas exchange real wire frames (encoded and decoded, so every byte
//! counted is one a radio would carry) until both are in sync, one of them
//! refuses, or the link cuts.

use alpr_engine::engine::replica::{Replica, ReplicaSummary, admit};
use alpr_protocol::control::{decode_frame, encode_frame};
use alpr_protocol::replicate::{BatchLimits, SyncMessage};
use rand::rngs::StdRng;

use super::node::{SimNode, chance};

/// How a link behaves for one meeting.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// One-way delay of a message.
    pub latency_ms: i64,
    /// Throughput, for the time a message's bytes take.
    pub kbit_s: i64,
    /// A message lost and sent again (QUIC retransmits): it arrives late.
    pub loss: f64,
    /// A message delivered twice.
    pub duplicate: f64,
    /// A message delivered after the one sent next.
    pub reorder: f64,
    /// The link drops after this many messages, mid-transfer.
    pub cut_after: Option<u64>,
}

impl Link {
    /// A station's wired link, or a car parked at the station's access point.
    pub const CLEAN: Link = Link {
        latency_ms: 5,
        kbit_s: 50_000,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        cut_after: None,
    };
}

/// Bytes and messages moved, and meetings by how they ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Traffic {
    pub meetings: u64,
    pub in_sync: u64,
    pub cut: u64,
    pub refused: u64,
    pub failed: u64,
    pub messages: u64,
    pub bytes: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub records_stored: u64,
}

/// How a meeting ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    InSync,
    /// The link dropped mid-transfer.
    Cut,
    /// One side would not meet the other (the handshake's check).
    Refused(String),
    /// One side ended the meeting (a refused record, a protocol error).
    Failed(String),
}

/// What a meeting did: how it ended, when, and each side's summary.
#[derive(Debug)]
pub struct Meeting {
    pub ended: Ended,
    /// True time when it ended.
    pub at: i64,
    pub summaries: Option<(ReplicaSummary, ReplicaSummary)>,
}

/// Rounds of both sides speaking before a meeting is declared stuck.
const ROUNDS_MAX: usize = 100_000;

/// Runs one meeting from true time `start`. Both nodes must be up.
pub fn meet(
    a: &mut SimNode,
    b: &mut SimNode,
    start: i64,
    link: Link,
    rng: &mut StdRng,
    traffic: &mut Traffic,
) -> Meeting {
    traffic.meetings += 1;
    let meeting = run(a, b, start, link, rng, traffic);
    match &meeting.ended {
        Ended::InSync => traffic.in_sync += 1,
        Ended::Cut => traffic.cut += 1,
        Ended::Refused(_) => traffic.refused += 1,
        Ended::Failed(_) => traffic.failed += 1,
    }
    if let Some((sa, sb)) = &meeting.summaries {
        traffic.records_stored += sa.stored.values().sum::<u64>() + sb.stored.values().sum::<u64>();
    }
    // Each side notes how it went, as the QUIC driver does when a
    // connection ends; a refused peer was never met.
    if !matches!(meeting.ended, Ended::Refused(_)) {
        let result = |s: Option<&ReplicaSummary>| match (&meeting.ended, s) {
            (Ended::InSync, Some(s)) => Ok((
                s.stored
                    .get(&alpr_protocol::replicate::Collection::Reads)
                    .copied()
                    .unwrap_or(0),
                s.stored
                    .get(&alpr_protocol::replicate::Collection::AuditEvents)
                    .copied()
                    .unwrap_or(0),
            )),
            (ended, _) => Err(format!("{ended:?}")),
        };
        let (ra, rb) = (
            result(meeting.summaries.as_ref().map(|s| &s.0)),
            result(meeting.summaries.as_ref().map(|s| &s.1)),
        );
        let (ida, idb) = (a.id, b.id);
        let (ca, cb) = (a.clock(meeting.at), b.clock(meeting.at));
        // A failure to note it is the node's storage failing: the next
        // operation on it meets the same failure and the world handles it.
        if let Some(e) = a.engine() {
            let _ = e.meeting_ended(ca, idb, ra);
        }
        if let Some(e) = b.engine() {
            let _ = e.meeting_ended(cb, ida, rb);
        }
    }
    meeting
}

fn run(
    a: &mut SimNode,
    b: &mut SimNode,
    start: i64,
    link: Link,
    rng: &mut StdRng,
    traffic: &mut Traffic,
) -> Meeting {
    let mut t = start;
    let ended = |ended: Ended, at: i64| Meeting {
        ended,
        at,
        summaries: None,
    };
    // The handshake: each side checks the other's enrollment.
    for (me, peer) in [(&*a, &*b), (&*b, &*a)] {
        let Some(e) = me.engine_ref() else {
            return ended(Ended::Failed(format!("{} is down", me.name)), t);
        };
        if let Err(why) = admit(me.agency, &e.revoked(), &peer.enrollment, me.clock(t)) {
            return ended(
                Ended::Refused(format!("{} refused {}: {why}", me.name, peer.name)),
                t,
            );
        }
    }
    // Each side's view of the other's enrollment.
    let (Some(b_seen_by_a), Some(a_seen_by_b)) = (verified(a, b), verified(b, a)) else {
        return ended(
            Ended::Failed("an enrollment admitted does not verify".into()),
            t,
        );
    };
    let limits = BatchLimits::default();
    let (clock_a, clock_b) = (a.clock(t), b.clock(t));
    let (Some(ea), Some(eb)) = (a.engine.as_mut(), b.engine.as_mut()) else {
        return ended(Ended::Failed("a side is down".into()), t);
    };
    let start_a = Replica::start(ea, clock_a, &b_seen_by_a, limits);
    let start_b = Replica::start(eb, clock_b, &a_seen_by_b, limits);
    let (mut ra, mut rb) = match (start_a, start_b) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(e), _) => return ended(Ended::Failed(format!("{}: {e}", a.name)), t),
        (_, Err(e)) => return ended(Ended::Failed(format!("{}: {e}", b.name)), t),
    };
    let mut sent = 0u64;
    for _ in 0..ROUNDS_MAX {
        let mut moved = false;
        for forward in [true, false] {
            let (from, to, rf, rt) = if forward {
                (&mut *a, &mut *b, &mut ra, &mut rb)
            } else {
                (&mut *b, &mut *a, &mut rb, &mut ra)
            };
            let (Some(ef), Some(et)) = (from.engine.as_mut(), to.engine.as_mut()) else {
                return ended(Ended::Failed("a side is down".into()), t);
            };
            let mut held: Option<SyncMessage> = None;
            loop {
                let out = match rf.poll_transmit(ef, from_clock(from.skew_ms, t)) {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(e) => return ended(Ended::Failed(format!("{}: {e}", from.name)), t),
                };
                moved = true;
                let frame = match encode_frame(&out) {
                    Ok(f) => f,
                    Err(e) => {
                        return ended(Ended::Failed(format!("{}: encoding: {e}", from.name)), t);
                    }
                };
                sent += 1;
                traffic.messages += 1;
                // The frame carries its 4-byte length prefix, as on the wire.
                traffic.bytes += frame.len() as u64;
                t += link.latency_ms + (frame.len() as i64 * 8) / link.kbit_s.max(1);
                if chance(rng, link.loss) {
                    t += 3 * link.latency_ms.max(1);
                }
                if link.cut_after.is_some_and(|n| sent >= n) {
                    return ended(Ended::Cut, t);
                }
                let mut deliver: Vec<Vec<u8>> = vec![frame];
                if chance(rng, link.duplicate) {
                    traffic.duplicated += 1;
                    deliver.push(deliver[0].clone());
                }
                for f in deliver {
                    let m: SyncMessage = match decode_frame(f.get(4..).unwrap_or_default()) {
                        Ok(m) => m,
                        Err(e) => {
                            return ended(Ended::Failed(format!("{}: decoding: {e}", to.name)), t);
                        }
                    };
                    if held.is_none() && chance(rng, link.reorder) {
                        traffic.reordered += 1;
                        held = Some(m);
                        continue;
                    }
                    let mut batch = vec![m];
                    batch.extend(held.take());
                    for m in batch {
                        if let Err(e) = rt.receive(et, from_clock(to.skew_ms, t), m) {
                            return ended(Ended::Failed(format!("{}: {e}", to.name)), t);
                        }
                    }
                }
            }
            if let Some(m) = held.take()
                && let Err(e) = rt.receive(et, from_clock(to.skew_ms, t), m)
            {
                return ended(Ended::Failed(format!("{}: {e}", to.name)), t);
            }
        }
        if ra.in_sync() && rb.in_sync() {
            return Meeting {
                ended: Ended::InSync,
                at: t,
                summaries: Some((ra.summary().clone(), rb.summary().clone())),
            };
        }
        if !moved {
            return ended(
                Ended::Failed("neither side has anything to say, and they are not in sync".into()),
                t,
            );
        }
        t += 1;
    }
    ended(Ended::Failed("no end to the meeting".into()), t)
}

fn from_clock(skew: i64, t: i64) -> alpr_protocol::Timestamp {
    alpr_protocol::Timestamp(t.saturating_add(skew))
}

/// The peer's enrollment as `me` verified it.
fn verified(me: &SimNode, peer: &SimNode) -> Option<alpr_protocol::VerifiedCertificate> {
    peer.enrollment.verify(me.agency).ok()
}
