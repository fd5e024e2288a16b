//! The node's database (redb): sealed records, blind indexes, certificates.
//!
//! Tables and their keys (all big-endian so byte order is numeric order):
//!
//! | table        | key                                        | value                  |
//! |--------------|--------------------------------------------|------------------------|
//! | `meta`       | name                                       | bytes                  |
//! | `origins`    | node id                                    | local origin index u32 |
//! | `origin_ids` | local origin index                         | node id                |
//! | `certs`      | node id                                    | signed certificate     |
//! | `reads`      | origin index, seq                          | envelope               |
//! | `read_time`  | capture time, origin index, seq            | sealed plate column    |
//! | `read_plate` | blind plate (16), capture time, origin, seq| ()                     |
//! | `audit`      | origin index, seq                          | envelope               |
//!
//! Invariants:
//! - Plates never appear in clear on disk. `read_plate` holds a keyed hash of
//!   the plate (HMAC-SHA256 under a key derived from the data key) and
//!   `read_time` holds the plate sealed under another derived key, so exact
//!   lookups touch one index range and wildcard scans decrypt a few dozen
//!   bytes per read instead of whole envelopes.
//! - A write returns only after its transaction committed with
//!   `Durability::Immediate`: an acknowledged record survives kill -9 and
//!   power loss.
//! - Records are immutable: re-inserting identical bytes is a no-op, and
//!   different bytes under an existing (origin, seq) are refused as a conflict.

use std::path::{Path, PathBuf};

use alpr_protocol::{
    AgencyId, DataKey, NodeId, PlatePattern, PlateText, SignedCertificate, Timestamp,
    VerifiedAuditEvent, VerifiedRead,
};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::CryptoRng;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};
use sha2::Sha256;

/// Bumped on any change to tables or key layouts; checked at open.
pub const SCHEMA_VERSION: u32 = 1;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ORIGINS: TableDefinition<[u8; 32], u32> = TableDefinition::new("origins");
const ORIGIN_IDS: TableDefinition<u32, [u8; 32]> = TableDefinition::new("origin_ids");
const CERTS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("certs");
const READS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("reads");
const READ_TIME: TableDefinition<[u8; 20], &[u8]> = TableDefinition::new("read_time");
const READ_PLATE: TableDefinition<[u8; 36], ()> = TableDefinition::new("read_plate");
const AUDIT: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("audit");

const BLIND_LEN: usize = 16;
/// Plates are padded to this many bytes in the plate column so lengths do not show.
const COLUMN_PLAIN_LEN: usize = 1 + alpr_protocol::plate::PLATE_LEN_MAX;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: redb::DatabaseError,
    },
    #[error("{path} already exists; refusing to overwrite a database")]
    Exists { path: PathBuf },
    #[error("{path} is not an ALPR node database (no schema version)")]
    NotAStore { path: PathBuf },
    #[error("database schema version {found} is not supported (this build uses {SCHEMA_VERSION})")]
    Schema { found: u32 },
    #[error("database belongs to agency {found:?}, not {expected:?}")]
    WrongAgency { found: AgencyId, expected: AgencyId },
    #[error("record conflict: origin {origin:?} seq {seq} is already stored with different bytes")]
    Conflict { origin: NodeId, seq: u64 },
    #[error("database is damaged: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
}

fn dberr<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}

/// Keys derived from the data key for the local indexes.
struct IndexKeys {
    blind: Hmac<Sha256>,
    column: XChaCha20Poly1305,
}

