//! `watch`: the daemon's live events, for a stated purpose, as lines.

use std::io::Write;

use alpr_protocol::control::{ControlRequest, ControlResponse, EventWire, SyncStatusWire};
use anyhow::{Result, bail};
use clap::Args;

use super::args::{PurposeArgs, SessionArgs};
use super::output::document;
use super::session::{Refusal, Session, unexpected};
use super::time::format_time;
use super::{Outcome, Usage};
use crate::control::ControlClient;

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// Stop after this many reads (else run until interrupted or the session ends).
    #[arg(long)]
    count: Option<u64>,
    /// One JSON document per line (schema alpr-node.event) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn watch(args: WatchArgs) -> Result<Outcome> {
    if args.count == Some(0) {
        bail!(Usage("--count must be at least 1".into()));
    }
    let s = Session::open(&args.session)?;
    if !s.is_remote() {
        bail!(Refusal {
            kind: alpr_protocol::control::ErrorKind::Invalid,
            message: format!(
                "no daemon serves {}: a live view follows a running `alpr-node serve`",
                args.session.data.dir.display()
            ),
        });
    }
    let Some(mut stream) = ControlClient::connect(&args.session.data.dir) else {
        bail!("the daemon stopped answering");
    };
    let first = stream.call(&ControlRequest::Subscribe {
        token: s.token,
        purpose: args.purpose.wire(),
    })?;
    match first {
        ControlResponse::Subscribed => {}
        ControlResponse::Error { kind, message } => return Err(Refusal { kind, message }.into()),
        other => return Err(unexpected(&other)),
    }
    // On standard error, so scripts know the view is open before they act.
    eprintln!("watching; interrupt to stop");
    let mut reads = 0u64;
    let mut out = std::io::stdout().lock();
    while let Some(frame) = stream.next_frame()? {
        let (events, missed) = match frame {
            ControlResponse::Events { events, missed } => (events, missed),
            ControlResponse::Error { kind, message } => {
                return Err(Refusal { kind, message }.into());
            }
            other => return Err(unexpected(&other)),
        };
        if missed > 0 {
            if args.json {
                let doc = document(
                    "event",
                    serde_json::json!({ "kind": "missed", "count": missed }),
                );
                writeln!(out, "{doc}")?;
            } else {
                writeln!(out, "… {missed} events missed (this terminal fell behind)")?;
            }
        }
        for event in &events {
            if args.json {
                writeln!(out, "{}", json(event))?;
            } else {
                writeln!(out, "{}", line(event))?;
            }
            if matches!(event, EventWire::Read(_)) {
                reads += 1;
                if args.count.is_some_and(|n| reads >= n) {
                    out.flush()?;
                    drop(stream);
                    s.logout()?;
                    return Ok(Outcome::Done);
                }
            }
        }
        out.flush()?;
    }
    bail!("the daemon closed the live view")
}

fn line(event: &EventWire) -> String {
    match event {
        EventWire::Read(r) => format!(
            "{}  read {} {:.0}%{}  camera {}  {}/{}",
            format_time(r.captured_at),
            r.plate,
            r.confidence * 100.0,
            r.region
                .as_ref()
                .map(|g| format!(" {g}"))
                .unwrap_or_default(),
            r.camera,
            r.origin.short(),
            r.seq
        ),
        EventWire::Sync {
            at,
            peer,
            name,
            status,
        } => {
            let who = name.clone().unwrap_or_else(|| peer.short());
            let what = match status {
                SyncStatusWire::Started => "meeting started".to_string(),
                SyncStatusWire::InSync {
                    reads,
                    audit_events,
                } => format!("in sync: stored {reads} reads, {audit_events} audit events"),
                SyncStatusWire::Failed(why) => format!("failed: {why}"),
            };
            format!("{}  sync with {who}: {what}", format_time(*at))
        }
        EventWire::Purge {
            at,
            by,
            purged,
            held,
            audit_events,
            images,
        } => format!(
            "{}  purge by {by}: {purged} reads deleted, {held} held, {images} images, {audit_events} audit events",
            format_time(*at)
        ),
        EventWire::Alert {
            origin,
            seq,
            at,
            alert_origin,
            alert_seq,
            disposed: Some(outcome),
            ..
        } => format!(
            "{}  alert {}/{alert_seq} disposed of as {outcome} ({}/{seq})",
            format_time(*at),
            alert_origin.short(),
            origin.short()
        ),
        EventWire::Alert {
            origin,
            seq,
            at,
            plate,
            list,
            entry,
            priority,
            kind,
            stale,
            retro,
            ..
        } => format!(
            "{}  ALERT {} {plate} on {list} '{entry}' ({kind}){}{}  {}/{seq}",
            format_time(*at),
            priority.name().to_uppercase(),
            if *retro { " retro" } else { "" },
            if *stale { "  [lists stale]" } else { "" },
            origin.short()
        ),
    }
}

fn json(event: &EventWire) -> serde_json::Value {
    let fields = match event {
        EventWire::Read(r) => {
            let mut doc = super::reads::read_json(r);
            if let Some(map) = doc.as_object_mut() {
                map.insert("kind".into(), "read".into());
            }
            doc
        }
        EventWire::Sync {
            at,
            peer,
            name,
            status,
        } => {
            let (state, reads, audit_events, reason) = match status {
                SyncStatusWire::Started => ("started", None, None, None),
                SyncStatusWire::InSync {
                    reads,
                    audit_events,
                } => ("in sync", Some(*reads), Some(*audit_events), None),
                SyncStatusWire::Failed(why) => ("failed", None, None, Some(why.clone())),
            };
            serde_json::json!({
                "kind": "sync",
                "time": format_time(*at),
                "peer": peer.to_hex(),
                "name": name,
                "state": state,
                "reads": reads,
                "audit_events": audit_events,
                "reason": reason,
            })
        }
        EventWire::Purge {
            at,
            by,
            purged,
            held,
            audit_events,
            images,
        } => serde_json::json!({
            "kind": "purge",
            "time": format_time(*at),
            "by": by,
            "purged": purged,
            "held": held,
            "images": images,
            "audit_events": audit_events,
        }),
        EventWire::Alert {
            origin,
            seq,
            at,
            alert_origin,
            alert_seq,
            disposed,
            plate,
            list,
            entry,
            priority,
            kind,
            stale,
            retro,
        } => serde_json::json!({
            "kind": if disposed.is_some() { "disposition" } else { "alert" },
            "time": format_time(*at),
            "origin": origin.to_hex(),
            "seq": seq,
            "alert_origin": alert_origin.to_hex(),
            "alert_seq": alert_seq,
            "outcome": disposed,
            "plate": plate,
            "list": list,
            "entry": entry,
            "priority": priority.name(),
            "match": kind,
            "stale": stale,
            "retro": retro,
        }),
    };
    document("event", fields)
}
