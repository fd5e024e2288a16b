//! What this node knows of the peers it has met since it started, for the
//! peers and sync view (`Engine::peers`): whether a meeting is running, how
//! the last one ended, and what is pending each way as of the last
//! meetings. Kept in memory: after a restart the node still knows each
//! peer's last meeting in sync (the store keeps it), and the rest again
//! from the next meeting.
//!
//! Pending is counted from version vectors, never from records:
//! - **to the peer**: what this node holds now that the peer may receive
//!   (records go to stations only) beyond what this node held when the
//!   last meeting in sync with it began; a meeting in sync leaves each side
//!   holding what the other had at its start.
//! - **from the peer**: what the peer said it held in its last Hello that
//!   this node still lacks (a meeting cut short leaves some).

use std::collections::BTreeMap;

use alpr_protocol::replicate::{Collection, VersionVector};
use alpr_protocol::{NodeId, Role, Timestamp};

use crate::policy::Revocation;

/// Peers kept at most; past it, the one heard from longest ago goes. A
/// fleet's peers are its stations and cars, all enrolled by the agency.
pub const PEERS_MAX: usize = 4096;

/// Configured peer addresses kept at most (a daemon's `peers` in node.toml).
pub const ADDRESSES_MAX: usize = 256;
/// Bytes of an address kept (a host name and port).
pub const ADDRESS_BYTES_MAX: usize = 256;

/// A peer address this node's daemon tries to meet, and how its last try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressView {
    pub address: String,
    pub last_try: Timestamp,
    /// The node met there last, and when.
    pub last_met: Option<(NodeId, Timestamp)>,
    /// The last try that failed (unreachable, refused, cut): when, and why.
    pub last_failure: Option<(Timestamp, String)>,
}

/// Per collection, how many records.
pub type Counts = Vec<(Collection, u64)>;

#[derive(Debug, Clone)]
struct PeerState {
    role: Option<Role>,
    /// A meeting is running since then.
    connected_since: Option<Timestamp>,
    last_heard: Timestamp,
    meetings: u64,
    failures: u64,
    last_failure: Option<(Timestamp, String)>,
    /// Reads and audit events the last meeting in sync stored here.
    last_stored: Option<(u64, u64)>,
    /// What this node held of what it sends the peer when the running
    /// meeting began.
    ours_at_start: Option<BTreeMap<Collection, VersionVector>>,
    /// The same, as of the start of the last meeting that ended in sync:
    /// the peer holds at least that.
    ours_synced: Option<BTreeMap<Collection, VersionVector>>,
    /// What the peer said it held in its last Hello, of what it sends here.
    theirs_said: Option<BTreeMap<Collection, VersionVector>>,
}

/// The peers' states, bounded by [`PEERS_MAX`], and the addresses tried,
/// bounded by [`ADDRESSES_MAX`].
#[derive(Debug, Default)]
pub(super) struct Peers {
    map: BTreeMap<NodeId, PeerState>,
    addresses: BTreeMap<String, AddressView>,
}

/// Only the collections that flow to a node of `role`: what is stored for
/// a peer stays as small as what can ever be pending with it.
fn flowing_to(
    vectors: &BTreeMap<Collection, VersionVector>,
    role: Role,
) -> BTreeMap<Collection, VersionVector> {
    vectors
        .iter()
        .filter(|(c, _)| c.may_send_to(role))
        .map(|(c, v)| (*c, v.clone()))
        .collect()
}

/// Records `have` holds that `known` lacks, per collection of `have`.
fn lacking(
    have: &BTreeMap<Collection, VersionVector>,
    known: &BTreeMap<Collection, VersionVector>,
) -> Counts {
    have.iter()
        .map(|(c, mine)| {
            let theirs = known.get(c).cloned().unwrap_or_default();
            // Marks come from peers: summed without overflow.
            let n = mine
                .lacking(&theirs)
                .iter()
                .map(|w| w.upto.saturating_sub(w.after))
                .fold(0u64, u64::saturating_add);
            (*c, n)
        })
        .collect()
}

