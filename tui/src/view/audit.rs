//! The audit screen: filters on top, the chain's state, the events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::search::when;
use super::{ALARM, DIM, FOCUSED, WARN};
use crate::app::{App, AuditField};

pub(super) fn audit(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.audit;
    let [filters, chain, events] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let cell = |label: &str, value: String, width: usize, focused: bool| -> Vec<Span<'static>> {
        let shown: String = value.chars().take(width).collect();
        vec![
            Span::raw(format!("{label} ")),
            Span::styled(
                format!("{shown:<width$}"),
                if focused {
                    FOCUSED
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                },
            ),
            Span::raw("  "),
        ]
    };
    let f = v.focus;
    let action = v
        .action()
        .map_or("any".to_string(), |a| a.name().to_string());
    let lines = vec![
        Line::from(
            [
                cell("user", v.user.as_str().into(), 12, f == AuditField::User),
                cell("action", action, 13, f == AuditField::Action),
                cell(
                    "outcome",
                    v.outcome.name().into(),
                    17,
                    f == AuditField::Outcome,
                ),
            ]
            .concat(),
        ),
        Line::from(
            [
                cell(
                    "text",
                    v.contains.as_str().into(),
                    14,
                    f == AuditField::Contains,
                ),
                cell("case", v.case.as_str().into(), 12, f == AuditField::Case),
            ]
            .concat(),
        ),
        Line::from(
            [
                cell("from", v.from.as_str().into(), 16, f == AuditField::From),
                cell("to", v.to.as_str().into(), 16, f == AuditField::To),
                vec![Span::styled("(UTC)", DIM)],
            ]
            .concat(),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Audit log: filters ")),
        filters,
    );
    let chain_line = match (&v.verification, v.verifying) {
        (_, true) if v.cancelling => Line::raw("cancelling the verification…"),
        (_, true) => Line::raw(match &v.progress {
            None => "verifying every record and chain… (Esc cancels)".to_string(),
            Some((what, done, Some(total))) => format!(
                "verifying {what}: {done} of {total} ({}%)… (Esc cancels)",
                (done * 100).checked_div(*total).unwrap_or(100)
            ),
            Some((what, done, None)) => format!("verifying {what}: {done}… (Esc cancels)"),
        }),
        (Some(r), false) if r.cancelled => Line::styled(
            format!(
                "verification CANCELLED: {} failures in what was checked; V verifies again",
                r.failures.len()
            ),
            WARN,
        ),
        (None, false) => Line::styled(
            "chain not verified in this session (V in the table verifies)",
            DIM,
        ),
        (Some(r), false) if r.failures.is_empty() => Line::raw(format!(
            "verified: {} reads, {} images, {} audit events, no failure",
            r.reads, r.images, r.audit_events
        )),
        (Some(r), false) => Line::styled(
            format!(
                "VERIFICATION FAILED ({}): {}",
                r.failures.len(),
                r.failures.first().map_or("", String::as_str)
            ),
            ALARM,
        ),
    };
    frame.render_widget(Paragraph::new(chain_line), chain);
    let shown: Vec<_> = v.shown().collect();
    // Narrow: purpose and case move to the selected event's lines below.
    let wide = area.width >= 120;
    let rows: Vec<Row> = shown
        .iter()
        .skip(v.scroll)
        .enumerate()
        .map(|(i, e)| {
            let outcome = match &e.outcome {
                alpr_protocol::record::Outcome::Success => "ok".to_string(),
                o if wide => o.to_string(),
                alpr_protocol::record::Outcome::Refused(_) => "refused".into(),
                alpr_protocol::record::Outcome::Failed(_) => "failed".into(),
            };
            let mut cells = vec![when(e.time), e.user.clone(), e.action.name().to_string()];
            if wide {
                cells.push(e.purpose.clone().unwrap_or_default());
                cells.push(e.case.clone().unwrap_or_default());
            }
            cells.push(outcome);
            cells.push(e.object.clone());
            let row = Row::new(cells);
            let row = match e.outcome {
                alpr_protocol::record::Outcome::Success => row,
                _ => row.style(WARN),
            };
            if i == 0 && f == AuditField::Events {
                row.style(FOCUSED)
            } else {
                row
            }
        })
        .collect();
    let mut title = format!(" {} of {} matching", shown.len(), v.total);
    if v.damaged > 0 {
        title.push_str(&format!(", {} DAMAGED not searched", v.damaged));
    }
    title.push(' ');
    let block = Block::bordered().title(title);
    let block = if f == AuditField::Events {
        block.border_style(Style::new().add_modifier(Modifier::BOLD))
    } else {
        block
    };
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(Line::styled(format!("refused: {r}"), ALARM)).block(block),
            events,
        );
        return;
    }
    if !v.asked {
        frame.render_widget(Paragraph::new("").block(block), events);
        return;
    }
    let [table, detail] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(if wide { 0 } else { 3 }),
    ])
    .areas(events);
    let mut widths = vec![
        Constraint::Length(19),
        Constraint::Length(10),
        Constraint::Length(13),
    ];
    let mut header = vec!["time (UTC)", "user", "action"];
    if wide {
        widths.extend([Constraint::Length(30), Constraint::Length(10)]);
        header.extend(["purpose", "case"]);
        widths.push(Constraint::Length(34));
    } else {
        widths.push(Constraint::Length(8));
    }
    widths.push(Constraint::Fill(1));
    header.extend(["outcome", "object"]);
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(DIM))
            .block(block),
        table,
    );
    if let Some(e) = shown.get(v.scroll).filter(|_| !wide) {
        let lines = vec![
            Line::raw(format!("object   {}", e.object)),
            Line::raw(format!(
                "purpose  {}{}",
                e.purpose.as_deref().unwrap_or("none stated"),
                e.case
                    .as_ref()
                    .map_or(String::new(), |c| format!(" · case {c}"))
            )),
            Line::raw(format!("outcome  {}", e.outcome)),
        ];
        frame.render_widget(Paragraph::new(lines), detail);
    }
}
