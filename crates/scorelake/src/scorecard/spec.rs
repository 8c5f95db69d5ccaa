//! The binning spec as written (YAML, TOML or JSON).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::optimal::{Constraints, Monotonic};
use crate::error::{Error, Result, invalid, invalid_err};

/// The most bins (`bins`, `max_n_bins`) a variable may ask for: a scorecard
/// needs a handful, and every bin costs per-bin sums in each pass.
pub const MAX_BINS: usize = 1000;

/// The most quantile pre-bins `optimal` binning merges (its merge search
/// grows faster than their number).
pub const MAX_PREBINS: usize = 500;

/// How a numeric variable's bins are cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinMethod {
    /// Fine quantile pre-bins merged to the largest IV under the constraints.
    #[default]
    Optimal,
    /// `bins` weighted quantile bins (equal edges merge).
    Quantile,
    /// `bins` equal widths over the variable's range.
    EqualWidth,
    /// The user's bins: `splits` for numbers, `groups` for categories.
    Manual,
}

/// Settings of a variable's binning; any left out come from the spec's
/// `defaults`, then from the built-in defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How numeric bins are cut (default `optimal`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<BinMethod>,
    /// Bins for `quantile` and `equal_width` (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<usize>,
    /// Quantile pre-bins that `optimal` merges (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prebins: Option<usize>,
    /// At most this many bins, missing and special bins aside (default 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_n_bins: Option<usize>,
    /// Each bin's least share of the variable's binned (non-missing,
    /// non-special) weight (default 0.05).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_bin_size: Option<f64>,
    /// Each bin's least event weight (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_events: Option<f64>,
    /// Each bin's least non-event weight (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_non_events: Option<f64>,
    /// Direction of the event rate over the bins (default `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monotonic: Option<Monotonic>,
    /// Values that get bins of their own (e.g. −999 for "no bureau record").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_values: Option<Vec<f64>>,
    /// Categories with a smaller share of the weight are grouped together
    /// before binning (default 0.01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rare_share: Option<f64>,
    /// Bin a numeric column as categories (each distinct value one category).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categorical: Option<bool>,
    /// The user's split points for a number: bins (−∞, s₁], (s₁, s₂], …,
    /// (sₖ, ∞), kept as given (method `manual`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub splits: Option<Vec<f64>>,
    /// The user's groups of categories, one bin each in this order
    /// (method `manual`); a group `["*"]` takes every other category, seen
    /// or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Vec<String>>>,
}

impl Settings {
    /// `self` where set, else `other`.
    fn or(&self, other: &Settings) -> Settings {
        Settings {
            method: self.method.or(other.method),
            bins: self.bins.or(other.bins),
            prebins: self.prebins.or(other.prebins),
            max_n_bins: self.max_n_bins.or(other.max_n_bins),
            min_bin_size: self.min_bin_size.or(other.min_bin_size),
            min_events: self.min_events.or(other.min_events),
            min_non_events: self.min_non_events.or(other.min_non_events),
            monotonic: self.monotonic.or(other.monotonic),
            special_values: self
                .special_values
                .clone()
                .or_else(|| other.special_values.clone()),
            rare_share: self.rare_share.or(other.rare_share),
            categorical: self.categorical.or(other.categorical),
            splits: self.splits.clone().or_else(|| other.splits.clone()),
            groups: self.groups.clone().or_else(|| other.groups.clone()),
        }
    }
}

/// One variable to bin: a column name, or a column with its own settings
/// (`{column: balance, max_n_bins: 4}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct VariableSpec {
    /// The column.
    pub column: String,
    /// Settings that override the defaults.
    pub settings: Settings,
}

impl TryFrom<serde_json::Value> for VariableSpec {
    type Error = String;

