//! `scorelake drift`: population stability between two tables, or between
//! the periods of one.

use crate::error::Result;
use crate::io::{self, ReadOptions};
use crate::quality::{self, DriftOptions, DriftReport};
use crate::session::Session;

/// What a drift job compares.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum DriftInputs {
    /// A baseline table and a current one.
    Tables {
        /// Baseline table URL.
        baseline: String,
        /// Current table URL.
        current: String,
    },
    /// One table split by period.
    Periods {
        /// Table URL.
        input: String,
        /// Its period column.
        period_column: String,
        /// Periods forming the baseline (as text: `2023-01-01`).
        baseline: Vec<String>,
        /// Periods forming the current side, compared as one set; when
        /// empty, each other period is compared on its own.
        current: Vec<String>,
    },
}

/// One drift run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DriftJob {
    /// The tables or periods compared.
    pub inputs: DriftInputs,
    /// Columns to compare (all numeric and text columns when `None`).
    pub columns: Option<Vec<String>>,
    /// Binning, floor, weight and categorical columns.
    pub options: DriftOptions,
    /// How the tables are read.
    pub read: ReadOptions,
}

impl DriftJob {
    /// Compares every column of `inputs` with the default options.
    pub fn new(inputs: DriftInputs) -> Self {
        DriftJob {
            inputs,
            columns: None,
            options: DriftOptions::default(),
            read: ReadOptions::default(),
        }
    }
}

/// Runs `job`: read the tables and measure each column's stability.
///
/// ```no_run
/// use scorelake::pipeline::{DriftInputs, DriftJob, run_drift};
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let inputs = DriftInputs::Tables {
///     baseline: "train.parquet".into(),
///     current: "oot.parquet".into(),
/// };
/// let report = run_drift(session, &DriftJob::new(inputs)).await?;
/// println!("{}", report.to_markdown(false));
/// # Ok(())
/// # }
/// ```
pub async fn run_drift(session: &Session, job: &DriftJob) -> Result<DriftReport> {
    let mut options = job.options.clone();
    options.roles = session.config().roles_with(&options.roles);
    let (columns, options) = (job.columns.as_deref(), &options);
    match &job.inputs {
        DriftInputs::Tables { baseline, current } => {
            let base = io::read(session, baseline, &job.read).await?;
            let now = io::read(session, current, &job.read).await?;
            quality::drift(&base, &now, columns, options).await
        }
        DriftInputs::Periods {
            input,
            period_column,
            baseline,
            current,
        } => {
            let df = io::read(session, input, &job.read).await?;
            if current.is_empty() {
                quality::drift_by_period(&df, period_column, baseline, columns, options).await
            } else {
                quality::drift_between_periods(
                    &df,
                    period_column,
                    baseline,
                    current,
                    columns,
                    options,
                )
                .await
            }
        }
    }
}
