//! Plate recognition on one frame: locate → crop and deskew → read → rank.
//!
//! The detector (`detect`, learned) proposes plates; each becomes a crop of
//! the plate levelled by the roll of its strokes (`gray`); the reader
//! (`reader`) reads every crop in one batch; reads that do not look like a
//! plate are dropped, overlapping ones keep the most confident; each plate
//! keeps its runner-up texts as candidates for matching. Pure computation on
//! a decoded frame: no file, no clock.

pub mod detect;
pub mod format;
pub mod gray;
pub mod reader;
pub mod track;

use image::RgbImage;

pub use detect::{Candidate, DetectConfig, Detector};
pub use gray::Gray;
pub use reader::{CharRead, Reader, TextRead};

#[derive(Debug, thiserror::Error)]
pub enum RecognizeError {
    #[error("model: {0}")]
    Model(String),
}

/// Alternatives kept per plate, the read text first.
pub const CANDIDATES_MAX: usize = 5;

/// Second looks at an unsure plate-length read: the plate cut again with
/// this share of its height off the top, then off the bottom, and the three
/// looks read together (`Reader::decide`: their probabilities averaged step
/// by step). On the held-out crops in the node with the previous reader:
/// real US 94.1% exact, BR 93.6%, against 92.8% and 93.6% with the rule
/// before it (both second looks agreeing on another text override the
/// first read). Reads whose weakest character is at
/// least [`SURE_ENOUGH`] are not looked at again: looking again at every
/// read fixed no more US plates, lost a BR one, and costs two crops a plate.
const SECOND_LOOK_CUT: f32 = 0.08;
const SURE_ENOUGH: f32 = 0.9;

/// Fine windows per still photo (see [`RecognizeConfig::for_stills`]).
const STILL_WINDOWS: usize = 12;

/// The crop around a detected plate, relative to the detector's box.
const DETECTED_WIDTH: f32 = 1.0;
const DETECTED_HEIGHT: f32 = 0.95;

#[derive(Debug, Clone, Copy)]
pub struct RecognizeConfig {
    pub detect: DetectConfig,
    /// Plates whose weakest character is below this are not reported.
    pub char_confidence_min: f32,
    /// Reads shorter than this are not plates (a logo, a window).
    pub text_len_min: usize,
    pub text_len_max: usize,
    /// Whether an unsure read of a plate that looks light on dark is also
    /// read inverted.
    pub invert_dark: bool,
}

impl Default for RecognizeConfig {
    fn default() -> Self {
        RecognizeConfig {
            detect: DetectConfig::default(),
            char_confidence_min: 0.6,
            text_len_min: 4,
            text_len_max: 9,
            invert_dark: true,
        }
    }
}

impl RecognizeConfig {
    /// For still photos rather than a camera's stream: a photo has no next
    /// frame in which a far plate comes nearer, so a middling frame is also
    /// looked at finely around the first pass's faint and small plates
    /// (`DetectConfig::fine_windows`), for a few milliseconds more.
    pub fn for_stills() -> RecognizeConfig {
        let mut config = RecognizeConfig::default();
        config.detect.fine_windows = STILL_WINDOWS;
        config
    }

    /// Whether a read has a plate's number of characters.
    fn plate_length(&self, read: &TextRead) -> bool {
        (self.text_len_min..=self.text_len_max).contains(&read.chars.len())
    }

    /// Whether a read is reported as a plate: a plate's length, and no
    /// character below the confidence floor.
    fn reportable(&self, read: &TextRead) -> bool {
        self.plate_length(read) && weakest(read) >= self.char_confidence_min
    }
}

/// An alternative reading of a plate and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    pub text: String,
    pub confidence: f32,
}

/// A plate found in a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateRead {
    pub text: String,
    /// The weakest character's confidence: a plate is as sure as its least
    /// sure character.
    pub confidence: f32,
    pub char_confidences: Vec<f32>,
    pub region: Option<(String, f32)>,
    /// The plate's axis-aligned box in the frame: `[x, y, w, h]`.
    pub bbox: [u32; 4],
    /// The best texts, most probable first; the first is `text`.
    pub candidates: Vec<Alternative>,
}

