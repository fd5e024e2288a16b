//! `cameras`: the V4L2 cameras on this machine, with the formats, sizes and
//! frame rates each offers, for a camera's `device = …` in the node's
//! config. Needs no data directory, no login and no daemon.

use anyhow::Result;
use clap::Args;

use super::Outcome;
use super::output::{Table, listing, print_json};
use crate::capture::CaptureError;
use crate::capture::camera::{self, CameraInfo, NO_CAMERAS};

/// How to get a build that reads cameras.
const BUILD_WITH_CAMERAS: &str = "this build has no camera support: build it with \
`cargo build --release -p alpr-node --features camera` (needs libclang-dev for the V4L2 bindings)";

const CAMERAS_EXIT_HELP: &str = "\
Exit status: 0 cameras listed; 1 none found, or this build has no camera \
support (the message says which; `camera_support` in the --json document).";

/// `cameras`: what `source = "device"` can name.
#[derive(Debug, Args)]
#[command(after_help = CAMERAS_EXIT_HELP)]
pub struct CamerasArgs {
    /// One JSON document (schema alpr-node.cameras) instead of text.
    #[arg(long)]
    json: bool,
}

/// Node names for a message, the first few.
fn nodes_text(nodes: &[(u32, std::path::PathBuf)]) -> String {
    const SHOWN_MAX: usize = 8;
    let mut text: Vec<String> = nodes
        .iter()
        .take(SHOWN_MAX)
        .map(|(_, p)| p.display().to_string())
        .collect();
    if nodes.len() > SHOWN_MAX {
        text.push(format!("and {} more", nodes.len() - SHOWN_MAX));
    }
    text.join(", ")
}

/// What to say when no camera is listed: no device nodes at all, or nodes
/// that are not cameras (codecs, a camera's metadata node).
fn none_found() -> String {
    match camera::video_nodes() {
        Ok(nodes) if !nodes.is_empty() => format!(
            "no cameras found (V4L2: {} {} no capture device)",
            nodes_text(&nodes),
            if nodes.len() == 1 { "is" } else { "are" }
        ),
        _ => NO_CAMERAS.to_string(),
    }
}

fn camera_json(c: &CameraInfo) -> serde_json::Value {
    serde_json::json!({
        "index": c.index,
        "name": c.name,
        "path": c.path.display().to_string(),
        "driver": c.driver,
        "bus": c.bus,
        "problem": c.problem,
        "modes": c.modes.iter().map(|m| serde_json::json!({
            "format": m.encoding.name(),
            "width": m.width,
            "height": m.height,
            "fps": m.fps,
        })).collect::<Vec<_>>(),
        "other_formats": c.other_formats,
    })
}

pub fn cameras(args: CamerasArgs) -> Result<Outcome> {
    let cameras = match camera::list_cameras() {
        Ok(cameras) => cameras,
        Err(CaptureError::NoCameraSupport(_)) => {
            if args.json {
                print_json(&listing(
                    "cameras",
                    0,
                    Vec::new(),
                    serde_json::json!({ "camera_support": false, "message": BUILD_WITH_CAMERAS }),
                ))?;
            } else {
                println!("{BUILD_WITH_CAMERAS}");
            }
            return Ok(Outcome::NothingFound);
        }
        Err(e) => return Err(e.into()),
    };
    let message = cameras.is_empty().then(none_found);
    if args.json {
        print_json(&listing(
            "cameras",
            cameras.len() as u64,
            cameras.iter().map(camera_json).collect(),
            serde_json::json!({ "camera_support": true, "message": message }),
        ))?;
    } else if let Some(message) = &message {
        println!("{message}");
    } else {
        let mut out = std::io::stdout().lock();
        let mut table = Table::new(&["INDEX", "NAME", "PATH", "DRIVER", "BUS"]).right(&["INDEX"]);
        for c in &cameras {
            table.row(vec![
                c.index.to_string(),
                c.name.clone(),
                c.path.display().to_string(),
                c.driver.clone(),
                c.bus.clone(),
            ]);
        }
        table.print(&mut out)?;
        for c in &cameras {
            println!();
            println!("{} '{}':", c.path.display(), c.name);
            if let Some(problem) = &c.problem {
                println!("  {problem}");
            }
            if !c.modes.is_empty() {
                let mut modes = Table::new(&["  FORMAT", "SIZE", "FRAMES/S"]);
                for m in &c.modes {
                    let fps: Vec<String> = m.fps.iter().map(u32::to_string).collect();
                    modes.row(vec![
                        format!("  {}", m.encoding),
                        format!("{}x{}", m.width, m.height),
                        if fps.is_empty() {
                            "?".into()
                        } else {
                            fps.join(", ")
                        },
                    ]);
                }
                modes.print(&mut out)?;
            } else if c.problem.is_none() {
                println!("  no format this build decodes");
            }
            if !c.other_formats.is_empty() {
                println!(
                    "  also offers, not decoded here: {}",
                    c.other_formats.join(", ")
                );
            }
        }
    }
    Ok(if cameras.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}
