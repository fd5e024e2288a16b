//! Login limits and retention periods (Administrators), on one screen.
//! Both start from the node's status; a limit left as the node reported
//! it (or emptied) is not sent, so the node's value stays. The bounds
//! (CJIS, policy) are the node's to enforce: it refuses a value outside
//! them and the screen shows its words.

use alpr_protocol::control::{ControlRequest, ControlResponse, Token};

use super::form::{number, step};
use super::{App, Asked, Effect, Key, Screen, TextField, dashboard_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitsField {
    #[default]
    Failures,
    Lockout,
    Idle,
    /// One of the retention periods, by index into [`RETENTION_NAMES`].
    Retention(usize),
}

const FIELDS: [LimitsField; 8] = [
    LimitsField::Failures,
    LimitsField::Lockout,
    LimitsField::Idle,
    LimitsField::Retention(0),
    LimitsField::Retention(1),
    LimitsField::Retention(2),
    LimitsField::Retention(3),
    LimitsField::Retention(4),
];

/// What each retention period keeps, in the order of `SetRetention`.
pub const RETENTION_NAMES: [&str; 5] = [
    "reads",
    "plate images",
    "overview images",
    "audit events",
    "alerts",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitsView {
    /// Consecutive failed logins that lock an account.
    pub failures: TextField,
    pub lockout_minutes: TextField,
    pub idle_minutes: TextField,
    /// Days, in the order of [`RETENTION_NAMES`].
    pub retention: [TextField; 5],
    /// The retention the node last reported.
    pub current: Option<[u32; 5]>,
    /// The login limits it last reported (failures, lockout, idle).
    pub current_limits: Option<[u32; 3]>,
    pub focus: LimitsField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl LimitsView {
    /// Fills both parts from what the node last reported.
    fn fill(&mut self, days: [u32; 5], limits: [u32; 3]) {
        self.current = Some(days);
        self.retention = days.map(|d| TextField::new(&d.to_string()));
        self.current_limits = Some(limits);
        let [f, l, i] = limits.map(|n| TextField::new(&n.to_string()));
        (self.failures, self.lockout_minutes, self.idle_minutes) = (f, l, i);
    }

    /// `SetLimits` from the three fields, or what is wrong and where.
    pub fn limits(&self, token: Token) -> Result<ControlRequest, (LimitsField, String)> {
        let failures_max =
            number(&self.failures, "failed logins").map_err(|e| (LimitsField::Failures, e))?;
        let lockout_minutes = number(&self.lockout_minutes, "lockout minutes")
            .map_err(|e| (LimitsField::Lockout, e))?;
        let idle_lock_minutes =
            number(&self.idle_minutes, "idle minutes").map_err(|e| (LimitsField::Idle, e))?;
        // A limit as the node reported it is not a change: not sent.
        let changed = |typed: Option<u32>, i: usize| {
            typed.filter(|n| self.current_limits.is_none_or(|c| c[i] != *n))
        };
        let (failures_max, lockout_minutes, idle_lock_minutes) = (
            changed(failures_max, 0),
            changed(lockout_minutes, 1),
            changed(idle_lock_minutes, 2),
        );
        if (failures_max, lockout_minutes, idle_lock_minutes) == (None, None, None) {
            return Err((
                LimitsField::Failures,
                "no limit changed: type a new value over the node's".into(),
            ));
        }
        Ok(ControlRequest::SetLimits {
            token,
            failures_max,
            lockout_minutes,
            idle_lock_minutes,
        })
    }

    /// `SetRetention` from the five fields (each needed), or what is wrong.
    pub fn retention(&self, token: Token) -> Result<ControlRequest, (LimitsField, String)> {
        let mut days = [0u32; 5];
        for (i, field) in self.retention.iter().enumerate() {
            let name = RETENTION_NAMES[i];
            days[i] = number(field, name)
                .and_then(|d| d.ok_or(format!("{name}: type the days to keep {name}")))
                .map_err(|e| (LimitsField::Retention(i), e))?;
        }
        Ok(ControlRequest::SetRetention {
            token,
            reads_days: days[0],
            plate_images_days: days[1],
            overview_images_days: days[2],
            audit_days: days[3],
            alerts_days: days[4],
        })
    }

    fn field(&mut self) -> &mut TextField {
        match self.focus {
            LimitsField::Failures => &mut self.failures,
            LimitsField::Lockout => &mut self.lockout_minutes,
            LimitsField::Idle => &mut self.idle_minutes,
            LimitsField::Retention(i) => &mut self.retention[i % 5],
        }
    }
}

impl App {
    pub(super) fn open_limits(&mut self) -> Vec<Effect> {
        self.screen = Screen::Limits;
        self.limits = LimitsView::default();
        if let Some(d) = &self.dashboard {
            self.limits.fill(d.retention, d.limits);
        }
        self.ask_retention()
    }

    fn ask_retention(&mut self) -> Vec<Effect> {
        self.ask(Asked::Retention, |token| ControlRequest::Status { token })
    }

    pub(super) fn limits_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        let v = &mut self.limits;
        if v.waiting {
            return Vec::new();
        }
        match key {
            Key::Esc => self.screen = Screen::Admin,
            Key::Tab | Key::Down => v.focus = step(&FIELDS, v.focus, 1),
            Key::BackTab | Key::Up => v.focus = step(&FIELDS, v.focus, -1),
            Key::Enter => {
                // Enter sends the part of the screen the cursor is in.
                let (asked, request) = match v.focus {
                    LimitsField::Retention(_) => (Asked::SetRetention, v.retention(token)),
                    _ => (Asked::SetLimits, v.limits(token)),
                };
                match request {
                    Ok(r) => {
                        v.refusal = None;
                        v.waiting = true;
                        return vec![Effect::Send(asked, r)];
                    }
                    Err((field, e)) => {
                        v.focus = field;
                        v.refusal = Some(e);
                    }
                }
            }
            key => {
                if v.field().edit(key) {
                    v.refusal = None;
                }
            }
        }
        Vec::new()
    }

    pub(super) fn limits_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.limits;
        v.waiting = false;
        match (asked, r) {
            (Asked::Retention, r @ ControlResponse::Status { .. }) => {
                self.dashboard = dashboard_of(r);
                if let Some(d) = &self.dashboard {
                    self.limits.fill(d.retention, d.limits);
                }
            }
            (Asked::SetLimits, ControlResponse::Done) => {
                self.notice = Some("login limits set".into());
                return self.ask_retention();
            }
            (Asked::SetRetention, ControlResponse::Done) => {
                self.notice = Some("retention set".into());
                return self.ask_retention();
            }
            (_, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
            (_, other) => self.unexpected(&other),
        }
        Vec::new()
    }
}
