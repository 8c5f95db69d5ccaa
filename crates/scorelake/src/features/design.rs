//! The development sample's design in a recipe file: observation dates
//! (one row per entity per date, stacked) and a forward-looking target with
//! its exclusions.
//!
//! ```yaml
//! observation: {every: 1mo, from: 2023-07-01, to: 2023-12-01}   # or dates: [2023-09-01, 2023-12-01]
//! target: {name: bad_12m, when: "days_past_due >= 90", window: 12mo}
//! # or: target: {name: default_12m, default_event_within: 12mo}   (event column default_flag = 1)
//! carry: [product, region]      # input columns kept beside the features (default: all)
//! ```
//!
//! Features are computed on every row (each looks only at rows at or
//! before its own time), then the rows at the observation dates are kept:
//! each observation's features come from its history up to that date.
//! With `E` an entity's first time where `when` holds and `L` its last
//! time, the row at `t` is: excluded as already bad if `E ≤ t`; bad (1)
//! if `E ≤ t + window`; good (0) if `L ≥ t + window` (its whole window is
//! observed); else excluded for an insufficient performance window.

use chrono::{Months, NaiveDate};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::JoinType;
use datafusion::functions_aggregate::expr_fn::{count, max, min};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;
use serde::Serialize;

use super::recipe::{Observation, TargetSpec};
use super::time_literal::time_literal_of_day;
use crate::error::{Result, ensure, invalid, invalid_err};
use crate::expr::{column, column_names, find};
use crate::functions::temporal::{Span, Window};
use crate::results::number_at;

/// A checked target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Target {
    pub name: String,
    /// SQL text of the bad condition.
    pub when: String,
    pub window: Span,
}

/// A checked design: the observation dates, the target, the carried columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Design {
    pub dates: Option<Vec<NaiveDate>>,
    pub target: Option<Target>,
    pub carry: Option<Vec<String>>,
}

/// `text` (`YYYY-MM-DD`) as the date of recipe-file key `key`.
pub(super) fn date(text: &str, key: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| invalid!("recipe file: {key} `{text}` is not a date (YYYY-MM-DD)"))
}

impl Observation {
    fn dates(&self) -> Result<Vec<NaiveDate>> {
        let mut out = match (&self.every, self.dates.is_empty()) {
            (Some(_), false) => {
                return invalid_err!(
                    "recipe file: observation takes dates or every/from/to, not both"
                );
            }
            (None, true) => {
                return invalid_err!(
                    "recipe file: observation needs dates, or every with from and to"
                );
            }
            (None, false) => self
                .dates
                .iter()
                .map(|d| date(d, "observation date"))
                .collect::<Result<Vec<_>>>()?,
            (Some(every), true) => {
                let step = match Window::parse(every) {
                    Ok(Window::Calendar(Span::Months(m))) => m,
                    _ => {
                        return invalid_err!(
                            "recipe file: observation.every `{every}` must be a number of months (1mo, 3mo)"
                        );
                    }
                };
                let (Some(from), Some(to)) = (&self.from, &self.to) else {
                    return invalid_err!("recipe file: observation.every needs from and to");
                };
                let (from, to) = (date(from, "observation.from")?, date(to, "observation.to")?);
                ensure!(
                    from <= to,
                    "recipe file: observation.from {from} is after observation.to {to}"
                );
                let mut dates = Vec::new();
                let mut d = from;
                while d <= to && dates.len() <= MAX_OBSERVATION_DATES {
                    dates.push(d);
                    d = match from.checked_add_months(Months::new(step * dates.len() as u32)) {
                        Some(next) => next,
                        None => break,
                    };
                }
                dates
            }
        };
        out.sort();
        out.dedup();
        ensure!(
            out.len() <= MAX_OBSERVATION_DATES,
            "recipe file: {} observation dates; at most {MAX_OBSERVATION_DATES}",
            out.len()
        );
        Ok(out)
    }
}

/// The most observation dates a recipe file may give.
pub const MAX_OBSERVATION_DATES: usize = 1200;

