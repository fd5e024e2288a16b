//! Records this node's own reads and audit events: assigns sequence numbers, seals, signs, stores.
//!
//! Invariant: one `Recorder` per data directory is the only writer of this
//! node's own records (redb holds an exclusive lock on the file), so the
//! sequence numbers it hands out are contiguous and never reused. Counters
//! advance only after the batch committed.

use alpr_protocol::alert::AlertItem;
use alpr_protocol::{
    Action, AuditBody, Capture, Outcome, SealedRead, Sealer, Timestamp, VerifiedAlertRecord,
    VerifiedAuditEvent, VerifiedRead,
};
use rand::CryptoRng;

use crate::datadir::Node;
use crate::store::{Effect, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record {index} of the batch: {source}")]
    OutsideCertificate {
        index: usize,
        source: alpr_protocol::CertificateError,
    },
    #[error("read {index} of the batch: {reason}")]
    BadCapture { index: usize, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Upper bound on one write transaction, so memory stays bounded whatever the caller hands in.
pub const READ_BATCH_MAX: usize = 4096;
// An import request is stored as one batch.
const _: () = assert!(READ_BATCH_MAX == alpr_protocol::control::IMPORT_BATCH_MAX);
/// Upper bound on one audit write transaction.
pub const AUDIT_BATCH_MAX: usize = 4096;

/// Sealing threads: signing dominates ingest, and a car has a few cores.
const SEAL_THREADS: usize = 2;
/// Below this many reads a batch is sealed on the calling thread.
const SEAL_PARALLEL_MIN: usize = 64;

/// Checks a batch against the node's certificate and seals it.
fn seal_batch<R: CryptoRng + ?Sized>(
    node: &Node,
    first_seq: u64,
    batch: Vec<(Timestamp, Capture)>,
    rng: &mut R,
) -> Result<Vec<SealedRead>, RecordError> {
    assert!(
        batch.len() <= READ_BATCH_MAX,
        "batch of {} exceeds READ_BATCH_MAX",
        batch.len()
    );
    // A read signed outside the node's certificate window, or too large to
    // decode, would never verify anywhere; refuse it here rather than store it.
    for (index, (at, capture)) in batch.iter().enumerate() {
        node.certificate
            .check_valid_at(*at)
            .map_err(|source| RecordError::OutsideCertificate { index, source })?;
        capture
            .check()
            .map_err(|reason| RecordError::BadCapture { index, reason })?;
    }
    Ok(seal_parallel(node, first_seq, batch, rng))
}

/// Signs and seals a batch, split over [`SEAL_THREADS`] threads; each thread
/// draws nonces from its own generator seeded from `rng`.
fn seal_parallel<R: CryptoRng + ?Sized>(
    node: &Node,
    first_seq: u64,
    batch: Vec<(Timestamp, Capture)>,
    rng: &mut R,
) -> Vec<SealedRead> {
    let sealer = Sealer {
        node_key: &node.node_key,
        data_key: &node.data_key,
    };
    let seal_all = |start: u64, items: Vec<(Timestamp, Capture)>, rng: &mut dyn rand::CryptoRng| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (at, body))| sealer.seal_read(start + i as u64, at, body, rng))
            .collect::<Vec<_>>()
    };
    if batch.len() < SEAL_PARALLEL_MIN {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(seed);
        return seal_all(first_seq, batch, &mut rng);
    }
    let chunk = batch.len().div_ceil(SEAL_THREADS);
    let mut parts: Vec<Vec<(Timestamp, Capture)>> = Vec::with_capacity(SEAL_THREADS);
    let mut rest = batch;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let seeds: Vec<[u8; 32]> = parts
        .iter()
        .map(|_| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            seed
        })
        .collect();
    std::thread::scope(|scope| {
        let mut start = first_seq;
        let handles: Vec<_> = parts
            .into_iter()
            .zip(seeds)
            .map(|(items, seed)| {
                let part_start = start;
                start += items.len() as u64;
                let seal_all = &seal_all;
                scope.spawn(move || {
                    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(seed);
                    seal_all(part_start, items, &mut rng)
                })
            })
            .collect();
        handles
            .into_iter()
            // A sealing thread only panics on a bug in this process; pass it on.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[derive(Debug)]
pub struct Recorder {
    next_read_seq: u64,
    next_audit_seq: u64,
    next_alert_seq: u64,
    prev_audit_hash: [u8; 32],
}

/// One access to document, before it is chained and sealed.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub user: String,
    pub action: Action,
    pub object: String,
    pub purpose: Option<String>,
    pub case: Option<String>,
    pub outcome: Outcome,
    /// The chain floors a purge of audit events made (empty otherwise).
    pub floors: Vec<alpr_protocol::record::AuditFloor>,
}

impl AuditEntry {
    /// The sealed body of this entry, chained to the event before it.
    fn into_body(self, prev_hash: [u8; 32]) -> AuditBody {
        AuditBody {
            user: self.user,
            action: self.action,
            object: self.object,
            purpose: self.purpose,
            case: self.case,
            outcome: self.outcome,
            prev_hash,
            floors: self.floors,
        }
        .bounded()
    }
}

impl Recorder {
    pub fn load(node: &Node) -> Result<Self, StoreError> {
        let me = node.node_key.id();
        let last_read = node.store.last_read_seq(me)?.unwrap_or(0);
        let (last_audit, prev_audit_hash) = node.store.audit_head(me)?;
        let last_alert = node.store.last_alert_seq(me)?;
        Ok(Recorder {
            next_read_seq: last_read + 1,
            next_audit_seq: last_audit + 1,
            next_alert_seq: last_alert + 1,
            prev_audit_hash,
        })
    }

    /// Seals and durably stores a batch of reads (at most [`READ_BATCH_MAX`]),
    /// all or none; returns them as stored.
    pub fn record_reads<R: CryptoRng + ?Sized>(
        &mut self,
        node: &Node,
        batch: Vec<(Timestamp, Capture)>,
        rng: &mut R,
    ) -> Result<Vec<VerifiedRead>, RecordError> {
        let (reads, _) = self.record_reads_raising(node, batch, rng, |_| Vec::new())?;
        Ok(reads)
    }

    /// Seals a batch of reads, seals the alerts `raise` finds in them, and
    /// stores both in one durable transaction; returns both as stored.
    pub fn record_reads_raising<R, F>(
        &mut self,
        node: &Node,
        batch: Vec<(Timestamp, Capture)>,
        rng: &mut R,
        raise: F,
    ) -> Result<(Vec<VerifiedRead>, Vec<VerifiedAlertRecord>), RecordError>
    where
        R: CryptoRng + ?Sized,
        F: FnOnce(&[SealedRead]) -> Vec<(Timestamp, AlertItem)>,
    {
        let sealed = seal_batch(node, self.next_read_seq, batch, rng)?;
        let alerts = self.seal_alerts(node, raise(&sealed), rng)?;
        node.store.append_sealed_raising(&sealed, &alerts)?;
        self.next_read_seq += sealed.len() as u64;
        self.advance_alerts(&alerts);
        Ok((sealed.into_iter().map(|s| s.read).collect(), alerts))
    }

    /// Seals alert records (alerts, dispositions) as this node's next alert
    /// seqs, without storing them: the caller stores them in its own
    /// transaction, then calls [`Recorder::advance_alerts`].
    pub fn seal_alerts<R: CryptoRng + ?Sized>(
        &self,
        node: &Node,
        items: Vec<(Timestamp, AlertItem)>,
        rng: &mut R,
    ) -> Result<Vec<VerifiedAlertRecord>, RecordError> {
        let sealer = Sealer {
            node_key: &node.node_key,
            data_key: &node.data_key,
        };
        let mut out = Vec::with_capacity(items.len());
        for (index, (at, item)) in items.into_iter().enumerate() {
            node.certificate
                .check_valid_at(at)
                .map_err(|source| RecordError::OutsideCertificate { index, source })?;
            out.push(sealer.seal_alert(self.next_alert_seq + index as u64, at, item, rng));
        }
        Ok(out)
    }

    /// Moves the alert seqs past records that were stored.
    pub fn advance_alerts(&mut self, stored: &[VerifiedAlertRecord]) {
        if let Some(last) = stored.last() {
            self.next_alert_seq = last.record().seq + 1;
        }
    }

    /// Records a stream of batches, sealing the next batch while the previous
    /// one commits (bulk imports are bound by signing and by fsync, which
    /// overlap). `on_commit` sees each batch after it is durable and returns
    /// false to stop. On an error, every batch before it is stored and
    /// acknowledged, and nothing after it is; returns the number of reads stored.
    pub fn record_stream<R, I, F>(
        &mut self,
        node: &Node,
        batches: I,
        rng: &mut R,
        mut on_commit: F,
        mut raise: impl FnMut(&[SealedRead]) -> Vec<(Timestamp, AlertItem)>,
    ) -> Result<u64, RecordError>
    where
        R: CryptoRng + ?Sized,
        I: Iterator<Item = Vec<(Timestamp, Capture)>> + Send,
        F: FnMut(&[SealedRead], &[VerifiedAlertRecord]) -> bool,
    {
        let mut alert_seed = [0u8; 32];
        rng.fill_bytes(&mut alert_seed);
        let mut alert_rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(alert_seed);
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let first_seq = self.next_read_seq;
        let mut stored = 0u64;
        std::thread::scope(|scope| {
            // One sealed batch waits while another commits: memory stays at two batches.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<SealedRead>, RecordError>>(1);
            scope.spawn(move || {
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(seed);
                let mut next = first_seq;
                for batch in batches {
                    let sealed = seal_batch(node, next, batch, &mut rng);
                    let failed = sealed.is_err();
                    if let Ok(s) = &sealed {
                        next += s.len() as u64;
                    }
                    // A closed channel means the committer stopped; so do we.
                    if tx.send(sealed).is_err() || failed {
                        return;
                    }
                }
            });
            for sealed in rx {
                let sealed = sealed?;
                let alerts = self.seal_alerts(node, raise(&sealed), &mut alert_rng)?;
                node.store.append_sealed_raising(&sealed, &alerts)?;
                self.next_read_seq += sealed.len() as u64;
                self.advance_alerts(&alerts);
                stored += sealed.len() as u64;
                if !on_commit(&sealed, &alerts) {
                    break;
                }
            }
            Ok(stored)
        })
    }

    /// Chains, seals and durably stores a batch of audit events in one
    /// transaction (at most [`AUDIT_BATCH_MAX`]).
    pub fn record_audits<R: CryptoRng + ?Sized>(
        &mut self,
        node: &Node,
        now: Timestamp,
        entries: Vec<AuditEntry>,
        rng: &mut R,
    ) -> Result<Vec<VerifiedAuditEvent>, RecordError> {
        assert!(
            entries.len() <= AUDIT_BATCH_MAX,
            "audit batch of {} exceeds AUDIT_BATCH_MAX",
            entries.len()
        );
        node.certificate
            .check_valid_at(now)
            .map_err(|source| RecordError::OutsideCertificate { index: 0, source })?;
        let (mut seq, mut prev) = (self.next_audit_seq, self.prev_audit_hash);
        let sealer = Sealer {
            node_key: &node.node_key,
            data_key: &node.data_key,
        };
        let events: Vec<VerifiedAuditEvent> = entries
            .into_iter()
            .map(|entry| {
                let event = sealer.seal_audit(seq, now, entry.into_body(prev), rng);
                seq += 1;
                prev = event.hash();
                event
            })
            .collect();
        node.store.append_audit(&events)?;
        if let Some(last) = events.last() {
            self.advance_audit(last);
        }
        Ok(events)
    }

    /// Chains and seals the next audit event without storing it, for a
    /// caller that stores it in its own transaction and then calls
    /// [`Recorder::advance_audit`].
    pub fn seal_audit<R: CryptoRng + ?Sized>(
        &self,
        node: &Node,
        now: Timestamp,
        entry: AuditEntry,
        rng: &mut R,
    ) -> Result<VerifiedAuditEvent, RecordError> {
        // An event signed outside the node's certificate would never verify.
        node.certificate
            .check_valid_at(now)
            .map_err(|source| RecordError::OutsideCertificate { index: 0, source })?;
        Ok(Sealer {
            node_key: &node.node_key,
            data_key: &node.data_key,
        }
        .seal_audit(
            self.next_audit_seq,
            now,
            entry.into_body(self.prev_audit_hash),
            rng,
        ))
    }

    /// Moves the chain past an event that was stored.
    pub fn advance_audit(&mut self, event: &VerifiedAuditEvent) {
        self.next_audit_seq = event.event().seq + 1;
        self.prev_audit_hash = event.hash();
    }

    /// Chains, seals and durably stores one audit event, together with the
    /// state changes it documents (one transaction: both or neither).
    pub fn record_audit<R: CryptoRng + ?Sized>(
        &mut self,
        node: &Node,
        now: Timestamp,
        entry: AuditEntry,
        effects: &[Effect<'_>],
        rng: &mut R,
    ) -> Result<VerifiedAuditEvent, RecordError> {
        let event = self.seal_audit(node, now, entry, rng)?;
        node.store
            .append_audit_with(std::slice::from_ref(&event), effects)?;
        self.advance_audit(&event);
        Ok(event)
    }
}
