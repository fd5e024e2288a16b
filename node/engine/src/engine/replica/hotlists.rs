//! Bulk hotlists on the wire: what to send a peer (a delta from the content
//! it holds, or the whole list in chunks) and how a received version is
//! checked before it is kept: the publisher's certificate (a station of our
//! agency, not revoked), its signature over the version, and the entries
//! against the version's content hash.

use std::collections::BTreeMap;

use alpr_protocol::VerifiedCertificate;
use alpr_protocol::hotlist::{
    self, Delta, ENTRIES_MAX, Entry, HotlistVersion, SignedHotlistVersion,
};
use alpr_protocol::replicate::{
    HOTLIST_CHUNK_ENTRIES, HotlistBody, HotlistHead, HotlistTransfer, SYNC_FRAME_BYTES_MAX,
    SyncMessage,
};

use super::ReplicaError;
use crate::engine::Engine;

fn bad(list: &str, reason: impl std::fmt::Display) -> ReplicaError {
    ReplicaError::BadRecord(format!("hotlist '{list}': {reason}"))
}

/// How a peer holding some version of a list is brought to this node's.
#[derive(Debug, Clone)]
pub enum Plan {
    /// One delta message from the version the peer holds.
    Delta(Box<SyncMessage>),
    /// The whole list, chunk by chunk: each is read from the store only
    /// when it is sent ([`chunk`]), so a peer costs a chunk of memory, not
    /// the list.
    Chunks(Box<ChunkPlan>),
}

/// What every chunk message of one transfer carries.
#[derive(Debug, Clone)]
pub struct ChunkPlan {
    list: String,
    version: SignedHotlistVersion,
    certificate: alpr_protocol::SignedCertificate,
    content: [u8; 32],
    pub chunks: u32,
}

impl ChunkPlan {
    pub fn list(&self) -> &str {
        &self.list
    }
}

/// Plans what brings a peer holding `peer_has` to this node's version of `list`.
pub fn outgoing(
    engine: &Engine,
    list: &str,
    peer_has: Option<HotlistHead>,
) -> Result<Plan, ReplicaError> {
    let store = &engine.node().store;
    let held = store
        .hotlists()?
        .remove(list)
        .ok_or_else(|| bad(list, "vanished while being sent"))?;
    let author = held.signed.decode().map_err(|e| bad(list, e))?.author;
    let certificate = engine
        .node()
        .trust
        .certificate(&author)
        .ok_or_else(|| bad(list, "its publisher's certificate is not held"))?
        .signed()
        .clone();
    if let Some(base) = peer_has
        && let Some(old) = store.hotlist_entries(&base.content)?
    {
        let entries = store
            .hotlist_entries(&held.head.content)?
            .ok_or_else(|| bad(list, "its entries are missing from the store"))?;
        let delta = Delta::between(&old, &entries);
        // A delta bigger than half a frame goes as chunks instead.
        let size = postcard::experimental::serialized_size(&delta).unwrap_or(usize::MAX);
        if size <= SYNC_FRAME_BYTES_MAX / 2 {
            return Ok(Plan::Delta(Box::new(SyncMessage::Hotlist {
                list: list.to_string(),
                transfer: HotlistTransfer {
                    version: held.signed.clone(),
                    certificate,
                    body: HotlistBody::Delta {
                        from: base.content,
                        delta,
                    },
                },
            })));
        }
    }
    let chunks = u32::try_from(held.entries.div_ceil(HOTLIST_CHUNK_ENTRIES as u64).max(1))
        .map_err(|_| bad(list, "too many entries"))?;
    Ok(Plan::Chunks(Box::new(ChunkPlan {
        list: list.to_string(),
        version: held.signed,
        certificate,
        content: held.head.content,
        chunks,
    })))
}

/// Chunk `index` of a planned transfer, read from the store now.
pub fn chunk(engine: &Engine, plan: &ChunkPlan, index: u32) -> Result<SyncMessage, ReplicaError> {
    let entries = engine
        .node()
        .store
        .hotlist_chunk(&plan.content, index)?
        .ok_or_else(|| {
            bad(
                &plan.list,
                "a newer version replaced it while it was being sent",
            )
        })?;
    Ok(SyncMessage::Hotlist {
        list: plan.list.clone(),
        transfer: HotlistTransfer {
            version: plan.version.clone(),
            certificate: plan.certificate.clone(),
            body: HotlistBody::Chunk {
                index,
                last: index + 1 == plan.chunks,
                entries,
            },
        },
    })
}

/// A list arriving in chunks.
#[derive(Debug)]
struct Partial {
    version: SignedHotlistVersion,
    next: u32,
    entries: Vec<Entry>,
}

/// Hotlists being received on one connection (one partial version per list).
#[derive(Debug, Default)]
pub struct Incoming {
    partial: BTreeMap<String, Partial>,
}

/// How many lists one peer may have half-sent at once.
const PARTIAL_LISTS_MAX: usize = 16;

/// A version received whole, its certificate and signature checked, whose
/// entries are still to be checked against its content hash: the costly
/// part (a delta applied to a list of a million entries, and the hash of
/// them all), which needs no engine, so the driver runs it without holding
/// one ([`HotlistCheck::run`]).
#[derive(Debug)]
pub struct HotlistCheck {
    list: String,
    signed: SignedHotlistVersion,
    version: HotlistVersion,
    cert: VerifiedCertificate,
    entries: Entries,
}