/// The recognizer: the shipped reader and the localizer settings.
#[derive(Debug)]
pub struct Recognizer {
    detector: Detector,
    reader: Reader,
    config: RecognizeConfig,
}

impl Recognizer {
    pub fn shipped() -> Result<Recognizer, RecognizeError> {
        Ok(Recognizer {
            detector: Detector::shipped()?,
            reader: Reader::shipped()?,
            config: RecognizeConfig::default(),
        })
    }

    pub fn with_config(mut self, config: RecognizeConfig) -> Recognizer {
        self.config = config;
        self
    }

    pub fn config(&self) -> &RecognizeConfig {
        &self.config
    }

    /// Every plate in the frame, most confident first.
    pub fn recognize(&self, frame: &RgbImage) -> Result<Vec<PlateRead>, RecognizeError> {
        let gray = Gray::from_rgb(frame);
        // The detector measures the plate itself (its box holds the rolled
        // plate); the roll comes from the strokes inside.
        let plates: Vec<PlateBox> = self
            .detector
            .detect(&gray, &self.config.detect)?
            .iter()
            .map(|c| PlateBox::detected(c, &gray))
            .collect();
        let reads = self.read_plates(&gray, &plates)?;
        let mut found: Vec<PlateRead> = plates
            .iter()
            .zip(reads)
            .filter_map(|(plate, read)| self.accept(plate, read, frame.width(), frame.height()))
            .collect();
        found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        // One plate can yield several candidates (its band, its characters):
        // keep the most confident read of each place, unless a less
        // confident one is the whole of which it is a part.
        let mut kept: Vec<PlateRead> = Vec::with_capacity(found.len());
        for p in found {
            match kept.iter_mut().find(|k| overlap(k.bbox, p.bbox) >= 0.3) {
                None => kept.push(p),
                Some(k) if is_part_of(k, &p) => *k = p,
                Some(_) => {}
            }
        }
        Ok(kept)
    }

    /// Reads each plate; an unsure one whose text has a plate's length is
    /// looked at twice more (see [`SECOND_LOOK_CUT`]) and read from the
    /// three looks together. The first read's text, when the looks change
    /// it, stays as a candidate. A plate that looks light on dark is also
    /// read inverted, and the surer of the two reads goes on.
    fn read_plates(&self, gray: &Gray, plates: &[PlateBox]) -> Result<Vec<Looked>, RecognizeError> {
        let (h, w) = self.reader.input_size();
        let crops: Vec<Vec<f32>> = plates.iter().map(|p| p.crop(gray, w, h)).collect();
        let mut seen = self.reader.see(&crops)?;
        let mut looked: Vec<Looked> = seen
            .iter()
            .map(|s| Looked::alone(self.reader.decide(s, &[]), &self.config))
            .collect();
        // A plate that looks light on dark and is not read surely is read
        // inverted too; the surer read goes on, and its looks after it.
        let dark: Vec<usize> = (0..crops.len())
            .filter(|&i| {
                self.config.invert_dark
                    && weakest(&looked[i].read) < SURE_ENOUGH
                    && light_on_dark(&crops[i])
            })
            .collect();
        let turned: Vec<Vec<f32>> = dark.iter().map(|&i| inverted(&crops[i])).collect();
        let mut invert = vec![false; plates.len()];
        for (&i, s) in dark.iter().zip(self.reader.see(&turned)?) {
            let read = self.reader.decide(&s, &[]);
            if self.surer(&read, &looked[i].read) {
                invert[i] = true;
                seen[i] = s;
                looked[i] = Looked::alone(read, &self.config);
            }
        }
        let unsure: Vec<usize> = (0..looked.len())
            .filter(|&i| {
                let read = &looked[i].read;
                self.config.plate_length(read) && weakest(read) < SURE_ENOUGH
            })
            .collect();
        let looks: Vec<Vec<f32>> = unsure
            .iter()
            .flat_map(|&i| {
                let p = plates[i];
                [p.cut(SECOND_LOOK_CUT, 0.0), p.cut(0.0, SECOND_LOOK_CUT)].map(|p| (p, invert[i]))
            })
            .map(|(p, invert)| {
                let crop = p.crop(gray, w, h);
                if invert { inverted(&crop) } else { crop }
            })
            .collect();
        let again = self.reader.see(&looks)?;
        for (&i, pair) in unsure.iter().zip(again.chunks_exact(2)) {
            let together = self.reader.decide(&seen[i], &[&pair[0], &pair[1]]);
            looked[i] = Looked::together(&looked[i].read, together, &self.config);
        }
        Ok(looked)
    }

