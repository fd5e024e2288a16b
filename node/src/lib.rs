//! The ALPR node's drivers: the command line, the control socket server,
//! the QUIC transport, frame replay and recognition, over the engine in
//! `alpr-engine` (re-exported here under its module names, so `store`,
//! `engine`, `policy`… read the same from every driver).
//!
//! The binary (`main.rs`) is a thin CLI over these modules. See
//! ARCHITECTURE.md for the codemap.

pub use alpr_engine::{
    agency, datadir, engine, events, hotlist, import, keyfile, matching, policy, recorder,
    schedule, search, store, verify,
};
/// Recognition and tracking, from `alpr-recognize`.
pub use alpr_recognize::{self as recognize, track};

pub mod capture;
pub mod cli;
pub mod config;
pub mod control;
pub mod evidence;
pub mod gps;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod replication;
