//! The engine: the one way in to the node's data and policy.
//!
//! The CLI, the console and the control socket all call these methods; none
//! reaches the store around them. Each method authenticates the session,
//! checks training (policy III.A.1), role (II.A, III.A.4) and purpose
//! (III.A.2, V.A.3), does the work, and documents it as an audit event
//! (V.A.2) — refusals included. A policy change is written in the same
//! transaction as its audit event.
//!
//! Time and randomness are inputs: every method takes `now`, and the engine
//! draws from a generator seeded by its driver.

mod alerts;
mod hotlists;
mod live;
mod oversight;
pub mod peers;
mod policy_sync;
pub mod replica;

pub use alerts::{
    ALERTS_SHOWN_MAX, AlertFilter, AlertView, HitReport, LOCAL_LIST, RETRO_ENTRIES_MAX,
    STALE_AFTER_MS_DEFAULT,
};
pub use live::{Shown, Subscription};
pub use policy_sync::PolicyPeer;

use std::collections::HashMap;
use std::fmt;

pub use oversight::{
    AUDIT_LOG_LIMIT_MAX, AuditFilter, AuditLog, NewRelease, SAMPLE_SIZE_MAX, sample_score,
};

use alpr_protocol::{
    Action, ImageKind, NodeId, Outcome, Timestamp, VerifiedCertificate, VerifiedRead,
};

use crate::policy::Revocation;
use crate::policy::document::PolicyDoc;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::datadir::Node;
use crate::policy::password::{self, PasswordError};
use crate::policy::{
    Hold, HoldScope, LoginLimits, MINUTE_MS, Permission, Policy, Purpose, PurposeError,
    PurposeKind, Retention, TrainingError, User, UserRole, parse_user_name,
};
use crate::recorder::{AuditEntry, Recorder};
use crate::search::{Query, SearchError, SearchResult, search_filtered};
use crate::store::{AuthState, Effect, RecordId, StoreError, TimeRange};

/// Names the scheduler and bootstrap use in audit events; not valid user names.
pub const SCHEDULE_ACTOR: &str = "(schedule)";
pub const BOOTSTRAP_ACTOR: &str = "(bootstrap)";
pub const NO_SESSION_ACTOR: &str = "(no session)";
/// The nodes revoked, shared with the transport's handshake check and kept
/// current as policy changes.
pub type Revoked =
    std::sync::Arc<std::sync::RwLock<std::collections::HashSet<alpr_protocol::NodeId>>>;

/// Who acts when replication finds something a person must see.
pub const SYNC_ACTOR: &str = "(sync)";
/// Reads deleted per purge transaction (one step of a purge): bounds
/// memory, transaction size, and how long a step holds the engine while a
/// search or a capture waits (see the purge-concurrency bench).
pub const PURGE_BATCH_MAX: usize = 1_024;
/// Free disk below which new reads are refused, so audit events, logins,
/// searches and the purge that frees space still have room.
pub const CAPTURE_RESERVE_BYTES: u64 = 32 * 1024 * 1024;

/// A login session, by an unguessable token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken(pub [u8; 32]);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

#[derive(Debug, Clone)]
struct Session {
    user: String,
    last_active: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("unknown user or wrong password")]
    BadCredentials,
    #[error("user '{user}' is locked out until {until} after repeated failed logins")]
    LockedOut { user: String, until: Timestamp },
    #[error("user '{0}' is deactivated")]
    Inactive(String),
    #[error(transparent)]
    Training(#[from] TrainingError),
    #[error("not logged in, or the session ended")]
    NoSession,
    #[error("session locked after {0} idle minutes; log in again")]
    SessionLocked(u32),
    #[error("user '{user}' ({role}) may not {what}")]
    Forbidden {
        user: String,
        role: UserRole,
        what: &'static str,
    },
    #[error(transparent)]
    Purpose(#[from] PurposeError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A purpose as a person typed it; the engine parses it so a missing or bad
/// one is refused and documented like any other refusal.
#[derive(Debug, Clone, Default)]
pub struct PurposeInput {
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub case: Option<String>,
}

/// A new user, as an Administrator enters it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: UserRole,
    pub password: String,
    pub trained_on: Option<Timestamp>,
    pub training_expires: Option<Timestamp>,
}

/// A new evidence hold.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub case: String,
    pub reason: String,
    pub scope: HoldScope,
    pub expires: Option<Timestamp>,
}

/// Who runs a purge.
#[derive(Debug, Clone, Copy)]
pub enum PurgeActor {
    User(SessionToken),
    /// The daemon's schedule.
    Schedule,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Reads deleted (or, in a dry run, that would be).
    pub purged: u64,
    /// Reads past retention kept by an evidence hold.
    pub held: u64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
    pub cutoff: Option<Timestamp>,
    /// Audit events past their own (longer) retention, deleted (or counted).
    pub audit_purged: u64,
    /// Plate crops and overview frames past their own retention, deleted (or counted).
    pub images_purged: u64,
    /// Alerts and dispositions past `alerts_days`, deleted (or counted).
    pub alerts_purged: u64,
    /// Alerts past `alerts_days` kept because a hold protects their read.
    pub alerts_held: u64,
}

/// A purge in progress: who runs it, up to when, how far it has come.
#[derive(Debug, Clone)]
pub struct PurgeRun {
    user: String,
    object: String,
    cutoff: Timestamp,
    phase: PurgePhase,
    pub report: PurgeReport,
}

/// The cutoffs of one purge ([`Engine::purge_plan`]).
#[derive(Debug, Clone, Copy)]
struct PurgePlan {
    reads: Timestamp,
    plate_images: Timestamp,
    overviews: Timestamp,
    audit: Timestamp,
    alerts: Timestamp,
}

impl PurgePlan {
    fn images(&self, kind: ImageKind) -> Timestamp {
        match kind {
            ImageKind::PlateCrop => self.plate_images,
            ImageKind::Overview => self.overviews,
        }
    }
}

/// What a purge deletes next: reads, then plate crops and overviews past
/// their own periods, then audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PurgePhase {
    Reads,
    Images(ImageKind),
    Alerts,
    Audit,
    Done,
}

#[derive(Debug)]
pub struct Engine {
    node: Node,
    recorder: Recorder,
    policy: Policy,
    sessions: HashMap<SessionToken, Session>,
    rng: StdRng,
    /// The revoked nodes, shared with the peer verifiers so a revocation
    /// applies to the very next handshake.
    revoked: Revoked,
    /// The replicated policy (automerge); `policy` is its view.
    doc: PolicyDoc,
    /// A car's first Administrator, kept on the car only (cars never author users).
    local_users: std::collections::BTreeMap<String, crate::policy::User>,
    /// Signatures of the document's changes, to prove them to peers.
    signatures: HashMap<[u8; 32], alpr_protocol::replicate::ChangeSignature>,
    /// Parts of a large hotlist an Administrator is publishing, per session
    /// (list name, entries so far); at most `ENTRIES_MAX` entries in all.
    staged: HashMap<SessionToken, (String, Vec<alpr_protocol::hotlist::Entry>)>,
    /// The store was reopened but the engine's view of it not yet reloaded.
    reload_pending: bool,
    /// Forks already documented (origin, collection, seq): each is flagged once.
    forks_flagged: std::collections::HashSet<(
        alpr_protocol::NodeId,
        alpr_protocol::replicate::Collection,
        u64,
    )>,
    /// What live views follow (bounded; the engine never waits on them).
    events: crate::events::Events,
    /// The lists reads are matched against.
    matcher: alerts::Matcher,
    /// What the daemon around the engine last said of itself, for status.
    notes: DaemonNotes,
    /// What new password hashes cost (standard unless a simulator says).
    password_cost: password::PasswordCost,
    /// The peers met since start: meetings running, failures, pending.
    peers: peers::Peers,
}

/// What a daemon tells its engine so `status` can show it: the next
/// scheduled purge and each camera's state. Plain data; the engine decides
/// nothing on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaemonNotes {
    pub next_purge: Option<Timestamp>,
    pub cameras: Vec<alpr_protocol::control::CameraWire>,
}

fn revoked_set(policy: &Policy) -> std::collections::HashSet<NodeId> {
    policy.revoked.keys().copied().collect()
}

fn make_user(
    cost: password::PasswordCost,
    now: Timestamp,
    by: &str,
    new: NewUser,
    rng: &mut StdRng,
) -> Result<User, AccessError> {
    let name = parse_user_name(&new.name).map_err(AccessError::Invalid)?;
    password::check_strength(&name, &new.password)?;
    if let Some(on) = new.trained_on
        && on > now
    {
        return Err(AccessError::Invalid(format!(
            "training completed {on} is in the future; give the date it was completed"
        )));
    }
    if let (Some(on), Some(until)) = (new.trained_on, new.training_expires)
        && until <= on
    {
        return Err(AccessError::Invalid(
            "training expiry must be after its completion".into(),
        ));
    }
    Ok(User {
        password_hash: password::hash(&new.password, cost, rng),
        name,
        role: new.role,
        trained_on: new.trained_on,
        training_expires: new.training_expires,
        active: true,
        created_by: by.to_string(),
        created_at: now,
    })
}

/// Whether this node already stores its own read of `capture` at `at`
/// (found by the blind plate index, then compared body to body).
fn already_stored(node: &Node, at: Timestamp, capture: &alpr_protocol::Capture) -> bool {
    let Ok(found) = node
        .store
        .find_plate(&capture.plate, TimeRange { from: at, to: at }, 64)
    else {
        return false;
    };
    let (body, _, _) = capture.clone().split();
    let me = node.node_key.id();
    found.ids.iter().any(|(_, id)| {
        id.origin == me
            && node
                .store
                .read_envelope(*id)
                .ok()
                .flatten()
                .and_then(|bytes| node.trust.open_read(&bytes).ok())
                .is_some_and(|v| v.read().body == body)
    })
}

