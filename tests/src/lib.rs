//! Support for end-to-end tests: the real `alpr-node` binary, real key files, real databases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const AGENCY_PASSPHRASE: &str = "agency passphrase for tests";
pub const NODE_PASSPHRASE: &str = "node passphrase for tests";
/// The first Administrator every fixture node gets, and its password.
pub const ADMIN: &str = "chief";
pub const ADMIN_PASSWORD: &str = "staff services 2026";

/// The `alpr-node` binary built beside the running test (`target/<profile>/alpr-node`).
pub fn node_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join("alpr-node");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p alpr-node` (the gate script does)",
        bin.display()
    );
    bin
}

/// An `alpr-node` command with the test passphrases in its environment.
pub fn alpr(args: &[&str]) -> Command {
    let mut cmd = Command::new(node_binary());
    cmd.args(args)
        .env("ALPR_AGENCY_PASSPHRASE", AGENCY_PASSPHRASE)
        .env("ALPR_PASSPHRASE", NODE_PASSPHRASE)
        .env("ALPR_USER", ADMIN)
        .env("ALPR_USER_PASSWORD", ADMIN_PASSWORD)
        .env("ALPR_NEW_PASSWORD", ADMIN_PASSWORD)
        // Enrollments this "machine" initialized: kept apart from the user's own.
        .env(
            "ALPR_STATE_DIR",
            std::env::temp_dir().join("alpr-tests-state"),
        )
        .env_remove("ALPR_LOG");
    cmd
}

/// Runs a command to completion and returns its output.
pub fn run(args: &[&str]) -> Output {
    alpr(args).output().expect("run alpr-node")
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "alpr-node {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a query that may match nothing: exit 0 (found) or 1 (nothing
/// found) both pass; returns its stdout.
pub fn found(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "alpr-node {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A search's reads, from its `--json` document (schema `alpr-node.search`).
pub fn search_items(args: &[&str]) -> Vec<serde_json::Value> {
    let mut args = args.to_vec();
    args.push("--json");
    let out = found(&args);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("search --json document");
    assert_eq!(doc["schema"], "alpr-node.search", "{out}");
    assert_eq!(doc["version"], 1, "{out}");
    doc["items"].as_array().cloned().unwrap_or_default()
}

/// An agency and one enrolled node, made through the CLI in a temporary directory.
#[derive(Debug)]
pub struct Fixture {
    pub root: tempfile::TempDir,
}

impl Fixture {
    pub fn new(node_name: &str) -> Fixture {
        let root = tempfile::tempdir().expect("tempdir");
        let f = Fixture { root };
        ok(&["agency", "init", "--dir", &f.path("agency")]);
        f.enroll(node_name);
        f
    }

    pub fn path(&self, rel: &str) -> String {
        self.root.path().join(rel).to_string_lossy().into_owned()
    }

    /// Enrolls a vehicle and initializes its data directory `<name>/`.
    pub fn enroll(&self, name: &str) {
        self.enroll_as(name, "vehicle");
    }

    /// Enrolls a node of `role` (vehicle or station) and initializes its data directory `<name>/`.
    pub fn enroll_as(&self, name: &str, role: &str) {
        let bundle = self.bundle(name, role);
        ok(&[
            "init",
            "--enroll",
            &bundle,
            "--data",
            &self.path(name),
            "--admin",
            ADMIN,
            "--admin-trained-on",
            "2026-01-15",
        ]);
    }

    /// Enrolls a node of `role` at the agency and returns its bundle's path,
    /// for a test that initializes the data directory itself.
    pub fn bundle(&self, name: &str, role: &str) -> String {
        let bundle = self.path(&format!("{name}.enroll"));
        ok(&[
            "agency",
            "enroll",
            "--dir",
            &self.path("agency"),
            "--name",
            name,
            "--role",
            role,
            "--out",
            &bundle,
        ]);
        bundle
    }

    /// Adds a trained user through the CLI, as the fixture's Administrator.
    pub fn add_user(&self, data: &str, name: &str, role: &str, password: &str) {
        let out = alpr(&[
            "user",
            "add",
            "--data",
            data,
            "--name",
            name,
            "--role",
            role,
            "--trained-on",
            "2026-01-15",
        ])
        .env("ALPR_NEW_PASSWORD", password)
        .output()
        .expect("run alpr-node");
        assert!(
            out.status.success(),
            "user add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes a JSON-lines import file of `count` reads with `crop_bytes`-byte crops,
    /// captured from now on at one read per 10 ms; returns its path.
    pub fn reads_file(
        &self,
        name: &str,
        count: usize,
        crop_bytes: usize,
        plate: impl Fn(usize) -> String,
    ) -> String {
        use std::io::Write;
        let crops = self.root.path().join("crops");
        std::fs::create_dir_all(&crops).expect("crops dir");
        let crop_count = 16;
        for c in 0..crop_count {
            let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
            bytes.extend((0..crop_bytes.saturating_sub(6)).map(|i| ((i * 31 + c * 7) % 251) as u8));
            bytes.extend([0xFF, 0xD9]);
            std::fs::write(crops.join(format!("{c}.jpg")), bytes).expect("crop");
        }
        let start = jiff::Timestamp::now();
        let path = self.root.path().join(name);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("reads file"));
        for i in 0..count {
            let t = start + jiff::SignedDuration::from_millis(10 * i as i64);
            writeln!(
                out,
                r#"{{"plate":"{}","time":"{}","camera":"front","confidence":0.9,"crop":"crops/{}.jpg"}}"#,
                plate(i),
                t,
                i % crop_count
            )
            .expect("write read");
        }
        out.flush().expect("flush");
        path.to_string_lossy().into_owned()
    }
}

/// A running `alpr-node serve`, killed when dropped (pass or fail).
#[derive(Debug)]
pub struct Daemon {
    pub child: std::process::Child,
    /// Where its log (stderr) goes.
    pub log: PathBuf,
    /// The replication address it announced, if it listens.
    pub addr: Option<String>,
    /// The metrics endpoint's address (`run` with `[metrics]`).
    pub metrics: Option<String>,
}

impl Daemon {
    /// Starts `serve --data DIR` with `extra` arguments and waits for its announcements.
    pub fn start(data: &str, extra: &[&str]) -> Daemon {
        use std::io::BufRead;
        let mut args = vec!["serve", "--data", data];
        args.extend_from_slice(extra);
        let log = PathBuf::from(format!("{data}.serve.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("daemon log");
        let mut child = alpr(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().expect("a line").expect("read");
        assert!(first.starts_with("serving "), "{first}");
        let addr = if extra.contains(&"--listen") {
            let line = lines.next().expect("a line").expect("read");
            Some(
                line.strip_prefix("replicating on ")
                    .unwrap_or_else(|| panic!("unexpected: {line}"))
                    .to_string(),
            )
        } else {
            None
        };
        // Keep draining stdout so the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Daemon {
            child,
            addr,
            log,
            metrics: None,
        }
    }

    /// Starts `run --config FILE` (the field daemon) and waits for its
    /// announcements; its log goes to `<config>.log`.
    pub fn run(config: &str) -> Daemon {
        use std::io::BufRead;
        let log = PathBuf::from(format!("{config}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("daemon log");
        let mut child = alpr(&["run", "--config", config])
            .stdout(std::process::Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn run");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut addr = None;
        let mut metrics = None;
        let mut first = true;
        loop {
            let Some(Ok(line)) = lines.next() else {
                panic!(
                    "run ended before serving:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if first {
                assert!(line.starts_with("serving "), "{line}");
                first = false;
            }
            if let Some(a) = line.strip_prefix("replicating on ") {
                addr = Some(a.to_string());
            }
            if let Some(a) = line.strip_prefix("metrics on http://") {
                metrics = a.strip_suffix("/metrics").map(str::to_string);
            }
            // The last announcement: capture has started.
            if line.starts_with("running") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Daemon {
            child,
            addr,
            log,
            metrics,
        }
    }

    /// The metrics endpoint's text (empty when it does not answer).
    pub fn scrape(&self) -> String {
        use std::io::{Read, Write};
        let Some(addr) = &self.metrics else {
            return String::new();
        };
        let Ok(mut s) = std::net::TcpStream::connect(addr) else {
            return String::new();
        };
        let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no exit 30 s after SIGTERM:\n{}", self.log());
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to ten seconds for the log to mention `text`.
    pub fn wait_log(&self, text: &str) -> String {
        self.wait_log_for(text, 100)
    }

    /// Waits up to `tenths` tenths of a second for the log to mention `text`.
    pub fn wait_log_for(&self, text: &str, tenths: usize) -> String {
        for _ in 0..tenths {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("daemon never logged '{text}':\n{}", self.log());
    }

    pub fn addr(&self) -> &str {
        self.addr.as_deref().expect("daemon listens")
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test shows what the daemon saw: a flake in CI is
        // otherwise told only from the client's side.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of {} ---", self.log.display());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
