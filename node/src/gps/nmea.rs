//! NMEA 0183 from a serial receiver: sentences in, epochs out.
//!
//! A receiver sends a burst of sentences per epoch (u-blox: RMC, VTG, GGA,
//! GSA, GSV, GLL), each carrying part of the fix. This parser merges the
//! bursts' GGA (position, quality, satellites, HDOP), RMC (position,
//! validity, speed, course, date), VTG (speed, course) and GSA (2D or 3D,
//! HDOP) into one [`Report`] per epoch: the first sentence of an epoch is
//! an [`Update::New`], each further one an [`Update::Amend`], so a read
//! between the two sees the fix so far.
//!
//! The fields come from the `nmea` crate's parsers; the framing, the
//! checksum and the choice of sentences are checked here first, so a
//! well-formed sentence of a kind not read here (GSV, TXT, `$PUBX`) is
//! ignored rather than counted bad.

use chrono::{NaiveDate, NaiveTime};
use nmea::sentences::gsa::GsaMode2;
use nmea::sentences::{FaaMode, FixType};
use nmea::{ParseResult, sentences::RmcData};

use alpr_protocol::{FixQuality, Location, Timestamp};

use super::history::{Report, Sample, Update};
use super::{LineError, degrees};

/// NMEA 0183 caps a sentence at 82 characters; receivers exceed it (the
/// `nmea` crate takes up to 102, after gpsd), so framing allows 256 and
/// the sentence parser decides.
pub const NMEA_LINE_BYTES_MAX: usize = 256;

/// Metres of horizontal error per unit of HDOP: the user equivalent range
/// error of a consumer single-frequency receiver, about 5 m one sigma.
/// `accuracy_m` for an NMEA fix is HDOP × this.
pub const HDOP_UERE_M: f32 = 5.0;

/// The accuracy given a fix whose receiver sent no HDOP (RMC alone): a
/// consumer receiver's usual error in a street, stated rather than left 0,
/// which would read as exact.
pub const UNKNOWN_ACCURACY_M: f32 = 25.0;

/// Sentences of one epoch arrive within this long of its first one; a
/// repeat of the same UTC second later than this (a replayed log going
/// round again) is a new epoch.
pub const EPOCH_SPAN_MS: i64 = 2_000;

const KNOTS_TO_MPS: f32 = 1852.0 / 3600.0;

/// The merging NMEA parser. One per receiver stream.
#[derive(Debug, Default)]
pub struct NmeaParser {
    epoch: Option<Epoch>,
    /// The last date an RMC gave: GGA has a time of day only.
    date: Option<NaiveDate>,
}

/// What the sentences of one epoch said so far.
#[derive(Debug, Clone, Default)]
struct Epoch {
    received: i64,
    time_of_day: Option<NaiveTime>,
    date: Option<NaiveDate>,
    lat_lon: Option<(f64, f64)>,
    gga_quality: Option<FixType>,
    rmc: Option<RmcFix>,
    gsa_mode: Option<GsaMode2>,
    has_altitude: bool,
    gga_satellites: Option<u8>,
    /// PRNs listed by this epoch's GSAs (a multi-GNSS receiver sends one
    /// GSA per constellation).
    gsa_satellites: u32,
    hdop: Option<f32>,
    speed_mps: Option<f32>,
    heading_deg: Option<f32>,
}

#[derive(Debug, Clone, Copy)]
struct RmcFix {
    valid: bool,
    mode: Option<FaaMode>,
}

