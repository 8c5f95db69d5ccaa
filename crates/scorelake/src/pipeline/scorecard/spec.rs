//! `scorelake run pipeline.yaml`: from a panel to a points scorecard in one
//! file: features, encoders, validation, binning, compression, model,
//! scaling, evaluation; every artifact written to one output folder.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::encoding::{self, EncoderSpec};
use crate::error::{Error, Result};
use crate::features::FeatureEngineer;
use crate::features::transforms::column;
use crate::functions::fold::fold_index;
use crate::io::{self, ReadOptions, WriteMode, WriteOptions};
use crate::quality::{self, Status, Thresholds, ValidateOptions};
use crate::scorecard::{
    self, BinningSpec, CompressionReport, EVENT_RATE, Evaluation, LogisticModel, LogisticOptions,
    SAMPLE_WEIGHT, Scaling, Scorecard, Settings, VariableSpec, woe_column,
};
use crate::session::Session;

/// Rows held out for evaluation: those whose fold (from the `by` columns
/// and `seed`) falls in the first `share` of 1000 folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holdout {
    /// Share of the keys held out (0–1).
    pub share: f64,
    /// Key columns (e.g. `customer_id`: a customer's rows stay together).
    pub by: Vec<String>,
    /// Seed of the split.
    #[serde(default)]
    pub seed: u64,
}

/// Binning section: the spec without target and weight (the pipeline's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinningSection {
    /// Settings for every variable.
    #[serde(default)]
    pub defaults: Settings,
    /// The variables.
    pub variables: Vec<VariableSpec>,
    /// Variables with a smaller IV are left out of the model (default 0.02).
    #[serde(default = "default_min_iv")]
    pub min_iv: f64,
    /// At most this many variables (the strongest by IV) enter the model.
    #[serde(default)]
    pub max_variables: Option<usize>,
}

fn default_min_iv() -> f64 {
    0.02
}

/// A pipeline file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Input table URL.
    pub input: String,
    /// Output folder (local); created, its artifacts replaced.
    pub output: PathBuf,
    /// The 0/1 target.
    pub target: String,
    /// Optional row weight.
    #[serde(default)]
    pub weight: Option<String>,
    /// Feature recipe file (relative to the pipeline file).
    #[serde(default)]
    pub features: Option<PathBuf>,
    /// Encoder spec file (relative to the pipeline file); fitted on the
    /// training rows.
    #[serde(default)]
    pub encoders: Option<PathBuf>,
    /// Validate the binned variables on the training rows: `true` for the
    /// default thresholds or a thresholds file; a FAIL stops the run.
    #[serde(default)]
    pub validation: Option<serde_json::Value>,
    /// Rows held out for evaluation (none: evaluate on the training rows only).
    #[serde(default)]
    pub holdout: Option<Holdout>,
    /// Binning of the candidate variables.
    pub binning: BinningSection,
    /// Extra grouping columns kept through compression (e.g. `product`).
    #[serde(default)]
    pub segments: Vec<String>,
    /// The logistic regression.
    #[serde(default)]
    pub model: LogisticOptions,
    /// Points scaling.
    #[serde(default)]
    pub scaling: Scaling,
    /// Score bands in the evaluation (default 10).
    #[serde(default = "default_bands")]
    pub bands: usize,
    /// Also write the modelling and compressed tables to lake tables (for
    /// example Delta tables a monthly run appends a version to).
    #[serde(default)]
    pub publish: Option<Publish>,
}

/// Lake tables a run also writes its data tables to: Delta tables, unless a
/// URL names a file format by its extension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// Where the modelling table (features and encodings of every input row) goes.
    #[serde(default)]
    pub modelling: Option<String>,
    /// Where the compressed training rows go.
    #[serde(default)]
    pub compressed: Option<String>,
    /// `append` (default: a new version per run), `overwrite` or `error` (if it exists).
    #[serde(default = "default_publish_mode")]
    pub mode: String,
    /// Add new columns to the tables on append.
    #[serde(default)]
    pub merge_schema: bool,
}

fn default_publish_mode() -> String {
    "append".into()
}

impl Publish {
    fn options(&self, url: &str) -> Result<WriteOptions> {
        let mode = match self.mode.as_str() {
            "append" => WriteMode::Append,
            "overwrite" => WriteMode::Overwrite,
            "error" => WriteMode::ErrorIfExists,
            other => {
                return Err(Error::InvalidInput(format!(
                    "publish.mode `{other}`: expected append, overwrite or error"
                )));
            }
        };
        let format = io::Location::parse(url)?.format_from_extension();
        Ok(WriteOptions {
            format: Some(format.unwrap_or(crate::config::Format::Delta)),
            mode,
            merge_schema: self.merge_schema,
            ..WriteOptions::default()
        })
    }
}

fn default_bands() -> usize {
    10
}

