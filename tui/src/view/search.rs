//! The search form, its results, and one read with its images.

use alpr_protocol::Timestamp;
use alpr_protocol::control::Hit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{ALARM, DIM, FOCUSED, WARN};
use crate::app::{App, SearchField};
use crate::pictures::Pictures;

/// A time in full, UTC, as the form takes it.
pub(super) fn when(t: Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.0)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| "----------".into())
}

/// Label and value columns of the search form.
const AT: (usize, usize) = (11, 28);

pub(super) fn form(frame: &mut Frame, app: &App, area: Rect) {
    let f = &app.search;
    let input = |label, value, focused, hint| super::input(label, AT, value, focused, hint);
    let choice = |label, value, focused, hint| super::choice(label, AT.0, value, focused, hint);
    let mut lines = vec![
        input(
            "plate",
            f.query.as_str(),
            f.focus == SearchField::Query,
            "* any run, ? one character",
        ),
        choice(
            "O and 0",
            if f.look_alike { "alike" } else { "distinct" },
            f.focus == SearchField::LookAlike,
            "Space changes",
        ),
        input(
            "from (UTC)",
            f.from.as_str(),
            f.focus == SearchField::From,
            "2026-12-07 or 2026-12-07 14:30",
        ),
        input(
            "to (UTC)",
            f.to.as_str(),
            f.focus == SearchField::To,
            "empty: no bound",
        ),
        input(
            "camera",
            f.camera.as_str(),
            f.focus == SearchField::Camera,
            "empty: every camera",
        ),
        input(
            "node",
            f.node.as_str(),
            f.focus == SearchField::Node,
            "name or id; empty: every node",
        ),
        Line::raw(""),
        choice(
            "purpose",
            f.kind().name(),
            f.focus == SearchField::Kind,
            "Space changes",
        ),
        input(
            "reason",
            f.reason.as_str(),
            f.focus == SearchField::Reason,
            "why you search",
        ),
        input(
            "case",
            f.case.as_str(),
            f.focus == SearchField::Case,
            "an investigation needs one",
        ),
        Line::raw(""),
    ];
    if f.waiting {
        lines.push(Line::raw("searching…"));
    } else if let Some(r) = &f.refusal {
        lines.push(Line::styled(format!("refused: {r}"), ALARM));
    }
    lines.push(Line::styled(
        "Your name, the time, the purpose and the query are logged.",
        DIM,
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Search reads ")),
        area,
    );
}

pub(super) fn results(frame: &mut Frame, app: &App, area: Rect) {
    let Some(r) = &app.results else { return };
    let rows: Vec<Row> = r
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| {
            let row = match hit {
                Hit::Read(read) => Row::new(vec![
                    when(read.captured_at),
                    read.plate.clone(),
                    format!("{:.0}%", read.confidence * 100.0),
                    read.region.clone().unwrap_or_else(|| "-".into()),
                    read.camera.clone(),
                    read.origin.short(),
                    read.seq.to_string(),
                ]),
                Hit::Damaged {
                    origin,
                    seq,
                    reason,
                } => Row::new(vec![
                    "-".to_string(),
                    "DAMAGED".to_string(),
                    String::new(),
                    String::new(),
                    reason.chars().take(120).collect(),
                    origin.short(),
                    seq.to_string(),
                ])
                .style(ALARM),
            };
            if i == r.selected {
                row.style(FOCUSED)
            } else {
                row
            }
        })
        .collect();
    let purpose = match (&r.purpose.kind, &r.purpose.case) {
        (Some(k), Some(c)) => format!("{} {c}", k.name()),
        (Some(k), None) => k.name().to_string(),
        _ => String::new(),
    };
    let title = format!(
        " {} · {} match{}, {} shown · {purpose} ",
        r.asked,
        r.total,
        if r.total == 1 { "" } else { "es" },
        r.hits.len()
    );
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no read matches", DIM))
                .block(Block::bordered().title(title)),
            area,
        );
        return;
    }
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(19),
                Constraint::Length(11),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Fill(1),
                Constraint::Length(16),
                Constraint::Length(7),
            ],
        )
        .header(
            Row::new(vec![
                "time (UTC)",
                "plate",
                "conf",
                "region",
                "camera",
                "node",
                "seq",
            ])
            .style(DIM),
        )
        .block(Block::bordered().title(title)),
        area,
    );
}

pub(super) fn read(frame: &mut Frame, app: &App, area: Rect, pictures: &mut Pictures) {
    let Some(d) = &app.read else { return };
    let r = &d.read;
    let [top, bottom] = Layout::vertical([Constraint::Length(9), Constraint::Min(0)]).areas(area);
    let [facts, crop] = Layout::horizontal([Constraint::Length(44), Constraint::Min(0)]).areas(top);
    let location = match r.location {
        Some((lat, lon)) => format!("{lat:.5}, {lon:.5} ({})", r.fix.name()),
        None => format!("none ({})", r.fix.name()),
    };
    let lines = vec![
        Line::from(vec![
            Span::raw("plate    "),
            Span::styled(r.plate.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("  {:.0}%", r.confidence * 100.0)),
        ]),
        Line::raw(format!(
            "region   {}",
            r.region.as_deref().unwrap_or("unknown")
        )),
        Line::raw(format!("time     {} UTC", when(r.captured_at))),
        Line::raw(format!("camera   {}", r.camera)),
        Line::raw(format!("where    {location}")),
        Line::raw(format!("read     {}/{}", r.origin.short(), r.seq)),
        Line::styled("opening this read is logged", DIM),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Read ")),
        facts,
    );
    let crop_block = Block::bordered().title(" Plate ");
    let inner = crop_block.inner(crop);
    frame.render_widget(crop_block, crop);
    if d.crop.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no plate image held", DIM)),
            inner,
        );
    } else {
        pictures.draw(frame, inner, &d.crop);
    }
    let over_block = Block::bordered().title(" Overview ");
    let inner = over_block.inner(bottom);
    frame.render_widget(over_block, bottom);
    match &d.overview {
        None => frame.render_widget(Paragraph::new("asking the node for the overview…"), inner),
        Some(Ok(jpeg)) if jpeg.is_empty() => frame.render_widget(
            Paragraph::new(Line::styled(
                "no overview held (none taken, or past its retention)",
                DIM,
            )),
            inner,
        ),
        Some(Ok(jpeg)) => pictures.draw(frame, inner, jpeg),
        Some(Err(e)) => frame.render_widget(
            Paragraph::new(Line::styled(format!("refused: {e}"), WARN)).wrap(Wrap { trim: true }),
            inner,
        ),
    }
}
