//! Bounded line framing for the GPS feeds: bytes in, lines out, never more
//! than a set length held.
//!
//! A receiver or server that stops sending newlines must not grow a
//! buffer without end: a line past the limit is reported once as too long
//! and the rest of it, up to the next newline, is dropped.

/// A line that could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The line ran past the limit without a newline.
    #[error("line longer than {max_bytes} bytes")]
    TooLong { max_bytes: usize },
}

/// Splits a byte stream on `\n` into lines of at most `max_bytes` (the
/// `\n` not counted; a `\r` before it is stripped).
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max_bytes: usize,
    /// Inside a line already reported too long: drop bytes to its newline.
    discarding: bool,
}

impl LineSplitter {
    pub fn new(max_bytes: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            max_bytes,
            discarding: false,
        }
    }

    /// Feeds `bytes`; calls `on_line` for each whole line (or framing
    /// error) in order. A partial line is kept for the next call.
    pub fn push(&mut self, bytes: &[u8], mut on_line: impl FnMut(Result<&[u8], FrameError>)) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (chunk, ended) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            rest = if ended { &rest[chunk.len() + 1..] } else { &[] };
            if !self.discarding {
                // A `\r` is allowed one byte past the limit: the limit is
                // on the line, not on its terminator.
                let room = self.max_bytes + 1 - self.buf.len();
                if chunk.len() > room {
                    self.buf.clear();
                    self.discarding = true;
                    on_line(Err(FrameError::TooLong {
                        max_bytes: self.max_bytes,
                    }));
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            if ended {
                if !self.discarding {
                    self.emit(&mut on_line);
                }
                self.buf.clear();
                self.discarding = false;
            }
        }
    }

    /// The end of the stream: a last line without a newline is still a line.
    pub fn finish(&mut self, mut on_line: impl FnMut(Result<&[u8], FrameError>)) {
        if !self.discarding && !self.buf.is_empty() {
            self.emit(&mut on_line);
        }
        self.buf.clear();
        self.discarding = false;
    }

    fn emit(&self, on_line: &mut impl FnMut(Result<&[u8], FrameError>)) {
        let line = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
        if line.len() > self.max_bytes {
            on_line(Err(FrameError::TooLong {
                max_bytes: self.max_bytes,
            }));
        } else {
            on_line(Ok(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| out.push(l.map(<[u8]>::to_vec)));
        }
        s.finish(|l| out.push(l.map(<[u8]>::to_vec)));
        out
    }

    #[test]
    fn lines_across_chunks_with_crlf() {
        let out = split(10, &[b"ab", b"c\r\nde\n\nf", b"g"]);
        assert_eq!(
            out,
            vec![
                Ok(b"abc".to_vec()),
                Ok(b"de".to_vec()),
                Ok(Vec::new()),
                Ok(b"fg".to_vec())
            ]
        );
    }

    #[test]
    fn a_long_line_is_reported_once_and_dropped_to_its_newline() {
        let long = [b'x'; 25];
        let out = split(10, &[&long[..7], &long[7..], b"\nok\n"]);
        assert_eq!(
            out,
            vec![
                Err(FrameError::TooLong { max_bytes: 10 }),
                Ok(b"ok".to_vec())
            ]
        );
    }

    #[test]
    fn exactly_the_limit_fits_with_or_without_cr() {
        let out = split(3, &[b"abc\r\nabc\nabcd\n"]);
        assert_eq!(
            out,
            vec![
                Ok(b"abc".to_vec()),
                Ok(b"abc".to_vec()),
                Err(FrameError::TooLong { max_bytes: 3 })
            ]
        );
    }

    #[test]
    fn a_line_that_never_ends_holds_no_more_than_the_limit() {
        let mut s = LineSplitter::new(8);
        let mut errors = 0;
        for _ in 0..1000 {
            s.push(&[b'y'; 100], |l| {
                assert!(l.is_err());
                errors += 1;
            });
            assert!(s.buf.len() <= 9);
        }
        assert_eq!(errors, 1);
    }
}
