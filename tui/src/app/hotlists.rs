//! The hotlists screen: the bulk lists held (versions, ages) and the
//! fleet's local entries, which the roles allowed add, re-prioritize and
//! remove. Which roles those are is the node's decision; a refusal shows.

use alpr_protocol::control::{
    ControlRequest, ControlResponse, HotlistWire, LocalEditWire, LocalEntryWire,
};
use alpr_protocol::hotlist::{CATEGORIES, Category, Detail, Entry, Priority};

use super::search::parse_time;
use super::{App, Asked, Effect, Key, Screen, TextField, kind_of};

/// Priorities in the order the form cycles them.
pub const PRIORITIES: [Priority; 3] = [Priority::High, Priority::Normal, Priority::Low];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryField {
    #[default]
    Plate,
    Region,
    Category,
    Priority,
    Reference,
    Reason,
    Expires,
}

const FIELDS: [EntryField; 7] = [
    EntryField::Plate,
    EntryField::Region,
    EntryField::Category,
    EntryField::Priority,
    EntryField::Reference,
    EntryField::Reason,
    EntryField::Expires,
];

/// A new local entry, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryForm {
    /// A plate, or a pattern with `*` and `?`.
    pub plate: TextField,
    pub region: TextField,
    /// Index into [`CATEGORIES`].
    pub category: usize,
    /// Index into [`PRIORITIES`].
    pub priority: usize,
    pub reference: TextField,
    pub reason: TextField,
    pub expires: TextField,
    pub focus: EntryField,
    pub refusal: Option<String>,
}

impl Default for EntryForm {
    fn default() -> Self {
        EntryForm {
            plate: TextField::default(),
            region: TextField::default(),
            category: CATEGORIES
                .iter()
                .position(|c| *c == Category::Bolo)
                .unwrap_or(0),
            priority: 1,
            reference: TextField::default(),
            reason: TextField::default(),
            expires: TextField::default(),
            focus: EntryField::default(),
            refusal: None,
        }
    }
}

impl EntryForm {
    pub fn category(&self) -> Category {
        CATEGORIES[self.category % CATEGORIES.len()]
    }

    pub fn priority(&self) -> Priority {
        PRIORITIES[self.priority % PRIORITIES.len()]
    }

