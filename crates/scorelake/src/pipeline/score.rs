//! `scorelake score`: a table scored with a saved scorecard.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::Result;
use crate::io::{self, ReadOptions, WriteOptions, WriteSummary};
use crate::scorecard::{ScoreColumns, Scorecard};
use crate::session::Session;

/// One scoring run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScoreJob {
    /// Scorecard file (`scorecard.json` from a pipeline run).
    pub scorecard: PathBuf,
    /// Input table URL.
    pub input: String,
    /// Output table URL.
    pub output: String,
    /// The columns added: score, PD, points, reason codes.
    pub columns: ScoreColumns,
    /// How the input is read.
    pub read: ReadOptions,
    /// How the output is written.
    pub write: WriteOptions,
}

impl ScoreJob {
    /// Scores `input` into `output` with the scorecard file `scorecard`,
    /// adding `score` and `pd`, with default read and write options.
    pub fn new(
        scorecard: impl Into<PathBuf>,
        input: impl Into<String>,
        output: impl Into<String>,
    ) -> Self {
        ScoreJob {
            scorecard: scorecard.into(),
            input: input.into(),
            output: output.into(),
            columns: ScoreColumns::default(),
            read: ReadOptions::default(),
            write: WriteOptions::default(),
        }
    }
}

/// What a scoring run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScoreReport {
    /// Variables of the scorecard.
    pub variables: usize,
    /// The write.
    pub written: WriteSummary,
    /// Seconds from start to the output being committed.
    pub seconds: f64,
}

/// Runs `job`: load the scorecard, score the input and write it.
///
/// ```no_run
/// use scorelake::pipeline::{ScoreJob, run_score};
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let job = ScoreJob::new("out/scorecard.json", "new.parquet", "scored.parquet");
/// let report = run_score(session, &job).await?;
/// println!("scored {} rows", report.written.rows);
/// # Ok(())
/// # }
/// ```
pub async fn run_score(session: &Session, job: &ScoreJob) -> Result<ScoreReport> {
    let started = Instant::now();
    let card = Scorecard::load(&job.scorecard)?;
    let df = io::read(session, &job.input, &job.read).await?;
    let scored = card.score_with(df, &job.columns)?;
    let written = io::write(session, scored, &job.output, &job.write).await?;
    Ok(ScoreReport {
        variables: card.variables.len(),
        written,
        seconds: started.elapsed().as_secs_f64(),
    })
}
