//! The control socket: the daemon serves the engine to local clients (CLI, console).
//!
//! A Unix domain socket `control.sock` in the data directory, mode 0600, so
//! only the node's own account reaches it; each request is checked by the
//! engine like any other (session token, training, role, purpose). The wire
//! messages are `alpr_protocol::control`. Bounded: at most
//! [`CONNECTIONS_MAX`] clients, the last place kept for an Administrator;
//! a client arriving when all are taken waits up to [`QUEUE_SECS`]; a
//! client that has not logged in is dropped after
//! [`UNAUTHENTICATED_IDLE_SECS`] of silence, a logged-in one after
//! [`CONNECTION_IDLE_SECS`]; frames of at most `FRAME_BYTES_MAX`.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alpr_protocol::control::{
    self, CONTROL_VERSION, ControlRequest, ControlResponse, ErrorKind, FrameError, HoldScopeWire,
    PurposeWire, ReadSummary, RoleWire,
};
use alpr_protocol::{PlateText, Timestamp, VerifiedRead};

use crate::engine::{AccessError, Engine, PurgeActor, PurposeInput, SessionToken};
use crate::policy::HoldScope;
use crate::search::Hit;

mod alerts;
mod live;
mod requests;

pub const SOCKET_FILE: &str = "control.sock";
pub const CONNECTIONS_MAX: usize = 16;
/// A logged-in client may think between requests this long.
pub const CONNECTION_IDLE_SECS: u64 = 35 * 60;
/// A client that has not logged in must speak within this: silent
/// connections cannot hold the slots.
pub const UNAUTHENTICATED_IDLE_SECS: u64 = 5;
/// A client finding every slot taken waits this long for one to free.
pub const QUEUE_SECS: u64 = 10;
pub const WRITE_TIMEOUT_SECS: u64 = 30;
/// A progress frame is written with the engine held: a client that stops
/// reading for this long is taken as gone, and the request stops.
pub const PROGRESS_WRITE_SECS: u64 = 5;

pub fn socket_path(data: &Path) -> PathBuf {
    data.join(SOCKET_FILE)
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("a daemon already serves {0}")]
    AlreadyServing(PathBuf),
    #[error("the daemon closed the connection")]
    Closed,
    #[error("a node without a data directory has no control socket")]
    NoDirectory,
}

/// A stream read against one absolute deadline: each read gets only the
/// time left, so a client dripping a byte at a time cannot outlast it.
struct ByDeadline<'a> {
    stream: &'a mut UnixStream,
    until: std::time::Instant,
}

impl Read for ByDeadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .until
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no login within the time allowed",
            ));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn read_frame<T: for<'de> serde::Deserialize<'de>>(
    stream: &mut impl Read,
) -> Result<Option<T>, ControlError> {
    let mut prefix = [0u8; 4];
    match stream.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(source) => {
            return Err(ControlError::Io {
                path: PathBuf::from(SOCKET_FILE),
                source,
            });
        }
    }
    let len = control::frame_len(prefix)?;
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .map_err(|source| ControlError::Io {
            path: PathBuf::from(SOCKET_FILE),
            source,
        })?;
    Ok(Some(control::decode_frame(&body)?))
}

fn write_frame<T: serde::Serialize>(
    stream: &mut UnixStream,
    message: &T,
) -> Result<(), ControlError> {
    let frame = control::encode_frame(message)?;
    stream.write_all(&frame).map_err(|source| ControlError::Io {
        path: PathBuf::from(SOCKET_FILE),
        source,
    })
}

/// A client of a running daemon.
#[derive(Debug)]
pub struct ControlClient {
    stream: UnixStream,
}

impl ControlClient {
    /// Connects if a daemon serves `data`; None if none does.
    pub fn connect(data: &Path) -> Option<ControlClient> {
        UnixStream::connect(socket_path(data))
            .ok()
            .map(|stream| ControlClient { stream })
    }

