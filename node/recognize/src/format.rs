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
//! (`train_reader.us_formats`, shipped in reader.json).
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
}

/// reader.json's `fixed_shapes`: region code to the shapes its plates have.
pub type FixedMeta = BTreeMap<String, Vec<String>>;

/// Letter and digit shapes of US plates and how often each occurs.
#[derive(Debug, Default)]
pub struct UsFormats {
    /// State codes, as the reader's regions name them.
    regions: Vec<String>,
    shapes: HashMap<Vec<Kind>, u32>,
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
        Ok(UsFormats {
            regions: meta.regions,
            shapes,
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
        })
        .unwrap()
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
        })
        .unwrap_err();
        assert!(err.contains("\"DDX\""), "{err}");
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

    #[test]
    fn states_are_us_in_any_case() {
        let f = formats(COMMON);
        assert!(f.is_us("IA") && f.is_us("la"));
        assert!(!f.is_us("BR") && !f.is_us("EU-D"));
    }
}
