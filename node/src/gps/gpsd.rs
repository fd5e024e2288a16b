//! gpsd's JSON protocol: TPV and SKY lines in, epochs out.
//!
//! gpsd sends one JSON object a line. TPV is the fix (mode, position,
//! speed, track, error estimates, status); SKY lists the satellites and
//! their DOPs, sent before or after the TPV of its cycle. A TPV is a new
//! epoch unless it repeats the previous one's time (gpsd reports a cycle
//! again as more of its sentences arrive: a 2D TPV from RMC, then the 3D
//! one from GGA); a SKY fills in the satellites of the latest report and
//! of the TPVs after it. Other classes (VERSION, DEVICES, WATCH…) say
//! nothing of the position.

use serde::Deserialize;

use alpr_protocol::{FixQuality, Location, Timestamp};

use super::history::{Report, Sample, Update};
use super::nmea::{EPOCH_SPAN_MS, HDOP_UERE_M, UNKNOWN_ACCURACY_M};
use super::{LineError, degrees};

/// A gpsd line can carry a long satellite list or device list; past this
/// it is not gpsd.
pub const GPSD_LINE_BYTES_MAX: usize = 64 * 1024;

/// A SKY counts for the TPVs received within this long of it.
const SKY_FRESH_MS: i64 = 5_000;

/// The command that asks gpsd to stream JSON reports.
pub const WATCH: &[u8] = b"?WATCH={\"enable\":true,\"json\":true};\n";

/// The parser of one gpsd connection's lines.
#[derive(Debug, Default)]
pub struct GpsdParser {
    last: Option<Report>,
    sky: Option<Sky>,
}

#[derive(Debug, Clone, Copy)]
struct Sky {
    received: i64,
    satellites: Option<u8>,
    hdop: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "class")]
enum Message {
    #[serde(rename = "TPV")]
    Tpv(Tpv),
    #[serde(rename = "SKY")]
    Sky(SkyMessage),
    #[serde(rename = "ERROR")]
    Error { message: Option<String> },
    #[serde(other)]
    Other,
}

/// The TPV fields read; gpsd sends more, and omits those it does not know.
#[derive(Debug, Deserialize)]
struct Tpv {
    #[serde(default)]
    mode: u8,
    status: Option<u8>,
    time: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    /// Horizontal position error estimate, metres, 95% (gpsd 3.20 on).
    eph: Option<f64>,
    /// Longitude and latitude error estimates, metres, 95%.
    epx: Option<f64>,
    epy: Option<f64>,
    /// Speed over ground, metres per second.
    speed: Option<f64>,
    /// Course over ground, degrees true.
    track: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct SkyMessage {
    /// Satellites used in the solution (gpsd 3.23 on, and 3.22 here).
    #[serde(rename = "uSat")]
    used: Option<u32>,
    hdop: Option<f64>,
    #[serde(default)]
    satellites: Vec<SkySatellite>,
}

#[derive(Debug, Deserialize)]
struct SkySatellite {
    #[serde(default)]
    used: bool,
}

impl GpsdParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one line received at `received`. `Ok(None)`: a valid line
    /// that says nothing about the position.
    pub fn line(&mut self, line: &[u8], received: Timestamp) -> Result<Option<Update>, LineError> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Ok(None);
        }
        if line.len() > GPSD_LINE_BYTES_MAX {
            return Err(LineError::TooLong {
                max_bytes: GPSD_LINE_BYTES_MAX,
            });
        }
        let message: Message =
            serde_json::from_slice(line).map_err(|e| LineError::Json(e.to_string()))?;
        Ok(match message {
            Message::Tpv(tpv) => Some(self.tpv(&tpv, received.0)),
            Message::Sky(sky) => self.sky(&sky, received.0),
            Message::Error { message } => {
                return Err(LineError::Gpsd(message.unwrap_or_default()));
            }
            Message::Other => None,
        })
    }

    fn tpv(&mut self, tpv: &Tpv, received: i64) -> Update {
        let gps_time = tpv
            .time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| Timestamp(t.as_millisecond()));
        let sky = self
            .sky
            .filter(|s| received.abs_diff(s.received) <= SKY_FRESH_MS.unsigned_abs());
        let sample = quality(tpv)
            .zip(lat_lon(tpv.lat, tpv.lon))
            .map(|(quality, (lat, lon))| Sample {
                location: Location {
                    lat,
                    lon,
                    accuracy_m: accuracy(tpv, sky.and_then(|s| s.hdop)),
                },
                quality,
                satellites: sky.and_then(|s| s.satellites),
                speed_mps: tpv
                    .speed
                    .filter(|v| (0.0..=1000.0).contains(v))
                    .map(|v| v as f32),
                heading_deg: tpv.track.and_then(|d| degrees(d as f32)),
            });
        let report = Report {
            received: Timestamp(received),
            gps_time,
            sample,
        };
        let same_epoch = self.last.is_some_and(|l| {
            gps_time.is_some()
                && l.gps_time == gps_time
                && received.saturating_sub(l.received.0) <= EPOCH_SPAN_MS
        });
        self.last = Some(report);
        if same_epoch {
            Update::Amend(report)
        } else {
            Update::New(report)
        }
    }

    fn sky(&mut self, sky: &SkyMessage, received: i64) -> Option<Update> {
        let counted = sky.satellites.iter().filter(|s| s.used).count();
        let satellites = sky
            .used
            .map(|n| u8::try_from(n).unwrap_or(u8::MAX))
            .or_else(|| {
                (!sky.satellites.is_empty()).then(|| u8::try_from(counted).unwrap_or(u8::MAX))
            });
        let hdop = sky.hdop.filter(|h| h.is_finite() && *h >= 0.0);
        self.sky = Some(Sky {
            received,
            satellites,
            hdop,
        });
        // The SKY of the cycle just reported, when gpsd sends it second.
        let last = self.last.as_mut()?;
        let sample = last.sample.as_mut()?;
        if sample.satellites.is_some()
            || satellites.is_none()
            || received.saturating_sub(last.received.0) > EPOCH_SPAN_MS
        {
            return None;
        }
        sample.satellites = satellites;
        Some(Update::Amend(*last))
    }
}

