//! Finds where plates may be in a frame: a fast, classic localizer.
//!
//! Plate characters are a tight row of strong vertical edges. On a
//! half-resolution grey frame: horizontal gradient, Otsu threshold, a
//! horizontal closing that joins a plate's characters into one blob,
//! connected components, and shape filters. What survives is only a
//! candidate: the reader decides whether it holds a plate, so the filters
//! here are loose and the candidate count is bounded.

/// A grey image, row-major, one byte per pixel.
#[derive(Debug, Clone)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Gray {
    pub fn from_rgb(img: &image::RgbImage) -> Gray {
        let pixels = img
            .pixels()
            .map(|p| {
                let [r, g, b] = p.0;
                // ITU-R 601 luma, as PIL's convert("L") that the reader trained on.
                ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114 + 500) / 1000) as u8
            })
            .collect();
        Gray {
            width: img.width() as usize,
            height: img.height() as usize,
            pixels,
        }
    }

    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// Bilinear sample at a real position, clamped to the edges.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = self.at(x0, y0) as f32 * (1.0 - fx) + self.at(x1, y0) as f32 * fx;
        let bottom = self.at(x0, y1) as f32 * (1.0 - fx) + self.at(x1, y1) as f32 * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// Half the size in each direction, each pixel the mean of four.
    fn halve(&self) -> Gray {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut pixels = Vec::with_capacity(w * h);
        for y in 0..h {
            let (r0, r1) = (2 * y * self.width, (2 * y + 1) * self.width);
            for x in 0..w {
                let s = self.pixels[r0 + 2 * x] as u32
                    + self.pixels[r0 + 2 * x + 1] as u32
                    + self.pixels[r1 + 2 * x] as u32
                    + self.pixels[r1 + 2 * x + 1] as u32;
                pixels.push(((s + 2) / 4) as u8);
            }
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }
}

/// A candidate plate: where its characters are, in full-frame pixels, and
/// the roll of that row of characters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub cx: f32,
    pub cy: f32,
    /// Width and height of the character row along its own axes.
    pub width: f32,
    pub height: f32,
    pub angle_rad: f32,
    /// Edge density in the blob's box, for ranking.
    pub score: f32,
}

/// Limits on what the localizer hands on.
#[derive(Debug, Clone, Copy)]
pub struct LocateConfig {
    /// At most this many candidates per frame, best first.
    pub candidates_max: usize,
    /// Character rows narrower than this (full-frame pixels) are too small to read.
    pub text_width_min: f32,
}

impl Default for LocateConfig {
    fn default() -> Self {
        LocateConfig {
            candidates_max: 8,
            text_width_min: 44.0,
        }
    }
}

/// Finds candidate character rows in a full-resolution grey frame.
pub fn locate(frame: &Gray, config: &LocateConfig) -> Vec<Candidate> {
    if frame.width < 16 || frame.height < 16 {
        return Vec::new();
    }
    let small = frame.halve();
    let (w, h) = (small.width, small.height);
    // Horizontal gradient: characters are vertical strokes.
    let mut edges = vec![0u8; w * h];
    let mut histogram = [0u32; 256];
    for y in 0..h {
        let row = &small.pixels[y * w..(y + 1) * w];
        for x in 1..w - 1 {
            let g = (row[x + 1] as i16 - row[x - 1] as i16)
                .unsigned_abs()
                .min(255) as u8;
            edges[y * w + x] = g;
            histogram[g as usize] += 1;
        }
    }
    // Otsu over the gradient, with a floor so a flat frame yields nothing.
    let threshold = otsu(&histogram).max(24);
    let mut mask: Vec<bool> = edges.iter().map(|&g| g >= threshold).collect();
    // Join the strokes of one plate: characters are about a stroke apart.
    close_horizontal(&mut mask, w, h, 4);
    open_vertical(&mut mask, w, h, 1);
    let mut found: Vec<Candidate> = components(&mask, w, h)
        .into_iter()
        .filter_map(|c| c.candidate(config))
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(config.candidates_max);
    found
}

fn otsu(histogram: &[u32; 256]) -> u8 {
    let total: u64 = histogram.iter().map(|&c| c as u64).sum();
    if total == 0 {
        return 255;
    }
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut weight_low, mut sum_low) = (0u64, 0f64);
    let (mut best, mut best_between) = (0u8, -1f64);
    for (v, &c) in histogram.iter().enumerate() {
        weight_low += c as u64;
        if weight_low == 0 {
            continue;
        }
        let weight_high = total - weight_low;
        if weight_high == 0 {
            break;
        }
        sum_low += v as f64 * c as f64;
        let mean_low = sum_low / weight_low as f64;
        let mean_high = (sum_all - sum_low) / weight_high as f64;
        let between = weight_low as f64 * weight_high as f64 * (mean_low - mean_high).powi(2);
        if between > best_between {
            best_between = between;
            best = v as u8;
        }
    }
    best
}

