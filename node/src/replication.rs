//! The replication driver: QUIC (quinn on tokio) around the sans-IO core in
//! `alpr_protocol::replicate`.
//!
//! One bidirectional stream per connection carries length-prefixed postcard
//! [`SyncMessage`]s. The loop reads one message, lets the core decide, and
//! carries out its outputs; a batch is verified and committed before the next
//! message is read, so a slow disk slows the peer (QUIC flow control) instead
//! of growing a queue. Memory per connection is bounded by one batch in each
//! direction plus a writer queue of [`WRITE_QUEUE`] messages.
//!
//! Every record is checked before it is stored: envelope, agency certificate
//! of its origin (valid at the record's time, not revoked), signature, seal,
//! that it is the seq the batch says, for a read that each image is the one
//! it commits to, and for audit events that the hash chain links. One bad
//! record refuses the whole batch and ends the connection, with the reason
//! logged on this side and sent to the peer in the close frame; the node
//! keeps serving other peers.

pub mod hotlists;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alpr_protocol::control::{decode_frame, encode_frame};
use alpr_protocol::envelope::envelope_hash;
use alpr_protocol::replicate::{
    Batch, BatchLimits, COLLECTIONS, Collection, Fetched, Holdings, HotlistHead, Output,
    RecordSource, SYNC_FRAME_BYTES_MAX, SyncError, SyncMessage, SyncSession, VersionVector, Want,
};
use alpr_protocol::{
    ImageKind, NodeId, Role, SignedCertificate, Timestamp, Trust, VerifiedAuditEvent,
    VerifiedImage, VerifiedRead,
};

use crate::engine::{Engine, PolicyPeer};
use crate::store::{RecordId, Run, StoreError};
use tls::{Peer, PeerCheck, Refusal};

/// How long a served peer may stay connected without saying anything.
const SERVE_IDLE_MS: i64 = 300_000;

/// How long a dial waits for the handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// UDP socket buffers asked of the kernel.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// Messages waiting for the network, per connection.
const WRITE_QUEUE: usize = 4;

/// Why a sync ended early.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("cannot reach {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("peer refused in the handshake: {0}")]
    Refused(#[from] Refusal),
    #[error("connection lost: {0}")]
    Connection(String),
    #[error("peer ended the sync: {0}")]
    PeerClosed(String),
    #[error("peer broke the protocol: {0}")]
    Protocol(String),
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
    #[error("the engine stopped after an internal error")]
    EnginePoisoned,
}

impl From<SyncError> for SyncFailure {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Source(m) => SyncFailure::Store(StoreError::Corrupt(m)),
            other => SyncFailure::Protocol(other.to_string()),
        }
    }
}

/// What one sync moved, for logs, the CLI and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub peer: Option<(NodeId, String)>,
    pub sent: BTreeMap<Collection, u64>,
    pub received: BTreeMap<Collection, u64>,
    /// New records stored (received minus ones already held).
    pub stored: BTreeMap<Collection, u64>,
    pub wire_tx: u64,
    pub wire_rx: u64,
    /// Packets this side sent, and of those, lost and sent again.
    pub packets_sent: u64,
    pub packets_lost: u64,
    pub mtu_probes: u64,
    /// From the connection's start until this side was in sync (or the peer hung up).
    pub elapsed: Duration,
    /// Whether the peer's policy changes were merged into this node's.
    pub policy_changed: bool,
    /// Hotlists sent and received (list name, version).
    pub hotlists_sent: Vec<String>,
    pub hotlists_received: Vec<(String, u64)>,
}

/// A callback shown the running totals (a progress bar).
pub type Progress = Arc<dyn Fn(&SyncSummary) + Send + Sync>;

