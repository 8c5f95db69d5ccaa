//! `scorelake encode`: categorical encoders fitted on one table (or loaded
//! from an earlier fit) and applied to another.

use std::path::PathBuf;
use std::time::Instant;

use crate::encoding::{self, EncoderSpec, Mappings};
use crate::error::Result;
use crate::io::{self, ReadOptions, WriteOptions, WriteSummary};
use crate::session::Session;

/// Where an encode job's mappings come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum EncodeMappings {
    /// Fit the encoders of a spec file on a table.
    Fit {
        /// Encoder spec (YAML, TOML or JSON).
        spec: PathBuf,
        /// URL of the table the mappings are fitted on.
        on: String,
        /// Save the fitted mappings here (JSON).
        save: Option<PathBuf>,
    },
    /// Apply mappings saved by an earlier fit.
    Apply(PathBuf),
}

/// One encode run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EncodeJob {
    /// Fitted here or loaded.
    pub mappings: EncodeMappings,
    /// Table to encode.
    pub input: String,
    /// Output table URL.
    pub output: String,
    /// The input is the fitting data: cross-fitted target encoders give
    /// each row the value learned without its fold.
    pub out_of_fold: bool,
    /// How the tables are read.
    pub read: ReadOptions,
    /// How the output is written.
    pub write: WriteOptions,
}

impl EncodeJob {
    /// Encodes `input` into `output` with `mappings`, in-fold, with default
    /// read and write options.
    pub fn new(
        mappings: EncodeMappings,
        input: impl Into<String>,
        output: impl Into<String>,
    ) -> Self {
        EncodeJob {
            mappings,
            input: input.into(),
            output: output.into(),
            out_of_fold: false,
            read: ReadOptions::default(),
            write: WriteOptions::default(),
        }
    }
}

/// What an encode run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EncodeReport {
    /// The mappings applied.
    pub mappings: Mappings,
    /// The write.
    pub written: WriteSummary,
    /// Seconds from start to the output being committed.
    pub seconds: f64,
}

/// Runs `job`: fit the mappings (saving them when asked) or load them, then
/// encode the input, in-fold or out-of-fold, and write it.
///
/// ```no_run
/// use scorelake::pipeline::{EncodeJob, EncodeMappings, run_encode};
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let fit = EncodeMappings::Fit {
///     spec: "encoders.yaml".into(),
///     on: "train.parquet".into(),
///     save: Some("mappings.json".into()),
/// };
/// let report = run_encode(session, &EncodeJob::new(fit, "test.parquet", "test_encoded.parquet")).await?;
/// println!("{} encoded columns", report.mappings.encoders.len());
/// # Ok(())
/// # }
/// ```
pub async fn run_encode(session: &Session, job: &EncodeJob) -> Result<EncodeReport> {
    let started = Instant::now();
    let mappings = match &job.mappings {
        EncodeMappings::Apply(path) => Mappings::load(path)?,
        EncodeMappings::Fit { spec, on, save } => {
            let spec = EncoderSpec::load(spec)?;
            let train = io::read(session, on, &job.read).await?;
            let fitted = encoding::fit(&train, &spec).await?;
            if let Some(path) = save {
                fitted.save(path)?;
            }
            fitted
        }
    };
    let df = io::read(session, &job.input, &job.read).await?;
    let encoded = if job.out_of_fold {
        mappings.transform_out_of_fold(df).await?
    } else {
        mappings.transform(df).await?
    };
    let written = io::write(session, encoded, &job.output, &job.write).await?;
    Ok(EncodeReport {
        mappings,
        written,
        seconds: started.elapsed().as_secs_f64(),
    })
}
