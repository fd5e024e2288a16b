//! Whole fleets in one process on simulated time: cars and stations of one
//! agency, each the real engine on an in-memory disk, meeting over
//! simulated links through their real replicas, with crashes, clock skew,
//! failing disks, lossy and cut links, partitions, an intruder from another
//! agency and a car revoked mid-run. Every random choice comes from one
//! seed, so a run that breaks an invariant replays exactly from it.

pub mod link;
pub mod node;

mod invariants;
mod world;

use std::fmt;

pub use world::World;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// The simulated fleet's first day: 2026-11-01T00:00:00Z.
pub const T0: i64 = 1_793_491_200_000;

/// Which faults a run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// Nodes lose power and come back.
    pub crash: bool,
    /// Node clocks up to 10 minutes off.
    pub skew: bool,
    /// Disks fail writes, some torn.
    pub disk: bool,
    /// Field links slow, lossy, duplicating, reordering and cut mid-transfer.
    pub link: bool,
    /// Station links down for hours.
    pub partition: bool,
    /// A node of another agency tries to meet the fleet.
    pub intruder: bool,
    /// A car is revoked a third of the way in.
    pub revoke: bool,
}

impl Faults {
    pub const NAMES: [&'static str; 7] = [
        "crash",
        "skew",
        "disk",
        "link",
        "partition",
        "intruder",
        "revoke",
    ];

    pub fn all() -> Faults {
        Faults {
            crash: true,
            skew: true,
            disk: true,
            link: true,
            partition: true,
            intruder: true,
            revoke: true,
        }
    }

    pub fn none() -> Faults {
        Faults {
            crash: false,
            skew: false,
            disk: false,
            link: false,
            partition: false,
            intruder: false,
            revoke: false,
        }
    }

    fn flag(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "crash" => &mut self.crash,
            "skew" => &mut self.skew,
            "disk" => &mut self.disk,
            "link" => &mut self.link,
            "partition" => &mut self.partition,
            "intruder" => &mut self.intruder,
            "revoke" => &mut self.revoke,
            _ => return None,
        })
    }

    /// `all`, `none`, or names separated by commas.
    pub fn parse(text: &str) -> Result<Faults, String> {
        match text.trim() {
            "all" => return Ok(Faults::all()),
            "none" | "" => return Ok(Faults::none()),
            _ => {}
        }
        let mut f = Faults::none();
        for name in text.split(',').map(str::trim) {
            *f.flag(name).ok_or_else(|| {
                format!(
                    "unknown fault '{name}': the faults are all, none or {}",
                    Faults::NAMES.join(", ")
                )
            })? = true;
        }
        Ok(f)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Faults::all() {
            return f.write_str("all");
        }
        let mut copy = *self;
        let on: Vec<&str> = Faults::NAMES
            .into_iter()
            .filter(|n| copy.flag(n).is_some_and(|b| *b))
            .collect();
        if on.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&on.join(","))
        }
    }
}

/// One run's shape.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub cars: usize,
    pub stations: usize,
    pub hours: u32,
    pub faults: Faults,
    /// Reads a car makes in an 8-hour shift on patrol.
    pub reads_per_shift: u32,
    /// Print every meeting that does not end in sync, to stderr.
    pub trace: bool,
}

impl Config {
    /// The command that replays this run.
    pub fn command(&self) -> String {
        format!(
            "alpr-sim fleet --seed {} --cars {} --stations {} --hours {} --faults {} --reads-per-shift {}",
            self.seed, self.cars, self.stations, self.hours, self.faults, self.reads_per_shift
        )
    }

    /// Whether to check retention against every acknowledged read at every
    /// purge: always, but for fleets too large for it to be cheap.
    pub fn deep_checks(&self) -> bool {
        (self.cars as u64) * u64::from(self.reads_per_shift) <= 200_000
    }

    pub fn check(&self) -> Result<(), String> {
        if self.stations == 0 {
            return Err("a fleet needs at least one station".into());
        }
        if self.cars > 100_000 || self.stations > 100 {
            return Err("at most 100,000 cars and 100 stations".into());
        }
        if self.hours == 0 || self.hours > 24 * 30 {
            return Err("--hours is 1 to 720".into());
        }
        if self.reads_per_shift > 100_000 {
            return Err("--reads-per-shift is at most 100,000".into());
        }
        Ok(())
    }
}