/// What the driver needs from the node, shared by every connection.
#[derive(Clone)]
pub struct Local {
    pub engine: Arc<Mutex<Engine>>,
    pub check: PeerCheck,
    pub limits: BatchLimits,
    /// Called with the running totals after every batch (progress bars).
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("limits", &self.limits)
            .finish()
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

impl Local {
    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, SyncFailure> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| SyncFailure::EnginePoisoned)?;
        Ok(f(&mut engine))
    }

    fn me(&self) -> Result<(NodeId, Role), SyncFailure> {
        self.with_engine(|e| {
            let c = e.node().certificate.certificate();
            (c.node, c.role)
        })
    }

    fn lists(&self) -> Result<BTreeMap<String, HotlistHead>, SyncFailure> {
        Ok(self
            .with_engine(|e| e.node().store.hotlists())??
            .into_iter()
            .map(|(name, held)| (name, held.head))
            .collect())
    }

    /// What this node holds, less revoked nodes' records: offering them
    /// would only get each batch refused and the meeting ended.
    fn vectors(&self) -> Result<BTreeMap<Collection, VersionVector>, SyncFailure> {
        let revoked = self
            .check
            .revoked
            .read()
            .map(|r| r.clone())
            .unwrap_or_default();
        self.with_engine(|e| {
            COLLECTIONS
                .iter()
                .map(|c| {
                    let mut v = e.node().store.vector(*c)?;
                    v.0.retain(|origin, _| !revoked.contains(origin));
                    Ok((*c, v))
                })
                .collect::<Result<BTreeMap<_, _>, StoreError>>()
        })?
        .map_err(SyncFailure::from)
    }
}

