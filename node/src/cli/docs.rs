//! Shell completions and the man page, generated from the same clap definitions.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};

use super::{Cli, Outcome};

/// `completions`: a completion script for a shell, on standard output.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. bash, zsh, fish.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> Result<Outcome> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "alpr-node",
        &mut std::io::stdout().lock(),
    );
    Ok(Outcome::Done)
}

/// `man`: the man pages (alpr-node.1 and one per command) into a directory.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Where to write the pages, e.g. /usr/local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn man(args: ManArgs) -> Result<Outcome> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.out)
        .with_context(|| format!("writing man pages to {}", args.out.display()))?;
    println!("man pages written to {}", args.out.display());
    Ok(Outcome::Done)
}
