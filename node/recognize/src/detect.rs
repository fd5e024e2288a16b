//! The learned plate detector: a small fully convolutional net run by rten.
//!
//! The frame is reduced by area to the detector's input, keeping its aspect
//! (384 x 216 grey for a 16:9 frame, 384 x 288 for a 4:3 photo); the net
//! predicts, per cell of a stride-8 grid, a plate-centre score, the plate's
//! size and the centre's offset in the cell. Peaks of the score (3 x 3 local
//! maxima above a threshold) are the candidates. The frame is searched at
//! three scales (`SCALES`) so that a plate filling a car photo is found as
//! surely as one far down a road, and a large plate's box is redrawn from a
//! zoomed look (`Detector::zoom`).

use rten::Model;
use rten_tensor::NdTensor;
use rten_tensor::prelude::*;
use serde::Deserialize;

use super::RecognizeError;
use super::gray::Gray;

/// A detected plate: its box in full-frame pixels (the box bounds the plate
/// as it appears, rolled or not) and the detector's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
    pub height: f32,
    pub score: f32,
}

const DETECTOR_ONNX: &[u8] = include_bytes!("../../../models/detector.onnx");
const DETECTOR_JSON: &str = include_str!("../../../models/detector.json");

#[derive(Debug, Deserialize)]
struct Meta {
    height: usize,
    width: usize,
    stride: usize,
}

pub struct Detector {
    model: Model,
    meta: Meta,
    input: rten::NodeId,
    output: rten::NodeId,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("input", &(self.meta.height, self.meta.width))
            .field("stride", &self.meta.stride)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct DetectConfig {
    /// Cells scoring below this are not plates.
    pub threshold: f32,
    /// At most this many candidates per frame, best first.
    pub candidates_max: usize,
    /// The fine look's scale, as the frame's width it stands for: a frame
    /// 1600 px wide or more is also searched whole at this width, and a
    /// middling one (at least 1.6 times the first pass's input) in
    /// `fine_windows` windows at that scale; 0 looks no finer.
    pub fine_width: usize,
    /// A frame narrower than 1600 px is looked at finely in at
    /// most this many windows; 0, the default, in none. On the held-out
    /// real scenes (about 1024 px wide) 12 windows find 87% of plates 40
    /// to 70 px wide rather than 63%, but on 1280 x 720 road frames they
    /// cost about 10 ms and double the false plates (models/README.md).
    pub fine_windows: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            threshold: 0.3,
            candidates_max: 8,
            fine_width: FINE_WIDTH,
            fine_windows: 0,
        }
    }
}

impl Detector {
    pub fn shipped() -> Result<Detector, RecognizeError> {
        let meta: Meta = serde_json::from_str(DETECTOR_JSON)
            .map_err(|e| RecognizeError::Model(format!("detector.json: {e}")))?;
        let model = Model::load_static_slice(DETECTOR_ONNX)
            .map_err(|e| RecognizeError::Model(format!("detector.onnx: {e}")))?;
        let id = |name: &str| {
            model
                .node_id(name)
                .map_err(|e| RecognizeError::Model(format!("detector.onnx has no '{name}': {e}")))
        };
        Ok(Detector {
            input: id("image")?,
            output: id("maps")?,
            meta,
            model,
        })
    }

