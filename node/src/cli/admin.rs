//! Running a node: its status, retention, login limits, purges and revoking a lost car.

use alpr_protocol::control::{ControlRequest, ControlResponse};
use anyhow::Result;
use clap::Args;

use super::Outcome;
use super::args::SessionArgs;
use super::output::{Table, count, document, print_json};
use super::session::{Session, unexpected};
use super::time::{format_time, now};

/// `status`: this node, its peers and lists, its certificate and disk.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// One JSON document (schema alpr-node.status) instead of text.
    #[arg(long)]
    json: bool,
}

/// `peers`: each peer, its meetings and what is pending each way, and the revoked nodes.
#[derive(Debug, Args)]
pub struct PeersArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// One JSON document (schema alpr-node.peers) instead of text.
    #[arg(long)]
    json: bool,
}

/// Pending records in words: "12 reads, 40 audit events", "none", or "?"
/// when the node does not know yet.
pub fn pending_text(counts: &Option<alpr_protocol::control::CountsWire>) -> String {
    let Some(counts) = counts else {
        return "?".into();
    };
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| count(*n, c.name(), &format!("{}s", c.name())))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

pub fn peers(args: PeersArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Peers { token })?;
    let ControlResponse::Peers {
        peers,
        addresses,
        revoked,
    } = response
    else {
        return Err(unexpected(&response));
    };
    s.logout()?;
    let now = now();
    let counts = |c: &Option<alpr_protocol::control::CountsWire>| {
        c.as_ref().map(|c| {
            c.iter()
                .map(|(k, n)| (k.name().to_string(), *n))
                .collect::<std::collections::BTreeMap<_, _>>()
        })
    };
    if args.json {
        print_json(&document(
            "peers",
            serde_json::json!({
                "peers": peers.iter().map(|p| serde_json::json!({
                    "id": p.node.to_hex(),
                    "name": p.name,
                    "role": p.role.map(|r| r.name()),
                    "connected_since": p.connected_since.map(format_time),
                    "last_in_sync": p.last_in_sync.map(format_time),
                    "meetings": p.meetings,
                    "failures": p.failures,
                    "last_failure": p.last_failure.as_ref().map(|(at, why)| serde_json::json!({
                        "at": format_time(*at), "reason": why,
                    })),
                    "pending_out": counts(&p.pending_out),
                    "pending_in": counts(&p.pending_in),
                })).collect::<Vec<_>>(),
                "addresses": addresses.iter().map(|a| serde_json::json!({
                    "address": a.address,
                    "last_try": format_time(a.last_try),
                    "last_met": a.last_met.map(|(id, at)| serde_json::json!({
                        "id": id.to_hex(), "at": format_time(at),
                    })),
                    "last_failure": a.last_failure.as_ref().map(|(at, why)| serde_json::json!({
                        "at": format_time(*at), "reason": why,
                    })),
                })).collect::<Vec<_>>(),
                "revoked": revoked.iter().map(|r| serde_json::json!({
                    "id": r.node.to_hex(), "name": r.name, "reason": r.reason,
                    "by": r.by, "at": format_time(r.at),
                })).collect::<Vec<_>>(),
            }),
        ))?;
        return Ok(Outcome::Done);
    }
    let mut out = std::io::stdout().lock();
    if peers.is_empty() {
        println!("no peer met yet");
    } else {
        let mut table = Table::new(&[
            "PEER",
            "ID",
            "ROLE",
            "STATE",
            "LAST SYNC",
            "TO SEND",
            "TO TAKE",
        ]);
        for p in &peers {
            table.row(vec![
                p.name.clone().unwrap_or_else(|| "?".into()),
                p.node.short(),
                p.role.map_or("?", |r| r.name()).to_string(),
                match (&p.connected_since, &p.last_failure) {
                    (Some(_), _) => "meeting".to_string(),
                    (None, Some((at, _))) if p.last_in_sync.is_none_or(|s| s < *at) => {
                        format!("FAILED {}", age(*at, now))
                    }
                    _ => "idle".to_string(),
                },
                p.last_in_sync.map_or("never".into(), |at| age(at, now)),
                pending_text(&p.pending_out),
                pending_text(&p.pending_in),
            ]);
        }
        table.print(&mut out)?;
        for p in &peers {
            if let Some((at, why)) = &p.last_failure {
                println!(
                    "{} last failed {}: {why}",
                    p.name.as_deref().unwrap_or("?"),
                    format_time(*at)
                );
            }
        }
        println!("(? : not known since this node started; pending counts as of the last meetings)");
    }
    for a in &addresses {
        let met = a.last_met.map_or("never met".to_string(), |(id, at)| {
            format!("met {} {}", id.short(), age(at, now))
        });
        match &a.last_failure {
            Some((at, why)) if a.last_met.is_none_or(|(_, m)| m < *at) => {
                println!(
                    "address {}: {met}; FAILED {}: {why}",
                    a.address,
                    age(*at, now)
                )
            }
            _ => println!("address {}: {met}", a.address),
        }
    }
    println!();
    if revoked.is_empty() {
        println!("no node revoked");
    } else {
        let mut table = Table::new(&["REVOKED", "ID", "WHEN", "BY", "REASON"]);
        for r in &revoked {
            table.row(vec![
                r.name.clone(),
                r.node.short(),
                format_time(r.at),
                r.by.clone(),
                r.reason.clone(),
            ]);
        }
        table.print(&mut out)?;
    }
    Ok(Outcome::Done)
}