    fn try_from(v: serde_json::Value) -> std::result::Result<Self, String> {
        match v {
            serde_json::Value::String(column) => Ok(VariableSpec {
                column,
                settings: Settings::default(),
            }),
            serde_json::Value::Object(mut map) => {
                let column = match map.remove("column") {
                    Some(serde_json::Value::String(c)) => c,
                    _ => return Err("a variable needs `column: NAME`".into()),
                };
                let settings = serde_json::from_value(serde_json::Value::Object(map))
                    .map_err(|e| format!("variable `{column}`: {e}"))?;
                Ok(VariableSpec { column, settings })
            }
            other => Err(format!(
                "a variable is a column name or {{column: NAME, …}}, not {other}"
            )),
        }
    }
}

impl From<VariableSpec> for serde_json::Value {
    fn from(v: VariableSpec) -> Self {
        let mut value = serde_json::to_value(&v.settings).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("column".into(), v.column.into());
        }
        value
    }
}

/// What to bin and how.
///
/// ```
/// use scorelake::scorecard::BinningSpec;
/// let spec = BinningSpec::parse(
///     "target: default_flag\ndefaults: {max_n_bins: 5}\nvariables:\n- utilization\n- {column: balance, special_values: [-999]}\n",
///     "yaml",
/// )?;
/// let v = spec.resolved()?;
/// assert_eq!(v[1].0, "balance");
/// assert_eq!(v[1].1.max_bins, 5);
/// assert_eq!(v[1].2.special_values, vec![-999.0]);
/// # Ok::<(), scorelake::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinningSpec {
    /// The 0/1 target (1 = event, e.g. default).
    pub target: String,
    /// A non-negative row weight (e.g. `sample_weight` of compressed rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Settings for every variable.
    #[serde(default)]
    pub defaults: Settings,
    /// The variables.
    pub variables: Vec<VariableSpec>,
}

/// A variable's settings with every default filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedSettings {
    /// How numeric bins are cut.
    pub method: BinMethod,
    /// Bins for quantile and equal-width binning.
    pub bins: usize,
    /// Pre-bins for optimal binning.
    pub prebins: usize,
    /// Values with bins of their own.
    pub special_values: Vec<f64>,
    /// Share below which categories are grouped.
    pub rare_share: f64,
    /// Bin as categories.
    pub categorical: Option<bool>,
    /// The user's split points (numbers).
    pub splits: Option<Vec<f64>>,
    /// The user's groups (categories).
    pub groups: Option<Vec<Vec<String>>>,
}

impl BinningSpec {
    /// Parses a spec written in `ext` (`yaml`, `toml` or `json`).
    pub fn parse(text: &str, ext: &str) -> Result<BinningSpec> {
        let value = crate::docfile::parse(text, ext).map_err(Error::InvalidInput)?;
        serde_json::from_value(value).map_err(|e| invalid!("binning spec: {e}"))
    }

    /// Reads a spec file; errors name the file.
    pub fn from_path(path: &Path) -> Result<BinningSpec> {
        let value = crate::docfile::load(path)?;
        serde_json::from_value(value).map_err(|e| invalid!("{}: {e}", path.display()))
    }

