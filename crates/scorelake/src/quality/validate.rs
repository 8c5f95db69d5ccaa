//! Computing the metrics: one aggregate pass for every column, plus one
//! grouped pass per text column for its most frequent value.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{
    approx_distinct, approx_percentile_cont, approx_percentile_cont_with_weight, avg, count,
    count_distinct, max, min, stddev, sum,
};
use datafusion::logical_expr::{Expr, col, lit, when};
use datafusion::prelude::DataFrame;

use super::report::{ColumnReport, Range, Status, ValidationReport};
use super::roles::{LeftOut, Role, measures};
use super::thresholds::{Metric, Thresholds};
use crate::checks::{WeightCheck, weight_or_one};
use crate::config::ColumnRole;
use crate::error::{Result, ensure};
use crate::expr::{column, find, number};
use crate::functions::sort_key::sort_key;
use crate::functions::weighted_std::weighted_stddev;
use crate::results::{first_number, first_text};
use crate::stats::{Wanted, budget, profile};

/// What to validate and how.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// Columns to validate (all when `None`), in this order.
    pub columns: Option<Vec<String>>,
    /// Warning and failure thresholds.
    pub thresholds: Thresholds,
    /// HyperLogLog unique counts and t-digest quantiles instead of exact ones
    /// (for tables too large to hold a column's values in memory).
    pub approximate: bool,
    /// A non-negative weight column (e.g. `sample_weight` of compressed rows):
    /// every metric is that of the rows expanded by their weights. Not
    /// validated itself unless listed in `columns`.
    pub weight: Option<String>,
    /// Column roles by name (the configuration's `roles.*`), ahead of
    /// declared semantics and name rules; without `columns`, identifiers,
    /// targets and weights are left out.
    pub roles: BTreeMap<String, ColumnRole>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Text,
    /// Dates and timestamps: their earliest and latest value.
    Time,
    Other,
}

fn kind(ty: &DataType) -> Kind {
    match ty {
        t if t.is_numeric() => Kind::Number,
        t if t.is_temporal() && !matches!(t, DataType::Time32(_) | DataType::Time64(_)) => {
            Kind::Time
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8) => {
            Kind::Text
        }
        _ => Kind::Other,
    }
}

/// Numbers as floats with NaN read as missing; other columns as they are.
fn value(name: &str, k: Kind) -> Expr {
    if k == Kind::Number {
        number(name)
    } else {
        column(name)
    }
}

