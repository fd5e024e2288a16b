//! Frame sources: where `alpr-node run` gets frames. Each source runs on
//! its own thread and hands frames to recognition through a bounded queue
//! (`pipeline`); a source never waits on recognition unless it is a file
//! read as fast as recognition takes it.

pub mod camera;
pub mod files;
pub mod mjpeg;

use alpr_protocol::Timestamp;
use image::RgbImage;

/// One frame and when it was taken.
#[derive(Debug)]
pub struct Frame {
    pub image: RgbImage,
    /// From the source when it has a time (a camera's timestamp, a file's
    /// modification time), else when the frame was read.
    pub at: Timestamp,
}

/// A capture failure, naming the source.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The source cannot be opened or read: named, with the cause.
    #[error("{source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },
    /// One frame that cannot be used (not an image, cut short): the source
    /// goes on with the next.
    #[error("{source_name}: {message}")]
    Frame {
        source_name: String,
        message: String,
    },
    /// This build has no camera support.
    #[error(
        "camera '{0}': this build has no camera support (build alpr-node with `--features camera`)"
    )]
    NoCameraSupport(String),
}

/// A source of frames. `next` blocks until a frame is there; `Ok(None)`
/// ends the source (a folder done, a stream closed). A frame that cannot
/// be decoded is reported by `next` returning an error, and the source
/// goes on at the next call (the driver counts it and logs it once per
/// kind); `is_live` tells the driver whether to drop the oldest waiting
/// frame when recognition falls behind (cameras, streams, paced files) or
/// to wait (files read as fast as recognition takes them).
pub trait FrameSource: Send {
    fn next(&mut self) -> Result<Option<Frame>, CaptureError>;
    fn is_live(&self) -> bool;
    /// What the source is, for logs and status (`/dev/video0 1280x720 mjpeg`).
    fn describe(&self) -> String;
}
