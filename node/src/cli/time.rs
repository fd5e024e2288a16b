//! Times as people type them and as tables show them.

use std::sync::OnceLock;

use alpr_protocol::Timestamp;
use anyhow::{Result, anyhow};

pub fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

/// Whether times print in this machine's zone (`--local-time`) instead of UTC.
static LOCAL: OnceLock<bool> = OnceLock::new();

pub fn show_local_times(local: bool) {
    let _ = LOCAL.set(local);
}

/// A time as tables show it, to the millisecond and fixed-width so columns
/// line up: UTC (`2026-12-01T22:46:05.220Z`, 24 characters), or with
/// `--local-time` this machine's zone with its offset
/// (`2026-12-01 14:46:05.220 -08:00`, 30 characters).
pub fn format_time(t: Timestamp) -> String {
    let local = LOCAL.get().copied().unwrap_or(false);
    format_time_in(t, local.then(jiff::tz::TimeZone::system).as_ref())
}

pub fn format_time_in(t: Timestamp, zone: Option<&jiff::tz::TimeZone>) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(t.0) else {
        return t.to_string();
    };
    match zone {
        None => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Some(zone) => ts
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S%.3f %:z")
            .to_string(),
    }
}

/// A time as typed on the command line, resolved both ways once: a bare
/// date means its first millisecond for `--from` and its last for `--to`.
#[derive(Debug, Clone, Copy)]
pub struct When {
    start: Timestamp,
    end: Timestamp,
}

impl When {
    /// clap's value parser: a bad time is a usage error naming the flag;
    /// the text is read in this machine's zone.
    pub fn parse(text: &str) -> Result<When, String> {
        let zone = jiff::tz::TimeZone::system();
        let at = |end| parse_time_in(text, end, &zone).map_err(|e| e.to_string());
        Ok(When {
            start: at(false)?,
            end: at(true)?,
        })
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }
}

/// A time as a person types it, to the millisecond: RFC 3339 with an
/// offset (`2026-11-28T10:00:00Z`, `…-08:00`); a local date and time
/// without one (`2026-11-28T23:00`, `2026-11-28 23:00:30`), in this
/// machine's time zone (TZ); or a bare date, meaning its first (or, with
/// `end_of_day`, last) millisecond in that zone. Anything else, or a date
/// with something after it that is not a time, is refused: a time never
/// silently becomes midnight.
pub fn parse_time_in(text: &str, end_of_day: bool, zone: &jiff::tz::TimeZone) -> Result<Timestamp> {
    let text = text.trim();
    let refuse = || {
        anyhow!(
            "'{text}' is not a time: use 2026-11-28T10:00:00Z (or an offset such as -08:00), a local time 2026-11-28 10:00 (in this machine's time zone, {}), or a date 2026-11-28",
            zone.iana_name().unwrap_or("the system zone")
        )
    };
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Timestamp(t.as_millisecond()));
    }
    // A time zone annotation (`…T10:00[America/Los_Angeles]`) names the
    // zone: the time is read there, never in this machine's.
    if text.contains('[') {
        let zoned: jiff::Zoned = text.parse().map_err(|_| refuse())?;
        return Ok(Timestamp(zoned.timestamp().as_millisecond()));
    }
    // A date, extended (2026-11-28) or basic (20261128): a whole day.
    let is_date = (text.len() == 10 && !text.contains(['T', 't', ' ']))
        || (text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()));
    let ms = if is_date {
        let date: jiff::civil::Date = text.parse().map_err(|_| refuse())?;
        let start = date.to_zoned(zone.clone())?.timestamp().as_millisecond();
        if end_of_day {
            let next = date
                .tomorrow()
                .map_err(|_| refuse())?
                .to_zoned(zone.clone())?
                .timestamp()
                .as_millisecond();
            next - 1
        } else {
            start
        }
    } else {
        let local: jiff::civil::DateTime = text.parse().map_err(|_| refuse())?;
        local.to_zoned(zone.clone())?.timestamp().as_millisecond()
    };
    Ok(Timestamp(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_without_an_offset_is_local_and_never_midnight() {
        // A fixed UTC-8 zone (Pacific standard time), needing no tz database.
        let la = jiff::tz::TimeZone::fixed(jiff::tz::offset(-8));
        let utc = jiff::tz::TimeZone::UTC;
        let at = |t: &str, z: &jiff::tz::TimeZone| parse_time_in(t, false, z).unwrap();
        let z = |t: &str| Timestamp(t.parse::<jiff::Timestamp>().unwrap().as_millisecond());
        assert_eq!(at("2026-12-01T23:00:00", &utc), z("2026-12-01T23:00:00Z"));
        assert_eq!(at("2026-12-01 23:00", &utc), z("2026-12-01T23:00:00Z"));
        assert_eq!(at("2026-12-01T23:00:00", &la), z("2026-12-02T07:00:00Z"));
        assert_eq!(
            at("2026-12-01T23:00:00-05:00", &la),
            z("2026-12-02T04:00:00Z")
        );
        assert_eq!(at("2026-12-01", &la), z("2026-12-01T08:00:00Z"));
        assert_eq!(
            parse_time_in("2026-12-01", true, &la).unwrap(),
            Timestamp(z("2026-12-02T08:00:00Z").0 - 1)
        );
        // A basic-format date is a whole day, like an extended one.
        assert_eq!(at("20261201", &la), z("2026-12-01T08:00:00Z"));
        assert_eq!(
            parse_time_in("20261201", true, &la).unwrap(),
            Timestamp(z("2026-12-02T08:00:00Z").0 - 1)
        );
        // A zone annotation wins over the machine's zone.
        assert_eq!(
            at("2026-12-01T10:00[-05:00]", &la),
            z("2026-12-01T15:00:00Z")
        );
        for bad in [
            "2026-12-01T10:00[No/Such_Zone]",
            "2026-12-01 junk",
            "yesterday",
            "2026-13-01",
            "2026-12-01T25:00",
        ] {
            let err = parse_time_in(bad, false, &utc).unwrap_err().to_string();
            assert!(err.contains("is not a time"), "{bad}: {err}");
        }
    }

    #[test]
    fn times_print_fixed_width_in_utc_or_with_their_offset() {
        let la = jiff::tz::TimeZone::fixed(jiff::tz::offset(-8));
        let t = Timestamp(1_796_165_165_220);
        assert_eq!(format_time_in(t, None), "2026-12-01T22:46:05.220Z");
        assert_eq!(
            format_time_in(t, Some(&la)),
            "2026-12-01 14:46:05.220 -08:00"
        );
        assert_eq!(format_time_in(Timestamp(0), None).len(), 24);
        assert_eq!(format_time_in(Timestamp(0), Some(&la)).len(), 30);
    }
}
