//! The node's half of one meeting with a peer, without a transport: the
//! sans-IO [`SyncSession`] from `alpr_protocol::replicate` plus what only
//! the node can do with its outputs (verify a batch, check each image
//! against its read, store, accept a hotlist, merge policy). A driver moves
//! frames: it hands each received message to [`Replica::receive`] and
//! sends what [`Replica::poll_transmit`] returns until it returns None. The
//! QUIC driver (`replication.rs`) does this on a blocking thread; tests and
//! the simulator pair two replicas in memory.
//!
//! Every record is checked before it is stored: envelope, agency
//! certificate of its origin (valid at the record's time, not revoked),
//! signature, seal, that it is the seq the batch says, for a read that each
//! image is the one it commits to, and for audit events that the hash chain
//! links. One bad record refuses the whole batch.

pub mod hotlists;

use std::collections::{BTreeMap, VecDeque};

use alpr_protocol::envelope::envelope_hash;
use alpr_protocol::replicate::{
    Batch, BatchLimits, COLLECTIONS, Collection, Fetched, Holdings, Output, RecordSource,
    SyncError, SyncMessage, SyncSession, VersionVector, Want,
};
use alpr_protocol::{
    AgencyId, CertificateError, ImageKind, NodeId, SignedCertificate, Timestamp, Trust,
    VerifiedAuditEvent, VerifiedCertificate, VerifiedImage, VerifiedRead,
};

use super::{Engine, PolicyPeer};
use crate::store::{RecordId, Run, StoreError};

/// Why a peer is not met at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    #[error("its enrollment: {0}")]
    Enrollment(#[from] CertificateError),
    #[error("node '{name}' ({node}) is revoked")]
    Revoked { name: String, node: NodeId },
}

/// The check both sides run on the other's enrollment before a meeting:
/// it verifies under this agency's key, is valid at `now`, and names a
/// node that is not revoked. The QUIC driver runs it inside the handshake
/// (after matching the TLS key to the enrollment), the simulator before
/// each meeting, so both refuse the same peers.
pub fn admit(
    agency: AgencyId,
    revoked: &super::Revoked,
    enrollment: &SignedCertificate,
    now: Timestamp,
) -> Result<VerifiedCertificate, Refused> {
    let verified = enrollment.verify(agency)?;
    verified.check_valid_at(now)?;
    let c = verified.certificate();
    // A poisoned lock refuses: a node that cannot read its revocations
    // must not guess that a peer is not among them.
    let is_revoked = revoked.read().map(|r| r.contains(&c.node)).unwrap_or(true);
    if is_revoked {
        return Err(Refused::Revoked {
            name: c.name.clone(),
            node: c.node,
        });
    }
    Ok(verified)
}

/// Why a meeting ended early, as the node's half of it sees.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("peer sent a bad record: {0}")]
    BadRecord(String),
    /// The origin signed two different records at one place in its
    /// history: one enrollment runs on two machines.
    #[error(
        "{} {}/{seq} differs from the one stored here, both signed by that node: two machines share its enrollment; revoke it",
        collection.name(),
        origin.short()
    )]
    Forked {
        collection: Collection,
        origin: NodeId,
        seq: u64,
    },
    #[error("this node's store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Sync(SyncError),
}

impl From<SyncError> for ReplicaError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Source(m) => ReplicaError::Store(StoreError::Corrupt(m)),
            other => ReplicaError::Sync(other),
        }
    }
}

impl From<super::AccessError> for ReplicaError {
    fn from(e: super::AccessError) -> Self {
        match e {
            super::AccessError::Store(s) => ReplicaError::Store(s),
            other => ReplicaError::BadRecord(other.to_string()),
        }
    }
}

/// The store as the core's record source.
struct Source<'a>(&'a Engine);

impl RecordSource for Source<'_> {
    fn fetch(
        &self,
        collection: Collection,
        want: Want,
        limits: BatchLimits,
    ) -> Result<Fetched, String> {
        self.0
            .node()
            .store
            .fetch(collection, want, limits)
            .map_err(|e| e.to_string())
    }

    fn certificate(&self, origin: &NodeId) -> Option<SignedCertificate> {
        self.0
            .node()
            .trust
            .certificate(origin)
            .map(|c| c.signed().clone())
    }
}

