//! End-to-end jobs built from the library's pieces.

mod demo;
mod features;

pub use demo::{DemoOptions, DemoReport, demo};
pub use features::{FeaturesJob, FeaturesReport, run_features};
