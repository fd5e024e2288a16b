//! Bulk hotlists in the store: per list the signed version held now, and the
//! entries of that version and the one before it (kept so a peer one
//! version behind gets a delta instead of the whole list).
//!
//! | table             | key            | value                                   |
//! |-------------------|----------------|-----------------------------------------|
//! | `hotlists`        | list name      | sealed postcard `StoredList`            |
//! | `hotlist_content` | content hash   | sealed postcard `Vec<Entry>` (canonical order) |
//!
//! Values are sealed at rest (`at_rest`): the plates and references of a
//! list are not readable in the file.

use std::collections::BTreeMap;

use alpr_protocol::hotlist::{Entry, HotlistVersion, SignedHotlistVersion};
use alpr_protocol::replicate::HotlistHead;
use redb::{ReadableTable, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};

use super::at_rest::AtRest;
use super::{Store, StoreError, dberr};

pub(super) const HOTLISTS: TableDefinition<&str, &[u8]> = TableDefinition::new("hotlists");
pub(super) const HOTLIST_CONTENT: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("hotlist_content");

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
        let table = tx.open_table(HOTLIST_CONTENT).map_err(dberr)?;
        match table.get(content).map_err(dberr)? {
            None => Ok(None),
            Some(v) => {
                let plain = self.rest.open(HOTLIST_CONTENT.name(), content, v.value())?;
                postcard::from_bytes(&plain)
                    .map(Some)
                    .map_err(|e| corrupt(&hex::encode(content), e))
            }
        }
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
    let newer = {
        let mut lists = tx.open_table(HOTLISTS).map_err(dberr)?;
        let mut content = tx.open_table(HOTLIST_CONTENT).map_err(dberr)?;
        let held: Option<StoredList> = match lists.get(version.list.as_str()).map_err(dberr)? {
            None => None,
            Some(v) => Some(open_list(rest, &version.list, v.value())?),
        };
        let newer = held.as_ref().is_none_or(|h| {
            HotlistHead {
                version: h.version,
                content: h.content,
            } < head
        });
        if newer {
            let blob = postcard::to_allocvec(entries).map_err(|e| corrupt(&version.list, e))?;
            let blob = rest.seal(tx, HOTLIST_CONTENT.name(), &version.content, &blob)?;
            content
                .insert(version.content, blob.as_slice())
                .map_err(dberr)?;
            if let Some(old) = held.as_ref().and_then(|h| h.previous)
                && old != version.content
            {
                content.remove(old).map_err(dberr)?;
            }
            let stored = StoredList {
                signed: signed.clone(),
                version: version.version,
                entries: version.entries,
                content: version.content,
                previous: held.map(|h| h.content).filter(|c| *c != version.content),
            };
            let bytes = postcard::to_allocvec(&stored).map_err(|e| corrupt(&version.list, e))?;
            let bytes = rest.seal(tx, HOTLISTS.name(), version.list.as_bytes(), &bytes)?;
            lists
                .insert(version.list.as_str(), bytes.as_slice())
                .map_err(dberr)?;
        }
        newer
    };
    Ok(newer)
}
