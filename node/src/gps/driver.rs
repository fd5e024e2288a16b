//! The reader threads: a gpsd client over TCP and an NMEA reader of a
//! serial device (or a plain file). The only I/O of the position feed;
//! parsing and the history are the sans-IO modules beside this one.
//!
//! Both wake at least every [`POLL_INTERVAL`] to see whether `Position`
//! asked them to stop, and retry a lost source with a backoff from
//! [`RECONNECT_MIN`] doubling to [`RECONNECT_MAX`].

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::OFlags;
use rustix::termios::{self, ControlModes, OptionalActions, QueueSelector};

use alpr_protocol::Timestamp;

use super::gpsd::{GPSD_LINE_BYTES_MAX, GpsdParser, WATCH};
use super::lines::LineSplitter;
use super::nmea::{NMEA_LINE_BYTES_MAX, NmeaParser};
use super::{LineError, Shared, Update, lock};

/// How often a blocked reader looks up to see whether it should stop.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// A gpsd that does not accept within this long is retried later.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const RECONNECT_MIN: Duration = Duration::from_secs(1);
pub const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// The rates GPS receivers are set to; anything else is a typo.
pub const STANDARD_BAUDS: &[u32] = &[
    1200, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600,
];
pub const STANDARD_BAUDS_TEXT: &str =
    "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600";

/// What a reader thread is given.
#[derive(Debug)]
pub struct Ctx {
    shared: Arc<Mutex<Shared>>,
    stop: Receiver<()>,
    clock: fn() -> Timestamp,
}

/// Why a session with the source ended.
#[derive(Debug)]
enum End {
    /// `Position` asked to stop.
    Stopped,
    /// A plain file reached its end: nothing more will come.
    Eof,
    /// Lost: retry after the backoff.
    Lost(String),
}

impl Ctx {
    pub fn new(shared: Arc<Mutex<Shared>>, stop: Receiver<()>, clock: fn() -> Timestamp) -> Self {
        Ctx {
            shared,
            stop,
            clock,
        }
    }

    /// The sender is dropped when `Position` stops.
    fn stopped(&self) -> bool {
        !matches!(self.stop.try_recv(), Err(TryRecvError::Empty))
    }

    /// Waits `d` unless told to stop first; true if told to stop.
    fn wait(&self, d: Duration) -> bool {
        !matches!(self.stop.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        f(&mut lock(&self.shared))
    }

    /// Frames `bytes` and files each line as parsed by `parse`, all
    /// stamped with one receive time.
    fn feed(
        &self,
        lines: &mut LineSplitter,
        bytes: &[u8],
        mut parse: impl FnMut(&[u8], Timestamp) -> Result<Option<Update>, LineError>,
    ) {
        let now = (self.clock)();
        self.with(|s| {
            lines.push(bytes, |line| {
                s.line(line.map_err(LineError::from).and_then(|l| parse(l, now)));
            });
        });
    }

    fn finish(
        &self,
        lines: &mut LineSplitter,
        mut parse: impl FnMut(&[u8], Timestamp) -> Result<Option<Update>, LineError>,
    ) {
        let now = (self.clock)();
        self.with(|s| {
            lines.finish(|line| {
                s.line(line.map_err(LineError::from).and_then(|l| parse(l, now)));
            });
        });
    }

    fn connected(&self) {
        self.with(|s| {
            s.status.connected = true;
            s.status.connects += 1;
        });
    }

    fn lost(&self, why: Option<String>) {
        self.with(|s| {
            s.status.connected = false;
            if let Some(why) = why {
                s.status.last_error = Some(why);
            }
        });
    }
}

/// The delay before the next attempt: doubling from the minimum to the
/// maximum, back to the minimum once a connection is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: RECONNECT_MIN,
        }
    }
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(RECONNECT_MAX);
        d
    }

    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// The gpsd client: connect, ask for JSON, read reports; reconnect when
/// the server goes away.
pub fn run_gpsd(ctx: &Ctx, address: &str) {
    let mut backoff = Backoff::default();
    loop {
        if ctx.stopped() {
            return;
        }
        match connect(address) {
            Ok(stream) => {
                backoff.reset();
                ctx.connected();
                match gpsd_session(ctx, stream) {
                    End::Stopped => {
                        ctx.lost(None);
                        return;
                    }
                    // A socket has no end of file but a closed connection.
                    End::Eof => ctx.lost(Some(format!("gpsd at {address} closed the connection"))),
                    End::Lost(why) => ctx.lost(Some(format!("gpsd at {address}: {why}"))),
                }
            }
            Err(e) => ctx.lost(Some(format!("connect to gpsd at {address}: {e}"))),
        }
        if ctx.wait(backoff.next_delay()) {
            return;
        }
    }
}

