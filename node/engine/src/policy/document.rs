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
//! | `hotlist/<added_at>-<id>`   | `LocalEntry` | any node          |
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
use serde::{Deserialize, Serialize};

use super::Policy;

const USER: &str = "user/";
const RETENTION: &str = "retention";
const LIMITS: &str = "limits";
const REVOKED: &str = "revoked/";
const HOLD: &str = "hold/";
const REQUEST: &str = "request/";
const RELEASE: &str = "release/";
const AUDIT: &str = "audit/";
const LOCAL: &str = "hotlist/";

/// The first bytes of every saved automerge document.
const AUTOMERGE_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Whether only stations may change this key.
fn station_only(key: &str) -> bool {
    key.starts_with(USER) || key == RETENTION || key == LIMITS || key.starts_with(REVOKED)
}

fn known(key: &str) -> bool {
    station_only(key)
        || [HOLD, REQUEST, RELEASE, AUDIT, LOCAL]
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
    for e in &p.local_hotlist {
        out.insert(format!("{LOCAL}{}-{}", e.added_at.0, e.id), bytes(e));
    }
    out
}

/// The retention record as written before alerts had a period of their own.
#[derive(Deserialize)]
struct RetentionBeforeAlerts {
    reads_days: u32,
    plate_images_days: u32,
    overview_images_days: u32,
    audit_days: u32,
}

/// A retention record of either layout. Policy documents outlive releases:
/// one written before `alerts_days` existed keeps its periods and gets the
/// default for alerts, rather than being refused (and its periods lost).
fn decode_retention(b: &[u8]) -> Result<super::Retention, postcard::Error> {
    postcard::from_bytes::<super::Retention>(b).or_else(|e| {
        let old: RetentionBeforeAlerts = postcard::from_bytes(b).map_err(|_| e)?;
        Ok(super::Retention {
            reads_days: old.reads_days,
            plate_images_days: old.plate_images_days,
            overview_images_days: old.overview_images_days,
            audit_days: old.audit_days,
            alerts_days: super::ALERTS_DAYS_DEFAULT,
        })
    })
}

