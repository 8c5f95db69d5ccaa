//! `scorelake run`: a scorecard pipeline file.

use std::process::ExitCode;

use anyhow::{Context, Result};
use scorelake::pipeline::{self, ScorecardPipeline, Tracking};
use scorelake::session::Session;

use crate::args::RunArgs;
use crate::output::outln;
use scorelake::console::Progress;

/// Runs the pipeline file `args.pipeline`; prints its report.
pub(crate) async fn run(session: &Session, progress: Progress, args: RunArgs) -> Result<ExitCode> {
    let mut spec = ScorecardPipeline::from_path(&args.pipeline)?;
    if let Some(out) = args.output {
        spec.output = out;
    }
    let report = progress
        .during(
            &format!("pipeline {}", args.pipeline.display()),
            pipeline::run_scorecard_pipeline(session, &spec),
        )
        .await
        .with_context(|| format!("pipeline {} failed", args.pipeline.display()))?;
    outln!("{report}")?;
    outln!("artifacts in {}", report.output.display())?;
    match &report.tracking {
        Some(Tracking::Logged(l)) => outln!(
            "logged to MLflow: run {} ({} artifacts), {}",
            l.run_id,
            l.artifacts,
            l.page
        )?,
        // Said once; the pipeline's result stands.
        Some(Tracking::Failed(e)) => eprintln!("warning: not logged to MLflow: {e}"),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}
