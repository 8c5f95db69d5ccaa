//! End-to-end jobs built from the library's pieces.

mod demo;
mod features;
mod scorecard;

pub use demo::{DemoOptions, DemoReport, demo};
pub use features::{FeaturesJob, FeaturesReport, run_features};
pub use scorecard::{
    BinningSection, Holdout, Publish, Published, ScorecardPipeline, ScorecardPipelineReport,
    Validation, run_scorecard_pipeline,
};
