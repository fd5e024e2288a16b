//! Renders camera frames of vehicles with plates of known text.
//!
//! The recognition tests and the README's sample frames come from here, so
//! the project commits no third-party image: a street (sky, buildings, road,
//! lane marks) and a vehicle body carrying a US-style plate (state band,
//! border, bold characters) or a European one (EU band with the country's
//! letters), with noise. Everything is drawn from a seed, so
//! a frame is the same on every machine.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// DejaVu Sans Mono Bold (see `assets/DejaVu-LICENSE.txt`): a bold narrow
/// sans like plate lettering, and one the reader's training renders with.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono-Bold.ttf");

pub const FRAME_WIDTH: u32 = 1280;
pub const FRAME_HEIGHT: u32 = 720;

/// Where a plate sits in a frame: its centre, width in pixels and its roll
/// in degrees. Its height follows from the plate's layout
/// ([`Plate::height`]); [`Placement::bounds`] assumes a US plate's (half
/// the width, 12 x 6 inches) and [`Plate::bounds`] takes any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
    pub angle_deg: f32,
}

impl Placement {
    /// The axis-aligned box around the placed plate: `[x, y, w, h]`.
    pub fn bounds(&self) -> [f32; 4] {
        self.bounds_with_height(self.width / 2.0)
    }

    /// The same for a plate of another shape, `height` pixels tall.
    pub fn bounds_with_height(&self, height: f32) -> [f32; 4] {
        let (w, h) = (self.width, height);
        let (s, c) = self.angle_deg.to_radians().sin_cos();
        let bw = w * c.abs() + h * s.abs();
        let bh = w * s.abs() + h * c.abs();
        [self.cx - bw / 2.0, self.cy - bh / 2.0, bw, bh]
    }
}

/// How a plate is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 12 x 6 inches: the state's name in a band above the characters.
    Us,
    /// 520 x 110 mm: the blue EU band at the left with the ring of stars
    /// and the country's letters, then the registration in one row.
    European,
}

/// A plate's look.
#[derive(Debug, Clone, PartialEq)]
pub struct Plate {
    /// The characters as printed, separators (spaces, dashes) included.
    pub text: String,
    /// The state's name (US) or the country's letters in the EU band.
    pub band: String,
    pub background: [u8; 3],
    pub ink: [u8; 3],
    pub layout: Layout,
}

impl Plate {
    /// A common US look: white plate, dark blue characters, the state in red.
    pub fn new(text: &str, band: &str) -> Plate {
        Plate {
            text: text.to_string(),
            band: band.to_string(),
            background: [245, 245, 240],
            ink: [20, 35, 110],
            layout: Layout::Us,
        }
    }

    /// A European plate: black characters on white, `country` (`D`, `F`,
    /// `NL`, ...) in the EU band.
    pub fn european(text: &str, country: &str) -> Plate {
        Plate {
            text: text.to_string(),
            band: country.to_string(),
            background: [248, 248, 246],
            ink: [15, 15, 15],
            layout: Layout::European,
        }
    }

    /// The registration a reader should report: the printed characters
    /// without separators.
    pub fn registration(&self) -> String {
        self.text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }

    /// The plate's height when it is `width` pixels wide.
    pub fn height(&self, width: u32) -> u32 {
        match self.layout {
            Layout::Us => (width / 2).max(8),
            Layout::European => (width * 110 / 520).max(8),
        }
    }

    /// The axis-aligned box around this plate placed at `at`: `[x, y, w, h]`.
    pub fn bounds(&self, at: Placement) -> [f32; 4] {
        // As `frame` renders it: `at.width` rounded, at least 16 pixels.
        let width = at.width.round().max(16.0) as u32;
        at.bounds_with_height(self.height(width) as f32)
    }

