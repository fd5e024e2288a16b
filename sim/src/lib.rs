//! The simulator: deterministic worlds for tests, demos and fleet runs.
//!
//! `scene` renders camera frames of vehicles with plates of known text;
//! `terminal` draws a captured terminal screen as an image (the README's
//! console screenshots); `fleet` runs whole fleets of real engines on
//! simulated time and checks what must hold across them.

pub mod fleet;
pub mod scene;
pub mod terminal;
