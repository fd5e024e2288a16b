//! The search screens: the form (the query, a time range, and the purpose
//! asked before it runs), the results, and one read with its images.

use alpr_protocol::Timestamp;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, Hit, PurposeKindWire, PurposeWire, QueryWire, ReadSummary,
};
use alpr_protocol::record::ImageKind;

use super::{App, Asked, Effect, Key, Screen, TextField, kind_of};

/// Most reads one search shows (the node caps it again).
pub const SEARCH_LIMIT: u32 = 100;

/// The purposes a search may state, in the order the form cycles them.
pub const PURPOSES: [PurposeKindWire; 4] = [
    PurposeKindWire::Investigation,
    PurposeKindWire::Alert,
    PurposeKindWire::Audit,
    PurposeKindWire::Administration,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchField {
    #[default]
    Query,
    LookAlike,
    From,
    To,
    Camera,
    Node,
    Kind,
    Reason,
    Case,
}

const FIELDS: [SearchField; 9] = [
    SearchField::Query,
    SearchField::LookAlike,
    SearchField::From,
    SearchField::To,
    SearchField::Camera,
    SearchField::Node,
    SearchField::Kind,
    SearchField::Reason,
    SearchField::Case,
];

/// The search form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchForm {
    /// A plate, or a pattern with `*` (any run) and `?` (one character).
    pub query: TextField,
    /// Take the letter O and the digit 0 as one (an exact plate only).
    pub look_alike: bool,
    pub from: TextField,
    pub to: TextField,
    /// One camera's reads only (its name); empty: every camera.
    pub camera: TextField,
    /// One node's reads only (name or id prefix); empty: every node.
    pub node: TextField,
    /// Index into [`PURPOSES`].
    pub kind: usize,
    pub reason: TextField,
    pub case: TextField,
    pub focus: SearchField,
    /// Why the form or the node refused the last try.
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl SearchForm {
    pub fn kind(&self) -> PurposeKindWire {
        PURPOSES[self.kind % PURPOSES.len()]
    }

    fn move_focus(&mut self, by: isize) {
        let at = FIELDS.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let n = FIELDS.len() as isize;
        self.focus = FIELDS[(at + by).rem_euclid(n) as usize];
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            SearchField::Query => Some(&mut self.query),
            SearchField::From => Some(&mut self.from),
            SearchField::To => Some(&mut self.to),
            SearchField::Camera => Some(&mut self.camera),
            SearchField::Node => Some(&mut self.node),
            SearchField::Reason => Some(&mut self.reason),
            SearchField::Case => Some(&mut self.case),
            SearchField::LookAlike | SearchField::Kind => None,
        }
    }

    /// The request the form makes, or what is wrong with it, naming the field.
    pub fn request(&self) -> Result<(QueryWire, Option<Timestamp>, Option<Timestamp>), String> {
        let Some(q) = self.query.value() else {
            return Err("type a plate, or a pattern with * and ?".into());
        };
        let q = q.to_string();
        let query = if q.contains(['*', '?']) {
            QueryWire::Pattern(q)
        } else if self.look_alike {
            QueryWire::LookAlike(q)
        } else {
            QueryWire::Plate(q)
        };
        let from = parse_time(self.from.value(), false).map_err(|e| format!("from: {e}"))?;
        let to = parse_time(self.to.value(), true).map_err(|e| format!("to: {e}"))?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err("the time range ends before it starts".into());
        }
        Ok((query, from, to))
    }

    pub fn purpose(&self) -> PurposeWire {
        PurposeWire {
            kind: Some(self.kind()),
            reason: self.reason.value().map(str::to_string),
            case: self.case.value().map(str::to_string),
        }
    }
}

