//! The console's model and its update: pure, no terminal, no socket, no
//! clock (times arrive in messages), so every screen state is a value a
//! test can build and snapshot.

use alpr_protocol::{NodeId, Timestamp};
use std::collections::VecDeque;

use alpr_protocol::control::{
    CONTROL_VERSION, CameraWire, ControlRequest, ControlResponse, ErrorKind, EventWire,
    PurposeKindWire, PurposeWire, ReadSummary, RoleWire, Token,
};
use alpr_protocol::enrollment::Role;
use alpr_protocol::hotlist::Priority;
use zeroize::Zeroizing;

mod admin;
mod alert;
mod audit;
mod audit_wizard;
mod form;
mod holds;
mod hotlists;
mod limits;
mod peers;
mod requests;
mod search;
mod users;

pub use admin::{ADMIN_ITEMS, AdminItem, AdminMenu};
pub use alert::DispositionForm;
pub use audit::{AUDIT_LIMIT, AuditField, AuditView, OutcomeFilter, Verification};
pub use audit_wizard::{
    MarkField, Marking, SAMPLE_SIZE_DEFAULT, SampleField, SampleForm, WizardView,
};
pub use form::{FIELD_CHARS_MAX, SecretField, TextField};
pub use holds::{ExportField, ExportForm, Exported, HoldField, HoldForm, HoldsView, record_ids};
pub use hotlists::{EntryField, EntryForm, HotlistsView, PRIORITIES};
pub use limits::{LimitsField, LimitsView, RETENTION_NAMES};
pub use peers::PeersView;
pub use requests::{
    DECISIONS, DecisionField, DecisionForm, ReleaseField, ReleaseForm, RequestField, RequestForm,
    RequestsView,
};
pub use search::{PURPOSES, ReadDetail, Results, SEARCH_LIMIT, SearchField, SearchForm};
pub use users::{
    EditField, EditKind, ROLES, UserConfirm, UserEditForm, UserField, UserForm, UsersView,
};

/// A key as the console understands it (the driver maps terminal events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Tab,
    BackTab,
    Backspace,
    Esc,
    Up,
    Down,
    Left,
    Right,
    /// Ctrl-C: leave from anywhere.
    Interrupt,
}

/// What an answer from the node answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Login,
    Status,
    Logout,
    Search,
    ViewRead,
    /// A read's overview frame, after the read itself.
    Overview,
    ShowAlert,
    Dispose,
    AuditLog,
    Verify,
    Hotlists,
    AddEntry,
    RemoveEntry,
    EditEntry,
    Users,
    AddUser,
    EditUser,
    UnlockUser,
    /// The node's status, asked for the retention form's current values.
    Retention,
    SetLimits,
    SetRetention,
    Holds,
    PlaceHold,
    ReleaseHold,
    Export,
    Requests,
    RegisterRequest,
    DecideRequest,
    Release,
    Audits,
    AuditSample,
    AuditMark,
    AuditSign,
    Peers,
    Releases,
}

/// Something that happened: a key, or the node's answer to a request.
// One message per key press or answer: their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    /// The node answered (or the connection failed, as text).
    Answer(Asked, Result<ControlResponse, String>),
    /// The live view opened (or was refused, as the node said).
    LiveOpened(Result<(), String>),
    /// Events of the live view, and how many the console missed.
    Live(Vec<EventWire>, u64),
    /// The live view ended (the node closed it, or the session ended).
    LiveEnded(String),
    /// A random seed the driver drew from the operating system for an
    /// audit sample (after [`Effect::DrawSeed`]), or why it could not.
    Seed(Result<u64, String>),
    /// The time, after any keys that came with it: the idle lock counts
    /// from the first tick after the last key.
    Tick(Timestamp),
    /// How far a long request ([`Effect::SendLong`]) is: the phase, done,
    /// and how many in all where known.
    Progress(Asked, String, u64, Option<u64>),
}

