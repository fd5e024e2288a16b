//! The log: `tracing` to standard error, as text (colour only on a
//! terminal) or one JSON object per line, filtered by `ALPR_LOG` when set.
//! `init_default` serves the one-shot commands and `serve`; `alpr-node
//! run` calls `init` with its `[log]` section instead.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// The environment variable whose filter overrides any other.
pub const ENV: &str = "ALPR_LOG";

/// What a daemon logs when nothing says otherwise: what it does (syncs,
/// refusals, purges), with the transport's chatter kept to warnings.
pub const DAEMON_DEFAULT: &str = "info,quinn=warn,rustls=warn";
/// What a one-shot command logs: only warnings, so its output stays
/// readable.
pub const COMMAND_DEFAULT: &str = "warn,quinn=error,rustls=error";

/// Standard error for the log, where a failed write is dropped: the log is
/// best effort (the audit chain is the record), and a log on a full disk
/// must not stop the daemon.
#[derive(Debug, Clone, Copy)]
pub struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// The log of every command but `run`: text, filtered by `ALPR_LOG` or
/// else `default` (`DAEMON_DEFAULT` or `COMMAND_DEFAULT`), as before.
pub fn init_default(default: &str) {
    let filter = EnvFilter::try_from_env(ENV).unwrap_or_else(|_| EnvFilter::new(default));
    subscriber(
        LogFormat::Text,
        filter,
        || LossyStderr,
        stderr_is_terminal(),
    )
    .init();
}

/// The daemon's log, from its `[log]` section: `level` is a tracing filter
/// (`info`, `alpr_node=debug`), overridden by `ALPR_LOG`. A filter that
/// does not parse is not a reason to run blind: it falls back (to `level`,
/// then to `info`) and says so in the log.
pub fn init(format: LogFormat, level: &str) {
    let env = std::env::var(ENV).ok();
    let (filter, complaint) = daemon_filter(env.as_deref(), level);
    let ansi = format == LogFormat::Text && stderr_is_terminal();
    subscriber(format, filter, || LossyStderr, ansi).init();
    if let Some(complaint) = complaint {
        tracing::warn!("{complaint}");
    }
}

/// The filter `run` logs through, and what was wrong with the ones it was
/// given. The transport's chatter stays at warnings unless `level` names
/// it: a daemon at `info` would otherwise log every QUIC packet decision.
fn daemon_filter(env: Option<&str>, level: &str) -> (EnvFilter, Option<String>) {
    let mut complaint = None;
    if let Some(env) = env {
        match EnvFilter::try_new(env) {
            Ok(filter) => return (filter, None),
            Err(e) => {
                complaint = Some(format!(
                    "{ENV}={env:?} is not a log filter ({e}); using [log] level"
                ))
            }
        }
    }
    let quiet = |level: &str| {
        let mut directives = level.to_owned();
        for target in ["quinn", "rustls"] {
            if !level.contains(target) {
                directives.push_str(&format!(",{target}=warn"));
            }
        }
        directives
    };
    match EnvFilter::try_new(quiet(level)) {
        Ok(filter) => (filter, complaint),
        Err(e) => {
            let more = format!("[log] level {level:?} is not a log filter ({e}); using \"info\"");
            let complaint = match complaint {
                Some(c) => format!("{c}; {more}"),
                None => more,
            };
            (EnvFilter::new(quiet("info")), Some(complaint))
        }
    }
}

fn stderr_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// The subscriber both inits build, writing to `writer` (the tests' is a
/// buffer).
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        // The event's fields at the top level, beside `timestamp`, `level`
        // and `target`, so a log shipper reads `message` without digging.
        LogFormat::Json => Box::new(builder.json().flatten_event(true).with_ansi(false).finish()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    /// A `MakeWriter` into a shared buffer.
    #[derive(Debug, Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut b = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            b.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            let b = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&b).into_owned()
        }
    }

    fn log_some(format: LogFormat, filter: &str) -> String {
        let buffer = Buffer::default();
        let filter = daemon_filter(None, filter).0;
        let subscriber = subscriber(format, filter, buffer.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("recognition", camera = "gate \"B\"");
            let _in = span.enter();
            tracing::info!(frames = 3, plate = "ABC123", "recognized\nsome \"frames\"");
            tracing::warn!(target: "health", "reads=1 alerts=0");
            tracing::debug!("not at info");
        });
        buffer.text()
    }

    #[test]
    fn json_is_one_object_per_line() {
        let out = log_some(LogFormat::Json, "info");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "recognized\nsome \"frames\"");
        assert_eq!(lines[0]["frames"], 3);
        assert_eq!(lines[0]["plate"], "ABC123");
        assert_eq!(lines[0]["span"]["name"], "recognition");
        assert_eq!(lines[0]["span"]["camera"], "gate \"B\"");
        assert!(lines[0]["timestamp"].is_string());
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["target"], "health");
        assert_eq!(lines[1]["message"], "reads=1 alerts=0");
    }

    #[test]
    fn text_is_plain_when_not_a_terminal() {
        let out = log_some(LogFormat::Text, "info");
        assert!(out.contains("INFO"), "{out}");
        assert!(out.contains("frames=3"), "{out}");
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains("not at info"), "{out}");
    }

    #[test]
    fn level_filters_and_the_environment_overrides_it() {
        assert!(
            log_some(LogFormat::Text, "warn")
                .lines()
                .all(|l| l.contains("WARN"))
        );
        assert!(log_some(LogFormat::Text, "debug").contains("not at info"));

        let filter = |env, level| daemon_filter(env, level).0.to_string();
        assert!(filter(Some("debug"), "warn").contains("debug"));
        assert!(!filter(Some("debug"), "warn").contains("quinn"));
        // The transport stays quiet unless named.
        assert!(filter(None, "info").contains("quinn=warn"));
        assert!(filter(None, "info,quinn=debug").contains("quinn=debug"));
        assert!(!filter(None, "info,quinn=debug").contains("quinn=warn"));
    }

    #[test]
    fn a_bad_filter_falls_back_and_says_so() {
        let (filter, complaint) = daemon_filter(None, "info,[=");
        assert!(filter.to_string().contains("info"));
        assert!(complaint.is_some_and(|c| c.contains("[log] level")));
        let (filter, complaint) = daemon_filter(Some("[="), "debug");
        assert!(filter.to_string().contains("debug"));
        assert!(complaint.is_some_and(|c| c.contains(ENV)));
        assert!(daemon_filter(None, "info").1.is_none());
    }
}
