//! The command line: argument parsing (clap) and human-readable output. `anyhow` lives only here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alpr_protocol::{KdfParams, NodeId, PlatePattern, PlateText, Role, Timestamp};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

use crate::agency::{Agency, EnrollRequest};
use crate::control::{ControlClient, Daemon, summarize, summarize_hits};
use crate::datadir::Node;
use crate::engine::{
    Engine, NewHold, NewRelease, NewUser, PurgeActor, PurposeInput, SessionToken, UserEdit,
};
use crate::policy::{HoldScope, Quarter, RequestOutcome, UserRole};
use crate::recorder::READ_BATCH_MAX;
use crate::search::Query;
use crate::store::{RecordId, TimeRange};
use alpr_protocol::control::{
    ControlRequest, ControlResponse, Hit as WireHit, PurposeWire, QueryWire,
};

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
        /// Earliest capture time (RFC 3339, or a date for its start in UTC).
        #[arg(long)]
        from: Option<String>,
        /// Latest capture time (RFC 3339, or a date for its end in UTC).
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
    /// Retention periods (Administrators).
    Retention {
        #[command(flatten)]
        session: SessionArgs,
        /// Days to keep reads; omit both to show the current periods.
        #[arg(long)]
        reads_days: Option<u32>,
        /// Days to keep audit events (at least 365).
        #[arg(long)]
        audit_days: Option<u32>,
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
    /// Run the daemon: own the database, serve the control socket, purge on schedule.
    Serve {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Minutes between scheduled purges.
        #[arg(long, default_value_t = 60)]
        purge_every_minutes: u64,
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
    Verify { dir: PathBuf },
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

    fn input(&self) -> PurposeInput {
        PurposeInput {
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

fn engine_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut seed);
    seed
}

/// An open engine with a logged-in user; logs out (documented) when done.
struct Login {
    engine: Engine,
    token: SessionToken,
}

/// A logged-in session with a running daemon, over its control socket.
struct Remote {
    client: ControlClient,
    token: [u8; 32],
}

impl Remote {
    /// Logs in through the daemon's socket if a daemon serves the data directory.
    fn login(args: &SessionArgs) -> Result<Option<Remote>> {
        let Some(mut client) = ControlClient::connect(&args.data) else {
            return Ok(None);
        };
        let password = user_password(
            "ALPR_USER_PASSWORD",
            &format!("Password for {}: ", args.user),
        )?;
        let response = client.call(&ControlRequest::Login {
            user: args.user.clone(),
            password: password.to_string(),
        })?;
        match response {
            ControlResponse::LoggedIn { token, .. } => Ok(Some(Remote { client, token })),
            ControlResponse::Error { message, .. } => bail!(message),
            other => bail!("unexpected answer from the daemon: {other:?}"),
        }
    }

    /// Sends a request; a refusal becomes an error with the engine's message.
    fn call(&mut self, request: ControlRequest) -> Result<ControlResponse> {
        match self.client.call(&request)? {
            ControlResponse::Error { message, .. } => bail!(message),
            other => Ok(other),
        }
    }

    fn logout(mut self) -> Result<ExitCode> {
        let token = self.token;
        self.call(ControlRequest::Logout { token })?;
        Ok(ExitCode::SUCCESS)
    }
}

impl Login {
    fn open(args: &SessionArgs) -> Result<Login> {
        if ControlClient::connect(&args.data).is_some() {
            bail!(
                "a daemon serves {}; this command does not go through its control socket yet (search, verify and purge do): stop the daemon to run it",
                args.data.display()
            );
        }
        let node = Node::open(&args.data, &args.pass.get()?)?;
        let mut engine = Engine::open(node, engine_seed())?;
        let password = user_password(
            "ALPR_USER_PASSWORD",
            &format!("Password for {}: ", args.user),
        )?;
        let token = engine.login(now(), &args.user, &password)?;
        Ok(Login { engine, token })
    }

    fn logout(mut self) -> Result<()> {
        self.engine.logout(now(), self.token)?;
        Ok(())
    }
}

fn parse_opt_time(text: Option<&str>, end_of_day: bool) -> Result<Option<Timestamp>> {
    text.map(|t| parse_time(t, end_of_day)).transpose()
}

/// ORIGIN/SEQ, where ORIGIN is a node id or a unique prefix of one the node knows.
fn parse_record_id(engine: &Engine, text: &str) -> Result<RecordId> {
    let (origin, seq) = text
        .split_once('/')
        .ok_or_else(|| anyhow!("'{text}' is not a read id: use ORIGIN/SEQ as search prints it"))?;
    let seq: u64 = seq
        .parse()
        .map_err(|_| anyhow!("'{seq}' in '{text}' is not a sequence number"))?;
    let origin = origin.to_ascii_lowercase();
    let matches: Vec<NodeId> = engine
        .node()
        .trust
        .nodes()
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
            let password =
                user_password("ALPR_NEW_PASSWORD", &format!("New password for {admin}: "))?;
            let node = Node::init(&data, &enroll, &pass.get()?, &mut rng)?;
            let cert = node.certificate.certificate().clone();
            let id = node.node_key.id();
            let mut engine = Engine::open(node, engine_seed())?;
            engine.bootstrap_admin(
                now(),
                NewUser {
                    name: admin.clone(),
                    role: UserRole::Administrator,
                    password: password.to_string(),
                    trained_on: Some(trained_on),
                    training_expires: expires,
                },
            )?;
            println!(
                "node {} ({id}) initialized in {}",
                cert.name,
                data.display()
            );
            println!("first Administrator: {admin}");
        }
        Command::Import {
            session,
            batch,
            file,
        } => {
            if batch == 0 || batch > READ_BATCH_MAX {
                bail!("--batch must be 1 to {READ_BATCH_MAX}");
            }
            let mut login = Login::open(&session)?;
            let cert = login.engine.node().certificate.clone();
            let reads = crate::import::parse_file(&file, |at| {
                cert.check_valid_at(at).map_err(|e| e.to_string())
            })?;
            let mut stdout = std::io::stdout().lock();
            let mut it = reads.into_iter().peekable();
            let batches = std::iter::from_fn(move || {
                it.peek()?;
                Some(it.by_ref().take(batch).collect::<Vec<_>>())
            });
            let source = file.display().to_string();
            login
                .engine
                .import(now(), login.token, &source, batches, |stored| {
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
            login.logout()?;
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
                (Some(p), _) => Query::Plate(PlateText::parse(&p)?),
                (None, Some(p)) => Query::Pattern(PlatePattern::parse(&p)?),
                (None, None) => bail!("give --plate or --pattern"),
            };
            let range = TimeRange {
                from: parse_opt_time(from.as_deref(), false)?.unwrap_or(Timestamp::MIN),
                to: parse_opt_time(to.as_deref(), true)?.unwrap_or(Timestamp::MAX),
            };
            if let Some(mut remote) = Remote::login(&session)? {
                let response = remote.call(ControlRequest::Search {
                    token: remote.token,
                    purpose: purpose.wire(),
                    query: match &query {
                        Query::Plate(p) => QueryWire::Plate(p.to_string()),
                        Query::Pattern(p) => QueryWire::Pattern(p.as_str().to_string()),
                    },
                    from: (range.from != Timestamp::MIN).then_some(range.from),
                    to: (range.to != Timestamp::MAX).then_some(range.to),
                    limit: limit.min(u32::MAX as usize) as u32,
                })?;
                let ControlResponse::Found { hits, total } = response else {
                    bail!("unexpected answer from the daemon: {response:?}");
                };
                print_hits(&hits, json)?;
                if !json {
                    println!("{total} matching reads, {} shown", hits.len());
                }
                return remote.logout();
            }
            let mut login = Login::open(&session)?;
            let result =
                login
                    .engine
                    .search(now(), login.token, &purpose.input(), &query, range, limit)?;
            print_hits(&summarize_hits(&result.hits), json)?;
            if !json {
                println!(
                    "{} matching reads, {} shown",
                    result.total,
                    result.hits.len()
                );
            }
            login.logout()?;
        }
        Command::View {
            session,
            purpose,
            read,
            crop_out,
        } => {
            let mut login = Login::open(&session)?;
            let id = parse_record_id(&login.engine, &read)?;
            let v = login
                .engine
                .view_read(now(), login.token, &purpose.input(), id)?;
            print_hits(&[WireHit::Read(summarize(&v))], false)?;
            if let Some(path) = crop_out {
                std::fs::write(&path, &v.read().body.crop_jpeg)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("plate crop written to {}", path.display());
            }
            login.logout()?;
        }
        Command::Verify { session } => {
            if let Some(mut remote) = Remote::login(&session)? {
                let response = remote.call(ControlRequest::Verify {
                    token: remote.token,
                })?;
                let ControlResponse::Verified {
                    reads,
                    audit_events,
                    failures,
                } = response
                else {
                    bail!("unexpected answer from the daemon: {response:?}");
                };
                for f in &failures {
                    println!("FAIL {f}");
                }
                println!(
                    "checked {reads} reads and {audit_events} audit events: {} failures",
                    failures.len()
                );
                remote.logout()?;
                return Ok(if failures.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                });
            }
            let mut login = Login::open(&session)?;
            let report = login.engine.verify(now(), login.token)?;
            for f in &report.failures {
                println!("FAIL {f}");
            }
            println!(
                "checked {} reads and {} audit events: {} failures",
                report.reads,
                report.audit_events,
                report.failures.len()
            );
            login.logout()?;
            if !report.ok() {
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
            let mut login = Login::open(&session)?;
            let password =
                user_password("ALPR_NEW_PASSWORD", &format!("New password for {name}: "))?;
            let new = NewUser {
                name: name.clone(),
                role,
                password: password.to_string(),
                trained_on,
                training_expires,
            };
            login.engine.add_user(now(), login.token, new)?;
            println!("user {name} ({role:?}) added");
            login.logout()?;
        }
        Command::User(UserCommand::List { session }) => {
            let mut login = Login::open(&session)?;
            for u in login.engine.users(now(), login.token)? {
                println!(
                    "{:<20} {:<14} {:<8} trained {:<26} expires {}",
                    u.name,
                    format!("{:?}", u.role),
                    if u.active { "active" } else { "inactive" },
                    u.trained_on.map_or("never".into(), |t| t.to_string()),
                    u.training_expires.map_or("-".into(), |t| t.to_string())
                );
            }
            login.logout()?;
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
                edits.push(UserEdit::Training {
                    on: Some(parse_time(&on, false)?),
                    expires: parse_opt_time(training_expires.as_deref(), false)?,
                });
            }
            if deactivate || activate {
                edits.push(UserEdit::Active(activate));
            }
            if let Some(role) = role {
                edits.push(UserEdit::Role(role));
            }
            if reset_password {
                let pw = user_password("ALPR_NEW_PASSWORD", &format!("New password for {name}: "))?;
                edits.push(UserEdit::Password(pw.to_string()));
            }
            if edits.is_empty() {
                bail!(
                    "nothing to change: give --trained-on, --activate/--deactivate, --role or --reset-password"
                );
            }
            let mut login = Login::open(&session)?;
            for edit in edits {
                println!("user {name}: {edit}");
                login.engine.edit_user(now(), login.token, &name, edit)?;
            }
            login.logout()?;
        }
        Command::Retention {
            session,
            reads_days,
            audit_days,
        } => {
            let mut login = Login::open(&session)?;
            let mut retention = login.engine.policy().retention;
            if reads_days.is_some() || audit_days.is_some() {
                retention.reads_days = reads_days.unwrap_or(retention.reads_days);
                retention.audit_days = audit_days.unwrap_or(retention.audit_days);
                login.engine.set_retention(now(), login.token, retention)?;
            }
            println!(
                "reads kept {} days, audit events {} days",
                retention.reads_days, retention.audit_days
            );
            login.logout()?;
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
            let mut login = Login::open(&session)?;
            let scope = match plate {
                Some(p) => HoldScope::Plate {
                    plate: PlateText::parse(&p)?,
                    from: parse_time(from.as_deref().unwrap_or_default(), false)?,
                    to: parse_time(to.as_deref().unwrap_or_default(), true)?,
                },
                None if !reads.is_empty() => HoldScope::Reads(
                    reads
                        .iter()
                        .map(|r| parse_record_id(&login.engine, r).map(|id| (id.origin, id.seq)))
                        .collect::<Result<_>>()?,
                ),
                None => {
                    bail!("give --read ORIGIN/SEQ (repeatable) or --plate with --from and --to")
                }
            };
            let hold = NewHold {
                case,
                reason,
                scope,
                expires: parse_opt_time(expires.as_deref(), true)?,
            };
            let id = login.engine.place_hold(now(), login.token, hold)?;
            println!("hold {id} placed");
            login.logout()?;
        }
        Command::Hold(HoldCommand::List { session }) => {
            let login = Login::open(&session)?;
            let t = now();
            for h in &login.engine.policy().holds {
                println!(
                    "hold {:<4} case {:<12} {:<9} by {} at {}: {} — {:?}",
                    h.id,
                    h.case,
                    if h.active(t) { "standing" } else { "lapsed" },
                    h.placed_by,
                    h.placed_at,
                    h.reason,
                    h.scope
                );
            }
            login.logout()?;
        }
        Command::Hold(HoldCommand::Release { session, id }) => {
            let mut login = Login::open(&session)?;
            login.engine.release_hold(now(), login.token, id)?;
            println!("hold {id} released");
            login.logout()?;
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
            let mut login = Login::open(&session)?;
            let manifest =
                login
                    .engine
                    .export_evidence(now(), login.token, &purpose.input(), &case, &out)?;
            println!(
                "case {}: {} reads and {} audit events written to {} ({} files, signed manifest)",
                manifest.case,
                manifest.reads,
                manifest.audit_events,
                out.display(),
                manifest.files.len() + 2
            );
            login.logout()?;
        }
        Command::Evidence(EvidenceCommand::Verify { dir }) => {
            let report = crate::evidence::verify_dir(&dir)?;
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
            let mut login = Login::open(&session)?;
            let id = login.engine.register_request(
                now(),
                login.token,
                &requester,
                &what,
                &referred_to,
            )?;
            println!("request {id} registered, referred to {referred_to}");
            login.logout()?;
        }
        Command::Request(RequestCommand::Decide {
            session,
            id,
            decision,
            note,
        }) => {
            let mut login = Login::open(&session)?;
            login
                .engine
                .decide_request(now(), login.token, id, decision, &note)?;
            println!("request {id}: {decision:?}");
            login.logout()?;
        }
        Command::Request(RequestCommand::List { session }) => {
            let login = Login::open(&session)?;
            for r in &login.engine.policy().requests {
                let decision = r.decision.as_ref().map_or("pending".to_string(), |d| {
                    format!("{:?} by {} at {}: {}", d.outcome, d.by, d.at, d.note)
                });
                println!(
                    "request {} at {} from {}: {} (registered by {}, referred to {}) — {decision}",
                    r.id, r.received_at, r.requester, r.what, r.registered_by, r.referred_to
                );
            }
            login.logout()?;
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
            let mut login = Login::open(&session)?;
            let reads = reads
                .iter()
                .map(|r| parse_record_id(&login.engine, r))
                .collect::<Result<Vec<_>>>()?;
            let release = NewRelease {
                case: purpose.case.clone().unwrap_or_default(),
                agency,
                official,
                legal_basis,
                reads,
            };
            let id = login
                .engine
                .release(now(), login.token, &purpose.input(), release, &out)?;
            println!("release {id} written to {}", out.display());
            login.logout()?;
        }
        Command::Audit(AuditCommand::Sample {
            session,
            quarter,
            seed,
            size,
        }) => {
            let seed = seed.unwrap_or_else(|| rand::Rng::next_u64(&mut rand::rng()));
            let mut login = Login::open(&session)?;
            let id = login
                .engine
                .draw_audit_sample(now(), login.token, quarter, seed, size)?;
            println!("audit {id}: sample of {quarter} drawn with seed {seed}");
            login.logout()?;
        }
        Command::Audit(AuditCommand::Mark {
            session,
            report,
            item,
            compliant,
            not_compliant,
            note,
        }) => {
            let mut login = Login::open(&session)?;
            login.engine.mark_audit_item(
                now(),
                login.token,
                report,
                item,
                compliant && !not_compliant,
                &note,
            )?;
            login.logout()?;
        }
        Command::Audit(AuditCommand::Sign { session, report }) => {
            let mut login = Login::open(&session)?;
            let r = login.engine.sign_audit(now(), login.token, report)?;
            println!(
                "audit {} of {} signed by node {}",
                r.id,
                r.quarter,
                login.engine.node().node_key.id().short()
            );
            login.logout()?;
        }
        Command::Audit(AuditCommand::Show { session }) => {
            let login = Login::open(&session)?;
            let policy = login.engine.policy();
            for r in &policy.audits {
                println!(
                    "audit {} of {} by {} (seed {}, {} of {} access events){}",
                    r.id,
                    r.quarter,
                    r.auditor,
                    r.seed,
                    r.items.len(),
                    r.population,
                    if r.signature_valid() { ", signed" } else { "" }
                );
                for (i, item) in r.items.iter().enumerate() {
                    println!(
                        "  {:>3}. {}/{} {} {}",
                        i + 1,
                        item.origin.short(),
                        item.seq,
                        match item.compliant {
                            None => "unmarked",
                            Some(true) => "compliant",
                            Some(false) => "NOT COMPLIANT",
                        },
                        item.note
                    );
                }
            }
            match policy.audit_overdue(now()) {
                Some(q) => println!("OVERDUE: no signed audit of {q}"),
                None => println!("quarterly audits are up to date"),
            }
            login.logout()?;
        }
        Command::Serve {
            data,
            purge_every_minutes,
            pass,
        } => {
            if purge_every_minutes == 0 {
                bail!("--purge-every-minutes must be at least 1");
            }
            let node = Node::open(&data, &pass.get()?)?;
            let engine = Engine::open(node, engine_seed())?;
            let daemon = Daemon::bind(engine)?;
            println!("serving {}", daemon.path().display());
            std::io::stdout().flush()?;
            daemon.run(
                now,
                std::time::Duration::from_secs(purge_every_minutes * 60),
            )?;
        }
        Command::Purge { session, dry_run } => {
            if let Some(mut remote) = Remote::login(&session)? {
                let response = remote.call(ControlRequest::Purge {
                    token: remote.token,
                    dry_run,
                })?;
                let ControlResponse::Purged {
                    purged,
                    held,
                    cutoff,
                    ..
                } = response
                else {
                    bail!("unexpected answer from the daemon: {response:?}");
                };
                println!(
                    "{} {purged} reads captured before {cutoff}; {held} held as evidence",
                    if dry_run { "would purge" } else { "purged" }
                );
                return remote.logout();
            }
            let mut login = Login::open(&session)?;
            let report = login
                .engine
                .purge(now(), PurgeActor::User(login.token), dry_run)?;
            println!(
                "{} {} reads captured before {}{}; {} held as evidence",
                if dry_run { "would purge" } else { "purged" },
                report.purged,
                report.cutoff.map(|t| t.to_string()).unwrap_or_default(),
                match (report.oldest, report.newest) {
                    (Some(a), Some(b)) => format!(" ({a} to {b})"),
                    _ => String::new(),
                },
                report.held
            );
            login.logout()?;
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
