//! The node's database (redb): sealed records, blind indexes, certificates.
//!
//! Tables and their keys (all big-endian so byte order is numeric order):
//!
//! | table        | key                                          | value                  |
//! |--------------|----------------------------------------------|------------------------|
//! | `meta`       | name                                         | bytes                  |
//! | `origins`    | node id                                      | local origin index u32 |
//! | `origin_ids` | local origin index                           | node id                |
//! | `certs`      | node id                                      | signed certificate     |
//! | `read_blocks`| origin index, first seq                      | block of envelopes     |
//! | `read_time`  | capture time, origin index, seq              | sealed plate column    |
//! | `read_plate` | blind plate (16), capture time, origin, seq  | ()                     |
//! | `crop_blocks`, `overview_blocks` | origin index, first seq  | block of image envelopes |
//! | `image_time` | kind (1), capture time, origin index, seq    | ()                     |
//! | `audit`      | origin index, seq                            | envelope               |
//! | `policy`     | "document", "local_users"                    | automerge policy document; a car's local first Administrator |
//! | `policy_signatures` | automerge change hash                 | postcard `ChangeSignature` |
//! | `auth`       | user name                                    | failures u32, locked until i64 |
//! | `audit_floor`| node id                                      | last purged audit seq, its hash |
//! | `marks`      | collection (1), node id                      | contiguous seq (see `replica`) |
//! | `hotlists`, `hotlist_content` | list name / content hash    | see `hotlists`         |
//!
//! Invariants:
//! - Plates never appear in clear on disk: see [`index`] for the blind index
//!   and the sealed plate column, which let exact lookups touch one index
//!   range and wildcard scans read 11 bytes per read instead of envelopes.
//! - A write returns only after its transaction committed with
//!   `Durability::Immediate`: an acknowledged record survives kill -9 and
//!   power loss.
//! - Records are immutable: re-inserting identical bytes is a no-op, and
//!   different bytes under an existing (origin, seq) are refused as a conflict.

mod alerts;
mod at_rest;
pub mod backend;
mod block;
mod hotlists;
pub mod index;
mod replica;

pub use hotlists::HeldList;
use hotlists::{HOTLIST_CHUNKS, HOTLIST_CONTENT, HOTLISTS};
pub use replica::Run;
use replica::{MARKS, MarkWriter};

use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use alpr_protocol::replicate::Collection;
use alpr_protocol::{
    AgencyId, DataKey, ImageKind, NodeId, PlatePattern, PlateText, SealedRead, SignedCertificate,
    Timestamp, VerifiedAuditEvent, VerifiedImage, VerifiedRead,
};
use rand::CryptoRng;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableHandle, WriteTransaction,
};

use block::BLOCK_BYTES_MAX;
use index::{BLIND_LEN, IndexKeys};

/// redb's page cache. Its default (1 GiB) lets a car's memory grow with
/// every record written; 64 MiB holds the indexes' hot pages and the block
/// tails, which is what ingest and lookups touch.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Bumped on any change to tables or key layouts; checked at open.
pub const SCHEMA_VERSION: u32 = 5;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ORIGINS: TableDefinition<[u8; 32], u32> = TableDefinition::new("origins");
const ORIGIN_IDS: TableDefinition<u32, [u8; 32]> = TableDefinition::new("origin_ids");
const CERTS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("certs");
const READ_BLOCKS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("read_blocks");
const READ_TIME: TableDefinition<[u8; 20], &[u8]> = TableDefinition::new("read_time");
const READ_PLATE: TableDefinition<[u8; 36], ()> = TableDefinition::new("read_plate");
const CROP_BLOCKS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("crop_blocks");
const OVERVIEW_BLOCKS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("overview_blocks");
/// Image records by kind and capture time, for their own retention.
const IMAGE_TIME: TableDefinition<[u8; 21], ()> = TableDefinition::new("image_time");
const AUDIT: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("audit");
const POLICY: TableDefinition<&str, &[u8]> = TableDefinition::new("policy");
/// Schema 3 and before: login state keyed by the user name in the clear.
const AUTH_CLEAR: TableDefinition<&str, [u8; 12]> = TableDefinition::new("auth");
/// Login state keyed by an HMAC of the user name (see `at_rest`).
const LOGINS: TableDefinition<[u8; 16], [u8; 12]> = TableDefinition::new("logins");
/// Per origin: the seq and envelope hash of the last purged audit event, where the kept chain starts.
const AUDIT_FLOOR: TableDefinition<[u8; 32], [u8; 40]> = TableDefinition::new("audit_floor");
/// When this node last finished a meeting with each peer: one sealed
/// value (postcard of `(node id, millis)` pairs); when a car met a station
/// says where it was.
const MEETINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("meetings");
const POLICY_SIGNATURES: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("policy_signatures");

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
    #[error("database belongs to agency {found}, not {expected}")]
    WrongAgency { found: AgencyId, expected: AgencyId },
    #[error("record conflict: origin {origin} seq {seq} is already stored with different bytes")]
    Conflict { origin: NodeId, seq: u64 },
    #[error("database is damaged: {0}")]
    Corrupt(String),
    #[error(
        "no space left on the disk that holds the database: nothing more is stored until space is freed (purge, or free the disk); nothing already stored was lost"
    )]
    DiskFull,
    #[error(
        "disk nearly full: {} MiB free, below the {} MiB kept for audit events and purges; new reads are refused until space is freed (purge, or free the disk)",
        free / (1024 * 1024),
        reserve / (1024 * 1024)
    )]
    DiskLow { free: u64, reserve: u64 },
    #[error(
        "the database stopped after an I/O error and is reopened at the next request; nothing already stored was lost"
    )]
    NeedsReopen,
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
}

impl StoreError {
    /// Whether the database must be reopened before it serves again.
    pub fn needs_reopen(&self) -> bool {
        matches!(self, StoreError::DiskFull | StoreError::NeedsReopen)
            || matches!(self, StoreError::Db(redb::Error::Io(_)))
    }
}

fn dberr<E: Into<redb::Error>>(e: E) -> StoreError {
    match e.into() {
        redb::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
        redb::Error::PreviousIo | redb::Error::DatabaseClosed => StoreError::NeedsReopen,
        other => StoreError::Db(other),
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC, and EDQUOT for a user over quota.
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || e.raw_os_error() == Some(28)
}

/// Where a record lives: its origin and per-origin sequence number (the
/// protocol's name for it, which alerts carry).
pub use alpr_protocol::alert::RecordRef as RecordId;

/// Matches of a search, newest first, at most `limit` of them, and how many matched in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// How the database's pages are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceStats {
    pub allocated_bytes: u64,
    pub stored_bytes: u64,
    pub metadata_bytes: u64,
    pub fragmented_bytes: u64,
}

/// A state change committed together with the audit event that documents it.
#[derive(Debug, Clone, Copy)]
pub enum Effect<'a> {
    /// The whole policy document, postcard-encoded.
    Policy(&'a [u8]),
    /// A user's login failure state.
    Auth { user: &'a str, state: AuthState },
    /// A change's signature, kept to prove the change to peers.
    PolicySignature(&'a alpr_protocol::replicate::ChangeSignature),
    /// A car's first Administrator, kept on the car only (postcard map of users).
    LocalUsers(&'a [u8]),
    /// Alert records (a disposition) written with the event that documents them.
    Alerts(&'a [alpr_protocol::VerifiedAlertRecord]),
    /// A hotlist version published here.
    Hotlist {
        signed: &'a alpr_protocol::hotlist::SignedHotlistVersion,
        version: &'a alpr_protocol::hotlist::HotlistVersion,
        entries: &'a [alpr_protocol::hotlist::Entry],
    },
}

/// Consecutive failed logins and the lockout they caused, per user and node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthState {
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

impl AuthState {
    fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.failures.to_be_bytes());
        out[4..].copy_from_slice(
            &self
                .locked_until
                .map_or(i64::MIN, |t| t.as_millis())
                .to_be_bytes(),
        );
        out
    }

    fn from_bytes(b: [u8; 12]) -> Self {
        let mut f = [0u8; 4];
        f.copy_from_slice(&b[..4]);
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[4..]);
        let until = i64::from_be_bytes(t);
        AuthState {
            failures: u32::from_be_bytes(f),
            locked_until: (until != i64::MIN).then_some(Timestamp(until)),
        }
    }
}

/// The oldest run of one origin's audit events past retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPrefix {
    pub origin: NodeId,
    /// The last seq to delete.
    pub upto: u64,
    /// SHA-256 of that event's envelope: the new floor of the chain.
    pub hash: [u8; 32],
    pub count: u64,
}

