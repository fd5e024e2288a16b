//! Engines of one agency in a temporary directory, meeting in memory on a
//! simulated clock: the helpers the replica and alert tests share.

#![allow(dead_code)] // Each test binary uses its own part of these.

use alpr_engine::agency::{Agency, EnrollRequest};
use alpr_engine::datadir::Node;
use alpr_engine::engine::replica::{Replica, ReplicaError, ReplicaSummary};
use alpr_engine::engine::{Engine, NewUser, SessionToken};
use alpr_engine::policy::UserRole;
use alpr_protocol::replicate::{BatchLimits, Collection, SyncMessage};
use alpr_protocol::{KdfParams, Role, Timestamp};

pub const PASS: &[u8] = b"node passphrase";
pub const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
pub const T0: i64 = 1_793_491_200_000;
pub const ADMIN_PW: &str = "staff services 2026";

/// One agency's fleet in a temporary directory.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub agency: Agency,
}

impl Fleet {
    pub fn new() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let agency = Agency::init(
            &dir.path().join("agency"),
            b"agency passphrase",
            KdfParams::INSECURE_FAST,
            &mut rand::rng(),
        )
        .unwrap();
        Fleet { dir, agency }
    }

    /// A node with its first Administrator "chief", enrolled for 800 days around T0.
    pub fn node(&self, name: &str, role: Role) -> Engine {
        let bundle = self
            .agency
            .enroll(
                &EnrollRequest {
                    name: name.into(),
                    role,
                    not_before: Timestamp(T0 - 400 * DAY),
                    not_after: Timestamp(T0 + 400 * DAY),
                },
                PASS,
                KdfParams::INSECURE_FAST,
                &mut rand::rng(),
            )
            .unwrap();
        let path = self.dir.path().join(format!("{name}.enroll"));
        std::fs::write(&path, bundle.to_bytes()).unwrap();
        let node = Node::init(&self.dir.path().join(name), &path, PASS, &mut rand::rng()).unwrap();
        let mut e = Engine::open(node, [3; 32]).unwrap();
        e.bootstrap_admin(Timestamp(T0 - 399 * DAY), admin("chief"))
            .unwrap();
        e
    }
}

pub fn admin(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        role: UserRole::Administrator,
        password: ADMIN_PW.into(),
        trained_on: Some(Timestamp(T0 - 399 * DAY)),
        training_expires: None,
    }
}

pub fn login(e: &mut Engine, now: Timestamp) -> SessionToken {
    e.login(now, "chief", ADMIN_PW).unwrap()
}

/// What a meeting does to the messages from the first engine to the second.
pub type Tamper<'a> = &'a mut dyn FnMut(&mut SyncMessage);

/// Two engines meet until both are in sync, on a clock that advances a
/// millisecond a round. Either side's error ends the meeting, as a closed
/// connection would.
pub fn meet(
    a: &mut Engine,
    b: &mut Engine,
    now: &mut Timestamp,
    tamper: Option<Tamper<'_>>,
) -> Result<(ReplicaSummary, ReplicaSummary), ReplicaError> {
    let limits = BatchLimits::default();
    let (ca, cb) = (a.node().certificate.clone(), b.node().certificate.clone());
    let mut ra = Replica::start(a, *now, &cb, limits)?;
    let mut rb = Replica::start(b, *now, &ca, limits)?;
    let mut tamper = tamper;
    for _ in 0..10_000 {
        let mut moved = false;
        while let Some(mut m) = ra.poll_transmit(a, *now)? {
            if let Some(t) = tamper.as_mut() {
                t(&mut m);
            }
            rb.receive(b, *now, m)?;
            moved = true;
        }
        while let Some(m) = rb.poll_transmit(b, *now)? {
            ra.receive(a, *now, m)?;
            moved = true;
        }
        if ra.in_sync() && rb.in_sync() {
            return Ok((ra.summary().clone(), rb.summary().clone()));
        }
        assert!(
            moved,
            "neither side has anything to say, and they are not in sync"
        );
        *now = now.saturating_add_millis(1);
    }
    panic!("no end to the meeting");
}

pub fn count(s: &ReplicaSummary, c: Collection) -> (u64, u64, u64) {
    let get = |m: &std::collections::BTreeMap<Collection, u64>| m.get(&c).copied().unwrap_or(0);
    (get(&s.sent), get(&s.received), get(&s.stored))
}

pub fn verified(e: &mut Engine, now: Timestamp) -> alpr_engine::verify::Report {
    let token = login(e, now);
    let report = e.verify(now, token).unwrap();
    e.logout(now, token).unwrap();
    report
}