/// What the driver must do after an update.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Asked, ControlRequest),
    /// A long request (a verify), on a connection of its own so keys are
    /// still read: its progress comes as [`Msg::Progress`], its answer as
    /// [`Msg::Answer`].
    SendLong(Asked, ControlRequest),
    /// Stop the long request: its connection closes, and the node stops it
    /// at its next progress frame (and documents that it was cancelled).
    Cancel,
    /// Open the live view on its own connection, with this purpose.
    Subscribe(Token, PurposeWire),
    /// Close it (the node audits how long it was open and what it showed).
    Unsubscribe,
    /// Ring the terminal's bell: an alert arrived.
    Bell,
    /// Draw a random seed and answer with [`Msg::Seed`]: the model never
    /// draws randomness itself, so a test can give it a fixed one.
    DrawSeed,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    User,
    Password,
}

/// The login form. The password is wiped from memory when dropped.
#[derive(Debug, Clone, Default)]
pub struct LoginForm {
    pub user: String,
    pub password: Zeroizing<String>,
    pub focus: Field,
    /// Why the last attempt was refused, as the node said it.
    pub refusal: Option<String>,
    pub waiting: bool,
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: Token,
    pub user: String,
    pub role: RoleWire,
}

/// What the dashboard shows: the node's `Status` answer, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub node_name: String,
    pub node_role: Role,
    pub valid_until: Timestamp,
    pub reads: u64,
    pub cameras: Vec<CameraWire>,
    /// Peer name (or id), last meeting in sync.
    pub peers: Vec<(String, Timestamp)>,
    /// List, version, published.
    pub hotlists: Vec<(String, u64, Timestamp)>,
    pub lists_age_ms: Option<i64>,
    pub lists_stale: bool,
    pub alerts_pending: u64,
    /// Every node this node holds a certificate of: a read typed as
    /// ORIGIN/SEQ may name its origin by a prefix of one of these.
    pub nodes: Vec<NodeId>,
    /// Reads, plate images, overview images, audit, alerts (days).
    pub retention: [u32; 5],
    pub standing_holds: u64,
    pub next_purge: Option<Timestamp>,
    pub audit_overdue: Option<String>,
    pub disk_free: Option<u64>,
    pub database_bytes: Option<u64>,
    /// Failed logins that lock an account, the lockout's minutes, and the
    /// idle minutes after which a session (and this console) locks.
    pub limits: [u32; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Dashboard,
    /// The purpose asked before the live view opens (policy: every access).
    LivePurpose,
    Live,
    /// The search form: the query and the purpose, asked before it runs.
    Search,
    /// What a search found.
    Results,
    /// One read: its facts, its plate crop and its overview frame.
    Read,
    /// One alert and the form that disposes of it.
    Disposition,
    /// The access log with its filters, and the node's verification.
    Audit,
    /// Bulk lists held and the fleet's local entries.
    Hotlists,
    /// The administration menu.
    Admin,
    /// Users, roles and training.
    Users,
    /// Login limits and retention periods.
    Limits,
    /// Evidence holds and the export of a case.
    Holds,
    /// Outside requests, their decisions, and releases to other agencies.
    Requests,
    /// The quarterly audit: reports, drawing a sample, marking, signing.
    AuditWizard,
    /// Peers and sync: meetings, pending each way, addresses, revoked nodes.
    Peers,
}

/// An alert as the live view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveAlert {
    pub origin: NodeId,
    pub seq: u64,
    /// Short form of origin/seq, as the node names it.
    pub id: String,
    pub plate: String,
    pub list: String,
    pub entry: String,
    pub priority: Priority,
    pub kind: String,
    pub stale: bool,
    /// The disposition, once one came.
    pub disposed: Option<String>,
}

/// Reads the live view keeps on screen (newest first).
pub const LIVE_READS_MAX: usize = 200;
/// Alerts it keeps.
pub const LIVE_ALERTS_MAX: usize = 100;

