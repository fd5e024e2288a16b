//! Oversight through the engine: non-law-enforcement requests (V.A.1), releases to other
//! agencies (V.A.4) and quarterly audits by random sampling (V.A.5).

use alpr_protocol::bundle::{BundleKind, ReleaseInfo};
use alpr_protocol::{Action, NodeId, Outcome, Timestamp};
use sha2::{Digest, Sha256};

use super::{AccessError, Engine, PurposeInput, SessionToken};
use crate::evidence::{BundleRequest, BundleSink, build_bundle};
use crate::policy::{
    AuditReport, Decision, Permission, Quarter, Release, ReportSignature, Request, RequestOutcome,
    SampleItem,
};
use crate::store::RecordId;

/// The accesses a quarterly audit samples: those that touched ALPR data.
const SAMPLED_ACTIONS: [Action; 5] = [
    Action::Search,
    Action::ViewRead,
    Action::ViewImage,
    Action::Export,
    Action::Release,
];
/// Largest sample an auditor may draw.
pub const SAMPLE_SIZE_MAX: usize = 1000;

/// A release to another agency, as an Administrator enters it.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub case: String,
    pub agency: String,
    pub official: String,
    pub legal_basis: String,
    pub reads: Vec<RecordId>,
}

/// The score that orders candidates for a sample: SHA-256(seed ‖ origin ‖ seq),
/// all big-endian. The lowest scores are drawn, so anyone can redo the draw
/// with `sha256sum` from the seed and the quarter's access events.
pub fn sample_score(seed: u64, origin: NodeId, seq: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(origin.as_bytes())
        .chain_update(seq.to_be_bytes())
        .finalize()
        .into()
}

fn text(field: &str, value: &str, max: usize) -> Result<String, AccessError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AccessError::Invalid(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(v.to_string())
}

impl Engine {
    /// Registers a request for ALPR data from outside law enforcement; returns its id.
    pub fn register_request(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        requester: &str,
        what: &str,
        referred_to: &str,
    ) -> Result<u64, AccessError> {
        let object =
            format!("register request from {requester}: {what}; referred to {referred_to}");
        self.change_policy(
            now,
            token,
            Permission::RegisterRequest,
            "register requests",
            Action::Request,
            object,
            |policy, user, _| {
                let id = policy.requests.iter().map(|r| r.id).max().unwrap_or(0) + 1;
                policy.requests.push(Request {
                    id,
                    requester: text("requester", requester, 200)?,
                    what: text("what", what, 1000)?,
                    referred_to: text("referred to", referred_to, 200)?,
                    registered_by: user.to_string(),
                    received_at: now,
                    decision: None,
                });
                Ok(id)
            },
        )
    }

    /// Records the decision on a request (the Staff Services Commander or designee).
    pub fn decide_request(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        id: u64,
        outcome: RequestOutcome,
        note: &str,
    ) -> Result<(), AccessError> {
        let object = format!("decide request {id}: {outcome}: {note}");
        self.change_policy(
            now,
            token,
            Permission::DecideRequest,
            "decide requests",
            Action::Request,
            object,
            |policy, user, _| {
                let note = text("note", note, 1000)?;
                let request = policy
                    .requests
                    .iter_mut()
                    .find(|r| r.id == id)
                    .ok_or_else(|| AccessError::NotFound(format!("no request {id}")))?;
                if request.decision.is_some() {
                    return Err(AccessError::Invalid(format!(
                        "request {id} is already decided"
                    )));
                }
                request.decision = Some(Decision {
                    outcome,
                    note,
                    by: user.to_string(),
                    at: now,
                });
                Ok(())
            },
        )
    }

