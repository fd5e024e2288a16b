//! The command line: argument parsing (clap) and human-readable output. `anyhow` lives only here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use alpr_protocol::{KdfParams, NodeId, PlatePattern, PlateText, Role, Timestamp};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::agency::{Agency, EnrollRequest};
use crate::control::{ControlClient, Daemon};
use crate::datadir::Node;
use crate::engine::{Engine, NewUser};
use crate::policy::{Quarter, RequestOutcome, UserRole};
use crate::recognize::{PlateRead, Recognizer};
use crate::recorder::READ_BATCH_MAX;
use crate::replication;
use crate::store::RecordId;
use alpr_protocol::control::{
    ControlRequest, ControlResponse, Hit as WireHit, HoldScopeWire, PurposeWire, QueryWire,
    UserEditWire,
};
use alpr_protocol::replicate::Collection;

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
    /// Initialize a node's data directory from an enrollment bundle, with its first Administrator.
    Init {
        /// The enrollment bundle written by `agency enroll`.
        #[arg(long, value_name = "BUNDLE")]
        enroll: PathBuf,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The first Administrator's user name (password from ALPR_NEW_PASSWORD or a prompt).
        #[arg(long)]
        admin: String,
        /// When that Administrator completed ALPR training (a date or RFC 3339 time).
        #[arg(long)]
        admin_trained_on: String,
        /// When that training expires, if the department sets an expiry.
        #[arg(long)]
        admin_training_expires: Option<String>,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Read the plates in image files (PNG or JPEG) and print them; nothing is stored.
    Recognize {
        /// One JSON line per image: file, ms, plates (text, confidence, region, box, candidates).
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
    },
    /// Run a folder of frames (PNG or JPEG, in name order) through recognition
    /// and tracking, and store one signed, sealed read per vehicle.
    Replay {
        #[command(flatten)]
        session: SessionArgs,
        /// The rate the frames were captured at; frame times follow from it.
        #[arg(long, default_value_t = 10.0)]
        fps: f64,
        /// Capture time of the first frame (RFC 3339); by default the last frame is now.
        #[arg(long)]
        start: Option<String>,
        /// The camera name stored with each read.
        #[arg(long, default_value = "replay")]
        camera: String,
        folder: PathBuf,
    },
    /// Import reads recognized elsewhere, from a JSON-lines file.
    Import {
        #[command(flatten)]
        session: SessionArgs,
        /// Reads per durable transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        file: PathBuf,
    },
    /// Search stored reads by exact plate or wildcard pattern, for a stated purpose.
    Search {
        #[command(flatten)]
        session: SessionArgs,
        #[command(flatten)]
        purpose: PurposeArgs,
        /// Exact plate (spaces and dashes ignored).
        #[arg(long, conflicts_with = "pattern", required_unless_present = "pattern")]
        plate: Option<String>,
        /// Wildcard: '?' one character, '*' any run, e.g. '7AB*' or 'AB?1*'.
        #[arg(long)]
        pattern: Option<String>,
        /// Earliest capture time: 2026-11-28T10:00:00Z, a local 2026-11-28 10:00, or a date (its start).
        #[arg(long)]
        from: Option<String>,
        /// Latest capture time: 2026-11-28T10:00:00Z, a local 2026-11-28 10:00, or a date (its end).
        #[arg(long)]
        to: Option<String>,
        /// Reads to show, newest first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON object per read instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Open one read, for a stated purpose, and optionally write its plate crop.
    View {
        #[command(flatten)]
        session: SessionArgs,
        #[command(flatten)]
        purpose: PurposeArgs,
        /// The read: ORIGIN/SEQ, ORIGIN being the node id or a unique prefix of it (as search prints).
        #[arg(long)]
        read: String,
        /// Write the plate crop (JPEG) here.
        #[arg(long, value_name = "FILE")]
        crop_out: Option<PathBuf>,
    },
    /// Check every stored record's signature and seal, every audit chain and the indexes.
    Verify {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Users, roles and training (Administrators).
    #[command(subcommand)]
    User(UserCommand),
    /// Bulk hotlists: publish a version at a station, see what this node holds.
    #[command(subcommand)]
    Hotlist(HotlistCommand),
    /// Revoke a node (a lost or compromised car): refused as a peer from
    /// now on, and its records refused from any peer (Administrators).
    Revoke {
        #[command(flatten)]
        session: SessionArgs,
        /// The node's name, full id, or a unique prefix of its id.
        node: String,
        #[arg(long)]
        reason: String,
    },
    /// Retention periods (Administrators).
    Retention {
        #[command(flatten)]
        session: SessionArgs,
        /// Days to keep reads; omit every period to show the current ones.
        #[arg(long)]
        reads_days: Option<u32>,
        /// Days to keep plate crops (at most the reads' period).
        #[arg(long)]
        plate_images_days: Option<u32>,
        /// Days to keep overview frames (at most the reads' period).
        #[arg(long)]
        overview_images_days: Option<u32>,
        /// Days to keep audit events (at least 365).
        #[arg(long)]
        audit_days: Option<u32>,
        /// Days to keep alerts: hotlist hits and their dispositions (at least 1).
        #[arg(long)]
        alerts_days: Option<u32>,
    },
    /// Login limits (Administrators), within the CJIS Security Policy's bounds.
    Limits {
        #[command(flatten)]
        session: SessionArgs,
        /// Consecutive failed logins that lock an account (1 to 5).
        #[arg(long)]
        failures: Option<u32>,
        /// How long a lockout lasts (at least 10 minutes).
        #[arg(long)]
        lockout_minutes: Option<u32>,
        /// Idle minutes before a session locks (1 to 30).
        #[arg(long)]
        idle_minutes: Option<u32>,
    },
    /// Evidence holds (Administrators).
    #[command(subcommand)]
    Hold(HoldCommand),
    /// Evidence bundles for portable media: export a case, verify a bundle anywhere.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Requests for ALPR data from outside law enforcement (policy V.A.1).
    #[command(subcommand)]
    Request(RequestCommand),
    /// Release reads to another agency as a verifiable bundle (Administrators, policy V.A.4).
    Release {
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
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Quarterly audits by random sampling (Auditors, policy V.A.5).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run the daemon: own the database, serve the control socket, purge on
    /// schedule, and replicate with peers over QUIC.
    Serve {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Minutes between scheduled purges.
        #[arg(long, default_value_t = 60)]
        purge_every_minutes: u64,
        /// Accept peers on this UDP address (a station: 0.0.0.0:7447).
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<String>,
        /// Keep meeting this peer (repeatable): sync, wait, sync again; back off while unreachable.
        #[arg(long = "peer", value_name = "HOST:PORT")]
        peers: Vec<String>,
        /// Seconds between meetings with each configured peer.
        #[arg(long, default_value_t = 15)]
        sync_every_seconds: u64,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Sync once with a peer (QUIC): send what it lacks, take what this node
    /// lacks, exit when both hold what the other had.
    Sync {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, value_name = "HOST:PORT")]
        peer: String,
        #[command(flatten)]
        pass: NodePassphrase,
    },
    /// Delete reads past retention that no hold protects (Administrators).
    Purge {
        #[command(flatten)]
        session: SessionArgs,
        /// Count what would go, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum HotlistCommand {
    /// Publish a CSV extract (plate,region,category,reference) as the next
    /// version of a list (Administrators, at a station); peers get it at
    /// their next meeting, as a delta when they hold the version before.
    Publish {
        #[command(flatten)]
        session: SessionArgs,
        /// List name, e.g. ncic-stolen.
        #[arg(long)]
        list: String,
        /// Accept quoted fields that span lines (refused by default: a
        /// stray quote would merge the rows after it into one).
        #[arg(long)]
        allow_multiline: bool,
        /// The CSV extract: plate,region,category,reference with a header row.
        file: PathBuf,
    },
    /// The hotlist versions this node holds, and the local list.
    List {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Put a plate on the local hotlist (a BOLO); it reaches every node.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        plate: String,
        /// State or country code.
        #[arg(long)]
        region: Option<String>,
        /// stolen-vehicle, stolen-plate, wanted-person, missing-person, amber, bolo or other.
        #[arg(long, default_value = "bolo")]
        category: String,
        /// What it is about: a case or report number, a description.
        #[arg(long)]
        reference: String,
    },
    /// Take an entry off the local hotlist (whoever added it, a Supervisor or an Administrator).
    Remove {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        id: u64,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user (the new password comes from ALPR_NEW_PASSWORD or a prompt).
    Add {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        name: String,
        /// officer, supervisor, administrator or auditor.
        #[arg(long, value_parser = parse_user_role)]
        role: UserRole,
        /// When ALPR training was completed; without it the user cannot log in.
        #[arg(long)]
        trained_on: Option<String>,
        #[arg(long)]
        training_expires: Option<String>,
    },
    /// List users, roles and training.
    List {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Clear a locked-out user's failed logins on this node.
    Unlock {
        #[command(flatten)]
        session: SessionArgs,
        /// The user to unlock.
        #[arg(long)]
        name: String,
    },
    /// Change one thing about a user.
    Edit {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        name: String,
        /// Record training: completion date (and --training-expires).
        #[arg(long)]
        trained_on: Option<String>,
        #[arg(long, requires = "trained_on")]
        training_expires: Option<String>,
        #[arg(long, conflicts_with = "activate")]
        deactivate: bool,
        #[arg(long)]
        activate: bool,
        #[arg(long, value_parser = parse_user_role)]
        role: Option<UserRole>,
        /// Set a new password (from ALPR_NEW_PASSWORD or a prompt).
        #[arg(long)]
        reset_password: bool,
    },
}

#[derive(Debug, Subcommand)]
enum HoldCommand {
    /// Hold reads as evidence: by id, or by plate and time window.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        case: String,
        #[arg(long)]
        reason: String,
        /// A read to hold (ORIGIN/SEQ); repeat for more.
        #[arg(long = "read", conflicts_with = "plate")]
        reads: Vec<String>,
        #[arg(long, requires_all = ["from", "to"])]
        plate: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// When the hold lapses on its own, if ever.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List holds.
    List {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Release a hold.
    Release {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        id: u64,
    },
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Write every read held for a case, and the case's audit trail, as a self-verifying bundle.
    Export {
        #[command(flatten)]
        session: SessionArgs,
        /// Why (an investigation of this case): --purpose investigation --reason … --case must match.
        #[command(flatten)]
        purpose: PurposeArgs,
        /// A new or empty directory, e.g. on a USB drive.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Check a bundle with nothing but its own files: no database, no keys.
    Verify {
        dir: PathBuf,
        /// The agency public key (hex) you hold from the agency itself; checks
        /// the bundle is that agency's, not just intact.
        #[arg(long)]
        agency: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RequestCommand {
    /// Register a request and whom it is referred to.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        requester: String,
        #[arg(long)]
        what: String,
        #[arg(long, default_value = "Staff Services Commander")]
        referred_to: String,
    },
    /// Record the decision (Staff Services Commander or designee).
    Decide {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        id: u64,
        /// granted, partly-granted or denied.
        #[arg(long, value_parser = parse_request_outcome)]
        decision: RequestOutcome,
        #[arg(long)]
        note: String,
    },
    /// List the register.
    List {
        #[command(flatten)]
        session: SessionArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Draw a reproducible random sample of a quarter's access events.
    Sample {
        #[command(flatten)]
        session: SessionArgs,
        /// e.g. 2026Q4.
        #[arg(long, value_parser = Quarter::parse)]
        quarter: Quarter,
        /// Seed of the draw (recorded); a random one if omitted.
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long, default_value_t = 25)]
        size: usize,
    },
    /// Mark one sampled event compliant or not.
    Mark {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        report: u64,
        /// Item number, as `audit show` lists it.
        #[arg(long)]
        item: usize,
        #[arg(
            long,
            conflicts_with = "not_compliant",
            required_unless_present = "not_compliant"
        )]
        compliant: bool,
        #[arg(long)]
        not_compliant: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Sign a report once every item is marked.
    Sign {
        #[command(flatten)]
        session: SessionArgs,
        #[arg(long)]
        report: u64,
    },
    /// Show reports, their items, and whether an audit is overdue.
    Show {
        #[command(flatten)]
        session: SessionArgs,
    },
}

fn parse_request_outcome(s: &str) -> Result<RequestOutcome, String> {
    RequestOutcome::parse(s)
        .ok_or_else(|| format!("'{s}' is not a decision: use granted, partly-granted or denied"))
}

/// Who is acting: the data directory, its passphrase, and a user login.
#[derive(Debug, Args)]
struct SessionArgs {
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Your user name; else ALPR_USER. The password comes from ALPR_USER_PASSWORD or a prompt.
    #[arg(long, env = "ALPR_USER")]
    user: String,
    #[command(flatten)]
    pass: NodePassphrase,
}

/// Why you are accessing data (policy III.A.2): recorded in the audit log.
#[derive(Debug, Args)]
struct PurposeArgs {
    /// investigation, alert, audit or administration.
    #[arg(long)]
    purpose: Option<String>,
    /// What for, in words.
    #[arg(long)]
    reason: Option<String>,
    /// Case number; required for an investigation.
    #[arg(long)]
    case: Option<String>,
}

impl PurposeArgs {
    fn wire(&self) -> PurposeWire {
        PurposeWire {
            kind: self.purpose.clone(),
            reason: self.reason.clone(),
            case: self.case.clone(),
        }
    }
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

fn parse_user_role(s: &str) -> Result<UserRole, String> {
    UserRole::parse(s).ok_or_else(|| {
        format!("'{s}' is not a role: use officer, supervisor, administrator or auditor")
    })
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role: use vehicle or station"))
}

const PASSPHRASE_LEN_MIN: usize = 8;

fn passphrase(file: Option<&Path>, env: &str, prompt: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = if let Some(file) = file {
        // Held to the rules of a key file: owner-only, a regular file, small.
        let bytes = Zeroizing::new(crate::keyfile::read_private(file, "passphrase file")?);
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("passphrase file {} is not UTF-8", file.display()))?;
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

/// A time as tables show it: always 24 characters, to the millisecond, in
/// UTC (`2026-12-01T22:46:05.220Z`), so columns line up.
fn format_time(t: Timestamp) -> String {
    match jiff::Timestamp::from_millisecond(t.0) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => t.to_string(),
    }
}

/// A time as a person types it, to the millisecond: RFC 3339 with an
/// offset (`2026-11-28T10:00:00Z`, `…-08:00`); a local date and time
/// without one (`2026-11-28T23:00`, `2026-11-28 23:00:30`), in this
/// machine's time zone (TZ); or a bare date, meaning its first (or, with
/// `end_of_day`, last) millisecond in that zone. Anything else, or a date
/// with something after it that is not a time, is refused: a time never
/// silently becomes midnight.
fn parse_time(text: &str, end_of_day: bool) -> Result<Timestamp> {
    parse_time_in(text, end_of_day, &jiff::tz::TimeZone::system())
}

fn parse_time_in(text: &str, end_of_day: bool, zone: &jiff::tz::TimeZone) -> Result<Timestamp> {
    let text = text.trim();
    let refuse = || {
        anyhow!(
            "'{text}' is not a time: use 2026-11-28T10:00:00Z (or an offset such as -08:00), a local time 2026-11-28 10:00 (in this machine's time zone, {}), or a date 2026-11-28",
            zone.iana_name().unwrap_or("the system zone")
        )
    };
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Timestamp(t.as_millisecond()));
    }
    let is_date = text.len() == 10 && !text.contains(['T', 't', ' ']);
    let ms = if is_date {
        let date: jiff::civil::Date = text.parse().map_err(|_| refuse())?;
        let start = date.to_zoned(zone.clone())?.timestamp().as_millisecond();
        if end_of_day {
            let next = date
                .tomorrow()
                .map_err(|_| refuse())?
                .to_zoned(zone.clone())?
                .timestamp()
                .as_millisecond();
            next - 1
        } else {
            start
        }
    } else {
        let local: jiff::civil::DateTime = text.parse().map_err(|_| refuse())?;
        local.to_zoned(zone.clone())?.timestamp().as_millisecond()
    };
    Ok(Timestamp(ms))
}

/// A user's password: ALPR_USER_PASSWORD (for scripts), else a prompt.
fn user_password(env: &str, prompt: &str) -> Result<Zeroizing<String>> {
    if let Ok(text) = std::env::var(env) {
        return Ok(Zeroizing::new(text));
    }
    if std::io::stdin().is_terminal() {
        return Ok(Zeroizing::new(
            rpassword::prompt_password(prompt).context("reading password")?,
        ));
    }
    bail!("no password: set {env} or run at a terminal");
}

/// Image bytes per import request: half a control frame, so a batch always fits.
/// Reads on their way to the engine, sent in batches bounded by count and
/// bytes (each fits one control frame); every commit is printed.
struct ImportBatches<'a> {
    session: &'a mut Session,
    source: String,
    batch: usize,
    chunk: Vec<(Timestamp, alpr_protocol::Capture)>,
    bytes: usize,
    /// Reads the node already held, over every batch so far.
    skipped: u64,
}

impl<'a> ImportBatches<'a> {
    fn new(session: &'a mut Session, source: String, batch: usize) -> Self {
        ImportBatches {
            session,
            source,
            batch,
            chunk: Vec::new(),
            bytes: 0,
            skipped: 0,
        }
    }

    fn push(&mut self, at: Timestamp, capture: alpr_protocol::Capture) -> Result<()> {
        let size =
            capture.crop_jpeg.len() + capture.overview_jpeg.as_ref().map_or(0, Vec::len) + 256;
        if !self.chunk.is_empty()
            && (self.chunk.len() >= self.batch || self.bytes + size > IMPORT_BATCH_BYTES_MAX)
        {
            self.flush()?;
        }
        self.bytes += size;
        self.chunk.push((at, capture));
        Ok(())
    }

    /// Says how many reads were skipped as already stored, once at the end.
    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if self.skipped > 0 {
            println!(
                "{} reads already stored here, skipped (the same plate, time, camera and crop)",
                self.skipped
            );
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let token = self.session.token;
        let response = self.session.send(ControlRequest::Import {
            token,
            source: self.source.clone(),
            reads: std::mem::take(&mut self.chunk),
        })?;
        self.bytes = 0;
        let ControlResponse::Imported {
            first_seq,
            last_seq,
            already_stored,
        } = response
        else {
            bail!("unexpected answer: {response:?}");
        };
        // Printed only after the commit returned: each line is an acknowledgement.
        let mut stdout = std::io::stdout().lock();
        if first_seq > 0 {
            writeln!(stdout, "committed reads {first_seq}..={last_seq}")?;
        }
        self.skipped += already_stored;
        stdout.flush()?;
        Ok(())
    }
}

// `alpr-node recognize`: what it prints.

#[derive(Debug, Serialize)]
struct PlateJson<'a> {
    text: &'a str,
    confidence: f32,
    char_confidences: Vec<f32>,
    region: Option<&'a str>,
    region_confidence: Option<f32>,
    #[serde(rename = "box")]
    bbox: [u32; 4],
    candidates: Vec<CandidateJson<'a>>,
}

#[derive(Debug, Serialize)]
struct CandidateJson<'a> {
    text: &'a str,
    confidence: f32,
}

#[derive(Debug, Serialize)]
struct ImageJson<'a> {
    file: String,
    /// Recognition time on the decoded frame.
    ms: f64,
    /// Time to read and decode the file.
    decode_ms: f64,
    plates: Vec<PlateJson<'a>>,
}

fn plate_json(p: &PlateRead) -> PlateJson<'_> {
    PlateJson {
        text: &p.text,
        confidence: round3(p.confidence),
        char_confidences: p.char_confidences.iter().map(|c| round3(*c)).collect(),
        region: p.region.as_ref().map(|(r, _)| r.as_str()),
        region_confidence: p.region.as_ref().map(|(_, c)| round3(*c)),
        bbox: p.bbox,
        candidates: p
            .candidates
            .iter()
            .map(|c| CandidateJson {
                text: &c.text,
                confidence: round3(c.confidence),
            })
            .collect(),
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// `alpr-node recognize`: one line per image, JSON or for people.
fn recognize_files(images: &[PathBuf], json: bool) -> Result<()> {
    let recognizer = Recognizer::shipped()?;
    let mut out = std::io::stdout().lock();
    for path in images {
        let t0 = Instant::now();
        let frame = crate::replay::load_frame(path)?;
        let t1 = Instant::now();
        let plates = recognizer.recognize(&frame)?;
        let ms = t1.elapsed().as_secs_f64() * 1000.0;
        let decode_ms = (t1 - t0).as_secs_f64() * 1000.0;
        if json {
            let line = ImageJson {
                file: path.display().to_string(),
                ms: (ms * 100.0).round() / 100.0,
                decode_ms: (decode_ms * 100.0).round() / 100.0,
                plates: plates.iter().map(plate_json).collect(),
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        } else if plates.is_empty() {
            writeln!(out, "{}: no plate ({ms:.1} ms)", path.display())?;
        } else {
            for p in &plates {
                let region = p
                    .region
                    .as_ref()
                    .map(|(r, c)| format!(" {r} {:.0}%", c * 100.0))
                    .unwrap_or_default();
                let others: Vec<&str> = p
                    .candidates
                    .iter()
                    .skip(1)
                    .map(|c| c.text.as_str())
                    .collect();
                writeln!(
                    out,
                    "{}: {} {:.0}%{region} at {:?} ({ms:.1} ms){}",
                    path.display(),
                    p.text,
                    p.confidence * 100.0,
                    p.bbox,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" or {}", others.join(", "))
                    }
                )?;
            }
        }
    }
    Ok(())
}

const IMPORT_BATCH_BYTES_MAX: usize = alpr_protocol::control::FRAME_BYTES_MAX / 2;

/// HOST:PORT to one socket address (the first the resolver gives).
fn resolve(text: &str) -> Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .with_context(|| format!("peer address '{text}' (expected HOST:PORT)"))?
        .next()
        .ok_or_else(|| anyhow!("peer address '{text}' resolves to nothing"))
}

