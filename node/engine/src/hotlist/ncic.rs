//! NCIC's fixed-width hotlist extract, one record a line, the first line a
//! header. Columns are byte offsets (the layout OpenALPR's importer reads):
//!
//! ```text
//! 0     list code (V stolen vehicle, P stolen plate, W wanted, ...)
//! 0..10 NCIC number: the list code and 9 digits, as NCIC writes it (NIC/V123456789)
//! 10..19 ORI: the entering agency's 9-character identifier
//! 19..27 incident date, YYYYMMDD
//! 27..37 plate
//! 37..39 plate state
//! 39..43 tag (registration) year
//! 43..45 plate type
//! 45..49 vehicle year
//! 49..53 make (NCIC VMA code)
//! 53..56 model (NCIC VMO code)
//! 56..58 style (NCIC VST code)
//! 58..   color (NCIC VCO code, or two as RED/WHI)
//! ```
//!
//! `V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK` is
//! stolen vehicle V123456789 entered by ORI LA0570200 on 2019-05-09: plate
//! AB123456 of California, tag year 2009, a motorcycle plate, on a 2009
//! Yamaha motorcycle, black. The reference kept is the whole NCIC number
//! with its list letter: that is how the number is quoted back to NCIC
//! when a hit is confirmed, and the 9 digits alone are not unique across
//! files.
//!
//! Codes are decoded to words for the common makes, styles and colors;
//! a code the tables lack is kept as written, never dropped.

use std::borrow::Cow;

use alpr_protocol::Timestamp;
use alpr_protocol::hotlist::Vehicle;

/// Where each field starts and ends (byte columns, end exclusive).
mod col {
    pub const CODE: usize = 0;
    pub const NIC: (usize, usize) = (0, 10);
    pub const ORI: (usize, usize) = (10, 19);
    pub const INCIDENT_DATE: (usize, usize) = (19, 27);
    pub const PLATE: (usize, usize) = (27, 37);
    pub const STATE: (usize, usize) = (37, 39);
    pub const TAG_YEAR: (usize, usize) = (39, 43);
    pub const PLATE_TYPE: (usize, usize) = (43, 45);
    pub const VEHICLE_YEAR: (usize, usize) = (45, 49);
    pub const MAKE: (usize, usize) = (49, 53);
    pub const MODEL: (usize, usize) = (53, 56);
    pub const STYLE: (usize, usize) = (56, 58);
    pub const COLOR: usize = 58;
}

/// Shortest line that reaches the plate field.
pub const LINE_LEN_MIN: usize = col::PLATE.0 + 1;

/// One record of an extract, its fields as written (trimmed, borrowed
/// from the line) or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub code: char,
    /// The NCIC number, list letter included.
    pub nic: &'a str,
    pub ori: &'a str,
    pub entered: Option<Timestamp>,
    /// The plate as written (spaces kept; may be empty for a person record).
    pub plate: &'a str,
    /// The plate's state, a zero read as the letter O (`0H` is Ohio).
    pub state: Cow<'a, str>,
    pub tag_year: &'a str,
    pub plate_type: &'a str,
    pub vehicle: Vehicle,
}

/// What is wrong with a line, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

fn bad(field: &'static str, reason: String) -> FieldError {
    FieldError { field, reason }
}

/// A field's text, trimmed; empty when the line ends before it.
fn field(line: &[u8], (from, to): (usize, usize)) -> &str {
    let end = to.min(line.len());
    if from >= end {
        return "";
    }
    // The caller checked the line is ASCII, so any range is UTF-8.
    std::str::from_utf8(&line[from..end]).unwrap_or("").trim()
}

/// The list code of a line (column 0), checked before the rest so a
/// record of a code not imported is dropped whatever else it holds.
pub fn code(line: &[u8]) -> Result<char, FieldError> {
    match line.get(col::CODE) {
        Some(&b) if b.is_ascii_alphabetic() => Ok(char::from(b.to_ascii_uppercase())),
        Some(&b) => Err(bad(
            "list code",
            format!("'{}' is not a letter", char::from(b).escape_default()),
        )),
        None => Err(bad("list code", "the line is empty".into())),
    }
}