impl Peers {
    fn entry(&mut self, peer: NodeId, now: Timestamp) -> &mut PeerState {
        if !self.map.contains_key(&peer) && self.map.len() >= PEERS_MAX {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, s)| s.last_heard)
                .map(|(id, _)| *id);
            if let Some(id) = oldest {
                self.map.remove(&id);
            }
        }
        let state = self.map.entry(peer).or_insert_with(|| PeerState {
            role: None,
            connected_since: None,
            last_heard: now,
            meetings: 0,
            failures: 0,
            last_failure: None,
            last_stored: None,
            ours_at_start: None,
            ours_synced: None,
            theirs_said: None,
        });
        state.last_heard = state.last_heard.max(now);
        state
    }

    /// A meeting began; `ours` is what this node holds (all collections).
    pub(super) fn started(
        &mut self,
        now: Timestamp,
        peer: NodeId,
        role: Role,
        ours: &BTreeMap<Collection, VersionVector>,
    ) {
        let state = self.entry(peer, now);
        state.role = Some(role);
        state.connected_since = Some(now);
        state.ours_at_start = Some(flowing_to(ours, role));
    }

    /// The peer's Hello: `theirs` is what it holds (all collections), and
    /// `own_role` this node's role.
    pub(super) fn said(
        &mut self,
        now: Timestamp,
        peer: NodeId,
        own_role: Role,
        theirs: &BTreeMap<Collection, VersionVector>,
    ) {
        self.entry(peer, now).theirs_said = Some(flowing_to(theirs, own_role));
    }

    /// A meeting ended in sync (what it stored here) or failed (why).
    pub(super) fn ended(
        &mut self,
        now: Timestamp,
        peer: NodeId,
        result: &Result<(u64, u64), String>,
    ) {
        let state = self.entry(peer, now);
        state.connected_since = None;
        state.meetings += 1;
        match result {
            Ok(stored) => {
                state.last_stored = Some(*stored);
                if let Some(ours) = state.ours_at_start.take() {
                    state.ours_synced = Some(ours);
                }
            }
            Err(reason) => {
                state.failures += 1;
                state.last_failure = Some((now, reason.clone()));
                state.ours_at_start = None;
            }
        }
    }

    /// A try to meet the peer at `address`: the node met, or why not. A
    /// failure before the handshake names no node, so it is kept by address.
    pub(super) fn tried(&mut self, now: Timestamp, address: &str, result: Result<NodeId, String>) {
        let address = alpr_protocol::record::bounded_text(address.to_string(), ADDRESS_BYTES_MAX);
        if !self.addresses.contains_key(&address) && self.addresses.len() >= ADDRESSES_MAX {
            let oldest = self
                .addresses
                .values()
                .min_by_key(|a| a.last_try)
                .map(|a| a.address.clone());
            if let Some(a) = oldest {
                self.addresses.remove(&a);
            }
        }
        let view = self
            .addresses
            .entry(address.clone())
            .or_insert_with(|| AddressView {
                address,
                last_try: now,
                last_met: None,
                last_failure: None,
            });
        view.last_try = now;
        match result {
            Ok(node) => view.last_met = Some((node, now)),
            Err(reason) => view.last_failure = Some((now, reason)),
        }
    }

    pub(super) fn addresses(&self) -> Vec<AddressView> {
        self.addresses.values().cloned().collect()
    }

    /// Every peer known here, with what is pending against `ours` (what this
    /// node holds now, all collections).
    pub(super) fn views(&self, ours: &BTreeMap<Collection, VersionVector>) -> Vec<PeerView> {
        self.map
            .iter()
            .map(|(node, s)| PeerView {
                node: *node,
                role: s.role,
                connected_since: s.connected_since,
                meetings: s.meetings,
                failures: s.failures,
                last_failure: s.last_failure.clone(),
                last_stored: s.last_stored,
                pending_out: match (s.role, &s.ours_synced) {
                    (Some(role), Some(synced)) => Some(lacking(&flowing_to(ours, role), synced)),
                    _ => None,
                },
                pending_in: s.theirs_said.as_ref().map(|theirs| lacking(theirs, ours)),
            })
            .collect()
    }
}

/// One peer as the peers view shows it (names and last meetings in sync
/// are added from the certificates and the store).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerView {
    pub node: NodeId,
    pub role: Option<Role>,
    pub connected_since: Option<Timestamp>,
    /// Meetings ended since this node started, and how many failed.
    pub meetings: u64,
    pub failures: u64,
    pub last_failure: Option<(Timestamp, String)>,
    /// Reads and audit events the last meeting in sync stored here.
    pub last_stored: Option<(u64, u64)>,
    /// To the peer, per collection that flows to it; None until a meeting
    /// with it ended in sync since this node started.
    pub pending_out: Option<Counts>,
    /// From the peer, per collection that flows here; None until it said
    /// what it holds since this node started.
    pub pending_in: Option<Counts>,
}