/// A read past its retention, as the purge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRead {
    pub id: RecordId,
    pub captured_at: Timestamp,
    pub plate: String,
}

/// What [`Store::expired_reads`] found.
#[derive(Debug, Default)]
pub struct Expired {
    pub reads: Vec<ExpiredRead>,
    /// Expired reads spared by a hold.
    pub kept: u64,
    /// More expired reads exist past `limit`.
    pub more: bool,
    /// Expired index entries too damaged to act on (left for `verify`).
    pub damaged: u64,
}

impl Expired {
    /// Counts an expired record as kept (when `keep` spares it) or collects
    /// it; returns false once `limit` records are collected and another waits.
    fn offer(
        &mut self,
        id: RecordId,
        captured_at: Timestamp,
        plate: &str,
        limit: usize,
        keep: &mut impl FnMut(RecordId, Timestamp, &str) -> bool,
    ) -> bool {
        if keep(id, captured_at, plate) {
            self.kept += 1;
            return true;
        }
        if self.reads.len() == limit {
            self.more = true;
            return false;
        }
        self.reads.push(ExpiredRead {
            id,
            captured_at,
            plate: plate.to_string(),
        });
        true
    }
}

/// Facts fixed when the database was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreIdentity {
    pub agency: AgencyId,
    pub node: NodeId,
}

