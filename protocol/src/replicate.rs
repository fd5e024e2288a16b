//! The replication core for append-only collections (reads with their images, audit events), sans-IO.
//!
//! Each side keeps, per origin, a [`Mark`]: the highest seq up to which it
//! holds every record (`contiguous`) and the seq below which records were
//! purged (`floor`). Peers exchange their [`VersionVector`]s in `Hello`; each
//! then sends what the other lacks in bounded batches, one batch in flight per
//! collection, and moves on when the receiver acknowledges with its new
//! vector. A cut connection loses at most the batch in flight: the next
//! `Hello` says exactly what arrived. Applying records is idempotent and
//! order-free ([`Received`]), so duplicates and reordering change nothing.
//!
//! This module decides what to send and what to store; it never verifies or
//! stores a record itself. Its driver (QUIC in the node, the simulator) checks
//! every record against `Trust` before storing it, then reports the new
//! vector with [`SyncSession::stored`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::enrollment::Role;
use crate::identity::NodeId;

/// What a session replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Collection {
    /// Reads, each with its image records.
    Reads,
    AuditEvents,
}

pub const COLLECTIONS: [Collection; 2] = [Collection::Reads, Collection::AuditEvents];

impl Collection {
    /// Direction is policy: reads and audit events flow only toward stations,
    /// never to another car.
    pub fn may_send_to(self, peer: Role) -> bool {
        match self {
            Collection::Reads | Collection::AuditEvents => peer == Role::Station,
        }
    }
}

/// One origin's progress in one collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Every seq in `floor + 1 ..= contiguous` is held.
    pub contiguous: u64,
    /// Seqs up to here were purged (they are not coming back).
    pub floor: u64,
}

/// Per origin, how far a node holds a collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionVector(pub BTreeMap<NodeId, Mark>);

/// A run of one origin's records a peer lacks: seqs `after + 1 ..= upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub origin: NodeId,
    pub after: u64,
    pub upto: u64,
}

impl VersionVector {
    pub fn mark(&self, origin: &NodeId) -> Mark {
        self.0.get(origin).copied().unwrap_or_default()
    }

    /// What `peer` lacks that this vector holds, per origin, oldest first.
    /// Records below this side's floor were purged here and are not offered.
    pub fn lacking(&self, peer: &VersionVector) -> Vec<Want> {
        self.0
            .iter()
            .filter_map(|(origin, mine)| {
                let theirs = peer.mark(origin);
                let after = theirs.contiguous.max(theirs.floor).max(mine.floor);
                (after < mine.contiguous).then_some(Want {
                    origin: *origin,
                    after,
                    upto: mine.contiguous,
                })
            })
            .collect()
    }
}

/// Which seqs a node holds, per origin: the contiguous mark and, above it,
/// seqs that arrived early. Accepting a seq twice, or in any order, ends in
/// the same state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    marks: BTreeMap<NodeId, (Mark, BTreeSet<u64>)>,
}

impl Received {
    /// Starts from what a store already holds.
    pub fn from_vector(vector: &VersionVector) -> Self {
        Received {
            marks: vector
                .0
                .iter()
                .map(|(o, m)| (*o, (*m, BTreeSet::new())))
                .collect(),
        }
    }

    /// Records that `origin`'s `seq` is held; returns whether it was new.
    pub fn accept(&mut self, origin: NodeId, seq: u64) -> bool {
        let (mark, early) = self.marks.entry(origin).or_default();
        if seq <= mark.contiguous.max(mark.floor) || early.contains(&seq) {
            return false;
        }
        early.insert(seq);
        while early.remove(&(mark.contiguous.max(mark.floor) + 1)) {
            mark.contiguous = mark.contiguous.max(mark.floor) + 1;
        }
        true
    }

    pub fn vector(&self) -> VersionVector {
        VersionVector(self.marks.iter().map(|(o, (m, _))| (*o, *m)).collect())
    }
}

/// Bounds on one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub records_max: usize,
    pub bytes_max: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            records_max: 1000,
            bytes_max: 4 * 1024 * 1024,
        }
    }
}

/// One record as it travels: its envelope and, for a read, its image records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    pub origin: NodeId,
    pub seq: u64,
    pub envelope: Vec<u8>,
    pub images: Vec<Vec<u8>>,
}