/// Parses one record (without its line ending). Total: any bytes give a
/// record or a field error, never a panic.
pub fn parse(line: &[u8]) -> Result<Record<'_>, FieldError> {
    if let Some(at) = line.iter().position(|b| !b.is_ascii()) {
        return Err(bad(
            "encoding",
            format!("byte {} is not ASCII (an NCIC extract is ASCII)", at + 1),
        ));
    }
    let code = code(line)?;
    if line.len() < LINE_LEN_MIN {
        return Err(bad(
            "record",
            format!(
                "{} characters, too short for an NCIC record (the plate starts at column {})",
                line.len(),
                col::PLATE.0
            ),
        ));
    }
    let date_text = field(line, col::INCIDENT_DATE);
    let entered = if date_text.is_empty() {
        None
    } else {
        Some(
            yyyymmdd(date_text)
                .ok_or_else(|| bad("incident date", format!("'{date_text}' is not YYYYMMDD")))?,
        )
    };
    let year_text = field(line, col::VEHICLE_YEAR);
    let year = match year_text {
        "" | "0000" => None,
        t => Some(
            t.parse::<u16>()
                .ok()
                .filter(|y| t.len() == 4 && (1900..=2100).contains(y))
                .ok_or_else(|| bad("vehicle year", format!("'{t}' is not a year")))?,
        ),
    };
    let color_text = std::str::from_utf8(line.get(col::COLOR..).unwrap_or(&[]))
        .unwrap_or("")
        .trim();
    let vehicle = Vehicle {
        year,
        make: make(field(line, col::MAKE)),
        model: model(field(line, col::MODEL), field(line, col::STYLE)),
        color: color(color_text),
    };
    let state = field(line, col::STATE);
    Ok(Record {
        code,
        nic: field(line, col::NIC),
        ori: field(line, col::ORI),
        entered,
        plate: field(line, col::PLATE),
        state: if state.contains('0') {
            Cow::Owned(state.replace('0', "O"))
        } else {
            Cow::Borrowed(state)
        },
        tag_year: field(line, col::TAG_YEAR),
        plate_type: field(line, col::PLATE_TYPE),
        vehicle,
    })
}

/// A YYYYMMDD date, as midnight UTC of that day.
pub fn yyyymmdd(text: &str) -> Option<Timestamp> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i16 = text[..4].parse().ok()?;
    let m: i8 = text[4..6].parse().ok()?;
    let d: i8 = text[6..].parse().ok()?;
    let date = jiff::civil::Date::new(y, m, d).ok()?;
    Some(midnight_utc(date))
}

/// The first millisecond of a day, in UTC (extracts carry no zone).
pub fn midnight_utc(date: jiff::civil::Date) -> Timestamp {
    // Days since 1970-01-01 by the proleptic Gregorian calendar (Howard
    // Hinnant's days_from_civil): a million records each carry a date, and
    // this is a few integer operations where a calendar span is not.
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Timestamp(days * 86_400_000)
}

/// NCIC vehicle make codes (VMA) of the common makes.
const MAKES: &[(&str, &str)] = &[
    ("ACUR", "Acura"),
    ("AUDI", "Audi"),
    ("BMW", "BMW"),
    ("BUIC", "Buick"),
    ("CADI", "Cadillac"),
    ("CHEV", "Chevrolet"),
    ("CHRY", "Chrysler"),
    ("DODG", "Dodge"),
    ("FIAT", "Fiat"),
    ("FORD", "Ford"),
    ("FRHT", "Freightliner"),
    ("GMC", "GMC"),
    ("HD", "Harley-Davidson"),
    ("HOND", "Honda"),
    ("HUMM", "Hummer"),
    ("HYUN", "Hyundai"),
    ("INFI", "Infiniti"),
    ("INTL", "International"),
    ("ISU", "Isuzu"),
    ("JAGU", "Jaguar"),
    ("JEEP", "Jeep"),
    ("KAWK", "Kawasaki"),
    ("KIA", "Kia"),
    ("KW", "Kenworth"),
    ("LEXS", "Lexus"),
    ("LINC", "Lincoln"),
    ("LNDR", "Land Rover"),
    ("MACK", "Mack"),
    ("MAZD", "Mazda"),
    ("MERC", "Mercury"),
    ("MERZ", "Mercedes-Benz"),
    ("MINI", "Mini"),
    ("MITS", "Mitsubishi"),
    ("NISS", "Nissan"),
    ("OLDS", "Oldsmobile"),
    ("PLYM", "Plymouth"),
    ("PONT", "Pontiac"),
    ("PORS", "Porsche"),
    ("PTRB", "Peterbilt"),
    ("RAM", "Ram"),
    ("SATR", "Saturn"),
    ("SCIO", "Scion"),
    ("SUBA", "Subaru"),
    ("SUZI", "Suzuki"),
    ("TESL", "Tesla"),
    ("TOYT", "Toyota"),
    ("VOLK", "Volkswagen"),
    ("VOLV", "Volvo"),
    ("YAMA", "Yamaha"),
];

