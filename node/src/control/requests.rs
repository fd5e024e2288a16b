//! One function per control request: the dispatch names every request,
//! so one added to the protocol does not compile until it is served here,
//! and each is read beside the one engine call it translates. Pure
//! translation between the wire and the engine: every check is the
//! engine's.

use alpr_protocol::control::{
    AuditFilterWire, AuditWire, ControlResponse, DecisionWire, HoldScopeWire, HoldWire,
    HotlistDiffWire, HotlistWire, LocalEditWire, LocalEntryWire, PurposeWire, QueryWire,
    RequestWire, RoleWire, Token, UserEditWire, UserWire,
};
use alpr_protocol::hotlist::Entry;
use alpr_protocol::{Action, Capture, ImageKind, NodeId, PlatePattern, PlateText, Timestamp};

use super::{error, hold_scope, purged, purpose, summarize, summarize_hits};
use crate::engine::{
    AccessError, Engine, NewHold, NewRelease, NewUser, PurgeActor, SessionToken, UserEdit,
};
use crate::policy::{HoldScope, Quarter, Retention};
use crate::search::Query;
use crate::store::{RecordId, TimeRange};

/// The fields of `ControlRequest::Search`, too many for arguments.
pub(super) struct Search {
    pub token: Token,
    pub purpose: PurposeWire,
    pub query: QueryWire,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: u32,
    pub camera: Option<String>,
    pub node: Option<String>,
}

/// The fields of `ControlRequest::AddUser`, too many for arguments.
pub(super) struct AddUser {
    pub token: Token,
    pub name: String,
    pub role: RoleWire,
    pub password: String,
    pub trained_on: Option<Timestamp>,
    pub training_expires: Option<Timestamp>,
}

/// The fields of `ControlRequest::SetRetention`, too many for arguments.
pub(super) struct SetRetention {
    pub token: Token,
    pub reads_days: u32,
    pub plate_images_days: u32,
    pub overview_images_days: u32,
    pub audit_days: u32,
    pub alerts_days: u32,
}

/// The fields of `ControlRequest::Release`, too many for arguments.
pub(super) struct Release {
    pub token: Token,
    pub purpose: PurposeWire,
    pub agency: String,
    pub official: String,
    pub legal_basis: String,
    pub reads: Vec<(NodeId, u64)>,
    pub out: String,
}

pub(super) fn login(
    engine: &mut Engine,
    now: Timestamp,
    user: String,
    password: String,
) -> Result<ControlResponse, AccessError> {
    engine.login(now, &user, &password).map(|token| {
        let name = crate::policy::parse_user_name(&user).unwrap_or(user);
        let role = engine
            .policy()
            .users
            .get(&name)
            .map(|u| u.role)
            .unwrap_or(RoleWire::Officer);
        ControlResponse::LoggedIn {
            token: token.0,
            user: name,
            role,
        }
    })
}

pub(super) fn logout(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    engine
        .logout(now, SessionToken(token))
        .map(|()| ControlResponse::Done)
}

/// A response, not a result: a malformed query is refused (and audited)
/// before it reaches the search.
pub(super) fn search(
    engine: &mut Engine,
    now: Timestamp,
    Search {
        token,
        purpose: p,
        query,
        from,
        to,
        limit,
        camera,
        node,
    }: Search,
) -> ControlResponse {
    let query = match query {
        QueryWire::Plate(p) => PlateText::parse(&p).map(Query::Plate),
        QueryWire::Pattern(p) => PlatePattern::parse(&p).map(Query::Pattern),
        QueryWire::LookAlike(p) => PlateText::parse(&p).map(Query::LookAlike),
    };
    let query = match query {
        Ok(q) => q,
        Err(e) => {
            let err = AccessError::Invalid(e.to_string());
            return error(engine.refuse_malformed(
                now,
                SessionToken(token),
                Action::Search,
                "search",
                err,
            ));
        }
    };
    let origin = match node.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => match engine.find_node(n) {
            Ok(id) => Some(id),
            Err(err) => {
                return error(engine.refuse_malformed(
                    now,
                    SessionToken(token),
                    Action::Search,
                    "search",
                    err,
                ));
            }
        },
    };
    let filter = crate::search::ReadFilter {
        origin,
        camera: camera
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
    };
    let range = TimeRange {
        from: from.unwrap_or(Timestamp::MIN),
        to: to.unwrap_or(Timestamp::MAX),
    };
    engine
        .search_filtered(
            now,
            SessionToken(token),
            &purpose(p),
            &query,
            range,
            &filter,
            limit.min(1000) as usize,
        )
        .map(|r| ControlResponse::Found {
            hits: summarize_hits(&r.hits),
            total: r.total,
        })
        .unwrap_or_else(error)
}

