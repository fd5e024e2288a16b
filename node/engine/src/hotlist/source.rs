//! A hotlist source's configuration: one TOML file per feed a department
//! receives (a state's NCIC extract, a vendor's CSV), saying which records
//! to take and what they mean here.
//!
//! ```toml
//! [source]
//! name = "CA DOJ"               # recorded as each entry's source
//! format = "ncic"               # or "csv"
//! states = ["CA", "NV"]         # import only plates of these states
//! skip_plates = ["190", "TEMP"] # beside the built-in list
//!
//! [codes.V]                     # an NCIC list code, or a CSV category value
//! category = "stolen-vehicle"
//! priority = "high"
//! [codes.X]
//! import = false                # drop sex-offender records
//!
//! [csv]                         # the columns of a CSV source, by header name
//! delimiter = ";"
//! plate = "Plate"
//! region = "State"
//! category = "Reason"
//! date_formats = ["%m/%d/%Y"]
//! ```
//!
//! Every key is known or the file is refused by name (`deny_unknown_fields`),
//! and a bad value is refused where it stands: a typo in a config must not
//! quietly import nothing, or everything.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use alpr_protocol::PlateText;
use alpr_protocol::hotlist::{CATEGORIES, Category, Priority, SOURCE_LEN_MAX};
use serde::Deserialize;

use super::HotlistFileError;

/// Largest source config read.
const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

/// Plates that are not plates, as extracts write them (placeholders,
/// zeros, "no tag"): each would raise a hit on every misread of a blank or
/// dirty plate. Skipped unless a source sets `default_skip_plates = false`.
pub const DEFAULT_SKIP_PLATES: &[&str] = &[
    "0", "00", "000", "0000", "00000", "000000", "0000000", "1", "11", "111", "1111", "X", "XX",
    "XXX", "XXXX", "XXXXX", "XXXXXX", "XXXXXXX", "A", "NA", "NONE", "NOPLATE", "NOPLATES", "NOTAG",
    "NOTAGS", "NOTAVAIL", "UNK", "UNKN", "UNKNOWN", "TAG", "TEMP", "TEMPTAG", "PAPER", "PAPERTAG",
    "DEALER", "DLR", "NOVIN", "BLANK", "MISSING", "STOLEN", "SAME",
];

/// The layout of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// NCIC's fixed-width extract (see `ncic`).
    Ncic,
    /// CSV with a header row, columns named by `[csv]`.
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Ncic => "ncic",
            Format::Csv => "csv",
        }
    }
}

/// What records of one list code (or CSV category value) become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRule {
    pub category: Category,
    pub priority: Priority,
    /// False: records of this code are counted and dropped.
    pub import: bool,
    /// Hits are shown only to roles that may see covert entries.
    pub covert: bool,
}

impl CodeRule {
    /// A category's rule when a source says nothing of it: lists whose hit
    /// leads to a stop on confirmation are high; informational ones
    /// (supervised release, registered offenders) low.
    pub fn for_category(category: Category) -> CodeRule {
        let priority = match category {
            Category::StolenVehicle
            | Category::StolenPlate
            | Category::WantedPerson
            | Category::MissingPerson
            | Category::Amber
            | Category::Felony
            | Category::ViolentPerson
            | Category::StolenCanadianVehicle
            | Category::GangOrTerrorist => Priority::High,
            Category::Bolo
            | Category::Other
            | Category::ProtectionOrder
            | Category::ProtectiveInterest => Priority::Normal,
            Category::SupervisedRelease | Category::SexOffender => Priority::Low,
        };
        CodeRule {
            category,
            priority,
            import: true,
            covert: false,
        }
    }
}

/// NCIC's list codes (column 0 of an extract) and the category each is.
pub const NCIC_CODES: [(char, Category); 13] = [
    ('A', Category::Amber),
    ('F', Category::Felony),
    ('W', Category::WantedPerson),
    ('V', Category::StolenVehicle),
    ('P', Category::StolenPlate),
    ('M', Category::MissingPerson),
    ('C', Category::SupervisedRelease),
    ('H', Category::ProtectionOrder),
    ('K', Category::ProtectiveInterest),
    ('L', Category::ViolentPerson),
    ('R', Category::StolenCanadianVehicle),
    ('T', Category::GangOrTerrorist),
    ('X', Category::SexOffender),
];

