//! `run`: the daemon a car or a station runs, from `node.toml`: capture,
//! recognition and tracking per camera, reads signed, sealed and matched
//! as they are stored, replication with the configured peers, the control
//! socket, scheduled purges, the metrics endpoint and a health line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use super::args::NodePassphrase;
use super::time::now;
use super::{BadInput, Outcome};
use crate::capture::{CaptureError, FrameSource};
use crate::config::{NodeConfig, SourceConfig};
use crate::control::Daemon;
use crate::datadir::Node;
use crate::engine::Engine;
use crate::gps::Position;
use crate::metrics::{Metrics, NodeGauges};
use crate::pipeline::{CameraPlan, Pipeline, PipelineConfig, PositionAt};
use crate::replication;

/// `run --config node.toml`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The node's configuration (see node.example.toml for every option).
    #[arg(long, value_name = "FILE", default_value = "node.toml")]
    pub config: PathBuf,
    /// Check the configuration, print what would run, and exit.
    #[arg(long)]
    pub check: bool,
}

/// Loads the configuration for `run` (and `doctor`): a bad file is bad
/// input, exit 65, with the key and line in the message.
pub fn load_config(path: &std::path::Path) -> Result<NodeConfig> {
    match NodeConfig::load(path) {
        Ok(c) => Ok(c),
        Err(e @ crate::config::ConfigError::Read { .. }) => Err(anyhow!(e)),
        Err(e) => Err(anyhow!(BadInput(e.to_string()))),
    }
}

/// The time a stop may take before the daemon exits anyway: the frame in
/// hand, the trackers' open reads and their commit.
const STOP_GRACE: Duration = Duration::from_secs(20);

pub fn run(config: NodeConfig, args: &RunArgs) -> Result<Outcome> {
    if args.check {
        println!("{} is valid", args.config.display());
        for c in &config.cameras {
            println!("camera {}: {}", c.name, describe(&c.source));
        }
        return Ok(Outcome::Done);
    }
    super::session::set_stale_limit_minutes(config.node.stale_lists_minutes);
    let pass = NodePassphrase {
        passphrase_file: config.node.passphrase_file.clone(),
    };
    let node = Node::open(&config.node.data, &pass.get()?)?;
    let database = config.node.data.join(crate::datadir::STORE_FILE);
    let name = node.certificate.certificate().name.clone();
    let engine = super::session::open_engine(node)?;
    let daemon = Daemon::bind(engine)?;
    let engine = daemon.engine();
    tracing::info!(node = %name, socket = %daemon.path().display(), "serving");
    println!("serving {}", daemon.path().display());

    // Replication: a peer that does not resolve now (a car booted out of
    // range of any DNS) is named in the log and left for the next start.
    let mut peers = Vec::new();
    for p in &config.sync.peers {
        match super::daemon::resolve(p) {
            Ok(a) => peers.push(a),
            Err(e) => tracing::warn!(peer = %p, error = %e, "peer not met in this run"),
        }
    }
    let listen = config
        .sync
        .listen
        .as_deref()
        .map(super::daemon::resolve)
        .transpose()?;
    if listen.is_some() || !peers.is_empty() {
        let local = replication::Local::new(Arc::clone(&engine))?;
        let bind = listen.unwrap_or_else(|| ([0, 0, 0, 0], 0).into());
        let bound = replication::spawn_daemon(
            local,
            bind,
            peers,
            Duration::from_secs(config.sync.every_seconds),
            now,
        )?;
        if listen.is_some() {
            tracing::info!(%bound, "replicating");
            println!("replicating on {bound}");
        }
    }

    let position = Arc::new(
        Position::start(&config.position, now)
            .with_context(|| "the position source ([position])".to_string())?,
    );
    let metrics = Metrics::new();
    if let Some(addr) = config.metrics.listen {
        let gauges = gauges(Arc::clone(&engine), Arc::clone(&position), database);
        let bound = crate::metrics::serve(addr, Arc::clone(&metrics), gauges)
            .with_context(|| format!("the metrics endpoint on {addr}"))?;
        tracing::info!(%bound, "metrics");
        println!("metrics on http://{bound}/metrics");
    }

    let plans = config.cameras.iter().map(plan).collect();
    let at: PositionAt = {
        let position = Arc::clone(&position);
        Arc::new(move |t| position.at(t))
    };
    let pipeline = Pipeline::start(
        plans,
        PipelineConfig {
            queue_frames: config.recognition.queue_frames,
            track_gap_ms: config.recognition.track_gap_ms,
            position: at,
            clock: now,
        },
        Arc::clone(&engine),
        Arc::clone(&metrics),
    )?;
    let sources = config
        .cameras
        .iter()
        .map(|c| (c.name.clone(), describe(&c.source)))
        .collect();
    watch(
        Arc::clone(&metrics),
        Arc::clone(&engine),
        sources,
        (config.log.health_every_seconds > 0)
            .then(|| Duration::from_secs(config.log.health_every_seconds)),
    );
    stop_on_signal(pipeline, engine, daemon.path().to_path_buf())?;
    // Said last, once SIGTERM is handled: scripts wait for this line.
    println!(
        "running {} camera{}",
        config.cameras.len(),
        if config.cameras.len() == 1 { "" } else { "s" }
    );
    std::io::stdout().flush()?;
    daemon.run(now, Duration::from_secs(config.purge.every_minutes * 60))?;
    Ok(Outcome::Done)
}

