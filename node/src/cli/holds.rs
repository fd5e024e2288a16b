//! Evidence: holds that keep reads past retention, bundles for portable media.

use std::path::PathBuf;

use alpr_protocol::PlateText;
use alpr_protocol::control::{ControlRequest, ControlResponse, HoldScopeWire};
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;

use super::args::{PurposeArgs, SessionArgs, plate};
use super::output::{Table, count, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time};
use super::{Outcome, Usage};

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Hold reads as evidence: by id, or by plate and time window.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        /// The case the reads are evidence of.
        #[arg(long)]
        case: String,
        /// Why they are held, in words.
        #[arg(long)]
        reason: String,
        /// A read to hold (ORIGIN/SEQ); repeat for more.
        #[arg(long = "read", conflicts_with = "plate")]
        reads: Vec<String>,
        /// Every read of this plate between --from and --to, wherever it is stored.
        #[arg(long, requires_all = ["from", "to"], value_parser = plate)]
        plate: Option<PlateText>,
        /// Start of the plate's window (a date means its start).
        #[arg(long, value_parser = When::parse)]
        from: Option<When>,
        /// End of the plate's window (a date means its end).
        #[arg(long, value_parser = When::parse)]
        to: Option<When>,
        /// When the hold lapses on its own, if ever (a date means its end).
        #[arg(long, value_parser = When::parse)]
        expires: Option<When>,
    },
    /// List holds.
    List {
        #[command(flatten)]
        session: SessionArgs,
        /// One JSON document (schema alpr-node.holds) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Release a hold.
    Release {
        #[command(flatten)]
        session: SessionArgs,
        /// The hold's number, as `hold list` shows it.
        #[arg(long)]
        id: u64,
    },
}

pub fn hold(command: HoldCommand) -> Result<Outcome> {
    match command {
        HoldCommand::Add {
            session,
            case,
            reason,
            reads,
            plate,
            from,
            to,
            expires,
        } => {
            let mut s = Session::open(&session)?;
            let scope = match (plate, from, to) {
                (Some(p), Some(from), Some(to)) => HoldScopeWire::Plate {
                    plate: p.to_string(),
                    from: from.start(),
                    to: to.end(),
                },
                (None, _, _) if !reads.is_empty() => HoldScopeWire::Reads(
                    reads
                        .iter()
                        .map(|r| s.record_id(r).map(|id| (id.origin, id.seq)))
                        .collect::<Result<_>>()?,
                ),
                _ => bail!(Usage(
                    "give --read ORIGIN/SEQ (repeatable) or --plate with --from and --to".into()
                )),
            };
            let token = s.token;
            let response = s.send(ControlRequest::PlaceHold {
                token,
                case,
                reason,
                scope,
                expires: expires.as_ref().map(When::end),
            })?;
            let ControlResponse::HoldPlaced { id } = response else {
                return Err(unexpected(&response));
            };
            println!("hold {id} placed");
            s.logout()?;
        }
        HoldCommand::List { session, json } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::ListHolds { token })?;
            let ControlResponse::Holds(holds) = response else {
                return Err(unexpected(&response));
            };
            let scope = |h: &alpr_protocol::control::HoldWire| match crate::control::hold_scope(
                h.scope.clone(),
            ) {
                Ok(scope) => scope.to_string(),
                Err(_) => "a scope this build cannot read".into(),
            };
            if json {
                let items = holds
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "id": h.id,
                            "case": h.case,
                            "reason": h.reason,
                            "scope": scope(h),
                            "placed_by": h.placed_by,
                            "placed_at": format_time(h.placed_at),
                            "expires": h.expires.map(format_time),
                            "standing": h.standing,
                        })
                    })
                    .collect();
                print_json(&listing(
                    "holds",
                    holds.len() as u64,
                    items,
                    serde_json::json!({}),
                ))?;
            } else if holds.is_empty() {
                println!("no holds");
            } else {
                let mut table = Table::new(&[
                    "HOLD", "CASE", "STATE", "PLACED", "BY", "EXPIRES", "REASON", "SCOPE",
                ])
                .right(&["HOLD"]);
                for h in &holds {
                    table.row(vec![
                        h.id.to_string(),
                        h.case.clone(),
                        if h.standing { "standing" } else { "lapsed" }.into(),
                        format_time(h.placed_at),
                        h.placed_by.clone(),
                        h.expires.map_or("never".into(), format_time),
                        h.reason.clone(),
                        scope(h),
                    ]);
                }
                table.print(&mut std::io::stdout().lock())?;
            }
            s.logout()?;
        }
        HoldCommand::Release { session, id } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::ReleaseHold { token, id })?;
            println!("hold {id} released");
            s.logout()?;
        }
    }
    Ok(Outcome::Done)
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write every read held for a case, and the case's audit trail, as a self-verifying bundle.
    Export {
        #[command(flatten)]
        session: SessionArgs,
        /// Only for an investigation of the case: --purpose investigation --reason … --case CASE.
        #[command(flatten)]
        purpose: PurposeArgs,
        /// A new or empty directory, e.g. on a USB drive.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Check a bundle with nothing but its own files: no database, no keys.
    Verify {
        /// The bundle's directory.
        dir: PathBuf,
        /// The agency public key (hex) you hold from the agency itself; checks
        /// the bundle is that agency's, not just intact.
        #[arg(long)]
        agency: Option<String>,
    },
}

