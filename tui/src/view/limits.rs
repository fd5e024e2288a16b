//! Login limits and retention: two parts of one screen, each sent alone.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{DIM, form_state};
use crate::app::{App, LimitsField, RETENTION_NAMES};

/// Label and value columns.
const AT: (usize, usize) = (18, 8);

pub(super) fn limits(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.limits;
    let [top, bottom, state] = Layout::vertical([
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Min(0),
    ])
    .areas(area);
    let input = |label: &str, value: &str, field, hint: &str| {
        super::input(label, AT, value, v.focus == field, hint)
    };
    let lines = vec![
        input(
            "failed logins",
            v.failures.as_str(),
            LimitsField::Failures,
            "in a row, before a lockout",
        ),
        input(
            "lockout minutes",
            v.lockout_minutes.as_str(),
            LimitsField::Lockout,
            "how long a lockout lasts",
        ),
        input(
            "idle minutes",
            v.idle_minutes.as_str(),
            LimitsField::Idle,
            "before a session locks",
        ),
        Line::raw(""),
        Line::styled(
            "From the node's status; only a limit you change is sent.",
            DIM,
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Login limits ")),
        top,
    );
    let mut lines: Vec<Line> = RETENTION_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let now = v
                .current
                .map_or(String::new(), |c| format!("now {} days", c[i]));
            input(
                name,
                v.retention[i].as_str(),
                LimitsField::Retention(i),
                &now,
            )
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        match v.current {
            Some(_) => "Days to keep each; \"now\" is the node's status.",
            None => "asking the node for its retention…",
        },
        DIM,
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Retention (days) ")),
        bottom,
    );
    if let Some(line) = form_state(v.waiting, &v.refusal, "setting…") {
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), state);
    }
}
