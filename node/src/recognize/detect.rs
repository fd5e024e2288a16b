//! The learned plate detector: a small fully convolutional net run by rten.
//!
//! The frame is reduced to the detector's input (384 x 216 grey for a 16:9
//! frame); the net predicts, per cell of a stride-8 grid, a plate-centre
//! score, the plate's size and the centre's offset in the cell. Peaks of the
//! score (3 x 3 local maxima above a threshold) are the candidates.

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
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            threshold: 0.3,
            candidates_max: 8,
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
    pub fn detect(
        &self,
        frame: &Gray,
        config: &DetectConfig,
    ) -> Result<Vec<Candidate>, RecognizeError> {
        let (h, w, stride) = (self.meta.height, self.meta.width, self.meta.stride);
        if frame.width < 16 || frame.height < 16 {
            return Ok(Vec::new());
        }
        // The whole frame, squeezed to the input if its aspect differs.
        let sx = frame.width as f32 / w as f32;
        let sy = frame.height as f32 / h as f32;
        let image = NdTensor::from_data([1, 1, h, w], reduce(frame, w, h));
        let [maps] = self
            .model
            .run_n(vec![(self.input, image.into())], [self.output], None)
            .map_err(|e| RecognizeError::Model(format!("running the detector: {e}")))?;
        let maps: NdTensor<f32, 4> = maps
            .try_into()
            .map_err(|e| RecognizeError::Model(format!("detector output: {e:?}")))?;
        let (gh, gw) = (maps.size(2), maps.size(3));
        // The threshold as a logit, so only peaks are passed through the sigmoid.
        let logit = (config.threshold / (1.0 - config.threshold)).ln();
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
                let bh = maps[[0, 2, y, x]].clamp(0.0, 6.0).exp();
                let cx = (x as f32 + maps[[0, 3, y, x]]) * stride as f32;
                let cy = (y as f32 + maps[[0, 4, y, x]]) * stride as f32;
                found.push(Candidate {
                    cx: cx * sx,
                    cy: cy * sy,
                    width: bw * sx,
                    height: bh * sy,
                    score: 1.0 / (1.0 + (-v).exp()),
                });
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(config.candidates_max);
        Ok(found)
    }
}

/// The frame reduced to `w x h` values in [0, 1], each the mean of the
/// source pixels it covers (sampled on a small grid).
fn reduce(frame: &Gray, w: usize, h: usize) -> Vec<f32> {
    let fx = frame.width as f32 / w as f32;
    let fy = frame.height as f32 / h as f32;
    let nx = (fx.ceil() as usize).clamp(1, 4);
    let ny = (fy.ceil() as usize).clamp(1, 4);
    let mut out = Vec::with_capacity(w * h);
    for j in 0..h {
        for i in 0..w {
            let mut acc = 0u32;
            for sj in 0..ny {
                let y = ((j as f32 + (sj as f32 + 0.5) / ny as f32) * fy) as usize;
                let row = y.min(frame.height - 1) * frame.width;
                for si in 0..nx {
                    let x = ((i as f32 + (si as f32 + 0.5) / nx as f32) * fx) as usize;
                    acc += frame.pixels[row + x.min(frame.width - 1)] as u32;
                }
            }
            out.push(acc as f32 / (nx * ny) as f32 / 255.0);
        }
    }
    out
}
