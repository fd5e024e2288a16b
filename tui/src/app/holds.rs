//! Evidence holds (Administrators): the holds the node keeps, placing one
//! on reads or on a plate over a time window, releasing one after a
//! confirmation; and the export of a case's evidence bundle to a
//! directory on the node's machine (Supervisors and Administrators, under
//! an investigation purpose: the node decides). The protocol has no
//! progress frames, so an export shows that it is running, then the
//! node's answer.

use alpr_protocol::control::{
    ControlRequest, ControlResponse, HoldScopeWire, HoldWire, PurposeWire, Token,
};
use alpr_protocol::{NodeId, PlateText};

use super::form::{step, submit, turn};
use super::search::{PURPOSES, parse_time};
use super::{App, Asked, Effect, Key, Screen, TextField};

/// Reads typed as ORIGIN/SEQ, separated by commas or blanks, where ORIGIN
/// is a whole node id or a unique prefix (8 hex characters at least) of
/// one of `nodes`, as search prints them.
pub fn record_ids(text: &str, nodes: &[NodeId]) -> Result<Vec<(NodeId, u64)>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (origin, seq) = t
                .split_once('/')
                .ok_or(format!("'{t}' is not a read: type ORIGIN/SEQ as search shows it"))?;
            let seq: u64 = seq
                .parse()
                .map_err(|_| format!("'{seq}' in '{t}' is not a sequence number"))?;
            if let Some(id) = NodeId::from_hex(origin) {
                return Ok((id, seq));
            }
            let origin = origin.to_ascii_lowercase();
            let matches: Vec<&NodeId> = nodes
                .iter()
                .filter(|id| id.to_hex().starts_with(&origin))
                .collect();
            match matches.as_slice() {
                [one] if origin.len() >= 8 => Ok((**one, seq)),
                [] => Err(format!("no node the node knows has an id starting '{origin}'")),
                _ => Err(format!(
                    "'{origin}' is ambiguous or short: type at least 8 hex characters of the node id"
                )),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HoldField {
    #[default]
    Case,
    Reason,
    /// Reads by id, or a plate over a time window.
    Scope,
    Reads,
    Plate,
    From,
    To,
    Expires,
}

const READS_FIELDS: [HoldField; 5] = [
    HoldField::Case,
    HoldField::Reason,
    HoldField::Scope,
    HoldField::Reads,
    HoldField::Expires,
];
const PLATE_FIELDS: [HoldField; 7] = [
    HoldField::Case,
    HoldField::Reason,
    HoldField::Scope,
    HoldField::Plate,
    HoldField::From,
    HoldField::To,
    HoldField::Expires,
];

/// A new hold, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HoldForm {
    pub case: TextField,
    pub reason: TextField,
    /// Hold every read of a plate in a window, not reads by id.
    pub by_plate: bool,
    pub reads: TextField,
    pub plate: TextField,
    pub from: TextField,
    pub to: TextField,
    pub expires: TextField,
    pub focus: HoldField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl HoldForm {
    /// The fields in the form's order: those of the scope chosen.
    pub fn fields(&self) -> &'static [HoldField] {
        if self.by_plate {
            &PLATE_FIELDS
        } else {
            &READS_FIELDS
        }
    }

    /// The request the form makes, or what is missing or wrong and where.
    pub fn request(
        &self,
        token: Token,
        nodes: &[NodeId],
    ) -> Result<ControlRequest, (HoldField, String)> {
        let case = self.case.value().ok_or((
            HoldField::Case,
            "case: type the case the reads are evidence of".into(),
        ))?;
        let reason = self.reason.value().ok_or((
            HoldField::Reason,
            "reason: say why the reads are held".into(),
        ))?;
        let scope = if self.by_plate {
            let text = self
                .plate
                .value()
                .ok_or((HoldField::Plate, "plate: type the plate to hold".into()))?;
            let plate = PlateText::parse(text).map_err(|e| (HoldField::Plate, e.to_string()))?;
            let time = |f: &TextField, end, field, name: &str| {
                parse_time(f.value(), end)
                    .map_err(|e| (field, format!("{name}: {e}")))?
                    .ok_or((field, format!("{name}: type the window's {name} (UTC)")))
            };
            HoldScopeWire::Plate {
                plate: plate.to_string(),
                from: time(&self.from, false, HoldField::From, "from")?,
                to: time(&self.to, true, HoldField::To, "to")?,
            }
        } else {
            let reads =
                record_ids(self.reads.as_str(), nodes).map_err(|e| (HoldField::Reads, e))?;
            if reads.is_empty() {
                return Err((
                    HoldField::Reads,
                    "reads: type the reads to hold, ORIGIN/SEQ, separated by commas".into(),
                ));
            }
            HoldScopeWire::Reads(reads)
        };
        let expires = parse_time(self.expires.value(), true)
            .map_err(|e| (HoldField::Expires, format!("expires: {e}")))?;
        Ok(ControlRequest::PlaceHold {
            token,
            case: case.to_string(),
            reason: reason.to_string(),
            scope,
            expires,
        })
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            HoldField::Case => Some(&mut self.case),
            HoldField::Reason => Some(&mut self.reason),
            HoldField::Reads => Some(&mut self.reads),
            HoldField::Plate => Some(&mut self.plate),
            HoldField::From => Some(&mut self.from),
            HoldField::To => Some(&mut self.to),
            HoldField::Expires => Some(&mut self.expires),
            HoldField::Scope => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportField {
    #[default]
    Case,
    Kind,
    Reason,
    Out,
}

const EXPORT_FIELDS: [ExportField; 4] = [
    ExportField::Case,
    ExportField::Kind,
    ExportField::Reason,
    ExportField::Out,
];

/// What the node wrote, as it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub case: String,
    /// The directory as the node names it once written.
    pub out: String,
    pub reads: u64,
    pub audit_events: u64,
    pub files: u64,
    pub bytes: u64,
}

/// The export of one case's bundle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportForm {
    pub case: TextField,
    /// Index into [`PURPOSES`]: an investigation, as the node asks.
    pub kind: usize,
    pub reason: TextField,
    /// A new or empty directory on the node's machine.
    pub out: TextField,
    pub focus: ExportField,
    pub refusal: Option<String>,
    /// The node is writing the bundle.
    pub waiting: bool,
    /// Files written of how many, as the node reports.
    pub progress: Option<(u64, Option<u64>)>,
    /// Esc was pressed while the node writes: the connection closes under it.
    pub cancelling: bool,
    pub done: Option<Exported>,
}