    /// Whether read `a` is surer than `b`: reported where `b` is not, or
    /// as reportable and with a surer weakest character.
    fn surer(&self, a: &TextRead, b: &TextRead) -> bool {
        let (ra, rb) = (self.config.reportable(a), self.config.reportable(b));
        (ra && !rb) || (ra == rb && weakest(a) > weakest(b))
    }

    fn accept(&self, plate: &PlateBox, looked: Looked, fw: u32, fh: u32) -> Option<PlateRead> {
        if !looked.plate {
            return None;
        }
        let read = looked.read;
        let char_confidences: Vec<f32> = read.chars.iter().map(|c| c.confidence).collect();
        let confidence = weakest(&read);
        let mut candidates = alternatives(&read.chars, CANDIDATES_MAX);
        // An overridden first read stays a candidate (last), so a hotlist
        // match on it is not lost.
        if let Some(first) = looked.first
            && candidates.iter().all(|c| c.text != first.text)
        {
            candidates.truncate(CANDIDATES_MAX - 1);
            candidates.push(first);
        }
        Some(PlateRead {
            text: read.text(),
            confidence,
            char_confidences,
            candidates,
            region: read.region,
            bbox: plate.bounds(fw, fh),
        })
    }

    /// Reads one crop that is already the plate (a detector elsewhere, a
    /// stored crop): no localization.
    pub fn read_crop(&self, crop: &RgbImage) -> Result<TextRead, RecognizeError> {
        let gray = Gray::from_rgb(crop);
        let plate = PlateBox {
            cx: crop.width() as f32 / 2.0,
            cy: crop.height() as f32 / 2.0,
            width: crop.width() as f32,
            height: crop.height() as f32,
            angle: 0.0,
        };
        let mut reads = self.read_plates(&gray, &[plate])?;
        reads
            .pop()
            .map(|looked| looked.read)
            .ok_or_else(|| RecognizeError::Model("the reader returned nothing".into()))
    }
}

/// A plate's read after any second looks, and the first read's text when
/// the second looks changed it.
struct Looked {
    read: TextRead,
    first: Option<Alternative>,
    /// Whether it is reported: a plate's length and no character below the
    /// floor, in the first read or in the three looks together. The looks
    /// together are surer of the text, not always of each character: a
    /// plate the first read had is not lost to them. The text reported is
    /// the looks', so it must have a plate's length itself (a fence's
    /// IIIII read together as I was reported as a plate).
    plate: bool,
}

impl Looked {
    fn alone(read: TextRead, config: &RecognizeConfig) -> Looked {
        Looked {
            plate: config.reportable(&read),
            read,
            first: None,
        }
    }

    /// The read of a plate's three looks `together` in place of its
    /// `first` read.
    fn together(first: &TextRead, together: TextRead, config: &RecognizeConfig) -> Looked {
        let text = first.text();
        let moved = together.text() != text;
        let confidence = first.chars.iter().map(|c| c.confidence).product();
        Looked {
            plate: config.plate_length(&together)
                && (config.reportable(first) || config.reportable(&together)),
            read: together,
            first: moved.then_some(Alternative { text, confidence }),
        }
    }
}

/// A plate's rotated rectangle in the frame.
#[derive(Debug, Clone, Copy)]
struct PlateBox {
    cx: f32,
    cy: f32,
    width: f32,
    height: f32,
    angle: f32,
}

