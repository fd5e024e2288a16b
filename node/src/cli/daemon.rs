//! The daemon (`serve`) and a one-time `sync`.

use std::io::Write;
use std::path::PathBuf;

use alpr_protocol::NodeId;
use alpr_protocol::replicate::Collection;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use super::args::{DataArgs, NodePassphrase};
use super::time::now;
use super::{Outcome, Usage};
use crate::control::{ControlClient, Daemon};
use crate::datadir::Node;
use crate::engine::Engine;
use crate::replication;

/// HOST:PORT to one socket address (the first the resolver gives).
pub(super) fn resolve(text: &str) -> Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| Usage(format!("peer address '{text}' (expected HOST:PORT): {e}")))?
        .next()
        .ok_or_else(|| anyhow!(Usage(format!("peer address '{text}' resolves to nothing"))))
}

/// `serve`: own the database, serve the control socket, purge on schedule, replicate.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Minutes between scheduled purges (at least 1).
    #[arg(long, default_value_t = 60)]
    purge_every_minutes: u64,
    /// Accept peers on this UDP address (a station: 0.0.0.0:7447).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// Keep meeting this peer (repeatable): sync, wait, sync again; back off while unreachable.
    #[arg(long = "peer", value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Seconds between meetings with each configured peer.
    #[arg(long, default_value_t = 15)]
    sync_every_seconds: u64,
    #[command(flatten)]
    pass: NodePassphrase,
}

pub fn serve(args: ServeArgs) -> Result<Outcome> {
    if args.purge_every_minutes == 0 {
        bail!(Usage("--purge-every-minutes must be at least 1".into()));
    }
    let peers = args
        .peers
        .iter()
        .map(|p| resolve(p))
        .collect::<Result<Vec<_>>>()?;
    let listen = args.listen.as_deref().map(resolve).transpose()?;
    let node = Node::open(&args.data.dir, &args.pass.get()?)?;
    let engine = super::session::open_engine(node)?;
    let daemon = Daemon::bind(engine)?;
    println!("serving {}", daemon.path().display());
    if listen.is_some() || !peers.is_empty() {
        let local = replication::Local::new(daemon.engine())?;
        // A car that only dials still needs a socket: an ephemeral one.
        let bind = listen.unwrap_or_else(|| ([0, 0, 0, 0], 0).into());
        let bound = replication::spawn_daemon(
            local,
            bind,
            peers,
            std::time::Duration::from_secs(args.sync_every_seconds.max(1)),
            now,
        )?;
        if listen.is_some() {
            println!("replicating on {bound}");
        }
    }
    std::io::stdout().flush()?;
    stop_on_signal(daemon.engine(), daemon.path().to_path_buf())?;
    daemon.run(
        now,
        std::time::Duration::from_secs(args.purge_every_minutes * 60),
    )?;
    Ok(Outcome::Done)
}

/// Stops the daemon on SIGTERM or SIGINT: waits for the request or sync
/// step in hand (it holds the engine), closes the database cleanly,
/// removes the control socket, and exits 0. Commits are durable as they
/// happen, so nothing acknowledged waits on this.
fn stop_on_signal(engine: std::sync::Arc<std::sync::Mutex<Engine>>, socket: PathBuf) -> Result<()> {
    on_signal(move |_| close_and_exit(&engine, &socket))
}

/// Runs `then` on a thread of its own when SIGTERM or SIGINT arrives,
/// with the signal's name; the handlers are installed before this returns.
pub(super) fn on_signal(then: impl FnOnce(&'static str) + Send + 'static) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("signal handling")?;
    let (mut term, mut int) = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    })?;
    std::thread::spawn(move || {
        let name = runtime.block_on(async {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        });
        tracing::info!(signal = name, "stopping");
        then(name);
    });
    Ok(())
}

/// Takes the engine for good (no request or sync step starts after this;
/// even after a panic elsewhere the database is closed cleanly), removes
/// the control socket and exits 0.
pub(super) fn close_and_exit(engine: &std::sync::Mutex<Engine>, socket: &std::path::Path) -> ! {
    let mut guard = engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.close_storage();
    let _ = std::fs::remove_file(socket);
    tracing::info!("stopped");
    std::process::exit(0);
}

/// `sync`: once with a peer, until both hold what the other had.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The peer to meet.
    #[arg(long, value_name = "HOST:PORT")]
    peer: String,
    #[command(flatten)]
    pass: NodePassphrase,
}

pub fn sync(args: SyncArgs) -> Result<Outcome> {
    let data = &args.data.dir;
    let peer = &args.peer;
    if ControlClient::connect(data).is_some() {
        bail!(Usage(format!(
            "a daemon serves {}: it owns the database; give the daemon `--peer {peer}` instead",
            data.display()
        )));
    }
    let addr = resolve(peer)?;
    let node = Node::open(data, &args.pass.get()?)?;
    let engine = super::session::open_engine(node)?;
    let mut local = replication::Local::new(std::sync::Arc::new(std::sync::Mutex::new(engine)))?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let progress_bar = bar.clone();
    local.progress = Some(std::sync::Arc::new(move |s: &replication::SyncSummary| {
        progress_bar.set_message(format!(
            "sent {} records, received {}",
            s.sent.values().sum::<u64>(),
            s.received.values().sum::<u64>()
        ));
        progress_bar.tick();
    }));
    let summary = replication::sync_once(local, addr, now);
    bar.finish_and_clear();
    let summary = summary?;
    let count =
        |m: &std::collections::BTreeMap<Collection, u64>, c| m.get(&c).copied().unwrap_or(0);
    let (id, name) = summary
        .peer
        .clone()
        .unwrap_or((NodeId([0; 32]), "?".into()));
    println!("in sync with {name} ({})", id.short());
    println!(
        "sent {} reads and {} audit events; received {} reads ({} new) and {} audit events ({} new)",
        count(&summary.sent, Collection::Reads),
        count(&summary.sent, Collection::AuditEvents),
        count(&summary.received, Collection::Reads),
        count(&summary.stored, Collection::Reads),
        count(&summary.received, Collection::AuditEvents),
        count(&summary.stored, Collection::AuditEvents),
    );
    let (sent, received, stored) = (
        count(&summary.sent, Collection::Alerts),
        count(&summary.received, Collection::Alerts),
        count(&summary.stored, Collection::Alerts),
    );
    if sent + received > 0 {
        println!(
            "sent {sent} alert records (alerts and dispositions); received {received} ({stored} new)"
        );
    }
    for list in &summary.hotlists_sent {
        println!("sent hotlist {list}");
    }
    for (list, version) in &summary.hotlists_received {
        println!("received hotlist {list} version {version}");
    }
    println!(
        "{} bytes sent, {} received on the wire",
        summary.wire_tx, summary.wire_rx
    );
    Ok(Outcome::Done)
}