/// A recording failure as an access error: storage, or a node past its certificate.
fn cannot_sign(e: crate::recorder::RecordError) -> AccessError {
    match e {
        crate::recorder::RecordError::Store(s) => AccessError::Store(s),
        e @ crate::recorder::RecordError::BadCapture { .. } => AccessError::Invalid(e.to_string()),
        crate::recorder::RecordError::OutsideCertificate { source, .. } => AccessError::Invalid(
            format!("this node cannot sign records: {source}; re-enroll it"),
        ),
    }
}

fn refused(e: &AccessError) -> Outcome {
    Outcome::Refused(e.to_string())
}

impl Engine {
    /// Opens the engine over an opened data directory; `seed` seeds the
    /// engine's generator (drivers pass OS randomness, tests a fixed seed).
    pub fn open(node: Node, seed: [u8; 32]) -> Result<Engine, AccessError> {
        let recorder = Recorder::load(&node)?;
        let (doc, local_users, signatures) = policy_sync::load(&node)?;
        let policy = policy_sync::view(&doc, &local_users)?;
        let revoked = Revoked::new(std::sync::RwLock::new(revoked_set(&policy)));
        Engine {
            node,
            recorder,
            policy,
            sessions: HashMap::new(),
            rng: StdRng::from_seed(seed),
            revoked,
            doc,
            local_users,
            signatures,
            staged: HashMap::new(),
            reload_pending: false,
            forks_flagged: std::collections::HashSet::new(),
            events: crate::events::Events::new(),
            matcher: alerts::Matcher::default(),
            notes: DaemonNotes::default(),
            password_cost: password::PasswordCost::Standard,
            peers: peers::Peers::default(),
        }
        .with_matcher()
    }

    /// Sets what the passwords this engine hashes from now on cost. Only a
    /// simulated fleet lowers it (`PasswordCost::Simulated`): its made-up
    /// users log in thousands of times a run, and the work of a real hash
    /// would be most of the run. Verification always pays the cost the
    /// stored hash was made with, so the setting changes no decision.
    pub fn set_password_cost(&mut self, cost: password::PasswordCost) {
        self.password_cost = cost;
    }

    /// Builds the matcher over what the node holds at open, so what lists
    /// gain from here on is checked against stored reads (retro-hits).
    /// No time is known yet: every entry is indexed, and expiry is checked
    /// at each match.
    fn with_matcher(mut self) -> Result<Engine, AccessError> {
        self.refresh_matcher(Timestamp(i64::MIN))?;
        Ok(self)
    }

    /// Closes the store cleanly; the engine serves nothing after this.
    pub fn close_storage(&mut self) {
        self.node.store.close();
    }

    /// Reopens the store if an I/O error stopped it (a full disk), and
    /// reloads what the engine holds of it: the recorder's counters and the
    /// policy, as last committed. Sessions stay. Returns whether it reopened.
    pub fn recover_storage(&mut self) -> Result<bool, AccessError> {
        if !self.node.store.recover()? && !self.reload_pending {
            return Ok(false);
        }
        // Until the reload below completes, every call retries it.
        self.reload_pending = true;
        self.recorder = Recorder::load(&self.node)?;
        let (doc, local_users, signatures) = policy_sync::load(&self.node)?;
        self.policy = policy_sync::view(&doc, &local_users)?;
        if let Ok(mut set) = self.revoked.write() {
            *set = revoked_set(&self.policy);
        }
        self.doc = doc;
        self.local_users = local_users;
        self.signatures = signatures;
        self.reload_pending = false;
        Ok(true)
    }

    /// Refuses early when this node could not sign the audit event an action needs.
    fn can_sign(&self, now: Timestamp) -> Result<(), AccessError> {
        self.node.certificate.check_valid_at(now).map_err(|e| {
            AccessError::Invalid(format!("this node cannot sign records: {e}; re-enroll it"))
        })
    }

    /// Cases with a standing evidence hold at `now`.
    fn held_cases(&self, now: Timestamp) -> Vec<String> {
        self.policy
            .holds
            .iter()
            .filter(|h| h.active(now))
            .map(|h| h.case.clone())
            .collect()
    }

