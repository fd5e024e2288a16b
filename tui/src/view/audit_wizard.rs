//! The quarterly audit: the reports, the draw of a sample, and marking
//! one report's events one at a time.

use alpr_protocol::control::AuditWire;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use super::{ALARM, CONFIRM_KEYS, DIM, FOCUSED, WARN, form_state, popup, refused};
use crate::app::{App, MarkField, Marking, SampleField, SampleForm};

pub(super) fn keys(app: &App) -> &'static [(&'static str, &'static str)] {
    let v = &app.wizard;
    if v.drawing.is_some() {
        &[("Tab", "next field"), ("Enter", "draw"), ("Esc", "cancel")]
    } else if v.confirm_sign.is_some() {
        CONFIRM_KEYS
    } else if let Some(m) = &v.marking {
        if m.focus == MarkField::Note {
            &[
                ("↑↓", "event"),
                ("Tab", "finding"),
                ("Enter", "mark"),
                ("Esc", "reports"),
            ]
        } else {
            &[
                ("↑↓", "event"),
                ("Space", "finding"),
                ("Tab", "note"),
                ("Enter", "mark"),
                ("S", "sign"),
                ("Esc", "reports"),
            ]
        }
    } else {
        &[
            ("↑↓ Enter", "mark"),
            ("n", "draw a sample"),
            ("S", "sign"),
            ("r", "refresh"),
            ("Esc", "back"),
        ]
    }
}

fn marked(r: &AuditWire) -> (usize, usize) {
    let marked = r.items.iter().filter(|i| i.2.is_some()).count();
    let failed = r.items.iter().filter(|i| i.2 == Some(false)).count();
    (marked, failed)
}

fn finding(f: Option<bool>) -> &'static str {
    match f {
        None => "unmarked",
        Some(true) => "compliant",
        Some(false) => "NOT COMPLIANT",
    }
}

pub(super) fn wizard(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.wizard;
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(refused(r))
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Quarterly audit ")),
            area,
        );
        return;
    }
    match v
        .marking
        .as_ref()
        .and_then(|m| Some((m, v.report(m.report)?)))
    {
        Some((m, r)) => marking(frame, app, m, r, area),
        None => reports(frame, app, area),
    }
    if let Some(f) = &v.drawing {
        sample_form(frame, f, area);
    }
}

fn reports(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.wizard;
    let [status, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let line = match (&v.overdue, v.asked) {
        (_, false) => Line::raw("asking the node for its audit reports…"),
        (Some(q), true) => Line::styled(format!("OVERDUE: no signed audit of {q}"), WARN),
        (None, true) => Line::raw("quarterly audits are up to date"),
    };
    frame.render_widget(Paragraph::new(line), status);
    let title = match v.confirm_sign {
        Some(id) => format!(" Sign audit {id}? Its findings become final. y signs "),
        None => " Audit reports ".to_string(),
    };
    let block = Block::bordered().title(title);
    let block = if v.confirm_sign.is_some() {
        block.border_style(ALARM)
    } else {
        block
    };
    if v.asked && v.reports.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no audit drawn yet: n draws one", DIM)).block(block),
            table_area,
        );
        return;
    }
    let rows: Vec<Row> = v
        .reports
        .iter()
        .map(|r| {
            let (done, failed) = marked(r);
            let row = Row::new(vec![
                r.id.to_string(),
                r.quarter.clone(),
                r.auditor.clone(),
                format!("{} of {}", r.items.len(), r.population),
                format!("{done} of {}", r.items.len()),
                failed.to_string(),
                if r.signed { "signed" } else { "open" }.to_string(),
                r.seed.to_string(),
            ]);
            if r.signed { row } else { row.style(WARN) }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(vec![
            "audit", "quarter", "auditor", "sample", "marked", "not ok", "state", "seed",
        ])
        .style(DIM),
    )
    .row_highlight_style(FOCUSED)
    .block(block);
    let mut state = TableState::default().with_selected(Some(v.selected));
    frame.render_stateful_widget(table, table_area, &mut state);
}

