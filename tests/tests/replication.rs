//! Replication end to end: real `alpr-node` processes talking QUIC on
//! loopback, real redb files, every record verified on arrival.

#![allow(clippy::unwrap_used)]

use alpr_node::datadir::{Node, STORE_FILE};
use alpr_node::replication::tls::{self, PeerCheck};
use alpr_node::store::RecordId;
use alpr_protocol::Role;
use alpr_protocol::control::encode_frame;
use alpr_protocol::replicate::SyncMessage;
use alpr_tests::{Daemon, Fixture, NODE_PASSPHRASE, found, ok, run};

fn search(data: &str, pattern: &str) -> String {
    found(&[
        "search",
        "--data",
        data,
        "--pattern",
        pattern,
        "--purpose",
        "alert",
        "--reason",
        "test",
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
    assert!(report.contains("checked 250 reads, 250 images"), "{report}");
    // The first and the last read of the shift, opened and verified at the station.
    for plate in ["SH0000", "SH0249"] {
        let found = search(&station, plate);
        assert_eq!(
            found.lines().filter(|l| l.contains(plate)).count(),
            1,
            "{found}"
        );
    }
    let none = search(&f.path("car-2"), "SH*");
    assert!(!none.contains("SH0"), "{none}");
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn another_agency_and_a_forged_record_are_refused_and_the_station_keeps_serving() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll("car-2");
    let other = Fixture::new("car-x");
    let station = f.path("station-1");
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);

    // A node of another agency: each side refuses the other in the handshake.
    let out = run(&[
        "sync",
        "--data",
        &other.path("car-x"),
        "--peer",
        daemon.addr(),
    ]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("refused a server in the handshake"), "{err}");
    assert!(err.contains("belongs to another agency"), "{err}");
    daemon.wait_log("handshake failed");

    // A record altered after it was signed: the whole batch is refused, with the reason.
    let car = f.path("car-1");
    let file = f.reads_file("reads.jsonl", 20, 300, |i| format!("FG{i:03}"));
    ok(&["import", "--data", &car, &file]);
    let envelope = {
        let node = Node::open(std::path::Path::new(&car), NODE_PASSPHRASE.as_bytes()).unwrap();
        let id = RecordId {
            origin: node.node_key.id(),
            seq: 7,
        };
        node.store.read_envelope(id).unwrap().unwrap()
    };
    let db_path = std::path::Path::new(&car).join(STORE_FILE);
    let mut db = std::fs::read(&db_path).unwrap();
    let tail = &envelope[envelope.len() - 100..];
    let at = db.windows(tail.len()).position(|w| w == tail).unwrap();
    db[at + 10] ^= 0x01;
    std::fs::write(&db_path, db).unwrap();

    let out = run(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("bad signature"), "{err}");
    assert!(err.contains("/7"), "the refusal names the record: {err}");
    daemon.wait_log("bad signature");

    // The station still serves others, and stored nothing of the bad batch.
    let fine = ok(&["sync", "--data", &f.path("car-2"), "--peer", daemon.addr()]);
    assert!(fine.contains("in sync with station-1"), "{fine}");
    daemon.stop();
    let found = search(&station, "FG*");
    assert!(!found.contains("FG0"), "{found}");
    let report = verify_line(&station);
    assert!(report.contains("0 failures"), "{report}");
}

/// Sends raw frames as an enrolled car and returns the station's reason for closing.
fn closed_for(addr: std::net::SocketAddr, car: &str, frames: Vec<Vec<u8>>) -> String {
    let node = Node::open(std::path::Path::new(car), NODE_PASSPHRASE.as_bytes()).unwrap();
    let check = PeerCheck {
        agency: node.trust.agency(),
        revoked: Default::default(),
    };
    let (client, _) = tls::configs(&node.node_key, node.certificate.signed(), check).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        let conn = endpoint
            .connect_with(client, addr, "alpr-node")
            .unwrap()
            .await
            .unwrap();
        let (mut send, _recv) = conn.open_bi().await.unwrap();
        for frame in frames {
            send.write_all(&frame).await.unwrap();
        }
        match conn.closed().await {
            quinn::ConnectionError::ApplicationClosed(close) => {
                String::from_utf8_lossy(&close.reason).into_owned()
            }
            other => other.to_string(),
        }
    })
}

