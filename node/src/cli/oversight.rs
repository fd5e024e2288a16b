//! Oversight: outside requests (V.A.1), releases to other agencies (V.A.4),
//! quarterly audits (V.A.5) and the audit log itself.

use std::path::PathBuf;

use alpr_protocol::Action;
use alpr_protocol::control::{AuditFilterWire, ControlRequest, ControlResponse};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};

use super::Outcome;
use super::args::{DecisionArg, PurposeArgs, SessionArgs};
use super::output::{Table, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time};
use crate::policy::Quarter;

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Register a request and whom it is referred to.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        /// Who asks (a person, an office, a newspaper).
        #[arg(long)]
        requester: String,
        /// What they ask for, in words.
        #[arg(long)]
        what: String,
        /// Who decides it.
        #[arg(long, default_value = "Staff Services Commander")]
        referred_to: String,
    },
    /// Record the decision (Staff Services Commander or designee).
    Decide {
        #[command(flatten)]
        session: SessionArgs,
        /// The request's number, as `request list` shows it.
        #[arg(long)]
        id: u64,
        /// The decision.
        #[arg(long, value_enum)]
        decision: DecisionArg,
        /// Why, in words.
        #[arg(long)]
        note: String,
    },
    /// List the register.
    List {
        #[command(flatten)]
        session: SessionArgs,
        /// One JSON document (schema alpr-node.requests) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn request(command: RequestCommand) -> Result<Outcome> {
    match command {
        RequestCommand::Add {
            session,
            requester,
            what,
            referred_to,
        } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::RegisterRequest {
                token,
                requester,
                what,
                referred_to: referred_to.clone(),
            })?;
            let ControlResponse::RequestRegistered { id } = response else {
                return Err(unexpected(&response));
            };
            println!("request {id} registered, referred to {referred_to}");
            s.logout()?;
        }
        RequestCommand::Decide {
            session,
            id,
            decision,
            note,
        } => {
            let decision = alpr_protocol::control::DecisionWire::from(decision);
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::DecideRequest {
                token,
                id,
                decision,
                note,
            })?;
            println!("request {id}: {}", decision.name());
            s.logout()?;
        }
        RequestCommand::List { session, json } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::ListRequests { token })?;
            let ControlResponse::Requests(requests) = response else {
                return Err(unexpected(&response));
            };
            if json {
                let items = requests
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id,
                            "received_at": format_time(r.received_at),
                            "requester": r.requester,
                            "what": r.what,
                            "registered_by": r.registered_by,
                            "referred_to": r.referred_to,
                            "decision": r.decision.as_ref().map(|(o, note, by, at)| serde_json::json!({
                                "outcome": o.name(), "note": note, "by": by, "at": format_time(*at),
                            })),
                        })
                    })
                    .collect();
                print_json(&listing(
                    "requests",
                    requests.len() as u64,
                    items,
                    serde_json::json!({}),
                ))?;
            } else if requests.is_empty() {
                println!("no requests registered");
            } else {
                let mut table = Table::new(&[
                    "REQUEST",
                    "RECEIVED",
                    "FROM",
                    "REGISTERED BY",
                    "REFERRED TO",
                    "DECISION",
                    "WHAT",
                ])
                .right(&["REQUEST"]);
                for r in &requests {
                    let decision =
                        r.decision
                            .as_ref()
                            .map_or("pending".to_string(), |(o, note, by, at)| {
                                format!("{} by {by} at {}: {note}", o.name(), format_time(*at))
                            });
                    table.row(vec![
                        r.id.to_string(),
                        format_time(r.received_at),
                        r.requester.clone(),
                        r.registered_by.clone(),
                        r.referred_to.clone(),
                        decision,
                        r.what.clone(),
                    ]);
                }
                table.print(&mut std::io::stdout().lock())?;
            }
            s.logout()?;
        }
    }
    Ok(Outcome::Done)
}