impl ExportForm {
    pub fn kind(&self) -> alpr_protocol::control::PurposeKindWire {
        PURPOSES[self.kind % PURPOSES.len()]
    }

    /// The request the form makes, or what is missing and where.
    pub fn request(&self, token: Token) -> Result<ControlRequest, (ExportField, String)> {
        let case = self
            .case
            .value()
            .ok_or((ExportField::Case, "case: type the case to export".into()))?;
        let reason = self.reason.value().ok_or((
            ExportField::Reason,
            "reason: say why you export: it is logged".into(),
        ))?;
        let out = self.out.value().ok_or((
            ExportField::Out,
            "directory: type where the node writes the bundle".into(),
        ))?;
        // The node writes on its own machine, from its own working
        // directory: a relative path would land somewhere unexpected.
        if !out.starts_with('/') {
            return Err((
                ExportField::Out,
                "directory: type an absolute path, e.g. /media/usb/26-4411".into(),
            ));
        }
        Ok(ControlRequest::ExportEvidence {
            token,
            purpose: PurposeWire {
                kind: Some(self.kind()),
                reason: Some(reason.to_string()),
                case: Some(case.to_string()),
            },
            case: case.to_string(),
            out: out.to_string(),
        })
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            ExportField::Case => Some(&mut self.case),
            ExportField::Reason => Some(&mut self.reason),
            ExportField::Out => Some(&mut self.out),
            ExportField::Kind => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HoldsView {
    pub holds: Vec<HoldWire>,
    pub asked: bool,
    pub selected: usize,
    /// The node refused the list.
    pub refusal: Option<String>,
    pub placing: Option<HoldForm>,
    pub exporting: Option<ExportForm>,
    /// The hold asked to be released, awaiting `y`.
    pub confirm_release: Option<u64>,
}

impl App {
    pub(super) fn open_holds(&mut self) -> Vec<Effect> {
        self.screen = Screen::Holds;
        self.ask_holds()
    }

    fn ask_holds(&mut self) -> Vec<Effect> {
        self.ask(Asked::Holds, |token| ControlRequest::ListHolds { token })
    }

    pub(super) fn holds_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        if self.holds.placing.is_some() {
            return self.hold_form_key(token, key);
        }
        if self.holds.exporting.is_some() {
            return self.export_key(token, key);
        }
        let v = &mut self.holds;
        if let Some(id) = v.confirm_release.take() {
            if key == Key::Char('y') {
                return vec![Effect::Send(
                    Asked::ReleaseHold,
                    ControlRequest::ReleaseHold { token, id },
                )];
            }
            return Vec::new();
        }
        let selected = v.holds.get(v.selected);
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Admin,
            Key::Up => v.selected = v.selected.saturating_sub(1),
            Key::Down => v.selected = (v.selected + 1).min(v.holds.len().saturating_sub(1)),
            Key::Char('r') => return self.ask_holds(),
            Key::Char('n') => v.placing = Some(HoldForm::default()),
            Key::Char('x') => v.confirm_release = selected.map(|h| h.id),
            Key::Char('e') => {
                v.exporting = Some(ExportForm {
                    case: TextField::new(selected.map_or("", |h| h.case.as_str())),
                    ..ExportForm::default()
                });
            }
            _ => {}
        }
        Vec::new()
    }

