//! What must hold in a fleet, checked as the world runs and after it heals:
//! safety (no read reaches another car, nothing from the intruder or from
//! the revoked node once revoked, retention and holds kept), and after the
//! heal convergence and no loss.

use std::collections::BTreeSet;

use alpr_engine::store::RecordId;
use alpr_protocol::Timestamp;
use alpr_protocol::replicate::Collection;

use super::world::{World, marks_of};
use super::{DAY_MS, Violation};

fn violate(w: &mut World, invariant: &'static str, what: String) {
    // One report per distinct finding is enough to replay it.
    if w.violations.len() < 50 && !w.violations.iter().any(|v| v.what == what) {
        w.violations
            .push(Violation::new(invariant, format!("{}: {what}", at(w.now))));
    }
}

fn at(t: i64) -> String {
    Timestamp(t).to_string()
}

/// After a meeting between `a` and `b` (the same index for the intruder's):
/// cars hold only their own records, nobody holds the intruder's, and a
/// node that knows of the revocation gained nothing of the revoked car.
pub fn after_meeting(w: &mut World, a: usize, b: usize) {
    for i in [a, b] {
        let Some(e) = w.nodes[i].engine_ref() else {
            continue;
        };
        let me = w.nodes[i].id;
        let origins = World::origins(e);
        let name = w.nodes[i].name.clone();
        if w.is_car(i) {
            for (c, origin) in &origins {
                if *origin != me {
                    let from = w
                        .nodes
                        .iter()
                        .find(|n| n.id == *origin)
                        .map(|n| n.name.clone());
                    violate(
                        w,
                        "safety",
                        format!(
                            "car {name} holds {} of {}",
                            c.name(),
                            from.unwrap_or_else(|| origin.short())
                        ),
                    );
                }
            }
        }
        if let Some(intruder) = &w.intruder {
            let id = intruder.id;
            if origins.iter().any(|(_, o)| *o == id) {
                violate(w, "safety", format!("{name} holds records of the intruder"));
            }
            let known = w.nodes[i]
                .engine_ref()
                .is_some_and(|e| e.node().trust.certificate(&id).is_some());
            if known {
                violate(
                    w,
                    "safety",
                    format!("{name} trusts the intruder's enrollment"),
                );
            }
        }
        if let (Some(car), Some(then)) = (w.revocation.car, w.revocation.known_at.get(&i).copied())
        {
            let r = w.nodes[w.car_index(car)].id;
            let Some(e) = w.nodes[i].engine_ref() else {
                continue;
            };
            let now = marks_of(e, &r);
            if now.iter().zip(then).any(|(n, t)| *n > t) {
                violate(
                    w,
                    "safety",
                    format!(
                        "{name} accepted records of revoked {} after it knew: marks {then:?} then {now:?}",
                        w.nodes[w.car_index(car)].name
                    ),
                );
            }
        }
    }
}

/// After node `i` purged at `clock`: no acknowledged read it could hold is
/// past retention unless held there, and every read a hold placed here
/// covers is still here.
pub fn after_purge(w: &mut World, i: usize, clock: Timestamp) {
    if !w.config.deep_checks() {
        return;
    }
    let Some(e) = w.nodes[i].engine_ref() else {
        return;
    };
    let policy = e.policy();
    let days = i64::from(policy.retention.reads_days);
    let held: BTreeSet<RecordId> = policy
        .holds
        .iter()
        .filter(|h| h.active(clock))
        .flat_map(|h| match &h.scope {
            alpr_protocol::policy::HoldScope::Reads(ids) => ids
                .iter()
                .map(|(origin, seq)| RecordId {
                    origin: *origin,
                    seq: *seq,
                })
                .collect::<Vec<_>>(),
            alpr_protocol::policy::HoldScope::Plate { .. } => Vec::new(),
        })
        .collect();
    let mut found = Vec::new();
    for car in 0..w.config.cars {
        let origin = w.nodes[w.car_index(car)].id;
        for a in &w.cars[car].acked {
            // The engine purges reads captured before now less retention.
            if a.captured + days * DAY_MS >= clock.0 {
                // Acked in capture order: the rest are younger.
                break;
            }
            let id = RecordId { origin, seq: a.seq };
            if !held.contains(&id) && matches!(e.node().store.read_envelope(id), Ok(Some(_))) {
                found.push(format!(
                    "{} keeps read {id} captured {} past {days} days' retention",
                    w.nodes[i].name,
                    at(a.captured)
                ));
            }
        }
    }
    for (s, id, _) in w.holds.clone() {
        if s == i && held.contains(&id) && !matches!(e.node().store.read_envelope(id), Ok(Some(_)))
        {
            found.push(format!(
                "{} purged read {id}, which its own hold covers",
                w.nodes[i].name
            ));
        }
    }
    for f in found {
        violate(w, "safety", f);
    }
}

