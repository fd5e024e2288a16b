//! Hotlists: publish a bulk list at a station, keep the local list, see what a node holds.

use std::path::PathBuf;

use alpr_protocol::PlateText;
use alpr_protocol::control::{ControlRequest, ControlResponse};
use anyhow::Result;
use clap::Subcommand;

use super::Outcome;
use super::args::{CategoryArg, SessionArgs, plate};
use super::output::{Table, count, listing, print_json};
use super::session::{Session, unexpected};
use super::time::format_time;

#[derive(Debug, Subcommand)]
pub enum HotlistCommand {
    /// Publish a CSV extract (plate,region,category,reference) as the next
    /// version of a list (Administrators, at a station); peers get it at
    /// their next meeting, as a delta when they hold the version before.
    Publish {
        #[command(flatten)]
        session: SessionArgs,
        /// List name, e.g. ncic-stolen (letters, digits, '-', '_').
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
        /// One JSON document (schema alpr-node.hotlists) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Put a plate on the local hotlist (a BOLO); it reaches every node.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        /// The plate (spaces and dashes ignored).
        #[arg(long, value_parser = plate)]
        plate: PlateText,
        /// State or country code, e.g. CA or D.
        #[arg(long)]
        region: Option<String>,
        /// What kind of entry it is.
        #[arg(long, value_enum, default_value = "bolo")]
        category: CategoryArg,
        /// What it is about: a case or report number, a description.
        #[arg(long)]
        reference: String,
    },
    /// Take an entry off the local hotlist (whoever added it, a Supervisor or an Administrator).
    Remove {
        #[command(flatten)]
        session: SessionArgs,
        /// The entry's number, as `hotlist list` shows it.
        #[arg(long)]
        id: u64,
    },
}

pub fn run(command: HotlistCommand) -> Result<Outcome> {
    match command {
        HotlistCommand::Publish {
            session,
            list,
            allow_multiline,
            file,
        } => publish(&session, list, allow_multiline, &file)?,
        HotlistCommand::Add {
            session,
            plate,
            region,
            category,
            reference,
        } => {
            let entry = alpr_protocol::hotlist::Entry {
                plate,
                region: region
                    .map(|r| r.trim().to_ascii_uppercase())
                    .filter(|r| !r.is_empty()),
                category: category.into(),
                reference,
            };
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::AddHotlistEntry { token, entry })?;
            let ControlResponse::HotlistEntryAdded { id } = response else {
                return Err(unexpected(&response));
            };
            println!("local hotlist entry {id} added");
            s.logout()?;
        }
        HotlistCommand::Remove { session, id } => {
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::RemoveHotlistEntry { token, id })?;
            println!("local hotlist entry {id} removed");
            s.logout()?;
        }
        HotlistCommand::List { session, json } => list(&session, json)?,
    }
    Ok(Outcome::Done)
}

fn publish(
    session: &SessionArgs,
    list: String,
    allow_multiline: bool,
    file: &std::path::Path,
) -> Result<()> {
    let crate::hotlist::Extract { entries, rows } =
        crate::hotlist::read_csv(file, allow_multiline)?;
    let mut s = Session::open(session)?;
    let token = s.token;
    // In parts a frame holds: all but the last are staged by the daemon,
    // the last publishes the whole list.
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
        s.done(ControlRequest::StageHotlist {
            token,
            list: list.clone(),
            entries: part,
        })?;
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
        return Err(unexpected(&response));
    };
    for h in published {
        println!(
            "published {} version {}: {}, content {}",
            h.list,
            h.version,
            count(h.entries, "entry", "entries"),
            hex::encode(h.content)
        );
        let merged = rows.saturating_sub(h.entries);
        println!(
            "{} read, {} published{}",
            count(rows, "row", "rows"),
            count(h.entries, "entry", "entries"),
            if merged > 0 {
                format!(
                    " ({} merged)",
                    count(merged, "duplicate row", "duplicate rows")
                )
            } else {
                String::new()
            }
        );
    }
    s.logout()
}

fn list(session: &SessionArgs, json: bool) -> Result<()> {
    let mut s = Session::open(session)?;
    let token = s.token;
    let response = s.send(ControlRequest::ListHotlists { token })?;
    let ControlResponse::Hotlists { lists, local } = response else {
        return Err(unexpected(&response));
    };
    if json {
        let lists_json: Vec<_> = lists
            .iter()
            .map(|h| {
                serde_json::json!({
                    "list": h.list,
                    "version": h.version,
                    "entries": h.entries,
                    "content": hex::encode(h.content),
                    "published_at": format_time(h.published_at),
                    "author": h.author.to_hex(),
                })
            })
            .collect();
        let local_json: Vec<_> = local
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id,
                    "plate": e.entry.plate.to_string(),
                    "region": e.entry.region,
                    "category": e.entry.category.name(),
                    "reference": e.entry.reference,
                    "added_by": e.added_by,
                    "added_at": format_time(e.added_at),
                    "removed_by": e.removed.as_ref().map(|(by, _)| by),
                    "removed_at": e.removed.as_ref().map(|(_, at)| format_time(*at)),
                })
            })
            .collect();
        print_json(&listing(
            "hotlists",
            lists.len() as u64,
            lists_json,
            serde_json::json!({ "local": local_json }),
        ))?;
        return s.logout();
    }
    let mut out = std::io::stdout().lock();
    if lists.is_empty() && local.is_empty() {
        println!("no hotlists");
    }
    if !lists.is_empty() {
        let mut table = Table::new(&["LIST", "VERSION", "ENTRIES", "PUBLISHED", "BY", "CONTENT"])
            .right(&["VERSION", "ENTRIES"]);
        for h in &lists {
            table.row(vec![
                h.list.clone(),
                h.version.to_string(),
                h.entries.to_string(),
                format_time(h.published_at),
                h.author.short(),
                hex::encode(&h.content[..8]),
            ]);
        }
        table.print(&mut out)?;
    }
    if !local.is_empty() {
        if !lists.is_empty() {
            println!();
        }
        let mut table = Table::new(&[
            "LOCAL",
            "PLATE",
            "REGION",
            "CATEGORY",
            "ADDED",
            "BY",
            "STATE",
            "REFERENCE",
        ])
        .right(&["LOCAL"]);
        for e in &local {
            let state = match &e.removed {
                Some((by, at)) => format!("removed by {by} at {}", format_time(*at)),
                None => "in force".into(),
            };
            table.row(vec![
                e.id.to_string(),
                e.entry.plate.to_string(),
                e.entry.region.clone().unwrap_or_else(|| "-".into()),
                e.entry.category.name().to_string(),
                format_time(e.added_at),
                e.added_by.clone(),
                state,
                e.entry.reference.clone(),
            ]);
        }
        table.print(&mut out)?;
    }
    drop(out);
    s.logout()
}
