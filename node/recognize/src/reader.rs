//! The plate reader: a CRNN run by rten, decoded by CTC, with a region head.
//!
//! The model and its metadata ship in the repository (`models/`) and are
//! compiled into the binary, so a node reads plates with no file to find and
//! nothing to download.

use rten::Model;
use rten::ctc::CtcDecoder;
use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, NdTensorView};
use serde::Deserialize;

use super::RecognizeError;
use super::format::{Europe, FixedMeta, FixedShapes, FormatsMeta, Settle, UsFormats};

const READER_ONNX: &[u8] = include_bytes!("../../../models/reader.onnx");
const READER_JSON: &str = include_str!("../../../models/reader.json");

/// Crops read per model run, so memory stays bounded however many
/// candidates a caller hands over.
pub const BATCH_MAX: usize = 16;

#[derive(Debug, Deserialize)]
struct Meta {
    charset: String,
    regions: Vec<String>,
    height: usize,
    width: usize,
    /// Absent from readers shipped before it: then no 0 becomes O.
    #[serde(default)]
    us_formats: FormatsMeta,
    #[serde(default)]
    fixed_shapes: FixedMeta,
}

/// One character and its runner-up, as the model saw them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CharRead {
    pub ch: char,
    pub confidence: f32,
    /// The most likely other character at the same place, and its probability.
    pub second: Option<(char, f32)>,
}

/// What the reader made of one crop.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRead {
    pub chars: Vec<CharRead>,
    /// The region code (`CA`, `BR`, ...) and its probability; `None` when
    /// the model's best guess is that the crop does not show it.
    pub region: Option<(String, f32)>,
}

impl TextRead {
    pub fn text(&self) -> String {
        self.chars.iter().map(|c| c.ch).collect()
    }
}

/// The reader's output for one crop, not yet decoded: per-step character
/// log-probabilities (steps x blank and charset) and region
/// log-probabilities.
#[derive(Debug, Clone)]
pub struct Seen {
    steps: usize,
    /// `steps` rows of log-probabilities, blank first.
    chars: Vec<f32>,
    region: Vec<f32>,
}

pub struct Reader {
    model: Model,
    meta: Meta,
    charset: Vec<char>,
    input: rten::NodeId,
    chars_out: rten::NodeId,
    region_out: rten::NodeId,
    formats: UsFormats,
    fixed: FixedShapes,
    europe: Europe,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("input", &(self.meta.height, self.meta.width))
            .field("charset", &self.meta.charset)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// The reader shipped in this binary.
    pub fn shipped() -> Result<Reader, RecognizeError> {
        let mut meta: Meta = serde_json::from_str(READER_JSON)
            .map_err(|e| RecognizeError::Model(format!("reader.json: {e}")))?;
        let formats = UsFormats::parse(std::mem::take(&mut meta.us_formats))
            .map_err(|e| RecognizeError::Model(format!("reader.json us_formats: {e}")))?;
        let fixed = FixedShapes::parse(std::mem::take(&mut meta.fixed_shapes))
            .map_err(|e| RecognizeError::Model(format!("reader.json fixed_shapes: {e}")))?;
        let model = Model::load_static_slice(READER_ONNX)
            .map_err(|e| RecognizeError::Model(format!("reader.onnx: {e}")))?;
        let id = |name: &str| {
            model
                .node_id(name)
                .map_err(|e| RecognizeError::Model(format!("reader.onnx has no '{name}': {e}")))
        };
        Ok(Reader {
            input: id("image")?,
            chars_out: id("chars")?,
            region_out: id("region")?,
            charset: meta.charset.chars().collect(),
            formats,
            fixed,
            europe: Europe::default(),
            meta,
            model,
        })
    }

    /// The input size crops must have: (height, width).
    pub fn input_size(&self) -> (usize, usize) {
        (self.meta.height, self.meta.width)
    }

