//! The audit screen: the access log with filters (user, action, text,
//! case, a time range, outcome), and the node's verification of every
//! record and chain. Auditors and Administrators only: the node refuses
//! the others, and the screen shows its refusal.

use alpr_protocol::control::{AuditEventWire, AuditFilterWire, ControlRequest, ControlResponse};
use alpr_protocol::record::{ACTIONS, Action};

use super::search::parse_time;
use super::{App, Asked, Effect, Key, Screen, TextField, kind_of};

/// Most events one query shows (the node caps it again).
pub const AUDIT_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditField {
    #[default]
    User,
    Action,
    Contains,
    Case,
    From,
    To,
    Outcome,
    /// The table of events (Up and Down scroll it).
    Events,
}

const FIELDS: [AuditField; 8] = [
    AuditField::User,
    AuditField::Action,
    AuditField::Contains,
    AuditField::Case,
    AuditField::From,
    AuditField::To,
    AuditField::Outcome,
    AuditField::Events,
];

/// Which outcomes the table shows (the node's filter has none: the console
/// narrows what it got).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutcomeFilter {
    #[default]
    Any,
    Success,
    NotSuccess,
}

impl OutcomeFilter {
    pub fn name(self) -> &'static str {
        match self {
            OutcomeFilter::Any => "any",
            OutcomeFilter::Success => "success",
            OutcomeFilter::NotSuccess => "refused or failed",
        }
    }

    fn next(self) -> OutcomeFilter {
        match self {
            OutcomeFilter::Any => OutcomeFilter::Success,
            OutcomeFilter::Success => OutcomeFilter::NotSuccess,
            OutcomeFilter::NotSuccess => OutcomeFilter::Any,
        }
    }

    pub fn keeps(self, e: &AuditEventWire) -> bool {
        let ok = e.outcome == alpr_protocol::record::Outcome::Success;
        match self {
            OutcomeFilter::Any => true,
            OutcomeFilter::Success => ok,
            OutcomeFilter::NotSuccess => !ok,
        }
    }
}

/// What the node's verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub reads: u64,
    pub images: u64,
    pub audit_events: u64,
    pub failures: Vec<String>,
    /// Stopped before the end: only part was checked.
    pub cancelled: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditView {
    pub user: TextField,
    /// Index into [`ACTIONS`], or None for any.
    pub action: Option<usize>,
    pub contains: TextField,
    pub case: TextField,
    pub from: TextField,
    pub to: TextField,
    pub outcome: OutcomeFilter,
    pub focus: AuditField,
    pub events: Vec<AuditEventWire>,
    /// Matching events at the node, and stored events that did not verify.
    pub total: u64,
    pub damaged: u64,
    /// The first row shown.
    pub scroll: usize,
    pub asked: bool,
    pub refusal: Option<String>,
    pub verification: Option<Verification>,
    pub verifying: bool,
    /// How far the running verification is (phase, done, of how many).
    pub progress: Option<(String, u64, Option<u64>)>,
    /// Esc was pressed while verifying: the node is told by the connection closing.
    pub cancelling: bool,
}

impl AuditView {
    pub fn action(&self) -> Option<Action> {
        self.action.map(|i| ACTIONS[i % ACTIONS.len()])
    }

    /// The events the table shows: the node's answer, narrowed by outcome.
    pub fn shown(&self) -> impl Iterator<Item = &AuditEventWire> {
        self.events.iter().filter(|e| self.outcome.keeps(e))
    }

    fn filter(&self) -> Result<AuditFilterWire, String> {
        Ok(AuditFilterWire {
            user: self.user.value().map(str::to_string),
            action: self.action(),
            contains: self.contains.value().map(str::to_string),
            case: self.case.value().map(str::to_string),
            from: parse_time(self.from.value(), false).map_err(|e| format!("from: {e}"))?,
            to: parse_time(self.to.value(), true).map_err(|e| format!("to: {e}"))?,
        })
    }

    fn move_focus(&mut self, by: isize) {
        let at = FIELDS.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        self.focus = FIELDS[(at + by).rem_euclid(FIELDS.len() as isize) as usize];
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            AuditField::User => Some(&mut self.user),
            AuditField::Contains => Some(&mut self.contains),
            AuditField::Case => Some(&mut self.case),
            AuditField::From => Some(&mut self.from),
            AuditField::To => Some(&mut self.to),
            AuditField::Action | AuditField::Outcome | AuditField::Events => None,
        }
    }
}