impl WireRecord {
    fn bytes(&self) -> usize {
        self.envelope.len() + self.images.iter().map(Vec::len).sum::<usize>()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncMessage {
    Hello {
        node: NodeId,
        role: Role,
        vectors: BTreeMap<Collection, VersionVector>,
    },
    Batch {
        collection: Collection,
        records: Vec<WireRecord>,
    },
    /// The receiver stored a batch; its vector now.
    Ack {
        collection: Collection,
        vector: VersionVector,
    },
}

/// Where a session reads the records it sends (the node's store, the simulator's).
pub trait RecordSource {
    /// Records of `origin` with seq in `after + 1 ..= upto`, in seq order, as
    /// many as `limits` allow (at least one if any exists).
    fn fetch(&self, collection: Collection, want: Want, limits: BatchLimits) -> Vec<WireRecord>;
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send(SyncMessage),
    /// Verify these records and store the good ones, then call [`SyncSession::stored`].
    Store {
        collection: Collection,
        records: Vec<WireRecord>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("peer sent {0} before Hello")]
    NotIntroduced(&'static str),
    #[error("peer sent a second Hello")]
    SecondHello,
    #[error("peer sent {collection:?} records, which a {role:?} may not receive from it")]
    WrongDirection { collection: Collection, role: Role },
    #[error("peer sent a batch of {0} records, over the limit")]
    BatchTooLarge(usize),
}

/// One connection's replication, both directions. Sans-IO: the driver feeds
/// it messages and acknowledgements and carries out its outputs.
#[derive(Debug)]
pub struct SyncSession {
    role: Role,
    limits: BatchLimits,
    local: BTreeMap<Collection, VersionVector>,
    peer: Option<(NodeId, Role)>,
    /// What the peer is known to hold, per collection (from Hello and Acks).
    peer_vectors: BTreeMap<Collection, VersionVector>,
    /// Whether a batch of ours awaits the peer's Ack, per collection.
    in_flight: BTreeMap<Collection, bool>,
    /// Batches received and handed to the driver, not yet acknowledged.
    storing: VecDeque<Collection>,
}

impl SyncSession {
    /// Starts a session; `local` is what this node holds now. Returns the Hello to send.
    pub fn start(
        me: NodeId,
        role: Role,
        local: BTreeMap<Collection, VersionVector>,
        limits: BatchLimits,
    ) -> (SyncSession, Output) {
        let hello = SyncMessage::Hello {
            node: me,
            role,
            vectors: local.clone(),
        };
        (
            SyncSession {
                role,
                limits,
                local,
                peer: None,
                peer_vectors: BTreeMap::new(),
                in_flight: BTreeMap::new(),
                storing: VecDeque::new(),
            },
            Output::Send(hello),
        )
    }

    pub fn peer(&self) -> Option<(NodeId, Role)> {
        self.peer
    }

    /// Whether nothing is left to send or store in either direction, as far as this side knows.
    pub fn idle(&self) -> bool {
        self.peer.is_some()
            && self.storing.is_empty()
            && self.in_flight.values().all(|f| !f)
            && COLLECTIONS.iter().all(|c| self.next_want(*c).is_none())
    }

    fn next_want(&self, collection: Collection) -> Option<Want> {
        let (_, peer_role) = self.peer?;
        if !collection.may_send_to(peer_role) {
            return None;
        }
        let theirs = self
            .peer_vectors
            .get(&collection)
            .cloned()
            .unwrap_or_default();
        self.local
            .get(&collection)
            .and_then(|mine| mine.lacking(&theirs).into_iter().next())
    }

    /// Sends the next batch of `collection` if none is in flight.
    fn pump(&mut self, collection: Collection, source: &impl RecordSource, out: &mut Vec<Output>) {
        if self.in_flight.get(&collection).copied().unwrap_or(false) {
            return;
        }
        let Some(want) = self.next_want(collection) else {
            return;
        };
        let mut records = source.fetch(collection, want, self.limits);
        let mut bytes = 0;
        let mut keep = 0;
        for r in &records {
            if keep == self.limits.records_max
                || (keep > 0 && bytes + r.bytes() > self.limits.bytes_max)
            {
                break;
            }
            bytes += r.bytes();
            keep += 1;
        }
        records.truncate(keep);
        if records.is_empty() {
            return;
        }
        self.in_flight.insert(collection, true);
        out.push(Output::Send(SyncMessage::Batch {
            collection,
            records,
        }));
    }

    /// Handles one message from the peer.
    pub fn receive(
        &mut self,
        message: SyncMessage,
        source: &impl RecordSource,
    ) -> Result<Vec<Output>, SyncError> {
        let mut out = Vec::new();
        match message {
            SyncMessage::Hello {
                node,
                role,
                vectors,
            } => {
                if self.peer.is_some() {
                    return Err(SyncError::SecondHello);
                }
                self.peer = Some((node, role));
                self.peer_vectors = vectors;
                for c in COLLECTIONS {
                    self.pump(c, source, &mut out);
                }
            }
            SyncMessage::Batch {
                collection,
                records,
            } => {
                if self.peer.is_none() {
                    return Err(SyncError::NotIntroduced("a batch"));
                }
                if !collection.may_send_to(self.role) {
                    return Err(SyncError::WrongDirection {
                        collection,
                        role: self.role,
                    });
                }
                if records.len() > self.limits.records_max {
                    return Err(SyncError::BatchTooLarge(records.len()));
                }
                self.storing.push_back(collection);
                out.push(Output::Store {
                    collection,
                    records,
                });
            }
            SyncMessage::Ack { collection, vector } => {
                if self.peer.is_none() {
                    return Err(SyncError::NotIntroduced("an ack"));
                }
                self.in_flight.insert(collection, false);
                self.peer_vectors.insert(collection, vector);
                self.pump(collection, source, &mut out);
            }
        }
        Ok(out)
    }

    /// The driver stored (or refused) a batch it was handed; `local` is the
    /// collection's vector now. Acknowledges it, and sends on if this side
    /// now holds more than the peer.
    pub fn stored(
        &mut self,
        collection: Collection,
        local: VersionVector,
        source: &impl RecordSource,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(at) = self.storing.iter().position(|c| *c == collection) {
            self.storing.remove(at);
        }
        self.local.insert(collection, local.clone());
        out.push(Output::Send(SyncMessage::Ack {
            collection,
            vector: local,
        }));
        self.pump(collection, source, &mut out);
        out
    }
}
