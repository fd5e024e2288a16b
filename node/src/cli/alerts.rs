//! `alerts`: hotlist hits and their dispositions: list, show, dispose, report.

use std::path::PathBuf;

use alpr_protocol::alert::{HitKind, Outcome as Disposition};
use alpr_protocol::control::{AlertWire, ControlRequest, ControlResponse};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use super::Outcome;
use super::args::{PurposeArgs, SessionArgs};
use super::output::{Table, document, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time};

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, pending first, then by priority, newest first (for a stated purpose).
    List(ListArgs),
    /// One alert: the entry with its vehicle, how the read matched, and its
    /// dispositions; optionally writes the read's plate crop.
    Show(ShowArgs),
    /// Close an alert with a disposition (Officers, Supervisors, Administrators).
    Dispose(DisposeArgs),
    /// Counts of alerts by list, disposition, camera and day (for a stated purpose).
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// Only alerts no disposition has closed yet.
    #[arg(long)]
    pending: bool,
    /// Alerts to show at most.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// One JSON document (schema alpr-node.alerts) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// The alert: ORIGIN/SEQ as `alerts list` prints it.
    id: String,
    /// Write the read's plate crop (JPEG) here.
    #[arg(long, value_name = "FILE")]
    crop_out: Option<PathBuf>,
    /// One JSON document (schema alpr-node.alert) instead of text.
    #[arg(long)]
    json: bool,
}

/// How an alert ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DispositionArg {
    /// Confirmed visually and by dispatch.
    Confirmed,
    /// The reader misread the plate: not the listed vehicle.
    Misread,
    /// The plate matches but its state or country does not.
    WrongState,
    /// Closed for another reason (needs --reason).
    Dismissed,
}

impl DispositionArg {
    fn wire(self) -> Disposition {
        match self {
            DispositionArg::Confirmed => Disposition::Confirmed,
            DispositionArg::Misread => Disposition::Misread,
            DispositionArg::WrongState => Disposition::WrongState,
            DispositionArg::Dismissed => Disposition::Dismissed,
        }
    }
}

#[derive(Debug, Args)]
pub struct DisposeArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// The alert: ORIGIN/SEQ as `alerts list` prints it.
    id: String,
    /// The disposition.
    #[arg(long = "as", value_enum)]
    outcome: DispositionArg,
    /// Why (required to dismiss; at most 512 bytes).
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// Alerts raised from (a date, or a time with its offset).
    #[arg(long, value_parser = When::parse)]
    from: Option<When>,
    /// Alerts raised up to.
    #[arg(long, value_parser = When::parse)]
    to: Option<When>,
    /// One JSON document (schema alpr-node.hit-report) instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(c: AlertsCommand) -> Result<Outcome> {
    match c {
        AlertsCommand::List(a) => list(a),
        AlertsCommand::Show(a) => show(a),
        AlertsCommand::Dispose(a) => dispose(a),
        AlertsCommand::Report(a) => report(a),
    }
}

fn id_of(a: &AlertWire) -> String {
    format!("{}/{}", a.origin.short(), a.seq)
}

fn kind_text(kind: HitKind) -> String {
    match kind {
        HitKind::LookAlike { changes } => format!("look-alike ({changes})"),
        other => other.name().to_string(),
    }
}

fn state_text(a: &AlertWire) -> String {
    a.dispositions
        .first()
        .map_or("PENDING".to_string(), |d| d.body.outcome.name().to_string())
}

fn flags(a: &AlertWire) -> String {
    let b = &a.alert;
    let mut f = Vec::new();
    if b.retro {
        f.push("retro");
    }
    if b.stale {
        f.push("stale lists");
    }
    if b.hit.region_mismatch {
        f.push("region differs");
    }
    if b.hit.from_candidate {
        f.push("candidate");
    }
    if b.entry.detail.covert {
        f.push("covert");
    }
    f.join(", ")
}

fn stale_warning(stale: bool, age_ms: Option<i64>) {
    if stale {
        let hours = age_ms.unwrap_or(0) / 3_600_000;
        eprintln!(
            "warning: this node's hotlists were last brought up to date {hours} h ago: they may be stale; confirm every hit with dispatch"
        );
    }
}

