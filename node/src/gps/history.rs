//! The fix history: the last few hundred receiver reports, keyed by when
//! this node received them, and the position a read gets at its capture
//! time.
//!
//! Reports are keyed by the local receive time, not by the time in the
//! sentence: a read's capture time is the node's clock, a receiver's clock
//! can be wrong (or, under gpsfake, years old), and the question a read
//! asks is "where was the car when this node saw the frame". The GPS time
//! is kept beside it so a `doctor` check can compare the two clocks.

use std::collections::VecDeque;

use alpr_protocol::{Fix, FixQuality, GpsFix, Location, Timestamp};

/// What a receiver said about one epoch (one burst of sentences, or one
/// gpsd TPV).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// This node's clock when the epoch's first line arrived.
    pub received: Timestamp,
    /// The receiver's own time for the epoch, when it gave one.
    pub gps_time: Option<Timestamp>,
    /// The fix; `None` when the receiver said it had none.
    pub sample: Option<Sample>,
}

/// A usable fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub location: Location,
    pub quality: FixQuality,
    pub satellites: Option<u8>,
    /// Speed over ground, metres per second.
    pub speed_mps: Option<f32>,
    /// Course over ground, degrees true, 0 to 360.
    pub heading_deg: Option<f32>,
}

/// A parser's output: a new epoch, or more about the latest one (the next
/// sentence of the same burst, a SKY after its TPV).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Update {
    New(Report),
    Amend(Report),
}

/// The bounded ring of reports, oldest first, in receive order.
#[derive(Debug, Clone)]
pub struct History {
    reports: VecDeque<Report>,
    capacity: usize,
    max_age_ms: u32,
}

impl History {
    /// Reports kept: four minutes at 1 Hz, 25 s at 10 Hz; reads look up
    /// their capture time within a few seconds of it.
    pub const CAPACITY: usize = 256;

    /// A history whose fixes count for `max_age_ms` either side of a read.
    pub fn new(max_age_ms: u32) -> Self {
        Self::with_capacity(Self::CAPACITY, max_age_ms)
    }

    pub fn with_capacity(capacity: usize, max_age_ms: u32) -> Self {
        let capacity = capacity.max(1);
        History {
            reports: VecDeque::with_capacity(capacity),
            capacity,
            max_age_ms,
        }
    }

