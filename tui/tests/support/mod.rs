//! What the console's screen tests share: a model logged in with a
//! node's status, reads and alerts as the node sends them, and the screen
//! as text (ratatui's TestBackend).

#![allow(clippy::unwrap_used, dead_code)]

use alpr_protocol::Timestamp;
use alpr_protocol::control::{CameraWire, ControlRequest, ControlResponse, RoleWire};
use alpr_protocol::enrollment::Role;
use alpr_protocol::identity::NodeId;
use alpr_tui::app::{App, Asked, Effect, Key, Msg};
use alpr_tui::pictures::Pictures;
use expect_test::Expect;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub const NOW: Timestamp = Timestamp(1_796_000_000_000);

pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| alpr_tui::view::draw(f, app, NOW, &mut Pictures::halfblocks()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn check(app: &App, width: u16, height: u16, want: Expect) {
    want.assert_eq(&screen(app, width, height));
}

pub fn key(app: &mut App, k: Key) -> Vec<Effect> {
    app.update(Msg::Key(k))
}

pub fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(Msg::Key(Key::Char(c))));
    }
    effects
}

pub fn status() -> ControlResponse {
    ControlResponse::Status {
        user: "chief".into(),
        role: RoleWire::Administrator,
        reads_days: 365,
        plate_images_days: 365,
        overview_images_days: 90,
        audit_days: 1095,
        alerts_days: 365,
        standing_holds: 1,
        audit_overdue: Some("2026Q3".into()),
        nodes: vec![NodeId([7; 32]), NodeId([1; 32])],
        valid_from: Timestamp(NOW.0 - 86_400_000),
        valid_until: Timestamp(NOW.0 + 20 * 86_400_000),
        node_name: "car-12".into(),
        node_id: NodeId([7; 32]),
        node_role: Role::Vehicle,
        agency: alpr_protocol::identity::AgencyId([9; 32]),
        reads: 5123,
        meetings: vec![(
            NodeId([1; 32]),
            Some("station-1".into()),
            Timestamp(NOW.0 - 3 * 3_600_000),
        )],
        hotlists: vec![("ncic-stolen".into(), 42, Timestamp(NOW.0 - 30 * 3_600_000))],
        disk_free: Some(40 * 1024 * 1024 * 1024),
        alerts_pending: 2,
        lists_age_ms: Some(30 * 3_600_000),
        lists_stale: true,
        database_bytes: Some(300 * 1024 * 1024),
        next_purge: Some(Timestamp(NOW.0 + 1_800_000)),
        cameras: vec![CameraWire {
            name: "front".into(),
            up: true,
            frames_per_s: 24.5,
            dropped: 3,
            failed: 0,
            source: "camera /dev/video0".into(),
        }],
        failures_max: 3,
        lockout_minutes: 30,
        idle_lock_minutes: 15,
    }
}

pub fn logged_in() -> App {
    logged_in_as("chief", RoleWire::Administrator)
}

/// Logged in as `user` in `role`, the dashboard shown.
pub fn logged_in_as(user: &str, role: RoleWire) -> App {
    let mut app = App::new("/var/lib/alpr/car-12");
    typed(&mut app, user);
    app.update(Msg::Key(Key::Tab));
    typed(&mut app, "staff services 2026");
    app.update(Msg::Key(Key::Enter));
    let effects = app.update(Msg::Answer(
        Asked::Login,
        Ok(ControlResponse::LoggedIn {
            token: [3; 32],
            user: user.into(),
            role,
        }),
    ));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(Asked::Status, ControlRequest::Status { .. })]
    ));
    app.update(Msg::Answer(Asked::Status, Ok(status())));
    app
}

pub fn read(plate: &str, seq: u64, at: i64) -> alpr_protocol::control::ReadSummary {
    alpr_protocol::control::ReadSummary {
        origin: NodeId([7; 32]),
        seq,
        captured_at: Timestamp(at),
        plate: plate.into(),
        confidence: 0.97,
        region: Some("CA".into()),
        camera: "front".into(),
        location: None,
        crop_bytes: 4000,
        fix: alpr_protocol::Fix::NoFix,
    }
}

pub fn alert(
    plate: &str,
    seq: u64,
    priority: alpr_protocol::hotlist::Priority,
) -> alpr_protocol::control::EventWire {
    alpr_protocol::control::EventWire::Alert {
        origin: NodeId([7; 32]),
        seq,
        at: NOW,
        alert_origin: NodeId([7; 32]),
        alert_seq: seq,
        disposed: None,
        plate: plate.into(),
        list: "ncic-stolen".into(),
        entry: format!("{plate} CA stolen-vehicle"),
        priority,
        kind: "exact".into(),
        stale: false,
        retro: false,
    }
}
