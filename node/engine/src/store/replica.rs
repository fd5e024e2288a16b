//! What the store tells replication: how far it holds each origin (marks),
//! the runs of records a peer lacks, and the one write path for records that
//! arrive from peers.
//!
//! A mark is kept per (collection, origin) in the `marks` table and moved in
//! the same transaction as the records it covers, so a `Hello` never scans
//! blocks. A mark is a lower bound: records that arrive ahead of it (from a
//! second peer, say) stay stored and are absorbed when the run below them
//! arrives; at worst a peer re-sends them, and storing them again is a no-op.

use std::collections::{BTreeMap, HashMap};

use alpr_protocol::replicate::{
    BatchLimits, Collection, Fetched, Mark, VersionVector, Want, WireImage, WireRecord,
};
use alpr_protocol::{NodeId, VerifiedAuditEvent, VerifiedImage, VerifiedRead};
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{
    AUDIT, AUDIT_FLOOR, CROP_BLOCKS, OVERVIEW_BLOCKS, READ_BLOCKS, RecordId, Store, StoreError,
    block, damaged_block, dberr, read_key, split_floor, split_read_key,
};

/// (collection tag, origin) -> contiguous seq.
pub(super) const MARKS: TableDefinition<[u8; 33], u64> = TableDefinition::new("marks");

pub(super) fn tag(collection: Collection) -> u8 {
    match collection {
        Collection::Reads => 1,
        Collection::AuditEvents => 2,
        Collection::Alerts => 3,
    }
}

fn mark_key(collection: Collection, origin: NodeId) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = tag(collection);
    k[1..].copy_from_slice(&origin.0);
    k
}

/// The run a replicated batch covers: `after + 1 ..= through` of `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub origin: NodeId,
    pub after: u64,
    pub through: u64,
}

/// Moves marks forward over the seqs a write transaction stored.
pub(super) struct MarkWriter {
    collection: Collection,
    /// Per origin: the mark as loaded, then as moved.
    marks: HashMap<NodeId, u64>,
}

impl MarkWriter {
    pub(super) fn new(collection: Collection) -> Self {
        MarkWriter {
            collection,
            marks: HashMap::new(),
        }
    }

    fn load(&mut self, tx: &WriteTransaction, origin: NodeId) -> Result<&mut u64, StoreError> {
        if !self.marks.contains_key(&origin) {
            let table = tx.open_table(MARKS).map_err(dberr)?;
            let at = table
                .get(mark_key(self.collection, origin))
                .map_err(dberr)?
                .map(|v| v.value())
                .unwrap_or(0);
            let floor = if self.collection == Collection::AuditEvents {
                let floors = tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
                floors
                    .get(origin.0)
                    .map_err(dberr)?
                    .map(|v| split_floor(v.value()).0)
                    .unwrap_or(0)
            } else {
                0
            };
            self.marks.insert(origin, at.max(floor));
        }
        self.marks
            .get_mut(&origin)
            .ok_or_else(|| StoreError::Corrupt("mark vanished".into()))
    }

    /// A record was stored (or was already there); `seqs` of one origin arrive in order.
    pub(super) fn held(
        &mut self,
        tx: &WriteTransaction,
        origin: NodeId,
        seq: u64,
    ) -> Result<(), StoreError> {
        let mark = self.load(tx, origin)?;
        if Some(seq) == mark.checked_add(1) {
            *mark = seq;
        }
        Ok(())
    }

    /// A whole run was stored: everything up to `through` is held or gone.
    pub(super) fn cover(&mut self, tx: &WriteTransaction, run: Run) -> Result<(), StoreError> {
        let mark = self.load(tx, run.origin)?;
        if *mark >= run.after && run.through > *mark {
            *mark = run.through;
        }
        Ok(())
    }

    pub(super) fn finish(self, tx: &WriteTransaction) -> Result<(), StoreError> {
        let mut table = tx.open_table(MARKS).map_err(dberr)?;
        for (origin, at) in self.marks {
            table
                .insert(mark_key(self.collection, origin), at)
                .map_err(dberr)?;
        }
        Ok(())
    }
}