    /// Each variable's column, merge constraints and other settings, checked.
    pub fn resolved(&self) -> Result<Vec<(String, Constraints, ResolvedSettings)>> {
        let builtin = Settings {
            method: Some(BinMethod::Optimal),
            bins: Some(10),
            prebins: Some(20),
            max_n_bins: Some(6),
            min_bin_size: Some(0.05),
            min_events: Some(1.0),
            min_non_events: Some(1.0),
            monotonic: Some(Monotonic::Auto),
            special_values: Some(vec![]),
            rare_share: Some(0.01),
            categorical: None,
            splits: None,
            groups: None,
        };
        let defaults = self.defaults.or(&builtin);
        let mut out: Vec<(String, Constraints, ResolvedSettings)> = Vec::new();
        for v in &self.variables {
            let (column, s) = (v.column.clone(), v.settings.or(&defaults));
            if out.iter().any(|(c, _, _)| *c == column) {
                return invalid_err!("binning spec: variable `{column}` is listed twice");
            }
            if column == self.target || Some(&column) == self.weight.as_ref() {
                return invalid_err!(
                    "binning spec: `{column}` is the target or the weight, not a variable"
                );
            }
            let bad =
                |key: &str, what: &str| invalid!("binning spec: variable `{column}`: {key} {what}");
            let get = |v: Option<usize>| v.unwrap_or_default();
            let getf = |v: Option<f64>| v.unwrap_or_default();
            let manual = s.splits.is_some() || s.groups.is_some();
            if manual && v.settings.method.is_some_and(|m| m != BinMethod::Manual) {
                return Err(bad(
                    "splits and groups",
                    "make the method manual; remove the other method",
                ));
            }
            let resolved = ResolvedSettings {
                method: if manual {
                    BinMethod::Manual
                } else {
                    s.method.unwrap_or_default()
                },
                bins: get(s.bins),
                prebins: get(s.prebins),
                special_values: s.special_values.clone().unwrap_or_default(),
                rare_share: getf(s.rare_share),
                categorical: s.categorical,
                splits: s.splits.clone(),
                groups: s.groups.clone(),
            };
            if resolved.method == BinMethod::Manual && !manual {
                return Err(bad(
                    "method manual",
                    "needs splits (numbers) or groups (categories)",
                ));
            }
            if let Some(splits) = &resolved.splits
                && (splits.is_empty()
                    || splits.iter().any(|x| !x.is_finite())
                    || splits.windows(2).any(|w| w[0] >= w[1]))
            {
                return Err(bad(
                    "splits",
                    "must be finite numbers in strictly increasing order",
                ));
            }
            if let Some(groups) = &resolved.groups {
                let mut seen = std::collections::BTreeSet::new();
                for g in groups {
                    if g.is_empty() {
                        return Err(bad("groups", "must not be empty lists"));
                    }
                    for c in g {
                        if !seen.insert(c) {
                            return Err(bad("groups", &format!("list `{c}` twice")));
                        }
                    }
                }
            }
            let constraints = Constraints {
                max_bins: get(s.max_n_bins),
                min_bin_size: getf(s.min_bin_size),
                min_events: getf(s.min_events),
                min_non_events: getf(s.min_non_events),
                monotonic: s.monotonic.unwrap_or_default(),
            };
            if resolved.bins < 1 || resolved.prebins < 1 || constraints.max_bins < 1 {
                return Err(bad("bins, prebins and max_n_bins", "must be at least 1"));
            }
            for (option, value, most) in [
                ("bins", resolved.bins, MAX_BINS),
                ("prebins", resolved.prebins, MAX_PREBINS),
                ("max_n_bins", constraints.max_bins, MAX_BINS),
            ] {
                if value > most {
                    return Err(Error::OutOfRange {
                        context: format!("binning spec: variable `{column}`"),
                        option: option.into(),
                        expected: format!("between 1 and {most}"),
                        got: value.to_string(),
                    });
                }
            }
            if !(0.0..=1.0).contains(&constraints.min_bin_size) {
                return Err(bad("min_bin_size", "must be a share between 0 and 1"));
            }
            if !(0.0..1.0).contains(&resolved.rare_share) {
                return Err(bad("rare_share", "must be a share in [0, 1)"));
            }
            if constraints.min_events < 0.0 || constraints.min_non_events < 0.0 {
                return Err(bad("min_events and min_non_events", "must be ≥ 0"));
            }
            if resolved.special_values.iter().any(|v| v.is_nan()) {
                return Err(bad(
                    "special_values",
                    "must be numbers (null is its own bin already)",
                ));
            }
            out.push((column, constraints, resolved));
        }
        if out.is_empty() {
            return Err(Error::InvalidInput(
                "binning spec: no variables to bin".into(),
            ));
        }
        Ok(out)
    }
}