    /// Plate candidates in a full-resolution grey frame, in its pixels.
    ///
    /// The frame is searched at each of `SCALES`. Where two passes find one
    /// plate and only one holds its width in the range it boxes well
    /// (`OWN_WIDTH`), that pass gives the box; where both do, both boxes go
    /// on and the surer read wins. Boxes from the coarser passes, and the
    /// first pass's near its limit, and the fine look's, are redrawn from a
    /// zoomed look (the fine look's boxes of plates 10 of the first pass's
    /// pixels wide were a third too large, and the reader refused them). In a
    /// large frame, the frame is searched whole at a finer scale as well
    /// (`DetectConfig::fine_width`); in a middling one, where the first
    /// pass sees a small or faint plate, a window around it is (`fine_look`).
    pub fn detect(
        &self,
        frame: &Gray,
        config: &DetectConfig,
    ) -> Result<Vec<Candidate>, RecognizeError> {
        if frame.width < 16 || frame.height < 16 {
            return Ok(Vec::new());
        }
        // Each pass sees the frame at its scale with the frame's aspect (a
        // frame taller than square is squeezed to square, to bound the
        // work). The frame is averaged down once; the coarser inputs are
        // averaged from the first, which is the same average.
        let stride = self.meta.stride;
        let to_stride = |v: f32| ((v / stride as f32).round() as usize).max(2) * stride;
        let size = |scale: f32| {
            let w = to_stride(self.meta.width as f32 * scale);
            (
                w,
                to_stride(w as f32 * frame.height as f32 / frame.width as f32).min(w),
            )
        };
        let (w0, h0) = size(SCALES[0]);
        // The fine scale, in input pixels per frame pixel, where the frame
        // is large enough for one: a large frame is looked at whole at it,
        // a middling one in windows around the first pass's faint or small
        // plates.
        let fine_w = to_stride(config.fine_width.min(frame.width) as f32);
        let fine = config.fine_width > 0 && fine_w as f32 >= FINE_OVER * w0 as f32;
        let whole = fine && frame.width >= FINE_WHOLE_FROM;
        let fine_scale = fine_w as f32 / frame.width as f32;
        let (whole_found, first) = if whole {
            // The first pass's input is averaged from the fine one, which
            // reads the large frame once.
            let (fw, fh) = (
                fine_w,
                to_stride(fine_w as f32 * frame.height as f32 / frame.width as f32).min(fine_w),
            );
            let input = area_resize(
                &frame.pixels,
                frame.width,
                frame.height,
                fw,
                fh,
                1.0 / 255.0,
            );
            let first = area_resize(&input, fw, fh, w0, h0, 1.0);
            let frame_of = [
                0.0,
                0.0,
                frame.width as f32 / fw as f32,
                frame.height as f32 / fh as f32,
            ];
            (
                self.peaks(input, (fw, fh), frame_of, config.threshold)?,
                first,
            )
        } else {
            let first = area_resize(
                &frame.pixels,
                frame.width,
                frame.height,
                w0,
                h0,
                1.0 / 255.0,
            );
            (Vec::new(), first)
        };
        let windows = fine && !whole && config.fine_windows > 0;
        let coarser: Vec<_> = SCALES[1..]
            .iter()
            .map(|&scale| {
                let (w, h) = size(scale);
                (area_resize(&first, w0, h0, w, h, 1.0), (w, h))
            })
            .collect();
        let mut all = Vec::new();
        let mut seeds = Vec::new();
        let last = SCALES.len() - 1;
        let inputs = std::iter::once((first, (w0, h0))).chain(coarser);
        for (pass, (input, (w, h))) in inputs.enumerate() {
            let (sx, sy) = (
                frame.width as f32 / w as f32,
                frame.height as f32 / h as f32,
            );
            // Where windows are looked at, the first pass also keeps its
            // faint peaks, as places to look.
            let floor = if pass == 0 && windows {
                FINE_SEED.min(config.threshold)
            } else {
                config.threshold
            };
            for (found, width) in self.peaks(input, (w, h), [0.0, 0.0, sx, sy], floor)? {
                if pass == 0 && windows && (found.score < config.threshold || width < FINE_BELOW) {
                    seeds.push(found);
                }
                if found.score >= config.threshold {
                    all.push(Scaled {
                        found,
                        pass: pass + 1,
                        // The first pass keeps its small plates, fine look
                        // or not: a fine look that boxes one replaces it.
                        finest: pass == 0,
                        coarsest: pass == last,
                        width,
                    });
                }
            }
        }
        let fine_found = if windows {
            self.fine_look(frame, &seeds, fine_scale, config)?
        } else {
            whole_found
        };
        all.extend(fine_found.into_iter().map(|(found, width)| Scaled {
            found,
            pass: 0,
            finest: true,
            coarsest: false,
            width,
        }));
        let mut kept: Vec<&Scaled> = all
            .iter()
            .filter(|c| {
                c.in_range_below()
                    && !all.iter().any(|o| {
                        o.pass != c.pass
                            && (o.better_than(c) || o.finer_than(c))
                            && same_plate(&o.found, &c.found)
                    })
                    && !(c.pass == 0
                        && !whole
                        && all.iter().any(|o| o.pass != 0 && holds(&o.found, &c.found)))
            })
            .collect();
        kept.sort_by(|a, b| b.found.score.total_cmp(&a.found.score));
        kept.truncate(config.candidates_max);
        kept.into_iter()
            .map(|c| {
                if c.pass == 1 && c.width < ZOOM_FROM {
                    return Ok(c.found);
                }
                Ok(self.zoom(frame, &c.found, config)?.unwrap_or(c.found))
            })
            .collect()
    }