impl PlateBox {
    fn detected(c: &Candidate, gray: &Gray) -> PlateBox {
        let angle = gray::roll_in(gray, c.cx, c.cy, c.width, c.height);
        // The box bounds the rolled plate (W = w cos + h sin, H = w sin +
        // h cos): the plate itself is a little smaller. |angle| <= 0.3, so
        // cos 2a >= 0.8.
        let (s, co) = angle.abs().sin_cos();
        let cos2 = co * co - s * s;
        let width = ((c.width * co - c.height * s) / cos2).max(c.width * 0.8);
        let height = ((c.height * co - c.width * s) / cos2).max(c.height * 0.6);
        PlateBox {
            cx: c.cx,
            cy: c.cy,
            width: width * DETECTED_WIDTH,
            height: height * DETECTED_HEIGHT,
            angle,
        }
    }

    /// The deskewed plate as `h x w` grey values in [0, 1]. The plate is
    /// first cut out level at about its own size in the frame, then resized
    /// with the triangle filter, whose support widens with the reduction:
    /// the resize the reader trained with (PIL's bilinear). A plain average
    /// of a few samples read 3 points fewer real US crops.
    fn crop(&self, gray: &Gray, w: usize, h: usize) -> Vec<f32> {
        // At most 6x the reader's input each way (768 x 192): a plate
        // filling a close-up frame gains nothing from more pixels, and the
        // cut stays cheap. Road plates (up to 300 x 150) are cut whole.
        let nw = (self.width.round() as usize).clamp(1, 6 * w);
        let nh = (self.height.round() as usize).clamp(1, 6 * h);
        let (s, c) = self.angle.sin_cos();
        let (step_x, step_y) = (self.width / nw as f32, self.height / nh as f32);
        let mut level = image::GrayImage::new(nw as u32, nh as u32);
        // Only a plate past the cap has steps over 1: each level pixel then
        // averages a few samples rather than alias.
        let samples = |step: f32| {
            if step > 1.5 {
                (step.ceil() as usize).min(4)
            } else {
                1
            }
        };
        let (nx, ny) = (samples(step_x), samples(step_y));
        for (i, j, px) in level.enumerate_pixels_mut() {
            let mut acc = 0.0;
            for sj in 0..ny {
                for si in 0..nx {
                    // Plate coordinates from the centre, then rotated into the frame.
                    let u = (i as f32 + (si as f32 + 0.5) / nx as f32) * step_x - self.width / 2.0;
                    let v = (j as f32 + (sj as f32 + 0.5) / ny as f32) * step_y - self.height / 2.0;
                    let x = self.cx + c * u - s * v - 0.5;
                    let y = self.cy + s * u + c * v - 0.5;
                    acc += gray.sample(x, y);
                }
            }
            px.0 = [(acc / (nx * ny) as f32).round() as u8];
        }
        let sized = image::imageops::resize(
            &level,
            w as u32,
            h as u32,
            image::imageops::FilterType::Triangle,
        );
        sized
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / 255.0)
            .collect()
    }

    /// The plate with `top` and `bottom` (shares of its height) cut off,
    /// along its own axes.
    fn cut(&self, top: f32, bottom: f32) -> PlateBox {
        let (s, c) = self.angle.sin_cos();
        // The centre moves down the plate's vertical axis by half of what
        // the top loses more than the bottom.
        let down = (top - bottom) / 2.0 * self.height;
        PlateBox {
            cx: self.cx - s * down,
            cy: self.cy + c * down,
            height: self.height * (1.0 - top - bottom),
            ..*self
        }
    }

    /// The axis-aligned box around the plate, clipped to the frame.
    fn bounds(&self, fw: u32, fh: u32) -> [u32; 4] {
        let (s, c) = self.angle.sin_cos();
        let bw = self.width * c.abs() + self.height * s.abs();
        let bh = self.width * s.abs() + self.height * c.abs();
        let x0 = (self.cx - bw / 2.0).max(0.0);
        let y0 = (self.cy - bh / 2.0).max(0.0);
        let x1 = (self.cx + bw / 2.0).min(fw as f32);
        let y1 = (self.cy + bh / 2.0).min(fh as f32);
        [
            x0 as u32,
            y0 as u32,
            (x1 - x0).max(1.0) as u32,
            (y1 - y0).max(1.0) as u32,
        ]
    }
}