/// A time as a person types it. A time without an offset is UTC (the form
/// says so); a date alone is the start of that day, or its end for the end
/// of a range, so "to 2026-12-07" includes the 7th.
pub fn parse_time(text: Option<&str>, end: bool) -> Result<Option<Timestamp>, String> {
    use jiff::civil::{Date, DateTime};
    use jiff::tz::TimeZone;
    let Some(text) = text else { return Ok(None) };
    let ms = |t: jiff::Timestamp| Timestamp(t.as_millisecond());
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Some(ms(t)));
    }
    if let Ok(dt) = text.parse::<DateTime>()
        && text.len() > 10
        && let Ok(z) = dt.to_zoned(TimeZone::UTC)
    {
        return Ok(Some(ms(z.timestamp())));
    }
    if let Ok(d) = text.parse::<Date>()
        && let Ok(z) = d.to_zoned(TimeZone::UTC)
    {
        let start = ms(z.timestamp());
        return Ok(Some(if end {
            Timestamp(start.0 + 86_400_000 - 1)
        } else {
            start
        }));
    }
    let shown: String = text.chars().take(40).collect();
    Err(format!(
        "'{shown}' is not a time: type 2026-12-07, 2026-12-07 14:30 (UTC) or 2026-12-07T14:30-05:00"
    ))
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub selected: usize,
    /// The purpose the search stated: opening a read states it again.
    pub purpose: PurposeWire,
    /// The query in words, for the title.
    pub asked: String,
}

/// One read opened from the results.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadDetail {
    pub read: ReadSummary,
    /// The plate crop (empty when none is held).
    pub crop: Vec<u8>,
    /// The overview frame: None while asked for; empty when none is held;
    /// the node's refusal as text.
    pub overview: Option<Result<Vec<u8>, String>>,
}

impl App {
    pub(super) fn search_key(&mut self, key: Key) -> Vec<Effect> {
        let form = &mut self.search;
        if form.waiting {
            return Vec::new();
        }
        match key {
            Key::Esc => {
                self.screen = Screen::Dashboard;
                return Vec::new();
            }
            Key::Tab | Key::Down => form.move_focus(1),
            Key::BackTab | Key::Up => form.move_focus(-1),
            Key::Left | Key::Right | Key::Char(' ') if form.focus == SearchField::Kind => {
                let n = PURPOSES.len();
                form.kind = if key == Key::Left {
                    (form.kind + n - 1) % n
                } else {
                    (form.kind + 1) % n
                };
            }
            Key::Left | Key::Right | Key::Char(' ') if form.focus == SearchField::LookAlike => {
                form.look_alike = !form.look_alike;
            }
            Key::Enter => return self.run_search(),
            key => {
                if let Some(f) = form.field() {
                    f.edit(key);
                }
            }
        }
        Vec::new()
    }

    fn run_search(&mut self) -> Vec<Effect> {
        let Some(token) = self.session.as_ref().map(|s| s.token) else {
            return Vec::new();
        };
        let form = &mut self.search;
        let (query, from, to) = match form.request() {
            Ok(r) => r,
            Err(e) => {
                form.refusal = Some(e);
                return Vec::new();
            }
        };
        if form.reason.value().is_none() {
            form.refusal = Some("say why you search: the reason is logged with the search".into());
            form.focus = SearchField::Reason;
            return Vec::new();
        }
        form.refusal = None;
        form.waiting = true;
        vec![Effect::Send(
            Asked::Search,
            ControlRequest::Search {
                token,
                purpose: form.purpose(),
                query,
                from,
                to,
                limit: SEARCH_LIMIT,
                camera: form.camera.value().map(str::to_string),
                node: form.node.value().map(str::to_string),
            },
        )]
    }

