//! The control socket's alert requests: listing, one alert, dispositions
//! and the hit report, each mapped to one engine call.

use alpr_protocol::alert::Outcome;
use alpr_protocol::control::{AlertWire, ControlResponse, DispositionWire, PurposeWire, Token};
use alpr_protocol::{NodeId, Timestamp};

use super::purpose;
use crate::engine::{AccessError, AlertFilter, AlertView, Engine, SessionToken};
use crate::store::{RecordId, TimeRange};

/// An alert view as the wire carries it.
pub(super) fn alert_wire(v: AlertView) -> AlertWire {
    AlertWire {
        origin: v.id.origin,
        seq: v.id.seq,
        raised_at: v.raised_at,
        alert: v.alert,
        dispositions: v
            .dispositions
            .into_iter()
            .map(|(id, at, body)| DispositionWire {
                origin: id.origin,
                seq: id.seq,
                at,
                body,
            })
            .collect(),
    }
}

pub(super) fn list(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    pending_only: bool,
    limit: u32,
) -> Result<ControlResponse, AccessError> {
    let views = engine.alerts(
        now,
        SessionToken(token),
        &purpose(p),
        AlertFilter {
            pending_only,
            limit: limit as usize,
        },
    )?;
    Ok(ControlResponse::Alerts {
        alerts: views.into_iter().map(alert_wire).collect(),
        stale: engine.lists_stale(now),
        lists_age_ms: engine.lists_age_ms(now),
    })
}

pub(super) fn show(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    origin: NodeId,
    seq: u64,
) -> Result<ControlResponse, AccessError> {
    let (view, crop) = engine.alert(
        now,
        SessionToken(token),
        &purpose(p),
        RecordId { origin, seq },
    )?;
    Ok(ControlResponse::Alert {
        alert: Box::new(alert_wire(view)),
        crop,
        stale: engine.lists_stale(now),
    })
}

pub(super) fn dispose(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    id: RecordId,
    outcome: Outcome,
    reason: &str,
) -> Result<ControlResponse, AccessError> {
    let done = engine.dispose_alert(now, SessionToken(token), id, outcome, reason)?;
    Ok(ControlResponse::Disposed {
        origin: done.origin,
        seq: done.seq,
    })
}

pub(super) fn hit_report(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    range: TimeRange,
) -> Result<ControlResponse, AccessError> {
    let r = engine.hit_report(now, SessionToken(token), &purpose(p), range)?;
    let pairs = |m: std::collections::BTreeMap<String, u64>| m.into_iter().collect();
    Ok(ControlResponse::HitReport {
        alerts: r.alerts,
        pending: r.pending,
        by_list: pairs(r.by_list),
        by_outcome: pairs(r.by_outcome),
        by_camera: pairs(r.by_camera),
        by_day: pairs(r.by_day),
    })
}