/// The live view: reads as they arrive, alerts on top by priority.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveView {
    pub reads: VecDeque<ReadSummary>,
    pub alerts: Vec<LiveAlert>,
    pub missed: u64,
    /// The bell is off for normal and low priority (never for high).
    pub muted: bool,
    pub open: bool,
    /// The alert the cursor is on (Enter opens its disposition form).
    pub selected: usize,
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct App {
    /// What the console is attached to (the data directory), for the title.
    pub attached: String,
    pub screen: Screen,
    pub login: LoginForm,
    pub session: Option<Session>,
    pub dashboard: Option<Dashboard>,
    /// A line for the user: a failure, a lock, a logout.
    pub notice: Option<String>,
    /// The reason typed for the live view.
    pub purpose: String,
    pub live: LiveView,
    pub search: SearchForm,
    pub results: Option<Results>,
    pub read: Option<ReadDetail>,
    pub disposition: Option<DispositionForm>,
    pub audit: AuditView,
    pub hotlists: HotlistsView,
    pub admin: AdminMenu,
    pub users: UsersView,
    pub limits: LimitsView,
    pub holds: HoldsView,
    pub requests: RequestsView,
    pub wizard: WizardView,
    pub peers: PeersView,
    /// A key came since the last tick.
    pub key_seen: bool,
    /// The first tick after the last key: the console locks once the
    /// node's idle limit has passed since.
    pub idle_since: Option<Timestamp>,
}

impl App {
    pub fn new(attached: &str) -> App {
        App {
            attached: attached.to_string(),
            screen: Screen::Login,
            login: LoginForm::default(),
            session: None,
            dashboard: None,
            notice: None,
            purpose: String::new(),
            live: LiveView::default(),
            search: SearchForm::default(),
            results: None,
            read: None,
            disposition: None,
            audit: AuditView::default(),
            hotlists: HotlistsView::default(),
            admin: AdminMenu::default(),
            users: UsersView::default(),
            limits: LimitsView::default(),
            holds: HoldsView::default(),
            requests: RequestsView::default(),
            wizard: WizardView::default(),
            peers: PeersView::default(),
            key_seen: false,
            idle_since: None,
        }
    }

    /// The session's token, once logged in.
    pub(super) fn token(&self) -> Option<Token> {
        self.session.as_ref().map(|s| s.token)
    }

    /// Sends the session's request (nothing when logged out): how each
    /// screen asks for its list.
    pub(super) fn ask(
        &self,
        asked: Asked,
        request: impl FnOnce(Token) -> ControlRequest,
    ) -> Vec<Effect> {
        match self.token() {
            Some(token) => vec![Effect::Send(asked, request(token))],
            None => Vec::new(),
        }
    }

    /// An answer that does not answer what was asked: said, not acted on.
    pub(super) fn unexpected(&mut self, r: &ControlResponse) {
        self.notice = Some(format!("unexpected answer from the node: {}", kind_of(r)));
    }