    /// The fine look: windows of the frame around the first pass's faint or
    /// small peaks, each seen at `scale` input pixels per frame pixel, and
    /// searched. Peaks of windows that overlap are one plate when they box
    /// it alike; the surer is kept. Each found plate with its width in the
    /// window's input.
    fn fine_look(
        &self,
        frame: &Gray,
        seeds: &[Candidate],
        scale: f32,
        config: &DetectConfig,
    ) -> Result<Vec<(Candidate, f32)>, RecognizeError> {
        let mut seeds = seeds.to_vec();
        seeds.sort_by(|a, b| b.score.total_cmp(&a.score));
        let (ww, wh) = (FINE_WINDOW.0 as f32 / scale, FINE_WINDOW.1 as f32 / scale);
        // A seed inside a window already taken is looked at there.
        let mut windows: Vec<(f32, f32)> = Vec::new();
        for s in &seeds {
            let inside = windows.iter().any(|&(x, y)| {
                (s.cx - x).abs() <= ww / 2.0 - s.width && (s.cy - y).abs() <= wh / 2.0 - s.height
            });
            if inside {
                continue;
            }
            if windows.len() == config.fine_windows {
                break;
            }
            windows.push((s.cx, s.cy));
        }
        let mut found: Vec<(Candidate, f32)> = Vec::new();
        for (cx, cy) in windows {
            let Some((part, (iw, ih), frame_of)) = self.window(frame, (cx, cy), FINE_WINDOW, scale)
            else {
                continue;
            };
            for (c, width) in self.peaks(part, (iw, ih), frame_of, config.threshold)? {
                match found.iter_mut().find(|(o, _)| same_plate(o, &c)) {
                    Some(o) if o.0.score < c.score => *o = (c, width),
                    Some(_) => {}
                    None => found.push((c, width)),
                }
            }
        }
        Ok(found)
    }

    /// The part of the frame around (`cx`, `cy`) that `size` input pixels
    /// cover at `scale` input pixels per frame pixel, whole pixels inside the
    /// frame, averaged down to the input (a multiple of the stride, at least
    /// two cells: where the frame's edge cuts the part it keeps its scale).
    /// With it, the map from its input pixels to the frame's (see `peaks`).
    fn window(
        &self,
        frame: &Gray,
        (cx, cy): (f32, f32),
        (w, h): (usize, usize),
        scale: f32,
    ) -> Option<Window> {
        let (ww, wh) = (w as f32 / scale, h as f32 / scale);
        let x0 = (cx - ww / 2.0).round().max(0.0) as usize;
        let y0 = (cy - wh / 2.0).round().max(0.0) as usize;
        let x1 = ((cx + ww / 2.0).round().max(0.0) as usize).min(frame.width);
        let y1 = ((cy + wh / 2.0).round().max(0.0) as usize).min(frame.height);
        if x1 <= x0 + 1 || y1 <= y0 + 1 {
            return None;
        }
        let (cw, ch) = (x1 - x0, y1 - y0);
        let mut part = Vec::with_capacity(cw * ch);
        for y in y0..y1 {
            part.extend_from_slice(&frame.pixels[y * frame.width + x0..y * frame.width + x1]);
        }
        let stride = self.meta.stride;
        let fit = |c: usize, most: usize| {
            ((c as f32 * scale).round() as usize).clamp(2 * stride, most.max(2 * stride)) / stride
                * stride
        };
        let (iw, ih) = (fit(cw, w), fit(ch, h));
        let input = area_resize(&part, cw, ch, iw, ih, 1.0 / 255.0);
        let frame_of = [
            x0 as f32,
            y0 as f32,
            cw as f32 / iw as f32,
            ch as f32 / ih as f32,
        ];
        Some((input, (iw, ih), frame_of))
    }