/// What one meeting moved, for logs, the CLI, benchmarks and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSummary {
    pub sent: BTreeMap<Collection, u64>,
    pub received: BTreeMap<Collection, u64>,
    /// New records stored (received minus ones already held).
    pub stored: BTreeMap<Collection, u64>,
    /// Whether the peer's policy changes were merged into this node's.
    pub policy_changed: bool,
    /// Hotlists sent and received (list name, version).
    pub hotlists_sent: Vec<String>,
    pub hotlists_received: Vec<(String, u64)>,
    /// Records of revoked nodes the peer offered, refused and not stored.
    pub revoked_refused: u64,
}

/// What the replica still has to carry out.
#[derive(Debug)]
enum Pending {
    Core(Output),
    Checked(Box<CheckDone>),
    CheckFailed(ReplicaError),
}

/// Work taken out of the engine to check without it ([`Replica::take_check`]):
/// a batch of records, or a hotlist version received whole.
#[derive(Debug)]
pub enum Check {
    Batch(BatchCheck),
    Hotlist(hotlists::HotlistCheck),
}

/// Checked work, to commit under the engine ([`Replica::checked`]).
#[derive(Debug)]
pub enum CheckDone {
    Batch(CheckedBatch),
    Hotlist(hotlists::CheckedHotlist),
}

impl Check {
    /// Runs the check; `link` gives the hash of this node's stored audit
    /// event of the batch's origin at a seq (unused for a hotlist).
    pub fn run(
        self,
        link: impl Fn(u64) -> Result<Option<[u8; 32]>, StoreError>,
    ) -> Result<CheckDone, ReplicaError> {
        match self {
            Check::Batch(b) => b.run(link).map(CheckDone::Batch),
            Check::Hotlist(h) => h.run().map(CheckDone::Hotlist),
        }
    }

    /// The origin whose audit chain `link` is asked about.
    pub fn origin(&self) -> NodeId {
        match self {
            Check::Batch(b) => b.origin(),
            Check::Hotlist(h) => h.author(),
        }
    }
}

/// One meeting with one peer.
#[derive(Debug)]
pub struct Replica {
    session: SyncSession,
    policy: PolicyPeer,
    incoming: hotlists::Incoming,
    /// Settled once Hello shows equal heads, or the automerge sync ends.
    policy_settled: bool,
    /// Outputs of the core not yet carried out, in order (a batch checked
    /// outside the engine waits here as its result).
    pending: VecDeque<Pending>,
    /// A list going out chunk by chunk, each read from the store when sent:
    /// the plan and the next chunk's index.
    sending: Option<(hotlists::ChunkPlan, u32)>,
    summary: ReplicaSummary,
    /// Runs of revoked nodes the peer sent in this meeting and this node
    /// refused, by collection and origin: the highest seq sent. Acked as
    /// taken, so a peer that has not heard of the revocation yet stops
    /// sending them and the meeting goes on to carry the revocation to it.
    refused: BTreeMap<(Collection, NodeId), u64>,
}

impl Replica {
    /// Starts a meeting with the peer whose certificate the transport
    /// proved; the Hello is the first message [`Replica::poll_transmit`] gives.
    pub fn start(
        engine: &mut Engine,
        now: Timestamp,
        peer: &VerifiedCertificate,
        limits: BatchLimits,
    ) -> Result<Replica, ReplicaError> {
        let c = peer.certificate();
        // Remember who we met: their records and lists then verify here,
        // and an Administrator can name them (to revoke one, say).
        if engine.node().trust.certificate(&c.node).is_none() {
            engine.learn_certificate(peer.clone())?;
        }
        engine.meeting_started(now, c.node);
        let role = engine.node().certificate.certificate().role;
        let vectors = vectors(engine)?;
        engine.peers.started(now, c.node, c.role, &vectors);
        let holdings = Holdings {
            vectors,
            lists: engine
                .node()
                .store
                .hotlists()?
                .into_iter()
                .map(|(name, held)| (name, held.head))
                .collect(),
            policy_heads: engine.policy_heads(),
        };
        let (session, hello) = SyncSession::start(now, role, (c.node, c.role), holdings, limits);
        Ok(Replica {
            session,
            policy: PolicyPeer::default(),
            incoming: hotlists::Incoming::default(),
            policy_settled: false,
            pending: VecDeque::from([Pending::Core(hello)]),
            sending: None,
            summary: ReplicaSummary::default(),
            refused: BTreeMap::new(),
        })
    }

