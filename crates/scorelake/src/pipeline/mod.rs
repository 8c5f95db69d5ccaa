//! End-to-end jobs built from the library's pieces: one per command, each a
//! plain options struct in and a report out, shared by the command line and
//! any other front end.

mod compress;
mod demo;
mod drift;
mod encode;
mod features;
pub mod history;
mod score;
mod scorecard;
mod validate;

pub use compress::{BinningSource, CompressJob, CompressReport, run_compress};
pub use demo::{DemoOptions, DemoReport, demo};
pub use drift::{DriftInputs, DriftJob, run_drift};
pub use encode::{EncodeJob, EncodeMappings, EncodeReport, run_encode};
pub use features::{FeaturesJob, FeaturesReport, run_features};
pub use score::{ScoreJob, ScoreReport, run_score};
pub use scorecard::{
    BinStability, BinningSection, Holdout, Publish, Published, Sample, ScorecardPipeline,
    ScorecardPipelineReport, Tracking, Validation, run_scorecard_pipeline,
};
pub use validate::{ValidateJob, run_validate};