fn engine_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut seed);
    seed
}

/// Where requests go: the engine in this process, or a running daemon.
enum Backend {
    Local(Box<Engine>),
    Remote(ControlClient),
}

/// A logged-in user. Every data command is a control request, answered by
/// the daemon when one serves the directory, else by an engine opened here:
/// the same checks and the same audit events either way.
struct Session {
    backend: Backend,
    token: [u8; 32],
    logged_out: bool,
    /// Node ids the node knows, fetched once per command.
    nodes: Option<Vec<NodeId>>,
}

/// A command that fails still ends its session, so the audit log shows the logout.
impl Drop for Session {
    fn drop(&mut self) {
        if !self.logged_out {
            self.logged_out = true;
            let token = self.token;
            let _ = self.send(ControlRequest::Logout { token });
        }
    }
}

impl Session {
    fn open(args: &SessionArgs) -> Result<Session> {
        let ask = || {
            user_password(
                "ALPR_USER_PASSWORD",
                &format!("Password for {}: ", args.user),
            )
        };
        let local = || -> Result<Backend> {
            let node = Node::open(&args.data, &args.pass.get()?)?;
            Ok(Backend::Local(Box::new(Engine::open(node, engine_seed())?)))
        };
        // With a daemon, the password is asked before connecting: the
        // daemon drops a client that has not logged in within seconds, and
        // a person takes longer than that to type.
        let (backend, password) = if crate::control::socket_path(&args.data).exists() {
            let password = ask()?;
            match ControlClient::connect(&args.data) {
                Some(client) => (Backend::Remote(client), password),
                None => (local()?, password),
            }
        } else {
            let backend = local()?;
            (backend, ask()?)
        };
        let mut session = Session {
            backend,
            token: [0; 32],
            // Not logged in yet: nothing to end if the login fails.
            logged_out: true,
            nodes: None,
        };
        let response = session.send(ControlRequest::Login {
            user: args.user.clone(),
            password: password.to_string(),
        })?;
        let ControlResponse::LoggedIn { token, .. } = response else {
            bail!("unexpected answer: {response:?}");
        };
        session.token = token;
        session.logged_out = false;
        Ok(session)
    }

