//! Drawing: reads the model, never changes it. Works from 80x24 up; a
//! help bar on every screen says what each key does.

use alpr_protocol::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};

use alpr_protocol::hotlist::Priority;

use crate::app::{App, Dashboard, Field, Screen};
use crate::pictures::Pictures;

mod admin;
mod alert;
mod audit;
mod audit_wizard;
mod holds;
mod hotlists;
mod limits;
mod peers;
mod requests;
mod search;
mod users;

const WARN: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
const ALARM: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
const DIM: Style = Style::new().fg(Color::Gray);
const KEY: Style = Style::new().fg(Color::Black).bg(Color::Gray);
const FOCUSED: Style = Style::new().add_modifier(Modifier::REVERSED);

/// The last `width` characters of a typed value: the end being typed stays in view.
fn tail(value: &str, width: usize) -> String {
    let skip = value.chars().count().saturating_sub(width);
    value.chars().skip(skip).collect()
}

/// One text field of a form: its label right-aligned in `label` columns,
/// the value in `width`, a hint after it.
fn input(label: &str, at: (usize, usize), value: &str, focused: bool, hint: &str) -> Line<'static> {
    let (label_w, width) = at;
    Line::from(vec![
        Span::raw(format!("{label:>label_w$}  ")),
        Span::styled(
            format!("{:<width$}", tail(value, width)),
            if focused {
                FOCUSED
            } else {
                Style::new().add_modifier(Modifier::UNDERLINED)
            },
        ),
        Span::styled(format!("  {hint}"), DIM),
    ])
}

/// One choice of a form (Space or ←→ changes it).
fn choice(label: &str, label_w: usize, value: &str, focused: bool, hint: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!("{label:>label_w$}  ")),
        Span::styled(
            format!("< {value} >"),
            if focused { FOCUSED } else { Style::new() },
        ),
        Span::styled(format!("  {hint}"), DIM),
    ])
}

/// A form over a list: a box of at most `size` centred in `area`, cleared
/// first, with `lines` in it.
fn popup(frame: &mut Frame, area: Rect, size: (u16, u16), title: &str, lines: Vec<Line<'static>>) {
    let width = size.0.min(area.width);
    let height = size.1.min(area.height);
    let boxed = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, boxed);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {title} "))),
        boxed,
    );
}

/// The node's refusal (or the form's), as it is worded.
fn refused(why: &str) -> Line<'static> {
    Line::styled(format!("refused: {why}"), ALARM)
}

/// One line a form ends with: waiting for the node, or why the last try
/// was refused.
fn form_state(waiting: bool, refusal: &Option<String>, doing: &str) -> Option<Line<'static>> {
    if waiting {
        Some(Line::raw(doing.to_string()))
    } else {
        refusal.as_deref().map(refused)
    }
}

/// A day, UTC, as forms take it.
fn day(t: Timestamp) -> String {
    search::when(t).chars().take(10).collect()
}

/// A password field as drawn: one dot a character, never the text.
fn dots(chars: usize) -> String {
    "•".repeat(chars.min(FIELD_DOTS_MAX))
}

/// Most dots a password field shows.
const FIELD_DOTS_MAX: usize = 30;

/// The help bar: each key and what it does. Where that is wider than the
/// screen, the spaces between the entries go first.
fn help_bar(keys: &[(&str, &str)], width: u16) -> Line<'static> {
    let full: usize = keys
        .iter()
        .map(|(k, w)| k.chars().count() + w.chars().count() + 4)
        .sum();
    let tight = full > usize::from(width);
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            if tight {
                format!(" {k}")
            } else {
                format!(" {k} ")
            },
            KEY,
        ));
        spans.push(Span::raw(format!(" {what} ")));
    }
    Line::from(spans)
}

/// Draws the whole console as of `now` (for ages); `pictures` turns the
/// model's images into terminal graphics.
pub fn draw(frame: &mut Frame, app: &App, now: Timestamp, pictures: &mut Pictures) {
    let [title, body, notice, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(title_line(app)), title);
    match app.screen {
        Screen::Login => login(frame, app, body),
        Screen::Dashboard => match &app.dashboard {
            Some(d) => dashboard(frame, d, now, body),
            None => frame.render_widget(Paragraph::new("asking the node for its status…"), body),
        },
        Screen::LivePurpose => live_purpose(frame, app, body),
        Screen::Live => live(frame, app, body),
        Screen::Search => search::form(frame, app, body),
        Screen::Results => search::results(frame, app, body),
        Screen::Read => search::read(frame, app, body, pictures),
        Screen::Disposition => alert::disposition(frame, app, now, body, pictures),
        Screen::Audit => audit::audit(frame, app, body),
        Screen::Hotlists => hotlists::hotlists(frame, app, now, body),
        Screen::Admin => admin::menu(frame, app, body),
        Screen::Users => users::users(frame, app, now, body),
        Screen::Limits => limits::limits(frame, app, body),
        Screen::Holds => holds::holds(frame, app, now, body),
        Screen::Requests => requests::requests(frame, app, body),
        Screen::AuditWizard => audit_wizard::wizard(frame, app, body),
        Screen::Peers => peers::peers(frame, app, now, body),
    }
    if let Some(n) = &app.notice {
        frame.render_widget(Paragraph::new(Line::styled(n.as_str(), WARN)), notice);
    }
    frame.render_widget(Paragraph::new(help_bar(help_keys(app), help.width)), help);
}