fn describe(source: &SourceConfig) -> String {
    match source {
        SourceConfig::Device(d) => format!(
            "camera {} at {}x{}, {} frames/s, {}",
            match &d.device {
                crate::config::DeviceId::Index(i) => format!("/dev/video{i}"),
                crate::config::DeviceId::Name(n) => format!("'{n}'"),
            },
            d.width,
            d.height,
            d.fps,
            match d.format {
                crate::config::PixelFormat::Mjpeg => "mjpeg",
                crate::config::PixelFormat::Yuyv => "yuyv",
            }
        ),
        SourceConfig::Files(f) => match f.rate {
            Some(r) => format!("files {} at {r} frames/s", f.path.display()),
            None => format!("files {}", f.path.display()),
        },
        SourceConfig::Mjpeg(m) => {
            let from = if m.path.as_os_str() == "-" {
                "standard input".to_string()
            } else {
                m.path.display().to_string()
            };
            match m.rate {
                Some(r) => format!("MJPEG from {from} at {r} frames/s"),
                None => format!("MJPEG from {from}"),
            }
        }
    }
}

/// How each camera's source is opened (and, for a device, opened again).
fn plan(camera: &crate::config::CameraConfig) -> CameraPlan {
    let name = camera.name.clone();
    let source = camera.source.clone();
    let reopen = matches!(source, SourceConfig::Device(_));
    let open = move || -> Result<Box<dyn FrameSource>, CaptureError> {
        Ok(match &source {
            SourceConfig::Files(f) => {
                Box::new(crate::capture::files::FileSource::open(&name, f, now)?)
            }
            SourceConfig::Mjpeg(m) => Box::new(crate::capture::mjpeg::MjpegSource::open(
                &name, &m.path, m.rate, now,
            )?),
            SourceConfig::Device(d) => crate::capture::camera::open_camera(&name, d, now)?,
        })
    };
    CameraPlan {
        name: camera.name.clone(),
        open: Box::new(open),
        reopen,
    }
}

