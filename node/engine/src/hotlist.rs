//! Hotlist source files: the CSV extracts a station publishes from
//! (`hotlist publish`), and the feeds departments receive (`hotlist
//! import`): NCIC's fixed-width extract (`ncic`) and vendors' CSV files
//! with a column mapping (`columns`), each read under its source's
//! configuration (`source`).
//!
//! `hotlist publish` reads columns, with a header row:
//! `plate,region,category,reference`. `region` may be empty; `category` is
//! one of stolen-vehicle, stolen-plate, wanted-person, missing-person,
//! amber, bolo, other. Any bad row stops the import with its line and
//! field; nothing is published from a bad file.
//!
//! A field may not span lines unless the caller allows it: one stray quote
//! in an extract otherwise swallows every row up to the next quote into one
//! reference, and a stolen car silently leaves the list.
//!
//! An import ([`import`]) reports what it did with every row: imported,
//! merged as a duplicate, dropped by the state filter, the skip list or the
//! list code's configuration, without a plate, or bad. A file with bad
//! lines imports nothing unless the caller skips them: a list short of the
//! rows its file holds must be a decision, not an accident.

mod columns;
pub mod ncic;
pub mod source;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use alpr_protocol::PlateText;
use alpr_protocol::hotlist::{self, Category, Detail, Entry, HotlistError, REFERENCE_LEN_MAX};

pub use source::{CodeRule, Format, Source};

#[derive(Debug, thiserror::Error)]
pub enum HotlistFileError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: csv::Error },
    #[error(
        "{path}: the header must name the columns plate, region, category, reference (found {found})"
    )]
    Header { path: PathBuf, found: String },
    #[error("{path} line {line}: {field}: {reason}")]
    Row {
        path: PathBuf,
        line: u64,
        field: &'static str,
        reason: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("source config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Layout { path: PathBuf, reason: String },
    #[error("{}", bad_lines_message(.path, *.bad, .errors))]
    BadLines {
        path: PathBuf,
        /// Every bad line of the file.
        bad: u64,
        /// The first of them ([`ERRORS_KEPT_MAX`]).
        errors: Vec<LineError>,
        report: Box<Report>,
    },
}

fn bad_lines_message(path: &Path, bad: u64, errors: &[LineError]) -> String {
    let mut out = format!(
        "{}: {bad} bad line{}, so nothing was imported (fix the file, or pass --skip-bad to import the rest):",
        path.display(),
        if bad == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    let more = bad.saturating_sub(errors.len() as u64);
    if more > 0 {
        out.push_str(&format!("\n  and {more} more"));
    }
    out
}

/// Largest extract read: far above a national list's few million rows.
pub const FILE_BYTES_MAX: u64 = 1024 * 1024 * 1024;

/// What an extract held: its entries, and how many data rows they came from.
#[derive(Debug)]
pub struct Extract {
    pub entries: Vec<Entry>,
    pub rows: u64,
}

/// Reads every entry of a CSV extract; `allow_multiline` accepts quoted
/// fields that span lines.
pub fn read_csv(path: &Path, allow_multiline: bool) -> Result<Extract, HotlistFileError> {
    let read_err = |source| HotlistFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let io_err = |e: std::io::Error| read_err(csv::Error::from(e));
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() || meta.len() > FILE_BYTES_MAX {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file of at most {FILE_BYTES_MAX} bytes"),
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(read_err)?;
    let header = reader.headers().map_err(read_err)?.clone();
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(plate), Some(category)) = (col("plate"), col("category")) else {
        return Err(HotlistFileError::Header {
            path: path.to_path_buf(),
            found: header.iter().collect::<Vec<_>>().join(","),
        });
    };
    let (region, reference) = (col("region"), col("reference"));
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(read_err)?;
        let line = row.position().map_or(0, |p| p.line());
        let bad = |field, reason: String| HotlistFileError::Row {
            path: path.to_path_buf(),
            line,
            field,
            reason,
        };
        if !allow_multiline
            && let Some((i, _)) = row
                .iter()
                .enumerate()
                .find(|(_, f)| f.contains(['\n', '\r']))
        {
            let name = header.get(i).unwrap_or("a field").to_string();
            return Err(HotlistFileError::Row {
                path: path.to_path_buf(),
                line,
                field: "quoting",
                reason: format!(
                    "the {name} field runs over several lines (a stray quote?); fix the file, or pass --allow-multiline if such fields are meant"
                ),
            });
        }
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or("");
        let plate_text = get(Some(plate));
        let plate = PlateText::parse(plate_text)
            .map_err(|e| bad("plate", format!("'{plate_text}': {e}")))?;
        let category_text = get(Some(category));
        let category = Category::parse(category_text).ok_or_else(|| {
            bad(
                "category",
                format!("'{category_text}' is not stolen-vehicle, stolen-plate, wanted-person, missing-person, amber, bolo or other"),
            )
        })?;
        let region_text = get(region).to_ascii_uppercase();
        if region_text.len() > 8
            || !region_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad(
                "region",
                format!("'{region_text}' is not a state or country code"),
            ));
        }
        let reference = get(reference).to_string();
        if reference.chars().count() > REFERENCE_LEN_MAX {
            return Err(bad(
                "reference",
                format!("longer than {REFERENCE_LEN_MAX} characters"),
            ));
        }
        out.push(Entry {
            plate,
            region: (!region_text.is_empty()).then_some(region_text),
            category,
            reference,
            detail: Default::default(),
        });
    }
    Ok(Extract {
        rows: out.len() as u64,
        entries: out,
    })
}