/// A batch whose every record verified, ready to store.
enum Checked {
    Reads {
        reads: Vec<VerifiedRead>,
        images: Vec<VerifiedImage>,
    },
    Audit {
        events: Vec<VerifiedAuditEvent>,
        starts_after: Option<(u64, [u8; 32])>,
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
) -> Result<Checked, SyncFailure> {
    let bad = |seq: u64, reason: String| {
        SyncFailure::BadRecord(format!(
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
                    let body = &read.read().body;
                    let (reference, seen_kind) = match image.kind {
                        ImageKind::PlateCrop => (body.crop, &mut seen.0),
                        ImageKind::Overview => (body.overview, &mut seen.1),
                    };
                    let matches = image.origin == read.read().origin
                        && image.seq == read.read().seq
                        && image.captured_at == read.read().captured_at
                        && reference.is_some_and(|rf| rf.matches(&image.jpeg));
                    if !matches || *seen_kind {
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
                        return Err(SyncFailure::Forked {
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

/// Verifies and stores one batch; returns (received, new) counts.
fn store_batch(
    local: &Local,
    batch: &Batch,
    clock: fn() -> Timestamp,
) -> Result<(u64, u64), SyncFailure> {
    let (mut trust, me, audit_empty) = local.with_engine(|e| {
        let vector = e.node().store.vector(Collection::AuditEvents);
        (
            e.node().trust.clone(),
            e.node().certificate.certificate().node,
            vector.map(|v| v.mark(&batch.origin).wants_after() == 0),
        )
    })?;
    let audit_empty = audit_empty?;
    let revoked = local
        .check
        .revoked
        .read()
        .map(|r| r.contains(&batch.origin))
        .unwrap_or(true);
    if revoked {
        return Err(SyncFailure::BadRecord(format!(
            "records of revoked node {} are refused",
            batch.origin.short()
        )));
    }
    let mut learned = Vec::new();
    for signed in &batch.certificates {
        match signed.verify(trust.agency()) {
            Ok(v) if v.certificate().node == batch.origin => {
                if trust.certificate(&batch.origin).is_none() {
                    learned.push(v.clone());
                    trust
                        .add_certificate(v)
                        .map_err(|e| SyncFailure::BadRecord(e.to_string()))?;
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Err(SyncFailure::BadRecord(format!(
                    "certificate attached to {}'s records: {e}",
                    batch.origin.short()
                )));
            }
        }
    }
    let checked = {
        let engine = Arc::clone(&local.engine);
        let origin = batch.origin;
        let link = move |seq: u64| -> Result<Option<[u8; 32]>, StoreError> {
            if seq == 0 {
                return Ok(None);
            }
            let e = engine
                .lock()
                .map_err(|_| StoreError::Corrupt("engine poisoned".into()))?;
            let store = &e.node().store;
            if let Some(b) = store.audit_envelope(RecordId { origin, seq })? {
                return Ok(Some(envelope_hash(&b)));
            }
            // Purged here: the floor keeps the last purged event's hash.
            let (floor, hash) = store.audit_floor(origin)?;
            Ok((floor == seq).then_some(hash))
        };
        match check_batch(&trust, me, batch, link, audit_empty) {
            Err(SyncFailure::Forked {
                collection,
                origin,
                seq,
            }) => {
                return Err(forked(local, clock, collection, origin, seq));
            }
            other => other?,
        }
    };
    let run = Run {
        origin: batch.origin,
        after: batch.after,
        through: batch.through,
    };
    let received = batch.records.len() as u64;
    let added = local.with_engine(|e| -> Result<usize, SyncFailure> {
        for cert in learned {
            e.learn_certificate(cert)?;
        }
        let store = &e.node().store;
        let stored = match &checked {
            Checked::Reads { reads, images } => store.ingest_reads(reads, images, run),
            Checked::Audit {
                events,
                starts_after,
            } => store.ingest_audit(events, run, *starts_after),
        };
        match stored {
            Err(StoreError::Conflict { origin, seq }) => Err(SyncFailure::Forked {
                collection: batch.collection,
                origin,
                seq,
            }),
            other => Ok(other?),
        }
    })?;
    let added = match added {
        Err(SyncFailure::Forked {
            collection,
            origin,
            seq,
        }) => return Err(forked(local, clock, collection, origin, seq)),
        other => other?,
    };
    Ok((received, added as u64))
}

/// Two validly signed, different records at one place in an origin's
/// history: two machines run one enrollment. Documented in the audit log
/// (it reaches every station) before the batch is refused.
fn forked(
    local: &Local,
    clock: fn() -> Timestamp,
    collection: Collection,
    origin: NodeId,
    seq: u64,
) -> SyncFailure {
    let flagged = local.with_engine(|e| e.flag_cloned_identity(clock(), origin, seq, collection));
    if !matches!(flagged, Ok(Ok(()))) {
        tracing::error!(origin = %origin.short(), seq, "could not document a cloned node");
    }
    SyncFailure::Forked {
        collection,
        origin,
        seq,
    }
}

/// Whether this side hangs up once in sync (a one-shot `sync`) or serves
/// until the peer does (the daemon's listener).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    OneShot,
    Serve,
}

/// A lost connection, with the peer's reason when it closed it on purpose.
fn lost(e: quinn::ReadExactError) -> SyncFailure {
    use quinn::{ConnectionError, ReadError, ReadExactError};
    match e {
        ReadExactError::ReadError(ReadError::ConnectionLost(
            ConnectionError::ApplicationClosed(close),
        )) => closed_by_peer(&close),
        other => SyncFailure::Connection(other.to_string()),
    }
}

/// The peer's reason when it closed the connection on purpose, waiting a
/// moment for its close to arrive.
async fn peer_reason(connection: &quinn::Connection) -> Option<SyncFailure> {
    let closed = tokio::time::timeout(Duration::from_secs(2), connection.closed()).await;
    match closed {
        Ok(quinn::ConnectionError::ApplicationClosed(close)) => Some(closed_by_peer(&close)),
        _ => None,
    }
}

fn closed_by_peer(close: &quinn::ApplicationClose) -> SyncFailure {
    SyncFailure::PeerClosed(String::from_utf8_lossy(&close.reason).into_owned())
}

async fn read_message(recv: &mut quinn::RecvStream) -> Result<Option<SyncMessage>, SyncFailure> {
    let mut prefix = [0u8; 4];
    match recv.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(lost(e)),
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > SYNC_FRAME_BYTES_MAX {
        return Err(SyncFailure::Protocol(format!(
            "frame of {len} bytes exceeds the {SYNC_FRAME_BYTES_MAX}-byte limit"
        )));
    }
    let mut body = vec![0u8; len];
    recv.read_exact(&mut body).await.map_err(lost)?;
    decode_frame(&body)
        .map(Some)
        .map_err(|e| SyncFailure::Protocol(format!("malformed frame: {e}")))
}

/// Runs replication over an established, authenticated connection.
pub async fn run_connection(
    local: Local,
    connection: quinn::Connection,
    peer: Peer,
    mode: Mode,
    dialed: bool,
    clock: fn() -> Timestamp,
) -> Result<SyncSummary, SyncFailure> {
    let started = std::time::Instant::now();
    let (mut send, mut recv) = if dialed {
        connection.open_bi().await
    } else {
        connection.accept_bi().await
    }
    .map_err(|e| SyncFailure::Connection(e.to_string()))?;

    let (_, role) = local.me()?;
    // Remember who we met: their records and lists then verify here, and an
    // Administrator can name them (to revoke one, say).
    local.with_engine(|e| {
        if e.node().trust.certificate(&peer.node).is_none() {
            e.learn_certificate(peer.certificate.clone())
        } else {
            Ok(())
        }
    })??;
    let vectors = local.vectors()?;
    let lists = local.lists()?;
    let policy_heads = local.with_engine(|e| e.policy_heads())?;
    let (session, hello) = SyncSession::start(
        clock(),
        role,
        (peer.node, peer.role),
        Holdings {
            vectors,
            lists,
            policy_heads,
        },
        local.limits,
    );
    let mut summary = SyncSummary {
        peer: Some((peer.node, peer.name.clone())),
        ..SyncSummary::default()
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel::<SyncMessage>(WRITE_QUEUE);
    let mut writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let frame = encode_frame(&message).map_err(|e| e.to_string())?;
            send.write_all(&frame).await.map_err(|e| e.to_string())?;
        }
        send.finish().map_err(|e| e.to_string())?;
        // Wait until the peer has read everything we sent (or gave up).
        let _ = send.stopped().await;
        Ok::<(), String>(())
    });

    let result = drive(
        &local,
        session,
        hello,
        &tx,
        &mut recv,
        &mut summary,
        mode,
        clock,
    )
    .await;
    // A write can fail on the peer's close before the read that would carry
    // its reason (the station refusing a forged batch): the close says why.
    // Else, when the writer stopped on an error of its own (a message too
    // large to frame, a reset stream), that error is the cause.
    let result = match result {
        Err(SyncFailure::Connection(e)) => {
            let writer_error = if writer.is_finished() {
                match (&mut writer).await {
                    Ok(Err(w)) => Some(format!("sending to the peer failed: {w}")),
                    _ => None,
                }
            } else {
                None
            };
            Err(peer_reason(&connection)
                .await
                .unwrap_or(SyncFailure::Connection(writer_error.unwrap_or(e))))
        }
        other => other,
    };
    drop(tx);
    // A message that could not be written (too large to frame, a reset
    // stream) fails the meeting, or a node would report "in sync" while its
    // records never leave. A slow final acknowledgement does not.
    let result = match result {
        Ok(()) => match tokio::time::timeout(Duration::from_secs(10), writer).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(SyncFailure::Connection(format!(
                "sending to the peer failed: {e}"
            ))),
            Ok(Err(e)) => Err(SyncFailure::Connection(format!(
                "sending to the peer failed: {e}"
            ))),
            // Everything was queued and the peer said it was in sync; only
            // the transport's last acknowledgement is slow (a lossy link).
            Err(_) => {
                tracing::warn!(peer = %peer.name, "the last frames were not acknowledged within 10 s");
                Ok(())
            }
        },
        Err(e) => {
            writer.abort();
            Err(e)
        }
    };
    summary.elapsed = started.elapsed();
    if result.is_ok() {
        // For `status`: when each peer was last met in sync. Best effort: a
        // sync that moved everything is not failed by this note.
        let at = clock();
        let noted = local
            .with_engine(|e| e.node().store.note_meeting(peer.node, at))
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(error) = noted {
            tracing::warn!(peer = %peer.name, %error, "could not note the meeting");
        }
    }
    match &result {
        Ok(()) => {
            // Code 0 is "in sync"; no reason text, it would cross the link at every meeting.
            connection.close(0u32.into(), b"");
        }
        Err(e) => {
            let reason = e.to_string();
            tracing::warn!(peer = %peer.name, %reason, "sync ended");
            let mut r = reason.into_bytes();
            r.truncate(512);
            connection.close(1u32.into(), &r);
        }
    }
    let stats = connection.stats();
    summary.wire_tx = stats.udp_tx.bytes;
    summary.wire_rx = stats.udp_rx.bytes;
    summary.packets_sent = stats.path.sent_packets;
    summary.packets_lost = stats.path.lost_packets;
    summary.mtu_probes = stats.path.sent_plpmtud_probes;
    tracing::debug!(?stats, "connection stats");
    result.map(|()| summary)
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    local: &Local,
    mut session: SyncSession,
    hello: Output,
    tx: &tokio::sync::mpsc::Sender<SyncMessage>,
    recv: &mut quinn::RecvStream,
    summary: &mut SyncSummary,
    mode: Mode,
    clock: fn() -> Timestamp,
) -> Result<(), SyncFailure> {
    let mut policy = PolicyPeer::default();
    let mut pending = vec![hello];
    let mut incoming = hotlists::Incoming::default();
    // Settled once Hello shows equal heads, or the automerge sync ends.
    let mut policy_settled = false;
    loop {
        // Carry out outputs in order; storing may produce more.
        while !pending.is_empty() {
            for out in std::mem::take(&mut pending) {
                match out {
                    Output::Send(message) => {
                        if let SyncMessage::Batch(b) = &message {
                            *summary.sent.entry(b.collection).or_default() +=
                                b.records.len() as u64;
                        }
                        tx.send(message)
                            .await
                            .map_err(|_| SyncFailure::Connection("writer stopped".into()))?;
                    }
                    Output::SendHotlist { list, peer_has } => {
                        let l = local.clone();
                        let name = list.clone();
                        let plan = tokio::task::spawn_blocking(move || {
                            l.with_engine(|e| hotlists::outgoing(e, &name, peer_has))?
                        })
                        .await
                        .map_err(|e| SyncFailure::Connection(e.to_string()))??;
                        match plan {
                            hotlists::Plan::Delta(m) => tx
                                .send(*m)
                                .await
                                .map_err(|_| SyncFailure::Connection("writer stopped".into()))?,
                            hotlists::Plan::Chunks(plan) => {
                                // One chunk read at a time; the bounded writer
                                // queue holds back the next read.
                                let plan = std::sync::Arc::new(*plan);
                                for index in 0..plan.chunks {
                                    let (l, p) = (local.clone(), std::sync::Arc::clone(&plan));
                                    let m = tokio::task::spawn_blocking(move || {
                                        l.with_engine(|e| hotlists::chunk(e, &p, index))?
                                    })
                                    .await
                                    .map_err(|e| SyncFailure::Connection(e.to_string()))??;
                                    tx.send(m).await.map_err(|_| {
                                        SyncFailure::Connection("writer stopped".into())
                                    })?;
                                }
                            }
                        }
                        summary.hotlists_sent.push(list);
                    }
                    Output::StoreHotlist { list, transfer } => {
                        let l = local.clone();
                        let mut inc = std::mem::take(&mut incoming);
                        let name = list.clone();
                        let (inc, held) = tokio::task::spawn_blocking(move || {
                            let held = inc.accept(&l, name, transfer);
                            (inc, held)
                        })
                        .await
                        .map_err(|e| SyncFailure::Connection(e.to_string()))?;
                        incoming = inc;
                        if let Some(head) = held? {
                            summary.hotlists_received.push((list.clone(), head.version));
                            pending.extend(session.hotlist_stored(list, head));
                        }
                    }
                    Output::StartPolicySync => {
                        let first = local.with_engine(|e| e.policy_outgoing(&mut policy))?;
                        pending.extend(first.map(Output::Send));
                    }
                    Output::Policy {
                        message,
                        signatures,
                        certificates,
                    } => {
                        let l = local.clone();
                        let mut peer = std::mem::take(&mut policy);
                        let (peer, result) = tokio::task::spawn_blocking(move || {
                            let result = l.with_engine(|e| {
                                let changed = e.policy_incoming(
                                    &mut peer,
                                    &message,
                                    signatures,
                                    certificates,
                                )?;
                                let reply = e.policy_outgoing(&mut peer);
                                // Same heads: the reply (if any) only tells
                                // the peer so; nothing more will come.
                                let settled = e.policy_settled(&peer);
                                Ok::<_, String>((changed, reply, settled))
                            });
                            (peer, result)
                        })
                        .await
                        .map_err(|e| SyncFailure::Connection(e.to_string()))?;
                        policy = peer;
                        let (changed, reply, settled) = result?.map_err(SyncFailure::BadRecord)?;
                        if changed {
                            summary.policy_changed = true;
                        }
                        policy_settled = settled;
                        pending.extend(reply.map(Output::Send));
                    }
                    Output::Store(batch) => {
                        let collection = batch.collection;
                        let l = local.clone();
                        let (received, added, vector) = tokio::task::spawn_blocking(move || {
                            let (received, added) = store_batch(&l, &batch, clock)?;
                            let vector = l.with_engine(|e| e.node().store.vector(collection))??;
                            Ok::<_, SyncFailure>((received, added, vector))
                        })
                        .await
                        .map_err(|e| SyncFailure::Connection(e.to_string()))??;
                        *summary.received.entry(collection).or_default() += received;
                        *summary.stored.entry(collection).or_default() += added;
                        let l = local.clone();
                        let (s, outs) = tokio::task::spawn_blocking(move || {
                            let outs =
                                l.with_engine(|e| session.stored(collection, vector, &Source(e)))?;
                            Ok::<_, SyncFailure>((session, outs))
                        })
                        .await
                        .map_err(|e| SyncFailure::Connection(e.to_string()))??;
                        session = s;
                        pending.extend(outs?);
                    }
                }
            }
            if let Some(progress) = &local.progress {
                progress(summary);
            }
        }
        if session.policy_matched() {
            policy_settled = true;
        }
        if mode == Mode::OneShot && session.in_sync() && policy_settled {
            return Ok(());
        }
        // Wait for the peer, but not past the session's timer when the peer
        // owes an answer (an idle, settled link is QUIC's to keep alive).
        let read = read_message(recv);
        // A one-shot meeting not yet in sync is owed what the peer's Hello
        // promised; a served peer owes nothing, but may not sit idle forever.
        let deadline = session.next_timer().or_else(|| {
            let after = match mode {
                Mode::OneShot => alpr_protocol::replicate::STALL_MS,
                Mode::Serve => SERVE_IDLE_MS,
            };
            Some(session.last_heard().saturating_add_millis(after))
        });
        let next = match deadline {
            None => read.await?,
            Some(at) => {
                let wait = Duration::from_millis(u64::try_from(at.0 - clock().0).unwrap_or(0));
                match tokio::time::timeout(wait, read).await {
                    Ok(message) => message?,
                    // A read cut short leaves the stream mid-frame: this
                    // connection is over either way.
                    Err(_) => {
                        session.tick(clock())?;
                        return Err(SyncError::Stalled(alpr_protocol::replicate::STALL_MS).into());
                    }
                }
            }
        };
        let Some(message) = next else {
            // The peer finished its side: it is in sync, or gave up.
            return Ok(());
        };
        let now = clock();
        let l = local.clone();
        let (s, outs) = tokio::task::spawn_blocking(move || {
            let outs = l.with_engine(|e| session.receive(now, message, &Source(e)))?;
            Ok::<_, SyncFailure>((session, outs))
        })
        .await
        .map_err(|e| SyncFailure::Connection(e.to_string()))??;
        session = s;
        pending = outs?;
    }
}

/// Dials a peer and syncs until both hold what the other had when they met.
pub async fn sync_with(
    local: &Local,
    endpoint: &quinn::Endpoint,
    client: quinn::ClientConfig,
    addr: SocketAddr,
    clock: fn() -> Timestamp,
) -> Result<SyncSummary, SyncFailure> {
    let connect_err = |reason: String| SyncFailure::Connect { addr, reason };
    let connecting = endpoint
        .connect_with(client, addr, "alpr-node")
        .map_err(|e| connect_err(e.to_string()))?;
    // Nobody listening often means no answer at all: give up well before
    // the idle timeout so a daemon retries soon.
    let connection = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| connect_err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
        .map_err(|e| connect_err(e.to_string()))?;
    let peer = tls::peer_of(&connection, &local.check, clock())?;
    tracing::info!(peer = %peer.name, role = ?peer.role, %addr, "connected");
    run_connection(local.clone(), connection, peer, Mode::OneShot, true, clock).await
}

/// Accepts peers until the endpoint closes; each connection runs on its own
/// task, at most `connections_max` at once.
pub async fn serve(
    local: Local,
    endpoint: quinn::Endpoint,
    connections_max: usize,
    clock: fn() -> Timestamp,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(connections_max));
    while let Some(incoming) = endpoint.accept().await {
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(remote = %incoming.remote_address(), "refused a peer: {connections_max} connected");
            incoming.refuse();
            continue;
        };
        let local = local.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let remote = incoming.remote_address();
            // A slot is held from the first packet: a handshake that does
            // not finish soon gives it back.
            let connection = match tokio::time::timeout(CONNECT_TIMEOUT, incoming).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    tracing::warn!(%remote, err = %e, "handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::warn!(%remote, "handshake did not finish in time");
                    return;
                }
            };
            let peer = match tls::peer_of(&connection, &local.check, clock()) {
                Ok(p) => p,
                Err(refusal) => {
                    tracing::warn!(%remote, %refusal, "refused a peer");
                    connection.close(2u32.into(), refusal.to_string().as_bytes());
                    return;
                }
            };
            match run_connection(local, connection, peer.clone(), Mode::Serve, false, clock).await {
                Ok(s) => tracing::info!(
                    peer = %peer.name,
                    sent = ?s.sent,
                    stored = ?s.stored,
                    "sync done"
                ),
                Err(e) => tracing::warn!(peer = %peer.name, err = %e, "sync failed"),
            }
        });
    }
}