    /// The plate itself, `width` pixels wide and [`Plate::height`] tall.
    pub fn render(&self, width: u32) -> RgbImage {
        let font = font();
        let h = self.height(width);
        let mut img = RgbImage::from_pixel(width, h, Rgb(self.background));
        let border = (width / 60).max(1);
        for y in 0..h {
            for x in 0..width {
                if x < border || y < border || x >= width - border || y >= h - border {
                    img.put_pixel(x, y, Rgb(self.ink));
                }
            }
        }
        let wf = width as f32;
        let hf = h as f32;
        match self.layout {
            Layout::Us => {
                // The band: state name above the characters, smaller, in red.
                draw_text_in(
                    &mut img,
                    &font,
                    &self.band,
                    [wf * 0.2, hf * 0.06, wf * 0.6, hf * 0.17],
                    [170, 30, 30],
                );
                draw_text_in(
                    &mut img,
                    &font,
                    &self.text,
                    [wf * 0.07, hf * 0.28, wf * 0.86, hf * 0.52],
                    self.ink,
                );
            }
            Layout::European => {
                let band = wf * 0.085;
                fill(&mut img, 0, 0, band as i32, h as i32, [20, 50, 150]);
                // The ring of twelve stars, as dots, above the letters.
                let (cx, cy, r) = (band / 2.0, hf * 0.3, band * 0.3);
                let dot = (band / 12.0).max(1.0);
                for k in 0..12 {
                    let t = k as f32 * std::f32::consts::PI / 6.0;
                    let (x, y) = (cx + r * t.cos(), cy + r * t.sin());
                    fill(
                        &mut img,
                        (x - dot / 2.0) as i32,
                        (y - dot / 2.0) as i32,
                        dot.ceil() as i32,
                        dot.ceil() as i32,
                        [250, 210, 0],
                    );
                }
                let code_w = band * 0.3 * self.band.chars().count() as f32;
                draw_text_in(
                    &mut img,
                    &font,
                    &self.band,
                    [cx - code_w / 2.0, hf * 0.6, code_w, hf * 0.25],
                    [255, 255, 255],
                );
                // Characters have a fixed pitch: a short registration is
                // centred, not stretched across the plate.
                let left = band + wf * 0.03;
                let room = wf - left - wf * 0.03;
                let span = room.min(self.text.chars().count() as f32 * wf * 0.09);
                draw_text_in(
                    &mut img,
                    &font,
                    &self.text,
                    [left + (room - span) / 2.0, hf * 0.15, span, hf * 0.68],
                    self.ink,
                );
            }
        }
        img
    }
}

pub(crate) fn font() -> FontRef<'static> {
    // The font is compiled in and known to parse.
    FontRef::try_from_slice(FONT).unwrap_or_else(|e| panic!("embedded font: {e}"))
}

/// Draws `text` stretched to fill `rect` (`[x, y, w, h]`), as plate lettering is.
fn draw_text_in(img: &mut RgbImage, font: &FontRef<'_>, text: &str, rect: [f32; 4], ink: [u8; 3]) {
    let [x0, y0, w, h] = rect;
    if text.is_empty() {
        return;
    }
    // Lay out at a unit scale, then scale x and y separately to fill the box.
    let probe = PxScale::from(100.0);
    let scaled = font.as_scaled(probe);
    let advance: f32 = text
        .chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum();
    let cap = font
        .outline_glyph(font.glyph_id('H').with_scale(probe))
        .map_or(70.0, |g| g.px_bounds().height());
    let scale = PxScale {
        x: 100.0 * w / advance.max(1.0),
        y: 100.0 * h / cap.max(1.0),
    };
    let scaled = font.as_scaled(scale);
    let mut pen = x0;
    let baseline = y0 + h;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(pen, baseline));
        pen += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, cover| {
            let x = b.min.x as i64 + gx as i64;
            let y = b.min.y as i64 + gy as i64;
            if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                let p = img.get_pixel_mut(x as u32, y as u32);
                for (c, k) in p.0.iter_mut().zip(ink) {
                    *c = (*c as f32 * (1.0 - cover) + k as f32 * cover) as u8;
                }
            }
        });
    }
}

/// A street scene without any plate, the same for a given seed.
pub fn street(seed: u64) -> RgbImage {
    street_sized(seed, (FRAME_WIDTH, FRAME_HEIGHT))
}