    /// The entry and pattern the form makes, or what is wrong, by field.
    pub fn entry(&self) -> Result<(Entry, Option<String>), String> {
        let text = self
            .plate
            .value()
            .ok_or("type a plate, or a pattern with * and ?")?;
        let (plate, pattern) =
            alpr_protocol::plate::plate_or_pattern(text).map_err(|e| e.to_string())?;
        let expires =
            parse_time(self.expires.value(), true).map_err(|e| format!("expires: {e}"))?;
        Ok((
            Entry {
                plate,
                region: self.region.value().map(str::to_ascii_uppercase),
                category: self.category(),
                reference: self.reference.value().unwrap_or("").to_string(),
                detail: Detail {
                    priority: self.priority(),
                    expires,
                    notes: self.reason.value().unwrap_or("").to_string(),
                    ..Detail::default()
                },
            },
            pattern,
        ))
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            EntryField::Plate => Some(&mut self.plate),
            EntryField::Region => Some(&mut self.region),
            EntryField::Reference => Some(&mut self.reference),
            EntryField::Reason => Some(&mut self.reason),
            EntryField::Expires => Some(&mut self.expires),
            EntryField::Category | EntryField::Priority => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HotlistsView {
    pub lists: Vec<HotlistWire>,
    pub local: Vec<LocalEntryWire>,
    pub asked: bool,
    /// The local entry the cursor is on.
    pub selected: usize,
    pub refusal: Option<String>,
    /// The add form, while open.
    pub adding: Option<EntryForm>,
    /// The entry asked to be removed, awaiting `y`.
    pub confirm_remove: Option<u64>,
}

impl App {
    pub(super) fn open_hotlists(&mut self) -> Vec<Effect> {
        self.screen = Screen::Hotlists;
        self.ask_hotlists()
    }

    fn ask_hotlists(&mut self) -> Vec<Effect> {
        match self.session.as_ref().map(|s| s.token) {
            Some(token) => vec![Effect::Send(
                Asked::Hotlists,
                ControlRequest::ListHotlists { token },
            )],
            None => Vec::new(),
        }
    }

    pub(super) fn hotlists_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.session.as_ref().map(|s| s.token) else {
            return Vec::new();
        };
        let v = &mut self.hotlists;
        if let Some(form) = &mut v.adding {
            return match key {
                Key::Esc => {
                    v.adding = None;
                    Vec::new()
                }
                Key::Tab | Key::Down => {
                    let at = FIELDS.iter().position(|f| *f == form.focus).unwrap_or(0);
                    form.focus = FIELDS[(at + 1) % FIELDS.len()];
                    Vec::new()
                }
                Key::BackTab | Key::Up => {
                    let at = FIELDS.iter().position(|f| *f == form.focus).unwrap_or(0);
                    form.focus = FIELDS[(at + FIELDS.len() - 1) % FIELDS.len()];
                    Vec::new()
                }
                Key::Left | Key::Right | Key::Char(' ')
                    if matches!(form.focus, EntryField::Category | EntryField::Priority) =>
                {
                    let (at, n) = match form.focus {
                        EntryField::Category => (&mut form.category, CATEGORIES.len()),
                        _ => (&mut form.priority, PRIORITIES.len()),
                    };
                    *at = if key == Key::Left {
                        (*at + n - 1) % n
                    } else {
                        (*at + 1) % n
                    };
                    Vec::new()
                }
                Key::Enter => match form.entry() {
                    Ok((entry, pattern)) => vec![Effect::Send(
                        Asked::AddEntry,
                        ControlRequest::AddHotlistEntry {
                            token,
                            entry,
                            pattern,
                        },
                    )],
                    Err(e) => {
                        form.refusal = Some(e);
                        Vec::new()
                    }
                },
                key => {
                    if let Some(f) = form.field() {
                        f.edit(key);
                    }
                    Vec::new()
                }
            };
        }
        if let Some(id) = v.confirm_remove.take() {
            if key == Key::Char('y') {
                return vec![Effect::Send(
                    Asked::RemoveEntry,
                    ControlRequest::RemoveHotlistEntry { token, id },
                )];
            }
            return Vec::new();
        }
        let selected = v.local.get(v.selected);
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Dashboard,
            Key::Up => v.selected = v.selected.saturating_sub(1),
            Key::Down => v.selected = (v.selected + 1).min(v.local.len().saturating_sub(1)),
            Key::Char('r') => return self.ask_hotlists(),
            Key::Char('n') => v.adding = Some(EntryForm::default()),
            Key::Char('x') => {
                if let Some(e) = selected.filter(|e| e.removed.is_none()) {
                    v.confirm_remove = Some(e.id);
                }
            }
            Key::Char('p') => {
                if let Some(e) = selected.filter(|e| e.removed.is_none()) {
                    let at = PRIORITIES
                        .iter()
                        .position(|p| *p == e.entry.detail.priority)
                        .unwrap_or(0);
                    let edit = LocalEditWire {
                        priority: Some(PRIORITIES[(at + 1) % PRIORITIES.len()]),
                        ..LocalEditWire::default()
                    };
                    return vec![Effect::Send(
                        Asked::EditEntry,
                        ControlRequest::EditHotlistEntry {
                            token,
                            id: e.id,
                            edit,
                        },
                    )];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn hotlists_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.hotlists;
        match (asked, r) {
            (Asked::Hotlists, ControlResponse::Hotlists { lists, local }) => {
                v.lists = lists;
                v.local = local;
                v.asked = true;
                v.refusal = None;
                v.selected = v.selected.min(v.local.len().saturating_sub(1));
            }
            (Asked::AddEntry, ControlResponse::HotlistEntryAdded { id }) => {
                v.adding = None;
                self.notice = Some(format!("local hotlist entry {id} added"));
                return self.ask_hotlists();
            }
            (Asked::RemoveEntry | Asked::EditEntry, ControlResponse::Done) => {
                self.notice = Some(match asked {
                    Asked::RemoveEntry => "local hotlist entry removed".into(),
                    _ => "local hotlist entry edited".into(),
                });
                return self.ask_hotlists();
            }
            (Asked::AddEntry, ControlResponse::Error { message, .. }) => match &mut v.adding {
                Some(form) => form.refusal = Some(message),
                None => v.refusal = Some(message),
            },
            (_, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
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