    /// A coarse pass's box is as coarse as its grid: at a quarter of the
    /// frame's scale one cell spans 32 of the first pass's pixels, and a box
    /// off by a few of them cuts a character. The plate is looked at again
    /// in a window around it, scaled so the plate is [`ZOOM_WIDTH`] of the
    /// window's input pixels wide, mid-range for the net. The widest plate
    /// found there whose centre lies in the box (and at most twice its
    /// width) is its box: near the net's limit it boxes a part of a plate
    /// (a group of characters, the state's name) as readily as the whole,
    /// and a part is never wider than its plate.
    fn zoom(
        &self,
        frame: &Gray,
        c: &Candidate,
        config: &DetectConfig,
    ) -> Result<Option<Candidate>, RecognizeError> {
        let Some((input, (iw, ih), frame_of)) =
            self.window(frame, (c.cx, c.cy), ZOOM_INPUT, ZOOM_WIDTH / c.width)
        else {
            return Ok(None);
        };
        let found = self.peaks(input, (iw, ih), frame_of, config.threshold)?;
        Ok(found
            .into_iter()
            .map(|(z, _)| z)
            .filter(|z| {
                (z.cx - c.cx).abs() <= c.width / 2.0
                    && (z.cy - c.cy).abs() <= c.height / 2.0
                    && z.width <= 2.0 * c.width
            })
            .max_by(|a, b| a.width.total_cmp(&b.width)))
    }

    /// One run of the net on a reduced frame or part of it (`w x h` values
    /// in [0, 1]); its pixel (u, v) is the frame's (ox + u sx, oy + v sy).
    /// Each peak's plate in frame pixels, and its width in the input's.
    fn peaks(
        &self,
        input: Vec<f32>,
        (w, h): (usize, usize),
        [ox, oy, sx, sy]: [f32; 4],
        threshold: f32,
    ) -> Result<Vec<(Candidate, f32)>, RecognizeError> {
        let stride = self.meta.stride;
        let image = NdTensor::from_data([1, 1, h, w], input);
        let [maps] = self
            .model
            .run_n(vec![(self.input, image.into())], [self.output], None)
            .map_err(|e| RecognizeError::Model(format!("running the detector: {e}")))?;
        let maps: NdTensor<f32, 4> = maps
            .try_into()
            .map_err(|e| RecognizeError::Model(format!("detector output: {e:?}")))?;
        let (gh, gw) = (maps.size(2), maps.size(3));
        // The threshold as a logit, so only peaks are passed through the sigmoid.
        let logit = (threshold / (1.0 - threshold)).ln();
        let mut found = Vec::new();
        for y in 0..gh {
            for x in 0..gw {
                let v = maps[[0, 0, y, x]];
                if v < logit {
                    continue;
                }
                let is_peak = (y.saturating_sub(1)..(y + 2).min(gh))
                    .flat_map(|yy| (x.saturating_sub(1)..(x + 2).min(gw)).map(move |xx| (yy, xx)))
                    .all(|(yy, xx)| maps[[0, 0, yy, xx]] <= v);
                if !is_peak {
                    continue;
                }
                let bw = maps[[0, 1, y, x]].clamp(0.0, 6.0).exp();
                // No plate is longer than the EU's 520 x 110 mm (4.73:1): a
                // box that is, cuts the characters top and bottom (the
                // detector trained on real scenes boxes some long plates
                // at 6:1), so it is made as tall as that plate would be.
                let bh = maps[[0, 2, y, x]]
                    .clamp(0.0, 6.0)
                    .exp()
                    .max(bw / PLATE_ASPECT_MAX);
                let cx = (x as f32 + maps[[0, 3, y, x]]) * stride as f32;
                let cy = (y as f32 + maps[[0, 4, y, x]]) * stride as f32;
                let plate = Candidate {
                    cx: ox + cx * sx,
                    cy: oy + cy * sy,
                    width: bw * sx,
                    height: bh * sy,
                    score: 1.0 / (1.0 + (-v).exp()),
                };
                found.push((plate, bw));
            }
        }
        // Bounded before the passes are compared pairwise: a busy frame's
        // texture can peak in many cells.
        found.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
        found.truncate(PEAKS_MAX);
        Ok(found)
    }
}