/// Days, hours or minutes since `t`, as a person says it.
fn age(t: alpr_protocol::Timestamp, now: alpr_protocol::Timestamp) -> String {
    let minutes = (now.0.saturating_sub(t.0) / 60_000).max(0);
    match minutes {
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

fn bytes(n: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    if n as f64 >= GIB {
        format!("{:.1} GiB", n as f64 / GIB)
    } else {
        format!("{:.0} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

pub fn status(args: StatusArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Status { token })?;
    let ControlResponse::Status {
        user,
        role,
        reads_days,
        plate_images_days,
        overview_images_days,
        audit_days,
        alerts_days,
        standing_holds,
        audit_overdue,
        nodes,
        valid_from,
        valid_until,
        node_name,
        node_id,
        node_role,
        agency,
        reads,
        meetings,
        hotlists,
        disk_free,
        alerts_pending,
        lists_age_ms,
        lists_stale,
        database_bytes,
        next_purge,
        cameras,
        failures_max,
        lockout_minutes,
        idle_lock_minutes,
    } = response
    else {
        return Err(unexpected(&response));
    };
    s.logout()?;
    let now = now();
    let expires_in_days = (valid_until.0.saturating_sub(now.0)) / 86_400_000;
    if args.json {
        print_json(&document(
            "status",
            serde_json::json!({
                "node": { "name": node_name, "id": node_id.to_hex(), "role": node_role.name(), "agency": agency.to_hex() },
                "user": { "name": user, "role": role.name() },
                "certificate": { "valid_from": format_time(valid_from), "valid_until": format_time(valid_until), "expires_in_days": expires_in_days },
                "reads": reads,
                "known_nodes": nodes.len(),
                "peers": meetings.iter().map(|(id, name, at)| serde_json::json!({
                    "id": id.to_hex(), "name": name, "last_sync": format_time(*at),
                })).collect::<Vec<_>>(),
                "hotlists": hotlists.iter().map(|(list, version, at)| serde_json::json!({
                    "list": list, "version": version, "published_at": format_time(*at),
                })).collect::<Vec<_>>(),
                "retention_days": { "reads": reads_days, "plate_images": plate_images_days, "overview_images": overview_images_days, "audit": audit_days, "alerts": alerts_days },
                "login_limits": { "failures_max": failures_max, "lockout_minutes": lockout_minutes, "idle_lock_minutes": idle_lock_minutes },
                "standing_holds": standing_holds,
                "alerts_pending": alerts_pending,
                "lists_age_ms": lists_age_ms,
                "lists_stale": lists_stale,
                "audit_overdue": audit_overdue,
                "disk_free_bytes": disk_free,
                "database_bytes": database_bytes,
                "next_purge": next_purge.map(format_time),
                "cameras": cameras.iter().map(|c| serde_json::json!({
                    "name": c.name, "up": c.up, "source": c.source,
                    "frames_per_s": (f64::from(c.frames_per_s) * 10.0).round() / 10.0,
                    "dropped": c.dropped, "failed": c.failed,
                })).collect::<Vec<_>>(),
            }),
        ))?;
        return Ok(Outcome::Done);
    }
    println!("node         {node_name} ({node_role}) {node_id}");
    println!("agency       {agency}");
    println!("logged in    {user} ({})", role.name());
    println!(
        "certificate  valid {} to {} ({})",
        format_time(valid_from),
        format_time(valid_until),
        if valid_until < now {
            "EXPIRED: this node can record and sync nothing new".to_string()
        } else if expires_in_days < 30 {
            format!("EXPIRES in {expires_in_days} days: enroll again")
        } else {
            format!("{expires_in_days} days left")
        }
    );
    println!(
        "reads        {reads} stored; {} known",
        count(nodes.len() as u64, "node", "nodes")
    );
    println!(
        "retention    reads {reads_days} days, plate images {plate_images_days}, overview images {overview_images_days}, audit {audit_days}, alerts {alerts_days}; {}",
        count(standing_holds, "standing hold", "standing holds")
    );
    println!(
        "alerts       {}",
        if alerts_pending == 0 {
            "none pending".to_string()
        } else {
            format!("{alerts_pending} PENDING: see `alerts list --pending`")
        }
    );
    match (lists_age_ms, lists_stale) {
        (None, _) => println!("hotlists     none held"),
        (Some(ms), true) => println!(
            "hotlists     STALE: last brought up to date {}; meet a station",
            age(alpr_protocol::Timestamp(now.0 - ms), now)
        ),
        (Some(ms), false) => println!(
            "hotlists     up to date {}",
            age(alpr_protocol::Timestamp(now.0 - ms), now)
        ),
    }
    println!(
        "logins       {failures_max} failures lock for {lockout_minutes} min; sessions lock after {idle_lock_minutes} min idle"
    );
    match audit_overdue {
        Some(q) => println!("audits       OVERDUE: no signed audit of {q}"),
        None => println!("audits       up to date"),
    }
    let used = database_bytes.map_or(String::new(), |b| format!(", database {}", bytes(b)));
    match disk_free {
        Some(free) if free < 1024 * 1024 * 1024 => {
            println!("disk         LOW: {} free{used}", bytes(free))
        }
        Some(free) => println!("disk         {} free{used}", bytes(free)),
        None => println!("disk         free space unknown{used}"),
    }
    if let Some(at) = next_purge {
        println!("purge        next at {}", format_time(at));
    }
    for c in &cameras {
        println!(
            "camera       {} {}: {:.1} frames/s, {} dropped, {} failed ({})",
            c.name,
            if c.up { "capturing" } else { "NOT CAPTURING" },
            c.frames_per_s,
            c.dropped,
            c.failed,
            c.source
        );
    }
    let mut out = std::io::stdout().lock();
    println!();
    if meetings.is_empty() {
        println!("no peer met in sync yet");
    } else {
        let mut table = Table::new(&["PEER", "ID", "LAST SYNC", "AGE"]);
        for (id, name, at) in &meetings {
            table.row(vec![
                name.clone().unwrap_or_else(|| "?".into()),
                id.short(),
                format_time(*at),
                age(*at, now),
            ]);
        }
        table.print(&mut out)?;
    }
    println!();
    if hotlists.is_empty() {
        println!("no bulk hotlists held");
    } else {
        let mut table = Table::new(&["HOTLIST", "VERSION", "PUBLISHED", "AGE"]).right(&["VERSION"]);
        for (list, version, at) in &hotlists {
            table.row(vec![
                list.clone(),
                version.to_string(),
                format_time(*at),
                age(*at, now),
            ]);
        }
        table.print(&mut out)?;
    }
    Ok(Outcome::Done)
}

/// `revoke`: a lost or compromised car, refused as a peer and its records refused.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// The node's name, full id, or a unique prefix of its id.
    node: String,
    /// Why, in words (recorded and replicated).
    #[arg(long)]
    reason: String,
}

pub fn revoke(args: RevokeArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    s.done(ControlRequest::RevokeNode {
        token,
        node: args.node.clone(),
        reason: args.reason,
    })?;
    println!("revoked {}", args.node);
    s.logout()?;
    Ok(Outcome::Done)
}

/// `retention`: how long reads, images, audit events and alerts are kept.
#[derive(Debug, Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Days to keep reads; omit every period to show the current ones.
    #[arg(long)]
    reads_days: Option<u32>,
    /// Days to keep plate crops (at most the reads' period).
    #[arg(long)]
    plate_images_days: Option<u32>,
    /// Days to keep overview images (at most the reads' period).
    #[arg(long)]
    overview_images_days: Option<u32>,
    /// Days to keep audit events (at least 365).
    #[arg(long)]
    audit_days: Option<u32>,
    /// Days to keep alerts: hotlist hits and their dispositions (at least 1).
    #[arg(long)]
    alerts_days: Option<u32>,
    /// One JSON document (schema alpr-node.retention) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn retention(args: RetentionArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Status { token })?;
    let ControlResponse::Status {
        reads_days: r0,
        plate_images_days: p0,
        overview_images_days: o0,
        audit_days: a0,
        alerts_days: l0,
        ..
    } = response
    else {
        return Err(unexpected(&response));
    };
    let (r, p, o, a, l) = (
        args.reads_days.unwrap_or(r0),
        args.plate_images_days.unwrap_or(p0),
        args.overview_images_days.unwrap_or(o0),
        args.audit_days.unwrap_or(a0),
        args.alerts_days.unwrap_or(l0),
    );
    if (r, p, o, a, l) != (r0, p0, o0, a0, l0) {
        s.done(ControlRequest::SetRetention {
            token,
            reads_days: r,
            plate_images_days: p,
            overview_images_days: o,
            audit_days: a,
            alerts_days: l,
        })?;
    }
    if args.json {
        print_json(&document(
            "retention",
            serde_json::json!({
                "reads_days": r, "plate_images_days": p, "overview_images_days": o,
                "audit_days": a, "alerts_days": l,
            }),
        ))?;
    } else {
        println!(
            "reads kept {r} days, plate images {p} days, overview images {o} days, audit events {a} days, alerts {l} days"
        );
    }
    s.logout()?;
    Ok(Outcome::Done)
}

/// `limits`: login limits, within the CJIS Security Policy's bounds.
#[derive(Debug, Args)]
pub struct LimitsArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Consecutive failed logins that lock an account (1 to 5).
    #[arg(long)]
    failures: Option<u32>,
    /// How long a lockout lasts (at least 10 minutes).
    #[arg(long)]
    lockout_minutes: Option<u32>,
    /// Idle minutes before a session locks (1 to 30). With no limit
    /// given, the current ones are shown.
    #[arg(long)]
    idle_minutes: Option<u32>,
}

pub fn limits(args: LimitsArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let set = (args.failures, args.lockout_minutes, args.idle_minutes) != (None, None, None);
    if set {
        s.done(ControlRequest::SetLimits {
            token,
            failures_max: args.failures,
            lockout_minutes: args.lockout_minutes,
            idle_lock_minutes: args.idle_minutes,
        })?;
    }
    let response = s.send(ControlRequest::Status { token })?;
    let ControlResponse::Status {
        failures_max,
        lockout_minutes,
        idle_lock_minutes,
        ..
    } = response
    else {
        return Err(unexpected(&response));
    };
    println!(
        "{}{failures_max} failed logins lock an account for {lockout_minutes} min; sessions lock after {idle_lock_minutes} min idle",
        if set { "login limits set: " } else { "" }
    );
    s.logout()?;
    Ok(Outcome::Done)
}

/// `purge`: reads past retention that no hold protects.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Count what would go, delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn purge(args: PurgeArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Purge {
        token,
        dry_run: args.dry_run,
    })?;
    let ControlResponse::Purged {
        purged,
        held,
        cutoff,
        alerts,
        alerts_held,
        ..
    } = response
    else {
        return Err(unexpected(&response));
    };
    println!(
        "{} {purged} reads captured before {}; {held} held as evidence",
        if args.dry_run {
            "would purge"
        } else {
            "purged"
        },
        format_time(cutoff)
    );
    if alerts > 0 || alerts_held > 0 {
        println!(
            "{} {alerts} alert records past the alerts period; {alerts_held} alerts held as evidence",
            if args.dry_run {
                "would purge"
            } else {
                "purged"
            }
        );
    }
    s.logout()?;
    Ok(Outcome::Done)
}
