//! The console (`alpr-node console`): a terminal UI for officers,
//! supervisors, administrators and auditors, over a node's control socket.
//! Every decision stays the node's: the console only sends the typed
//! requests of `alpr_protocol::control` and shows what comes back.
//!
//! Model, update, view: [`app::App`] is the model; [`app::App::update`]
//! turns a message (a key, a response) into a new model and the requests
//! to send ([`app::Effect`]); [`view::draw`] only reads the model. The
//! driver ([`run`]) owns the terminal and the socket.

pub mod app;
pub mod client;
pub mod pictures;
pub mod view;

mod driver;

pub use driver::{ConsoleError, run};
