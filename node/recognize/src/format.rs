//! US plate formats: which zeros of a US read are the letter O.
//!
//! Most states print the letter O and the digit 0 with one glyph, so the
//! reader writes 0 on US plates (models/README.md). Records write the letter
//! in a serial plate's letter group (355 OCT, OQK 466) and mostly 0 on vanity
//! plates (CHICAG0). The shape of a text (L for a letter, D for a digit) tells
//! the two apart: a read whose shape is rare among US plates, but common once
//! some of its zeros are letters, gets those letters.
//!
//! The shapes and their counts come from the real US training labels
//! (`train_reader.us_formats`, shipped in reader.json), as do each state's
//! own shapes, which weigh the region head's guess of the state
//! (`UsFormats::weigh_state`).
//!
//! Some countries issue a few shapes only (Brazil: LLL NNNN, and Mercosul
//! LLL N L NN). There a read of the right length whose shape is none of
//! them has characters of the wrong kind (D for 0, 0 for O): each goes back
//! to its runner-up when that is of the right kind
//! (`train_reader.fixed_shapes`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::reader::CharRead;

/// How much more often the shape with letters must occur than the shape as
/// read. Chosen on the training labels, each left out of the counts in turn:
/// at 5 the rule gives 9 of them the right letter O and 5 a wrong one (four
/// are Nebraska and Missouri plates 0JW695, labelled with 0, whose pattern
/// Louisiana's OQK466 is labelled with O); at 3 and 4 it gives 11 and 9 right
/// but 15 and 12 wrong; at 10 it misses the pattern OQK466 altogether.
const MORE_COMMON: u32 = 5;

/// Zeros considered per read: 2^4 - 1 readings at most.
const ZEROS_MAX: usize = 4;

/// The least probability a runner-up needs to replace a character of the
/// wrong kind in a fixed-shape region. Only an unsure character is bent into
/// the shape: a European plate the region head takes for a Mercosul one
/// (both have a blue band) reads its characters surely, while the held-out
/// Brazilian misreads this mends have runner-ups of 7% and 9%.
const RUNNER_UP_MIN: f32 = 0.02;

/// reader.json's `us_formats`, as written.
#[derive(Debug, Default, Deserialize)]
pub struct FormatsMeta {
    regions: Vec<String>,
    shapes: BTreeMap<String, u32>,
    /// Per state, its training labels' shapes as the reader writes them
    /// (O as 0). Absent from an older reader.json: no state is weighed.
    #[serde(default)]
    by_state: BTreeMap<String, BTreeMap<String, u32>>,
}

/// reader.json's `fixed_shapes`: region code to the shapes its plates have.
pub type FixedMeta = BTreeMap<String, Vec<String>>;

/// Letter and digit shapes of US plates and how often each occurs.
#[derive(Debug, Default)]
pub struct UsFormats {
    /// State codes, as the reader's regions name them.
    regions: Vec<String>,
    shapes: HashMap<Vec<Kind>, u32>,
    states: StateShapes,
}

/// How likely a shape is on each state's plates, from its training labels
/// (about 12 a state), smoothed toward all states' shapes.
#[derive(Debug, Default)]
struct StateShapes {
    /// Lower-case state code to its shapes' counts and their total.
    by_state: HashMap<String, (HashMap<Vec<Kind>, u32>, u32)>,
    all: HashMap<Vec<Kind>, u32>,
    total: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Letter,
    Digit,
}

fn kind(c: char) -> Kind {
    if c.is_ascii_digit() {
        Kind::Digit
    } else {
        Kind::Letter
    }
}

/// A shape written with `L` and `D`.
fn parse_shape(shape: &str) -> Result<Vec<Kind>, String> {
    shape
        .chars()
        .map(|c| match c {
            'L' => Ok(Kind::Letter),
            'D' => Ok(Kind::Digit),
            other => Err(format!("shape {shape:?}: {other:?} is neither L nor D")),
        })
        .collect()
}

impl UsFormats {
    /// Checks every shape is made of `L` and `D` only.
    pub fn parse(meta: FormatsMeta) -> Result<UsFormats, String> {
        let mut shapes = HashMap::with_capacity(meta.shapes.len());
        for (shape, count) in meta.shapes {
            shapes.insert(parse_shape(&shape)?, count);
        }
        let mut states = StateShapes::default();
        for (state, counts) in meta.by_state {
            let mut own = HashMap::with_capacity(counts.len());
            let mut total = 0u32;
            for (shape, count) in counts {
                let shape = parse_shape(&shape).map_err(|e| format!("{state}: {e}"))?;
                *states.all.entry(shape.clone()).or_default() += count;
                own.insert(shape, count);
                total = total.saturating_add(count);
            }
            states.total = states.total.saturating_add(total);
            states
                .by_state
                .insert(state.to_ascii_lowercase(), (own, total));
        }
        Ok(UsFormats {
            regions: meta.regions,
            shapes,
            states,
        })
    }

