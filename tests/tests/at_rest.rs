//! A copied database file reveals nothing: every plate, case, reason,
//! reference and user name the node stores is sealed at rest, and the file
//! and its directory are the node account's alone.

use std::os::unix::fs::PermissionsExt;

use alpr_tests::{Fixture, alpr, ok};

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w == n)
}

#[test]
fn the_database_file_shows_no_plate_case_reference_or_name_in_the_clear() {
    let f = Fixture::new("car-1");
    f.enroll_as("station-1", "station");
    let station = f.path("station-1");

    // A bulk list with NCIC references, a local BOLO, a hold, a request, a user.
    let csv = f.path("ncic.csv");
    std::fs::write(
        &csv,
        "plate,region,category,reference\n7QXZ412,CA,stolen-vehicle,NIC-V77123455\nAMBR911,NV,amber-alert,NIC-A11000777\n",
    )
    .unwrap();
    ok(&[
        "hotlist",
        "publish",
        "--data",
        &station,
        "--list",
        "ncic-stolen",
        &csv,
    ]);
    ok(&[
        "hotlist",
        "add",
        "--data",
        &station,
        "--plate",
        "BOLO771",
        "--region",
        "ca",
        "--reference",
        "armed robbery, blue sedan",
    ]);
    let reads = f.reads_file("reads.jsonl", 3, 200, |i| format!("HOLDME{i}"));
    ok(&["import", "--data", &station, &reads]);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    ok(&[
        "hold",
        "add",
        "--data",
        &station,
        "--case",
        "26-CASE-9931",
        "--reason",
        "homicide suspect vehicle",
        "--plate",
        "HOLDME1",
        "--from",
        &today,
        "--to",
        &today,
    ]);
    ok(&[
        "request",
        "add",
        "--data",
        &station,
        "--requester",
        "Garcia Law Offices",
        "--what",
        "reads of plate 7QXZ412 on 2026-11-03",
    ]);
    f.add_user(&station, "mrodriguez", "officer", "night shift district 4");
    // A failed login leaves login state for a name.
    let failed = alpr(&["user", "list", "--data", &station, "--user", "wrongname77"])
        .output()
        .unwrap();
    assert!(!failed.status.success());

    let db = std::fs::read(std::path::Path::new(&station).join("store.redb")).unwrap();
    for secret in [
        "7QXZ412",
        "AMBR911",
        "NIC-V77123455",
        "NIC-A11000777",
        "BOLO771",
        "armed robbery",
        "26-CASE-9931",
        "homicide suspect",
        "HOLDME1",
        "Garcia Law",
        "mrodriguez",
        "wrongname77",
        "chief",
        "$argon2",
        "argon2id",
    ] {
        assert!(
            !contains(&db, secret),
            "'{secret}' is in the database file in the clear"
        );
    }
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&format!("{station}/store.redb")), 0o600);
    assert_eq!(mode(&station), 0o700);
}