/// Most line errors an import keeps to show (the report counts them all).
pub const ERRORS_KEPT_MAX: usize = 10;
/// Longest line read: an NCIC record is about 70 bytes, a CSV row a few
/// hundred; a longer one is counted bad, never buffered whole.
pub const LINE_BYTES_MAX: usize = 64 * 1024;
/// Rows between progress reports.
const PROGRESS_ROWS: u64 = 16 * 1024;

/// What is wrong with one line of a source file, by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} line {line}: {field}: {reason}", path.display())]
pub struct LineError {
    pub path: PathBuf,
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

/// What an import did with every data row of its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Data rows read (not the header, not blank lines).
    pub rows: u64,
    /// Entries kept, after duplicates were merged.
    pub imported: u64,
    /// Rows of a plate, region and category already imported from an
    /// earlier row (the first is kept).
    pub duplicates: u64,
    /// Rows of a region the source does not import.
    pub skipped_state: u64,
    /// Rows of a plate on the skip list.
    pub skipped_plate: u64,
    /// Rows of a list code (or category) the source does not import.
    pub skipped_code: u64,
    /// Rows with no plate (a wanted person without a vehicle).
    pub no_plate: u64,
    /// Bad rows by the field that was wrong.
    pub bad: BTreeMap<&'static str, u64>,
    /// The first bad rows ([`ERRORS_KEPT_MAX`]).
    pub errors: Vec<LineError>,
}

impl Report {
    /// Every bad row.
    pub fn bad_lines(&self) -> u64 {
        self.bad.values().sum()
    }
}

/// An import's entries (checked, duplicates merged, in canonical order) and its report.
#[derive(Debug)]
pub struct Imported {
    pub entries: Vec<Entry>,
    pub report: Report,
}

/// How an import reads its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    pub format: Format,
    /// Import what is good and count the bad lines, rather than refusing
    /// the file.
    pub skip_bad: bool,
}

/// Reads a source file into entries under its source's rules.
/// `progress` is told the bytes read so far, now and then.
pub fn import(
    path: &Path,
    source: &Source,
    options: ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Imported, HotlistFileError> {
    let io = |source| HotlistFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() || meta.len() > FILE_BYTES_MAX {
        return Err(HotlistFileError::Layout {
            path: path.to_path_buf(),
            reason: format!("not a regular file of at most {FILE_BYTES_MAX} bytes"),
        });
    }
    let mut tally = Tally::new(path, source);
    match options.format {
        Format::Ncic => read_ncic(path, &mut tally, progress)?,
        Format::Csv => columns::read(path, &mut tally, progress)?,
    }
    let entries = std::mem::take(&mut tally.entries);
    let mut report = std::mem::take(&mut tally.report);
    let read = entries.len() as u64;
    let entries = first_of_each(entries);
    report.duplicates = read - entries.len() as u64;
    report.imported = entries.len() as u64;
    let bad = report.bad_lines();
    if bad > 0 && !options.skip_bad {
        return Err(HotlistFileError::BadLines {
            path: path.to_path_buf(),
            bad,
            errors: report.errors.clone(),
            report: Box::new(report),
        });
    }
    Ok(Imported { entries, report })
}

/// The first entry (in file order) of each plate, region and category, in
/// canonical order. Packed keys are sorted, not entries: an entry is a few
/// hundred bytes behind pointers, and a million of them compared and moved
/// at every step of a sort took seconds. With the key unique, ordering by
/// key is the canonical order, so publishing finds the list sorted.
fn first_of_each(entries: Vec<Entry>) -> Vec<Entry> {
    let mut order: Vec<(u64, u64, u8, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (plate, region) = packed_key(e);
            (plate, region, e.category as u8, i as u32)
        })
        .collect();
    // Ties broken by index: the earliest row of a key comes first.
    order.sort_unstable();
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let mut out: Vec<Entry> = Vec::with_capacity(slots.len());
    let mut last = None;
    for (plate, region, category, i) in order {
        if last == Some((plate, region, category)) {
            continue;
        }
        last = Some((plate, region, category));
        if let Some(e) = slots[i as usize].take() {
            out.push(e);
        }
    }
    out
}

