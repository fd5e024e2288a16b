//! Timers as data: when the daemon's next purge or next meeting with a
//! peer is due, given the time now. Pure (no clock, no sleep): the daemon
//! asks `next_due(now)` and sleeps until then; the simulator asks the same
//! on simulated time.

use alpr_protocol::Timestamp;

/// Something due every period: the scheduled purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    period_ms: i64,
    next: Timestamp,
}

impl Schedule {
    /// First due one period after `now`; a period under a millisecond is one.
    pub fn starting(now: Timestamp, period_ms: i64) -> Schedule {
        let period_ms = period_ms.max(1);
        Schedule {
            period_ms,
            next: now.saturating_add_millis(period_ms),
        }
    }

    /// When it is next due, as seen at `now`: never before `now`, and
    /// never more than a period after it (the clock was set back).
    pub fn next_due(&self, now: Timestamp) -> Timestamp {
        if self.is_due(now) { now } else { self.next }
    }

    /// Due at its time, or at once when the clock was set back past a
    /// whole period (a car's clock corrected), so purges never stop until
    /// the wall clock catches up.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.next <= now || self.next.0.saturating_sub(now.0) > self.period_ms
    }

    /// A run finished at `now`: the next is a period later. Runs missed
    /// while the node slept collapse into this one.
    pub fn ran(&mut self, now: Timestamp) {
        self.next = now.saturating_add_millis(self.period_ms);
    }
}

/// Shortest wait after a failed meeting.
pub const RETRY_MIN_MS: i64 = 1_000;
/// Longest: an unreachable station is tried at least once a minute.
pub const RETRY_MAX_MS: i64 = 60_000;

/// Meetings with one configured peer: every period after a meeting in
/// sync; after a failure, again in one second, doubling to a minute (or
/// four periods, when that is less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meetings {
    every_ms: i64,
    retry_ms: i64,
    next: Timestamp,
}

impl Meetings {
    /// The first meeting is due at once.
    pub fn starting(now: Timestamp, every_ms: i64) -> Meetings {
        Meetings {
            every_ms: every_ms.max(1),
            retry_ms: RETRY_MIN_MS,
            next: now,
        }
    }

    pub fn next_due(&self, now: Timestamp) -> Timestamp {
        self.next.max(now)
    }

    /// The meeting at `now` ended in sync.
    pub fn met(&mut self, now: Timestamp) {
        self.retry_ms = RETRY_MIN_MS;
        self.next = now.saturating_add_millis(self.every_ms);
    }

    /// The meeting at `now` failed; returns the wait before the next try.
    pub fn missed(&mut self, now: Timestamp) -> i64 {
        let wait = self.retry_ms;
        self.next = now.saturating_add_millis(wait);
        // Never more than four meeting periods: a peer set to meet often
        // (a car at its station's door) is tried again as often.
        let cap = RETRY_MAX_MS
            .min(self.every_ms.saturating_mul(4))
            .max(RETRY_MIN_MS);
        self.retry_ms = (self.retry_ms * 2).min(cap);
        wait
    }
}

/// Milliseconds from `now` until `at` (0 when it is past).
pub fn wait_ms(now: Timestamp, at: Timestamp) -> u64 {
    u64::try_from(at.0.saturating_sub(now.0)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purge_is_due_each_period_and_missed_runs_collapse() {
        let t = |ms: i64| Timestamp(1_000_000 + ms);
        let mut s = Schedule::starting(t(0), 60_000);
        assert!(!s.is_due(t(59_999)));
        assert_eq!(s.next_due(t(10)), t(60_000));
        assert!(s.is_due(t(60_000)));
        // The node slept through three periods: one run, then a period on.
        assert_eq!(s.next_due(t(200_000)), t(200_000));
        s.ran(t(200_000));
        assert_eq!(s.next_due(t(200_001)), t(260_000));
        assert_eq!(wait_ms(t(200_001), s.next_due(t(200_001))), 59_999);
        assert_eq!(wait_ms(t(300_000), t(260_000)), 0);
        // The clock set back a day: due now, then a period on from there.
        let back = t(200_001 - 86_400_000);
        assert!(s.is_due(back));
        s.ran(back);
        assert_eq!(s.next_due(back), Timestamp(back.0 + 60_000));
    }

    #[test]
    fn an_unreachable_peer_is_retried_from_a_second_up_to_a_minute() {
        let t = |ms: i64| Timestamp(5_000 + ms);
        let mut m = Meetings::starting(t(0), 15_000);
        assert_eq!(m.next_due(t(0)), t(0), "due at once");
        let waits: Vec<i64> = (0..8).map(|i| m.missed(t(i))).collect();
        assert_eq!(
            waits,
            [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
        );
        m.met(t(100));
        assert_eq!(m.next_due(t(100)), t(15_100));
        let mut often = Meetings::starting(t(0), 1_000);
        let waits: Vec<i64> = (0..5).map(|i| often.missed(t(i))).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 4_000, 4_000]);
        assert_eq!(
            m.missed(t(200)),
            1_000,
            "a meeting in sync resets the backoff"
        );
    }
}
