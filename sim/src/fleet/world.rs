//! The simulated world: the nodes, who meets whom and when, what people do
//! on them, and the faults, all drawn from one seed on simulated time.

use std::collections::{BTreeMap, BTreeSet};

use alpr_engine::engine::{
    CaptureSource, Engine, NewHold, NewUser, PurgeActor, PurposeInput, SessionToken,
};
use alpr_engine::policy::{Retention, UserRole};
use alpr_engine::store::RecordId;
use alpr_protocol::alert::Outcome;
use alpr_protocol::hotlist::{Category, Detail, Entry};
use alpr_protocol::policy::HoldScope;
use alpr_protocol::replicate::Collection;
use alpr_protocol::{AgencyKey, Capture, DataKey, NodeId, PlateText, Role, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::link::{self, Ended, Link, Traffic};
use super::node::{SimNode, chance, skew};
use super::{Config, DAY_MS, HOUR_MS, MINUTE_MS, T0, Violation};

/// The world advances in steps of this much simulated time.
pub const STEP_MS: i64 = 5 * MINUTE_MS;
const STEPS_PER_HOUR: i64 = HOUR_MS / STEP_MS;
/// A patrol shift.
const SHIFT_MS: i64 = 8 * HOUR_MS;
/// Every node purges this often, on its own clock.
const PURGE_EVERY_MS: i64 = 6 * HOUR_MS;
/// The retention the fleet is rolled out with, and the day it is shortened
/// to partway through a run (`retention_edit_at`), so purges happen in a
/// run and nodes purge under a policy some of them have not yet heard of.
const READS_DAYS_FIRST: u32 = 2;
const READS_DAYS: u32 = 1;
/// Each station hour, the chance its Administrator releases one of the
/// station's holds.
const RELEASE_SHARE: f64 = 0.1;
const ADMIN: &str = "chief";
const OFFICER: &str = "officer";
const PASSWORD: &str = "staff services 2026";
/// The bulk list the first station publishes, and how many entries it has.
const BULK_LIST: &str = "ncic";
const BULK_ENTRIES: usize = 400;
/// Of the reads a car makes, the share of plates on the bulk list.
const HIT_SHARE: f64 = 0.002;

/// A read a car acknowledged: the simulator's record of what must not be lost.
#[derive(Debug, Clone, Copy)]
pub struct Acked {
    pub seq: u64,
    /// Capture time on the car's clock.
    pub captured: i64,
}

/// What the simulator remembers of one car.
#[derive(Debug, Default)]
pub struct CarState {
    /// Index of its home station.
    pub home: usize,
    /// Hour of the day its shift starts.
    pub shift_hour: i64,
    pub acked: Vec<Acked>,
    /// Fractional reads carried to the next step.
    pub owed: f64,
    /// Alerts raised since the officer last closed them.
    pub raised: u64,
}

/// The revocation of one car mid-run, and what each node held of it when
/// it first knew.
#[derive(Debug, Default)]
pub struct Revocation {
    pub car: Option<usize>,
    pub at: Option<i64>,
    /// Per node, the revoked car's marks (reads, audit, alerts) when it learned.
    pub known_at: BTreeMap<usize, [u64; 3]>,
}

/// Counters for the summary.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub reads: u64,
    pub record_failures: u64,
    pub alerts: u64,
    pub dispositions: u64,
    pub policy_edits: u64,
    pub local_entries: u64,
    pub bulk_versions: u64,
    pub holds: u64,
    pub releases: u64,
    pub purges: u64,
    pub purged: u64,
    pub crashes: u64,
    pub disk_faults: u64,
    /// Clocks set anew mid-run (a GPS fix or a person), some backwards.
    pub clock_steps: u64,
    pub intruder_refused: u64,
}

/// A node's policy heads and its bulk lists' heads.
pub type Heads = (Vec<[u8; 32]>, Vec<(String, String)>);