#[derive(Debug)]
enum Entries {
    /// A delta, and the entries of the content it applies to (read from the store).
    Delta { base: Vec<Entry>, delta: Delta },
    /// Every entry, as the chunks brought them.
    Whole(Vec<Entry>),
}

/// A version whose entries reproduce its content hash, ready to keep.
#[derive(Debug)]
pub struct CheckedHotlist {
    list: String,
    signed: SignedHotlistVersion,
    version: HotlistVersion,
    cert: VerifiedCertificate,
    entries: Vec<Entry>,
}

impl HotlistCheck {
    /// The station that published the version.
    pub fn author(&self) -> alpr_protocol::NodeId {
        self.version.author
    }

    /// Applies the delta (if it is one) and checks the entries against the
    /// signed content hash.
    pub fn run(self) -> Result<CheckedHotlist, ReplicaError> {
        let list = self.list;
        let entries = match self.entries {
            Entries::Delta { base, delta } => delta.apply(&base).map_err(|e| bad(&list, e))?,
            Entries::Whole(entries) => entries,
        };
        hotlist::check_content(&self.version, &entries).map_err(|e| bad(&list, e))?;
        Ok(CheckedHotlist {
            list,
            signed: self.signed,
            version: self.version,
            cert: self.cert,
            entries,
        })
    }
}

impl CheckedHotlist {
    /// Keeps the version (under the engine); returns the list's name and
    /// the head this node holds now.
    pub fn commit(self, engine: &mut Engine) -> Result<(String, HotlistHead), ReplicaError> {
        let CheckedHotlist {
            list,
            signed,
            version,
            cert,
            entries,
        } = self;
        if engine.node().trust.certificate(&version.author).is_none() {
            engine.learn_certificate(cert)?;
        }
        let store = &engine.node().store;
        store.put_hotlist(&signed, &version, &entries)?;
        let head = store
            .hotlists()?
            .get(&list)
            .map(|h| h.head)
            .unwrap_or(HotlistHead {
                version: version.version,
                content: version.content,
            });
        tracing::info!(%list, version = version.version, entries = version.entries, "hotlist received");
        Ok((list, head))
    }
}

impl Incoming {
    /// Takes one transfer (under the engine: certificate, signature,
    /// revocation, and each chunk's entries as they arrive); once a version
    /// is whole, returns what is left to check, which needs no engine.
    pub fn accept(
        &mut self,
        engine: &Engine,
        list: String,
        transfer: HotlistTransfer,
    ) -> Result<Option<HotlistCheck>, ReplicaError> {
        let (agency, revoked) = (engine.node().trust.agency(), engine.revoked());
        let cert = transfer
            .certificate
            .verify(agency)
            .map_err(|e| bad(&list, format!("publisher certificate: {e}")))?;
        let version = transfer
            .version
            .verify(agency, Some(&cert))
            .map_err(|e| bad(&list, e))?;
        if version.list != list {
            return Err(bad(&list, format!("carries list '{}'", version.list)));
        }
        if revoked
            .read()
            .map(|r| r.contains(&version.author))
            .unwrap_or(true)
        {
            return Err(bad(&list, "its publisher is revoked"));
        }
        let entries = match transfer.body {
            HotlistBody::Delta { from, delta } => {
                let base = engine.node().store.hotlist_entries(&from)?.ok_or_else(|| {
                    bad(
                        &list,
                        hotlist::HotlistError::WrongBase {
                            from: hex::encode(from),
                        },
                    )
                })?;
                Entries::Delta { base, delta }
            }
            HotlistBody::Chunk {
                index,
                last,
                entries,
            } => {
                if index == 0 {
                    if !self.partial.contains_key(&list) && self.partial.len() >= PARTIAL_LISTS_MAX
                    {
                        return Err(bad(&list, "too many lists half-sent"));
                    }
                    self.partial.insert(
                        list.clone(),
                        Partial {
                            version: transfer.version.clone(),
                            next: 0,
                            entries: Vec::new(),
                        },
                    );
                }
                let p = self
                    .partial
                    .get_mut(&list)
                    .ok_or_else(|| bad(&list, format!("chunk {index} without chunk 0")))?;
                if p.version != transfer.version || p.next != index {
                    return Err(bad(
                        &list,
                        format!("chunk {index} out of order (expected {})", p.next),
                    ));
                }
                if p.entries.len() + entries.len() > version.entries.min(ENTRIES_MAX) as usize {
                    return Err(bad(&list, "more entries than its version names"));
                }
                // Checked as they arrive: in canonical order, fields in bounds,
                // so a list being sent never holds more than its version names.
                for e in &entries {
                    hotlist::check_entry(e).map_err(|err| bad(&list, err))?;
                    if p.entries.last().is_some_and(|last| last >= e) {
                        return Err(bad(&list, hotlist::HotlistError::NotCanonical));
                    }
                    p.entries.push(e.clone());
                }
                p.next += 1;
                if !last {
                    return Ok(None);
                }
                Entries::Whole(
                    self.partial
                        .remove(&list)
                        .map(|p| p.entries)
                        .unwrap_or_default(),
                )
            }
        };
        Ok(Some(HotlistCheck {
            list,
            signed: transfer.version,
            version,
            cert,
            entries,
        }))
    }
}
