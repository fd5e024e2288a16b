//! `alpr-sim`: the simulator's command line.

use std::path::PathBuf;

use alpr_sim::scene::{Plate, pass};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "alpr-sim", about = "Deterministic worlds for tests and demos")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render 1280x720 PNG frames of vehicles passing a camera, one after another.
    Frames {
        /// Folder to write frame-00000.png, frame-00001.png, ... into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Plates to show, in order, as TEXT or TEXT:STATE.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "7ABC123:California,8XYZ001:Nevada,4GHJ552:Oregon"
        )]
        plates: Vec<String>,
        /// Frames per vehicle (the last quarter show the street after it left).
        #[arg(long, default_value_t = 12)]
        frames_per_vehicle: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Frames {
            out,
            plates,
            frames_per_vehicle,
            seed,
        } => {
            if frames_per_vehicle < 2 {
                bail!("--frames-per-vehicle must be at least 2");
            }
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut n = 0usize;
            for (i, spec) in plates.iter().enumerate() {
                let (text, band) = spec
                    .split_once(':')
                    .unwrap_or((spec.as_str(), "California"));
                if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
                    bail!(
                        "plate '{spec}': give letters and digits, e.g. 7ABC123 or 7ABC123:Nevada"
                    );
                }
                let plate = Plate::new(&text.to_ascii_uppercase(), band);
                for (img, _) in pass(
                    seed.wrapping_mul(1000) + i as u64,
                    &plate,
                    frames_per_vehicle,
                ) {
                    let path = out.join(format!("frame-{n:05}.png"));
                    img.save(&path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    n += 1;
                }
            }
            println!("{n} frames in {}", out.display());
        }
    }
    Ok(())
}