    /// Releases reads to another agency: hands a release bundle (the evidence
    /// bundle format) to `sink` and records the release. Administrators only.
    pub fn release(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        release: NewRelease,
        sink: &mut dyn BundleSink,
    ) -> Result<u64, AccessError> {
        let object = format!(
            "release {} reads of case {} to {} ({}), basis: {}",
            release.reads.len(),
            release.case,
            release.agency,
            release.official,
            release.legal_basis
        );
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::Release,
            "release records",
            Action::Release,
            &object,
            purpose,
        )?;
        let info = (|| {
            Ok::<_, AccessError>(ReleaseInfo {
                agency: text("agency", &release.agency, 200)?,
                official: text("receiving official", &release.official, 200)?,
                legal_basis: text("legal basis", &release.legal_basis, 1000)?,
            })
        })();
        let info = match info {
            Ok(i) if !release.reads.is_empty() => i,
            Ok(_) => {
                let err = AccessError::Invalid("name at least one read to release".into());
                return self.refuse(now, &user, Action::Release, object, Some(&purpose), err);
            }
            Err(e) => return self.refuse(now, &user, Action::Release, object, Some(&purpose), e),
        };
        self.can_sign(now)?;
        let mut ids = release.reads.clone();
        ids.sort();
        ids.dedup();
        let case = purpose.case().unwrap_or_default().to_string();
        if !release.case.trim().eq_ignore_ascii_case(&case) {
            let err = AccessError::Invalid(format!(
                "the purpose must name the released case {}",
                release.case.trim()
            ));
            return self.refuse(now, &user, Action::Release, object, Some(&purpose), err);
        }
        let release = NewRelease {
            reads: ids,
            ..release
        };
        let request = BundleRequest {
            kind: BundleKind::Release,
            case: case.clone(),
            exported_by: user.clone(),
            purpose: purpose.to_string(),
            release: Some(info.clone()),
            now,
        };
        let built = sink.check().and_then(|()| {
            let bundle = build_bundle(&self.node, &release.reads, &request)?;
            sink.put(&bundle.files)?;
            Ok(bundle.manifest_sha256)
        });
        let manifest_sha256 = match built {
            Ok(done) => done,
            Err(e) => {
                // Nothing half-written stays on the media.
                sink.discard();
                let outcome = Outcome::Failed(e.to_string());
                self.audit(
                    now,
                    &user,
                    Action::Release,
                    object,
                    Some(&purpose),
                    outcome,
                    &[],
                )?;
                return Err(AccessError::Invalid(e.to_string()));
            }
        };
        let mut policy = self.policy.clone();
        let id = policy.releases.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        policy.releases.push(Release {
            id,
            case: request.case,
            agency: info.agency,
            official: info.official,
            legal_basis: info.legal_basis,
            reads: release.reads.iter().map(|r| (r.origin, r.seq)).collect(),
            by: user.clone(),
            at: now,
            manifest_sha256: manifest_sha256.clone(),
        });
        let object = format!("release {id}: {object}; manifest sha256 {manifest_sha256}");
        let documented = self.stage_policy(now, &policy).and_then(|staged| {
            self.audit(
                now,
                &user,
                Action::Release,
                object,
                Some(&purpose),
                Outcome::Success,
                &staged.effects(),
            )?;
            Ok(staged)
        });
        match documented {
            Ok(staged) => self.adopt_policy(staged)?,
            Err(e) => {
                // A release that cannot be documented must not stay on the media.
                sink.discard();
                return Err(e);
            }
        }
        Ok(id)
    }

    /// Draws a reproducible random sample of a quarter's access events
    /// (Auditors); returns the report id. The seed is recorded with it.
    pub fn draw_audit_sample(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        quarter: Quarter,
        seed: u64,
        size: usize,
    ) -> Result<u64, AccessError> {
        let object = format!("draw audit sample of {quarter}: {size} events, seed {seed}");
        let (user, _) = self.authorize(
            now,
            token,
            Permission::AuditAccess,
            "audit access",
            Action::AuditReview,
            &object,
        )?;
        if size == 0 || size > SAMPLE_SIZE_MAX {
            let err = AccessError::Invalid(format!("sample size must be 1 to {SAMPLE_SIZE_MAX}"));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        }
        let (from, until) = quarter.bounds();
        if from > now {
            let err = AccessError::Invalid(format!(
                "{quarter} has not begun: a quarter is audited once its accesses exist"
            ));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        }
        let mut candidates: Vec<([u8; 32], NodeId, u64)> = Vec::new();
        let mut bad = None;
        self.node
            .store
            .for_each_audit(|id, bytes| match self.node.trust.open_audit(bytes) {
                Ok(v) => {
                    let e = v.event();
                    if from <= e.time && e.time < until && SAMPLED_ACTIONS.contains(&e.body.action)
                    {
                        candidates.push((sample_score(seed, e.origin, e.seq), e.origin, e.seq));
                    }
                }
                Err(_) => {
                    bad.get_or_insert(id);
                }
            })?;
        if let Some(id) = bad {
            let err = AccessError::Invalid(format!(
                "audit event {id} does not verify; run verify first"
            ));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        }
        let population = candidates.len() as u64;
        candidates.sort();
        let mut items: Vec<SampleItem> = candidates
            .into_iter()
            .take(size)
            .map(|(_, origin, seq)| SampleItem {
                origin,
                seq,
                compliant: None,
                note: String::new(),
            })
            .collect();
        items.sort_by_key(|i| (i.origin, i.seq));
        let mut policy = self.policy.clone();
        let id = policy.audits.iter().map(|a| a.id).max().unwrap_or(0) + 1;
        policy.audits.push(AuditReport {
            id,
            quarter,
            seed,
            population,
            items,
            auditor: user.clone(),
            drawn_at: now,
            signed: None,
        });
        let object = format!("audit {id}: {object} (of {population})");
        self.commit_policy(now, &user, Action::AuditReview, object, policy)?;
        Ok(id)
    }

    /// Records the auditor's finding on one sampled event (1-based item number).
    pub fn mark_audit_item(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        report: u64,
        item: usize,
        compliant: bool,
        note: &str,
    ) -> Result<(), AccessError> {
        let object = format!(
            "audit {report} item {item}: {}: {note}",
            if compliant {
                "compliant"
            } else {
                "not compliant"
            }
        );
        self.change_policy(
            now,
            token,
            Permission::AuditAccess,
            "audit access",
            Action::AuditReview,
            object,
            |policy, _, _| {
                let slot = policy
                    .audits
                    .iter_mut()
                    .find(|a| a.id == report)
                    .filter(|a| a.signed.is_none())
                    .and_then(|a| item.checked_sub(1).and_then(|i| a.items.get_mut(i)))
                    .ok_or_else(|| {
                        AccessError::NotFound(format!(
                            "no item {item} in an unsigned audit {report}"
                        ))
                    })?;
                slot.compliant = Some(compliant);
                slot.note = note.trim().chars().take(1000).collect();
                Ok(())
            },
        )
    }

    /// Signs a completed audit report with the node's key (every item marked).
    pub fn sign_audit(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        report: u64,
    ) -> Result<AuditReport, AccessError> {
        let object = format!("sign audit {report}");
        let (user, _) = self.authorize(
            now,
            token,
            Permission::AuditAccess,
            "audit access",
            Action::AuditReview,
            &object,
        )?;
        let mut policy = self.policy.clone();
        let Some(r) = policy
            .audits
            .iter_mut()
            .find(|a| a.id == report && a.signed.is_none())
        else {
            let err = AccessError::NotFound(format!("no unsigned audit {report}"));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        };
        // An empty sample attests that a quarter had no accesses: true only
        // once the quarter is over (a sample drawn early would clear the
        // overdue flag for accesses still to come).
        if r.items.is_empty() && r.quarter.bounds().1 > now {
            let err = AccessError::Invalid(format!(
                "audit {report} sampled no access events of {}, which has not ended: there is nothing to attest yet",
                r.quarter
            ));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        }
        let open = r.items.iter().filter(|i| i.compliant.is_none()).count();
        if open > 0 {
            let err = AccessError::Invalid(format!("{open} sampled events are not marked yet"));
            return self.refuse(now, &user, Action::AuditReview, object, None, err);
        }
        let node = self.node.node_key.id();
        let signature = self.node.node_key.sign(&r.signed_bytes()).to_vec();
        r.signed = Some(ReportSignature {
            node,
            at: now,
            signature,
        });
        let signed = r.clone();
        let findings = signed
            .items
            .iter()
            .filter(|i| i.compliant == Some(false))
            .count();
        let object = format!(
            "{object} of {}: {} events, {findings} not compliant, by {user}",
            signed.quarter,
            signed.items.len()
        );
        self.commit_policy(now, &user, Action::AuditReview, object, policy)?;
        Ok(signed)
    }
}

