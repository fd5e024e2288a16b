//! `alpr-sim`: the simulator's command line.

use std::io::Write;
use std::path::PathBuf;

use alpr_sim::fleet;
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
    /// Render 1280x720 frames of vehicles passing a camera, one after
    /// another: PNG files in a folder, or one MJPEG stream.
    Frames {
        /// Folder to write frame-00000.png, frame-00001.png, ... into; or,
        /// with --mjpeg, the stream file (concatenated JPEGs, `-` for stdout).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Write one MJPEG stream (concatenated JPEGs) instead of PNG files,
        /// as an IP camera delivers it.
        #[arg(long)]
        mjpeg: bool,
        /// Plates to show, in order, as TEXT or TEXT:STATE (a US plate with
        /// that state's band), or TEXT:EU-XX (a European plate with country
        /// letters XX in its EU band). TEXT may separate groups with '-'.
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
    /// Run a whole fleet (cars and stations of one agency, each the real
    /// engine on an in-memory disk) on simulated time, with faults, and
    /// check convergence, no loss and safety. Exits 1 on a violation and
    /// prints the command that replays it.
    Fleet {
        #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
        seed: u64,
        /// Sweep seeds A..B (B not included) on all cores.
        #[arg(long, value_name = "A..B")]
        seeds: Option<String>,
        #[arg(long, default_value_t = 3)]
        cars: usize,
        #[arg(long, default_value_t = 2)]
        stations: usize,
        /// Simulated hours before the heal.
        #[arg(long, default_value_t = 36)]
        hours: u32,
        /// `all`, `none`, or a comma-separated list of crash, skew, disk,
        /// link, partition, intruder, revoke.
        #[arg(long, default_value = "all")]
        faults: String,
        /// Reads a car makes in an 8-hour shift on patrol.
        #[arg(long, default_value_t = 7_500)]
        reads_per_shift: u32,
        /// Threads for a sweep (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Print each meeting that does not end in sync (to stderr).
        #[arg(long)]
        trace: bool,
    },
    /// Draw a captured terminal screen (`tmux capture-pane -e -p`, colour
    /// codes included) as a PNG.
    Screenshot {
        /// The captured text.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        #[arg(long, value_name = "PNG")]
        out: PathBuf,
        #[arg(long, default_value_t = 80)]
        columns: u32,
        #[arg(long, default_value_t = 24)]
        rows: u32,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Fleet {
            seed,
            seeds,
            cars,
            stations,
            hours,
            faults,
            reads_per_shift,
            jobs,
            trace,
        } => {
            let config = fleet::Config {
                seed,
                cars,
                stations,
                hours,
                faults: fleet::Faults::parse(&faults).map_err(anyhow::Error::msg)?,
                reads_per_shift,
                trace,
            };
            config.check().map_err(anyhow::Error::msg)?;
            let range = match seeds {
                Some(text) => fleet::parse_seeds(&text).map_err(anyhow::Error::msg)?,
                None => seed..seed + 1,
            };
            let jobs = jobs.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let sweep = range.end - range.start > 1;
            let mut failed = Vec::new();
            for (seed, result) in fleet::sweep(&config, range.clone(), jobs) {
                match result {
                    Ok(report) if report.ok() && sweep => {}
                    Ok(report) => {
                        print!("{report}");
                        if !report.ok() {
                            failed.push(seed);
                        }
                    }
                    Err(e) => {
                        println!("fleet seed {seed}: could not run: {e}");
                        failed.push(seed);
                    }
                }
            }
            if sweep {
                println!(
                    "{} seeds {}..{}: {} held every invariant, {} did not{}",
                    range.end - range.start,
                    range.start,
                    range.end,
                    range.end - range.start - failed.len() as u64,
                    failed.len(),
                    if failed.is_empty() {
                        String::new()
                    } else {
                        format!(" (seeds {failed:?})")
                    }
                );
            }
            if !failed.is_empty() {
                std::process::exit(1);
            }
        }
        Command::Screenshot {
            input,
            out,
            columns,
            rows,
        } => {
            if !(1..=500).contains(&columns) || !(1..=200).contains(&rows) {
                bail!("--columns 1 to 500 and --rows 1 to 200");
            }
            let text = std::fs::read_to_string(&input)
                .with_context(|| format!("reading {}", input.display()))?;
            alpr_sim::terminal::render(&text, columns, rows)
                .save(&out)
                .with_context(|| format!("writing {}", out.display()))?;
        }
        Command::Frames {
            out,
            mjpeg,
            plates,
            frames_per_vehicle,
            seed,
        } => {
            if frames_per_vehicle < 2 {
                bail!("--frames-per-vehicle must be at least 2");
            }
            let mut stream: Option<Box<dyn std::io::Write>> = if mjpeg {
                Some(if out.as_os_str() == "-" {
                    Box::new(std::io::stdout().lock())
                } else {
                    Box::new(std::io::BufWriter::new(
                        std::fs::File::create(&out)
                            .with_context(|| format!("creating {}", out.display()))?,
                    ))
                })
            } else {
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                None
            };
            let mut n = 0usize;
            for (i, spec) in plates.iter().enumerate() {
                let (text, band) = spec
                    .split_once(':')
                    .unwrap_or((spec.as_str(), "California"));
                let plate = plate(text, band).with_context(|| format!("plate '{spec}'"))?;
                for (img, _) in pass(
                    seed.wrapping_mul(1000) + i as u64,
                    &plate,
                    frames_per_vehicle,
                ) {
                    if let Some(w) = stream.as_mut() {
                        image::codecs::jpeg::JpegEncoder::new_with_quality(w, 90)
                            .encode_image(&img)
                            .with_context(|| format!("writing {}", out.display()))?;
                    } else {
                        let path = out.join(format!("frame-{n:05}.png"));
                        img.save(&path)
                            .with_context(|| format!("writing {}", path.display()))?;
                    }
                    n += 1;
                }
            }
            if let Some(mut w) = stream {
                w.flush()
                    .with_context(|| format!("writing {}", out.display()))?;
                if out.as_os_str() != "-" {
                    println!("{n} frames in {}", out.display());
                }
            } else {
                println!("{n} frames in {}", out.display());
            }
        }
    }
    Ok(())
}