fn marking(frame: &mut Frame, app: &App, m: &Marking, r: &AuditWire, area: Rect) {
    let [top, items] = Layout::vertical([Constraint::Length(12), Constraint::Min(0)]).areas(area);
    let (done, failed) = marked(r);
    let n = r.items.len();
    let event = r
        .items
        .get(m.item)
        .map_or("none".to_string(), |(o, s, ..)| {
            format!("{}/{s}", o.short())
        });
    let mut lines = vec![
        Line::raw(format!("  event  {event}")),
        super::choice(
            "finding",
            7,
            match m.verdict {
                None => "choose",
                Some(true) => "compliant",
                Some(false) => "not compliant",
            },
            m.focus == MarkField::Verdict,
            "Space changes",
        ),
        super::input(
            "note",
            (7, 40),
            m.note.as_str(),
            m.focus == MarkField::Note,
            "the finding, in words",
        ),
        Line::raw(format!(
            " marked  {done} of {n}{}",
            if failed > 0 {
                format!(", {failed} not compliant")
            } else {
                String::new()
            }
        )),
    ];
    // Who did what, when and why: the event as the node holds it.
    match r.events.get(m.item).and_then(Option::as_ref) {
        Some(e) => {
            lines.push(Line::raw(format!(
                "    who  {} · {} · {} UTC · {}",
                e.user,
                e.action.name(),
                super::search::when(e.time),
                e.outcome
            )));
            lines.push(Line::raw(format!(
                "    why  {}{}",
                e.purpose.as_deref().unwrap_or("no purpose stated"),
                e.case
                    .as_deref()
                    .map_or(String::new(), |c| format!(" · case {c}"))
            )));
            lines.push(Line::raw(format!("   what  {}", e.object)));
        }
        None if m.item < n && !r.signed => lines.push(Line::styled(
            "this event is not held here (purged, or not yet received) or does not verify",
            WARN,
        )),
        None => {}
    }
    if r.signed {
        lines.push(Line::styled("signed: the findings are final", DIM));
    } else if done == n {
        lines.push(Line::styled(
            "every event is marked: S signs the report",
            WARN,
        ));
    }
    lines.extend(form_state(m.waiting, &m.refusal, "marking…"));
    let block = if app.wizard.confirm_sign.is_some() {
        Block::bordered()
            .title(format!(
                " Sign audit {}? Its findings become final. y signs ",
                r.id
            ))
            .border_style(ALARM)
    } else {
        Block::bordered().title(format!(
            " Audit {} of {} · event {} of {n} ",
            r.id,
            r.quarter,
            (m.item + 1).min(n)
        ))
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        top,
    );
    let rows: Vec<Row> = r
        .items
        .iter()
        .enumerate()
        .map(|(i, (o, s, f, note))| {
            let row = Row::new(vec![
                (i + 1).to_string(),
                format!("{}/{s}", o.short()),
                finding(*f).to_string(),
                note.clone(),
            ]);
            match f {
                Some(false) => row.style(WARN),
                None => row.style(DIM),
                Some(true) => row,
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(24),
            Constraint::Length(13),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["item", "event", "finding", "note"]).style(DIM))
    .row_highlight_style(FOCUSED)
    .block(Block::bordered().title(" Sampled events "));
    let mut state = TableState::default().with_selected(Some(m.item));
    frame.render_stateful_widget(table, items, &mut state);
}

fn sample_form(frame: &mut Frame, f: &SampleForm, area: Rect) {
    let at = (8, 12);
    let input =
        |label, value: &str, field, hint| super::input(label, at, value, f.focus == field, hint);
    let mut lines = vec![
        input(
            "quarter",
            f.quarter.as_str(),
            SampleField::Quarter,
            "e.g. 2026Q3, one that has begun",
        ),
        input(
            "size",
            f.size.as_str(),
            SampleField::Size,
            "access events to draw",
        ),
        input(
            "seed",
            f.seed.as_str(),
            SampleField::Seed,
            "empty: a random one",
        ),
        Line::raw(""),
        Line::styled(
            "The seed is recorded with the report: anyone can redo the draw.",
            DIM,
        ),
    ];
    lines.extend(form_state(f.waiting, &f.refusal, "drawing…"));
    popup(frame, area, (70, 10), "Draw a quarter's sample", lines);
}
