//! The hotlists screen: bulk lists, local entries, the add form.

use alpr_protocol::Timestamp;
use alpr_protocol::hotlist::Priority;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};

use super::search::when;
use super::{ALARM, DIM, FOCUSED, WARN, age};
use crate::app::{App, EntryField};

pub(super) fn hotlists(frame: &mut Frame, app: &App, now: Timestamp, area: Rect) {
    let v = &app.hotlists;
    let stale = app.dashboard.as_ref().is_some_and(|d| d.lists_stale);
    let list_rows = (v.lists.len() as u16).clamp(1, 5) + 3;
    let [lists, local] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Min(0)]).areas(area);
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(Line::styled(format!("refused: {r}"), ALARM))
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Hotlists ")),
            area,
        );
        return;
    }
    let rows: Vec<Row> = v
        .lists
        .iter()
        .map(|l| {
            let row = Row::new(vec![
                l.list.clone(),
                l.version.to_string(),
                l.entries.to_string(),
                age(now, l.published_at),
                l.author.short(),
            ]);
            if stale { row.style(WARN) } else { row }
        })
        .collect();
    let title = if stale {
        " Bulk lists: STALE, older than the node's limit "
    } else {
        " Bulk lists "
    };
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(17),
            ],
        )
        .header(Row::new(vec!["list", "version", "entries", "published", "by"]).style(DIM))
        .block(Block::bordered().title(title)),
        lists,
    );
    let rows: Vec<Row> = v
        .local
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let e = &l.entry;
            let row = Row::new(vec![
                l.id.to_string(),
                l.pattern.clone().unwrap_or_else(|| e.plate.to_string()),
                e.region.clone().unwrap_or_default(),
                e.detail.priority.name().to_string(),
                e.category.name().to_string(),
                match (&l.removed, e.detail.expires) {
                    (Some((by, _)), _) => format!("removed by {by}"),
                    (None, Some(t)) if t <= now => "expired".into(),
                    (None, Some(t)) => format!("until {}", &when(t)[..10]),
                    (None, None) => "in force".into(),
                },
                l.added_by.clone(),
                e.detail.notes.clone(),
            ]);
            let row = match (&l.removed, e.detail.priority) {
                (Some(_), _) => row.style(DIM),
                (None, Priority::High) => row.style(Style::new().add_modifier(Modifier::BOLD)),
                _ => row,
            };
            if i == v.selected {
                row.style(FOCUSED)
            } else {
                row
            }
        })
        .collect();
    let body = if v.asked && rows.is_empty() {
        Table::new(
            vec![Row::new(vec!["no local entries"]).style(DIM)],
            [Constraint::Fill(1)],
        )
    } else {
        Table::new(
            rows,
            [
                Constraint::Length(4),
                Constraint::Length(10),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(15),
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Fill(1),
            ],
        )
        .header(
            Row::new(vec![
                "id", "plate", "region", "prio", "category", "state", "added by", "reason",
            ])
            .style(DIM),
        )
    };
    let title = match v.confirm_remove {
        Some(id) => format!(" Local entries: remove entry {id}? y to remove, any key keeps it "),
        None => " Local entries (the fleet's own list) ".to_string(),
    };
    let block = Block::bordered().title(title);
    let block = if v.confirm_remove.is_some() {
        block.border_style(ALARM)
    } else {
        block
    };
    frame.render_widget(body.block(block), local);
    if let Some(form) = &v.adding {
        entry_form(frame, form, area);
    }
}

fn entry_form(frame: &mut Frame, f: &crate::app::EntryForm, area: Rect) {
    let width = 70.min(area.width);
    let height = 14.min(area.height);
    let boxed = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let input = |label: &str, value: &str, focused: bool, hint: &str| {
        super::input(label, (10, 24), value, focused, hint)
    };
    let choice =
        |label: &str, value: &str, focused: bool| super::choice(label, 10, value, focused, "");
    let mut lines = vec![
        input(
            "plate",
            f.plate.as_str(),
            f.focus == EntryField::Plate,
            "or 7AB*12, ?",
        ),
        input(
            "region",
            f.region.as_str(),
            f.focus == EntryField::Region,
            "CA, D, …",
        ),
        choice(
            "category",
            f.category().name(),
            f.focus == EntryField::Category,
        ),
        choice(
            "priority",
            f.priority().name(),
            f.focus == EntryField::Priority,
        ),
        input(
            "reference",
            f.reference.as_str(),
            f.focus == EntryField::Reference,
            "case or report",
        ),
        input(
            "reason",
            f.reason.as_str(),
            f.focus == EntryField::Reason,
            "why it is listed",
        ),
        input(
            "expires",
            f.expires.as_str(),
            f.focus == EntryField::Expires,
            "date, UTC; empty: none",
        ),
        Line::raw(""),
        Line::styled(
            "It reaches every node of the fleet. Enter adds, Esc cancels.",
            DIM,
        ),
    ];
    if let Some(r) = &f.refusal {
        lines.push(Line::styled(format!("refused: {r}"), ALARM));
    }
    frame.render_widget(Clear, boxed);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" New local entry ")),
        boxed,
    );
}
