//! Outside requests and releases (policy V.A.1, V.A.4): the register of
//! requests for ALPR data from outside law enforcement, registering one
//! (Supervisors, Administrators), recording its decision (the Staff
//! Services Commander or designee), and releasing reads to another agency
//! as a bundle written on the node's machine (Administrators). Who may do
//! which is the node's decision; the screen shows its refusal.

use alpr_protocol::NodeId;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, DecisionWire, PurposeKindWire, PurposeWire, RequestWire, Token,
};
use alpr_protocol::policy::Release;

use super::form::{step, submit, turn};
use super::holds::record_ids;
use super::search::PURPOSES;
use super::{App, Asked, Effect, Key, Screen, TextField};

/// Decisions in the order the form cycles them.
pub const DECISIONS: [DecisionWire; 3] = [
    DecisionWire::Granted,
    DecisionWire::PartlyGranted,
    DecisionWire::Denied,
];

/// Who decides a request unless the form says otherwise (as the CLI).
const REFERRED_TO_DEFAULT: &str = "Staff Services Commander";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestField {
    #[default]
    Requester,
    What,
    ReferredTo,
}

const REQUEST_FIELDS: [RequestField; 3] = [
    RequestField::Requester,
    RequestField::What,
    RequestField::ReferredTo,
];

/// A request to register, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestForm {
    /// Who asks: a person, an office, a newspaper.
    pub requester: TextField,
    /// What they ask for, in words.
    pub what: TextField,
    /// Who decides it.
    pub referred_to: TextField,
    pub focus: RequestField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl Default for RequestForm {
    fn default() -> Self {
        RequestForm {
            requester: TextField::default(),
            what: TextField::default(),
            referred_to: TextField::new(REFERRED_TO_DEFAULT),
            focus: RequestField::default(),
            refusal: None,
            waiting: false,
        }
    }
}

impl RequestForm {
    /// The request the form makes, or what is missing and where.
    pub fn request(&self, token: Token) -> Result<ControlRequest, (RequestField, String)> {
        let need = |f: &TextField, field, what: &str| {
            f.value()
                .map(str::to_string)
                .ok_or((field, what.to_string()))
        };
        Ok(ControlRequest::RegisterRequest {
            token,
            requester: need(
                &self.requester,
                RequestField::Requester,
                "requester: type who asks",
            )?,
            what: need(
                &self.what,
                RequestField::What,
                "what: type what they ask for",
            )?,
            referred_to: need(
                &self.referred_to,
                RequestField::ReferredTo,
                "referred to: type who decides it",
            )?,
        })
    }

