//! The quarterly audit (policy V.A.5): the reports drawn so far and
//! whether one is overdue, drawing a quarter's random sample, stepping
//! through its events to mark each compliant or not with a note, and
//! signing the report. Auditors draw, mark and sign; Administrators may
//! see the reports; the node decides and the screen shows its refusals.
//!
//! The sample's seed is recorded with the report so anyone can redo the
//! draw. One typed in the form is used as it is; otherwise the driver
//! draws one from the operating system ([`Effect::DrawSeed`], answered by
//! [`super::Msg::Seed`]): `update` never draws randomness itself.

use alpr_protocol::control::{AuditWire, ControlRequest, ControlResponse, Token};
use alpr_protocol::policy::Quarter;

use super::form::{number, step};
use super::{App, Asked, Effect, Key, Screen, TextField};

/// Events a sample draws unless the form says otherwise (as the CLI).
pub const SAMPLE_SIZE_DEFAULT: u32 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleField {
    #[default]
    Quarter,
    Size,
    Seed,
}

const SAMPLE_FIELDS: [SampleField; 3] =
    [SampleField::Quarter, SampleField::Size, SampleField::Seed];

/// The draw of a sample, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleForm {
    /// e.g. 2026Q3.
    pub quarter: TextField,
    pub size: TextField,
    /// Empty: a random one.
    pub seed: TextField,
    pub focus: SampleField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl SampleForm {
    fn new(quarter: Option<&str>) -> SampleForm {
        SampleForm {
            quarter: TextField::new(quarter.unwrap_or("")),
            size: TextField::new(&SAMPLE_SIZE_DEFAULT.to_string()),
            ..SampleForm::default()
        }
    }

    /// The quarter and size typed, and the seed if one is: what is
    /// missing or wrong, and where, otherwise.
    pub fn parts(&self) -> Result<(Quarter, u32, Option<u64>), (SampleField, String)> {
        let text = self.quarter.value().ok_or((
            SampleField::Quarter,
            "quarter: type the quarter to audit, e.g. 2026Q3".to_string(),
        ))?;
        let quarter = Quarter::parse(text).map_err(|e| (SampleField::Quarter, e))?;
        let size = number(&self.size, "size")
            .map_err(|e| (SampleField::Size, e))?
            .ok_or((
                SampleField::Size,
                "size: type how many events to draw".to_string(),
            ))?;
        let seed = number(&self.seed, "seed").map_err(|e| (SampleField::Seed, e))?;
        Ok((quarter, size, seed))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarkField {
    #[default]
    Verdict,
    Note,
}

/// Marking one report's events, one at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Marking {
    pub report: u64,
    /// The event shown, from 0 (the node numbers items from 1).
    pub item: usize,
    /// Compliant or not; None until chosen (no verdict is assumed).
    pub verdict: Option<bool>,
    pub note: TextField,
    pub focus: MarkField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl Marking {
    /// Shows `item` of `report` with the finding the node holds for it,
    /// the cursor on the finding.
    fn show(&mut self, report: &AuditWire, item: usize) {
        self.focus = MarkField::Verdict;
        self.item = item.min(report.items.len().saturating_sub(1));
        let (verdict, note) = report
            .items
            .get(self.item)
            .map_or((None, ""), |(_, _, v, n)| (*v, n.as_str()));
        self.verdict = verdict;
        self.note = TextField::new(note);
        self.refusal = None;
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WizardView {
    pub reports: Vec<AuditWire>,
    /// The quarter without a signed audit, as the node says.
    pub overdue: Option<String>,
    pub asked: bool,
    pub selected: usize,
    /// The node refused the list.
    pub refusal: Option<String>,
    pub drawing: Option<SampleForm>,
    pub marking: Option<Marking>,
    /// The report asked to be signed, awaiting `y`.
    pub confirm_sign: Option<u64>,
    /// Opened from the audit log (Esc goes back there), else the menu.
    pub from_audit: bool,
    /// A report just drawn, opened for marking once the list has it.
    open_after: Option<u64>,
    /// What the draw in flight asked, said once the node has drawn it.
    sent: Option<String>,
}

impl WizardView {
    pub fn report(&self, id: u64) -> Option<&AuditWire> {
        self.reports.iter().find(|r| r.id == id)
    }
}

impl App {
    pub(super) fn open_wizard(&mut self, from_audit: bool) -> Vec<Effect> {
        self.screen = Screen::AuditWizard;
        self.wizard.from_audit = from_audit;
        self.ask_audits()
    }

    fn ask_audits(&mut self) -> Vec<Effect> {
        self.ask(Asked::Audits, |token| ControlRequest::ListAudits { token })
    }

    pub(super) fn wizard_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        if self.wizard.drawing.is_some() {
            return self.sample_key(token, key);
        }
        let v = &mut self.wizard;
        if let Some(report) = v.confirm_sign.take() {
            if key == Key::Char('y') {
                return vec![Effect::Send(
                    Asked::AuditSign,
                    ControlRequest::AuditSign { token, report },
                )];
            }
            return Vec::new();
        }
        if v.marking.is_some() {
            return self.mark_key(token, key);
        }
        let selected = v.reports.get(v.selected);
        match key {
            Key::Esc | Key::Char('q') => {
                self.screen = if v.from_audit {
                    Screen::Audit
                } else {
                    Screen::Admin
                };
            }
            Key::Up => v.selected = v.selected.saturating_sub(1),
            Key::Down => v.selected = (v.selected + 1).min(v.reports.len().saturating_sub(1)),
            Key::Char('r') => return self.ask_audits(),
            Key::Char('n') => v.drawing = Some(SampleForm::new(v.overdue.as_deref())),
            Key::Char('S') => v.confirm_sign = selected.map(|r| r.id),
            Key::Enter => {
                if let Some(r) = selected {
                    let first_open = r.items.iter().position(|i| i.2.is_none()).unwrap_or(0);
                    let mut m = Marking {
                        report: r.id,
                        item: 0,
                        verdict: None,
                        note: TextField::default(),
                        focus: MarkField::default(),
                        refusal: None,
                        waiting: false,
                    };
                    m.show(r, first_open);
                    v.marking = Some(m);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn sample_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let v = &mut self.wizard;
        let Some(f) = &mut v.drawing else {
            return Vec::new();
        };
        if f.waiting {
            return Vec::new();
        }
        match key {
            Key::Esc => v.drawing = None,
            Key::Tab | Key::Down => f.focus = step(&SAMPLE_FIELDS, f.focus, 1),
            Key::BackTab | Key::Up => f.focus = step(&SAMPLE_FIELDS, f.focus, -1),
            Key::Enter => match f.parts() {
                Ok((quarter, size, Some(seed))) => {
                    f.refusal = None;
                    f.waiting = true;
                    return vec![sample(token, quarter, size, seed, &mut v.sent)];
                }
                Ok((_, _, None)) => {
                    f.refusal = None;
                    f.waiting = true;
                    return vec![Effect::DrawSeed];
                }
                Err((field, e)) => {
                    f.focus = field;
                    f.refusal = Some(e);
                }
            },
            key => {
                let t = match f.focus {
                    SampleField::Quarter => &mut f.quarter,
                    SampleField::Size => &mut f.size,
                    SampleField::Seed => &mut f.seed,
                };
                if t.edit(key) {
                    f.refusal = None;
                }
            }
        }
        Vec::new()
    }

    /// The driver's seed for the draw that waits for one.
    pub(super) fn seeded(&mut self, seed: Result<u64, String>) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        let v = &mut self.wizard;
        let Some(f) = v.drawing.as_mut().filter(|f| f.waiting) else {
            return Vec::new();
        };
        match (seed, f.parts()) {
            (Ok(seed), Ok((quarter, size, None))) => {
                vec![sample(token, quarter, size, seed, &mut v.sent)]
            }
            (Err(e), _) => {
                f.waiting = false;
                f.focus = SampleField::Seed;
                f.refusal = Some(format!("no random seed from the system ({e}): type one"));
                Vec::new()
            }
            // The form changed or has a seed of its own: nothing waits for this one.
            _ => Vec::new(),
        }
    }

    fn mark_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let v = &mut self.wizard;
        let Some(m) = &mut v.marking else {
            return Vec::new();
        };
        if m.waiting {
            return Vec::new();
        }
        let Some(r) = v.reports.iter().find(|r| r.id == m.report) else {
            v.marking = None;
            return Vec::new();
        };
        match key {
            Key::Esc => v.marking = None,
            Key::Tab | Key::BackTab => {
                m.focus = step(&[MarkField::Verdict, MarkField::Note], m.focus, 1);
            }
            Key::Up => m.show(r, m.item.saturating_sub(1)),
            Key::Down => m.show(r, m.item + 1),
            Key::Char('S') if m.focus == MarkField::Verdict => v.confirm_sign = Some(m.report),
            Key::Enter => {
                let Some(compliant) = m.verdict else {
                    m.focus = MarkField::Verdict;
                    m.refusal = Some("finding: choose compliant or not compliant (Space)".into());
                    return Vec::new();
                };
                m.refusal = None;
                m.waiting = true;
                return vec![Effect::Send(
                    Asked::AuditMark,
                    ControlRequest::AuditMark {
                        token,
                        report: m.report,
                        item: m.item as u32 + 1,
                        compliant,
                        note: m.note.value().unwrap_or("").to_string(),
                    },
                )];
            }
            Key::Left | Key::Right | Key::Char(' ') if m.focus == MarkField::Verdict => {
                // The first turn chooses (no finding is assumed); then each turns it.
                m.verdict = Some(match m.verdict {
                    None => key != Key::Left,
                    Some(compliant) => !compliant,
                });
                m.refusal = None;
            }
            _ if m.focus == MarkField::Verdict => {}
            key => {
                if m.note.edit(key) {
                    m.refusal = None;
                }
            }
        }
        Vec::new()
    }

    pub(super) fn wizard_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.wizard;
        match (asked, r) {
            (Asked::Audits, ControlResponse::Audits { reports, overdue }) => {
                v.reports = reports;
                v.overdue = overdue;
                v.asked = true;
                v.refusal = None;
                if let Some(id) = v.open_after.take()
                    && let Some(at) = v.reports.iter().position(|r| r.id == id)
                {
                    v.selected = at;
                    v.marking = Some(Marking {
                        report: id,
                        item: 0,
                        verdict: None,
                        note: TextField::default(),
                        focus: MarkField::default(),
                        refusal: None,
                        waiting: false,
                    });
                }
                v.selected = v.selected.min(v.reports.len().saturating_sub(1));
                // What the node holds now is what the marking shows.
                if let Some(m) = &mut v.marking {
                    match v.reports.iter().find(|r| r.id == m.report) {
                        Some(r) => m.show(r, m.item),
                        None => v.marking = None,
                    }
                }
            }
            (Asked::AuditSample, ControlResponse::AuditDrawn { id }) => {
                v.drawing = None;
                v.open_after = Some(id);
                self.notice = v.sent.take().map(|s| format!("audit {id}: {s}"));
                return self.ask_audits();
            }
            (Asked::AuditMark, ControlResponse::Done) => {
                let reports = &v.reports;
                if let Some(m) = &mut v.marking
                    && let Some(r) = reports.iter().find(|r| r.id == m.report)
                {
                    m.waiting = false;
                    let finding = if m.verdict == Some(true) {
                        "compliant"
                    } else {
                        "not compliant"
                    };
                    self.notice = Some(format!(
                        "event {} of {} marked {finding}",
                        m.item + 1,
                        r.items.len()
                    ));
                    // On to the next event (the last one stays in view);
                    // the list asked next shows what the node holds now.
                    m.show(r, m.item + 1);
                }
                return self.ask_audits();
            }
            (Asked::AuditSign, ControlResponse::Done) => {
                v.marking = None;
                self.notice = Some("audit signed".into());
                return self.ask_audits();
            }
            (Asked::Audits, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
            (asked, ControlResponse::Error { message, .. }) => {
                v.sent = None;
                let form = match asked {
                    Asked::AuditSample => {
                        v.drawing.as_mut().map(|f| (&mut f.refusal, &mut f.waiting))
                    }
                    _ => v.marking.as_mut().map(|m| (&mut m.refusal, &mut m.waiting)),
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

/// The draw, and what it asked in words (for the notice once drawn).
fn sample(
    token: Token,
    quarter: Quarter,
    size: u32,
    seed: u64,
    sent: &mut Option<String>,
) -> Effect {
    *sent = Some(format!(
        "sample of {size} events of {quarter} drawn with seed {seed}"
    ));
    Effect::Send(
        Asked::AuditSample,
        ControlRequest::AuditSample {
            token,
            quarter: quarter.to_string(),
            seed,
            size,
        },
    )
}