/// Whether a crop (grey values in [0, 1]) looks like light characters on a
/// dark plate: most of it, the plate's ground, is nearer its dark end than
/// its light one. The reader learned mostly dark on light (one colour
/// scheme in eight is light on dark) and reads such plates far worse, so
/// these are also read inverted. A crop of little contrast says nothing.
fn light_on_dark(crop: &[f32]) -> bool {
    if crop.is_empty() {
        return false;
    }
    let mut v = crop.to_vec();
    v.sort_by(f32::total_cmp);
    let q = |p: f32| v[((v.len() - 1) as f32 * p).round() as usize];
    let (dark, median, light) = (q(0.05), q(0.5), q(0.95));
    light - dark >= 0.2 && median < dark + 0.4 * (light - dark)
}

/// A crop with light and dark swapped.
fn inverted(crop: &[f32]) -> Vec<f32> {
    crop.iter().map(|v| 1.0 - v).collect()
}

/// A read's weakest character confidence (1 for no characters).
fn weakest(read: &TextRead) -> f32 {
    read.chars.iter().map(|c| c.confidence).fold(1.0, f32::min)
}

/// Whether `part` reads a part of the plate `whole` reads: its box is
/// narrower and lies within the whole's, and its characters appear in the
/// whole's text in order with more besides. Near the detector's limit it
/// boxes a group of a plate's characters (1ABC of 1ABC123) as readily as
/// the plate, and the group, being simpler, reads surer.
fn is_part_of(part: &PlateRead, whole: &PlateRead) -> bool {
    let [px, py, pw, ph] = part.bbox;
    let [wx, wy, ww, wh] = whole.bbox;
    let (cx, cy) = (px + pw / 2, py + ph / 2);
    let inside = wx <= cx && cx <= wx + ww && wy <= cy && cy <= wy + wh;
    let mut rest = whole.text.chars();
    let in_order = part.text.chars().all(|c| rest.any(|w| w == c));
    inside && pw < ww && part.text.len() < whole.text.len() && in_order
}

/// Intersection over the smaller box's area.
fn overlap(a: [u32; 4], b: [u32; 4]) -> f32 {
    let x0 = a[0].max(b[0]);
    let y0 = a[1].max(b[1]);
    let x1 = (a[0] + a[2]).min(b[0] + b[2]);
    let y1 = (a[1] + a[3]).min(b[1] + b[3]);
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let inter = ((x1 - x0) * (y1 - y0)) as f32;
    inter / ((a[2] * a[3]).min(b[2] * b[3])).max(1) as f32
}