/// A plate from the command line: letters and digits in groups, with a US
/// state's name or `EU-` and a country's letters.
fn plate(text: &str, band: &str) -> Result<Plate> {
    let text = text.to_ascii_uppercase();
    if !text.chars().any(|c| c.is_ascii_alphanumeric())
        || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        bail!("give letters and digits, e.g. 7ABC123, 7ABC123:Nevada or AB-123-CD:EU-F");
    }
    // Plates print their groups apart.
    let printed = text.replace('-', " ");
    let upper = band.to_ascii_uppercase();
    let Some(country) = upper.strip_prefix("EU-") else {
        return Ok(Plate::new(&printed, band));
    };
    if !(1..=3).contains(&country.len()) || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        bail!("'{country}' is not a country's letters (1 to 3, as D, NL, PL)");
    }
    Ok(Plate::european(&printed, country))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_sim::scene::Layout;

    #[test]
    fn plates_on_the_command_line() {
        let us = plate("7abc123", "Nevada").expect("a US plate");
        assert_eq!(
            (us.layout, us.text.as_str(), us.band.as_str()),
            (Layout::Us, "7ABC123", "Nevada")
        );
        let eu = plate("ab-123-cd", "eu-f").expect("a French plate");
        assert_eq!(eu.layout, Layout::European);
        assert_eq!((eu.text.as_str(), eu.band.as_str()), ("AB 123 CD", "F"));
        assert_eq!(eu.registration(), "AB123CD");
        let err = plate("AB 12", "Ohio").expect_err("a space").to_string();
        assert!(err.contains("letters and digits"), "{err}");
        assert!(plate("--", "Ohio").is_err());
        let err = plate("AB12", "EU-GERMANY")
            .expect_err("not letters")
            .to_string();
        assert!(err.contains("'GERMANY'"), "{err}");
        assert!(plate("AB12", "EU-").is_err());
        assert!(plate("AB12", "EU-1").is_err());
    }
}
