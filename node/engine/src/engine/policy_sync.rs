//! The engine's replicated policy: loading and converting the document,
//! staging a change (document, signature, a car's local users) so it commits
//! with its audit event, and the automerge sync with a peer, where every
//! incoming change is checked before any is applied.

use std::collections::{BTreeMap, HashMap};

use alpr_protocol::replicate::{ChangeSignature, SyncMessage};
use alpr_protocol::{Role, SignedCertificate, Timestamp};
use automerge::sync::{self, SyncDoc};

use super::{AccessError, Engine, revoked_set};
use crate::datadir::Node;
use crate::policy::document::{self, PolicyDoc};
use crate::policy::{Permission, Policy, User};
use crate::store::{Effect, StoreError};

type Signatures = HashMap<[u8; 32], ChangeSignature>;

fn corrupt(e: impl std::fmt::Display) -> AccessError {
    AccessError::Store(StoreError::Corrupt(e.to_string()))
}

fn is_station(node: &Node) -> bool {
    node.certificate.certificate().role == Role::Station
}

/// Permissions whose policy only stations author (cars receive it).
pub(super) fn station_only(perm: Permission) -> bool {
    matches!(
        perm,
        Permission::AdministerUsers | Permission::AdministerRetention | Permission::AdministerNodes
    )
}

/// Opens the stored policy; a document of the first schema (postcard) is
/// converted once into a signed change by this node.
pub(super) fn load(
    node: &Node,
) -> Result<(PolicyDoc, BTreeMap<String, User>, Signatures), AccessError> {
    let me = node.node_key.id();
    let local_users: BTreeMap<String, User> = match node.store.local_users()? {
        Some(b) => postcard::from_bytes(&b).map_err(corrupt)?,
        None => BTreeMap::new(),
    };
    let mut signatures = node.store.policy_signatures()?;
    let Some(bytes) = node.store.policy_document()? else {
        return Ok((PolicyDoc::new(me), local_users, signatures));
    };
    if let Ok(doc) = PolicyDoc::load(&bytes, me) {
        return Ok((doc, local_users, signatures));
    }
    let legacy = Policy::from_bytes(&bytes).map_err(corrupt)?;
    let mut doc = PolicyDoc::new(me);
    let station = is_station(node);
    let now = legacy
        .users
        .values()
        .map(|u| u.created_at.0)
        .max()
        .unwrap_or(0);
    let hash = doc
        .commit(&Policy::default(), &legacy, station, now)
        .map_err(corrupt)?;
    let sigs: Vec<ChangeSignature> = hash
        .map(|h| ChangeSignature::sign(h.0, &node.node_key))
        .into_iter()
        .collect();
    node.store.put_policy(&doc.save(), &sigs)?;
    let local_users = if station {
        BTreeMap::new()
    } else {
        legacy.users
    };
    if !local_users.is_empty() {
        let bytes = postcard::to_allocvec(&local_users).map_err(corrupt)?;
        node.store
            .append_audit_with(&[], &[Effect::LocalUsers(&bytes)])?;
    }
    signatures.extend(sigs.into_iter().map(|s| (s.hash, s)));
    Ok((doc, local_users, signatures))
}

/// The policy in force: the document, plus a car's local users it lacks.
pub(super) fn view(
    doc: &PolicyDoc,
    local_users: &BTreeMap<String, User>,
) -> Result<Policy, AccessError> {
    let mut policy = doc.materialize().map_err(corrupt)?;
    for (name, u) in local_users {
        policy
            .users
            .entry(name.clone())
            .or_insert_with(|| u.clone());
    }
    Ok(policy)
}

/// A policy change ready to commit with its audit event.
pub(super) struct StagedPolicy {
    doc: PolicyDoc,
    document: Vec<u8>,
    signature: Option<ChangeSignature>,
    local_users: Option<(BTreeMap<String, User>, Vec<u8>)>,
}

impl StagedPolicy {
    pub(super) fn effects(&self) -> Vec<Effect<'_>> {
        let mut out = vec![Effect::Policy(&self.document)];
        if let Some(sig) = &self.signature {
            out.push(Effect::PolicySignature(sig));
        }
        if let Some((_, bytes)) = &self.local_users {
            out.push(Effect::LocalUsers(bytes));
        }
        out
    }
}

