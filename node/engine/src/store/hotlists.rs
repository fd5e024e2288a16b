//! Bulk hotlists in the store: per list the signed version held now, and the
//! entries of that version and the one before it (kept so a peer one
//! version behind gets a delta instead of the whole list).
//!
//! | table             | key            | value                                   |
//! |-------------------|----------------|-----------------------------------------|
//! | `hotlists`        | list name      | sealed postcard `StoredList`            |
//! | `hotlist_chunks`  | (content hash, chunk) | sealed postcard `Vec<Entry>`: entries `chunk × HOTLIST_CHUNK_ENTRIES ..` in canonical order |
//!
//! Entries are kept in the chunks they cross the wire in, so a peer is sent
//! a list one chunk at a time from the store: memory per peer is a chunk,
//! not the list. (Schema 3 kept a list as one `hotlist_content` value.)
//!
//! Values are sealed at rest (`at_rest`): the plates and references of a
//! list are not readable in the file.

use std::collections::BTreeMap;

use alpr_protocol::hotlist::{Entry, HotlistVersion, SignedHotlistVersion};
use alpr_protocol::replicate::{HOTLIST_CHUNK_ENTRIES, HotlistHead};
use redb::{ReadableTable, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};

use super::at_rest::AtRest;
use super::{Store, StoreError, dberr};

pub(super) const HOTLISTS: TableDefinition<&str, &[u8]> = TableDefinition::new("hotlists");
/// Schema 3 and before: a list's entries as one value.
pub(super) const HOTLIST_CONTENT: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("hotlist_content");
pub(super) const HOTLIST_CHUNKS: TableDefinition<([u8; 32], u32), &[u8]> =
    TableDefinition::new("hotlist_chunks");

fn chunk_aad(content: &[u8; 32], index: u32) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..32].copy_from_slice(content);
    k[32..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Writes `entries` as the sealed chunks of `content`.
fn put_chunks(
    rest: &AtRest,
    tx: &redb::WriteTransaction,
    content: &[u8; 32],
    entries: &[Entry],
) -> Result<(), StoreError> {
    let chunks: Vec<&[Entry]> = if entries.is_empty() {
        vec![&[]]
    } else {
        entries.chunks(HOTLIST_CHUNK_ENTRIES).collect()
    };
    for (i, chunk) in chunks.into_iter().enumerate() {
        let i = u32::try_from(i).map_err(|_| corrupt(&hex::encode(content), "too many chunks"))?;
        let blob = postcard::to_allocvec(chunk).map_err(|e| corrupt(&hex::encode(content), e))?;
        let blob = rest.seal(tx, HOTLIST_CHUNKS.name(), &chunk_aad(content, i), &blob)?;
        tx.open_table(HOTLIST_CHUNKS)
            .map_err(dberr)?
            .insert((*content, i), blob.as_slice())
            .map_err(dberr)?;
    }
    Ok(())
}

fn remove_chunks(tx: &redb::WriteTransaction, content: &[u8; 32]) -> Result<(), StoreError> {
    let mut table = tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
    let keys: Vec<([u8; 32], u32)> = table
        .range((*content, 0)..=(*content, u32::MAX))
        .map_err(dberr)?
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<Result<_, _>>()
        .map_err(dberr)?;
    for k in keys {
        table.remove(k).map_err(dberr)?;
    }
    Ok(())
}

/// Schema 4: a schema-3 list's single clear value becomes sealed chunks.
pub(super) fn chunk_clear_content(
    rest: &AtRest,
    tx: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    let rows: Vec<([u8; 32], Vec<u8>)> = {
        let table = tx.open_table(HOTLIST_CONTENT).map_err(dberr)?;
        table
            .iter()
            .map_err(dberr)?
            .map(|e| e.map(|(k, v)| (k.value(), v.value().to_vec())))
            .collect::<Result<_, _>>()
            .map_err(dberr)?
    };
    tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
    for (content, blob) in rows {
        let entries: Vec<Entry> =
            postcard::from_bytes(&blob).map_err(|e| corrupt(&hex::encode(content), e))?;
        put_chunks(rest, tx, &content, &entries)?;
    }
    tx.delete_table(HOTLIST_CONTENT).map_err(dberr)?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredList {
    /// The signed version, as its publisher made it.
    signed: SignedHotlistVersion,
    version: u64,
    entries: u64,
    content: [u8; 32],
    /// The content of the version before, while it is kept.
    previous: Option<[u8; 32]>,
}

/// A list as the store holds it.
#[derive(Debug, Clone)]
pub struct HeldList {
    pub signed: SignedHotlistVersion,
    pub head: HotlistHead,
    pub entries: u64,
}

fn corrupt(list: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("hotlist '{list}': {e}"))
}

impl Store {
    /// Every list held, with its version.
    pub fn hotlists(&self) -> Result<BTreeMap<String, HeldList>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(HOTLISTS).map_err(dberr)?;
        let mut out = BTreeMap::new();
        for entry in table.iter().map_err(dberr)? {
            let (k, v) = entry.map_err(dberr)?;
            let s = open_list(&self.rest, k.value(), v.value())?;
            out.insert(
                k.value().to_string(),
                HeldList {
                    signed: s.signed,
                    head: HotlistHead {
                        version: s.version,
                        content: s.content,
                    },
                    entries: s.entries,
                },
            );
        }
        Ok(out)
    }

    /// The entries of a content hash this store keeps (a list's current or previous version).
    pub fn hotlist_entries(&self, content: &[u8; 32]) -> Result<Option<Vec<Entry>>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
        let mut out: Option<Vec<Entry>> = None;
        for (expected, row) in table
            .range((*content, 0)..=(*content, u32::MAX))
            .map_err(dberr)?
            .enumerate()
        {
            let (k, v) = row.map_err(dberr)?;
            let (_, i) = k.value();
            if i as usize != expected {
                return Err(corrupt(
                    &hex::encode(content),
                    format!("chunk {expected} is missing"),
                ));
            }
            let chunk = self.open_chunk(content, i, v.value())?;
            out.get_or_insert_with(Vec::new).extend(chunk);
        }
        Ok(out)
    }

    /// One chunk of a content hash this store keeps ([`HOTLIST_CHUNK_ENTRIES`]
    /// entries from `index × HOTLIST_CHUNK_ENTRIES`), or None past its end.
    pub fn hotlist_chunk(
        &self,
        content: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<Entry>>, StoreError> {
        let tx = self.read_tx()?;
        let table = tx.open_table(HOTLIST_CHUNKS).map_err(dberr)?;
        match table.get((*content, index)).map_err(dberr)? {
            None => Ok(None),
            Some(v) => self.open_chunk(content, index, v.value()).map(Some),
        }
    }

    fn open_chunk(
        &self,
        content: &[u8; 32],
        index: u32,
        value: &[u8],
    ) -> Result<Vec<Entry>, StoreError> {
        let plain = self
            .rest
            .open(HOTLIST_CHUNKS.name(), &chunk_aad(content, index), value)?;
        postcard::from_bytes(&plain).map_err(|e| corrupt(&hex::encode(content), e))
    }

    /// Keeps a verified version and its entries (already checked against it)
    /// if it is newer than the one held, in one durable transaction; returns
    /// whether it was newer.
    pub fn put_hotlist(
        &self,
        signed: &SignedHotlistVersion,
        version: &HotlistVersion,
        entries: &[Entry],
    ) -> Result<bool, StoreError> {
        let tx = self.db()?.begin_write().map_err(dberr)?;
        let newer = put_hotlist_in(&self.rest, &tx, signed, version, entries)?;
        tx.commit().map_err(dberr)?;
        Ok(newer)
    }
}

