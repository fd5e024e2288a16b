//! Setting up: the agency's keys, enrolling a node, and a node's data directory.

use std::path::PathBuf;

use alpr_protocol::KdfParams;
use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};

use super::args::{AgencyPassphrase, NodePassphrase, NodeRoleArg, Secret, user_password};
use super::session::engine_seed;
use super::time::{When, format_time, now};
use super::{Outcome, Usage};
use crate::agency::{Agency, EnrollRequest};
use crate::datadir::Node;
use crate::engine::{Engine, NewUser};
use crate::policy::UserRole;

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Create the agency root key and data key in a new directory.
    Init {
        /// A new directory for the agency's keys; keep it offline.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        pass: AgencyPassphrase,
    },
    /// Certify a new node and write its enrollment bundle.
    Enroll {
        /// The agency directory `agency init` made.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Node name, e.g. car-12 or station-north.
        #[arg(long)]
        name: String,
        /// What the node is.
        #[arg(long, value_enum)]
        role: NodeRoleArg,
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

pub fn agency(command: AgencyCommand) -> Result<Outcome> {
    let mut rng = rand::rng();
    match command {
        AgencyCommand::Init { dir, pass } => {
            let agency =
                Agency::init(&dir, &pass.read(Secret::New)?, KdfParams::DEFAULT, &mut rng)?;
            println!("agency {} created in {}", agency.key.id(), dir.display());
            println!("keep this directory offline; it signs every node's enrollment");
        }
        AgencyCommand::Enroll {
            dir,
            name,
            role,
            valid_days,
            out,
            pass,
            node_pass,
        } => {
            let agency = Agency::open(&dir, &pass.read(Secret::Existing)?)?;
            let not_before = now();
            let request = EnrollRequest {
                name: name.clone(),
                role: role.into(),
                not_before,
                not_after: not_before.saturating_add_millis(i64::from(valid_days) * 86_400_000),
            };
            let bundle = agency.enroll(
                &request,
                &node_pass.read(Secret::New)?,
                KdfParams::DEFAULT,
                &mut rng,
            )?;
            crate::keyfile::write_private(&out, &bundle.to_bytes())?;
            println!(
                "enrolled {name} ({}) valid until {}; bundle written to {}",
                request.role,
                format_time(request.not_after),
                out.display()
            );
        }
    }
    Ok(Outcome::Done)
}

/// `init`: a node's data directory from an enrollment bundle, with its first Administrator.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The enrollment bundle written by `agency enroll`.
    #[arg(long, value_name = "BUNDLE")]
    enroll: PathBuf,
    /// A new directory for the node's keys, certificate and database.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The first Administrator's user name (password from ALPR_NEW_PASSWORD or a prompt, asked twice).
    #[arg(long)]
    admin: String,
    /// When that Administrator completed ALPR training (a date or a time; not in the future).
    #[arg(long, value_parser = When::parse)]
    admin_trained_on: When,
    /// When that training expires, if the department sets an expiry.
    #[arg(long, value_parser = When::parse)]
    admin_training_expires: Option<When>,
    /// The passphrase the bundle was enrolled with; it keeps wrapping the node's keys.
    #[command(flatten)]
    pass: NodePassphrase,
}

pub fn init(args: InitArgs) -> Result<Outcome> {
    let InitArgs {
        enroll,
        data,
        admin,
        admin_trained_on,
        admin_training_expires,
        pass,
    } = args;
    let trained_on = admin_trained_on.start();
    let expires = admin_training_expires.as_ref().map(When::start);
    // Everything about the Administrator is checked before anything is
    // written: a refused password leaves no half-made directory.
    let name =
        crate::policy::parse_user_name(&admin).map_err(|e| Usage(format!("--admin: {e}")))?;
    if trained_on > now() {
        bail!(Usage(format!(
            "--admin-trained-on {}: training cannot be completed in the future",
            format_time(trained_on)
        )));
    }
    let password = user_password("ALPR_NEW_PASSWORD", &admin, Secret::New)?;
    crate::policy::password::check_strength(&name, &password)
        .map_err(|e| anyhow!("the Administrator's password: {e}"))?;
    let existed = data.exists();
    let node = Node::init(&data, &enroll, &pass.get()?, &mut rand::rng())?;
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
    for other in note_enrollment(id, &data) {
        eprintln!(
            "warning: this enrollment of {} was already initialized in {} on this machine: two directories with one enrollment sign conflicting records, which stations flag; keep one and enroll the other anew",
            cert.name,
            other.display()
        );
    }
    Ok(Outcome::Done)
}

/// Where this machine remembers which enrollments it initialized:
/// ALPR_STATE_DIR, else $XDG_STATE_HOME/alpr-node, else ~/.local/state/alpr-node.
fn state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ALPR_STATE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return Some(PathBuf::from(dir).join("alpr-node"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/alpr-node"))
}

/// Adds this enrollment to the machine's list and returns the other data
/// directories that still hold it. Best effort: the list only feeds a
/// warning, and a machine without a home keeps none.
fn note_enrollment(id: alpr_protocol::NodeId, data: &std::path::Path) -> Vec<PathBuf> {
    let Some(dir) = state_dir() else {
        return Vec::new();
    };
    let file = dir.join("enrolled");
    let data = std::path::absolute(data).unwrap_or_else(|_| data.to_path_buf());
    // Bounded (1 MiB, a regular file): a list of this machine's enrollments.
    let known = crate::keyfile::read_public(&file, "enrollment list")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let hex = id.to_hex();
    let others: Vec<PathBuf> = known
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(i, path)| *i == hex && std::path::Path::new(path) != data)
        .map(|(_, path)| PathBuf::from(path))
        .filter(|path| path.join(crate::datadir::STORE_FILE).exists())
        .collect();
    let line = format!("{hex} {}\n", data.display());
    let _ = std::fs::create_dir_all(&dir).and_then(|()| {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)?
            .write_all(line.as_bytes())
    });
    others
}