    /// Sends a request; a refusal becomes an error with the engine's message.
    fn send(&mut self, request: ControlRequest) -> Result<ControlResponse> {
        let response = match &mut self.backend {
            Backend::Local(engine) => crate::control::handle(engine, now(), request),
            Backend::Remote(client) => client.call(&request)?,
        };
        match response {
            ControlResponse::Error { message, .. } => bail!(message),
            other => Ok(other),
        }
    }

    fn done(&mut self, request: ControlRequest) -> Result<()> {
        match self.send(request)? {
            ControlResponse::Done => Ok(()),
            other => bail!("unexpected answer: {other:?}"),
        }
    }

    fn logout(mut self) -> Result<()> {
        let token = self.token;
        self.logged_out = true;
        self.done(ControlRequest::Logout { token })
    }

    /// Node ids this node knows (to resolve ORIGIN prefixes).
    fn known_nodes(&mut self) -> Result<Vec<NodeId>> {
        if let Some(nodes) = &self.nodes {
            return Ok(nodes.clone());
        }
        let token = self.token;
        let ControlResponse::Status { nodes, .. } = self.send(ControlRequest::Status { token })?
        else {
            bail!("unexpected answer from the node");
        };
        self.nodes = Some(nodes.clone());
        Ok(nodes)
    }