pub(super) fn view_read(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    origin: NodeId,
    seq: u64,
) -> Result<ControlResponse, AccessError> {
    engine
        .view_read(
            now,
            SessionToken(token),
            &purpose(p),
            RecordId { origin, seq },
        )
        .map(|(v, crop)| ControlResponse::Read {
            read: summarize(&v),
            crop_jpeg: crop.unwrap_or_default(),
        })
}

pub(super) fn view_image(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    origin: NodeId,
    seq: u64,
    kind: ImageKind,
) -> Result<ControlResponse, AccessError> {
    engine
        .view_image(
            now,
            SessionToken(token),
            &purpose(p),
            RecordId { origin, seq },
            kind,
        )
        .map(|jpeg| ControlResponse::Image {
            jpeg: jpeg.unwrap_or_default(),
        })
}

/// Verifies the whole database, telling `watcher` how far it is; it may stop it.
pub(super) fn verify_watched(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    watcher: alpr_engine::verify::Watcher<'_>,
) -> Result<ControlResponse, AccessError> {
    engine
        .verify_watched(now, SessionToken(token), watcher)
        .map(|r| ControlResponse::Verified {
            reads: r.reads,
            images: r.images,
            audit_events: r.audit_events,
            failures: r.failures.iter().map(|f| f.to_string()).collect(),
            cancelled: r.cancelled,
        })
}

pub(super) fn purge(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    dry_run: bool,
) -> Result<ControlResponse, AccessError> {
    engine
        .purge(now, PurgeActor::User(SessionToken(token)), dry_run)
        .map(|r| purged(&r, now, dry_run))
}

pub(super) fn status(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    engine
        .status(now, SessionToken(token))
        .map(|s| ControlResponse::Status {
            user: s.user,
            role: s.role,
            reads_days: s.retention.reads_days,
            plate_images_days: s.retention.plate_images_days,
            overview_images_days: s.retention.overview_images_days,
            audit_days: s.retention.audit_days,
            alerts_days: s.retention.alerts_days,
            standing_holds: s.standing_holds,
            audit_overdue: s.audit_overdue.map(|q| q.to_string()),
            nodes: engine.node().trust.nodes().collect(),
            valid_from: engine.node().certificate.certificate().not_before,
            valid_until: engine.node().certificate.certificate().not_after,
            node_name: engine.node().certificate.certificate().name.clone(),
            node_id: engine.node().node_key.id(),
            node_role: engine.node().certificate.certificate().role,
            agency: engine.node().certificate.certificate().agency,
            reads: s.reads,
            meetings: s.meetings,
            hotlists: s.hotlists,
            disk_free: s.disk_free,
            alerts_pending: s.alerts_pending,
            lists_age_ms: s.lists_age_ms,
            lists_stale: s.lists_stale,
            database_bytes: s.database_bytes,
            next_purge: s.notes.next_purge,
            cameras: s.notes.cameras,
            failures_max: s.limits.failures_max,
            lockout_minutes: s.limits.lockout_minutes,
            idle_lock_minutes: s.limits.idle_lock_minutes,
        })
}