/// A plate and region packed into integers ordered as their text is: a
/// plate (at most 10 of 0-9A-Z) in base 37 and a region (at most 8 of
/// -0-9A-Z, None first) in base 38, padded with a digit below every
/// character so a prefix sorts first, as strings do. Import checked both
/// alphabets before an entry is kept.
fn packed_key(e: &Entry) -> (u64, u64) {
    fn pack(text: &[u8], len: usize, digit: impl Fn(u8) -> u64, base: u64) -> u64 {
        (0..len).fold(0u64, |key, i| {
            key * base + text.get(i).map_or(0, |&c| digit(c))
        })
    }
    let alnum = |c: u8| match c {
        b'0'..=b'9' => u64::from(c - b'0') + 1,
        b'A'..=b'Z' => u64::from(c - b'A') + 11,
        _ => 36,
    };
    let plate = pack(
        e.plate.as_str().as_bytes(),
        alpr_protocol::plate::PLATE_LEN_MAX,
        alnum,
        37,
    );
    let region = e.region.as_deref().map_or(0, |r| {
        1 + pack(
            r.as_bytes(),
            hotlist::REGION_LEN_MAX,
            |c| if c == b'-' { 1 } else { alnum(c) + 1 },
            38,
        )
    });
    (plate, region)
}

/// The rows of one import as they are read: entries kept and the report.
struct Tally<'a> {
    path: &'a Path,
    source: &'a Source,
    entries: Vec<Entry>,
    report: Report,
}

/// A row's fields, before the source's filters.
struct Row<'a> {
    line: u64,
    rule: CodeRule,
    plate: &'a str,
    region: &'a str,
    /// The region field's name in errors ("plate state" in NCIC).
    region_field: &'static str,
}

impl<'a> Tally<'a> {
    fn new(path: &'a Path, source: &'a Source) -> Tally<'a> {
        Tally {
            path,
            source,
            entries: Vec::new(),
            report: Report::default(),
        }
    }

    fn bad(&mut self, line: u64, field: &'static str, reason: String) {
        *self.report.bad.entry(field).or_insert(0) += 1;
        if self.report.errors.len() < ERRORS_KEPT_MAX {
            self.report.errors.push(LineError {
                path: self.path.to_path_buf(),
                line,
                field,
                reason,
            });
        }
    }

    /// Runs a row through the filters (a code not imported, no plate, a
    /// bad plate or region, the state filter, the skip list) and keeps
    /// the entry `build` makes of it if it passes and is within bounds.
    fn offer(&mut self, row: Row<'_>, build: impl FnOnce(PlateText, Option<String>) -> Entry) {
        if !row.rule.import {
            self.report.skipped_code += 1;
            return;
        }
        if row.plate.trim().is_empty() {
            self.report.no_plate += 1;
            return;
        }
        let plate = match PlateText::parse(row.plate) {
            Ok(p) => p,
            Err(e) => return self.bad(row.line, "plate", e.to_string()),
        };
        let region = row.region.trim().to_ascii_uppercase();
        if region.len() > hotlist::REGION_LEN_MAX
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            let reason = format!("'{}' is not a state or country code", row.region.trim());
            return self.bad(row.line, row.region_field, reason);
        }
        if !region.is_empty()
            && !self.source.states.is_empty()
            && !self.source.states.contains(&region)
        {
            self.report.skipped_state += 1;
            return;
        }
        if self.source.skip_plates.contains(plate.as_str()) {
            self.report.skipped_plate += 1;
            return;
        }
        let region = (!region.is_empty()).then_some(region);
        let entry = build(plate, region);
        if let Err(e) = hotlist::check_entry(&entry) {
            let field = match &e {
                HotlistError::BadDetail { field, .. } => *field,
                HotlistError::BadReference(_) => "reference",
                _ => "entry",
            };
            return self.bad(row.line, field, e.to_string());
        }
        self.entries.push(entry);
    }
}