    fn hold_form_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let nodes = self.dashboard.as_ref().map_or(&[][..], |d| &d.nodes[..]);
        let v = &mut self.holds;
        let Some(f) = &mut v.placing else {
            return Vec::new();
        };
        if f.waiting {
            return Vec::new();
        }
        match key {
            Key::Esc => v.placing = None,
            Key::Tab | Key::Down => f.focus = step(f.fields(), f.focus, 1),
            Key::BackTab | Key::Up => f.focus = step(f.fields(), f.focus, -1),
            Key::Enter => {
                return submit(
                    f.request(token, nodes),
                    Asked::PlaceHold,
                    (&mut f.focus, &mut f.refusal, &mut f.waiting),
                );
            }
            key if f.focus == HoldField::Scope => {
                let mut at = usize::from(f.by_plate);
                if turn(&mut at, 2, key) {
                    f.by_plate = at == 1;
                    f.refusal = None;
                }
            }
            key => {
                if f.field().is_some_and(|t| t.edit(key)) {
                    f.refusal = None;
                }
            }
        }
        Vec::new()
    }

    fn export_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let v = &mut self.holds;
        let Some(f) = &mut v.exporting else {
            return Vec::new();
        };
        if f.waiting {
            // While the node writes, Esc cancels it (once); nothing else is taken.
            if key == Key::Esc && !f.cancelling {
                f.cancelling = true;
                return vec![Effect::Cancel];
            }
            return Vec::new();
        }
        match key {
            Key::Esc => v.exporting = None,
            Key::Tab | Key::Down => f.focus = step(&EXPORT_FIELDS, f.focus, 1),
            Key::BackTab | Key::Up => f.focus = step(&EXPORT_FIELDS, f.focus, -1),
            Key::Enter => {
                f.done = None;
                f.progress = None;
                f.cancelling = false;
                // A long request: on its own connection, with progress, cancellable.
                return submit(
                    f.request(token),
                    Asked::Export,
                    (&mut f.focus, &mut f.refusal, &mut f.waiting),
                )
                .into_iter()
                .map(|e| match e {
                    Effect::Send(asked, request) => Effect::SendLong(asked, request),
                    other => other,
                })
                .collect();
            }
            key if f.focus == ExportField::Kind => {
                turn(&mut f.kind, PURPOSES.len(), key);
            }
            key => {
                if f.field().is_some_and(|t| t.edit(key)) {
                    f.refusal = None;
                }
            }
        }
        Vec::new()
    }

    pub(super) fn holds_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.holds;
        match (asked, r) {
            (Asked::Holds, ControlResponse::Holds(holds)) => {
                v.holds = holds;
                v.asked = true;
                v.refusal = None;
                v.selected = v.selected.min(v.holds.len().saturating_sub(1));
            }
            (Asked::PlaceHold, ControlResponse::HoldPlaced { id }) => {
                v.placing = None;
                self.notice = Some(format!("hold {id} placed"));
                return self.ask_holds();
            }
            (Asked::ReleaseHold, ControlResponse::Done) => {
                self.notice = Some("hold released".into());
                return self.ask_holds();
            }
            (
                Asked::Export,
                ControlResponse::Exported {
                    reads,
                    audit_events,
                    files,
                    path,
                    bytes,
                },
            ) => {
                if let Some(f) = &mut v.exporting {
                    f.waiting = false;
                    f.done = Some(Exported {
                        case: f.case.value().unwrap_or("").to_string(),
                        out: path,
                        reads,
                        audit_events,
                        files,
                        bytes,
                    });
                }
            }
            (Asked::Holds, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
            (asked, ControlResponse::Error { message, .. }) => {
                let form = match asked {
                    Asked::PlaceHold => {
                        v.placing.as_mut().map(|f| (&mut f.refusal, &mut f.waiting))
                    }
                    Asked::Export => v
                        .exporting
                        .as_mut()
                        .map(|f| (&mut f.refusal, &mut f.waiting)),
                    _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_typed_as_search_shows_them() {
        let a = NodeId([0xab; 32]);
        let b = NodeId([0xac; 32]);
        let nodes = [a, b];
        assert_eq!(
            record_ids("abababab/4, abababababab/5", &nodes),
            Ok(vec![(a, 4), (a, 5)])
        );
        assert_eq!(
            record_ids(&format!(" {}/9 ", b.to_hex()), &[]),
            Ok(vec![(b, 9)])
        );
        assert_eq!(record_ids("", &nodes), Ok(vec![]));
        let e = record_ids("abab/4", &nodes).unwrap_err();
        assert!(e.contains("ambiguous or short"), "{e}");
        let e = record_ids("abababab", &nodes).unwrap_err();
        assert!(e.contains("type ORIGIN/SEQ"), "{e}");
        let e = record_ids("abababab/x", &nodes).unwrap_err();
        assert!(e.contains("not a sequence number"), "{e}");
        let e = record_ids("ffffffff/1", &nodes).unwrap_err();
        assert!(e.contains("starting 'ffffffff'"), "{e}");
    }
}
