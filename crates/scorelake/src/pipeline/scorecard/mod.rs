//! The scorecard pipeline (`scorelake run pipeline.yaml`): from a panel to a
//! points scorecard in one file: features, encoders, validation, holdout,
//! binning, selection, compression, model, scaling, evaluation (training,
//! holdout and out-of-time samples), publishing; every
//! artifact written to one output folder.

mod report;
mod report_html;
mod run;
mod spec;
mod stability;
mod tracking;

pub use report::{Published, Sample, ScorecardPipelineReport, Tracking};
pub use run::run_scorecard_pipeline;
pub use spec::{BinningSection, Holdout, Publish, ScorecardPipeline, Validation};
pub use stability::BinStability;
