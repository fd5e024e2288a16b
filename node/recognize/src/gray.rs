//! Grey frames and the deskew estimate.
//!
//! The detector and the reader both work on grey values (the reader trained
//! on ITU-R 601 luma); the plate's roll is measured from its strokes so the
//! crop handed to the reader is level.

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
}

/// The roll of the character row inside an axis-aligned box: the principal
/// axis of the strong vertical-stroke pixels in it (every second pixel),
/// within +-0.3 rad. Zero when the box holds too little to tell.
pub fn roll_in(frame: &Gray, cx: f32, cy: f32, width: f32, height: f32) -> f32 {
    let x0 = ((cx - width / 2.0).max(1.0)) as usize;
    let x1 = ((cx + width / 2.0) as usize).min(frame.width.saturating_sub(2));
    let y0 = ((cy - height / 2.0).max(0.0)) as usize;
    let y1 = ((cy + height / 2.0) as usize).min(frame.height.saturating_sub(1));
    if x1 <= x0 + 4 || y1 <= y0 + 4 {
        return 0.0;
    }
    let mut histogram = [0u32; 256];
    let grad = |x: usize, y: usize| {
        (frame.at(x + 1, y) as i16 - frame.at(x - 1, y) as i16)
            .unsigned_abs()
            .min(255) as u8
    };
    for y in (y0..y1).step_by(2) {
        for x in (x0..x1).step_by(2) {
            histogram[grad(x, y) as usize] += 1;
        }
    }
    let threshold = otsu(&histogram).max(24);
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    for y in (y0..y1).step_by(2) {
        for x in (x0..x1).step_by(2) {
            if grad(x, y) >= threshold {
                let (xf, yf) = (x as f64, y as f64);
                n += 1.0;
                sx += xf;
                sy += yf;
                sxx += xf * xf;
                syy += yf * yf;
                sxy += xf * yf;
            }
        }
    }
    if n < 20.0 {
        return 0.0;
    }
    let (mx, my) = (sx / n, sy / n);
    let mu20 = sxx / n - mx * mx;
    let mu02 = syy / n - my * my;
    let mu11 = sxy / n - mx * my;
    (0.5 * (2.0 * mu11).atan2(mu20 - mu02)).clamp(-0.3, 0.3) as f32
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_follows_a_tilted_row_of_strokes() {
        // Vertical strokes along a line rising 1 pixel in 10.
        let (w, h) = (200usize, 100usize);
        let mut pixels = vec![230u8; w * h];
        for k in 0..14 {
            let x0 = 30 + k * 10;
            let y_mid = 50.0 - (x0 as f32 - 100.0) * 0.1;
            for y in (y_mid as usize - 10)..(y_mid as usize + 10) {
                for x in x0..x0 + 3 {
                    pixels[y * w + x] = 20;
                }
            }
        }
        let g = Gray {
            width: w,
            height: h,
            pixels,
        };
        let roll = roll_in(&g, 100.0, 50.0, 190.0, 90.0);
        assert!((roll - (-0.1f32).atan()).abs() < 0.03, "roll {roll}");
        let flat = Gray {
            width: w,
            height: h,
            pixels: vec![128; w * h],
        };
        assert_eq!(roll_in(&flat, 100.0, 50.0, 190.0, 90.0), 0.0);
    }
}