fn alert_json(a: &AlertWire) -> serde_json::Value {
    let b = &a.alert;
    let e = &b.entry;
    serde_json::json!({
        "id": id_of(a),
        "origin": a.origin.to_hex(),
        "seq": a.seq,
        "raised": format_time(a.raised_at),
        "state": state_text(a).to_lowercase(),
        "priority": e.detail.priority.name(),
        "plate": b.plate.as_str(),
        "read": format!("{}/{}", b.read.origin.short(), b.read.seq),
        "read_time": format_time(b.read_at),
        "read_region": b.read_region,
        "camera": b.camera,
        "list": b.list.name,
        "list_version": b.list.version,
        "list_published": format_time(b.list.published_at),
        "local_entry": b.list.local_id,
        "entry": {
            "plate": e.plate.as_str(),
            "pattern": b.pattern,
            "region": e.region,
            "category": e.category.name(),
            "reference": e.reference,
            "vehicle": e.detail.vehicle.describe(),
            "notes": e.detail.notes,
            "source": e.detail.source,
            "covert": e.detail.covert,
        },
        "match": {
            "kind": b.hit.kind.name(),
            "changes": match b.hit.kind { HitKind::LookAlike { changes } => Some(changes), _ => None },
            "score": (f64::from(b.hit.score) * 1000.0).round() / 1000.0,
            "text": b.hit.text,
            "from_candidate": b.hit.from_candidate,
            "differs": b.hit.differs.iter().map(|d| serde_json::json!({"at": d.at, "read": d.read.to_string(), "entry": d.entry.to_string()})).collect::<Vec<_>>(),
            "region_mismatch": b.hit.region_mismatch,
        },
        "stale": b.stale,
        "retro": b.retro,
        "dispositions": a.dispositions.iter().map(|d| serde_json::json!({
            "id": format!("{}/{}", d.origin.short(), d.seq),
            "time": format_time(d.at),
            "outcome": d.body.outcome.name(),
            "reason": d.body.reason,
            "by": d.body.by,
        })).collect::<Vec<_>>(),
    })
}

fn list(args: ListArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::ListAlerts {
        token,
        purpose: args.purpose.wire(),
        pending_only: args.pending,
        limit: args.limit,
    })?;
    let ControlResponse::Alerts {
        alerts,
        stale,
        lists_age_ms,
    } = response
    else {
        return Err(unexpected(&response));
    };
    if args.json {
        let items = alerts.iter().map(alert_json).collect();
        print_json(&listing(
            "alerts",
            alerts.len() as u64,
            items,
            serde_json::json!({ "lists_stale": stale, "lists_age_ms": lists_age_ms }),
        ))?;
    } else {
        stale_warning(stale, lists_age_ms);
        let mut t = Table::new(&[
            "ID", "RAISED", "PRIORITY", "PLATE", "LIST", "ENTRY", "MATCH", "STATE", "FLAGS",
        ]);
        for a in &alerts {
            let b = &a.alert;
            t.row(vec![
                id_of(a),
                format_time(a.raised_at),
                b.entry.detail.priority.name().to_string(),
                b.plate.to_string(),
                b.list.name.clone(),
                b.pattern
                    .clone()
                    .unwrap_or_else(|| b.entry.plate.to_string()),
                kind_text(b.hit.kind),
                state_text(a),
                flags(a),
            ]);
        }
        t.print(&mut std::io::stdout().lock())?;
        let pending = alerts.iter().filter(|a| a.dispositions.is_empty()).count();
        println!("{} alerts shown, {pending} pending", alerts.len());
    }
    s.logout()?;
    Ok(if alerts.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}