    pub(super) fn results_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(results) = &mut self.results else {
            self.screen = Screen::Search;
            return Vec::new();
        };
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Search,
            Key::Up => results.selected = results.selected.saturating_sub(1),
            Key::Down => {
                results.selected = (results.selected + 1).min(results.hits.len().saturating_sub(1));
            }
            Key::Enter => {
                let Some(token) = self.session.as_ref().map(|s| s.token) else {
                    return Vec::new();
                };
                match results.hits.get(results.selected) {
                    Some(Hit::Read(r)) => {
                        return vec![Effect::Send(
                            Asked::ViewRead,
                            ControlRequest::ViewRead {
                                token,
                                purpose: results.purpose.clone(),
                                origin: r.origin,
                                seq: r.seq,
                            },
                        )];
                    }
                    Some(Hit::Damaged { reason, .. }) => {
                        self.notice = Some(format!("this record does not open: {reason}"));
                    }
                    None => {}
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn read_key(&mut self, key: Key) -> Vec<Effect> {
        if matches!(key, Key::Esc | Key::Char('q')) {
            // The images leave memory with the screen.
            self.read = None;
            self.screen = if self.results.is_some() {
                Screen::Results
            } else {
                Screen::Dashboard
            };
        }
        Vec::new()
    }

    pub(super) fn search_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        match (asked, r) {
            (Asked::Search, ControlResponse::Found { hits, total }) => {
                self.search.waiting = false;
                let asked = format!(
                    "{}{}",
                    self.search.query.value().unwrap_or(""),
                    if self.search.look_alike && !self.search.query.as_str().contains(['*', '?']) {
                        " (O and 0 alike)"
                    } else {
                        ""
                    }
                );
                self.results = Some(Results {
                    hits,
                    total,
                    selected: 0,
                    purpose: self.search.purpose(),
                    asked,
                });
                self.screen = Screen::Results;
                self.notice = None;
            }
            (Asked::Search, ControlResponse::Error { message, .. }) => {
                self.search.waiting = false;
                self.search.refusal = Some(message);
            }
            (Asked::ViewRead, ControlResponse::Read { read, crop_jpeg }) => {
                let (Some(token), Some(results)) =
                    (self.session.as_ref().map(|s| s.token), &self.results)
                else {
                    return Vec::new();
                };
                let ask = ControlRequest::ViewImage {
                    token,
                    purpose: results.purpose.clone(),
                    origin: read.origin,
                    seq: read.seq,
                    kind: ImageKind::Overview,
                };
                self.read = Some(ReadDetail {
                    read,
                    crop: crop_jpeg,
                    overview: None,
                });
                self.screen = Screen::Read;
                self.notice = None;
                return vec![Effect::Send(Asked::Overview, ask)];
            }
            (Asked::Overview, ControlResponse::Image { jpeg }) => {
                if let Some(d) = &mut self.read {
                    d.overview = Some(Ok(jpeg));
                }
            }
            (Asked::Overview, ControlResponse::Error { message, .. }) => {
                if let Some(d) = &mut self.read {
                    d.overview = Some(Err(message));
                }
            }
            (_, ControlResponse::Error { message, .. }) => self.notice = Some(message),
            (_, other) => {
                self.search.waiting = false;
                self.notice = Some(format!(
                    "unexpected answer from the node: {}",
                    kind_of(&other)
                ));
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_type_them() {
        let t = |s: &str, end| parse_time(Some(s), end).unwrap().unwrap().0;
        let day = t("2026-12-07", false);
        assert_eq!(day, 1_796_601_600_000);
        assert_eq!(t("2026-12-07", true), day + 86_400_000 - 1);
        assert_eq!(
            t("2026-12-07 14:30", false),
            day + 14 * 3_600_000 + 30 * 60_000
        );
        assert_eq!(
            t("2026-12-07T14:30:00", true),
            day + 14 * 3_600_000 + 30 * 60_000
        );
        assert_eq!(
            t("2026-12-07T14:30-05:00", false),
            day + 19 * 3_600_000 + 30 * 60_000
        );
        assert_eq!(
            t("2026-12-07T14:30:00Z", false),
            day + 14 * 3_600_000 + 30 * 60_000
        );
        assert_eq!(parse_time(None, false), Ok(None));
        let e = parse_time(Some("2026-13-01"), false).unwrap_err();
        assert!(e.contains("'2026-13-01' is not a time"), "{e}");
        assert!(parse_time(Some("yesterday"), true).is_err());
    }
}
