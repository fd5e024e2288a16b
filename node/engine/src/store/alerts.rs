//! Alerts and dispositions: one envelope each, keyed (origin, seq) like
//! audit events, with their own replication marks.
//!
//! An alert is written in the transaction that stores the read it came
//! from (camera, replay, import), a disposition in the transaction of the
//! audit event that documents it, and a peer's run with its mark; nothing
//! else writes here. Alerts are few (a hit per thousands of reads), so the
//! listing and the purge scan them rather than keep a time index.

use alpr_protocol::replicate::Collection;
use alpr_protocol::{NodeId, VerifiedAlertRecord, VerifiedAuditEvent};
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::replica::{MARKS, MarkWriter, Run};
use super::{RecordId, Store, StoreError, dberr, read_key, split_read_key};

/// (origin index, seq) -> alert or disposition envelope.
pub(super) const ALERTS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("alerts");

/// Most alert records one listing returns: far above what a fleet's
/// retention holds, and a bound on the memory a listing takes.
pub const ALERTS_LISTED_MAX: usize = 200_000;

impl Store {
    /// Inserts alert records inside `tx`, moving their marks; identical
    /// bytes again are a no-op, different bytes under one id a conflict.
    pub(super) fn insert_alerts(
        tx: &WriteTransaction,
        records: &[VerifiedAlertRecord],
        marks: &mut MarkWriter,
    ) -> Result<usize, StoreError> {
        let mut added = 0;
        for r in records {
            marks.held(tx, r.record().origin, r.record().seq)?;
        }
        for r in records {
            let a = r.record();
            let key = read_key(Self::origin_index(tx, a.origin)?, a.seq);
            let mut table = tx.open_table(ALERTS).map_err(dberr)?;
            if let Some(existing) = table.get(key).map_err(dberr)? {
                if existing.value() == r.envelope() {
                    continue;
                }
                return Err(StoreError::Conflict {
                    origin: a.origin,
                    seq: a.seq,
                });
            }
            table.insert(key, r.envelope()).map_err(dberr)?;
            added += 1;
        }
        Ok(added)
    }

    /// Stores this node's alert records (retro-hits) in one durable transaction.
    pub fn append_alerts(&self, records: &[VerifiedAlertRecord]) -> Result<usize, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let mut marks = MarkWriter::new(Collection::Alerts);
        let added = Self::insert_alerts(&tx, records, &mut marks)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    /// Stores a verified run of a peer's alert records and moves the
    /// origin's mark over it, in one durable transaction.
    pub fn ingest_alerts(
        &self,
        records: &[VerifiedAlertRecord],
        run: Run,
    ) -> Result<usize, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let mut marks = MarkWriter::new(Collection::Alerts);
        let added = Self::insert_alerts(&tx, records, &mut marks)?;
        marks.cover(&tx, run)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    /// The newest seq of `origin`'s alert records this store holds or held
    /// (the mark survives a purge, so seqs are never reused).
    pub fn last_alert_seq(&self, origin: NodeId) -> Result<u64, StoreError> {
        let tx = self.read_tx()?;
        let marks = tx.open_table(MARKS).map_err(dberr)?;
        let mut key = [0u8; 33];
        key[0] = super::replica::tag(Collection::Alerts);
        key[1..].copy_from_slice(&origin.0);
        let mark = marks.get(key).map_err(dberr)?.map_or(0, |v| v.value());
        let Some(idx) = Self::lookup_origin(&tx, origin)? else {
            return Ok(mark);
        };
        let table = tx.open_table(ALERTS).map_err(dberr)?;
        let last = table
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back()
            .transpose()
            .map_err(dberr)?
            .map_or(0, |(k, _)| split_read_key(&k.value()).1);
        Ok(mark.max(last))
    }

    /// Every alert record stored, by origin then seq, at most
    /// `ALERTS_LISTED_MAX`.
    pub fn alert_envelopes(&self) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
        let tx = self.read_tx()?;
        let ids = tx.open_table(super::ORIGIN_IDS).map_err(dberr)?;
        let table = tx.open_table(ALERTS).map_err(dberr)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(dberr)?.take(ALERTS_LISTED_MAX) {
            let (k, v) = entry.map_err(dberr)?;
            let (idx, seq) = split_read_key(&k.value());
            let Some(origin) = ids.get(idx).map_err(dberr)? else {
                return Err(StoreError::Corrupt(format!(
                    "alert record under unknown origin index {idx}"
                )));
            };
            out.push((
                RecordId {
                    origin: NodeId(origin.value()),
                    seq,
                },
                v.value().to_vec(),
            ));
        }
        Ok(out)
    }

    /// One alert record's envelope, if stored.
    pub fn alert_envelope(&self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, id.origin)? else {
            return Ok(None);
        };
        let table = tx.open_table(ALERTS).map_err(dberr)?;
        Ok(table
            .get(read_key(idx, id.seq))
            .map_err(dberr)?
            .map(|v| v.value().to_vec()))
    }

    /// Deletes alert records (a purge), with the audit event that documents
    /// it, in one transaction; returns how many were deleted.
    pub fn delete_alerts(
        &self,
        ids: &[RecordId],
        audit: &VerifiedAuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let mut deleted = 0;
        {
            let origins = tx.open_table(super::ORIGINS).map_err(dberr)?;
            let mut keys = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(idx) = origins.get(id.origin.0).map_err(dberr)? {
                    keys.push(read_key(idx.value(), id.seq));
                }
            }
            drop(origins);
            let mut table = tx.open_table(ALERTS).map_err(dberr)?;
            for k in keys {
                if table.remove(k).map_err(dberr)?.is_some() {
                    deleted += 1;
                }
            }
        }
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        Self::insert_audit(&tx, std::slice::from_ref(audit), &mut marks)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(deleted)
    }
}