impl IndexKeys {
    fn new(data_key: &DataKey) -> Self {
        let blind_key = data_key.derive(b"store plate blind index v1");
        let column_key = data_key.derive(b"store plate column v1");
        IndexKeys {
            // Invariant: HMAC accepts keys of any length.
            blind: <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&blind_key)
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
            column: XChaCha20Poly1305::new(&column_key.into()),
        }
    }

    fn blind(&self, plate: &PlateText) -> [u8; BLIND_LEN] {
        let mut mac = self.blind.clone();
        mac.update(plate.as_str().as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; BLIND_LEN];
        out.copy_from_slice(&tag[..BLIND_LEN]);
        out
    }

    fn seal_column<R: CryptoRng + ?Sized>(
        &self,
        key: &[u8; 20],
        plate: &PlateText,
        rng: &mut R,
    ) -> Vec<u8> {
        let mut plain = [0u8; COLUMN_PLAIN_LEN];
        let text = plate.as_str().as_bytes();
        plain[0] = text.len() as u8;
        plain[1..1 + text.len()].copy_from_slice(text);
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut nonce);
        // Invariant: encryption of 11 bytes cannot fail.
        let ct = self
            .column
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: key,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// The plate text in a column entry, or None if it does not open.
    fn open_column(
        &self,
        key: &[u8; 20],
        sealed: &[u8],
    ) -> Option<([u8; COLUMN_PLAIN_LEN], usize)> {
        if sealed.len() < 24 {
            return None;
        }
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&sealed[..24]);
        let plain = self
            .column
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[24..],
                    aad: key,
                },
            )
            .ok()?;
        let len = usize::from(*plain.first()?);
        if plain.len() != COLUMN_PLAIN_LEN || len == 0 || len >= COLUMN_PLAIN_LEN {
            return None;
        }
        let mut out = [0u8; COLUMN_PLAIN_LEN];
        out.copy_from_slice(&plain);
        Some((out, len))
    }
}

/// Where a record lives: its origin and per-origin sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId {
    pub origin: NodeId,
    pub seq: u64,
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.origin.short(), self.seq)
    }
}

/// Matches of a search, newest first, at most `limit` of them, and how many matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches {
    pub ids: Vec<(Timestamp, RecordId)>,
    pub total: u64,
}

/// A time window, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        from: Timestamp::MIN,
        to: Timestamp::MAX,
    };
}

/// Facts fixed when the database was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreIdentity {
    pub agency: AgencyId,
    pub node: NodeId,
}

pub struct Store {
    db: Database,
    keys: IndexKeys,
    identity: StoreIdentity,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("identity", &self.identity)
            .finish()
    }
}

fn read_key(origin_idx: u32, seq: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&origin_idx.to_be_bytes());
    k[4..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn time_key(time: Timestamp, origin_idx: u32, seq: u64) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..8].copy_from_slice(&time.to_sortable_bytes());
    k[8..].copy_from_slice(&read_key(origin_idx, seq));
    k
}

fn plate_key(blind: &[u8; BLIND_LEN], time: Timestamp, origin_idx: u32, seq: u64) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..16].copy_from_slice(blind);
    k[16..].copy_from_slice(&time_key(time, origin_idx, seq));
    k
}

fn split_time_key(k: &[u8]) -> (Timestamp, u32, u64) {
    let mut t = [0u8; 8];
    t.copy_from_slice(&k[..8]);
    let mut o = [0u8; 4];
    o.copy_from_slice(&k[8..12]);
    let mut s = [0u8; 8];
    s.copy_from_slice(&k[12..20]);
    (
        Timestamp::from_sortable_bytes(t),
        u32::from_be_bytes(o),
        u64::from_be_bytes(s),
    )
}

