//! Alerts end to end with real processes: a station publishes a list, a
//! car meets it over QUIC, frames replayed into the car raise exactly one
//! alert, which only a disposition closes; the car's sync brings the alert
//! and its disposition to the station, verified; a stale list says so;
//! an entry added after a read was stored raises a retro-hit on it.

#![allow(clippy::unwrap_used)]

use alpr_sim::scene::{self, Plate};
use alpr_tests::{Daemon, Fixture, alpr, ok, run};

const ALERT_PURPOSE: [&str; 4] = ["--purpose", "alert", "--reason", "respond to hits"];

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn with_purpose<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(ALERT_PURPOSE);
    v
}

fn alerts_json(data: &str, pending: bool) -> serde_json::Value {
    let mut args = vec!["alerts", "list", "--data", data, "--json"];
    if pending {
        args.push("--pending");
    }
    let out = alpr(&with_purpose(&args)).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text} {}", stderr_of(&out)))
}

fn publish(f: &Fixture, station: &str, name: &str, rows: &[&str]) -> String {
    let mut text = String::from("plate,region,category,reference\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let path = f.path(name);
    std::fs::write(&path, text).unwrap();
    ok(&[
        "hotlist",
        "publish",
        "--data",
        station,
        "--list",
        "ncic-stolen",
        &path,
    ])
}

/// Frames of vehicles passing, one after another, into a fresh folder.
fn frames(f: &Fixture, name: &str, plates: &[(&str, &str)]) -> String {
    let dir = f.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0;
    for (v, (text, band)) in plates.iter().enumerate() {
        for (img, _) in scene::pass(90 + v as u64, &Plate::new(text, band), 10) {
            img.save(std::path::Path::new(&dir).join(format!("f{n:04}.png")))
                .unwrap();
            n += 1;
        }
    }
    dir
}

#[test]
fn a_replayed_listed_plate_raises_one_alert_a_disposition_closes_and_the_station_receives() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let (car, station) = (f.path("car-1"), f.path("station-1"));
    let published = publish(
        &f,
        &station,
        "v1.csv",
        &[
            "6TRS818,AZ,stolen-vehicle,V6TRS818",
            "1ZZZ999,CA,stolen-plate,P1",
        ],
    );
    assert!(published.contains("version 1"), "{published}");
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &car, "--peer", daemon.addr()]);

    // Two vehicles pass the car; one is on the list.
    let dir = frames(
        &f,
        "frames",
        &[("6TRS818", "Arizona"), ("2MNP004", "Texas")],
    );
    let out = ok(&["replay", "--data", &car, "--camera", "front", &dir]);
    assert!(out.contains("2 reads stored"), "{out}");

    let pending = alerts_json(&car, true);
    let items = pending["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{pending}");
    let alert = &items[0];
    assert_eq!(alert["plate"], "6TRS818");
    assert_eq!(alert["list"], "ncic-stolen");
    assert_eq!(alert["match"]["kind"], "exact");
    assert_eq!(alert["state"], "pending");
    let id = alert["id"].as_str().unwrap().to_string();

    // Shown with the read's plate crop written out.
    let crop = f.path("alert-crop.jpg");
    let shown = ok(&with_purpose(&[
        "alerts",
        "show",
        "--data",
        &car,
        &id,
        "--crop-out",
        &crop,
    ]));
    assert!(
        shown.contains("entry    6TRS818 AZ on ncic-stolen"),
        "{shown}"
    );
    assert!(std::fs::read(&crop).unwrap().starts_with(&[0xFF, 0xD8]));

    // Not closed without a disposition: a dismissal needs its reason.
    let refused = run(&[
        "alerts",
        "dispose",
        "--data",
        &car,
        &id,
        "--as",
        "dismissed",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("needs a reason"));
    assert_eq!(
        alerts_json(&car, true)["items"].as_array().unwrap().len(),
        1
    );
    let disposed = ok(&[
        "alerts",
        "dispose",
        "--data",
        &car,
        &id,
        "--as",
        "confirmed",
    ]);
    assert!(disposed.contains("disposed of as confirmed"), "{disposed}");
    let none = run(&with_purpose(&[
        "alerts",
        "list",
        "--data",
        &car,
        "--pending",
    ]));
    assert_eq!(none.status.code(), Some(1), "nothing pending");

    // The disposition and every view are in the audit log.
    let log = ok(&[
        "audit",
        "log",
        "--data",
        &car,
        "--action",
        "dispose-alert",
        "--json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&log).unwrap();
    let outcomes: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 2, "{log}");
    assert!(outcomes.contains(&"success"), "{log}");
    let views = ok(&["audit", "log", "--data", &car, "--action", "view-alert"]);
    assert!(views.contains("respond to hits"), "{views}");

    // The car's sync brings the alert and its disposition to the station.
    let synced = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(synced.contains("in sync with station-1"), "{synced}");
    daemon.stop();
    let at_station = alerts_json(&station, false);
    let items = at_station["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{at_station}");
    assert_eq!(items[0]["state"], "confirmed");
    assert_eq!(items[0]["dispositions"][0]["by"], "chief");
    // `ok` requires exit 0: every record, the alerts included, verifies.
    ok(&["verify", "--data", &station]);
}

#[test]
fn stale_lists_warn_and_a_new_entry_raises_a_retro_hit() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let station = f.path("station-1");
    publish(&f, &station, "v1.csv", &["1ZZZ999,CA,stolen-plate,P1"]);
    // A read of a plate not (yet) listed (a fixed camera's, imported).
    let file = f.reads_file("earlier.jsonl", 1, 2000, |_| "3FUV260".to_string());
    ok(&["import", "--data", &station, &file]);
    let before = alerts_json(&station, true);
    assert!(before["items"].as_array().unwrap().is_empty(), "{before}");

    // Listed today: the stored read raises a retro alert at once.
    publish(
        &f,
        &station,
        "v2.csv",
        &["1ZZZ999,CA,stolen-plate,P1", "3FUV260,ID,stolen-vehicle,V2"],
    );
    let listed = alerts_json(&station, true);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["retro"], true);
    assert_eq!(items[0]["list_version"], 2);

    // With a limit of 0 minutes every list is stale: said on the listing,
    // on status, and on the next alert raised.
    let out = alpr(&with_purpose(&["alerts", "list", "--data", &station]))
        .env("ALPR_STALE_LISTS_MINUTES", "0")
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("may be stale"),
        "{}",
        stderr_of(&out)
    );
    let status = alpr(&["status", "--data", &station])
        .env("ALPR_STALE_LISTS_MINUTES", "0")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("hotlists     STALE"), "{text}");
    assert!(text.contains("1 PENDING"), "{text}");
}