/// A street scene of another size, `(width, height)` pixels.
pub fn street_sized(seed: u64, (w, h): (u32, u32)) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let horizon = h as f32 * rng.random_range(0.35..0.5);
    let sky = [
        rng.random_range(120..200u8),
        rng.random_range(150..210),
        230,
    ];
    let road = rng.random_range(70..110u8);
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let y = y as f32;
        if y < horizon {
            let k = y / horizon;
            Rgb(sky.map(|c| (c as f32 * (1.0 - 0.3 * k)) as u8))
        } else {
            let k = (y - horizon) / (h as f32 - horizon);
            let v = (road as f32 * (0.8 + 0.4 * k)) as u8;
            Rgb([v, v, v.saturating_add(5)])
        }
    });
    // Buildings with windows: edges and texture a plate finder must ignore.
    let mut x = 0i32;
    while x < w as i32 {
        let bw = rng.random_range(80..260);
        let top = horizon as i32 - rng.random_range(60..240);
        let tone = rng.random_range(90..200u8);
        let color = [tone, tone.saturating_sub(20), tone.saturating_sub(35)];
        fill(&mut img, x, top, bw, horizon as i32 - top, color);
        let mut wy = top + 12;
        while wy + 14 < horizon as i32 {
            let mut wx = x + 10;
            while wx + 14 < x + bw {
                let lit = rng.random_range(30..220u8);
                fill(&mut img, wx, wy, 12, 14, [lit, lit, lit / 2 + 60]);
                wx += 24;
            }
            wy += 26;
        }
        x += bw + rng.random_range(0..30);
    }
    // Lane marks.
    for i in 0..6 {
        let y = horizon as i32 + 40 + i * 50;
        fill(&mut img, 100 + i * 190, y, 90, 6, [230, 230, 220]);
    }
    img
}

fn fill(img: &mut RgbImage, x: i32, y: i32, w: i32, h: i32, color: [u8; 3]) {
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    for yy in y.max(0)..(y + h).min(ih) {
        for xx in x.max(0)..(x + w).min(iw) {
            img.put_pixel(xx as u32, yy as u32, Rgb(color));
        }
    }
}

/// One frame: the street of `seed`, a vehicle whose plate is `plate` at
/// `at`, and sensor noise.
pub fn frame(seed: u64, plate: &Plate, at: Placement) -> RgbImage {
    frame_sized(seed, plate, at, (FRAME_WIDTH, FRAME_HEIGHT))
}

/// The same in a frame of another size, `(width, height)` pixels: a far
/// plate in a 1920 x 1080 frame, say.
pub fn frame_sized(seed: u64, plate: &Plate, at: Placement, size: (u32, u32)) -> RgbImage {
    let mut img = street_sized(seed, size);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    // The vehicle's rear: a body around the plate, a darker bumper below it.
    let body = [
        rng.random_range(20..230u8),
        rng.random_range(20..230u8),
        rng.random_range(20..230u8),
    ];
    let bw = at.width * 4.2;
    let bh = at.width * 2.4;
    fill(
        &mut img,
        (at.cx - bw / 2.0) as i32,
        (at.cy - bh * 0.6) as i32,
        bw as i32,
        bh as i32,
        body,
    );
    let bumper = body.map(|c| c / 3);
    fill(
        &mut img,
        (at.cx - bw / 2.0) as i32,
        (at.cy + at.width * 0.3) as i32,
        bw as i32,
        (at.width * 0.5) as i32,
        bumper,
    );
    // Tail lights: bright, edged, plate-sized shapes that are not plates.
    for side in [-1.0f32, 1.0] {
        fill(
            &mut img,
            (at.cx + side * bw * 0.38 - at.width * 0.3) as i32,
            (at.cy - at.width * 0.6) as i32,
            (at.width * 0.6) as i32,
            (at.width * 0.25) as i32,
            [200, 25, 25],
        );
    }
    paste_rotated(
        &mut img,
        &plate.render(at.width.round().max(16.0) as u32),
        at,
    );
    add_noise(&mut img, &mut rng, 6);
    img
}