pub struct Store {
    /// None only while a reopen after an I/O error has not yet succeeded.
    db: Option<Database>,
    /// The file, to reopen it; None for an in-memory store.
    path: Option<PathBuf>,
    keys: IndexKeys,
    rest: at_rest::AtRest,
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

/// The last block of an origin, held in memory while a batch appends to it.
struct Tail {
    first_seq: u64,
    last_seq: u64,
    bytes: Vec<u8>,
    dirty: bool,
}

/// A stored read as a visitor sees it: its bytes, or a block that does not parse.
#[derive(Debug)]
pub enum StoredRead<'a> {
    Envelope(RecordId, &'a [u8]),
    DamagedBlock {
        origin: NodeId,
        first_seq: u64,
        reason: String,
    },
}

impl Store {
    /// Creates a new database file. Fails if one exists.
    pub fn create<R: CryptoRng + ?Sized>(
        path: &Path,
        identity: StoreIdentity,
        data_key: &DataKey,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists {
                path: path.to_path_buf(),
            });
        }
        let open_err = |e: std::io::Error| StoreError::Open {
            path: path.to_path_buf(),
            source: redb::DatabaseError::Storage(redb::StorageError::Io(e)),
        };
        // Owner-only from its first byte: redb would create it world-readable.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(open_err)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Self::init(db, Some(path.to_path_buf()), identity, data_key, rng)
    }

    /// An in-memory database (redb's in-memory backend), for the simulator and tests.
    pub fn in_memory<R: CryptoRng + ?Sized>(
        identity: StoreIdentity,
        data_key: &DataKey,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|source| StoreError::Open {
                path: PathBuf::from("(memory)"),
                source,
            })?;
        Self::init(db, None, identity, data_key, rng)
    }

    /// A new database over any redb backend (an in-memory disk, a faulty one).
    pub fn create_with_backend<R: CryptoRng + ?Sized>(
        backend: impl redb::StorageBackend,
        identity: StoreIdentity,
        data_key: &DataKey,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(backend)
            .map_err(|source| StoreError::Open {
                path: PathBuf::from("(backend)"),
                source,
            })?;
        Self::init(db, None, identity, data_key, rng)
    }

    /// Opens an existing database over any redb backend, with the checks of [`Store::open`].
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
        agency: AgencyId,
        data_key: &DataKey,
    ) -> Result<Self, StoreError> {
        let label = PathBuf::from("(backend)");
        // redb would create a database on an empty backend: opening one is
        // refused instead, as opening a missing file is.
        if backend.len().map_err(|e| dberr(redb::Error::Io(e)))? == 0 {
            return Err(StoreError::NotAStore { path: label });
        }
        let db = Database::builder()
            .create_with_backend(backend)
            .map_err(|source| StoreError::Open {
                path: label.clone(),
                source,
            })?;
        Self::from_database(db, &label, None, agency, data_key)
    }

    fn init<R: CryptoRng + ?Sized>(
        db: Database,
        path: Option<PathBuf>,
        identity: StoreIdentity,
        data_key: &DataKey,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let tx = db.begin_write().map_err(dberr)?;
        {
            let mut meta = tx.open_table(META).map_err(dberr)?;
            meta.insert("schema", SCHEMA_VERSION.to_be_bytes().as_slice())
                .map_err(dberr)?;
            meta.insert("agency", identity.agency.as_bytes().as_slice())
                .map_err(dberr)?;
            meta.insert("node", identity.node.as_bytes().as_slice())
                .map_err(dberr)?;
            meta.insert("salt", salt.as_slice()).map_err(dberr)?;
            // Create every table so read transactions never meet a missing one.
            tx.open_table(ORIGINS).map_err(dberr)?;
            tx.open_table(ORIGIN_IDS).map_err(dberr)?;
            tx.open_table(CERTS).map_err(dberr)?;
            tx.open_table(READ_BLOCKS).map_err(dberr)?;
            tx.open_table(READ_TIME).map_err(dberr)?;
            tx.open_table(READ_PLATE).map_err(dberr)?;
            tx.open_table(CROP_BLOCKS).map_err(dberr)?;
            tx.open_table(OVERVIEW_BLOCKS).map_err(dberr)?;
            tx.open_table(IMAGE_TIME).map_err(dberr)?;
            tx.open_table(AUDIT).map_err(dberr)?;
            tx.open_table(POLICY).map_err(dberr)?;
            tx.open_table(LOGINS).map_err(dberr)?;
            tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
            tx.open_table(MARKS).map_err(dberr)?;
            tx.open_table(HOTLISTS).map_err(dberr)?;
            tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
            tx.open_table(POLICY_SIGNATURES).map_err(dberr)?;
            tx.open_table(alerts::ALERTS).map_err(dberr)?;
        }
        tx.commit().map_err(dberr)?;
        Ok(Store {
            db: Some(db),
            path,
            keys: IndexKeys::new(data_key, &salt),
            rest: at_rest::AtRest::new(data_key, &salt),
            identity,
        })
    }

    /// Opens an existing database and checks its schema version and agency.
    pub fn open(path: &Path, agency: AgencyId, data_key: &DataKey) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if !path.exists() {
            return Err(open_err(redb::DatabaseError::Storage(
                redb::StorageError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "file not found",
                )),
            )));
        }
        owner_only(path)
            .map_err(|e| open_err(redb::DatabaseError::Storage(redb::StorageError::Io(e))))?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open(path)
            .map_err(open_err)?;
        Self::from_database(db, path, Some(path.to_path_buf()), agency, data_key)
    }

    /// Checks an opened database's schema and agency, and migrates an older schema.
    fn from_database(
        mut db: Database,
        path: &Path,
        file: Option<PathBuf>,
        agency: AgencyId,
        data_key: &DataKey,
    ) -> Result<Self, StoreError> {
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
        if schema > SCHEMA_VERSION || schema == 0 {
            return Err(StoreError::Schema { found: schema });
        }
        let meta_bytes = |name: &str| -> Result<Vec<u8>, StoreError> {
            get(name)?.ok_or_else(|| StoreError::Corrupt(format!("meta '{name}' missing")))
        };
        let id32 = |name: &str| -> Result<[u8; 32], StoreError> {
            <[u8; 32]>::try_from(meta_bytes(name)?.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("meta '{name}' is not 32 bytes")))
        };
        let identity = StoreIdentity {
            agency: AgencyId(id32("agency")?),
            node: NodeId(id32("node")?),
        };
        let salt = <[u8; 16]>::try_from(meta_bytes("salt")?.as_slice())
            .map_err(|_| StoreError::Corrupt("meta 'salt' is not 16 bytes".into()))?;
        drop(meta);
        drop(tx);
        if identity.agency != agency {
            return Err(StoreError::WrongAgency {
                found: identity.agency,
                expected: agency,
            });
        }
        let rest = at_rest::AtRest::new(data_key, &salt);
        if schema < SCHEMA_VERSION {
            // Schema 2 added replication marks and hotlists, schema 3 policy
            // change signatures (the policy document itself converts when
            // the engine opens it), schema 4 sealed policy, login and hotlist
            // values at rest, schema 5 alerts and hotlist entries with
            // detail; nothing else changed.
            let tx = db.begin_write().map_err(dberr)?;
            if schema < 5 {
                // Entries of format-1 lists lack the detail that format 2
                // signs, so they cannot be converted: a car is sent them
                // again at its next meeting, a station publishes them again.
                tx.delete_table(HOTLISTS).map_err(dberr)?;
                tx.delete_table(HOTLIST_CHUNKS).map_err(dberr)?;
                tx.delete_table(HOTLIST_CONTENT).map_err(dberr)?;
            }
            tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
            tx.open_table(alerts::ALERTS).map_err(dberr)?;
            if schema < 2 {
                replica::rebuild_marks(&tx)?;
            }
            tx.open_table(MARKS).map_err(dberr)?;
            tx.open_table(HOTLISTS).map_err(dberr)?;
            tx.open_table(HOTLIST_CONTENT).map_err(dberr)?;
            tx.open_table(POLICY_SIGNATURES).map_err(dberr)?;
            if schema < 4 {
                seal_clear_values(&rest, &tx)?;
            }
            tx.open_table(META)
                .map_err(dberr)?
                .insert("schema", SCHEMA_VERSION.to_be_bytes().as_slice())
                .map_err(dberr)?;
            tx.commit().map_err(dberr)?;
            if schema < 4 {
                // The clear values' old pages are freed, not yet overwritten:
                // compaction rewrites the file without them.
                db.compact().map_err(|e| dberr(redb::Error::from(e)))?;
            }
        }
        Ok(Store {
            db: Some(db),
            path: file,
            keys: IndexKeys::new(data_key, &salt),
            rest,
            identity,
        })
    }

    pub fn identity(&self) -> StoreIdentity {
        self.identity
    }

    fn db(&self) -> Result<&Database, StoreError> {
        self.db.as_ref().ok_or(StoreError::NeedsReopen)
    }

    /// Reopens the database if an I/O error (a full disk, say) stopped it:
    /// redb refuses every later transaction until then, even once space is
    /// freed. Returns whether it reopened. Reopening runs redb's repair
    /// when the file was left mid-commit; a reopen that fails (the disk
    /// still full) leaves the store closed, and the next call tries again.
    pub fn recover(&mut self) -> Result<bool, StoreError> {
        let Some(path) = self.path.clone() else {
            return Ok(false);
        };
        if let Some(db) = &self.db {
            match db.try_begin_write() {
                Ok(tx) => {
                    tx.abort().map_err(dberr)?;
                    return Ok(false);
                }
                Err(redb::TransactionError::WouldBlock) => return Ok(false),
                Err(e) => {
                    if !dberr(e).needs_reopen() {
                        return Ok(false);
                    }
                }
            }
        }
        // The old handle must be gone first: redb locks the file.
        drop(self.db.take());
        owner_only(&path).map_err(|e| dberr(redb::Error::Io(e)))?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open(&path)
            .map_err(dberr)?;
        // The same database, not whatever file now lies at the path (a
        // restored backup of another node, an older schema).
        {
            let tx = db.begin_read().map_err(dberr)?;
            let meta = tx.open_table(META).map_err(dberr)?;
            let get = |name: &str| -> Result<Option<Vec<u8>>, StoreError> {
                Ok(meta.get(name).map_err(dberr)?.map(|v| v.value().to_vec()))
            };
            let same = get("agency")?.as_deref()
                == Some(self.identity.agency.as_bytes().as_slice())
                && get("node")?.as_deref() == Some(self.identity.node.as_bytes().as_slice())
                && get("schema")?.as_deref() == Some(SCHEMA_VERSION.to_be_bytes().as_slice());
            if !same {
                return Err(StoreError::Corrupt(format!(
                    "{} is no longer this node's database (another node, agency or schema); restart the daemon",
                    path.display()
                )));
            }
        }
        self.db = Some(db);
        tracing::warn!(path = %path.display(), "database reopened after an I/O error");
        Ok(true)
    }

    /// Closes the database cleanly (redb marks the file as shut down), for
    /// a daemon stopping on a signal; every later call fails as closed.
    pub fn close(&mut self) {
        drop(self.db.take());
    }

    /// Bytes free to this process on the disk that holds the database
    /// (None for an in-memory store or where the system cannot say).
    /// Bytes of the database file, for a store that has one.
    pub fn file_bytes(&self) -> Option<u64> {
        Some(std::fs::metadata(self.path.as_ref()?).ok()?.len())
    }

    pub fn disk_free(&self) -> Option<u64> {
        let path = self.path.as_ref()?;
        let stat = rustix::fs::statvfs(path).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    pub fn put_certificate(
        &self,
        node: NodeId,
        cert: &SignedCertificate,
    ) -> Result<(), StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
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
        self.db()?.begin_read().map_err(dberr)
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
    pub fn append_reads(&self, reads: &[VerifiedRead]) -> Result<usize, StoreError> {
        self.append_records(reads, &[])
    }

    /// Stores sealed reads with their images in one durable transaction;
    /// returns how many reads were new.
    pub fn append_sealed(&self, sealed: &[SealedRead]) -> Result<usize, StoreError> {
        self.append_sealed_raising(sealed, &[])
    }

    /// Stores sealed reads and the alerts they raised in one durable
    /// transaction: a read is never stored without its alert, nor an alert
    /// without its read.
    pub fn append_sealed_raising(
        &self,
        sealed: &[SealedRead],
        alerts: &[alpr_protocol::VerifiedAlertRecord],
    ) -> Result<usize, StoreError> {
        let reads: Vec<&VerifiedRead> = sealed.iter().map(|s| &s.read).collect();
        let images: Vec<&VerifiedImage> = sealed.iter().flat_map(|s| &s.images).collect();
        self.append_refs_covering(&reads, &images, None, alerts)
    }

    /// Stores reads and image records in one durable transaction; returns how many reads were new.
    pub fn append_records(
        &self,
        reads: &[VerifiedRead],
        images: &[VerifiedImage],
    ) -> Result<usize, StoreError> {
        let reads: Vec<&VerifiedRead> = reads.iter().collect();
        let images: Vec<&VerifiedImage> = images.iter().collect();
        self.append_refs(&reads, &images)
    }

    /// The one write path for reads and images; takes references so that
    /// images (kilobytes each) are never copied on the way to the store.
    fn append_refs(
        &self,
        reads: &[&VerifiedRead],
        images: &[&VerifiedImage],
    ) -> Result<usize, StoreError> {
        self.append_refs_covering(reads, images, None, &[])
    }

    /// Appends, moves the read marks over what was stored and, for a run
    /// from a peer, over the whole run.
    fn append_refs_covering(
        &self,
        reads: &[&VerifiedRead],
        images: &[&VerifiedImage],
        run: Option<Run>,
        alerts: &[alpr_protocol::VerifiedAlertRecord],
    ) -> Result<usize, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        if !alerts.is_empty() {
            let mut marks = MarkWriter::new(Collection::Alerts);
            Self::insert_alerts(&tx, alerts, &mut marks)?;
            marks.finish(&tx)?;
        }
        let mut added = 0;
        let mut marks = MarkWriter::new(Collection::Reads);
        for v in reads {
            marks.held(&tx, v.read().origin, v.read().seq)?;
        }
        if let Some(run) = run {
            marks.cover(&tx, run)?;
        }
        marks.finish(&tx)?;
        {
            let mut by_time = tx.open_table(READ_TIME).map_err(dberr)?;
            let mut by_plate = tx.open_table(READ_PLATE).map_err(dberr)?;
            let mut origins = OriginCache::default();
            let mut blocks = Appender::new(tx.open_table(READ_BLOCKS).map_err(dberr)?);
            for v in reads {
                let r = v.read();
                let idx = origins.index(&tx, r.origin)?;
                if blocks.add(idx, r.origin, r.seq, v.envelope())? {
                    let tkey = time_key(r.captured_at, idx, r.seq);
                    let column = self
                        .keys
                        .seal_column(&column_nonce(idx, r.seq), r.body.plate.as_str());
                    by_time.insert(tkey, column.as_slice()).map_err(dberr)?;
                    let blind = self.keys.blind(r.body.plate.as_str());
                    by_plate
                        .insert(plate_key(&blind, r.captured_at, idx, r.seq), ())
                        .map_err(dberr)?;
                    added += 1;
                }
            }
            blocks.finish()?;
            let mut image_time = tx.open_table(IMAGE_TIME).map_err(dberr)?;
            for (kind, def) in [
                (ImageKind::PlateCrop, CROP_BLOCKS),
                (ImageKind::Overview, OVERVIEW_BLOCKS),
            ] {
                let mut blocks = Appender::new(tx.open_table(def).map_err(dberr)?);
                for image in images.iter().filter(|i| i.kind == kind) {
                    let idx = origins.index(&tx, image.origin)?;
                    if blocks.add(idx, image.origin, image.seq, image.envelope())? {
                        image_time
                            .insert(image_time_key(kind, image.captured_at, idx, image.seq), ())
                            .map_err(dberr)?;
                    }
                }
                blocks.finish()?;
            }
        }
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    /// An image record's envelope, if stored (it may be past its retention).
    pub fn read_image(&self, id: RecordId, kind: ImageKind) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, id.origin)? else {
            return Ok(None);
        };
        let table = tx.open_table(image_table(kind)).map_err(dberr)?;
        lookup_in_blocks(&table, idx, id)
    }

    /// Images of `kind` captured before `cutoff`, oldest first, at most
    /// `limit`; `keep` sees each one's read id, capture time and plate.
    pub fn expired_images(
        &self,
        kind: ImageKind,
        cutoff: Timestamp,
        limit: usize,
        mut keep: impl FnMut(RecordId, Timestamp, &str) -> bool,
    ) -> Result<Expired, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(IMAGE_TIME).map_err(dberr)?;
        let by_time = tx.open_table(READ_TIME).map_err(dberr)?;
        let mut out = Expired::default();
        let lo = image_time_key(kind, Timestamp::MIN, 0, 0);
        let hi = image_time_key(
            kind,
            Timestamp(cutoff.as_millis().saturating_sub(1)),
            u32::MAX,
            u64::MAX,
        );
        for entry in table.range(lo..=hi).map_err(dberr)? {
            let (k, _) = entry.map_err(dberr)?;
            let (time, idx, seq) = split_time_key(&k.value()[1..]);
            let id = resolve(&origins, idx, seq)?;
            // The plate comes from the read's sealed column, for plate holds. Without
            // it a hold could not be honoured, so the image is left for `verify`.
            let column = by_time.get(time_key(time, idx, seq)).map_err(dberr)?;
            let Some((plain, len)) =
                column.and_then(|v| self.keys.open_column(&column_nonce(idx, seq), v.value()))
            else {
                tracing::warn!(read = %id, "image purge skips an image whose read index is missing");
                out.damaged += 1;
                continue;
            };
            let plate = String::from_utf8_lossy(&plain[1..1 + len]);
            if !out.offer(id, time, &plate, limit, &mut keep) {
                break;
            }
        }
        Ok(out)
    }

    /// Deletes image records of `kind` (found by [`Store::expired_images`])
    /// and stores the documenting audit event, in one durable transaction.
    pub fn delete_images(
        &self,
        kind: ImageKind,
        images: &[ExpiredRead],
        audit: &VerifiedAuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let deleted = Self::remove_images(&tx, kind, images)?;
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        Self::insert_audit(&tx, std::slice::from_ref(audit), &mut marks)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(deleted)
    }

    fn remove_images(
        tx: &WriteTransaction,
        kind: ImageKind,
        images: &[ExpiredRead],
    ) -> Result<u64, StoreError> {
        let idx_of = origin_indexes(tx, images.iter().map(|r| r.id.origin))?;
        let mut table = tx.open_table(image_table(kind)).map_err(dberr)?;
        let deleted = delete_from_blocks(&mut table, &idx_of, images.iter().map(|r| r.id))?;
        let mut image_time = tx.open_table(IMAGE_TIME).map_err(dberr)?;
        for r in images {
            if let Some(idx) = idx_of.get(&r.id.origin) {
                image_time
                    .remove(image_time_key(kind, r.captured_at, *idx, r.id.seq))
                    .map_err(dberr)?;
            }
        }
        Ok(deleted)
    }

    /// Visits every stored image record of `kind` in (origin, seq) order.
    pub fn for_each_image(
        &self,
        kind: ImageKind,
        mut f: impl FnMut(StoredRead<'_>),
    ) -> Result<u64, StoreError> {
        self.visit_blocks(image_table(kind), &mut f)
    }

    /// Entries in the image time index, per kind (crops, overviews).
    pub fn image_counts(&self) -> Result<(u64, u64), StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(IMAGE_TIME).map_err(dberr)?;
        let count = |kind| -> Result<u64, StoreError> {
            let lo = image_time_key(kind, Timestamp::MIN, 0, 0);
            let hi = image_time_key(kind, Timestamp::MAX, u32::MAX, u64::MAX);
            let mut n = 0;
            for e in table.range(lo..=hi).map_err(dberr)? {
                e.map_err(dberr)?;
                n += 1;
            }
            Ok(n)
        };
        Ok((count(ImageKind::PlateCrop)?, count(ImageKind::Overview)?))
    }

    /// Stores audit events in one durable transaction; returns how many were new.
    pub fn append_audit(&self, events: &[VerifiedAuditEvent]) -> Result<usize, StoreError> {
        self.append_audit_with(events, &[])
    }

    /// Stores audit events and the state changes they document in one
    /// durable transaction: a change is never on disk without its audit event.
    pub fn append_audit_with(
        &self,
        events: &[VerifiedAuditEvent],
        effects: &[Effect<'_>],
    ) -> Result<usize, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        let added = Self::insert_audit(&tx, events, &mut marks)?;
        marks.finish(&tx)?;
        for effect in effects {
            match effect {
                Effect::Policy(bytes) => self.put_policy_value(&tx, "document", bytes)?,
                Effect::LocalUsers(bytes) => self.put_policy_value(&tx, "local_users", bytes)?,
                Effect::PolicySignature(sig) => put_signature(&tx, sig)?,
                Effect::Alerts(records) => {
                    let mut marks = MarkWriter::new(Collection::Alerts);
                    Self::insert_alerts(&tx, records, &mut marks)?;
                    marks.finish(&tx)?;
                }
                Effect::Auth { user, state } => {
                    tx.open_table(LOGINS)
                        .map_err(dberr)?
                        .insert(self.rest.user_key(user), state.to_bytes())
                        .map_err(dberr)?;
                }
                Effect::Hotlist {
                    signed,
                    version,
                    entries,
                } => {
                    hotlists::put_hotlist_in(&self.rest, &tx, signed, version, entries)?;
                }
            }
        }
        tx.commit().map_err(dberr)?;
        Ok(added)
    }

    fn insert_audit(
        tx: &WriteTransaction,
        events: &[VerifiedAuditEvent],
        marks: &mut MarkWriter,
    ) -> Result<usize, StoreError> {
        let mut added = 0;
        for v in events {
            marks.held(tx, v.event().origin, v.event().seq)?;
        }
        let mut table = tx.open_table(AUDIT).map_err(dberr)?;
        for v in events {
            let e = v.event();
            let key = read_key(Self::origin_index(tx, e.origin)?, e.seq);
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
        Ok(added)
    }

    /// The stored policy document, if one was ever written.
    pub fn policy_document(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.policy_value("document")
    }

    fn policy_value(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(POLICY).map_err(dberr)?;
        table
            .get(name)
            .map_err(dberr)?
            .map(|v| self.rest.open(POLICY.name(), name.as_bytes(), v.value()))
            .transpose()
    }

    fn put_policy_value(
        &self,
        tx: &WriteTransaction,
        name: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = self.rest.seal(tx, POLICY.name(), name.as_bytes(), value)?;
        tx.open_table(POLICY)
            .map_err(dberr)?
            .insert(name, sealed.as_slice())
            .map_err(dberr)?;
        Ok(())
    }

    /// A car's local first Administrator(s), if any.
    pub fn local_users(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.policy_value("local_users")
    }

    /// Every policy change signature held.
    pub fn policy_signatures(
        &self,
    ) -> Result<HashMap<[u8; 32], alpr_protocol::replicate::ChangeSignature>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(POLICY_SIGNATURES).map_err(dberr)?;
        let mut out = HashMap::new();
        for entry in table.iter().map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let sig = postcard::from_bytes(v.value())
                .map_err(|e| StoreError::Corrupt(format!("policy signature: {e}")))?;
            out.insert(k.value(), sig);
        }
        Ok(out)
    }

    /// Keeps a policy document merged with a peer's, and the signatures of
    /// the changes it gained, in one durable transaction.
    pub fn put_policy(
        &self,
        document: &[u8],
        signatures: &[alpr_protocol::replicate::ChangeSignature],
    ) -> Result<(), StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        self.put_policy_value(&tx, "document", document)?;
        for sig in signatures {
            put_signature(&tx, sig)?;
        }
        tx.commit().map_err(dberr)
    }

    /// Records that a meeting with `peer` ended in sync at `at`.
    pub fn note_meeting(&self, peer: NodeId, at: Timestamp) -> Result<(), StoreError> {
        let mut all = self.meetings()?;
        match all.iter_mut().find(|(id, _)| *id == peer) {
            Some(entry) => entry.1 = entry.1.max(at),
            None => all.push((peer, at)),
        }
        let plain: Vec<([u8; 32], i64)> = all.iter().map(|(id, t)| (id.0, t.0)).collect();
        let plain = postcard::to_allocvec(&plain)
            .map_err(|e| StoreError::Corrupt(format!("encoding meetings: {e}")))?;
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let sealed = self.rest.seal(&tx, "meetings", b"all", &plain)?;
        tx.open_table(MEETINGS)
            .map_err(dberr)?
            .insert("all", sealed.as_slice())
            .map_err(dberr)?;
        tx.commit().map_err(dberr)
    }

    /// The last meeting in sync with each peer, as [`Store::note_meeting`] kept them.
    pub fn meetings(&self) -> Result<Vec<(NodeId, Timestamp)>, StoreError> {
        let tx = self.read_tx()?;
        let table = match tx.open_table(MEETINGS) {
            Ok(t) => t,
            // A database from before meetings were kept: none yet.
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(dberr(e)),
        };
        let Some(value) = table.get("all").map_err(dberr)? else {
            return Ok(Vec::new());
        };
        let plain = self.rest.open("meetings", b"all", value.value())?;
        let pairs: Vec<([u8; 32], i64)> = postcard::from_bytes(&plain)
            .map_err(|e| StoreError::Corrupt(format!("meetings: {e}")))?;
        Ok(pairs
            .into_iter()
            .map(|(id, t)| (NodeId(id), Timestamp(t)))
            .collect())
    }

    /// A user's login failure state on this node.
    pub fn auth_state(&self, user: &str) -> Result<AuthState, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(LOGINS).map_err(dberr)?;
        Ok(table
            .get(self.rest.user_key(user))
            .map_err(dberr)?
            .map(|v| AuthState::from_bytes(v.value()))
            .unwrap_or_default())
    }

    /// Finds reads captured before `cutoff`, oldest first, at most `limit`;
    /// `keep` sees each one's id, capture time and plate and spares it by returning true.
    pub fn expired_reads(
        &self,
        cutoff: Timestamp,
        limit: usize,
        mut keep: impl FnMut(RecordId, Timestamp, &str) -> bool,
    ) -> Result<Expired, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(READ_TIME).map_err(dberr)?;
        let mut out = Expired::default();
        let hi = time_key(
            Timestamp(cutoff.as_millis().saturating_sub(1)),
            u32::MAX,
            u64::MAX,
        );
        for entry in table.range(..=hi).map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let (time, idx, seq) = split_time_key(&k.value());
            let id = resolve(&origins, idx, seq)?;
            let Some((plain, len)) = self.keys.open_column(&column_nonce(idx, seq), v.value())
            else {
                // Left for `verify` to report; one damaged entry must not stop retention.
                tracing::warn!(read = %id, "purge skips a malformed plate column entry");
                out.damaged += 1;
                continue;
            };
            let plate = String::from_utf8_lossy(&plain[1..1 + len]);
            if !out.offer(id, time, &plate, limit, &mut keep) {
                break;
            }
        }
        Ok(out)
    }

    /// Deletes reads (found by [`Store::expired_reads`]) and their index
    /// entries, and stores the audit event that documents it, in one durable
    /// transaction; returns how many were deleted.
    pub fn delete_reads(
        &self,
        reads: &[ExpiredRead],
        audit: &VerifiedAuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let deleted;
        {
            let idx_of = origin_indexes(&tx, reads.iter().map(|r| r.id.origin))?;
            let mut blocks = tx.open_table(READ_BLOCKS).map_err(dberr)?;
            deleted = delete_from_blocks(&mut blocks, &idx_of, reads.iter().map(|r| r.id))?;
            let mut by_time = tx.open_table(READ_TIME).map_err(dberr)?;
            let mut by_plate = tx.open_table(READ_PLATE).map_err(dberr)?;
            for r in reads {
                let Some(idx) = idx_of.get(&r.id.origin).copied() else {
                    continue;
                };
                by_time
                    .remove(time_key(r.captured_at, idx, r.id.seq))
                    .map_err(dberr)?;
                let blind = self.keys.blind(&r.plate);
                by_plate
                    .remove(plate_key(&blind, r.captured_at, idx, r.id.seq))
                    .map_err(dberr)?;
            }
        }
        // A read goes with its images.
        for kind in [ImageKind::PlateCrop, ImageKind::Overview] {
            Self::remove_images(&tx, kind, reads)?;
        }
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        Self::insert_audit(&tx, std::slice::from_ref(audit), &mut marks)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(deleted)
    }

    /// The highest stored seq of `origin` among reads.
    pub fn last_read_seq(&self, origin: NodeId) -> Result<Option<u64>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, origin)? else {
            return Ok(None);
        };
        let blocks = tx.open_table(READ_BLOCKS).map_err(dberr)?;
        let last = blocks
            .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
            .map_err(dberr)?
            .next_back();
        let Some(entry) = last else { return Ok(None) };
        let (_, v) = entry.map_err(dberr)?;
        let entries = block::entries(v.value()).map_err(|e| damaged_block(origin, e))?;
        Ok(entries.last().map(|e| e.seq))
    }

    /// The last audit event of `origin` (seq and envelope), to chain the next one to.
    pub fn last_audit(&self, origin: NodeId) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
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
            Some(entry) => {
                let (k, v) = entry.map_err(dberr)?;
                Ok(Some((split_read_key(&k.value()).1, v.value().to_vec())))
            }
            None => Ok(None),
        }
    }

    pub fn read_envelope(&self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, id.origin)? else {
            return Ok(None);
        };
        let blocks = tx.open_table(READ_BLOCKS).map_err(dberr)?;
        lookup_in_blocks(&blocks, idx, id)
    }

    /// Exact plate lookup through the blind index, newest first.
    pub fn find_plate(
        &self,
        plate: &PlateText,
        range: TimeRange,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        self.find_plate_of(plate, range, None, limit)
    }

    /// The reads of `origin` (any, with None) the index finds for `plate`,
    /// newest first: at most `limit` ids, and how many in all.
    pub fn find_plate_of(
        &self,
        plate: &PlateText,
        range: TimeRange,
        origin: Option<NodeId>,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let Some(wanted) = Self::origin_filter(&tx, origin)? else {
            return Ok(Matches::default());
        };
        let table = tx.open_table(READ_PLATE).map_err(dberr)?;
        let blind = self.keys.blind(plate.as_str());
        let lo = plate_key(&blind, range.from, 0, 0);
        let hi = plate_key(&blind, range.to, u32::MAX, u64::MAX);
        let mut matches = Matches {
            ids: Vec::new(),
            total: 0,
        };
        for entry in table.range(lo..=hi).map_err(dberr)?.rev() {
            let (k, _) = entry.map_err(dberr)?;
            let (time, idx, seq) = split_time_key(&k.value()[BLIND_LEN..]);
            if wanted.is_some_and(|w| w != idx) {
                continue;
            }
            matches.total += 1;
            if matches.ids.len() < limit {
                matches.ids.push((time, resolve(&origins, idx, seq)?));
            }
        }
        Ok(matches)
    }

    /// The origin index a search keeps to: `Some(None)` keeps every
    /// origin, `Some(Some(i))` one, and None says the origin has no reads
    /// here (nothing can match).
    fn origin_filter(
        tx: &ReadTransaction,
        origin: Option<NodeId>,
    ) -> Result<Option<Option<u32>>, StoreError> {
        match origin {
            None => Ok(Some(None)),
            Some(o) => Ok(Self::lookup_origin(tx, o)?.map(Some)),
        }
    }

    /// Wildcard scan over the sealed plate column in a time window, newest first.
    pub fn find_pattern(
        &self,
        pattern: &PlatePattern,
        range: TimeRange,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        self.find_pattern_of(pattern, range, None, limit)
    }

    /// [`Store::find_pattern`] over the reads of `origin` (any, with None).
    pub fn find_pattern_of(
        &self,
        pattern: &PlatePattern,
        range: TimeRange,
        origin: Option<NodeId>,
        limit: usize,
    ) -> Result<Matches, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let Some(wanted) = Self::origin_filter(&tx, origin)? else {
            return Ok(Matches::default());
        };
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
            let (time, idx, seq) = split_time_key(&key);
            if wanted.is_some_and(|w| w != idx) {
                continue;
            }
            let Some((plain, len)) = self.keys.open_column(&column_nonce(idx, seq), v.value())
            else {
                return Err(StoreError::Corrupt(format!(
                    "plate column entry of read {} is malformed",
                    resolve(&origins, idx, seq)?
                )));
            };
            if pattern.matches_bytes(&plain[1..1 + len]) {
                matches.total += 1;
                if matches.ids.len() < limit {
                    matches.ids.push((time, resolve(&origins, idx, seq)?));
                }
            }
        }
        Ok(matches)
    }

    /// Whether both indexes hold the right entries for a read (used by `verify`).
    pub fn indexes_match(&self, read: &alpr_protocol::Read) -> Result<bool, StoreError> {
        let tx = self.read_tx()?;
        let Some(idx) = Self::lookup_origin(&tx, read.origin)? else {
            return Ok(false);
        };
        let by_time = tx.open_table(READ_TIME).map_err(dberr)?;
        let column_ok = match by_time
            .get(time_key(read.captured_at, idx, read.seq))
            .map_err(dberr)?
        {
            None => false,
            Some(v) => self
                .keys
                .open_column(&column_nonce(idx, read.seq), v.value())
                .is_some_and(|(plain, len)| {
                    &plain[1..1 + len] == read.body.plate.as_str().as_bytes()
                }),
        };
        let by_plate = tx.open_table(READ_PLATE).map_err(dberr)?;
        let blind = self.keys.blind(read.body.plate.as_str());
        let plate_ok = by_plate
            .get(plate_key(&blind, read.captured_at, idx, read.seq))
            .map_err(dberr)?
            .is_some();
        Ok(column_ok && plate_ok)
    }

    /// Visits every stored read in (origin, seq) order; returns how many envelopes it visited.
    pub fn for_each_read(&self, mut f: impl FnMut(StoredRead<'_>)) -> Result<u64, StoreError> {
        self.visit_blocks(READ_BLOCKS, &mut f)
    }

    fn visit_blocks(
        &self,
        def: TableDefinition<[u8; 12], &[u8]>,
        f: &mut dyn FnMut(StoredRead<'_>),
    ) -> Result<u64, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let blocks = tx.open_table(def).map_err(dberr)?;
        let mut n = 0;
        for entry in blocks.iter().map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let (idx, first_seq) = split_read_key(&k.value());
            let origin = resolve(&origins, idx, first_seq)?.origin;
            let bytes = v.value();
            match block::entries(bytes) {
                Err(reason) => f(StoredRead::DamagedBlock {
                    origin,
                    first_seq,
                    reason,
                }),
                Ok(entries) => {
                    for e in entries {
                        f(StoredRead::Envelope(
                            RecordId { origin, seq: e.seq },
                            &bytes[e.start..e.end],
                        ));
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Where `origin`'s kept audit chain starts: the seq and envelope hash of
    /// its last purged event, or (0, zeros) if none was purged.
    pub fn audit_floor(&self, origin: NodeId) -> Result<(u64, [u8; 32]), StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
        Ok(match table.get(origin.0).map_err(dberr)? {
            None => (0, [0; 32]),
            Some(v) => split_floor(v.value()),
        })
    }

    /// The next audit seq and prev hash for `origin`'s chain: after its last
    /// stored event, or after its floor if every event was purged.
    pub fn audit_head(&self, origin: NodeId) -> Result<(u64, [u8; 32]), StoreError> {
        match self.last_audit(origin)? {
            Some((seq, bytes)) => Ok((seq, alpr_protocol::envelope::envelope_hash(&bytes))),
            None => self.audit_floor(origin),
        }
    }

    /// Per origin, the oldest audit events captured before `cutoff`, as a
    /// contiguous prefix of its chain (stopping at the first kept event), never
    /// the origin's newest event; at most `limit` in all.
    pub fn expired_audit(
        &self,
        cutoff: Timestamp,
        limit: usize,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> Result<Vec<AuditPrefix>, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(AUDIT).map_err(dberr)?;
        let mut out = Vec::new();
        let mut budget = limit;
        for (idx, origin) in origins.iter().enumerate() {
            let idx = idx as u32;
            let mut last: Option<(u64, [u8; 32])> = None;
            let mut count = 0u64;
            let mut range = table
                .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
                .map_err(dberr)?
                .peekable();
            while budget > 0 {
                let Some(entry) = range.next() else { break };
                let (k, v) = entry.map_err(dberr)?;
                // The newest event stays, so the chain always has a stored head.
                if range.peek().is_none() {
                    break;
                }
                let bytes = v.value();
                let time = alpr_protocol::envelope::Envelope::parse(bytes)
                    .map(|e| e.header.time)
                    .map_err(|e| {
                        StoreError::Corrupt(format!(
                            "audit event {}: {e}",
                            resolve(&origins, idx, split_read_key(&k.value()).1)
                                .map(|r| r.to_string())
                                .unwrap_or_default()
                        ))
                    })?;
                if time >= cutoff || keep(bytes) {
                    break;
                }
                last = Some((
                    split_read_key(&k.value()).1,
                    alpr_protocol::envelope::envelope_hash(bytes),
                ));
                count += 1;
                budget -= 1;
            }
            if let Some((upto, hash)) = last {
                out.push(AuditPrefix {
                    origin: *origin,
                    upto,
                    hash,
                    count,
                });
            }
        }
        Ok(out)
    }

    /// Deletes each origin's audit events up to and including the given seq,
    /// moves its floor there, and stores the documenting audit event, in one
    /// durable transaction; returns how many were deleted.
    pub fn delete_audit_prefix(
        &self,
        prefixes: &[AuditPrefix],
        audit: &VerifiedAuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let mut deleted = 0;
        {
            let origins = tx.open_table(ORIGINS).map_err(dberr)?;
            let mut idx_of = HashMap::new();
            for p in prefixes {
                if let Some(i) = origins.get(p.origin.0).map_err(dberr)? {
                    idx_of.insert(p.origin, i.value());
                }
            }
            drop(origins);
            let mut table = tx.open_table(AUDIT).map_err(dberr)?;
            let mut floors = tx.open_table(AUDIT_FLOOR).map_err(dberr)?;
            for AuditPrefix {
                origin, upto, hash, ..
            } in prefixes
            {
                let Some(idx) = idx_of.get(origin).copied() else {
                    continue;
                };
                let keys: Vec<[u8; 12]> = table
                    .range(read_key(idx, 0)..=read_key(idx, *upto))
                    .map_err(dberr)?
                    .map(|e| e.map(|(k, _)| k.value()))
                    .collect::<Result<_, _>>()
                    .map_err(dberr)?;
                for k in keys {
                    table.remove(k).map_err(dberr)?;
                    deleted += 1;
                }
                floors
                    .insert(origin.0, floor_bytes(*upto, hash))
                    .map_err(dberr)?;
            }
        }
        let mut marks = MarkWriter::new(Collection::AuditEvents);
        Self::insert_audit(&tx, std::slice::from_ref(audit), &mut marks)?;
        marks.finish(&tx)?;
        tx.commit().map_err(dberr)?;
        Ok(deleted)
    }

    /// Visits every stored audit envelope in (origin, seq) order.
    pub fn for_each_audit(&self, mut f: impl FnMut(RecordId, &[u8])) -> Result<u64, StoreError> {
        let tx = self.read_tx()?;
        let origins = Self::origin_ids(&tx)?;
        let table = tx.open_table(AUDIT).map_err(dberr)?;
        let mut n = 0;
        for entry in table.iter().map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let (idx, seq) = split_read_key(&k.value());
            f(resolve(&origins, idx, seq)?, v.value());
            n += 1;
        }
        Ok(n)
    }

    /// Space use as redb accounts it, for benchmarks and status displays.
    pub fn space(&self) -> Result<SpaceStats, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let stats = tx.stats().map_err(dberr)?;
        let out = SpaceStats {
            allocated_bytes: stats.allocated_pages() * stats.page_size() as u64,
            stored_bytes: stats.stored_bytes(),
            metadata_bytes: stats.metadata_bytes(),
            fragmented_bytes: stats.fragmented_bytes(),
        };
        tx.abort().map_err(dberr)?;
        Ok(out)
    }

    /// Entries in the (time, plate) indexes; each read has one in each.
    pub fn index_counts(&self) -> Result<(u64, u64), StoreError> {
        let tx = self.read_tx()?;
        Ok((
            tx.open_table(READ_TIME)
                .map_err(dberr)?
                .len()
                .map_err(dberr)?,
            tx.open_table(READ_PLATE)
                .map_err(dberr)?
                .len()
                .map_err(dberr)?,
        ))
    }
}

/// Takes group and other access away from a database an earlier build
/// created readable by all.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

/// Schema 4: seals what earlier schemas kept in the clear (policy, login
/// state by user name, hotlists), in the caller's transaction.
fn seal_clear_values(rest: &at_rest::AtRest, tx: &WriteTransaction) -> Result<(), StoreError> {
    at_rest::seal_str_table(rest, tx, POLICY)?;
    at_rest::seal_str_table(rest, tx, HOTLISTS)?;
    hotlists::chunk_clear_content(rest, tx)?;
    let logins: Vec<(String, [u8; 12])> = match tx.open_table(AUTH_CLEAR) {
        Ok(table) => table
            .iter()
            .map_err(dberr)?
            .map(|e| e.map(|(k, v)| (k.value().to_string(), v.value())))
            .collect::<Result<_, _>>()
            .map_err(dberr)?,
        Err(e) => return Err(dberr(e)),
    };
    let mut table = tx.open_table(LOGINS).map_err(dberr)?;
    for (user, state) in logins {
        table.insert(rest.user_key(&user), state).map_err(dberr)?;
    }
    drop(table);
    tx.delete_table(AUTH_CLEAR).map_err(dberr)?;
    Ok(())
}

fn damaged_block(origin: NodeId, reason: String) -> StoreError {
    StoreError::Corrupt(format!("read block of origin {origin}: {reason}"))
}

/// The column's nonce: (origin index, seq), unique within one database.
fn column_nonce(idx: u32, seq: u64) -> [u8; 12] {
    read_key(idx, seq)
}

type BlockTable<'t> = redb::Table<'t, [u8; 12], &'static [u8]>;

fn image_table(kind: ImageKind) -> TableDefinition<'static, [u8; 12], &'static [u8]> {
    match kind {
        ImageKind::PlateCrop => CROP_BLOCKS,
        ImageKind::Overview => OVERVIEW_BLOCKS,
    }
}

fn image_time_key(kind: ImageKind, time: Timestamp, idx: u32, seq: u64) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[0] = match kind {
        ImageKind::PlateCrop => 1,
        ImageKind::Overview => 2,
    };
    k[1..].copy_from_slice(&time_key(time, idx, seq));
    k
}