/// After the heal: every node of the fleet holds the same policy and lists;
/// every station holds every car's records (or their purge), byte for
/// byte as the car signed them; every node's records and chains verify.
pub fn after_heal(w: &mut World) {
    let fleet = w.fleet_nodes();
    // Convergence of policy and hotlists.
    let heads: Vec<_> = fleet
        .iter()
        .map(|i| {
            let e = w.nodes[*i].engine_ref();
            (
                *i,
                e.map(|e| e.policy_heads()),
                e.and_then(|e| e.node().store.hotlists().ok()).map(|l| {
                    l.into_iter()
                        .map(|(name, held)| (name, format!("{:?}", held.head)))
                        .collect::<Vec<_>>()
                }),
            )
        })
        .collect();
    if let Some((_, p0, l0)) = heads.first().cloned() {
        for (i, p, l) in &heads {
            if *p != p0 {
                let name = w.nodes[*i].name.clone();
                violate(
                    w,
                    "convergence",
                    format!("{name}'s policy differs from {}'s", w.nodes[fleet[0]].name),
                );
            }
            if *l != l0 {
                let name = w.nodes[*i].name.clone();
                violate(
                    w,
                    "convergence",
                    format!("{name}'s hotlists differ from {}'s", w.nodes[fleet[0]].name),
                );
            }
        }
    }
    // Every station holds what each car holds of itself.
    let revoked = w.revocation.car;
    for s in 0..w.config.stations {
        for car in 0..w.config.cars {
            if Some(car) == revoked {
                continue;
            }
            let c = w.car_index(car);
            let (Some(se), Some(ce)) = (w.nodes[s].engine_ref(), w.nodes[c].engine_ref()) else {
                continue;
            };
            let origin = w.nodes[c].id;
            let mut found = Vec::new();
            for coll in [
                Collection::Reads,
                Collection::AuditEvents,
                Collection::Alerts,
            ] {
                let own = ce
                    .node()
                    .store
                    .vector(coll)
                    .map(|v| v.mark(&origin).contiguous)
                    .unwrap_or(0);
                let held = se
                    .node()
                    .store
                    .vector(coll)
                    .map(|v| v.mark(&origin).contiguous)
                    .unwrap_or(0);
                if held < own {
                    found.push((
                        "convergence",
                        format!(
                            "{} holds {} of {} through seq {held}, the car through {own}",
                            w.nodes[s].name,
                            coll.name(),
                            w.nodes[c].name
                        ),
                    ));
                }
            }
            let days = i64::from(se.policy().retention.reads_days);
            let end = w.now + 11 * super::MINUTE_MS;
            for a in &w.cars[car].acked {
                let id = RecordId { origin, seq: a.seq };
                let at_station = se.node().store.read_envelope(id).ok().flatten();
                let at_car = ce.node().store.read_envelope(id).ok().flatten();
                match (at_station, at_car) {
                    (Some(s_bytes), Some(c_bytes)) if s_bytes != c_bytes => found.push((
                        "safety",
                        format!(
                            "{} holds read {id} in bytes its car did not sign",
                            w.nodes[s].name
                        ),
                    )),
                    (None, _) if a.captured + days * DAY_MS > end => found.push((
                        "no loss",
                        format!(
                            "read {id} of {}, captured {} and acknowledged, is not at {}",
                            w.nodes[c].name,
                            at(a.captured),
                            w.nodes[s].name
                        ),
                    )),
                    _ => {}
                }
            }
            for (inv, f) in found {
                violate(w, inv, f);
            }
        }
    }
    // Every record and chain verifies where it is held.
    let mut failed = Vec::new();
    for i in 0..w.nodes.len() {
        let Some(e) = w.nodes[i].engine_ref() else {
            continue;
        };
        match alpr_engine::verify::verify(e.node()) {
            Ok(r) if r.ok() => {}
            Ok(r) => failed.push(format!(
                "{} does not verify: {} ({} failures)",
                w.nodes[i].name,
                r.failures
                    .first()
                    .map(|f| format!("{}: {}", f.what, f.reason))
                    .unwrap_or_default(),
                r.failures.len()
            )),
            Err(e) => failed.push(format!("{}: verifying: {e}", w.nodes[i].name)),
        }
    }
    for f in failed {
        violate(w, "safety", f);
    }
    for i in 0..w.nodes.len() {
        let (a, b) = (i, i);
        after_meeting(w, a, b);
    }
}
