//! The peers and sync screen: peers, the selected one's last failure,
//! the addresses the daemon tries, and the revoked nodes.

use alpr_protocol::Timestamp;
use alpr_protocol::control::{CountsWire, PeerWire};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::search::when;
use super::{ALARM, DIM, FOCUSED, WARN, age};
use crate::app::App;

/// Pending records, short enough for a column: reads/audit events/alerts
/// ("1873/41/2"), "none", or "?" when the node does not know yet (not
/// since it started).
pub(super) fn pending(counts: &Option<CountsWire>) -> String {
    use alpr_protocol::replicate::Collection;
    let Some(counts) = counts else {
        return "?".into();
    };
    let of = |c: Collection| {
        counts
            .iter()
            .filter(|(k, _)| *k == c)
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let (reads, audit, alerts) = (
        of(Collection::Reads),
        of(Collection::AuditEvents),
        of(Collection::Alerts),
    );
    if reads + audit + alerts == 0 {
        "none".into()
    } else {
        format!("{reads}/{audit}/{alerts}")
    }
}

/// A peer's state in a word: in a meeting, its last meeting failed, or idle.
fn state(p: &PeerWire) -> &'static str {
    match (&p.connected_since, &p.last_failure) {
        (Some(_), _) => "meeting",
        (None, Some((at, _))) if p.last_in_sync.is_none_or(|s| s < *at) => "FAILED",
        _ => "idle",
    }
}

pub(super) fn peers(frame: &mut Frame, app: &App, now: Timestamp, area: Rect) {
    let v = &app.peers;
    if let Some(r) = &v.refusal {
        frame.render_widget(
            Paragraph::new(Line::styled(format!("refused: {r}"), ALARM))
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Peers and sync ")),
            area,
        );
        return;
    }
    if !v.asked {
        frame.render_widget(Paragraph::new("asking the node for its peers…"), area);
        return;
    }
    let address_lines: Vec<Line> = v
        .addresses
        .iter()
        .flat_map(|a| {
            let met = a.last_met.map_or("never met".into(), |(id, at)| {
                format!("met {} {}", id.short(), age(now, at))
            });
            let mut lines = vec![Line::raw(format!("{}: {met}", a.address))];
            if let Some((at, why)) = &a.last_failure
                && a.last_met.is_none_or(|(_, m)| m < *at)
            {
                lines.push(Line::styled(
                    format!("  FAILED {}: {why}", age(now, *at)),
                    WARN,
                ));
            }
            lines
        })
        .collect();
    let addresses = (address_lines.len() as u16).min(4) + 2;
    let revoked = (v.revoked.len() as u16).clamp(1, 4) + 3;
    let [table, detail, addr, rev] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(4),
        Constraint::Length(if v.addresses.is_empty() { 0 } else { addresses }),
        Constraint::Length(revoked),
    ])
    .areas(area);

    let rows: Vec<Row> = v
        .peers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = state(p);
            let row = Row::new(vec![
                p.name.clone().unwrap_or_else(|| p.node.short()),
                p.role.map_or("?", |r| r.name()).to_string(),
                s.to_string(),
                p.last_in_sync.map_or("never".into(), |t| age(now, t)),
                pending(&p.pending_out),
                pending(&p.pending_in),
            ]);
            let row = if s == "FAILED" { row.style(WARN) } else { row };
            if i == v.selected {
                row.style(FOCUSED)
            } else {
                row
            }
        })
        .collect();
    let body = if rows.is_empty() {
        Table::new(
            vec![Row::new(vec!["no peer met yet"]).style(DIM)],
            [Constraint::Fill(1)],
        )
    } else {
        Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(11),
                Constraint::Length(15),
                Constraint::Length(15),
            ],
        )
        .header(
            Row::new(vec![
                "peer",
                "role",
                "state",
                "last sync",
                "to send r/a/al",
                "to take r/a/al",
            ])
            .style(DIM),
        )
    };
    frame.render_widget(
        body.block(Block::bordered().title(format!(" Peers and sync: {} ", v.peers.len()))),
        table,
    );

    let line = match v.peers.get(v.selected) {
        None => Line::raw(""),
        Some(p) => match &p.last_failure {
            Some((at, why)) => Line::styled(
                format!(
                    "{}: last failed {}: {why}",
                    p.name.as_deref().unwrap_or("?"),
                    when(*at)
                ),
                WARN,
            ),
            None => Line::styled(
                format!(
                    "{} ({}): {} meetings since the node started, none failed",
                    p.name.as_deref().unwrap_or("?"),
                    p.node.short(),
                    p.meetings
                ),
                DIM,
            ),
        },
    };
    frame.render_widget(
        Paragraph::new(line)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Selected ")),
        detail,
    );

    if !v.addresses.is_empty() {
        frame.render_widget(
            Paragraph::new(address_lines)
                .block(Block::bordered().title(" Addresses this node tries ")),
            addr,
        );
    }

    let rows: Vec<Row> = v
        .revoked
        .iter()
        .map(|r| {
            Row::new(vec![
                r.name.clone(),
                when(r.at)[..10].to_string(),
                r.by.clone(),
                r.reason.clone(),
            ])
        })
        .collect();
    let body = if rows.is_empty() {
        Table::new(
            vec![Row::new(vec!["no node revoked"]).style(DIM)],
            [Constraint::Fill(1)],
        )
    } else {
        Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(vec!["node", "revoked", "by", "reason"]).style(DIM))
    };
    frame.render_widget(
        body.block(Block::bordered().title(" Revoked nodes (refused as peers) ")),
        rev,
    );
}