    /// Takes one message from the peer; what it calls for is carried out by
    /// the next [`Replica::poll_transmit`] calls.
    pub fn receive(
        &mut self,
        engine: &mut Engine,
        now: Timestamp,
        message: SyncMessage,
    ) -> Result<(), ReplicaError> {
        // Kept for the peers view only once the session took the Hello.
        let hello = match &message {
            SyncMessage::Hello { vectors, .. } => Some(vectors.clone()),
            _ => None,
        };
        let outs = self.session.receive(now, message, &Source(engine))?;
        if let Some(vectors) = hello {
            let own_role = engine.node().certificate.certificate().role;
            engine
                .peers
                .said(now, self.session.peer().0, own_role, &vectors);
        }
        self.pending.extend(outs.into_iter().map(Pending::Core));
        Ok(())
    }

    /// When the next thing to carry out is storing a batch or keeping a
    /// hotlist version received whole, takes its costly check out of the
    /// engine ([`Check::run`]); its result goes back with
    /// [`Replica::checked`], in its place. Work not taken is checked inline
    /// by `poll_transmit`. A hotlist chunk that does not complete its
    /// version is kept here (cheap) and gives no work.
    pub fn take_check(&mut self, engine: &Engine) -> Option<Check> {
        let taken = match self.pending.pop_front() {
            Some(Pending::Core(Output::Store(batch))) if is_revoked(engine, &batch.origin) => {
                // Nothing to check: refused where it is carried out.
                self.pending.push_front(Pending::Core(Output::Store(batch)));
                return None;
            }
            Some(Pending::Core(Output::Store(batch))) => {
                prepare_batch(engine, batch).map(|job| Some(Check::Batch(job)))
            }
            Some(Pending::Core(Output::StoreHotlist { list, transfer })) => self
                .incoming
                .accept(engine, list, transfer)
                .map(|job| job.map(Check::Hotlist)),
            Some(other) => {
                // Nothing to check: left where it was.
                self.pending.push_front(other);
                return None;
            }
            None => return None,
        };
        taken.unwrap_or_else(|e| {
            self.pending.push_front(Pending::CheckFailed(e));
            None
        })
    }

    /// The result of work taken with [`Replica::take_check`].
    pub fn checked(&mut self, result: Result<CheckDone, ReplicaError>) {
        self.pending.push_front(match result {
            Ok(c) => Pending::Checked(Box::new(c)),
            Err(e) => Pending::CheckFailed(e),
        });
    }