/// The whole simulated fleet.
pub struct World {
    pub config: Config,
    pub rng: StdRng,
    /// Stations first, then cars.
    pub nodes: Vec<SimNode>,
    pub cars: Vec<CarState>,
    pub intruder: Option<SimNode>,
    pub now: i64,
    /// When each node restarts after a crash.
    pub down_until: BTreeMap<usize, i64>,
    /// Last purge per node (true time).
    pub last_purge: Vec<i64>,
    /// Station pairs cut off from each other until then.
    pub partitioned: BTreeMap<(usize, usize), i64>,
    /// Holds placed and not released, by the station that placed them:
    /// (station, read, the hold's id).
    pub holds: Vec<(usize, RecordId, u64)>,
    /// When the first station's Administrator shortens retention to
    /// a day (true time), until done.
    pub retention_edit_at: Option<i64>,
    pub revocation: Revocation,
    pub traffic: Traffic,
    pub counters: Counters,
    pub violations: Vec<Violation>,
    /// Plates on the bulk list, for reads that hit.
    pub wanted: Vec<PlateText>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("seed", &self.config.seed)
            .field("now", &self.now)
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl World {
    pub fn new(config: Config) -> Result<World, String> {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let agency = AgencyKey::generate(&mut rng);
        let data_key = DataKey::generate(&mut rng);
        let valid = (
            Timestamp(T0 - 30 * DAY_MS),
            Timestamp(T0 + (i64::from(config.hours) + 30 * 24) * HOUR_MS),
        );
        let mut nodes = Vec::new();
        for i in 0..config.stations {
            let name = format!("station-{}", i + 1);
            nodes.push(
                SimNode::enroll(&agency, &data_key, &name, Role::Station, valid, &mut rng)
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut cars = Vec::new();
        for i in 0..config.cars {
            let name = format!("car-{:03}", i + 1);
            nodes.push(
                SimNode::enroll(&agency, &data_key, &name, Role::Vehicle, valid, &mut rng)
                    .map_err(|e| e.to_string())?,
            );
            cars.push(CarState {
                home: i % config.stations.max(1),
                shift_hour: [6, 14, 22][i % 3],
                ..CarState::default()
            });
        }
        if config.faults.skew {
            for n in &mut nodes {
                n.skew_ms = skew(&mut rng, 10 * MINUTE_MS);
            }
        }
        let intruder = if config.faults.intruder {
            let other = AgencyKey::generate(&mut rng);
            let key = DataKey::generate(&mut rng);
            Some(
                SimNode::enroll(&other, &key, "car-001", Role::Vehicle, valid, &mut rng)
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        let n = nodes.len();
        let mut world = World {
            config,
            rng,
            nodes,
            cars,
            intruder,
            now: T0,
            down_until: BTreeMap::new(),
            last_purge: vec![T0; n],
            partitioned: BTreeMap::new(),
            holds: Vec::new(),
            retention_edit_at: None,
            revocation: Revocation::default(),
            traffic: Traffic::default(),
            counters: Counters::default(),
            violations: Vec::new(),
            wanted: Vec::new(),
        };
        world.set_up()?;
        Ok(world)
    }

    pub fn station_count(&self) -> usize {
        self.config.stations
    }

    pub fn car_index(&self, car: usize) -> usize {
        self.config.stations + car
    }

    /// The first station's Administrator creates the officers' account,
    /// sets a day's retention and publishes the first bulk list; then every
    /// node meets the first station once, as on the day they are rolled out.
    fn set_up(&mut self) -> Result<(), String> {
        let t = T0 - HOUR_MS;
        let clock = self.nodes[0].clock(t);
        let wanted: Vec<PlateText> = (0..BULK_ENTRIES)
            .map(|_| random_plate(&mut self.rng))
            .collect();
        self.wanted = wanted.clone();
        let e = self.nodes[0].engine().ok_or("station-1 is down")?;
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("setting up: {what}: {e}");
        e.bootstrap_admin(clock, user(ADMIN, UserRole::Administrator, clock))
            .map_err(|e| fail("the first Administrator", &e))?;
        let token = e
            .login(clock, ADMIN, PASSWORD)
            .map_err(|e| fail("login", &e))?;
        e.add_user(clock, token, user(OFFICER, UserRole::Officer, clock))
            .map_err(|e| fail("the officers' account", &e))?;
        e.set_retention(
            clock,
            token,
            Retention {
                reads_days: READS_DAYS_FIRST,
                plate_images_days: READS_DAYS_FIRST,
                overview_images_days: READS_DAYS_FIRST,
                alerts_days: READS_DAYS_FIRST,
                ..e.policy().retention
            },
        )
        .map_err(|e| fail("retention", &e))?;
        e.publish_hotlist(clock, token, BULK_LIST, bulk_entries(&wanted))
            .map_err(|e| fail("the bulk list", &e))?;
        e.logout(clock, token).map_err(|e| fail("logout", &e))?;
        self.counters.bulk_versions += 1;
        // Retention is shortened a fifth to a half of the way into the run.
        let hours = i64::from(self.config.hours);
        self.retention_edit_at = Some(T0 + self.rng.random_range(hours / 5..=hours / 2) * HOUR_MS);
        for i in 1..self.nodes.len() {
            let (a, b) = pair(&mut self.nodes, 0, i);
            let m = link::meet(a, b, t, Link::CLEAN, &mut self.rng, &mut self.traffic);
            if m.ended != Ended::InSync {
                return Err(format!("rolling out {}: {:?}", self.nodes[i].name, m.ended));
            }
        }
        Ok(())
    }

    /// Runs the configured hours, then heals.
    pub fn run(&mut self) {
        let steps = i64::from(self.config.hours) * STEPS_PER_HOUR;
        if self.config.faults.revoke && self.config.cars >= 2 {
            self.revocation.car = Some(self.config.cars - 1);
            self.revocation.at = Some(T0 + steps * STEP_MS / 3);
        }
        for step in 0..steps {
            self.now = T0 + step * STEP_MS;
            self.step(step);
        }
        self.now = T0 + steps * STEP_MS;
    }

    fn step(&mut self, step: i64) {
        self.restart_due();
        if self.config.faults.crash || self.config.faults.disk {
            self.inject_faults();
        }
        if self.config.faults.skew {
            self.step_clocks();
        }
        self.revoke_if_due();
        for car in 0..self.config.cars {
            self.patrol(car, step);
        }
        if step % STEPS_PER_HOUR == 0 {
            self.station_work(step);
        }
        self.purge_due();
        self.meetings(step);
        if step % STEPS_PER_HOUR == 0 {
            self.intrude();
        }
    }

    /// Nodes whose power came back.
    fn restart_due(&mut self) {
        let due: Vec<usize> = self
            .down_until
            .iter()
            .filter(|(_, t)| **t <= self.now)
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.down_until.remove(&i);
            self.restart(i);
        }
    }

    fn restart(&mut self, i: usize) {
        if let Err(e) = self.nodes[i].restart(&mut self.rng) {
            self.violations.push(Violation::new(
                "no loss",
                format!(
                    "{} does not come back after a crash: {e}",
                    self.nodes[i].name
                ),
            ));
        }
    }

    /// A node goes down (its power, or its disk that failed a write).
    pub fn crash(&mut self, i: usize) {
        if !self.nodes[i].is_up() {
            return;
        }
        self.counters.crashes += 1;
        let keep = self.rng.random_bool(0.5);
        self.nodes[i].crash(keep);
        let back = self.now + self.rng.random_range(5..=90) * MINUTE_MS;
        self.down_until.insert(i, back);
    }

    fn inject_faults(&mut self) {
        // About one crash a node a day and a failing disk a node every
        // two days, at any point of what the node is doing.
        let crash_p = 1.0 / (24.0 * STEPS_PER_HOUR as f64);
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_up() {
                continue;
            }
            if self.config.faults.crash && chance(&mut self.rng, crash_p) {
                self.crash(i);
                continue;
            }
            if self.config.faults.disk && chance(&mut self.rng, crash_p / 2.0) {
                let writes = self.rng.random_range(0..40);
                let tear = self.rng.random_bool(0.5);
                self.nodes[i].fail_disk_after(writes, tear);
                self.counters.disk_faults += 1;
            }
        }
    }

    /// About once a node a day its clock is set anew, anywhere within ten
    /// minutes of true time: a GPS fix corrects a drifted clock, or a
    /// person sets it wrong. Half of these go backwards, so a node's own
    /// records and audit events can carry times earlier than ones it
    /// already made.
    fn step_clocks(&mut self) {
        let p = 1.0 / (24.0 * STEPS_PER_HOUR as f64);
        for i in 0..self.nodes.len() {
            if chance(&mut self.rng, p) {
                self.nodes[i].skew_ms = skew(&mut self.rng, 10 * MINUTE_MS);
                self.counters.clock_steps += 1;
            }
        }
    }

    /// Whether a car is out on patrol at true time `t`.
    fn on_patrol(&self, car: usize, t: i64) -> bool {
        let start = self.cars[car].shift_hour * HOUR_MS;
        let of_day = (t - T0).rem_euclid(DAY_MS);
        let into = (of_day - start).rem_euclid(DAY_MS);
        into < SHIFT_MS
    }

    /// A car on patrol reads plates, raises alerts on hits, and at the end
    /// of the shift its officer disposes of them.
    fn patrol(&mut self, car: usize, step: i64) {
        let i = self.car_index(car);
        if !self.nodes[i].is_up() || !self.on_patrol(car, self.now) {
            return;
        }
        let per_step = f64::from(self.config.reads_per_shift) * STEP_MS as f64 / SHIFT_MS as f64;
        let owed = self.cars[car].owed + per_step;
        let n = owed.floor() as usize;
        self.cars[car].owed = owed - n as f64;
        let mut captures = Vec::with_capacity(n);
        for k in 0..n {
            let at = self.now + (k as i64 * STEP_MS) / (n as i64).max(1);
            let plate = if chance(&mut self.rng, HIT_SHARE) && !self.wanted.is_empty() {
                self.wanted[self.rng.random_range(0..self.wanted.len())].clone()
            } else {
                random_plate(&mut self.rng)
            };
            let crop: [u8; 4] = self.rng.random();
            captures.push((self.nodes[i].clock(at), capture(plate, &crop)));
        }
        if !captures.is_empty() {
            let clock = self.nodes[i].clock(self.now + STEP_MS - 1);
            let Some(e) = self.nodes[i].engine() else {
                return;
            };
            let times: Vec<i64> = captures.iter().map(|(t, _)| t.0).collect();
            match e.record(clock, &CaptureSource::Camera("front".into()), captures) {
                Ok(rec) => {
                    self.counters.reads += rec.ids.len() as u64;
                    self.counters.alerts += rec.alerts;
                    self.cars[car].raised += rec.alerts;
                    // Ids come in capture order, as the captures were given.
                    for (id, at) in rec.ids.iter().zip(times) {
                        self.cars[car].acked.push(Acked {
                            seq: id.seq,
                            captured: at,
                        });
                    }
                }
                Err(_) => {
                    // Nothing acknowledged: the camera's reads are lost with
                    // the node, as they would be in a car whose disk died.
                    self.counters.record_failures += 1;
                    self.crash(i);
                    return;
                }
            }
        }
        let shift_end =
            (step + 1) % STEPS_PER_HOUR == 0 && !self.on_patrol(car, self.now + STEP_MS);
        // Most hits are handled at the stop, the rest at the shift's end.
        let at_the_stop = self.cars[car].raised > 0 && chance(&mut self.rng, 0.6);
        if (shift_end || at_the_stop) && self.cars[car].raised > 0 {
            self.cars[car].raised = 0;
            let why = if shift_end {
                "end of shift review"
            } else {
                "checked at the stop"
            };
            self.dispose_alerts(i, why);
        }
        // Now and then an officer puts a vehicle on the car's local list.
        if chance(&mut self.rng, 0.002) {
            let plate = random_plate(&mut self.rng);
            self.as_user(i, OFFICER, |e, now, token| {
                e.add_hotlist_entry(now, token, local_entry(plate))
                    .map(|_| ())
            });
            self.counters.local_entries += 1;
        }
    }

    /// The officer logs in and closes every pending alert of this car.
    fn dispose_alerts(&mut self, i: usize, why: &str) {
        let mut disposed = 0;
        self.as_user(i, OFFICER, |e, now, token| {
            let purpose = PurposeInput {
                kind: Some("alert".into()),
                reason: Some(why.into()),
                case: None,
            };
            let filter = alpr_engine::engine::AlertFilter {
                pending_only: true,
                limit: 100,
            };
            for a in e.alerts(now, token, &purpose, filter)? {
                if a.id.origin != e.node().node_key.id() {
                    continue;
                }
                e.dispose_alert(now, token, a.id, Outcome::Misread, why)?;
                disposed += 1;
            }
            Ok(())
        });
        self.counters.dispositions += disposed;
    }

    /// Runs `work` as `user` on node `i`: login, work, logout. A storage
    /// failure crashes the node; a refusal (the user not known there yet)
    /// is what a person would meet and try later.
    fn as_user(
        &mut self,
        i: usize,
        name: &str,
        work: impl FnOnce(
            &mut Engine,
            Timestamp,
            SessionToken,
        ) -> Result<(), alpr_engine::engine::AccessError>,
    ) -> bool {
        let now = self.nodes[i].clock(self.now);
        let Some(e) = self.nodes[i].engine() else {
            return false;
        };
        let Ok(token) = e.login(now, name, PASSWORD) else {
            return false;
        };
        let result = work(e, now, token);
        let out = e.logout(now, token);
        let storage = |r: &Result<(), alpr_engine::engine::AccessError>| {
            matches!(r, Err(alpr_engine::engine::AccessError::Store(_)))
        };
        if storage(&result) || storage(&out) {
            self.crash(i);
            return false;
        }
        result.is_ok()
    }

    /// Hourly at the stations: local list edits, holds, user edits, and a
    /// new bulk list version each day.
    fn station_work(&mut self, step: i64) {
        for s in 0..self.config.stations {
            if !self.nodes[s].is_up() {
                continue;
            }
            if s == 0 && step > 0 && step % (24 * STEPS_PER_HOUR) == 0 {
                self.publish_bulk();
            }
            if s == 0 {
                self.shorten_retention_if_due();
            }
            // What the Administrator does this hour, in one login (a
            // login costs an Argon2 hash, most of a small run's time).
            let entry = chance(&mut self.rng, 0.3).then(|| random_plate(&mut self.rng));
            let training = chance(&mut self.rng, 0.2).then(|| self.nodes[s].clock(self.now));
            let hold = if chance(&mut self.rng, 0.3) {
                self.hold_candidate(s)
            } else {
                None
            };
            let mine: Vec<usize> = (0..self.holds.len())
                .filter(|&k| self.holds[k].0 == s)
                .collect();
            let release = (chance(&mut self.rng, RELEASE_SHARE) && !mine.is_empty())
                .then(|| mine[self.rng.random_range(0..mine.len())]);
            if entry.is_none() && training.is_none() && hold.is_none() && release.is_none() {
                continue;
            }
            let release_id = release.map(|k| self.holds[k].2);
            let (mut added, mut edited, mut held, mut released) = (false, false, None, false);
            self.as_user(s, ADMIN, |e, now, token| {
                if let Some(plate) = entry {
                    e.add_hotlist_entry(now, token, local_entry(plate))?;
                    added = true;
                }
                if let Some(on) = training {
                    let edit = alpr_engine::engine::UserEdit::Training {
                        on: Some(on),
                        expires: None,
                    };
                    e.edit_user(now, token, OFFICER, edit)?;
                    edited = true;
                }
                if let Some((id, case)) = &hold {
                    held = Some(e.place_hold(
                        now,
                        token,
                        NewHold {
                            case: case.clone(),
                            reason: "evidence in a simulated case".into(),
                            scope: HoldScope::Reads(vec![(id.origin, id.seq)]),
                            expires: None,
                        },
                    )?);
                }
                if let Some(hold) = release_id {
                    e.release_hold(now, token, hold)?;
                    released = true;
                }
                Ok(())
            });
            self.counters.local_entries += u64::from(added);
            self.counters.policy_edits += u64::from(edited);
            // Released first: the index was taken before any hold was added.
            if released && let Some(k) = release {
                self.holds.remove(k);
                self.counters.releases += 1;
            }
            if let (Some(hold), Some((id, _))) = (held, hold) {
                self.holds.push((s, id, hold));
                self.counters.holds += 1;
            }
        }
    }

    /// The first station's Administrator shortens retention, once, when due.
    fn shorten_retention_if_due(&mut self) {
        if self.retention_edit_at.is_none_or(|at| self.now < at) {
            return;
        }
        if self.as_user(0, ADMIN, |e, now, token| {
            let retention = Retention {
                reads_days: READS_DAYS,
                plate_images_days: READS_DAYS,
                overview_images_days: READS_DAYS,
                alerts_days: READS_DAYS,
                ..e.policy().retention
            };
            e.set_retention(now, token, retention)
        }) {
            self.retention_edit_at = None;
            self.counters.policy_edits += 1;
        }
    }

    fn publish_bulk(&mut self) {
        // A day's changes: a tenth of the entries replaced.
        for _ in 0..BULK_ENTRIES / 10 {
            let at = self.rng.random_range(0..self.wanted.len());
            self.wanted[at] = random_plate(&mut self.rng);
        }
        let entries = bulk_entries(&self.wanted);
        if self.as_user(0, ADMIN, |e, now, token| {
            e.publish_hotlist(now, token, BULK_LIST, entries)
                .map(|_| ())
        }) {
            self.counters.bulk_versions += 1;
        }
    }

    /// A read of some car that station `s` holds, and a case to hold it for.
    fn hold_candidate(&mut self, s: usize) -> Option<(RecordId, String)> {
        let car = self.rng.random_range(0..self.config.cars.max(1));
        let acked = self.cars.get(car).and_then(|c| {
            (!c.acked.is_empty()).then(|| c.acked[self.rng.random_range(0..c.acked.len())])
        })?;
        let id = RecordId {
            origin: self.nodes[self.car_index(car)].id,
            seq: acked.seq,
        };
        let e = self.nodes[s].engine_ref()?;
        // Only a read the station holds: a hold cannot bring back one purged.
        if !matches!(e.node().store.read_envelope(id), Ok(Some(_))) {
            return None;
        }
        Some((id, format!("26-{:04}", self.rng.random_range(0..10_000))))
    }

    fn revoke_if_due(&mut self) {
        let (Some(car), Some(at)) = (self.revocation.car, self.revocation.at) else {
            return;
        };
        if self.now < at || self.revocation.known_at.contains_key(&0) {
            return;
        }
        let node = self.nodes[self.car_index(car)].id;
        if self.as_user(0, ADMIN, |e, now, token| {
            e.revoke_node(now, token, node, "reported stolen with its equipment")
        }) {
            self.counters.policy_edits += 1;
            self.note_revocations();
        }
    }

    /// Each node that now knows the revocation and did not before: what it
    /// holds of the revoked car is all it may ever hold.
    pub fn note_revocations(&mut self) {
        let Some(car) = self.revocation.car else {
            return;
        };
        let r = self.nodes[self.car_index(car)].id;
        for (i, n) in self.nodes.iter().enumerate() {
            if self.revocation.known_at.contains_key(&i) {
                continue;
            }
            let Some(e) = n.engine_ref() else { continue };
            if e.policy().revoked.contains_key(&r) {
                self.revocation.known_at.insert(i, marks_of(e, &r));
            }
        }
    }

    fn purge_due(&mut self) {
        for i in 0..self.nodes.len() {
            if self.now - self.last_purge[i] < PURGE_EVERY_MS || !self.nodes[i].is_up() {
                continue;
            }
            self.last_purge[i] = self.now;
            self.purge(i);
        }
    }

    /// One node's scheduled purge, then the retention check on it.
    pub fn purge(&mut self, i: usize) {
        let clock = self.nodes[i].clock(self.now);
        let Some(e) = self.nodes[i].engine() else {
            return;
        };
        match e.purge(clock, PurgeActor::Schedule, false) {
            Ok(report) => {
                self.counters.purges += 1;
                self.counters.purged += report.purged;
                super::invariants::after_purge(self, i, clock);
            }
            Err(_) => self.crash(i),
        }
    }

    /// Who meets whom this step, and over what link.
    fn meetings(&mut self, step: i64) {
        let mut plan: Vec<(usize, usize, Link)> = Vec::new();
        let stations = self.config.stations;
        let hourly = step % STEPS_PER_HOUR == 0;
        if hourly {
            for a in 0..stations {
                for b in a + 1..stations {
                    if self.partitioned.get(&(a, b)).is_some_and(|t| *t > self.now) {
                        continue;
                    }
                    if self.config.faults.partition && chance(&mut self.rng, 0.05) {
                        let hours = self.rng.random_range(1..=12);
                        self.partitioned.insert((a, b), self.now + hours * HOUR_MS);
                        continue;
                    }
                    plan.push((a, b, Link::CLEAN));
                }
            }
        }
        for car in 0..self.config.cars {
            let i = self.car_index(car);
            let home = self.cars[car].home;
            let patrol = self.on_patrol(car, self.now);
            let was = self.on_patrol(car, self.now - STEP_MS);
            let parked_hour = !patrol && (step + car as i64) % STEPS_PER_HOUR == 0;
            if patrol != was || parked_hour {
                // Leaving or back at the station, or parked in its yard.
                plan.push((i, home, self.field_link(false)));
            } else if patrol {
                if chance(&mut self.rng, 0.02) {
                    let s = self.rng.random_range(0..stations);
                    plan.push((i, s, self.field_link(true)));
                }
                if self.config.cars > 1 && chance(&mut self.rng, 0.02) {
                    let other = self.rng.random_range(0..self.config.cars);
                    if other != car && self.on_patrol(other, self.now) {
                        plan.push((i, self.car_index(other), self.field_link(true)));
                    }
                }
            }
        }
        for (a, b, l) in plan {
            self.meet(a, b, l);
        }
    }

    /// The link of a meeting: in the field (far, lossy, cut), or in the
    /// station's yard; clean when link faults are off.
    fn field_link(&mut self, far: bool) -> Link {
        if !self.config.faults.link {
            return Link::CLEAN;
        }
        let r = &mut self.rng;
        Link {
            latency_ms: if far {
                r.random_range(30..400)
            } else {
                r.random_range(2..20)
            },
            kbit_s: if far {
                r.random_range(256..20_000)
            } else {
                50_000
            },
            loss: if far { r.random_range(0.0..0.05) } else { 0.0 },
            duplicate: 0.002,
            reorder: 0.002,
            cut_after: chance(r, if far { 0.3 } else { 0.05 }).then(|| r.random_range(1..200)),
        }
    }

    pub fn meet(&mut self, a: usize, b: usize, l: Link) -> Option<link::Meeting> {
        if !self.nodes[a].is_up() || !self.nodes[b].is_up() {
            return None;
        }
        let (na, nb) = pair(&mut self.nodes, a, b);
        let m = link::meet(na, nb, self.now, l, &mut self.rng, &mut self.traffic);
        if self.config.trace && m.ended != Ended::InSync {
            eprintln!(
                "{} {} - {}: {:?}",
                Timestamp(self.now),
                self.nodes[a].name,
                self.nodes[b].name,
                m.ended
            );
        }
        // A side whose storage failed mid-meeting goes down with it.
        if let Ended::Failed(why) = &m.ended
            && why.contains("store")
        {
            for i in [a, b] {
                if why.starts_with(&self.nodes[i].name) {
                    self.crash(i);
                }
            }
        }
        self.note_revocations();
        super::invariants::after_meeting(self, a, b);
        Some(m)
    }

    /// The intruder (another agency's node, named like one of ours) tries
    /// to meet a node of the fleet.
    fn intrude(&mut self) {
        let Some(mut intruder) = self.intruder.take() else {
            return;
        };
        let i = self.rng.random_range(0..self.nodes.len());
        if self.nodes[i].is_up() {
            let m = link::meet(
                &mut intruder,
                &mut self.nodes[i],
                self.now,
                Link::CLEAN,
                &mut self.rng,
                &mut self.traffic,
            );
            if matches!(m.ended, Ended::Refused(_)) {
                self.counters.intruder_refused += 1;
            }
            super::invariants::after_meeting(self, i, i);
        }
        self.intruder = Some(intruder);
    }

    /// Every node up, faults off (failing disks replaced): stations meet
    /// each other and every car meets its home station, round after round,
    /// until a round moves nothing. Returns the simulated time it took and
    /// the rounds.
    pub fn heal(&mut self) -> (i64, u32) {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_up() {
                self.restart(i);
            } else if let Err(e) = self.nodes[i].replace_failing_disk(&mut self.rng) {
                self.violations.push(Violation::new(
                    "no loss",
                    format!(
                        "{} does not come back on a new disk: {e}",
                        self.nodes[i].name
                    ),
                ));
            }
        }
        self.down_until.clear();
        let start = self.now;
        let mut rounds = 0;
        loop {
            rounds += 1;
            let before = self.traffic.records_stored;
            let heads = self.policy_and_list_heads();
            let mut longest = 0;
            let stations = self.config.stations;
            let mut plan = Vec::new();
            for a in 0..stations {
                for b in a + 1..stations {
                    plan.push((a, b));
                }
            }
            for car in 0..self.config.cars {
                plan.push((self.car_index(car), self.cars[car].home));
            }
            for (a, b) in plan {
                if let Some(m) = self.meet(a, b, Link::CLEAN) {
                    longest = longest.max(m.at - self.now);
                }
            }
            self.now += longest.max(1);
            let moved =
                self.traffic.records_stored != before || heads != self.policy_and_list_heads();
            if !moved || rounds >= 20 {
                break;
            }
        }
        (self.now - start, rounds)
    }

    /// Every node's policy heads and bulk list heads, to see a round change them.
    pub fn policy_and_list_heads(&self) -> Vec<Heads> {
        self.nodes
            .iter()
            .filter_map(|n| n.engine_ref())
            .map(|e| {
                let lists = e
                    .node()
                    .store
                    .hotlists()
                    .map(|l| {
                        l.into_iter()
                            .map(|(name, held)| (name, format!("{:?}", held.head)))
                            .collect()
                    })
                    .unwrap_or_default();
                (e.policy_heads(), lists)
            })
            .collect()
    }

    /// The node indexes a check covers: all but the revoked car.
    pub fn fleet_nodes(&self) -> Vec<usize> {
        let revoked = self.revocation.car.map(|c| self.car_index(c));
        (0..self.nodes.len())
            .filter(|i| Some(*i) != revoked)
            .collect()
    }

    pub fn is_car(&self, i: usize) -> bool {
        i >= self.config.stations
    }

    /// Origins a node holds records of, per collection.
    pub fn origins(e: &Engine) -> BTreeSet<(Collection, NodeId)> {
        let mut out = BTreeSet::new();
        for c in [
            Collection::Reads,
            Collection::AuditEvents,
            Collection::Alerts,
        ] {
            if let Ok(v) = e.node().store.vector(c) {
                for (origin, mark) in v.0 {
                    if mark.contiguous > 0 {
                        out.insert((c, origin));
                    }
                }
            }
        }
        out
    }
}

/// The revoked car's marks at a node: reads, audit events, alerts.
pub fn marks_of(e: &Engine, r: &NodeId) -> [u64; 3] {
    let m = |c| {
        e.node()
            .store
            .vector(c)
            .map(|v| v.mark(r).contiguous)
            .unwrap_or(0)
    };
    [
        m(Collection::Reads),
        m(Collection::AuditEvents),
        m(Collection::Alerts),
    ]
}

/// Two distinct nodes, mutably.
pub fn pair(nodes: &mut [SimNode], a: usize, b: usize) -> (&mut SimNode, &mut SimNode) {
    assert_ne!(a, b, "a node does not meet itself");
    if a < b {
        let (l, r) = nodes.split_at_mut(b);
        (&mut l[a], &mut r[0])
    } else {
        let (l, r) = nodes.split_at_mut(a);
        (&mut r[0], &mut l[b])
    }
}

fn user(name: &str, role: UserRole, trained: Timestamp) -> NewUser {
    NewUser {
        name: name.into(),
        role,
        password: PASSWORD.into(),
        trained_on: Some(trained),
        training_expires: None,
    }
}

/// A plate as a US state issues them: a digit, three letters, three digits.
fn random_plate(rng: &mut StdRng) -> PlateText {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    let mut s = String::with_capacity(7);
    s.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 0..3 {
        s.push(char::from(LETTERS[rng.random_range(0..LETTERS.len())]));
    }
    for _ in 0..3 {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    // Invariant: seven upper-case letters and digits always parse.
    PlateText::parse(&s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
}

fn capture(plate: PlateText, crop: &[u8; 4]) -> Capture {
    let n = plate.as_str().len();
    Capture {
        plate,
        region: None,
        confidence: 0.9,
        char_confidences: vec![0.9; n],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        // A JPEG's start and end markers around bytes of its own: the
        // simulator's reads commit to images like real ones.
        crop_jpeg: [&[0xFF, 0xD8][..], crop, &[0xFF, 0xD9]].concat(),
        overview_jpeg: None,
        candidates: Vec::new(),
    }
}

fn bulk_entries(plates: &[PlateText]) -> Vec<Entry> {
    plates
        .iter()
        .enumerate()
        .map(|(i, p)| Entry {
            plate: p.clone(),
            region: None,
            category: Category::StolenVehicle,
            reference: format!("NCIC-{i:06}"),
            detail: Detail::default(),
        })
        .collect()
}

fn local_entry(plate: PlateText) -> Entry {
    Entry {
        reference: format!("BOLO-{}", plate.as_str()),
        plate,
        region: None,
        category: Category::Bolo,
        detail: Detail::default(),
    }
}