    /// ORIGIN/SEQ, where ORIGIN is a node id or a unique prefix of one (as search prints).
    fn record_id(&mut self, text: &str) -> Result<RecordId> {
        let (origin, seq) = text.split_once('/').ok_or_else(|| {
            anyhow!("'{text}' is not a read id: use ORIGIN/SEQ as search prints it")
        })?;
        let seq: u64 = seq
            .parse()
            .map_err(|_| anyhow!("'{seq}' in '{text}' is not a sequence number"))?;
        let origin = origin.to_ascii_lowercase();
        let matches: Vec<NodeId> = self
            .known_nodes()?
            .into_iter()
            .filter(|id| id.to_hex().starts_with(&origin))
            .collect();
        match matches.as_slice() {
            [one] if origin.len() >= 8 => Ok(RecordId { origin: *one, seq }),
            [] => bail!("no known node id starts with '{origin}'"),
            _ => bail!(
                "'{origin}' is ambiguous or too short: give at least 8 hex characters of the node id"
            ),
        }
    }
}

fn parse_agency(text: &str) -> Result<alpr_protocol::AgencyId> {
    alpr_protocol::AgencyId::from_hex(text).ok_or_else(|| {
        anyhow!("'{text}' is not an agency key: give the 64 hex characters of agency.pub")
    })
}

fn role_name(role: UserRole) -> String {
    format!("{role:?}").to_lowercase()
}

fn parse_opt_time(text: Option<&str>, end_of_day: bool) -> Result<Option<Timestamp>> {
    text.map(|t| parse_time(t, end_of_day)).transpose()
}

/// Stops the daemon on SIGTERM or SIGINT: waits for the request or sync
/// step in hand (it holds the engine), closes the database cleanly,
/// removes the control socket, and exits 0. Commits are durable as they
/// happen, so nothing acknowledged waits on this.
fn stop_on_signal(engine: std::sync::Arc<std::sync::Mutex<Engine>>, socket: PathBuf) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("signal handling")?;
    let (mut term, mut int) = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    })?;
    std::thread::spawn(move || {
        let name = runtime.block_on(async {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        });
        tracing::info!(signal = name, "stopping");
        // Held until exit: no request or sync step starts after this.
        // Even after a panic elsewhere, the database is closed cleanly.
        let mut guard = engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.close_storage();
        let _ = std::fs::remove_file(&socket);
        std::process::exit(0);
    });
    Ok(())
}