    /// Applies a parser's update. An amendment keeps the receive time of
    /// the report it amends (the epoch began when its first line came).
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Amend(report) if !self.reports.is_empty() => {
                if let Some(last) = self.reports.back_mut() {
                    *last = Report {
                        received: last.received,
                        ..report
                    };
                }
            }
            Update::New(report) | Update::Amend(report) => {
                // The ring stays in receive order so lookups can bisect. A
                // clock stepped back leaves reports in the new clock's
                // future; they are dropped rather than reordered, as their
                // times no longer mean anything on this clock.
                while self
                    .reports
                    .back()
                    .is_some_and(|r| r.received > report.received)
                {
                    self.reports.pop_back();
                }
                if self.reports.len() == self.capacity {
                    self.reports.pop_front();
                }
                self.reports.push_back(report);
            }
        }
    }

    /// The newest report.
    pub fn latest(&self) -> Option<&Report> {
        self.reports.back()
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// The position and fix for a read captured `at`.
    ///
    /// The report is the latest received at or before `at`; if there is
    /// none within the max age (a frame captured just before the first fix
    /// came, or a gap), the first one after `at`, if within the max age.
    /// A report that says "no fix" stands: after the receiver lost its fix,
    /// reads get [`Fix::NoFix`] even while an older fix is within the max
    /// age. Nothing within the max age is also [`Fix::NoFix`]: a receiver
    /// is configured and gave no usable fix for that moment.
    pub fn position_at(&self, at: Timestamp) -> (Option<Location>, Fix) {
        let after = self.reports.partition_point(|r| r.received <= at);
        let within = |r: &&Report| r.received.0.abs_diff(at.0) <= u64::from(self.max_age_ms);
        let before = after
            .checked_sub(1)
            .and_then(|i| self.reports.get(i))
            .filter(within);
        let Some(report) = before.or_else(|| self.reports.get(after).filter(within)) else {
            return (None, Fix::NoFix);
        };
        let Some(sample) = report.sample else {
            return (None, Fix::NoFix);
        };
        // Within max_age_ms, so it fits in u32.
        let age_ms = u32::try_from(report.received.0.abs_diff(at.0)).unwrap_or(u32::MAX);
        (
            Some(sample.location),
            Fix::Gps(GpsFix {
                quality: sample.quality,
                satellites: sample.satellites,
                speed_mps: sample.speed_mps,
                heading_deg: sample.heading_deg,
                age_ms,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(received: i64, lat: f64) -> Report {
        Report {
            received: Timestamp(received),
            gps_time: Some(Timestamp(received - 500)),
            sample: Some(Sample {
                location: Location {
                    lat,
                    lon: 7.0,
                    accuracy_m: 4.5,
                },
                quality: FixQuality::ThreeD,
                satellites: Some(9),
                speed_mps: Some(11.0),
                heading_deg: Some(90.0),
            }),
        }
    }

    fn no_fix(received: i64) -> Report {
        Report {
            received: Timestamp(received),
            gps_time: None,
            sample: None,
        }
    }

    fn lat_and_age(h: &History, at: i64) -> Option<(f64, u32)> {
        match h.position_at(Timestamp(at)) {
            (Some(l), Fix::Gps(g)) => Some((l.lat, g.age_ms)),
            (None, Fix::NoFix) => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_empty_history_is_no_fix() {
        let h = History::new(2_000);
        assert_eq!(h.position_at(Timestamp(5)), (None, Fix::NoFix));
    }

    #[test]
    fn the_latest_fix_at_or_before_the_read_with_its_age() {
        let mut h = History::new(2_000);
        for (t, lat) in [(1_000, 1.0), (2_000, 2.0), (3_000, 3.0)] {
            h.apply(Update::New(fix(t, lat)));
        }
        assert_eq!(lat_and_age(&h, 2_000), Some((2.0, 0)));
        assert_eq!(lat_and_age(&h, 2_999), Some((2.0, 999)));
        assert_eq!(lat_and_age(&h, 4_500), Some((3.0, 1_500)));
        // Past the max age after the last fix: no fix.
        assert_eq!(lat_and_age(&h, 5_001), None);
        assert_eq!(lat_and_age(&h, 5_000), Some((3.0, 2_000)));
    }

    #[test]
    fn before_the_first_fix_the_nearest_after_within_max_age() {
        let mut h = History::new(2_000);
        h.apply(Update::New(fix(10_000, 1.0)));
        h.apply(Update::New(fix(11_000, 2.0)));
        assert_eq!(lat_and_age(&h, 9_000), Some((1.0, 1_000)));
        assert_eq!(lat_and_age(&h, 7_999), None);
    }

    #[test]
    fn after_a_gap_the_next_fix_serves_if_the_previous_is_too_old() {
        let mut h = History::new(2_000);
        h.apply(Update::New(fix(1_000, 1.0)));
        h.apply(Update::New(fix(10_000, 2.0)));
        assert_eq!(lat_and_age(&h, 8_500), Some((2.0, 1_500)));
        assert_eq!(lat_and_age(&h, 5_000), None);
    }

    #[test]
    fn a_no_fix_report_stands_over_an_older_fix() {
        let mut h = History::new(5_000);
        h.apply(Update::New(fix(1_000, 1.0)));
        h.apply(Update::New(no_fix(2_000)));
        assert_eq!(lat_and_age(&h, 1_500), Some((1.0, 500)));
        assert_eq!(lat_and_age(&h, 2_500), None);
    }

    #[test]
    fn an_amendment_keeps_the_epochs_receive_time() {
        let mut h = History::new(2_000);
        h.apply(Update::New(no_fix(1_000)));
        h.apply(Update::Amend(fix(1_300, 4.0)));
        assert_eq!(h.len(), 1);
        assert_eq!(h.latest().map(|r| r.received), Some(Timestamp(1_000)));
        assert_eq!(lat_and_age(&h, 1_100), Some((4.0, 100)));
        // An amendment with nothing to amend is a new report.
        let mut empty = History::new(2_000);
        empty.apply(Update::Amend(fix(7, 1.0)));
        assert_eq!(empty.len(), 1);
    }

    #[test]
    fn the_ring_is_bounded_and_drops_the_oldest() {
        let mut h = History::with_capacity(4, 60_000);
        for t in 0..10 {
            h.apply(Update::New(fix(t * 1_000, t as f64)));
        }
        assert_eq!(h.len(), 4);
        // The oldest kept is t = 6; before it, the nearest after serves.
        assert_eq!(lat_and_age(&h, 2_000), Some((6.0, 4_000)));
        assert_eq!(lat_and_age(&h, 7_500), Some((7.0, 500)));
    }

    #[test]
    fn a_clock_stepped_back_drops_reports_in_its_future() {
        let mut h = History::new(2_000);
        h.apply(Update::New(fix(10_000, 1.0)));
        h.apply(Update::New(fix(11_000, 2.0)));
        h.apply(Update::New(fix(10_500, 3.0)));
        assert_eq!(h.len(), 2);
        assert_eq!(lat_and_age(&h, 10_600), Some((3.0, 100)));
        assert_eq!(lat_and_age(&h, 10_200), Some((1.0, 200)));
    }

    proptest::proptest! {
        /// Whatever arrives, in whatever order: the ring stays sorted and
        /// bounded, and an answer is never older than the max age.
        #[test]
        fn answers_stay_within_the_max_age(
            times in proptest::collection::vec(-10_000i64..10_000, 0..40),
            fixes in proptest::collection::vec(proptest::bool::ANY, 40),
            at in -12_000i64..12_000,
        ) {
            let mut h = History::with_capacity(16, 1_500);
            for (i, t) in times.iter().enumerate() {
                h.apply(Update::New(if fixes[i] { fix(*t, 1.0) } else { no_fix(*t) }));
            }
            proptest::prop_assert!(h.len() <= 16);
            proptest::prop_assert!(h.reports.iter().zip(h.reports.iter().skip(1)).all(|(a, b)| a.received <= b.received));
            match h.position_at(Timestamp(at)) {
                (Some(_), Fix::Gps(g)) => proptest::prop_assert!(g.age_ms <= 1_500),
                (None, Fix::NoFix) => {}
                other => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut h = History::new(2_000);
        h.apply(Update::New(fix(i64::MAX, 1.0)));
        assert_eq!(lat_and_age(&h, i64::MIN), None);
        assert_eq!(lat_and_age(&h, i64::MAX), Some((1.0, 0)));
    }
}