pub(super) fn peers(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    let report = engine.peers(now, SessionToken(token))?;
    Ok(ControlResponse::Peers {
        peers: report
            .peers
            .into_iter()
            .map(|(v, name, last_in_sync)| alpr_protocol::control::PeerWire {
                node: v.node,
                name,
                role: v.role,
                connected_since: v.connected_since,
                last_in_sync,
                meetings: v.meetings,
                failures: v.failures,
                last_failure: v.last_failure,
                pending_out: v.pending_out,
                pending_in: v.pending_in,
            })
            .collect(),
        addresses: report
            .addresses
            .into_iter()
            .map(|a| alpr_protocol::control::PeerAddressWire {
                address: a.address,
                last_try: a.last_try,
                last_met: a.last_met,
                last_failure: a.last_failure,
            })
            .collect(),
        revoked: report
            .revoked
            .into_iter()
            .map(|(node, r)| alpr_protocol::control::RevokedWire {
                node,
                name: r.name,
                reason: r.reason,
                by: r.by,
                at: r.at,
            })
            .collect(),
    })
}

pub(super) fn import(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    source: String,
    reads: Vec<(Timestamp, Capture)>,
) -> Result<ControlResponse, AccessError> {
    // At most IMPORT_BATCH_MAX reads: check_sizes refused more.
    let offered = reads.len() as u64;
    let mut seqs = (0, 0);
    let stored = engine.import(
        now,
        SessionToken(token),
        &source,
        std::iter::once(reads),
        |stored| {
            if let (Some(a), Some(b)) = (stored.first(), stored.last()) {
                seqs = (a.read.read().seq, b.read.read().seq);
            }
            true
        },
    )?;
    Ok(ControlResponse::Imported {
        first_seq: seqs.0,
        last_seq: seqs.1,
        already_stored: offered.saturating_sub(stored),
    })
}

pub(super) fn add_user(
    engine: &mut Engine,
    now: Timestamp,
    AddUser {
        token,
        name,
        role: r,
        password,
        trained_on,
        training_expires,
    }: AddUser,
) -> Result<ControlResponse, AccessError> {
    let new = NewUser {
        name,
        role: r,
        password,
        trained_on,
        training_expires,
    };
    engine
        .add_user(now, SessionToken(token), new)
        .map(|()| ControlResponse::Done)
}

pub(super) fn edit_user(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    name: String,
    edit: UserEditWire,
) -> Result<ControlResponse, AccessError> {
    let edit = match edit {
        UserEditWire::Training { on, expires } => UserEdit::Training { on, expires },
        UserEditWire::Active(a) => UserEdit::Active(a),
        UserEditWire::Role(r) => UserEdit::Role(r),
        UserEditWire::Password(p) => UserEdit::Password(p),
    };
    engine
        .edit_user(now, SessionToken(token), &name, edit)
        .map(|()| ControlResponse::Done)
}

pub(super) fn list_users(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    let users = engine.users(now, SessionToken(token))?;
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        // Lockouts are this node's own (they do not replicate).
        let auth = engine.node().store.auth_state(&u.name)?;
        out.push(UserWire {
            failures: auth.failures,
            locked_until: auth.locked_until.filter(|t| *t > now),
            name: u.name,
            role: u.role,
            active: u.active,
            trained_on: u.trained_on,
            training_expires: u.training_expires,
        });
    }
    Ok(ControlResponse::Users(out))
}

pub(super) fn unlock_user(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    name: String,
) -> Result<ControlResponse, AccessError> {
    engine
        .unlock_user(now, SessionToken(token), &name)
        .map(|_| ControlResponse::Done)
}

pub(super) fn stage_hotlist(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    list: String,
    entries: Vec<Entry>,
) -> Result<ControlResponse, AccessError> {
    engine
        .stage_hotlist(now, SessionToken(token), &list, entries)
        .map(|()| ControlResponse::Done)
}

pub(super) fn publish_hotlist(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    list: String,
    entries: Vec<Entry>,
) -> Result<ControlResponse, AccessError> {
    let v = engine.publish_hotlist(now, SessionToken(token), &list, entries)?;
    Ok(ControlResponse::Hotlists {
        lists: vec![HotlistWire {
            list: v.list,
            version: v.version,
            entries: v.entries,
            content: v.content,
            published_at: v.published_at,
            author: v.author,
        }],
        local: vec![],
    })
}

