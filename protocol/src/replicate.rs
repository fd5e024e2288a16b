//! The replication core for append-only collections (reads with their images, audit events), sans-IO.
//!
//! Each side keeps, per origin, a [`Mark`]: the seq up to which it holds
//! every record that still exists anywhere it looked (`contiguous`) and the
//! seq below which records were purged (`floor`). Peers exchange their
//! [`VersionVector`]s in `Hello`; each then sends what the other lacks in
//! bounded batches, one batch in flight per collection, and moves on when the
//! receiver acknowledges with its new vector. A cut connection loses at most
//! the batch in flight: the next `Hello` says exactly what arrived.
//!
//! A batch covers a run of one origin's seqs, `after + 1 ..= through`, and
//! carries every record the sender holds in that run. Records the sender no
//! longer holds (purged past retention while others in the run were held as
//! evidence) are gaps it vouches for: the receiver moves its mark to
//! `through` once it stored the whole batch, so it never asks for them again.
//! Applying a batch twice, or batches in any order, ends in the same state
//! ([`Received`]).
//!
//! This module decides what to send and what to store; it never verifies or
//! stores a record itself. Its driver (QUIC in the node, the simulator) checks
//! every record against `Trust` before storing it, then reports the new
//! vector with [`SyncSession::stored`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::enrollment::{Role, SignedCertificate};
use crate::hotlist::{Delta, Entry, SignedHotlistVersion};
use crate::identity::NodeId;
use crate::time::Timestamp;

/// How long a session waits for a peer that owes it something (its Hello,
/// an acknowledgement) before it gives up on the connection: long enough
/// for a full batch (1 MiB) on a slow link.
pub const STALL_MS: i64 = 60_000;

/// What a session replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Collection {
    /// Reads, each with its image records.
    Reads,
    AuditEvents,
    /// Alerts and their dispositions, in one seq space per origin.
    Alerts,
}

pub const COLLECTIONS: [Collection; 3] = [
    Collection::Reads,
    Collection::AuditEvents,
    Collection::Alerts,
];

impl Collection {
    /// The collection in words, as errors and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Reads => "read",
            Collection::AuditEvents => "audit event",
            Collection::Alerts => "alert",
        }
    }

    /// Direction is policy: reads, audit events and alerts flow only toward
    /// stations, never to another car.
    pub fn may_send_to(self, peer: Role) -> bool {
        match self {
            Collection::Reads | Collection::AuditEvents | Collection::Alerts => {
                peer == Role::Station
            }
        }
    }
}

/// One origin's progress in one collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Every seq up to here is held, or was purged where it was looked for.
    pub contiguous: u64,
    /// Seqs up to here were purged as a prefix (they are not coming back).
    pub floor: u64,
}

impl Mark {
    /// The seq after which this side still wants records.
    pub fn wants_after(self) -> u64 {
        self.contiguous.max(self.floor)
    }
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
                let after = peer.mark(origin).wants_after().max(mine.floor);
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
        if seq <= mark.wants_after() || early.contains(&seq) {
            return false;
        }
        early.insert(seq);
        Self::absorb(mark, early);
        true
    }

    /// A whole batch for `after + 1 ..= through` was stored: the run is
    /// complete if this side held everything up to `after`.
    pub fn cover(&mut self, origin: NodeId, after: u64, through: u64) {
        let (mark, early) = self.marks.entry(origin).or_default();
        if mark.wants_after() >= after && through > mark.contiguous {
            mark.contiguous = through;
            early.retain(|s| *s > through);
            Self::absorb(mark, early);
        }
    }

    fn absorb(mark: &mut Mark, early: &mut BTreeSet<u64>) {
        while let Some(next) = mark.wants_after().checked_add(1)
            && early.remove(&next)
        {
            mark.contiguous = next;
        }
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
            // A batch crosses a slow link within the stall timer (1 MiB is
            // 35 s at 256 kbit/s), and costs little on a fast one.
            bytes_max: 1024 * 1024,
        }
    }
}

