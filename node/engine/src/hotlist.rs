//! Hotlist source files: the CSV extracts a station publishes from.
//!
//! Columns, with a header row: `plate,region,category,reference`. `region`
//! may be empty; `category` is one of stolen-vehicle, stolen-plate,
//! wanted-person, missing-person, amber, bolo, other. Any bad row stops the
//! import with its line and field; nothing is published from a bad file.
//!
//! A field may not span lines unless the caller allows it: one stray quote
//! in an extract otherwise swallows every row up to the next quote into one
//! reference, and a stolen car silently leaves the list.

use std::path::{Path, PathBuf};

use alpr_protocol::PlateText;
use alpr_protocol::hotlist::{Category, Entry, REFERENCE_LEN_MAX};

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
        });
    }
    Ok(Extract {
        rows: out.len() as u64,
        entries: out,
    })
}