/// `releases`: the releases to other agencies as recorded.
#[derive(Debug, clap::Args)]
pub struct ReleasesArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// One JSON document (schema alpr-node.releases) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn releases(args: ReleasesArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::ListReleases { token })?;
    let ControlResponse::Releases(releases) = response else {
        return Err(unexpected(&response));
    };
    s.logout()?;
    if args.json {
        let items = releases
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "at": format_time(r.at),
                    "case": r.case,
                    "agency": r.agency,
                    "official": r.official,
                    "legal_basis": r.legal_basis,
                    "by": r.by,
                    "reads": r.reads.iter().map(|(o, q)| format!("{}/{q}", o.short())).collect::<Vec<_>>(),
                    "manifest_sha256": r.manifest_sha256,
                })
            })
            .collect();
        print_json(&listing(
            "releases",
            releases.len() as u64,
            items,
            serde_json::json!({}),
        ))?;
    } else if releases.is_empty() {
        println!("no releases recorded");
    } else {
        let mut table = Table::new(&[
            "RELEASE",
            "AT",
            "CASE",
            "TO AGENCY",
            "OFFICIAL",
            "BY",
            "READS",
            "BASIS",
        ]);
        for r in &releases {
            table.row(vec![
                r.id.to_string(),
                format_time(r.at),
                r.case.clone(),
                r.agency.clone(),
                r.official.clone(),
                r.by.clone(),
                r.reads.len().to_string(),
                r.legal_basis.clone(),
            ]);
        }
        table.print(&mut std::io::stdout().lock())?;
    }
    Ok(Outcome::Done)
}

/// `release`: reads to another agency as a verifiable bundle.
#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// Receiving agency.
    #[arg(long)]
    agency: String,
    /// Receiving official.
    #[arg(long)]
    official: String,
    /// Legal basis (subpoena, court order, agreement).
    #[arg(long)]
    legal_basis: String,
    /// A read to release (ORIGIN/SEQ); repeat for more.
    #[arg(long = "read", required = true)]
    reads: Vec<String>,
    /// A new or empty directory for the bundle.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn release(args: ReleaseArgs) -> Result<Outcome> {
    let out = std::path::absolute(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let mut s = Session::open(&args.session)?;
    let reads = args
        .reads
        .iter()
        .map(|r| s.record_id(r).map(|id| (id.origin, id.seq)))
        .collect::<Result<Vec<_>>>()?;
    let token = s.token;
    let response = s.send(ControlRequest::Release {
        token,
        purpose: args.purpose.wire(),
        agency: args.agency,
        official: args.official,
        legal_basis: args.legal_basis,
        reads,
        out: out.display().to_string(),
    })?;
    let ControlResponse::Released { id } = response else {
        return Err(unexpected(&response));
    };
    println!("release {id} written to {}", out.display());
    s.logout()?;
    Ok(Outcome::Done)
}

/// An audited action, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionArg {
    Login,
    LoginFailed,
    Lockout,
    Logout,
    Search,
    ViewRead,
    ViewImage,
    Export,
    EditUser,
    EditHotlist,
    EditRetention,
    EditHold,
    Purge,
    Release,
    Request,
    AuditReview,
    Enroll,
    Verify,
    Import,
    ViewPolicy,
    EditNodes,
    LiveView,
    ViewAlert,
    DisposeAlert,
}