pub(super) fn list_hotlists(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    let lists = engine
        .hotlists(now, SessionToken(token))?
        .into_iter()
        .map(|(held, v)| HotlistWire {
            list: v.list,
            version: held.head.version,
            entries: held.entries,
            content: held.head.content,
            published_at: v.published_at,
            author: v.author,
        })
        .collect();
    let local = engine
        .policy()
        .local_hotlist
        .iter()
        .map(|e| LocalEntryWire {
            id: e.id,
            entry: e.entry.clone(),
            added_by: e.added_by.clone(),
            added_at: e.added_at,
            removed: e.removed.clone(),
            pattern: e.pattern.clone(),
            edited: e.edited.clone(),
        })
        .collect();
    Ok(ControlResponse::Hotlists { lists, local })
}

pub(super) fn add_hotlist_entry(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    entry: Entry,
    pattern: Option<String>,
) -> Result<ControlResponse, AccessError> {
    let id = match pattern {
        Some(p) => engine.add_hotlist_pattern(now, SessionToken(token), &p, entry)?,
        None => engine.add_hotlist_entry(now, SessionToken(token), entry)?,
    };
    Ok(ControlResponse::HotlistEntryAdded { id })
}

pub(super) fn edit_hotlist_entry(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    id: u64,
    edit: LocalEditWire,
) -> Result<ControlResponse, AccessError> {
    let edit = crate::hotlist::LocalEdit {
        priority: edit.priority,
        expires: edit.expires,
        reason: edit.reason,
        covert: edit.covert,
    };
    engine.edit_hotlist_entry(now, SessionToken(token), id, edit)?;
    Ok(ControlResponse::Done)
}

pub(super) fn diff_hotlist(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    list: String,
    entries: Vec<Entry>,
) -> Result<ControlResponse, AccessError> {
    let d = engine.diff_hotlist(now, SessionToken(token), &list, entries)?;
    let cap = alpr_protocol::control::DIFF_SAMPLE_MAX;
    let mut diff = d.diff;
    diff.added_sample.truncate(cap);
    diff.removed_sample.truncate(cap);
    diff.changed_sample.truncate(cap);
    Ok(ControlResponse::HotlistDiff(HotlistDiffWire {
        list: d.list,
        base_version: d.base.map(|v| v.version),
        entries: d.entries,
        added: diff.added,
        removed: diff.removed,
        changed: diff.changed,
        unchanged: diff.unchanged,
        added_sample: diff.added_sample,
        removed_sample: diff.removed_sample,
        changed_sample: diff.changed_sample,
    }))
}

pub(super) fn remove_hotlist_entry(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    id: u64,
) -> Result<ControlResponse, AccessError> {
    engine.remove_hotlist_entry(now, SessionToken(token), id)?;
    Ok(ControlResponse::Done)
}

pub(super) fn revoke_node(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    node: String,
    reason: String,
) -> Result<ControlResponse, AccessError> {
    let id = engine.find_node(&node).map_err(|e| {
        engine.refuse_malformed(now, SessionToken(token), Action::EditNodes, "revoke", e)
    })?;
    engine.revoke_node(now, SessionToken(token), id, &reason)?;
    Ok(ControlResponse::Done)
}

pub(super) fn set_retention(
    engine: &mut Engine,
    now: Timestamp,
    SetRetention {
        token,
        reads_days,
        plate_images_days,
        overview_images_days,
        audit_days,
        alerts_days,
    }: SetRetention,
) -> Result<ControlResponse, AccessError> {
    engine
        .set_retention(
            now,
            SessionToken(token),
            Retention {
                reads_days,
                plate_images_days,
                overview_images_days,
                audit_days,
                alerts_days,
            },
        )
        .map(|()| ControlResponse::Done)
}