    /// Whether an audit event belongs to a held case, and so outlives its
    /// retention with the case. One that does not open is kept for `verify`.
    fn audit_held(&self, held_cases: &[String], bytes: &[u8]) -> bool {
        if held_cases.is_empty() {
            return false;
        }
        match self.node.trust.open_audit(bytes) {
            Ok(v) => v
                .event()
                .body
                .case
                .as_ref()
                .is_some_and(|c| held_cases.contains(c)),
            Err(_) => true,
        }
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Trusts and keeps a certificate of this agency that replication met
    /// with a peer's records, so those records open here.
    pub fn learn_certificate(&mut self, cert: VerifiedCertificate) -> Result<(), StoreError> {
        let node = cert.certificate().node;
        self.node.store.put_certificate(node, cert.signed())?;
        self.node
            .trust
            .add_certificate(cert)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Records one audit event (and the changes it documents) durably.
    // The arguments are the audit event's own fields, named at each call site.
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &mut self,
        now: Timestamp,
        user: &str,
        action: Action,
        object: String,
        purpose: Option<&Purpose>,
        outcome: Outcome,
        effects: &[Effect<'_>],
    ) -> Result<(), AccessError> {
        let entry = AuditEntry {
            user: user.to_string(),
            action,
            object,
            purpose: purpose.map(|p| p.to_string()),
            case: purpose.and_then(|p| p.case().map(str::to_string)),
            outcome,
            floors: Vec::new(),
        };
        self.recorder
            .record_audit(&self.node, now, entry, effects, &mut self.rng)
            .map_err(cannot_sign)?;
        Ok(())
    }

    /// Documents a refusal and returns it.
    fn refuse<T>(
        &mut self,
        now: Timestamp,
        user: &str,
        action: Action,
        object: String,
        purpose: Option<&Purpose>,
        err: AccessError,
    ) -> Result<T, AccessError> {
        self.audit(now, user, action, object, purpose, refused(&err), &[])?;
        Err(err)
    }

    /// Documents a request refused before it named an operation (malformed
    /// input at the control socket) and returns the error to report.
    pub fn refuse_malformed(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        action: Action,
        what: &str,
        err: AccessError,
    ) -> AccessError {
        let user = self
            .sessions
            .get(&token)
            .map(|s| s.user.clone())
            .unwrap_or_else(|| NO_SESSION_ACTOR.to_string());
        match self.audit(
            now,
            &user,
            action,
            format!("{what}: malformed request"),
            None,
            refused(&err),
            &[],
        ) {
            Ok(()) => err,
            Err(e) => e,
        }
    }

    /// Writes a changed policy together with the audit event that documents it.
    fn commit_policy(
        &mut self,
        now: Timestamp,
        user: &str,
        action: Action,
        object: String,
        policy: Policy,
    ) -> Result<(), AccessError> {
        self.commit_policy_for(now, user, action, object, policy, None)
    }

    /// Commits a policy change documented under a purpose: a hold's event
    /// names its case, so the case's evidence trail includes it.
    fn commit_policy_for(
        &mut self,
        now: Timestamp,
        user: &str,
        action: Action,
        object: String,
        policy: Policy,
        purpose: Option<&Purpose>,
    ) -> Result<(), AccessError> {
        let staged = self.stage_policy(now, &policy)?;
        self.audit(
            now,
            user,
            action,
            object,
            purpose,
            Outcome::Success,
            &staged.effects(),
        )?;
        self.adopt_policy(staged)
    }

    /// The role of a session's user, if the session stands.
    fn session_role(&self, token: SessionToken) -> Option<crate::policy::UserRole> {
        let s = self.sessions.get(&token)?;
        self.policy.users.get(&s.user).map(|u| u.role)
    }

    /// The revoked nodes, kept current as policy changes.
    pub fn revoked(&self) -> Revoked {
        Revoked::clone(&self.revoked)
    }

    /// A node this node knows, by name, by full id or by a unique id prefix.
    pub fn find_node(&self, text: &str) -> Result<NodeId, AccessError> {
        let text = text.trim();
        let known: Vec<NodeId> = self.node.trust.nodes().collect();
        let by_name: Vec<NodeId> = known
            .iter()
            .copied()
            .filter(|n| {
                self.node
                    .trust
                    .certificate(n)
                    .is_some_and(|c| c.certificate().name == text)
            })
            .collect();
        let by_id: Vec<NodeId> = known
            .iter()
            .copied()
            .filter(|n| text.len() >= 8 && n.to_hex().starts_with(&text.to_ascii_lowercase()))
            .collect();
        match (by_name.as_slice(), by_id.as_slice()) {
            ([one], _) | ([], [one]) => Ok(*one),
            ([], []) => match NodeId::from_hex(text) {
                // A node never met here can be revoked by its full id.
                Some(id) => Ok(id),
                None => Err(AccessError::NotFound(format!(
                    "no known node is named '{text}' or has an id starting with it"
                ))),
            },
            _ => Err(AccessError::Invalid(format!(
                "'{text}' matches more than one node; give more of its id"
            ))),
        }
    }

    /// Revokes a node (Administrators): from now on it is refused as a peer
    /// and its records are refused from any peer.
    pub fn revoke_node(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        node: NodeId,
        reason: &str,
    ) -> Result<(), AccessError> {
        let name = self
            .node
            .trust
            .certificate(&node)
            .map(|c| c.certificate().name.clone())
            .unwrap_or_else(|| node.short());
        let object = format!("revoke node {name} ({node}): {reason}");
        let me = self.node.certificate.certificate().node;
        let reason = reason.trim().to_string();
        self.change_policy(
            now,
            token,
            Permission::AdministerNodes,
            "revoke a node",
            Action::EditNodes,
            object,
            |policy, actor, _| {
                if node == me {
                    return Err(AccessError::Invalid(
                        "a node cannot revoke itself; revoke it from another node".into(),
                    ));
                }
                if reason.is_empty() {
                    return Err(AccessError::Invalid("a revocation needs a reason".into()));
                }
                policy.revoked.insert(
                    node,
                    Revocation {
                        name,
                        reason,
                        by: actor.to_string(),
                        at: now,
                    },
                );
                Ok(())
            },
        )
    }

    /// Authorizes a policy change, applies `change` to a copy of the policy,
    /// and commits the copy with its audit event. A change that fails is
    /// refused and documented, and the policy stays as it was.
    #[allow(clippy::too_many_arguments)] // each is a distinct fact about the change
    fn change_policy<T>(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        perm: Permission,
        what: &'static str,
        action: Action,
        object: String,
        change: impl FnOnce(&mut Policy, &str, &mut StdRng) -> Result<T, AccessError>,
    ) -> Result<T, AccessError> {
        self.change_policy_for(now, token, perm, what, action, object, |p, actor, rng| {
            change(p, actor, rng).map(|value| (value, None))
        })
    }

    /// As [`Engine::change_policy`], the change naming the purpose its audit event records.
    // Each argument is a distinct fact about the change being authorized.
    #[allow(clippy::too_many_arguments)]
    fn change_policy_for<T>(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        perm: Permission,
        what: &'static str,
        action: Action,
        object: String,
        change: impl FnOnce(&mut Policy, &str, &mut StdRng) -> Result<(T, Option<Purpose>), AccessError>,
    ) -> Result<T, AccessError> {
        let (actor, _) = self.authorize(now, token, perm, what, action, &object)?;
        if let Err(e) = self.station_authored(perm) {
            return self.refuse(now, &actor, action, object, None, e);
        }
        let mut policy = self.policy.clone();
        match change(&mut policy, &actor, &mut self.rng) {
            Err(e) => self.refuse(now, &actor, action, object, None, e),
            Ok((value, purpose)) => {
                self.commit_policy_for(now, &actor, action, object, policy, purpose.as_ref())?;
                // A local entry added here is matched against stored reads
                // now (retro), not at the next read.
                if action == Action::EditHotlist {
                    self.refresh_matcher(now)?;
                }
                Ok(value)
            }
        }
    }

    /// Documents that a peer delivered a record of `origin` at `seq` that
    /// differs from the one stored here while both carry that node's valid
    /// signature: one enrollment runs on two machines (a copied data
    /// directory or bundle). The audit event, under the sync actor, reaches
    /// every station; an Administrator then revokes the id.
    pub fn flag_cloned_identity(
        &mut self,
        now: Timestamp,
        origin: alpr_protocol::NodeId,
        seq: u64,
        collection: alpr_protocol::replicate::Collection,
    ) -> Result<(), AccessError> {
        // Once per fork while the engine runs: a clone retried every minute
        // must not grow the audit log by an event a minute.
        if !self.forks_flagged.insert((origin, collection, seq)) {
            return Ok(());
        }
        let name = self
            .node
            .trust
            .certificate(&origin)
            .map(|c| c.certificate().name.clone())
            .unwrap_or_else(|| origin.short());
        tracing::error!(node = %name, seq, "two machines sign as one node");
        self.audit(
            now,
            SYNC_ACTOR,
            Action::EditNodes,
            format!(
                "node {name} ({origin}) signed two different {}s as seq {seq}: two machines share its enrollment",
                collection.name()
            ),
            None,
            Outcome::Refused("revoke the node and enroll each machine on its own".into()),
            &[],
        )
    }

    /// Creates the first Administrator of a node that has no users yet.
    pub fn bootstrap_admin(&mut self, now: Timestamp, new: NewUser) -> Result<(), AccessError> {
        if !self.policy.users.is_empty() {
            return Err(AccessError::Invalid(
                "this node already has users; an Administrator adds more with `user add`".into(),
            ));
        }
        if new.role != UserRole::Administrator {
            return Err(AccessError::Invalid(
                "the first user must be an Administrator".into(),
            ));
        }
        let user = make_user(self.password_cost, now, BOOTSTRAP_ACTOR, new, &mut self.rng)?;
        let mut policy = self.policy.clone();
        let object = format!("create user {} ({})", user.name, user.role);
        policy.users.insert(user.name.clone(), user);
        self.commit_policy(now, BOOTSTRAP_ACTOR, Action::EditUser, object, policy)
    }

    /// Logs a user in (policy V.A.2): password, lockout, active flag, training.
    pub fn login(
        &mut self,
        now: Timestamp,
        name: &str,
        password: &str,
    ) -> Result<SessionToken, AccessError> {
        let name = parse_user_name(name).unwrap_or_else(|_| name.chars().take(64).collect());
        let limits = self.policy.limits;
        let mut state = self.node.store.auth_state(&name)?;
        if let Some(until) = state.locked_until {
            if now < until {
                let err = AccessError::LockedOut {
                    user: name.clone(),
                    until,
                };
                return self.refuse(now, &name, Action::LoginFailed, "login".into(), None, err);
            }
            state = AuthState::default();
        }
        let user = self.policy.users.get(&name).cloned();
        let ok = match &user {
            Some(u) => password::verify(password, &u.password_hash),
            None => {
                // Same work for an unknown name, so timing does not tell names apart.
                let _ = password::verify(password, dummy_hash());
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            if !self.policy.users.contains_key(&name) {
                let reason = Outcome::Refused("unknown user".into());
                self.audit(
                    now,
                    &name,
                    Action::LoginFailed,
                    "login".into(),
                    None,
                    reason,
                    &[],
                )?;
                return Err(AccessError::BadCredentials);
            }
            state.failures += 1;
            let (action, outcome) = if state.failures >= limits.failures_max {
                let until =
                    Timestamp(now.as_millis() + i64::from(limits.lockout_minutes) * MINUTE_MS);
                state.locked_until = Some(until);
                (
                    Action::Lockout,
                    Outcome::Refused(format!(
                        "{} failed logins: locked until {until}",
                        state.failures
                    )),
                )
            } else {
                (
                    Action::LoginFailed,
                    Outcome::Refused(format!(
                        "wrong password ({} of {})",
                        state.failures, limits.failures_max
                    )),
                )
            };
            let effect = Effect::Auth { user: &name, state };
            self.audit(now, &name, action, "login".into(), None, outcome, &[effect])?;
            return Err(AccessError::BadCredentials);
        };
        if !user.active {
            let err = AccessError::Inactive(name.clone());
            return self.refuse(now, &name, Action::LoginFailed, "login".into(), None, err);
        }
        if let Err(e) = user.training_current(now) {
            return self.refuse(
                now,
                &name,
                Action::LoginFailed,
                "login".into(),
                None,
                e.into(),
            );
        }
        let effect = Effect::Auth {
            user: &name,
            state: AuthState::default(),
        };
        self.audit(
            now,
            &name,
            Action::Login,
            "login".into(),
            None,
            Outcome::Success,
            &[effect],
        )?;
        let mut token = [0u8; 32];
        rand::Rng::fill_bytes(&mut self.rng, &mut token);
        let token = SessionToken(token);
        self.sessions.insert(
            token,
            Session {
                user: name,
                last_active: now,
            },
        );
        Ok(token)
    }

    pub fn logout(&mut self, now: Timestamp, token: SessionToken) -> Result<(), AccessError> {
        let session = self.sessions.remove(&token).ok_or(AccessError::NoSession)?;
        self.staged.remove(&token);
        self.audit(
            now,
            &session.user,
            Action::Logout,
            "logout".into(),
            None,
            Outcome::Success,
            &[],
        )
    }

    /// Checks the session, the user's standing and role; documents a refusal.
    fn authorize(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        perm: Permission,
        what: &'static str,
        action: Action,
        object: &str,
    ) -> Result<(String, UserRole), AccessError> {
        let LoginLimits {
            idle_lock_minutes, ..
        } = self.policy.limits;
        let Some(session) = self.sessions.get(&token).cloned() else {
            // Who it was is unknown: the token names no session (ended, locked or never issued).
            return self.refuse(
                now,
                NO_SESSION_ACTOR,
                action,
                object.to_string(),
                None,
                AccessError::NoSession,
            );
        };
        let user = session.user;
        if now.as_millis() - session.last_active.as_millis()
            > i64::from(idle_lock_minutes) * MINUTE_MS
        {
            self.sessions.remove(&token);
            let err = AccessError::SessionLocked(idle_lock_minutes);
            return self.refuse(now, &user, action, object.to_string(), None, err);
        }
        let Some(record) = self.policy.users.get(&user).cloned() else {
            self.sessions.remove(&token);
            let err = AccessError::NotFound(format!("user '{user}' no longer exists"));
            return self.refuse(now, &user, action, object.to_string(), None, err);
        };
        if !record.active {
            self.sessions.remove(&token);
            let err = AccessError::Inactive(user.clone());
            return self.refuse(now, &user, action, object.to_string(), None, err);
        }
        if let Err(e) = record.training_current(now) {
            return self.refuse(now, &user, action, object.to_string(), None, e.into());
        }
        if !perm.granted_to(record.role) {
            let err = AccessError::Forbidden {
                user: user.clone(),
                role: record.role,
                what,
            };
            return self.refuse(now, &user, action, object.to_string(), None, err);
        }
        if let Some(s) = self.sessions.get_mut(&token) {
            s.last_active = now;
        }
        Ok((user, record.role))
    }

    /// Authorizes reading policy records and documents it (Action::ViewPolicy).
    fn authorize_view(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        perm: Permission,
        what: &'static str,
        object: &str,
    ) -> Result<String, AccessError> {
        let (user, _) = self.authorize(now, token, perm, what, Action::ViewPolicy, object)?;
        self.audit(
            now,
            &user,
            Action::ViewPolicy,
            object.to_string(),
            None,
            Outcome::Success,
            &[],
        )?;
        Ok(user)
    }

    /// Authorizes a data access that needs a purpose; an Auditor's must be an audit purpose.
    // Each argument is a distinct fact about the access being authorized.
    #[allow(clippy::too_many_arguments)]
    fn authorize_with_purpose(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        perm: Permission,
        what: &'static str,
        action: Action,
        object: &str,
        purpose: &PurposeInput,
    ) -> Result<(String, Purpose), AccessError> {
        let (user, role) = self.authorize(now, token, perm, what, action, object)?;
        let purpose = match Purpose::parse(
            purpose.kind.as_deref(),
            purpose.reason.as_deref(),
            purpose.case.as_deref(),
        ) {
            Ok(p) => p,
            Err(e) => return self.refuse(now, &user, action, object.to_string(), None, e.into()),
        };
        if role == UserRole::Auditor && purpose.kind() != PurposeKind::Audit {
            let err = AccessError::Forbidden {
                user: user.clone(),
                role,
                what: "access records except for an audit purpose",
            };
            return self.refuse(now, &user, action, object.to_string(), Some(&purpose), err);
        }
        Ok((user, purpose))
    }

    /// Searches reads with a stated purpose (policy III.A.2).
    pub fn search(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        query: &Query,
        range: TimeRange,
        limit: usize,
    ) -> Result<SearchResult, AccessError> {
        let filter = crate::search::ReadFilter::default();
        self.search_filtered(now, token, purpose, query, range, &filter, limit)
    }

    /// [`Engine::search`] keeping to one node's reads, one camera's, or
    /// both (`ReadFilter`); the audit event names them.
    // Each argument is a distinct part of the query being authorized.
    #[allow(clippy::too_many_arguments)]
    pub fn search_filtered(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        query: &Query,
        range: TimeRange,
        filter: &crate::search::ReadFilter,
        limit: usize,
    ) -> Result<SearchResult, AccessError> {
        let mut object = format!(
            "search {query} from {} to {}",
            crate::policy::time_bound(range.from),
            crate::policy::time_bound(range.to)
        );
        if let Some(origin) = filter.origin {
            let name = self
                .node
                .trust
                .certificate(&origin)
                .map(|c| c.certificate().name.clone());
            object.push_str(&format!(
                " of node {} ({})",
                name.as_deref().unwrap_or("?"),
                origin.short()
            ));
        }
        if let Some(camera) = &filter.camera {
            object.push_str(&format!(" from camera {camera}"));
        }
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::SearchReads,
            "search reads",
            Action::Search,
            &object,
            purpose,
        )?;
        let result = match search_filtered(&self.node, query, range, filter, limit) {
            Ok(r) => r,
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(
                    now,
                    &user,
                    Action::Search,
                    object,
                    Some(&purpose),
                    outcome,
                    &[],
                )?;
                return Err(match e {
                    SearchError::Store(e) => e.into(),
                    e @ SearchError::TooBroadForCamera => AccessError::Invalid(e.to_string()),
                });
            }
        };
        let object = format!(
            "{object}: {} matches, {} shown",
            result.total,
            result.hits.len()
        );
        self.audit(
            now,
            &user,
            Action::Search,
            object,
            Some(&purpose),
            Outcome::Success,
            &[],
        )?;
        Ok(result)
    }

    /// Opens one read, image included, with a stated purpose.
    pub fn view_read(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        id: RecordId,
    ) -> Result<(VerifiedRead, Option<Vec<u8>>), AccessError> {
        let object = format!("read {id}");
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::ViewReads,
            "view reads",
            Action::ViewRead,
            &object,
            purpose,
        )?;
        let opened = self.open_stored_read(id);
        let opened = opened.and_then(|v| {
            let crop = crate::search::image_of(&self.node, &v, ImageKind::PlateCrop)?;
            Ok((v, crop))
        });
        match opened {
            Ok((v, crop)) => {
                let (crop, note) = match crop {
                    crate::search::ImageState::Present(j) => (Some(j), "shown".to_string()),
                    crate::search::ImageState::Absent => {
                        (None, "past retention or none".to_string())
                    }
                    crate::search::ImageState::Damaged(why) => (None, format!("withheld: {why}")),
                };
                let object = format!("{object} ({}), plate crop {note}", v.read().body.plate);
                self.audit(
                    now,
                    &user,
                    Action::ViewRead,
                    object,
                    Some(&purpose),
                    Outcome::Success,
                    &[],
                )?;
                Ok((v, crop))
            }
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(
                    now,
                    &user,
                    Action::ViewRead,
                    object,
                    Some(&purpose),
                    outcome,
                    &[],
                )?;
                Err(e)
            }
        }
    }

    /// Opens one image of a read (the overview frame, or the plate crop) with
    /// a stated purpose: an access of its own in the audit log. None when the
    /// read has no such image, it is past its retention, or it is damaged
    /// (the audit event says which).
    pub fn view_image(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        id: RecordId,
        kind: ImageKind,
    ) -> Result<Option<Vec<u8>>, AccessError> {
        let object = format!("{kind} image of read {id}");
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::ViewReads,
            "view reads",
            Action::ViewImage,
            &object,
            purpose,
        )?;
        let opened = self.open_stored_read(id);
        let opened = opened.and_then(|v| Ok(crate::search::image_of(&self.node, &v, kind)?));
        let (shown, jpeg) = match opened {
            Ok(crate::search::ImageState::Present(jpeg)) => {
                (format!("{object}: shown"), Some(jpeg))
            }
            Ok(crate::search::ImageState::Absent) => {
                (format!("{object}: past retention or none"), None)
            }
            Ok(crate::search::ImageState::Damaged(why)) => {
                (format!("{object}: withheld: {why}"), None)
            }
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(
                    now,
                    &user,
                    Action::ViewImage,
                    object,
                    Some(&purpose),
                    outcome,
                    &[],
                )?;
                return Err(e);
            }
        };
        self.audit(
            now,
            &user,
            Action::ViewImage,
            shown,
            Some(&purpose),
            Outcome::Success,
            &[],
        )?;
        Ok(jpeg)
    }

    /// New reads are refused below [`CAPTURE_RESERVE_BYTES`] free: the last
    /// of the disk is kept for what must never be refused (audit events,
    /// logins, searches, and the purge that frees space).
    fn disk_has_room(&self) -> Result<(), AccessError> {
        match self.node.store.disk_free() {
            Some(free) if free < CAPTURE_RESERVE_BYTES => {
                tracing::error!(free_bytes = free, "disk nearly full: new reads are refused");
                Err(AccessError::Store(StoreError::DiskLow {
                    free,
                    reserve: CAPTURE_RESERVE_BYTES,
                }))
            }
            _ => Ok(()),
        }
    }

    /// A stored read of this node's store, opened and verified.
    fn open_stored_read(&self, id: RecordId) -> Result<VerifiedRead, AccessError> {
        match self.node.store.read_envelope(id)? {
            None => Err(AccessError::NotFound(format!("no read {id}"))),
            Some(bytes) => self
                .node
                .trust
                .open_read(&bytes)
                .map_err(|e| AccessError::Invalid(format!("read {id} does not verify: {e}"))),
        }
    }

    /// Adds a user (Administrators only).
    pub fn add_user(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        new: NewUser,
    ) -> Result<(), AccessError> {
        let object = format!("create user {} ({})", new.name, new.role);
        let cost = self.password_cost;
        self.change_policy(
            now,
            token,
            Permission::AdministerUsers,
            "change users",
            Action::EditUser,
            object,
            |policy, admin, rng| {
                let user = make_user(cost, now, admin, new, rng)?;
                if policy.users.contains_key(&user.name) {
                    return Err(AccessError::Invalid(format!(
                        "user '{}' already exists",
                        user.name
                    )));
                }
                policy.users.insert(user.name.clone(), user);
                Ok(())
            },
        )
    }

    /// Changes a user (Administrators only): training dates, active flag, role, password.
    pub fn edit_user(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        name: &str,
        edit: UserEdit,
    ) -> Result<(), AccessError> {
        let object = format!("edit user {name}: {edit}");
        let cost = self.password_cost;
        self.change_policy(
            now,
            token,
            Permission::AdministerUsers,
            "change users",
            Action::EditUser,
            object,
            |policy, _, rng| {
                let user = policy
                    .users
                    .get_mut(name)
                    .ok_or_else(|| AccessError::NotFound(format!("no user '{name}'")))?;
                match edit {
                    UserEdit::Training { on, expires } => {
                        user.trained_on = on;
                        user.training_expires = expires;
                    }
                    UserEdit::Active(active) => user.active = active,
                    UserEdit::Role(role) => user.role = role,
                    UserEdit::Password(pw) => {
                        password::check_strength(name, &pw)?;
                        user.password_hash = password::hash(&pw, cost, rng);
                    }
                }
                let admins_left = policy
                    .users
                    .values()
                    .any(|u| u.role == UserRole::Administrator && u.active);
                if !admins_left {
                    return Err(AccessError::Invalid(
                        "this would leave no active Administrator".into(),
                    ));
                }
                Ok(())
            },
        )
    }

    /// Clears a user's failed logins and lockout on this node (lockouts are
    /// per node, so this works at a car too); returns how many failures
    /// there were. Administrators only; documented like any user change.
    pub fn unlock_user(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        name: &str,
    ) -> Result<u32, AccessError> {
        let object = format!("unlock user {name}");
        let (actor, _) = self.authorize(
            now,
            token,
            Permission::AdministerUsers,
            "change users",
            Action::EditUser,
            &object,
        )?;
        if !self.policy.users.contains_key(name) {
            let err = AccessError::NotFound(format!("no user '{name}'"));
            return self.refuse(now, &actor, Action::EditUser, object, None, err);
        }
        let before = self.node.store.auth_state(name)?;
        self.audit(
            now,
            &actor,
            Action::EditUser,
            format!("{object}: {} failed logins cleared", before.failures),
            None,
            Outcome::Success,
            &[Effect::Auth {
                user: name,
                state: AuthState::default(),
            }],
        )?;
        Ok(before.failures)
    }

    /// Sets retention periods (Administrators only).
    pub fn set_retention(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        retention: Retention,
    ) -> Result<(), AccessError> {
        let object = format!(
            "retention: reads {} days, plate images {} days, overview images {} days, audit {} days, alerts {} days",
            retention.reads_days,
            retention.plate_images_days,
            retention.overview_images_days,
            retention.audit_days,
            retention.alerts_days
        );
        self.change_policy(
            now,
            token,
            Permission::AdministerRetention,
            "change retention",
            Action::EditRetention,
            object,
            |policy, _, _| {
                retention.check().map_err(AccessError::Invalid)?;
                policy.retention = retention;
                Ok(())
            },
        )
    }

    /// Sets login limits (Administrators only), within the CJIS bounds.
    pub fn set_limits(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        limits: LoginLimits,
    ) -> Result<(), AccessError> {
        let object = format!("login limits: {limits}");
        self.change_policy(
            now,
            token,
            Permission::AdministerUsers,
            "change login limits",
            Action::EditUser,
            object,
            |policy, _, _| {
                limits.check().map_err(AccessError::Invalid)?;
                policy.limits = limits;
                Ok(())
            },
        )
    }

    /// Places an evidence hold (Administrators only); returns its id.
    pub fn place_hold(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        hold: NewHold,
    ) -> Result<u64, AccessError> {
        let object = format!("place hold for case {}: {}", hold.case, hold.scope);
        self.change_policy_for(
            now,
            token,
            Permission::AdministerHolds,
            "change evidence holds",
            Action::EditHold,
            object,
            |policy, admin, _| {
                let checked =
                    Purpose::parse(Some("investigation"), Some(&hold.reason), Some(&hold.case))?;
                let id = policy.next_hold_id();
                policy.holds.push(Hold {
                    id,
                    case: checked.case().unwrap_or_default().to_string(),
                    reason: checked.reason().to_string(),
                    scope: hold.scope,
                    placed_by: admin.to_string(),
                    placed_at: now,
                    expires: hold.expires,
                    released: None,
                });
                Ok((id, Some(checked)))
            },
        )
    }

    /// Releases an evidence hold (Administrators only); its reads become purgeable.
    pub fn release_hold(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        id: u64,
    ) -> Result<(), AccessError> {
        let object = format!("release hold {id}");
        self.change_policy_for(
            now,
            token,
            Permission::AdministerHolds,
            "change evidence holds",
            Action::EditHold,
            object,
            |policy, admin, _| {
                let hold = policy
                    .holds
                    .iter_mut()
                    .find(|h| h.id == id && h.released.is_none())
                    .ok_or_else(|| AccessError::NotFound(format!("no standing hold {id}")))?;
                hold.released = Some((admin.to_string(), now));
                // The release belongs to the case's trail as its placing does.
                let purpose =
                    Purpose::parse(Some("investigation"), Some(&hold.reason), Some(&hold.case))
                        .ok();
                Ok(((), purpose))
            },
        )
    }

    /// Deletes reads past retention that no hold protects (policy IV.B).
    ///
    /// Deterministic: a read goes when it was captured before `now` less
    /// the retention period and
    /// no active hold covers it, so nodes with the same policy purge the
    /// same reads. Work is done in transactions of at most
    /// [`PURGE_BATCH_MAX`] reads, each committed with its own audit event.
    pub fn purge(
        &mut self,
        now: Timestamp,
        actor: PurgeActor,
        dry_run: bool,
    ) -> Result<PurgeReport, AccessError> {
        let mut run = self.begin_purge(now, actor, dry_run)?;
        if dry_run {
            return self.purge_dry_run(now, run);
        }
        while self.purge_step(now, &mut run)? {}
        Ok(run.report)
    }

    /// Counts what a purge would delete, deleting nothing, and documents the count.
    fn purge_dry_run(&mut self, now: Timestamp, run: PurgeRun) -> Result<PurgeReport, AccessError> {
        let PurgeRun {
            user,
            object,
            cutoff,
            mut report,
            ..
        } = run;
        let policy = self.policy.clone();
        let plan = self.purge_plan(now, cutoff);
        let cutoff = plan.reads;
        self.node.store.expired_reads(cutoff, 0, |id, at, plate| {
            if policy.held(now, id.origin, id.seq, at, plate) {
                report.held += 1;
            } else {
                report.purged += 1;
                report.oldest = Some(report.oldest.map_or(at, |o| o.min(at)));
                report.newest = Some(report.newest.map_or(at, |n| n.max(at)));
            }
            true
        })?;
        for kind in [ImageKind::PlateCrop, ImageKind::Overview] {
            let images_cutoff = plan.images(kind);
            self.node
                .store
                .expired_images(kind, images_cutoff, 0, |id, at, plate| {
                    // Images of reads that go anyway are counted with their reads.
                    if at >= cutoff && !policy.held(now, id.origin, id.seq, at, plate) {
                        report.images_purged += 1;
                    }
                    true
                })?;
        }
        let (alerts, alerts_held) = self.expired_alerts(now, plan.alerts)?;
        report.alerts_purged = alerts.len() as u64;
        report.alerts_held = alerts_held;
        let audit_cutoff = plan.audit;
        let held_cases = self.held_cases(now);
        report.audit_purged = self
            .node
            .store
            .expired_audit(audit_cutoff, usize::MAX, |bytes| {
                self.audit_held(&held_cases, bytes)
            })?
            .iter()
            .map(|p| p.count)
            .sum();
        let object = format!(
            "{object}: {} would go, {} held; {} images past their periods; {} alert records past {} days, {} alerts held; {} audit events past {} days",
            report.purged,
            report.held,
            report.images_purged,
            report.alerts_purged,
            self.policy.retention.alerts_days,
            report.alerts_held,
            report.audit_purged,
            self.policy.retention.audit_days
        );
        self.audit(
            now,
            &user,
            Action::Purge,
            object,
            None,
            Outcome::Success,
            &[],
        )?;
        Ok(report)
    }

    /// What a purge at `now` selects, for the dry run and every step of the
    /// real one alike, so the two cannot disagree: reads captured before
    /// the earlier of the run's cutoff and today's (a period lengthened
    /// mid-run holds from the next step on; a shortened one waits for the
    /// next purge), images before their own periods, audit events before
    /// theirs; what a hold protects is kept (the policy's holds now).
    fn purge_plan(&self, now: Timestamp, run_cutoff: Timestamp) -> PurgePlan {
        let r = &self.policy.retention;
        PurgePlan {
            reads: run_cutoff.min(r.reads_cutoff(now)),
            plate_images: r.images_cutoff(ImageKind::PlateCrop, now),
            overviews: r.images_cutoff(ImageKind::Overview, now),
            audit: r.audit_cutoff(now),
            alerts: Timestamp(
                now.as_millis()
                    .saturating_sub(i64::from(r.alerts_days).saturating_mul(crate::policy::DAY_MS)),
            ),
        }
    }

    /// Starts a purge that runs in steps ([`Engine::purge_step`]), so a
    /// daemon can release the engine between them: a search or a capture
    /// waits for one step, never for the whole purge.
    pub fn purge_start(
        &mut self,
        now: Timestamp,
        actor: PurgeActor,
    ) -> Result<PurgeRun, AccessError> {
        self.begin_purge(now, actor, false)
    }

    fn begin_purge(
        &mut self,
        now: Timestamp,
        actor: PurgeActor,
        dry_run: bool,
    ) -> Result<PurgeRun, AccessError> {
        let cutoff = self.policy.retention.reads_cutoff(now);
        let object = format!(
            "purge reads captured before {cutoff} ({} days){}",
            self.policy.retention.reads_days,
            if dry_run { ", dry run" } else { "" }
        );
        let user = match actor {
            PurgeActor::User(token) => {
                self.authorize(
                    now,
                    token,
                    Permission::Purge,
                    "purge",
                    Action::Purge,
                    &object,
                )?
                .0
            }
            PurgeActor::Schedule => SCHEDULE_ACTOR.to_string(),
        };
        Ok(PurgeRun {
            user,
            object,
            cutoff,
            phase: PurgePhase::Reads,
            report: PurgeReport {
                cutoff: Some(cutoff),
                ..PurgeReport::default()
            },
        })
    }

    /// One transaction of a purge: at most [`PURGE_BATCH_MAX`] reads, images
    /// of one kind, or audit events, deleted with the audit event that
    /// documents them. Returns whether more is left. Holds are those of the
    /// policy now, so a hold placed while a purge runs is respected.
    pub fn purge_step(&mut self, now: Timestamp, run: &mut PurgeRun) -> Result<bool, AccessError> {
        let more = match run.phase {
            PurgePhase::Reads => self.purge_reads_step(now, run),
            PurgePhase::Images(kind) => self.purge_images_step(now, run, kind),
            PurgePhase::Alerts => self.purge_alerts_step(now, run),
            PurgePhase::Audit => self.purge_audit_step(now, run),
            PurgePhase::Done => return Ok(false),
        }?;
        if !more {
            self.publish_purge(now, &run.user, &run.report);
        }
        Ok(more)
    }

    /// Reads past the cutoff (the earlier of the purge's and today's) that
    /// no hold protects, one batch.
    fn purge_reads_step(
        &mut self,
        now: Timestamp,
        run: &mut PurgeRun,
    ) -> Result<bool, AccessError> {
        let policy = self.policy.clone();
        // Retention lengthened while the purge runs (here or merged from a
        // peer) holds from the next step on; a shortened one waits for the
        // next purge, as a newly placed hold is respected at once.
        let cutoff = self.purge_plan(now, run.cutoff).reads;
        let (user, object, report) = (&run.user, &run.object, &mut run.report);
        let expired = self
            .node
            .store
            .expired_reads(cutoff, PURGE_BATCH_MAX, |id, at, plate| {
                // The deliberate defect the simulator must catch (Cargo.toml).
                !cfg!(feature = "defect-purge-ignores-holds")
                    && policy.held(now, id.origin, id.seq, at, plate)
            })?;
        report.held = expired.kept;
        if !expired.reads.is_empty() {
            let oldest = expired.reads.iter().map(|r| r.captured_at).min();
            let newest = expired.reads.iter().map(|r| r.captured_at).max();
            let entry = AuditEntry {
                user: user.clone(),
                action: Action::Purge,
                object: format!(
                    "{object}: deleted {} reads captured {} to {}",
                    expired.reads.len(),
                    oldest.map(|t| t.to_string()).unwrap_or_default(),
                    newest.map(|t| t.to_string()).unwrap_or_default()
                ),
                purpose: None,
                case: None,
                outcome: Outcome::Success,
                floors: Vec::new(),
            };
            let event = self
                .recorder
                .seal_audit(&self.node, now, entry, &mut self.rng)
                .map_err(cannot_sign)?;
            report.purged += self.node.store.delete_reads(&expired.reads, &event)?;
            self.recorder.advance_audit(&event);
            report.oldest = report.oldest.min(oldest).or(oldest);
            report.newest = report.newest.max(newest);
        }
        if expired.reads.is_empty() || !expired.more {
            run.phase = PurgePhase::Images(ImageKind::PlateCrop);
        }
        Ok(true)
    }

    /// Images of one kind past their own period, one batch.
    fn purge_images_step(
        &mut self,
        now: Timestamp,
        run: &mut PurgeRun,
        kind: ImageKind,
    ) -> Result<bool, AccessError> {
        let policy = self.policy.clone();
        let (user, report) = (&run.user, &mut run.report);
        let cutoff = self.purge_plan(now, run.cutoff).images(kind);
        let expired =
            self.node
                .store
                .expired_images(kind, cutoff, PURGE_BATCH_MAX, |id, at, plate| {
                    policy.held(now, id.origin, id.seq, at, plate)
                })?;
        if !expired.reads.is_empty() {
            let entry = AuditEntry {
                user: user.clone(),
                action: Action::Purge,
                object: format!(
                    "purge {kind} images captured before {cutoff}: deleted {}",
                    expired.reads.len()
                ),
                purpose: None,
                case: None,
                outcome: Outcome::Success,
                floors: Vec::new(),
            };
            let event = self
                .recorder
                .seal_audit(&self.node, now, entry, &mut self.rng)
                .map_err(cannot_sign)?;
            report.images_purged += self
                .node
                .store
                .delete_images(kind, &expired.reads, &event)?;
            self.recorder.advance_audit(&event);
        }
        if expired.reads.is_empty() || !expired.more {
            run.phase = match kind {
                ImageKind::PlateCrop => PurgePhase::Images(ImageKind::Overview),
                ImageKind::Overview => PurgePhase::Alerts,
            };
        }
        Ok(true)
    }

    /// Alerts past `alerts_days` that no hold protects, with their
    /// dispositions, in one transaction with its audit event (alerts are
    /// few: a hit per thousands of reads).
    fn purge_alerts_step(
        &mut self,
        now: Timestamp,
        run: &mut PurgeRun,
    ) -> Result<bool, AccessError> {
        run.phase = PurgePhase::Audit;
        let cutoff = self.purge_plan(now, run.cutoff).alerts;
        let (ids, held) = self.expired_alerts(now, cutoff)?;
        run.report.alerts_held = held;
        if ids.is_empty() {
            return Ok(true);
        }
        let entry = AuditEntry {
            user: run.user.clone(),
            action: Action::Purge,
            object: format!(
                "purge alerts raised before {cutoff}: deleted {} alert records, {held} alerts held",
                ids.len()
            ),
            purpose: None,
            case: None,
            outcome: Outcome::Success,
            floors: Vec::new(),
        };
        let event = self
            .recorder
            .seal_audit(&self.node, now, entry, &mut self.rng)
            .map_err(cannot_sign)?;
        run.report.alerts_purged += self.node.store.delete_alerts(&ids, &event)?;
        self.recorder.advance_audit(&event);
        Ok(true)
    }

    /// Audit events past their period, as signed prefixes of each chain, one batch;
    /// the last step documents a purge that found nothing.
    fn purge_audit_step(
        &mut self,
        now: Timestamp,
        run: &mut PurgeRun,
    ) -> Result<bool, AccessError> {
        let audit_cutoff = self.purge_plan(now, run.cutoff).audit;
        let (user, object, report) = (&run.user, &run.object, &mut run.report);
        let held_cases = self.held_cases(now);
        let prefixes = self
            .node
            .store
            .expired_audit(audit_cutoff, PURGE_BATCH_MAX, |bytes| {
                self.audit_held(&held_cases, bytes)
            })?;
        if prefixes.is_empty() {
            run.phase = PurgePhase::Done;
            if report.purged == 0 && report.audit_purged == 0 && report.images_purged == 0 {
                let object = format!("{object}: nothing past retention, {} held", report.held);
                self.audit(
                    now,
                    user,
                    Action::Purge,
                    object,
                    None,
                    Outcome::Success,
                    &[],
                )?;
            }
            return Ok(false);
        }
        let count: u64 = prefixes.iter().map(|p| p.count).sum();
        let entry = AuditEntry {
            user: user.clone(),
            action: Action::Purge,
            object: format!(
                "purge audit events from before {audit_cutoff} ({} days): deleted {count} from {} nodes",
                self.policy.retention.audit_days,
                prefixes.len(),
            ),
            purpose: None,
            case: None,
            outcome: Outcome::Success,
            // The floors are signed here, so `verify` can tell a chain
            // start cut by a purge from one whose first events were deleted.
            floors: prefixes
                .iter()
                .map(|p| alpr_protocol::record::AuditFloor {
                    origin: p.origin,
                    seq: p.upto,
                    hash: p.hash,
                })
                .collect(),
        };
        let event = self
            .recorder
            .seal_audit(&self.node, now, entry, &mut self.rng)
            .map_err(cannot_sign)?;
        report.audit_purged += self.node.store.delete_audit_prefix(&prefixes, &event)?;
        self.recorder.advance_audit(&event);
        Ok(true)
    }
}