impl From<ActionArg> for Action {
    fn from(a: ActionArg) -> Action {
        use ActionArg as A;
        match a {
            A::Login => Action::Login,
            A::LoginFailed => Action::LoginFailed,
            A::Lockout => Action::Lockout,
            A::Logout => Action::Logout,
            A::Search => Action::Search,
            A::ViewRead => Action::ViewRead,
            A::ViewImage => Action::ViewImage,
            A::Export => Action::Export,
            A::EditUser => Action::EditUser,
            A::EditHotlist => Action::EditHotlist,
            A::EditRetention => Action::EditRetention,
            A::EditHold => Action::EditHold,
            A::Purge => Action::Purge,
            A::Release => Action::Release,
            A::Request => Action::Request,
            A::AuditReview => Action::AuditReview,
            A::Enroll => Action::Enroll,
            A::Verify => Action::Verify,
            A::Import => Action::Import,
            A::ViewPolicy => Action::ViewPolicy,
            A::EditNodes => Action::EditNodes,
            A::LiveView => Action::LiveView,
            A::ViewAlert => Action::ViewAlert,
            A::DisposeAlert => Action::DisposeAlert,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Draw a reproducible random sample of a quarter's access events.
    Sample {
        #[command(flatten)]
        session: SessionArgs,
        /// The quarter, e.g. 2026Q4 (one that has begun).
        #[arg(long, value_parser = Quarter::parse)]
        quarter: Quarter,
        /// Seed of the draw (recorded); a random one if omitted.
        #[arg(long)]
        seed: Option<u64>,
        /// Access events to draw (1 to 1000).
        #[arg(long, default_value_t = 25)]
        size: u32,
    },
    /// Mark one sampled event compliant or not.
    Mark {
        #[command(flatten)]
        session: SessionArgs,
        /// The report's number, as `audit show` lists it.
        #[arg(long)]
        report: u64,
        /// Item number, as `audit show` lists it.
        #[arg(long)]
        item: u32,
        /// The access followed policy.
        #[arg(
            long,
            conflicts_with = "not_compliant",
            required_unless_present = "not_compliant"
        )]
        compliant: bool,
        /// The access did not follow policy.
        #[arg(long)]
        not_compliant: bool,
        /// The finding, in words.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Sign a report once every item is marked.
    Sign {
        #[command(flatten)]
        session: SessionArgs,
        /// The report's number.
        #[arg(long)]
        report: u64,
    },
    /// Show reports, their items, and whether an audit is overdue.
    Show {
        #[command(flatten)]
        session: SessionArgs,
        /// One JSON document (schema alpr-node.audits) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Query the audit log (Auditors, Administrators): who searched a plate,
    /// what a user did, what happened in a case. The query is itself logged.
    Log {
        #[command(flatten)]
        session: SessionArgs,
        /// Events of this user.
        #[arg(long = "by", value_name = "USER")]
        by: Option<String>,
        /// Events of this action.
        #[arg(long, value_enum)]
        action: Option<ActionArg>,
        /// Events whose object contains this text (case-insensitive): a plate, a read id, a list.
        #[arg(long)]
        contains: Option<String>,
        /// Events of this case.
        #[arg(long = "case", value_name = "CASE")]
        for_case: Option<String>,
        /// Events from this time (a date means its start).
        #[arg(long, value_parser = When::parse)]
        from: Option<When>,
        /// Events up to this time (a date means its end).
        #[arg(long, value_parser = When::parse)]
        to: Option<When>,
        /// Events to show, newest first (at most 10,000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// One JSON document (schema alpr-node.audit-log) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn audit(command: AuditCommand) -> Result<Outcome> {
    match command {
        AuditCommand::Sample {
            session,
            quarter,
            seed,
            size,
        } => {
            let seed = seed.unwrap_or_else(|| rand::Rng::next_u64(&mut rand::rng()));
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::AuditSample {
                token,
                quarter: quarter.to_string(),
                seed,
                size,
            })?;
            let ControlResponse::AuditDrawn { id } = response else {
                return Err(unexpected(&response));
            };
            println!("audit {id}: sample of {quarter} drawn with seed {seed}");
            s.logout()?;
        }
        AuditCommand::Mark {
            session,
            report,
            item,
            compliant,
            not_compliant,
            note,
        } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let compliant = compliant && !not_compliant;
            s.done(ControlRequest::AuditMark {
                token,
                report,
                item,
                compliant,
                note,
            })?;
            println!(
                "audit {report} item {item} marked {}",
                if compliant {
                    "compliant"
                } else {
                    "not compliant"
                }
            );
            s.logout()?;
        }
        AuditCommand::Sign { session, report } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::AuditSign { token, report })?;
            println!("audit {report} signed");
            s.logout()?;
        }
        AuditCommand::Show { session, json } => show(&session, json)?,
        AuditCommand::Log {
            session,
            by,
            action,
            contains,
            for_case,
            from,
            to,
            limit,
            json,
        } => {
            let filter = AuditFilterWire {
                user: by,
                action: action.map(Action::from),
                contains,
                case: for_case,
                from: from.as_ref().map(When::start),
                to: to.as_ref().map(When::end),
            };
            return log(&session, filter, limit, json);
        }
    }
    Ok(Outcome::Done)
}