/// Local origin indexes looked up once per write transaction.
#[derive(Default)]
struct OriginCache {
    last: Option<(NodeId, u32)>,
}

impl OriginCache {
    fn index(&mut self, tx: &WriteTransaction, origin: NodeId) -> Result<u32, StoreError> {
        match self.last {
            Some((o, i)) if o == origin => Ok(i),
            _ => {
                let i = Store::origin_index(tx, origin)?;
                self.last = Some((origin, i));
                Ok(i)
            }
        }
    }
}

/// The local indexes of the given origins that the database knows.
fn origin_indexes(
    tx: &WriteTransaction,
    origins: impl Iterator<Item = NodeId>,
) -> Result<HashMap<NodeId, u32>, StoreError> {
    let table = tx.open_table(ORIGINS).map_err(dberr)?;
    let mut out = HashMap::new();
    for origin in origins {
        if out.contains_key(&origin) {
            continue;
        }
        if let Some(i) = table.get(origin.0).map_err(dberr)? {
            out.insert(origin, i.value());
        }
    }
    Ok(out)
}

/// Appends envelopes to per-origin blocks, keeping each origin's last block in memory.
struct Appender<'t> {
    table: BlockTable<'t>,
    tails: HashMap<u32, Tail>,
}

impl<'t> Appender<'t> {
    fn new(table: BlockTable<'t>) -> Self {
        Appender {
            table,
            tails: HashMap::new(),
        }
    }