    /// The next message to send, after carrying out (in order) the core's
    /// outputs before it: storing a batch, accepting a hotlist, merging
    /// policy. None once nothing is to be sent until the peer speaks.
    pub fn poll_transmit(
        &mut self,
        engine: &mut Engine,
        now: Timestamp,
    ) -> Result<Option<SyncMessage>, ReplicaError> {
        loop {
            if let Some((plan, next)) = &mut self.sending {
                let message = hotlists::chunk(engine, plan, *next)?;
                *next += 1;
                if *next >= plan.chunks {
                    self.summary.hotlists_sent.push(plan.list().to_string());
                    self.sending = None;
                }
                return Ok(Some(message));
            }
            let out = match self.pending.pop_front() {
                None => return Ok(None),
                Some(Pending::Core(out)) => out,
                Some(Pending::Checked(c)) => {
                    match *c {
                        CheckDone::Batch(b) => self.stored(engine, b, now)?,
                        CheckDone::Hotlist(h) => self.kept(engine, h)?,
                    }
                    continue;
                }
                Some(Pending::CheckFailed(e)) => return Err(check_failed(engine, now, e)),
            };
            match out {
                Output::Send(message) => {
                    if let SyncMessage::Batch(b) = &message {
                        *self.summary.sent.entry(b.collection).or_default() +=
                            b.records.len() as u64;
                    }
                    return Ok(Some(message));
                }
                Output::SendHotlist { list, peer_has } => {
                    match hotlists::outgoing(engine, &list, peer_has)? {
                        hotlists::Plan::Delta(message) => {
                            self.summary.hotlists_sent.push(list);
                            return Ok(Some(*message));
                        }
                        hotlists::Plan::Chunks(plan) => self.sending = Some((*plan, 0)),
                    }
                }
                Output::StoreHotlist { list, transfer } => {
                    // Not taken for checking outside: checked here.
                    if let Some(job) = self.incoming.accept(engine, list, transfer)? {
                        let checked = job.run()?;
                        self.kept(engine, checked)?;
                    }
                }
                Output::StartPolicySync => {
                    let first = engine.policy_outgoing(&mut self.policy);
                    self.pending
                        .extend(first.map(|m| Pending::Core(Output::Send(m))));
                }
                Output::Policy {
                    message,
                    signatures,
                    certificates,
                } => {
                    let changed = engine
                        .policy_incoming(&mut self.policy, &message, signatures, certificates)
                        .map_err(ReplicaError::BadRecord)?;
                    let reply = engine.policy_outgoing(&mut self.policy);
                    // Same heads: the reply (if any) only tells the peer
                    // so; nothing more will come.
                    self.policy_settled = engine.policy_settled(&self.policy);
                    self.summary.policy_changed |= changed;
                    self.pending
                        .extend(reply.map(|m| Pending::Core(Output::Send(m))));
                }
                Output::Store(batch) if is_revoked(engine, &batch.origin) => {
                    self.refuse_revoked(engine, &batch)?;
                }
                Output::Store(batch) => {
                    // Not taken for checking outside: checked here.
                    let checked = prepare_batch(engine, batch).and_then(|job| {
                        let store = &engine.node().store;
                        let origin = job.origin();
                        job.run(|seq| audit_link(store, origin, seq))
                    });
                    match checked {
                        Ok(c) => self.stored(engine, c, now)?,
                        Err(e) => return Err(check_failed(engine, now, e)),
                    }
                }
            }
        }
    }

    /// Keeps a checked hotlist version and tells the core.
    fn kept(
        &mut self,
        engine: &mut Engine,
        c: hotlists::CheckedHotlist,
    ) -> Result<(), ReplicaError> {
        let (list, head) = c.commit(engine)?;
        self.summary
            .hotlists_received
            .push((list.clone(), head.version));
        self.pending.extend(
            self.session
                .hotlist_stored(list, head)
                .into_iter()
                .map(Pending::Core),
        );
        Ok(())
    }

    /// Commits a checked batch and tells the core.
    fn stored(
        &mut self,
        engine: &mut Engine,
        c: CheckedBatch,
        now: Timestamp,
    ) -> Result<(), ReplicaError> {
        let collection = c.batch.collection;
        let (received, added) = commit_batch(engine, c, now)?;
        let vector = self.acked_vector(engine, collection)?;
        *self.summary.received.entry(collection).or_default() += received;
        *self.summary.stored.entry(collection).or_default() += added;
        let outs = self.session.stored(collection, vector, &Source(engine))?;
        self.pending.extend(outs.into_iter().map(Pending::Core));
        Ok(())
    }

    /// Refuses a batch of a revoked node: nothing of it is stored, and the
    /// ack says the run was taken. A peer that has not heard of the
    /// revocation offers such records (this node's Hello leaves revoked
    /// nodes out); ending the meeting on them would also stop the policy
    /// sync that brings it the revocation, and the two would never meet
    /// again.
    fn refuse_revoked(&mut self, engine: &mut Engine, batch: &Batch) -> Result<(), ReplicaError> {
        let key = (batch.collection, batch.origin);
        let through = self
            .refused
            .get(&key)
            .copied()
            .unwrap_or(0)
            .max(batch.through);
        self.refused.insert(key, through);
        self.summary.revoked_refused += batch.records.len() as u64;
        let vector = self.acked_vector(engine, batch.collection)?;
        let outs = self
            .session
            .stored(batch.collection, vector, &Source(engine))?;
        self.pending.extend(outs.into_iter().map(Pending::Core));
        Ok(())
    }

    /// The vector this side acks and sends from: what it holds, less
    /// revoked nodes' records (never offered: the peer would refuse them),
    /// plus the runs of revoked nodes refused in this meeting.
    fn acked_vector(
        &self,
        engine: &Engine,
        collection: Collection,
    ) -> Result<VersionVector, StoreError> {
        let mut v = without_revoked(engine, engine.node().store.vector(collection)?);
        for ((c, origin), through) in &self.refused {
            if *c == collection {
                v.0.insert(
                    *origin,
                    alpr_protocol::replicate::Mark {
                        contiguous: *through,
                        floor: 0,
                    },
                );
            }
        }
        Ok(v)
    }