    fn field(&mut self) -> &mut TextField {
        match self.focus {
            RequestField::Requester => &mut self.requester,
            RequestField::What => &mut self.what,
            RequestField::ReferredTo => &mut self.referred_to,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecisionField {
    #[default]
    Decision,
    Note,
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionForm {
    pub id: u64,
    /// Index into [`DECISIONS`], None until one is chosen.
    pub decision: Option<usize>,
    pub note: TextField,
    pub focus: DecisionField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl DecisionForm {
    pub fn decision(&self) -> Option<DecisionWire> {
        self.decision.map(|i| DECISIONS[i % DECISIONS.len()])
    }

    /// The request the form makes, or what is missing and where.
    pub fn request(&self, token: Token) -> Result<ControlRequest, (DecisionField, String)> {
        let decision = self.decision().ok_or((
            DecisionField::Decision,
            "decision: choose granted, partly granted or denied (Space)".into(),
        ))?;
        let note = self
            .note
            .value()
            .ok_or((DecisionField::Note, "why: say why, in words".into()))?;
        Ok(ControlRequest::DecideRequest {
            token,
            id: self.id,
            decision,
            note: note.to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReleaseField {
    #[default]
    Case,
    Kind,
    Reason,
    Agency,
    Official,
    Basis,
    Reads,
    Out,
}

const RELEASE_FIELDS: [ReleaseField; 8] = [
    ReleaseField::Case,
    ReleaseField::Kind,
    ReleaseField::Reason,
    ReleaseField::Agency,
    ReleaseField::Official,
    ReleaseField::Basis,
    ReleaseField::Reads,
    ReleaseField::Out,
];

/// A release of reads to another agency, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseForm {
    /// The case released: the purpose names it too.
    pub case: TextField,
    /// Index into [`PURPOSES`].
    pub kind: usize,
    pub reason: TextField,
    pub agency: TextField,
    pub official: TextField,
    /// Subpoena, court order, agreement.
    pub basis: TextField,
    pub reads: TextField,
    /// A new or empty directory on the node's machine.
    pub out: TextField,
    pub focus: ReleaseField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl ReleaseForm {
    pub fn kind(&self) -> PurposeKindWire {
        PURPOSES[self.kind % PURPOSES.len()]
    }

    /// The request the form makes, or what is missing or wrong and where.
    pub fn request(
        &self,
        token: Token,
        nodes: &[NodeId],
    ) -> Result<ControlRequest, (ReleaseField, String)> {
        use ReleaseField as F;
        let need = |f: &TextField, field, what: &str| {
            f.value()
                .map(str::to_string)
                .ok_or((field, what.to_string()))
        };
        let case = need(&self.case, F::Case, "case: type the case released")?;
        let reason = need(&self.reason, F::Reason, "reason: say why: it is logged")?;
        let agency = need(&self.agency, F::Agency, "agency: type the receiving agency")?;
        let official = need(
            &self.official,
            F::Official,
            "official: type the receiving official",
        )?;
        let legal_basis = need(
            &self.basis,
            F::Basis,
            "legal basis: type it (subpoena, court order, agreement)",
        )?;
        let reads = record_ids(self.reads.as_str(), nodes).map_err(|e| (F::Reads, e))?;
        if reads.is_empty() {
            return Err((
                F::Reads,
                "reads: type the reads to release, ORIGIN/SEQ, separated by commas".into(),
            ));
        }
        let out = need(
            &self.out,
            F::Out,
            "directory: type where the node writes it",
        )?;
        // As for an export: the node writes from its own working directory.
        if !out.starts_with('/') {
            return Err((
                F::Out,
                "directory: type an absolute path, e.g. /media/usb/release-1".into(),
            ));
        }
        Ok(ControlRequest::Release {
            token,
            purpose: PurposeWire {
                kind: Some(self.kind()),
                reason: Some(reason),
                case: Some(case),
            },
            agency,
            official,
            legal_basis,
            reads,
            out,
        })
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            ReleaseField::Case => Some(&mut self.case),
            ReleaseField::Reason => Some(&mut self.reason),
            ReleaseField::Agency => Some(&mut self.agency),
            ReleaseField::Official => Some(&mut self.official),
            ReleaseField::Basis => Some(&mut self.basis),
            ReleaseField::Reads => Some(&mut self.reads),
            ReleaseField::Out => Some(&mut self.out),
            ReleaseField::Kind => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestsView {
    pub requests: Vec<RequestWire>,
    /// Releases to other agencies as recorded (asked with the requests).
    pub releases: Vec<Release>,
    /// The node refused the releases (they are Auditors' and Administrators').
    pub releases_refusal: Option<String>,
    pub asked: bool,
    pub selected: usize,
    /// The node refused the register.
    pub refusal: Option<String>,
    pub registering: Option<RequestForm>,
    pub deciding: Option<DecisionForm>,
    pub releasing: Option<ReleaseForm>,
}

impl App {
    pub(super) fn open_requests(&mut self) -> Vec<Effect> {
        self.screen = Screen::Requests;
        self.ask_requests()
    }

    /// The register and the releases, two requests.
    fn ask_requests(&mut self) -> Vec<Effect> {
        let mut effects = self.ask(Asked::Requests, |token| ControlRequest::ListRequests {
            token,
        });
        effects.extend(
            self.ask(Asked::Releases, |token| ControlRequest::ListReleases {
                token,
            }),
        );
        effects
    }

    pub(super) fn requests_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        let v = &mut self.requests;
        if v.registering.is_some() || v.deciding.is_some() || v.releasing.is_some() {
            return self.request_form_key(token, key);
        }
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Admin,
            Key::Up => v.selected = v.selected.saturating_sub(1),
            Key::Down => v.selected = (v.selected + 1).min(v.requests.len().saturating_sub(1)),
            Key::Char('r') => return self.ask_requests(),
            Key::Char('n') => v.registering = Some(RequestForm::default()),
            Key::Char('d') => match v.requests.get(v.selected) {
                Some(r) if r.decision.is_none() => {
                    v.deciding = Some(DecisionForm {
                        id: r.id,
                        decision: None,
                        note: TextField::default(),
                        focus: DecisionField::default(),
                        refusal: None,
                        waiting: false,
                    });
                }
                Some(r) => self.notice = Some(format!("request {} is already decided", r.id)),
                None => {}
            },
            Key::Char('a') => v.releasing = Some(ReleaseForm::default()),
            _ => {}
        }
        Vec::new()
    }

    /// Keys while one of the three forms is open.
    fn request_form_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let nodes = self.dashboard.as_ref().map_or(&[][..], |d| &d.nodes[..]);
        let v = &mut self.requests;
        if key == Key::Esc {
            v.registering = None;
            v.deciding = None;
            v.releasing = None;
            return Vec::new();
        }
        if let Some(f) = &mut v.registering {
            if f.waiting {
                return Vec::new();
            }
            match key {
                Key::Tab | Key::Down => f.focus = step(&REQUEST_FIELDS, f.focus, 1),
                Key::BackTab | Key::Up => f.focus = step(&REQUEST_FIELDS, f.focus, -1),
                Key::Enter => {
                    return submit(
                        f.request(token),
                        Asked::RegisterRequest,
                        (&mut f.focus, &mut f.refusal, &mut f.waiting),
                    );
                }
                key => {
                    if f.field().edit(key) {
                        f.refusal = None;
                    }
                }
            }
        } else if let Some(f) = &mut v.deciding {
            if f.waiting {
                return Vec::new();
            }
            let fields = [DecisionField::Decision, DecisionField::Note];
            match key {
                Key::Tab | Key::Down => f.focus = step(&fields, f.focus, 1),
                Key::BackTab | Key::Up => f.focus = step(&fields, f.focus, -1),
                Key::Enter => {
                    return submit(
                        f.request(token),
                        Asked::DecideRequest,
                        (&mut f.focus, &mut f.refusal, &mut f.waiting),
                    );
                }
                key if f.focus == DecisionField::Decision => {
                    // The first turn chooses: no decision is taken by default.
                    let mut at = f.decision.unwrap_or(DECISIONS.len() - 1);
                    if turn(&mut at, DECISIONS.len(), key) {
                        f.decision = Some(at);
                        f.refusal = None;
                    }
                }
                key => {
                    if f.note.edit(key) {
                        f.refusal = None;
                    }
                }
            }
        } else if let Some(f) = &mut v.releasing {
            if f.waiting {
                return Vec::new();
            }
            match key {
                Key::Tab | Key::Down => f.focus = step(&RELEASE_FIELDS, f.focus, 1),
                Key::BackTab | Key::Up => f.focus = step(&RELEASE_FIELDS, f.focus, -1),
                Key::Enter => {
                    return submit(
                        f.request(token, nodes),
                        Asked::Release,
                        (&mut f.focus, &mut f.refusal, &mut f.waiting),
                    );
                }
                key if f.focus == ReleaseField::Kind => {
                    turn(&mut f.kind, PURPOSES.len(), key);
                }
                key => {
                    if f.field().is_some_and(|t| t.edit(key)) {
                        f.refusal = None;
                    }
                }
            }
        }
        Vec::new()
    }

    pub(super) fn requests_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.requests;
        match (asked, r) {
            (Asked::Requests, ControlResponse::Requests(requests)) => {
                v.requests = requests;
                v.asked = true;
                v.refusal = None;
                v.selected = v.selected.min(v.requests.len().saturating_sub(1));
            }
            (Asked::RegisterRequest, ControlResponse::RequestRegistered { id }) => {
                let to = v
                    .registering
                    .take()
                    .and_then(|f| f.referred_to.value().map(str::to_string))
                    .unwrap_or_default();
                self.notice = Some(format!("request {id} registered, referred to {to}"));
                return self.ask_requests();
            }
            (Asked::DecideRequest, ControlResponse::Done) => {
                if let Some(f) = v.deciding.take() {
                    let d = f.decision().map_or("decided", |d| d.name());
                    self.notice = Some(format!("request {}: {d}", f.id));
                }
                return self.ask_requests();
            }
            (Asked::Release, ControlResponse::Released { id }) => {
                let out = v
                    .releasing
                    .take()
                    .and_then(|f| f.out.value().map(str::to_string))
                    .unwrap_or_default();
                self.notice = Some(format!("release {id} written to {out}"));
                return self.ask(Asked::Releases, |token| ControlRequest::ListReleases {
                    token,
                });
            }
            (Asked::Releases, ControlResponse::Releases(releases)) => {
                v.releases = releases;
                v.releases_refusal = None;
            }
            (Asked::Releases, ControlResponse::Error { message, .. }) => {
                v.releases_refusal = Some(message);
            }
            (Asked::Requests, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
            (_, ControlResponse::Error { message, .. }) => {
                let form = if let Some(f) = &mut v.registering {
                    Some((&mut f.refusal, &mut f.waiting))
                } else if let Some(f) = &mut v.deciding {
                    Some((&mut f.refusal, &mut f.waiting))
                } else {
                    v.releasing
                        .as_mut()
                        .map(|f| (&mut f.refusal, &mut f.waiting))
                };
                match form {
                    Some((refusal, waiting)) => {
                        *waiting = false;
                        *refusal = Some(message);
                    }
                    None => self.notice = Some(format!("refused: {message}")),
                }
            }
            (_, other) => {
                self.stop_waiting();
                self.unexpected(&other);
            }
        }
        Vec::new()
    }
}