/// Validates `df`: metrics per column, thresholds applied, overall verdict.
///
/// ```
/// use scorelake::quality::{validate, Status, ValidateOptions, Metric};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql("SELECT * FROM (VALUES (1.0, 'a'), (NULL, 'a'), (3.0, 'b'), (5.0, 'a')) AS t(x, s)").await?;
/// let report = validate(&df, &ValidateOptions::default()).await?;
/// let x = &report.columns[0];
/// assert_eq!(x.metrics[&Metric::MissingRate], Some(0.25));
/// assert_eq!(x.metrics[&Metric::P99], Some(4.96)); // 3 + (5 − 3)·0.98
/// assert_eq!(report.columns[1].metrics[&Metric::TopShare], Some(0.75));
/// assert_eq!(report.status, Status::Warn); // 25 % missing > the default 5 % warning
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn validate(df: &DataFrame, options: &ValidateOptions) -> Result<ValidationReport> {
    let schema = df.schema().clone();
    ensure!(
        !schema.fields().is_empty(),
        "the input has no columns: nothing to validate"
    );
    // Without named columns: every column but the weight and, unless a
    // threshold names them, identifiers and targets.
    let (names, left_out): (Vec<String>, Vec<LeftOut>) = match &options.columns {
        Some(cols) => (cols.clone(), Vec::new()),
        None => {
            let (mut names, left_out) = measures(
                schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref())
                    .filter(|f| Some(f.name()) != options.weight.as_ref()),
                &options.roles,
                &[Role::Identifier, Role::Target, Role::Weight],
            );
            let (named, left_out): (Vec<LeftOut>, Vec<LeftOut>) = left_out
                .into_iter()
                .partition(|l| options.thresholds.columns.contains_key(&l.column));
            names.extend(named.into_iter().map(|l| l.column));
            let order = |n: &String| schema.index_of_column_by_name(None, n);
            names.sort_by_key(order);
            (names, left_out)
        }
    };
    let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let types: Vec<DataType> = names
        .iter()
        .map(|n| find(&schema, n, "column"))
        .collect::<Result<_>>()?;
    for c in options.thresholds.columns.keys() {
        ensure!(
            names.contains(c),
            "thresholds are given for column `{c}`, which is not {}",
            if all.contains(&c.as_str()) {
                "among the validated columns"
            } else {
                "in the input"
            }
        );
    }
    let kinds: Vec<Kind> = types.iter().map(kind).collect();
    let check = match &options.weight {
        Some(w) => Some(WeightCheck::new(df, w, "input")?),
        None => None,
    };
    // Exact numeric metrics come from sorted values; everything else (text,
    // sketches) from one aggregate pass.
    let (profiled, aggregated): (Vec<usize>, Vec<usize>) =
        (0..names.len()).partition(|i| kinds[*i] == Kind::Number && !options.approximate);
    let profiles = if profiled.is_empty() {
        None
    } else {
        let cols: Vec<String> = profiled.iter().map(|i| names[*i].clone()).collect();
        Some(
            profile(
                df,
                &cols,
                check.as_ref(),
                &[0.01, 0.99],
                budget(df),
                Wanted::All,
            )
            .await?,
        )
    };
    let row = if aggregated.is_empty() && profiles.is_some() {
        None
    } else {
        let cols: Vec<(usize, &String, Kind)> = aggregated
            .iter()
            .map(|i| (*i, &names[*i], kinds[*i]))
            .collect();
        Some(aggregate(df, &cols, check.as_ref(), options).await?)
    };
    let get = |name: &str| row.as_ref().and_then(|r| first_number(r, name));
    let (rows, total) = match &profiles {
        Some(p) => (p.rows, p.weight),
        None => (
            get("__rows").unwrap_or(0.0) as u64,
            get("__weight").unwrap_or(0.0),
        ),
    };
    let w = weight_or_one(options.weight.as_deref());
    let mut columns = Vec::new();
    for (i, (n, &k)) in names.iter().zip(&kinds).enumerate() {
        let mut metrics = BTreeMap::new();
        let by_profile = profiled
            .iter()
            .position(|j| *j == i)
            .and_then(|j| profiles.as_ref().map(|p| &p.columns[j]));
        let (present, unique) = match by_profile {
            // Profiled with every metric: the distinct count is there.
            Some(p) => (p.present, p.unique.unwrap_or_default()),
            None => (
                get(&format!("__{i}_n")).unwrap_or(0.0),
                get(&format!("__{i}_u")).unwrap_or(0.0),
            ),
        };
        metrics.insert(
            Metric::MissingRate,
            (total > 0.0).then(|| 1.0 - present / total),
        );
        metrics.insert(Metric::UniqueCount, Some(unique));
        metrics.insert(
            Metric::ZeroVariance,
            Some(if unique <= 1.0 { 1.0 } else { 0.0 }),
        );
        match (k, by_profile) {
            (Kind::Number, Some(p)) => {
                metrics.insert(Metric::Min, p.min);
                metrics.insert(Metric::Max, p.max);
                metrics.insert(Metric::Mean, p.mean);
                metrics.insert(Metric::Std, p.std);
                metrics.insert(Metric::P01, p.quantiles[0]);
                metrics.insert(Metric::P99, p.quantiles[1]);
            }
            (Kind::Number, None) => {
                let m = [
                    (Metric::Min, "min"),
                    (Metric::Max, "max"),
                    (Metric::Mean, "mean"),
                    (Metric::Std, "std"),
                    (Metric::P01, "p01"),
                    (Metric::P99, "p99"),
                ];
                for (metric, suffix) in m {
                    metrics.insert(metric, get(&format!("__{i}_{suffix}")));
                }
                if options.weight.is_some() {
                    let sum = get(&format!("__{i}_sum"));
                    metrics.insert(
                        Metric::Mean,
                        sum.filter(|_| present > 0.0).map(|s| s / present),
                    );
                }
            }
            (Kind::Text, _) => {
                let top = top_weight(df, n, &w).await?;
                metrics.insert(Metric::TopShare, (total > 0.0).then(|| top / total));
            }
            (Kind::Time | Kind::Other, _) => {}
        }
        let range = match (k, &row) {
            (Kind::Time, Some(row)) => Some((
                first_text(row, &format!("__{i}_min")),
                first_text(row, &format!("__{i}_max")),
            )),
            _ => None,
        };
        let mut report = ColumnReport {
            column: n.clone(),
            data_type: types[i].to_string(),
            metrics,
            range: match range {
                Some((Some(min), Some(max))) => Some(Range { min, max }),
                _ => None,
            },
            status: Status::Pass,
            findings: vec![],
        };
        report.judge(&options.thresholds);
        columns.push(report);
    }
    let status = columns
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(Status::Pass);
    Ok(ValidationReport {
        rows,
        weight: options.weight.as_ref().map(|_| total),
        approximate: options.approximate,
        columns,
        status,
        left_out,
    })
}