/// An invariant that did not hold, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub what: String,
}

impl Violation {
    pub fn new(invariant: &'static str, what: String) -> Violation {
        Violation { invariant, what }
    }
}

/// What a run did and found.
#[derive(Debug, Clone)]
pub struct Report {
    pub config: Config,
    pub traffic: link::Traffic,
    pub counters: world::Counters,
    /// Simulated time the heal took, and its rounds.
    pub heal_ms: i64,
    pub heal_rounds: u32,
    pub violations: Vec<Violation>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs one fleet to the end and checks it.
pub fn run(config: &Config) -> Result<Report, String> {
    config.check()?;
    let mut world = World::new(config.clone())?;
    world.run();
    let (heal_ms, heal_rounds) = world.heal();
    // The last purge on every node, then a round to carry its gaps: the
    // retention check sees every node at the end.
    for i in 0..world.nodes.len() {
        world.purge(i);
    }
    world.heal();
    invariants::after_heal(&mut world);
    Ok(Report {
        config: config.clone(),
        traffic: world.traffic.clone(),
        counters: world.counters.clone(),
        heal_ms,
        heal_rounds,
        violations: world.violations.clone(),
    })
}

/// Runs one fleet per seed of `seeds` (each with `config`'s shape), on
/// `jobs` threads; the reports come back in seed order, whatever finished
/// first.
pub fn sweep(
    config: &Config,
    seeds: std::ops::Range<u64>,
    jobs: usize,
) -> Vec<(u64, Result<Report, String>)> {
    let next = std::sync::atomic::AtomicU64::new(seeds.start);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if seed >= seeds.end {
                        break;
                    }
                    let report = run(&Config {
                        seed,
                        ..config.clone()
                    });
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((seed, report));
                }
            });
        }
    });
    let mut out = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    out.sort_by_key(|(seed, _)| *seed);
    out
}

/// `A..B` (B not included) or a single seed.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("'{text}' is not a seed range: give A..B, as 0..200");
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if b <= a {
        return Err(format!("'{text}' holds no seed: B must be above A"));
    }
    Ok(a..b)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let t = &self.traffic;
        let n = &self.counters;
        writeln!(
            f,
            "fleet seed {}: {} cars, {} stations, {} h, faults {}",
            c.seed, c.cars, c.stations, c.hours, c.faults
        )?;
        writeln!(
            f,
            "  reads {} (alerts {}, disposed {}), record failures {}",
            n.reads, n.alerts, n.dispositions, n.record_failures
        )?;
        writeln!(
            f,
            "  meetings {} (in sync {}, cut {}, refused {}, failed {}), messages {}, bytes {}, records stored {}",
            t.meetings,
            t.in_sync,
            t.cut,
            t.refused,
            t.failed,
            t.messages,
            t.bytes,
            t.records_stored
        )?;
        writeln!(
            f,
            "  policy edits {}, local entries {}, bulk versions {}, holds {} (released {})",
            n.policy_edits, n.local_entries, n.bulk_versions, n.holds, n.releases
        )?;
        writeln!(
            f,
            "  purges {} ({} reads), crashes {}, disk faults {}, clock steps {}, duplicated {}, reordered {}, intruder refused {}",
            n.purges,
            n.purged,
            n.crashes,
            n.disk_faults,
            n.clock_steps,
            t.duplicated,
            t.reordered,
            n.intruder_refused
        )?;
        writeln!(
            f,
            "  converged {} s after the heal began, in {} rounds",
            self.heal_ms / 1000,
            self.heal_rounds
        )?;
        if self.violations.is_empty() {
            writeln!(f, "  invariants: convergence, no loss, safety: all hold")
        } else {
            writeln!(f, "  VIOLATED ({}):", self.violations.len())?;
            for v in &self.violations {
                writeln!(f, "    {}: {}", v.invariant, v.what)?;
            }
            writeln!(f, "  replay: {}", c.command())
        }
    }
}