/// The `max` most probable texts that differ from the read in at most two
/// characters, each swapped for its runner-up; probabilities multiply.
pub fn alternatives(chars: &[CharRead], max: usize) -> Vec<Alternative> {
    let base: String = chars.iter().map(|c| c.ch).collect();
    let p_base: f32 = chars.iter().map(|c| c.confidence).product();
    let mut out = vec![Alternative {
        text: base.clone(),
        confidence: p_base,
    }];
    let swap = |text: &str, i: usize, ch: char| -> String {
        text.chars()
            .enumerate()
            .map(|(k, c)| if k == i { ch } else { c })
            .collect()
    };
    // The ratio by which swapping position i changes the probability.
    let ratios: Vec<Option<(char, f32)>> = chars
        .iter()
        .map(|c| {
            c.second
                .map(|(ch, p)| (ch, p / c.confidence.max(f32::MIN_POSITIVE)))
        })
        .collect();
    for i in 0..chars.len() {
        let Some((ci, ri)) = ratios[i] else { continue };
        out.push(Alternative {
            text: swap(&base, i, ci),
            confidence: p_base * ri,
        });
        for (j, rj) in ratios.iter().enumerate().skip(i + 1) {
            let Some((cj, rj)) = *rj else { continue };
            out.push(Alternative {
                text: swap(&swap(&base, i, ci), j, cj),
                confidence: p_base * ri * rj,
            });
        }
    }
    out[1..].sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(ch: char, confidence: f32, second: Option<(char, f32)>) -> CharRead {
        CharRead {
            ch,
            confidence,
            second,
        }
    }

    #[test]
    fn alternatives_rank_by_probability_and_start_with_the_read() {
        let chars = [
            ch('7', 0.99, Some(('T', 0.01))),
            ch('Z', 0.6, Some(('2', 0.4))),
            ch('O', 0.7, Some(('0', 0.3))),
        ];
        let alts = alternatives(&chars, 4);
        let texts: Vec<&str> = alts.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["7ZO", "72O", "7Z0", "720"]);
        assert!((alts[0].confidence - 0.99 * 0.6 * 0.7).abs() < 1e-6);
        assert!((alts[3].confidence - 0.99 * 0.4 * 0.3).abs() < 1e-6);
    }

    #[test]
    fn a_group_of_a_plate_s_characters_gives_way_to_the_plate() {
        let plate = |text: &str, bbox| PlateRead {
            text: text.into(),
            confidence: 0.9,
            char_confidences: vec![0.9; text.len()],
            region: None,
            bbox,
            candidates: Vec::new(),
        };
        let whole = plate("1ABC123", [100, 100, 270, 60]);
        assert!(is_part_of(&plate("1ABC", [110, 100, 170, 60]), &whole));
        assert!(is_part_of(&plate("BC23", [150, 100, 170, 60]), &whole));
        // Not in order, or not inside, or as long: another read of the place.
        assert!(!is_part_of(&plate("1ACB", [110, 100, 170, 60]), &whole));
        assert!(!is_part_of(&plate("1ABC", [400, 100, 170, 60]), &whole));
        assert!(!is_part_of(&plate("1ABC124", [110, 100, 170, 60]), &whole));
        assert!(!is_part_of(&whole, &plate("1ABC", [110, 100, 170, 60])));
    }

    #[test]
    fn overlap_is_relative_to_the_smaller_box() {
        assert_eq!(overlap([0, 0, 10, 10], [20, 20, 5, 5]), 0.0);
        assert_eq!(overlap([0, 0, 100, 100], [10, 10, 10, 10]), 1.0);
    }

    #[test]
    fn a_level_plate_is_cut_as_training_resized_it() {
        // A 300 x 150 "plate" of stripes and a gradient: the crop of the
        // whole image must be the triangle-filter resize of its grey.
        let img = image::RgbImage::from_fn(300, 150, |x, y| {
            let v = if (x / 7) % 2 == 0 { 30 } else { 220 };
            image::Rgb([v, (y * 255 / 150) as u8, 90])
        });
        let gray = Gray::from_rgb(&img);
        let level = image::GrayImage::from_raw(300, 150, gray.pixels.clone()).unwrap();
        let want = image::imageops::resize(&level, 128, 32, image::imageops::FilterType::Triangle);
        let plate = PlateBox {
            cx: 150.0,
            cy: 75.0,
            width: 300.0,
            height: 150.0,
            angle: 0.0,
        };
        let got = plate.crop(&gray, 128, 32);
        assert_eq!(got.len(), 128 * 32);
        for (g, w) in got.iter().zip(want.as_raw()) {
            assert!((g * 255.0 - *w as f32).abs() < 0.51, "{g} vs {w}");
        }
    }

    #[test]
    fn light_on_dark_is_told_by_the_plate_s_ground() {
        // 70% ground, 30% strokes, some noise of the cut around them.
        let crop = |ground: f32, ink: f32| -> Vec<f32> {
            (0..4096)
                .map(|i| match i % 10 {
                    0..=6 => ground,
                    7 | 8 => ink,
                    _ => (ground + ink) / 2.0,
                })
                .collect()
        };
        assert!(light_on_dark(&crop(0.15, 0.9)), "yellow on dark blue");
        assert!(!light_on_dark(&crop(0.9, 0.1)), "dark on white");
        assert!(
            !light_on_dark(&crop(0.5, 0.55)),
            "too little contrast to tell"
        );
        assert!(!light_on_dark(&[]));
        assert_eq!(inverted(&[0.0, 0.25, 1.0]), vec![1.0, 0.75, 0.0]);
    }

    #[test]
    fn a_cut_keeps_the_plate_axes() {
        // A plate rolled 90 degrees: its "down" is the frame's -x.
        let p = PlateBox {
            cx: 100.0,
            cy: 50.0,
            width: 40.0,
            height: 20.0,
            angle: std::f32::consts::FRAC_PI_2,
        };
        let top = p.cut(0.1, 0.0);
        assert!((top.height - 18.0).abs() < 1e-4);
        assert!((top.cx - 99.0).abs() < 1e-4 && (top.cy - 50.0).abs() < 1e-4);
        let bottom = p.cut(0.0, 0.1);
        assert!((bottom.cx - 101.0).abs() < 1e-4 && (bottom.cy - 50.0).abs() < 1e-4);
        assert_eq!(bottom.width, 40.0);
    }

    fn read(text: &str, confidence: f32) -> TextRead {
        TextRead {
            chars: text.chars().map(|c| ch(c, confidence, None)).collect(),
            region: None,
        }
    }

    #[test]
    fn the_looks_together_replace_the_first_read_and_keep_its_plate() {
        let config = RecognizeConfig::default();
        let first = read("WXE7388", 0.7);
        // Surer of the text, but one character under the reporting floor:
        // the plate the first read had is still reported, with the new text.
        let mut together = read("WXF7388", 0.9);
        together.chars[2].confidence = 0.5;
        let looked = Looked::together(&first, together, &config);
        assert!(looked.plate);
        assert_eq!(looked.read.text(), "WXF7388");
        let kept = looked.first.unwrap();
        assert_eq!(kept.text, "WXE7388");
        assert!((kept.confidence - 0.7f32.powi(7)).abs() < 1e-6);

        // The same text: no first read to keep.
        let same = Looked::together(&first, read("WXE7388", 0.95), &config);
        assert!(same.plate && same.first.is_none());

        // Neither reportable (too short): no plate.
        let short = Looked::together(&read("WX7", 0.7), read("WX7", 0.5), &config);
        assert!(!short.plate);
        // The looks make a plate of an unsure first read.
        let made = Looked::together(&read("WXE7388", 0.4), read("WXF7388", 0.8), &config);
        assert!(made.plate);
        assert!(!Looked::alone(read("WXE7388", 0.4), &config).plate);
        // A plate-length first read whose looks together are too short: the
        // reported text would be the short one, so no plate.
        let fence = Looked::together(&read("IIIII", 0.7), read("I", 0.58), &config);
        assert!(!fence.plate);
    }

    #[test]
    fn an_overridden_first_read_stays_a_candidate() {
        let recognizer = Recognizer::shipped().unwrap();
        let plate = PlateBox {
            cx: 100.0,
            cy: 100.0,
            width: 120.0,
            height: 60.0,
            angle: 0.0,
        };
        let mut chars = read("3550CT", 0.9).chars;
        for c in &mut chars {
            c.second = Some(('8', 0.05));
        }
        let looked = Looked {
            read: TextRead {
                chars,
                region: None,
            },
            first: Some(Alternative {
                text: "355OCT".into(),
                confidence: 0.1,
            }),
            plate: true,
        };
        let plate = recognizer.accept(&plate, looked, 640, 480).unwrap();
        assert_eq!(plate.text, "3550CT");
        assert_eq!(plate.candidates.len(), CANDIDATES_MAX);
        assert_eq!(plate.candidates[0].text, "3550CT");
        assert_eq!(plate.candidates.last().unwrap().text, "355OCT");
    }
}