/// The version before stays for deltas; older content is dropped.
fn open_list(rest: &AtRest, list: &str, value: &[u8]) -> Result<StoredList, StoreError> {
    let plain = rest.open(HOTLISTS.name(), list.as_bytes(), value)?;
    postcard::from_bytes(&plain).map_err(|e| corrupt(list, e))
}

pub(super) fn put_hotlist_in(
    rest: &AtRest,
    tx: &redb::WriteTransaction,
    signed: &SignedHotlistVersion,
    version: &HotlistVersion,
    entries: &[Entry],
) -> Result<bool, StoreError> {
    let head = HotlistHead {
        version: version.version,
        content: version.content,
    };
    let held: Option<StoredList> = {
        let lists = tx.open_table(HOTLISTS).map_err(dberr)?;
        match lists.get(version.list.as_str()).map_err(dberr)? {
            None => None,
            Some(v) => Some(open_list(rest, &version.list, v.value())?),
        }
    };
    let newer = held.as_ref().is_none_or(|h| {
        HotlistHead {
            version: h.version,
            content: h.content,
        } < head
    });
    if newer {
        if let Some(old) = held.as_ref().and_then(|h| h.previous)
            && old != version.content
        {
            remove_chunks(tx, &old)?;
        }
        remove_chunks(tx, &version.content)?;
        put_chunks(rest, tx, &version.content, entries)?;
        let stored = StoredList {
            signed: signed.clone(),
            version: version.version,
            entries: version.entries,
            content: version.content,
            previous: held.map(|h| h.content).filter(|c| *c != version.content),
        };
        let bytes = postcard::to_allocvec(&stored).map_err(|e| corrupt(&version.list, e))?;
        let bytes = rest.seal(tx, HOTLISTS.name(), version.list.as_bytes(), &bytes)?;
        tx.open_table(HOTLISTS)
            .map_err(dberr)?
            .insert(version.list.as_str(), bytes.as_slice())
            .map_err(dberr)?;
    }
    Ok(newer)
}
