//! Recipe files: what the user writes.
//!
//! ```yaml
//! entity: customer_id            # or a list of columns
//! time: month
//! # snapshot: 2024-12-01         # one row per entity as of this date
//! # observation: {every: 1mo, from: 2023-07-01, to: 2023-12-01}  # stacked snapshots
//! # target: {name: bad_12m, when: "days_past_due >= 90", window: 12mo}
//! # carry: [product, region]     # input columns kept (default: all)
//! recipes:
//!   - name: balance_trend
//!     operation: trend_slope
//!     source: balance            # or sources: [balance, payment]
//!     window: 6                  # rows, "6mo", "90d", last_6_months, all_time
//!     params: {min_periods: 3}
//!     description: six-month balance trend
//!   - name: utilization_filled
//!     operation: impute
//!     source: utilization
//!     params: {strategy: median, scope: [product]}
//!   - name: util_volatility
//!     operation: volatility
//!     source: utilization_imputed   # an earlier recipe's output
//!     window: 6
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result, invalid, invalid_err};

/// A whole recipe file, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeFile {
    /// Entity (group) columns: a history is the rows of one entity.
    #[serde(
        default,
        alias = "entity_columns",
        deserialize_with = "crate::docfile::one_or_many"
    )]
    pub entity: Vec<String>,
    /// The time column that orders each history.
    pub time: String,
    /// When set (`YYYY-MM-DD`), the output is one row per entity as of this
    /// date: window aggregations over `(snapshot − span, snapshot]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Observation dates: the output is the rows at these dates (stacked),
    /// each with features from its history up to that date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
    /// A forward-looking target added to each observation row (rows it
    /// excludes are dropped and counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSpec>,
    /// Input columns kept beside entity, time and features (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry: Option<Vec<String>>,
    /// The recipes, in any order that respects nothing in particular: the
    /// engine orders them by their dependencies.
    pub recipes: Vec<Recipe>,
}

/// One recipe: an operation applied to one or more source columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Unique name (errors and lineage use it).
    pub name: String,
    /// Source columns (input columns or earlier recipes' outputs).
    #[serde(alias = "source", deserialize_with = "crate::docfile::one_or_many")]
    pub sources: Vec<String>,
    /// Operation name (`trend_slope`, `max`, `ratio`, `impute`, …).
    pub operation: String,
    /// Window: rows (`6`), calendar (`"6mo"`, `"90d"`), `last_N_months` or `all_time`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "window_text"
    )]
    pub window: Option<String>,
    /// Operation parameters (`min_periods`, `periods`, `kind`, `policy`, …).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    /// Output column name (only for recipes with one output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// What the feature means, for people and the lineage export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Recipes that must run first (besides those whose outputs are sources).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::docfile::one_or_many"
    )]
    pub depends_on: Vec<String>,
}

impl RecipeFile {
    /// Reads a recipe file (`.yaml`, `.yml`, `.toml` or `.json`).
    pub fn load(path: &Path) -> Result<RecipeFile> {
        let value = crate::docfile::load(path)?;
        RecipeFile::from_value(value).map_err(|e| prefix(e, &path.display().to_string()))
    }

    /// Parses recipe text in the format named by `ext` (`yaml`, `toml`, `json`).
    ///
    /// ```
    /// use scorelake::features::RecipeFile;
    /// let file = RecipeFile::parse(
    ///     "entity = \"customer_id\"\ntime = \"month\"\n\
    ///      [[recipes]]\nname = \"dpd\"\noperation = \"max\"\nsource = \"days_past_due\"\nwindow = \"last_6_months\"\n",
    ///     "toml",
    /// )?;
    /// assert_eq!(file.recipes[0].sources, ["days_past_due"]);
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn parse(text: &str, ext: &str) -> Result<RecipeFile> {
        let value = crate::docfile::parse(text, ext).map_err(Error::InvalidInput)?;
        RecipeFile::from_value(value)
    }

    fn from_value(mut value: Value) -> Result<RecipeFile> {
        // Recipes one by one, so an error names the recipe it is in.
        let recipes = match value.as_object_mut().and_then(|o| o.remove("recipes")) {
            Some(Value::Array(items)) => items,
            Some(_) => return invalid_err!("`recipes` must be a list"),
            None => return invalid_err!("no `recipes` list"),
        };
        if let Some(o) = value.as_object_mut() {
            o.insert("recipes".into(), Value::Array(vec![]));
        }
        let mut file: RecipeFile =
            serde_json::from_value(value).map_err(|e| invalid!("recipe file: {e}"))?;
        for (i, item) in recipes.into_iter().enumerate() {
            let label = match item.get("name").and_then(Value::as_str) {
                Some(name) => format!("recipe `{name}`"),
                None => format!("recipe #{}", i + 1),
            };
            let recipe: Recipe =
                serde_json::from_value(item).map_err(|e| invalid!("{label}: {e}"))?;
            file.recipes.push(recipe);
        }
        Ok(file)
    }
}

fn prefix(e: Error, file: &str) -> Error {
    match e {
        Error::InvalidInput(m) => invalid!("{file}: {m}"),
        other => other,
    }
}

/// A window as text: a whole number of rows or a span; anything else is
/// refused saying what a window may be.
pub(super) fn window_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) if n.is_i64() => Ok(Some(n.to_string())),
        Value::String(s) => Ok(Some(s)),
        other => Err(serde::de::Error::custom(format!(
            "`window` must be a whole number of rows (6), a calendar span (\"6mo\", \"90d\"), \
             last_N_months or all_time; got {other}"
        ))),
    }
}

/// Observation dates: listed, or every so many months from one date to
/// another (both included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// The dates (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<String>,
    /// A step in months (`1mo`, `3mo`), with `from` and `to`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "window_text"
    )]
    pub every: Option<String>,
    /// First date of `every`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last date of `every` (included when on a step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A forward-looking target: 1 when `when` holds on some row within
/// `window` after the observation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// The target column's name.
    pub name: String,
    /// A SQL condition on a row that makes it bad (e.g. `days_past_due >= 90`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// How far ahead (`12mo`, `365d`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "window_text"
    )]
    pub window: Option<String>,
    /// Shorthand: the default event (`event` = 1) within this window.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "window_text"
    )]
    pub default_event_within: Option<String>,
    /// The event column of `default_event_within` (default `default_flag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}
