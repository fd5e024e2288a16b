//! Hotlist hits become alerts, and alerts are closed by dispositions.
//!
//! The matcher holds an [`Index`] of every bulk list version and the
//! fleet's local entries; it is rebuilt when a list's content or the local
//! entries change (checked by a fingerprint at each use, so a version that
//! arrived from a peer or was published here is matched from the next
//! read on). Reads are matched as they are recorded, and their alerts are
//! stored in the same transaction. When a list gains entries, the added
//! ones are looked up among the stored reads still within retention
//! (exact plate, by the blind index) and raise retro alerts.
//!
//! Covert entries raise alerts like any other, but only roles with
//! [`Permission::ViewCovertAlerts`] see them. A high-priority alert cannot
//! be muted (that is the console's to honour; the record says the priority).

use std::collections::{BTreeMap, HashMap, HashSet};

use alpr_protocol::alert::{
    AlertBody, AlertItem, AlertRecord, Differ, DispositionBody, Hit, HitKind, ListRef, Outcome,
    RecordRef,
};
use alpr_protocol::hotlist::{Entry, Priority};
use alpr_protocol::{Action, Outcome as AuditOutcome, Read, Role, Timestamp, VerifiedAlertRecord};
use sha2::{Digest, Sha256};

use super::{AccessError, Engine, PurposeInput, SessionToken, cannot_sign};
use crate::matching::{AlertRule, Index, ListIndex, Match, MatchKind, ReadTexts};
use crate::policy::{DAY_MS, Permission, Policy};
use crate::store::{Effect, RecordId, StoreError, TimeRange};

/// The name alerts give the fleet's local (hand-entered) list.
pub const LOCAL_LIST: &str = "local";
/// A node whose lists were last brought up to date longer ago than this
/// flags every alert, and its status, as stale.
pub const STALE_AFTER_MS_DEFAULT: i64 = 24 * 60 * 60 * 1000;
/// Most added entries a new version checks against stored reads: a
/// daily extract's change is thousands; a whole new national list is
/// matched from its next read on, and the skip is logged.
pub const RETRO_ENTRIES_MAX: usize = 200_000;
/// Most alerts one listing returns.
pub const ALERTS_SHOWN_MAX: usize = 10_000;

/// What the matcher was built from: each bulk list's content, and the
/// local entries' hash.
type Fingerprint = (Vec<(String, [u8; 32])>, [u8; 32]);

#[derive(Debug, Clone, Copy)]
struct ListInfo {
    version: u64,
    published_at: Timestamp,
    /// The content its entries are stored under (a hit fetches its entry).
    content: [u8; 32],
}

#[derive(Debug, Clone)]
struct LocalRef {
    id: u64,
    added_at: Timestamp,
    pattern: Option<String>,
}

/// Every list this node matches reads against, indexed.
#[derive(Debug, Default)]
pub(crate) struct Matcher {
    index: Index,
    built: Option<Fingerprint>,
    lists: BTreeMap<String, ListInfo>,
    /// The local list's entries by their place in its index.
    local: Vec<LocalRef>,
    local_entries: Vec<Entry>,
    /// The wildcard entries by their place.
    wildcards: Vec<LocalRef>,
    /// Per-list alert rules set by configuration (else each category's default).
    rules: BTreeMap<String, AlertRule>,
    /// How old lists may be before alerts are flagged stale.
    stale_after_ms: Option<i64>,
}

/// One alert as a person sees it: the alert, and its dispositions if any.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertView {
    pub id: RecordId,
    pub raised_at: Timestamp,
    pub alert: AlertBody,
    /// Dispositions, oldest first: (record, when, what).
    pub dispositions: Vec<(RecordId, Timestamp, DispositionBody)>,
}

impl AlertView {
    /// An alert stays pending until a disposition closes it.
    pub fn pending(&self) -> bool {
        self.dispositions.is_empty()
    }

    pub fn priority(&self) -> Priority {
        self.alert.entry.detail.priority
    }
}

