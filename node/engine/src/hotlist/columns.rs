//! CSV hotlist files with a header row, read through a source's column
//! mapping (`[csv]` in its config): other vendors' layouts without code.
//!
//! A row's category value is looked up among the source's codes first
//! (`[codes."Stolen Vehicle"]`), then as a category name; its priority
//! column, when it has one and it is not empty, wins over the code's.
//! Dates are tried as RFC 3339, then in each of the source's formats, in
//! UTC when they carry no offset; an expiry given as a bare date is in
//! force through that day.

use std::path::Path;

use alpr_protocol::Timestamp;
use alpr_protocol::hotlist::{Detail, Entry, Priority, Vehicle};

use super::source::{Column, CsvMapping};
use super::{HotlistFileError, LINE_BYTES_MAX, PROGRESS_ROWS, Row, Tally};

/// Header positions of the mapped columns.
struct Positions {
    plate: usize,
    region: Option<usize>,
    category: Option<usize>,
    reference: Option<usize>,
    entered: Option<usize>,
    expires: Option<usize>,
    priority: Option<usize>,
    notes: Option<usize>,
    source: Option<usize>,
    year: Option<usize>,
    make: Option<usize>,
    model: Option<usize>,
    color: Option<usize>,
}

pub(super) fn read(
    path: &Path,
    tally: &mut Tally<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), HotlistFileError> {
    // The source outlives the tally's borrow: rows are counted while the
    // mapping is read.
    let source = tally.source;
    let map = &source.csv;
    let layout = |reason: String| HotlistFileError::Layout {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(map.delimiter)
        .quote(map.quote)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|source| HotlistFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let header = reader
        .headers()
        .map_err(|source| HotlistFileError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .clone();
    let found = || header.iter().collect::<Vec<_>>().join(", ");
    let find = |key: &str, c: &Column| -> Result<Option<usize>, HotlistFileError> {
        match header.iter().position(|h| h.eq_ignore_ascii_case(&c.name)) {
            Some(i) => Ok(Some(i)),
            None if c.required => Err(layout(format!(
                "csv.{key} names the column '{}', which the header lacks (it has: {})",
                c.name,
                found()
            ))),
            None => Ok(None),
        }
    };
    let opt = |key: &str, c: &Option<Column>| match c {
        Some(c) => find(key, c),
        None => Ok(None),
    };
    let Some(plate) = find("plate", &map.plate)? else {
        return Err(layout(format!(
            "the header has no '{}' column (it has: {}); name the plate column with csv.plate in a source config",
            map.plate.name,
            found()
        )));
    };
    let at = Positions {
        plate,
        region: opt("region", &map.region)?,
        category: opt("category", &map.category)?,
        reference: opt("reference", &map.reference)?,
        entered: opt("entered", &map.entered)?,
        expires: opt("expires", &map.expires)?,
        priority: opt("priority", &map.priority)?,
        notes: opt("notes", &map.notes)?,
        source: opt("source", &map.source)?,
        year: opt("year", &map.year)?,
        make: opt("make", &map.make)?,
        model: opt("model", &map.model)?,
        color: opt("color", &map.color)?,
    };
    if at.category.is_none() && map.default_category.is_none() {
        return Err(layout(format!(
            "the header has no '{}' column (it has: {}); name the category column with csv.category, or give csv.default_category",
            map.category
                .as_ref()
                .map_or("category", |c| c.name.as_str()),
            found()
        )));
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                match e.kind() {
                    csv::ErrorKind::Io(_) => {
                        return Err(HotlistFileError::Read {
                            path: path.to_path_buf(),
                            source: e,
                        });
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        tally.report.rows += 1;
                        tally.bad(
                            line,
                            "columns",
                            format!("{len} fields where the header has {expected_len}"),
                        );
                    }
                    csv::ErrorKind::Utf8 { .. } => {
                        tally.report.rows += 1;
                        tally.bad(line, "encoding", "not UTF-8".into());
                    }
                    _ => {
                        tally.report.rows += 1;
                        tally.bad(line, "row", e.to_string());
                    }
                }
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        tally.report.rows += 1;
        if tally.report.rows.is_multiple_of(PROGRESS_ROWS) {
            progress(record.position().map_or(0, |p| p.byte()));
        }
        if record.as_slice().len() > LINE_BYTES_MAX {
            tally.bad(line, "row", format!("longer than {LINE_BYTES_MAX} bytes"));
            continue;
        }
        if !map.allow_multiline
            && let Some((i, _)) = record
                .iter()
                .enumerate()
                .find(|(_, f)| f.contains(['\n', '\r']))
        {
            let name = header.get(i).unwrap_or("a field").to_string();
            tally.bad(
                line,
                "quoting",
                format!(
                    "the {name} field runs over several lines (a stray quote?); fix the file, or set csv.allow_multiline if such fields are meant"
                ),
            );
            continue;
        }
        if let Err((field, reason)) = row(tally, map, &at, &record, line) {
            tally.bad(line, field, reason);
        }
    }
    progress(reader.position().byte());
    Ok(())
}

/// One data row through the mapping; a bad field is returned by name.
fn row(
    tally: &mut Tally<'_>,
    map: &CsvMapping,
    at: &Positions,
    record: &csv::StringRecord,
    line: u64,
) -> Result<(), (&'static str, String)> {
    let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
    let category_text = get(at.category);
    let rule = match (category_text, map.default_category) {
        ("", Some(c)) => super::CodeRule::for_category(c),
        ("", None) => return Err(("category", "empty".into())),
        (text, _) => tally.source.csv_rule(text).ok_or_else(|| {
            (
                "category",
                format!("'{text}' is not a category or a code this source names under [codes]"),
            )
        })?,
    };
    if !rule.import {
        tally.report.skipped_code += 1;
        return Ok(());
    }
    let priority = match get(at.priority) {
        "" => rule.priority,
        t => Priority::parse(t)
            .ok_or_else(|| ("priority", format!("'{t}' is not high, normal or low")))?,
    };
    let entered = date(map, get(at.entered), false).map_err(|r| ("entered", r))?;
    let expires = date(map, get(at.expires), true).map_err(|r| ("expires", r))?;
    let year = match get(at.year) {
        "" => None,
        t => Some(
            t.parse::<u16>()
                .ok()
                .filter(|y| (1900..=2100).contains(y))
                .ok_or_else(|| ("year", format!("'{t}' is not a year")))?,
        ),
    };
    let source = match get(at.source) {
        "" => tally.source.name.clone(),
        s => s.to_string(),
    };
    let detail = Detail {
        priority,
        vehicle: Vehicle {
            year,
            make: get(at.make).to_string(),
            model: get(at.model).to_string(),
            color: get(at.color).to_string(),
        },
        entered,
        expires,
        covert: rule.covert,
        notes: get(at.notes).to_string(),
        source,
    };
    let reference = get(at.reference).to_string();
    let r = Row {
        line,
        rule,
        plate: get(Some(at.plate)),
        region: get(at.region),
        region_field: "region",
    };
    tally.offer(r, |plate, region| Entry {
        plate,
        region,
        category: rule.category,
        reference,
        detail,
    });
    Ok(())
}

/// A date or time in one of the source's layouts; an empty field is none.
/// `end`: a bare date means the end of that day (an expiry in force
/// through it), else its start.
fn date(map: &CsvMapping, text: &str, end: bool) -> Result<Option<Timestamp>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Some(Timestamp(t.as_millisecond())));
    }
    for fmt in &map.date_formats {
        let Ok(tm) = jiff::fmt::strtime::parse(fmt, text) else {
            continue;
        };
        if let Ok(t) = tm.to_timestamp() {
            return Ok(Some(Timestamp(t.as_millisecond())));
        }
        // A time of day without a zone: UTC, as the extract carries none.
        if tm.hour().is_some()
            && let Ok(dt) = tm.to_datetime()
            && let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC)
        {
            return Ok(Some(Timestamp(z.timestamp().as_millisecond())));
        }
        if let Ok(d) = tm.to_date() {
            let start = super::ncic::midnight_utc(d);
            return Ok(Some(if end {
                Timestamp(start.0 + 86_400_000)
            } else {
                start
            }));
        }
    }
    Err(format!(
        "'{text}' is not a date in any of the source's formats ({})",
        map.date_formats.join(", ")
    ))
}
