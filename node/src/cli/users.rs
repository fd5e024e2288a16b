//! Users, roles and training (Administrators).

use alpr_protocol::control::{ControlRequest, ControlResponse, UserEditWire};
use anyhow::{Result, bail};
use clap::Subcommand;

use super::args::{Secret, SessionArgs, UserRoleArg, user_password};
use super::output::{Table, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time};
use super::{Outcome, Usage};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (the new password comes from ALPR_NEW_PASSWORD or a prompt, asked twice).
    Add {
        #[command(flatten)]
        session: SessionArgs,
        /// The new user's name (letters, digits, '.', '-', '_').
        #[arg(long)]
        name: String,
        /// What the user may do.
        #[arg(long, value_enum)]
        role: UserRoleArg,
        /// When ALPR training was completed; without it the user cannot log in.
        #[arg(long, value_parser = When::parse)]
        trained_on: Option<When>,
        /// When that training expires, if the department sets an expiry.
        #[arg(long, value_parser = When::parse)]
        training_expires: Option<When>,
    },
    /// List users, roles and training.
    List {
        #[command(flatten)]
        session: SessionArgs,
        /// One JSON document (schema alpr-node.users) instead of a table.
        #[arg(long)]
        json: bool,
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
        /// The user to change.
        #[arg(long)]
        name: String,
        /// Record training: its completion date (and --training-expires).
        #[arg(long, value_parser = When::parse)]
        trained_on: Option<When>,
        /// When the recorded training expires.
        #[arg(long, requires = "trained_on", value_parser = When::parse)]
        training_expires: Option<When>,
        /// The user may no longer log in.
        #[arg(long, conflicts_with = "activate")]
        deactivate: bool,
        /// The user may log in again.
        #[arg(long)]
        activate: bool,
        /// A new role.
        #[arg(long, value_enum)]
        role: Option<UserRoleArg>,
        /// Set a new password (from ALPR_NEW_PASSWORD or a prompt, asked twice).
        #[arg(long)]
        reset_password: bool,
    },
}

pub fn run(command: UserCommand) -> Result<Outcome> {
    match command {
        UserCommand::Add {
            session,
            name,
            role,
            trained_on,
            training_expires,
        } => {
            let role = alpr_protocol::control::RoleWire::from(role);
            let mut s = Session::open(&session)?;
            let password = user_password("ALPR_NEW_PASSWORD", &name, Secret::New)?;
            let token = s.token;
            s.done(ControlRequest::AddUser {
                token,
                name: name.clone(),
                role,
                password: password.to_string(),
                trained_on: trained_on.as_ref().map(When::start),
                training_expires: training_expires.as_ref().map(When::start),
            })?;
            println!("user {name} ({}) added", role.name());
            s.logout()?;
        }
        UserCommand::Unlock { session, name } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::UnlockUser {
                token,
                name: name.clone(),
            })?;
            println!("{name} unlocked: failed logins cleared on this node");
            s.logout()?;
        }
        UserCommand::List { session, json } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::ListUsers { token })?;
            let ControlResponse::Users(users) = response else {
                return Err(unexpected(&response));
            };
            if json {
                let items = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "name": u.name,
                            "role": u.role.name(),
                            "active": u.active,
                            "trained_on": u.trained_on.map(format_time),
                            "training_expires": u.training_expires.map(format_time),
                            "failed_logins": u.failures,
                            "locked_until": u.locked_until.map(format_time),
                        })
                    })
                    .collect();
                print_json(&listing(
                    "users",
                    users.len() as u64,
                    items,
                    serde_json::json!({}),
                ))?;
            } else {
                let mut table =
                    Table::new(&["USER", "ROLE", "STATE", "TRAINED", "TRAINING EXPIRES"]);
                for u in &users {
                    table.row(vec![
                        u.name.clone(),
                        u.role.name().to_string(),
                        match (u.active, u.locked_until) {
                            (false, _) => "inactive".into(),
                            (true, Some(t)) => format!("LOCKED until {}", format_time(t)),
                            (true, None) => "active".into(),
                        },
                        u.trained_on.map_or("never".into(), format_time),
                        u.training_expires.map_or("-".into(), format_time),
                    ]);
                }
                table.print(&mut std::io::stdout().lock())?;
            }
            s.logout()?;
        }
        UserCommand::Edit {
            session,
            name,
            trained_on,
            training_expires,
            deactivate,
            activate,
            role,
            reset_password,
        } => {
            let mut edits = Vec::new();
            if let Some(on) = trained_on {
                edits.push(UserEditWire::Training {
                    on: Some(on.start()),
                    expires: training_expires.as_ref().map(When::start),
                });
            }
            if deactivate || activate {
                edits.push(UserEditWire::Active(activate));
            }
            if let Some(role) = role {
                edits.push(UserEditWire::Role(role.into()));
            }
            if edits.is_empty() && !reset_password {
                bail!(Usage(
                    "nothing to change: give --trained-on, --activate/--deactivate, --role or --reset-password"
                        .into()
                ));
            }
            let mut s = Session::open(&session)?;
            if reset_password {
                let pw = user_password("ALPR_NEW_PASSWORD", &name, Secret::New)?;
                edits.push(UserEditWire::Password(pw.to_string()));
            }
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
    }
    Ok(Outcome::Done)
}