    /// Both sides hold what the other had when they met, policy included,
    /// and nothing is left to carry out.
    pub fn in_sync(&mut self) -> bool {
        if self.session.policy_matched() {
            self.policy_settled = true;
        }
        self.pending.is_empty()
            && self.sending.is_none()
            && self.session.in_sync()
            && self.policy_settled
    }

    /// When the peer owes an answer by, if it does.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.session.next_timer()
    }

    pub fn last_heard(&self) -> Timestamp {
        self.session.last_heard()
    }

    /// Checks the session's timers at `now`: an error once the peer stalled.
    pub fn tick(&mut self, now: Timestamp) -> Result<(), ReplicaError> {
        Ok(self.session.tick(now)?)
    }

    pub fn summary(&self) -> &ReplicaSummary {
        &self.summary
    }
}

/// What this node holds, less revoked nodes' records: offering them would
/// only get each batch refused and the meeting ended.
pub(super) fn vectors(engine: &Engine) -> Result<BTreeMap<Collection, VersionVector>, StoreError> {
    COLLECTIONS
        .iter()
        .map(|c| Ok((*c, without_revoked(engine, engine.node().store.vector(*c)?))))
        .collect()
}

/// A batch whose every record verified, ready to store.
#[derive(Debug)]
enum Checked {
    Reads {
        reads: Vec<VerifiedRead>,
        images: Vec<VerifiedImage>,
    },
    Audit {
        events: Vec<VerifiedAuditEvent>,
        starts_after: Option<(u64, [u8; 32])>,
    },
    Alerts {
        records: Vec<alpr_protocol::VerifiedAlertRecord>,
    },
}

/// Verifies every record of a batch against `trust` (to which the batch's
/// certificates were added if they verify), or names the first bad one.
fn check_batch(
    trust: &Trust,
    me: NodeId,
    batch: &Batch,
    audit_link: impl Fn(u64) -> Result<Option<[u8; 32]>, StoreError>,
    audit_empty: bool,
) -> Result<Checked, ReplicaError> {
    let bad = |seq: u64, reason: String| {
        ReplicaError::BadRecord(format!(
            "{} {}/{}: {reason}",
            batch.collection.name(),
            batch.origin.short(),
            seq
        ))
    };
    if batch.origin == me {
        return Err(bad(
            batch.after.saturating_add(1),
            "this node's own records cannot come from a peer".into(),
        ));
    }
    let header_ok = |seq: u64, origin: NodeId, found: u64| {
        if origin != batch.origin || found != seq {
            Err(bad(
                seq,
                format!(
                    "envelope says {}/{found}, not the seq the batch lists",
                    origin.short()
                ),
            ))
        } else {
            Ok(())
        }
    };
    match batch.collection {
        Collection::Reads => {
            let mut reads = Vec::with_capacity(batch.records.len());
            let mut images = Vec::new();
            for r in &batch.records {
                let read = trust
                    .open_read(&r.envelope)
                    .map_err(|e| bad(r.seq, e.to_string()))?;
                header_ok(r.seq, read.read().origin, read.read().seq)?;
                let mut seen = (false, false);
                for bytes in &r.images {
                    let image = trust
                        .open_image(&bytes.0)
                        .map_err(|e| bad(r.seq, format!("image: {e}")))?;
                    let seen_kind = match image.kind {
                        ImageKind::PlateCrop => &mut seen.0,
                        ImageKind::Overview => &mut seen.1,
                    };
                    if !read.read().commits_to(&image) || *seen_kind {
                        return Err(bad(
                            r.seq,
                            format!("{} image is not the one the read commits to", image.kind),
                        ));
                    }
                    *seen_kind = true;
                    images.push(image);
                }
                reads.push(read);
            }
            Ok(Checked::Reads { reads, images })
        }
        Collection::Alerts => {
            let mut records = Vec::with_capacity(batch.records.len());
            for r in &batch.records {
                let record = trust
                    .open_alert(&r.envelope)
                    .map_err(|e| bad(r.seq, e.to_string()))?;
                header_ok(r.seq, record.record().origin, record.record().seq)?;
                if !r.images.is_empty() {
                    return Err(bad(r.seq, "an alert record carries no images".into()));
                }
                records.push(record);
            }
            Ok(Checked::Alerts { records })
        }
        Collection::AuditEvents => {
            let mut events = Vec::with_capacity(batch.records.len());
            let mut starts_after = None;
            let mut prev: Option<[u8; 32]> = None;
            for r in &batch.records {
                let event = trust
                    .open_audit(&r.envelope)
                    .map_err(|e| bad(r.seq, e.to_string()))?;
                header_ok(r.seq, event.event().origin, event.event().seq)?;
                let (link, stored) = match prev {
                    Some(h)
                        if r.seq
                            == events
                                .last()
                                .map_or(0, |e: &VerifiedAuditEvent| e.event().seq)
                                + 1 =>
                    {
                        (Some(h), false)
                    }
                    _ => (audit_link(r.seq.saturating_sub(1))?, true),
                };
                match link {
                    // Validly signed, yet chained to another event than the
                    // one the same origin signed and this node stores.
                    Some(h) if h != event.event().body.prev_hash && stored => {
                        return Err(ReplicaError::Forked {
                            collection: batch.collection,
                            origin: batch.origin,
                            seq: r.seq.saturating_sub(1),
                        });
                    }
                    Some(h) if h != event.event().body.prev_hash => {
                        return Err(bad(
                            r.seq,
                            "broken chain: prev_hash does not match the event before it".into(),
                        ));
                    }
                    Some(_) => {}
                    // The chain's start here: the sender purged what came before.
                    None if events.is_empty()
                        && audit_empty
                        && Some(r.seq) == batch.after.checked_add(1) =>
                    {
                        if batch.after > 0 {
                            starts_after = Some((batch.after, event.event().body.prev_hash));
                        }
                    }
                    None if r.seq == 1 => {}
                    None => {
                        return Err(bad(
                            r.seq,
                            format!(
                                "arrives without event {} to chain to",
                                r.seq.saturating_sub(1)
                            ),
                        ));
                    }
                }
                prev = Some(envelope_hash(&r.envelope));
                events.push(event);
            }
            Ok(Checked::Audit {
                events,
                starts_after,
            })
        }
    }
}

