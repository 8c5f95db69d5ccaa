//! `scorelake compress`: variables binned against a target, the rows
//! compressed into weighted unique rows and written.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::Result;
use crate::io::{self, ReadOptions, WriteOptions, WriteSummary};
use crate::scorecard::{
    self, BinMethod, Binning, BinningSpec, CompressionReport, Settings, VariableSpec,
};
use crate::session::Session;

/// How a compress job bins its variables.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BinningSource {
    /// A binning spec file (YAML, TOML or JSON).
    File(PathBuf),
    /// The same settings for every column.
    Columns {
        /// The 0/1 target.
        target: String,
        /// The variables to bin.
        columns: Vec<String>,
        /// How numeric variables are binned.
        method: BinMethod,
        /// Bins for quantile and equal-width binning.
        bins: usize,
        /// Non-negative row weight column.
        weight: Option<String>,
    },
}

impl BinningSource {
    /// The binning spec this source describes (read from its file if it has one).
    pub fn spec(&self) -> Result<BinningSpec> {
        Ok(match self {
            BinningSource::File(path) => BinningSpec::from_path(path)?,
            BinningSource::Columns {
                target,
                columns,
                method,
                bins,
                weight,
            } => BinningSpec {
                target: target.clone(),
                weight: weight.clone(),
                defaults: Settings {
                    method: Some(*method),
                    bins: Some(*bins),
                    ..Settings::default()
                },
                variables: columns
                    .iter()
                    .map(|c| VariableSpec {
                        column: c.clone(),
                        settings: Settings::default(),
                    })
                    .collect(),
            },
        })
    }
}

/// One compress run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CompressJob {
    /// Input table URL.
    pub input: String,
    /// Output table URL.
    pub output: String,
    /// How the variables are binned.
    pub binning: BinningSource,
    /// Columns kept as they are, as part of each unique row.
    pub segments: Vec<String>,
    /// Add each variable's WoE column.
    pub woe: bool,
    /// Save the fitted binning here (JSON).
    pub binning_out: Option<PathBuf>,
    /// How the input is read.
    pub read: ReadOptions,
    /// How the output is written.
    pub write: WriteOptions,
}

impl CompressJob {
    /// Compresses `input` into `output` binned by `binning`, without
    /// segments or WoE columns, with default read and write options.
    pub fn new(
        input: impl Into<String>,
        output: impl Into<String>,
        binning: BinningSource,
    ) -> Self {
        CompressJob {
            input: input.into(),
            output: output.into(),
            binning,
            segments: Vec::new(),
            woe: false,
            binning_out: None,
            read: ReadOptions::default(),
            write: WriteOptions::default(),
        }
    }
}

/// What a compress run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CompressReport {
    /// The fitted binning.
    pub binning: Binning,
    /// Rows, weights and sizes before and after.
    pub compression: CompressionReport,
    /// The write.
    pub written: WriteSummary,
    /// Seconds from start to the output being committed.
    pub seconds: f64,
}

/// Runs `job`: build the binning spec, fit it on the input (saving it when
/// asked), compress the input and write it.
///
/// ```no_run
/// use scorelake::pipeline::{BinningSource, CompressJob, run_compress};
/// use scorelake::scorecard::BinMethod;
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let binning = BinningSource::Columns {
///     target: "default_flag".into(),
///     columns: vec!["balance".into(), "utilization".into()],
///     method: BinMethod::Quantile,
///     bins: 10,
///     weight: None,
/// };
/// let mut job = CompressJob::new("panel.parquet", "compressed.parquet", binning);
/// job.segments = vec!["product".into()];
/// let report = run_compress(session, &job).await?;
/// println!("{:.1}× fewer rows", report.compression.ratio);
/// # Ok(())
/// # }
/// ```
pub async fn run_compress(session: &Session, job: &CompressJob) -> Result<CompressReport> {
    let started = Instant::now();
    let spec = job.binning.spec()?;
    let df = io::read(session, &job.input, &job.read).await?;
    let (binning, compressed, compression) =
        scorecard::fit_and_compress(&df, &spec, &job.segments, job.woe).await?;
    if let Some(path) = &job.binning_out {
        binning.save(path)?;
    }
    let written = io::write(session, compressed, &job.output, &job.write).await?;
    Ok(CompressReport {
        binning,
        compression,
        written,
        seconds: started.elapsed().as_secs_f64(),
    })
}
