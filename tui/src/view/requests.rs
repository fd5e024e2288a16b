//! Requests and releases: the register with the selected request's
//! details, and the forms that register, decide and release.

use alpr_protocol::control::RequestWire;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use super::search::when;
use super::{DIM, FOCUSED, RECORD_KEYS, WARN, day, form_state, popup, refused};
use crate::app::{
    App, DecisionField, DecisionForm, ReleaseField, ReleaseForm, RequestField, RequestForm,
};

/// Label and value columns of the forms.
const AT: (usize, usize) = (12, 30);

pub(super) fn keys(app: &App) -> &'static [(&'static str, &'static str)] {
    let v = &app.requests;
    if v.registering.is_some() || v.deciding.is_some() || v.releasing.is_some() {
        RECORD_KEYS
    } else {
        &[
            ("n", "register"),
            ("d", "decide"),
            ("a", "release to an agency"),
            ("r", "refresh"),
            ("Esc", "back"),
        ]
    }
}

fn decision(r: &RequestWire) -> String {
    r.decision
        .as_ref()
        .map_or("pending".to_string(), |(o, ..)| o.name().to_string())
}

/// Releases to other agencies as recorded, newest first, or why not shown.
fn releases(frame: &mut Frame, v: &crate::app::RequestsView, area: Rect) {
    let block = Block::bordered().title(" Releases to other agencies ");
    if let Some(r) = &v.releases_refusal {
        frame.render_widget(
            Paragraph::new(Line::styled(format!("not shown: {r}"), DIM))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    if v.releases.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no releases recorded", DIM)).block(block),
            area,
        );
        return;
    }
    let rows: Vec<Row> = v
        .releases
        .iter()
        .rev()
        .map(|r| {
            Row::new(vec![
                r.id.to_string(),
                day(r.at),
                r.case.clone(),
                r.agency.clone(),
                r.official.clone(),
                r.reads.len().to_string(),
                r.legal_basis.clone(),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(12),
            Constraint::Length(5),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(vec![
            "id",
            "at",
            "case",
            "to agency",
            "official",
            "reads",
            "basis",
        ])
        .style(DIM),
    )
    .block(block);
    frame.render_widget(table, area);
}

pub(super) fn requests(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.requests;
    let block = Block::bordered().title(" Requests from outside law enforcement ");
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(refused(r))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let releases_height = (v.releases.len() as u16).clamp(1, 4) + 3;
    let [table_area, detail, releases_area] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(3),
        Constraint::Length(releases_height),
    ])
    .areas(area);
    releases(frame, v, releases_area);
    if v.asked && v.requests.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no requests registered", DIM)).block(block),
            table_area,
        );
    } else {
        let wide = area.width >= 120;
        let rows: Vec<Row> = v
            .requests
            .iter()
            .map(|r| {
                let mut cells = vec![
                    r.id.to_string(),
                    day(r.received_at),
                    r.requester.clone(),
                    decision(r),
                ];
                if wide {
                    cells.extend([r.registered_by.clone(), r.referred_to.clone()]);
                }
                cells.push(r.what.clone());
                let row = Row::new(cells);
                if r.decision.is_none() {
                    row.style(WARN)
                } else {
                    row
                }
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(14),
        ];
        let mut header = vec!["id", "received", "from", "decision"];
        if wide {
            widths.extend([Constraint::Length(13), Constraint::Length(26)]);
            header.extend(["registered by", "referred to"]);
        }
        widths.push(Constraint::Fill(1));
        header.push("what");
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(DIM))
            .row_highlight_style(FOCUSED)
            .block(block);
        let mut state = TableState::default().with_selected(Some(v.selected));
        frame.render_stateful_widget(table, table_area, &mut state);
    }
    if let Some(r) = v.requests.get(v.selected) {
        let decided = match &r.decision {
            Some((o, note, by, at)) => format!("{} by {by} at {}: {note}", o.name(), when(*at)),
            None => "pending".into(),
        };
        let lines = vec![
            Line::raw(format!("what      {}", r.what)),
            Line::raw(format!(
                "referred  to {} · registered by {}",
                r.referred_to, r.registered_by
            )),
            Line::raw(format!("decision  {decided}")),
        ];
        frame.render_widget(Paragraph::new(lines), detail);
    }
    if let Some(f) = &v.registering {
        register_form(frame, f, area);
    }
    if let Some(f) = &v.deciding {
        decide_form(frame, f, area);
    }
    if let Some(f) = &v.releasing {
        release_form(frame, f, area);
    }
}

fn register_form(frame: &mut Frame, f: &RequestForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let mut lines = vec![
        input(
            "requester",
            f.requester.as_str(),
            RequestField::Requester,
            "who asks",
        ),
        input("what", f.what.as_str(), RequestField::What, "in words"),
        input(
            "referred to",
            f.referred_to.as_str(),
            RequestField::ReferredTo,
            "who decides",
        ),
        Line::raw(""),
    ];
    lines.extend(form_state(f.waiting, &f.refusal, "registering…"));
    popup(frame, area, (74, 9), "Register a request", lines);
}

fn decide_form(frame: &mut Frame, f: &DecisionForm, area: Rect) {
    let mut lines = vec![
        super::choice(
            "decision",
            AT.0,
            f.decision().map_or("choose", |d| d.name()),
            f.focus == DecisionField::Decision,
            "Space changes",
        ),
        super::input(
            "why",
            AT,
            f.note.as_str(),
            f.focus == DecisionField::Note,
            "in words",
        ),
        Line::raw(""),
    ];
    lines.extend(form_state(f.waiting, &f.refusal, "recording…"));
    popup(
        frame,
        area,
        (74, 8),
        &format!("Decide request {}", f.id),
        lines,
    );
}

fn release_form(frame: &mut Frame, f: &ReleaseForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let mut lines = vec![
        input("case", f.case.as_str(), ReleaseField::Case, "released"),
        super::choice(
            "purpose",
            AT.0,
            f.kind().name(),
            f.focus == ReleaseField::Kind,
            "Space changes",
        ),
        input("reason", f.reason.as_str(), ReleaseField::Reason, "logged"),
        input(
            "agency",
            f.agency.as_str(),
            ReleaseField::Agency,
            "receiving",
        ),
        input(
            "official",
            f.official.as_str(),
            ReleaseField::Official,
            "receiving",
        ),
        input(
            "legal basis",
            f.basis.as_str(),
            ReleaseField::Basis,
            "subpoena, order",
        ),
        input(
            "reads",
            f.reads.as_str(),
            ReleaseField::Reads,
            "ORIGIN/SEQ, …",
        ),
        input(
            "directory",
            f.out.as_str(),
            ReleaseField::Out,
            "on the node",
        ),
        Line::raw(""),
    ];
    lines.extend(form_state(f.waiting, &f.refusal, "writing the release…"));
    popup(frame, area, (74, 13), "Release reads to an agency", lines);
}