/// The longest plate: the EU's 520 x 110 mm.
const PLATE_ASPECT_MAX: f32 = 520.0 / 110.0;

/// The scales the frame is searched at, from the detector's own input
/// width down. The detector learned plates 18 to 80 of its input pixels
/// wide, about 5 to 21% of the frame's width as a road camera sees them. A
/// car photo shows its plate up to half the frame's width: the strokes then
/// outgrow what the net looks at, and it finds the plate late or boxes a
/// part of it. The coarser passes bring such plates into the learned range,
/// for a quarter and a sixteenth of the first pass's work.
const SCALES: [f32; 3] = [1.0, 0.5, 0.25];
/// The fine pass's width: a 1920-pixel frame halved, where a plate 50
/// pixels wide in the frame is 25 of the net's, inside the learned range;
/// at the first pass's 384 it is 10, and lost.
const FINE_WIDTH: usize = 768;
/// The fine pass runs only where it sees the frame at least this many times
/// finer than the first pass: on a narrower frame it adds work and little
/// detail.
const FINE_OVER: f32 = 1.6;
/// A first-pass plate narrower than this (its input pixels) is also looked
/// at finely: the first pass finds plates this small but boxes them
/// roughly and reads them from few pixels.
const FINE_BELOW: f32 = 24.0;
/// The fine look's window, in its input pixels (about a ninth of a 768 x
/// 432 pass each).
const FINE_WINDOW: (usize, usize) = (192, 96);
/// A frame this wide is looked at whole at the fine scale: a road frame or
/// photo this large shows lane marks, signs and windows everywhere, whose
/// faint peaks outnumber any budget of windows, so the windows would cost
/// as much and miss the plate. A 1280 x 720 video frame is not looked at
/// finely by default, so a camera keeps its rate; its far plates come
/// nearer in the next frames.
const FINE_WHOLE_FROM: usize = 1600;
/// A first-pass peak this high, though under the threshold, is a faint
/// plate worth a fine window.
const FINE_SEED: f32 = 0.05;
/// At most this many peaks of one pass go on, the highest first.
const PEAKS_MAX: usize = 32;
/// The zoomed look's input (w, h) and the plate's width in it.
const ZOOM_INPUT: (usize, usize) = (160, 80);
const ZOOM_WIDTH: f32 = 48.0;
/// A first-pass box this wide (its input pixels) nears the learned limit,
/// where the net boxes part of a plate as often as all of it: it is zoomed
/// like a coarse pass's box.
const ZOOM_FROM: f32 = 60.0;
/// Within a pass's own input, the widths it boxes well: past the upper
/// bound a plate nears the learned limit and the next coarser pass boxes
/// it; under the lower bound (coarser passes only) the finer pass sees it
/// better, and alone it is more likely a texture than a plate.
const OWN_WIDTH: std::ops::Range<f32> = 32.0..72.0;

/// A part of the frame as the net's input: its values, its size (w, h) and
/// the map from its pixels to the frame's (see `Detector::peaks`).
type Window = (Vec<f32>, (usize, usize), [f32; 4]);