/// The peers view: each peer (met since start, or met in sync ever), its
/// name and last meeting in sync, and the revoked nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct PeersReport {
    pub peers: Vec<(PeerView, Option<String>, Option<Timestamp>)>,
    /// The addresses the daemon tries, with the last try's outcome.
    pub addresses: Vec<AddressView>,
    pub revoked: Vec<(NodeId, Revocation)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_protocol::replicate::Mark;

    fn id(b: u8) -> NodeId {
        NodeId([b; 32])
    }

    fn vectors(reads: &[(u8, u64)]) -> BTreeMap<Collection, VersionVector> {
        let v = VersionVector(
            reads
                .iter()
                .map(|(o, n)| {
                    (
                        id(*o),
                        Mark {
                            contiguous: *n,
                            floor: 0,
                        },
                    )
                })
                .collect(),
        );
        [(Collection::Reads, v.clone()), (Collection::AuditEvents, v)].into()
    }

    fn count(c: &Counts, which: Collection) -> u64 {
        c.iter().find(|(k, _)| *k == which).map_or(0, |(_, n)| *n)
    }

    #[test]
    fn a_car_counts_what_it_made_since_its_last_meeting_in_sync() {
        let mut p = Peers::default();
        let station = id(9);
        p.started(Timestamp(1), station, Role::Station, &vectors(&[(1, 40)]));
        assert_eq!(p.views(&vectors(&[(1, 40)]))[0].pending_out, None);
        p.ended(Timestamp(2), station, &Ok((0, 0)));
        let now = vectors(&[(1, 57)]);
        let v = &p.views(&now)[0];
        let out = v.pending_out.as_ref().unwrap();
        assert_eq!(count(out, Collection::Reads), 17);
        assert_eq!(count(out, Collection::AuditEvents), 17);
        assert_eq!(v.connected_since, None);
        assert_eq!(v.meetings, 1);
    }

    #[test]
    fn a_failed_meeting_keeps_the_last_sync_and_says_why() {
        let mut p = Peers::default();
        let station = id(9);
        p.started(Timestamp(1), station, Role::Station, &vectors(&[(1, 10)]));
        p.ended(Timestamp(2), station, &Ok((0, 0)));
        p.started(Timestamp(3), station, Role::Station, &vectors(&[(1, 30)]));
        assert_eq!(
            p.views(&vectors(&[(1, 30)]))[0].connected_since,
            Some(Timestamp(3))
        );
        p.ended(Timestamp(4), station, &Err("the peer went quiet".into()));
        let v = &p.views(&vectors(&[(1, 30)]))[0];
        assert_eq!(
            count(v.pending_out.as_ref().unwrap(), Collection::Reads),
            20
        );
        assert_eq!(
            v.last_failure,
            Some((Timestamp(4), "the peer went quiet".to_string()))
        );
        assert_eq!((v.meetings, v.failures), (2, 1));
    }

    #[test]
    fn nothing_is_pending_to_a_car_and_what_it_said_is_pending_from_it() {
        let mut p = Peers::default();
        let car = id(1);
        // A station meets a car: no records flow to a car.
        p.started(
            Timestamp(1),
            car,
            Role::Vehicle,
            &vectors(&[(1, 5), (2, 9)]),
        );
        p.said(Timestamp(1), car, Role::Station, &vectors(&[(1, 25)]));
        p.ended(Timestamp(2), car, &Err("cut".into()));
        let v = &p.views(&vectors(&[(1, 5), (2, 9)]))[0];
        assert_eq!(v.pending_out, None);
        p.started(
            Timestamp(3),
            car,
            Role::Vehicle,
            &vectors(&[(1, 5), (2, 9)]),
        );
        p.ended(Timestamp(4), car, &Ok((0, 0)));
        let v = &p.views(&vectors(&[(1, 5), (2, 9)]))[0];
        assert_eq!(v.pending_out, Some(vec![]));
        let inn = v.pending_in.as_ref().unwrap();
        assert_eq!(count(inn, Collection::Reads), 20);
    }

    #[test]
    fn an_address_keeps_its_last_failure_and_the_node_last_met_there() {
        let mut p = Peers::default();
        p.tried(Timestamp(1), "10.0.0.1:4433", Err("timed out".into()));
        p.tried(Timestamp(2), "10.0.0.1:4433", Ok(id(9)));
        p.tried(Timestamp(3), &"x".repeat(100_000), Err("y".into()));
        let a = p.addresses();
        assert_eq!(a.len(), 2);
        let first = a.iter().find(|a| a.address == "10.0.0.1:4433").unwrap();
        assert_eq!(first.last_met, Some((id(9), Timestamp(2))));
        assert_eq!(first.last_failure, Some((Timestamp(1), "timed out".into())));
        assert!(a.iter().all(|a| a.address.len() <= ADDRESS_BYTES_MAX));
        for i in 0..ADDRESSES_MAX + 5 {
            p.tried(
                Timestamp(10 + i as i64),
                &format!("h{i}:1"),
                Err("no".into()),
            );
        }
        assert_eq!(p.addresses().len(), ADDRESSES_MAX);
    }

    #[test]
    fn marks_a_peer_claims_at_the_top_of_the_range_do_not_overflow() {
        let mut p = Peers::default();
        let car = id(1);
        p.started(Timestamp(1), car, Role::Vehicle, &BTreeMap::new());
        p.said(
            Timestamp(1),
            car,
            Role::Station,
            &vectors(&[(1, u64::MAX), (2, u64::MAX)]),
        );
        let v = &p.views(&BTreeMap::new())[0];
        assert_eq!(
            count(v.pending_in.as_ref().unwrap(), Collection::Reads),
            u64::MAX
        );
    }

    #[test]
    fn the_table_is_bounded_and_drops_the_longest_unheard() {
        let mut p = Peers::default();
        for i in 0..PEERS_MAX as u64 + 3 {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&i.to_le_bytes());
            p.started(
                Timestamp(i as i64),
                NodeId(b),
                Role::Vehicle,
                &BTreeMap::new(),
            );
        }
        let views = p.views(&BTreeMap::new());
        assert_eq!(views.len(), PEERS_MAX);
        assert!(
            views
                .iter()
                .all(|v| v.connected_since >= Some(Timestamp(3)))
        );
    }
}
