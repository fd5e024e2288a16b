//! The capture pipeline of `alpr-node run`: per camera, a capture thread
//! and a recognition thread joined by a bounded frame queue, and one
//! recorder thread that stores every camera's reads through the engine.
//!
//! A live source (a camera, a stream, paced files) never waits on
//! recognition: when the queue is full the oldest waiting frame is dropped
//! and counted, because the newest frame is the one a passing car is in.
//! Files read as fast as recognition takes them wait instead, since nothing
//! is lost by waiting. Reads go to the recorder through a bounded channel;
//! a read is acknowledged (logged as stored) only once its transaction
//! committed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alpr_protocol::{Capture, Fix, Location, Timestamp};

use crate::capture::{CaptureError, Frame, FrameSource};
use crate::engine::{CaptureSource, Engine};
use crate::metrics::{CameraMetrics, Metrics};
use crate::recognize::Recognizer;
use crate::replay::{Shot, capture_of};
use crate::track::{TrackConfig, TrackedRead, Tracker};

/// Where a read was taken, at a time: the GPS feed or a fixed place.
pub type PositionAt = Arc<dyn Fn(Timestamp) -> (Option<Location>, Fix) + Send + Sync>;

/// Opens (and, after a failure, reopens) a camera's source.
pub type OpenSource = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, CaptureError> + Send>;

/// Reads waiting for the recorder, from every camera.
const READS_QUEUED_MAX: usize = 256;
/// Most reads stored in one transaction.
const RECORD_BATCH_MAX: usize = 64;

/// A bounded queue of frames between a source and recognition.
#[derive(Debug)]
pub struct FrameQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    frames: VecDeque<Frame>,
    closed: bool,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Queued, and the oldest waiting frame dropped to make room.
    DroppedOldest,
    /// The queue is closed (the pipeline stops): the frame is dropped.
    Closed,
}

