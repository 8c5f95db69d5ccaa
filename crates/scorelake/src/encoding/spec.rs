//! The encoder spec as written.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, invalid};

/// What to do with a category that was not seen when fitting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unseen {
    /// Target mean: the global mean; frequency: 0; rare grouping: the rare label.
    #[default]
    GlobalMean,
    /// 0 for numeric encodings (the rare label for grouping).
    Zero,
    /// Refuse the data, naming the column and the unseen values.
    Error,
}

/// An encoding method.
#[derive(Clone, Debug, PartialEq)]
pub enum EncodingMethod {
    /// Share of rows (or of weight) per category, or the count when `share` is false.
    Frequency {
        /// Share (default) or count.
        share: bool,
    },
    /// (n·mean_c + m·global) / (n + m), m = smoothing; categories with
    /// n < min_samples_leaf get the global mean.
    TargetMean {
        /// m: the weight of the global mean (default 10).
        smoothing: f64,
        /// Categories with fewer rows (less weight) get the global mean (default 1).
        min_samples_leaf: f64,
    },
    /// Categories whose share is below `threshold` become `label` (default `RARE`).
    Rare {
        /// Share below which a category is rare.
        threshold: f64,
        /// The label rare categories get.
        label: String,
    },
}

/// One encoder: a column and a method (output default: `{column}_freq`,
/// `{column}_te`, `{column}_grouped`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEncoder", into = "RawEncoder")]
pub struct Encoder {
    /// The categorical column.
    pub column: String,
    /// Output column name.
    pub output: Option<String>,
    /// How to encode.
    pub method: EncodingMethod,
}

/// An encoder as written: the method's name and its parameters side by side.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEncoder {
    column: String,
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smoothing: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples_leaf: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

impl TryFrom<RawEncoder> for Encoder {
    type Error = String;

    fn try_from(r: RawEncoder) -> std::result::Result<Self, String> {
        let stray = |allowed: &[&str]| -> std::result::Result<(), String> {
            let given = [
                ("share", r.share.is_some()),
                ("smoothing", r.smoothing.is_some()),
                ("min_samples_leaf", r.min_samples_leaf.is_some()),
                ("threshold", r.threshold.is_some()),
                ("label", r.label.is_some()),
            ];
            match given.iter().find(|(k, set)| *set && !allowed.contains(k)) {
                Some((k, _)) => Err(format!("`{k}` does not apply to method {}", r.method)),
                None => Ok(()),
            }
        };
        let method = match r.method.as_str() {
            "frequency" => {
                stray(&["share"])?;
                EncodingMethod::Frequency {
                    share: r.share.unwrap_or(true),
                }
            }
            "target_mean" => {
                stray(&["smoothing", "min_samples_leaf"])?;
                let (smoothing, min_samples_leaf) = (
                    r.smoothing.unwrap_or(10.0),
                    r.min_samples_leaf.unwrap_or(1.0),
                );
                if !(smoothing >= 0.0 && min_samples_leaf >= 0.0) {
                    return Err("smoothing and min_samples_leaf must be ≥ 0".into());
                }
                EncodingMethod::TargetMean {
                    smoothing,
                    min_samples_leaf,
                }
            }
            "rare" => {
                stray(&["threshold", "label"])?;
                let threshold = r.threshold.ok_or("rare needs a `threshold` (a share)")?;
                if !(0.0..=1.0).contains(&threshold) {
                    return Err("threshold is a share between 0 and 1".into());
                }
                EncodingMethod::Rare {
                    threshold,
                    label: r.label.unwrap_or_else(|| "RARE".into()),
                }
            }
            other => {
                return Err(format!(
                    "unknown method `{other}`; expected frequency, target_mean or rare"
                ));
            }
        };
        Ok(Encoder {
            column: r.column,
            output: r.output,
            method,
        })
    }
}

impl From<Encoder> for RawEncoder {
    fn from(e: Encoder) -> RawEncoder {
        let mut r = RawEncoder {
            column: e.column,
            method: String::new(),
            output: e.output,
            share: None,
            smoothing: None,
            min_samples_leaf: None,
            threshold: None,
            label: None,
        };
        match e.method {
            EncodingMethod::Frequency { share } => {
                r.method = "frequency".into();
                r.share = Some(share);
            }
            EncodingMethod::TargetMean {
                smoothing,
                min_samples_leaf,
            } => {
                r.method = "target_mean".into();
                r.smoothing = Some(smoothing);
                r.min_samples_leaf = Some(min_samples_leaf);
            }
            EncodingMethod::Rare { threshold, label } => {
                r.method = "rare".into();
                r.threshold = Some(threshold);
                r.label = Some(label);
            }
        }
        r
    }
}

