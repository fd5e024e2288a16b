//! A logged-in user's session, against the daemon or an engine opened here.

use alpr_protocol::NodeId;
use alpr_protocol::control::{ControlRequest, ControlResponse, ErrorKind, Token};
use anyhow::{Result, anyhow, bail};

use super::args::{Secret, SessionArgs, user_password};
use super::time::now;
use crate::control::ControlClient;
use crate::datadir::Node;
use crate::engine::Engine;
use crate::store::RecordId;

/// What the node answered when it refused or could not do a request: the
/// exit status tells it apart from a usage error (2, not 64).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: ErrorKind,
    pub message: String,
}

static STALE_MINUTES: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// The stale-list limit every engine this process opens applies.
pub fn set_stale_limit_minutes(minutes: u32) {
    let _ = STALE_MINUTES.set(minutes);
}

/// Opens the engine over a data directory with this process's settings.
pub fn open_engine(node: crate::datadir::Node) -> Result<Engine, crate::engine::AccessError> {
    let mut engine = Engine::open(node, engine_seed())?;
    if let Some(m) = STALE_MINUTES.get() {
        engine.set_stale_limit(i64::from(*m) * 60_000);
    }
    Ok(engine)
}

pub fn engine_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut seed);
    seed
}

/// Where requests go: the engine in this process, or a running daemon.
enum Backend {
    Local(Box<Engine>),
    Remote(ControlClient),
}

/// A logged-in user. Every data command is a control request, answered by
/// the daemon when one serves the directory, else by an engine opened here:
/// the same checks and the same audit events either way.
pub struct Session {
    backend: Backend,
    pub token: Token,
    logged_out: bool,
    /// Node ids the node knows, fetched once per command.
    nodes: Option<Vec<NodeId>>,
}

/// A command that fails still ends its session, so the audit log shows the logout.
impl Drop for Session {
    fn drop(&mut self) {
        if !self.logged_out {
            self.logged_out = true;
            let token = self.token;
            let _ = self.send(ControlRequest::Logout { token });
        }
    }
}

/// An answer of a kind the request does not take: a daemon of another build.
pub fn unexpected(response: &ControlResponse) -> anyhow::Error {
    let kind = format!("{response:?}");
    let kind = kind.split([' ', '(', '{']).next().unwrap_or("?");
    anyhow!(
        "the node answered {kind}, which this command does not expect: is the daemon the same version?"
    )
}

impl Session {
    pub fn open(args: &SessionArgs) -> Result<Session> {
        let data = &args.data.dir;
        let ask = || user_password("ALPR_USER_PASSWORD", &args.user, Secret::Existing);
        let local = || -> Result<Backend> {
            let node = Node::open(data, &args.pass.get()?)?;
            Ok(Backend::Local(Box::new(open_engine(node)?)))
        };
        // With a daemon, the password is asked before connecting: the
        // daemon drops a client that has not logged in within seconds, and
        // a person takes longer than that to type.
        let (backend, password) = if crate::control::socket_path(data).exists() {
            let password = ask()?;
            match ControlClient::connect(data) {
                Some(client) => (Backend::Remote(client), password),
                None => (local()?, password),
            }
        } else {
            let backend = local()?;
            (backend, ask()?)
        };
        let mut session = Session {
            backend,
            token: [0; 32],
            // Not logged in yet: nothing to end if the login fails.
            logged_out: true,
            nodes: None,
        };
        let response = session.send(ControlRequest::Login {
            version: alpr_protocol::control::CONTROL_VERSION,
            user: args.user.clone(),
            password: password.to_string(),
        })?;
        let ControlResponse::LoggedIn { token, .. } = response else {
            return Err(unexpected(&response));
        };
        session.token = token;
        session.logged_out = false;
        Ok(session)
    }

    /// Whether a daemon answers this session (a live view needs one).
    pub fn is_remote(&self) -> bool {
        matches!(self.backend, Backend::Remote(_))
    }

    /// Sends a request; a refusal becomes a [`Refusal`] with the engine's message.
    pub fn send(&mut self, request: ControlRequest) -> Result<ControlResponse> {
        let response = match &mut self.backend {
            Backend::Local(engine) => crate::control::handle(engine, now(), request),
            Backend::Remote(client) => client.call(&request)?,
        };
        match response {
            ControlResponse::Error { kind, message } => Err(Refusal { kind, message }.into()),
            other => Ok(other),
        }
    }

    /// [`Session::send`] for a long request (a verify): `progress` is told
    /// the phase, records done and how many in all, as the node reports.
    pub fn send_watching(
        &mut self,
        request: ControlRequest,
        mut progress: impl FnMut(&str, u64, Option<u64>),
    ) -> Result<ControlResponse> {
        let response = match &mut self.backend {
            Backend::Local(engine) => {
                crate::control::handle_watching(engine, now(), request, &mut |what, done, total| {
                    progress(what, done, total);
                    true
                })
            }
            Backend::Remote(client) => client.call_watching(&request, progress)?,
        };
        match response {
            ControlResponse::Error { kind, message } => Err(Refusal { kind, message }.into()),
            other => Ok(other),
        }
    }

    /// Sends a request whose only answer is `Done`.
    pub fn done(&mut self, request: ControlRequest) -> Result<()> {
        match self.send(request)? {
            ControlResponse::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    pub fn logout(mut self) -> Result<()> {
        let token = self.token;
        self.logged_out = true;
        self.done(ControlRequest::Logout { token })
    }

    /// Node ids this node knows (to resolve ORIGIN prefixes).
    pub fn known_nodes(&mut self) -> Result<Vec<NodeId>> {
        if let Some(nodes) = &self.nodes {
            return Ok(nodes.clone());
        }
        let token = self.token;
        let response = self.send(ControlRequest::Status { token })?;
        let ControlResponse::Status { nodes, .. } = response else {
            return Err(unexpected(&response));
        };
        self.nodes = Some(nodes.clone());
        Ok(nodes)
    }

    /// ORIGIN/SEQ, where ORIGIN is a node id or a unique prefix of one (as search prints).
    pub fn record_id(&mut self, text: &str) -> Result<RecordId> {
        let (origin, seq) = text.split_once('/').ok_or_else(|| {
            super::Usage(format!(
                "'{text}' is not a read id: use ORIGIN/SEQ as search prints it"
            ))
        })?;
        let seq: u64 = seq
            .parse()
            .map_err(|_| super::Usage(format!("'{seq}' in '{text}' is not a sequence number")))?;
        let origin = origin.to_ascii_lowercase();
        let matches: Vec<NodeId> = self
            .known_nodes()?
            .into_iter()
            .filter(|id| id.to_hex().starts_with(&origin))
            .collect();
        match matches.as_slice() {
            [one] if origin.len() >= 8 => Ok(RecordId { origin: *one, seq }),
            [] => bail!(super::Usage(format!(
                "no known node id starts with '{origin}'"
            ))),
            _ => bail!(super::Usage(format!(
                "'{origin}' is ambiguous or too short: give at least 8 hex characters of the node id"
            ))),
        }
    }
}