impl FrameQueue {
    pub fn new(capacity: usize) -> FrameQueue {
        FrameQueue {
            state: Mutex::new(QueueState::default()),
            changed: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a frame. `live`: drop the oldest when full; else wait for room.
    pub fn push(&self, frame: Frame, live: bool) -> Pushed {
        let mut s = self.lock();
        let mut pushed = Pushed::Queued;
        while s.frames.len() >= self.capacity && !s.closed {
            if live {
                s.frames.pop_front();
                pushed = Pushed::DroppedOldest;
            } else {
                s = self
                    .changed
                    .wait(s)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        if s.closed {
            return Pushed::Closed;
        }
        s.frames.push_back(frame);
        self.changed.notify_all();
        pushed
    }

    /// The oldest frame; waits for one. `None` once closed and empty.
    pub fn pop(&self) -> Option<Frame> {
        let mut s = self.lock();
        loop {
            if let Some(f) = s.frames.pop_front() {
                self.changed.notify_all();
                return Some(f);
            }
            if s.closed {
                return None;
            }
            s = self
                .changed
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// No more frames: the source ended. Waiting frames are still taken.
    pub fn finish(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Stop now: waiting frames are dropped (the frame in hand finishes).
    pub fn close(&self) -> usize {
        let mut s = self.lock();
        s.closed = true;
        let dropped = s.frames.len();
        s.frames.clear();
        self.changed.notify_all();
        dropped
    }

    pub fn depth(&self) -> usize {
        self.lock().frames.len()
    }
}

/// One camera as the pipeline runs it.
pub struct CameraPlan {
    pub name: String,
    pub open: OpenSource,
    /// Whether a source that fails (not one that ends) is opened again.
    pub reopen: bool,
}

impl std::fmt::Debug for CameraPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraPlan")
            .field("name", &self.name)
            .field("reopen", &self.reopen)
            .finish_non_exhaustive()
    }
}

/// How the pipeline is set up.
#[derive(Clone)]
pub struct PipelineConfig {
    pub queue_frames: usize,
    pub track_gap_ms: u32,
    pub position: PositionAt,
    pub clock: fn() -> Timestamp,
}

impl std::fmt::Debug for PipelineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineConfig")
            .field("queue_frames", &self.queue_frames)
            .field("track_gap_ms", &self.track_gap_ms)
            .finish_non_exhaustive()
    }
}

/// A finished read on its way to the store.
struct Pending {
    camera: String,
    at: Timestamp,
    capture: Capture,
}

/// The running pipeline: stop it with [`Pipeline::stop`].
#[derive(Debug)]
pub struct Pipeline {
    stop: Arc<AtomicBool>,
    queues: Vec<Arc<FrameQueue>>,
    recognizers: Vec<JoinHandle<()>>,
    recorder: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts every camera's threads and the recorder.
    pub fn start(
        cameras: Vec<CameraPlan>,
        config: PipelineConfig,
        engine: Arc<Mutex<Engine>>,
        metrics: Arc<Metrics>,
    ) -> Result<Pipeline, CaptureError> {
        // One recognizer per camera thread: the models are shared bytes,
        // and a camera never waits on another's inference.
        let stop = Arc::new(AtomicBool::new(false));
        let (reads_tx, reads_rx) = sync_channel::<Pending>(READS_QUEUED_MAX);
        let mut queues = Vec::new();
        let mut recognizers = Vec::new();
        for plan in cameras {
            let recognizer = Recognizer::shipped().map_err(|e| CaptureError::Source {
                source_name: format!("camera '{}'", plan.name),
                message: format!("the recognition models: {e}"),
            })?;
            let queue = Arc::new(FrameQueue::new(config.queue_frames));
            let camera_metrics = metrics.camera(&plan.name);
            queues.push(Arc::clone(&queue));
            let name = plan.name.clone();
            {
                let queue = Arc::clone(&queue);
                let stop = Arc::clone(&stop);
                let m = Arc::clone(&camera_metrics);
                std::thread::Builder::new()
                    .name(format!("capture {name}"))
                    .spawn(move || capture_loop(plan, &queue, &stop, &m))
                    .map_err(|e| thread_error(&name, e))?;
            }
            let tx = reads_tx.clone();
            let cfg = config.clone();
            let m = camera_metrics;
            let handle = std::thread::Builder::new()
                .name(format!("recognize {name}"))
                .spawn(move || recognize_loop(&name, recognizer, &queue, &cfg, &m, &tx))
                .map_err(|e| thread_error("recognition", e))?;
            recognizers.push(handle);
        }
        drop(reads_tx);
        let clock = config.clock;
        let recorder = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || record_loop(reads_rx, &engine, &metrics, clock))
            .map_err(|e| thread_error("recorder", e))?;
        Ok(Pipeline {
            stop,
            queues,
            recognizers,
            recorder: Some(recorder),
        })
    }

    /// Whether every camera's source has ended and its reads are stored.
    pub fn is_finished(&self) -> bool {
        self.recognizers.iter().all(JoinHandle::is_finished)
            && self.recorder.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops: sources are left (a blocked read cannot be interrupted; the
    /// process exits after this), each recognition thread finishes the
    /// frame in hand and flushes its tracker's open reads, and the recorder
    /// commits everything it was given. Returns the frames dropped unread.
    pub fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        let dropped: usize = self.queues.iter().map(|q| q.close()).sum();
        for h in self.recognizers.drain(..) {
            let _ = h.join();
        }
        if let Some(h) = self.recorder.take() {
            let _ = h.join();
        }
        dropped
    }
}

fn thread_error(what: &str, e: std::io::Error) -> CaptureError {
    CaptureError::Source {
        source_name: what.to_string(),
        message: format!("starting a thread: {e}"),
    }
}

/// Backoff between attempts to open a failed camera.
const REOPEN_MIN: Duration = Duration::from_secs(1);
const REOPEN_MAX: Duration = Duration::from_secs(30);

fn capture_loop(mut plan: CameraPlan, queue: &FrameQueue, stop: &AtomicBool, m: &CameraMetrics) {
    let mut backoff = REOPEN_MIN;
    'open: while !stop.load(Ordering::SeqCst) {
        let mut source = match (plan.open)() {
            Ok(s) => s,
            Err(e) => {
                m.set_connected(false);
                if !plan.reopen {
                    tracing::error!(camera = %plan.name, error = %e, "cannot open the source");
                    break;
                }
                tracing::warn!(camera = %plan.name, error = %e, retry_s = backoff.as_secs(), "cannot open the camera; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(REOPEN_MAX);
                continue;
            }
        };
        m.set_connected(true);
        let live = source.is_live();
        tracing::info!(camera = %plan.name, source = %source.describe(), live, "capturing");
        let mut failed = 0u64;
        loop {
            if stop.load(Ordering::SeqCst) {
                break 'open;
            }
            match source.next() {
                Ok(Some(frame)) => {
                    backoff = REOPEN_MIN;
                    m.frame_captured();
                    match queue.push(frame, live) {
                        Pushed::Queued => {}
                        Pushed::DroppedOldest => m.frame_dropped(),
                        Pushed::Closed => break 'open,
                    }
                    m.set_queue_depth(queue.depth());
                }
                Ok(None) => {
                    tracing::info!(camera = %plan.name, "the source ended");
                    m.set_connected(false);
                    break 'open;
                }
                Err(CaptureError::Frame { message, .. }) => {
                    m.frame_failed();
                    failed += 1;
                    // The first few, then one in a hundred: a broken stream
                    // must not flood the log.
                    if failed <= 3 || failed.is_multiple_of(100) {
                        tracing::warn!(camera = %plan.name, failed, "{message}");
                    }
                }
                Err(e) => {
                    m.set_connected(false);
                    if !plan.reopen {
                        tracing::error!(camera = %plan.name, error = %e, "the source failed");
                        break 'open;
                    }
                    tracing::warn!(camera = %plan.name, error = %e, retry_s = backoff.as_secs(), "the camera failed; reopening");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(REOPEN_MAX);
                    continue 'open;
                }
            }
        }
    }
    queue.finish();
}

fn recognize_loop(
    camera: &str,
    recognizer: Recognizer,
    queue: &FrameQueue,
    config: &PipelineConfig,
    m: &CameraMetrics,
    reads: &SyncSender<Pending>,
) {
    let mut tracker: Tracker<Shot> = Tracker::new(TrackConfig {
        gap_ms: i64::from(config.track_gap_ms),
        ..TrackConfig::default()
    });
    let send = |read: TrackedRead<Shot>| {
        let (location, fix) = (config.position)(read.at);
        match capture_of(&read, camera, location, fix) {
            Ok(capture) => {
                // Blocks when the recorder is behind: recognition then
                // slows, and a live source drops its oldest frames.
                let _ = reads.send(Pending {
                    camera: camera.to_string(),
                    at: read.at,
                    capture,
                });
            }
            Err(e) => tracing::warn!(camera, error = %e, "a read could not be made"),
        }
    };
    while let Some(frame) = queue.pop() {
        m.set_queue_depth(queue.depth());
        let started = Instant::now();
        let plates = match recognizer.recognize(&frame.image) {
            Ok(p) => p,
            Err(e) => {
                m.frame_failed();
                tracing::warn!(camera, error = %e, "recognition failed on a frame");
                continue;
            }
        };
        m.recognized(started.elapsed().as_secs_f64() * 1000.0, plates.len());
        let shot: Shot = Arc::new(frame.image);
        let sightings = plates.into_iter().map(|p| (p, Arc::clone(&shot))).collect();
        for read in tracker.observe(frame.at, sightings) {
            send(read);
        }
    }
    for read in tracker.finish() {
        send(read);
    }
}

/// Tries to store a batch; after a failure, the engine recovers its
/// storage and the batch is tried once more, so a transient I/O error
/// loses nothing.
fn record_loop(
    reads: Receiver<Pending>,
    engine: &Mutex<Engine>,
    metrics: &Metrics,
    clock: fn() -> Timestamp,
) {
    while let Ok(first) = reads.recv() {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH_MAX {
            match reads.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        // One engine call per camera: the audit event names the camera.
        let mut by_camera: Vec<(String, Vec<(Timestamp, Capture)>)> = Vec::new();
        for p in batch {
            match by_camera.iter_mut().find(|(c, _)| *c == p.camera) {
                Some((_, v)) => v.push((p.at, p.capture)),
                None => by_camera.push((p.camera, vec![(p.at, p.capture)])),
            }
        }
        for (camera, captures) in by_camera {
            store(engine, metrics, clock, &camera, captures);
        }
    }
}

fn store(
    engine: &Mutex<Engine>,
    metrics: &Metrics,
    clock: fn() -> Timestamp,
    camera: &str,
    captures: Vec<(Timestamp, Capture)>,
) {
    let source = CaptureSource::Camera(camera.to_string());
    let n = captures.len();
    for attempt in 0..2 {
        let mut e = engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match e.record(clock(), &source, captures.clone()) {
            Ok(recorded) => {
                drop(e);
                metrics.reads_stored(recorded.ids.len() as u64);
                metrics.alerts_raised(recorded.alerts);
                for id in &recorded.ids {
                    // The read's id only: plates are never written to the log.
                    tracing::info!(camera, read = %id, "stored read");
                }
                if recorded.alerts > 0 {
                    tracing::warn!(camera, alerts = recorded.alerts, "hotlist alert raised");
                }
                return;
            }
            Err(err) => {
                metrics.store_failed();
                let _ = e.recover_storage();
                drop(e);
                if attempt == 0 {
                    tracing::warn!(camera, reads = n, error = %err, "storing reads failed; trying once more");
                    std::thread::sleep(Duration::from_millis(500));
                } else {
                    tracing::error!(camera, reads = n, error = %err, "reads not stored");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(at: i64) -> Frame {
        Frame {
            image: image::RgbImage::new(1, 1),
            at: Timestamp(at),
        }
    }

    #[test]
    fn a_live_queue_drops_the_oldest_and_a_file_queue_waits() {
        let q = FrameQueue::new(2);
        assert_eq!(q.push(frame(1), true), Pushed::Queued);
        assert_eq!(q.push(frame(2), true), Pushed::Queued);
        assert_eq!(q.push(frame(3), true), Pushed::DroppedOldest);
        assert_eq!(q.pop().map(|f| f.at), Some(Timestamp(2)));
        let q = Arc::new(FrameQueue::new(1));
        q.push(frame(1), false);
        let q2 = Arc::clone(&q);
        let pusher = std::thread::spawn(move || q2.push(frame(2), false));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!pusher.is_finished(), "a file source waits for room");
        assert_eq!(q.pop().map(|f| f.at), Some(Timestamp(1)));
        assert_eq!(pusher.join().ok(), Some(Pushed::Queued));
        q.finish();
        assert_eq!(q.pop().map(|f| f.at), Some(Timestamp(2)));
        assert!(q.pop().is_none());
        let q = FrameQueue::new(4);
        q.push(frame(1), true);
        assert_eq!(q.close(), 1);
        assert_eq!(q.push(frame(2), true), Pushed::Closed);
    }
}