/// gpsd's mode (2D, 3D) refined by its status (DGPS, RTK, dead reckoning).
/// `None`: no usable fix.
fn quality(tpv: &Tpv) -> Option<FixQuality> {
    let by_mode = match tpv.mode {
        2 => FixQuality::TwoD,
        3 => FixQuality::ThreeD,
        // 0: not seen yet; 1: no fix.
        _ => return None,
    };
    Some(match tpv.status {
        Some(2) => FixQuality::Differential,
        Some(3 | 4) => FixQuality::Rtk,
        Some(5 | 6) => FixQuality::Estimated,
        // Simulated: not the receiver's fix.
        Some(8) => return None,
        _ => by_mode,
    })
}

/// gpsd's own horizontal estimate (eph, 95%), else one from epx and epy,
/// else the SKY's HDOP as for NMEA.
fn accuracy(tpv: &Tpv, sky_hdop: Option<f64>) -> f32 {
    let ok = |v: &f64| v.is_finite() && *v >= 0.0;
    let metres = tpv
        .eph
        .filter(ok)
        .or_else(|| Some(tpv.epx.filter(ok)?.hypot(tpv.epy.filter(ok)?)))
        .or_else(|| sky_hdop.map(|h| h * f64::from(HDOP_UERE_M)))
        .unwrap_or(f64::from(UNKNOWN_ACCURACY_M));
    metres.min(100_000.0) as f32
}

