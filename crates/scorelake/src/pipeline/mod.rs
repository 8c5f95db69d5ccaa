//! End-to-end jobs built from the library's pieces.

mod demo;

pub use demo::{DemoOptions, DemoReport, demo};