/// What the help bar lists on the screen shown.
fn help_keys(app: &App) -> &'static [(&'static str, &'static str)] {
    match app.screen {
        Screen::Login => &[("Tab", "next field"), ("Enter", "log in"), ("Esc", "quit")],
        // Short words: every key fits 80 columns without tightening.
        Screen::Dashboard => &[
            ("v", "live"),
            ("s", "find"),
            ("h", "lists"),
            ("a", "audit"),
            ("m", "admin"),
            ("p", "peers"),
            ("r", "refresh"),
            ("l", "logout"),
            ("q", "quit"),
        ],
        Screen::LivePurpose => &[("Enter", "open the live view"), ("Esc", "back")],
        Screen::Live if app.live.muted => {
            &[("m", "unmute"), ("↑↓ Enter", "dispose"), ("Esc", "back")]
        }
        Screen::Live => &[
            ("m", "mute (not high priority)"),
            ("↑↓ Enter", "dispose"),
            ("Esc", "back"),
        ],
        Screen::Search => &[
            ("Tab", "next field"),
            ("Space", "change"),
            ("Enter", "search"),
            ("Esc", "back"),
        ],
        Screen::Results => &[
            ("↑↓", "choose"),
            ("Enter", "open the read"),
            ("Esc", "back"),
        ],
        Screen::Read => &[("Esc", "back to the results")],
        Screen::Disposition => &[("←→", "outcome"), ("Enter", "record"), ("Esc", "back")],
        Screen::Audit if app.audit.focus == crate::app::AuditField::Events => &[
            ("↑↓", "scroll"),
            ("V", "verify chains"),
            ("Q", "quarterly audit"),
            ("Tab", "filters"),
            ("Esc", "back"),
        ],
        Screen::Hotlists if app.hotlists.adding.is_some() => &[
            ("Tab", "next field"),
            ("Space", "change"),
            ("Enter", "add"),
            ("Esc", "cancel"),
        ],
        Screen::Hotlists => &[
            ("n", "new entry"),
            ("p", "priority"),
            ("x", "remove"),
            ("r", "refresh"),
            ("Esc", "back"),
        ],
        Screen::Audit => &[
            ("Tab", "next filter"),
            ("Space", "change"),
            ("Enter", "query"),
            ("Esc", "back"),
        ],
        Screen::Admin => &[("↑↓ Enter", "open"), ("1-5", "open"), ("Esc", "back")],
        Screen::Users => users::keys(app),
        Screen::Limits => &[
            ("Tab", "next field"),
            ("Enter", "set this part"),
            ("Esc", "back"),
        ],
        Screen::Holds => holds::keys(app),
        Screen::Requests => requests::keys(app),
        Screen::AuditWizard => audit_wizard::keys(app),
        Screen::Peers => &[("↑↓", "choose"), ("r", "refresh"), ("Esc", "back")],
    }
}

/// The keys of a form over a list, by what Enter does there.
const ADD_KEYS: &[(&str, &str)] = &[
    ("Tab", "next field"),
    ("Space", "change"),
    ("Enter", "add"),
    ("Esc", "cancel"),
];
const SAVE_KEYS: &[(&str, &str)] = &[
    ("Tab", "next field"),
    ("Space", "change"),
    ("Enter", "save"),
    ("Esc", "cancel"),
];
const RECORD_KEYS: &[(&str, &str)] = &[
    ("Tab", "next field"),
    ("Space", "change"),
    ("Enter", "record"),
    ("Esc", "cancel"),
];

/// The keys while a change waits for `y`.
const CONFIRM_KEYS: &[(&str, &str)] = &[("y", "yes, do it"), ("any other key", "no")];