    /// Whether a region code (`CA`, `ne`) is a US state.
    pub fn is_us(&self, region: &str) -> bool {
        self.regions.iter().any(|r| r.eq_ignore_ascii_case(region))
    }

    fn count(&self, shape: &[Kind]) -> u32 {
        self.shapes.get(shape).copied().unwrap_or(0)
    }

    /// The positions of `text`'s characters (by index) that are the letter O
    /// rather than the digit 0; empty when the text reads best as it is.
    pub fn letter_os(&self, text: &[char]) -> Vec<usize> {
        let zeros: Vec<usize> = (0..text.len()).filter(|&i| text[i] == '0').collect();
        if zeros.is_empty() || zeros.len() > ZEROS_MAX {
            return Vec::new();
        }
        let as_read: Vec<Kind> = text.iter().map(|&c| kind(c)).collect();
        let mut best: (u32, Vec<usize>) = (0, Vec::new());
        for subset in 1..(1u32 << zeros.len()) {
            let os: Vec<usize> = (0..zeros.len())
                .filter(|b| subset & (1 << b) != 0)
                .map(|b| zeros[b])
                .collect();
            let mut shape = as_read.clone();
            for &i in &os {
                shape[i] = Kind::Letter;
            }
            let count = self.count(&shape);
            if count > best.0 && plausible(text, &shape, &os) {
                best = (count, os);
            }
        }
        if best.0 >= MORE_COMMON * self.count(&as_read).max(1) {
            best.1
        } else {
            Vec::new()
        }
    }
}

/// A US read of a shape no training label has, whose unsure first or last
/// character dropped leaves a shape at least this common, read a frame's
/// edge, a screw or a separator as a character.
const COMMON_SHAPE: u32 = 20;

impl UsFormats {
    /// The end of a US read that is not the plate's: dropped, an unseen
    /// shape becomes a common one (4878PEG, DDDDLLL, never seen; 878PEG,
    /// DDDLLL, the commonest). Only an unsure character (under 0.9) goes,
    /// and only from a shape no label has, so a vanity plate, or a rare
    /// serial one read surely, stays as read.
    pub fn extra_end(&self, read: &[CharRead]) -> Option<usize> {
        let shape: Vec<Kind> = read.iter().map(|c| kind(c.ch)).collect();
        if shape.len() <= 4 || self.count(&shape) > 0 {
            return None;
        }
        [0, shape.len() - 1]
            .into_iter()
            .filter(|&i| read[i].confidence < UNSURE)
            .map(|i| {
                let mut rest = shape.clone();
                rest.remove(i);
                (self.count(&rest), i)
            })
            .filter(|&(count, _)| count >= COMMON_SHAPE)
            .max()
            .map(|(_, i)| i)
    }
}

/// How far a state's own shapes pull toward all states' (a pseudo-count):
/// chosen on the real US training labels, each left out in turn, as the
/// value that best predicts a label's shape from its state's other labels
/// (1 to 16 tried; 4 best).
const STATE_PULL: f32 = 4.0;

/// Pseudo-count of every shape among all states' shapes, so a shape no
/// label has (a vanity plate's) is unlikely everywhere, alike (2 to 8
/// tried the same way; 8 a little better, 4 kept as the rounder middle).
const SHAPE_PULL: f32 = 4.0;

/// Shapes counted as unseen for the smoothing: more exist than the labels show.
const UNSEEN_SHAPES: f32 = 20.0;