/// Decodes one record into its place in `p`; an error says why it does not fit its key.
fn apply_record(p: &mut Policy, key: &str, b: &[u8]) -> Result<(), String> {
    let bad = |e: postcard::Error| format!("policy key '{key}' does not hold its record: {e}");
    if let Some(name) = key.strip_prefix(USER) {
        let u: super::User = postcard::from_bytes(b).map_err(bad)?;
        if u.name != name {
            return Err(format!("policy key '{key}' holds user '{}'", u.name));
        }
        p.users.insert(u.name.clone(), u);
    } else if key == RETENTION {
        let r = decode_retention(b).map_err(bad)?;
        r.check().map_err(|e| format!("policy key '{key}': {e}"))?;
        p.retention = r;
    } else if key == LIMITS {
        let l: super::LoginLimits = postcard::from_bytes(b).map_err(bad)?;
        l.check().map_err(|e| format!("policy key '{key}': {e}"))?;
        p.limits = l;
    } else if let Some(hex) = key.strip_prefix(REVOKED) {
        let node =
            NodeId::from_hex(hex).ok_or_else(|| format!("policy key '{key}' names no node"))?;
        p.revoked
            .insert(node, postcard::from_bytes(b).map_err(bad)?);
    } else if key.starts_with(HOLD) {
        p.holds.push(postcard::from_bytes(b).map_err(bad)?);
    } else if key.starts_with(REQUEST) {
        p.requests.push(postcard::from_bytes(b).map_err(bad)?);
    } else if key.starts_with(RELEASE) {
        p.releases.push(postcard::from_bytes(b).map_err(bad)?);
    } else if key.starts_with(AUDIT) {
        p.audits.push(postcard::from_bytes(b).map_err(bad)?);
    } else if key.starts_with(LOCAL) {
        p.local_hotlist
            .push(super::LocalEntry::decode(b).map_err(bad)?);
    } else {
        return Err(format!("unknown policy key '{key}'"));
    }
    Ok(())
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
        // Checked first: automerge logs an error for anything else, and a
        // first-schema (postcard) policy is expected here once, on upgrade.
        if !bytes.starts_with(&AUTOMERGE_MAGIC) {
            return Err("policy document is not an automerge document".into());
        }
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
                // Never accepted from a peer (check_changes); kept out of the view.
                continue;
            };
            // A value that does not decode is left out of the view, not
            // fatal: one bad record must not stop a node from opening.
            let _ = apply_record(&mut p, &key, &b);
        }
        p.holds.sort_by_key(|h| (h.id, h.placed_at));
        p.requests.sort_by_key(|r| (r.id, r.received_at));
        p.releases.sort_by_key(|r| (r.id, r.at));
        p.audits.sort_by_key(|a| (a.id, a.drawn_at));
        p.local_hotlist.sort_by_key(|e| (e.id, e.added_at));
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
/// or a certificate that came with them), and allowed to
/// change every key it touches. Returns the reason for the first bad one.
///
/// A revoked author's changes are not refused here: a revoked node cannot
/// meet anyone who knows of the revocation, so its changes only ever arrive
/// relayed, made before the revocation spread; refusing those would stop
/// every meeting between a node that holds them and one that does not.
pub fn check_changes(
    changes: &[Change],
    signatures: &HashMap<[u8; 32], ChangeSignature>,
    trust: &Trust,
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
        let actor = change.actor_id().clone();
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
                    "policy change {short} by {} ({}) changes {what}, which only stations may",
                    c.name, c.role
                ));
            }
            // A car adds records and edits its own; stations edit any.
            if c.role != Role::Station && op.pred.iter().any(|pred| pred.1 != actor) {
                return Err(format!(
                    "policy change {short} by {} ({}) edits '{key}', which another node wrote",
                    c.name, c.role
                ));
            }
            match &op.action {
                automerge::legacy::OpType::Put(ScalarValue::Bytes(b)) => {
                    apply_record(&mut Policy::default(), &key, b)
                        .map_err(|e| format!("policy change {short} by {}: {e}", c.name))?;
                }
                automerge::legacy::OpType::Delete => {}
                other => {
                    return Err(format!(
                        "policy change {short} by {} puts {other:?} at '{key}', not a record",
                        c.name
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Hold, HoldScope, User, UserRole};
    use alpr_protocol::{AgencyKey, Certificate, NodeKey, PlateText, Timestamp};
    use automerge::sync::SyncDoc;
    use rand::SeedableRng;

    struct Fleet {
        trust: Trust,
        station: NodeKey,
        station2: NodeKey,
        car: NodeKey,
        stranger: NodeKey,
    }

    fn fleet() -> Fleet {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let agency = AgencyKey::generate(&mut rng);
        let mut trust = Trust::new(agency.id());
        let mut enroll = |name: &str, role| {
            let key = NodeKey::generate(&mut rng);
            let cert = Certificate {
                agency: agency.id(),
                node: key.id(),
                name: name.into(),
                role,
                not_before: Timestamp(0),
                not_after: Timestamp(i64::MAX),
            }
            .sign(&agency)
            .unwrap()
            .verify(agency.id())
            .unwrap();
            trust.add_certificate(cert).unwrap();
            key
        };
        let station = enroll("station-1", Role::Station);
        let station2 = enroll("station-2", Role::Station);
        let car = enroll("car-1", Role::Vehicle);
        Fleet {
            trust,
            station,
            station2,
            car,
            stranger: NodeKey::generate(&mut rng),
        }
    }

    fn user(name: &str) -> User {
        User {
            name: name.into(),
            role: UserRole::Officer,
            password_hash: "$argon2id$placeholder".into(),
            trained_on: Some(Timestamp(1)),
            training_expires: None,
            active: true,
            created_by: "chief".into(),
            created_at: Timestamp(1),
        }
    }

    fn hold(id: u64, at: i64) -> Hold {
        Hold {
            id,
            case: format!("26-{at}"),
            reason: "test".into(),
            scope: HoldScope::Plate {
                plate: PlateText::parse("ABC123").unwrap(),
                from: Timestamp(0),
                to: Timestamp(10),
            },
            placed_by: "chief".into(),
            placed_at: Timestamp(at),
            expires: None,
            released: None,
        }
    }

    /// One change by `key` turning `old` into `new`; returns the doc, the change and its signature.
    fn edit(
        key: &NodeKey,
        base: &PolicyDoc,
        new: impl FnOnce(&mut Policy),
        with_users: bool,
    ) -> (PolicyDoc, Vec<Change>, Signatures) {
        let mut doc = base.clone();
        doc.automerge_mut()
            .set_actor(ActorId::from(key.id().0.as_slice()));
        let old = doc.materialize().unwrap();
        let mut p = old.clone();
        new(&mut p);
        let before = doc.heads();
        let hash = doc.commit(&old, &p, with_users, 1000).unwrap().unwrap();
        let changes = doc.automerge().get_changes(&before);
        let sig = ChangeSignature::sign(hash.0, key);
        (doc, changes, [(hash.0, sig)].into_iter().collect())
    }

    type Signatures = HashMap<[u8; 32], ChangeSignature>;

    fn check(f: &Fleet, changes: &[Change], sigs: &Signatures) -> Result<(), String> {
        check_changes(changes, sigs, &f.trust)
    }

    #[test]
    fn only_stations_change_users_and_unknown_or_forged_changes_are_refused() {
        let f = fleet();
        let empty = PolicyDoc::new(f.station.id());
        let add = |p: &mut Policy| {
            p.users.insert("jsmith".into(), user("jsmith"));
        };
        let (_, changes, sigs) = edit(&f.station, &empty, add, true);
        check(&f, &changes, &sigs).unwrap();

        let (_, changes, sigs) = edit(&f.car, &empty, add, true);
        let err = check(&f, &changes, &sigs).unwrap_err();
        assert!(err.contains("car-1 (vehicle) changes user"), "{err}");
        // A car may place a hold.
        let (_, changes, sigs) = edit(&f.car, &empty, |p| p.holds.push(hold(1, 5)), false);
        check(&f, &changes, &sigs).unwrap();

        let (_, changes, sigs) = edit(&f.stranger, &empty, |p| p.holds.push(hold(1, 5)), false);
        let err = check(&f, &changes, &sigs).unwrap_err();
        assert!(err.contains("unknown node"), "{err}");

        // Signed by the station, claimed by the car's actor: refused.
        let (_, changes, _) = edit(&f.car, &empty, |p| p.holds.push(hold(1, 5)), false);
        let forged: Signatures = changes
            .iter()
            .map(|c| (c.hash().0, ChangeSignature::sign(c.hash().0, &f.station)))
            .collect();
        let err = check(&f, &changes, &forged).unwrap_err();
        assert!(err.contains("bad signature"), "{err}");
        let err = check(&f, &changes, &Signatures::new()).unwrap_err();
        assert!(err.contains("not signed"), "{err}");
    }

    #[test]
    fn values_must_be_records_and_cars_edit_only_their_own() {
        let f = fleet();
        let empty = PolicyDoc::new(f.station.id());
        // Junk bytes where a hold belongs.
        let mut doc = empty.clone();
        doc.automerge_mut()
            .set_actor(ActorId::from(f.car.id().0.as_slice()));
        let before = doc.heads();
        let mut tx = doc.automerge_mut().transaction();
        tx.put(ROOT, "hold/1-1", ScalarValue::Bytes(vec![0xff, 0x01]))
            .unwrap();
        tx.commit();
        let changes = doc.automerge().get_changes(&before);
        let err = check(&f, &changes, &sigs_of(&f.car, &changes)).unwrap_err();
        assert!(err.contains("does not hold its record"), "{err}");
        // An integer, not bytes.
        let mut doc = empty.clone();
        doc.automerge_mut()
            .set_actor(ActorId::from(f.car.id().0.as_slice()));
        let before = doc.heads();
        let mut tx = doc.automerge_mut().transaction();
        tx.put(ROOT, "hold/1-1", ScalarValue::Int(7)).unwrap();
        tx.commit();
        let changes = doc.automerge().get_changes(&before);
        let err = check(&f, &changes, &sigs_of(&f.car, &changes)).unwrap_err();
        assert!(err.contains("not a record"), "{err}");
        // A station's hold, released by a car: refused; by the station: fine.
        let (placed, _, _) = edit(&f.station, &empty, |p| p.holds.push(hold(1, 5)), true);
        let release = |p: &mut Policy| p.holds[0].released = Some(("x".into(), Timestamp(9)));
        let (_, changes, sigs) = edit(&f.car, &placed, release, false);
        let err = check(&f, &changes, &sigs).unwrap_err();
        assert!(err.contains("which another node wrote"), "{err}");
        let (_, changes, sigs) = edit(&f.station2, &placed, release, true);
        check(&f, &changes, &sigs).unwrap();
        // A document holding a bad value still opens; the value is left out.
        let mut doc = empty.clone();
        let mut tx = doc.automerge_mut().transaction();
        tx.put(ROOT, "hold/1-1", ScalarValue::Bytes(vec![0xff]))
            .unwrap();
        tx.commit();
        assert!(doc.materialize().unwrap().holds.is_empty());
    }

    #[test]
    fn a_retention_record_from_before_alert_retention_keeps_its_periods() {
        #[derive(Serialize)]
        struct Old(u32, u32, u32, u32);
        let mut p = Policy::default();
        apply_record(&mut p, RETENTION, &bytes(&Old(60, 30, 20, 400))).unwrap();
        assert_eq!(
            p.retention,
            super::super::Retention {
                reads_days: 60,
                plate_images_days: 30,
                overview_images_days: 20,
                audit_days: 400,
                alerts_days: super::super::ALERTS_DAYS_DEFAULT,
            }
        );
        // The current layout round-trips, alerts included.
        let mut now = p.retention;
        now.alerts_days = 730;
        apply_record(&mut p, RETENTION, &bytes(&now)).unwrap();
        assert_eq!(p.retention, now);
        // Neither layout: refused with the key named, the periods untouched.
        let err = apply_record(&mut p, RETENTION, &[0x80]).unwrap_err();
        assert!(err.contains("policy key 'retention'"), "{err}");
        assert_eq!(p.retention, now);
        // Alerts kept 0 days is refused like any bad period.
        let mut zero = now;
        zero.alerts_days = 0;
        let err = apply_record(&mut p, RETENTION, &bytes(&zero)).unwrap_err();
        assert!(err.contains("alerts are kept at least 1 day"), "{err}");
    }

    fn sigs_of(key: &NodeKey, changes: &[Change]) -> Signatures {
        changes
            .iter()
            .map(|c| (c.hash().0, ChangeSignature::sign(c.hash().0, key)))
            .collect()
    }

    #[test]
    fn concurrent_edits_merge_the_same_both_ways_and_keep_both_new_holds() {
        let f = fleet();
        let base = PolicyDoc::new(f.station.id());
        // Both stations number their first hold 1 before they meet.
        let (a, _, _) = edit(
            &f.station,
            &base,
            |p| {
                p.users.insert("a".into(), user("a"));
                p.holds.push(hold(1, 100));
                p.retention.reads_days = 60;
                p.retention.plate_images_days = 60;
                p.retention.overview_images_days = 60;
            },
            true,
        );
        let (b, _, _) = edit(
            &f.station2,
            &base,
            |p| {
                p.users.insert("b".into(), user("b"));
                p.holds.push(hold(1, 200));
                p.retention.reads_days = 45;
                p.retention.plate_images_days = 10;
                p.retention.overview_images_days = 10;
            },
            true,
        );
        let merge = |x: &PolicyDoc, y: &PolicyDoc| {
            let mut m = x.clone();
            let (mut s1, mut s2) = (automerge::sync::State::new(), automerge::sync::State::new());
            let mut other = y.clone();
            for _ in 0..10 {
                if let Some(msg) = m.automerge().generate_sync_message(&mut s1) {
                    other
                        .automerge_mut()
                        .receive_sync_message(&mut s2, msg)
                        .unwrap();
                }
                if let Some(msg) = other.automerge().generate_sync_message(&mut s2) {
                    m.automerge_mut()
                        .receive_sync_message(&mut s1, msg)
                        .unwrap();
                }
            }
            m.materialize().unwrap()
        };
        let ab = merge(&a, &b);
        let ba = merge(&b, &a);
        assert_eq!(ab, ba);
        assert!(ab.users.contains_key("a") && ab.users.contains_key("b"));
        assert_eq!(ab.holds.len(), 2, "both holds survive: {:?}", ab.holds);
        let r = ab.retention;
        assert!(
            r.reads_days == 60 && r.plate_images_days == 60
                || r.reads_days == 45 && r.plate_images_days == 10
        );
    }
}