/// Sets every mark to the origin's newest stored seq: the upgrade from
/// schema 1, when nothing had been replicated and every origin's records
/// were written in order.
pub(super) fn rebuild_marks(tx: &WriteTransaction) -> Result<(), StoreError> {
    let ids = tx.open_table(super::ORIGIN_IDS).map_err(dberr)?;
    let origins: Vec<(u32, NodeId)> = ids
        .iter()
        .map_err(dberr)?
        .map(|e| e.map(|(k, v)| (k.value(), NodeId(v.value()))))
        .collect::<Result<_, _>>()
        .map_err(dberr)?;
    drop(ids);
    let mut marks = tx.open_table(MARKS).map_err(dberr)?;
    let blocks = tx.open_table(READ_BLOCKS).map_err(dberr)?;
    let audit = tx.open_table(AUDIT).map_err(dberr)?;
    for (idx, origin) in origins {
        let last_block = blocks
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back();
        if let Some(entry) = last_block {
            let (_, v) = entry.map_err(dberr)?;
            let entries = block::entries(v.value()).map_err(|e| damaged_block(origin, e))?;
            if let Some(last) = entries.last() {
                marks
                    .insert(mark_key(Collection::Reads, origin), last.seq)
                    .map_err(dberr)?;
            }
        }
        let last_event = audit
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back();
        if let Some(entry) = last_event {
            let (k, _) = entry.map_err(dberr)?;
            marks
                .insert(
                    mark_key(Collection::AuditEvents, origin),
                    split_read_key(&k.value()).1,
                )
                .map_err(dberr)?;
        }
    }
    Ok(())
}