    /// One message in, the effects out.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(Key::Interrupt) => self.leave(),
            Msg::Tick(now) => self.tick(now),
            Msg::Progress(asked, what, done, total) => {
                match asked {
                    Asked::Verify if self.audit.verifying => {
                        self.audit.progress = Some((what, done, total));
                    }
                    Asked::Export => {
                        if let Some(f) = self.holds.exporting.as_mut().filter(|f| f.waiting) {
                            f.progress = Some((done, total));
                        }
                    }
                    _ => {}
                }
                Vec::new()
            }
            Msg::Key(key) => {
                self.key_seen = true;
                self.key(key)
            }
            Msg::Answer(asked, answer) => self.answer(asked, answer),
            Msg::LiveOpened(Ok(())) => {
                self.live = LiveView {
                    open: true,
                    ..LiveView::default()
                };
                self.screen = Screen::Live;
                Vec::new()
            }
            Msg::LiveOpened(Err(e)) => {
                self.screen = Screen::Dashboard;
                self.notice = Some(format!("live view refused: {e}"));
                Vec::new()
            }
            Msg::Live(events, missed) => self.live_events(events, missed),
            Msg::LiveEnded(why) => {
                // Said only when the node ended it: a view the user left
                // ends with its connection, and that is no news.
                if self.live.open {
                    self.notice = Some(format!("live view closed: {why}"));
                }
                self.live.open = false;
                Vec::new()
            }
            Msg::Seed(seed) => self.seeded(seed),
        }
    }

    /// A key, to the screen shown.
    fn key(&mut self, key: Key) -> Vec<Effect> {
        match self.screen {
            Screen::Login => self.login_key(key),
            Screen::Dashboard => self.dashboard_key(key),
            Screen::LivePurpose => self.purpose_key(key),
            Screen::Live => self.live_key(key),
            Screen::Search => self.search_key(key),
            Screen::Results => self.results_key(key),
            Screen::Read => self.read_key(key),
            Screen::Disposition => self.disposition_key(key),
            Screen::Audit => self.audit_key(key),
            Screen::Hotlists => self.hotlists_key(key),
            Screen::Admin => self.admin_key(key),
            Screen::Users => self.users_key(key),
            Screen::Limits => self.limits_key(key),
            Screen::Holds => self.holds_key(key),
            Screen::Requests => self.requests_key(key),
            Screen::AuditWizard => self.wizard_key(key),
            Screen::Peers => self.peers_key(key),
        }
    }

    /// A long request (a verify, an export) still running: cancelled
    /// before the session goes, so its answer never reaches the next user.
    fn cancel_long(&self) -> Option<Effect> {
        let exporting = self.holds.exporting.as_ref().is_some_and(|f| f.waiting);
        (self.audit.verifying || exporting).then_some(Effect::Cancel)
    }

    /// The idle lock: the node's limit without a key since the first tick
    /// after the last one logs out and goes back to login, as the node
    /// locks the session itself.
    fn tick(&mut self, now: Timestamp) -> Vec<Effect> {
        if self.session.is_none() {
            self.idle_since = None;
            self.key_seen = false;
            return Vec::new();
        }
        let key_seen = std::mem::take(&mut self.key_seen);
        let since = match self.idle_since {
            Some(t) if !key_seen => t,
            _ => {
                self.idle_since = Some(now);
                return Vec::new();
            }
        };
        let Some(minutes) = self.dashboard.as_ref().map(|d| d.limits[2]) else {
            return Vec::new();
        };
        if now.0.saturating_sub(since.0) < i64::from(minutes) * 60_000 {
            return Vec::new();
        }
        let mut effects: Vec<Effect> = self.cancel_long().into_iter().collect();
        if self.live.open {
            effects.push(Effect::Unsubscribe);
        }
        if let Some(s) = self.session.take() {
            effects.push(Effect::Send(
                Asked::Logout,
                ControlRequest::Logout { token: s.token },
            ));
        }
        self.back_to_login(Some(format!(
            "locked after {minutes} min without a key: log in again"
        )));
        self.idle_since = None;
        effects
    }

    fn purpose_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Esc => self.screen = Screen::Dashboard,
            Key::Backspace => {
                self.purpose.pop();
            }
            Key::Char(c) if !c.is_control() && self.purpose.chars().count() < FIELD_CHARS_MAX => {
                self.purpose.push(c);
            }
            Key::Enter => {
                if self.purpose.trim().is_empty() {
                    self.notice = Some("say why you watch live reads: the reason is logged".into());
                    return Vec::new();
                }
                let Some(s) = &self.session else {
                    return Vec::new();
                };
                self.notice = None;
                return vec![Effect::Subscribe(
                    s.token,
                    PurposeWire {
                        kind: Some(PurposeKindWire::Alert),
                        reason: Some(self.purpose.trim().to_string()),
                        case: None,
                    },
                )];
            }
            _ => {}
        }
        Vec::new()
    }

    fn live_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Esc | Key::Char('q') => {
                self.screen = Screen::Dashboard;
                self.live.open = false;
                let mut effects = vec![Effect::Unsubscribe];
                effects.extend(self.status());
                effects
            }
            Key::Char('m') => {
                self.live.muted = !self.live.muted;
                Vec::new()
            }
            Key::Up => {
                self.live.selected = self.live.selected.saturating_sub(1);
                Vec::new()
            }
            Key::Down => {
                let last = self.live.alerts.len().saturating_sub(1);
                self.live.selected = (self.live.selected + 1).min(last);
                Vec::new()
            }
            Key::Enter => self.open_alert(),
            _ => Vec::new(),
        }
    }

    fn live_events(&mut self, events: Vec<EventWire>, missed: u64) -> Vec<Effect> {
        let live = &mut self.live;
        live.missed += missed;
        let mut bell = false;
        for event in events {
            match event {
                EventWire::Read(r) => {
                    live.reads.push_front(r);
                    live.reads.truncate(LIVE_READS_MAX);
                }
                EventWire::Alert {
                    alert_origin,
                    alert_seq,
                    disposed,
                    plate,
                    list,
                    entry,
                    priority,
                    kind,
                    stale,
                    ..
                } => {
                    let id = format!("{}/{}", alert_origin.short(), alert_seq);
                    if let Some(outcome) = disposed {
                        if let Some(a) = live.alerts.iter_mut().find(|a| a.id == id) {
                            a.disposed = Some(outcome);
                        }
                        continue;
                    }
                    bell |= priority == Priority::High || !live.muted;
                    live.alerts.push(LiveAlert {
                        origin: alert_origin,
                        seq: alert_seq,
                        id,
                        plate,
                        list,
                        entry,
                        priority,
                        kind,
                        stale,
                        disposed: None,
                    });
                }
                EventWire::Sync { .. } | EventWire::Purge { .. } => {}
            }
        }
        // Pending first, then by priority, newest first within each.
        let rank = |a: &LiveAlert| {
            let p = match a.priority {
                Priority::High => 0,
                Priority::Normal => 1,
                Priority::Low => 2,
            };
            (a.disposed.is_some(), p)
        };
        let mut alerts: Vec<(usize, LiveAlert)> = live.alerts.drain(..).enumerate().collect();
        alerts.sort_by(|(i, a), (j, b)| rank(a).cmp(&rank(b)).then(j.cmp(i)));
        live.alerts = alerts.into_iter().map(|(_, a)| a).collect();
        live.alerts.truncate(LIVE_ALERTS_MAX);
        live.selected = live.selected.min(live.alerts.len().saturating_sub(1));
        if bell { vec![Effect::Bell] } else { Vec::new() }
    }

    /// Leaving logs out first, so the session does not outlive the console.
    fn leave(&mut self) -> Vec<Effect> {
        let mut effects: Vec<Effect> = self.cancel_long().into_iter().collect();
        if let Some(s) = self.session.take() {
            effects.push(Effect::Send(
                Asked::Logout,
                ControlRequest::Logout { token: s.token },
            ));
        }
        effects.push(Effect::Quit);
        effects
    }

    fn login_key(&mut self, key: Key) -> Vec<Effect> {
        if self.login.waiting {
            return Vec::new();
        }
        let form = &mut self.login;
        let field = match form.focus {
            Field::User => &mut form.user,
            Field::Password => &mut *form.password,
        };
        match key {
            Key::Esc => return self.leave(),
            Key::Tab | Key::BackTab | Key::Up | Key::Down => {
                form.focus = match form.focus {
                    Field::User => Field::Password,
                    Field::Password => Field::User,
                };
            }
            Key::Backspace => {
                field.pop();
            }
            Key::Char(c) if !c.is_control() && field.chars().count() < FIELD_CHARS_MAX => {
                field.push(c);
            }
            Key::Enter if form.focus == Field::User => form.focus = Field::Password,
            Key::Enter => {
                if form.user.trim().is_empty() {
                    form.refusal = Some("type your user name".into());
                    form.focus = Field::User;
                    return Vec::new();
                }
                form.waiting = true;
                return vec![Effect::Send(
                    Asked::Login,
                    ControlRequest::Login {
                        version: CONTROL_VERSION,
                        user: form.user.trim().to_string(),
                        password: form.password.to_string(),
                    },
                )];
            }
            _ => {}
        }
        Vec::new()
    }

    fn dashboard_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Char('q') | Key::Esc => self.leave(),
            Key::Char('r') => self.status(),
            Key::Char('v') => {
                self.screen = Screen::LivePurpose;
                Vec::new()
            }
            Key::Char('s') => {
                self.screen = Screen::Search;
                Vec::new()
            }
            Key::Char('a') => self.open_audit(),
            Key::Char('h') => self.open_hotlists(),
            Key::Char('m') => self.open_admin(),
            Key::Char('p') => self.open_peers(),
            Key::Char('l') => {
                let mut effects: Vec<Effect> = self.cancel_long().into_iter().collect();
                if let Some(s) = self.session.take() {
                    effects.push(Effect::Send(
                        Asked::Logout,
                        ControlRequest::Logout { token: s.token },
                    ));
                }
                self.back_to_login(Some("logged out".into()));
                effects
            }
            _ => Vec::new(),
        }
    }

    fn status(&mut self) -> Vec<Effect> {
        match &self.session {
            Some(s) => vec![Effect::Send(
                Asked::Status,
                ControlRequest::Status { token: s.token },
            )],
            None => Vec::new(),
        }
    }

    fn back_to_login(&mut self, notice: Option<String>) {
        self.screen = Screen::Login;
        self.session = None;
        self.dashboard = None;
        // What the user saw leaves with the session: the next user at this
        // terminal starts from nothing.
        self.purpose.clear();
        self.live = LiveView::default();
        self.search = SearchForm::default();
        self.results = None;
        self.read = None;
        self.disposition = None;
        self.audit = AuditView::default();
        self.hotlists = HotlistsView::default();
        self.admin = AdminMenu::default();
        self.users = UsersView::default();
        self.limits = LimitsView::default();
        self.holds = HoldsView::default();
        self.requests = RequestsView::default();
        self.wizard = WizardView::default();
        self.peers = PeersView::default();
        self.login = LoginForm {
            user: std::mem::take(&mut self.login.user),
            ..LoginForm::default()
        };
        self.login.focus = if self.login.user.is_empty() {
            Field::User
        } else {
            Field::Password
        };
        self.notice = notice;
    }

    fn answer(&mut self, asked: Asked, answer: Result<ControlResponse, String>) -> Vec<Effect> {
        // The answer to a long request nothing waits for any more (the
        // session ended, the form closed): dropped, never shown to anyone.
        let waited = match asked {
            Asked::Verify => self.audit.verifying,
            Asked::Export => self.holds.exporting.as_ref().is_some_and(|f| f.waiting),
            _ => true,
        };
        if !waited {
            return Vec::new();
        }
        let response = match answer {
            Ok(r) => r,
            Err(_) if asked == Asked::Verify && self.audit.cancelling => {
                // The console closed the connection itself: that is the cancel.
                self.audit.verifying = false;
                self.audit.cancelling = false;
                self.audit.progress = None;
                self.notice = Some(
                    "verification cancel sent: the node stops at its next progress report; the audit log says whether it had finished".into(),
                );
                return Vec::new();
            }
            Err(_)
                if asked == Asked::Export
                    && self.holds.exporting.as_ref().is_some_and(|f| f.cancelling) =>
            {
                if let Some(f) = &mut self.holds.exporting {
                    f.waiting = false;
                    f.cancelling = false;
                    f.progress = None;
                }
                self.notice = Some(
                    "export cancel sent: the node stops at its next progress report and removes what it wrote; the audit log says whether it had finished"
                        .into(),
                );
                return Vec::new();
            }
            Err(e) => {
                self.audit.verifying = false;
                self.audit.cancelling = false;
                self.audit.progress = None;
                self.login.waiting = false;
                self.search.waiting = false;
                self.stop_waiting();
                self.notice = Some(format!("the node does not answer: {e}"));
                return Vec::new();
            }
        };
        match (asked, response) {
            (Asked::Login, ControlResponse::LoggedIn { token, user, role }) => {
                self.login.waiting = false;
                self.login.password = Zeroizing::new(String::new());
                self.login.refusal = None;
                self.session = Some(Session { token, user, role });
                self.screen = Screen::Dashboard;
                self.notice = None;
                self.status()
            }
            (Asked::Login, ControlResponse::Error { message, .. }) => {
                self.login.waiting = false;
                self.login.password = Zeroizing::new(String::new());
                self.login.focus = Field::Password;
                self.login.refusal = Some(message);
                Vec::new()
            }
            (
                _,
                ControlResponse::Error {
                    kind: ErrorKind::Session,
                    message,
                },
            ) => {
                let mut effects: Vec<Effect> = self.cancel_long().into_iter().collect();
                if self.live.open {
                    effects.push(Effect::Unsubscribe);
                }
                self.back_to_login(Some(format!("{message}: log in again")));
                effects
            }
            (Asked::Status, ControlResponse::Error { message, .. }) => {
                self.notice = Some(message);
                Vec::new()
            }
            (Asked::Status, r @ ControlResponse::Status { .. }) => {
                self.dashboard = dashboard_of(r);
                Vec::new()
            }
            (Asked::Logout, _) => Vec::new(),
            (Asked::Search | Asked::ViewRead | Asked::Overview, r) => self.search_answer(asked, r),
            (Asked::ShowAlert | Asked::Dispose, r) => self.alert_answer(asked, r),
            (Asked::AuditLog | Asked::Verify, r) => self.audit_answer(asked, r),
            (Asked::Hotlists | Asked::AddEntry | Asked::RemoveEntry | Asked::EditEntry, r) => {
                self.hotlists_answer(asked, r)
            }
            (Asked::Users | Asked::AddUser | Asked::EditUser | Asked::UnlockUser, r) => {
                self.users_answer(asked, r)
            }
            (Asked::Retention | Asked::SetLimits | Asked::SetRetention, r) => {
                self.limits_answer(asked, r)
            }
            (Asked::Holds | Asked::PlaceHold | Asked::ReleaseHold | Asked::Export, r) => {
                self.holds_answer(asked, r)
            }
            (
                Asked::Requests
                | Asked::RegisterRequest
                | Asked::DecideRequest
                | Asked::Release
                | Asked::Releases,
                r,
            ) => self.requests_answer(asked, r),
            (Asked::Audits | Asked::AuditSample | Asked::AuditMark | Asked::AuditSign, r) => {
                self.wizard_answer(asked, r)
            }
            (Asked::Peers, r) => self.peers_answer(r),
            (_, other) => {
                self.notice = Some(format!(
                    "unexpected answer from the node: {}",
                    kind_of(&other)
                ));
                Vec::new()
            }
        }
    }
}