    /// Adds one envelope; returns whether it was new.
    fn add(
        &mut self,
        idx: u32,
        origin: NodeId,
        seq: u64,
        envelope: &[u8],
    ) -> Result<bool, StoreError> {
        let tail = match self.tails.entry(idx) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(load_tail(&self.table, idx, origin)?)
            }
        };
        if tail.bytes.is_empty() || seq > tail.last_seq {
            // The common case: this origin's next record goes at the end.
            if !tail.bytes.is_empty()
                && tail.bytes.len() + block::entry_len(envelope) > BLOCK_BYTES_MAX
            {
                flush_tail(&mut self.table, idx, tail)?;
                *tail = Tail {
                    first_seq: seq,
                    last_seq: seq,
                    bytes: Vec::new(),
                    dirty: true,
                };
            }
            if tail.bytes.is_empty() {
                tail.first_seq = seq;
            }
            block::push(&mut tail.bytes, seq, envelope);
            tail.last_seq = seq;
            tail.dirty = true;
            Ok(true)
        } else {
            // Out of order (a replicated gap being filled): write the tail
            // out, insert in place, reload the tail next time.
            flush_tail(&mut self.table, idx, tail)?;
            self.tails.remove(&idx);
            insert_in_place(&mut self.table, idx, origin, seq, envelope)
        }
    }

    fn finish(mut self) -> Result<(), StoreError> {
        for (idx, tail) in self.tails.iter_mut() {
            flush_tail(&mut self.table, *idx, tail)?;
        }
        Ok(())
    }
}