/// Largest sync frame either side accepts: a full batch plus its framing.
pub const SYNC_FRAME_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Most certificates one batch may carry (it needs one: its origin's).
const BATCH_CERTIFICATES_MAX: usize = 4;

/// One record as it travels: its envelope and, for a read, its image records.
/// The origin is the batch's; the driver checks both against the envelope header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    pub seq: u64,
    #[serde(with = "serde_bytes")]
    pub envelope: Vec<u8>,
    pub images: Vec<WireImage>,
}

/// An image record's envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireImage(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl WireRecord {
    pub fn bytes(&self) -> usize {
        self.envelope.len() + self.images.iter().map(|i| i.0.len()).sum::<usize>()
    }
}

/// A run of one origin's records: everything the sender holds in `after + 1 ..= through`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub collection: Collection,
    pub origin: NodeId,
    pub after: u64,
    pub through: u64,
    /// The origin's enrollment certificate, so a receiver that never met
    /// the origin can check its signatures (it still checks the agency's).
    pub certificates: Vec<SignedCertificate>,
    pub records: Vec<WireRecord>,
}

/// Which version of a bulk hotlist a node holds. Newer is the higher
/// version; two stations that published the same version number break the
/// tie by content hash, so every node settles on the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HotlistHead {
    pub version: u64,
    pub content: [u8; 32],
}

/// Most entries in one snapshot chunk (a chunk stays well under the frame limit).
pub const HOTLIST_CHUNK_ENTRIES: usize = 50_000;

/// A hotlist version on its way: a delta from content the receiver holds,
/// or the whole list in chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotlistTransfer {
    pub version: SignedHotlistVersion,
    /// The publishing station's certificate, for a receiver that never met it.
    pub certificate: SignedCertificate,
    pub body: HotlistBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HotlistBody {
    Delta {
        from: [u8; 32],
        delta: Delta,
    },
    Chunk {
        index: u32,
        last: bool,
        entries: Vec<Entry>,
    },
}

/// Context of a policy change signature (see [`ChangeSignature`]).
pub const CHANGE_SIGNATURE_CONTEXT: &[u8; 8] = b"ALPRPCH1";

/// A node's signature on one change of the policy document: Ed25519 by
/// `author` over `ALPRPCH1` ‖ the change's automerge hash (which covers its
/// actor, dependencies and operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSignature {
    pub hash: [u8; 32],
    pub author: NodeId,
    #[serde(with = "serde_bytes")]
    pub signature: [u8; 64],
}

impl ChangeSignature {
    pub fn sign(hash: [u8; 32], key: &crate::identity::NodeKey) -> ChangeSignature {
        let mut msg = CHANGE_SIGNATURE_CONTEXT.to_vec();
        msg.extend_from_slice(&hash);
        ChangeSignature {
            hash,
            author: key.id(),
            signature: key.sign(&msg),
        }
    }

    pub fn verify(&self) -> bool {
        let mut msg = CHANGE_SIGNATURE_CONTEXT.to_vec();
        msg.extend_from_slice(&self.hash);
        self.author.verify(&msg, &self.signature)
    }
}

/// What a Hello says of the policy document: enough to tell equal documents.
pub type PolicyDigest = [u8; 16];