pub(crate) fn kind_of(r: &ControlResponse) -> &'static str {
    match r {
        ControlResponse::LoggedIn { .. } => "logged in",
        ControlResponse::Status { .. } => "status",
        ControlResponse::Error { .. } => "error",
        _ => "another answer",
    }
}

fn dashboard_of(r: ControlResponse) -> Option<Dashboard> {
    let ControlResponse::Status {
        reads_days,
        plate_images_days,
        overview_images_days,
        audit_days,
        alerts_days,
        standing_holds,
        audit_overdue,
        valid_until,
        node_name,
        node_id: _,
        node_role,
        reads,
        meetings,
        hotlists,
        disk_free,
        alerts_pending,
        lists_age_ms,
        lists_stale,
        database_bytes,
        next_purge,
        cameras,
        nodes,
        failures_max,
        lockout_minutes,
        idle_lock_minutes,
        ..
    } = r
    else {
        return None;
    };
    Some(Dashboard {
        node_name,
        node_role,
        valid_until,
        reads,
        cameras,
        peers: meetings
            .into_iter()
            .map(|(id, name, t)| (name.unwrap_or_else(|| id.short()), t))
            .collect(),
        hotlists,
        lists_age_ms,
        lists_stale,
        alerts_pending,
        nodes,
        retention: [
            reads_days,
            plate_images_days,
            overview_images_days,
            audit_days,
            alerts_days,
        ],
        standing_holds,
        next_purge,
        audit_overdue,
        disk_free,
        database_bytes,
        limits: [failures_max, lockout_minutes, idle_lock_minutes],
    })
}