/// Standard error for the log, where a failed write is dropped: the log is
/// best effort (the audit chain is the record), and a log on a full disk
/// must not stop the daemon.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs what it does (syncs, refusals, purges); one-shot
    // commands only warnings, so their output stays readable.
    let default = match cli.command {
        Command::Serve { .. } => "info,quinn=warn,rustls=warn",
        _ => "warn,quinn=error,rustls=error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALPR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LossyStderr)
        // Colour only on a terminal: a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
        Command::Init {
            enroll,
            data,
            admin,
            admin_trained_on,
            admin_training_expires,
            pass,
        } => {
            let trained_on = parse_time(&admin_trained_on, false)?;
            let expires = parse_opt_time(admin_training_expires.as_deref(), false)?;
            // Everything about the Administrator is checked before anything
            // is written: a refused password leaves no half-made directory.
            let name =
                crate::policy::parse_user_name(&admin).map_err(|e| anyhow!("--admin: {e}"))?;
            if trained_on > now() {
                bail!(
                    "--admin-trained-on {}: training cannot be completed in the future",
                    format_time(trained_on)
                );
            }
            let password =
                user_password("ALPR_NEW_PASSWORD", &format!("New password for {admin}: "))?;
            crate::policy::password::check_strength(&name, &password)
                .map_err(|e| anyhow!("the Administrator's password: {e}"))?;
            let existed = data.exists();
            let node = Node::init(&data, &enroll, &pass.get()?, &mut rng)?;
            let cert = node.certificate.certificate().clone();
            let id = node.node_key.id();
            let made = Engine::open(node, engine_seed()).and_then(|mut engine| {
                engine.bootstrap_admin(
                    now(),
                    NewUser {
                        name: admin.clone(),
                        role: UserRole::Administrator,
                        password: password.to_string(),
                        trained_on: Some(trained_on),
                        training_expires: expires,
                    },
                )
            });
            if let Err(e) = made {
                // A directory without its Administrator could never be used.
                if !existed {
                    let _ = std::fs::remove_dir_all(&data);
                }
                return Err(e.into());
            }
            println!(
                "node {} ({id}) initialized in {}",
                cert.name,
                data.display()
            );
            println!("first Administrator: {admin}");
        }
        Command::Recognize { json, images } => recognize_files(&images, json)?,
        Command::Replay {
            session,
            fps,
            start,
            camera,
            folder,
        } => {
            let files = crate::replay::frame_files(&folder)?;
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Status { valid_from, .. } =
                s.send(ControlRequest::Status { token })?
            else {
                bail!("unexpected answer");
            };
            let start = match start {
                Some(t) => parse_time(&t, false)?,
                // As if the folder was captured just now: its last frame is
                // now, unless that starts before this node was enrolled.
                None => Timestamp(
                    now()
                        .0
                        .saturating_sub(((files.len() - 1) as f64 * 1000.0 / fps.max(0.001)) as i64)
                        .max(valid_from.0),
                ),
            };
            let options = crate::replay::ReplayOptions { start, fps, camera };
            let bar = indicatif::ProgressBar::new(files.len() as u64);
            if !std::io::stderr().is_terminal() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let mut batches = ImportBatches::new(&mut s, folder.display().to_string(), 64);
            let stats = crate::replay::replay(&files, &options, &bar, |at, capture| {
                let region = capture
                    .region
                    .as_ref()
                    .map(|r| format!(" {}", r.code))
                    .unwrap_or_default();
                bar.suspend(|| {
                    println!(
                        "read {} {:.0}%{region} at {}",
                        capture.plate,
                        capture.confidence * 100.0,
                        format_time(at)
                    )
                });
                batches.push(at, capture)
            })?;
            batches.finish()?;
            bar.finish_and_clear();
            println!(
                "{} frames, {} plate sightings, {} reads stored; recognition {:.1} ms a frame",
                stats.frames,
                stats.sightings,
                stats.reads,
                stats.recognize_ms / stats.frames.max(1) as f64
            );
            s.logout()?;
        }
        Command::Import {
            session,
            batch,
            file,
        } => {
            if batch == 0 || batch > READ_BATCH_MAX {
                bail!("--batch must be 1 to {READ_BATCH_MAX}");
            }
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Status {
                valid_from,
                valid_until,
                ..
            } = s.send(ControlRequest::Status { token })?
            else {
                bail!("unexpected answer");
            };
            let reads = crate::import::parse_file(&file, |at| {
                if valid_from <= at && at <= valid_until {
                    Ok(())
                } else {
                    Err(format!(
                        "captured at {at}, outside this node's certificate ({valid_from} to {valid_until})"
                    ))
                }
            })?;
            let mut batches = ImportBatches::new(&mut s, file.display().to_string(), batch);
            for (at, capture) in reads {
                batches.push(at, capture)?;
            }
            batches.finish()?;
            s.logout()?;
        }
        Command::Search {
            session,
            purpose,
            plate,
            pattern,
            from,
            to,
            limit,
            json,
        } => {
            let query = match (plate, pattern) {
                (Some(p), _) => QueryWire::Plate(PlateText::parse(&p)?.to_string()),
                (None, Some(p)) => {
                    QueryWire::Pattern(PlatePattern::parse(&p)?.as_str().to_string())
                }
                (None, None) => bail!("give --plate or --pattern"),
            };
            let from = parse_opt_time(from.as_deref(), false)?;
            let to = parse_opt_time(to.as_deref(), true)?;
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::Search {
                token,
                purpose: purpose.wire(),
                query,
                from,
                to,
                limit: limit.min(u32::MAX as usize) as u32,
            })?;
            let ControlResponse::Found { hits, total } = response else {
                bail!("unexpected answer: {response:?}");
            };
            print_hits(&hits, json)?;
            if !json {
                let noun = if total == 1 { "read" } else { "reads" };
                println!("{total} matching {noun}, {} shown", hits.len());
            }
            s.logout()?;
        }
        Command::View {
            session,
            purpose,
            read,
            crop_out,
        } => {
            let mut s = Session::open(&session)?;
            let id = s.record_id(&read)?;
            let token = s.token;
            let response = s.send(ControlRequest::ViewRead {
                token,
                purpose: purpose.wire(),
                origin: id.origin,
                seq: id.seq,
            })?;
            let ControlResponse::Read { read, crop_jpeg } = response else {
                bail!("unexpected answer: {response:?}");
            };
            print_hits(&[WireHit::Read(read)], false)?;
            match crop_out {
                Some(_) if crop_jpeg.is_empty() => {
                    println!("no plate crop to write: past its retention, withheld, or never taken")
                }
                Some(path) => {
                    std::fs::write(&path, &crop_jpeg)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("plate crop written to {}", path.display());
                }
                None => {}
            }
            s.logout()?;
        }
        Command::Verify { session } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::Verify { token })?;
            let ControlResponse::Verified {
                reads,
                images,
                audit_events,
                failures,
            } = response
            else {
                bail!("unexpected answer: {response:?}");
            };
            for f in &failures {
                println!("FAIL {f}");
            }
            println!(
                "checked {reads} reads, {images} images and {audit_events} audit events: {} failures",
                failures.len()
            );
            s.logout()?;
            if !failures.is_empty() {
                return Ok(ExitCode::from(2));
            }
        }
        Command::User(UserCommand::Add {
            session,
            name,
            role,
            trained_on,
            training_expires,
        }) => {
            let trained_on = parse_opt_time(trained_on.as_deref(), false)?;
            let training_expires = parse_opt_time(training_expires.as_deref(), false)?;
            let mut s = Session::open(&session)?;
            let password =
                user_password("ALPR_NEW_PASSWORD", &format!("New password for {name}: "))?;
            let token = s.token;
            s.done(ControlRequest::AddUser {
                token,
                name: name.clone(),
                role: role_name(role),
                password: password.to_string(),
                trained_on,
                training_expires,
            })?;
            println!("user {name} ({role:?}) added");
            s.logout()?;
        }
        Command::User(UserCommand::Unlock { session, name }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::UnlockUser {
                token,
                name: name.clone(),
            })?;
            if !matches!(response, ControlResponse::Done) {
                bail!("unexpected answer: {response:?}");
            }
            println!("{name} unlocked: failed logins cleared on this node");
            s.logout()?;
        }
        Command::User(UserCommand::List { session }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Users(users) = s.send(ControlRequest::ListUsers { token })? else {
                bail!("unexpected answer");
            };
            for u in users {
                println!(
                    "{:<20} {:<14} {:<8} trained {:<26} expires {}",
                    u.name,
                    u.role,
                    if u.active { "active" } else { "inactive" },
                    u.trained_on.map_or("never".into(), |t| t.to_string()),
                    u.training_expires.map_or("-".into(), |t| t.to_string())
                );
            }
            s.logout()?;
        }
        Command::User(UserCommand::Edit {
            session,
            name,
            trained_on,
            training_expires,
            deactivate,
            activate,
            role,
            reset_password,
        }) => {
            let mut edits = Vec::new();
            if let Some(on) = trained_on {
                edits.push(UserEditWire::Training {
                    on: Some(parse_time(&on, false)?),
                    expires: parse_opt_time(training_expires.as_deref(), false)?,
                });
            }
            if deactivate || activate {
                edits.push(UserEditWire::Active(activate));
            }
            if let Some(role) = role {
                edits.push(UserEditWire::Role(role_name(role)));
            }
            if reset_password {
                let pw = user_password("ALPR_NEW_PASSWORD", &format!("New password for {name}: "))?;
                edits.push(UserEditWire::Password(pw.to_string()));
            }
            if edits.is_empty() {
                bail!(
                    "nothing to change: give --trained-on, --activate/--deactivate, --role or --reset-password"
                );
            }
            let mut s = Session::open(&session)?;
            for edit in edits {
                let token = s.token;
                s.done(ControlRequest::EditUser {
                    token,
                    name: name.clone(),
                    edit,
                })?;
            }
            println!("user {name} changed");
            s.logout()?;
        }
        Command::Hotlist(HotlistCommand::Publish {
            session,
            list,
            allow_multiline,
            file,
        }) => {
            let crate::hotlist::Extract { entries, rows } =
                crate::hotlist::read_csv(&file, allow_multiline)?;
            let mut s = Session::open(&session)?;
            let token = s.token;
            // In parts a frame holds: all but the last are staged by the
            // daemon, the last publishes the whole list.
            let mut parts: Vec<Vec<alpr_protocol::hotlist::Entry>> = Vec::new();
            let mut entries = entries.into_iter().peekable();
            while entries.peek().is_some() {
                parts.push(
                    entries
                        .by_ref()
                        .take(alpr_protocol::control::HOTLIST_PART_MAX)
                        .collect(),
                );
            }
            let last = parts.pop().unwrap_or_default();
            for part in parts {
                let response = s.send(ControlRequest::StageHotlist {
                    token,
                    list: list.clone(),
                    entries: part,
                })?;
                if !matches!(response, ControlResponse::Done) {
                    bail!("unexpected answer: {response:?}");
                }
            }
            let response = s.send(ControlRequest::PublishHotlist {
                token,
                list,
                entries: last,
            })?;
            let ControlResponse::Hotlists {
                lists: published, ..
            } = response
            else {
                bail!("unexpected answer: {response:?}");
            };
            for h in published {
                println!(
                    "published {} version {}: {} entries, content {}",
                    h.list,
                    h.version,
                    h.entries,
                    hex::encode(h.content)
                );
                let merged = rows.saturating_sub(h.entries);
                println!(
                    "{rows} rows read, {} entries published{}",
                    h.entries,
                    if merged > 0 {
                        format!(" ({merged} duplicate rows merged)")
                    } else {
                        String::new()
                    }
                );
            }
            s.logout()?;
        }
        Command::Hotlist(HotlistCommand::Add {
            session,
            plate,
            region,
            category,
            reference,
        }) => {
            let entry = alpr_protocol::hotlist::Entry {
                plate: PlateText::parse(&plate).with_context(|| format!("plate '{plate}'"))?,
                region: region.map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty()),
                category: alpr_protocol::hotlist::Category::parse(&category).ok_or_else(|| {
                    anyhow!("category '{category}' is not stolen-vehicle, stolen-plate, wanted-person, missing-person, amber, bolo or other")
                })?,
                reference,
            };
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::AddHotlistEntry { token, entry })?;
            let ControlResponse::HotlistEntryAdded { id } = response else {
                bail!("unexpected answer: {response:?}");
            };
            println!("local hotlist entry {id} added");
            s.logout()?;
        }
        Command::Hotlist(HotlistCommand::Remove { session, id }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::RemoveHotlistEntry { token, id })?;
            println!("local hotlist entry {id} removed");
            s.logout()?;
        }
        Command::Hotlist(HotlistCommand::List { session }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::ListHotlists { token })?;
            let ControlResponse::Hotlists { lists, local } = response else {
                bail!("unexpected answer: {response:?}");
            };
            if lists.is_empty() && local.is_empty() {
                println!("no hotlists");
            }
            for e in &local {
                let state = match &e.removed {
                    Some((by, at)) => format!("removed by {by} at {at}"),
                    None => "in force".into(),
                };
                println!(
                    "local #{}  {}  {}  {}  {}  added by {} at {}  {state}",
                    e.id,
                    e.entry.plate,
                    e.entry.region.as_deref().unwrap_or("-"),
                    e.entry.category.name(),
                    e.entry.reference,
                    e.added_by,
                    e.added_at
                );
            }
            for h in lists {
                println!(
                    "{}  version {}  {} entries  content {}  published {} by {}",
                    h.list,
                    h.version,
                    h.entries,
                    hex::encode(h.content),
                    h.published_at,
                    h.author.short()
                );
            }
            s.logout()?;
        }
        Command::Revoke {
            session,
            node,
            reason,
        } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::RevokeNode {
                token,
                node: node.clone(),
                reason,
            })?;
            println!("revoked {node}");
            s.logout()?;
        }
        Command::Retention {
            session,
            reads_days,
            plate_images_days,
            overview_images_days,
            audit_days,
            alerts_days,
        } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Status {
                reads_days: r0,
                plate_images_days: p0,
                overview_images_days: o0,
                audit_days: a0,
                alerts_days: l0,
                ..
            } = s.send(ControlRequest::Status { token })?
            else {
                bail!("unexpected answer");
            };
            let (r, p, o, a, l) = (
                reads_days.unwrap_or(r0),
                plate_images_days.unwrap_or(p0),
                overview_images_days.unwrap_or(o0),
                audit_days.unwrap_or(a0),
                alerts_days.unwrap_or(l0),
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
            println!(
                "reads kept {r} days, plate images {p} days, overview images {o} days, audit events {a} days, alerts {l} days"
            );
            s.logout()?;
        }
        Command::Hold(HoldCommand::Add {
            session,
            case,
            reason,
            reads,
            plate,
            from,
            to,
            expires,
        }) => {
            let mut s = Session::open(&session)?;
            let scope = match plate {
                Some(p) => HoldScopeWire::Plate {
                    plate: PlateText::parse(&p)?.to_string(),
                    from: parse_time(from.as_deref().unwrap_or_default(), false)?,
                    to: parse_time(to.as_deref().unwrap_or_default(), true)?,
                },
                None if !reads.is_empty() => HoldScopeWire::Reads(
                    reads
                        .iter()
                        .map(|r| s.record_id(r).map(|id| (id.origin, id.seq)))
                        .collect::<Result<_>>()?,
                ),
                None => {
                    bail!("give --read ORIGIN/SEQ (repeatable) or --plate with --from and --to")
                }
            };
            let token = s.token;
            let response = s.send(ControlRequest::PlaceHold {
                token,
                case,
                reason,
                scope,
                expires: parse_opt_time(expires.as_deref(), true)?,
            })?;
            let ControlResponse::HoldPlaced { id } = response else {
                bail!("unexpected answer: {response:?}");
            };
            println!("hold {id} placed");
            s.logout()?;
        }
        Command::Limits {
            session,
            failures,
            lockout_minutes,
            idle_minutes,
        } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::SetLimits {
                token,
                failures_max: failures,
                lockout_minutes,
                idle_lock_minutes: idle_minutes,
            })?;
            println!("login limits set");
            s.logout()?;
        }
        Command::Hold(HoldCommand::List { session }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Holds(holds) = s.send(ControlRequest::ListHolds { token })? else {
                bail!("unexpected answer");
            };
            if holds.is_empty() {
                println!("no holds");
            }
            for h in holds {
                let scope = match crate::control::hold_scope(h.scope.clone()) {
                    Ok(scope) => scope.to_string(),
                    Err(_) => "a scope this build cannot read".into(),
                };
                println!(
                    "hold {:<4} case {:<12} {:<9} by {} at {}: {} — {scope}",
                    h.id,
                    h.case,
                    if h.standing { "standing" } else { "lapsed" },
                    h.placed_by,
                    format_time(h.placed_at),
                    h.reason,
                );
            }
            s.logout()?;
        }
        Command::Hold(HoldCommand::Release { session, id }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::ReleaseHold { token, id })?;
            println!("hold {id} released");
            s.logout()?;
        }
        Command::Evidence(EvidenceCommand::Export {
            session,
            purpose,
            out,
        }) => {
            let case = purpose
                .case
                .clone()
                .ok_or_else(|| anyhow!("give the case to export with --case"))?;
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
            } = response
            else {
                bail!("unexpected answer: {response:?}");
            };
            println!(
                "case {}: {reads} reads and {audit_events} audit events written to {} ({files} files, signed manifest)",
                case.to_ascii_uppercase(),
                out.display()
            );
            s.logout()?;
        }
        Command::Evidence(EvidenceCommand::Verify { dir, agency }) => {
            let trusted = agency.as_deref().map(parse_agency).transpose()?;
            let report = crate::evidence::verify_dir(&dir, trusted)?;
            for p in &report.problems {
                println!("FAIL {p}");
            }
            match &report.manifest {
                Some(m) => println!(
                    "{} bundle of case {} exported by {} at {}: {} reads, {} audit events checked, {} problems",
                    match m.kind {
                        alpr_protocol::bundle::BundleKind::Evidence => "evidence",
                        alpr_protocol::bundle::BundleKind::Release => "release",
                    },
                    m.case,
                    m.exported_by,
                    m.exported_at,
                    report.reads,
                    report.audit_events,
                    report.problems.len()
                ),
                None => println!(
                    "not a verifiable bundle: {} problems",
                    report.problems.len()
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
            if !report.ok() {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Request(RequestCommand::Add {
            session,
            requester,
            what,
            referred_to,
        }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::RegisterRequest {
                token,
                requester,
                what,
                referred_to: referred_to.clone(),
            })?;
            let ControlResponse::RequestRegistered { id } = response else {
                bail!("unexpected answer: {response:?}");
            };
            println!("request {id} registered, referred to {referred_to}");
            s.logout()?;
        }
        Command::Request(RequestCommand::Decide {
            session,
            id,
            decision,
            note,
        }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::DecideRequest {
                token,
                id,
                decision: format!("{decision:?}"),
                note,
            })?;
            println!("request {id}: {decision:?}");
            s.logout()?;
        }
        Command::Request(RequestCommand::List { session }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Requests(requests) =
                s.send(ControlRequest::ListRequests { token })?
            else {
                bail!("unexpected answer");
            };
            for r in requests {
                let decision = r
                    .decision
                    .map_or("pending".to_string(), |(o, note, by, at)| {
                        format!("{o} by {by} at {at}: {note}")
                    });
                println!(
                    "request {} at {} from {}: {} (registered by {}, referred to {}) — {decision}",
                    r.id, r.received_at, r.requester, r.what, r.registered_by, r.referred_to
                );
            }
            s.logout()?;
        }
        Command::Release {
            session,
            purpose,
            agency,
            official,
            legal_basis,
            reads,
            out,
        } => {
            let out = std::path::absolute(&out).with_context(|| format!("{}", out.display()))?;
            let mut s = Session::open(&session)?;
            let reads = reads
                .iter()
                .map(|r| s.record_id(r).map(|id| (id.origin, id.seq)))
                .collect::<Result<Vec<_>>>()?;
            let token = s.token;
            let response = s.send(ControlRequest::Release {
                token,
                purpose: purpose.wire(),
                agency,
                official,
                legal_basis,
                reads,
                out: out.display().to_string(),
            })?;
            let ControlResponse::Released { id } = response else {
                bail!("unexpected answer: {response:?}");
            };
            println!("release {id} written to {}", out.display());
            s.logout()?;
        }
        Command::Audit(AuditCommand::Sample {
            session,
            quarter,
            seed,
            size,
        }) => {
            let seed = seed.unwrap_or_else(|| rand::Rng::next_u64(&mut rand::rng()));
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::AuditSample {
                token,
                quarter: quarter.to_string(),
                seed,
                size: size.min(u32::MAX as usize) as u32,
            })?;
            let ControlResponse::AuditDrawn { id } = response else {
                bail!("unexpected answer: {response:?}");
            };
            println!("audit {id}: sample of {quarter} drawn with seed {seed}");
            s.logout()?;
        }
        Command::Audit(AuditCommand::Mark {
            session,
            report,
            item,
            compliant,
            not_compliant,
            note,
        }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::AuditMark {
                token,
                report,
                item: item.min(u32::MAX as usize) as u32,
                compliant: compliant && !not_compliant,
                note,
            })?;
            s.logout()?;
        }
        Command::Audit(AuditCommand::Sign { session, report }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::AuditSign { token, report })?;
            println!("audit {report} signed");
            s.logout()?;
        }
        Command::Audit(AuditCommand::Show { session }) => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let ControlResponse::Audits { reports, overdue } =
                s.send(ControlRequest::ListAudits { token })?
            else {
                bail!("unexpected answer");
            };
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
                for (i, (origin, seq, compliant, note)) in r.items.iter().enumerate() {
                    println!(
                        "  {:>3}. {}/{} {} {}",
                        i + 1,
                        origin.short(),
                        seq,
                        match compliant {
                            None => "unmarked",
                            Some(true) => "compliant",
                            Some(false) => "NOT COMPLIANT",
                        },
                        note
                    );
                }
            }
            match overdue {
                Some(q) => println!("OVERDUE: no signed audit of {q}"),
                None => println!("quarterly audits are up to date"),
            }
            s.logout()?;
        }
        Command::Serve {
            data,
            purge_every_minutes,
            listen,
            peers,
            sync_every_seconds,
            pass,
        } => {
            if purge_every_minutes == 0 {
                bail!("--purge-every-minutes must be at least 1");
            }
            let peers = peers
                .iter()
                .map(|p| resolve(p))
                .collect::<Result<Vec<_>>>()?;
            let listen = listen.as_deref().map(resolve).transpose()?;
            let node = Node::open(&data, &pass.get()?)?;
            let engine = Engine::open(node, engine_seed())?;
            let daemon = Daemon::bind(engine)?;
            println!("serving {}", daemon.path().display());
            if listen.is_some() || !peers.is_empty() {
                let local = replication::Local::new(daemon.engine())?;
                // A car that only dials still needs a socket: an ephemeral one.
                let bind = listen.unwrap_or_else(|| ([0, 0, 0, 0], 0).into());
                let bound = replication::spawn_daemon(
                    local,
                    bind,
                    peers,
                    std::time::Duration::from_secs(sync_every_seconds.max(1)),
                    now,
                )?;
                if listen.is_some() {
                    println!("replicating on {bound}");
                }
            }
            std::io::stdout().flush()?;
            stop_on_signal(daemon.engine(), daemon.path().to_path_buf())?;
            daemon.run(
                now,
                std::time::Duration::from_secs(purge_every_minutes * 60),
            )?;
        }
        Command::Sync { data, peer, pass } => {
            if ControlClient::connect(&data).is_some() {
                bail!(
                    "a daemon serves {}: it owns the database; give the daemon `--peer {peer}` instead",
                    data.display()
                );
            }
            let addr = resolve(&peer)?;
            let node = Node::open(&data, &pass.get()?)?;
            let engine = Engine::open(node, engine_seed())?;
            let mut local =
                replication::Local::new(std::sync::Arc::new(std::sync::Mutex::new(engine)))?;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let progress_bar = bar.clone();
            local.progress = Some(std::sync::Arc::new(move |s: &replication::SyncSummary| {
                progress_bar.set_message(format!(
                    "sent {} records, received {}",
                    s.sent.values().sum::<u64>(),
                    s.received.values().sum::<u64>()
                ));
                progress_bar.tick();
            }));
            let summary = replication::sync_once(local, addr, now);
            bar.finish_and_clear();
            let summary = summary?;
            let count = |m: &std::collections::BTreeMap<Collection, u64>, c| {
                m.get(&c).copied().unwrap_or(0)
            };
            let (id, name) = summary
                .peer
                .clone()
                .unwrap_or((NodeId([0; 32]), "?".into()));
            println!("in sync with {name} ({})", id.short());
            println!(
                "sent {} reads and {} audit events; received {} reads ({} new) and {} audit events ({} new)",
                count(&summary.sent, Collection::Reads),
                count(&summary.sent, Collection::AuditEvents),
                count(&summary.received, Collection::Reads),
                count(&summary.stored, Collection::Reads),
                count(&summary.received, Collection::AuditEvents),
                count(&summary.stored, Collection::AuditEvents),
            );
            for list in &summary.hotlists_sent {
                println!("sent hotlist {list}");
            }
            for (list, version) in &summary.hotlists_received {
                println!("received hotlist {list} version {version}");
            }
            println!(
                "{} bytes sent, {} received on the wire",
                summary.wire_tx, summary.wire_rx
            );
        }
        Command::Purge { session, dry_run } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::Purge { token, dry_run })?;
            let ControlResponse::Purged {
                purged,
                held,
                cutoff,
                ..
            } = response
            else {
                bail!("unexpected answer: {response:?}");
            };
            println!(
                "{} {purged} reads captured before {cutoff}; {held} held as evidence",
                if dry_run { "would purge" } else { "purged" }
            );
            s.logout()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_hits(hits: &[WireHit], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for hit in hits {
        match hit {
            WireHit::Read(r) => {
                if json {
                    let value = serde_json::json!({
                        "origin": r.origin.to_hex(),
                        "seq": r.seq,
                        "time": format_time(r.captured_at),
                        "plate": r.plate,
                        "confidence": r.confidence,
                        "region": r.region,
                        "camera": r.camera,
                        "lat": r.location.map(|l| l.0),
                        "lon": r.location.map(|l| l.1),
                        "crop_bytes": r.crop_bytes,
                    });
                    writeln!(out, "{value}")?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<10} {:>4.0}%  {:<4} {:<10} {}/{}",
                        format_time(r.captured_at),
                        r.plate,
                        r.confidence * 100.0,
                        r.region.as_deref().unwrap_or("-"),
                        r.camera,
                        r.origin.short(),
                        r.seq
                    )?;
                }
            }
            WireHit::Damaged {
                origin,
                seq,
                reason,
            } => {
                let id = RecordId {
                    origin: *origin,
                    seq: *seq,
                };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_without_an_offset_is_local_and_never_midnight() {
        // A fixed UTC-8 zone (Pacific standard time), needing no tz database.
        let la = jiff::tz::TimeZone::fixed(jiff::tz::offset(-8));
        let utc = jiff::tz::TimeZone::UTC;
        let at = |t: &str, z: &jiff::tz::TimeZone| parse_time_in(t, false, z).unwrap();
        let z = |t: &str| Timestamp(t.parse::<jiff::Timestamp>().unwrap().as_millisecond());
        assert_eq!(at("2026-12-01T23:00:00", &utc), z("2026-12-01T23:00:00Z"));
        assert_eq!(at("2026-12-01 23:00", &utc), z("2026-12-01T23:00:00Z"));
        assert_eq!(at("2026-12-01T23:00:00", &la), z("2026-12-02T07:00:00Z"));
        assert_eq!(
            at("2026-12-01T23:00:00-05:00", &la),
            z("2026-12-02T04:00:00Z")
        );
        assert_eq!(at("2026-12-01", &la), z("2026-12-01T08:00:00Z"));
        assert_eq!(
            parse_time_in("2026-12-01", true, &la).unwrap(),
            Timestamp(z("2026-12-02T08:00:00Z").0 - 1)
        );
        for bad in [
            "2026-12-01 junk",
            "yesterday",
            "2026-13-01",
            "2026-12-01T25:00",
        ] {
            let err = parse_time_in(bad, false, &utc).unwrap_err().to_string();
            assert!(err.contains("is not a time"), "{bad}: {err}");
        }
    }
}
