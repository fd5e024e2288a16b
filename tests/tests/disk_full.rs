//! A full disk, for real: the node's data directory on a small tmpfs, a
//! running daemon, and the disk filled and freed under it. The daemon must
//! say the disk is full, refuse new reads while it is nearly full but keep
//! serving searches (each still audited), and serve again once space is
//! freed, without a restart and with nothing stored lost.
//!
//! Mounting needs a mount namespace: the test runs its scenario again
//! inside `unshare --user --map-root-user --mount` (root, or an
//! unprivileged user where user namespaces are allowed), so nothing is
//! mounted outside it.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use alpr_tests::{Daemon, Fixture, alpr, ok, run};

const INNER: &str = "ALPR_DISK_FULL_INNER";
/// Larger than the node's capture reserve (32 MiB), so there is room to
/// fill it to either side of the reserve.
const DISK_MIB: u64 = 96;

#[test]
fn a_full_disk_is_reported_and_the_daemon_recovers_when_space_is_freed() {
    let exe = std::env::current_exe().expect("test executable");
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
        ])
        .arg(exe)
        .args([
            "--exact",
            "inner_scenario_on_a_small_tmpfs",
            "--ignored",
            "--nocapture",
        ])
        .env(INNER, "1")
        .output()
        .expect("run unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the scenario failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the scenario did not run:\n{text}"
    );
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn search(data: &str) -> std::process::Output {
    run(&[
        "search",
        "--data",
        data,
        "--pattern",
        "F*",
        "--purpose",
        "alert",
        "--reason",
        "disk test",
    ])
}

/// Fills the disk: a file grown until the disk refuses, then cut to leave `leave` bytes free.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0x5Au8; 1024 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = f.sync_all();
    f.set_len(written.saturating_sub(leave))
        .expect("cut filler");
    f.sync_all().expect("sync filler");
}

#[test]
#[ignore = "run by a_full_disk_is_reported_..., inside a mount namespace"]
fn inner_scenario_on_a_small_tmpfs() {
    assert!(
        std::env::var_os(INNER).is_some(),
        "run through the outer test"
    );
    let f = Fixture::new("car-0");
    let disk = f.path("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={DISK_MIB}m"),
            "tmpfs",
            &disk,
        ])
        .status()
        .expect("mount");
    assert!(mounted.success(), "mount tmpfs at {disk}");
    let bundle = f.bundle("car-1", "vehicle");
    let data = format!("{disk}/car-1");
    ok(&[
        "init",
        "--enroll",
        &bundle,
        "--data",
        &data,
        "--admin",
        "chief",
        "--admin-trained-on",
        "2026-01-15",
    ]);
    let first = f.reads_file("first.jsonl", 20, 4000, |i| format!("F{i:04}"));
    let later = f.reads_file("later.jsonl", 5, 4000, |i| format!("FL{i:03}"));
    let daemon = Daemon::start(&data, &[]);
    assert!(ok(&["import", "--data", &data, &first]).contains("committed reads 1..=20"));

    // Completely full (the daemon's own log is on this disk too): nothing
    // can be audited, so nothing is served, and each answer says why.
    let filler = Path::new(&disk).join("filler");
    fill(&filler, 0);
    let refused = run(&["import", "--data", &data, &later]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("no space left"),
        "{}",
        stderr(&refused)
    );
    let full = search(&data);
    assert!(!full.status.success());
    assert!(
        stderr(&full).contains("no space left"),
        "{}\ndaemon log:\n{}",
        stderr(&full),
        daemon.log()
    );

    // Nearly full: reads still refused, searches served (and audited).
    fill(&filler, 16 * 1024 * 1024);
    let found = search(&data);
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(String::from_utf8_lossy(&found.stdout).contains("20 matching reads"));
    let refused = run(&["import", "--data", &data, &later]);
    assert!(
        stderr(&refused).contains("disk nearly full"),
        "{}",
        stderr(&refused)
    );

    // Space freed: the same daemon takes reads again.
    std::fs::remove_file(&filler).unwrap();
    let stored = alpr(&["import", "--data", &data, &later]).output().unwrap();
    assert!(stored.status.success(), "{}", stderr(&stored));
    let verified = ok(&["verify", "--data", &data]);
    assert!(verified.contains("checked 25 reads"), "{verified}");
    assert!(verified.contains("0 failures"), "{verified}");
    drop(daemon);
    let _ = Command::new("umount").arg(&disk).status();
}