/// A candidate, the pass that found it, and its width in that pass's input.
struct Scaled {
    found: Candidate,
    pass: usize,
    /// Whether the pass is the finest of the frame's (it has no lower
    /// bound) or the coarsest (no upper one).
    finest: bool,
    coarsest: bool,
    width: f32,
}

impl Scaled {
    fn in_range_below(&self) -> bool {
        self.finest || self.width >= OWN_WIDTH.start
    }

    fn in_range(&self) -> bool {
        self.in_range_below() && (self.coarsest || self.width < OWN_WIDTH.end)
    }

    /// Whether this pass boxes the plate better than `other`'s pass: it
    /// holds the plate in its range and the other does not. Where both do,
    /// both boxes are read and the surer read is kept.
    fn better_than(&self, other: &Scaled) -> bool {
        self.in_range() && !other.in_range()
    }

    /// Whether this is the fine look's box of a plate the first pass found
    /// small (and so boxed roughly).
    fn finer_than(&self, other: &Scaled) -> bool {
        self.pass == 0 && other.pass == 1 && other.width < FINE_BELOW
    }
}

/// Whether two candidates box one plate: about the same size, and each
/// centre in the other's box. A much smaller box inside a larger one is a
/// part of it (a band, a group of characters) or a plate on a larger
/// false find; both stay candidates and the reads decide.
fn same_plate(a: &Candidate, b: &Candidate) -> bool {
    let ratio = a.width / b.width.max(1.0);
    (0.7..=1.4).contains(&ratio)
        && (a.cx - b.cx).abs() <= a.width.min(b.width) / 2.0
        && (a.cy - b.cy).abs() <= a.height.min(b.height) / 2.0
}

/// Whether a fine window's box is a part of a plate the coarser passes found
/// (windows only: a large frame's whole fine pass keeps its small boxes, as
/// a far plate on a vehicle the coarse passes faintly boxed is one of them):
/// its centre inside that box, which is at least twice as wide and as sure.
/// Looked at finely, a large plate's state name, slogan or a decal on it is
/// a small plate of its own, and reads surer than the plate; a small plate
/// on a vehicle the coarse passes faintly took for one is surer than that.
fn holds(whole: &Candidate, part: &Candidate) -> bool {
    whole.score >= part.score
        && whole.width >= 2.0 * part.width
        && (part.cx - whole.cx).abs() <= whole.width / 2.0
        && (part.cy - whole.cy).abs() <= whole.height / 2.0
}

/// `src` (`sw x sh`) resized to `dw x dh`, each value the mean of the
/// source area it covers (partly covered pixels weighed by their share),
/// times `gain`. The detector learned from images reduced this way; point
/// samples alias the strokes of a plate once a frame is reduced more than
/// about four times (a large photo, a coarse pass).
fn area_resize<T: Copy + Into<f32>>(
    src: &[T],
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
    gain: f32,
) -> Vec<f32> {
    // Rows first: each source row to dw columns; then the columns to dh rows.
    let cols = spans(sw, dw);
    let mut rows = vec![0.0f32; sh * dw];
    for y in 0..sh {
        let line = &src[y * sw..(y + 1) * sw];
        for (x, span) in cols.iter().enumerate() {
            rows[y * dw + x] = span.mean(|k| line[k].into());
        }
    }
    let mut out = vec![0.0f32; dw * dh];
    for (y, span) in spans(sh, dh).iter().enumerate() {
        for x in 0..dw {
            out[y * dw + x] = gain * span.mean(|k| rows[k * dw + x]);
        }
    }
    out
}

/// The source pixels one output pixel covers, and the share of each.
struct Span {
    first: usize,
    weights: Vec<f32>,
}

impl Span {
    fn mean(&self, value: impl Fn(usize) -> f32) -> f32 {
        self.weights
            .iter()
            .enumerate()
            .map(|(i, w)| w * value(self.first + i))
            .sum()
    }
}