/// Pastes `src` centred at `at`, rolled by its angle, with bilinear sampling.
fn paste_rotated(dst: &mut RgbImage, src: &RgbImage, at: Placement) {
    let (s, c) = at.angle_deg.to_radians().sin_cos();
    let (sw, sh) = (src.width() as f32, src.height() as f32);
    let [bx, by, bw, bh] = at.bounds_with_height(sh);
    for y in (by.floor() as i64).max(0)..((by + bh).ceil() as i64).min(dst.height() as i64) {
        for x in (bx.floor() as i64).max(0)..((bx + bw).ceil() as i64).min(dst.width() as i64) {
            let dx = x as f32 + 0.5 - at.cx;
            let dy = y as f32 + 0.5 - at.cy;
            // Inverse rotation into the plate's own coordinates.
            let u = c * dx + s * dy + sw / 2.0 - 0.5;
            let v = -s * dx + c * dy + sh / 2.0 - 0.5;
            if u < 0.0 || v < 0.0 || u > sw - 1.0 || v > sh - 1.0 {
                continue;
            }
            let (x0, y0) = (u.floor() as u32, v.floor() as u32);
            let (x1, y1) = (
                (x0 + 1).min(src.width() - 1),
                (y0 + 1).min(src.height() - 1),
            );
            let (fx, fy) = (u - x0 as f32, v - y0 as f32);
            let mut out = [0u8; 3];
            for (i, o) in out.iter_mut().enumerate() {
                let p = |xx, yy| src.get_pixel(xx, yy).0[i] as f32;
                let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
                let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
                *o = (top * (1.0 - fy) + bottom * fy).round() as u8;
            }
            dst.put_pixel(x as u32, y as u32, Rgb(out));
        }
    }
}

fn add_noise(img: &mut RgbImage, rng: &mut StdRng, amplitude: i16) {
    for p in img.pixels_mut() {
        let n = rng.random_range(-amplitude..=amplitude);
        for c in p.0.iter_mut() {
            *c = (*c as i16 + n).clamp(0, 255) as u8;
        }
    }
}

/// A vehicle passing the camera: `frames` frames as its plate approaches,
/// growing from about 110 to 230 pixels wide and drifting across the view,
/// then leaving it. Returns each frame with the plate's placement (`None`
/// once the vehicle has left).
pub fn pass(seed: u64, plate: &Plate, frames: usize) -> Vec<(RgbImage, Option<Placement>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let x0 = rng.random_range(380.0..900.0f32);
    let drift = rng.random_range(-12.0..12.0f32);
    let angle = rng.random_range(-3.0..3.0f32);
    let visible = frames.saturating_sub(frames / 4).max(1);
    (0..frames)
        .map(|i| {
            if i >= visible {
                return (street(seed), None);
            }
            let k = i as f32 / visible as f32;
            let at = Placement {
                cx: x0 + drift * i as f32,
                cy: 380.0 + 160.0 * k,
                width: 110.0 + 120.0 * k,
                angle_deg: angle,
            };
            (frame(seed, plate, at), Some(at))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_european_plate_is_long_and_low_with_the_eu_band() {
        let plate = Plate::european("M AB 1234", "D");
        assert_eq!(plate.registration(), "MAB1234");
        let img = plate.render(520);
        assert_eq!((img.width(), img.height()), (520, 110));
        // The band at the left is blue; the plate's middle is mostly white.
        let band = img.get_pixel(20, 5).0;
        assert!(band[2] > 120 && band[0] < 60, "{band:?}");
        let white = (200..400)
            .filter(|&x| img.get_pixel(x, 8).0.iter().all(|&c| c > 200))
            .count();
        assert!(white > 150, "{white} white pixels along the top");
        // Its box at a placement is 4.7 times as wide as tall.
        let at = Placement {
            cx: 600.0,
            cy: 400.0,
            width: 235.0,
            angle_deg: 0.0,
        };
        let [_, _, w, h] = plate.bounds(at);
        assert!((w / h - 520.0 / 110.0).abs() < 0.1, "{w} x {h}");
    }

    #[test]
    fn a_us_plate_keeps_its_shape() {
        let plate = Plate::new("7ABC123", "California");
        assert_eq!(plate.registration(), "7ABC123");
        let img = plate.render(200);
        assert_eq!((img.width(), img.height()), (200, 100));
        let at = Placement {
            cx: 600.0,
            cy: 400.0,
            width: 200.0,
            angle_deg: 5.0,
        };
        assert_eq!(plate.bounds(at), at.bounds());
    }

    #[test]
    fn frames_are_the_same_for_a_seed() {
        let plate = Plate::european("AB 123 CD", "F");
        let at = Placement {
            cx: 640.0,
            cy: 420.0,
            width: 200.0,
            angle_deg: 2.0,
        };
        assert_eq!(frame(9, &plate, at), frame(9, &plate, at));
    }
}