impl UsFormats {
    /// The state of a US read, weighing the region head's guess with how
    /// often each state issues the read's shape: P(state | plate) is taken
    /// as P(state | image) × P(shape | state), up to a constant. The head
    /// names the state right on 77.6% of held-out real crops; many states
    /// share a shape, but some are nearly alone in theirs (California's
    /// 7ABC123), and a head torn between two states is settled by them.
    ///
    /// `log_probs` pairs each region the head knows with its log
    /// probability; only US states are weighed, and their share of the
    /// head's probability is kept. None when no state has counts.
    pub fn weigh_state<'a>(
        &self,
        log_probs: impl Iterator<Item = (&'a str, f32)>,
        text: &[char],
    ) -> Option<(String, f32)> {
        if self.states.by_state.is_empty() {
            return None;
        }
        let shape: Vec<Kind> = text
            .iter()
            .map(|&c| if c == 'O' { Kind::Digit } else { kind(c) })
            .collect();
        let kinds = self.states.all.len() as f32 + UNSEEN_SHAPES;
        let everywhere = (self.states.all.get(&shape).copied().unwrap_or(0) as f32 + SHAPE_PULL)
            / (self.states.total as f32 + SHAPE_PULL * kinds);
        let mut scored: Vec<(&str, f32, f32)> = Vec::new();
        for (name, lp) in log_probs {
            if !self.is_us(name) || !lp.is_finite() {
                continue;
            }
            let (own, n) = self
                .states
                .by_state
                .get(&name.to_ascii_lowercase())
                .map(|(own, n)| (own.get(&shape).copied().unwrap_or(0), *n))
                .unwrap_or((0, 0));
            let likely = (own as f32 + STATE_PULL * everywhere) / (n as f32 + STATE_PULL);
            scored.push((name, lp, lp + likely.ln()));
        }
        let best = scored.iter().max_by(|a, b| a.2.total_cmp(&b.2))?;
        let top = best.2;
        let weighed: f32 = scored.iter().map(|s| (s.2 - top).exp()).sum();
        let head_us: f32 = scored.iter().map(|s| s.1.exp()).sum();
        Some((best.0.to_ascii_uppercase(), head_us / weighed))
    }
}

/// The shapes of regions that issue a few shapes only.
#[derive(Debug, Default)]
pub struct FixedShapes {
    /// Lower-case region code to its shapes.
    regions: HashMap<String, Vec<Vec<Kind>>>,
}