impl PipelineSpec {
    /// Reads a pipeline file (YAML, TOML or JSON); relative paths in it
    /// (recipes, encoders, thresholds, output, local input and publish
    /// tables) are taken from the file's folder.
    pub fn from_path(path: &Path) -> Result<PipelineSpec> {
        let value = crate::docfile::load(path)?;
        let mut spec: PipelineSpec = serde_json::from_value(value)
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &Path| {
            if p.is_relative() {
                lexical(&base.join(p))
            } else {
                p.to_path_buf()
            }
        };
        spec.output = rebase(&spec.output);
        spec.features = spec.features.as_deref().map(rebase);
        spec.encoders = spec.encoders.as_deref().map(rebase);
        if let Some(serde_json::Value::String(t)) = &spec.validation {
            spec.validation = Some(rebase(Path::new(t)).display().to_string().into());
        }
        let rebase_url = |url: &mut String| {
            if !url.contains("://") && Path::new(url.as_str()).is_relative() {
                *url = rebase(Path::new(url.as_str())).display().to_string();
            }
        };
        rebase_url(&mut spec.input);
        if let Some(p) = &mut spec.publish {
            p.modelling
                .iter_mut()
                .chain(p.compressed.iter_mut())
                .for_each(rebase_url);
        }
        Ok(spec)
    }
}

/// `path` with `.` and `a/..` taken out (storage paths may not hold them).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// What a pipeline run produced.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineReport {
    /// Output folder.
    pub output: PathBuf,
    /// Rows of the modelling table, training rows, holdout rows.
    pub rows: (u64, u64, u64),
    /// IV per candidate variable, strongest first.
    pub iv: Vec<(String, f64)>,
    /// Variables in the model.
    pub selected: Vec<String>,
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