    /// Sends a request and returns its answer; progress frames before it
    /// are passed over.
    pub fn call(&mut self, request: &ControlRequest) -> Result<ControlResponse, ControlError> {
        self.call_watching(request, |_, _, _| {})
    }

    /// [`ControlClient::call`], showing each progress frame to `progress`.
    pub fn call_watching(
        &mut self,
        request: &ControlRequest,
        mut progress: impl FnMut(&str, u64, Option<u64>),
    ) -> Result<ControlResponse, ControlError> {
        write_frame(&mut self.stream, request)?;
        loop {
            match read_frame(&mut self.stream)?.ok_or(ControlError::Closed)? {
                ControlResponse::Progress { what, done, total } => progress(&what, done, total),
                answer => return Ok(answer),
            }
        }
    }

    /// The next frame of an event stream (after `Subscribe`); None once the daemon closed it.
    pub fn next_frame(&mut self) -> Result<Option<ControlResponse>, ControlError> {
        read_frame(&mut self.stream)
    }
}

/// A summary of a verified read, as clients show it.
pub fn summarize(v: &VerifiedRead) -> ReadSummary {
    let r = v.read();
    ReadSummary {
        origin: r.origin,
        seq: r.seq,
        captured_at: r.captured_at,
        plate: r.body.plate.to_string(),
        confidence: r.body.confidence,
        region: r.body.region.as_ref().map(|g| g.code.clone()),
        camera: r.body.camera.clone(),
        location: r.body.location.map(|l| (l.lat, l.lon)),
        crop_bytes: r.body.crop.map_or(0, |c| u64::from(c.bytes)),
        fix: r.body.fix,
    }
}

pub fn summarize_hits(hits: &[Hit]) -> Vec<control::Hit> {
    hits.iter()
        .map(|h| match h {
            Hit::Read(v) => control::Hit::Read(summarize(v)),
            Hit::Damaged { id, reason } => control::Hit::Damaged {
                origin: id.origin,
                seq: id.seq,
                reason: reason.clone(),
            },
        })
        .collect()
}

fn purpose(p: PurposeWire) -> PurposeInput {
    PurposeInput {
        kind: p.kind.map(|k| k.name().to_string()),
        reason: p.reason,
        case: p.case,
    }
}

/// A purge's report as the control answer carries it.
fn purged(r: &crate::engine::PurgeReport, now: Timestamp, dry_run: bool) -> ControlResponse {
    ControlResponse::Purged {
        purged: r.purged,
        held: r.held,
        cutoff: r.cutoff.unwrap_or(now),
        images: r.images_purged,
        audit_events: r.audit_purged,
        alerts: r.alerts_purged,
        alerts_held: r.alerts_held,
        dry_run,
    }
}

fn error(e: AccessError) -> ControlResponse {
    let kind = match &e {
        AccessError::BadCredentials
        | AccessError::LockedOut { .. }
        | AccessError::Inactive(_)
        | AccessError::Training(_) => ErrorKind::Login,
        AccessError::NoSession | AccessError::SessionLocked(_) => ErrorKind::Session,
        AccessError::Forbidden { .. } | AccessError::Purpose(_) => ErrorKind::Refused,
        AccessError::Password(_) | AccessError::Invalid(_) | AccessError::NotFound(_) => {
            ErrorKind::Invalid
        }
        AccessError::Store(_) => ErrorKind::Failed,
    };
    ControlResponse::Error {
        kind,
        message: e.to_string(),
    }
}

fn invalid(message: String) -> ControlResponse {
    ControlResponse::Error {
        kind: ErrorKind::Invalid,
        message,
    }
}

/// How a purge in steps went: its report, and how long it held the engine.
#[derive(Debug, Clone, Default)]
pub struct SteppedPurge {
    pub report: crate::engine::PurgeReport,
    pub steps: u64,
    /// The longest time one step held the engine.
    pub longest_step: Duration,
}

