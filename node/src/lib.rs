//! The ALPR node's engine: keys and data directory, store, recording, search, verification.
//!
//! The binary (`main.rs`) is a thin CLI over these modules; the console and
//! the simulator use the same engine. See ARCHITECTURE.md for the codemap.

pub mod agency;
pub mod cli;
pub mod control;
pub mod datadir;
pub mod engine;
pub mod evidence;
pub mod hotlist;
pub mod import;
pub mod keyfile;
pub mod policy;
pub mod recognize;
pub mod recorder;
pub mod replay;
pub mod replication;
pub mod search;
pub mod store;
pub mod track;
pub mod verify;