/// Makes a QUIC endpoint bound to `bind` that dials and, if `accept`, accepts.
pub fn endpoint(
    local: &Local,
    bind: SocketAddr,
    accept: bool,
) -> Result<(quinn::Endpoint, quinn::ClientConfig), SyncFailure> {
    let (key, cert) = local.with_engine(|e| {
        (
            e.node().node_key.clone(),
            e.node().certificate.signed().clone(),
        )
    })?;
    let (client, server) =
        tls::configs(&key, &cert, local.check.clone()).map_err(|e| SyncFailure::Connect {
            addr: bind,
            reason: format!("TLS setup: {e}"),
        })?;
    let socket_err = |e: std::io::Error| SyncFailure::Connect {
        addr: bind,
        reason: e.to_string(),
    };
    let socket = std::net::UdpSocket::bind(bind).map_err(socket_err)?;
    // A burst of batches must not overflow the kernel's default UDP buffer
    // while the receiver is verifying: drops cost retransmissions (about a
    // fifth more bytes on the wire when measured). Best effort: the kernel
    // caps it at net.core.rmem_max.
    let sock = socket2::SockRef::from(&socket);
    let _ = sock.set_recv_buffer_size(SOCKET_BUFFER_BYTES);
    let _ = sock.set_send_buffer_size(SOCKET_BUFFER_BYTES);
    let runtime = quinn::default_runtime()
        .ok_or_else(|| socket_err(std::io::Error::other("no async runtime")))?;
    let mut config = quinn::EndpointConfig::default();
    // Reserved-bit greasing costs a transport parameter in every handshake
    // and protects nothing on links between our own nodes.
    config.grease_quic_bit(false);
    if accept {
        // A listening endpoint tells its connections apart by connection id
        // (two peers behind one address, a station that also dials): 4
        // random bytes are plenty for at most 32 peers, and every packet
        // addressed to it is 4 bytes shorter than with the default 8.
        config.cid_generator(|| Box::new(ShortConnectionIds));
    } else {
        // A dial-only endpoint needs no connection ids of its own: the peer
        // addresses it by its socket. Saves the ids' announcements and 8
        // bytes in every packet it receives.
        config.cid_generator(|| Box::new(NoConnectionIds));
    }
    let endpoint = quinn::Endpoint::new(config, accept.then_some(server), socket, runtime)
        .map_err(socket_err)?;
    Ok((endpoint, client))
}

