//! `alpr-node cameras`, the real binary on this machine. The binary the
//! gate builds last has no camera support, and a build with it finds no
//! camera where there is no `/dev/video*` (CI, containers): each answer is
//! checked for what it must say, and that it exits 1 (nothing found). On a
//! machine with cameras and a camera build, they must be listed.

use alpr_tests::run;

/// The `--json` document, its exit status, and whether the build reads cameras.
fn json() -> (serde_json::Value, Option<i32>) {
    let out = run(&["cameras", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cameras --json is not JSON ({e}): {text}"));
    assert_eq!(doc["schema"], "alpr-node.cameras", "{text}");
    assert_eq!(doc["version"], 1, "{text}");
    (doc, out.status.code())
}

fn has_video_nodes() -> bool {
    std::fs::read_dir("/dev")
        .map(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("video"))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .unwrap_or(false)
}

#[test]
fn cameras_says_what_it_found_or_why_not() {
    let (doc, code) = json();
    let out = run(&["cameras"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let supported = doc["camera_support"]
        .as_bool()
        .expect("camera_support is a boolean");
    if !supported {
        for needle in [
            "this build has no camera support",
            "cargo build --release -p alpr-node --features camera",
            "libclang-dev",
        ] {
            assert!(stdout.contains(needle), "{needle:?} missing: {stdout}");
        }
        assert_eq!(doc["total"], 0, "{doc}");
        assert_eq!(doc["items"], serde_json::json!([]), "{doc}");
        assert!(
            doc["message"]
                .as_str()
                .unwrap()
                .contains("--features camera")
        );
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert_eq!(code, Some(1));
        return;
    }
    if !has_video_nodes() {
        assert_eq!(
            stdout.trim(),
            "no cameras found (V4L2: no /dev/video* devices)",
            "{stderr}"
        );
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert_eq!(code, Some(1));
        assert_eq!(doc["total"], 0, "{doc}");
        assert_eq!(
            doc["message"],
            "no cameras found (V4L2: no /dev/video* devices)"
        );
        return;
    }
    // A machine with V4L2 nodes: either cameras, listed by path, or nodes
    // that are not cameras, said so.
    let items = doc["items"].as_array().expect("items");
    if items.is_empty() {
        assert_eq!(code, Some(1));
        assert!(stdout.contains("no capture device"), "{stdout}");
    } else {
        assert_eq!(code, Some(0), "{doc}");
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        for camera in items {
            let path = camera["path"].as_str().expect("path");
            assert!(path.starts_with("/dev/video"), "{camera}");
            assert!(stdout.contains(path), "{path} not listed: {stdout}");
        }
    }
}

#[test]
fn cameras_help_explains_the_exit_status() {
    let out = run(&["cameras", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains("--json"), "{help}");
    assert!(
        help.contains("1 none found, or this build has no camera"),
        "{help}"
    );
}