/// Dilation then erosion along rows by `radius`: fills gaps up to 2 * radius.
fn close_horizontal(mask: &mut [bool], w: usize, h: usize, radius: usize) {
    let mut tmp = vec![false; w];
    for y in 0..h {
        let row = &mut mask[y * w..(y + 1) * w];
        run_max(row, &mut tmp, radius, true);
        row.copy_from_slice(&tmp);
        run_max(row, &mut tmp, radius, false);
        row.copy_from_slice(&tmp);
    }
}

/// For each position, whether any (`any` = true) or all (`any` = false)
/// cells within `radius` are set.
fn run_max(row: &[bool], out: &mut [bool], radius: usize, any: bool) {
    let n = row.len();
    // A running count of set cells in the window.
    let mut count = 0usize;
    for &cell in row.iter().take(radius.min(n)) {
        count += cell as usize;
    }
    for x in 0..n {
        if x + radius < n {
            count += row[x + radius] as usize;
        }
        if x > radius {
            count -= row[x - radius - 1] as usize;
        }
        let lo = x.saturating_sub(radius);
        let hi = (x + radius).min(n - 1);
        out[x] = if any { count > 0 } else { count == hi - lo + 1 };
    }
}

/// Erosion then dilation along columns: removes strokes thinner than
/// 2 * radius + 1 rows, such as the edges of thin horizontal lines.
fn open_vertical(mask: &mut [bool], w: usize, h: usize, radius: usize) {
    let mut col = vec![false; h];
    let mut tmp = vec![false; h];
    for x in 0..w {
        for y in 0..h {
            col[y] = mask[y * w + x];
        }
        run_max(&col, &mut tmp, radius, false);
        run_max(&tmp, &mut col, radius, true);
        for y in 0..h {
            mask[y * w + x] = col[y];
        }
    }
}

/// One 4-connected blob, with the moments that give its orientation.
#[derive(Debug, Default)]
struct Blob {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Blob {
    fn candidate(&self, config: &LocateConfig) -> Option<Candidate> {
        let bw = (self.x1 - self.x0 + 1) as f32;
        let bh = (self.y1 - self.y0 + 1) as f32;
        let fill = self.n as f32 / (bw * bh);
        // Half-resolution units here; candidates are reported at full size.
        if bw * 2.0 < config.text_width_min || bh < 4.0 || bw > 320.0 || bh > 90.0 {
            return None;
        }
        let (mx, my) = (self.sx / self.n, self.sy / self.n);
        let mu20 = self.sxx / self.n - mx * mx;
        let mu02 = self.syy / self.n - my * my;
        let mu11 = self.sxy / self.n - mx * my;
        let angle = 0.5 * (2.0 * mu11).atan2(mu20 - mu02);
        // A row of characters rolls little; a blob standing up is not one.
        let angle = angle as f32;
        if angle.abs() > 0.35 {
            return None;
        }
        // Size along the blob's own axes, from its second moments (a filled
        // rectangle of side L has variance L^2 / 12).
        let (s, c) = (angle as f64).sin_cos();
        let along = (mu20 * c * c + 2.0 * mu11 * s * c + mu02 * s * s).max(0.0);
        let across = (mu20 * s * s - 2.0 * mu11 * s * c + mu02 * c * c).max(0.0);
        let width = (12.0 * along).sqrt() as f32;
        let height = (12.0 * across).sqrt() as f32;
        let aspect = width / height.max(1.0);
        if !(1.6..=9.0).contains(&aspect) || fill < 0.35 {
            return None;
        }
        Some(Candidate {
            cx: (mx as f32 + 0.5) * 2.0,
            cy: (my as f32 + 0.5) * 2.0,
            width: width * 2.0,
            height: height * 2.0,
            angle_rad: angle,
            score: fill * width.min(160.0),
        })
    }
}

fn components(mask: &[bool], w: usize, h: usize) -> Vec<Blob> {
    let mut seen = vec![false; mask.len()];
    let mut stack = Vec::new();
    let mut blobs = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut b = Blob {
            x0: usize::MAX,
            y0: usize::MAX,
            ..Blob::default()
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            b.x0 = b.x0.min(x);
            b.x1 = b.x1.max(x);
            b.y0 = b.y0.min(y);
            b.y1 = b.y1.max(y);
            let (xf, yf) = (x as f64, y as f64);
            b.n += 1.0;
            b.sx += xf;
            b.sy += yf;
            b.sxx += xf * xf;
            b.syy += yf * yf;
            b.sxy += xf * yf;
            let mut visit = |j: usize| {
                if mask[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        blobs.push(b);
    }
    blobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_joins_gaps_and_keeps_ends() {
        let mut m: Vec<bool> = "..##..##.....##".chars().map(|c| c == '#').collect();
        let n = m.len();
        close_horizontal(&mut m, n, 1, 1);
        let s: String = m.iter().map(|&b| if b { '#' } else { '.' }).collect();
        assert_eq!(s, "..######.....##");
    }

    #[test]
    fn flat_frame_has_no_candidates() {
        let g = Gray {
            width: 64,
            height: 64,
            pixels: vec![128; 64 * 64],
        };
        assert!(locate(&g, &LocateConfig::default()).is_empty());
    }
}
