//! The administration menu: one line a screen, with what it is for.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{DIM, FOCUSED};
use crate::app::{ADMIN_ITEMS, App};

pub(super) fn menu(frame: &mut Frame, app: &App, area: Rect) {
    let mut lines = vec![
        Line::styled(
            "Every change here is the node's to allow, and every one is logged.",
            DIM,
        ),
        Line::raw(""),
    ];
    // Narrow: what each is for goes under its name.
    let wide = area.width >= 100;
    for (i, item) in ADMIN_ITEMS.iter().enumerate() {
        let name = format!(" {} {:<28}", i + 1, item.name());
        let name = if i == app.admin.selected {
            Span::styled(name, FOCUSED)
        } else {
            Span::raw(name)
        };
        let about = Span::styled(format!("  {}", item.about()), DIM);
        if wide {
            lines.push(Line::from(vec![name, about]));
        } else {
            lines.push(Line::from(name));
            lines.push(Line::from(vec![Span::raw("   "), about]));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Administration and oversight ")),
        area,
    );
}