/// One record from the blocks of its origin.
fn lookup_in_blocks(
    blocks: &impl ReadableTable<[u8; 12], &'static [u8]>,
    idx: u32,
    id: RecordId,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some((_, bytes)) = block_containing(blocks, idx, id.seq)? else {
        return Ok(None);
    };
    let entries = block::entries(&bytes).map_err(|e| damaged_block(id.origin, e))?;
    Ok(entries
        .iter()
        .find(|e| e.seq == id.seq)
        .map(|e| bytes[e.start..e.end].to_vec()))
}

/// Removes records from their blocks (rewriting each block once); returns
/// how many were there. Ids not stored, and damaged blocks, are skipped:
/// `verify` reports those, and retention must not stop on them.
fn delete_from_blocks(
    blocks: &mut BlockTable<'_>,
    idx_of: &HashMap<NodeId, u32>,
    ids: impl Iterator<Item = RecordId>,
) -> Result<u64, StoreError> {
    let mut by_origin: HashMap<u32, (NodeId, Vec<u64>)> = HashMap::new();
    for id in ids {
        if let Some(idx) = idx_of.get(&id.origin) {
            by_origin
                .entry(*idx)
                .or_insert_with(|| (id.origin, Vec::new()))
                .1
                .push(id.seq);
        }
    }
    let mut deleted = 0u64;
    for (idx, (origin, mut seqs)) in by_origin {
        seqs.sort_unstable();
        seqs.dedup();
        let mut at = 0;
        while at < seqs.len() {
            let seq = seqs[at];
            let Some((first_seq, bytes)) = block_containing(blocks, idx, seq)? else {
                at += 1;
                continue;
            };
            let entries = match block::entries(&bytes) {
                Ok(e) => e,
                Err(reason) => {
                    tracing::warn!(origin = %origin.short(), first_seq, %reason, "purge skips a damaged block");
                    while at < seqs.len()
                        && block_containing(blocks, idx, seqs[at])?.map(|b| b.0) == Some(first_seq)
                    {
                        at += 1;
                    }
                    continue;
                }
            };
            let last_in_block = entries.last().map(|e| e.seq).unwrap_or(first_seq);
            if seq > last_in_block {
                // Indexed but not stored (index damage): nothing to delete here.
                at += 1;
                continue;
            }
            let mut doomed = std::collections::HashSet::new();
            while at < seqs.len() && seqs[at] <= last_in_block {
                doomed.insert(seqs[at]);
                at += 1;
            }
            let kept: Vec<(u64, &[u8])> = entries
                .iter()
                .filter(|e| !doomed.contains(&e.seq))
                .map(|e| (e.seq, &bytes[e.start..e.end]))
                .collect();
            if kept.len() == entries.len() {
                continue;
            }
            deleted += (entries.len() - kept.len()) as u64;
            blocks.remove(read_key(idx, first_seq)).map_err(dberr)?;
            if let Some((new_first, _)) = kept.first() {
                blocks
                    .insert(
                        read_key(idx, *new_first),
                        block::build(kept.iter().copied()).as_slice(),
                    )
                    .map_err(dberr)?;
            }
        }
    }
    Ok(deleted)
}