/// Per-connection state of the policy sync (reset on every connection:
/// automerge's sync assumes an in-order, reliable channel).
#[derive(Debug, Default)]
pub struct PolicyPeer {
    state: sync::State,
    /// Signatures that came with changes still waiting for their dependencies.
    pending: Signatures,
    /// The merge in progress while changes wait for their dependencies,
    /// with the heads of the document it started from. Automerge's sync
    /// sends changes by a Bloom filter of what the receiver holds, so a
    /// false positive leaves a change out now and then; the merge keeps the
    /// changes that need it queued, and the next message generated from it
    /// asks for the missing one by hash. Refusing such a message instead
    /// would fail every meeting of the same two documents the same way.
    waiting: Option<(Vec<automerge::ChangeHash>, PolicyDoc)>,
}

/// Most signatures a peer may leave pending.
const PENDING_MAX: usize = 100_000;

impl Engine {
    /// Applies `new` to a copy of the document as a change by this node.
    pub(super) fn stage_policy(
        &self,
        now: Timestamp,
        new: &Policy,
    ) -> Result<StagedPolicy, AccessError> {
        let station = is_station(&self.node);
        let mut doc = self.doc.clone();
        let hash = doc
            .commit(&self.policy, new, station, now.0)
            .map_err(corrupt)?;
        let signature = hash.map(|h| ChangeSignature::sign(h.0, &self.node.node_key));
        let local_users = if station {
            None
        } else {
            let shared = doc.materialize().map_err(corrupt)?.users;
            let local: BTreeMap<String, User> = new
                .users
                .iter()
                .filter(|(name, _)| !shared.contains_key(*name))
                .map(|(n, u)| (n.clone(), u.clone()))
                .collect();
            if local == self.local_users {
                None
            } else {
                let bytes = postcard::to_allocvec(&local).map_err(corrupt)?;
                Some((local, bytes))
            }
        };
        Ok(StagedPolicy {
            document: doc.save(),
            doc,
            signature,
            local_users,
        })
    }

    /// Makes a staged change (now durable) the policy in force.
    pub(super) fn adopt_policy(&mut self, staged: StagedPolicy) -> Result<(), AccessError> {
        self.doc = staged.doc;
        if let Some(sig) = staged.signature {
            self.signatures.insert(sig.hash, sig);
        }
        if let Some((local, _)) = staged.local_users {
            self.local_users = local;
        }
        self.refresh_policy()
    }

    fn refresh_policy(&mut self) -> Result<(), AccessError> {
        let policy = view(&self.doc, &self.local_users)?;
        if policy.revoked != self.policy.revoked
            && let Ok(mut set) = self.revoked.write()
        {
            *set = revoked_set(&policy);
        }
        self.policy = policy;
        Ok(())
    }

    /// Refuses, at a car, a change only stations make.
    pub(super) fn station_authored(&self, perm: Permission) -> Result<(), AccessError> {
        if station_only(perm) && !is_station(&self.node) {
            return Err(AccessError::Invalid(format!(
                "users, retention, login limits and revocations are administered at a station; {} receives them when it meets one",
                self.node.certificate.certificate().name
            )));
        }
        Ok(())
    }

    /// The next policy sync message for a peer, with the signatures of the
    /// changes it carries and their authors' certificates; None when the
    /// peer is known to be up to date.
    pub fn policy_outgoing(&self, peer: &mut PolicyPeer) -> Option<SyncMessage> {
        let before = peer.state.sent_hashes.clone();
        // From the merge in progress, if one waits: its message names the
        // changes it is missing.
        let doc = match &peer.waiting {
            Some((_, doc)) => doc,
            None => &self.doc,
        };
        let message = doc.automerge().generate_sync_message(&mut peer.state)?;
        let mut signatures = Vec::new();
        let mut certificates: Vec<SignedCertificate> = Vec::new();
        for hash in peer.state.sent_hashes.difference(&before) {
            if let Some(sig) = self.signatures.get(&hash.0) {
                signatures.push(*sig);
                if let Some(c) = self.node.trust.certificate(&sig.author)
                    && !certificates.contains(c.signed())
                {
                    certificates.push(c.signed().clone());
                }
            }
        }
        Some(SyncMessage::Policy {
            message: message.encode(),
            signatures,
            certificates,
        })
    }