impl FixedShapes {
    /// Checks every shape is made of `L` and `D` only.
    pub fn parse(meta: FixedMeta) -> Result<FixedShapes, String> {
        let mut regions = HashMap::with_capacity(meta.len());
        for (region, shapes) in meta {
            let shapes = shapes
                .iter()
                .map(|s| parse_shape(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{region}: {e}"))?;
            regions.insert(region.to_ascii_lowercase(), shapes);
        }
        Ok(FixedShapes { regions })
    }

    /// The positions of `read` to put back to their runner-up so that it has
    /// one of `region`'s shapes, the likeliest such reading (its runner-ups'
    /// probabilities over the read's highest); empty when it already has one,
    /// the region has no fixed shapes, or no runner-ups of at least
    /// `RUNNER_UP_MIN` make one.
    pub fn runner_ups(&self, region: &str, read: &[CharRead]) -> Vec<usize> {
        let Some(shapes) = self.regions.get(&region.to_ascii_lowercase()) else {
            return Vec::new();
        };
        let as_read: Vec<Kind> = read.iter().map(|c| kind(c.ch)).collect();
        if shapes.contains(&as_read) {
            return Vec::new();
        }
        let mut best: Option<(f32, Vec<usize>)> = None;
        for shape in shapes.iter().filter(|s| s.len() == read.len()) {
            let wrong: Vec<usize> = (0..read.len())
                .filter(|&i| shape[i] != as_read[i])
                .collect();
            let odds = wrong
                .iter()
                .try_fold(1.0f32, |odds, &i| match read[i].second {
                    Some((ch, p)) if kind(ch) == shape[i] && p >= RUNNER_UP_MIN => {
                        Some(odds * p / read[i].confidence.max(f32::MIN_POSITIVE))
                    }
                    _ => None,
                });
            if let Some(odds) = odds
                && best.as_ref().is_none_or(|(b, _)| odds > *b)
            {
                best = Some((odds, wrong));
            }
        }
        best.map(|(_, wrong)| wrong).unwrap_or_default()
    }
}

/// The registrations European countries issue, as runs of letters (`L`)
/// and digits (`D`), a run's length fixed (`L2`) or a range (`L1-3`),
/// separators left out. The region head names the country of a European
/// plate on about a third of rendered plates (models/README.md), so a read
/// is judged against every country's patterns, and its own country's are
/// preferred where a change is chosen. Slovakia and Hungary are here though
/// the reader has no region for them: their plates read as European
/// plates of another country.
const EUROPE: &[(&str, &[&str])] = &[
    // Since 2001 (AB51 ABC); the prefix series before it (A123 BCD).
    ("uk", &["L2D2L3", "L1D1-3L3"]),
    // District, letters, digits; E (electric) and H (historic) after.
    ("eu-d", &["L1-3L1-2D1-4", "L1-3L1-2D1-3L1"]),
    ("eu-f", &["L2D3L2"]),
    ("eu-i", &["L2D3L2"]),
    ("eu-e", &["D4L3"]),
    // The Dutch side codes 1 to 14.
    (
        "eu-nl",
        &[
            "L2D2D2", "D2D2L2", "D2L2D2", "L2D2L2", "L2L2D2", "D2L2L2", "D2L3D1", "D1L3D2",
            "L2D3L1", "L1D3L2", "L3D2L1", "L1D2L3", "D1L2D3", "D3L2D1",
        ],
    ),
    ("eu-b", &["D1L3D3"]),
    (
        "eu-pl",
        &[
            "L2D5", "L2D4L1", "L2D3L2", "L2D1L1D3", "L2D1L2D2", "L3L1D3", "L3D2L2", "L3D1L1D2",
            "L3D2L1D1", "L3D1L2D1", "L3L2D2",
        ],
    ),
    ("eu-a", &["L1-2D1-5L1-3", "L1-2L1-3D1-5"]),
    ("eu-cz", &["D1L1D1D4", "D1L2D4"]),
    ("eu-sk", &["L2D3L2"]),
    ("eu-hu", &["L3D3", "L4D3"]),
    ("eu-dk", &["L2D5"]),
    ("eu-s", &["L3D3", "L3D2L1"]),
    ("eu-p", &["L2D2L2", "D2D2L2", "D2L2D2", "L2D2D2"]),
    ("eu-ro", &["L1D2L3", "L1D3L3", "L2D2L3"]),
];

/// Letters and digits a reader takes for one another; only these trade
/// places when a read is put into a pattern.
const LOOK_ALIKES: &[(char, char)] = &[
    ('O', '0'),
    ('D', '0'),
    ('Q', '0'),
    ('I', '1'),
    ('Z', '2'),
    ('Z', '7'),
    ('S', '5'),
    ('B', '8'),
    ('G', '6'),
    ('A', '4'),
];

/// A character read at least this surely is never changed to fit a
/// pattern: a special or foreign plate keeps what the reader saw.
const UNSURE: f32 = 0.9;

/// One change that puts a read into a pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Settle {
    /// The character at this place is the other of a look-alike pair; the
    /// character as read keeps this probability (its runner-up's, where the
    /// runner-up is the look-alike, else half of what the two leave).
    Swap(usize, char, f32),
    /// The character at this end (the EU band's letter, a frame's edge) is
    /// not part of the registration.
    Drop(usize),
}

/// European patterns, expanded to shapes.
#[derive(Debug)]
pub struct Europe {
    countries: HashMap<&'static str, Vec<Vec<Kind>>>,
}

impl Default for Europe {
    fn default() -> Self {
        let countries = EUROPE
            .iter()
            .map(|&(code, patterns)| {
                // No plate is longer than the reader reports (9).
                let mut shapes: Vec<Vec<Kind>> = patterns
                    .iter()
                    .flat_map(|p| expand(p))
                    .filter(|s| s.len() <= 9)
                    .collect();
                shapes.sort_by_key(|s| s.iter().map(|&k| k == Kind::Digit).collect::<Vec<_>>());
                shapes.dedup();
                (code, shapes)
            })
            .collect();
        Europe { countries }
    }
}

impl Europe {
    /// Whether a region code (`EU-D`, `UK`) names a European country.
    pub fn is_european(region: &str) -> bool {
        region.eq_ignore_ascii_case("uk")
            || region
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("eu-"))
    }

    fn fits(&self, shape: &[Kind], country: Option<&str>) -> bool {
        match country {
            Some(c) => self
                .countries
                .get(c)
                .is_some_and(|s| s.iter().any(|s| s == shape)),
            None => self.countries.values().flatten().any(|s| s == shape),
        }
    }