fn finding(compliant: Option<bool>) -> &'static str {
    match compliant {
        None => "unmarked",
        Some(true) => "compliant",
        Some(false) => "NOT COMPLIANT",
    }
}

fn show(session: &SessionArgs, json: bool) -> Result<()> {
    let mut s = Session::open(session)?;
    let token = s.token;
    let response = s.send(ControlRequest::ListAudits { token })?;
    let ControlResponse::Audits { reports, overdue } = response else {
        return Err(unexpected(&response));
    };
    if json {
        let items = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "quarter": r.quarter,
                    "auditor": r.auditor,
                    "seed": r.seed,
                    "population": r.population,
                    "signed": r.signed,
                    "items": r.items.iter().enumerate().map(|(i, (origin, seq, compliant, note))| serde_json::json!({
                        "item": i + 1,
                        "event": format!("{}/{seq}", origin.short()),
                        "origin": origin.to_hex(),
                        "seq": seq,
                        "finding": finding(*compliant),
                        "note": note,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&listing(
            "audits",
            reports.len() as u64,
            items,
            serde_json::json!({ "overdue": overdue }),
        ))?;
        return s.logout();
    }
    for r in reports {
        println!(
            "audit {} of {} by {} (seed {}, {} of {} access events){}",
            r.id,
            r.quarter,
            r.auditor,
            r.seed,
            r.items.len(),
            r.population,
            if r.signed { ", signed" } else { "" }
        );
        let mut table = Table::new(&["  ITEM", "EVENT", "FINDING", "NOTE"]).right(&["  ITEM"]);
        for (i, (origin, seq, compliant, note)) in r.items.iter().enumerate() {
            table.row(vec![
                format!("{}", i + 1),
                format!("{}/{seq}", origin.short()),
                finding(*compliant).into(),
                note.clone(),
            ]);
        }
        if !table.is_empty() {
            table.print(&mut std::io::stdout().lock())?;
        }
    }
    match overdue {
        Some(q) => println!("OVERDUE: no signed audit of {q}"),
        None => println!("quarterly audits are up to date"),
    }
    s.logout()
}

fn log(session: &SessionArgs, filter: AuditFilterWire, limit: u32, json: bool) -> Result<Outcome> {
    let mut s = Session::open(session)?;
    let token = s.token;
    let response = s.send(ControlRequest::AuditLog {
        token,
        filter,
        limit,
    })?;
    let ControlResponse::AuditLog {
        events,
        total,
        damaged,
    } = response
    else {
        return Err(unexpected(&response));
    };
    let outcome_text = |o: &alpr_protocol::Outcome| o.to_string();
    if json {
        let items = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "event": format!("{}/{}", e.origin.short(), e.seq),
                    "origin": e.origin.to_hex(),
                    "seq": e.seq,
                    "time": format_time(e.time),
                    "user": e.user,
                    "action": e.action.name(),
                    "object": e.object,
                    "purpose": e.purpose,
                    "case": e.case,
                    "outcome": outcome_text(&e.outcome),
                })
            })
            .collect();
        print_json(&listing(
            "audit-log",
            total,
            items,
            serde_json::json!({ "shown": events.len(), "damaged": damaged }),
        ))?;
    } else {
        let mut table = Table::new(&[
            "TIME", "EVENT", "USER", "ACTION", "OUTCOME", "PURPOSE", "OBJECT",
        ]);
        for e in &events {
            table.row(vec![
                format_time(e.time),
                format!("{}/{}", e.origin.short(), e.seq),
                e.user.clone(),
                e.action.name().to_string(),
                outcome_text(&e.outcome),
                e.purpose.clone().unwrap_or_else(|| "-".into()),
                e.object.clone(),
            ]);
        }
        if !table.is_empty() {
            table.print(&mut std::io::stdout().lock())?;
        }
        let noun = if total == 1 { "event" } else { "events" };
        println!("{total} matching {noun}, {} shown", events.len());
        if damaged > 0 {
            println!("{damaged} stored events do not verify and were not searched: run verify");
        }
    }
    s.logout()?;
    Ok(if total == 0 {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}
