//! `alpr-node console` driven in tmux against a real daemon: log in, see
//! the dashboard, a refused login, log out; the audit log holds the
//! accesses.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use alpr_tests::{ADMIN, ADMIN_PASSWORD, Daemon, Fixture, node_binary, ok};

/// A tmux server of the test's own (`-L`), so no user's sessions are touched.
struct Tmux(String);

fn tmux(name: &str) -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", name]);
    c
}

impl Tmux {
    fn start(name: &str, command: &str) -> Tmux {
        let status = tmux(name)
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "80",
                "-y",
                "24",
                command,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        Tmux(name.to_string())
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend(keys);
        assert!(tmux(&self.0).args(&args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = tmux(&self.0)
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        for _ in 0..100 {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the console never showed '{text}':\n{}", self.screen());
    }

    fn running(&self) -> bool {
        tmux(&self.0)
            .args(["has-session", "-t", &self.0])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.0).args(["kill-server"]).status();
    }
}

#[test]
fn the_console_logs_in_shows_the_node_and_logs_out_audited() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing: install it (scripts/check does)"
        );
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let f = Fixture::new("car-1");
    let car = f.path("car-1");
    let daemon = Daemon::start(&car, &[]);
    let name = format!("alpr-console-{}", std::process::id());
    let tmux = Tmux::start(
        &name,
        &format!("{} console --data {car}", node_binary().display()),
    );
    tmux.wait_for("Log in");
    // A wrong password first: refused, and said so.
    tmux.keys(&[ADMIN, "Tab", "not the password", "Enter"]);
    let refused = tmux.wait_for("refused:");
    assert!(!refused.contains("not the password"), "{refused}");
    tmux.keys(&[ADMIN_PASSWORD, "Enter"]);
    let dashboard = tmux.wait_for("car-1 (vehicle) · chief (administrator)");
    assert!(dashboard.contains("alerts     none pending"), "{dashboard}");
    assert!(dashboard.contains("r  refresh"), "{dashboard}");

    // The live view asks its purpose, then shows a read as it is stored.
    tmux.keys(&["v"]);
    tmux.wait_for("Why are you watching live reads?");
    tmux.keys(&["patrol district 4", "Enter"]);
    tmux.wait_for("Reads (LIVE: 0");
    let file = f.reads_file("shift.jsonl", 1, 2000, |_| "4GHJ552".to_string());
    ok(&["import", "--data", &car, &file]);
    let live = tmux.wait_for("4GHJ552");
    assert!(live.contains("Reads (LIVE: 1"), "{live}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("r  refresh");
    tmux.keys(&["q"]);
    for _ in 0..50 {
        if !tmux.running() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!tmux.running(), "q quits:\n{}", tmux.screen());
    let log = ok(&["audit", "log", "--data", &car, "--json", "--limit", "50"]);
    daemon.stop();
    let doc: serde_json::Value = serde_json::from_str(&log).unwrap();
    let events: Vec<(String, String)> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Newest first: the CLI's own login, then the console's logout, its
    // login, and the failed attempt before it.
    let position = |action: &str, outcome: &str| {
        events
            .iter()
            .position(|(a, o)| a == action && o.starts_with(outcome))
            .unwrap_or_else(|| panic!("no {action} {outcome}: {events:?}"))
    };
    assert!(
        position("logout", "success") < position("login failed", "refused"),
        "{events:?}"
    );
    assert!(
        log.contains("patrol district 4"),
        "the live view is audited with its purpose: {log}"
    );
}