impl Engine {
    /// Stores reads recognized elsewhere (an operation: trained operators only),
    /// in durable batches; `on_commit` sees each stored batch. Documented as
    /// one audit event with the count, after the last batch.
    pub fn import<I, F>(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        source: &str,
        batches: I,
        on_commit: F,
    ) -> Result<u64, AccessError>
    where
        I: Iterator<Item = Vec<(Timestamp, alpr_protocol::Capture)>> + Send,
        F: FnMut(&[alpr_protocol::SealedRead]) -> bool,
    {
        let object = format!("import reads from {source}");
        let (user, _) = self.authorize(
            now,
            token,
            Permission::Operate,
            "operate the reader",
            Action::Import,
            &object,
        )?;
        if let Err(err) = self.disk_has_room() {
            return self.refuse(now, &user, Action::Import, object, None, err);
        }
        // A file imported twice stores nothing new: a read this node already
        // holds (the same plate, time, camera, confidences, region, place and
        // crop) is skipped.
        let stale = self.lists_stale(now);
        let Engine {
            recorder,
            node,
            rng,
            matcher,
            events,
            ..
        } = self;
        let node: &Node = node;
        // Each batch's candidate texts travel beside it to the committer,
        // which raises the batch's alerts in the batch's transaction.
        let (cand_tx, cand_rx) = std::sync::mpsc::channel::<Vec<Vec<String>>>();
        let fresh = batches.map(move |batch| {
            let fresh = fresh_captures(node, batch);
            let _ = cand_tx.send(fresh.iter().map(|(_, c)| c.candidates.clone()).collect());
            fresh
        });
        let events = events.clone();
        let mut on_commit = on_commit;
        let result = recorder.record_stream(
            node,
            fresh,
            rng,
            |stored, alerts| {
                live::publish(&events, stored.iter().map(|s| &s.read));
                live::publish_alerts(&events, alerts);
                on_commit(stored)
            },
            |sealed| {
                let candidates = cand_rx.recv().unwrap_or_default();
                Engine::raise_for(matcher, &node.store, stale, now, sealed, &candidates)
            },
        );
        match result {
            Ok(n) => {
                self.audit(
                    now,
                    &user,
                    Action::Import,
                    format!("{object}: {n} reads"),
                    None,
                    Outcome::Success,
                    &[],
                )?;
                Ok(n)
            }
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(now, &user, Action::Import, object, None, outcome, &[])?;
                Err(record_error(e))
            }
        }
    }

    /// Checks every record, chain and index (Administrators and Auditors).
    pub fn verify(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<crate::verify::Report, AccessError> {
        self.verify_watched(now, token, &mut |_, _, _| true)
    }

    /// [`Engine::verify`] with a watcher told how far the check is, which
    /// may stop it (a person cancelling): the audit event then says so.
    pub fn verify_watched(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        watcher: crate::verify::Watcher<'_>,
    ) -> Result<crate::verify::Report, AccessError> {
        let object = "verify the whole database".to_string();
        let (user, _) = self.authorize(
            now,
            token,
            Permission::Verify,
            "verify the database",
            Action::Verify,
            &object,
        )?;
        let report = match crate::verify::verify_watched(&self.node, watcher) {
            Ok(r) => r,
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(now, &user, Action::Verify, object, None, outcome, &[])?;
                return Err(e.into());
            }
        };
        let outcome = match (report.cancelled, report.ok()) {
            (true, _) => Outcome::Failed(format!(
                "cancelled by the user; {} failures in what was checked",
                report.failures.len()
            )),
            (false, true) => Outcome::Success,
            (false, false) => Outcome::Failed(format!("{} failures", report.failures.len())),
        };
        let object = format!(
            "{object}: {} reads, {} audit events",
            report.reads, report.audit_events
        );
        self.audit(now, &user, Action::Verify, object, None, outcome, &[])?;
        Ok(report)
    }

    /// Users as an Administrator sees them (no password hashes).
    pub fn users(&mut self, now: Timestamp, token: SessionToken) -> Result<Vec<User>, AccessError> {
        self.authorize_view(
            now,
            token,
            Permission::AdministerUsers,
            "list users",
            "list users",
        )?;
        Ok(self
            .policy
            .users
            .values()
            .map(|u| User {
                password_hash: String::new(),
                ..u.clone()
            })
            .collect())
    }
}

