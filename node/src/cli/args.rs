//! Arguments many commands share: who is acting, why, and the secrets that open a node.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use alpr_protocol::Role;
use alpr_protocol::control::{DecisionWire, PurposeKindWire, PurposeWire, RoleWire};
use alpr_protocol::hotlist::Category;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use zeroize::Zeroizing;

/// Who is acting: the data directory, its passphrase, and a user login.
#[derive(Debug, Args)]
pub struct SessionArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Your user name; else ALPR_USER. The password comes from ALPR_USER_PASSWORD or a prompt.
    #[arg(long, env = "ALPR_USER")]
    pub user: String,
    #[command(flatten)]
    pub pass: NodePassphrase,
}

/// The node's data directory.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The node's data directory, as `init` made it (keys, certificate, database).
    #[arg(long = "data", value_name = "DIR", env = "ALPR_DATA")]
    pub dir: PathBuf,
}

/// Why you are accessing data (policy III.A.2): recorded in the audit log.
#[derive(Debug, Args)]
pub struct PurposeArgs {
    /// Why you access the data; recorded with your name and the time.
    #[arg(long, value_enum)]
    pub purpose: Option<PurposeArg>,
    /// What for, in words (4 to 200 characters).
    #[arg(long)]
    pub reason: Option<String>,
    /// Case number; required for an investigation.
    #[arg(long)]
    pub case: Option<String>,
}

impl PurposeArgs {
    pub fn wire(&self) -> PurposeWire {
        PurposeWire {
            kind: self.purpose.map(PurposeArg::wire),
            reason: self.reason.clone(),
            case: self.case.clone(),
        }
    }
}

/// The purposes of policy III.A.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PurposeArg {
    /// A criminal investigation (needs --case).
    Investigation,
    /// Following up a hotlist alert.
    Alert,
    /// An auditor's review.
    Audit,
    /// System administration and maintenance.
    Administration,
}

impl PurposeArg {
    pub fn wire(self) -> PurposeKindWire {
        match self {
            PurposeArg::Investigation => PurposeKindWire::Investigation,
            PurposeArg::Alert => PurposeKindWire::Alert,
            PurposeArg::Audit => PurposeKindWire::Audit,
            PurposeArg::Administration => PurposeKindWire::Administration,
        }
    }
}

/// A user's role, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserRoleArg {
    /// Operates a car's reader, searches with a purpose, adds BOLOs.
    Officer,
    /// An officer who may also export evidence and register requests.
    Supervisor,
    /// Users, retention, holds, hotlists, releases (the Staff Services Commander).
    Administrator,
    /// Quarterly audits; sees records only under an audit purpose.
    Auditor,
}

impl From<UserRoleArg> for RoleWire {
    fn from(role: UserRoleArg) -> RoleWire {
        match role {
            UserRoleArg::Officer => RoleWire::Officer,
            UserRoleArg::Supervisor => RoleWire::Supervisor,
            UserRoleArg::Administrator => RoleWire::Administrator,
            UserRoleArg::Auditor => RoleWire::Auditor,
        }
    }
}

/// A node's role, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeRoleArg {
    /// A car: captures reads, sends them to stations.
    Vehicle,
    /// A station: collects from cars, publishes hotlists and policy.
    Station,
}

impl From<NodeRoleArg> for Role {
    fn from(role: NodeRoleArg) -> Role {
        match role {
            NodeRoleArg::Vehicle => Role::Vehicle,
            NodeRoleArg::Station => Role::Station,
        }
    }
}

/// A hotlist category, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CategoryArg {
    StolenVehicle,
    StolenPlate,
    WantedPerson,
    MissingPerson,
    Amber,
    Bolo,
    Other,
}

impl From<CategoryArg> for Category {
    fn from(c: CategoryArg) -> Category {
        match c {
            CategoryArg::StolenVehicle => Category::StolenVehicle,
            CategoryArg::StolenPlate => Category::StolenPlate,
            CategoryArg::WantedPerson => Category::WantedPerson,
            CategoryArg::MissingPerson => Category::MissingPerson,
            CategoryArg::Amber => Category::Amber,
            CategoryArg::Bolo => Category::Bolo,
            CategoryArg::Other => Category::Other,
        }
    }
}

/// A decision on a request, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    Granted,
    PartlyGranted,
    Denied,
}

impl From<DecisionArg> for DecisionWire {
    fn from(d: DecisionArg) -> DecisionWire {
        match d {
            DecisionArg::Granted => DecisionWire::Granted,
            DecisionArg::PartlyGranted => DecisionWire::PartlyGranted,
            DecisionArg::Denied => DecisionWire::Denied,
        }
    }
}