#[test]
fn malformed_replayed_and_impostor_messages_are_refused() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let car = f.path("car-1");
    let daemon = Daemon::start(&f.path("station-1"), &["--listen", "127.0.0.1:0"]);
    let addr: std::net::SocketAddr = daemon.addr().parse().unwrap();
    let hello = |role| {
        encode_frame(&SyncMessage::Hello {
            role,
            vectors: Default::default(),
            hotlists: Default::default(),
            policy: [0; 16],
        })
        .unwrap()
    };

    let reason = closed_for(addr, &car, vec![vec![0, 0, 0, 3, 0xff, 0xfe, 0xfd]]);
    assert!(reason.contains("malformed frame"), "{reason}");
    let reason = closed_for(addr, &car, vec![vec![0xff, 0xff, 0xff, 0xff]]);
    assert!(reason.contains("exceeds"), "{reason}");
    // An old Hello replayed inside a session.
    let reason = closed_for(addr, &car, vec![hello(Role::Vehicle), hello(Role::Vehicle)]);
    assert!(reason.contains("second Hello"), "{reason}");
    // A car that claims to be a station to receive reads.
    let reason = closed_for(addr, &car, vec![hello(Role::Station)]);
    assert!(reason.contains("authenticated as"), "{reason}");
    daemon.wait_log("malformed frame");

    let fine = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(fine.contains("in sync with station-1"), "{fine}");
}