/// Reads one line into `buf` (line ending dropped), at most `max` bytes of
/// it; returns the bytes consumed and whether the line was cut, or None at
/// the end of the file.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<(usize, bool)>> {
    buf.clear();
    let (mut consumed, mut cut) = (0usize, false);
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        cut |= take > room;
        buf.extend_from_slice(&available[..take.min(room)]);
        reader.consume(take);
        consumed += take;
        if done {
            break;
        }
    }
    if consumed == 0 {
        return Ok(None);
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some((consumed, cut)))
}

fn read_ncic(
    path: &Path,
    tally: &mut Tally<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), HotlistFileError> {
    let io = |source| HotlistFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(128);
    let (mut line, mut bytes) = (0u64, 0u64);
    let source_name = tally.source.name.clone();
    while let Some((consumed, cut)) =
        read_line(&mut reader, &mut buf, LINE_BYTES_MAX).map_err(io)?
    {
        line += 1;
        bytes += consumed as u64;
        if line == 1 && tally.source.header {
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        tally.report.rows += 1;
        if tally.report.rows.is_multiple_of(PROGRESS_ROWS) {
            progress(bytes);
        }
        if cut {
            tally.bad(
                line,
                "record",
                format!("longer than {LINE_BYTES_MAX} bytes"),
            );
            continue;
        }
        let code = match ncic::code(&buf) {
            Ok(c) => c,
            Err(e) => {
                tally.bad(line, e.field, e.reason);
                continue;
            }
        };
        let Some(rule) = tally.source.ncic_rule(code) else {
            tally.bad(
                line,
                "list code",
                format!("'{code}' is not an NCIC list code this source knows (add it under [codes.{code}])"),
            );
            continue;
        };
        if !rule.import {
            tally.report.skipped_code += 1;
            continue;
        }
        let record = match ncic::parse(&buf) {
            Ok(r) => r,
            Err(e) => {
                tally.bad(line, e.field, e.reason);
                continue;
            }
        };
        let notes = ncic_notes(&record);
        let row = Row {
            line,
            rule,
            plate: record.plate,
            region: &record.state,
            region_field: "plate state",
        };
        let (nic, vehicle, entered) = (record.nic, record.vehicle, record.entered);
        tally.offer(row, |plate, region| Entry {
            plate,
            region,
            category: rule.category,
            reference: nic.to_string(),
            detail: Detail {
                priority: rule.priority,
                vehicle,
                entered,
                expires: None,
                covert: rule.covert,
                notes,
                source: format!("{source_name} {code}"),
            },
        });
    }
    progress(bytes);
    Ok(())
}

/// What an NCIC record says beyond the entry's fields, for the officer
/// who confirms a hit: who entered it, the plate's type and tag year.
fn ncic_notes(r: &ncic::Record<'_>) -> String {
    let mut out = String::with_capacity(48);
    for (label, value) in [
        ("ORI ", r.ori),
        ("plate type ", r.plate_type),
        ("tag year ", r.tag_year),
    ] {
        if value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(label);
        out.push_str(value);
    }
    out
}

/// The change publishing `new` would make to `old` (both canonical):
/// entries added and removed, and entries "changed": of a plate and region
/// both hold, but with other fields (a category, a priority, a note).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// The first few of each, for a person to check.
    pub added_sample: Vec<Entry>,
    pub removed_sample: Vec<Entry>,
    /// Old, then new.
    pub changed_sample: Vec<(Entry, Entry)>,
}