/// The node passphrase: from a file, from ALPR_PASSPHRASE, or asked at the terminal.
#[derive(Debug, Args)]
pub struct NodePassphrase {
    /// File holding the node passphrase (owner-only; for unattended cars); else ALPR_PASSPHRASE, else a prompt.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// The agency passphrase: from a file, from ALPR_AGENCY_PASSPHRASE, or asked at the terminal.
#[derive(Debug, Args)]
pub struct AgencyPassphrase {
    /// File holding the agency passphrase (owner-only); else ALPR_AGENCY_PASSPHRASE, else a prompt.
    #[arg(long, value_name = "FILE")]
    pub agency_passphrase_file: Option<PathBuf>,
}

const PASSPHRASE_LEN_MIN: usize = 8;

/// Whether a secret is being chosen (asked twice at a terminal) or given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    Existing,
    New,
}

/// Asks at the terminal; a new secret twice, so a typo cannot lock a node or an agency away.
fn prompt(prompt: &str, secret: Secret) -> Result<Zeroizing<String>> {
    let first = Zeroizing::new(rpassword::prompt_password(prompt).context("reading a secret")?);
    if secret == Secret::New {
        let again = Zeroizing::new(
            rpassword::prompt_password("Again, to confirm: ").context("reading a secret")?,
        );
        if *first != *again {
            bail!("the two entries differ; nothing was changed");
        }
    }
    Ok(first)
}

fn passphrase(
    file: Option<&Path>,
    env: &str,
    what: &str,
    secret: Secret,
) -> Result<Zeroizing<Vec<u8>>> {
    let text = if let Some(file) = file {
        // Held to the rules of a key file: owner-only, a regular file, small.
        let bytes = Zeroizing::new(crate::keyfile::read_private(file, "passphrase file")?);
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("passphrase file {} is not UTF-8", file.display()))?;
        Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string())
    } else if let Ok(text) = std::env::var(env) {
        Zeroizing::new(text)
    } else if std::io::stdin().is_terminal() {
        prompt(&format!("{what}: "), secret)?
    } else {
        bail!("no passphrase: set {env}, pass a passphrase file, or run at a terminal");
    };
    if text.chars().count() < PASSPHRASE_LEN_MIN {
        bail!("passphrase is shorter than {PASSPHRASE_LEN_MIN} characters");
    }
    Ok(Zeroizing::new(text.as_bytes().to_vec()))
}

impl NodePassphrase {
    /// The passphrase of an existing node.
    pub fn get(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.read(Secret::Existing)
    }

    pub fn read(&self, secret: Secret) -> Result<Zeroizing<Vec<u8>>> {
        let what = match secret {
            Secret::Existing => "Node passphrase",
            Secret::New => "New node passphrase",
        };
        passphrase(
            self.passphrase_file.as_deref(),
            "ALPR_PASSPHRASE",
            what,
            secret,
        )
    }
}

impl AgencyPassphrase {
    pub fn read(&self, secret: Secret) -> Result<Zeroizing<Vec<u8>>> {
        let what = match secret {
            Secret::Existing => "Agency passphrase",
            Secret::New => "New agency passphrase",
        };
        passphrase(
            self.agency_passphrase_file.as_deref(),
            "ALPR_AGENCY_PASSPHRASE",
            what,
            secret,
        )
    }
}

/// A user's password: `env` (for scripts), else a prompt; a new one twice.
pub fn user_password(env: &str, who: &str, secret: Secret) -> Result<Zeroizing<String>> {
    if let Ok(text) = std::env::var(env) {
        return Ok(Zeroizing::new(text));
    }
    if std::io::stdin().is_terminal() {
        let what = match secret {
            Secret::Existing => format!("Password for {who}: "),
            Secret::New => format!("New password for {who}: "),
        };
        return prompt(&what, secret);
    }
    bail!("no password: set {env} or run at a terminal");
}

/// A plate as typed (spaces and dashes ignored), checked by clap.
pub fn plate(text: &str) -> Result<alpr_protocol::PlateText, String> {
    alpr_protocol::PlateText::parse(text).map_err(|e| e.to_string())
}

/// A wildcard pattern as typed, checked by clap.
pub fn pattern(text: &str) -> Result<alpr_protocol::PlatePattern, String> {
    alpr_protocol::PlatePattern::parse(text).map_err(|e| e.to_string())
}
