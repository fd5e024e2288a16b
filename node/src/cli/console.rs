//! `console`: the terminal UI (crate `alpr-tui`) over the daemon's
//! control socket; every decision stays the daemon's.

use anyhow::{Result, bail};
use clap::Args;

use super::args::DataArgs;
use super::{Outcome, Usage};

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    data: DataArgs,
}

pub fn console(args: ConsoleArgs) -> Result<Outcome> {
    let socket = crate::control::socket_path(&args.data.dir);
    if !socket.exists() {
        bail!(Usage(format!(
            "no daemon serves {}: the console works through a running node (`alpr-node run` or `serve`)",
            args.data.dir.display()
        )));
    }
    alpr_tui::run(&socket, &args.data.dir.display().to_string())?;
    Ok(Outcome::Done)
}