#[test]
fn a_sync_killed_at_random_points_resumes_with_nothing_lost_or_doubled() {
    use rand::{RngExt, SeedableRng};
    let seed: u64 = std::env::var("ALPR_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("replication kill seed {seed} (set ALPR_TEST_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let car = f.path("car-1");
    let station = f.path("station-1");
    let file = f.reads_file("shift.jsonl", 2_500, 2_048, |i| format!("K{i:05}"));
    ok(&["import", "--data", &car, &file]);

    let mut daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    for round in 0..4 {
        let wait = std::time::Duration::from_millis(rng.random_range(50..1_500));
        let mut child = alpr_tests::alpr(&["sync", "--data", &car, "--peer", daemon.addr()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if round % 2 == 0 {
            // kill -9 the car's side mid-transfer.
            let _ = child.kill();
            let _ = child.wait();
        } else {
            // kill -9 the station mid-commit, then bring it back on a new port.
            daemon.stop();
            // (The car would wait out its idle timeout; the next meeting resumes anyway.)
            let _ = child.kill();
            let _ = child.wait();
            daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
        }
    }
    let done = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(done.contains("in sync with station-1"), "{done}");
    let again = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(again.contains("sent 0 reads and 0 audit events"), "{again}");
    daemon.stop();

    let report = verify_line(&station);
    assert!(
        report.contains("checked 2500 reads, 2500 images"),
        "{report}"
    );
    assert!(report.contains("0 failures"), "{report}");
}

fn hotlist_csv(f: &Fixture, name: &str, plates: impl Iterator<Item = String>) -> String {
    let mut text = String::from("plate,region,category,reference\n");
    for p in plates {
        text.push_str(&format!("{p},CA,stolen-vehicle,V{p}\n"));
    }
    let path = f.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn hotlist_line(data: &str) -> String {
    let out = ok(&["hotlist", "list", "--data", data, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("hotlist list --json");
    assert_eq!(doc["schema"], "alpr-node.hotlists");
    let list = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["list"] == "ncic-stolen")
        .unwrap_or_else(|| panic!("no list at {data}: {out}"));
    format!(
        "ncic-stolen version {} {} entries content {} published {}",
        list["version"],
        list["entries"],
        list["content"].as_str().unwrap(),
        list["published_at"]
    )
}

/// The local hotlist as `id plate region category reference` lines, from `hotlist list --json`.
fn local_entries(data: &str) -> String {
    let out = ok(&["hotlist", "list", "--data", data, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("hotlist list --json");
    doc["local"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}\n",
                e["id"],
                e["plate"].as_str().unwrap(),
                e["region"].as_str().unwrap_or("-"),
                e["category"].as_str().unwrap(),
                e["reference"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_hotlist_goes_station_to_car_to_car_and_updates_as_a_delta() {
    let f = Fixture::new("car-a");
    f.enroll_as("station-1", "station");
    f.enroll("car-b");
    let (station, car_a, car_b) = (f.path("station-1"), f.path("car-a"), f.path("car-b"));

    // A vehicle may not publish: lists come from stations.
    let v1 = hotlist_csv(&f, "v1.csv", (0..3000).map(|i| format!("HL{i:05}")));
    let refused = run(&[
        "hotlist",
        "publish",
        "--data",
        &car_a,
        "--list",
        "ncic-stolen",
        &v1,
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr_of(&refused).contains("published at a station"),
        "{}",
        stderr_of(&refused)
    );

    let published = ok(&[
        "hotlist",
        "publish",
        "--data",
        &station,
        "--list",
        "ncic-stolen",
        &v1,
    ]);
    assert!(published.contains("version 1: 3000 entries"), "{published}");
    let station_daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    let got = ok(&["sync", "--data", &car_a, "--peer", station_daemon.addr()]);
    assert!(
        got.contains("received hotlist ncic-stolen version 1"),
        "{got}"
    );
    station_daemon.stop();

    // Away from the station, car A's officer puts a plate on the local list,
    // and car A passes both lists to car B.
    let added = ok(&[
        "hotlist",
        "add",
        "--data",
        &car_a,
        "--plate",
        "BOLO 77",
        "--region",
        "ca",
        "--reference",
        "armed robbery, blue sedan",
    ]);
    assert!(added.contains("local hotlist entry 1 added"), "{added}");
    let car_a_daemon = Daemon::start(&car_a, &["--listen", "127.0.0.1:0"]);
    let passed = ok(&["sync", "--data", &car_b, "--peer", car_a_daemon.addr()]);
    assert!(
        passed.contains("received hotlist ncic-stolen version 1"),
        "{passed}"
    );
    assert!(passed.contains("received 0 reads"), "{passed}");
    car_a_daemon.stop();
    let station_line = hotlist_line(&station);
    let content = station_line
        .split("content ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        hotlist_line(&car_b).contains(content),
        "car B holds the station's exact content"
    );
    let lists = local_entries(&car_b);
    assert!(
        lists.contains("1 BOLO77 CA bolo armed robbery, blue sedan"),
        "{lists}"
    );

    // Version 2 changes 1%: car A, holding version 1, gets a delta, not the list.
    let v2 = hotlist_csv(
        &f,
        "v2.csv",
        (30..3000)
            .map(|i| format!("HL{i:05}"))
            .chain((0..30).map(|i| format!("NEW{i:03}"))),
    );
    let published = ok(&[
        "hotlist",
        "publish",
        "--data",
        &station,
        "--list",
        "ncic-stolen",
        &v2,
    ]);
    assert!(published.contains("version 2: 3000 entries"), "{published}");
    let station_daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    let got = ok(&["sync", "--data", &car_a, "--peer", station_daemon.addr()]);
    assert!(
        got.contains("received hotlist ncic-stolen version 2"),
        "{got}"
    );
    let received: u64 = got
        .lines()
        .find_map(|l| l.split(" sent, ").nth(1))
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    // The whole list is about 60 KB; 30 removals and 30 additions are not.
    assert!(received < 20_000, "{got}");
    station_daemon.stop();
    let v2_line = hotlist_line(&station);
    let content = v2_line
        .split("content ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(hotlist_line(&car_a).contains(content));
    assert!(hotlist_line(&car_a).contains("version 2"));
    // The car's entry reached the station at that meeting too.
    let lists = local_entries(&station);
    assert!(lists.contains("1 BOLO77"), "{lists}");
}

#[test]
fn a_revoked_car_is_refused_and_others_are_still_served() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll("car-2");
    let station = f.path("station-1");
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &f.path("car-2"), "--peer", daemon.addr()]);

    // Through the running daemon: the very next handshake is refused.
    let out = ok(&[
        "revoke",
        "--data",
        &station,
        "car-2",
        "--reason",
        "stolen car",
    ]);
    assert!(out.contains("revoked car-2"), "{out}");
    let refused = run(&["sync", "--data", &f.path("car-2"), "--peer", daemon.addr()]);
    assert!(!refused.status.success());
    daemon.wait_log("is revoked");
    let fine = ok(&["sync", "--data", &f.path("car-1"), "--peer", daemon.addr()]);
    assert!(fine.contains("in sync with station-1"), "{fine}");

    // A node cannot revoke itself, and an unknown name is named back.
    let own = run(&["revoke", "--data", &station, "station-1", "--reason", "x"]);
    assert!(
        stderr_of(&own).contains("cannot revoke itself"),
        "{}",
        stderr_of(&own)
    );
    let unknown = run(&["revoke", "--data", &station, "car-99", "--reason", "x"]);
    assert!(
        stderr_of(&unknown).contains("no known node is named 'car-99'"),
        "{}",
        stderr_of(&unknown)
    );
    daemon.stop();
}

fn retention_line(data: &str) -> String {
    ok(&["retention", "--data", data])
}

#[test]
fn concurrent_policy_edits_at_two_stations_merge_the_same_everywhere() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll_as("station-2", "station");
    let (s1, s2, car) = (f.path("station-1"), f.path("station-2"), f.path("car-1"));
    let add = |data: &str, name: &str| {
        ok(&[
            "user",
            "add",
            "--data",
            data,
            "--name",
            name,
            "--role",
            "officer",
            "--trained-on",
            "2026-01-10",
        ])
    };
    // Apart, each station edits: a user each, and the same setting two ways.
    add(&s1, "officer-a");
    add(&s2, "officer-b");
    let set = |data: &str, reads: &str, images: &str, alerts: &str| {
        ok(&[
            "retention",
            "--data",
            data,
            "--reads-days",
            reads,
            "--plate-images-days",
            images,
            "--overview-images-days",
            images,
            "--alerts-days",
            alerts,
        ])
    };
    set(&s1, "60", "60", "730");
    set(&s2, "45", "10", "400");
    // A car does not author users: they come from stations.
    let refused = run(&[
        "user",
        "add",
        "--data",
        &car,
        "--name",
        "officer-c",
        "--role",
        "officer",
        "--trained-on",
        "2026-01-10",
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr_of(&refused).contains("administered at a station"),
        "{}",
        stderr_of(&refused)
    );

    let d2 = Daemon::start(&s2, &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &s1, "--peer", d2.addr()]);
    ok(&["sync", "--data", &car, "--peer", d2.addr()]);
    d2.stop();

    let users = |data: &str| ok(&["user", "list", "--data", data]);
    for data in [&s1, &s2, &car] {
        let list = users(data);
        assert!(
            list.contains("officer-a") && list.contains("officer-b"),
            "{data}: {list}"
        );
    }
    let r = retention_line(&s1);
    assert_eq!(r, retention_line(&s2), "stations settle on one retention");
    assert_eq!(r, retention_line(&car), "and so does the car");
    // Retention is one record: one station's whole setting wins, the same
    // everywhere (field by field could merge into a setting nobody made,
    // with images kept longer than their reads).
    assert!(
        r.contains("reads kept 60 days") && r.contains("alerts 730 days")
            || r.contains("reads kept 45 days") && r.contains("alerts 400 days"),
        "{r}"
    );

    // officer-a, added at station-1, logs in at the car that never met station-1.
    let search = alpr_tests::alpr(&[
        "search",
        "--data",
        &car,
        "--pattern",
        "Z*",
        "--purpose",
        "alert",
        "--reason",
        "test",
    ])
    .env("ALPR_USER", "officer-a")
    .output()
    .unwrap();
    // Logged in and served; the car holds no Z plates: "nothing found" (1).
    assert_eq!(search.status.code(), Some(1), "{}", stderr_of(&search));
}

#[test]
fn a_car_daemon_keeps_trying_and_syncs_when_a_station_appears() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let (car, station) = (f.path("car-1"), f.path("station-1"));
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = format!("127.0.0.1:{port}");
    let car_daemon = Daemon::start(&car, &["--peer", &peer, "--sync-every-seconds", "1"]);
    // The car records while the station is out of reach (through its daemon).
    let file = f.reads_file("shift.jsonl", 120, 500, |i| format!("DT{i:04}"));
    ok(&["import", "--data", &car, &file]);
    car_daemon.wait_log("could not sync with peer");

    let station_daemon = Daemon::start(&station, &["--listen", &peer]);
    let log = car_daemon.wait_log("met peer");
    assert!(log.contains("Reads: 120"), "{log}");
    car_daemon.stop();
    station_daemon.stop();
    let report = verify_line(&station);
    assert!(report.contains("checked 120 reads, 120 images"), "{report}");
}

#[test]
fn a_list_larger_than_a_frame_is_published_through_the_daemon_and_sent_in_chunks() {
    let f = Fixture::new("car-a");
    f.enroll_as("station-1", "station");
    let (station, car) = (f.path("station-1"), f.path("car-a"));
    // Three 50,000-entry chunks on the wire; two parts through the control socket.
    let rows = 120_001;
    let csv = hotlist_csv(&f, "big.csv", (0..rows).map(|i| format!("B{i:06}")));
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    let published = ok(&[
        "hotlist",
        "publish",
        "--data",
        &station,
        "--list",
        "ncic-stolen",
        &csv,
    ]);
    assert!(
        published.contains(&format!("version 1: {rows} entries")),
        "{published}"
    );
    assert!(
        published.contains(&format!("{rows} rows read, {rows} entries published")),
        "{published}"
    );
    let got = ok(&["sync", "--data", &car, "--peer", daemon.addr()]);
    assert!(
        got.contains("received hotlist ncic-stolen version 1"),
        "{got}"
    );
    daemon.stop();
    assert!(
        hotlist_line(&car).contains(&format!("{rows} entries")),
        "{}",
        hotlist_line(&car)
    );
}

#[test]
fn one_enrollment_on_two_machines_is_warned_at_init_and_flagged_by_the_station() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let bundle = f.bundle("car-x", "vehicle");
    let init = |dir: &str| {
        run(&[
            "init",
            "--enroll",
            &bundle,
            "--data",
            &f.path(dir),
            "--admin",
            "chief",
            "--admin-trained-on",
            "2026-01-15",
        ])
    };
    let first = init("car-x");
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        !stderr_of(&first).contains("warning"),
        "{}",
        stderr_of(&first)
    );
    let copy = init("car-x-copy");
    assert!(copy.status.success(), "{}", stderr_of(&copy));
    assert!(
        stderr_of(&copy).contains("was already initialized in")
            && stderr_of(&copy).contains("car-x"),
        "{}",
        stderr_of(&copy)
    );
    // Each copy signs a different read as seq 1, and its own audit events
    // from the same seqs on; the copy works a little longer.
    let one = f.reads_file("one.jsonl", 1, 100, |_| "CLONE1".into());
    let other = f.reads_file("other.jsonl", 1, 100, |_| "CLONE2".into());
    let later = f.reads_file("later.jsonl", 1, 100, |_| "CLONE3".into());
    ok(&["import", "--data", &f.path("car-x"), &one]);
    ok(&["import", "--data", &f.path("car-x-copy"), &other]);
    ok(&["import", "--data", &f.path("car-x-copy"), &later]);
    let station = f.path("station-1");
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &f.path("car-x"), "--peer", daemon.addr()]);
    let second = run(&[
        "sync",
        "--data",
        &f.path("car-x-copy"),
        "--peer",
        daemon.addr(),
    ]);
    assert!(!second.status.success());
    assert!(
        stderr_of(&second).contains("two machines share"),
        "{}",
        stderr_of(&second)
    );
    // The station's fork flags, from its audit log.
    let flags = || -> serde_json::Value {
        let log = ok(&[
            "audit",
            "log",
            "--data",
            &station,
            "--action",
            "edit-nodes",
            "--contains",
            "two machines share",
            "--json",
        ]);
        serde_json::from_str(&log).unwrap()
    };
    let doc = flags();
    assert_eq!(doc["total"], 1, "{doc}");
    assert_eq!(doc["items"][0]["user"], "(sync)", "{doc}");
    assert_eq!(doc["items"][0]["action"], "edit nodes", "{doc}");
    // The station kept the first copy's read and nothing of the second.
    let held = found(&[
        "search",
        "--data",
        &station,
        "--pattern",
        "CLONE*",
        "--purpose",
        "audit",
        "--reason",
        "cloned node review",
    ]);
    assert!(
        held.contains("CLONE1") && !held.contains("CLONE2"),
        "{held}"
    );
    // Until an Administrator revokes it, every meeting with the copy is refused the same way.
    let again = run(&[
        "sync",
        "--data",
        &f.path("car-x-copy"),
        "--peer",
        daemon.addr(),
    ]);
    assert!(
        stderr_of(&again).contains("two machines share"),
        "{}",
        stderr_of(&again)
    );
    // Flagged once, not at every retry.
    let doc = flags();
    assert_eq!(doc["total"], 1, "{doc}");
    drop(daemon);
}

/// The peers view, through each daemon: what a car still has to send, why
/// its last meeting failed, the station's view of the car, and a revoked node.
#[test]
fn the_peers_view_shows_what_is_pending_each_way_and_why_a_meeting_failed() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll("car-2");
    let (car, station) = (f.path("car-1"), f.path("station-1"));
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = format!("127.0.0.1:{port}");
    let station_daemon = Daemon::start(&station, &["--listen", &peer]);
    let car_daemon = Daemon::start(&car, &["--peer", &peer, "--sync-every-seconds", "1"]);
    car_daemon.wait_log("met peer");
    ok(&["sync", "--data", &f.path("car-2"), "--peer", &peer]);
    ok(&[
        "revoke",
        "--data",
        &station,
        "car-2",
        "--reason",
        "stolen car",
    ]);

    // The station saw the car: in sync, nothing left to take from it.
    let view: serde_json::Value =
        serde_json::from_str(&ok(&["peers", "--data", &station, "--json"])).unwrap();
    let seen = view["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "car-1")
        .unwrap();
    assert_eq!(seen["name"], "car-1", "{view}");
    assert_eq!(seen["role"], "vehicle", "{view}");
    assert!(seen["last_in_sync"].is_string(), "{view}");
    assert_eq!(seen["pending_in"]["read"], 0, "{view}");
    assert_eq!(seen["pending_out"], serde_json::json!({}), "{view}");
    assert_eq!(view["revoked"][0]["name"], "car-2", "{view}");
    assert_eq!(view["revoked"][0]["reason"], "stolen car", "{view}");

    // The station goes away; the car records 30 reads and cannot meet it.
    station_daemon.stop();
    let file = f.reads_file("shift.jsonl", 30, 500, |i| format!("PV{i:04}"));
    ok(&["import", "--data", &car, &file]);
    car_daemon.wait_log("could not sync with peer");
    let view: serde_json::Value =
        serde_json::from_str(&ok(&["peers", "--data", &car, "--json"])).unwrap();
    let station_seen = &view["peers"][0];
    assert_eq!(station_seen["name"], "station-1", "{view}");
    assert_eq!(station_seen["pending_out"]["read"], 30, "{view}");
    assert!(
        station_seen["pending_out"]["audit event"].as_u64().unwrap() > 0,
        "{view}"
    );
    let address = &view["addresses"][0];
    assert_eq!(address["address"], peer.as_str(), "{view}");
    assert!(address["last_met"]["id"].is_string(), "{view}");
    assert!(address["last_failure"]["reason"].is_string(), "{view}");
    let text = ok(&["peers", "--data", &car]);
    assert!(text.contains("30 reads"), "{text}");
    assert!(text.contains(&format!("address {peer}: met")), "{text}");
    assert!(text.contains("FAILED"), "{text}");
    car_daemon.stop();
}

/// A station's search keeps to one camera (opened, case-insensitive), one
/// car (by the index), or both, and the audit event names them.
#[test]
fn a_station_searches_one_camera_and_one_car() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    f.enroll("car-2");
    let (car_1, car_2, station) = (f.path("car-1"), f.path("car-2"), f.path("station-1"));
    let front = f.reads_file("front.jsonl", 5, 200, |i| format!("CM{i:03}"));
    let rear = std::path::PathBuf::from(f.path("rear.jsonl"));
    let rear_text =
        std::fs::read_to_string(f.reads_file("r.jsonl", 3, 200, |i| format!("CM{:03}", 100 + i)))
            .unwrap()
            .replace(r#""camera":"front""#, r#""camera":"rear""#);
    std::fs::write(&rear, rear_text).unwrap();
    let other = f.reads_file("other.jsonl", 4, 200, |i| format!("CM{:03}", 200 + i));
    ok(&["import", "--data", &car_1, &front]);
    ok(&["import", "--data", &car_1, rear.to_str().unwrap()]);
    ok(&["import", "--data", &car_2, &other]);
    let daemon = Daemon::start(&station, &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &car_1, "--peer", daemon.addr()]);
    ok(&["sync", "--data", &car_2, "--peer", daemon.addr()]);
    let total = |extra: &[&str]| -> u64 {
        let mut args = vec![
            "search",
            "--data",
            &station,
            "--pattern",
            "CM*",
            "--purpose",
            "alert",
            "--reason",
            "test",
            "--json",
        ];
        args.extend(extra);
        let doc: serde_json::Value = serde_json::from_str(&found(&args)).unwrap();
        doc["total"].as_u64().unwrap()
    };
    assert_eq!(total(&[]), 12);
    assert_eq!(total(&["--camera", "rear"]), 3);
    assert_eq!(total(&["--camera", "REAR"]), 3);
    assert_eq!(total(&["--node", "car-2"]), 4);
    assert_eq!(total(&["--node", "car-1", "--camera", "front"]), 5);
    assert_eq!(total(&["--node", "car-2", "--camera", "rear"]), 0);
    let unknown = run(&[
        "search",
        "--data",
        &station,
        "--pattern",
        "CM*",
        "--purpose",
        "alert",
        "--reason",
        "test",
        "--node",
        "car-99",
    ]);
    assert!(
        stderr_of(&unknown).contains("no known node is named 'car-99'"),
        "{}",
        stderr_of(&unknown)
    );
    let log = ok(&[
        "audit", "log", "--data", &station, "--action", "search", "--json",
    ]);
    assert!(log.contains("of node car-1 ("), "{log}");
    assert!(log.contains("from camera rear"), "{log}");
    daemon.stop();
}
