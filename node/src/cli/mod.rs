//! The command line: argument parsing (clap) and what people read. One
//! file per command group, each command a short function over a
//! `session::Session`; `anyhow` lives only here.
//!
//! Exit status (also in `--help`): 0 done; 1 nothing found (a search or an
//! audit-log query matched nothing, or no plate in the images); 2 refused
//! or damaged (the node refused: login, role, purpose, policy; or a check
//! found damage); 64 usage (arguments or values typed wrong); 65 bad input
//! (a file given to import, publish, init or recognize that cannot be
//! used); 69 a peer could not be reached (`sync`); 74 I/O (a file or
//! directory could not be read or written).

mod admin;
mod alerts;
mod args;
mod cameras;
mod console;
mod daemon;
mod docs;
mod doctor;
mod holds;
mod hotlists;
mod live;
mod logging;
mod output;
mod oversight;
mod reads;
mod run;
mod session;
mod setup;
mod time;
mod users;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// A query matched nothing: exit 1, so scripts can tell.
    NothingFound,
    /// A check found damage (verify, evidence verify): exit 2.
    Damaged,
}

/// Exit statuses, as the module documentation lists them.
pub mod exit {
    pub const NOTHING_FOUND: u8 = 1;
    pub const REFUSED_OR_DAMAGED: u8 = 2;
    pub const USAGE: u8 = 64;
    pub const BAD_INPUT: u8 = 65;
    pub const UNAVAILABLE: u8 = 69;
    pub const IO: u8 = 74;
}

/// A value typed wrong, found after clap parsed it: exit 64.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// A file given as input that cannot be used: exit 65.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

const EXIT_HELP: &str = "\
Exit status: 0 done; 1 nothing found; 2 refused by the node or damage found; \
64 usage; 65 a file given as input cannot be used; 69 a peer could not be \
reached; 74 a file or directory could not be read or written.";