pub(super) fn place_hold(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    case: String,
    reason: String,
    scope: HoldScopeWire,
    expires: Option<Timestamp>,
) -> Result<ControlResponse, AccessError> {
    let scope = hold_scope(scope).map_err(|e| {
        engine.refuse_malformed(now, SessionToken(token), Action::EditHold, "place hold", e)
    })?;
    let hold = NewHold {
        case,
        reason,
        scope,
        expires,
    };
    engine
        .place_hold(now, SessionToken(token), hold)
        .map(|id| ControlResponse::HoldPlaced { id })
}

pub(super) fn release_hold(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    id: u64,
) -> Result<ControlResponse, AccessError> {
    engine
        .release_hold(now, SessionToken(token), id)
        .map(|()| ControlResponse::Done)
}

pub(super) fn set_limits(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    failures_max: Option<u32>,
    lockout_minutes: Option<u32>,
    idle_lock_minutes: Option<u32>,
) -> Result<ControlResponse, AccessError> {
    let now_limits = engine.policy().limits;
    let limits = crate::policy::LoginLimits {
        failures_max: failures_max.unwrap_or(now_limits.failures_max),
        lockout_minutes: lockout_minutes.unwrap_or(now_limits.lockout_minutes),
        idle_lock_minutes: idle_lock_minutes.unwrap_or(now_limits.idle_lock_minutes),
    };
    engine
        .set_limits(now, SessionToken(token), limits)
        .map(|()| ControlResponse::Done)
}

pub(super) fn list_holds(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    Ok(ControlResponse::Holds(
        engine
            .holds(now, SessionToken(token))?
            .iter()
            .map(|h| HoldWire {
                id: h.id,
                case: h.case.clone(),
                reason: h.reason.clone(),
                scope: hold_scope_wire(&h.scope),
                placed_by: h.placed_by.clone(),
                placed_at: h.placed_at,
                expires: h.expires,
                standing: h.active(now),
            })
            .collect(),
    ))
}

fn hold_scope_wire(scope: &HoldScope) -> HoldScopeWire {
    match scope {
        HoldScope::Reads(ids) => HoldScopeWire::Reads(ids.clone()),
        HoldScope::Plate { plate, from, to } => HoldScopeWire::Plate {
            plate: plate.to_string(),
            from: *from,
            to: *to,
        },
    }
}

/// Exports a case's evidence to a directory on this machine, telling
/// `watcher` how many files are written; it may stop the export (what was
/// written is removed).
pub(super) fn export_evidence_watched(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    p: PurposeWire,
    case: String,
    out: String,
    watcher: alpr_engine::verify::Watcher<'_>,
) -> Result<ControlResponse, AccessError> {
    engine
        .export_evidence(
            now,
            SessionToken(token),
            &purpose(p),
            &case,
            &mut crate::evidence::DirSink::watched(&out, watcher),
        )
        .map(|m| ControlResponse::Exported {
            reads: m.reads,
            audit_events: m.audit_events,
            files: m.files.len() as u64 + 2,
            // The directory as the file system names it (symlinks, `..`
            // resolved), so the person at the console knows which medium.
            path: std::fs::canonicalize(&out)
                .map(|p| p.display().to_string())
                .unwrap_or(out),
            bytes: m.files.iter().map(|f| f.bytes).sum(),
        })
}

pub(super) fn register_request(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    requester: String,
    what: String,
    referred_to: String,
) -> Result<ControlResponse, AccessError> {
    engine
        .register_request(now, SessionToken(token), &requester, &what, &referred_to)
        .map(|id| ControlResponse::RequestRegistered { id })
}

pub(super) fn decide_request(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    id: u64,
    decision: DecisionWire,
    note: String,
) -> Result<ControlResponse, AccessError> {
    engine
        .decide_request(now, SessionToken(token), id, decision, &note)
        .map(|()| ControlResponse::Done)
}

pub(super) fn list_requests(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    Ok(ControlResponse::Requests(
        engine
            .requests(now, SessionToken(token))?
            .into_iter()
            .map(|r| RequestWire {
                id: r.id,
                requester: r.requester,
                what: r.what,
                referred_to: r.referred_to,
                registered_by: r.registered_by,
                received_at: r.received_at,
                decision: r.decision.map(|d| (d.outcome, d.note, d.by, d.at)),
            })
            .collect(),
    ))
}