/// `v` less the revoked nodes' marks.
fn without_revoked(engine: &Engine, mut v: VersionVector) -> VersionVector {
    let revoked = engine.revoked();
    // A poisoned lock leaves the vector whole: batches are still refused
    // one by one in `prepare_batch`.
    if let Ok(r) = revoked.read() {
        v.0.retain(|origin, _| !r.contains(origin));
    }
    v
}

/// Whether records of `origin` are refused here.
fn is_revoked(engine: &Engine, origin: &NodeId) -> bool {
    engine
        .revoked()
        .read()
        .map(|r| r.contains(origin))
        .unwrap_or(true)
}

/// A batch taken for checking outside the engine: what checking it needs
/// from the node (trust with the batch's own certificates, this node's id,
/// whether the origin's audit chain starts here), and the batch.
#[derive(Debug)]
pub struct BatchCheck {
    batch: Batch,
    trust: Trust,
    me: NodeId,
    audit_empty: bool,
    learned: Vec<VerifiedCertificate>,
}

/// A batch whose every record verified, ready to commit.
#[derive(Debug)]
pub struct CheckedBatch {
    batch: Batch,
    checked: Checked,
    learned: Vec<VerifiedCertificate>,
}

impl BatchCheck {
    /// Checks every record: signatures, seals, images against their reads,
    /// the audit chain (`link` gives the hash of this node's stored event
    /// of the origin at a seq). Needs no engine: the driver runs it without
    /// holding one, so a large batch does not stall searches or captures.
    pub fn run(
        self,
        link: impl Fn(u64) -> Result<Option<[u8; 32]>, StoreError>,
    ) -> Result<CheckedBatch, ReplicaError> {
        let checked = check_batch(&self.trust, self.me, &self.batch, link, self.audit_empty)?;
        Ok(CheckedBatch {
            batch: self.batch,
            checked,
            learned: self.learned,
        })
    }

    pub fn origin(&self) -> NodeId {
        self.batch.origin
    }
}

