//! The scorecard pipeline (`scorelake run pipeline.yaml`): from a panel to a
//! points scorecard in one file: features, encoders, validation, holdout,
//! binning, compression, model, scaling, evaluation, publishing; every
//! artifact written to one output folder.

mod report;
mod run;
mod spec;

pub use report::{Published, ScorecardPipelineReport};
pub use run::run_scorecard_pipeline;
pub use spec::{BinningSection, Holdout, Publish, ScorecardPipeline, Validation};