fn show(args: ShowArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let id = s.record_id(&args.id)?;
    let token = s.token;
    let response = s.send(ControlRequest::ShowAlert {
        token,
        purpose: args.purpose.wire(),
        origin: id.origin,
        seq: id.seq,
    })?;
    let ControlResponse::Alert { alert, crop, stale } = response else {
        return Err(unexpected(&response));
    };
    let crop_file = match (&args.crop_out, &crop) {
        (Some(path), Some(jpeg)) => {
            std::fs::write(path, jpeg).with_context(|| format!("writing {}", path.display()))?;
            Some(path.display().to_string())
        }
        (Some(_), None) => {
            eprintln!(
                "no plate crop to write: the read's crop is past its retention or not held here"
            );
            None
        }
        _ => None,
    };
    if args.json {
        let mut doc = alert_json(&alert);
        if let Some(map) = doc.as_object_mut() {
            map.insert("crop_file".into(), crop_file.into());
            map.insert("lists_stale_now".into(), stale.into());
        }
        print_json(&document("alert", doc))?;
    } else {
        stale_warning(stale, None);
        let b = &alert.alert;
        let e = &b.entry;
        println!(
            "alert {}  {}  {} priority  {}",
            id_of(&alert),
            format_time(alert.raised_at),
            e.detail.priority.name(),
            state_text(&alert)
        );
        println!(
            "read     {} at {}  camera {}{}  ({}/{})",
            b.plate,
            format_time(b.read_at),
            b.camera,
            b.read_region
                .as_ref()
                .map(|r| format!("  region {r}"))
                .unwrap_or_default(),
            b.read.origin.short(),
            b.read.seq
        );
        println!(
            "entry    {}{} on {} (version {}, published {}): {} {}",
            b.pattern.clone().unwrap_or_else(|| e.plate.to_string()),
            e.region
                .as_ref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default(),
            b.list.name,
            b.list.version,
            format_time(b.list.published_at),
            e.category.name(),
            e.reference
        );
        if !e.detail.vehicle.is_empty() {
            println!("vehicle  {}", e.detail.vehicle.describe());
        }
        if !e.detail.notes.is_empty() {
            println!("notes    {}", e.detail.notes);
        }
        let differs: Vec<String> = b
            .hit
            .differs
            .iter()
            .map(|d| format!("position {}: read {} for {}", d.at + 1, d.read, d.entry))
            .collect();
        println!(
            "match    {} (score {:.2}) on '{}'{}{}",
            kind_text(b.hit.kind),
            b.hit.score,
            b.hit.text,
            if differs.is_empty() {
                String::new()
            } else {
                format!(": {}", differs.join(", "))
            },
            if b.hit.region_mismatch {
                "; REGION DIFFERS from the entry's"
            } else {
                ""
            }
        );
        let f = flags(&alert);
        if !f.is_empty() {
            println!("flags    {f}");
        }
        for d in &alert.dispositions {
            println!(
                "disposed {} by {} at {}{}",
                d.body.outcome.name(),
                d.body.by,
                format_time(d.at),
                if d.body.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", d.body.reason)
                }
            );
        }
        if let Some(f) = crop_file {
            println!("plate crop written to {f}");
        }
    }
    s.logout()?;
    Ok(Outcome::Done)
}

fn dispose(args: DisposeArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let id = s.record_id(&args.id)?;
    let token = s.token;
    let response = s.send(ControlRequest::DisposeAlert {
        token,
        origin: id.origin,
        seq: id.seq,
        outcome: args.outcome.wire(),
        reason: args.reason.clone().unwrap_or_default(),
    })?;
    let ControlResponse::Disposed { origin, seq } = response else {
        return Err(unexpected(&response));
    };
    println!(
        "alert {} disposed of as {} (disposition {}/{seq})",
        args.id,
        args.outcome.wire().name(),
        origin.short()
    );
    s.logout()?;
    Ok(Outcome::Done)
}

fn report(args: ReportArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::HitReport {
        token,
        purpose: args.purpose.wire(),
        from: args
            .from
            .as_ref()
            .map_or(alpr_protocol::Timestamp(i64::MIN), When::start),
        to: args
            .to
            .as_ref()
            .map_or(alpr_protocol::Timestamp(i64::MAX), When::end),
    })?;
    let ControlResponse::HitReport {
        alerts,
        pending,
        by_list,
        by_outcome,
        by_camera,
        by_day,
    } = response
    else {
        return Err(unexpected(&response));
    };
    let groups = [
        ("list", &by_list),
        ("disposition", &by_outcome),
        ("camera", &by_camera),
        ("day", &by_day),
    ];
    if args.json {
        let mut doc = serde_json::json!({ "alerts": alerts, "pending": pending });
        if let Some(map) = doc.as_object_mut() {
            for (name, counts) in groups {
                let obj: serde_json::Map<String, serde_json::Value> = counts
                    .iter()
                    .map(|(k, v)| (k.clone(), (*v).into()))
                    .collect();
                map.insert(format!("by_{name}"), obj.into());
            }
        }
        print_json(&document("hit-report", doc))?;
    } else {
        println!("{alerts} alerts, {pending} pending");
        for (name, counts) in groups {
            let mut t = Table::new(&["BY", "COUNT"]);
            for (k, v) in counts.iter() {
                t.row(vec![format!("{name} {k}"), v.to_string()]);
            }
            if !counts.is_empty() {
                t.print(&mut std::io::stdout().lock())?;
            }
        }
    }
    s.logout()?;
    Ok(if alerts == 0 {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}
