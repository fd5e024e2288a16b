//! Holds: the table with the selected hold's details, the form that
//! places one, the export of a case.

use alpr_protocol::Timestamp;
use alpr_protocol::control::{HoldScopeWire, HoldWire};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use super::{ALARM, CONFIRM_KEYS, DIM, FOCUSED, day, form_state, popup, refused};
use crate::app::{App, ExportField, ExportForm, HoldField, HoldForm};

/// Label and value columns of the forms.
const AT: (usize, usize) = (13, 28);

pub(super) fn keys(app: &App) -> &'static [(&'static str, &'static str)] {
    let v = &app.holds;
    if v.placing.is_some() {
        &[
            ("Tab", "next field"),
            ("Space", "change"),
            ("Enter", "place"),
            ("Esc", "cancel"),
        ]
    } else if v.exporting.is_some() {
        &[
            ("Tab", "next field"),
            ("Space", "change"),
            ("Enter", "export"),
            ("Esc", "close"),
        ]
    } else if v.confirm_release.is_some() {
        CONFIRM_KEYS
    } else {
        &[
            ("n", "new hold"),
            ("x", "release"),
            ("e", "export a case"),
            ("r", "refresh"),
            ("Esc", "back"),
        ]
    }
}

/// What a hold keeps, in words.
fn scope(h: &HoldWire, long: bool) -> String {
    match &h.scope {
        HoldScopeWire::Reads(ids) if long => ids
            .iter()
            .map(|(o, s)| format!("{}/{s}", o.short()))
            .collect::<Vec<_>>()
            .join(", "),
        HoldScopeWire::Reads(ids) if ids.len() == 1 => "1 read".into(),
        HoldScopeWire::Reads(ids) => format!("{} reads", ids.len()),
        HoldScopeWire::Plate { plate, from, to } => {
            format!("{plate} {}..{}", day(*from), day(*to))
        }
    }
}

pub(super) fn holds(frame: &mut Frame, app: &App, now: Timestamp, area: Rect) {
    let v = &app.holds;
    let title = match v.confirm_release {
        Some(id) => format!(" Holds: release hold {id}? y to release, any other key keeps it "),
        None => " Evidence holds ".to_string(),
    };
    let block = Block::bordered().title(title);
    let block = if v.confirm_release.is_some() {
        block.border_style(ALARM)
    } else {
        block
    };
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(refused(r))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(3)]).areas(area);
    if v.asked && v.holds.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no holds", DIM)).block(block),
            table_area,
        );
    } else {
        holds_table(frame, app, now, block, table_area);
    }
    if let Some(h) = v.holds.get(v.selected) {
        let lines = vec![
            Line::raw(format!("reason   {}", h.reason)),
            Line::raw(format!("scope    {}", scope(h, true))),
            Line::raw(format!(
                "placed   {} by {}",
                super::search::when(h.placed_at),
                h.placed_by
            )),
        ];
        frame.render_widget(Paragraph::new(lines), detail);
    }
    if let Some(f) = &v.placing {
        hold_form(frame, f, area);
    }
    if let Some(f) = &v.exporting {
        export_form(frame, f, area);
    }
}

fn holds_table(frame: &mut Frame, app: &App, now: Timestamp, block: Block, area: Rect) {
    let v = &app.holds;
    let wide = area.width >= 120;
    let rows: Vec<Row> = v
        .holds
        .iter()
        .map(|h| {
            let mut cells = vec![
                h.id.to_string(),
                h.case.clone(),
                if h.standing { "standing" } else { "lapsed" }.to_string(),
                day(h.placed_at),
                h.placed_by.clone(),
                match h.expires {
                    Some(t) if t <= now => "expired".into(),
                    Some(t) => day(t),
                    None => "never".into(),
                },
                scope(h, false),
            ];
            if wide {
                cells.push(h.reason.clone());
            }
            let row = Row::new(cells);
            if h.standing { row } else { row.style(DIM) }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(10),
    ];
    let mut header = vec!["hold", "case", "state", "placed", "by", "expires", "scope"];
    if wide {
        widths.extend([Constraint::Length(32), Constraint::Fill(1)]);
        header.push("reason");
    } else {
        widths.push(Constraint::Fill(1));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(DIM))
        .row_highlight_style(FOCUSED)
        .block(block);
    let mut state = TableState::default().with_selected(Some(v.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

fn hold_form(frame: &mut Frame, f: &HoldForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let mut lines = vec![
        input(
            "case",
            f.case.as_str(),
            HoldField::Case,
            "the reads are evidence of",
        ),
        input(
            "reason",
            f.reason.as_str(),
            HoldField::Reason,
            "why they are held",
        ),
        super::choice(
            "hold",
            AT.0,
            if f.by_plate {
                "a plate over a time window"
            } else {
                "reads by id"
            },
            f.focus == HoldField::Scope,
            "Space changes",
        ),
    ];
    if f.by_plate {
        lines.extend([
            input(
                "plate",
                f.plate.as_str(),
                HoldField::Plate,
                "every read of it",
            ),
            input("from (UTC)", f.from.as_str(), HoldField::From, "2026-11-01"),
            input("to (UTC)", f.to.as_str(), HoldField::To, "a date: its end"),
        ]);
    } else {
        lines.push(input(
            "reads",
            f.reads.as_str(),
            HoldField::Reads,
            "ORIGIN/SEQ, commas",
        ));
    }
    lines.push(input(
        "expires",
        f.expires.as_str(),
        HoldField::Expires,
        "date, UTC; empty: never",
    ));
    lines.push(Line::raw(""));
    lines.extend(form_state(f.waiting, &f.refusal, "placing…"));
    popup(frame, area, (76, 12), "New hold", lines);
}

fn export_form(frame: &mut Frame, f: &ExportForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let mut lines = vec![
        input("case", f.case.as_str(), ExportField::Case, "its held reads"),
        super::choice(
            "purpose",
            AT.0,
            f.kind().name(),
            f.focus == ExportField::Kind,
            "Space changes",
        ),
        input("reason", f.reason.as_str(), ExportField::Reason, "logged"),
        input(
            "directory",
            f.out.as_str(),
            ExportField::Out,
            "new or empty",
        ),
        Line::styled("on the node's machine, e.g. a USB drive mounted there", DIM),
        Line::raw(""),
    ];
    if let Some(d) = &f.done {
        lines.push(Line::raw(format!(
            "case {}: {} reads and {} audit events written to {} ({} files, {}, signed manifest)",
            d.case,
            d.reads,
            d.audit_events,
            d.out,
            d.files,
            super::bytes(d.bytes)
        )));
    }
    let doing = match (f.cancelling, f.progress) {
        (true, _) => "cancelling the export…".to_string(),
        (false, Some((done, Some(total)))) => {
            format!("exporting… {done} of {total} files written (Esc cancels)")
        }
        _ => "exporting… the node writes the bundle (Esc cancels)".to_string(),
    };
    lines.extend(form_state(f.waiting, &f.refusal, &doing));
    popup(frame, area, (76, 12), "Export a case's evidence", lines);
}