impl TargetSpec {
    fn check(&self) -> Result<Target> {
        ensure!(
            !self.name.trim().is_empty(),
            "recipe file: target.name is empty"
        );
        let (when, window) = match (&self.when, &self.window, &self.default_event_within) {
            (Some(w), Some(span), None) => {
                ensure!(
                    self.event.is_none(),
                    "recipe file: target.event goes with default_event_within, not with when"
                );
                (w.clone(), span.clone())
            }
            (None, None, Some(span)) => {
                let event = self.event.as_deref().unwrap_or("default_flag");
                (
                    format!("\"{}\" = 1", event.replace('"', "\"\"")),
                    span.clone(),
                )
            }
            _ => {
                return invalid_err!(
                    "recipe file: target `{}` needs when and window, or default_event_within",
                    self.name
                );
            }
        };
        let window = match Window::parse(&window) {
            Ok(Window::Calendar(span)) => span,
            _ => {
                return invalid_err!(
                    "recipe file: target `{}`: window `{window}` must be months or days (12mo, 365d)",
                    self.name
                );
            }
        };
        Ok(Target {
            name: self.name.clone(),
            when,
            window,
        })
    }
}

pub(crate) fn resolve_design(
    observation: Option<&Observation>,
    target: Option<&TargetSpec>,
    carry: Option<&Vec<String>>,
    snapshot: bool,
) -> Result<Design> {
    if snapshot && (observation.is_some() || target.is_some()) {
        return invalid_err!(
            "recipe file: snapshot gives one row per entity at one date; for observation dates and targets use observation instead"
        );
    }
    Ok(Design {
        dates: observation.map(Observation::dates).transpose()?,
        target: target.map(TargetSpec::check).transpose()?,
        carry: carry.cloned(),
    })
}

/// Status of an observation row under the target (before exclusions).
const BAD: i64 = 1;
const GOOD: i64 = 0;
const ALREADY_BAD: i64 = 2;
const SHORT_WINDOW: i64 = 3;

/// How many observation rows each date gave, and what the target did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DesignCounts {
    /// The target's name (none: observation dates only, every row kept).
    pub target: Option<String>,
    /// Per observation date (all rows when there are no dates).
    pub dates: Vec<DateCounts>,
}

/// One observation date's rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DateCounts {
    /// The date (none: every row is an observation).
    pub date: Option<String>,
    /// Rows at the date.
    pub rows: u64,
    /// Kept with target 1.
    pub bad: u64,
    /// Kept with target 0.
    pub good: u64,
    /// Excluded: already bad at the observation.
    pub already_bad: u64,
    /// Excluded: the performance window runs past the entity's data.
    pub short_window: u64,
}

impl Design {
    /// Whether the design changes the rows at all.
    pub(crate) fn is_set(&self) -> bool {
        self.dates.is_some() || self.target.is_some()
    }

    fn times(&self, ty: &DataType) -> Result<Option<Vec<Expr>>> {
        self.dates
            .as_ref()
            .map(|ds| {
                ds.iter()
                    .map(|d| Ok(lit(time_literal_of_day(ty, *d)?)))
                    .collect()
            })
            .transpose()
    }

    /// The rows of `features` at the observation dates, with the target
    /// (excluded rows dropped); `input` is the rows the features came from.
    pub(crate) fn apply(
        &self,
        input: &DataFrame,
        features: DataFrame,
        entity: &[String],
        time: &str,
    ) -> Result<DataFrame> {
        let ty = self.time_type(input, time)?;
        let mut df = features;
        if let Some(times) = self.times(&ty)? {
            df = df.filter(column(time).in_list(times, false))?;
        }
        let Some(target) = &self.target else {
            return Ok(df);
        };
        let columns: Vec<String> = column_names(df.schema());
        ensure!(
            !columns.contains(&target.name),
            "recipe file: target `{}` is already a column; name it otherwise",
            target.name
        );
        let joined = self.with_events(input, df, entity, time)?;
        let status = status(target, time)?;
        let mut out: Vec<Expr> = columns.iter().map(|c| column(c)).collect();
        out.push(cast(status.clone(), DataType::Int8).alias(&target.name));
        Ok(joined.filter(status.lt_eq(lit(BAD)))?.select(out)?)
    }

