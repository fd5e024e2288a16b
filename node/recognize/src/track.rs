//! Turns the sightings of one vehicle across consecutive frames into one read.
//!
//! Sans-IO: `Tracker::observe(at, sightings)` takes one frame's plates and
//! returns the reads that are finished. A sighting joins the track whose
//! plate it overlaps or whose text it nearly matches; a track keeps its best
//! sighting (whose frame and crop the read stores) and merges the text votes
//! of all of them, position by position. A read is emitted once its plate
//! has not been seen for `gap_ms`, or once the track is `max_ms` old (a car
//! parked in view is reported once, not every frame). Every list here is
//! bounded.

use std::collections::BTreeMap;

use alpr_protocol::Timestamp;

use crate::{Alternative, PlateRead};

#[derive(Debug, Clone, Copy)]
pub struct TrackConfig {
    /// A plate unseen this long has left the view.
    pub gap_ms: i64,
    /// A track this old is reported even if its plate is still in view.
    pub max_ms: i64,
    /// Open tracks at most; past it the oldest is reported early.
    pub tracks_max: usize,
    /// Votes kept per track; past it the least confident is dropped.
    pub votes_max: usize,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            gap_ms: 1_500,
            max_ms: 10_000,
            tracks_max: 32,
            votes_max: 64,
        }
    }
}

/// One vehicle's read, merged from its sightings. `best` is what the driver
/// attached to the most confident sighting (its frame, its crop).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedRead<P> {
    pub text: String,
    pub confidence: f32,
    pub char_confidences: Vec<f32>,
    pub region: Option<(String, f32)>,
    pub candidates: Vec<Alternative>,
    /// When the best sighting was captured: the read's time.
    pub at: Timestamp,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub sightings: usize,
    pub best_bbox: [u32; 4],
    pub best: P,
}

#[derive(Debug)]
struct Track<P> {
    first_seen: Timestamp,
    last_seen: Timestamp,
    last_bbox: [u32; 4],
    votes: Vec<PlateRead>,
    sightings: usize,
    best_at: Timestamp,
    best_plate: PlateRead,
    best: P,
    /// Reported already (it outlived `max_ms`); later sightings only keep it open.
    reported: bool,
}

#[derive(Debug)]
pub struct Tracker<P> {
    config: TrackConfig,
    tracks: Vec<Track<P>>,
}

impl<P: Clone> Tracker<P> {
    pub fn new(config: TrackConfig) -> Tracker<P> {
        Tracker {
            config,
            tracks: Vec::new(),
        }
    }

    /// Open tracks (vehicles in view).
    pub fn open(&self) -> usize {
        self.tracks.len()
    }

    /// One frame captured at `at`, with its plates and what to keep with each.
    /// Returns the reads this frame finished.
    pub fn observe(
        &mut self,
        at: Timestamp,
        sightings: Vec<(PlateRead, P)>,
    ) -> Vec<TrackedRead<P>> {
        let mut done = Vec::new();
        // Tracks whose plate left the view.
        let gap = self.config.gap_ms;
        let mut i = 0;
        while i < self.tracks.len() {
            if at.0 - self.tracks[i].last_seen.0 > gap {
                let t = self.tracks.swap_remove(i);
                if !t.reported {
                    done.push(t.merge());
                }
            } else {
                i += 1;
            }
        }
        let mut sightings = sightings;
        sightings.sort_by(|a, b| b.0.confidence.total_cmp(&a.0.confidence));
        let mut taken = vec![false; self.tracks.len()];
        for (plate, payload) in sightings {
            let matched = (0..self.tracks.len())
                .filter(|&k| !taken[k])
                .filter_map(|k| self.tracks[k].affinity(&plate).map(|a| (k, a)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k);
            match matched {
                Some(k) => {
                    taken[k] = true;
                    self.tracks[k].add(at, plate, payload, self.config.votes_max);
                }
                None => {
                    if self.tracks.len() >= self.config.tracks_max {
                        // Bounded: the oldest open track is reported now.
                        let (oldest, _) = self
                            .tracks
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, t)| t.first_seen.0)
                            .unwrap_or((0, &self.tracks[0]));
                        let t = self.tracks.swap_remove(oldest);
                        taken.swap_remove(oldest);
                        if !t.reported {
                            done.push(t.merge());
                        }
                    }
                    self.tracks.push(Track {
                        first_seen: at,
                        last_seen: at,
                        last_bbox: plate.bbox,
                        votes: vec![plate.clone()],
                        sightings: 1,
                        best_at: at,
                        best_plate: plate,
                        best: payload,
                        reported: false,
                    });
                    taken.push(true);
                }
            }
        }
        // Tracks that outlived max_ms are reported once and kept open.
        for t in &mut self.tracks {
            if !t.reported && at.0 - t.first_seen.0 >= self.config.max_ms {
                t.reported = true;
                done.push(t.merge());
            }
        }
        done
    }

    /// The end of the stream: every open track becomes a read, in capture order.
    pub fn finish(&mut self) -> Vec<TrackedRead<P>> {
        let mut out: Vec<TrackedRead<P>> = std::mem::take(&mut self.tracks)
            .into_iter()
            .filter(|t| !t.reported)
            .map(|t| t.merge())
            .collect();
        out.sort_by_key(|r| r.first_seen.0);
        out
    }
}

