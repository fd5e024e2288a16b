//! Login limits and retention periods (Administrators), on one screen.
//! Retention starts from the node's status; the node does not report its
//! login limits, so their fields start empty and an empty one keeps the
//! node's value. The bounds (CJIS, policy) are the node's to enforce: it
//! refuses a value outside them and the screen shows its words.

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
    pub focus: LimitsField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl LimitsView {
    fn fill_retention(&mut self, days: [u32; 5]) {
        self.current = Some(days);
        self.retention = days.map(|d| TextField::new(&d.to_string()));
    }

    /// `SetLimits` from the three fields, or what is wrong and where.
    pub fn limits(&self, token: Token) -> Result<ControlRequest, (LimitsField, String)> {
        let failures_max =
            number(&self.failures, "failed logins").map_err(|e| (LimitsField::Failures, e))?;
        let lockout_minutes = number(&self.lockout_minutes, "lockout minutes")
            .map_err(|e| (LimitsField::Lockout, e))?;
        let idle_lock_minutes =
            number(&self.idle_minutes, "idle minutes").map_err(|e| (LimitsField::Idle, e))?;
        if (failures_max, lockout_minutes, idle_lock_minutes) == (None, None, None) {
            return Err((
                LimitsField::Failures,
                "type at least one limit: an empty one keeps the node's value".into(),
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
            self.limits.fill_retention(d.retention);
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
                    self.limits.fill_retention(d.retention);
                }
            }
            (Asked::SetLimits, ControlResponse::Done) => {
                v.failures.clear();
                v.lockout_minutes.clear();
                v.idle_minutes.clear();
                self.notice = Some("login limits set".into());
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
