//! The control socket, client side: one length-prefixed postcard frame
//! per request and per response (`alpr_protocol::control`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use alpr_protocol::control::{
    ControlRequest, ControlResponse, FrameError, decode_frame, encode_frame, frame_len,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no node daemon answers at {path}: {source} (start it with `alpr-node run` or `serve`)"
    )]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("the node's control socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("the node's control socket: {0}")]
    Frame(#[from] FrameError),
    #[error("the node closed the connection")]
    Closed,
}

/// One connection to a daemon.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
}

/// How long a request may take before the console says the node is not answering.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

impl Client {
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
            path: socket.display().to_string(),
            source,
        })?;
        stream.set_read_timeout(Some(ANSWER_WITHIN))?;
        stream.set_write_timeout(Some(ANSWER_WITHIN))?;
        Ok(Client { stream })
    }

    /// A live view waits for events; the node sends a heartbeat every 10 s,
    /// so 30 s of silence means it is gone.
    pub fn live_timeout(&self) -> Result<(), ClientError> {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(())
    }

    /// The same connection, for closing it from another thread.
    pub fn stream_clone(&self) -> Result<UnixStream, ClientError> {
        Ok(self.stream.try_clone()?)
    }

    /// Sends a request and returns its answer; progress frames before it
    /// are passed over.
    pub fn call(&mut self, request: &ControlRequest) -> Result<ControlResponse, ClientError> {
        self.call_watching(request, |_, _, _| {})
    }

    /// [`Client::call`], showing each progress frame to `progress`.
    pub fn call_watching(
        &mut self,
        request: &ControlRequest,
        mut progress: impl FnMut(String, u64, Option<u64>),
    ) -> Result<ControlResponse, ClientError> {
        self.stream.write_all(&encode_frame(request)?)?;
        loop {
            match self.next_frame()? {
                ControlResponse::Progress { what, done, total } => progress(what, done, total),
                answer => return Ok(answer),
            }
        }
    }

    /// The next frame the node sends (a live view's events).
    pub fn next_frame(&mut self) -> Result<ControlResponse, ClientError> {
        let mut prefix = [0u8; 4];
        match self.stream.read_exact(&mut prefix) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(ClientError::Closed);
            }
            Err(e) => return Err(e.into()),
        }
        let mut body = vec![0u8; frame_len(prefix)?];
        self.stream.read_exact(&mut body)?;
        Ok(decode_frame(&body)?)
    }
}