    /// `df` joined with each entity's first bad time (`__event`) and last
    /// time (`__last`).
    fn with_events(
        &self,
        input: &DataFrame,
        df: DataFrame,
        entity: &[String],
        time: &str,
    ) -> Result<DataFrame> {
        let Some(target) = &self.target else {
            return Ok(df);
        };
        let bad = input.parse_sql_expr(&target.when).map_err(|e| {
            invalid!(
                "recipe file: target `{}`: when `{}`: {e}",
                target.name,
                target.when
            )
        })?;
        let keys: Vec<String> = entity.iter().map(|e| format!("__key_{e}")).collect();
        let group: Vec<Expr> = entity
            .iter()
            .zip(&keys)
            .map(|(e, k)| column(e).alias(k))
            .collect();
        let events = input.clone().aggregate(
            group,
            vec![
                min(when(bad.is_true(), column(time)).end()?).alias("__event"),
                max(column(time)).alias("__last"),
            ],
        )?;
        let left: Vec<&str> = entity.iter().map(String::as_str).collect();
        let right: Vec<&str> = keys.iter().map(String::as_str).collect();
        Ok(df.join(events, JoinType::Left, &left, &right, None)?)
    }

    fn time_type(&self, input: &DataFrame, time: &str) -> Result<DataType> {
        let ty = find(input.schema(), time, "time column")?;
        ensure!(
            matches!(
                ty,
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
            ),
            "time column `{time}` is {ty}; observation dates and targets need dates or timestamps"
        );
        Ok(ty)
    }

    /// Rows per observation date and what the target does to them, from
    /// the input's entity, time and target columns only (no features);
    /// an observation date without rows is an error naming it.
    pub(crate) async fn counts(
        &self,
        input: &DataFrame,
        entity: &[String],
        time: &str,
    ) -> Result<DesignCounts> {
        let ty = self.time_type(input, time)?;
        let mut rows = input.clone();
        if let Some(times) = self.times(&ty)? {
            rows = rows.filter(column(time).in_list(times, false))?;
        }
        let status = match &self.target {
            Some(target) => {
                rows = self.with_events(input, rows, entity, time)?;
                status(target, time)?
            }
            None => lit(GOOD),
        };
        let by_date = self.dates.is_some();
        let mut group = vec![status.alias("__status")];
        if by_date {
            group.push(cast(column(time), DataType::Utf8).alias("__date"));
        }
        let batches = rows
            .aggregate(group, vec![count(lit(1)).alias("__rows")])?
            .collect()
            .await?;
        let mut out: Vec<DateCounts> = match &self.dates {
            Some(ds) => ds
                .iter()
                .map(|d| DateCounts {
                    date: Some(d.to_string()),
                    ..DateCounts::default()
                })
                .collect(),
            None => vec![DateCounts::default()],
        };
        for b in &batches {
            let dates = b
                .column_by_name("__date")
                .map(|a| datafusion::arrow::compute::cast(a, &DataType::Utf8))
                .transpose()?;
            for r in 0..b.num_rows() {
                let at = match &dates {
                    Some(a) => {
                        let text = datafusion::arrow::array::AsArray::as_string::<i32>(a.as_ref())
                            .value(r)
                            .to_string();
                        out.iter()
                            .position(|c| c.date.as_deref().is_some_and(|d| text.starts_with(d)))
                    }
                    None => Some(0),
                };
                let (Some(at), Some(status), Some(n)) =
                    (at, number_at(b, "__status", r), number_at(b, "__rows", r))
                else {
                    continue;
                };
                let c = &mut out[at];
                let n = n as u64;
                c.rows += n;
                match status as i64 {
                    BAD => c.bad += n,
                    GOOD => c.good += n,
                    ALREADY_BAD => c.already_bad += n,
                    _ => c.short_window += n,
                }
            }
        }
        if let Some(empty) = out.iter().find(|c| c.rows == 0 && c.date.is_some()) {
            return invalid_err!(
                "observation date {} has no rows: no `{time}` equals it (observations are the rows at each date)",
                empty.date.as_deref().unwrap_or_default()
            );
        }
        Ok(DesignCounts {
            target: self.target.as_ref().map(|t| t.name.clone()),
            dates: out,
        })
    }
}

/// The status of a row joined with `__event` and `__last`: already bad,
/// bad, good or short window.
fn status(target: &Target, time: &str) -> Result<Expr> {
    let interval = match target.window {
        Span::Months(m) => ScalarValue::new_interval_ym(0, m as i32),
        Span::Days(d) => ScalarValue::new_interval_dt(d as i32, 0),
    };
    let t = column(time);
    let end = t.clone() + lit(interval);
    let event = column("__event");
    Ok(when(event.clone().lt_eq(t), lit(ALREADY_BAD))
        .when(event.lt_eq(end.clone()), lit(BAD))
        .when(column("__last").gt_eq(end), lit(GOOD))
        .otherwise(lit(SHORT_WINDOW))?)
}
