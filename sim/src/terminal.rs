//! A terminal screen as a PNG: the text `tmux capture-pane -e` gives (SGR
//! colour codes included) drawn cell by cell in the committed DejaVu Sans
//! Mono, so the README shows the real console as it looked.

use ab_glyph::{Font, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
const BACKGROUND: [u8; 3] = [24, 26, 30];
const FOREGROUND: [u8; 3] = [220, 222, 226];

/// The 16 colours of SGR 30-37 and 90-97 (and 40-47, 100-107).
const PALETTE: [[u8; 3]; 16] = [
    [24, 26, 30],
    [224, 88, 88],
    [110, 200, 120],
    [230, 200, 90],
    [100, 150, 230],
    [200, 120, 210],
    [90, 200, 210],
    [200, 202, 206],
    [110, 112, 118],
    [255, 110, 110],
    [140, 230, 150],
    [255, 225, 120],
    [130, 175, 255],
    [225, 150, 235],
    [120, 225, 235],
    [250, 250, 250],
];

#[derive(Clone, Copy)]
struct Pen {
    fg: [u8; 3],
    bg: [u8; 3],
    reverse: bool,
}

impl Default for Pen {
    fn default() -> Self {
        Pen {
            fg: FOREGROUND,
            bg: BACKGROUND,
            reverse: false,
        }
    }
}

/// Applies one SGR sequence's parameters (`1;33`, `0`, `38;5;n` is taken
/// as its nearest of the 16).
fn apply(pen: &mut Pen, params: &str) {
    let mut it = params.split(';').map(|p| p.parse::<u16>().unwrap_or(0));
    while let Some(p) = it.next() {
        match p {
            0 => *pen = Pen::default(),
            7 => pen.reverse = true,
            27 => pen.reverse = false,
            30..=37 => pen.fg = PALETTE[(p - 30) as usize],
            90..=97 => pen.fg = PALETTE[(p - 90 + 8) as usize],
            40..=47 => pen.bg = PALETTE[(p - 40) as usize],
            100..=107 => pen.bg = PALETTE[(p - 100 + 8) as usize],
            39 => pen.fg = FOREGROUND,
            49 => pen.bg = BACKGROUND,
            38 | 48 => {
                // 38;5;N or 38;2;R;G;B: take the colour, as well as 16 allow.
                let colour = match it.next() {
                    Some(5) => it.next().map(|n| PALETTE[(n % 16) as usize]),
                    Some(2) => {
                        let (r, g, b) = (it.next(), it.next(), it.next());
                        Some([
                            r.unwrap_or(0) as u8,
                            g.unwrap_or(0) as u8,
                            b.unwrap_or(0) as u8,
                        ])
                    }
                    _ => None,
                };
                if let Some(c) = colour {
                    if p == 38 { pen.fg = c } else { pen.bg = c }
                }
            }
            _ => {}
        }
    }
}

/// Renders `columns` x `rows` cells of a captured screen.
pub fn render(capture: &str, columns: u32, rows: u32) -> RgbImage {
    let font = crate::scene::font();
    let scale = PxScale::from(15.0);
    let scaled = font.as_scaled(scale);
    let mut img = RgbImage::from_pixel(columns * CELL_W, rows * CELL_H, Rgb(BACKGROUND));
    for (row, line) in capture.lines().take(rows as usize).enumerate() {
        let mut pen = Pen::default();
        let mut col = 0u32;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut params = String::new();
                    for p in chars.by_ref() {
                        if p.is_ascii_alphabetic() {
                            if p == 'm' {
                                apply(&mut pen, &params);
                            }
                            break;
                        }
                        params.push(p);
                    }
                }
                continue;
            }
            if col >= columns {
                break;
            }
            let (fg, bg) = if pen.reverse {
                (pen.bg, pen.fg)
            } else {
                (pen.fg, pen.bg)
            };
            let (x0, y0) = (col * CELL_W, row as u32 * CELL_H);
            for y in y0..y0 + CELL_H {
                for x in x0..x0 + CELL_W {
                    img.put_pixel(x, y, Rgb(bg));
                }
            }
            let id = font.glyph_id(c);
            let glyph = id.with_scale_and_position(
                scale,
                ab_glyph::point(x0 as f32, y0 as f32 + scaled.ascent() + 1.0),
            );
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cover| {
                    let x = b.min.x as i64 + gx as i64;
                    let y = b.min.y as i64 + gy as i64;
                    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                        let p = img.get_pixel_mut(x as u32, y as u32);
                        for (ch, k) in p.0.iter_mut().zip(fg) {
                            *ch = (*ch as f32 * (1.0 - cover) + k as f32 * cover) as u8;
                        }
                    }
                });
            }
            col += 1;
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_colours_land_in_their_cells() {
        let img = render("\u{1b}[41m \u{1b}[0mA\u{1b}[7m \u{1b}[0m", 4, 1);
        assert_eq!((img.width(), img.height()), (4 * CELL_W, CELL_H));
        // A red background cell, then ink in the A's cell, then a reversed (light) cell.
        assert_eq!(img.get_pixel(1, 1).0, PALETTE[1]);
        let inked = (CELL_W..2 * CELL_W)
            .flat_map(|x| (0..CELL_H).map(move |y| (x, y)))
            .any(|(x, y)| img.get_pixel(x, y).0 != BACKGROUND);
        assert!(inked);
        assert_eq!(img.get_pixel(2 * CELL_W + 1, 1).0, FOREGROUND);
        assert_eq!(img.get_pixel(3 * CELL_W + 1, 1).0, BACKGROUND);
    }
}
