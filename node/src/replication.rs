//! The replication driver: QUIC (quinn on tokio) around the sans-IO core in
//! `alpr_protocol::replicate`.
//!
//! One bidirectional stream per connection carries length-prefixed postcard
//! [`SyncMessage`]s. The loop reads one message, lets the core decide, and
//! carries out its outputs; a batch is verified and committed before the next
//! message is read, so a slow disk slows the peer (QUIC flow control) instead
//! of growing a queue. Memory per connection is bounded by one batch in each
//! direction plus a writer queue of `WRITE_QUEUE` messages.
//!
//! Every record is checked before it is stored: envelope, agency certificate
//! of its origin (valid at the record's time, not revoked), signature, seal,
//! that it is the seq the batch says, for a read that each image is the one
//! it commits to, and for audit events that the hash chain links. One bad
//! record refuses the whole batch and ends the connection, with the reason
//! logged on this side and sent to the peer in the close frame; the node
//! keeps serving other peers.

pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alpr_protocol::control::{decode_frame, encode_frame};
use alpr_protocol::replicate::{
    BatchLimits, Collection, SYNC_FRAME_BYTES_MAX, SyncError, SyncMessage,
};
use alpr_protocol::{NodeId, Timestamp};

use crate::engine::Engine;
use crate::engine::replica::{Replica, ReplicaError, ReplicaSummary};
use crate::store::StoreError;
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
    /// What the node's half of the meeting refused: a bad record, a fork.
    #[error(transparent)]
    Replica(ReplicaError),
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