impl<P: Clone> Track<P> {
    /// How well a sighting fits this track; `None` if it is another vehicle.
    fn affinity(&self, plate: &PlateRead) -> Option<f32> {
        // Vehicles move between frames: compare against the last box grown by half.
        let [x, y, w, h] = self.last_bbox;
        let grown = [
            x.saturating_sub(w / 2),
            y.saturating_sub(h / 2),
            w * 2,
            h * 2,
        ];
        let near = intersects(grown, plate.bbox);
        let distance = edit_distance(&self.best_plate.text, &plate.text);
        // Where the plate was, read nearly the same: the same vehicle. A very
        // different text in the same place is the next vehicle in the lane.
        match (near, distance) {
            (true, d) if d <= 3 => Some(2.0 - d as f32 * 0.1),
            (false, d) if d <= 1 => Some(1.0 - d as f32 * 0.1),
            _ => None,
        }
    }

    fn add(&mut self, at: Timestamp, plate: PlateRead, payload: P, votes_max: usize) {
        self.last_seen = at;
        self.last_bbox = plate.bbox;
        self.sightings += 1;
        let area = |b: [u32; 4]| b[2] as u64 * b[3] as u64;
        let better = plate.confidence > self.best_plate.confidence
            || (plate.confidence == self.best_plate.confidence
                && area(plate.bbox) > area(self.best_plate.bbox));
        if better {
            self.best_at = at;
            self.best_plate = plate.clone();
            self.best = payload;
        }
        self.votes.push(plate);
        if self.votes.len() > votes_max {
            let weakest = self
                .votes
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.confidence.total_cmp(&b.1.confidence))
                .map_or(0, |(i, _)| i);
            self.votes.swap_remove(weakest);
        }
    }

    /// The merged read: the length most votes agree on, then per position
    /// the character with the most confidence behind it.
    fn merge(&self) -> TrackedRead<P> {
        let mut by_len: BTreeMap<usize, f32> = BTreeMap::new();
        for v in &self.votes {
            *by_len.entry(v.char_confidences.len()).or_default() += v.confidence;
        }
        let len = by_len
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(l, _)| *l);
        let same: Vec<&PlateRead> = self
            .votes
            .iter()
            .filter(|v| v.char_confidences.len() == len)
            .collect();
        let mut text = String::with_capacity(len);
        let mut char_confidences = Vec::with_capacity(len);
        for pos in 0..len {
            let mut tally: BTreeMap<char, f32> = BTreeMap::new();
            for v in &same {
                let ch = v.text.chars().nth(pos).unwrap_or('?');
                *tally.entry(ch).or_default() += v.char_confidences[pos];
            }
            let (ch, weight) = tally
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or(('?', 0.0));
            text.push(ch);
            char_confidences.push((weight / same.len().max(1) as f32).min(1.0));
        }
        let confidence = char_confidences.iter().copied().fold(1.0, f32::min);
        let mut regions: BTreeMap<&str, f32> = BTreeMap::new();
        for v in &self.votes {
            if let Some((r, c)) = &v.region {
                *regions.entry(r.as_str()).or_default() += c;
            }
        }
        let region = regions
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, c)| (r.to_string(), (c / self.votes.len() as f32).min(1.0)));
        let mut alternatives: BTreeMap<&str, f32> = BTreeMap::new();
        for v in &self.votes {
            for c in &v.candidates {
                *alternatives.entry(c.text.as_str()).or_default() += c.confidence;
            }
        }
        let n = self.votes.len() as f32;
        let mut candidates = vec![Alternative {
            text: text.clone(),
            confidence,
        }];
        let mut others: Vec<Alternative> = alternatives
            .into_iter()
            .filter(|(t, _)| *t != text)
            .map(|(t, c)| Alternative {
                text: t.to_string(),
                confidence: c / n,
            })
            .collect();
        others.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        candidates.extend(others.into_iter().take(crate::CANDIDATES_MAX - 1));
        TrackedRead {
            text,
            confidence,
            char_confidences,
            region,
            candidates,
            at: self.best_at,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            sightings: self.sightings,
            best_bbox: self.best_plate.bbox,
            best: self.best.clone(),
        }
    }
}

fn intersects(a: [u32; 4], b: [u32; 4]) -> bool {
    a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]
}

