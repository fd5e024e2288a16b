//! `console`: the terminal UI (crate `alpr-tui`) over the daemon's
//! control socket; every decision stays the daemon's.

use alpr_tui::pictures::Graphics;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

use super::args::DataArgs;
use super::{Outcome, Usage};

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    data: DataArgs,
    /// How images (plate crops, overview frames) are drawn: `auto` asks
    /// the terminal for sixel or kitty graphics (half-blocks inside tmux);
    /// `halfblocks` never asks.
    #[arg(long, value_enum, default_value = "auto")]
    graphics: GraphicsArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphicsArg {
    Auto,
    Halfblocks,
}

pub fn console(args: ConsoleArgs) -> Result<Outcome> {
    let socket = crate::control::socket_path(&args.data.dir);
    if !socket.exists() {
        bail!(Usage(format!(
            "no daemon serves {}: the console works through a running node (`alpr-node run` or `serve`)",
            args.data.dir.display()
        )));
    }
    let graphics = match args.graphics {
        GraphicsArg::Auto => Graphics::Auto,
        GraphicsArg::Halfblocks => Graphics::HalfBlocks,
    };
    alpr_tui::run(&socket, &args.data.dir.display().to_string(), graphics)?;
    Ok(Outcome::Done)
}