/// One CSV column a source reads, by its header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Named by the source config: the header must have it. The default
    /// mapping's columns are read when present.
    pub required: bool,
}

impl Column {
    fn default(name: &str) -> Option<Column> {
        Some(Column {
            name: name.to_string(),
            required: false,
        })
    }
}

/// How a CSV source's columns map to entry fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvMapping {
    pub delimiter: u8,
    pub quote: u8,
    /// Quoted fields may span lines (refused by default: a stray quote
    /// would swallow the rows after it).
    pub allow_multiline: bool,
    pub plate: Column,
    pub region: Option<Column>,
    pub category: Option<Column>,
    /// The category of rows without a category column (or with it empty).
    pub default_category: Option<Category>,
    pub reference: Option<Column>,
    pub entered: Option<Column>,
    pub expires: Option<Column>,
    pub priority: Option<Column>,
    pub notes: Option<Column>,
    pub source: Option<Column>,
    pub year: Option<Column>,
    pub make: Option<Column>,
    pub model: Option<Column>,
    pub color: Option<Column>,
    /// strftime formats tried in order for date columns (after RFC 3339).
    pub date_formats: Vec<String>,
}

/// Date layouts tried when a source names none: ISO, basic, US.
pub const DEFAULT_DATE_FORMATS: [&str; 5] = [
    "%Y-%m-%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
];

impl Default for CsvMapping {
    /// The columns `hotlist publish` reads, and the detail columns by
    /// their field names, each read when the header has it.
    fn default() -> CsvMapping {
        CsvMapping {
            delimiter: b',',
            quote: b'"',
            allow_multiline: false,
            plate: Column {
                name: "plate".into(),
                required: true,
            },
            region: Column::default("region"),
            category: Column::default("category"),
            default_category: None,
            reference: Column::default("reference"),
            entered: Column::default("entered"),
            expires: Column::default("expires"),
            priority: Column::default("priority"),
            notes: Column::default("notes"),
            source: Column::default("source"),
            year: Column::default("year"),
            make: Column::default("make"),
            model: Column::default("model"),
            color: Column::default("color"),
            date_formats: DEFAULT_DATE_FORMATS.iter().map(|f| f.to_string()).collect(),
        }
    }
}

/// A source, resolved: what an import reads and keeps.
#[derive(Debug, Clone)]
pub struct Source {
    /// Recorded in each entry's `source` (with the list code for NCIC).
    pub name: String,
    /// The format the config names, if it names one.
    pub format: Option<Format>,
    /// Regions imported (upper case); empty imports every region. A
    /// record without a region is kept: the filter drops other states'
    /// plates, not records that do not say.
    pub states: BTreeSet<String>,
    /// Plates never imported (normalized).
    pub skip_plates: HashSet<String>,
    /// The first line of an NCIC extract is a header.
    pub header: bool,
    /// Rules by list code or category value (upper case).
    pub codes: BTreeMap<String, CodeRule>,
    pub csv: CsvMapping,
}

impl Default for Source {
    /// A source with no config: NCIC's codes and the default CSV columns.
    fn default() -> Source {
        Source {
            name: "NCIC".into(),
            format: None,
            states: BTreeSet::new(),
            skip_plates: DEFAULT_SKIP_PLATES.iter().map(|p| p.to_string()).collect(),
            header: true,
            codes: BTreeMap::new(),
            csv: CsvMapping::default(),
        }
    }
}