/// The first 16 bytes of SHA-256 over "ALPRPHD1" and the sorted heads; all
/// zeros for a node without a policy document. Only equality is asked of it
/// (a differing document starts automerge's own sync, which carries heads),
/// and 16 bytes instead of 32 per head cross the link at every meeting.
pub fn policy_digest(heads: &[[u8; 32]]) -> PolicyDigest {
    use sha2::{Digest, Sha256};
    if heads.is_empty() {
        return [0; 16];
    }
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    let mut hash = Sha256::new();
    hash.update(b"ALPRPHD1");
    for head in &sorted {
        hash.update(head);
    }
    let full = hash.finalize();
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Most change signatures (and certificates) one policy message may carry.
pub const POLICY_SIGNATURES_MAX: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncMessage {
    /// The sender's identity is the one its TLS certificate proved; the
    /// Hello only states its role (which must match) and its holdings.
    Hello {
        role: Role,
        #[serde(with = "compact_vectors")]
        vectors: BTreeMap<Collection, VersionVector>,
        hotlists: BTreeMap<String, HotlistHead>,
        /// A digest of the policy document's heads ([`policy_digest`]):
        /// equal digests mean equal documents, and no `Policy` messages follow.
        policy: PolicyDigest,
    },
    Batch(Batch),
    /// The receiver stored a batch; its vector now.
    Ack {
        collection: Collection,
        vector: VersionVector,
    },
    Hotlist {
        list: String,
        transfer: HotlistTransfer,
    },
    /// The receiver holds this version of the list now (or kept a newer one).
    HotlistAck {
        list: String,
        head: HotlistHead,
    },
    /// An automerge sync message over the policy document, with the
    /// signatures of the changes it carries and their authors' certificates.
    Policy {
        #[serde(with = "serde_bytes")]
        message: Vec<u8>,
        signatures: Vec<ChangeSignature>,
        certificates: Vec<SignedCertificate>,
    },
}

/// What a [`RecordSource`] found for a [`Want`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Records in seq order.
    pub records: Vec<WireRecord>,
    /// Whether these are all the source holds up to `want.upto`.
    pub complete: bool,
}

/// Where a session reads the records it sends (the node's store, the simulator's).
pub trait RecordSource {
    /// Records of `want.origin` with seq in `after + 1 ..= upto`, in seq
    /// order, as many as `limits` allow (at least one if any exists).
    fn fetch(
        &self,
        collection: Collection,
        want: Want,
        limits: BatchLimits,
    ) -> Result<Fetched, String>;

    /// The origin's enrollment certificate, if known.
    fn certificate(&self, origin: &NodeId) -> Option<SignedCertificate>;
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send(SyncMessage),
    /// Verify every record of the batch; store it whole if all are good, then
    /// call [`SyncSession::stored`]. One bad record refuses the batch and ends
    /// the connection.
    Store(Batch),
    /// Send `list` to the peer: a delta from `peer_has` if this node still
    /// holds that content, else the whole list in chunks.
    SendHotlist {
        list: String,
        peer_has: Option<HotlistHead>,
    },
    /// Verify and keep this part of a list; once a version is whole (a
    /// delta, or the last chunk), call [`SyncSession::hotlist_stored`].
    StoreHotlist {
        list: String,
        transfer: HotlistTransfer,
    },
    /// The peer's policy differs: start the automerge sync (send its first message).
    StartPolicySync,
    /// Check every change this policy sync message brings (signature by a
    /// known node of the agency, the author's role allows what it touches)
    /// and apply it only if all pass; then send the reply the document's
    /// sync state calls for.
    Policy {
        message: Vec<u8>,
        signatures: Vec<ChangeSignature>,
        certificates: Vec<SignedCertificate>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("peer sent {0} before Hello")]
    NotIntroduced(&'static str),
    #[error("peer sent a second Hello")]
    SecondHello,
    #[error("peer introduced itself as a {claimed_role:?}, but authenticated as {node:?} {role:?}")]
    NotWhoItIs {
        claimed_role: Role,
        node: NodeId,
        role: Role,
    },
    #[error("peer sent {collection:?} records, which a {role:?} may not receive from it")]
    WrongDirection { collection: Collection, role: Role },
    #[error("peer sent a batch of {0} records, over the limit")]
    BatchTooLarge(usize),
    #[error("peer sent a batch of {origin:?} that is not a run: {reason}")]
    BadRun { origin: NodeId, reason: String },
    #[error("peer sent a batch for {0:?} while another was being stored")]
    Overlapping(Collection),
    #[error("peer acknowledged {0:?}, which had no batch in flight")]
    UnexpectedAck(Collection),
    #[error("peer acknowledged hotlist '{0}', which was not sent")]
    UnexpectedHotlistAck(String),
    #[error("peer went silent for {0} ms while it owed an answer")]
    Stalled(i64),
    #[error("reading records to send failed: {0}")]
    Source(String),
}

/// What a node holds when a session starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub vectors: BTreeMap<Collection, VersionVector>,
    pub lists: BTreeMap<String, HotlistHead>,
    /// The policy document's heads, sorted.
    pub policy_heads: Vec<[u8; 32]>,
}