impl Engine {
    /// Exports the evidence of a case (policy IV.B): every read an active
    /// hold of the case protects, and the case's audit trail, as a
    /// self-verifying bundle handed to `sink` (the driver's: portable media).
    /// Supervisors and Administrators, for an investigation of that case.
    pub fn export_evidence(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        purpose: &PurposeInput,
        case: &str,
        sink: &mut dyn crate::evidence::BundleSink,
    ) -> Result<alpr_protocol::bundle::Manifest, AccessError> {
        let object = format!("export evidence of case {case} to {}", sink.describe());
        let (user, purpose) = self.authorize_with_purpose(
            now,
            token,
            Permission::ExportEvidence,
            "export evidence",
            Action::Export,
            &object,
            purpose,
        )?;
        if purpose.kind() != PurposeKind::Investigation
            || purpose.case() != Some(case.to_ascii_uppercase().as_str())
        {
            // Evidence leaves the node only for the investigation of its case (policy V.A.3).
            let err = AccessError::Invalid(format!(
                "evidence is exported only for an investigation: give --purpose investigation --case {case}"
            ));
            return self.refuse(now, &user, Action::Export, object, Some(&purpose), err);
        }
        self.can_sign(now)?;
        let case = case.to_ascii_uppercase();
        let result = sink
            .check()
            .and_then(|()| {
                crate::evidence::case_reads(&self.node, &self.policy, &case, now)
                    .map_err(crate::evidence::EvidenceError::from)
            })
            .and_then(|reads| {
                if reads.is_empty() {
                    return Err(crate::evidence::EvidenceError::Bundle {
                        path: sink.describe().into(),
                        what: format!(
                            "no standing hold of case {case} protects any read; place a hold first"
                        ),
                    });
                }
                let request = crate::evidence::BundleRequest {
                    kind: alpr_protocol::bundle::BundleKind::Evidence,
                    case: case.clone(),
                    exported_by: user.clone(),
                    purpose: purpose.to_string(),
                    release: None,
                    now,
                };
                let bundle = crate::evidence::build_bundle(&self.node, &reads, &request)?;
                sink.put(&bundle.files)?;
                Ok((bundle.manifest, bundle.manifest_sha256))
            });
        match result {
            Ok((manifest, manifest_sha256)) => {
                let object = format!(
                    "{object}: {} reads, {} audit events, manifest sha256 {manifest_sha256}",
                    manifest.reads, manifest.audit_events,
                );
                if let Err(e) = self.audit(
                    now,
                    &user,
                    Action::Export,
                    object,
                    Some(&purpose),
                    Outcome::Success,
                    &[],
                ) {
                    // An export that cannot be documented must not stay on the media.
                    sink.discard();
                    return Err(e);
                }
                Ok(manifest)
            }
            Err(e) => {
                // Nothing half-written stays on the media.
                sink.discard();
                let outcome = Outcome::Failed(e.to_string());
                self.audit(
                    now,
                    &user,
                    Action::Export,
                    object,
                    Some(&purpose),
                    outcome,
                    &[],
                )?;
                Err(AccessError::Invalid(e.to_string()))
            }
        }
    }
}

