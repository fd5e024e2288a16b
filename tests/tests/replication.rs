//! Replication end to end: real `alpr-node` processes talking QUIC on
//! loopback, real redb files, every record verified on arrival.

#![allow(clippy::unwrap_used)]

use alpr_tests::{Daemon, Fixture, ok, run};
#[allow(unused_imports)]

fn search(data: &str, pattern: &str) -> String {
    ok(&[
        "search", "--data", data, "--pattern", pattern, "--purpose", "alert", "--reason", "test",
    ])
}

fn verify_line(data: &str) -> String {
    ok(&["verify", "--data", data])
}

#[test]
fn a_shift_reaches_the_station_and_no_other_car() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll("car-2");
    let car = f.path("car-1");
    let station = f.path("station-1");
    let file = f.reads_file("shift.jsonl", 250, 2000, |i| format!("SH{i:04}"));
    // The car records while no station is reachable.
    ok(&["import", "--data", &car, &file]);

    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    let out = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    println!("{out}");
    assert!(out.contains("in sync with station-1"), "{out}");
    assert!(out.contains("sent 250 reads"), "{out}");

    // Nothing new: a second meeting sends nothing.
    let again = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(again.contains("sent 0 reads"), "{again}");

    // Another car meets the station and gets none of car-1's reads.
    let other = ok(&["sync", "--data", &f.path("car-2"), "--peer", daemon.addr()]);
    assert!(other.contains("received 0 reads"), "{other}");
    daemon.stop();

    let report = verify_line(&station);
    println!("{report}");
    assert!(report.contains("250 reads"), "{report}");
    let found = search(&station, "SH*");
    println!("{found}");
    assert_eq!(found.lines().filter(|l| l.contains("SH0")).count(), 50.min(250), "{found}");
    let none = search(&f.path("car-2"), "SH*");
    assert!(!none.contains("SH0"), "{none}");
}
