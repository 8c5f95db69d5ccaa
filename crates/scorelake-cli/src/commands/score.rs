//! `scorelake score`: a table scored through the library's score job.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::pipeline::{self, ScoreJob};
use scorelake::session::Session;

use crate::args::ScoreArgs;
use crate::options::{read_options, write_options};
use crate::output::{count, outln};
use scorelake::console::Progress;

/// Scores `args.input`; prints what was written.
pub(crate) async fn score(
    session: &Session,
    progress: Progress,
    args: ScoreArgs,
) -> Result<ExitCode> {
    let mut job = ScoreJob::new(args.scorecard, args.input, args.output);
    job.columns.score = args.score_column;
    job.columns.pd = (!args.no_pd).then_some(args.pd_column);
    job.columns.points = args.points;
    job.columns.reasons = args.reasons;
    job.read = read_options(&args.read)?;
    job.write = write_options(&args.write, Some(&args.read))?;
    let report = progress
        .during(
            &format!("scoring {} → {}", job.input, job.output),
            pipeline::run_score(session, &job),
        )
        .await?;
    outln!(
        "scored {} with {} into {} (column `{}`) in {:.2}s",
        count(report.written.rows, "row"),
        count(report.variables as u64, "variable"),
        report.written.location,
        job.columns.score,
        report.seconds
    )?;
    Ok(ExitCode::SUCCESS)
}
