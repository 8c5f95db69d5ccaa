//! `scorelake validate`: a table's columns checked against thresholds.

use crate::error::{Result, ensure};
use crate::io::{self, ReadOptions};
use crate::quality::{self, ValidateOptions, ValidationReport};
use crate::session::Session;

/// One validation run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ValidateJob {
    /// Input table URL.
    pub input: String,
    /// How the input is read.
    pub read: ReadOptions,
    /// Columns, thresholds, weight and precision of the checks.
    pub options: ValidateOptions,
}

impl ValidateJob {
    /// Validates every column of `input` against the default thresholds.
    pub fn new(input: impl Into<String>) -> Self {
        ValidateJob {
            input: input.into(),
            ..ValidateJob::default()
        }
    }
}

/// Runs `job`: read the input and validate its columns.
///
/// ```no_run
/// use scorelake::pipeline::{ValidateJob, run_validate};
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let report = run_validate(session, &ValidateJob::new("features.parquet")).await?;
/// println!("{}", report.to_markdown());
/// # Ok(())
/// # }
/// ```
pub async fn run_validate(session: &Session, job: &ValidateJob) -> Result<ValidationReport> {
    let df = io::read(session, &job.input, &job.read).await?;
    ensure!(
        !df.schema().fields().is_empty(),
        "`{}` has no columns (an empty file?): nothing to validate",
        job.input
    );
    let mut options = job.options.clone();
    options.roles = session.config().roles_with(&options.roles);
    quality::validate(&df, &options).await
}