/// One aggregate pass: rows, total weight, the weight checks, and the
/// metrics of `cols` (index, name, kind) from the engine's aggregates.
async fn aggregate(
    df: &DataFrame,
    cols: &[(usize, &String, Kind)],
    check: Option<&WeightCheck>,
    options: &ValidateOptions,
) -> Result<Vec<RecordBatch>> {
    let weighted = check.is_some();
    let w = weight_or_one(options.weight.as_deref());
    let mut aggs = vec![
        count(lit(1)).alias("__rows"),
        sum(w.clone()).alias("__weight"),
    ];
    aggs.extend(check.iter().flat_map(|c| c.aggregates()));
    for &(i, n, k) in cols {
        let mut v = value(n, k);
        if weighted {
            // Rows of weight 0 are not there (as if expanded).
            let present = when(v.clone().is_not_null(), w.clone()).otherwise(lit(0.0))?;
            aggs.push(sum(present).alias(format!("__{i}_n")));
            v = when(w.clone().gt(lit(0.0)), v).end()?;
        } else {
            aggs.push(count(v.clone()).alias(format!("__{i}_n")));
        }
        let distinct = match (options.approximate, k == Kind::Number) {
            (false, _) => count_distinct(v.clone()),
            // The sketch takes integers and text, not floats (numbers are
            // floats here): a float's 64-bit sort key keeps every distinct
            // value apart (−0.0 as 0.0), and costs far less than its text.
            (true, true) => approx_distinct(sort_key(v.clone(), 0)),
            (true, false) => approx_distinct(v.clone()),
        };
        aggs.push(distinct.alias(format!("__{i}_u")));
        if k == Kind::Time {
            aggs.push(min(v.clone()).alias(format!("__{i}_min")));
            aggs.push(max(v.clone()).alias(format!("__{i}_max")));
        }
        if k == Kind::Number {
            // Only sketches come here: exact numeric metrics are profiled.
            aggs.push(min(v.clone()).alias(format!("__{i}_min")));
            aggs.push(max(v.clone()).alias(format!("__{i}_max")));
            if weighted {
                aggs.push(sum(v.clone() * w.clone()).alias(format!("__{i}_sum")));
                aggs.push(weighted_stddev(v.clone(), w.clone()).alias(format!("__{i}_std")));
            } else {
                aggs.push(avg(v.clone()).alias(format!("__{i}_mean")));
                aggs.push(stddev(v.clone()).alias(format!("__{i}_std")));
            }
            for (p, name) in [(0.01, "p01"), (0.99, "p99")] {
                let sorted = v.clone().sort(true, false);
                let q = if weighted {
                    approx_percentile_cont_with_weight(sorted, w.clone(), lit(p), None)
                } else {
                    approx_percentile_cont(sorted, lit(p), None)
                };
                aggs.push(q.alias(format!("__{i}_{name}")));
            }
        }
    }
    let row = df.clone().aggregate(vec![], aggs)?.collect().await?;
    if let Some(check) = check {
        check.verify(&row)?;
    }
    Ok(row)
}

/// Rows (weight) holding the most frequent non-null value of a text column.
async fn top_weight(df: &DataFrame, name: &str, w: &Expr) -> Result<f64> {
    let counts = df
        .clone()
        .filter(column(name).is_not_null())?
        .aggregate(vec![column(name)], vec![sum(w.clone()).alias("__c")])?
        .aggregate(vec![], vec![max(col("__c")).alias("__top")])?
        .collect()
        .await?;
    Ok(first_number(&counts, "__top").unwrap_or(0.0))
}
