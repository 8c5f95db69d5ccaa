//! What a scorecard pipeline run produced, and its Markdown form.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use serde::Serialize;

use crate::scorecard::{CompressionReport, Evaluation, LogisticModel, Selection};

/// What a scorecard pipeline run produced.
#[derive(Clone, Debug, Serialize)]
pub struct ScorecardPipelineReport {
    /// Output folder.
    pub output: PathBuf,
    /// Rows of the modelling table, training rows, holdout rows.
    pub rows: (u64, u64, u64),
    /// IV per candidate variable, strongest first.
    pub iv: Vec<(String, f64)>,
    /// Variables in the model.
    pub selected: Vec<String>,
    /// How they were chosen: every decision, their correlations and VIFs.
    pub selection: Selection,
    /// Compression of the training rows.
    pub compression: CompressionReport,
    /// The model.
    pub model: LogisticModel,
    /// Evaluation on the training rows.
    pub train: Evaluation,
    /// Evaluation on the holdout rows.
    pub holdout: Option<Evaluation>,
    /// Seconds per step.
    pub steps: Vec<(String, f64)>,
    /// Tables written by `publish` (with their Delta versions).
    pub published: Vec<Published>,
}

/// A table a run published.
#[derive(Clone, Debug, Serialize)]
pub struct Published {
    /// Which table: `modelling` or `compressed`.
    pub table: String,
    /// Where it went.
    pub location: String,
    /// Rows written.
    pub rows: u64,
    /// The Delta version committed, for Delta tables.
    pub version: Option<u64>,
}

impl fmt::Display for ScorecardPipelineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, train, held) = self.rows;
        writeln!(f, "# Scorecard pipeline\n")?;
        writeln!(f, "Rows: {rows} ({train} training, {held} holdout)\n")?;
        let c = &self.compression;
        writeln!(
            f,
            "Compression: {} rows → {} rows ({:.1}×), {} bytes → {} bytes in memory\n",
            c.input_rows, c.output_rows, c.ratio, c.input_bytes_estimate, c.output_bytes
        )?;
        let mut iv = String::from("| variable | IV | in model |\n|---|---|---|\n");
        for (v, value) in &self.iv {
            let _ = writeln!(
                iv,
                "| {v} | {value:.4} | {} |",
                if self.selected.contains(v) {
                    "yes"
                } else {
                    "no"
                }
            );
        }
        writeln!(f, "Information value\n\n{iv}")?;
        writeln!(
            f,
            "Variable selection\n\n{}",
            self.selection.to_markdown(&self.iv)
        )?;
        writeln!(f, "Model\n\n{}", self.model.to_markdown())?;
        writeln!(f, "Training rows: {}", self.train.to_markdown())?;
        if let Some(h) = &self.holdout {
            writeln!(f, "Holdout rows: {}", h.to_markdown())?;
        }
        for p in &self.published {
            let version = p
                .version
                .map(|v| format!(", version {v}"))
                .unwrap_or_default();
            writeln!(
                f,
                "Published the {} table to {} ({} rows{version})\n",
                p.table, p.location, p.rows
            )?;
        }
        writeln!(f, "Steps")?;
        for (name, s) in &self.steps {
            writeln!(f, "  {name:<24} {s:>7.2}s")?;
        }
        Ok(())
    }
}