impl App {
    /// Opens the audit screen and asks for the newest events.
    pub(super) fn open_audit(&mut self) -> Vec<Effect> {
        self.screen = Screen::Audit;
        self.query_audit()
    }

    fn query_audit(&mut self) -> Vec<Effect> {
        let Some(token) = self.session.as_ref().map(|s| s.token) else {
            return Vec::new();
        };
        match self.audit.filter() {
            Ok(filter) => {
                self.audit.refusal = None;
                self.audit.asked = true;
                vec![Effect::Send(
                    Asked::AuditLog,
                    ControlRequest::AuditLog {
                        token,
                        filter,
                        limit: AUDIT_LIMIT,
                    },
                )]
            }
            Err(e) => {
                self.audit.refusal = Some(e);
                Vec::new()
            }
        }
    }

    pub(super) fn audit_key(&mut self, key: Key) -> Vec<Effect> {
        let v = &mut self.audit;
        // While the node verifies, Esc cancels it and nothing else is taken.
        if v.verifying {
            if key == Key::Esc && !v.cancelling {
                v.cancelling = true;
                return vec![Effect::Cancel];
            }
            return Vec::new();
        }
        match key {
            Key::Esc => self.screen = Screen::Dashboard,
            Key::Tab => v.move_focus(1),
            Key::BackTab => v.move_focus(-1),
            Key::Enter => return self.query_audit(),
            Key::Up if v.focus == AuditField::Events => v.scroll = v.scroll.saturating_sub(1),
            Key::Down if v.focus == AuditField::Events => {
                let n = v.shown().count();
                v.scroll = (v.scroll + 1).min(n.saturating_sub(1));
            }
            Key::Up => v.move_focus(-1),
            Key::Down => v.move_focus(1),
            Key::Char('V') if v.focus == AuditField::Events => {
                let Some(token) = self.session.as_ref().map(|s| s.token) else {
                    return Vec::new();
                };
                v.verifying = true;
                v.cancelling = false;
                v.progress = None;
                v.verification = None;
                return vec![Effect::SendLong(
                    Asked::Verify,
                    ControlRequest::Verify { token },
                )];
            }
            Key::Char('Q') if v.focus == AuditField::Events => return self.open_wizard(true),
            Key::Left | Key::Right | Key::Char(' ') if v.focus == AuditField::Action => {
                let n = ACTIONS.len();
                // None, then each action, around.
                v.action = match (v.action, key) {
                    (None, Key::Left) => Some(n - 1),
                    (None, _) => Some(0),
                    (Some(0), Key::Left) => None,
                    (Some(i), Key::Left) => Some(i - 1),
                    (Some(i), _) if i + 1 >= n => None,
                    (Some(i), _) => Some(i + 1),
                };
            }
            Key::Left | Key::Right | Key::Char(' ') if v.focus == AuditField::Outcome => {
                v.outcome = v.outcome.next();
                v.scroll = 0;
            }
            key => {
                if let Some(f) = v.field() {
                    f.edit(key);
                }
            }
        }
        Vec::new()
    }

    pub(super) fn audit_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.audit;
        match (asked, r) {
            (
                Asked::AuditLog,
                ControlResponse::AuditLog {
                    events,
                    total,
                    damaged,
                },
            ) => {
                v.events = events;
                v.total = total;
                v.damaged = damaged;
                v.scroll = 0;
                v.refusal = None;
            }
            (
                Asked::Verify,
                ControlResponse::Verified {
                    reads,
                    images,
                    audit_events,
                    failures,
                    cancelled,
                },
            ) => {
                v.verifying = false;
                v.cancelling = false;
                v.progress = None;
                v.verification = Some(Verification {
                    reads,
                    images,
                    audit_events,
                    failures,
                    cancelled,
                });
            }
            (_, ControlResponse::Error { message, .. }) => {
                v.verifying = false;
                v.cancelling = false;
                v.progress = None;
                v.refusal = Some(message);
            }
            (_, other) => {
                v.verifying = false;
                v.cancelling = false;
                v.progress = None;
                self.notice = Some(format!(
                    "unexpected answer from the node: {}",
                    kind_of(&other)
                ));
            }
        }
        Vec::new()
    }
}