/// Levenshtein distance between two texts (the tracker's "nearly the same plate").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + (ca != *cb) as usize);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(text: &str, conf: &[f32], bbox: [u32; 4]) -> PlateRead {
        PlateRead {
            text: text.into(),
            confidence: conf.iter().copied().fold(1.0, f32::min),
            char_confidences: conf.to_vec(),
            region: Some(("CA".into(), 0.8)),
            bbox,
            candidates: vec![Alternative {
                text: text.into(),
                confidence: 0.5,
            }],
        }
    }

    #[test]
    fn one_vehicle_over_frames_is_one_read_with_voted_text() {
        let mut t: Tracker<u32> = Tracker::new(TrackConfig::default());
        let c7 = [0.9; 7];
        let mut weak = [0.9; 7];
        weak[1] = 0.55;
        assert!(
            t.observe(
                Timestamp(0),
                vec![(plate("7ABC123", &c7, [100, 100, 80, 40]), 0)]
            )
            .is_empty()
        );
        // A misread of one character, less sure, as the vehicle moves.
        assert!(
            t.observe(
                Timestamp(100),
                vec![(plate("78BC123", &weak, [110, 105, 84, 42]), 1)]
            )
            .is_empty()
        );
        assert!(
            t.observe(
                Timestamp(200),
                vec![(plate("7ABC123", &[0.95; 7], [120, 110, 90, 45]), 2)]
            )
            .is_empty()
        );
        // Gone for longer than the gap: reported.
        let out = t.observe(Timestamp(2_000), vec![]);
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.text, "7ABC123");
        assert_eq!(r.sightings, 3);
        assert_eq!(r.best, 2, "the most confident sighting's frame is kept");
        assert_eq!(r.at, Timestamp(200));
        assert_eq!((r.first_seen, r.last_seen), (Timestamp(0), Timestamp(200)));
        assert!(
            r.char_confidences[1] < r.char_confidences[0],
            "a disputed character is less sure"
        );
        assert_eq!(t.open(), 0);
    }

    #[test]
    fn the_next_vehicle_in_the_same_place_is_a_new_read() {
        let mut t: Tracker<()> = Tracker::new(TrackConfig::default());
        t.observe(
            Timestamp(0),
            vec![(plate("7ABC123", &[0.9; 7], [100, 100, 80, 40]), ())],
        );
        t.observe(
            Timestamp(300),
            vec![(plate("8XYZ001", &[0.9; 7], [105, 100, 80, 40]), ())],
        );
        let mut texts: Vec<String> = t.finish().into_iter().map(|r| r.text).collect();
        texts.sort();
        assert_eq!(texts, ["7ABC123", "8XYZ001"]);
    }

    #[test]
    fn two_vehicles_in_one_frame_stay_apart() {
        let mut t: Tracker<()> = Tracker::new(TrackConfig::default());
        for i in 0..3 {
            t.observe(
                Timestamp(i * 100),
                vec![
                    (
                        plate("7ABC123", &[0.9; 7], [100 + i as u32 * 5, 100, 80, 40]),
                        (),
                    ),
                    (
                        plate("5KLM333", &[0.9; 7], [700 - i as u32 * 5, 300, 80, 40]),
                        (),
                    ),
                ],
            );
        }
        let mut texts: Vec<String> = t.finish().into_iter().map(|r| r.text).collect();
        texts.sort();
        assert_eq!(texts, ["5KLM333", "7ABC123"]);
    }

    #[test]
    fn a_parked_vehicle_is_reported_once_at_the_timeout() {
        let config = TrackConfig {
            max_ms: 1_000,
            ..TrackConfig::default()
        };
        let mut t: Tracker<()> = Tracker::new(config);
        let mut reported = 0;
        for i in 0..50 {
            reported += t
                .observe(
                    Timestamp(i * 100),
                    vec![(plate("7ABC123", &[0.9; 7], [100, 100, 80, 40]), ())],
                )
                .len();
        }
        assert_eq!(reported, 1);
        assert!(t.finish().is_empty(), "already reported");
    }

    #[test]
    fn open_tracks_and_votes_are_bounded() {
        let config = TrackConfig {
            tracks_max: 4,
            votes_max: 3,
            ..TrackConfig::default()
        };
        let mut t: Tracker<()> = Tracker::new(config);
        let mut out = Vec::new();
        for i in 0..10u32 {
            let text = format!("ABC{:04}", i * 1111);
            out.extend(t.observe(
                Timestamp(i as i64),
                vec![(plate(&text, &[0.9; 7], [i * 100, 0, 50, 20]), ())],
            ));
            assert!(t.open() <= 4);
        }
        assert_eq!(out.len(), 6, "the oldest are reported early");
        for _ in 0..10 {
            t.observe(
                Timestamp(20),
                vec![(plate("ABC9999", &[0.9; 7], [900, 0, 50, 20]), ())],
            );
        }
        assert!(t.tracks.iter().all(|tr| tr.votes.len() <= 3));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("7ABC123", "7ABC123"), 0);
        assert_eq!(edit_distance("7ABC123", "7A8C123"), 1);
        assert_eq!(edit_distance("7ABC123", "ABC123"), 1);
        assert_eq!(edit_distance("", "ABC"), 3);
    }
}