/// Compares two canonical lists, keeping at most `sample_max` of each kind.
pub fn diff(old: &[Entry], new: &[Entry], sample_max: usize) -> Diff {
    let mut d = Diff::default();
    let group = |list: &[Entry], at: usize| -> usize {
        let k = (&list[at].plate, &list[at].region);
        list[at..]
            .iter()
            .take_while(|e| (&e.plate, &e.region) == k)
            .count()
    };
    let (mut i, mut j) = (0, 0);
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    while i < old.len() || j < new.len() {
        let ko = old.get(i).map(|e| (&e.plate, &e.region));
        let kn = new.get(j).map(|e| (&e.plate, &e.region));
        let (o, n) = match (ko, kn) {
            (Some(a), Some(b)) if a == b => (group(old, i), group(new, j)),
            (Some(a), Some(b)) if a < b => (group(old, i), 0),
            (Some(_), None) => (group(old, i), 0),
            _ => (0, group(new, j)),
        };
        let (og, ng) = (&old[i..i + o], &new[j..j + n]);
        i += o;
        j += n;
        // Within one plate and region: identical entries are unchanged;
        // the rest pair up as changed, and what is left over was added or
        // removed.
        gone.clear();
        came.clear();
        let (mut a, mut b) = (0, 0);
        while a < og.len() || b < ng.len() {
            match (og.get(a), ng.get(b)) {
                (Some(x), Some(y)) if x == y => {
                    d.unchanged += 1;
                    a += 1;
                    b += 1;
                }
                (Some(x), Some(y)) if x < y => {
                    gone.push(x);
                    a += 1;
                }
                (Some(x), None) => {
                    gone.push(x);
                    a += 1;
                }
                (_, Some(y)) => {
                    came.push(y);
                    b += 1;
                }
                (None, None) => break,
            }
        }
        let pairs = gone.len().min(came.len());
        for k in 0..pairs {
            d.changed += 1;
            if d.changed_sample.len() < sample_max {
                d.changed_sample.push((gone[k].clone(), came[k].clone()));
            }
        }
        for x in &gone[pairs..] {
            d.removed += 1;
            if d.removed_sample.len() < sample_max {
                d.removed_sample.push((*x).clone());
            }
        }
        for y in &came[pairs..] {
            d.added += 1;
            if d.added_sample.len() < sample_max {
                d.added_sample.push((*y).clone());
            }
        }
    }
    d
}

/// A dry run of publishing: the list's current version here, if any, and
/// the change the entries would make to it.
#[derive(Debug, Clone)]
pub struct ListDiff {
    pub list: String,
    pub base: Option<alpr_protocol::hotlist::HotlistVersion>,
    /// Entries the new version would hold (canonical: duplicates merged).
    pub entries: u64,
    pub diff: Diff,
}

/// A change to a local hotlist entry: each field given is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalEdit {
    pub priority: Option<alpr_protocol::hotlist::Priority>,
    /// `Some(None)` takes the expiry off.
    pub expires: Option<Option<alpr_protocol::Timestamp>>,
    /// The reason or case (the entry's notes).
    pub reason: Option<String>,
    pub covert: Option<bool>,
}

impl LocalEdit {
    pub fn is_empty(&self) -> bool {
        *self == LocalEdit::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_protocol::hotlist::CATEGORIES;
    use proptest::prelude::*;

    /// What makes two rows the same listing.
    fn key(e: &Entry) -> (&PlateText, &Option<String>, Category) {
        (&e.plate, &e.region, e.category)
    }

    fn entry(plate: &str, region: Option<&str>, category: usize, reference: usize) -> Entry {
        Entry {
            plate: PlateText::parse(plate).unwrap(),
            region: region.map(str::to_string),
            category: CATEGORIES[category % CATEGORIES.len()],
            reference: reference.to_string(),
            detail: Detail::default(),
        }
    }

    proptest! {
        /// The packed sort gives what sorting entries would: the first row
        /// of each key, in canonical order.
        #[test]
        fn hotlist_duplicates_merge_to_the_first_row_in_canonical_order(
            rows in proptest::collection::vec(
                ("[0-9A-Z]{1,10}", proptest::option::of("[-0-9A-Z]{1,8}"), 0usize..15),
                0..60,
            )
        ) {
            let entries: Vec<Entry> = rows
                .iter()
                .enumerate()
                .map(|(i, (p, r, c))| entry(p, r.as_deref(), *c, i))
                .collect();
            let mut expected: Vec<Entry> = Vec::new();
            for e in &entries {
                if !expected.iter().any(|x| key(x) == key(e)) {
                    expected.push(e.clone());
                }
            }
            expected.sort();
            prop_assert_eq!(first_of_each(entries), expected);
        }
    }
}
