//! An alert's disposition form: the alert as the node holds it (the plate
//! crop, the entry and its vehicle), the outcome and a reason. The node
//! decides whether the disposition stands (a dismissal needs a reason).

use alpr_protocol::alert::{OUTCOMES, Outcome};
use alpr_protocol::control::{
    AlertWire, ControlRequest, ControlResponse, PurposeKindWire, PurposeWire,
};

use super::{App, Asked, Effect, Key, Screen, TextField, kind_of};

/// The form for one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct DispositionForm {
    pub alert: AlertWire,
    /// The read's plate crop (empty when none is held).
    pub crop: Vec<u8>,
    /// The node's lists are stale now.
    pub stale: bool,
    /// Index into [`OUTCOMES`].
    pub outcome: usize,
    pub reason: TextField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl DispositionForm {
    pub fn outcome(&self) -> Outcome {
        OUTCOMES[self.outcome % OUTCOMES.len()]
    }

    /// The last disposition, when the alert is already closed.
    pub fn closed(&self) -> Option<Outcome> {
        self.alert.dispositions.last().map(|d| d.body.outcome)
    }
}

impl App {
    /// The purpose an alert is opened with: the live view's own.
    fn alert_purpose(&self) -> PurposeWire {
        PurposeWire {
            kind: Some(PurposeKindWire::Alert),
            reason: Some(self.purpose.trim().to_string()),
            case: None,
        }
    }

    pub(super) fn open_alert(&mut self) -> Vec<Effect> {
        let (Some(token), Some(a)) = (
            self.session.as_ref().map(|s| s.token),
            self.live.alerts.get(self.live.selected),
        ) else {
            return Vec::new();
        };
        vec![Effect::Send(
            Asked::ShowAlert,
            ControlRequest::ShowAlert {
                token,
                purpose: self.alert_purpose(),
                origin: a.origin,
                seq: a.seq,
            },
        )]
    }

    pub(super) fn disposition_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(form) = &mut self.disposition else {
            self.screen = Screen::Live;
            return Vec::new();
        };
        if form.waiting {
            return Vec::new();
        }
        let n = OUTCOMES.len();
        match key {
            Key::Esc => {
                self.disposition = None;
                self.screen = Screen::Live;
            }
            Key::Left | Key::Up => form.outcome = (form.outcome + n - 1) % n,
            Key::Right | Key::Down | Key::Tab => form.outcome = (form.outcome + 1) % n,
            Key::Enter => {
                let Some(token) = self.session.as_ref().map(|s| s.token) else {
                    return Vec::new();
                };
                form.waiting = true;
                form.refusal = None;
                return vec![Effect::Send(
                    Asked::Dispose,
                    ControlRequest::DisposeAlert {
                        token,
                        origin: form.alert.origin,
                        seq: form.alert.seq,
                        outcome: form.outcome(),
                        reason: form.reason.as_str().trim().to_string(),
                    },
                )];
            }
            key => {
                form.reason.edit(key);
            }
        }
        Vec::new()
    }

    pub(super) fn alert_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        match (asked, r) {
            (Asked::ShowAlert, ControlResponse::Alert { alert, crop, stale }) => {
                self.disposition = Some(DispositionForm {
                    alert: *alert,
                    crop: crop.unwrap_or_default(),
                    stale,
                    outcome: 0,
                    reason: TextField::default(),
                    refusal: None,
                    waiting: false,
                });
                self.screen = Screen::Disposition;
                self.notice = None;
            }
            (Asked::Dispose, ControlResponse::Disposed { .. }) => {
                if let Some(form) = self.disposition.take() {
                    let outcome = form.outcome().name();
                    self.notice = Some(format!("alert {} {outcome}", form.alert.alert.plate));
                    // The node's event will say so too; the list shows it now.
                    let id = (form.alert.origin, form.alert.seq);
                    if let Some(a) = self
                        .live
                        .alerts
                        .iter_mut()
                        .find(|a| (a.origin, a.seq) == id)
                    {
                        a.disposed = Some(outcome.to_string());
                    }
                }
                self.screen = Screen::Live;
            }
            (Asked::Dispose, ControlResponse::Error { message, .. }) => {
                if let Some(form) = &mut self.disposition {
                    form.waiting = false;
                    form.refusal = Some(message);
                }
            }
            (_, ControlResponse::Error { message, .. }) => self.notice = Some(message),
            (_, other) => {
                self.notice = Some(format!(
                    "unexpected answer from the node: {}",
                    kind_of(&other)
                ));
            }
        }
        Vec::new()
    }
}
