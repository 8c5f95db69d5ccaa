//! What a front end (the command line, the Python package) shows on
//! stderr: progress ([`Progress`]: bars on a terminal, plain lines in logs)
//! and logs with the configured credentials masked ([`logging`]).

pub mod logging;
mod meter;
mod progress;

pub use progress::{Progress, Stage};