fn title_line(app: &App) -> Line<'static> {
    let mut spans = vec![Span::styled(
        "ALPR console",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if let Some(d) = &app.dashboard {
        spans.push(Span::raw(format!(
            " · {} ({})",
            d.node_name,
            d.node_role.name()
        )));
    } else {
        spans.push(Span::raw(format!(" · {}", app.attached)));
    }
    if let Some(s) = &app.session {
        spans.push(Span::raw(format!(" · {} ({})", s.user, s.role.name())));
    }
    Line::from(spans)
}

fn login(frame: &mut Frame, app: &App, area: Rect) {
    let form = &app.login;
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, boxed, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(60.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(middle);
    let field = |label: &str, value: String, focused: bool| {
        let style = if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        Line::from(vec![
            Span::raw(format!("{label:>10}  ")),
            Span::styled(format!("{value:<30}"), style),
        ])
    };
    let mut lines = vec![
        Line::styled(
            "Authorized, trained users only. Every access is logged.",
            DIM,
        ),
        Line::raw(""),
        field("user", form.user.clone(), form.focus == Field::User),
        field(
            "password",
            "•".repeat(form.password.chars().count().min(30)),
            form.focus == Field::Password,
        ),
        Line::raw(""),
    ];
    if form.waiting {
        lines.push(Line::raw("logging in…"));
    } else if let Some(r) = &form.refusal {
        lines.push(Line::styled(format!("refused: {r}"), ALARM));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Log in ")),
        boxed,
    );
}

fn age(now: Timestamp, then: Timestamp) -> String {
    let mins = now.0.saturating_sub(then.0).max(0) / 60_000;
    match mins {
        0 => "just now".into(),
        m if m < 120 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

fn bytes(b: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    if b as f64 >= GIB {
        format!("{:.1} GiB", b as f64 / GIB)
    } else if b < 1024 * 1024 {
        format!("{:.0} KiB", (b as f64 / 1024.0).ceil())
    } else {
        format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
    }
}

fn dashboard(frame: &mut Frame, d: &Dashboard, now: Timestamp, area: Rect) {
    let [facts, tables] = Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(area);
    // Eight lines of facts, then the tables.
    let days_left = d.valid_until.0.saturating_sub(now.0) / 86_400_000;
    let mut lines = vec![Line::from(vec![
        Span::raw("alerts     "),
        if d.alerts_pending > 0 {
            Span::styled(format!("{} PENDING", d.alerts_pending), ALARM)
        } else {
            Span::raw("none pending")
        },
    ])];
    lines.push(Line::from(vec![
        Span::raw("hotlists   "),
        match (d.lists_age_ms, d.lists_stale) {
            (None, _) => Span::styled("none held", WARN),
            (Some(ms), true) => Span::styled(
                format!(
                    "STALE: brought up to date {}",
                    age(now, Timestamp(now.0 - ms))
                ),
                WARN,
            ),
            (Some(ms), false) => {
                Span::raw(format!("up to date {}", age(now, Timestamp(now.0 - ms))))
            }
        },
    ]));
    let cameras = if d.cameras.is_empty() {
        Span::styled("none running", DIM)
    } else {
        let text = d
            .cameras
            .iter()
            .map(|c| {
                if c.up {
                    format!("{} {:.1} fps", c.name, c.frames_per_s)
                } else {
                    format!("{} stopped", c.name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        if d.cameras.iter().all(|c| c.up) {
            Span::raw(text)
        } else {
            Span::styled(text, WARN)
        }
    };
    lines.push(Line::from(vec![Span::raw("capture    "), cameras]));
    lines.push(Line::raw(format!(
        "retention  {} d reads, {} plate images, {} overviews, {} audit, {} alerts",
        d.retention[0], d.retention[1], d.retention[2], d.retention[3], d.retention[4]
    )));
    lines.push(Line::raw(format!(
        "reads      {} stored · {} standing hold{} · purge {}",
        d.reads,
        d.standing_holds,
        if d.standing_holds == 1 { "" } else { "s" },
        d.next_purge
            .map_or("not scheduled here".into(), |t| format!("next at {t}")),
    )));
    lines.push(Line::from(vec![
        Span::raw("audit      "),
        match &d.audit_overdue {
            Some(q) => Span::styled(format!("OVERDUE: no signed audit of {q}"), WARN),
            None => Span::raw("up to date"),
        },
    ]));
    let disk = format!(
        "disk       {}{}   certificate {}",
        d.disk_free.map_or("free space unknown".into(), |f| format!(
            "{} free",
            bytes(f)
        )),
        d.database_bytes
            .map_or(String::new(), |b| format!(", database {}", bytes(b))),
        if days_left < 30 {
            format!("EXPIRES in {days_left} days")
        } else {
            format!("{days_left} days left")
        }
    );
    lines.push(Line::raw(disk));
    frame.render_widget(Paragraph::new(lines), facts);

    let [peers, lists] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(tables);
    let peer_rows: Vec<Row> = d
        .peers
        .iter()
        .map(|(name, at)| Row::new(vec![name.clone(), age(now, *at)]))
        .collect();
    frame.render_widget(
        Table::new(peer_rows, [Constraint::Fill(1), Constraint::Length(12)])
            .header(Row::new(vec!["peer", "last sync"]).style(DIM))
            .block(Block::bordered().title(" Peers ")),
        peers,
    );
    let list_rows: Vec<Row> = d
        .hotlists
        .iter()
        .map(|(list, version, at)| {
            let row = Row::new(vec![list.clone(), version.to_string(), age(now, *at)]);
            if d.lists_stale { row.style(WARN) } else { row }
        })
        .collect();
    frame.render_widget(
        Table::new(
            list_rows,
            [
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(12),
            ],
        )
        .header(Row::new(vec!["list", "version", "published"]).style(DIM))
        .block(Block::bordered().title(" Hotlists ")),
        lists,
    );
}

fn clock(t: Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.0)
        .map(|t| t.strftime("%H:%M:%S").to_string())
        .unwrap_or_else(|_| "--:--:--".into())
}

fn live_purpose(frame: &mut Frame, app: &App, area: Rect) {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Fill(1),
    ])
    .areas(area);
    let lines = vec![
        Line::raw("Why are you watching live reads? The reason is logged"),
        Line::raw("with the view, and the reads it shows."),
        Line::raw(""),
        Line::from(vec![
            Span::raw("reason  "),
            Span::styled(
                format!("{:<40}", app.purpose),
                Style::new().add_modifier(Modifier::REVERSED),
            ),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Live view: purpose ")),
        middle,
    );
}

/// Alert lines the live view shows at once; more scroll with the selection.
const ALERT_ROWS: usize = 6;

fn live(frame: &mut Frame, app: &App, area: Rect) {
    let v = &app.live;
    let alert_rows = (v.alerts.len().clamp(1, ALERT_ROWS) + 2) as u16;
    // The window of alerts shown keeps the selected one in it.
    let first = (v.selected + 1)
        .saturating_sub(ALERT_ROWS)
        .min(v.alerts.len().saturating_sub(ALERT_ROWS));
    let [alerts, reads] =
        Layout::vertical([Constraint::Length(alert_rows), Constraint::Min(0)]).areas(area);
    let lines: Vec<Line> = if v.alerts.is_empty() {
        vec![Line::styled("no alerts", DIM)]
    } else {
        v.alerts
            .iter()
            .enumerate()
            .skip(first)
            .take(ALERT_ROWS)
            .map(|(i, a)| {
                let mut style = match (&a.disposed, a.priority) {
                    (Some(_), _) => DIM,
                    (None, Priority::High) => ALARM,
                    (None, _) => WARN,
                };
                if i == v.selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                Line::styled(
                    format!(
                        "{:<6} {:<10} {} on {} ({}){}  {}",
                        a.priority.name().to_uppercase(),
                        a.plate,
                        a.kind,
                        a.list,
                        a.entry,
                        if a.stale { " STALE LIST" } else { "" },
                        a.disposed
                            .as_ref()
                            .map_or("PENDING".to_string(), |d| d.clone()),
                    ),
                    style,
                )
            })
            .collect()
    };
    let pending = v.alerts.iter().filter(|a| a.disposed.is_none()).count();
    let shown = if v.alerts.len() > ALERT_ROWS {
        format!(
            ", {}-{} of {}",
            first + 1,
            (first + ALERT_ROWS).min(v.alerts.len()),
            v.alerts.len()
        )
    } else {
        String::new()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(
            " Alerts: {pending} pending{}{shown} ",
            if v.muted { " (muted)" } else { "" }
        ))),
        alerts,
    );
    let rows: Vec<Row> = v
        .reads
        .iter()
        .map(|r| {
            Row::new(vec![
                clock(r.captured_at),
                r.plate.clone(),
                format!("{:.0}%", r.confidence * 100.0),
                r.region.clone().unwrap_or_else(|| "-".into()),
                r.camera.clone(),
            ])
        })
        .collect();
    let state = if v.open { "LIVE" } else { "closed" };
    let missed = if v.missed > 0 {
        format!(", {} missed", v.missed)
    } else {
        String::new()
    };
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Length(11),
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(vec!["time", "plate", "conf", "region", "camera"]).style(DIM))
        .block(Block::bordered().title(format!(" Reads ({state}: {}{missed}) ", v.reads.len()))),
        reads,
    );
}