/// What an alerts listing shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertFilter {
    pub pending_only: bool,
    pub limit: usize,
}

/// Counts of hits, for the hit report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HitReport {
    pub alerts: u64,
    pub pending: u64,
    pub by_list: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_camera: BTreeMap<String, u64>,
    /// By the day (UTC, YYYY-MM-DD) the alert was raised.
    pub by_day: BTreeMap<String, u64>,
}

fn hit_kind(kind: MatchKind) -> HitKind {
    match kind {
        MatchKind::Exact => HitKind::Exact,
        MatchKind::LookAlike(changes) => HitKind::LookAlike { changes },
        MatchKind::EndMissing => HitKind::EndMissing,
        MatchKind::EndExtra => HitKind::EndExtra,
        MatchKind::Wildcard => HitKind::Wildcard,
    }
}

fn local_fingerprint(policy: &Policy) -> [u8; 32] {
    let mut h = Sha256::new();
    for e in &policy.local_hotlist {
        if let Ok(b) = postcard::to_allocvec(e) {
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    }
    h.finalize().into()
}

impl Matcher {
    /// Rebuilds what changed since the last build; returns the entries
    /// each changed bulk list gained, and the local entries added, for
    /// retro checks (none on the first build: a node just opened has
    /// already matched what it holds).
    fn refresh(
        &mut self,
        store: &crate::store::Store,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<Vec<(String, Vec<Entry>)>, StoreError> {
        let held = store.hotlists()?;
        let lists: Vec<(String, [u8; 32])> = held
            .iter()
            .map(|(name, h)| (name.clone(), h.head.content))
            .collect();
        let local = local_fingerprint(policy);
        if self
            .built
            .as_ref()
            .is_some_and(|(l, f)| *l == lists && *f == local)
        {
            return Ok(Vec::new());
        }
        let first = self.built.is_none();
        let mut gained = Vec::new();
        let before = self.built.take().map(|(l, _)| l).unwrap_or_default();
        for (name, h) in &held {
            let Ok(version) = h.signed.decode() else {
                continue;
            };
            self.lists.insert(
                name.clone(),
                ListInfo {
                    version: version.version,
                    published_at: version.published_at,
                    content: h.head.content,
                },
            );
            if before
                .iter()
                .any(|(n, c)| n == name && *c == h.head.content)
            {
                continue;
            }
            let Some(entries) = store.hotlist_entries(&h.head.content)? else {
                continue;
            };
            let rule = self.rules.get(name).copied();
            let built = ListIndex::build(name, &entries, rule);
            if !first {
                // Plates the version adds (an entry whose other fields
                // changed was already matched by its plate).
                let old: HashSet<u64> = self
                    .index
                    .list(name)
                    .map(|l| l.packed_plates().iter().copied().collect())
                    .unwrap_or_default();
                let added: Vec<Entry> = entries
                    .into_iter()
                    .zip(built.packed_plates())
                    .filter(|(_, p)| !old.contains(p))
                    .map(|(e, _)| e)
                    .collect();
                if !added.is_empty() {
                    gained.push((name.clone(), added));
                }
            }
            self.index.put_list(built);
        }
        for (name, _) in &before {
            if !held.contains_key(name) {
                self.index.remove_list(name);
                self.lists.remove(name);
            }
        }
        // The local list is small: rebuilt whole, wildcards too.
        let old_local: HashSet<u64> = self
            .local
            .iter()
            .chain(&self.wildcards)
            .map(|l| l.id)
            .collect();
        self.index.clear_wildcards();
        self.local.clear();
        self.wildcards.clear();
        let mut exact = Vec::new();
        let mut added_local = Vec::new();
        for e in policy.local_hotlist.iter().filter(|e| e.removed.is_none()) {
            if !e.entry.in_force(now) {
                continue;
            }
            let r = LocalRef {
                id: e.id,
                added_at: e.added_at,
                pattern: e.pattern.clone(),
            };
            if !first && !old_local.contains(&e.id) && e.pattern.is_none() {
                added_local.push(e.entry.clone());
            }
            match &e.pattern {
                Some(p) => {
                    if self
                        .index
                        .add_wildcard(LOCAL_LIST, p, e.entry.clone())
                        .is_ok()
                    {
                        self.wildcards.push(r);
                    }
                }
                None => {
                    exact.push(e.entry.clone());
                    self.local.push(r);
                }
            }
        }
        self.index.put_list(ListIndex::build(
            LOCAL_LIST,
            &exact,
            self.rules.get(LOCAL_LIST).copied(),
        ));
        self.local_entries = exact;
        if !added_local.is_empty() {
            gained.push((LOCAL_LIST.to_string(), added_local));
        }
        self.built = Some((lists, local));
        Ok(gained)
    }

    /// The list reference and the local pattern of a match.
    fn list_ref(&self, m: &Match) -> (ListRef, Option<String>) {
        if m.list == LOCAL_LIST {
            let refs = if m.kind == MatchKind::Wildcard {
                &self.wildcards
            } else {
                &self.local
            };
            let r = refs.get(m.entry as usize);
            return (
                ListRef {
                    name: LOCAL_LIST.into(),
                    version: 0,
                    published_at: r.map_or(Timestamp(0), |r| r.added_at),
                    local_id: r.map(|r| r.id),
                },
                r.and_then(|r| r.pattern.clone()),
            );
        }
        let info = self.lists.get(&m.list);
        (
            ListRef {
                name: m.list.clone(),
                version: info.map_or(0, |i| i.version),
                published_at: info.map_or(Timestamp(0), |i| i.published_at),
                local_id: None,
            },
            None,
        )
    }

    /// The entry a match names: the local ones are held here, a bulk
    /// list's is read from its stored chunk (hits are rare; the index
    /// holds no entries, see [`ListIndex`]).
    fn entry_of(&self, store: &crate::store::Store, m: &Match) -> Option<Entry> {
        if m.kind == MatchKind::Wildcard {
            return self.index.wildcard(m.entry).map(|w| w.entry.clone());
        }
        if m.list == LOCAL_LIST {
            return self.local_entries.get(m.entry as usize).cloned();
        }
        let info = self.lists.get(&m.list)?;
        let per = alpr_protocol::replicate::HOTLIST_CHUNK_ENTRIES as u32;
        let chunk = store
            .hotlist_chunk(&info.content, m.entry / per)
            .ok()
            .flatten()?;
        chunk.into_iter().nth((m.entry % per) as usize)
    }

    /// The alerts one read raises (at most one per entry).
    fn raise(
        &self,
        store: &crate::store::Store,
        now: Timestamp,
        read: &Read,
        candidates: &[String],
        stale: bool,
        retro: bool,
    ) -> Vec<AlertBody> {
        let b = &read.body;
        let region = b.region.as_ref().map(|r| r.code.as_str());
        let found = self.index.alerts(ReadTexts {
            plate: b.plate.as_str(),
            region,
            candidates,
        });
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for m in found {
            let Some(entry) = self.entry_of(store, &m) else {
                continue;
            };
            // An entry past its expiry raises nothing, even before the
            // index is next rebuilt.
            if !entry.in_force(now) || !seen.insert((m.list.clone(), entry.plate.clone())) {
                continue;
            }
            let (list, pattern) = self.list_ref(&m);
            out.push(AlertBody {
                read: RecordRef {
                    origin: read.origin,
                    seq: read.seq,
                },
                read_at: read.captured_at,
                plate: b.plate.clone(),
                read_region: region.map(str::to_string),
                camera: b.camera.clone(),
                list,
                entry,
                pattern,
                hit: Hit {
                    kind: hit_kind(m.kind),
                    score: m.score,
                    text: m.text.clone(),
                    from_candidate: m.from_candidate,
                    differs: m
                        .differs
                        .iter()
                        .take(alpr_protocol::alert::DIFFERS_MAX)
                        .map(|&(at, read, entry)| Differ { at, read, entry })
                        .collect(),
                    region_mismatch: m.region_mismatch,
                },
                stale,
                retro,
            });
        }
        out
    }
}

impl Engine {
    /// Sets which kinds of match alert for `list` (configuration; without
    /// one, each entry's category default applies).
    pub fn set_alert_rule(&mut self, list: &str, rule: AlertRule) {
        self.matcher.rules.insert(list.to_string(), rule);
        self.matcher.built = None;
        self.matcher.index = Index::new();
    }

    /// Sets how old lists may get before alerts and status say they are stale.
    pub fn set_stale_limit(&mut self, ms: i64) {
        self.matcher.stale_after_ms = Some(ms.max(0));
    }

    /// How long ago this node's lists were last brought up to date: the
    /// later of the newest publication it holds and its last meeting in
    /// sync with a station (a station is where lists come from). None when
    /// it holds no list.
    pub fn lists_age_ms(&self, now: Timestamp) -> Option<i64> {
        let newest_list = self.matcher.lists.values().map(|l| l.published_at).max()?;
        let station_meeting = self
            .node
            .store
            .meetings()
            .ok()
            .into_iter()
            .flatten()
            .filter(|(peer, _)| {
                self.node
                    .trust
                    .certificate(peer)
                    .is_some_and(|c| c.certificate().role == Role::Station)
            })
            .map(|(_, at)| at)
            .max();
        let fresh = if self.node.certificate.certificate().role == Role::Station {
            newest_list
        } else {
            station_meeting.map_or(newest_list, |m| m.max(newest_list))
        };
        Some(now.as_millis() - fresh.as_millis())
    }

    /// Whether this node's lists are older than its limit.
    pub fn lists_stale(&self, now: Timestamp) -> bool {
        let limit = self
            .matcher
            .stale_after_ms
            .unwrap_or(STALE_AFTER_MS_DEFAULT);
        self.lists_age_ms(now).is_some_and(|age| age > limit)
    }

    /// Brings the matcher up to date with the lists and local entries held,
    /// and raises retro alerts for what lists gained. Called where lists
    /// change (see the module docs); cheap when nothing changed.
    pub fn refresh_matcher(&mut self, now: Timestamp) -> Result<u64, AccessError> {
        let gained = self.matcher.refresh(&self.node.store, &self.policy, now)?;
        if gained.is_empty() {
            return Ok(0);
        }
        self.retro_hits(now, gained)
    }

    /// Looks up the entries lists gained among stored reads within
    /// retention (exact plate, blind index), and stores an alert for each
    /// read not already alerted for that entry.
    fn retro_hits(
        &mut self,
        now: Timestamp,
        gained: Vec<(String, Vec<Entry>)>,
    ) -> Result<u64, AccessError> {
        let reads_days = i64::from(self.policy.retention.reads_days);
        let range = TimeRange {
            from: Timestamp(
                now.as_millis()
                    .saturating_sub(reads_days.saturating_mul(DAY_MS)),
            ),
            to: now,
        };
        let already: HashSet<(RecordRef, String, String)> = self
            .stored_alerts()?
            .into_iter()
            .filter_map(|r| match r.item {
                AlertItem::Raised(a) => Some((
                    a.read,
                    a.list.name.clone(),
                    a.entry.plate.as_str().to_string(),
                )),
                AlertItem::Disposed(_) => None,
            })
            .collect();
        let stale = self.lists_stale(now);
        let mut items = Vec::new();
        for (list, entries) in gained {
            if entries.len() > RETRO_ENTRIES_MAX {
                tracing::warn!(%list, added = entries.len(), "too many added entries to check stored reads; matching from the next read on");
                continue;
            }
            let mut plates: Vec<&Entry> = entries.iter().collect();
            plates.dedup_by(|a, b| a.plate == b.plate);
            for e in plates {
                let found = self.node.store.find_plate(&e.plate, range, 64)?;
                for (_, id) in found.ids {
                    let Ok(Some(bytes)) = self.node.store.read_envelope(id) else {
                        continue;
                    };
                    let Ok(read) = self.node.trust.open_read(&bytes) else {
                        continue;
                    };
                    for a in
                        self.matcher
                            .raise(&self.node.store, now, read.read(), &[], stale, true)
                    {
                        let key = (
                            a.read,
                            a.list.name.clone(),
                            a.entry.plate.as_str().to_string(),
                        );
                        if a.list.name == list && !already.contains(&key) {
                            items.push((now, AlertItem::Raised(Box::new(a))));
                        }
                    }
                }
            }
        }
        let mut stored = 0;
        for chunk in items
            .chunks(crate::recorder::AUDIT_BATCH_MAX)
            .map(<[_]>::to_vec)
        {
            let records = self
                .recorder
                .seal_alerts(&self.node, chunk, &mut self.rng)
                .map_err(cannot_sign)?;
            self.node.store.append_alerts(&records)?;
            self.recorder.advance_alerts(&records);
            stored += records.len() as u64;
            self.publish_alerts(&records);
        }
        Ok(stored)
    }

    /// The alerts `sealed` reads raise (the recorder's hook), with each
    /// read's candidate texts by place.
    pub(super) fn raise_for(
        matcher: &Matcher,
        store: &crate::store::Store,
        stale: bool,
        now: Timestamp,
        sealed: &[alpr_protocol::SealedRead],
        candidates: &[Vec<String>],
    ) -> Vec<(Timestamp, AlertItem)> {
        sealed
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let c = candidates.get(i).map_or(&[][..], Vec::as_slice);
                matcher.raise(store, now, s.read.read(), c, stale, false)
            })
            .map(|a| (now, AlertItem::Raised(Box::new(a))))
            .collect()
    }

    /// Every alert record stored, verified; one that does not verify is
    /// left out (and `verify` names it).
    fn stored_alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        Ok(self
            .node
            .store
            .alert_envelopes()?
            .into_iter()
            .filter_map(|(_, bytes)| self.node.trust.open_alert(&bytes).ok())
            .map(|v| v.into_parts().0)
            .collect())
    }

    /// Alerts with their dispositions, pending first, then by priority,
    /// then newest first; covert ones only for roles that may see them.
    pub(super) fn alert_views(&self, covert: bool) -> Result<Vec<AlertView>, StoreError> {
        let mut views: Vec<AlertView> = Vec::new();
        let mut at: HashMap<RecordRef, usize> = HashMap::new();
        let mut dispositions = Vec::new();
        for r in self.stored_alerts()? {
            let id = r.id();
            match r.item {
                AlertItem::Raised(a) => {
                    if a.entry.detail.covert && !covert {
                        continue;
                    }
                    at.insert(id, views.len());
                    views.push(AlertView {
                        id,
                        raised_at: r.time,
                        alert: *a,
                        dispositions: Vec::new(),
                    });
                }
                AlertItem::Disposed(d) => dispositions.push((id, r.time, d)),
            }
        }
        dispositions.sort_by_key(|(_, t, _)| *t);
        for (id, t, d) in dispositions {
            if let Some(&i) = at.get(&d.alert) {
                views[i].dispositions.push((id, t, d));
            }
        }
        views.sort_by(|a, b| {
            b.pending()
                .cmp(&a.pending())
                .then(a.priority().cmp(&b.priority()))
                .then(b.raised_at.cmp(&a.raised_at))
        });
        Ok(views)
    }

    /// Lists alerts (any trained user, with a purpose; an Auditor's must be
    /// an audit). Documented with what was shown.
    pub fn alerts(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        filter: AlertFilter,
    ) -> Result<Vec<AlertView>, AccessError> {
        let object = if filter.pending_only {
            "pending alerts".to_string()
        } else {
            "alerts".to_string()
        };
        let (user, purpose, covert) = self.authorize_alert_view(now, token, purpose, &object)?;
        let mut views = self.alert_views(covert)?;
        if filter.pending_only {
            views.retain(AlertView::pending);
        }
        let total = views.len();
        views.truncate(filter.limit.clamp(1, ALERTS_SHOWN_MAX));
        let object = format!("{object}: {total} found, {} shown", views.len());
        self.audit_alert_view(now, &user, object, &purpose)?;
        Ok(views)
    }

    /// One alert with its read's plate crop, when held (with a purpose).
    pub fn alert(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        id: RecordId,
    ) -> Result<(AlertView, Option<Vec<u8>>), AccessError> {
        let object = format!("alert {id}");
        let (user, purpose, covert) = self.authorize_alert_view(now, token, purpose, &object)?;
        let found = self.alert_views(covert)?.into_iter().find(|v| v.id == id);
        let Some(view) = found else {
            let err = AccessError::NotFound(format!("no alert {id} here"));
            return self.refuse(now, &user, Action::ViewAlert, object, Some(&purpose), err);
        };
        let read = view.alert.read;
        let crop = match self.open_stored_read(read) {
            Ok(v) => {
                match crate::search::image_of(&self.node, &v, alpr_protocol::ImageKind::PlateCrop) {
                    Ok(crate::search::ImageState::Present(j)) => Some(j),
                    _ => None,
                }
            }
            Err(_) => None,
        };
        let object = format!(
            "{object} ({} on {} '{}'), plate crop {}",
            view.alert.plate,
            view.alert.list.name,
            view.alert.entry.plate,
            if crop.is_some() { "shown" } else { "not held" }
        );
        self.audit_alert_view(now, &user, object, &purpose)?;
        Ok((view, crop))
    }

    /// Records a disposition of a pending alert (Officers, Supervisors,
    /// Administrators): the disposition record and its audit event in one
    /// transaction. An alert already disposed of is refused.
    pub fn dispose_alert(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        id: RecordId,
        outcome: Outcome,
        reason: &str,
    ) -> Result<RecordId, AccessError> {
        let object = format!("alert {id} as {}", outcome.name());
        let (user, _) = self.authorize(
            now,
            token,
            Permission::DisposeAlerts,
            "dispose of alerts",
            Action::DisposeAlert,
            &object,
        )?;
        let body = DispositionBody {
            alert: id,
            outcome,
            reason: reason.trim().to_string(),
            by: user.clone(),
        };
        if let Err(e) = body.check() {
            let err = AccessError::Invalid(format!("disposition of alert {id}: {e}"));
            return self.refuse(now, &user, Action::DisposeAlert, object, None, err);
        }
        let covert = self.may(token, Permission::ViewCovertAlerts);
        let view = self.alert_views(covert)?.into_iter().find(|v| v.id == id);
        let problem = match &view {
            None => Some(AccessError::NotFound(format!("no alert {id} here"))),
            Some(v) => v.dispositions.first().map(|(_, at, d)| {
                AccessError::Invalid(format!(
                    "alert {id} was already disposed of as {} by {} at {at}",
                    d.outcome.name(),
                    d.by
                ))
            }),
        };
        if let Some(err) = problem {
            return self.refuse(now, &user, Action::DisposeAlert, object, None, err);
        }
        let records = self
            .recorder
            .seal_alerts(
                &self.node,
                vec![(now, AlertItem::Disposed(body))],
                &mut self.rng,
            )
            .map_err(cannot_sign)?;
        let stored_id = records.first().map(|r| r.record().id());
        let object = match &view {
            Some(v) => format!(
                "{object}: {} on {} '{}'{}",
                v.alert.plate,
                v.alert.list.name,
                v.alert.entry.plate,
                if reason.trim().is_empty() {
                    String::new()
                } else {
                    format!(" ({})", reason.trim())
                }
            ),
            None => object,
        };
        self.audit(
            now,
            &user,
            Action::DisposeAlert,
            object,
            None,
            AuditOutcome::Success,
            &[Effect::Alerts(&records)],
        )?;
        self.recorder.advance_alerts(&records);
        self.publish_alerts(&records);
        stored_id.ok_or_else(|| AccessError::Invalid("no disposition sealed".into()))
    }

    /// Counts of alerts by list, outcome, camera and day, over alerts
    /// raised in `range` (with a purpose).
    pub fn hit_report(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        range: TimeRange,
    ) -> Result<HitReport, AccessError> {
        let object = format!(
            "hit report from {} to {}",
            crate::policy::time_bound(range.from),
            crate::policy::time_bound(range.to)
        );
        let (user, purpose, covert) = self.authorize_alert_view(now, token, purpose, &object)?;
        let mut report = HitReport::default();
        for v in self.alert_views(covert)? {
            if v.raised_at < range.from || v.raised_at > range.to {
                continue;
            }
            report.alerts += 1;
            *report.by_list.entry(v.alert.list.name.clone()).or_default() += 1;
            let outcome = v
                .dispositions
                .first()
                .map_or("pending", |(_, _, d)| d.outcome.name());
            if v.pending() {
                report.pending += 1;
            }
            *report.by_outcome.entry(outcome.to_string()).or_default() += 1;
            *report.by_camera.entry(v.alert.camera.clone()).or_default() += 1;
            let day = v.raised_at.to_string().chars().take(10).collect::<String>();
            *report.by_day.entry(day).or_default() += 1;
        }
        let object = format!("{object}: {} alerts", report.alerts);
        self.audit_alert_view(now, &user, object, &purpose)?;
        Ok(report)
    }

    /// Authorizes seeing alerts with a purpose (documented if refused);
    /// returns the user, the purpose, and whether covert hits may be shown.
    fn authorize_alert_view(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        object: &str,
    ) -> Result<(String, crate::policy::Purpose, bool), AccessError> {
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::ViewAlerts,
            "see alerts",
            Action::ViewAlert,
            object,
            purpose,
        )?;
        Ok((user, purpose, self.may(token, Permission::ViewCovertAlerts)))
    }

    /// Documents an alert view that was shown.
    fn audit_alert_view(
        &mut self,
        now: Timestamp,
        user: &str,
        object: String,
        purpose: &crate::policy::Purpose,
    ) -> Result<(), AccessError> {
        self.audit(
            now,
            user,
            Action::ViewAlert,
            object,
            Some(purpose),
            AuditOutcome::Success,
            &[],
        )
    }

    /// Whether the session's role holds `perm` (no audit: a filter, not an access).
    fn may(&self, token: SessionToken, perm: Permission) -> bool {
        self.session_role(token).is_some_and(|r| perm.granted_to(r))
    }

    /// Alerts past `alerts_days` whose read and case no hold protects, and
    /// their dispositions: (ids to delete, held count).
    pub(super) fn expired_alerts(
        &self,
        now: Timestamp,
        cutoff: Timestamp,
    ) -> Result<(Vec<RecordId>, u64), StoreError> {
        let mut out = Vec::new();
        let mut held = 0;
        let mut gone = HashSet::new();
        let mut disposed: Vec<(RecordId, RecordId)> = Vec::new();
        for r in self.stored_alerts()? {
            match &r.item {
                AlertItem::Raised(a) if r.time < cutoff => {
                    // A hold of the read (its case, plate or time) keeps its alerts.
                    if self
                        .policy
                        .held(now, a.read.origin, a.read.seq, a.read_at, a.plate.as_str())
                    {
                        held += 1;
                    } else {
                        gone.insert(r.id());
                        out.push(r.id());
                    }
                }
                AlertItem::Raised(_) => {}
                AlertItem::Disposed(d) => disposed.push((r.id(), d.alert)),
            }
        }
        out.extend(
            disposed
                .into_iter()
                .filter(|(_, alert)| gone.contains(alert))
                .map(|(id, _)| id),
        );
        Ok((out, held))
    }

    /// Publishes stored alert records to live views.
    pub(super) fn publish_alerts(&self, records: &[VerifiedAlertRecord]) {
        super::live::publish_alerts(&self.events, records);
    }
}