    /// The one change that puts a European read into an issued pattern, or
    /// none when it fits one already or no single change makes it fit.
    /// Against the guessed country's patterns first, then every country's:
    /// a read that fits is left, else the likeliest swap of an unsure
    /// look-alike that fits is made (the runner-up's probability where the
    /// runner-up is the look-alike); where none does, a character at an end
    /// is dropped.
    pub fn settle(&self, region: &str, read: &[CharRead]) -> Option<Settle> {
        let own = region.to_ascii_lowercase();
        let own = self.countries.contains_key(own.as_str()).then_some(own);
        // The guessed country's patterns first, then every country's: a
        // read that fits either is left as it is.
        let targets = [own.as_deref(), None];
        let targets = &targets[usize::from(own.is_none())..];
        let shape: Vec<Kind> = read.iter().map(|c| kind(c.ch)).collect();
        for &target in targets {
            if self.fits(&shape, target) {
                return None;
            }
            if let Some(swap) = self.swap(read, &shape, target) {
                return Some(swap);
            }
        }
        // Nothing fits and no swap makes it: a character at an end that is
        // not the plate's. The first when it is a letter (the band's: H, W,
        // B, J, Q are what the blue band reads as), the last when unsure (a
        // frame's edge, a separator).
        let n = shape.len();
        if n <= 4 {
            return None;
        }
        let ends = [
            (0, kind(read[0].ch) == Kind::Letter),
            (n - 1, read[n - 1].confidence < UNSURE),
        ];
        targets.iter().find_map(|&target| {
            ends.iter().find_map(|&(i, may)| {
                let mut rest = shape.clone();
                rest.remove(i);
                (may && self.fits(&rest, target)).then_some(Settle::Drop(i))
            })
        })
    }

    /// The likeliest swap of one unsure look-alike that fits `target`'s
    /// patterns (every country's for `None`).
    fn swap(&self, read: &[CharRead], shape: &[Kind], target: Option<&str>) -> Option<Settle> {
        let mut best: Option<(f32, Settle)> = None;
        for (i, c) in read.iter().enumerate() {
            if c.confidence >= UNSURE {
                continue;
            }
            for to in look_alikes(c.ch) {
                let mut changed = shape.to_vec();
                changed[i] = kind(to);
                if !self.fits(&changed, target) {
                    continue;
                }
                let p = match c.second {
                    Some((ch, p)) if ch == to => p,
                    // Not the runner-up: at most what the runner-up left.
                    Some((_, p)) => (1.0 - c.confidence - p).max(0.0) / 2.0,
                    None => (1.0 - c.confidence) / 2.0,
                };
                if best.as_ref().is_none_or(|(b, _)| p > *b) {
                    best = Some((p, Settle::Swap(i, to, p)));
                }
            }
        }
        best.map(|(_, s)| s)
    }
}

/// The other halves of `c`'s look-alike pairs.
fn look_alikes(c: char) -> impl Iterator<Item = char> {
    LOOK_ALIKES.iter().filter_map(move |&(l, d)| {
        if l == c {
            Some(d)
        } else if d == c {
            Some(l)
        } else {
            None
        }
    })
}

/// The shapes a pattern such as `L1-3L1-2D1-4` stands for.
fn expand(pattern: &str) -> Vec<Vec<Kind>> {
    let mut shapes: Vec<Vec<Kind>> = vec![Vec::new()];
    let mut chars = pattern.chars().peekable();
    while let Some(k) = chars.next() {
        let kind = if k == 'L' { Kind::Letter } else { Kind::Digit };
        let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut n = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            n
        };
        let low = number(&mut chars);
        let high = if chars.peek() == Some(&'-') {
            chars.next();
            number(&mut chars)
        } else {
            low
        };
        shapes = shapes
            .iter()
            .flat_map(|s| {
                (low..=high).map(move |n| {
                    let mut s = s.clone();
                    s.extend(std::iter::repeat_n(kind, n));
                    s
                })
            })
            .collect();
    }
    shapes
}

