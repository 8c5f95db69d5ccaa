//! End-to-end jobs built from the library's pieces.

mod demo;
mod features;
mod run;

pub use demo::{DemoOptions, DemoReport, demo};
pub use features::{FeaturesJob, FeaturesReport, run_features};
pub use run::{BinningSection, Holdout, PipelineReport, PipelineSpec, run_pipeline};