#[derive(Debug, Parser)]
#[command(
    name = "alpr-node",
    version,
    about = "Offline-first license plate reader node",
    after_help = EXIT_HELP,
)]
struct Cli {
    /// Show times in this machine's time zone (TZ) with their offset, not UTC.
    #[arg(long, global = true, env = "ALPR_LOCAL_TIME")]
    local_time: bool,
    /// Flag alerts and status as stale when this node's hotlists were last
    /// brought up to date (published, or a meeting with a station) longer
    /// ago than this many minutes.
    #[arg(long, global = true, env = "ALPR_STALE_LISTS_MINUTES", value_name = "MINUTES", default_value_t = 24 * 60)]
    stale_lists_minutes: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Agency keys and enrollment (on the Administrator's offline machine).
    #[command(subcommand)]
    Agency(setup::AgencyCommand),
    /// Initialize a node's data directory from an enrollment bundle, with its first Administrator.
    Init(setup::InitArgs),
    /// Read the plates in image files or folders (PNG or JPEG) and print them; nothing is stored.
    Recognize(reads::RecognizeArgs),
    /// Run a folder of frames through recognition and tracking, and store
    /// one signed, sealed read per vehicle.
    Replay(reads::ReplayArgs),
    /// Import reads recognized elsewhere, from a JSON-lines file.
    Import(reads::ImportArgs),
    /// Search stored reads by plate or wildcard pattern, for a stated purpose.
    Search(reads::SearchArgs),
    /// Open one read, for a stated purpose, and optionally write its plate crop and overview.
    View(reads::ViewArgs),
    /// The console: a terminal UI over the running daemon (log in, status;
    /// more screens to come).
    Console(console::ConsoleArgs),
    /// Follow what the daemon does as it happens, for a stated purpose:
    /// reads as they are stored, meetings with peers, purges.
    Watch(live::WatchArgs),
    /// Hotlist hits: list and show alerts, dispose of them, report counts.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Check every stored record's signature and seal, every audit chain and the indexes.
    Verify(reads::VerifyArgs),
    /// This node: certificate, peers and last sync, hotlist ages, retention, disk.
    Status(admin::StatusArgs),
    /// Peers and sync: each peer, whether a meeting runs, its last failure,
    /// what is pending each way; the revoked nodes.
    Peers(admin::PeersArgs),
    /// Users, roles and training (Administrators).
    #[command(subcommand)]
    User(users::UserCommand),
    /// Bulk hotlists: publish a version at a station, see what this node holds.
    #[command(subcommand)]
    Hotlist(hotlists::HotlistCommand),
    /// Revoke a node (a lost or compromised car): refused as a peer from
    /// now on, and its records refused from any peer (Administrators).
    Revoke(admin::RevokeArgs),
    /// Retention periods (Administrators); with no period given, shows them.
    Retention(admin::RetentionArgs),
    /// Login limits (Administrators), within the CJIS Security Policy's bounds.
    Limits(admin::LimitsArgs),
    /// Evidence holds (Administrators).
    #[command(subcommand)]
    Hold(holds::HoldCommand),
    /// Evidence bundles for portable media: export a case, verify a bundle anywhere.
    #[command(subcommand)]
    Evidence(holds::EvidenceCommand),
    /// Requests for ALPR data from outside law enforcement (policy V.A.1).
    #[command(subcommand)]
    Request(oversight::RequestCommand),
    /// Release reads to another agency as a verifiable bundle (Administrators, policy V.A.4).
    Release(oversight::ReleaseArgs),
    /// The releases to other agencies as recorded: when, what case, to whom,
    /// on what basis, by whom, the bundle's manifest hash (Auditors, Administrators).
    Releases(oversight::ReleasesArgs),
    /// Quarterly audits by random sampling, and the audit log (Auditors, policy V.A.5).
    #[command(subcommand)]
    Audit(oversight::AuditCommand),
    /// Run the node as configured in node.toml: capture, recognition,
    /// reads and alerts, replication, the control socket, purges, metrics.
    Run(run::RunArgs),
    /// Check this node's installation against node.toml (keys, enrollment,
    /// models, cameras, GPS, clock, peers, disk) and say what to fix.
    Doctor(doctor::DoctorArgs),
    /// List the V4L2 cameras on this machine, with the formats, sizes and
    /// frame rates each offers, for `source = "device"` in node.toml.
    Cameras(cameras::CamerasArgs),
    /// Run the daemon: own the database, serve the control socket, purge on
    /// schedule, and replicate with peers over QUIC.
    Serve(daemon::ServeArgs),
    /// Sync once with a peer (QUIC): send what it lacks, take what this node
    /// lacks, exit when both hold what the other had.
    Sync(daemon::SyncArgs),
    /// Delete reads past retention that no hold protects (Administrators).
    Purge(admin::PurgeArgs),
    /// Print a shell completion script.
    Completions(docs::CompletionsArgs),
    /// Write the man pages.
    Man(docs::ManArgs),
}

fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Agency(c) => setup::agency(c),
        Command::Init(a) => setup::init(a),
        Command::Recognize(a) => reads::recognize(a),
        Command::Replay(a) => reads::replay(a),
        Command::Import(a) => reads::import(a),
        Command::Search(a) => reads::search(a),
        Command::View(a) => reads::view(a),
        Command::Watch(a) => live::watch(a),
        Command::Console(a) => console::console(a),
        Command::Alerts(c) => alerts::run(c),
        Command::Verify(a) => reads::verify(a),
        Command::Status(a) => admin::status(a),
        Command::Peers(a) => admin::peers(a),
        Command::User(c) => users::run(c),
        Command::Hotlist(c) => hotlists::run(c),
        Command::Revoke(a) => admin::revoke(a),
        Command::Retention(a) => admin::retention(a),
        Command::Limits(a) => admin::limits(a),
        Command::Hold(c) => holds::hold(c),
        Command::Evidence(c) => holds::evidence(c),
        Command::Request(c) => oversight::request(c),
        Command::Release(a) => oversight::release(a),
        Command::Releases(a) => oversight::releases(a),
        Command::Audit(c) => oversight::audit(c),
        Command::Run(a) => {
            // The configuration names the log's format and level, so it is
            // read first; its errors go to stderr as every error does.
            let config = run::load_config(&a.config)?;
            logging::init(config.log.format, &config.log.level);
            run::run(config, &a)
        }
        Command::Cameras(a) => cameras::cameras(a),
        Command::Doctor(a) => doctor::doctor(a),
        Command::Serve(a) => daemon::serve(a),
        Command::Sync(a) => daemon::sync(a),
        Command::Purge(a) => admin::purge(a),
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
    }
}

