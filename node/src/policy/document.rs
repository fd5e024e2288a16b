//! Policy as an automerge document, so concurrent edits at different nodes
//! merge to the same state everywhere.
//!
//! Layout: one flat root map, each value the postcard bytes of one record:
//!
//! | key                         | value        | who may change it |
//! |-----------------------------|--------------|-------------------|
//! | `user/<name>`               | `User`       | stations          |
//! | `retention`, `limits`       | `Retention`, `LoginLimits` | stations |
//! | `revoked/<node id hex>`     | `Revocation` | stations          |
//! | `hold/<placed_at>-<id>`     | `Hold`       | any node          |
//! | `request/<received_at>-<id>`| `Request`    | any node          |
//! | `release/<at>-<id>`         | `Release`    | any node          |
//! | `audit/<drawn_at>-<id>`     | `AuditReport`| any node          |
//!
//! Flat keys, never nested objects: two nodes that each created a nested
//! map under the same key would conflict and one map would vanish. Keys of
//! list records carry their creation time, so two stations that number a
//! new hold alike before they meet keep both. Each change is authored by a
//! node (its actor id is the node id) and signed by it (`ChangeSignature`);
//! a receiver checks both and the author's role before applying anything
//! ([`check_changes`]).

use std::collections::{BTreeMap, HashMap};

use alpr_protocol::replicate::ChangeSignature;
use alpr_protocol::{NodeId, Role, Trust};
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ROOT, ReadDoc, ScalarValue, transaction::Transactable,
};
use serde::Serialize;

use super::Policy;

const USER: &str = "user/";
const RETENTION: &str = "retention";
const LIMITS: &str = "limits";
const REVOKED: &str = "revoked/";
const HOLD: &str = "hold/";
const REQUEST: &str = "request/";
const RELEASE: &str = "release/";
const AUDIT: &str = "audit/";

/// Whether only stations may change this key.
fn station_only(key: &str) -> bool {
    key.starts_with(USER) || key == RETENTION || key == LIMITS || key.starts_with(REVOKED)
}

fn known(key: &str) -> bool {
    station_only(key)
        || [HOLD, REQUEST, RELEASE, AUDIT]
            .iter()
            .any(|p| key.starts_with(p))
}

fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Invariant: postcard encoding of plain data into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// The policy's records by document key (the replicated part).
fn entries(p: &Policy, with_users: bool) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if with_users {
        for (name, u) in &p.users {
            out.insert(format!("{USER}{name}"), bytes(u));
        }
    }
    if p.retention != super::Retention::default() {
        out.insert(RETENTION.to_string(), bytes(&p.retention));
    }
    if p.limits != super::LoginLimits::default() {
        out.insert(LIMITS.to_string(), bytes(&p.limits));
    }
    for (node, r) in &p.revoked {
        out.insert(format!("{REVOKED}{node}"), bytes(r));
    }
    for h in &p.holds {
        out.insert(format!("{HOLD}{}-{}", h.placed_at.0, h.id), bytes(h));
    }
    for r in &p.requests {
        out.insert(format!("{REQUEST}{}-{}", r.received_at.0, r.id), bytes(r));
    }
    for r in &p.releases {
        out.insert(format!("{RELEASE}{}-{}", r.at.0, r.id), bytes(r));
    }
    for a in &p.audits {
        out.insert(format!("{AUDIT}{}-{}", a.drawn_at.0, a.id), bytes(a));
    }
    out
}

/// The policy document of one node.
#[derive(Debug, Clone)]
pub struct PolicyDoc {
    doc: Automerge,
}

impl PolicyDoc {
    pub fn new(me: NodeId) -> Self {
        PolicyDoc {
            doc: Automerge::new().with_actor(ActorId::from(me.0.as_slice())),
        }
    }