impl NmeaParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one line (without its newline) received at `received`.
    /// `Ok(None)`: a valid line that says nothing about the position.
    pub fn line(&mut self, line: &[u8], received: Timestamp) -> Result<Option<Update>, LineError> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Ok(None);
        }
        if line.len() > NMEA_LINE_BYTES_MAX {
            return Err(LineError::TooLong {
                max_bytes: NMEA_LINE_BYTES_MAX,
            });
        }
        let text = std::str::from_utf8(line)
            .ok()
            .filter(|t| t.is_ascii())
            .ok_or(LineError::NotText)?;
        if !frame(text)? {
            return Ok(None);
        }
        let parsed =
            nmea::parse_str(text).map_err(|e| LineError::Nmea(format!("{e}: {text:.40}")))?;
        Ok(self.apply(parsed, received.0))
    }

    fn apply(&mut self, parsed: ParseResult, received: i64) -> Option<Update> {
        let timed = match &parsed {
            ParseResult::GGA(g) => Some(g.fix_time),
            ParseResult::RMC(r) => Some(r.fix_time),
            _ => None,
        };
        let new = match (timed, &self.epoch) {
            // A timed sentence of the current epoch amends it; of another,
            // begins a new one.
            (Some(t), Some(e)) => {
                e.time_of_day != t || received.saturating_sub(e.received) > EPOCH_SPAN_MS
            }
            (Some(_), None) => true,
            // VTG and GSA carry no time: they belong to the burst they
            // arrive in, or to nothing.
            (None, Some(e)) => {
                if received.saturating_sub(e.received) > EPOCH_SPAN_MS {
                    return None;
                }
                false
            }
            (None, None) => return None,
        };
        if new {
            self.epoch = Some(Epoch {
                received,
                time_of_day: timed.flatten(),
                ..Epoch::default()
            });
        }
        let epoch = self.epoch.as_mut()?;
        match parsed {
            ParseResult::GGA(g) => {
                if let Some(ll) = lat_lon(g.latitude, g.longitude) {
                    epoch.lat_lon = Some(ll);
                }
                epoch.gga_quality = g.fix_type;
                epoch.gga_satellites = g.fix_satellites.map(|n| u8::try_from(n).unwrap_or(u8::MAX));
                epoch.hdop = hdop(g.hdop).or(epoch.hdop);
                epoch.has_altitude = g.altitude.is_some_and(f32::is_finite);
            }
            ParseResult::RMC(r) => {
                if let Some(ll) = lat_lon(r.lat, r.lon) {
                    // GGA's position wins where both came: it carries the
                    // quality the position is reported with.
                    epoch.lat_lon = epoch.lat_lon.or(Some(ll));
                }
                epoch.rmc = Some(rmc_fix(&r));
                epoch.speed_mps = speed(r.speed_over_ground).or(epoch.speed_mps);
                epoch.heading_deg = heading(r.true_course).or(epoch.heading_deg);
                if let Some(d) = r.fix_date {
                    epoch.date = Some(d);
                    self.date = Some(d);
                }
            }
            ParseResult::VTG(v) => {
                epoch.speed_mps = speed(v.speed_over_ground).or(epoch.speed_mps);
                epoch.heading_deg = heading(v.true_course).or(epoch.heading_deg);
            }
            ParseResult::GSA(g) => {
                epoch.gsa_mode = Some(g.mode2);
                epoch.gsa_satellites = epoch
                    .gsa_satellites
                    .saturating_add(u32::try_from(g.fix_sats_prn.len()).unwrap_or(u32::MAX));
                epoch.hdop = epoch.hdop.or(hdop(g.hdop));
            }
            _ => {}
        }
        let report = epoch.report(self.date);
        Some(if new {
            Update::New(report)
        } else {
            Update::Amend(report)
        })
    }
}

impl Epoch {
    fn report(&self, last_date: Option<NaiveDate>) -> Report {
        // A GGA just past midnight, before its epoch's RMC, takes
        // yesterday's date until the RMC amends it.
        let gps_time = self
            .time_of_day
            .zip(self.date.or(last_date))
            .map(|(t, d)| Timestamp(d.and_time(t).and_utc().timestamp_millis()));
        let sample = self
            .quality()
            .zip(self.lat_lon)
            .map(|(quality, (lat, lon))| {
                let accuracy_m = self
                    .hdop
                    .map_or(UNKNOWN_ACCURACY_M, |h| (h * HDOP_UERE_M).min(100_000.0));
                let satellites = self.gga_satellites.or_else(|| {
                    (self.gsa_satellites > 0)
                        .then(|| u8::try_from(self.gsa_satellites).unwrap_or(u8::MAX))
                });
                Sample {
                    location: Location {
                        lat,
                        lon,
                        accuracy_m,
                    },
                    quality,
                    satellites,
                    speed_mps: self.speed_mps,
                    heading_deg: self.heading_deg,
                }
            });
        Report {
            received: Timestamp(self.received),
            gps_time,
            sample,
        }
    }

