//! One simulated node: the real engine on an in-memory disk that can fail,
//! tear a write, lose the power and come back, with a clock of its own.

use alpr_engine::datadir::Node;
use alpr_engine::engine::Engine;
use alpr_engine::policy::password::PasswordCost;
use alpr_engine::store::backend::{Countdown, FaultyBackend, MemoryDisk};
use alpr_engine::store::{Store, StoreIdentity};
use alpr_protocol::{
    AgencyId, AgencyKey, Certificate, DataKey, NodeId, NodeKey, Role, SignedCertificate, Timestamp,
    VerifiedCertificate,
};
use rand::RngExt;
use rand::rngs::StdRng;

/// A node of the fleet (or the intruder) and what the simulator knows of it.
pub struct SimNode {
    pub name: String,
    pub role: Role,
    pub id: NodeId,
    pub agency: AgencyId,
    pub enrollment: SignedCertificate,
    node_key: [u8; 32],
    data_key: DataKey,
    certificate: VerifiedCertificate,
    disk: MemoryDisk,
    countdown: Countdown,
    /// Whether the disk tears the write that fails (half of it lands).
    tear: bool,
    /// None while the node is down (between a crash and its restart).
    pub(super) engine: Option<Engine>,
    /// How far this node's clock is from true time.
    pub skew_ms: i64,
}

impl std::fmt::Debug for SimNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNode")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("up", &self.engine.is_some())
            .field("skew_ms", &self.skew_ms)
            .finish_non_exhaustive()
    }
}

/// What assembling a node from its parts failed on.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    Parts(String),
}

impl SimNode {
    /// Enrolls a node under `agency` and starts it on a fresh disk.
    pub fn enroll(
        agency: &AgencyKey,
        data_key: &DataKey,
        name: &str,
        role: Role,
        valid: (Timestamp, Timestamp),
        rng: &mut StdRng,
    ) -> Result<SimNode, NodeError> {
        let parts = |e: &dyn std::fmt::Display| NodeError::Parts(format!("{name}: {e}"));
        let key = NodeKey::generate(rng);
        let enrollment = Certificate {
            agency: agency.id(),
            node: key.id(),
            name: name.into(),
            role,
            not_before: valid.0,
            not_after: valid.1,
        }
        .sign(agency)
        .map_err(|e| parts(&e))?;
        let certificate = enrollment.verify(agency.id()).map_err(|e| parts(&e))?;
        let disk = MemoryDisk::new();
        let countdown = Countdown::default();
        let store = Store::create_with_backend(
            FaultyBackend::new(disk.clone(), countdown.clone(), false),
            StoreIdentity {
                agency: agency.id(),
                node: key.id(),
            },
            data_key,
            rng,
        )
        .map_err(|e| parts(&e))?;
        let mut node = SimNode {
            name: name.into(),
            role,
            id: key.id(),
            agency: agency.id(),
            enrollment,
            node_key: key.secret_bytes(),
            data_key: data_key.clone(),
            certificate,
            disk,
            countdown,
            tear: false,
            engine: None,
            skew_ms: 0,
        };
        node.start(store, rng)?;
        Ok(node)
    }

    fn start(&mut self, store: Store, rng: &mut StdRng) -> Result<(), NodeError> {
        let node = Node::from_parts(
            NodeKey::from_secret(&self.node_key),
            self.data_key.clone(),
            self.certificate.clone(),
            store,
        )
        .map_err(|e| NodeError::Parts(format!("{}: {e}", self.name)))?;
        let mut engine = Engine::open(node, rng.random())
            .map_err(|e| NodeError::Parts(format!("{}: opening the engine: {e}", self.name)))?;
        // The fleet's users are made up and log in every hour; a real
        // Argon2 cost would be most of a run and decides nothing here.
        engine.set_password_cost(PasswordCost::Simulated);
        self.engine = Some(engine);
        Ok(())
    }

    /// The engine, while the node is up.
    pub fn engine(&mut self) -> Option<&mut Engine> {
        self.engine.as_mut()
    }

    pub fn engine_ref(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    pub fn is_up(&self) -> bool {
        self.engine.is_some()
    }

    /// This node's clock at true time `now`.
    pub fn clock(&self, now: i64) -> Timestamp {
        Timestamp(now.saturating_add(self.skew_ms))
    }

    /// Arms the disk to fail the `writes`-th write or sync from now (and
    /// every one after, as a dead disk would), tearing it or not.
    pub fn fail_disk_after(&mut self, writes: u64, tear: bool) {
        self.tear = tear;
        self.countdown.fail_after(writes);
    }

    /// The power goes: the engine is gone, and the disk keeps what was
    /// synced (with `keep_unsynced`, every write that was made, a torn one
    /// included).
    pub fn crash(&mut self, keep_unsynced: bool) {
        // Dropped with the disk possibly failing: what redb does on drop
        // is what a dying process would get done, or not.
        self.engine = None;
        self.disk.crash(keep_unsynced);
    }

    /// The heal's repair: a node whose disk is set to fail, or has failed
    /// under its running engine, is shut down and restarted on a working
    /// disk with the same bytes. Returns whether it was.
    pub fn replace_failing_disk(&mut self, rng: &mut StdRng) -> Result<bool, NodeError> {
        if !self.is_up() || !self.countdown.is_armed() {
            return Ok(false);
        }
        // Dropped as a shutdown would: what the dying disk still takes is kept.
        self.engine = None;
        self.restart(rng)?;
        Ok(true)
    }

    /// Power back, disk replaced by a working one with the same bytes:
    /// the store reopens (redb repairs what it must) and the engine starts.
    pub fn restart(&mut self, rng: &mut StdRng) -> Result<(), NodeError> {
        self.countdown = Countdown::default();
        let store = Store::open_with_backend(
            FaultyBackend::new(self.disk.clone(), self.countdown.clone(), self.tear),
            self.agency,
            &self.data_key,
        )
        .map_err(|e| NodeError::Parts(format!("{}: reopening its store: {e}", self.name)))?;
        self.start(store, rng)
    }
}

/// A whole number of milliseconds in `[-max, max]`.
pub fn skew(rng: &mut StdRng, max_ms: i64) -> i64 {
    rng.random_range(-max_ms..=max_ms)
}

/// Draws `true` with probability `p`.
pub fn chance(rng: &mut StdRng, p: f64) -> bool {
    p > 0.0 && rng.random_bool(p.min(1.0))
}