    /// What the model makes of each crop of `height x width` grey values in
    /// [0, 1], before decoding (see [`Seen`]); at most [`BATCH_MAX`] crops
    /// a model run.
    pub fn see(&self, crops: &[Vec<f32>]) -> Result<Vec<Seen>, RecognizeError> {
        let (h, w) = self.input_size();
        let mut out = Vec::with_capacity(crops.len());
        for part in crops.chunks(BATCH_MAX) {
            let mut data = Vec::with_capacity(part.len() * h * w);
            for crop in part {
                if crop.len() != h * w {
                    return Err(RecognizeError::Model(format!(
                        "crop of {} values for a {h}x{w} reader",
                        crop.len()
                    )));
                }
                data.extend_from_slice(crop);
            }
            let image = NdTensor::from_data([part.len(), 1, h, w], data);
            let [chars, region] = self
                .model
                .run_n(
                    vec![(self.input, image.into())],
                    [self.chars_out, self.region_out],
                    None,
                )
                .map_err(|e| RecognizeError::Model(format!("running the reader: {e}")))?;
            let chars: NdTensor<f32, 3> = chars
                .try_into()
                .map_err(|e| RecognizeError::Model(format!("reader 'chars' output: {e:?}")))?;
            let region: NdTensor<f32, 2> = region
                .try_into()
                .map_err(|e| RecognizeError::Model(format!("reader 'region' output: {e:?}")))?;
            for n in 0..part.len() {
                let seq = chars.slice((.., n, ..));
                out.push(Seen {
                    steps: seq.size(0),
                    chars: seq.iter().copied().collect(),
                    region: log_softmax(region.slice(n)),
                });
            }
        }
        Ok(out)
    }

    /// The read of one plate seen in `first` and any `more` views of it.
    /// The views must share the plate's horizontal axis (cut differently
    /// above and below, not left and right): their probabilities are
    /// averaged step by step, which only means something while each step
    /// looks at the same columns. On the held-out real US crops in Python,
    /// with the reader before the shipped one, the crop and its two 8% cuts
    /// averaged read 145 of 152 exactly (O and
    /// 0 as one) against 139 for the crop alone; cuts at the sides, which
    /// move the steps, read 99.
    pub fn decide(&self, first: &Seen, more: &[&Seen]) -> TextRead {
        let chars = mixture(&first.chars, more.iter().map(|s| s.chars.as_slice()));
        let classes = chars.len() / first.steps.max(1);
        let region = mixture(&first.region, more.iter().map(|s| s.region.as_slice()));
        let mut read = TextRead {
            chars: self.decode(NdTensorView::from_data(
                [first.steps, classes],
                chars.as_slice(),
            )),
            region: self.region(&region),
        };
        self.apply_formats(&mut read, &region);
        read
    }

    fn decode(&self, seq: NdTensorView<f32, 2>) -> Vec<CharRead> {
        let path = CtcDecoder::new().decode_greedy(seq);
        let steps = path.steps();
        let (t_len, classes) = (seq.size(0), seq.size(1));
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            // The label holds from its first step while the argmax stays on
            // it; its confidence is its best probability over that run.
            let label = step.label as usize;
            let mut best_t = step.pos as usize;
            let mut t = best_t;
            while t < t_len && argmax(seq.slice(t)) == label {
                if seq[[t, label]] > seq[[best_t, label]] {
                    best_t = t;
                }
                t += 1;
            }
            let row = seq.slice(best_t);
            let second = (1..classes)
                .filter(|&k| k != label)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .map(|k| (self.charset[k - 1], row[k].exp()));
            out.push(CharRead {
                ch: self.charset[label - 1],
                confidence: row[label].exp(),
                second,
            });
        }
        out
    }

    /// Puts a read in its region's format (see `format`): on a US plate an
    /// unsure extra character at an end is dropped where that turns a shape
    /// no label has into a common one, and the zeros the format calls
    /// letters become O, the digit taking the
    /// runner-up's place (and probability); on a plate of a region with
    /// fixed shapes, characters of the wrong kind trade places with their
    /// runner-ups; on a European plate that fits no issued pattern, one
    /// unsure look-alike is swapped, or a character at an end (the band's
    /// letter, a frame) dropped, where that makes it fit (`Europe::settle`).
    /// A swap keeps the text as first read among the candidates. A US
    /// plate's state is the head's guess weighed with the states' shapes
    /// (`UsFormats::weigh_state`).
    fn apply_formats(&self, read: &mut TextRead, region_log_probs: &[f32]) {
        let Some((code, _)) = &read.region else {
            return;
        };
        if self.formats.is_us(code) {
            if let Some(i) = self.formats.extra_end(&read.chars) {
                read.chars.remove(i);
            }
            let text: Vec<char> = read.chars.iter().map(|c| c.ch).collect();
            let heads = self
                .meta
                .regions
                .iter()
                .map(String::as_str)
                .zip(region_log_probs.iter().copied());
            if let Some(state) = self.formats.weigh_state(heads, &text) {
                read.region = Some(state);
            }
            for i in self.formats.letter_os(&text) {
                let c = &mut read.chars[i];
                c.second = Some(('0', c.second.map_or(0.0, |(_, p)| p)));
                c.ch = 'O';
            }
            return;
        }
        if Europe::is_european(code) {
            match self.europe.settle(code, &read.chars) {
                // As the US rule does: the reader was as sure of the glyph
                // as it was, and the pattern says which of the pair it is;
                // the character as read becomes the runner-up.
                Some(Settle::Swap(i, ch, p)) => {
                    let c = &mut read.chars[i];
                    c.second = Some((c.ch, p));
                    c.ch = ch;
                }
                Some(Settle::Drop(i)) => {
                    read.chars.remove(i);
                }
                None => {}
            }
            return;
        }
        for i in self.fixed.runner_ups(code, &read.chars) {
            let c = &mut read.chars[i];
            if let Some((ch, p)) = c.second {
                // Its probability among characters of the right kind: at
                // least its share of what the wrong one left.
                let confidence = (p / (1.0 - c.confidence).max(p)).min(1.0);
                c.second = Some((c.ch, c.confidence));
                c.ch = ch;
                c.confidence = confidence;
            }
        }
    }

    /// The region and its probability from the region head's
    /// log-probabilities.
    fn region(&self, log_probs: &[f32]) -> Option<(String, f32)> {
        let best = argmax(NdTensorView::from_data([log_probs.len()], log_probs));
        let name = self.meta.regions.get(best)?;
        if name == "unknown" {
            return None;
        }
        Some((name.to_ascii_uppercase(), log_probs[best].exp()))
    }
}