/// What a metrics scrape reads: the engine for a moment (no records).
fn gauges(
    engine: Arc<Mutex<Engine>>,
    position: Arc<Position>,
    database: PathBuf,
) -> Box<dyn Fn() -> NodeGauges + Send + Sync> {
    Box::new(move || {
        let at = now();
        let health = engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .health(at)
            .unwrap_or_default();
        NodeGauges {
            disk_free_bytes: health.disk_free,
            database_bytes: std::fs::metadata(&database).ok().map(|m| m.len()),
            alerts_pending: health.alerts_pending,
            lists_age_seconds: health.lists_age_ms.map(|ms| ms as f64 / 1000.0),
            sync_lag_seconds: health
                .meetings
                .iter()
                .map(|(id, name, t)| {
                    (
                        name.clone().unwrap_or_else(|| id.short()),
                        at.0.saturating_sub(t.0) as f64 / 1000.0,
                    )
                })
                .collect(),
            gps_fix: match position.at(at).1 {
                alpr_protocol::Fix::Gps(_) => Some(true),
                alpr_protocol::Fix::NoFix => Some(false),
                // No receiver: nothing to say.
                alpr_protocol::Fix::Unknown | alpr_protocol::Fix::Surveyed => None,
            },
        }
    })
}

/// How often the cameras' state is told to the engine (for `status`).
const NOTE_EVERY: Duration = Duration::from_secs(2);

/// Tells the engine each camera's state every [`NOTE_EVERY`] (frames per
/// second over that time, drops, failures), and writes a health line to the
/// log every `health` (frames per second per camera, drops, recognition
/// time, reads and alerts since the last line, and the node's counts).
fn watch(
    metrics: Arc<Metrics>,
    engine: Arc<Mutex<Engine>>,
    sources: Vec<(String, String)>,
    health: Option<Duration>,
) {
    std::thread::spawn(move || {
        let mut prev_note = metrics.snapshot();
        let mut prev_health = prev_note.clone();
        let mut since_health = Duration::ZERO;
        loop {
            std::thread::sleep(NOTE_EVERY);
            since_health += NOTE_EVERY;
            let snap = metrics.snapshot();
            let cameras = sources
                .iter()
                .map(|(name, source)| {
                    let now = snap.cameras.iter().find(|c| &c.name == name);
                    let before = prev_note.cameras.iter().find(|c| &c.name == name);
                    let recognized = now.map_or(0, |c| c.recognized())
                        - before
                            .map_or(0, |c| c.recognized())
                            .min(now.map_or(0, |c| c.recognized()));
                    alpr_protocol::control::CameraWire {
                        name: name.clone(),
                        up: now.is_some_and(|c| c.connected),
                        frames_per_s: recognized as f32 / NOTE_EVERY.as_secs_f32(),
                        dropped: now.map_or(0, |c| c.dropped),
                        failed: now.map_or(0, |c| c.failed),
                        source: source.clone(),
                    }
                })
                .collect();
            prev_note = snap;
            let mut e = engine
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            e.note_daemon(|n| n.cameras = cameras);
            let Some(every) = health else { continue };
            if since_health < every {
                continue;
            }
            let line = metrics.health_since(&mut prev_health, since_health.as_secs_f64());
            since_health = Duration::ZERO;
            let health = e.health(now()).unwrap_or_default();
            drop(e);
            tracing::info!(
                reads_held = health.reads,
                alerts_pending = health.alerts_pending,
                disk_free = health.disk_free.unwrap_or(0),
                "health {line}"
            );
        }
    });
}

/// SIGTERM or SIGINT: the pipeline stops (each camera's frame in hand
/// finishes, trackers flush their open reads, the recorder commits), then
/// the database closes, the control socket goes, and the process exits 0.
/// Replication stops with the process: a batch not committed is sent again
/// at the next meeting.
fn stop_on_signal(pipeline: Pipeline, engine: Arc<Mutex<Engine>>, socket: PathBuf) -> Result<()> {
    super::daemon::on_signal(move |_| {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let dropped = pipeline.stop();
            let _ = done_tx.send(dropped);
        });
        match done_rx.recv_timeout(STOP_GRACE) {
            Ok(dropped) => tracing::info!(frames_not_recognized = dropped, "capture stopped"),
            Err(_) => tracing::error!("capture did not stop in time; closing anyway"),
        }
        super::daemon::close_and_exit(&engine, &socket)
    })
}
