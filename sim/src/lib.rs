//! The simulator: deterministic worlds for tests, demos and fleet runs.
//!
//! `scene` renders camera frames of vehicles with plates of known text;
//! `terminal` draws a captured terminal screen as an image (the README's
//! console screenshots).

pub mod scene;
pub mod terminal;