impl Source {
    /// The rule for an NCIC list code: the config's, else NCIC's meaning
    /// with its default priority; None for a code neither knows.
    pub fn ncic_rule(&self, code: char) -> Option<CodeRule> {
        let mut buf = [0u8; 4];
        if let Some(rule) = self.codes.get(&*code.encode_utf8(&mut buf)) {
            return Some(*rule);
        }
        NCIC_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, category)| CodeRule::for_category(*category))
    }

    /// The rule for a CSV category value: a code the config names, else a
    /// category's own name with its default priority.
    pub fn csv_rule(&self, value: &str) -> Option<CodeRule> {
        let key = value.trim().to_ascii_uppercase();
        if let Some(rule) = self.codes.get(&key) {
            return Some(*rule);
        }
        Category::parse(value).map(CodeRule::for_category)
    }

    /// Reads a source config file.
    pub fn load(path: &Path) -> Result<Source, HotlistFileError> {
        let bad = |reason: String| HotlistFileError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|source| HotlistFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if !meta.is_file() || meta.len() > CONFIG_BYTES_MAX {
            return Err(bad(format!(
                "not a regular file of at most {CONFIG_BYTES_MAX} bytes"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|source| HotlistFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Source::parse(&text).map_err(bad)
    }

    /// Parses a source config's text; the error names the key (and, from
    /// the TOML parser, the line).
    pub fn parse(text: &str) -> Result<Source, String> {
        let file: SourceFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let s = file.source;
        let name = s.name.trim().to_string();
        // Room for " V" after the name in each entry's source.
        let name_max = SOURCE_LEN_MAX - 2;
        if name.is_empty() || name.chars().count() > name_max || name.chars().any(char::is_control)
        {
            return Err(format!(
                "source.name: '{name}' must be 1 to {name_max} characters without control characters"
            ));
        }
        let mut states = BTreeSet::new();
        for st in &s.states {
            let st = st.trim().to_ascii_uppercase();
            if st.is_empty()
                || st.len() > alpr_protocol::hotlist::REGION_LEN_MAX
                || !st.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(format!(
                    "source.states: '{st}' is not a state or country code"
                ));
            }
            states.insert(st);
        }
        let mut skip_plates: HashSet<String> = if s.default_skip_plates {
            DEFAULT_SKIP_PLATES.iter().map(|p| p.to_string()).collect()
        } else {
            HashSet::new()
        };
        for p in &s.skip_plates {
            let plate = PlateText::parse(p).map_err(|e| format!("source.skip_plates: {e}"))?;
            skip_plates.insert(plate.as_str().to_string());
        }
        let format = s.format;
        let mut codes = BTreeMap::new();
        for (key, c) in file.codes {
            let code = key.trim().to_ascii_uppercase();
            if code.is_empty() || code.chars().count() > 64 {
                return Err(format!("codes.{key}: a code is 1 to 64 characters"));
            }
            if format == Some(Format::Ncic)
                && (code.chars().count() != 1 || !code.chars().all(|c| c.is_ascii_alphabetic()))
            {
                return Err(format!(
                    "codes.{key}: an NCIC list code is one letter (column 0 of the extract)"
                ));
            }
            // What the code means without the config: NCIC's meaning for
            // an NCIC letter, a category's own name for a CSV value.
            let known = match format {
                Some(Format::Ncic) => NCIC_CODES
                    .iter()
                    .find(|(l, _)| code.starts_with(*l))
                    .map(|(_, cat)| *cat),
                _ => Category::parse(&code).or_else(|| {
                    NCIC_CODES
                        .iter()
                        .find(|(l, _)| code.len() == 1 && code.starts_with(*l))
                        .map(|(_, cat)| *cat)
                }),
            };
            let category = match (c.category, known) {
                (Some(CategoryName(cat)), _) | (None, Some(cat)) => cat,
                // A code only dropped needs no meaning.
                (None, None) if c.import == Some(false) => Category::Other,
                (None, None) => {
                    return Err(format!(
                        "codes.{key}: no category (a code this build does not know needs one)"
                    ));
                }
            };
            let base = CodeRule::for_category(category);
            codes.insert(
                code,
                CodeRule {
                    category,
                    priority: c.priority.map_or(base.priority, |PriorityName(p)| p),
                    import: c.import.unwrap_or(true),
                    covert: c.covert.unwrap_or(false),
                },
            );
        }
        if format == Some(Format::Ncic) && file.csv.is_some() {
            return Err("csv: a [csv] section in a source of format \"ncic\"".into());
        }
        let csv = match file.csv {
            None => CsvMapping::default(),
            Some(c) => c.resolve()?,
        };
        Ok(Source {
            name,
            format,
            states,
            skip_plates,
            header: s.header.unwrap_or(true),
            codes,
            csv,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    source: SourceSection,
    #[serde(default)]
    codes: BTreeMap<String, CodeFile>,
    csv: Option<CsvFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSection {
    name: String,
    format: Option<Format>,
    #[serde(default)]
    states: Vec<String>,
    #[serde(default)]
    skip_plates: Vec<String>,
    #[serde(default = "yes")]
    default_skip_plates: bool,
    /// NCIC: whether the first line is a header (the default).
    header: Option<bool>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeFile {
    category: Option<CategoryName>,
    priority: Option<PriorityName>,
    import: Option<bool>,
    covert: Option<bool>,
}

/// A category as a config writes it; refused in place when unknown.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
struct CategoryName(Category);

impl TryFrom<String> for CategoryName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Category::parse(&text).map(CategoryName).ok_or_else(|| {
            let names: Vec<&str> = CATEGORIES.iter().map(|c| c.name()).collect();
            format!("category '{text}' is not one of {}", names.join(", "))
        })
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
struct PriorityName(Priority);

impl TryFrom<String> for PriorityName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.trim() {
            "" => Err("priority '' is not high, normal or low".into()),
            t => Priority::parse(t)
                .map(PriorityName)
                .ok_or_else(|| format!("priority '{text}' is not high, normal or low")),
        }
    }
}

/// One ASCII character (a delimiter, a quote).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
struct AsciiChar(u8);

impl TryFrom<String> for AsciiChar {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.as_bytes() {
            [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Ok(AsciiChar(*b)),
            _ => Err(format!(
                "'{}' is not one ASCII character (a delimiter or quote)",
                text.escape_default()
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvFile {
    delimiter: Option<AsciiChar>,
    quote: Option<AsciiChar>,
    allow_multiline: Option<bool>,
    plate: Option<String>,
    region: Option<String>,
    category: Option<String>,
    default_category: Option<CategoryName>,
    reference: Option<String>,
    entered: Option<String>,
    expires: Option<String>,
    priority: Option<String>,
    notes: Option<String>,
    source: Option<String>,
    year: Option<String>,
    make: Option<String>,
    model: Option<String>,
    color: Option<String>,
    date_formats: Option<Vec<String>>,
}

impl CsvFile {
    /// A section that names columns reads exactly those: a column it does
    /// not name is not read, so a vendor's "Notes" never lands by accident.
    fn resolve(self) -> Result<CsvMapping, String> {
        let named = |key: &str, v: Option<String>| -> Result<Option<Column>, String> {
            match v {
                None => Ok(None),
                Some(name) if name.trim().is_empty() => {
                    Err(format!("csv.{key}: a column name is not empty"))
                }
                Some(name) => Ok(Some(Column {
                    name: name.trim().to_string(),
                    required: true,
                })),
            }
        };
        let plate = named("plate", self.plate)?.unwrap_or(Column {
            name: "plate".into(),
            required: true,
        });
        let date_formats = match self.date_formats {
            None => DEFAULT_DATE_FORMATS.iter().map(|f| f.to_string()).collect(),
            Some(f) if f.is_empty() => {
                return Err("csv.date_formats: give at least one format".into());
            }
            Some(f) => {
                for fmt in &f {
                    // A format must be able to say a date: a day and a month.
                    let ok = fmt.contains("%d") || fmt.contains("%e") || fmt.contains("%F");
                    if !ok {
                        return Err(format!(
                            "csv.date_formats: '{fmt}' has no day (%d); use strftime, e.g. %m/%d/%Y"
                        ));
                    }
                }
                f
            }
        };
        let mapping = CsvMapping {
            delimiter: self.delimiter.map_or(b',', |c| c.0),
            quote: self.quote.map_or(b'"', |c| c.0),
            allow_multiline: self.allow_multiline.unwrap_or(false),
            plate,
            region: named("region", self.region)?,
            category: named("category", self.category)?,
            default_category: self.default_category.map(|c| c.0),
            reference: named("reference", self.reference)?,
            entered: named("entered", self.entered)?,
            expires: named("expires", self.expires)?,
            priority: named("priority", self.priority)?,
            notes: named("notes", self.notes)?,
            source: named("source", self.source)?,
            year: named("year", self.year)?,
            make: named("make", self.make)?,
            model: named("model", self.model)?,
            color: named("color", self.color)?,
            date_formats,
        };
        if mapping.delimiter == mapping.quote {
            return Err("csv.quote: the quote is the delimiter".into());
        }
        if mapping.category.is_none() && mapping.default_category.is_none() {
            return Err(
                "csv: name a category column (csv.category) or give csv.default_category".into(),
            );
        }
        Ok(mapping)
    }
}
