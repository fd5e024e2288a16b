//! The control dispatch over a real engine: a malformed request is refused
//! and the refusal is on record under the session's user.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use alpr_node::agency::{Agency, EnrollRequest};
use alpr_node::datadir::Node;
use alpr_node::engine::{Engine, NewUser};
use alpr_node::policy::UserRole;
use alpr_protocol::control::{ControlRequest, ControlResponse, PurposeWire, QueryWire};
use alpr_protocol::{Action, KdfParams, Outcome, Role, Timestamp};

const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200_000;
const PW: &str = "patrol district 9";

#[test]
fn v_a_2_malformed_control_requests_are_refused_on_record() {
    let dir = tempfile::tempdir().unwrap();
    let agency = Agency::init(
        &dir.path().join("agency"),
        b"agency passphrase",
        KdfParams::INSECURE_FAST,
        &mut rand::rng(),
    )
    .unwrap();
    let bundle = agency
        .enroll(
            &EnrollRequest {
                name: "car-1".into(),
                role: Role::Vehicle,
                not_before: Timestamp(T0 - DAY),
                not_after: Timestamp(T0 + DAY),
            },
            b"node passphrase",
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap();
    let path = dir.path().join("car-1.enroll");
    std::fs::write(&path, bundle.to_bytes()).unwrap();
    let node = Node::init(
        &dir.path().join("car-1"),
        &path,
        b"node passphrase",
        &mut rand::rng(),
    )
    .unwrap();
    let mut e = Engine::open(node, [7; 32]).unwrap();
    e.bootstrap_admin(
        Timestamp(T0),
        NewUser {
            name: "jsmith".into(),
            role: UserRole::Administrator,
            password: PW.into(),
            trained_on: Some(Timestamp(T0 - DAY)),
            training_expires: None,
        },
    )
    .unwrap();
    let token = e.login(Timestamp(T0), "jsmith", PW).unwrap();
    let response = alpr_node::control::handle(
        &mut e,
        Timestamp(T0 + 1),
        ControlRequest::Search {
            token: token.0,
            purpose: PurposeWire::default(),
            query: QueryWire::Pattern("A%".into()),
            from: None,
            to: None,
            limit: 5,
            camera: None,
            node: None,
        },
    );
    assert!(
        matches!(response, ControlResponse::Error { .. }),
        "{response:?}"
    );
    let mut last = None;
    e.node()
        .store
        .for_each_audit(|_, bytes| {
            last = Some(e.node().trust.open_audit(bytes).unwrap().event().clone())
        })
        .unwrap();
    let ev = last.unwrap();
    assert_eq!(
        (ev.body.user.as_str(), ev.body.action),
        ("jsmith", Action::Search)
    );
    assert!(ev.body.object.contains("malformed"), "{}", ev.body.object);
    assert!(matches!(ev.body.outcome, Outcome::Refused(_)));
}