/// NCIC vehicle style codes (VST) of the common body styles.
const STYLES: &[(&str, &str)] = &[
    ("2D", "sedan 2-door"),
    ("4D", "sedan 4-door"),
    ("CP", "coupe"),
    ("CV", "convertible"),
    ("HB", "hatchback"),
    ("LM", "limousine"),
    ("MC", "motorcycle"),
    ("MP", "moped"),
    ("MH", "motor home"),
    ("PK", "pickup"),
    ("SW", "station wagon"),
    ("TL", "trailer"),
    ("TR", "truck"),
    ("UT", "utility"),
    ("VN", "van"),
];

/// Model codes that say only the kind of vehicle, which the style says
/// better (`CYL` is NCIC's model for a motorcycle of no recorded model).
const GENERIC_MODELS: &[&str] = &["CYL", "UNK", "TRL"];

/// NCIC vehicle color codes (VCO).
const COLORS: &[(&str, &str)] = &[
    ("BGE", "beige"),
    ("BLK", "black"),
    ("BLU", "blue"),
    ("BRO", "brown"),
    ("BRZ", "bronze"),
    ("CAM", "camouflage"),
    ("COM", "chrome"),
    ("CPR", "copper"),
    ("CRM", "cream"),
    ("DBL", "dark blue"),
    ("DGR", "dark green"),
    ("GLD", "gold"),
    ("GRN", "green"),
    ("GRY", "gray"),
    ("LAV", "lavender"),
    ("LBL", "light blue"),
    ("LGR", "light green"),
    ("MAR", "maroon"),
    ("MUL", "multicolored"),
    ("ONG", "orange"),
    ("PLE", "purple"),
    ("PNK", "pink"),
    ("RED", "red"),
    ("SIL", "silver"),
    ("TAN", "tan"),
    ("TEA", "teal"),
    ("TRQ", "turquoise"),
    ("WHI", "white"),
    ("YEL", "yellow"),
];

fn lookup(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, word)| *word)
}

/// A make code in words (`YAMA` → `Yamaha`); an unknown code as written.
pub fn make(code: &str) -> String {
    lookup(MAKES, code).map_or_else(|| code.to_string(), str::to_string)
}

/// A style code in words (`MC` → `motorcycle`); an unknown code as written.
pub fn style(code: &str) -> String {
    lookup(STYLES, code).map_or_else(|| code.to_string(), str::to_string)
}

/// Model and style as one description: the model code as written (model
/// codes are per make, too many to table) and the style in words; a
/// generic model code gives way to the style (`CYL` + `MC` → `motorcycle`).
pub fn model(model: &str, style_code: &str) -> String {
    let style = style(style_code);
    let generic = GENERIC_MODELS.iter().any(|g| g.eq_ignore_ascii_case(model));
    match (model, style.as_str()) {
        ("", s) => s.to_string(),
        (m, "") => m.to_string(),
        (_, s) if generic => s.to_string(),
        (m, s) => format!("{m} {s}"),
    }
}

/// A color code, or two as `RED/WHI`, in words (`red/white`; one color
/// twice is one); unknown codes as written.
pub fn color(text: &str) -> String {
    let word = |c: &str| lookup(COLORS, c).map_or_else(|| c.to_string(), str::to_string);
    match text.split_once('/') {
        Some((a, b)) if a.eq_ignore_ascii_case(b) => word(a.trim()),
        Some((a, b)) => format!("{}/{}", word(a.trim()), word(b.trim())),
        None => word(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_and_unknown_ones_stay() {
        assert_eq!(make("TOYT"), "Toyota");
        assert_eq!(make("ZZZZ"), "ZZZZ");
        assert_eq!(model("CYL", "MC"), "motorcycle");
        assert_eq!(model("CIV", "4D"), "CIV sedan 4-door");
        assert_eq!(model("", "QQ"), "QQ");
        assert_eq!(color("RED/WHI"), "red/white");
        assert_eq!(color("BLK/BLK"), "black");
        assert_eq!(color("XYZ"), "XYZ");
        assert_eq!(color(""), "");
    }

    #[test]
    fn dates_are_checked_days() {
        let t = yyyymmdd("20190509").unwrap();
        assert_eq!(
            jiff::Timestamp::from_millisecond(t.0).unwrap().to_string(),
            "2019-05-09T00:00:00Z"
        );
        assert_eq!(yyyymmdd("20190231"), None);
        assert_eq!(yyyymmdd("2019X509"), None);
        assert_eq!(yyyymmdd("+0190509"), None);
        // The day count agrees with the calendar's across eras and leap days.
        for (y, m, d) in [
            (1970, 1, 1),
            (1600, 2, 29),
            (2000, 3, 1),
            (2026, 12, 31),
            (1, 1, 1),
        ] {
            let date = jiff::civil::date(y, m, d);
            let z = date.to_zoned(jiff::tz::TimeZone::UTC).unwrap();
            assert_eq!(
                midnight_utc(date).0,
                z.timestamp().as_millisecond(),
                "{date}"
            );
        }
    }
}