    /// The policy document's heads, for Hello.
    pub fn policy_heads(&self) -> Vec<[u8; 32]> {
        self.doc.heads().iter().map(|h| h.0).collect()
    }

    /// Whether this side and the peer hold the same policy, as far as the
    /// sync has shown.
    pub fn policy_settled(&self, peer: &PolicyPeer) -> bool {
        peer.state.their_heads.as_deref() == Some(self.doc.heads().as_slice())
    }

    /// Takes a peer's policy sync message: every change it brings (and any
    /// waiting change it completes) must be signed by its author, a node of
    /// this agency not revoked, whose role may change what it touches; only
    /// then is the merge adopted and stored. Returns whether policy changed.
    pub fn policy_incoming(
        &mut self,
        peer: &mut PolicyPeer,
        message: &[u8],
        signatures: Vec<ChangeSignature>,
        certificates: Vec<SignedCertificate>,
    ) -> Result<bool, String> {
        let message = sync::Message::decode(message)
            .map_err(|e| format!("policy sync message does not decode: {e}"))?;
        let mut trust = self.node.trust.clone();
        let mut learned = Vec::new();
        for signed in certificates {
            let cert = signed
                .verify(trust.agency())
                .map_err(|e| format!("certificate with policy changes: {e}"))?;
            let node = cert.certificate().node;
            if trust.certificate(&node).is_none() {
                trust
                    .add_certificate(cert.clone())
                    .map_err(|e| e.to_string())?;
                learned.push(cert);
            }
        }
        for sig in signatures {
            if peer.pending.len() >= PENDING_MAX {
                return Err("too many policy changes waiting for their dependencies".into());
            }
            peer.pending.insert(sig.hash, sig);
        }
        let before = self.doc.heads();
        // A merge that waited goes on, unless this node's own policy changed
        // since it began (an edit during the meeting): it starts again
        // from the policy in force, so that edit is never lost.
        let mut merged = match peer.waiting.take() {
            Some((base, doc)) if base == before => doc,
            _ => self.doc.clone(),
        };
        merged
            .automerge_mut()
            .receive_sync_message(&mut peer.state, message)
            .map_err(|e| format!("policy sync message: {e}"))?;
        // Changes waiting for dependencies are not applied yet, so not
        // checked yet: the merge waits (bounded by PENDING_MAX signatures)
        // and nothing of it is adopted until it is whole.
        if !automerge::ReadDoc::get_missing_deps(merged.automerge(), &[]).is_empty() {
            peer.waiting = Some((before, merged));
            return Ok(false);
        }
        let new = merged.automerge().get_changes(&before);
        if new.is_empty() {
            return Ok(false);
        }
        let known = |h: &[u8; 32]| {
            self.signatures
                .get(h)
                .or_else(|| peer.pending.get(h))
                .copied()
        };
        let all: Signatures = new
            .iter()
            .filter_map(|c| known(&c.hash().0).map(|s| (s.hash, s)))
            .collect();
        document::check_changes(&new, &all, &trust)?;
        // A peer's local hotlist entries are held to the bounds this node
        // holds its own to (an older build let any region through). Entries
        // already held are not re-judged, so one bad old entry never blocks
        // every later meeting.
        let merged_view = view(&merged, &self.local_users).map_err(|e| e.to_string())?;
        for e in &merged_view.local_hotlist {
            if self.policy.local_hotlist.contains(e) {
                continue;
            }
            alpr_protocol::hotlist::check_entry(&e.entry).map_err(|err| {
                format!("a peer's local hotlist entry {} is refused: {err}", e.id)
            })?;
        }
        let sigs: Vec<ChangeSignature> = all.values().copied().collect();
        self.node
            .store
            .put_policy(&merged.save(), &sigs)
            .map_err(|e| e.to_string())?;
        for cert in learned {
            self.learn_certificate(cert).map_err(|e| e.to_string())?;
        }
        for sig in sigs {
            peer.pending.remove(&sig.hash);
            self.signatures.insert(sig.hash, sig);
        }
        self.doc = merged;
        self.refresh_policy().map_err(|e| e.to_string())?;
        Ok(true)
    }
}