pub(super) fn list_releases(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    Ok(ControlResponse::Releases(
        engine.releases(now, SessionToken(token))?,
    ))
}

pub(super) fn release(
    engine: &mut Engine,
    now: Timestamp,
    Release {
        token,
        purpose: p,
        agency,
        official,
        legal_basis,
        reads,
        out,
    }: Release,
) -> Result<ControlResponse, AccessError> {
    let release = NewRelease {
        case: p.case.clone().unwrap_or_default(),
        agency,
        official,
        legal_basis,
        reads: reads
            .into_iter()
            .map(|(origin, seq)| RecordId { origin, seq })
            .collect(),
    };
    engine
        .release(
            now,
            SessionToken(token),
            &purpose(p),
            release,
            &mut crate::evidence::DirSink::new(&out),
        )
        .map(|id| ControlResponse::Released { id })
}

pub(super) fn audit_sample(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    quarter: String,
    seed: u64,
    size: u32,
) -> Result<ControlResponse, AccessError> {
    let quarter = Quarter::parse(&quarter).map_err(|e| {
        engine.refuse_malformed(
            now,
            SessionToken(token),
            Action::AuditReview,
            "draw audit sample",
            AccessError::Invalid(e),
        )
    })?;
    engine
        .draw_audit_sample(now, SessionToken(token), quarter, seed, size as usize)
        .map(|id| ControlResponse::AuditDrawn { id })
}

pub(super) fn audit_mark(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    report: u64,
    item: u32,
    compliant: bool,
    note: String,
) -> Result<ControlResponse, AccessError> {
    engine
        .mark_audit_item(
            now,
            SessionToken(token),
            report,
            item as usize,
            compliant,
            &note,
        )
        .map(|()| ControlResponse::Done)
}

pub(super) fn audit_sign(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    report: u64,
) -> Result<ControlResponse, AccessError> {
    engine
        .sign_audit(now, SessionToken(token), report)
        .map(|_| ControlResponse::Done)
}

pub(super) fn list_audits(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
) -> Result<ControlResponse, AccessError> {
    let (reports, overdue) = engine.audits_with_events(now, SessionToken(token))?;
    Ok(ControlResponse::Audits {
        reports: reports
            .into_iter()
            .map(|(r, events)| AuditWire {
                id: r.id,
                quarter: r.quarter.to_string(),
                seed: r.seed,
                population: r.population,
                auditor: r.auditor.clone(),
                signed: r.signature_valid(),
                items: r
                    .items
                    .iter()
                    .map(|i| (i.origin, i.seq, i.compliant, i.note.clone()))
                    .collect(),
                events: events
                    .into_iter()
                    .map(|e| e.map(audit_event_wire))
                    .collect(),
            })
            .collect(),
        overdue: overdue.map(|q| q.to_string()),
    })
}

fn audit_event_wire(e: alpr_protocol::AuditEvent) -> alpr_protocol::control::AuditEventWire {
    alpr_protocol::control::AuditEventWire {
        origin: e.origin,
        seq: e.seq,
        time: e.time,
        user: e.body.user,
        action: e.body.action,
        object: e.body.object,
        purpose: e.body.purpose,
        case: e.body.case,
        outcome: e.body.outcome,
    }
}

pub(super) fn audit_log(
    engine: &mut Engine,
    now: Timestamp,
    token: Token,
    filter: AuditFilterWire,
    limit: u32,
) -> Result<ControlResponse, AccessError> {
    let filter = crate::engine::AuditFilter {
        user: filter.user,
        action: filter.action,
        contains: filter.contains,
        case: filter.case,
        from: filter.from,
        to: filter.to,
    };
    let log = engine.audit_log(now, SessionToken(token), &filter, limit as usize)?;
    Ok(ControlResponse::AuditLog {
        events: log.events.into_iter().map(audit_event_wire).collect(),
        total: log.total,
        damaged: log.damaged,
    })
}