/// Random 4-byte connection ids, for endpoints that accept peers.
struct ShortConnectionIds;

impl quinn::ConnectionIdGenerator for ShortConnectionIds {
    fn generate_cid(&mut self) -> quinn::ConnectionId {
        let id: [u8; 4] = rand::random();
        quinn::ConnectionId::new(&id)
    }

    fn cid_len(&self) -> usize {
        4
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// Zero-length connection ids, for endpoints that only dial.
struct NoConnectionIds;

impl quinn::ConnectionIdGenerator for NoConnectionIds {
    fn generate_cid(&mut self) -> quinn::ConnectionId {
        quinn::ConnectionId::new(&[])
    }

    fn cid_len(&self) -> usize {
        0
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// Keeps meeting a configured peer: sync, wait `every`, again; after a
/// failure, back off from one second up to a minute.
pub async fn keep_meeting(
    local: Local,
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    addr: SocketAddr,
    every: Duration,
    clock: fn() -> Timestamp,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match sync_with(&local, &endpoint, client.clone(), addr, clock).await {
            Ok(s) => {
                backoff = Duration::from_secs(1);
                tracing::info!(%addr, sent = ?s.sent, stored = ?s.stored, "met peer");
                tokio::time::sleep(every).await;
            }
            Err(e) => {
                tracing::warn!(%addr, err = %e, retry_in = ?backoff, "could not sync with peer");
                // A store stopped by an I/O error (a full disk) is reopened
                // here too: a car that only syncs sends no control requests.
                let l = local.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    l.with_engine(|e| match e.recover_storage() {
                        Ok(true) => tracing::warn!("database reopened after a failed sync"),
                        Ok(false) => {}
                        Err(err) => tracing::error!(%err, "database could not be reopened yet"),
                    })
                })
                .await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

impl Local {
    /// Replication over an engine, checking peers against its agency.
    pub fn new(engine: Arc<Mutex<Engine>>) -> Result<Local, SyncFailure> {
        let (agency, revoked) = {
            let e = engine.lock().map_err(|_| SyncFailure::EnginePoisoned)?;
            (e.node().trust.agency(), e.revoked())
        };
        Ok(Local {
            engine,
            check: PeerCheck { agency, revoked },
            limits: BatchLimits::default(),
            progress: None,
        })
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, SyncFailure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Verification and commits run on blocking threads; a few suffice:
        // the store takes one writer at a time.
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .map_err(|e| SyncFailure::Connection(format!("starting the network runtime: {e}")))
}

/// A one-shot sync with `peer` from an ephemeral port; blocks until in sync.
pub fn sync_once(
    local: Local,
    peer: SocketAddr,
    clock: fn() -> Timestamp,
) -> Result<SyncSummary, SyncFailure> {
    runtime()?.block_on(async move {
        let bind: SocketAddr = if peer.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let (endpoint, client) = endpoint(&local, bind, false)?;
        let result = sync_with(&local, &endpoint, client, peer, clock).await;
        // Give the close frame a moment to leave; the peer already knows
        // the sync is over (our stream finished), so no need to wait out
        // the whole draining period.
        let _ = tokio::time::timeout(Duration::from_millis(20), endpoint.wait_idle()).await;
        result
    })
}

/// The daemon's replication: listen for peers on `listen` (if given) and
/// keep meeting each of `peers`, on a runtime thread of its own. Returns the
/// bound address once listening.
pub fn spawn_daemon(
    local: Local,
    listen: SocketAddr,
    peers: Vec<SocketAddr>,
    every: Duration,
    clock: fn() -> Timestamp,
) -> Result<SocketAddr, SyncFailure> {
    let rt = runtime()?;
    let (endpoint, client) = rt.block_on(async { endpoint(&local, listen, true) })?;
    let bound = endpoint.local_addr().map_err(|e| SyncFailure::Connect {
        addr: listen,
        reason: e.to_string(),
    })?;
    std::thread::spawn(move || {
        rt.block_on(async move {
            for addr in peers {
                tokio::spawn(keep_meeting(
                    local.clone(),
                    endpoint.clone(),
                    client.clone(),
                    addr,
                    every,
                    clock,
                ));
            }
            serve(local, endpoint, CONNECTIONS_MAX, clock).await;
        });
    });
    Ok(bound)
}

/// Peers served at once by a daemon.
pub const CONNECTIONS_MAX: usize = 32;