impl From<ReplicaError> for SyncFailure {
    fn from(e: ReplicaError) -> Self {
        match e {
            ReplicaError::Store(s) => SyncFailure::Store(s),
            ReplicaError::Sync(e) => e.into(),
            other => SyncFailure::Replica(other),
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

impl SyncSummary {
    /// Takes the replica's running totals.
    fn absorb(&mut self, r: &ReplicaSummary) {
        self.sent = r.sent.clone();
        self.received = r.received.clone();
        self.stored = r.stored.clone();
        self.policy_changed = r.policy_changed;
        self.hotlists_sent = r.hotlists_sent.clone();
        self.hotlists_received = r.hotlists_received.clone();
    }
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

impl Local {
    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, SyncFailure> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| SyncFailure::EnginePoisoned)?;
        Ok(f(&mut engine))
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
        // quinn's own text says only "connection lost": name how.
        ReadExactError::ReadError(ReadError::ConnectionLost(how)) => {
            SyncFailure::Connection(how.to_string())
        }
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

    let limits = local.limits;
    let certificate = peer.certificate.clone();
    let replica = local.with_engine(|e| Replica::start(e, clock(), &certificate, limits))??;
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

    let result = drive(&local, replica, &tx, &mut recv, &mut summary, mode, clock).await;
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
    // For live views, and for `status` (when each peer was last met in
    // sync). Best effort: a sync that moved everything is not failed by
    // this note.
    let ended = match &result {
        Ok(()) => Ok((
            summary.stored.get(&Collection::Reads).copied().unwrap_or(0),
            summary
                .stored
                .get(&Collection::AuditEvents)
                .copied()
                .unwrap_or(0),
        )),
        Err(e) => Err(e.to_string()),
    };
    let at = clock();
    let noted = local
        .with_engine(|e| e.meeting_ended(at, peer.node, ended))
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    if let Err(error) = noted {
        tracing::warn!(peer = %peer.name, %error, "could not note the meeting");
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

/// Moves frames between the peer and the replica: sends what the replica
/// has ready (storing and merging on a blocking thread, since they hold the
/// engine), then waits for the peer, no longer than the session's timer.
async fn drive(
    local: &Local,
    mut replica: Replica,
    tx: &tokio::sync::mpsc::Sender<SyncMessage>,
    recv: &mut quinn::RecvStream,
    summary: &mut SyncSummary,
    mode: Mode,
    clock: fn() -> Timestamp,
) -> Result<(), SyncFailure> {
    loop {
        // One message at a time: a hotlist's chunks are read from the store
        // as the bounded writer queue takes them.
        loop {
            let l = local.clone();
            let (r, next) = tokio::task::spawn_blocking(move || {
                // A batch is checked (signatures, seals, images, chain)
                // without holding the engine, which is taken only to look up
                // a chain link and then to commit.
                match l.with_engine(|e| replica.take_check(e)) {
                    Ok(Some(job)) => {
                        let origin = job.origin();
                        let result = job.run(|seq| {
                            let e = l
                                .engine
                                .lock()
                                .map_err(|_| StoreError::Corrupt("engine poisoned".into()))?;
                            crate::engine::replica::audit_link(&e.node().store, origin, seq)
                        });
                        replica.checked(result);
                    }
                    Ok(None) => {}
                    Err(e) => return (replica, Err(e)),
                }
                let next = l.with_engine(|e| replica.poll_transmit(e, clock()));
                (replica, next)
            })
            .await
            .map_err(|e| SyncFailure::Connection(e.to_string()))?;
            replica = r;
            let Some(message) = next?? else { break };
            tx.send(message)
                .await
                .map_err(|_| SyncFailure::Connection("writer stopped".into()))?;
        }
        summary.absorb(replica.summary());
        if let Some(progress) = &local.progress {
            progress(summary);
        }
        if mode == Mode::OneShot && replica.in_sync() {
            return Ok(());
        }
        // Wait for the peer, but not past the session's timer when the peer
        // owes an answer (an idle, settled link is QUIC's to keep alive).
        let read = read_message(recv);
        // A one-shot meeting not yet in sync is owed what the peer's Hello
        // promised; a served peer owes nothing, but may not sit idle forever.
        let deadline = replica.next_timer().or_else(|| {
            let after = match mode {
                Mode::OneShot => alpr_protocol::replicate::STALL_MS,
                Mode::Serve => SERVE_IDLE_MS,
            };
            Some(replica.last_heard().saturating_add_millis(after))
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
                        replica.tick(clock())?;
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
        let (r, received) = tokio::task::spawn_blocking(move || {
            let received = l.with_engine(|e| replica.receive(e, now, message));
            (replica, received)
        })
        .await
        .map_err(|e| SyncFailure::Connection(e.to_string()))?;
        replica = r;
        received??;
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
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    let mut meetings = crate::schedule::Meetings::starting(clock(), every_ms);
    loop {
        let now = clock();
        let wait = crate::schedule::wait_ms(now, meetings.next_due(now));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let result = sync_with(&local, &endpoint, client.clone(), addr, clock).await;
        // For the peers view, by address: a failure before the handshake names no node.
        let tried = match &result {
            Ok(s) => s.peer.as_ref().map(|(id, _)| Ok(*id)),
            Err(e) => Some(Err(e.to_string())),
        };
        if let Some(tried) = tried {
            let _ = local.with_engine(|e| e.peer_tried(clock(), &addr.to_string(), tried));
        }
        match result {
            Ok(s) => {
                meetings.met(clock());
                tracing::info!(%addr, sent = ?s.sent, stored = ?s.stored, "met peer");
            }
            Err(e) => {
                let retry_in = Duration::from_millis(meetings.missed(clock()) as u64);
                tracing::warn!(%addr, err = %e, ?retry_in, "could not sync with peer");
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

/// Whether `peer` answers and both sides accept each other's certificate
/// (the mutual TLS handshake of a meeting, nothing exchanged after it):
/// `doctor`'s check. Returns the peer's certificate name.
pub fn handshake(
    local: Local,
    peer: SocketAddr,
    clock: fn() -> Timestamp,
) -> Result<String, SyncFailure> {
    runtime()?.block_on(async move {
        let bind: SocketAddr = if peer.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let (endpoint, client) = endpoint(&local, bind, false)?;
        let connect_err = |reason: String| SyncFailure::Connect { addr: peer, reason };
        let connecting = endpoint
            .connect_with(client, peer, "alpr-node")
            .map_err(|e| connect_err(e.to_string()))?;
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| connect_err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| connect_err(e.to_string()))?;
        let found = tls::peer_of(&connection, &local.check, clock()).map(|p| p.name);
        connection.close(0u32.into(), b"checked");
        let _ = tokio::time::timeout(Duration::from_millis(50), endpoint.wait_idle()).await;
        Ok(found?)
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