impl Store {
    /// Creates a new database file. Fails if one exists.
    pub fn create(
        path: &Path,
        identity: StoreIdentity,
        data_key: &DataKey,
    ) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists {
                path: path.to_path_buf(),
            });
        }
        let db = Database::builder()
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Self::init(db, identity, data_key)
    }

    /// An in-memory database (redb's in-memory backend), for the simulator and tests.
    pub fn in_memory(identity: StoreIdentity, data_key: &DataKey) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|source| StoreError::Open {
                path: PathBuf::from("(memory)"),
                source,
            })?;
        Self::init(db, identity, data_key)
    }

    fn init(db: Database, identity: StoreIdentity, data_key: &DataKey) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(dberr)?;
        {
            let mut meta = tx.open_table(META).map_err(dberr)?;
            meta.insert("schema", SCHEMA_VERSION.to_be_bytes().as_slice())
                .map_err(dberr)?;
            meta.insert("agency", identity.agency.as_bytes().as_slice())
                .map_err(dberr)?;
            meta.insert("node", identity.node.as_bytes().as_slice())
                .map_err(dberr)?;
            // Create every table so read transactions never meet a missing one.
            tx.open_table(ORIGINS).map_err(dberr)?;
            tx.open_table(ORIGIN_IDS).map_err(dberr)?;
            tx.open_table(CERTS).map_err(dberr)?;
            tx.open_table(READS).map_err(dberr)?;
            tx.open_table(READ_TIME).map_err(dberr)?;
            tx.open_table(READ_PLATE).map_err(dberr)?;
            tx.open_table(AUDIT).map_err(dberr)?;
        }
        tx.commit().map_err(dberr)?;
        Ok(Store {
            db,
            keys: IndexKeys::new(data_key),
            identity,
        })
    }

    /// Opens an existing database and checks its schema version and agency.
    pub fn open(path: &Path, agency: AgencyId, data_key: &DataKey) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                source: redb::DatabaseError::Storage(redb::StorageError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "file not found",
                ))),
            });
        }
        let db = Database::builder()
            .open(path)
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let not_a_store = || StoreError::NotAStore {
            path: path.to_path_buf(),
        };
        let tx = db.begin_read().map_err(dberr)?;
        let meta = tx.open_table(META).map_err(|_| not_a_store())?;
        let get = |name: &str| -> Result<Option<Vec<u8>>, StoreError> {
            Ok(meta.get(name).map_err(dberr)?.map(|v| v.value().to_vec()))
        };
        let schema = get("schema")?.ok_or_else(not_a_store)?;
        let schema = <[u8; 4]>::try_from(schema.as_slice())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Corrupt("schema version is not 4 bytes".into()))?;
        if schema != SCHEMA_VERSION {
            return Err(StoreError::Schema { found: schema });
        }
        let id32 = |name: &str| -> Result<[u8; 32], StoreError> {
            let v =
                get(name)?.ok_or_else(|| StoreError::Corrupt(format!("meta '{name}' missing")))?;
            <[u8; 32]>::try_from(v.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("meta '{name}' is not 32 bytes")))
        };
        let identity = StoreIdentity {
            agency: AgencyId(id32("agency")?),
            node: NodeId(id32("node")?),
        };
        drop(meta);
        drop(tx);
        if identity.agency != agency {
            return Err(StoreError::WrongAgency {
                found: identity.agency,
                expected: agency,
            });
        }
        Ok(Store {
            db,
            keys: IndexKeys::new(data_key),
            identity,
        })
    }

    pub fn identity(&self) -> StoreIdentity {
        self.identity
    }

    pub fn put_certificate(
        &self,
        node: NodeId,
        cert: &SignedCertificate,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        tx.open_table(CERTS)
            .map_err(dberr)?
            .insert(node.0, cert.as_bytes())
            .map_err(dberr)?;
        tx.commit().map_err(dberr)
    }

    pub fn certificates(&self) -> Result<Vec<SignedCertificate>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(CERTS).map_err(dberr)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(dberr)? {
            let (_, v) = entry.map_err(dberr)?;
            out.push(SignedCertificate::from_bytes(v.value().to_vec()));
        }
        Ok(out)
    }

    fn read_tx(&self) -> Result<ReadTransaction, StoreError> {
        self.db.begin_read().map_err(dberr)
    }

    fn origin_index(tx: &WriteTransaction, origin: NodeId) -> Result<u32, StoreError> {
        let mut origins = tx.open_table(ORIGINS).map_err(dberr)?;
        if let Some(idx) = origins.get(origin.0).map_err(dberr)? {
            return Ok(idx.value());
        }
        let mut ids = tx.open_table(ORIGIN_IDS).map_err(dberr)?;
        let next = match ids.last().map_err(dberr)? {
            Some((k, _)) => k.value() + 1,
            None => 0,
        };
        ids.insert(next, origin.0).map_err(dberr)?;
        origins.insert(origin.0, next).map_err(dberr)?;
        Ok(next)
    }

    fn lookup_origin(tx: &ReadTransaction, origin: NodeId) -> Result<Option<u32>, StoreError> {
        let origins = tx.open_table(ORIGINS).map_err(dberr)?;
        Ok(origins.get(origin.0).map_err(dberr)?.map(|v| v.value()))
    }

    fn origin_ids(tx: &ReadTransaction) -> Result<Vec<NodeId>, StoreError> {
        let ids = tx.open_table(ORIGIN_IDS).map_err(dberr)?;
        let mut out = Vec::new();
        for (expected, entry) in ids.iter().map_err(dberr)?.enumerate() {
            let (k, v) = entry.map_err(dberr)?;
            if k.value() as usize != expected {
                return Err(StoreError::Corrupt(format!(
                    "origin index {} out of order",
                    k.value()
                )));
            }
            out.push(NodeId(v.value()));
        }
        Ok(out)
    }

    /// Stores reads in one durable transaction; returns how many were new.
    pub fn append_reads<R: CryptoRng + ?Sized>(
        &self,
        reads: &[VerifiedRead],
        rng: &mut R,
    ) -> Result<usize, StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        let mut added = 0;
        {
            let mut origin_cache: Option<(NodeId, u32)> = None;
            let mut table = tx.open_table(READS).map_err(dberr)?;
            let mut by_time = tx.open_table(READ_TIME).map_err(dberr)?;
            let mut by_plate = tx.open_table(READ_PLATE).map_err(dberr)?;
            for v in reads {
                let r = v.read();
                let idx = match origin_cache {
                    Some((o, i)) if o == r.origin => i,
                    _ => {
                        let i = Self::origin_index(&tx, r.origin)?;
                        origin_cache = Some((r.origin, i));
                        i
                    }
                };
                let key = read_key(idx, r.seq);
                if let Some(existing) = table.get(key).map_err(dberr)? {
                    if existing.value() == v.envelope() {
                        continue;
                    }
                    return Err(StoreError::Conflict {
                        origin: r.origin,
                        seq: r.seq,
                    });
                }
                table.insert(key, v.envelope()).map_err(dberr)?;
                let tkey = time_key(r.captured_at, idx, r.seq);
                let column = self.keys.seal_column(&tkey, &r.body.plate, rng);
                by_time.insert(tkey, column.as_slice()).map_err(dberr)?;
                let blind = self.keys.blind(&r.body.plate);
                by_plate
                    .insert(plate_key(&blind, r.captured_at, idx, r.seq), ())
                    .map_err(dberr)?;
                added += 1;
            }
        }
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    /// Stores audit events in one durable transaction; returns how many were new.
    pub fn append_audit(&self, events: &[VerifiedAuditEvent]) -> Result<usize, StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        let mut added = 0;
        {
            let mut table = tx.open_table(AUDIT).map_err(dberr)?;
            for v in events {
                let e = v.event();
                let key = read_key(Self::origin_index(&tx, e.origin)?, e.seq);
                if let Some(existing) = table.get(key).map_err(dberr)? {
                    if existing.value() == v.envelope() {
                        continue;
                    }
                    return Err(StoreError::Conflict {
                        origin: e.origin,
                        seq: e.seq,
                    });
                }
                table.insert(key, v.envelope()).map_err(dberr)?;
                added += 1;
            }
        }
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    /// The highest stored seq of `origin` in reads (`audit = false`) or audit events.
    pub fn last_seq(&self, origin: NodeId, audit: bool) -> Result<Option<u64>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, origin)? else {
            return Ok(None);
        };
        let table = tx
            .open_table(if audit { AUDIT } else { READS })
            .map_err(dberr)?;
        let last = table
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back();
        match last {
            Some(entry) => {
                let (k, _) = entry.map_err(dberr)?;
                Ok(Some(split_read_key(&k.value()).1))
            }
            None => Ok(None),
        }
    }

    /// The last audit envelope of `origin`, to chain the next event to.
    pub fn last_audit(&self, origin: NodeId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, origin)? else {
            return Ok(None);
        };
        let table = tx.open_table(AUDIT).map_err(dberr)?;
        let last = table
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back();
        match last {
            Some(entry) => Ok(Some(entry.map_err(dberr)?.1.value().to_vec())),
            None => Ok(None),
        }
    }

    pub fn read_envelope(&self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, id.origin)? else {
            return Ok(None);
        };
        let table = tx.open_table(READS).map_err(dberr)?;
        Ok(table
            .get(read_key(idx, id.seq))
            .map_err(dberr)?
            .map(|v| v.value().to_vec()))
    }

    /// Exact plate lookup through the blind index, newest first.
    pub fn find_plate(
        &self,
        plate: &PlateText,
        range: TimeRange,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(READ_PLATE).map_err(dberr)?;
        let blind = self.keys.blind(plate);
        let lo = plate_key(&blind, range.from, 0, 0);
        let hi = plate_key(&blind, range.to, u32::MAX, u64::MAX);
        let mut matches = Matches {
            ids: Vec::new(),
            total: 0,
        };
        for entry in table.range(lo..=hi).map_err(dberr)?.rev() {
            let (k, _) = entry.map_err(dberr)?;
            matches.total += 1;
            if matches.ids.len() < limit {
                let (time, idx, seq) = split_time_key(&k.value()[16..]);
                matches.ids.push((time, resolve(&origins, idx, seq)?));
            }
        }
        Ok(matches)
    }

    /// Wildcard scan over the sealed plate column in a time window, newest first.
    pub fn find_pattern(
        &self,
        pattern: &PlatePattern,
        range: TimeRange,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(READ_TIME).map_err(dberr)?;
        let lo = time_key(range.from, 0, 0);
        let hi = time_key(range.to, u32::MAX, u64::MAX);
        let mut matches = Matches {
            ids: Vec::new(),
            total: 0,
        };
        for entry in table.range(lo..=hi).map_err(dberr)?.rev() {
            let (k, v) = entry.map_err(dberr)?;
            let key = k.value();
            let Some((plain, len)) = self.keys.open_column(&key, v.value()) else {
                let (_, idx, seq) = split_time_key(&key);
                return Err(StoreError::Corrupt(format!(
                    "plate column entry of read {} does not open",
                    resolve(&origins, idx, seq)?
                )));
            };
            let text = std::str::from_utf8(&plain[1..1 + len]).unwrap_or("");
            if pattern.matches(text) {
                matches.total += 1;
                if matches.ids.len() < limit {
                    let (time, idx, seq) = split_time_key(&key);
                    matches.ids.push((time, resolve(&origins, idx, seq)?));
                }
            }
        }
        Ok(matches)
    }

    /// Visits every stored read envelope in (origin, seq) order.
    pub fn for_each_read(&self, mut f: impl FnMut(RecordId, &[u8])) -> Result<u64, StoreError> {
        self.for_each(READS, &mut f)
    }

    /// Visits every stored audit envelope in (origin, seq) order.
    pub fn for_each_audit(&self, mut f: impl FnMut(RecordId, &[u8])) -> Result<u64, StoreError> {
        self.for_each(AUDIT, &mut f)
    }

    fn for_each(
        &self,
        def: TableDefinition<[u8; 12], &[u8]>,
        f: &mut dyn FnMut(RecordId, &[u8]),
    ) -> Result<u64, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(def).map_err(dberr)?;
        let mut n = 0;
        for entry in table.iter().map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let (idx, seq) = split_read_key(&k.value());
            f(resolve(&origins, idx, seq)?, v.value());
            n += 1;
        }
        Ok(n)
    }

    /// Counts of (reads, time index entries, plate index entries, audit events).
    pub fn counts(&self) -> Result<(u64, u64, u64, u64), StoreError> {
        let tx = self.read_tx()?;
        Ok((
            tx.open_table(READS).map_err(dberr)?.len().map_err(dberr)?,
            tx.open_table(READ_TIME)
                .map_err(dberr)?
                .len()
                .map_err(dberr)?,
            tx.open_table(READ_PLATE)
                .map_err(dberr)?
                .len()
                .map_err(dberr)?,
            tx.open_table(AUDIT).map_err(dberr)?.len().map_err(dberr)?,
        ))
    }
}

fn split_read_key(k: &[u8; 12]) -> (u32, u64) {
    let mut o = [0u8; 4];
    o.copy_from_slice(&k[..4]);
    let mut s = [0u8; 8];
    s.copy_from_slice(&k[4..]);
    (u32::from_be_bytes(o), u64::from_be_bytes(s))
}

fn resolve(origins: &[NodeId], idx: u32, seq: u64) -> Result<RecordId, StoreError> {
    origins
        .get(idx as usize)
        .map(|&origin| RecordId { origin, seq })
        .ok_or_else(|| StoreError::Corrupt(format!("local origin index {idx} is not registered")))
}