/// For each of `n` outputs over `len` inputs: the inputs it covers, with
/// weights summing to 1.
fn spans(len: usize, n: usize) -> Vec<Span> {
    let f = len as f64 / n as f64;
    (0..n)
        .map(|i| {
            let (a, b) = (i as f64 * f, (i + 1) as f64 * f);
            let first = (a.floor() as usize).min(len - 1);
            let last = (b.ceil() as usize).clamp(first + 1, len);
            let weights = (first..last)
                .map(|k| ((b.min(k as f64 + 1.0) - a.max(k as f64)).max(0.0) / f) as f32)
                .collect();
            Span { first, weights }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reducing_by_area_keeps_each_region_s_mean() {
        // 6 x 2 columns of 0, 60, 120, 180, 240, 30 halved to 3 x 1: pairs.
        let row = [0u8, 60, 120, 180, 240, 30];
        let src: Vec<u8> = row.iter().chain(row.iter()).copied().collect();
        let out = area_resize(&src, 6, 2, 3, 1, 1.0);
        assert_eq!(out, vec![30.0, 150.0, 135.0]);
        // By 2.5: the third source pixel is shared half and half.
        let out = area_resize(&[10u8, 20, 30, 40, 50], 5, 1, 2, 1, 1.0);
        assert!(
            (out[0] - (10.0 + 20.0 + 15.0) / 2.5).abs() < 1e-4,
            "{out:?}"
        );
        assert!(
            (out[1] - (15.0 + 40.0 + 50.0) / 2.5).abs() < 1e-4,
            "{out:?}"
        );
    }

    #[test]
    fn spans_weigh_to_one_whatever_the_factor() {
        for (len, n) in [(1280, 384), (720, 216), (2592, 384), (100, 7), (50, 128)] {
            for span in spans(len, n) {
                let total: f32 = span.weights.iter().sum();
                assert!((total - 1.0).abs() < 1e-4, "{len} -> {n}: {total}");
                assert!(span.first + span.weights.len() <= len);
            }
        }
    }

    #[test]
    fn one_plate_is_two_boxes_of_about_its_size_around_it() {
        let b = |cx, width| Candidate {
            cx,
            cy: 100.0,
            width,
            height: width / 2.0,
            score: 0.9,
        };
        assert!(same_plate(&b(100.0, 200.0), &b(120.0, 180.0)));
        // A part of the plate (a band, a group) is not the plate.
        assert!(!same_plate(&b(100.0, 200.0), &b(60.0, 90.0)));
        // Side by side: two plates.
        assert!(!same_plate(&b(100.0, 200.0), &b(320.0, 200.0)));
    }

    #[test]
    fn a_small_box_inside_a_plate_twice_as_wide_is_part_of_it() {
        let b = |cx, cy, width| Candidate {
            cx,
            cy,
            width,
            height: width / 2.0,
            score: 0.9,
        };
        let plate = b(500.0, 300.0, 240.0);
        let faint = Candidate {
            score: 0.4,
            ..plate
        };
        assert!(
            !holds(&faint, &b(420.0, 270.0, 80.0)),
            "surer than the whole"
        );
        assert!(holds(&plate, &b(420.0, 270.0, 80.0)), "a state name");
        assert!(
            !holds(&plate, &b(500.0, 300.0, 150.0)),
            "too wide to be a part"
        );
        assert!(!holds(&plate, &b(700.0, 300.0, 60.0)), "beside it");
        assert!(!holds(&plate, &b(500.0, 380.0, 60.0)), "below it");
    }

    #[test]
    fn frames_of_any_shape_and_size_are_searched() {
        let detector = Detector::shipped().expect("shipped detector");
        for (w, h) in [(1280, 720), (640, 480), (480, 800), (17, 300), (4000, 40)] {
            let frame = Gray {
                width: w,
                height: h,
                pixels: (0..w * h).map(|i| (i * 7 % 251) as u8).collect(),
            };
            detector
                .detect(&frame, &DetectConfig::default())
                .unwrap_or_else(|e| panic!("{w} x {h}: {e}"));
        }
    }
}