fn connect(address: &str) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "resolves to no address")))
}

fn gpsd_session(ctx: &Ctx, mut stream: TcpStream) -> End {
    if let Err(e) = stream
        .set_read_timeout(Some(POLL_INTERVAL))
        .and_then(|()| stream.write_all(WATCH))
    {
        return End::Lost(e.to_string());
    }
    let mut parser = GpsdParser::new();
    let mut lines = LineSplitter::new(GPSD_LINE_BYTES_MAX);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if ctx.stopped() {
            return End::Stopped;
        }
        match stream.read(&mut buf) {
            Ok(0) => return End::Eof,
            Ok(n) => ctx.feed(&mut lines, &buf[..n], |l, t| parser.line(l, t)),
            Err(e) if is_transient(&e) => {}
            Err(e) => return End::Lost(e.to_string()),
        }
    }
}

/// The NMEA reader of a serial device: open, set the line (raw, the baud
/// rate) if it is a tty, read sentences; reopen when the device goes away
/// (a USB receiver unplugged). A plain file is read to its end, once.
pub fn run_serial(ctx: &Ctx, device: &Path, baud: u32) {
    let mut backoff = Backoff::default();
    loop {
        if ctx.stopped() {
            return;
        }
        match open_serial(device, baud) {
            Ok((file, tty)) => {
                backoff.reset();
                ctx.connected();
                match serial_session(ctx, &file, tty) {
                    End::Stopped => {
                        ctx.lost(None);
                        return;
                    }
                    End::Eof => {
                        ctx.lost(None);
                        ctx.with(|s| s.status.ended = true);
                        return;
                    }
                    End::Lost(why) => ctx.lost(Some(format!("{}: {why}", device.display()))),
                }
            }
            Err(why) => ctx.lost(Some(why)),
        }
        if ctx.wait(backoff.next_delay()) {
            return;
        }
    }
}

fn open_serial(device: &Path, baud: u32) -> Result<(File, bool), String> {
    // Not the controlling terminal; and not blocking on a modem line that
    // never raises carrier.
    let flags = (OFlags::NOCTTY | OFlags::NONBLOCK).bits();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags as i32)
        .open(device)
        .map_err(|e| format!("open {}: {e}", device.display()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{} is a directory", device.display()));
    }
    let tty = termios::isatty(&file);
    if tty {
        set_line(&file, baud)
            .map_err(|e| format!("set {} to {baud} baud, raw: {e}", device.display()))?;
    }
    Ok((file, tty))
}

/// Raw 8N1 at `baud`, receiver on, modem lines ignored; stale input from
/// before the open dropped.
fn set_line(file: &File, baud: u32) -> io::Result<()> {
    let mut t = termios::tcgetattr(file)?;
    t.make_raw();
    t.control_modes |= ControlModes::CLOCAL | ControlModes::CREAD;
    t.set_speed(baud)?;
    termios::tcsetattr(file, OptionalActions::Now, &t)?;
    termios::tcflush(file, QueueSelector::IFlush)?;
    Ok(())
}

fn serial_session(ctx: &Ctx, file: &File, tty: bool) -> End {
    let mut parser = NmeaParser::new();
    let mut lines = LineSplitter::new(NMEA_LINE_BYTES_MAX);
    let mut buf = vec![0u8; 4096];
    let timeout = Timespec::try_from(POLL_INTERVAL).unwrap_or(Timespec {
        tv_sec: 0,
        tv_nsec: 200_000_000,
    });
    loop {
        if ctx.stopped() {
            return End::Stopped;
        }
        let mut fds = [PollFd::new(file, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => {}
            Err(e) => return End::Lost(format!("poll: {e}")),
        }
        let mut reader = file;
        match reader.read(&mut buf) {
            // A tty reads nothing after poll said readable: it hung up.
            Ok(0) if tty => return End::Lost("hung up".into()),
            Ok(0) => {
                ctx.finish(&mut lines, |l, t| parser.line(l, t));
                return End::Eof;
            }
            Ok(n) => ctx.feed(&mut lines, &buf[..n], |l, t| parser.line(l, t)),
            Err(e) if is_transient(&e) => {}
            Err(e) => return End::Lost(e.to_string()),
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        b.reset();
        assert_eq!(b.next_delay(), RECONNECT_MIN);
    }

    #[test]
    fn standard_bauds_text_lists_the_rates() {
        let listed: Vec<u32> = STANDARD_BAUDS_TEXT
            .split(", ")
            .map(|b| b.parse().expect("a number"))
            .collect();
        assert_eq!(listed, STANDARD_BAUDS);
    }
}