    /// The fix quality, GGA's word first (it has the most kinds), then
    /// RMC's status and mode. `None`: no usable fix.
    fn quality(&self) -> Option<FixQuality> {
        let fix_type = match (self.gga_quality, self.rmc) {
            (Some(q), _) => q,
            (None, Some(RmcFix { valid: false, .. })) => FixType::Invalid,
            (None, Some(RmcFix { mode: Some(m), .. })) => FixType::from(m),
            (None, Some(RmcFix { mode: None, .. })) => FixType::Gps,
            (None, None) => return None,
        };
        match fix_type {
            // Manual and simulated positions are not the receiver's fix.
            FixType::Invalid | FixType::Manual | FixType::Simulation => None,
            FixType::Gps | FixType::Pps => Some(match self.gsa_mode {
                Some(GsaMode2::Fix2D) => FixQuality::TwoD,
                Some(GsaMode2::Fix3D) => FixQuality::ThreeD,
                // GGA gives an altitude with a 3D fix; RMC alone says
                // nothing of it.
                _ if self.has_altitude => FixQuality::ThreeD,
                _ => FixQuality::TwoD,
            }),
            FixType::DGps => Some(FixQuality::Differential),
            FixType::Rtk | FixType::FloatRtk => Some(FixQuality::Rtk),
            FixType::Estimated => Some(FixQuality::Estimated),
        }
    }
}

/// Checks a line's framing and checksum: `$`, a two-letter talker, the
/// sentence, `*`, two hex digits. `Ok(false)`: well formed, not one of the
/// sentences read here.
fn frame(text: &str) -> Result<bool, LineError> {
    let body = text.strip_prefix('$').ok_or(LineError::NotNmea)?;
    let (body, sum) = body.rsplit_once('*').ok_or(LineError::NotNmea)?;
    let found = (sum.len() == 2)
        .then(|| u8::from_str_radix(sum, 16).ok())
        .flatten()
        .ok_or(LineError::NotNmea)?;
    let computed = body.bytes().fold(0u8, |c, b| c ^ b);
    if found != computed {
        return Err(LineError::Checksum { found, computed });
    }
    // `$PUBX,…`, `$PGRMZ,…`: proprietary; a talker is two letters.
    Ok(!body.starts_with('P') && matches!(body.get(2..6), Some("GGA," | "RMC," | "VTG," | "GSA,")))
}

