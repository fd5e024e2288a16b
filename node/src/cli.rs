//! The command line: argument parsing (clap) and human-readable output. `anyhow` lives only here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alpr_protocol::{Action, KdfParams, Outcome, PlatePattern, PlateText, Role, Timestamp};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

use crate::agency::{Agency, EnrollRequest};
use crate::datadir::Node;
use crate::recorder::{AuditEntry, READ_BATCH_MAX, Recorder};
use crate::search::{Hit, Query, search};
use crate::store::TimeRange;

#[derive(Debug, Parser)]
#[command(
    name = "alpr-node",
    version,
    about = "Offline-first license plate reader node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Agency keys and enrollment (on the Administrator's offline machine).
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Initialize a node's data directory from an enrollment bundle.
    Init {
        /// The enrollment bundle written by `agency enroll`.
        #[arg(long, value_name = "BUNDLE")]
        enroll: PathBuf,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Import reads recognized elsewhere, from a JSON-lines file.
    Import {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Reads per durable transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        file: PathBuf,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Search stored reads by exact plate or wildcard pattern.
    Search {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Exact plate (spaces and dashes ignored).
        #[arg(long, conflicts_with = "pattern", required_unless_present = "pattern")]
        plate: Option<String>,
        /// Wildcard: '?' one character, '*' any run, e.g. '7AB*' or 'AB?1*'.
        #[arg(long)]
        pattern: Option<String>,
        /// Earliest capture time (RFC 3339, or a date for its start in UTC).
        #[arg(long)]
        from: Option<String>,
        /// Latest capture time (RFC 3339, or a date for its end in UTC).
        #[arg(long)]
        to: Option<String>,
        /// Reads to show, newest first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Why you are searching; recorded in the audit log.
        #[arg(long)]
        purpose: Option<String>,
        /// Case number, if the search is part of an investigation.
        #[arg(long)]
        case: Option<String>,
        /// One JSON object per read instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Check every stored record's signature and seal, every audit chain and the indexes.
    Verify {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[command(flatten)]
        pass: NodePassphrase,
    },
}

#[derive(Debug, Subcommand)]
enum AgencyCommand {
    /// Create the agency root key and data key in a new directory.
    Init {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        pass: AgencyPassphrase,
    },
    /// Certify a new node and write its enrollment bundle.
    Enroll {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Node name, e.g. car-12 or station-north.
        #[arg(long)]
        name: String,
        /// vehicle or station.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// How long the certificate is valid, from now.
        #[arg(long, default_value_t = 365)]
        valid_days: u32,
        /// Where to write the bundle (for portable media).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        pass: AgencyPassphrase,
        /// The new node's passphrase wraps the keys in the bundle.
        #[command(flatten)]
        node_pass: NodePassphrase,
    },
}

/// The node passphrase: from a file, from ALPR_PASSPHRASE, or asked at the terminal.
#[derive(Debug, Args)]
struct NodePassphrase {
    /// File holding the node passphrase (for unattended cars); else ALPR_PASSPHRASE, else a prompt.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

/// The agency passphrase: from a file, from ALPR_AGENCY_PASSPHRASE, or asked at the terminal.
#[derive(Debug, Args)]
struct AgencyPassphrase {
    /// File holding the agency passphrase; else ALPR_AGENCY_PASSPHRASE, else a prompt.
    #[arg(long, value_name = "FILE")]
    agency_passphrase_file: Option<PathBuf>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role: use vehicle or station"))
}

const PASSPHRASE_LEN_MIN: usize = 8;

fn passphrase(file: Option<&Path>, env: &str, prompt: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading passphrase file {}", file.display()))?;
        Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string())
    } else if let Ok(text) = std::env::var(env) {
        Zeroizing::new(text)
    } else if std::io::stdin().is_terminal() {
        Zeroizing::new(rpassword::prompt_password(prompt).context("reading passphrase")?)
    } else {
        bail!("no passphrase: set {env}, pass a passphrase file, or run at a terminal");
    };
    if text.chars().count() < PASSPHRASE_LEN_MIN {
        bail!("passphrase is shorter than {PASSPHRASE_LEN_MIN} characters");
    }
    Ok(Zeroizing::new(text.as_bytes().to_vec()))
}

impl NodePassphrase {
    fn get(&self) -> Result<Zeroizing<Vec<u8>>> {
        passphrase(
            self.passphrase_file.as_deref(),
            "ALPR_PASSPHRASE",
            "Node passphrase: ",
        )
    }
}

impl AgencyPassphrase {
    fn get(&self) -> Result<Zeroizing<Vec<u8>>> {
        passphrase(
            self.agency_passphrase_file.as_deref(),
            "ALPR_AGENCY_PASSPHRASE",
            "Agency passphrase: ",
        )
    }
}

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

fn format_time(t: Timestamp) -> String {
    t.to_string()
}

/// RFC 3339, or a bare date meaning its first (or last) millisecond in UTC.
fn parse_time(text: &str, end_of_day: bool) -> Result<Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Timestamp(t.as_millisecond()));
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        anyhow!(
            "'{text}' is not a time: use RFC 3339 (2026-11-28T10:00:00Z) or a date (2026-11-28)"
        )
    })?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp()
        .as_millisecond();
    Ok(Timestamp(if end_of_day {
        start + 86_400_000 - 1
    } else {
        start
    }))
}

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ALPR_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, skipping a cause whose text the message already includes
/// (our typed errors print their source inline).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut rng = rand::rng();
    match cli.command {
        Command::Agency(AgencyCommand::Init { dir, pass }) => {
            let agency = Agency::init(&dir, &pass.get()?, KdfParams::DEFAULT, &mut rng)?;
            println!("agency {} created in {}", agency.key.id(), dir.display());
            println!("keep this directory offline; it signs every node's enrollment");
        }
        Command::Agency(AgencyCommand::Enroll {
            dir,
            name,
            role,
            valid_days,
            out,
            pass,
            node_pass,
        }) => {
            let agency = Agency::open(&dir, &pass.get()?)?;
            let not_before = now();
            let request = EnrollRequest {
                name: name.clone(),
                role,
                not_before,
                not_after: not_before.saturating_add_millis(i64::from(valid_days) * 86_400_000),
            };
            let bundle =
                agency.enroll(&request, &node_pass.get()?, KdfParams::DEFAULT, &mut rng)?;
            crate::keyfile::write_private(&out, &bundle.to_bytes())?;
            println!(
                "enrolled {name} ({role:?}) valid until {}; bundle written to {}",
                format_time(request.not_after),
                out.display()
            );
        }
        Command::Init { enroll, data, pass } => {
            let node = Node::init(&data, &enroll, &pass.get()?, &mut rng)?;
            let cert = node.certificate.certificate().clone();
            let mut recorder = Recorder::load(&node)?;
            recorder.record_audit(
                &node,
                now(),
                AuditEntry {
                    user: os_user(),
                    action: Action::Enroll,
                    object: format!("node {} ({:?})", cert.name, cert.role),
                    purpose: None,
                    case: None,
                    outcome: Outcome::Success,
                },
                &mut rng,
            )?;
            println!(
                "node {} ({}) initialized in {}",
                cert.name,
                node.node_key.id(),
                data.display()
            );
        }
        Command::Import {
            data,
            batch,
            file,
            pass,
        } => {
            if batch == 0 || batch > READ_BATCH_MAX {
                bail!("--batch must be 1 to {READ_BATCH_MAX}");
            }
            let node = Node::open(&data, &pass.get()?)?;
            let reads = crate::import::parse_file(&file, |at| {
                node.certificate
                    .check_valid_at(at)
                    .map_err(|e| e.to_string())
            })?;
            let mut recorder = Recorder::load(&node)?;
            let mut stdout = std::io::stdout().lock();
            let mut it = reads.into_iter().peekable();
            let batches = std::iter::from_fn(move || {
                it.peek()?;
                Some(it.by_ref().take(batch).collect::<Vec<_>>())
            });
            recorder.record_stream(&node, batches, &mut rng, |stored| {
                let (Some(first), Some(last)) = (stored.first(), stored.last()) else {
                    return true;
                };
                // Printed only after the commit returned: each line is an acknowledgement.
                writeln!(
                    stdout,
                    "committed reads {}..={}",
                    first.read().seq,
                    last.read().seq
                )
                .and_then(|()| stdout.flush())
                .is_ok()
            })?;
        }
        Command::Search {
            data,
            plate,
            pattern,
            from,
            to,
            limit,
            purpose,
            case,
            json,
            pass,
        } => {
            let query = match (plate, pattern) {
                (Some(p), _) => Query::Plate(PlateText::parse(&p)?),
                (None, Some(p)) => Query::Pattern(PlatePattern::parse(&p)?),
                (None, None) => bail!("give --plate or --pattern"),
            };
            let range = TimeRange {
                from: from
                    .as_deref()
                    .map(|t| parse_time(t, false))
                    .transpose()?
                    .unwrap_or(Timestamp::MIN),
                to: to
                    .as_deref()
                    .map(|t| parse_time(t, true))
                    .transpose()?
                    .unwrap_or(Timestamp::MAX),
            };
            let node = Node::open(&data, &pass.get()?)?;
            let result = search(&node, &query, range, limit)?;
            let mut recorder = Recorder::load(&node)?;
            recorder.record_audit(
                &node,
                now(),
                AuditEntry {
                    user: os_user(),
                    action: Action::Search,
                    object: format!("{query} ({} matches)", result.total),
                    purpose,
                    case,
                    outcome: Outcome::Success,
                },
                &mut rng,
            )?;
            print_hits(&result.hits, json)?;
            if !json {
                println!(
                    "{} matching reads, {} shown",
                    result.total,
                    result.hits.len()
                );
            }
        }
        Command::Verify { data, pass } => {
            let node = Node::open(&data, &pass.get()?)?;
            let report = crate::verify::verify(&node)?;
            for f in &report.failures {
                println!("FAIL {f}");
            }
            println!(
                "checked {} reads and {} audit events: {} failures",
                report.reads,
                report.audit_events,
                report.failures.len()
            );
            if !report.ok() {
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_hits(hits: &[Hit], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for hit in hits {
        match hit {
            Hit::Read(v) => {
                let r = v.read();
                if json {
                    let value = serde_json::json!({
                        "origin": r.origin.to_hex(),
                        "seq": r.seq,
                        "time": format_time(r.captured_at),
                        "plate": r.body.plate.as_str(),
                        "confidence": r.body.confidence,
                        "region": r.body.region.as_ref().map(|g| &g.code),
                        "camera": r.body.camera,
                        "lat": r.body.location.map(|l| l.lat),
                        "lon": r.body.location.map(|l| l.lon),
                        "crop_bytes": r.body.crop_jpeg.len(),
                    });
                    writeln!(out, "{value}")?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<10} {:>4.0}%  {:<4} {:<10} {}/{}",
                        format_time(r.captured_at),
                        r.body.plate,
                        r.body.confidence * 100.0,
                        r.body
                            .region
                            .as_ref()
                            .map(|g| g.code.as_str())
                            .unwrap_or("-"),
                        r.body.camera,
                        r.origin.short(),
                        r.seq
                    )?;
                }
            }
            Hit::Damaged { id, reason } => {
                if json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"damaged": id.to_string(), "reason": reason})
                    )?;
                } else {
                    writeln!(out, "DAMAGED {id}: {reason}")?;
                }
            }
        }
    }
    Ok(())
}