/// Whether a command logs through `logging::init_default`; one that sets
/// up its own log from its configuration (`run`) answers false.
fn wants_default_logging(command: &Command) -> bool {
    if matches!(command, Command::Run(_)) {
        return false;
    }
    true
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are answers, not errors.
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    time::show_local_times(cli.local_time);
    session::set_stale_limit_minutes(cli.stale_lists_minutes);
    if wants_default_logging(&cli.command) {
        // The daemon logs what it does (syncs, refusals, purges); one-shot
        // commands only warnings, so their output stays readable.
        logging::init_default(match cli.command {
            Command::Serve(_) => logging::DAEMON_DEFAULT,
            _ => logging::COMMAND_DEFAULT,
        });
    }
    match run(cli.command) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NothingFound) => ExitCode::from(exit::NOTHING_FOUND),
        Ok(Outcome::Damaged) => ExitCode::from(exit::REFUSED_OR_DAMAGED),
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(exit_status(&e))
        }
    }
}

/// The exit status an error means: the first cause that says.
fn exit_status(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.is::<Usage>() {
            return exit::USAGE;
        }
        if cause.is::<session::Refusal>() {
            return exit::REFUSED_OR_DAMAGED;
        }
        if let Some(e) = cause.downcast_ref::<crate::datadir::DataDirError>() {
            use crate::datadir::DataDirError as D;
            match e {
                // A bundle or key file that cannot be used: bad input.
                D::Bundle { .. } | D::Key { .. } | D::Certificate { .. } => {
                    return exit::BAD_INPUT;
                }
                D::File(crate::keyfile::KeyFileIoError::Missing { .. }) => return exit::IO,
                _ => {}
            }
        }
        if let Some(crate::keyfile::KeyFileIoError::Missing { .. }) =
            cause.downcast_ref::<crate::keyfile::KeyFileIoError>()
        {
            return exit::IO;
        }
        if let Some(crate::replication::SyncFailure::Connect { .. }) =
            cause.downcast_ref::<crate::replication::SyncFailure>()
        {
            return exit::UNAVAILABLE;
        }
        if cause.is::<BadInput>()
            || cause.is::<crate::import::ImportError>()
            || cause.is::<crate::hotlist::HotlistFileError>()
            || cause.is::<crate::replay::ReplayError>()
        {
            return match cause
                .source()
                .and_then(|s| s.downcast_ref::<std::io::Error>())
            {
                Some(_) => exit::IO,
                None => exit::BAD_INPUT,
            };
        }
        if cause.is::<std::io::Error>() {
            return exit::IO;
        }
    }
    exit::REFUSED_OR_DAMAGED
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every argument of every command says what it is for, and every
    /// choice is a value enum clap lists, not prose.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>, seen: &mut usize) {
            if cmd.get_about().is_none() && !path.is_empty() {
                missing.push(format!("{path} (the command)"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                *seen += 1;
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing, seen);
            }
        }
        let (mut missing, mut seen) = (Vec::new(), 0);
        walk(&Cli::command(), "", &mut missing, &mut seen);
        // The walk reaches every command's arguments (over 200 of them).
        assert!(seen > 200, "only {seen} arguments seen");
        assert!(missing.is_empty(), "arguments without help: {missing:#?}");
        Cli::command().debug_assert();
    }
}
