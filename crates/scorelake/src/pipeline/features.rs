//! `scorelake features`: recipes applied to a table, written to another.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::{Error, Result, invalid_err};
use crate::features::{DesignCounts, FeatureEngineer, FittedFeatures};
use crate::io::{self, ReadOptions, WriteOptions, WriteSummary};
use crate::session::Session;

/// One feature run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FeaturesJob {
    /// Recipe file (optional when `apply` is given: the fitted file holds its recipes).
    pub recipes: Option<PathBuf>,
    /// Input table URL.
    pub input: String,
    /// Output table URL.
    pub output: String,
    /// Fit on the input and save the learned values here.
    pub fitted: Option<PathBuf>,
    /// Apply learned values from this file instead of fitting.
    pub apply: Option<PathBuf>,
    /// Write the lineage (JSON) here.
    pub lineage: Option<PathBuf>,
    /// How the input is read.
    pub read: ReadOptions,
    /// How the output is written.
    pub write: WriteOptions,
}

/// What a feature run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FeaturesReport {
    /// The write.
    pub written: WriteSummary,
    /// Output feature columns.
    pub features: Vec<String>,
    /// True when fill values were learned on this input.
    pub fitted_here: bool,
    /// Observation rows per date and the target's exclusions (recipe files
    /// with `observation` or `target`).
    pub design: Option<DesignCounts>,
    /// Seconds from start to the output being committed.
    pub seconds: f64,
}

/// Runs `job`: check the recipes against the input (before any work), fit
/// or load learned values, build one plan and stream it to the output.
///
/// ```no_run
/// use scorelake::pipeline::{FeaturesJob, run_features};
/// # async fn example(session: &scorelake::session::Session) -> scorelake::Result<()> {
/// let mut job = FeaturesJob::default();
/// job.recipes = Some("examples/panel-features.yaml".into());
/// job.input = "panel.parquet".into();
/// job.output = "features.parquet".into();
/// let report = run_features(session, &job).await?;
/// println!("{} features", report.features.len());
/// # Ok(())
/// # }
/// ```
pub async fn run_features(session: &Session, job: &FeaturesJob) -> Result<FeaturesReport> {
    let started = Instant::now();
    let applied = match &job.apply {
        Some(path) => Some(FittedFeatures::load(path)?),
        None => None,
    };
    let engineer = match (&job.recipes, &applied) {
        (Some(path), Some(fitted)) => {
            let engineer = FeatureEngineer::from_path(path)?;
            if engineer.recipes() != &fitted.recipes {
                return invalid_err!(
                    "{} was fitted with other recipes than {}; apply it alone or refit",
                    job.apply
                        .as_deref()
                        .unwrap_or_else(|| path.as_ref())
                        .display(),
                    path.display()
                );
            }
            engineer
        }
        (Some(path), None) => FeatureEngineer::from_path(path)?,
        (None, Some(fitted)) => fitted.engineer()?,
        (None, None) => {
            return Err(Error::InvalidInput(
                "give a recipe file or a fitted file to apply".into(),
            ));
        }
    };
    if let Some(path) = &job.lineage {
        let text = serde_json::to_string_pretty(&engineer.lineage())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        crate::docfile::write_whole(path, &(text + "\n"))?;
    }
    let input = io::read(session, &job.input, &job.read).await?;
    // Counted first: an observation date without rows stops the run here.
    let design = engineer.design_counts(&input).await?;
    let (plan, fitted_here) = match applied {
        Some(fitted) => (fitted.transform(input)?, false),
        None if engineer.needs_fit() || job.fitted.is_some() => {
            let fitted = engineer.fit(&input).await?;
            if let Some(path) = &job.fitted {
                fitted.save(path)?;
            }
            (fitted.transform(input)?, true)
        }
        None => (engineer.transform(input)?, false),
    };
    let written = io::write(session, plan, &job.output, &job.write).await?;
    Ok(FeaturesReport {
        written,
        features: engineer.outputs().into_iter().map(String::from).collect(),
        fitted_here,
        design,
        seconds: started.elapsed().as_secs_f64(),
    })
}
