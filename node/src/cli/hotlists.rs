//! Hotlists: publish or import a bulk list at a station, keep the local
//! list (plates and wildcards, edited in place), see what a node holds.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use alpr_protocol::control::{
    ControlRequest, ControlResponse, HOTLIST_PART_MAX, HotlistDiffWire, HotlistWire, LocalEditWire,
    LocalEntryWire,
};
use alpr_protocol::hotlist::{Detail, Entry, Priority};
use alpr_protocol::{PlateText, Timestamp};
use anyhow::{Result, bail};
use clap::{ArgAction, Subcommand, ValueEnum};

use super::args::{CategoryArg, SessionArgs};
use super::output::{Table, count, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time, now};
use super::{Outcome, Usage};
use crate::hotlist::{Format, ImportOptions, Imported, Report, Source};

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
    /// Import a department's feed (an NCIC fixed-width extract, or a CSV
    /// with a column mapping) as the next version of a list
    /// (Administrators, at a station), with a report of every row; a file
    /// whose content the list already holds makes no new version.
    Import {
        #[command(flatten)]
        session: SessionArgs,
        /// List name, e.g. ncic-ca (letters, digits, '-', '_').
        #[arg(long)]
        list: String,
        /// The file's layout; else the source config's `[source] format`.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// The source's configuration (TOML): its name, states and plates
        /// to skip, what each list code means, and a CSV's columns.
        #[arg(long, value_name = "FILE")]
        source_config: Option<PathBuf>,
        /// Import the good lines of a file that has bad ones (counted by
        /// reason in the report); without it, such a file imports nothing.
        #[arg(long)]
        skip_bad: bool,
        /// Show what the import would add, remove and change in the list's
        /// current version, and publish nothing.
        #[arg(long)]
        dry_run: bool,
        /// The extract.
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
    /// Put a plate, or a wildcard pattern, on the local hotlist (a BOLO);
    /// it reaches every node.
    Add {
        #[command(flatten)]
        session: SessionArgs,
        /// The plate (spaces and dashes ignored), or a pattern: '?' is one
        /// character, '*' any run (at most 2 '*'; at most 100 wildcard
        /// entries in force in the fleet).
        #[arg(value_name = "PLATE-OR-PATTERN", required_unless_present = "plate")]
        target: Option<String>,
        /// The plate or pattern, as a flag (the same as the positional).
        #[arg(long, conflicts_with = "target")]
        plate: Option<String>,
        /// State or country code, e.g. CA or D.
        #[arg(long)]
        region: Option<String>,
        /// What kind of entry it is.
        #[arg(long, value_enum, default_value = "bolo")]
        category: CategoryArg,
        /// A case or report number.
        #[arg(long, default_value = "")]
        reference: String,
        /// How urgently a hit must be seen.
        #[arg(long, value_enum, default_value = "normal")]
        priority: PriorityArg,
        /// Record hits without telling the officer in the car; shown only
        /// to roles that may see covert entries.
        #[arg(long)]
        covert: bool,
        /// When it stops being in force: a time, or a date (in force
        /// through that day), in this machine's zone.
        #[arg(long, value_parser = When::parse)]
        expires: Option<When>,
        /// Why it is listed: the reason, the case, a description.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change an entry of the local hotlist (whoever added it, a Supervisor or an Administrator).
    Edit {
        #[command(flatten)]
        session: SessionArgs,
        /// The entry's number, as `hotlist list` shows it.
        id: u64,
        /// How urgently a hit must be seen.
        #[arg(long, value_enum)]
        priority: Option<PriorityArg>,
        /// When it stops being in force (a time, or a date: through that
        /// day), or `never`.
        #[arg(long, value_parser = Expiry::parse)]
        expires: Option<Expiry>,
        /// Why it is listed: the reason, the case, a description.
        #[arg(long)]
        reason: Option<String>,
        /// Whether hits are covert (true or false).
        #[arg(long, value_name = "BOOL", action = ArgAction::Set)]
        covert: Option<bool>,
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

/// A source file's layout, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// NCIC's fixed-width extract (first line a header).
    Ncic,
    /// CSV with a header row; columns by the source config's [csv].
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Ncic => Format::Ncic,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// A priority, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriorityArg {
    /// Seen first; cannot be muted.
    High,
    Normal,
    Low,
}

impl From<PriorityArg> for Priority {
    fn from(p: PriorityArg) -> Priority {
        match p {
            PriorityArg::High => Priority::High,
            PriorityArg::Normal => Priority::Normal,
            PriorityArg::Low => Priority::Low,
        }
    }
}

/// An expiry as typed: a time, or `never`.
#[derive(Debug, Clone, Copy)]
pub struct Expiry(Option<Timestamp>);

impl Expiry {
    fn parse(text: &str) -> Result<Expiry, String> {
        if text.trim().eq_ignore_ascii_case("never") {
            return Ok(Expiry(None));
        }
        When::parse(text).map(|w| Expiry(Some(expiry(w))))
    }
}

/// When an entry stops being in force: a time as typed, or the end of a
/// date typed bare (the entry is in force through that day).
fn expiry(w: When) -> Timestamp {
    if w.start() == w.end() {
        w.start()
    } else {
        w.end().saturating_add_millis(1)
    }
}

pub fn run(command: HotlistCommand) -> Result<Outcome> {
    match command {
        HotlistCommand::Publish {
            session,
            list,
            allow_multiline,
            file,
        } => publish(&session, list, allow_multiline, &file)?,
        HotlistCommand::Import {
            session,
            list,
            format,
            source_config,
            skip_bad,
            dry_run,
            file,
        } => import(
            &session,
            list,
            format,
            source_config.as_deref(),
            skip_bad,
            dry_run,
            &file,
        )?,
        HotlistCommand::Add {
            session,
            target,
            plate,
            region,
            category,
            reference,
            priority,
            covert,
            expires,
            reason,
        } => {
            let text = target.or(plate).unwrap_or_default();
            let (plate, pattern) = plate_or_pattern(&text)?;
            let entry = Entry {
                plate,
                region: region
                    .map(|r| r.trim().to_ascii_uppercase())
                    .filter(|r| !r.is_empty()),
                category: category.into(),
                reference,
                detail: Detail {
                    priority: priority.into(),
                    expires: expires.map(expiry),
                    covert,
                    notes: reason.unwrap_or_default(),
                    ..Detail::default()
                },
            };
            let mut s = Session::open(&session)?;
            let token = s.token;
            let response = s.send(ControlRequest::AddHotlistEntry {
                token,
                entry,
                pattern: pattern.clone(),
            })?;
            let ControlResponse::HotlistEntryAdded { id } = response else {
                return Err(unexpected(&response));
            };
            match pattern {
                Some(p) => println!("local hotlist entry {id} added: wildcard {p}"),
                None => println!("local hotlist entry {id} added"),
            }
            s.logout()?;
        }
        HotlistCommand::Edit {
            session,
            id,
            priority,
            expires,
            reason,
            covert,
        } => {
            let edit = LocalEditWire {
                priority: priority.map(Priority::from),
                expires: expires.map(|e| e.0),
                reason,
                covert,
            };
            if edit == LocalEditWire::default() {
                bail!(Usage(
                    "nothing to change: give --priority, --expires, --reason or --covert".into()
                ));
            }
            let mut s = Session::open(&session)?;
            let token = s.token;
            s.done(ControlRequest::EditHotlistEntry { token, id, edit })?;
            println!("local hotlist entry {id} edited");
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

/// A plate, or a wildcard pattern with its fixed characters as the plate
/// (the engine sets them again; they are sent so the entry is whole).
fn plate_or_pattern(text: &str) -> Result<(PlateText, Option<String>)> {
    Ok(alpr_protocol::plate::plate_or_pattern(text).map_err(|e| Usage(e.to_string()))?)
}

/// Largest estimated size of one part sent to the daemon: well under a
/// frame, as entries with notes are several times a bare one.
const PART_BYTES_MAX: usize = 8 * 1024 * 1024;

/// About what an entry takes in a frame (postcard: its strings and a few
/// bytes of lengths, tags and numbers).
fn entry_bytes(e: &Entry) -> usize {
    let d = &e.detail;
    32 + e.plate.as_str().len()
        + e.region.as_deref().map_or(0, str::len)
        + e.reference.len()
        + d.vehicle.make.len()
        + d.vehicle.model.len()
        + d.vehicle.color.len()
        + d.notes.len()
        + d.source.len()
}

/// Sends a whole list in parts a frame holds: all but the last staged,
/// the last with `last` (a publish or a dry run), whose answer is returned.
fn send_list(
    s: &mut Session,
    list: &str,
    entries: Vec<Entry>,
    last: impl FnOnce(String, Vec<Entry>) -> ControlRequest,
) -> Result<ControlResponse> {
    let token = s.token;
    let mut part: Vec<Entry> = Vec::new();
    let mut bytes = 0;
    for e in entries {
        let size = entry_bytes(&e);
        if !part.is_empty() && (part.len() >= HOTLIST_PART_MAX || bytes + size > PART_BYTES_MAX) {
            s.done(ControlRequest::StageHotlist {
                token,
                list: list.to_string(),
                entries: std::mem::take(&mut part),
            })?;
            bytes = 0;
        }
        bytes += size;
        part.push(e);
    }
    s.send(last(list.to_string(), part))
}

fn publish_list(s: &mut Session, list: &str, entries: Vec<Entry>) -> Result<HotlistWire> {
    let token = s.token;
    let response = send_list(s, list, entries, |list, entries| {
        ControlRequest::PublishHotlist {
            token,
            list,
            entries,
        }
    })?;
    let ControlResponse::Hotlists { lists, .. } = response else {
        return Err(unexpected(&response));
    };
    lists
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the node published no version"))
}

fn publish(session: &SessionArgs, list: String, allow_multiline: bool, file: &Path) -> Result<()> {
    let crate::hotlist::Extract { entries, rows } =
        crate::hotlist::read_csv(file, allow_multiline)?;
    let mut s = Session::open(session)?;
    let h = publish_list(&mut s, &list, entries)?;
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
    s.logout()
}

/// The version of `list` this node holds now, if any.
fn held_version(s: &mut Session, list: &str) -> Result<Option<HotlistWire>> {
    let token = s.token;
    let response = s.send(ControlRequest::ListHotlists { token })?;
    let ControlResponse::Hotlists { lists, .. } = response else {
        return Err(unexpected(&response));
    };
    Ok(lists.into_iter().find(|h| h.list == list))
}

fn import(
    session: &SessionArgs,
    list: String,
    format: Option<FormatArg>,
    source_config: Option<&Path>,
    skip_bad: bool,
    dry_run: bool,
    file: &Path,
) -> Result<()> {
    let source = match source_config {
        Some(path) => Source::load(path)?,
        None => Source::default(),
    };
    let format = match (format.map(Format::from), source.format) {
        (Some(f), Some(g)) if f != g => bail!(Usage(format!(
            "--format {} but the source config says format = \"{}\"",
            f.name(),
            g.name()
        ))),
        (Some(f), _) | (None, Some(f)) => f,
        (None, None) => bail!(Usage(
            "give --format ncic or csv, or a --source-config whose [source] names its format"
                .into()
        )),
    };
    let mut source = source;
    if source_config.is_none() && format == Format::Csv {
        // A CSV without a config is named for its file in each entry's source.
        let name = file.file_name().map_or_else(
            || "CSV".to_string(),
            |n| n.to_string_lossy().chars().take(60).collect(),
        );
        source.name = name;
    }
    if let Err(e) = alpr_protocol::hotlist::check_name(&list) {
        bail!(Usage(e.to_string()));
    }
    let size = std::fs::metadata(file).map_or(0, |m| m.len());
    let bar = indicatif::ProgressBar::new(size);
    if std::io::stderr().is_terminal() {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {msg} {bar:30} {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(file.display().to_string());
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let read = crate::hotlist::import(
        file,
        &source,
        ImportOptions { format, skip_bad },
        &mut |bytes| bar.set_position(bytes),
    );
    bar.finish_and_clear();
    let Imported { entries, report } = read?;
    print_report(file, &source, &report);
    let mut s = Session::open(session)?;
    if dry_run {
        let token = s.token;
        let response = send_list(&mut s, &list, entries, |list, entries| {
            ControlRequest::DiffHotlist {
                token,
                list,
                entries,
            }
        })?;
        let ControlResponse::HotlistDiff(diff) = response else {
            return Err(unexpected(&response));
        };
        print_diff(&diff);
        return s.logout();
    }
    let before = held_version(&mut s, &list)?;
    let h = publish_list(&mut s, &list, entries)?;
    if before
        .as_ref()
        .is_some_and(|b| b.version == h.version && b.content == h.content)
    {
        println!(
            "{} unchanged at version {} ({}): nothing published",
            h.list,
            h.version,
            count(h.entries, "entry", "entries")
        );
    } else {
        println!(
            "published {} version {}: {}, content {}",
            h.list,
            h.version,
            count(h.entries, "entry", "entries"),
            hex::encode(h.content)
        );
    }
    s.logout()
}

/// What happened to every row, on stdout; the bad lines skipped, on stderr.
fn print_report(file: &Path, source: &Source, r: &Report) {
    println!(
        "{}: {} read, {} to import",
        file.display(),
        count(r.rows, "row", "rows"),
        count(r.imported, "entry", "entries")
    );
    let line = |n: u64, what: String| {
        if n > 0 {
            println!("  {n} {what}");
        }
    };
    line(
        r.duplicates,
        format!(
            "duplicate {} merged",
            if r.duplicates == 1 { "row" } else { "rows" }
        ),
    );
    let states: Vec<&str> = source.states.iter().map(String::as_str).collect();
    line(
        r.skipped_state,
        format!("skipped by the state filter ({})", states.join(", ")),
    );
    line(r.skipped_plate, "skipped by the skip list".into());
    line(r.skipped_code, "skipped by list code (not imported)".into());
    line(r.no_plate, "without a plate".into());
    let bad = r.bad_lines();
    if bad > 0 {
        let by: Vec<String> = r.bad.iter().map(|(f, n)| format!("{n} {f}")).collect();
        line(
            bad,
            format!(
                "bad {} skipped: {}",
                if bad == 1 { "line" } else { "lines" },
                by.join(", ")
            ),
        );
        for e in &r.errors {
            eprintln!("skipped {e}");
        }
        if bad > r.errors.len() as u64 {
            eprintln!("skipped {} more bad lines", bad - r.errors.len() as u64);
        }
    }
}

fn describe(e: &Entry) -> String {
    let mut out = format!(
        "{} {} {} {}",
        e.plate,
        e.region.as_deref().unwrap_or("-"),
        e.category.name(),
        e.detail.priority.name()
    );
    if !e.reference.is_empty() {
        out.push_str(&format!(" {}", e.reference));
    }
    let vehicle = e.detail.vehicle.describe();
    if !vehicle.is_empty() {
        out.push_str(&format!(" ({vehicle})"));
    }
    out
}

/// The fields in which two entries of one plate and region differ, old -> new.
fn changes(old: &Entry, new: &Entry) -> Vec<String> {
    let (a, b) = (&old.detail, &new.detail);
    let time = |t: Option<Timestamp>| t.map_or_else(|| "none".to_string(), format_time);
    let mut out = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name} '{x}' -> '{y}'"));
        }
    };
    field(
        "category",
        old.category.name().into(),
        new.category.name().into(),
    );
    field("reference", old.reference.clone(), new.reference.clone());
    field(
        "priority",
        a.priority.name().into(),
        b.priority.name().into(),
    );
    field("vehicle", a.vehicle.describe(), b.vehicle.describe());
    field("entered", time(a.entered), time(b.entered));
    field("expires", time(a.expires), time(b.expires));
    field("covert", a.covert.to_string(), b.covert.to_string());
    field("notes", a.notes.clone(), b.notes.clone());
    field("source", a.source.clone(), b.source.clone());
    out
}

fn print_diff(d: &HotlistDiffWire) {
    match d.base_version {
        Some(v) => println!(
            "dry run: {} version {} would become {}",
            d.list,
            v,
            count(d.entries, "entry", "entries")
        ),
        None => println!(
            "dry run: {} is new here; it would hold {}",
            d.list,
            count(d.entries, "entry", "entries")
        ),
    }
    println!(
        "{} added, {} removed, {} changed, {} unchanged",
        d.added, d.removed, d.changed, d.unchanged
    );
    if d.added == 0 && d.removed == 0 && d.changed == 0 && d.base_version.is_some() {
        println!("unchanged: publishing it would make no new version");
    }
    for e in &d.added_sample {
        println!("+ {}", describe(e));
    }
    for e in &d.removed_sample {
        println!("- {}", describe(e));
    }
    for (old, new) in &d.changed_sample {
        println!(
            "~ {} {}: {}",
            new.plate,
            new.region.as_deref().unwrap_or("-"),
            changes(old, new).join("; ")
        );
    }
    let shown = (d.added_sample.len() + d.removed_sample.len() + d.changed_sample.len()) as u64;
    let all = d.added + d.removed + d.changed;
    if all > shown {
        println!("({} more not shown)", all - shown);
    }
    println!("nothing published (dry run)");
}

/// A local entry's state: in force (until its expiry), expired, or removed.
fn local_state(e: &LocalEntryWire, at: Timestamp) -> String {
    let mut state = match (&e.removed, e.entry.detail.expires) {
        (Some((by, when)), _) => format!("removed by {by} at {}", format_time(*when)),
        (None, Some(x)) if !e.entry.in_force(at) => format!("expired {}", format_time(x)),
        (None, Some(x)) => format!("until {}", format_time(x)),
        (None, None) => "in force".into(),
    };
    if e.entry.detail.covert {
        state.push_str(", covert");
    }
    state
}

fn list(session: &SessionArgs, json: bool) -> Result<()> {
    let mut s = Session::open(session)?;
    let token = s.token;
    let response = s.send(ControlRequest::ListHotlists { token })?;
    let ControlResponse::Hotlists { lists, local } = response else {
        return Err(unexpected(&response));
    };
    let at = now();
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
                let d = &e.entry.detail;
                serde_json::json!({
                    "id": e.id,
                    "plate": e.entry.plate.to_string(),
                    "pattern": e.pattern,
                    "region": e.entry.region,
                    "category": e.entry.category.name(),
                    "reference": e.entry.reference,
                    "priority": d.priority.name(),
                    "covert": d.covert,
                    "expires": d.expires.map(format_time),
                    "reason": d.notes,
                    "in_force": e.removed.is_none() && e.entry.in_force(at),
                    "added_by": e.added_by,
                    "added_at": format_time(e.added_at),
                    "edited_by": e.edited.as_ref().map(|(by, _)| by),
                    "edited_at": e.edited.as_ref().map(|(_, t)| format_time(*t)),
                    "removed_by": e.removed.as_ref().map(|(by, _)| by),
                    "removed_at": e.removed.as_ref().map(|(_, t)| format_time(*t)),
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
            "PRIORITY",
            "ADDED",
            "BY",
            "STATE",
            "REFERENCE",
            "REASON",
        ])
        .right(&["LOCAL"]);
        for e in &local {
            table.row(vec![
                e.id.to_string(),
                e.pattern
                    .clone()
                    .unwrap_or_else(|| e.entry.plate.to_string()),
                e.entry.region.clone().unwrap_or_else(|| "-".into()),
                e.entry.category.name().to_string(),
                e.entry.detail.priority.name().to_string(),
                format_time(e.added_at),
                e.added_by.clone(),
                local_state(e, at),
                e.entry.reference.clone(),
                e.entry.detail.notes.clone(),
            ]);
        }
        table.print(&mut out)?;
    }
    drop(out);
    s.logout()
}