impl Engine {
    /// Evidence holds (Administrators).
    pub fn holds(&mut self, now: Timestamp, token: SessionToken) -> Result<Vec<Hold>, AccessError> {
        self.authorize_view(
            now,
            token,
            Permission::AdministerHolds,
            "list holds",
            "list holds",
        )?;
        Ok(self.policy.holds.clone())
    }

    /// The request register (Supervisors and Administrators).
    pub fn requests(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<Vec<crate::policy::Request>, AccessError> {
        self.authorize_view(
            now,
            token,
            Permission::RegisterRequest,
            "see the request register",
            "list requests",
        )?;
        Ok(self.policy.requests.clone())
    }

    /// Releases to other agencies, as recorded (policy V.A.4): Auditors and
    /// Administrators, as for audit reports. Documented as a view.
    pub fn releases(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<Vec<crate::policy::Release>, AccessError> {
        self.authorize_view(
            now,
            token,
            Permission::ViewAudits,
            "see releases to other agencies",
            "list releases",
        )?;
        Ok(self.policy.releases.clone())
    }

    /// Audit reports and the overdue flag (Auditors and Administrators).
    pub fn audits(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<
        (
            Vec<crate::policy::AuditReport>,
            Option<crate::policy::Quarter>,
        ),
        AccessError,
    > {
        self.authorize_view(
            now,
            token,
            Permission::ViewAudits,
            "see audit reports",
            "list audits",
        )?;
        Ok((self.policy.audits.clone(), self.policy.audit_overdue(now)))
    }

    /// [`Engine::audits`], with each sampled item's event as this node holds
    /// it (None where it is not held or does not verify), so the auditor
    /// marking an item sees who did what, when and why.
    #[allow(clippy::type_complexity)]
    pub fn audits_with_events(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<
        (
            Vec<(
                crate::policy::AuditReport,
                Vec<Option<alpr_protocol::AuditEvent>>,
            )>,
            Option<crate::policy::Quarter>,
        ),
        AccessError,
    > {
        let (reports, overdue) = self.audits(now, token)?;
        let mut out = Vec::with_capacity(reports.len());
        for r in reports {
            let mut events = Vec::with_capacity(r.items.len());
            for item in &r.items {
                let id = RecordId {
                    origin: item.origin,
                    seq: item.seq,
                };
                let event = self
                    .node
                    .store
                    .audit_envelope(id)?
                    .and_then(|bytes| self.node.trust.open_audit(&bytes).ok())
                    .map(|v| v.event().clone());
                events.push(event);
            }
            out.push((r, events));
        }
        Ok((out, overdue))
    }
}

/// What `status` reports to a logged-in user.
#[derive(Debug, Clone)]
pub struct Status {
    pub user: String,
    pub role: UserRole,
    pub retention: Retention,
    pub standing_holds: u64,
    pub audit_overdue: Option<crate::policy::Quarter>,
    /// Reads stored here, of every origin.
    pub reads: u64,
    /// The last meeting in sync with each peer: id, name (if known), when.
    pub meetings: Vec<(alpr_protocol::NodeId, Option<String>, Timestamp)>,
    /// Each bulk hotlist held: name, version, when it was published.
    pub hotlists: Vec<(String, u64, Timestamp)>,
    /// Bytes free on the database's disk, where the system says.
    pub disk_free: Option<u64>,
    /// Alerts no disposition has closed (of those this user may see).
    pub alerts_pending: u64,
    /// How long ago the lists were brought up to date, and whether that is
    /// past the node's limit.
    pub lists_age_ms: Option<i64>,
    pub lists_stale: bool,
    /// Bytes of the database file.
    pub database_bytes: Option<u64>,
    /// What the daemon said of itself (nothing without one).
    pub notes: DaemonNotes,
    /// Login limits in force: failures before a lockout, its length, and
    /// the idle time after which a session locks.
    pub limits: LoginLimits,
}

impl Engine {
    /// The daemon's notes for `status` (see [`DaemonNotes`]).
    pub fn note_daemon(&mut self, edit: impl FnOnce(&mut DaemonNotes)) {
        edit(&mut self.notes);
    }

    /// The policy status a console shows on its front page; any logged-in user.
    pub fn status(&mut self, now: Timestamp, token: SessionToken) -> Result<Status, AccessError> {
        let (user, role) = self.authorize(
            now,
            token,
            Permission::SearchReads,
            "see status",
            Action::Login,
            "status",
        )?;
        let store = &self.node.store;
        let (reads, _) = store.index_counts()?;
        let meetings = self.named_meetings()?;
        let mut hotlists = Vec::new();
        for (name, held) in store.hotlists()? {
            let version = held
                .signed
                .decode()
                .map_err(|e| AccessError::Invalid(format!("hotlist {name}: {e}")))?;
            hotlists.push((name, version.version, version.published_at));
        }
        let alerts_pending = self.alerts_pending(Permission::ViewCovertAlerts.granted_to(role))?;
        let store = &self.node.store;
        Ok(Status {
            alerts_pending,
            lists_age_ms: self.lists_age_ms(now),
            lists_stale: self.lists_stale(now),
            user,
            role,
            retention: self.policy.retention,
            standing_holds: self.policy.holds.iter().filter(|h| h.active(now)).count() as u64,
            audit_overdue: self.policy.audit_overdue(now),
            reads,
            meetings,
            hotlists,
            disk_free: store.disk_free(),
            database_bytes: store.file_bytes(),
            notes: self.notes.clone(),
            limits: self.policy.limits,
        })
    }
}

/// What the daemon's health line and metrics show of the node: counts and
/// ages only, no record, so no user session and no audit event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    pub reads: u64,
    pub disk_free: Option<u64>,
    /// Pending alerts an officer may see (covert hits are not counted, so
    /// the count on a car's local endpoint never hints at one).
    pub alerts_pending: u64,
    pub lists_age_ms: Option<i64>,
    /// Each peer met (its certificate name, when known) and when.
    pub meetings: Vec<(NodeId, Option<String>, Timestamp)>,
}

impl Engine {
    /// Each peer met in sync, with its certificate name when known.
    /// The peers and sync view: every peer met since this node started or
    /// ever met in sync, with its meetings, its last failure and what is
    /// pending each way ([`peers`]), and the revoked nodes. Like `status`,
    /// open to every trained user and not an access to data.
    pub fn peers(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<peers::PeersReport, AccessError> {
        self.authorize(
            now,
            token,
            Permission::SearchReads,
            "see peers",
            Action::Login,
            "peers",
        )?;
        let ours = replica::vectors(self)?;
        let mut views: std::collections::BTreeMap<NodeId, peers::PeerView> = self
            .peers
            .views(&ours)
            .into_iter()
            .map(|v| (v.node, v))
            .collect();
        let synced: std::collections::BTreeMap<NodeId, Timestamp> =
            self.node.store.meetings()?.into_iter().collect();
        for node in synced.keys() {
            views.entry(*node).or_insert_with(|| peers::PeerView {
                node: *node,
                role: None,
                connected_since: None,
                meetings: 0,
                failures: 0,
                last_failure: None,
                last_stored: None,
                pending_out: None,
                pending_in: None,
            });
        }
        let trust = &self.node.trust;
        let peers = views
            .into_values()
            .map(|mut v| {
                let cert = trust.certificate(&v.node).map(|c| c.certificate());
                v.role = v.role.or(cert.map(|c| c.role));
                let name = cert.map(|c| c.name.clone());
                let last = synced.get(&v.node).copied();
                (v, name, last)
            })
            .collect();
        let revoked = self
            .policy
            .revoked
            .iter()
            .map(|(n, r)| (*n, r.clone()))
            .collect();
        Ok(peers::PeersReport {
            peers,
            addresses: self.peers.addresses(),
            revoked,
        })
    }

    /// The daemon tried to meet the peer at `address`: the node it met, or
    /// why it could not (kept, bounded, for the peers view).
    pub fn peer_tried(&mut self, now: Timestamp, address: &str, result: Result<NodeId, String>) {
        let result = result
            .map_err(|r| alpr_protocol::record::bounded_text(r, crate::events::REASON_BYTES_MAX));
        self.peers.tried(now, address, result);
    }

    fn named_meetings(&self) -> Result<Vec<(NodeId, Option<String>, Timestamp)>, AccessError> {
        Ok(self
            .node
            .store
            .meetings()?
            .into_iter()
            .map(|(id, at)| {
                let name = self
                    .node
                    .trust
                    .certificate(&id)
                    .map(|c| c.certificate().name.clone());
                (id, name, at)
            })
            .collect())
    }

    /// Alerts no disposition closed; covert ones only when `covert`.
    fn alerts_pending(&self, covert: bool) -> Result<u64, AccessError> {
        Ok(self
            .alert_views(covert)?
            .iter()
            .filter(|v| v.pending())
            .count() as u64)
    }

    pub fn health(&self, now: Timestamp) -> Result<Health, AccessError> {
        let store = &self.node.store;
        let (reads, _) = store.index_counts()?;
        Ok(Health {
            reads,
            disk_free: store.disk_free(),
            alerts_pending: self.alerts_pending(false)?,
            lists_age_ms: self.lists_age_ms(now),
            meetings: self.named_meetings()?,
        })
    }
}

/// One change to a user.
#[derive(Debug, Clone)]
pub enum UserEdit {
    Training {
        on: Option<Timestamp>,
        expires: Option<Timestamp>,
    },
    Active(bool),
    Role(UserRole),
    Password(String),
}

impl fmt::Display for UserEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserEdit::Training { on, expires } => write!(
                f,
                "training completed {}, expires {}",
                on.map_or("never".into(), |t| t.to_string()),
                expires.map_or("never".into(), |t| t.to_string())
            ),
            UserEdit::Active(a) => write!(f, "{}", if *a { "activate" } else { "deactivate" }),
            UserEdit::Role(r) => write!(f, "role {r}"),
            // Never the password itself.
            UserEdit::Password(_) => f.write_str("set password"),
        }
    }
}

/// A batch less the reads this node already stores, and less a read given
/// twice in it (the second is not yet in the store for `already_stored` to
/// find): a file imported or a camera batch replayed twice adds nothing.
fn fresh_captures(
    node: &Node,
    batch: Vec<(Timestamp, alpr_protocol::Capture)>,
) -> Vec<(Timestamp, alpr_protocol::Capture)> {
    let mut seen = std::collections::HashSet::new();
    batch
        .into_iter()
        .filter(|(at, capture)| {
            let fingerprint: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(
                postcard::to_allocvec(&(at, capture)).unwrap_or_default(),
            )
            .into();
            seen.insert(fingerprint) && !already_stored(node, *at, capture)
        })
        .collect()
}

/// A recording that failed, as the engine reports it: a store error stays one.
fn record_error(e: crate::recorder::RecordError) -> AccessError {
    match e {
        crate::recorder::RecordError::Store(s) => AccessError::Store(s),
        e => AccessError::Invalid(e.to_string()),
    }
}

/// Where reads come from when no person records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureSource {
    /// A camera the daemon runs, by its configured name.
    Camera(String),
    /// A folder of frames the daemon replays (a fixed camera's recordings).
    Replay(String),
}