/// The hash of the stored audit event of `origin` at `seq`, or of the last
/// purged one when the chain's floor is there.
pub fn audit_link(
    store: &crate::store::Store,
    origin: NodeId,
    seq: u64,
) -> Result<Option<[u8; 32]>, StoreError> {
    if seq == 0 {
        return Ok(None);
    }
    if let Some(b) = store.audit_envelope(RecordId { origin, seq })? {
        return Ok(Some(envelope_hash(&b)));
    }
    // Purged here: the floor keeps the last purged event's hash.
    let (floor, hash) = store.audit_floor(origin)?;
    Ok((floor == seq).then_some(hash))
}

/// What checking a batch needs from the node: refused at once when its
/// origin is revoked or a certificate it carries does not verify.
fn prepare_batch(engine: &Engine, batch: Batch) -> Result<BatchCheck, ReplicaError> {
    let revoked = engine
        .revoked()
        .read()
        .map(|r| r.contains(&batch.origin))
        .unwrap_or(true);
    if revoked {
        return Err(ReplicaError::BadRecord(format!(
            "records of revoked node {} are refused",
            batch.origin.short()
        )));
    }
    let mut trust = engine.node().trust.clone();
    let me = engine.node().certificate.certificate().node;
    let audit_empty = engine
        .node()
        .store
        .vector(Collection::AuditEvents)?
        .mark(&batch.origin)
        .wants_after()
        == 0;
    let mut learned = Vec::new();
    for signed in &batch.certificates {
        match signed.verify(trust.agency()) {
            Ok(v) if v.certificate().node == batch.origin => {
                if trust.certificate(&batch.origin).is_none() {
                    learned.push(v.clone());
                    trust
                        .add_certificate(v)
                        .map_err(|e| ReplicaError::BadRecord(e.to_string()))?;
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Err(ReplicaError::BadRecord(format!(
                    "certificate attached to {}'s records: {e}",
                    batch.origin.short()
                )));
            }
        }
    }
    Ok(BatchCheck {
        batch,
        trust,
        me,
        audit_empty,
        learned,
    })
}

/// Stores a checked batch whole; returns (received, new) counts. A record
/// that conflicts with a stored one is a fork, documented and refused.
fn commit_batch(
    engine: &mut Engine,
    c: CheckedBatch,
    now: Timestamp,
) -> Result<(u64, u64), ReplicaError> {
    let batch = &c.batch;
    let run = Run {
        origin: batch.origin,
        after: batch.after,
        through: batch.through,
    };
    let received = batch.records.len() as u64;
    for cert in c.learned {
        engine.learn_certificate(cert)?;
    }
    let store = &engine.node().store;
    let stored = match &c.checked {
        Checked::Reads { reads, images } => store.ingest_reads(reads, images, run),
        Checked::Audit {
            events,
            starts_after,
        } => store.ingest_audit(events, run, *starts_after),
        Checked::Alerts { records } => store.ingest_alerts(records, run),
    };
    match stored {
        Err(StoreError::Conflict { origin, seq }) => {
            Err(forked(engine, now, batch.collection, origin, seq))
        }
        Err(e) => Err(e.into()),
        Ok(added) => {
            if let Checked::Alerts { records } = &c.checked
                && added > 0
            {
                engine.publish_alerts(records);
            }
            Ok((received, added as u64))
        }
    }
}

/// A check's failure as the replica reports it: a fork is documented first.
fn check_failed(engine: &mut Engine, now: Timestamp, e: ReplicaError) -> ReplicaError {
    match e {
        ReplicaError::Forked {
            collection,
            origin,
            seq,
        } => forked(engine, now, collection, origin, seq),
        other => other,
    }
}

/// Two validly signed, different records at one place in an origin's
/// history: two machines run one enrollment. Documented in the audit log
/// (it reaches every station) before the batch is refused.
fn forked(
    engine: &mut Engine,
    now: Timestamp,
    collection: Collection,
    origin: NodeId,
    seq: u64,
) -> ReplicaError {
    if let Err(err) = engine.flag_cloned_identity(now, origin, seq, collection) {
        tracing::error!(origin = %origin.short(), seq, %err, "could not document a cloned node");
    }
    ReplicaError::Forked {
        collection,
        origin,
        seq,
    }
}
