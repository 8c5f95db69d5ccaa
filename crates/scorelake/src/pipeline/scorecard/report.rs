//! What a scorecard pipeline run produced, and its Markdown form.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use serde::Serialize;

use super::stability::{BinStability, to_markdown};
use crate::observe::mlflow::Logged;
use crate::scorecard::{CompressionReport, Evaluation, LogisticModel, Selection, VariableBins};

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
    /// Evaluation on the out-of-time rows.
    pub oot: Option<Evaluation>,
    /// The samples side by side: training, holdout, out of time.
    pub samples: Vec<Sample>,
    /// Each model variable's event rate per bin and period (when the
    /// pipeline knows its time column).
    pub stability: Vec<BinStability>,
    /// Seconds per step.
    pub steps: Vec<(String, f64)>,
    /// Tables written by `publish` (with their Delta versions).
    pub published: Vec<Published>,
    /// The model's variables' bins (WoE, shares, event rates), for the page.
    #[serde(skip)]
    pub bins: Vec<VariableBins>,
    /// The MLflow run it was logged to (`observability.mlflow_url`), or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
}

/// Where the run was logged, or why it was not (the pipeline's result
/// stands either way; the caller says it once).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracking {
    /// Logged to this MLflow run.
    Logged(Logged),
    /// Not logged: the error, once.
    Failed(String),
}

/// One sample's figures, beside the others in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// `training`, `holdout` or `out of time`.
    pub sample: String,
    /// Rows.
    pub rows: u64,
    /// Their weight.
    pub weight: f64,
    /// Their event weight.
    pub events: f64,
    /// events / weight.
    pub event_rate: f64,
    /// AUC of the score (none for a sample without both events and
    /// non-events: nothing to rank).
    pub auc: Option<f64>,
    /// Gini of the score.
    pub gini: Option<f64>,
    /// KS of the score.
    pub ks: Option<f64>,
    /// PSI of the score against the training rows' (deciles of the
    /// training score); none for the training rows.
    pub score_psi: Option<f64>,
}

impl Sample {
    pub(super) fn of(name: &str, rows: u64, e: &Evaluation, score_psi: Option<f64>) -> Sample {
        Sample {
            auc: Some(e.auc),
            gini: Some(e.gini),
            ks: Some(e.ks),
            score_psi,
            ..Sample::one_sided(name, rows, e.weight, e.events)
        }
    }

    /// A sample with only events or only non-events: counted, not ranked.
    pub(super) fn one_sided(name: &str, rows: u64, weight: f64, events: f64) -> Sample {
        Sample {
            sample: name.into(),
            rows,
            weight,
            events,
            event_rate: if weight > 0.0 { events / weight } else { 0.0 },
            auc: None,
            gini: None,
            ks: None,
            score_psi: None,
        }
    }
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
        let oot = self
            .samples
            .iter()
            .find(|s| s.sample == "out of time")
            .map_or(String::new(), |s| format!(", {} out of time", s.rows));
        writeln!(f, "Rows: {rows} ({train} training, {held} holdout{oot})\n")?;
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
        let mut table = String::from(
            "| sample | rows | events | event rate | AUC | Gini | KS | score PSI |\n|---|---|---|---|---|---|---|---|\n",
        );
        for s in &self.samples {
            let figure = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.4}"));
            let psi = s.score_psi.map_or("".into(), |p| format!("{p:.4}"));
            let _ = writeln!(
                table,
                "| {} | {} | {} | {:.4} | {} | {} | {} | {psi} |",
                s.sample,
                s.rows,
                s.events,
                s.event_rate,
                figure(s.auc),
                figure(s.gini),
                figure(s.ks)
            );
        }
        writeln!(f, "Samples\n\n{table}")?;
        writeln!(f, "Training rows: {}", self.train.to_markdown())?;
        if let Some(h) = &self.holdout {
            writeln!(f, "Holdout rows: {}", h.to_markdown())?;
        }
        if let Some(o) = &self.oot {
            writeln!(f, "Out-of-time rows: {}", o.to_markdown())?;
        }
        if !self.stability.is_empty() {
            writeln!(
                f,
                "Bin stability over periods (event rate per bin; inversions: neighbouring bins against the variable's direction)\n\n{}",
                to_markdown(&self.stability)
            )?;
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