/// The block whose seq range would hold `seq`: the last block of the origin starting at or before it.
fn block_containing(
    blocks: &impl ReadableTable<[u8; 12], &'static [u8]>,
    idx: u32,
    seq: u64,
) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
    let found = blocks
        .range(read_key(idx, 0)..=read_key(idx, seq))
        .map_err(dberr)?
        .next_back();
    match found {
        None => Ok(None),
        Some(entry) => {
            let (k, v) = entry.map_err(dberr)?;
            Ok(Some((split_read_key(&k.value()).1, v.value().to_vec())))
        }
    }
}

fn load_tail(blocks: &BlockTable<'_>, idx: u32, origin: NodeId) -> Result<Tail, StoreError> {
    let last = blocks
        .range(read_key(idx, 0)..=read_key(idx, u64::MAX))
        .map_err(dberr)?
        .next_back();
    let Some(entry) = last else {
        return Ok(Tail {
            first_seq: 0,
            last_seq: 0,
            bytes: Vec::new(),
            dirty: false,
        });
    };
    let (k, v) = entry.map_err(dberr)?;
    let bytes = v.value().to_vec();
    let entries = block::entries(&bytes).map_err(|e| damaged_block(origin, e))?;
    Ok(Tail {
        first_seq: split_read_key(&k.value()).1,
        last_seq: entries.last().map(|e| e.seq).unwrap_or(0),
        bytes,
        dirty: false,
    })
}