/// Runs a purge in steps, taking the engine for one transaction at a time
/// and pausing a millisecond between steps (the engine's lock is not fair:
/// without the pause a waiting search could lose every race), so searches,
/// captures and syncs are served between them: none waits for more than
/// one step of a purge of a million reads.
pub fn purge_in_steps(
    engine: &Mutex<Engine>,
    clock: fn() -> Timestamp,
    actor: PurgeActor,
) -> Result<SteppedPurge, AccessError> {
    let lock = || {
        engine
            .lock()
            .map_err(|_| AccessError::Invalid("the engine stopped after an internal error".into()))
    };
    let mut run = {
        let mut e = lock()?;
        let started = e.purge_start(clock(), actor);
        if started.is_err() {
            let _ = e.recover_storage();
        }
        started?
    };
    let mut out = SteppedPurge::default();
    loop {
        let mut e = lock()?;
        let started = std::time::Instant::now();
        let more = e.purge_step(clock(), &mut run);
        if more.is_err() {
            // A purge the disk stopped is followed by a reopen, as any
            // failed request is.
            let _ = e.recover_storage();
        }
        drop(e);
        out.steps += 1;
        out.longest_step = out.longest_step.max(started.elapsed());
        if !more? {
            out.report = run.report;
            return Ok(out);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs one request against the engine. Pure dispatch: every check is the
/// engine's. A request the node failed (storage) is followed by a check of
/// the store, which is reopened if an I/O error stopped it (a full disk):
/// the next request is served once space is freed, without a restart.
pub fn handle(engine: &mut Engine, now: Timestamp, request: ControlRequest) -> ControlResponse {
    handle_watching(engine, now, request, &mut |_, _, _| true)
}

/// [`handle`], telling `watcher` how far a long request is (a verify, an
/// evidence export); the watcher may stop it.
pub fn handle_watching(
    engine: &mut Engine,
    now: Timestamp,
    request: ControlRequest,
    watcher: alpr_engine::verify::Watcher<'_>,
) -> ControlResponse {
    let response = dispatch(engine, now, request, watcher);
    if let ControlResponse::Error {
        kind: ErrorKind::Failed,
        ..
    } = &response
    {
        match engine.recover_storage() {
            Ok(true) => tracing::warn!("database reopened after a failed request"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "database could not be reopened yet"),
        }
    }
    response
}

fn dispatch(
    engine: &mut Engine,
    now: Timestamp,
    request: ControlRequest,
    watcher: alpr_engine::verify::Watcher<'_>,
) -> ControlResponse {
    // Bounded before anything of it reaches the engine or its audit log.
    if let Err(e) = request.check_sizes() {
        // Refused, and documented like any refusal: the event carries the
        // error (which names the field and its size), never the field.
        let err = AccessError::Invalid(e.to_string());
        let token = SessionToken(request.token().unwrap_or([0; 32]));
        return error(engine.refuse_malformed(now, token, request.action(), request.name(), err));
    }
    let result = match request {
        ControlRequest::Login { version, .. } if version != CONTROL_VERSION => {
            Err(AccessError::Invalid(format!(
                "this client speaks control version {version} and the daemon {CONTROL_VERSION}: run the same alpr-node build for both"
            )))
        }
        ControlRequest::Login { user, password, .. } => {
            requests::login(engine, now, user, password)
        }
        ControlRequest::Logout { token } => requests::logout(engine, now, token),
        ControlRequest::Search {
            token,
            purpose,
            query,
            from,
            to,
            limit,
            camera,
            node,
        } => {
            let search = requests::Search {
                token,
                purpose,
                query,
                from,
                to,
                limit,
                camera,
                node,
            };
            return requests::search(engine, now, search);
        }
        ControlRequest::ViewRead {
            token,
            purpose,
            origin,
            seq,
        } => requests::view_read(engine, now, token, purpose, origin, seq),
        ControlRequest::ViewImage {
            token,
            purpose,
            origin,
            seq,
            kind,
        } => requests::view_image(engine, now, token, purpose, origin, seq, kind),
        ControlRequest::Verify { token } => requests::verify_watched(engine, now, token, watcher),
        ControlRequest::Purge { token, dry_run } => requests::purge(engine, now, token, dry_run),
        ControlRequest::Status { token } => requests::status(engine, now, token),
        ControlRequest::Peers { token } => requests::peers(engine, now, token),
        ControlRequest::ListReleases { token } => requests::list_releases(engine, now, token),
        ControlRequest::Import {
            token,
            source,
            reads,
        } => requests::import(engine, now, token, source, reads),
        ControlRequest::AddUser {
            token,
            name,
            role,
            password,
            trained_on,
            training_expires,
        } => {
            let user = requests::AddUser {
                token,
                name,
                role,
                password,
                trained_on,
                training_expires,
            };
            requests::add_user(engine, now, user)
        }
        ControlRequest::EditUser { token, name, edit } => {
            requests::edit_user(engine, now, token, name, edit)
        }
        ControlRequest::ListUsers { token } => requests::list_users(engine, now, token),
        ControlRequest::UnlockUser { token, name } => {
            requests::unlock_user(engine, now, token, name)
        }
        ControlRequest::StageHotlist {
            token,
            list,
            entries,
        } => requests::stage_hotlist(engine, now, token, list, entries),
        ControlRequest::PublishHotlist {
            token,
            list,
            entries,
        } => requests::publish_hotlist(engine, now, token, list, entries),
        ControlRequest::ListHotlists { token } => requests::list_hotlists(engine, now, token),
        ControlRequest::AddHotlistEntry {
            token,
            entry,
            pattern,
        } => requests::add_hotlist_entry(engine, now, token, entry, pattern),
        ControlRequest::RemoveHotlistEntry { token, id } => {
            requests::remove_hotlist_entry(engine, now, token, id)
        }
        ControlRequest::EditHotlistEntry { token, id, edit } => {
            requests::edit_hotlist_entry(engine, now, token, id, edit)
        }
        ControlRequest::DiffHotlist {
            token,
            list,
            entries,
        } => requests::diff_hotlist(engine, now, token, list, entries),
        ControlRequest::RevokeNode {
            token,
            node,
            reason,
        } => requests::revoke_node(engine, now, token, node, reason),
        ControlRequest::SetRetention {
            token,
            reads_days,
            plate_images_days,
            overview_images_days,
            audit_days,
            alerts_days,
        } => {
            let retention = requests::SetRetention {
                token,
                reads_days,
                plate_images_days,
                overview_images_days,
                audit_days,
                alerts_days,
            };
            requests::set_retention(engine, now, retention)
        }
        ControlRequest::PlaceHold {
            token,
            case,
            reason,
            scope,
            expires,
        } => requests::place_hold(engine, now, token, case, reason, scope, expires),
        ControlRequest::ReleaseHold { token, id } => requests::release_hold(engine, now, token, id),
        ControlRequest::SetLimits {
            token,
            failures_max,
            lockout_minutes,
            idle_lock_minutes,
        } => requests::set_limits(
            engine,
            now,
            token,
            failures_max,
            lockout_minutes,
            idle_lock_minutes,
        ),
        ControlRequest::ListHolds { token } => requests::list_holds(engine, now, token),
        ControlRequest::ExportEvidence {
            token,
            purpose,
            case,
            out,
        } => requests::export_evidence_watched(engine, now, token, purpose, case, out, watcher),
        ControlRequest::RegisterRequest {
            token,
            requester,
            what,
            referred_to,
        } => requests::register_request(engine, now, token, requester, what, referred_to),
        ControlRequest::DecideRequest {
            token,
            id,
            decision,
            note,
        } => requests::decide_request(engine, now, token, id, decision, note),
        ControlRequest::ListRequests { token } => requests::list_requests(engine, now, token),
        ControlRequest::Release {
            token,
            purpose,
            agency,
            official,
            legal_basis,
            reads,
            out,
        } => {
            let release = requests::Release {
                token,
                purpose,
                agency,
                official,
                legal_basis,
                reads,
                out,
            };
            requests::release(engine, now, release)
        }
        ControlRequest::AuditSample {
            token,
            quarter,
            seed,
            size,
        } => requests::audit_sample(engine, now, token, quarter, seed, size),
        ControlRequest::AuditMark {
            token,
            report,
            item,
            compliant,
            note,
        } => requests::audit_mark(engine, now, token, report, item, compliant, note),
        ControlRequest::AuditSign { token, report } => {
            requests::audit_sign(engine, now, token, report)
        }
        ControlRequest::ListAudits { token } => requests::list_audits(engine, now, token),
        ControlRequest::AuditLog {
            token,
            filter,
            limit,
        } => requests::audit_log(engine, now, token, filter, limit),
        ControlRequest::ListAlerts {
            token,
            purpose,
            pending_only,
            limit,
        } => alerts::list(engine, now, token, purpose, pending_only, limit),
        ControlRequest::ShowAlert {
            token,
            purpose,
            origin,
            seq,
        } => alerts::show(engine, now, token, purpose, origin, seq),
        ControlRequest::DisposeAlert {
            token,
            origin,
            seq,
            outcome,
            reason,
        } => alerts::dispose(
            engine,
            now,
            token,
            crate::store::RecordId { origin, seq },
            outcome,
            &reason,
        ),
        ControlRequest::HitReport {
            token,
            purpose,
            from,
            to,
        } => alerts::hit_report(
            engine,
            now,
            token,
            purpose,
            crate::store::TimeRange { from, to },
        ),
        ControlRequest::Subscribe { .. } => Err(AccessError::Invalid(
            "a live view needs the daemon: start `alpr-node daemon` for this directory".into(),
        )),
    };
    result.unwrap_or_else(error)
}

pub fn hold_scope(scope: HoldScopeWire) -> Result<HoldScope, AccessError> {
    Ok(match scope {
        HoldScopeWire::Reads(ids) => HoldScope::Reads(ids),
        HoldScopeWire::Plate { plate, from, to } => HoldScope::Plate {
            plate: PlateText::parse(&plate).map_err(|e| AccessError::Invalid(e.to_string()))?,
            from,
            to,
        },
    })
}

fn busy_but_for_administrators() -> ControlResponse {
    ControlResponse::Error {
        kind: ErrorKind::Failed,
        message: format!(
            "busy: {CONNECTIONS_MAX} clients connected; the last place is kept for an Administrator"
        ),
    }
}

/// The daemon: serves the control socket and runs the purge schedule until the process ends.
pub struct Daemon {
    listener: UnixListener,
    path: PathBuf,
    engine: Arc<Mutex<Engine>>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon").field("path", &self.path).finish()
    }
}

impl Daemon {
    /// Binds the socket (0600) in the engine's data directory.
    pub fn bind(engine: Engine) -> Result<Daemon, ControlError> {
        let Some(dir) = engine.node().dir.clone() else {
            return Err(ControlError::NoDirectory);
        };
        let path = socket_path(&dir);
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(ControlError::AlreadyServing(path));
            }
            // A socket left by a daemon that died: nobody listens on it.
            std::fs::remove_file(&path).map_err(|source| ControlError::Io {
                path: path.clone(),
                source,
            })?;
        }
        let io = |source| ControlError::Io {
            path: path.clone(),
            source,
        };
        // Bound under a private name, made owner-only, then moved into
        // place: the socket is never reachable at its path with the
        // permissions bind gave it (the umask's, often 0755).
        let staging = path.with_extension(format!("sock.{}.new", std::process::id()));
        let _ = std::fs::remove_file(&staging);
        let listener = UnixListener::bind(&staging).map_err(io)?;
        let placed = std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
            .and_then(|()| std::fs::rename(&staging, &path));
        if let Err(e) = placed {
            let _ = std::fs::remove_file(&staging);
            return Err(io(e));
        }
        Ok(Daemon {
            listener,
            path,
            engine: Arc::new(Mutex::new(engine)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The engine, shared with the daemon's replication.
    pub fn engine(&self) -> Arc<Mutex<Engine>> {
        Arc::clone(&self.engine)
    }

    /// Serves clients forever; `clock` reads the time, `purge_every` spaces the scheduled purges.
    pub fn run(self, clock: fn() -> Timestamp, purge_every: Duration) -> Result<(), ControlError> {
        let engine = Arc::clone(&self.engine);
        let period_ms = i64::try_from(purge_every.as_millis()).unwrap_or(i64::MAX);
        std::thread::spawn(move || {
            let mut schedule = crate::schedule::Schedule::starting(clock(), period_ms);
            loop {
                let now = clock();
                if let Ok(mut e) = engine.lock() {
                    let next = schedule.next_due(now);
                    e.note_daemon(|n| n.next_purge = Some(next));
                }
                if !schedule.is_due(now) {
                    let wait = crate::schedule::wait_ms(now, schedule.next_due(now));
                    std::thread::sleep(Duration::from_millis(wait));
                    continue;
                }
                schedule.ran(now);
                {
                    let Ok(mut e) = engine.lock() else {
                        tracing::error!(
                            "scheduled purges stop: the engine stopped after an internal error; restart the daemon"
                        );
                        return;
                    };
                    // A store an I/O error stopped is reopened before the
                    // purge that may be what frees the disk.
                    if let Err(err) = e.recover_storage() {
                        tracing::error!(%err, "database could not be reopened yet");
                    }
                }
                match purge_in_steps(&engine, clock, PurgeActor::Schedule) {
                    Ok(p) => tracing::info!(
                        purged = p.report.purged,
                        held = p.report.held,
                        steps = p.steps,
                        longest_step_ms = p.longest_step.as_millis() as u64,
                        "scheduled purge"
                    ),
                    Err(err) => tracing::error!(%err, "scheduled purge failed"),
                }
            }
        });
        let open = Arc::new(AtomicUsize::new(0));
        for stream in self.listener.incoming() {
            let mut stream = match stream {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(%err, "control socket accept failed");
                    continue;
                }
            };
            // Every slot taken: wait briefly for one (clients come and go
            // in a burst; silent ones are dropped within seconds).
            let waited = std::time::Instant::now();
            let slot = loop {
                let n = open.fetch_add(1, Ordering::SeqCst);
                if n < CONNECTIONS_MAX {
                    break Some(n);
                }
                open.fetch_sub(1, Ordering::SeqCst);
                if waited.elapsed() >= Duration::from_secs(QUEUE_SECS) {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let Some(slot) = slot else {
                let busy = ControlResponse::Error {
                    kind: ErrorKind::Failed,
                    message: format!(
                        "busy: {CONNECTIONS_MAX} clients connected for {QUEUE_SECS} s; try again"
                    ),
                };
                let _ = write_frame(&mut stream, &busy);
                continue;
            };
            // The last slot is an Administrator's, so a node flooded with
            // clients can still be administered.
            let reserved = slot == CONNECTIONS_MAX - 1;
            let engine = Arc::clone(&self.engine);
            let open = Arc::clone(&open);
            std::thread::spawn(move || {
                // A client that stops reading must not hold a slot or the engine.
                let _ = stream.set_write_timeout(Some(Duration::from_secs(WRITE_TIMEOUT_SECS)));
                serve_connection(&mut stream, &engine, clock, reserved);
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
        Ok(())
    }
}

fn serve_connection(
    stream: &mut UnixStream,
    engine: &Mutex<Engine>,
    clock: fn() -> Timestamp,
    reserved: bool,
) {
    let mut logged_in = false;
    // Before login, one deadline for the whole connection, however the
    // bytes arrive; after it, an idle limit between requests.
    let login_by = std::time::Instant::now() + Duration::from_secs(UNAUTHENTICATED_IDLE_SECS);
    let mut logins = 0u32;
    loop {
        let read = if logged_in {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(CONNECTION_IDLE_SECS)));
            read_frame::<ControlRequest>(stream)
        } else {
            read_frame::<ControlRequest>(&mut ByDeadline {
                stream,
                until: login_by,
            })
        };
        let request = match read {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(err) => {
                // A malformed frame is answered once, logged, and ends this connection only.
                tracing::warn!(%err, "bad control frame");
                let _ = write_frame(stream, &invalid(err.to_string()));
                return;
            }
        };
        let is_login = matches!(request, ControlRequest::Login { .. });
        logins += u32::from(is_login && !logged_in);
        // The reserved place allows two tries, then goes back to the pool.
        if reserved && !logged_in && (!is_login || logins > 2) {
            let _ = write_frame(stream, &busy_but_for_administrators());
            return;
        }
        // A purge through the daemon runs in steps, the engine released
        // between them (size-checked first like every request).
        if let ControlRequest::Purge {
            token,
            dry_run: false,
        } = request
        {
            let response = purge_in_steps(engine, clock, PurgeActor::User(SessionToken(token)))
                .map(|p| purged(&p.report, clock(), false))
                .unwrap_or_else(error);
            if write_frame(stream, &response).is_err() {
                return;
            }
            continue;
        }
        // A verify or an export tells the client how far it is; a client
        // that hung up (a person cancelling) stops it at the next progress frame.
        if matches!(
            request,
            ControlRequest::Verify { .. } | ControlRequest::ExportEvidence { .. }
        ) {
            let response = match engine.lock() {
                Ok(mut e) => {
                    let _ =
                        stream.set_write_timeout(Some(Duration::from_secs(PROGRESS_WRITE_SECS)));
                    let mut watcher = |what: &str, done: u64, total: Option<u64>| {
                        let frame = ControlResponse::Progress {
                            what: what.to_string(),
                            done,
                            total,
                        };
                        write_frame(stream, &frame).is_ok()
                    };
                    handle_watching(&mut e, clock(), request, &mut watcher)
                }
                Err(_) => ControlResponse::Error {
                    kind: ErrorKind::Failed,
                    message: "the engine stopped after an internal error; restart the daemon"
                        .into(),
                },
            };
            let _ = stream.set_write_timeout(Some(Duration::from_secs(WRITE_TIMEOUT_SECS)));
            if write_frame(stream, &response).is_err() {
                return;
            }
            continue;
        }
        if let ControlRequest::Subscribe { token, purpose: p } = request {
            let opened = match engine.lock() {
                Ok(mut e) => e.subscribe(clock(), SessionToken(token), &purpose(p)),
                Err(_) => Err(AccessError::Invalid(
                    "the engine stopped after an internal error; restart the daemon".into(),
                )),
            };
            match opened {
                Ok(view) => live::stream(stream, engine, clock, view),
                Err(e) => {
                    let _ = write_frame(stream, &error(e));
                }
            }
            // A stream ends its connection: the client opens another for requests.
            return;
        }
        let response = match engine.lock() {
            Ok(mut e) => {
                let response = handle(&mut e, clock(), request);
                if let ControlResponse::LoggedIn { token, role, .. } = &response
                    && reserved
                    && *role != RoleWire::Administrator
                {
                    // Not the Administrator the slot is kept for: the
                    // session just made is closed, and so is the connection.
                    let _ = handle(&mut e, clock(), ControlRequest::Logout { token: *token });
                    drop(e);
                    let _ = write_frame(stream, &busy_but_for_administrators());
                    return;
                }
                response
            }
            Err(_) => ControlResponse::Error {
                kind: ErrorKind::Failed,
                message: "the engine stopped after an internal error; restart the daemon".into(),
            },
        };
        logged_in |= matches!(response, ControlResponse::LoggedIn { .. });
        if write_frame(stream, &response).is_err() {
            return;
        }
    }
}