impl Store {
    /// How far this store holds `collection`, per origin.
    pub fn vector(&self, collection: Collection) -> Result<VersionVector, StoreError> {
        let tx = self.read_tx()?;
        let marks = tx.open_table(MARKS).map_err(dberr)?;
        let t = tag(collection);
        let mut lo = [0u8; 33];
        lo[0] = t;
        let mut hi = [0xffu8; 33];
        hi[0] = t;
        let mut out = BTreeMap::new();
        for entry in marks.range(lo..=hi).map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let mut id = [0u8; 32];
            id.copy_from_slice(&k.value()[1..]);
            out.insert(
                NodeId(id),
                Mark {
                    contiguous: v.value(),
                    floor: 0,
                },
            );
        }
        if collection == Collection::AuditEvents {
            let floors = tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
            for entry in floors.iter().map_err(dberr)? {
                let (k, v) = entry.map_err(dberr)?;
                let mark = out.entry(NodeId(k.value())).or_default();
                mark.floor = split_floor(v.value()).0;
                mark.contiguous = mark.contiguous.max(mark.floor);
            }
        }
        Ok(VersionVector(out))
    }

    /// The records of `want` this store holds, in seq order, within `limits`.
    pub fn fetch(
        &self,
        collection: Collection,
        want: Want,
        limits: BatchLimits,
    ) -> Result<Fetched, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, want.origin)? else {
            return Ok(Fetched {
                records: Vec::new(),
                complete: true,
            });
        };
        let lo = read_key(idx, want.after.saturating_add(1));
        let hi = read_key(idx, want.upto);
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let mut complete = true;
        let full = |records: &Vec<WireRecord>, bytes: usize, next: usize| {
            records.len() == limits.records_max
                || (!records.is_empty() && bytes + next > limits.bytes_max)
        };
        match collection {
            Collection::AuditEvents | Collection::Alerts => {
                let table = if collection == Collection::Alerts {
                    tx.open_table(super::alerts::ALERTS).map_err(dberr)?
                } else {
                    tx.open_table(AUDIT).map_err(dberr)?
                };
                for entry in table.range(lo..=hi).map_err(dberr)? {
                    let (k, v) = entry.map_err(dberr)?;
                    if full(&records, bytes, v.value().len()) {
                        complete = false;
                        break;
                    }
                    bytes += v.value().len();
                    records.push(WireRecord {
                        seq: split_read_key(&k.value()).1,
                        envelope: v.value().to_vec(),
                        images: Vec::new(),
                    });
                }
            }
            Collection::Reads => {
                let blocks = tx.open_table(READ_BLOCKS).map_err(dberr)?;
                // Start with the block holding `after + 1`, which may begin below it.
                let start = match blocks
                    .range(read_key(idx, 0)..=lo)
                    .map_err(dberr)?
                    .next_back()
                {
                    Some(e) => e.map_err(dberr)?.0.value(),
                    None => lo,
                };
                'blocks: for entry in blocks.range(start..=hi).map_err(dberr)? {
                    let (_, v) = entry.map_err(dberr)?;
                    let block_bytes = v.value();
                    let entries =
                        block::entries(block_bytes).map_err(|e| damaged_block(want.origin, e))?;
                    for e in entries {
                        if e.seq <= want.after || e.seq > want.upto {
                            continue;
                        }
                        let len = e.end - e.start;
                        if full(&records, bytes, len) {
                            complete = false;
                            break 'blocks;
                        }
                        bytes += len;
                        records.push(WireRecord {
                            seq: e.seq,
                            envelope: block_bytes[e.start..e.end].to_vec(),
                            images: Vec::new(),
                        });
                    }
                }
                if let (Some(first), Some(last)) = (records.first(), records.last()) {
                    let (first, last) = (first.seq, last.seq);
                    let mut by_seq: HashMap<u64, Vec<WireImage>> = HashMap::new();
                    for def in [CROP_BLOCKS, OVERVIEW_BLOCKS] {
                        let table = tx.open_table(def).map_err(dberr)?;
                        let start = match table
                            .range(read_key(idx, 0)..=read_key(idx, first))
                            .map_err(dberr)?
                            .next_back()
                        {
                            Some(e) => e.map_err(dberr)?.0.value(),
                            None => read_key(idx, first),
                        };
                        for entry in table.range(start..=read_key(idx, last)).map_err(dberr)? {
                            let (_, v) = entry.map_err(dberr)?;
                            let b = v.value();
                            let entries =
                                block::entries(b).map_err(|e| damaged_block(want.origin, e))?;
                            for e in entries {
                                if e.seq >= first && e.seq <= last {
                                    by_seq
                                        .entry(e.seq)
                                        .or_default()
                                        .push(WireImage(b[e.start..e.end].to_vec()));
                                }
                            }
                        }
                    }
                    for r in &mut records {
                        if let Some(images) = by_seq.remove(&r.seq) {
                            r.images = images;
                        }
                    }
                }
            }
        }
        Ok(Fetched { records, complete })
    }

    /// An audit event's envelope, if stored.
    pub fn audit_envelope(&self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, id.origin)? else {
            return Ok(None);
        };
        let table = tx.open_table(AUDIT).map_err(dberr)?;
        Ok(table
            .get(read_key(idx, id.seq))
            .map_err(dberr)?
            .map(|v| v.value().to_vec()))
    }

    /// Stores a verified run of reads and their images from a peer and moves
    /// the origin's mark over the run, in one durable transaction; returns
    /// how many reads were new.
    pub fn ingest_reads(
        &self,
        reads: &[VerifiedRead],
        images: &[VerifiedImage],
        run: Run,
    ) -> Result<usize, StoreError> {
        let reads: Vec<&VerifiedRead> = reads.iter().collect();
        let images: Vec<&VerifiedImage> = images.iter().collect();
        self.append_refs_covering(&reads, &images, Some(run), &[])
    }

    /// Stores a verified run of audit events from a peer and moves the
    /// origin's mark over it, in one durable transaction. `starts_after`
    /// names where the chain starts when this store holds none of it and the
    /// sender purged its beginning: (seq, hash) of the last purged event.
    pub fn ingest_audit(
        &self,
        events: &[VerifiedAuditEvent],
        run: Run,
        starts_after: Option<(u64, [u8; 32])>,
    ) -> Result<usize, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        if let Some((seq, hash)) = starts_after {
            let mut floors = tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
            floors
                .insert(run.origin.0, super::floor_bytes(seq, &hash))
                .map_err(dberr)?;
        }
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        let added = Self::insert_audit(&tx, events, &mut marks)?;
        marks.cover(&tx, run)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(added)
    }
}