/// The log of the mean of the views' probabilities, element by element
/// (`first` itself when there is no other view). All views come from one
/// model at one input size, so their lengths agree.
fn mixture<'a>(first: &[f32], more: impl Iterator<Item = &'a [f32]> + Clone) -> Vec<f32> {
    let others = more.clone().count();
    if others == 0 {
        return first.to_vec();
    }
    let n = (1 + others) as f32;
    (0..first.len())
        .map(|i| {
            let values = std::iter::once(first[i]).chain(more.clone().map(|m| m[i]));
            let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
            if max == f32::NEG_INFINITY {
                return max;
            }
            max + (values.map(|x| (x - max).exp()).sum::<f32>() / n).ln()
        })
        .collect()
}

fn log_softmax(logits: NdTensorView<f32, 1>) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = logits.iter().map(|v| (v - max).exp()).sum();
    logits.iter().map(|v| v - max - total.ln()).collect()
}

fn argmax(v: NdTensorView<f32, 1>) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, region: &str, second: &[(usize, char, f32)]) -> TextRead {
        TextRead {
            chars: text
                .chars()
                .enumerate()
                .map(|(i, ch)| CharRead {
                    ch,
                    confidence: 0.9,
                    second: second.iter().find(|s| s.0 == i).map(|s| (s.1, s.2)),
                })
                .collect(),
            region: Some((region.to_string(), 0.8)),
        }
    }

    /// Region log-probabilities that give the read's region 0.8 and share
    /// the rest among the others.
    fn head_of(reader: &Reader, read: &TextRead) -> Vec<f32> {
        let n = reader.meta.regions.len() as f32;
        let own = read.region.as_ref().map(|(r, _)| r.to_ascii_lowercase());
        reader
            .meta
            .regions
            .iter()
            .map(|r| {
                if Some(r) == own.as_ref() {
                    0.8f32.ln()
                } else {
                    (0.2 / (n - 1.0)).ln()
                }
            })
            .collect()
    }

    /// The shipped reader.json carries each state's shapes: a head torn
    /// between Nevada and California is settled by California's 7ABC123.
    #[test]
    fn shipped_state_shapes_settle_a_torn_head() {
        let reader = Reader::shipped().unwrap();
        let mut torn = read("7ABC123", "NV", &[]);
        let head: Vec<f32> = reader
            .meta
            .regions
            .iter()
            .map(|r| match r.as_str() {
                "nv" => 0.45f32.ln(),
                "ca" => 0.35f32.ln(),
                _ => (0.2f32 / 65.0).ln(),
            })
            .collect();
        reader.apply_formats(&mut torn, &head);
        assert_eq!(torn.region.as_ref().unwrap().0, "CA");
        assert_eq!(torn.text(), "7ABC123");
    }

    /// The shipped reader.json carries the formats: a US serial plate's
    /// letter group gets its O, a Brazilian plate its digit back.
    #[test]
    fn shipped_formats_apply_by_region() {
        let reader = Reader::shipped().unwrap();
        let mut us = read("3550CT", "AR", &[(3, 'D', 0.05)]);
        let head = head_of(&reader, &us);
        reader.apply_formats(&mut us, &head);
        assert_eq!(us.text(), "355OCT");
        assert_eq!(
            us.chars[3].second,
            Some(('0', 0.05)),
            "the first read stays a candidate"
        );

        // A Brazilian plate: its D of the wrong kind goes back to the runner-up.
        let mut br = read("GNF349D", "BR", &[(6, '0', 0.09)]);
        let head = head_of(&reader, &br);
        reader.apply_formats(&mut br, &head);
        assert_eq!(br.text(), "GNF3490");
        assert_eq!(br.chars[6].second, Some(('D', 0.9)));
        assert!(
            (br.chars[6].confidence - 0.9).abs() < 1e-6,
            "0.09 of the 0.1 left"
        );

        // A sure character stays, shape or not (a European plate taken for
        // a Mercosul one).
        let mut sure = read("GNF349D", "BR", &[(6, '0', 0.01)]);
        let head = head_of(&reader, &sure);
        reader.apply_formats(&mut sure, &head);
        assert_eq!(sure.text(), "GNF349D");

        // A European plate out of every pattern: its unsure look-alike is
        // swapped (UK AB51 ABC read AB5I ABC), or its band letter dropped.
        let mut uk = read("AB5IABC", "UK", &[(3, '1', 0.3)]);
        uk.chars[3].confidence = 0.6;
        let head = head_of(&reader, &uk);
        reader.apply_formats(&mut uk, &head);
        assert_eq!(uk.text(), "AB51ABC");
        assert_eq!(uk.chars[3].second, Some(('I', 0.3)));
        assert_eq!(
            uk.chars[3].confidence, 0.6,
            "as sure of the glyph as it was"
        );
        let mut band = read("FAB123CD", "EU-F", &[]);
        for c in &mut band.chars {
            c.confidence = 0.99;
        }
        let head = head_of(&reader, &band);
        reader.apply_formats(&mut band, &head);
        assert_eq!(band.text(), "AB123CD");

        let mut none = read("3550CT", "AR", &[]);
        none.region = None;
        let head = head_of(&reader, &none);
        reader.apply_formats(&mut none, &head);
        assert_eq!(none.text(), "3550CT", "no region, no format");
    }

    /// A view of `steps` steps where step `t` gives `probs[t]` to its
    /// characters (blank takes the rest), and a region it is sure of.
    fn seen(reader: &Reader, probs: &[&[(char, f32)]], region: &str) -> Seen {
        let classes = reader.charset.len() + 1;
        let mut chars = Vec::with_capacity(probs.len() * classes);
        for step in probs {
            let mut row = vec![f32::MIN_POSITIVE; classes];
            row[0] = 1.0 - step.iter().map(|(_, p)| p).sum::<f32>();
            for &(ch, p) in *step {
                row[1 + reader.charset.iter().position(|&c| c == ch).unwrap()] = p;
            }
            chars.extend(row.iter().map(|p| p.max(f32::MIN_POSITIVE).ln()));
        }
        let region = (reader.meta.regions.iter())
            .map(|r| if r == region { 0.0 } else { -30.0 })
            .collect();
        Seen {
            steps: probs.len(),
            chars,
            region,
        }
    }

    /// Views of one plate are read together: the mean of their
    /// probabilities, step by step, decides each character and its
    /// confidence.
    #[test]
    fn views_are_read_from_their_mean_probabilities() {
        let reader = Reader::shipped().unwrap();
        let a = seen(
            &reader,
            &[&[('8', 0.9)], &[], &[('E', 0.6), ('F', 0.3)]],
            "br",
        );
        let b = seen(
            &reader,
            &[&[('8', 0.7)], &[], &[('F', 0.9), ('E', 0.05)]],
            "br",
        );
        assert_eq!(reader.decide(&a, &[]).text(), "8E");
        let together = reader.decide(&a, &[&b]);
        assert_eq!(together.text(), "8F");
        let f = together.chars[1];
        assert!((f.confidence - 0.6).abs() < 1e-4, "{f:?}");
        let (second, p) = f.second.unwrap();
        assert_eq!(second, 'E');
        assert!((p - 0.325).abs() < 1e-4);
        assert!((together.chars[0].confidence - 0.8).abs() < 1e-4);
        assert_eq!(together.region.unwrap().0, "BR");

        // A view read with itself is read as alone.
        assert_eq!(reader.decide(&b, &[&b, &b]), reader.decide(&b, &[]));
    }
}