fn lat_lon(lat: Option<f64>, lon: Option<f64>) -> Option<(f64, f64)> {
    let (lat, lon) = lat.zip(lon)?;
    // The crate takes minutes as any float: keep what is a place.
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

fn rmc_fix(r: &RmcData) -> RmcFix {
    RmcFix {
        valid: !matches!(
            r.status_of_fix,
            nmea::sentences::rmc::RmcStatusOfFix::Invalid
        ),
        mode: r.faa_mode,
    }
}

fn speed(knots: Option<f32>) -> Option<f32> {
    // Above 1000 m/s is not a car; NaN and negatives are not speeds.
    knots
        .map(|k| k * KNOTS_TO_MPS)
        .filter(|v| (0.0..=1000.0).contains(v))
}

fn heading(deg: Option<f32>) -> Option<f32> {
    deg.filter(|d| (-360.0..=720.0).contains(d))
        .and_then(degrees)
}

fn hdop(h: Option<f32>) -> Option<f32> {
    h.filter(|h| h.is_finite() && *h >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_protocol::Fix;
    use proptest::prelude::*;

    /// One epoch of a SiRF receiver's 1 Hz log (a widely published sample,
    /// near Dublin, 2011-05-28): GGA, GSA, GSV, RMC.
    const SIRF_BURST: &[&str] = &[
        "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76",
        "$GPGSA,A,3,10,07,05,02,29,04,08,13,,,,,1.72,1.03,1.38*0A",
        "$GPGSV,3,1,11,10,63,137,17,07,61,098,15,05,59,290,20,08,54,157,30*70",
        "$GPRMC,092750.000,A,5321.6802,N,00630.3372,W,0.02,31.66,280511,,,A*43",
    ];

    /// Sentences from the u-blox M8 protocol description (not one epoch).
    const UBLOX_RMC: &str =
        "$GPRMC,083559.00,A,4717.11437,N,00833.91522,E,0.004,77.52,091202,,,A*57";
    const UBLOX_VTG: &str = "$GPVTG,77.52,T,,M,0.004,N,0.008,K,A*06";
    const UBLOX_GGA: &str =
        "$GPGGA,092725.00,4717.11399,N,00833.91590,E,1,08,1.01,499.6,M,48.0,M,,*5B";

    fn feed(p: &mut NmeaParser, line: &str, at: i64) -> Result<Option<Update>, LineError> {
        p.line(line.as_bytes(), Timestamp(at))
    }

    fn report(u: Option<Update>) -> Report {
        match u {
            Some(Update::New(r) | Update::Amend(r)) => r,
            None => panic!("no update"),
        }
    }

    #[test]
    fn a_burst_is_one_epoch_with_every_field() {
        let mut p = NmeaParser::new();
        let mut kinds = String::new();
        let mut last = None;
        for (i, line) in SIRF_BURST.iter().enumerate() {
            let u = feed(&mut p, line, 1_000 + 10 * i as i64).expect("valid line");
            kinds.push(match u {
                Some(Update::New(_)) => 'N',
                Some(Update::Amend(_)) => 'A',
                None => '-',
            });
            last = u.or(last);
        }
        // GGA opens the epoch; GSA and RMC amend it; GSV is read by nobody
        // here.
        assert_eq!(kinds, "NA-A");
        let r = report(last);
        assert_eq!(r.received, Timestamp(1_000));
        assert_eq!(
            r.gps_time.map(|t| t.to_string()),
            Some("2011-05-28T09:27:50Z".to_string())
        );
        let s = r.sample.expect("a fix");
        assert!((s.location.lat - (53.0 + 21.6802 / 60.0)).abs() < 1e-9);
        assert!((s.location.lon + (6.0 + 30.3372 / 60.0)).abs() < 1e-9);
        assert!((s.location.accuracy_m - 1.03 * HDOP_UERE_M).abs() < 1e-4);
        assert_eq!(s.quality, FixQuality::ThreeD);
        assert_eq!(s.satellites, Some(8));
        assert!((s.speed_mps.expect("speed") - 0.02 * KNOTS_TO_MPS).abs() < 1e-6);
        assert_eq!(s.heading_deg, Some(31.66));
    }

    #[test]
    fn ublox_rmc_then_vtg_then_a_later_gga() {
        let mut p = NmeaParser::new();
        let rmc = feed(&mut p, UBLOX_RMC, 0).expect("valid");
        let Some(Update::New(r)) = rmc else {
            panic!("{rmc:?}")
        };
        assert_eq!(
            r.gps_time.map(|t| t.to_string()),
            Some("2002-12-09T08:35:59Z".to_string())
        );
        let s = r.sample.expect("fix");
        // RMC alone: no altitude, no HDOP.
        assert_eq!(s.quality, FixQuality::TwoD);
        assert_eq!(s.location.accuracy_m, UNKNOWN_ACCURACY_M);
        assert_eq!(s.satellites, None);
        let vtg = feed(&mut p, UBLOX_VTG, 200).expect("valid");
        assert!(matches!(vtg, Some(Update::Amend(_))), "{vtg:?}");
        // Another second: a new epoch, dated by the RMC before it.
        let r = report(feed(&mut p, UBLOX_GGA, 300).expect("valid"));
        assert_eq!(
            r.gps_time.map(|t| t.to_string()),
            Some("2002-12-09T09:27:25Z".to_string())
        );
        let s = r.sample.expect("fix");
        assert_eq!((s.quality, s.satellites), (FixQuality::ThreeD, Some(8)));
        assert_eq!(s.speed_mps, None);
    }

    #[test]
    fn the_next_second_is_a_new_epoch_and_a_replayed_second_too() {
        let mut p = NmeaParser::new();
        let gga = "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76";
        assert!(matches!(feed(&mut p, gga, 0), Ok(Some(Update::New(_)))));
        let gga2 = "$GPGGA,092751.000,5321.6802,N,00630.3371,W,1,8,1.03,61.7,M,55.3,M,,*75";
        assert!(matches!(
            feed(&mut p, gga2, 1_000),
            Ok(Some(Update::New(_)))
        ));
        // The same UTC second again, far later: gpsfake going round.
        assert!(matches!(
            feed(&mut p, gga2, 60_000),
            Ok(Some(Update::New(_)))
        ));
    }

    #[test]
    fn gga_alone_gives_quality_satellites_and_accuracy_but_no_date() {
        let mut p = NmeaParser::new();
        let r = report(
            feed(
                &mut p,
                "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76",
                5,
            )
            .expect("valid"),
        );
        assert_eq!(r.gps_time, None);
        let s = r.sample.expect("fix");
        assert!((s.location.lat - 53.36133667).abs() < 1e-6);
        assert!((s.location.lon + 6.50562).abs() < 1e-6);
        assert_eq!(s.quality, FixQuality::ThreeD);
        assert_eq!((s.satellites, s.speed_mps), (Some(8), None));
    }

    #[test]
    fn gga_quality_codes_map_to_fix_quality() {
        let cases = [
            ('0', None),
            ('1', Some(FixQuality::ThreeD)),
            ('2', Some(FixQuality::Differential)),
            ('4', Some(FixQuality::Rtk)),
            ('5', Some(FixQuality::Rtk)),
            ('6', Some(FixQuality::Estimated)),
            ('7', None),
            ('8', None),
        ];
        for (code, want) in cases {
            let body = format!(
                "GPGGA,120000.00,4807.03800,N,01131.00000,E,{code},07,1.5,545.4,M,46.9,M,,"
            );
            let line = with_checksum(&body);
            let mut p = NmeaParser::new();
            let r = report(feed(&mut p, &line, 0).expect("valid"));
            assert_eq!(r.sample.map(|s| s.quality), want, "quality {code}");
        }
    }

    #[test]
    fn a_receiver_without_a_fix_says_so() {
        // u-blox before its first fix.
        let mut p = NmeaParser::new();
        let rmc = "$GPRMC,,V,,,,,,,,,,N*53";
        let r = report(feed(&mut p, rmc, 0).expect("valid"));
        assert_eq!(r.sample, None);
        let gga = "$GPGGA,,,,,,0,00,99.99,,,,,,*48";
        assert_eq!(report(feed(&mut p, gga, 100).expect("valid")).sample, None);
    }

    #[test]
    fn gsa_says_2d_and_rmc_differential_mode_counts() {
        let mut p = NmeaParser::new();
        let rmc =
            with_checksum("GPRMC,120000.00,A,4807.03800,N,01131.00000,E,10.0,45.0,280326,,,D");
        let r = report(feed(&mut p, &rmc, 0).expect("valid"));
        let s = r.sample.expect("fix");
        assert_eq!(s.quality, FixQuality::Differential);
        assert_eq!(s.location.accuracy_m, UNKNOWN_ACCURACY_M);
        assert!((s.speed_mps.expect("speed") - 5.144).abs() < 1e-3);

        let mut p = NmeaParser::new();
        let rmc =
            with_checksum("GPRMC,120000.00,A,4807.03800,N,01131.00000,E,10.0,45.0,280326,,,A");
        feed(&mut p, &rmc, 0).expect("valid");
        let gsa = with_checksum("GPGSA,A,2,16,18,22,,,,,,,,,,3.6,2.1,2.2");
        let s = report(feed(&mut p, &gsa, 50).expect("valid"))
            .sample
            .expect("fix");
        assert_eq!(s.quality, FixQuality::TwoD);
        assert_eq!(s.satellites, Some(3));
        assert!((s.location.accuracy_m - 2.1 * HDOP_UERE_M).abs() < 1e-4);
    }

    #[test]
    fn untimed_sentences_with_no_burst_are_nothing() {
        let mut p = NmeaParser::new();
        let vtg = "$GPVTG,054.7,T,034.4,M,005.5,N,010.2,K*48";
        assert_eq!(feed(&mut p, vtg, 0), Ok(None));
        let rmc =
            with_checksum("GPRMC,120000.00,A,4807.03800,N,01131.00000,E,10.0,45.0,280326,,,A");
        feed(&mut p, &rmc, 0).expect("valid");
        assert!(matches!(feed(&mut p, vtg, 100), Ok(Some(Update::Amend(_)))));
        assert_eq!(feed(&mut p, vtg, 10_000), Ok(None));
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        let mut p = NmeaParser::new();
        let good = "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76";
        let flipped = good.replace("5321", "5322");
        assert!(matches!(
            feed(&mut p, &flipped, 0),
            Err(LineError::Checksum { .. })
        ));
        assert_eq!(
            feed(&mut p, "GPGGA,no dollar*00", 0),
            Err(LineError::NotNmea)
        );
        assert_eq!(feed(&mut p, "$GPGGA,no star", 0), Err(LineError::NotNmea));
        assert_eq!(
            p.line(b"$GPGGA,\xff\xfe*00", Timestamp(0)),
            Err(LineError::NotText)
        );
        let long = format!("${}*00", "A".repeat(300));
        assert_eq!(
            feed(&mut p, &long, 0),
            Err(LineError::TooLong {
                max_bytes: NMEA_LINE_BYTES_MAX
            })
        );
        // Framed and summed right, but not a GGA inside.
        let junk = with_checksum("GPGGA,this,is,not,a,fix");
        assert!(matches!(feed(&mut p, &junk, 0), Err(LineError::Nmea(_))));
        // Latitude minutes past 60 make no place.
        let nowhere =
            with_checksum("GPGGA,120000.00,9999.99999,N,01131.00000,E,1,07,1.5,545.4,M,46.9,M,,");
        assert_eq!(
            report(feed(&mut p, &nowhere, 0).expect("parses")).sample,
            None
        );
    }

    #[test]
    fn well_formed_sentences_not_read_here_are_ignored() {
        let mut p = NmeaParser::new();
        for line in [
            "$GPGSV,3,1,10,23,38,230,44,29,71,156,47,07,29,116,41,08,09,081,36*7F",
            "$GPGLL,4717.11364,N,00833.91565,E,092321.00,A,A*60",
            "$GPTXT,01,01,02,u-blox ag - www.u-blox.com*50",
            "$PUBX,00,081350.00,4717.113210,N,00833.915187,E,546.589,G3,2.1,2.0,0.007,77.52,0.007,,0.92,1.19,0.77,9,0,0*5F",
            "",
            "   ",
        ] {
            assert_eq!(feed(&mut p, line, 0), Ok(None), "{line}");
        }
    }

    fn with_checksum(body: &str) -> String {
        let sum = body.bytes().fold(0u8, |c, b| c ^ b);
        format!("${body}*{sum:02X}")
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut p = NmeaParser::new();
            let _ = p.line(&bytes, Timestamp(0));
        }

        /// Sentences that pass the checksum reach the crate's field
        /// parsers: mangle real ones field by field.
        #[test]
        fn mangled_sentences_with_good_checksums_never_panic(
            which in 0usize..4,
            field in 0usize..20,
            value in "[-0-9.,A-Z]{0,12}|[0-9]{1,20}\\.[0-9]{0,20}|nan|inf|-inf|1e39",
        ) {
            let bodies = [
                &UBLOX_RMC[1..UBLOX_RMC.len() - 3],
                &UBLOX_VTG[1..UBLOX_VTG.len() - 3],
                &UBLOX_GGA[1..UBLOX_GGA.len() - 3],
                &SIRF_BURST[1][1..SIRF_BURST[1].len() - 3],
            ];
            let mut fields: Vec<String> = bodies[which].split(',').map(str::to_string).collect();
            let i = 1 + field % (fields.len() - 1);
            fields[i] = value;
            let line = with_checksum(&fields.join(","));
            let mut p = NmeaParser::new();
            let outcome = p.line(line.as_bytes(), Timestamp(0));
            if let Ok(Some(Update::New(r) | Update::Amend(r))) = outcome
                && let Some(s) = r.sample
            {
                prop_assert!(s.location.lat.abs() <= 90.0 && s.location.lon.abs() <= 180.0);
                prop_assert!(s.location.accuracy_m >= 0.0);
                prop_assert!(s.heading_deg.is_none_or(|h| (0.0..360.0).contains(&h)));
                prop_assert!(s.speed_mps.is_none_or(|v| (0.0..=1000.0).contains(&v)));
            }
        }
    }

    #[test]
    fn a_report_becomes_a_read_fix() {
        let mut p = NmeaParser::new();
        let mut h = super::super::history::History::new(2_000);
        for (i, line) in SIRF_BURST.iter().enumerate() {
            if let Some(u) = feed(&mut p, line, 1_000 + i as i64).expect("valid") {
                h.apply(u);
            }
        }
        let (loc, fix) = h.position_at(Timestamp(1_250));
        assert!(loc.is_some());
        let Fix::Gps(g) = fix else { panic!("{fix:?}") };
        assert_eq!(
            (g.age_ms, g.satellites, g.quality),
            (250, Some(8), FixQuality::ThreeD)
        );
    }
}
