//! What a scorecard pipeline run produced, and its Markdown form.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use serde::Serialize;

use super::stability::{BinStability, to_markdown};
use super::tracking::Tracking;
use crate::html::{esc, page};
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
    /// The MLflow run it was logged to (`observability.mlflow_url`), or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
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

/// Event rate per score band as bars (one chart per sample).
fn band_bars(e: &Evaluation) -> String {
    let (w, h, pad) = (26.0, 110.0, 20.0);
    let top = e
        .bands
        .iter()
        .map(|b| b.event_rate)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut svg = format!(
        "<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"event rate by score band\">",
        pad * 2.0 + w * e.bands.len() as f64,
        h + 10.0
    );
    for (i, b) in e.bands.iter().enumerate() {
        let bh = h * b.event_rate / top;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#66a61e\"><title>band {}: scores {:.0} to {:.0}, event rate {:.2}%</title></rect>",
            pad + w * i as f64 + 2.0,
            h - bh,
            w - 4.0,
            b.band,
            b.from,
            b.to,
            b.event_rate * 100.0
        );
    }
    svg + "</svg>"
}

impl ScorecardPipelineReport {
    /// The run as one self-contained HTML page (`report.html` in the output
    /// folder): Gini/KS of every sample, the IV table (selected variables
    /// marked), the model, and event rates by score band.
    pub fn to_html(&self) -> String {
        let mut body = String::from(
            "<h2>Performance</h2>\n<table><tr><th>sample</th><th>weight</th><th>events</th><th>AUC</th><th>Gini</th><th>KS</th></tr>\n",
        );
        let samples = [
            ("training", Some(&self.train)),
            ("holdout", self.holdout.as_ref()),
            ("out of time", self.oot.as_ref()),
        ];
        for (name, e) in samples {
            if let Some(e) = e {
                let _ = writeln!(
                    body,
                    "<tr><td>{name}</td><td>{:.0}</td><td>{:.0}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                    e.weight, e.events, e.auc, e.gini, e.ks
                );
            }
        }
        body.push_str("</table>\n<h2>Information value</h2>\n<table><tr><th>variable</th><th>IV</th><th>in the model</th></tr>\n");
        for (v, iv) in &self.iv {
            let chosen = self.selected.contains(v);
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{iv:.4}</td><td{}>{}</td></tr>",
                esc(v),
                if chosen { " class=\"PASS\"" } else { "" },
                if chosen { "yes" } else { "no" }
            );
        }
        body.push_str("</table>\n<h2>Model</h2>\n<table><tr><th>term</th><th>estimate</th><th>std error</th><th>z</th><th>p-value</th></tr>\n");
        for c in &self.model.coefficients {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{:.6}</td><td>{:.6}</td><td>{:.3}</td><td>{:.4}</td></tr>",
                esc(&c.name),
                c.estimate,
                c.std_error,
                c.z,
                c.p_value
            );
        }
        body.push_str("</table>\n<h2>Event rate by score band</h2>\n");
        for (name, e) in samples {
            if let Some(e) = e.filter(|e| !e.bands.is_empty()) {
                let _ = writeln!(body, "<h3>{name}</h3>{}", band_bars(e));
            }
        }
        page("Scorecard report", &body)
    }
}