/// A serial plate has letters and digits, and an O stands among other
/// letters: 200OOO is not a reading of 200000.
fn plausible(text: &[char], shape: &[Kind], os: &[usize]) -> bool {
    if !shape.contains(&Kind::Digit) || !shape.contains(&Kind::Letter) {
        return false;
    }
    os.iter().all(|&i| {
        // The run of letters around position i holds a letter read as one.
        let run = |range: &mut dyn Iterator<Item = usize>| {
            range
                .take_while(|&k| shape[k] == Kind::Letter)
                .any(|k| text[k] != '0')
        };
        run(&mut (0..i).rev()) || run(&mut (i + 1..text.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formats(shapes: &[(&str, u32)]) -> UsFormats {
        UsFormats::parse(FormatsMeta {
            regions: vec!["ia".into(), "la".into()],
            shapes: shapes.iter().map(|&(s, n)| (s.to_string(), n)).collect(),
            by_state: BTreeMap::new(),
        })
        .unwrap()
    }

    /// California issues 7ABC123 and few else; Nevada and Texas share
    /// three-letter serials; counts as small as the real labels' (about 12 a state).
    fn with_states() -> UsFormats {
        let state = |shapes: &[(&str, u32)]| -> BTreeMap<String, u32> {
            shapes.iter().map(|&(s, n)| (s.to_string(), n)).collect()
        };
        UsFormats::parse(FormatsMeta {
            regions: vec!["ca".into(), "nv".into(), "tx".into()],
            shapes: BTreeMap::new(),
            by_state: [
                ("ca".to_string(), state(&[("DLLLDDD", 13), ("LLLLLLL", 3)])),
                (
                    "nv".to_string(),
                    state(&[("DDDLLL", 6), ("DDLDDDD", 4), ("LLLLL", 2)]),
                ),
                ("tx".to_string(), state(&[("LLLDDDD", 9), ("LLDDDDD", 2)])),
            ]
            .into_iter()
            .collect(),
        })
        .unwrap()
    }

    fn head<'a>(p: &'a [(&'a str, f32)]) -> impl Iterator<Item = (&'a str, f32)> + 'a {
        p.iter().map(|&(r, p)| (r, p.ln()))
    }

    #[test]
    fn a_state_s_own_shape_settles_a_torn_head() {
        let f = with_states();
        let chars: Vec<char> = "7ABC123".chars().collect();
        // The head leans to Nevada; only California issues this shape.
        let torn = [("nv", 0.5), ("ca", 0.3), ("tx", 0.1), ("br", 0.1)];
        let (state, p) = f.weigh_state(head(&torn), &chars).unwrap();
        assert_eq!(state, "CA");
        // The US share of the head's belief is kept, Brazil's left out.
        assert!(p > 0.5 && p <= 0.9, "{p}");
        // The read's O is the reader's 0: 7OBC123 is still California's shape.
        let with_o: Vec<char> = "7OBC123".chars().collect();
        let as_o: Vec<char> = "70BC123".chars().collect();
        assert_eq!(
            f.weigh_state(head(&torn), &with_o),
            f.weigh_state(head(&torn), &as_o)
        );
    }

    #[test]
    fn a_sure_head_or_a_shape_no_state_issues_leaves_the_head_s_guess() {
        let f = with_states();
        let sure = [("nv", 0.97), ("ca", 0.02), ("tx", 0.01)];
        let chars: Vec<char> = "7ABC123".chars().collect();
        assert_eq!(f.weigh_state(head(&sure), &chars).unwrap().0, "NV");
        // A vanity word is weighed by the states that issue its shape.
        let vanity: Vec<char> = "BEARCUB".chars().collect();
        let torn = [("tx", 0.4), ("ca", 0.35), ("nv", 0.25)];
        let weighed = f.weigh_state(head(&torn), &vanity).unwrap().0;
        assert_eq!(weighed, "CA", "LLLLLLL is a shape California has");
        // A shape no label has: the head decides (the smoothing favours a
        // state with fewer labels only a little).
        let odd: Vec<char> = "AB1C2D3E".chars().collect();
        assert_eq!(f.weigh_state(head(&torn), &odd).unwrap().0, "TX");
        // No US state in the head's list: nothing to weigh.
        assert_eq!(f.weigh_state(head(&[("br", 1.0)]), &chars), None);
        // An older reader.json without per-state shapes weighs nothing.
        assert_eq!(formats(COMMON).weigh_state(head(&torn), &chars), None);
    }

    fn resolved(f: &UsFormats, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for i in f.letter_os(&chars) {
            chars[i] = 'O';
        }
        chars.into_iter().collect()
    }

    const COMMON: &[(&str, u32)] = &[
        ("DDDLLL", 100),
        ("LLLDDD", 89),
        ("LLLLLLL", 24),
        ("DDDDLL", 15),
        ("DLLDDD", 12),
        ("DDDDDD", 23),
        ("LLDDDD", 20),
    ];

    #[test]
    fn a_serial_letter_group_gets_its_o() {
        let f = formats(COMMON);
        assert_eq!(resolved(&f, "3550CT"), "355OCT");
        assert_eq!(resolved(&f, "778A0S"), "778AOS");
        assert_eq!(resolved(&f, "444N0Q"), "444NOQ");
        // DLLDDD is a pattern of its own, but far rarer than LLLDDD.
        assert_eq!(resolved(&f, "0QK466"), "OQK466");
    }

    #[test]
    fn common_shapes_and_vanity_words_keep_their_zeros() {
        let f = formats(COMMON);
        // Already a common shape as read.
        assert_eq!(resolved(&f, "810NUS"), "810NUS");
        assert_eq!(resolved(&f, "WH0515"), "WH0515");
        // Letters only is no serial plate: a vanity word keeps its 0.
        assert_eq!(resolved(&f, "CHICAG0"), "CHICAG0");
        // All zeros: no run of letters for an O to join.
        assert_eq!(resolved(&f, "200000"), "200000");
        assert_eq!(resolved(&f, "ABC123"), "ABC123");
    }

    #[test]
    fn unknown_shapes_and_many_zeros_are_left_alone() {
        let f = formats(COMMON);
        assert_eq!(resolved(&f, "0"), "0");
        assert_eq!(resolved(&f, "A00000B"), "A00000B");
        assert!(
            formats(&[])
                .letter_os(&"3550CT".chars().collect::<Vec<_>>())
                .is_empty()
        );
    }

    #[test]
    fn a_bad_shape_is_refused_with_its_name() {
        let err = UsFormats::parse(FormatsMeta {
            regions: vec![],
            shapes: [("DDX".to_string(), 1)].into(),
            by_state: BTreeMap::new(),
        })
        .unwrap_err();
        assert!(err.contains("\"DDX\""), "{err}");
        let err = UsFormats::parse(FormatsMeta {
            regions: vec![],
            shapes: BTreeMap::new(),
            by_state: [("ca".to_string(), [("D7".to_string(), 1)].into())].into(),
        })
        .unwrap_err();
        assert!(err.contains("ca") && err.contains("\"D7\""), "{err}");
    }

    fn brazil() -> FixedShapes {
        FixedShapes::parse([("br".to_string(), vec!["LLLDLDD".into(), "LLLDDDD".into()])].into())
            .unwrap()
    }

    fn seen(text: &str, runner_ups: &[(usize, char, f32)]) -> Vec<CharRead> {
        text.chars()
            .enumerate()
            .map(|(i, ch)| {
                let second = runner_ups.iter().find(|r| r.0 == i).map(|r| (r.1, r.2));
                CharRead {
                    ch,
                    confidence: 0.9,
                    second: second.or(Some(('#', 0.01))),
                }
            })
            .collect()
    }

    #[test]
    fn a_fixed_shape_puts_wrong_kinds_back_to_their_runner_ups() {
        let br = brazil();
        // GNF3490 read GNF349D, the 0 the runner-up.
        assert_eq!(
            br.runner_ups("BR", &seen("GNF349D", &[(6, '0', 0.09)])),
            vec![6]
        );
        // ATO5694 read AT05694.
        assert_eq!(
            br.runner_ups("br", &seen("AT05694", &[(2, 'O', 0.07)])),
            vec![2]
        );
        // Already one of the shapes (Mercosul, old): left as read.
        assert!(br.runner_ups("br", &seen("ABC1D23", &[])).is_empty());
        assert!(
            br.runner_ups("br", &seen("ABC1023", &[(4, 'D', 0.2)]))
                .is_empty()
        );
    }

    #[test]
    fn the_likelier_shape_wins_and_no_sure_runner_up_of_the_right_kind_changes_nothing() {
        let br = brazil();
        // The B must become a digit for either shape; the old shape would
        // also need Q to become 0, which is less likely than Mercosul's
        // letter there.
        let read = seen("ABC1Q2B", &[(4, '0', 0.05), (6, '8', 0.3)]);
        assert_eq!(br.runner_ups("br", &read), vec![6]);
        // The runner-up is a letter too: nothing to do.
        assert!(
            br.runner_ups("br", &seen("ABC12D4", &[(5, 'O', 0.3)]))
                .is_empty()
        );
        // A sure character stays, shape or not: its runner-up is below
        // RUNNER_UP_MIN.
        assert!(
            br.runner_ups("br", &seen("GNF349D", &[(6, '0', 0.01)]))
                .is_empty()
        );
        // Wrong length, or a region with no fixed shapes.
        assert!(br.runner_ups("br", &seen("ABC12", &[])).is_empty());
        assert!(
            br.runner_ups("ca", &seen("GNF349D", &[(6, '0', 0.09)]))
                .is_empty()
        );
    }

    fn sure(text: &str) -> Vec<CharRead> {
        text.chars()
            .map(|ch| CharRead {
                ch,
                confidence: 0.99,
                second: None,
            })
            .collect()
    }

    fn unsure_at(
        text: &str,
        i: usize,
        confidence: f32,
        second: Option<(char, f32)>,
    ) -> Vec<CharRead> {
        let mut read = sure(text);
        read[i].confidence = confidence;
        read[i].second = second;
        read
    }

    #[test]
    fn patterns_expand_to_every_run_length() {
        let shapes = expand("L1-2D3");
        assert_eq!(shapes.len(), 2);
        assert_eq!(shapes[0], parse_shape("LDDD").unwrap());
        assert_eq!(shapes[1], parse_shape("LLDDD").unwrap());
        // Every country's patterns are letters and digits, 4 to 9 long.
        for (code, shapes) in Europe::default().countries {
            assert!(!shapes.is_empty(), "{code}");
            assert!(shapes.iter().all(|s| (2..=9).contains(&s.len())), "{code}");
        }
    }

    #[test]
    fn a_read_that_fits_a_pattern_is_left_as_it_is() {
        let eu = Europe::default();
        assert_eq!(eu.settle("UK", &sure("AB51ABC")), None);
        assert_eq!(eu.settle("EU-F", &sure("AB123CD")), None);
        // A British pattern read under another country's guess still fits.
        assert_eq!(eu.settle("EU-D", &sure("AB51ABC")), None);
    }

    #[test]
    fn one_look_alike_puts_a_read_into_its_country_s_pattern() {
        let eu = Europe::default();
        // UK LLNNLLL: AB51 ABC read AB5I ABC, the I unsure.
        let read = unsure_at("AB5IABC", 3, 0.6, Some(('1', 0.3)));
        assert_eq!(eu.settle("UK", &read), Some(Settle::Swap(3, '1', 0.3)));
        // French AB-123-CD read AB-I23-CD: the runner-up was T, but the
        // look-alike 1 is what fits.
        let read = unsure_at("ABI23CD", 2, 0.7, Some(('T', 0.2)));
        let Some(Settle::Swap(2, '1', p)) = eu.settle("EU-F", &read) else {
            panic!("{:?}", eu.settle("EU-F", &read));
        };
        assert!(
            (p - 0.05).abs() < 1e-6,
            "half of what the runner-up left: {p}"
        );
        // Czech 1A2 3456 read 1A2 34S6.
        let read = unsure_at("1A234S6", 5, 0.55, Some(('5', 0.4)));
        assert_eq!(eu.settle("EU-CZ", &read), Some(Settle::Swap(5, '5', 0.4)));
    }

    #[test]
    fn sure_reads_and_special_plates_are_never_forced() {
        let eu = Europe::default();
        // A sure character that breaks every pattern stays.
        assert_eq!(eu.settle("UK", &sure("AB5IABC")), None);
        // Nothing fits after one change: left alone.
        let read = unsure_at("A1B2C3D4", 1, 0.5, Some(('I', 0.4)));
        assert_eq!(eu.settle("UK", &read), None);
        // A look-alike that is not a letter-digit pair is no change.
        let read = unsure_at("AB5KABC", 3, 0.5, Some(('X', 0.4)));
        assert_eq!(eu.settle("UK", &read), None);
    }

    #[test]
    fn the_band_s_letter_is_dropped_when_the_rest_fits() {
        let eu = Europe::default();
        // A French plate with the band's F read in front: FAB123CD.
        assert_eq!(eu.settle("EU-F", &sure("FAB123CD")), Some(Settle::Drop(0)));
        // A frame's edge read unsurely as a 1 after a Spanish 1234BCD; read
        // surely, it stays.
        let read = unsure_at("1234BCD1", 7, 0.6, None);
        assert_eq!(eu.settle("EU-E", &read), Some(Settle::Drop(7)));
        assert_eq!(eu.settle("EU-E", &sure("1234BCD1")), None);
        assert!(Europe::is_european("eu-pl") && Europe::is_european("UK"));
        assert!(!Europe::is_european("BR") && !Europe::is_european("CA"));
    }

    #[test]
    fn an_unsure_extra_end_of_a_us_read_is_dropped_where_the_rest_is_common() {
        let f = formats(COMMON);
        // 878PEG read 4878PEG, the 4 unsure: DDDDLLL no label has.
        let read = unsure_at("4878PEG", 0, 0.6, Some(('1', 0.2)));
        assert_eq!(f.extra_end(&read), Some(0));
        // Surely read: stays.
        assert_eq!(f.extra_end(&sure("4878PEG")), None);
        // A shape labels have (LLLLLLL, a vanity word) stays, however unsure.
        assert_eq!(f.extra_end(&unsure_at("GOBEARS", 6, 0.5, None)), None);
        // The rest no common shape: stays.
        assert_eq!(f.extra_end(&unsure_at("A1B2C3D", 0, 0.5, None)), None);
    }

    #[test]
    fn states_are_us_in_any_case() {
        let f = formats(COMMON);
        assert!(f.is_us("IA") && f.is_us("la"));
        assert!(!f.is_us("BR") && !f.is_us("EU-D"));
    }
}
