//! A pipeline run logged to MLflow (`observability.mlflow_url`): the
//! pipeline file's settings as parameters, the samples' figures, the model's
//! variables and the steps' times as metrics, the output folder's documents
//! as artifacts.

use std::path::Path;

use serde_json::Value;

use super::report::{ScorecardPipelineReport, Tracking};
use super::spec::ScorecardPipeline;
use crate::observe::mlflow::{self, TrackedRun};
use crate::session::Session;

/// Logs the run when `observability.mlflow_url` is set.
pub(super) async fn track(
    session: &Session,
    pipeline: &ScorecardPipeline,
    report: &ScorecardPipelineReport,
    wall_seconds: f64,
) -> Option<Tracking> {
    let o = &session.config().observability;
    let url = o.mlflow_url.as_deref()?;
    let run = tracked_run(pipeline, report, wall_seconds);
    Some(match mlflow::log(url, &o.mlflow_experiment, &run).await {
        Ok(logged) => Tracking::Logged(logged),
        Err(e) => Tracking::Failed(session.config().redact(&e.to_string())),
    })
}

/// Parameters, metrics, tags and artifacts of a finished pipeline.
fn tracked_run(
    pipeline: &ScorecardPipeline,
    report: &ScorecardPipelineReport,
    wall_seconds: f64,
) -> TrackedRun {
    let mut params = Vec::new();
    if let Ok(spec) = serde_json::to_value(pipeline) {
        flatten("", &spec, &mut params);
    }
    params.push(("selected".into(), report.selected.join(",")));
    let (rows, train, held) = report.rows;
    let mut metrics = vec![
        ("rows.modelling".to_string(), rows as f64),
        ("rows.training".to_string(), train as f64),
        ("rows.holdout".to_string(), held as f64),
        (
            "rows.compressed".to_string(),
            report.compression.output_rows as f64,
        ),
        (
            "variables.selected".to_string(),
            report.selected.len() as f64,
        ),
        ("seconds.total".to_string(), wall_seconds),
    ];
    for s in &report.samples {
        let name = s.sample.replace(' ', "_");
        for (figure, value) in [
            ("gini", s.gini),
            ("auc", s.auc),
            ("ks", s.ks),
            ("score_psi", s.score_psi),
            ("event_rate", Some(s.event_rate)),
        ] {
            if let Some(v) = value {
                metrics.push((format!("{name}.{figure}"), v));
            }
        }
    }
    for (variable, iv) in &report.iv {
        if report.selected.contains(variable) {
            metrics.push((format!("iv.{variable}"), *iv));
        }
    }
    for c in &report.model.coefficients {
        metrics.push((format!("coefficient.{}", c.name), c.estimate));
        metrics.push((format!("p_value.{}", c.name), c.p_value));
    }
    for (step, seconds) in &report.steps {
        metrics.push((format!("seconds.{}", step.replace(' ', "_")), *seconds));
    }
    TrackedRun {
        name: run_name(&report.output),
        params,
        metrics,
        tags: vec![
            ("scorelake.version".into(), env!("CARGO_PKG_VERSION").into()),
            (
                "scorelake.output".into(),
                report.output.display().to_string(),
            ),
        ],
        artifacts: documents(&report.output),
    }
}

/// The pipeline's settings as dotted keys (`selection.min_iv`); lists as
/// JSON text; unset ones left out.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Object(map) => {
            for (k, item) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, item, out);
            }
        }
        Value::String(s) => out.push((prefix.into(), s.clone())),
        other => out.push((prefix.into(), other.to_string())),
    }
}

/// `scorecard` for `…/scorecard`: the output folder's name.
fn run_name(output: &Path) -> String {
    output
        .file_name()
        .map_or_else(|| "scorecard".into(), |n| n.to_string_lossy().to_string())
}

/// The output folder's documents (the card, its SQL, the reports and
/// tables), not its data files.
fn documents(output: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(output)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "json" | "sql" | "md" | "html"))
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_dotted_parameters() {
        let mut out = Vec::new();
        let spec = serde_json::json!({
            "target": "bad", "weight": null,
            "selection": {"min_iv": 0.02, "method": "stepwise"},
            "segments": ["product", "region"]
        });
        flatten("", &spec, &mut out);
        out.sort();
        assert_eq!(
            out,
            vec![
                (
                    "segments".to_string(),
                    r#"["product","region"]"#.to_string()
                ),
                ("selection.method".into(), "stepwise".into()),
                ("selection.min_iv".into(), "0.02".into()),
                ("target".into(), "bad".into()),
            ]
        );
    }
}
