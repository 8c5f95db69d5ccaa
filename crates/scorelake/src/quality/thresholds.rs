//! Warning and failure thresholds per metric, per column or for all columns.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result, invalid};

/// A validation metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of rows that are null (or NaN).
    MissingRate,
    /// Distinct non-null values (the cardinality of a text column).
    UniqueCount,
    /// 1 when the column has at most one distinct non-null value, else 0.
    ZeroVariance,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean.
    Mean,
    /// Sample standard deviation (ddof 1).
    Std,
    /// 1st percentile (linear interpolation between order statistics).
    P01,
    /// 99th percentile (linear interpolation between order statistics).
    P99,
    /// Share of rows holding the most frequent non-null value (text columns).
    TopShare,
}

impl Metric {
    /// Every metric in report order.
    pub const ALL: [Metric; 10] = [
        Metric::MissingRate,
        Metric::UniqueCount,
        Metric::ZeroVariance,
        Metric::Min,
        Metric::Max,
        Metric::Mean,
        Metric::Std,
        Metric::P01,
        Metric::P99,
        Metric::TopShare,
    ];

    /// The metric's name in reports and threshold files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::MissingRate => "missing_rate",
            Metric::UniqueCount => "unique_count",
            Metric::ZeroVariance => "zero_variance",
            Metric::Min => "min",
            Metric::Max => "max",
            Metric::Mean => "mean",
            Metric::Std => "std",
            Metric::P01 => "p01",
            Metric::P99 => "p99",
            Metric::TopShare => "top_share",
        }
    }

    fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Bounds for one metric: above `warn`/`fail`, or below `warn_below`/`fail_below`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// WARN when the value is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<f64>,
    /// FAIL when the value is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<f64>,
    /// WARN when the value is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_below: Option<f64>,
    /// FAIL when the value is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_below: Option<f64>,
}

/// Thresholds for all columns (`defaults`) and per column (`columns`, which
/// override the defaults metric by metric).
///
/// ```yaml
/// defaults:
///   missing_rate: {warn: 0.05, fail: 0.5}
///   zero_variance: {fail: true}          # true = 0.5: a constant column fails
/// columns:
///   utilization: {max: {warn: 1.5, fail: 3}, min: {fail_below: 0}}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Rules for every column.
    pub defaults: BTreeMap<Metric, Rule>,
    /// Rules per column.
    pub columns: BTreeMap<String, BTreeMap<Metric, Rule>>,
}

impl Default for Thresholds {
    /// Missing rate: WARN above 5 %, FAIL above 50 %; a constant column FAILs.
    fn default() -> Self {
        let mut defaults = BTreeMap::new();
        defaults.insert(
            Metric::MissingRate,
            Rule {
                warn: Some(0.05),
                fail: Some(0.5),
                ..Rule::default()
            },
        );
        defaults.insert(
            Metric::ZeroVariance,
            Rule {
                fail: Some(0.5),
                ..Rule::default()
            },
        );
        Thresholds {
            defaults,
            columns: BTreeMap::new(),
        }
    }
}

impl Thresholds {
    /// Reads a thresholds file (YAML, TOML or JSON). Unknown metric names,
    /// unknown keys and non-numeric bounds are errors naming the file and key.
    pub fn load(path: &Path) -> Result<Thresholds> {
        let value = crate::docfile::load(path)?;
        Thresholds::from_value(&value).map_err(|e| invalid!("{}: {e}", path.display()))
    }

    /// Parses thresholds from text in the format named by `ext`.
    ///
    /// ```
    /// use scorelake::quality::{Metric, Thresholds};
    /// let t = Thresholds::parse("[columns.balance]\nmax = { fail = 1e6 }\n", "toml").unwrap();
    /// assert_eq!(t.rule("balance", Metric::Max).unwrap().fail, Some(1e6));
    /// assert!(Thresholds::parse("[defaults]\nmissing = { warn = 0.1 }\n", "toml").is_err());
    /// ```
    pub fn parse(text: &str, ext: &str) -> Result<Thresholds> {
        let value = crate::docfile::parse(text, ext).map_err(Error::InvalidInput)?;
        Thresholds::from_value(&value).map_err(Error::InvalidInput)
    }

    fn from_value(value: &Value) -> std::result::Result<Thresholds, String> {
        let Some(top) = value.as_object() else {
            return Err("expected `defaults` and/or `columns` tables".into());
        };
        let mut out = Thresholds {
            defaults: BTreeMap::new(),
            columns: BTreeMap::new(),
        };
        for (key, v) in top {
            match key.as_str() {
                "defaults" => out.defaults = rules(v, "defaults")?,
                "columns" => {
                    let Some(cols) = v.as_object() else {
                        return Err("`columns` must be a table of column names".into());
                    };
                    for (c, r) in cols {
                        out.columns
                            .insert(c.clone(), rules(r, &format!("columns.{c}"))?);
                    }
                }
                other => {
                    return Err(format!(
                        "unknown key `{other}`; expected defaults or columns"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The rule for `metric` on `column` (the column's own, else the default).
    pub fn rule(&self, column: &str, metric: Metric) -> Option<&Rule> {
        self.columns
            .get(column)
            .and_then(|r| r.get(&metric))
            .or_else(|| self.defaults.get(&metric))
    }
}

fn rules(v: &Value, at: &str) -> std::result::Result<BTreeMap<Metric, Rule>, String> {
    let Some(map) = v.as_object() else {
        return Err(format!("`{at}` must be a table of metrics"));
    };
    let mut out = BTreeMap::new();
    for (name, r) in map {
        let Some(metric) = Metric::parse(name) else {
            let known: Vec<_> = Metric::ALL.iter().map(|m| m.name()).collect();
            return Err(format!(
                "`{at}.{name}`: unknown metric; expected one of {}",
                known.join(", ")
            ));
        };
        // `zero_variance: {fail: true}` reads as "fail when the flag is 1".
        let mut r = r.clone();
        if let Some(o) = r.as_object_mut() {
            for b in o.values_mut() {
                if let Value::Bool(flag) = b {
                    *b = if *flag { Value::from(0.5) } else { Value::Null };
                }
            }
        }
        let rule: Rule = serde_json::from_value(r).map_err(|e| format!("`{at}.{name}`: {e}"))?;
        out.insert(metric, rule);
    }
    Ok(out)
}