fn lat_lon(lat: Option<f64>, lon: Option<f64>) -> Option<(f64, f64)> {
    let (lat, lon) = lat.zip(lon)?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Lines from gpsd 3.22 under gpsfake.
    const VERSION: &str =
        r#"{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}"#;
    const WATCHING: &str = r#"{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}"#;
    const TPV_2D: &str = r#"{"class":"TPV","device":"/dev/pts/1","mode":2,"time":"2025-06-14T14:30:17.000Z","ept":0.005,"lat":45.518500000,"lon":-122.647612167,"track":90.0000,"magtrack":104.9628,"magvar":15.0,"speed":9.502}"#;
    const TPV_3D_SAME_TIME: &str = r#"{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2025-06-14T14:30:17.000Z","ept":0.005,"lat":45.518500000,"lon":-122.647612167,"altHAE":32.5000,"altMSL":52.0000,"alt":52.0000,"track":90.0000,"magtrack":104.9628,"magvar":15.0,"speed":9.502,"geoidSep":-19.500,"eph":17.100}"#;
    const TPV_NEXT: &str = r#"{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2025-06-14T14:30:18.000Z","ept":0.005,"lat":45.518500000,"lon":-122.647500000,"altHAE":32.5000,"altMSL":52.0000,"alt":52.0000,"track":90.0000,"magtrack":104.9627,"magvar":15.0,"speed":8.000,"climb":0.000,"geoidSep":-19.500,"eph":17.100}"#;
    const TPV_DGPS: &str = r#"{"class":"TPV","device":"/dev/pts/1","status":2,"mode":3,"time":"2026-03-28T12:00:04.000Z","ept":0.005,"lat":48.117300000,"lon":11.517333333,"altHAE":592.3000,"altMSL":545.4000,"alt":545.4000,"epx":2.214,"epy":3.375,"epv":11.500,"track":84.4000,"magtrack":81.3000,"magvar":-3.1,"speed":11.524,"climb":0.000,"epd":30.4292,"eps":16.87,"epc":57.50,"geoidSep":46.900,"eph":7.125,"sep":11.875}"#;
    const TPV_NO_FIX: &str = r#"{"class":"TPV","device":"/dev/pts/1","mode":1,"time":"2026-03-28T12:00:04.000Z","ept":0.005}"#;
    const SKY_NONE_USED: &str = r#"{"class":"SKY","device":"/dev/pts/1","nSat":8,"uSat":0,"satellites":[{"PRN":4,"el":40.0,"az":83.0,"ss":46.0,"used":false,"gnssid":0,"svid":4},{"PRN":5,"el":20.0,"az":300.0,"ss":41.0,"used":false,"gnssid":0,"svid":5}]}"#;
    const SKY_7_USED: &str = r#"{"class":"SKY","device":"/dev/pts/1","xdop":0.59,"ydop":0.90,"vdop":2.00,"tdop":0.98,"hdop":1.50,"gdop":2.21,"pdop":2.50,"nSat":8,"uSat":7,"satellites":[{"PRN":4,"el":40.0,"az":83.0,"ss":46.0,"used":true,"gnssid":0,"svid":4},{"PRN":5,"el":20.0,"az":300.0,"ss":41.0,"used":true,"gnssid":0,"svid":5},{"PRN":9,"el":50.0,"az":50.0,"ss":44.0,"used":true,"gnssid":0,"svid":9},{"PRN":12,"el":10.0,"az":150.0,"ss":38.0,"used":true,"gnssid":0,"svid":12},{"PRN":24,"el":60.0,"az":200.0,"ss":45.0,"used":true,"gnssid":0,"svid":24},{"PRN":25,"el":30.0,"az":250.0,"ss":40.0,"used":true,"gnssid":0,"svid":25},{"PRN":29,"el":15.0,"az":120.0,"ss":35.0,"used":true,"gnssid":0,"svid":29},{"PRN":31,"el":5.0,"az":10.0,"ss":0.0,"used":false,"gnssid":0,"svid":31}]}"#;
    /// A SKY as gpsd's protocol description gives it (before uSat): count
    /// the `used` flags.
    const SKY_OLD: &str = r#"{"class":"SKY","device":"/dev/ttyUSB0","time":"2005-07-08T11:28:07.114Z","xdop":1.55,"hdop":1.24,"pdop":1.99,"satellites":[{"PRN":23,"el":6,"az":84,"ss":0,"used":false},{"PRN":8,"el":66,"az":189,"ss":44,"used":true},{"PRN":29,"el":13,"az":273,"ss":0,"used":false},{"PRN":10,"el":51,"az":304,"ss":29,"used":true},{"PRN":4,"el":15,"az":199,"ss":36,"used":true}]}"#;

    fn feed(p: &mut GpsdParser, line: &str, at: i64) -> Result<Option<Update>, LineError> {
        p.line(line.as_bytes(), Timestamp(at))
    }

    fn sample(u: Option<Update>) -> Sample {
        match u {
            Some(Update::New(r) | Update::Amend(r)) => r.sample.expect("a fix"),
            None => panic!("no update"),
        }
    }

    #[test]
    fn session_lines_that_are_not_reports_say_nothing() {
        let mut p = GpsdParser::new();
        assert_eq!(feed(&mut p, VERSION, 0), Ok(None));
        assert_eq!(feed(&mut p, WATCHING, 0), Ok(None));
        assert_eq!(feed(&mut p, "", 0), Ok(None));
    }

    #[test]
    fn a_tpv_gives_position_quality_speed_track_and_eph() {
        let mut p = GpsdParser::new();
        let u = feed(&mut p, TPV_3D_SAME_TIME, 100).expect("valid");
        let Some(Update::New(r)) = u else {
            panic!("{u:?}")
        };
        assert_eq!(
            r.gps_time.map(|t| t.to_string()),
            Some("2025-06-14T14:30:17Z".to_string())
        );
        let s = r.sample.expect("fix");
        assert_eq!((s.location.lat, s.location.lon), (45.5185, -122.647612167));
        assert_eq!(s.location.accuracy_m, 17.1);
        assert_eq!(s.quality, FixQuality::ThreeD);
        assert_eq!(s.speed_mps, Some(9.502));
        assert_eq!(s.heading_deg, Some(90.0));
        assert_eq!(s.satellites, None);
    }

    #[test]
    fn a_repeated_cycle_amends_and_the_next_is_new() {
        let mut p = GpsdParser::new();
        let first = feed(&mut p, TPV_2D, 0).expect("valid");
        assert!(matches!(first, Some(Update::New(_))));
        assert_eq!(sample(first).quality, FixQuality::TwoD);
        // 2D with no error estimate: the stated default.
        assert_eq!(sample(first).location.accuracy_m, UNKNOWN_ACCURACY_M);
        let again = feed(&mut p, TPV_3D_SAME_TIME, 40).expect("valid");
        assert!(matches!(again, Some(Update::Amend(_))));
        assert_eq!(sample(again).quality, FixQuality::ThreeD);
        assert!(matches!(
            feed(&mut p, TPV_NEXT, 1_000),
            Ok(Some(Update::New(_)))
        ));
    }

    #[test]
    fn status_refines_the_mode() {
        let mut p = GpsdParser::new();
        let s = sample(feed(&mut p, TPV_DGPS, 0).expect("valid"));
        assert_eq!(s.quality, FixQuality::Differential);
        assert_eq!(s.location.accuracy_m, 7.125);
        let rtk = TPV_DGPS.replace(r#""status":2"#, r#""status":3"#);
        assert_eq!(
            sample(feed(&mut p, &rtk, 5_000).expect("valid")).quality,
            FixQuality::Rtk
        );
        let dr = TPV_DGPS.replace(r#""status":2"#, r#""status":6"#);
        assert_eq!(
            sample(feed(&mut p, &dr, 10_000).expect("valid")).quality,
            FixQuality::Estimated
        );
        // Without eph (before gpsd 3.20): from epx and epy.
        let old = TPV_DGPS.replace(r#","eph":7.125"#, "");
        let a = sample(feed(&mut p, &old, 15_000).expect("valid"))
            .location
            .accuracy_m;
        assert!((a - 2.214f32.hypot(3.375)).abs() < 1e-3, "{a}");
    }

    #[test]
    fn mode_1_is_a_no_fix_report() {
        let mut p = GpsdParser::new();
        let u = feed(&mut p, TPV_NO_FIX, 0).expect("valid");
        let Some(Update::New(r)) = u else {
            panic!("{u:?}")
        };
        assert_eq!(r.sample, None);
        assert!(r.gps_time.is_some());
    }

    #[test]
    fn sky_satellites_fill_the_tpvs_around_it() {
        let mut p = GpsdParser::new();
        // The first SKY before any fix: nothing to amend, and 0 used.
        assert_eq!(feed(&mut p, SKY_NONE_USED, 0), Ok(None));
        assert_eq!(
            sample(feed(&mut p, TPV_2D, 100).expect("valid")).satellites,
            Some(0)
        );
        // A SKY of the same cycle, the TPV having had none: amended.
        let mut p = GpsdParser::new();
        feed(&mut p, TPV_3D_SAME_TIME, 0).expect("valid");
        let u = feed(&mut p, SKY_7_USED, 50).expect("valid");
        assert!(matches!(u, Some(Update::Amend(_))));
        assert_eq!(sample(u).satellites, Some(7));
        // And it serves the next TPV.
        assert_eq!(
            sample(feed(&mut p, TPV_NEXT, 1_000).expect("valid")).satellites,
            Some(7)
        );
        // Until it is stale.
        let later = TPV_NEXT.replace("14:30:18", "14:30:28");
        assert_eq!(
            sample(feed(&mut p, &later, 10_000).expect("valid")).satellites,
            None
        );
    }

    #[test]
    fn an_older_gpsds_sky_counts_used_flags_and_gives_hdop() {
        let mut p = GpsdParser::new();
        feed(&mut p, SKY_OLD, 0).expect("valid");
        let s = sample(feed(&mut p, TPV_2D, 10).expect("valid"));
        assert_eq!(s.satellites, Some(3));
        assert!((s.location.accuracy_m - 1.24 * HDOP_UERE_M).abs() < 1e-4);
    }

    #[test]
    fn bad_lines_are_errors() {
        let mut p = GpsdParser::new();
        assert!(matches!(
            feed(&mut p, "{\"class\":\"TPV\",", 0),
            Err(LineError::Json(_))
        ));
        assert!(matches!(
            feed(&mut p, "not json", 0),
            Err(LineError::Json(_))
        ));
        assert!(matches!(
            feed(&mut p, r#"{"class":"TPV","mode":3,"lat":"north"}"#, 0),
            Err(LineError::Json(_))
        ));
        assert!(matches!(
            feed(&mut p, r#"{"mode":3}"#, 0),
            Err(LineError::Json(_))
        ));
        assert_eq!(
            feed(
                &mut p,
                r#"{"class":"ERROR","message":"Unrecognized request '?WATC'"}"#,
                0
            ),
            Err(LineError::Gpsd("Unrecognized request '?WATC'".into()))
        );
        let huge = format!(
            r#"{{"class":"SKY","x":"{}"}}"#,
            "a".repeat(GPSD_LINE_BYTES_MAX)
        );
        assert_eq!(
            feed(&mut p, &huge, 0),
            Err(LineError::TooLong {
                max_bytes: GPSD_LINE_BYTES_MAX
            })
        );
        // Out of range: no place, so no fix.
        let far = TPV_NEXT.replace("45.518500000", "145.5185");
        let u = feed(&mut p, &far, 0).expect("valid json");
        assert!(matches!(u, Some(Update::New(Report { sample: None, .. }))));
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut p = GpsdParser::new();
            let _ = p.line(&bytes, Timestamp(0));
        }

        #[test]
        fn any_numbers_in_a_tpv_never_panic_nor_escape_their_ranges(
            mode in 0u8..=9, status in 0u8..=9,
            lat in any::<f64>(), lon in any::<f64>(), eph in any::<f64>(),
            speed in any::<f64>(), track in any::<f64>(),
        ) {
            // serde_json writes non-finite floats as null.
            let line = serde_json::json!({
                "class": "TPV", "mode": mode, "status": status, "lat": lat, "lon": lon,
                "eph": eph, "speed": speed, "track": track, "time": "2026-01-01T00:00:00.000Z",
            }).to_string();
            let mut p = GpsdParser::new();
            if let Ok(Some(Update::New(Report { sample: Some(s), .. }))) = p.line(line.as_bytes(), Timestamp(0)) {
                prop_assert!(s.location.lat.abs() <= 90.0 && s.location.lon.abs() <= 180.0);
                prop_assert!((0.0..=100_000.0).contains(&s.location.accuracy_m));
                prop_assert!(s.heading_deg.is_none_or(|h| (0.0..360.0).contains(&h)));
                prop_assert!(s.speed_mps.is_none_or(|v| (0.0..=1000.0).contains(&v)));
            }
        }
    }
}