    pub fn load(bytes: &[u8], me: NodeId) -> Result<Self, String> {
        let doc = Automerge::load(bytes).map_err(|e| format!("policy document: {e}"))?;
        Ok(PolicyDoc {
            doc: doc.with_actor(ActorId::from(me.0.as_slice())),
        })
    }

    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    /// The policy the document holds (users only from the document; a car's
    /// local first Administrator is added by the engine).
    pub fn materialize(&self) -> Result<Policy, String> {
        let mut p = Policy::default();
        for key in self.doc.keys(ROOT) {
            let Some((value, _)) = self
                .doc
                .get(ROOT, key.as_str())
                .map_err(|e| e.to_string())?
            else {
                continue;
            };
            let Some(ScalarValue::Bytes(b)) = value.as_scalar().cloned() else {
                return Err(format!("policy key '{key}' does not hold bytes"));
            };
            let bad = |e: postcard::Error| format!("policy key '{key}': {e}");
            if key.starts_with(USER) {
                let u: super::User = postcard::from_bytes(&b).map_err(bad)?;
                p.users.insert(u.name.clone(), u);
            } else if key == RETENTION {
                p.retention = postcard::from_bytes(&b).map_err(bad)?;
            } else if key == LIMITS {
                p.limits = postcard::from_bytes(&b).map_err(bad)?;
            } else if let Some(hex) = key.strip_prefix(REVOKED) {
                let node = NodeId::from_hex(hex).ok_or_else(|| format!("policy key '{key}'"))?;
                p.revoked
                    .insert(node, postcard::from_bytes(&b).map_err(bad)?);
            } else if key.starts_with(HOLD) {
                p.holds.push(postcard::from_bytes(&b).map_err(bad)?);
            } else if key.starts_with(REQUEST) {
                p.requests.push(postcard::from_bytes(&b).map_err(bad)?);
            } else if key.starts_with(RELEASE) {
                p.releases.push(postcard::from_bytes(&b).map_err(bad)?);
            } else if key.starts_with(AUDIT) {
                p.audits.push(postcard::from_bytes(&b).map_err(bad)?);
            }
            // Unknown keys come from a newer build; they are kept, not shown.
        }
        p.holds.sort_by_key(|h| (h.id, h.placed_at));
        p.requests.sort_by_key(|r| (r.id, r.received_at));
        p.releases.sort_by_key(|r| (r.id, r.at));
        p.audits.sort_by_key(|a| (a.id, a.drawn_at));
        Ok(p)
    }

    /// Records `old` -> `new` as one change by this node (users left out
    /// when `with_users` is false: a car never authors them). Returns the
    /// change's hash, or None when nothing differs.
    pub fn commit(
        &mut self,
        old: &Policy,
        new: &Policy,
        with_users: bool,
        time_ms: i64,
    ) -> Result<Option<ChangeHash>, String> {
        let before = entries(old, with_users);
        let after = entries(new, with_users);
        if before == after {
            return Ok(None);
        }
        let mut tx = self.doc.transaction();
        for (key, value) in &after {
            if before.get(key) != Some(value) {
                tx.put(ROOT, key.as_str(), ScalarValue::Bytes(value.clone()))
                    .map_err(|e| e.to_string())?;
            }
        }
        for key in before.keys().filter(|k| !after.contains_key(*k)) {
            tx.delete(ROOT, key.as_str()).map_err(|e| e.to_string())?;
        }
        let (hash, _) = tx.commit_with(
            automerge::transaction::CommitOptions::default().with_time(time_ms / 1000),
        );
        Ok(hash)
    }
}

/// Checks changes that arrived from a peer: each signed by its author (the
/// node its actor id names), the author enrolled in this agency (by `trust`
/// or a certificate that came with them) and not revoked, and allowed to
/// change every key it touches. Returns the reason for the first bad one.
pub fn check_changes(
    changes: &[Change],
    signatures: &HashMap<[u8; 32], ChangeSignature>,
    trust: &Trust,
    revoked: &dyn Fn(&NodeId) -> bool,
) -> Result<(), String> {
    for change in changes {
        let hash = change.hash().0;
        let short = hex::encode(&hash[..6]);
        let actor = change.actor_id().to_bytes();
        let author = <[u8; 32]>::try_from(actor).map(NodeId).map_err(|_| {
            format!(
                "policy change {short} is not by a node (actor id of {} bytes)",
                actor.len()
            )
        })?;
        let cert = trust.certificate(&author).ok_or_else(|| {
            format!(
                "policy change {short} is by unknown node {}, which may change nothing",
                author.short()
            )
        })?;
        let c = cert.certificate();
        let sig = signatures
            .get(&hash)
            .ok_or_else(|| format!("policy change {short} by {} is not signed", c.name))?;
        if sig.author != author || !sig.verify() {
            return Err(format!(
                "policy change {short} by {} has a bad signature: forged or altered",
                c.name
            ));
        }
        if revoked(&author) {
            return Err(format!(
                "policy change {short} is by revoked node {}",
                c.name
            ));
        }
        for op in change.decode().operations {
            let key = match (&op.obj, &op.key) {
                (automerge::legacy::ObjectId::Root, automerge::legacy::Key::Map(k)) => {
                    k.to_string()
                }
                _ => {
                    return Err(format!(
                        "policy change {short} by {} edits inside a value, which policy never does",
                        c.name
                    ));
                }
            };
            if !known(&key) {
                return Err(format!(
                    "policy change {short} by {} touches unknown key '{key}'",
                    c.name
                ));
            }
            if station_only(&key) && c.role != Role::Station {
                let what = key.split('/').next().unwrap_or(&key);
                return Err(format!(
                    "policy change {short} by {} ({:?}) changes {what}, which only stations may",
                    c.name, c.role
                ));
            }
        }
    }
    Ok(())
}
