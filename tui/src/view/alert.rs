//! An alert's disposition form.

use alpr_protocol::Timestamp;
use alpr_protocol::alert::OUTCOMES;
use alpr_protocol::hotlist::Priority;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::search::when;
use super::{ALARM, DIM, WARN, age};
use crate::app::App;
use crate::pictures::Pictures;

pub(super) fn disposition(
    frame: &mut Frame,
    app: &App,
    now: Timestamp,
    area: Rect,
    pictures: &mut Pictures,
) {
    let Some(f) = &app.disposition else { return };
    let a = &f.alert.alert;
    let e = &a.entry;
    let [top, bottom] = Layout::vertical([Constraint::Min(9), Constraint::Length(7)]).areas(area);
    let [facts, crop] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Min(0)]).areas(top);
    let priority = match e.detail.priority {
        Priority::High => ALARM,
        _ => WARN,
    };
    let vehicle = if e.detail.vehicle.is_empty() {
        "not described".to_string()
    } else {
        e.detail.vehicle.describe()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", e.detail.priority.name().to_uppercase()),
                priority,
            ),
            Span::styled(
                a.plate.to_string(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                " {} · {} {:.0}%",
                e.category.name(),
                a.hit.kind.name(),
                a.hit.score * 100.0
            )),
        ]),
        Line::raw(format!(
            "entry    {} {}  ref {}",
            e.plate,
            e.region.as_deref().unwrap_or(""),
            e.reference
        )),
        Line::raw(format!("vehicle  {vehicle}")),
        Line::raw(format!(
            "list     {} v{} (published {}){}",
            a.list.name,
            a.list.version,
            age(now, a.list.published_at),
            if e.detail.source.is_empty() {
                String::new()
            } else {
                format!(" from {}", e.detail.source)
            }
        )),
        Line::raw(format!("read     {} UTC on {}", when(a.read_at), a.camera)),
    ];
    if !e.detail.notes.is_empty() {
        lines.push(Line::raw(format!("notes    {}", e.detail.notes)));
    }
    if a.hit.region_mismatch {
        lines.push(Line::styled(
            format!(
                "REGION DIFFERS: read {}, entry {}",
                a.read_region.as_deref().unwrap_or("?"),
                e.region.as_deref().unwrap_or("?")
            ),
            WARN,
        ));
    }
    if a.stale || f.stale {
        lines.push(Line::styled("STALE LIST: confirm with dispatch", WARN));
    }
    if let Some(d) = f.alert.dispositions.last() {
        lines.push(Line::styled(
            format!("closed: {} by {}", d.body.outcome.name(), d.body.by),
            DIM,
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(format!(
                " Alert {}/{} ",
                f.alert.origin.short(),
                f.alert.seq
            ))),
        facts,
    );
    let crop_block = Block::bordered().title(" Plate as read ");
    let inner = crop_block.inner(crop);
    frame.render_widget(crop_block, crop);
    if f.crop.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no plate image held", DIM)),
            inner,
        );
    } else {
        pictures.draw(frame, inner, &f.crop);
    }
    let mut choices = vec![Span::raw("outcome  ")];
    for (i, o) in OUTCOMES.iter().enumerate() {
        let style = if i == f.outcome % OUTCOMES.len() {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        choices.push(Span::styled(format!(" {} ", o.name()), style));
        choices.push(Span::raw(" "));
    }
    let shown = super::tail(f.reason.as_str(), 50);
    let mut form = vec![
        Line::from(choices),
        Line::from(vec![
            Span::raw("reason   "),
            Span::styled(
                format!("{shown:<50}"),
                Style::new().add_modifier(Modifier::UNDERLINED),
            ),
        ]),
        Line::styled(
            "a dismissal needs a reason; the disposition is signed with your name",
            DIM,
        ),
    ];
    if f.waiting {
        form.push(Line::raw("recording…"));
    } else if let Some(r) = &f.refusal {
        form.push(Line::styled(format!("refused: {r}"), ALARM));
    }
    frame.render_widget(
        Paragraph::new(form)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Disposition ")),
        bottom,
    );
}