pub fn evidence(command: EvidenceCommand) -> Result<Outcome> {
    match command {
        EvidenceCommand::Export {
            session,
            purpose,
            out,
        } => {
            let case = purpose
                .case
                .clone()
                .ok_or_else(|| Usage("give the case to export with --case".into()))?;
            let out = std::path::absolute(&out).with_context(|| format!("{}", out.display()))?;
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::ExportEvidence {
                token,
                purpose: purpose.wire(),
                case: case.clone(),
                out: out.display().to_string(),
            })?;
            let ControlResponse::Exported {
                reads,
                audit_events,
                files,
                path,
                bytes,
            } = response
            else {
                return Err(unexpected(&response));
            };
            println!(
                "case {}: {} and {} written to {path} ({files} files, {bytes} bytes, signed manifest)",
                case.to_ascii_uppercase(),
                count(reads, "read", "reads"),
                count(audit_events, "audit event", "audit events"),
            );
            s.logout()?;
            Ok(Outcome::Done)
        }
        EvidenceCommand::Verify { dir, agency } => {
            let trusted = agency
                .as_deref()
                .map(|text| {
                    alpr_protocol::AgencyId::from_hex(text).ok_or_else(|| {
                        anyhow!(Usage(format!(
                            "'{text}' is not an agency key: give the 64 hex characters of agency.pub"
                        )))
                    })
                })
                .transpose()?;
            let report = crate::evidence::verify_dir(&dir, trusted)?;
            for p in &report.problems {
                println!("FAIL {p}");
            }
            match &report.manifest {
                Some(m) => println!(
                    "{} bundle of case {} exported by {} at {}: {} and {} checked, {}",
                    match m.kind {
                        alpr_protocol::bundle::BundleKind::Evidence => "evidence",
                        alpr_protocol::bundle::BundleKind::Release => "release",
                    },
                    m.case,
                    m.exported_by,
                    format_time(alpr_protocol::Timestamp(m.exported_at_ms)),
                    count(report.reads, "read", "reads"),
                    count(report.audit_events, "audit event", "audit events"),
                    count(report.problems.len() as u64, "problem", "problems")
                ),
                None => println!(
                    "not a verifiable bundle: {}",
                    count(report.problems.len() as u64, "problem", "problems")
                ),
            }
            if let Some(a) = report.agency {
                if report.anchored {
                    println!("agency {a}: checked against the key you gave");
                } else {
                    println!(
                        "agency {a}, as the bundle itself states: compare it with your copy of the agency key, or pass --agency"
                    );
                }
            }
            Ok(if report.ok() {
                Outcome::Done
            } else {
                Outcome::Damaged
            })
        }
    }
}