/// What an audit-log query matches; None matches anything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<Action>,
    pub contains: Option<String>,
    pub case: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl AuditFilter {
    fn matches(&self, e: &alpr_protocol::AuditEvent) -> bool {
        let b = &e.body;
        self.user
            .as_ref()
            .is_none_or(|u| b.user.eq_ignore_ascii_case(u))
            && self.action.is_none_or(|a| b.action == a)
            && self.contains.as_ref().is_none_or(|t| {
                b.object
                    .to_ascii_lowercase()
                    .contains(&t.to_ascii_lowercase())
            })
            && self.case.as_ref().is_none_or(|c| {
                b.case
                    .as_deref()
                    .is_some_and(|bc| bc.eq_ignore_ascii_case(c))
            })
            && self.from.is_none_or(|t| e.time >= t)
            && self.to.is_none_or(|t| e.time <= t)
    }
}

impl std::fmt::Display for AuditFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(u) = &self.user {
            parts.push(format!("user {u}"));
        }
        if let Some(a) = self.action {
            parts.push(format!("action {a}"));
        }
        if let Some(t) = &self.contains {
            parts.push(format!("object containing '{t}'"));
        }
        if let Some(c) = &self.case {
            parts.push(format!("case {c}"));
        }
        parts.push(format!(
            "from {} to {}",
            crate::policy::time_bound(self.from.unwrap_or(Timestamp::MIN)),
            crate::policy::time_bound(self.to.unwrap_or(Timestamp::MAX))
        ));
        f.write_str(&parts.join(", "))
    }
}

