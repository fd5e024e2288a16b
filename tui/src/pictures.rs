//! The images a screen shows (a plate crop, an overview frame), drawn in
//! the terminal: sixel or kitty graphics where the terminal has them,
//! half-blocks elsewhere (ratatui-image). The model holds the JPEG bytes;
//! this keeps each one's decoded, terminal-ready form between frames, so
//! the view stays a reader of the model.

use std::hash::{Hash, Hasher};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::StatefulProtocol;
use ratatui_image::{Resize, StatefulImage};

/// Decoded images kept at once (a read's crop and overview, an alert's crop).
const KEPT_MAX: usize = 4;
/// Largest image side decoded: a node stores camera frames, not posters.
const SIDE_MAX: u32 = 8192;
/// Most memory one decode may take.
const DECODE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Which graphics the console uses for images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Graphics {
    /// Sixel or kitty graphics where the terminal says it has them.
    #[default]
    Auto,
    /// Coloured half-block characters: any terminal, no query.
    HalfBlocks,
}

pub struct Pictures {
    picker: Picker,
    /// Newest last: (content key, decoded).
    kept: Vec<(u64, Result<StatefulProtocol, String>)>,
}

impl std::fmt::Debug for Pictures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pictures")
            .field("protocol", &self.picker.protocol_type())
            .field("kept", &self.kept.len())
            .finish()
    }
}

impl Pictures {
    /// Half-blocks only: any terminal, and the snapshot tests.
    pub fn halfblocks() -> Pictures {
        Pictures {
            picker: Picker::halfblocks(),
            kept: Vec::new(),
        }
    }

    /// Asks the terminal what graphics it has (call with the terminal in
    /// raw mode, before reading keys); half-blocks when it does not say.
    ///
    /// Not inside tmux: it passes the queries on unreliably, and the
    /// library's reader thread, left waiting for an answer, then takes the
    /// first keys the user types.
    pub fn for_terminal(graphics: Graphics) -> Pictures {
        let inside_tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
        let picker = match graphics {
            Graphics::Auto if !inside_tmux => {
                Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks())
            }
            Graphics::Auto | Graphics::HalfBlocks => Picker::halfblocks(),
        };
        Pictures {
            picker,
            kept: Vec::new(),
        }
    }

    /// Draws `jpeg` scaled to fill `area` (proportions kept: a small crop
    /// is enlarged, a frame shrunk); an image that does not decode says so.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, jpeg: &[u8]) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        jpeg.hash(&mut h);
        let key = h.finish();
        let at = match self.kept.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let decoded = decode(jpeg).map(|img| self.picker.new_resize_protocol(img));
                if self.kept.len() >= KEPT_MAX {
                    drop(self.kept.remove(0));
                }
                self.kept.push((key, decoded));
                self.kept.len() - 1
            }
        };
        match &mut self.kept[at].1 {
            Ok(state) => {
                let image = StatefulImage::default().resize(Resize::Scale(None));
                frame.render_stateful_widget(image, area, state);
            }
            Err(e) => frame.render_widget(
                ratatui::widgets::Paragraph::new(format!("the image does not decode: {e}"))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                area,
            ),
        }
    }
}

fn decode(jpeg: &[u8]) -> Result<image::DynamicImage, String> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(jpeg), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(SIDE_MAX);
    limits.max_image_height = Some(SIDE_MAX);
    limits.max_alloc = Some(DECODE_BYTES_MAX);
    reader.limits(limits);
    reader.decode().map_err(|e| e.to_string())
}
