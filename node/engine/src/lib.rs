//! The ALPR node's engine: everything that decides, as one library every
//! driver shares (the CLI, the control socket, the QUIC transport, the
//! daemon, the console and the simulator).
//!
//! It holds no transport, async runtime, neural models, argument parser
//! or progress bars: `scripts/check` asserts that `cargo tree -p
//! alpr-engine -e normal` lists none of tokio, quinn, rustls, rten, clap or
//! indicatif. Time comes in as a `Timestamp` argument and randomness as a
//! seed or a generator. See ARCHITECTURE.md for the codemap.

pub mod agency;
pub mod datadir;
pub mod engine;
pub mod events;
pub mod evidence;
/// Fuzz target bodies and their seeds, for `fuzz/` and the corpus replay test.
#[doc(hidden)]
pub mod fuzzing;
pub mod hotlist;
pub mod import;
pub mod keyfile;
pub mod matching;
pub mod policy;
pub mod recorder;
pub mod schedule;
pub mod search;
pub mod store;
pub mod verify;