fn flush_tail(blocks: &mut BlockTable<'_>, idx: u32, tail: &mut Tail) -> Result<(), StoreError> {
    if tail.dirty && !tail.bytes.is_empty() {
        blocks
            .insert(read_key(idx, tail.first_seq), tail.bytes.as_slice())
            .map_err(dberr)?;
        tail.dirty = false;
    }
    Ok(())
}

/// Inserts one envelope below the origin's newest seq; returns whether it was new.
fn insert_in_place(
    blocks: &mut BlockTable<'_>,
    idx: u32,
    origin: NodeId,
    seq: u64,
    envelope: &[u8],
) -> Result<bool, StoreError> {
    let Some((first_seq, bytes)) = block_containing(blocks, idx, seq)? else {
        // Older than every stored block: it starts a block of its own, which
        // cannot overlap the next one since that one starts above `seq`.
        blocks
            .insert(
                read_key(idx, seq),
                block::build([(seq, envelope)]).as_slice(),
            )
            .map_err(dberr)?;
        return Ok(true);
    };
    let entries = block::entries(&bytes).map_err(|e| damaged_block(origin, e))?;
    let mut items: Vec<(u64, &[u8])> = entries
        .iter()
        .map(|e| (e.seq, &bytes[e.start..e.end]))
        .collect();
    match items.binary_search_by_key(&seq, |(s, _)| *s) {
        Ok(at) if items[at].1 == envelope => return Ok(false),
        Ok(_) => return Err(StoreError::Conflict { origin, seq }),
        Err(at) => items.insert(at, (seq, envelope)),
    }
    let whole = block::build(items.iter().copied());
    if whole.len() <= BLOCK_BYTES_MAX || items.len() < 2 {
        blocks
            .insert(read_key(idx, first_seq), whole.as_slice())
            .map_err(dberr)?;
    } else {
        let (low, high) = items.split_at(items.len() / 2);
        blocks
            .insert(
                read_key(idx, first_seq),
                block::build(low.iter().copied()).as_slice(),
            )
            .map_err(dberr)?;
        blocks
            .insert(
                read_key(idx, high[0].0),
                block::build(high.iter().copied()).as_slice(),
            )
            .map_err(dberr)?;
    }
    Ok(true)
}

fn put_signature(
    tx: &WriteTransaction,
    sig: &alpr_protocol::replicate::ChangeSignature,
) -> Result<(), StoreError> {
    let bytes = postcard::to_allocvec(sig).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.open_table(POLICY_SIGNATURES)
        .map_err(dberr)?
        .insert(sig.hash, bytes.as_slice())
        .map_err(dberr)?;
    Ok(())
}

fn floor_bytes(seq: u64, hash: &[u8; 32]) -> [u8; 40] {
    let mut floor = [0u8; 40];
    floor[..8].copy_from_slice(&seq.to_be_bytes());
    floor[8..].copy_from_slice(hash);
    floor
}

fn split_floor(v: [u8; 40]) -> (u64, [u8; 32]) {
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&v[..8]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&v[8..]);
    (u64::from_be_bytes(seq), hash)
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

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_protocol::{AgencyKey, Capture, NodeKey, Sealer};

    #[test]
    fn a_schema_3_file_is_sealed_on_open_and_its_clear_values_are_gone() {
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        let data = DataKey::generate(&mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let identity = StoreIdentity {
            agency: agency.id(),
            node: node.id(),
        };
        drop(Store::create(&path, identity, &data, &mut rng).unwrap());
        // As schema 3 wrote it: values in the clear, login state by name.
        {
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META)
                .unwrap()
                .insert("schema", 3u32.to_be_bytes().as_slice())
                .unwrap();
            tx.open_table(POLICY)
                .unwrap()
                .insert("document", b"HOLD CASE 26-7781 PLATE 7QXZ412".as_slice())
                .unwrap();
            tx.open_table(AUTH_CLEAR)
                .unwrap()
                .insert(
                    "mrodriguez",
                    AuthState {
                        failures: 2,
                        locked_until: None,
                    }
                    .to_bytes(),
                )
                .unwrap();
            let entries = vec![alpr_protocol::hotlist::Entry {
                plate: PlateText::parse("NCIC777").unwrap(),
                region: Some("CA".into()),
                category: alpr_protocol::hotlist::Category::StolenVehicle,
                reference: "NIC-V0042".into(),
                detail: Default::default(),
            }];
            tx.open_table(HOTLIST_CONTENT)
                .unwrap()
                .insert(
                    [9u8; 32],
                    postcard::to_allocvec(&entries).unwrap().as_slice(),
                )
                .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path, agency.id(), &data).unwrap();
        assert_eq!(
            store.policy_document().unwrap().as_deref(),
            Some(b"HOLD CASE 26-7781 PLATE 7QXZ412".as_slice())
        );
        assert_eq!(store.auth_state("mrodriguez").unwrap().failures, 2);
        // Lists of before schema 5 (entries without detail) are dropped:
        // they are sent again at the next meeting.
        assert!(store.hotlist_entries(&[9u8; 32]).unwrap().is_none());
        assert!(store.hotlists().unwrap().is_empty());
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        for clear in ["7QXZ412", "26-7781", "mrodriguez", "NCIC777", "NIC-V0042"] {
            assert!(
                !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
                "{clear} is still in the file"
            );
        }
        // A sealed value moved to another key does not open.
        let store = Store::open(&path, agency.id(), &data).unwrap();
        let tx = store.db().unwrap().begin_write().unwrap();
        let sealed = tx
            .open_table(POLICY)
            .unwrap()
            .get("document")
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        tx.open_table(POLICY)
            .unwrap()
            .insert("local_users", sealed.as_slice())
            .unwrap();
        tx.commit().unwrap();
        assert!(matches!(store.local_users(), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn purge_gets_past_an_index_entry_whose_read_is_missing() {
        let mut rng = rand::rng();
        let agency = AgencyKey::generate(&mut rng);
        let node = NodeKey::generate(&mut rng);
        let data = DataKey::generate(&mut rng);
        let store = Store::in_memory(
            StoreIdentity {
                agency: agency.id(),
                node: node.id(),
            },
            &data,
            &mut rng,
        )
        .unwrap();
        let sealer = Sealer {
            node_key: &node,
            data_key: &data,
        };
        let reads: Vec<_> = (1..=3)
            .map(|seq| {
                let body = Capture {
                    plate: PlateText::parse("ABC1").unwrap(),
                    region: None,
                    confidence: 1.0,
                    char_confidences: vec![1.0; 4],
                    camera: "c".into(),
                    location: None,
                    fix: Default::default(),
                    crop_jpeg: vec![],
                    overview_jpeg: None,
                    candidates: Vec::new(),
                };
                sealer.seal_read(seq, Timestamp(seq as i64), body, &mut rng)
            })
            .collect();
        store.append_sealed(&reads).unwrap();
        // An orphan index entry: seq 9 is indexed but was never stored.
        let tx = store.db().unwrap().begin_write().unwrap();
        {
            let mut by_time = tx.open_table(READ_TIME).unwrap();
            let column = store.keys.seal_column(&column_nonce(0, 9), "ABC1");
            by_time
                .insert(time_key(Timestamp(4), 0, 9), column.as_slice())
                .unwrap();
        }
        tx.commit().unwrap();
        let expired = store
            .expired_reads(Timestamp(100), 100, |_, _, _| false)
            .unwrap();
        assert_eq!(expired.reads.len(), 4);
        let audit = sealer.seal_audit(
            1,
            Timestamp(5),
            alpr_protocol::AuditBody {
                user: "x".into(),
                action: alpr_protocol::Action::Purge,
                object: "purge".into(),
                purpose: None,
                case: None,
                outcome: alpr_protocol::Outcome::Success,
                prev_hash: [0; 32],
                floors: Vec::new(),
            },
            &mut rng,
        );
        assert_eq!(store.delete_reads(&expired.reads, &audit).unwrap(), 3);
        assert_eq!(store.index_counts().unwrap(), (0, 0));
    }
}