/// One connection's replication, both directions. Sans-IO: the driver feeds
/// it messages and acknowledgements and carries out its outputs.
#[derive(Debug)]
pub struct SyncSession {
    role: Role,
    limits: BatchLimits,
    local: BTreeMap<Collection, VersionVector>,
    /// Who the handshake authenticated; Hello must agree.
    peer: (NodeId, Role),
    introduced: bool,
    /// What the peer said it holds in Hello: what it will send this side.
    peer_hello: BTreeMap<Collection, VersionVector>,
    /// What the peer is known to hold, per collection (from Hello and Acks).
    peer_vectors: BTreeMap<Collection, VersionVector>,
    /// Collections with a batch of ours awaiting the peer's Ack.
    in_flight: BTreeSet<Collection>,
    /// Batches received and handed to the driver, not yet acknowledged.
    storing: VecDeque<Collection>,
    /// The hotlist versions this node holds.
    lists: BTreeMap<String, HotlistHead>,
    /// What the peer said it holds in Hello.
    peer_lists: BTreeMap<String, HotlistHead>,
    /// Lists sent and not yet acknowledged.
    lists_in_flight: BTreeSet<String>,
    /// This node's policy heads as of Hello, and whether the peer's matched.
    policy_heads: Vec<[u8; 32]>,
    policy_matched: bool,
    /// When the peer last said anything.
    last_heard: Timestamp,
}

impl SyncSession {
    /// Starts a session with a peer the transport authenticated; `local` is
    /// what this node holds now. Returns the Hello to send.
    pub fn start(
        now: Timestamp,
        role: Role,
        peer: (NodeId, Role),
        holdings: Holdings,
        limits: BatchLimits,
    ) -> (SyncSession, Output) {
        let Holdings {
            vectors: local,
            lists,
            policy_heads,
        } = holdings;
        let hello = SyncMessage::Hello {
            role,
            vectors: local.clone(),
            hotlists: lists.clone(),
            policy: policy_digest(&policy_heads),
        };
        (
            SyncSession {
                role,
                limits,
                local,
                peer,
                introduced: false,
                peer_hello: BTreeMap::new(),
                peer_vectors: BTreeMap::new(),
                in_flight: BTreeSet::new(),
                storing: VecDeque::new(),
                lists,
                peer_lists: BTreeMap::new(),
                lists_in_flight: BTreeSet::new(),
                policy_heads,
                policy_matched: false,
                last_heard: now,
            },
            Output::Send(hello),
        )
    }

    pub fn peer(&self) -> (NodeId, Role) {
        self.peer
    }

    /// Whether nothing is left to send or store in either direction, as far as this side knows.
    pub fn idle(&self) -> bool {
        self.introduced
            && self.storing.is_empty()
            && self.in_flight.is_empty()
            && self.lists_in_flight.is_empty()
            && COLLECTIONS.iter().all(|c| self.next_want(*c).is_none())
    }

    /// Whether the peer's Hello named the same policy heads as this node's.
    pub fn policy_matched(&self) -> bool {
        self.policy_matched
    }

    /// When the session gives up unless the peer says something: set while
    /// the peer owes its Hello or an acknowledgement, else None (an idle
    /// link is the transport's to keep or close).
    pub fn next_timer(&self) -> Option<Timestamp> {
        let owed =
            !self.introduced || !self.in_flight.is_empty() || !self.lists_in_flight.is_empty();
        owed.then(|| self.last_heard.saturating_add_millis(STALL_MS))
    }

    /// When the peer last said anything.
    pub fn last_heard(&self) -> Timestamp {
        self.last_heard
    }