/// Runs a pipeline.
pub async fn run_pipeline(session: &Session, spec: &PipelineSpec) -> Result<PipelineReport> {
    if spec.output.to_str().is_some_and(|s| s.contains("://")) {
        return Err(Error::InvalidInput(format!(
            "output `{}`: the pipeline's output folder must be a local path",
            spec.output.display()
        )));
    }
    // Publish settings are checked before anything runs.
    let publish: Vec<(&str, &String, WriteOptions)> = match &spec.publish {
        Some(p) => [("modelling", &p.modelling), ("compressed", &p.compressed)]
            .into_iter()
            .filter_map(|(name, url)| url.as_ref().map(|u| (name, u)))
            .map(|(name, url)| Ok((name, url, p.options(url)?)))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let mut published = Vec::new();
    let mut publish_table = async |name: &str, df: &DataFrame| -> Result<()> {
        for (_, url, options) in publish.iter().filter(|(n, _, _)| *n == name) {
            let w = io::write(session, df.clone(), url, options).await?;
            published.push(Published {
                table: name.into(),
                location: w.location,
                rows: w.rows,
                version: w.version,
            });
        }
        Ok(())
    };
    std::fs::create_dir_all(&spec.output).map_err(|e| Error::io(spec.output.display(), e))?;
    let out = |name: &str| spec.output.join(name);
    let overwrite = WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let mut steps: Vec<(String, f64)> = Vec::new();
    let mut timed = |name: &str, t: Instant| steps.push((name.into(), t.elapsed().as_secs_f64()));

    // The modelling table: features and encodings, written once and read back.
    let t = Instant::now();
    let input = io::read(session, &spec.input, &ReadOptions::default()).await?;
    let holdout = match &spec.holdout {
        Some(h) => Some(holdout_expr(&input, h)?),
        None => None,
    };
    let train_of = |df: &DataFrame| -> Result<DataFrame> {
        Ok(match &holdout {
            Some(h) => df.clone().filter(!h.clone())?,
            None => df.clone(),
        })
    };
    let mut table = input.clone();
    if let Some(path) = &spec.features {
        let engineer = FeatureEngineer::from_path(path)?;
        let fitted = engineer.fit(&train_of(&table)?).await?;
        fitted.save(&out("features_fitted.json"))?;
        table = fitted.transform(table)?;
    }
    if let Some(path) = &spec.encoders {
        let encoders = EncoderSpec::load(path)?;
        let mappings = encoding::fit(&train_of(&table)?, &encoders).await?;
        mappings.save(&out("mappings.json"))?;
        table = mappings.transform(table).await?;
    }
    let modelling = out("modelling.parquet");
    let modelling_url = modelling.display().to_string();
    let written = io::write(session, table, &modelling_url, &overwrite).await?;
    let table = io::read(session, &modelling_url, &ReadOptions::default()).await?;
    publish_table("modelling", &table).await?;
    let train = train_of(&table)?;
    let held = match &holdout {
        Some(h) => Some(table.clone().filter(h.clone())?),
        None => None,
    };
    let train_rows = train.clone().count().await? as u64;
    timed("modelling table", t);

    let candidates: Vec<String> = spec
        .binning
        .variables
        .iter()
        .map(|v| v.column.clone())
        .collect();
    if let Some(v) = &spec.validation {
        let t = Instant::now();
        let thresholds = match v {
            serde_json::Value::Bool(true) => Thresholds::default(),
            serde_json::Value::String(path) => Thresholds::load(Path::new(path))?,
            other => {
                return Err(Error::InvalidInput(format!(
                    "validation: expected true or a thresholds file, got {other}"
                )));
            }
        };
        let options = ValidateOptions {
            columns: Some(candidates.clone()),
            thresholds,
            weight: spec.weight.clone(),
            ..ValidateOptions::default()
        };
        let report = quality::validate(&train, &options).await?;
        write_text(&out("validation.md"), &report.to_markdown())?;
        if report.status == Status::Fail {
            return Err(Error::InvalidInput(format!(
                "validation failed (see {}); the pipeline stops",
                out("validation.md").display()
            )));
        }
        timed("validation", t);
    }

    let t = Instant::now();
    let binning_spec = BinningSpec {
        target: spec.target.clone(),
        weight: spec.weight.clone(),
        defaults: spec.binning.defaults.clone(),
        variables: spec.binning.variables.clone(),
    };
    let binning = scorecard::fit_binning(&train, &binning_spec).await?;
    binning.save(&out("binning.json"))?;
    write_text(&out("binning_tables.md"), &binning.tables())?;
    let selected: Vec<String> = binning
        .selected(spec.binning.min_iv)
        .into_iter()
        .map(|v| v.column.clone())
        .take(spec.binning.max_variables.unwrap_or(usize::MAX))
        .collect();
    if selected.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no variable reaches min_iv {} (see {})",
            spec.binning.min_iv,
            out("binning_tables.md").display()
        )));
    }
    timed("binning", t);

    let t = Instant::now();
    let (compressed, compression) = binning
        .compress_fitted(train.clone(), Some(&selected), &spec.segments, true)
        .await?;
    io::write(
        session,
        compressed.clone(),
        &out("compressed.parquet").display().to_string(),
        &overwrite,
    )
    .await?;
    publish_table("compressed", &compressed).await?;
    timed("compression", t);

    let t = Instant::now();
    let features: Vec<String> = selected.iter().map(|v| woe_column(v)).collect();
    let model = scorecard::fit_logistic(
        &compressed,
        &features,
        EVENT_RATE,
        Some(SAMPLE_WEIGHT),
        &spec.model,
    )
    .await?;
    let card = Scorecard::new(&binning, &model, &spec.scaling)?;
    card.save(&out("scorecard.json"))?;
    write_text(&out("scorecard.sql"), &(card.to_sql() + "\n"))?;
    write_text(&out("scorecard.md"), &card.to_markdown())?;
    timed("model and scorecard", t);

    let t = Instant::now();
    let evaluate = |df: DataFrame| {
        let card = &card;
        async move {
            let scored = card.score(df, "__score")?;
            scorecard::evaluate(
                &scored,
                "__score",
                &spec.target,
                spec.weight.as_deref(),
                spec.bands,
            )
            .await
        }
    };
    let train_eval = evaluate(train).await?;
    let holdout_eval = match held {
        Some(h) => Some(evaluate(h).await?),
        None => None,
    };
    timed("evaluation", t);

    let report = PipelineReport {
        output: spec.output.clone(),
        rows: (
            written.rows,
            train_rows,
            written.rows.saturating_sub(train_rows),
        ),
        iv: binning
            .selected(f64::NEG_INFINITY)
            .into_iter()
            .map(|v| (v.column.clone(), v.iv))
            .collect(),
        selected,
        compression,
        model,
        train: train_eval,
        holdout: holdout_eval,
        steps,
        published,
    };
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| Error::InvalidInput(e.to_string()))?;
    write_text(&out("report.json"), &(json + "\n"))?;
    write_text(&out("report.md"), &report.to_string())?;
    Ok(report)
}

/// True for held-out rows.
fn holdout_expr(df: &DataFrame, h: &Holdout) -> Result<Expr> {
    if !(h.share > 0.0 && h.share < 1.0) {
        return Err(Error::InvalidInput(format!(
            "holdout.share must be between 0 and 1, got {}",
            h.share
        )));
    }
    if h.by.is_empty() {
        return Err(Error::InvalidInput(
            "holdout.by needs at least one key column".into(),
        ));
    }
    for c in &h.by {
        crate::features::transforms::find(df.schema(), c, "holdout key column")?;
    }
    let keys = h.by.iter().map(|c| column(c)).collect();
    Ok(fold_index(1000, h.seed, keys).lt(lit((h.share * 1000.0).round() as i64)))
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path.display(), e))
}

impl fmt::Display for PipelineReport {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_lose_dot_segments() {
        assert_eq!(
            lexical(Path::new("examples/../demo/f.parquet")),
            Path::new("demo/f.parquet")
        );
        assert_eq!(lexical(Path::new("./a/./b")), Path::new("a/b"));
        assert_eq!(lexical(Path::new("../x")), Path::new("../x"));
        assert_eq!(lexical(Path::new("a/..")), Path::new("."));
    }
}
