//! `alpr-node console` driven in tmux against a real daemon: a refused
//! login, the dashboard, a read and an alert arriving live, the alert's
//! disposition, a search with its purpose, a read opened with its crop,
//! logout; then the audit log holds each access with its purpose.

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
        // 30 s: CI runs this beside the other daemon tests on two cores.
        for _ in 0..300 {
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

fn tmux_missing() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "tmux is missing: install it (scripts/check does)"
    );
    eprintln!("skipped: tmux is not installed");
    true
}

/// An import file of two reads, each with a real JPEG plate crop.
fn reads_with_crops(f: &Fixture, plates: &[&str]) -> String {
    let dir = f.root.path().join("crops");
    std::fs::create_dir_all(&dir).unwrap();
    let crop = image::RgbImage::from_fn(120, 32, |x, y| {
        if (x / 7) % 2 == 0 && (8..24).contains(&y) {
            image::Rgb([235, 235, 225])
        } else {
            image::Rgb([25, 35, 95])
        }
    });
    crop.save(dir.join("plate.jpg")).unwrap();
    let now = jiff::Timestamp::now();
    let lines: Vec<String> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let t = now + jiff::SignedDuration::from_millis(10 * i as i64);
            format!(
                r#"{{"plate":"{p}","time":"{t}","camera":"front","confidence":0.93,"crop":"crops/plate.jpg"}}"#
            )
        })
        .collect();
    let path = f.root.path().join("shift.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn an_officer_logs_in_disposes_of_a_live_alert_searches_and_opens_a_read_audited() {
    if tmux_missing() {
        return;
    }
    let f = Fixture::new("car-1");
    let car = f.path("car-1");
    let daemon = Daemon::start(&car, &[]);
    ok(&[
        "hotlist",
        "add",
        "--data",
        &car,
        "4GHJ552",
        "--category",
        "stolen-vehicle",
        "--priority",
        "high",
        "--reference",
        "V4GHJ552",
        "--reason",
        "taken in robbery 26-4411",
    ]);
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
    assert!(dashboard.contains("p peers"), "{dashboard}");

    // The live view asks its purpose, then shows reads and the alert as
    // they are stored.
    tmux.keys(&["v"]);
    tmux.wait_for("Why are you watching live reads?");
    tmux.keys(&["patrol district 4", "Enter"]);
    tmux.wait_for("Reads (LIVE: 0");
    ok(&[
        "import",
        "--data",
        &car,
        &reads_with_crops(&f, &["7ABC123", "4GHJ552"]),
    ]);
    tmux.wait_for("Reads (LIVE: 2");
    // The alert is its own event and may be drawn a frame after the read.
    let live = tmux.wait_for("Alerts: 1 pending");
    assert!(live.contains("HIGH   4GHJ552"), "{live}");
    assert!(live.contains("Alerts: 1 pending"), "{live}");

    // The alert opens its form: the entry, the crop; confirmed.
    tmux.keys(&["Enter"]);
    let form = tmux.wait_for(" Disposition ");
    assert!(form.contains("stolen-vehicle"), "{form}");
    assert!(form.contains("ref V4GHJ552"), "{form}");
    assert!(form.contains("taken in robbery 26-4411"), "{form}");
    assert!(!form.contains("no plate image held"), "{form}");
    tmux.keys(&["seen at 5th and Main", "Enter"]);
    let closed = tmux.wait_for("alert 4GHJ552 confirmed");
    assert!(closed.contains("Alerts: 0 pending"), "{closed}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("p peers");

    // A search states its purpose and case before it runs.
    tmux.keys(&["s"]);
    tmux.wait_for(" Search reads ");
    // Plate, O and 0, from, to, then the camera; node, purpose, reason.
    tmux.keys(&["4ghj552", "Tab", "Tab", "Tab", "Tab", "FRONT"]);
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.keys(&["robbery follow up", "Tab", "26-4411", "Enter"]);
    let results = tmux.wait_for("1 match, 1 shown · investigation 26-4411");
    assert!(results.contains("4GHJ552"), "{results}");
    tmux.keys(&["Enter"]);
    let read = tmux.wait_for("opening this read is logged");
    assert!(read.contains("plate    4GHJ552"), "{read}");
    assert!(!read.contains("no plate image held"), "{read}");
    assert!(!read.contains("does not decode"), "{read}");
    tmux.wait_for("no overview held");
    tmux.keys(&["Escape"]);
    tmux.wait_for("open the read");
    tmux.keys(&["Escape"]);
    tmux.wait_for(" Search reads ");
    tmux.keys(&["Escape"]);
    tmux.wait_for("p peers");
    // The audit screen shows those accesses, filtered to one action.
    tmux.keys(&["a"]);
    // The table is drawn empty ("0 of 0 matching") until the node answers:
    // wait for the answer, not the table.
    let audit = tmux.wait_for("dispose alert");
    assert!(audit.contains(" matching "), "{audit}");
    // From any, Left goes round to the last action: dispose alert.
    tmux.keys(&["Tab", "Left", "Enter"]);
    // The filter shows as soon as Left is taken; the table only once the
    // node has answered the query, so wait for the table.
    let filtered = tmux.wait_for("1 of 1 matching");
    assert!(filtered.contains("action dispose alert"), "{filtered}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("p peers");
    // Peers and sync: this car has met no peer and revoked no node.
    tmux.keys(&["p"]);
    let peers = tmux.wait_for("no node revoked");
    assert!(peers.contains("no peer met yet"), "{peers}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("p peers");
    tmux.keys(&["l"]);
    tmux.wait_for("logged out");
    tmux.keys(&["Escape"]);
    for _ in 0..50 {
        if !tmux.running() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!tmux.running(), "Esc at login quits:\n{}", tmux.screen());

    let log = ok(&["audit", "log", "--data", &car, "--json", "--limit", "100"]);
    daemon.stop();
    let doc: serde_json::Value = serde_json::from_str(&log).unwrap();
    let events = doc["items"].as_array().unwrap();
    let by_console = |action: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["action"] == action && e["user"] == ADMIN)
            .collect()
    };
    let one = |action: &str| -> &serde_json::Value {
        let found = by_console(action);
        assert!(!found.is_empty(), "no {action}: {events:?}");
        found[0]
    };
    assert!(
        one("login failed")["outcome"]
            .as_str()
            .unwrap()
            .starts_with("refused")
    );
    assert_eq!(
        one("live view")["purpose"],
        "alert: patrol district 4",
        "{log}"
    );
    assert_eq!(
        one("view alert")["purpose"],
        "alert: patrol district 4",
        "{log}"
    );
    assert!(
        one("dispose alert")["object"]
            .as_str()
            .unwrap()
            .contains("confirmed"),
        "{log}"
    );
    let search = one("search");
    assert!(
        search["object"].as_str().unwrap().contains("4GHJ552"),
        "{log}"
    );
    assert_eq!(
        search["purpose"], "investigation: robbery follow up",
        "{log}"
    );
    assert_eq!(search["case"], "26-4411", "{log}");
    for action in ["view read", "view image"] {
        let e = one(action);
        assert_eq!(e["case"], "26-4411", "{action}: {log}");
        assert_eq!(e["outcome"], "success", "{action}: {log}");
    }
    assert_eq!(one("logout")["outcome"], "success", "{log}");
}