impl Encoder {
    /// The output column.
    pub fn output(&self) -> String {
        self.output.clone().unwrap_or_else(|| {
            let suffix = match self.method {
                EncodingMethod::Frequency { .. } => "freq",
                EncodingMethod::TargetMean { .. } => "te",
                EncodingMethod::Rare { .. } => "grouped",
            };
            format!("{}_{suffix}", self.column)
        })
    }
}

/// The most folds `cross_fit` may split into: each category keeps one
/// out-of-fold value per fold, each computed over the other folds.
pub const MAX_FOLDS: u32 = 100;

/// Out-of-fold cross-fitting: the fitting rows are split into `folds` by a
/// hash of their `by` columns (all columns but the target and weight when
/// empty) and `seed`; a fitting row's target encoding is learned on the
/// other folds only, so it never sees its own target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossFit {
    /// Number of folds (2 to [`MAX_FOLDS`]).
    pub folds: u32,
    /// Seed of the fold assignment.
    #[serde(default)]
    pub seed: u64,
    /// Columns deciding the fold (e.g. the customer, so all of a customer's
    /// months share a fold).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::docfile::one_or_many"
    )]
    pub by: Vec<String>,
}

/// A spec file: the target (for target-mean encoders), optional weights,
/// the unseen policy and the encoders.
///
/// ```yaml
/// target: default_flag
/// weight: sample_weight        # optional
/// unseen: global_mean          # or zero, error
/// cross_fit: {folds: 5, seed: 42, by: customer_id}   # optional
/// encoders:
///   - {column: product, method: frequency}
///   - {column: region, method: target_mean, smoothing: 20, min_samples_leaf: 50}
///   - {column: channel, method: rare, threshold: 0.02, label: OTHER}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    /// 0/1 target column (needed by target-mean encoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Non-negative weight column (e.g. `sample_weight` of compressed rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Policy for categories not seen when fitting.
    #[serde(default)]
    pub unseen: Unseen,
    /// Out-of-fold cross-fitting of the target-mean encoders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_fit: Option<CrossFit>,
    /// The encoders.
    pub encoders: Vec<Encoder>,
}

impl EncoderSpec {
    /// Reads a spec file; errors name the file and the encoder.
    pub fn load(path: &Path) -> Result<EncoderSpec> {
        let value = crate::docfile::load(path)?;
        EncoderSpec::from_value(value).map_err(|e| invalid!("{}: {e}", path.display()))
    }

    /// Parses spec text in the format named by `ext`.
    ///
    /// ```
    /// use scorelake::encoding::EncoderSpec;
    /// let spec = EncoderSpec::parse("encoders:\n- {column: product, method: frequency}\n", "yaml")?;
    /// assert_eq!(spec.encoders[0].output(), "product_freq");
    /// assert!(EncoderSpec::parse("encoders:\n- {column: x, method: woe}\n", "yaml").is_err());
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn parse(text: &str, ext: &str) -> Result<EncoderSpec> {
        let value = crate::docfile::parse(text, ext).map_err(Error::InvalidInput)?;
        EncoderSpec::from_value(value).map_err(Error::InvalidInput)
    }

    fn from_value(mut value: serde_json::Value) -> std::result::Result<EncoderSpec, String> {
        let items = match value.as_object_mut().and_then(|o| o.remove("encoders")) {
            Some(serde_json::Value::Array(items)) => items,
            _ => return Err("expected an `encoders` list".into()),
        };
        if let Some(o) = value.as_object_mut() {
            o.insert("encoders".into(), serde_json::Value::Array(vec![]));
        }
        let mut spec: EncoderSpec = serde_json::from_value(value).map_err(|e| e.to_string())?;
        for (i, item) in items.into_iter().enumerate() {
            let label = match item.get("column").and_then(|c| c.as_str()) {
                Some(c) => format!("encoder #{} (`{c}`)", i + 1),
                None => format!("encoder #{}", i + 1),
            };
            let e: Encoder = serde_json::from_value(item).map_err(|e| format!("{label}: {e}"))?;
            if matches!(e.method, EncodingMethod::TargetMean { .. }) && spec.target.is_none() {
                return Err(format!(
                    "{label}: target_mean needs a `target` column in the spec"
                ));
            }
            spec.encoders.push(e);
        }
        if let Some(cf) = &spec.cross_fit {
            if !(2..=MAX_FOLDS).contains(&cf.folds) {
                return Err(format!(
                    "cross_fit.folds must be at least 2 and at most {MAX_FOLDS}, got {}",
                    cf.folds
                ));
            }
            if !spec
                .encoders
                .iter()
                .any(|e| matches!(e.method, EncodingMethod::TargetMean { .. }))
            {
                return Err("cross_fit applies to target_mean encoders; the spec has none".into());
            }
        }
        let mut outputs: Vec<String> = spec.encoders.iter().map(Encoder::output).collect();
        outputs.sort();
        if let Some(w) = outputs.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!(
                "two encoders write `{}`; set `output` on one",
                w[0]
            ));
        }
        Ok(spec)
    }
}
