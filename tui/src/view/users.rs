//! Users and training: the table, the add form, one edit, a confirmation.

use alpr_protocol::Timestamp;
use alpr_protocol::control::UserWire;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use super::{
    ADD_KEYS, ALARM, CONFIRM_KEYS, DIM, FOCUSED, SAVE_KEYS, WARN, day, dots, form_state, popup,
    refused,
};
use crate::app::{App, EditField, EditKind, UserConfirm, UserEditForm, UserField, UserForm};

/// Label and value columns of the forms.
const AT: (usize, usize) = (17, 24);

pub(super) fn keys(app: &App) -> &'static [(&'static str, &'static str)] {
    let v = &app.users;
    if v.adding.is_some() {
        ADD_KEYS
    } else if v.editing.is_some() {
        SAVE_KEYS
    } else if v.confirm.is_some() {
        CONFIRM_KEYS
    } else {
        &[
            ("n", "new"),
            ("t", "training"),
            ("o", "role"),
            ("p", "password"),
            ("x", "active"),
            ("u", "unlock"),
            ("r", "refresh"),
            ("Esc", "back"),
        ]
    }
}

/// A user's training, as of `now`.
fn training(u: &UserWire, now: Timestamp) -> (String, bool) {
    match (u.trained_on, u.training_expires) {
        (None, _) => ("never trained".into(), true),
        (Some(_), Some(e)) if e <= now => (format!("EXPIRED {}", day(e)), true),
        (Some(_), Some(e)) => (format!("until {}", day(e)), false),
        (Some(_), None) => ("no expiry".into(), false),
    }
}

pub(super) fn users(frame: &mut Frame, app: &App, now: Timestamp, area: Rect) {
    let v = &app.users;
    let title = match &v.confirm {
        Some(UserConfirm::Active(name, true)) => {
            format!(" Users: activate {name}? y to do it, any other key keeps it ")
        }
        Some(UserConfirm::Active(name, false)) => {
            format!(" Users: deactivate {name}? y to do it, any other key keeps it ")
        }
        Some(UserConfirm::Unlock(name)) => {
            format!(" Users: clear {name}'s failed logins here? y to do it ")
        }
        None => " Users and training ".to_string(),
    };
    let block = Block::bordered().title(title);
    let block = if v.confirm.is_some() {
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
    if v.asked && v.users.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no users", DIM)).block(block),
            area,
        );
    } else {
        let rows: Vec<Row> = v
            .users
            .iter()
            .map(|u| {
                let (trained, warn) = training(u, now);
                let row = Row::new(vec![
                    u.name.clone(),
                    u.role.name().to_string(),
                    match (u.active, u.locked_until) {
                        (false, _) => "inactive",
                        (true, Some(_)) => "LOCKED",
                        (true, None) => "active",
                    }
                    .to_string(),
                    u.trained_on.map_or("-".into(), day),
                    trained,
                ]);
                match (u.active, u.locked_until, warn) {
                    (false, _, _) => row.style(DIM),
                    (true, Some(_), _) => row.style(ALARM),
                    (true, None, true) => row.style(WARN),
                    (true, None, false) => row,
                }
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(13),
                Constraint::Length(8),
                Constraint::Length(10),
                Constraint::Length(22),
            ],
        )
        .header(Row::new(vec!["user", "role", "state", "trained", "training"]).style(DIM))
        .row_highlight_style(FOCUSED)
        .block(block);
        let mut state = TableState::default().with_selected(Some(v.selected));
        frame.render_stateful_widget(table, area, &mut state);
    }
    if let Some(f) = &v.adding {
        add_form(frame, f, area);
    }
    if let Some(f) = &v.editing {
        edit_form(frame, f, area);
    }
}

fn add_form(frame: &mut Frame, f: &UserForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let mut lines = vec![
        input("name", f.name.as_str(), UserField::Name, "a-z 0-9 . - _"),
        super::choice(
            "role",
            AT.0,
            f.role().name(),
            f.focus == UserField::Role,
            "Space changes",
        ),
        input(
            "password",
            &dots(f.password.chars()),
            UserField::Password,
            "never shown",
        ),
        input(
            "again",
            &dots(f.repeat.chars()),
            UserField::Repeat,
            "the same password",
        ),
        input(
            "trained on",
            f.trained_on.as_str(),
            UserField::TrainedOn,
            "date, UTC",
        ),
        input(
            "training expires",
            f.expires.as_str(),
            UserField::Expires,
            "empty: none",
        ),
        Line::raw(""),
        Line::styled(
            "Without training on record the node refuses the user's logins.",
            DIM,
        ),
    ];
    lines.extend(form_state(f.waiting, &f.refusal, "adding…"));
    popup(frame, area, (72, 12), "New user", lines);
}

fn edit_form(frame: &mut Frame, f: &UserEditForm, area: Rect) {
    let input =
        |label, value: &str, field, hint| super::input(label, AT, value, f.focus == field, hint);
    let (title, mut lines) = match f.kind {
        EditKind::Training => (
            format!("Record {}'s training", f.name),
            vec![
                input(
                    "trained on",
                    f.trained_on.as_str(),
                    EditField::TrainedOn,
                    "date, UTC",
                ),
                input(
                    "training expires",
                    f.expires.as_str(),
                    EditField::Expires,
                    "empty: none",
                ),
            ],
        ),
        EditKind::Role => (
            format!("{}'s role", f.name),
            vec![super::choice(
                "role",
                AT.0,
                f.role().name(),
                f.focus == EditField::Role,
                "Space changes",
            )],
        ),
        EditKind::Password => (
            format!("New password for {}", f.name),
            vec![
                input(
                    "password",
                    &dots(f.password.chars()),
                    EditField::Password,
                    "never shown",
                ),
                input(
                    "again",
                    &dots(f.repeat.chars()),
                    EditField::Repeat,
                    "the same password",
                ),
            ],
        ),
    };
    lines.push(Line::raw(""));
    lines.extend(form_state(f.waiting, &f.refusal, "saving…"));
    popup(frame, area, (72, 9), &title, lines);
}