impl CaptureSource {
    /// The actor its audit events name: no person is logged in.
    pub fn actor(&self) -> String {
        let (kind, name) = match self {
            CaptureSource::Camera(n) => ("camera", n),
            CaptureSource::Replay(n) => ("replay", n),
        };
        let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        format!("({kind} {name})")
    }
}

/// What [`Engine::record`] stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The reads stored, in capture order.
    pub ids: Vec<RecordId>,
    /// Reads of the batch this node already held (or given twice), skipped.
    pub already_stored: u64,
    /// Alerts the batch raised (hotlist hits), stored with the reads.
    pub alerts: u64,
}

impl Engine {
    /// Records one batch of reads a camera or a replay produced, with no
    /// person logged in: the same checks, duplicate skipping and disk
    /// reserve as an import, audited under the source as actor. At most
    /// `READ_BATCH_MAX` reads; durable when this returns.
    pub fn record(
        &mut self,
        now: Timestamp,
        source: &CaptureSource,
        captures: Vec<(Timestamp, alpr_protocol::Capture)>,
    ) -> Result<Recorded, AccessError> {
        let actor = source.actor();
        let object = format!("record reads from {actor}");
        if captures.len() > crate::recorder::READ_BATCH_MAX {
            let err = AccessError::Invalid(format!(
                "{} reads in one batch, over the limit of {}",
                captures.len(),
                crate::recorder::READ_BATCH_MAX
            ));
            return self.refuse(now, &actor, Action::Import, object, None, err);
        }
        if let Err(err) = self.disk_has_room() {
            return self.refuse(now, &actor, Action::Import, object, None, err);
        }
        let offered = captures.len() as u64;
        let fresh = fresh_captures(&self.node, captures);
        let already_stored = offered - fresh.len() as u64;
        if fresh.is_empty() {
            return Ok(Recorded {
                ids: Vec::new(),
                already_stored,
                alerts: 0,
            });
        }
        let candidates: Vec<Vec<String>> =
            fresh.iter().map(|(_, c)| c.candidates.clone()).collect();
        let stale = self.lists_stale(now);
        let Engine {
            recorder,
            node,
            rng,
            matcher,
            ..
        } = self;
        let result = recorder.record_reads_raising(node, fresh, rng, |sealed| {
            Engine::raise_for(matcher, &node.store, stale, now, sealed, &candidates)
        });
        match result {
            Ok((stored, alerts)) => {
                self.publish_reads(&stored);
                self.publish_alerts(&alerts);
                let ids: Vec<RecordId> = stored
                    .iter()
                    .map(|r| RecordId {
                        origin: r.read().origin,
                        seq: r.read().seq,
                    })
                    .collect();
                let object = format!(
                    "{object}: {} reads{}",
                    ids.len(),
                    match (ids.first(), ids.last()) {
                        (Some(a), Some(b)) => format!(", seqs {}..={}", a.seq, b.seq),
                        _ => String::new(),
                    }
                );
                self.audit(
                    now,
                    &actor,
                    Action::Import,
                    object,
                    None,
                    Outcome::Success,
                    &[],
                )?;
                Ok(Recorded {
                    ids,
                    already_stored,
                    alerts: alerts.len() as u64,
                })
            }
            Err(e) => {
                let outcome = Outcome::Failed(e.to_string());
                self.audit(now, &actor, Action::Import, object, None, outcome, &[])?;
                Err(record_error(e))
            }
        }
    }
}

/// A real hash to verify against for unknown user names, so a login costs
/// the same whether or not the name exists.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        password::hash(
            "no such user",
            password::PasswordCost::Standard,
            &mut StdRng::seed_from_u64(0),
        )
    })
}