    /// Checks the timer: an error once the peer stalled past it.
    pub fn tick(&self, now: Timestamp) -> Result<(), SyncError> {
        match self.next_timer() {
            Some(at) if now >= at => Err(SyncError::Stalled(now.0 - self.last_heard.0)),
            _ => Ok(()),
        }
    }

    /// Whether this node holds `list` at `head` or newer.
    fn holds(&self, list: &str, head: HotlistHead) -> bool {
        self.lists.get(list).is_some_and(|mine| *mine >= head)
    }

    /// Idle, and this side holds everything the peer held when it said
    /// Hello: a one-shot sync may hang up.
    pub fn in_sync(&self) -> bool {
        self.idle()
            && COLLECTIONS
                .iter()
                .filter(|c| c.may_send_to(self.role))
                .all(|c| {
                    let theirs = self.peer_hello.get(c).cloned().unwrap_or_default();
                    let mine = self.local.get(c).cloned().unwrap_or_default();
                    theirs.lacking(&mine).is_empty()
                })
            && self
                .peer_lists
                .iter()
                .all(|(list, head)| self.holds(list, *head))
    }

    fn next_want(&self, collection: Collection) -> Option<Want> {
        if !self.introduced || !collection.may_send_to(self.peer.1) {
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
    fn pump(
        &mut self,
        collection: Collection,
        source: &impl RecordSource,
        out: &mut Vec<Output>,
    ) -> Result<(), SyncError> {
        if self.in_flight.contains(&collection) {
            return Ok(());
        }
        let Some(want) = self.next_want(collection) else {
            return Ok(());
        };
        let fetched = source
            .fetch(collection, want, self.limits)
            .map_err(SyncError::Source)?;
        let mut records = fetched.records;
        records.retain(|r| r.seq > want.after && r.seq <= want.upto);
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
        let complete = fetched.complete && keep == records.len();
        records.truncate(keep);
        let through = match records.last() {
            _ if complete => want.upto,
            Some(last) => last.seq,
            // Nothing found and not complete: the source broke its contract.
            None => return Err(SyncError::Source("fetch returned nothing".into())),
        };
        self.in_flight.insert(collection);
        out.push(Output::Send(SyncMessage::Batch(Batch {
            collection,
            origin: want.origin,
            after: want.after,
            through,
            certificates: source.certificate(&want.origin).into_iter().collect(),
            records,
        })));
        Ok(())
    }

    fn check_batch(&self, batch: &Batch) -> Result<(), SyncError> {
        if !batch.collection.may_send_to(self.role) {
            return Err(SyncError::WrongDirection {
                collection: batch.collection,
                role: self.role,
            });
        }
        if batch.records.len() > self.limits.records_max {
            return Err(SyncError::BatchTooLarge(batch.records.len()));
        }
        let bad = |reason: String| SyncError::BadRun {
            origin: batch.origin,
            reason,
        };
        if batch.through < batch.after {
            return Err(bad(format!(
                "ends at {} before it starts after {}",
                batch.through, batch.after
            )));
        }
        if batch.certificates.len() > BATCH_CERTIFICATES_MAX {
            return Err(bad(format!(
                "{} certificates attached",
                batch.certificates.len()
            )));
        }
        // A car holds only its own records: it may vouch for no one else's.
        if self.peer.1 == Role::Vehicle && batch.origin != self.peer.0 {
            return Err(bad("a car sent another node's records".into()));
        }
        // A run ends where the sender said it holds up to; a claim past that
        // would mark records as held that nobody sent.
        let claimed = self
            .peer_hello
            .get(&batch.collection)
            .map(|v| v.mark(&batch.origin).contiguous)
            .unwrap_or(0);
        if batch.through > claimed {
            return Err(bad(format!(
                "runs to {} past the {} its Hello claimed",
                batch.through, claimed
            )));
        }
        let mut last = batch.after;
        for r in &batch.records {
            if r.seq <= last || r.seq > batch.through {
                return Err(bad(format!(
                    "seq {} out of order or outside {}..={}",
                    r.seq,
                    batch.after.saturating_add(1),
                    batch.through
                )));
            }
            last = r.seq;
        }
        if self.storing.contains(&batch.collection) {
            return Err(SyncError::Overlapping(batch.collection));
        }
        Ok(())
    }

    /// Handles one message from the peer.
    pub fn receive(
        &mut self,
        now: Timestamp,
        message: SyncMessage,
        source: &impl RecordSource,
    ) -> Result<Vec<Output>, SyncError> {
        self.last_heard = self.last_heard.max(now);
        let mut out = Vec::new();
        match message {
            SyncMessage::Hello {
                role,
                vectors,
                hotlists,
                policy,
            } => {
                if self.introduced {
                    return Err(SyncError::SecondHello);
                }
                if role != self.peer.1 {
                    return Err(SyncError::NotWhoItIs {
                        claimed_role: role,
                        node: self.peer.0,
                        role: self.peer.1,
                    });
                }
                self.introduced = true;
                self.peer_hello = vectors.clone();
                self.peer_vectors = vectors;
                // Hotlists go to every peer, car to car included.
                for (list, mine) in &self.lists {
                    let theirs = hotlists.get(list).copied();
                    if theirs.is_none_or(|t| t < *mine) {
                        self.lists_in_flight.insert(list.clone());
                        out.push(Output::SendHotlist {
                            list: list.clone(),
                            peer_has: theirs,
                        });
                    }
                }
                self.peer_lists = hotlists;
                // Same policy heads: the documents are equal, no sync needed.
                self.policy_matched = policy == policy_digest(&self.policy_heads);
                if !self.policy_matched {
                    out.push(Output::StartPolicySync);
                }
                for c in COLLECTIONS {
                    self.pump(c, source, &mut out)?;
                }
            }
            SyncMessage::Hotlist { list, transfer } => {
                if !self.introduced {
                    return Err(SyncError::NotIntroduced("a hotlist"));
                }
                out.push(Output::StoreHotlist { list, transfer });
            }
            SyncMessage::Policy {
                message,
                signatures,
                certificates,
            } => {
                if !self.introduced {
                    return Err(SyncError::NotIntroduced("a policy message"));
                }
                if signatures.len() > POLICY_SIGNATURES_MAX
                    || certificates.len() > POLICY_SIGNATURES_MAX
                {
                    return Err(SyncError::BatchTooLarge(signatures.len()));
                }
                out.push(Output::Policy {
                    message,
                    signatures,
                    certificates,
                });
            }
            SyncMessage::HotlistAck { list, head: _ } => {
                // The peer holds what was sent, or something newer from
                // elsewhere; either way nothing more is owed. (Its Hello, not
                // its ack, says what this side must hold to be in sync.)
                if !self.lists_in_flight.remove(&list) {
                    return Err(SyncError::UnexpectedHotlistAck(list));
                }
            }
            SyncMessage::Batch(batch) => {
                if !self.introduced {
                    return Err(SyncError::NotIntroduced("a batch"));
                }
                self.check_batch(&batch)?;
                self.storing.push_back(batch.collection);
                out.push(Output::Store(batch));
            }
            SyncMessage::Ack { collection, vector } => {
                if !self.introduced {
                    return Err(SyncError::NotIntroduced("an ack"));
                }
                if !self.in_flight.remove(&collection) {
                    return Err(SyncError::UnexpectedAck(collection));
                }
                self.peer_vectors.insert(collection, vector);
                self.pump(collection, source, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The driver verified and keeps `list` at `head` (or kept a newer
    /// version it already held): acknowledges it.
    pub fn hotlist_stored(&mut self, list: String, head: HotlistHead) -> Vec<Output> {
        let held = self.lists.entry(list.clone()).or_insert(head);
        if head > *held {
            *held = head;
        }
        vec![Output::Send(SyncMessage::HotlistAck { list, head: *held })]
    }

    /// The driver stored a batch it was handed; `local` is the collection's
    /// vector now. Acknowledges it, and sends on if this side now holds more
    /// than the peer.
    pub fn stored(
        &mut self,
        collection: Collection,
        local: VersionVector,
        source: &impl RecordSource,
    ) -> Result<Vec<Output>, SyncError> {
        let mut out = Vec::new();
        if let Some(at) = self.storing.iter().position(|c| *c == collection) {
            self.storing.remove(at);
        }
        self.local.insert(collection, local.clone());
        out.push(Output::Send(SyncMessage::Ack {
            collection,
            vector: local,
        }));
        self.pump(collection, source, &mut out)?;
        Ok(out)
    }
}

/// Version vectors on the wire: each origin once in a table, then per
/// collection (index into the table, mark) pairs. The same origins recur
/// across collections (a car's reads and its audit events), and a Hello is
/// sent at every meeting, so each repeated 32-byte id saved counts.
mod compact_vectors {
    use super::{BTreeMap, Collection, Mark, NodeId, VersionVector};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        origins: Vec<NodeId>,
        collections: Vec<(Collection, Vec<(u32, Mark)>)>,
    }

    pub fn serialize<S: Serializer>(
        vectors: &BTreeMap<Collection, VersionVector>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut origins: Vec<NodeId> = Vec::new();
        let mut index = BTreeMap::new();
        let mut collections = Vec::with_capacity(vectors.len());
        for (collection, vector) in vectors {
            let mut marks = Vec::with_capacity(vector.0.len());
            for (origin, mark) in &vector.0 {
                let i = *index.entry(*origin).or_insert_with(|| {
                    origins.push(*origin);
                    origins.len() as u32 - 1
                });
                marks.push((i, *mark));
            }
            collections.push((*collection, marks));
        }
        Wire {
            origins,
            collections,
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<Collection, VersionVector>, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        let mut out = BTreeMap::new();
        for (collection, marks) in wire.collections {
            let mut vector = VersionVector::default();
            for (i, mark) in marks {
                let origin = wire.origins.get(i as usize).ok_or_else(|| {
                    D::Error::custom(format!("origin index {i} outside the table"))
                })?;
                vector.0.insert(*origin, mark);
            }
            out.insert(collection, vector);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_digest_tells_documents_apart_in_any_head_order() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(policy_digest(&[]), [0; 16]);
        assert_eq!(policy_digest(&[a, b]), policy_digest(&[b, a]));
        assert_ne!(policy_digest(&[a]), policy_digest(&[a, b]));
        assert_ne!(policy_digest(&[a]), [0; 16]);
    }

    #[test]
    fn compact_vectors_round_trip_and_refuse_an_index_outside_the_table() {
        let a = NodeId([1; 32]);
        let b = NodeId([2; 32]);
        let mark = |n| Mark {
            contiguous: n,
            floor: 0,
        };
        let mut vectors = BTreeMap::new();
        vectors.insert(Collection::Reads, VersionVector([(a, mark(5))].into()));
        vectors.insert(
            Collection::AuditEvents,
            VersionVector([(a, mark(7)), (b, mark(9))].into()),
        );
        let hello = SyncMessage::Hello {
            role: Role::Station,
            vectors,
            hotlists: BTreeMap::new(),
            policy: [0; 16],
        };
        let bytes = postcard::to_allocvec(&hello).expect("encode");
        // Each origin once: two ids, not three.
        assert!(bytes.len() < 2 * 32 + 32 + 16, "{} bytes", bytes.len());
        let back: SyncMessage = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back, hello);

        // Swap the first mark's index (0) for one past the table.
        let wire =
            postcard::to_allocvec(&(vec![a], vec![(Collection::Reads, vec![(1u32, mark(5))])]))
                .expect("encode");
        // postcard reports custom errors without their text; the frame is
        // refused as malformed either way.
        compact_vectors::deserialize(&mut postcard::Deserializer::from_bytes(&wire))
            .expect_err("index 1 with a one-origin table");
    }
}