/// Most events one audit-log query returns.
pub const AUDIT_LOG_LIMIT_MAX: usize = 10_000;

/// An audit-log query's answer: newest first.
#[derive(Debug)]
pub struct AuditLog {
    pub events: Vec<alpr_protocol::AuditEvent>,
    pub total: u64,
    pub damaged: u64,
}

impl Engine {
    /// Audit events matching a filter, newest first (Auditors and
    /// Administrators): who searched a plate, what a user did. The query is
    /// itself an audit event.
    pub fn audit_log(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<AuditLog, AccessError> {
        let object = format!("audit log query: {filter}");
        let (user, _) = self.authorize(
            now,
            token,
            Permission::ViewAudits,
            "query the audit log",
            Action::AuditReview,
            &object,
        )?;
        let limit = limit.clamp(1, AUDIT_LOG_LIMIT_MAX);
        // Kept bounded: the newest `limit` matches, in a heap by time.
        let mut newest: std::collections::BinaryHeap<std::cmp::Reverse<(Timestamp, NodeId, u64)>> =
            std::collections::BinaryHeap::new();
        let mut kept: std::collections::HashMap<(NodeId, u64), alpr_protocol::AuditEvent> =
            std::collections::HashMap::new();
        let (mut total, mut damaged) = (0u64, 0u64);
        self.node
            .store
            .for_each_audit(|_, bytes| match self.node.trust.open_audit(bytes) {
                Ok(v) => {
                    let e = v.event();
                    if !filter.matches(e) {
                        return;
                    }
                    total += 1;
                    newest.push(std::cmp::Reverse((e.time, e.origin, e.seq)));
                    kept.insert((e.origin, e.seq), e.clone());
                    if newest.len() > limit
                        && let Some(std::cmp::Reverse((_, o, s))) = newest.pop()
                    {
                        kept.remove(&(o, s));
                    }
                }
                Err(_) => damaged += 1,
            })?;
        let mut events: Vec<alpr_protocol::AuditEvent> = kept.into_values().collect();
        events.sort_by_key(|e| std::cmp::Reverse((e.time, e.origin, e.seq)));
        let object = format!("{object}: {total} matches, {} shown", events.len());
        self.audit(
            now,
            &user,
            Action::AuditReview,
            object,
            None,
            Outcome::Success,
            &[],
        )?;
        Ok(AuditLog {
            events,
            total,
            damaged,
        })
    }
}
