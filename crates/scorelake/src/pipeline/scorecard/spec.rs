//! The pipeline file: what a scorecard pipeline reads, builds and publishes.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, invalid};
use crate::io::{self, WriteMode, WriteOptions};
use crate::scorecard::{LogisticOptions, Scaling, SelectionOptions, Settings, VariableSpec};

/// Rows held out for evaluation: a random holdout of keys (those whose
/// fold, from the `by` columns and `seed`, falls in the first `share` of
/// 1000 folds) and an out-of-time sample (rows whose `time` is on or after
/// `oot_from`); either or both. Neither is used to fit anything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holdout {
    /// Share of the keys held out (0–1); none: no random holdout.
    #[serde(default)]
    pub share: Option<f64>,
    /// Key columns (e.g. `customer_id`: a customer's rows stay together).
    #[serde(default)]
    pub by: Vec<String>,
    /// Seed of the split.
    #[serde(default)]
    pub seed: u64,
    /// First date of the out-of-time sample (`YYYY-MM-DD`).
    #[serde(default)]
    pub oot_from: Option<String>,
    /// The date column `oot_from` applies to (e.g. `month`).
    #[serde(default)]
    pub time: Option<String>,
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
    /// Moved to `selection.min_iv`; refused here, naming the new key.
    #[serde(default, skip_serializing)]
    pub min_iv: Option<serde_json::Value>,
    /// Moved to `selection.max_variables`; refused here, naming the new key.
    #[serde(default, skip_serializing)]
    pub max_variables: Option<serde_json::Value>,
}

/// A scorecard pipeline file: from a panel to a points scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardPipeline {
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
    /// Validate the binned variables on the training rows (`true`: with
    /// the default thresholds, or a thresholds file); a FAIL stops the run.
    #[serde(default)]
    pub validation: Validation,
    /// Rows held out for evaluation (none: evaluate on the training rows only).
    #[serde(default)]
    pub holdout: Option<Holdout>,
    /// Binning of the candidate variables.
    pub binning: BinningSection,
    /// Which binned variables enter the model, with which safeguards.
    #[serde(default)]
    pub selection: SelectionOptions,
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
    /// Reason codes in the exported query `scorecard_query.sql` (default 3).
    #[serde(default = "default_reasons")]
    pub reasons: usize,
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
    #[serde(default = "default_publish_mode", with = "publish_mode")]
    pub mode: WriteMode,
    /// Add new columns to the tables on append.
    #[serde(default)]
    pub merge_schema: bool,
}

fn default_publish_mode() -> WriteMode {
    WriteMode::Append
}

/// `publish.mode` as written: `append`, `overwrite` or `error`.
mod publish_mode {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::io::WriteMode;

    const NAMES: [(&str, WriteMode); 3] = [
        ("append", WriteMode::Append),
        ("overwrite", WriteMode::Overwrite),
        ("error", WriteMode::ErrorIfExists),
    ];

    pub(super) fn serialize<S: Serializer>(mode: &WriteMode, s: S) -> Result<S::Ok, S::Error> {
        let name = NAMES
            .iter()
            .find(|(_, m)| m == mode)
            .map_or("error", |(n, _)| n);
        s.serialize_str(name)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WriteMode, D::Error> {
        let text = String::deserialize(d)?;
        NAMES
            .iter()
            .find(|(n, _)| *n == text)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "publish.mode `{text}`: expected append, overwrite or error"
                ))
            })
    }
}

/// Whether and how a run validates its candidate variables.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Validation {
    /// No validation (`false`, or no `validation` key).
    #[default]
    Off,
    /// With the default thresholds (`true`).
    Default,
    /// With the thresholds in this file (a path).
    Thresholds(PathBuf),
}

impl Serialize for Validation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Validation::Off => s.serialize_bool(false),
            Validation::Default => s.serialize_bool(true),
            Validation::Thresholds(path) => path.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Validation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Validation;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("validation: true, false or a thresholds file")
            }
            fn visit_bool<E>(self, on: bool) -> std::result::Result<Validation, E> {
                Ok(if on {
                    Validation::Default
                } else {
                    Validation::Off
                })
            }
            fn visit_str<E>(self, path: &str) -> std::result::Result<Validation, E> {
                Ok(Validation::Thresholds(PathBuf::from(path)))
            }
            fn visit_unit<E>(self) -> std::result::Result<Validation, E> {
                Ok(Validation::Off)
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Publish {
    pub(super) fn options(&self, url: &str) -> Result<WriteOptions> {
        let format = io::Location::parse(url)?.format_from_extension();
        Ok(WriteOptions {
            format: Some(format.unwrap_or(crate::config::Format::Delta)),
            mode: self.mode,
            merge_schema: self.merge_schema,
            ..WriteOptions::default()
        })
    }
}

fn default_bands() -> usize {
    10
}

fn default_reasons() -> usize {
    3
}

impl ScorecardPipeline {
    /// Reads a pipeline file (YAML, TOML or JSON); relative paths in it
    /// (recipes, encoders, thresholds, output, local input and publish
    /// tables) are taken from the file's folder.
    pub fn from_path(path: &Path) -> Result<ScorecardPipeline> {
        let value = crate::docfile::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_value(value, base).map_err(|e| match e {
            Error::InvalidInput(m) => invalid!("{}: {m}", path.display()),
            other => other,
        })
    }

    /// Reads pipeline text in the format named by `ext` (`yaml`, `toml`,
    /// `json`); relative paths in it are taken from `base`.
    ///
    /// ```
    /// use scorelake::pipeline::ScorecardPipeline;
    /// let text = "input: panel.parquet\noutput: out\ntarget: default_flag\nbinning: {variables: [balance]}\n";
    /// let spec = ScorecardPipeline::parse(text, "yaml", std::path::Path::new("/work"))?;
    /// assert_eq!(spec.output, std::path::Path::new("/work/out"));
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn parse(text: &str, ext: &str, base: &Path) -> Result<ScorecardPipeline> {
        let value = crate::docfile::parse(text, ext).map_err(Error::InvalidInput)?;
        Self::from_value(value, base)
    }

    fn from_value(value: serde_json::Value, base: &Path) -> Result<ScorecardPipeline> {
        let mut spec: ScorecardPipeline =
            serde_json::from_value(value).map_err(|e| invalid!("{e}"))?;
        for (key, set) in [
            ("min_iv", spec.binning.min_iv.is_some()),
            ("max_variables", spec.binning.max_variables.is_some()),
        ] {
            if set {
                return Err(invalid!("binning.{key} moved to selection.{key}"));
            }
        }
        spec.selection.check().map_err(|e| invalid!("{e}"))?;
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
        if let Validation::Thresholds(t) = &mut spec.validation {
            *t = rebase(t);
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

    /// The candidate variables: the binning section's columns.
    pub(super) fn candidates(&self) -> Vec<String> {
        self.binning
            .variables
            .iter()
            .map(|v| v.column.clone())
            .collect()
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
