//! The simulator: deterministic worlds for tests, demos and fleet runs.
//!
//! `scene` renders camera frames of vehicles with plates of known text.

pub mod scene;
