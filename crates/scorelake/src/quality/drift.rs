//! Population stability: PSI of numeric columns and CSI of categorical ones,
//! between a baseline and a current data set, or per period of one panel.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast_with_options as arrow_cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::format::DEFAULT_CAST_OPTIONS;
use datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;
use serde::Serialize;

use super::report::short;
use super::roles::{LeftOut, Role, left_out_line, measures};
use crate::checks::{WeightCheck, weight_or_one};
use crate::config::ColumnRole;
use crate::error::{Error, Result, ensure, invalid, invalid_err};
use crate::expr::{column, is_text, number};
use crate::functions::bin_weights::{ascending_edges, bin_weights};
use crate::functions::float_list_at;
use crate::results::{first_number, number_at};
use crate::stats::{Wanted, budget, profile};

/// How numeric bins are cut on the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftBinning {
    /// Baseline quantiles at k/n (linear interpolation); equal edges merge.
    Quantile,
    /// Equal widths over the baseline's [min, max]; values outside fall in the end bins.
    EqualWidth,
}

impl fmt::Display for DriftBinning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriftBinning::Quantile => "quantile",
            DriftBinning::EqualWidth => "equal-width",
        })
    }
}

/// The most numeric bins a drift comparison cuts: far more than a PSI
/// needs, and few enough that the per-bin sums stay small.
pub const MAX_DRIFT_BINS: usize = 1000;

/// Drift settings.
#[derive(Clone, Debug)]
pub struct DriftOptions {
    /// How numeric bins are cut: one binning, or several computed together
    /// (edges from one pass over the baseline per kind, the counts of every
    /// binning in one pass per side); with several, each numeric column has
    /// one entry per binning, labelled with it.
    pub binnings: Vec<DriftBinning>,
    /// Number of numeric bins (before equal quantile edges merge), 1 to
    /// [`MAX_DRIFT_BINS`].
    pub bins: usize,
    /// Share used for a bin that is empty on one side (never ln 0): a
    /// finite number in (0, 1).
    pub floor: f64,
    /// PSI at or above this is `watch`.
    pub watch: f64,
    /// PSI above this is `shifted`.
    pub shifted: f64,
    /// A non-negative weight column (e.g. `sample_weight` of compressed rows).
    pub weight: Option<String>,
    /// Numeric columns to treat as categories (already-binned columns: CSI).
    pub categorical: Vec<String>,
    /// Column roles by name (the configuration's `roles.*`), ahead of
    /// declared semantics and name rules; without named columns,
    /// identifiers, targets, weights and times are left out.
    pub roles: BTreeMap<String, ColumnRole>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            binnings: vec![DriftBinning::Quantile],
            bins: 10,
            floor: 1e-4,
            watch: 0.1,
            shifted: 0.25,
            weight: None,
            categorical: vec![],
            roles: BTreeMap::new(),
        }
    }
}

/// The usual reading of a PSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Below `watch` (0.1).
    Stable,
    /// From `watch` to `shifted` (0.1–0.25).
    Watch,
    /// Above `shifted` (0.25).
    Shifted,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Stable => "stable",
            Verdict::Watch => "watch",
            Verdict::Shifted => "shifted",
        })
    }
}

/// One bin of a stability table.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DriftBin {
    /// `(a, b]`, `<= b`, `> a`, a category, or `null`.
    pub bin: String,
    /// Share of the baseline (of its weight) in the bin.
    pub baseline: f64,
    /// Share of the current data in the bin.
    pub current: f64,
    /// (c − b)·ln(c/b) with empty shares floored.
    pub contribution: f64,
}

/// Stability of one column.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ColumnDrift {
    /// Column.
    pub column: String,
    /// `psi` (numeric bins) or `csi` (categories).
    pub method: String,
    /// The binning of a numeric column, when several were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binning: Option<DriftBinning>,
    /// Period compared with the baseline (by-period reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The index: the sum of the contributions.
    pub value: f64,
    /// Reading of the value.
    pub verdict: Verdict,
    /// The bins.
    pub bins: Vec<DriftBin>,
}

/// A drift report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DriftReport {
    /// One entry per column (and period).
    pub columns: Vec<ColumnDrift>,
    /// Columns left out for their role (identifiers, targets) when no
    /// columns were named.
    pub left_out: Vec<LeftOut>,
}

/// How one column is binned: inner edges of numeric bins, or categories.
#[derive(Clone, Debug)]
enum Bins {
    Numeric(Vec<f64>),
    Categories,
}

struct Plan {
    name: String,
    bins: Bins,
    /// Set when several binnings are compared (it labels the entry).
    binning: Option<DriftBinning>,
}

fn weight(options: &DriftOptions) -> Expr {
    weight_or_one(options.weight.as_deref())
}

/// PSI/CSI of `columns` (all shared columns when `None`) between `baseline` and `current`.
///
/// ```
/// use scorelake::quality::{drift, DriftOptions, DriftBinning, Verdict};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let base = session.ctx().sql("SELECT * FROM (VALUES (1.0), (2.0), (3.0), (4.0)) AS t(x)").await?;
/// let now = session.ctx().sql("SELECT * FROM (VALUES (1.0), (4.0), (4.0), (4.0)) AS t(x)").await?;
/// let options = DriftOptions { binnings: vec![DriftBinning::EqualWidth], bins: 2, ..DriftOptions::default() };
/// let report = drift(&base, &now, None, &options).await?;
/// // bins (≤ 2.5] and (> 2.5]: baseline 50/50, current 25/75
/// let psi = (0.25f64 - 0.5) * (0.25f64 / 0.5).ln() + (0.75f64 - 0.5) * (0.75f64 / 0.5).ln();
/// assert!((report.columns[0].value - psi).abs() < 1e-12);
/// assert_eq!(report.columns[0].verdict, Verdict::Shifted); // 0.27 > 0.25
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn drift(
    baseline: &DataFrame,
    current: &DataFrame,
    columns: Option<&[String]>,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let (names, left_out) = shared_columns(baseline, Some(current), columns, options)?;
    check_weight(baseline, "baseline", options).await?;
    check_weight(current, "current", options).await?;
    let plans = plan_bins(baseline, &names, options).await?;
    let base = shares(baseline, &plans, None, options).await?;
    let now = shares(current, &plans, None, options).await?;
    let rows = |m: &BTreeMap<String, f64>| m.values().sum::<f64>();
    if now
        .get(&None)
        .and_then(|v| v.first())
        .is_none_or(|m| rows(m) <= 0.0)
    {
        return Err(Error::InvalidInput(
            "the current data has no rows (or no weight): nothing to compare".into(),
        ));
    }
    let mut out = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let b = base.get(&None).map(|v| &v[i]);
        let c = now.get(&None).map(|v| &v[i]);
        out.push(compare(p, b, c, None, options));
    }
    Ok(DriftReport {
        columns: out,
        left_out,
    })
}

/// PSI/CSI of every period of `df` (by `period_column`) against the rows of
/// `baseline_periods`: the stability table of scorecard monitoring.
pub async fn drift_by_period(
    df: &DataFrame,
    period_column: &str,
    baseline_periods: &[String],
    columns: Option<&[String]>,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let base = Periods::read(df, period_column, baseline_periods, "baseline")?;
    base.check_present(df, None).await?;
    let in_base = base.selects();
    let baseline = df.clone().filter(in_base.clone())?;
    let (names, left_out) = shared_columns(df, None, columns, options)?;
    let names: Vec<String> = names.into_iter().filter(|n| n != period_column).collect();
    check_weight(df, "input", options).await?;
    let plans = plan_bins(&baseline, &names, options).await?;
    let base = shares(&baseline, &plans, None, options).await?;
    if base.is_empty() {
        return invalid_err!(
            "no rows have {period_column} in {}",
            baseline_periods.join(", ")
        );
    }
    let rest = df.clone().filter(!in_base)?;
    let by_period = shares(&rest, &plans, Some(column(period_column)), options).await?;
    let mut out = Vec::new();
    for (label, current) in &by_period {
        for (i, p) in plans.iter().enumerate() {
            let b = base.get(&None).map(|v| &v[i]);
            out.push(compare(p, b, Some(&current[i]), label.clone(), options));
        }
    }
    Ok(DriftReport {
        columns: out,
        left_out,
    })
}

/// PSI/CSI between two groups of periods of one table (e.g. the first and
/// the second year of a panel): bins from the baseline periods, then every
/// period's bin weights in one pass grouped by the period column as it is
/// (no filter, no side label computed per row), summed per side here.
pub async fn drift_between_periods(
    df: &DataFrame,
    period_column: &str,
    baseline_periods: &[String],
    current_periods: &[String],
    columns: Option<&[String]>,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let base = Periods::read(df, period_column, baseline_periods, "baseline")?;
    let now = Periods::read(df, period_column, current_periods, "current")?;
    // Compared as values: `1` and `1.0` are one period of a number column.
    if let Some((p, _)) = base
        .given
        .iter()
        .zip(&base.values)
        .find(|(_, v)| now.values.contains(v))
    {
        return invalid_err!("period {p} is both a baseline and a current period");
    }
    base.check_present(df, Some(&now)).await?;
    let (names, left_out) = shared_columns(df, None, columns, options)?;
    let names: Vec<String> = names.into_iter().filter(|n| n != period_column).collect();
    check_weight(df, "input", options).await?;
    let baseline = df.clone().filter(base.selects())?;
    let plans = plan_bins(&baseline, &names, options).await?;
    let by_period = shares(df, &plans, Some(column(period_column)), options).await?;
    let (b, c) = (
        base.sum_of(&by_period, plans.len())?,
        now.sum_of(&by_period, plans.len())?,
    );
    let rows = |m: &BTreeMap<String, f64>| m.values().sum::<f64>();
    if c.first().is_none_or(|m| rows(m) <= 0.0) {
        return Err(Error::InvalidInput(
            "the current data has no rows (or no weight): nothing to compare".into(),
        ));
    }
    Ok(DriftReport {
        columns: plans
            .iter()
            .enumerate()
            .map(|(i, p)| compare(p, Some(&b[i]), Some(&c[i]), None, options))
            .collect(),
        left_out,
    })
}

/// One side's periods: as given (text such as `2024-01-01`) and read as the
/// period column's type, so rows are compared without conversion.
struct Periods<'a> {
    column: &'a str,
    side: &'a str,
    given: &'a [String],
    values: Vec<ScalarValue>,
}

impl<'a> Periods<'a> {
    /// Reads `given` as values of `column`; a text that is not one is
    /// refused by name.
    fn read(df: &DataFrame, column: &'a str, given: &'a [String], side: &'a str) -> Result<Self> {
        let ty = df
            .schema()
            .field_with_unqualified_name(column)
            .map_err(|_| invalid!("period column `{column}` is not in the input"))?
            .data_type()
            .clone();
        if given.is_empty() {
            return invalid_err!("no {side} periods given");
        }
        let values = given
            .iter()
            .map(|p| {
                ScalarValue::Utf8(Some(p.clone()))
                    .cast_to(&ty)
                    .ok()
                    .filter(|v| !v.is_null())
                    .ok_or_else(|| {
                        invalid!(
                            "{side} period `{p}` is not a value of period column `{column}` ({ty})"
                        )
                    })
            })
            .collect::<Result<Vec<ScalarValue>>>()?;
        Ok(Periods {
            column,
            side,
            given,
            values,
        })
    }

    /// Rows whose period is one of these.
    fn selects(&self) -> Expr {
        let values = self.values.iter().cloned().map(lit).collect();
        column(self.column).in_list(values, false)
    }

    /// Refuses, by name, a period of these (or of `other`) that no row of
    /// `df` has: a side made of absent periods would compare against
    /// nothing. One scan of the period column for both sides.
    async fn check_present(&self, df: &DataFrame, other: Option<&Periods<'_>>) -> Result<()> {
        let selects = match other {
            Some(o) => self.selects().or(o.selects()),
            None => self.selects(),
        };
        let batches = df
            .clone()
            .filter(selects)?
            .aggregate(vec![column(self.column)], vec![])?
            .collect()
            .await?;
        let mut found = Vec::new();
        for b in &batches {
            for i in 0..b.num_rows() {
                found.push(ScalarValue::try_from_array(b.column(0), i)?);
            }
        }
        for side in std::iter::once(self).chain(other) {
            let missing: Vec<&str> = side
                .given
                .iter()
                .zip(&side.values)
                .filter(|(_, v)| !found.contains(v))
                .map(|(p, _)| p.as_str())
                .collect();
            ensure!(
                missing.is_empty(),
                "no row has {} period {} in period column `{}`",
                side.side,
                missing.join(", "),
                self.column
            );
        }
        Ok(())
    }

    /// The weights per bin of these periods together, from weights grouped
    /// by the period column (labelled as [`shares`] labels its groups).
    fn sum_of(&self, by_period: &Shares, plans: usize) -> Result<Vec<BTreeMap<String, f64>>> {
        let array = ScalarValue::iter_to_array(self.values.iter().cloned())?;
        let mut out = vec![BTreeMap::new(); plans];
        // A period given twice (also as `1` and `1.0`) counts once.
        let periods: BTreeSet<String> = labels(&array)?.into_iter().flatten().collect();
        for label in periods {
            for (sum, bins) in out
                .iter_mut()
                .zip(by_period.get(&Some(label)).into_iter().flatten())
            {
                for (bin, w) in bins {
                    *sum.entry(bin.clone()).or_insert(0.0) += w;
                }
            }
        }
        Ok(out)
    }
}

/// The columns to compare: present (with the same kind) in both data sets.
/// The columns to compare (those named, else every number and category
/// but identifiers and targets) and those left out for their role.
fn shared_columns(
    baseline: &DataFrame,
    current: Option<&DataFrame>,
    columns: Option<&[String]>,
    options: &DriftOptions,
) -> Result<(Vec<String>, Vec<LeftOut>)> {
    let b = baseline.schema();
    let (names, left_out): (Vec<String>, Vec<LeftOut>) = match columns {
        Some(c) => (c.to_vec(), Vec::new()),
        None => measures(
            b.fields()
                .iter()
                .map(|f| f.as_ref())
                .filter(|f| f.data_type().is_numeric() || is_text(f.data_type()))
                .filter(|f| Some(f.name()) != options.weight.as_ref()),
            &options.roles,
            &[Role::Identifier, Role::Target, Role::Weight, Role::Time],
        ),
    };
    for n in &names {
        let bt = b
            .field_with_unqualified_name(n)
            .map_err(|_| invalid!("column `{n}` is not in the baseline"))?
            .data_type();
        ensure!(
            bt.is_numeric() || is_text(bt),
            "column `{n}` is {bt}; drift needs numbers or categories"
        );
        if let Some(c) = current {
            let ct = c
                .schema()
                .field_with_unqualified_name(n)
                .map_err(|_| {
                    invalid!("column `{n}` is in the baseline but not in the current data")
                })?
                .data_type();
            if bt.is_numeric() != ct.is_numeric() {
                return invalid_err!(
                    "column `{n}` is {bt} in the baseline but {ct} in the current data"
                );
            }
        }
    }
    if names.is_empty() {
        return Err(Error::InvalidInput(
            "no numeric or categorical columns to compare".into(),
        ));
    }
    Ok((names, left_out))
}

/// Weights must be present and non-negative.
async fn check_weight(df: &DataFrame, which: &str, options: &DriftOptions) -> Result<()> {
    match &options.weight {
        Some(w) => WeightCheck::new(df, w, which)?.run(df).await,
        None => Ok(()),
    }
}

/// Numeric edges from the baseline: exact quantiles from one profile of
/// the columns ([`profile`]), which also gives their range for equal
/// widths; the ranges of columns not profiled and the categorical columns'
/// presence from one aggregate.
async fn plan_bins(
    baseline: &DataFrame,
    names: &[String],
    options: &DriftOptions,
) -> Result<Vec<Plan>> {
    if !(1..=MAX_DRIFT_BINS).contains(&options.bins) {
        return Err(Error::OutOfRange {
            context: "drift".into(),
            option: "bins".into(),
            expected: format!("between 1 and {MAX_DRIFT_BINS}"),
            got: options.bins.to_string(),
        });
    }
    // A floor of 0 (or NaN) would make an empty bin's term infinite (or NaN)
    // and the comparison read as stable.
    let floor = options.floor;
    ensure!(
        floor.is_finite() && floor > 0.0 && floor < 1.0,
        "floor must be a finite number in (0, 1); got {floor}"
    );
    let schema = baseline.schema().clone();
    let numeric = |n: &str| {
        schema
            .field_with_unqualified_name(n)
            .map(|f| f.data_type().is_numeric())
            .unwrap_or(false)
            && !options.categorical.iter().any(|c| c == n)
    };
    let binnings = &options.binnings;
    ensure!(!binnings.is_empty(), "drift needs at least one binning");
    let repeated = binnings
        .iter()
        .enumerate()
        .find(|(i, b)| binnings[..*i].contains(b));
    if let Some((_, b)) = repeated {
        return invalid_err!("binning `{b}` is given twice");
    }
    let quantiles = binnings.contains(&DriftBinning::Quantile);
    let widths = binnings.contains(&DriftBinning::EqualWidth);
    let profiled: Vec<String> = names
        .iter()
        .filter(|n| quantiles && numeric(n))
        .cloned()
        .collect();
    let profiles = if profiled.is_empty() {
        None
    } else {
        let check = match &options.weight {
            Some(w) => Some(WeightCheck::new(baseline, w, "baseline")?),
            None => None,
        };
        let ps: Vec<f64> = (1..options.bins)
            .map(|k| k as f64 / options.bins as f64)
            .collect();
        Some(
            profile(
                baseline,
                &profiled,
                check.as_ref(),
                &ps,
                budget(baseline),
                Wanted::Quantiles,
            )
            .await?,
        )
    };
    let mut aggs = vec![count(lit(1)).alias("__rows")];
    for (i, n) in names.iter().enumerate() {
        let x = if numeric(n) { number(n) } else { column(n) };
        if !profiled.contains(n) {
            // Weight of the rows with a value (rows of weight 0 are not there).
            let present = when(x.clone().is_not_null(), weight(options)).otherwise(lit(0.0))?;
            aggs.push(sum(present).alias(format!("__{i}_n")));
        }
        if numeric(n) && widths && !profiled.contains(n) {
            // Equal widths (quantile edges are profiled).
            let x = when(weight(options).gt(lit(0.0)), x.clone())
                .otherwise(lit(ScalarValue::Float64(None)))?;
            aggs.push(min(x.clone()).alias(format!("__{i}_lo")));
            aggs.push(max(x).alias(format!("__{i}_hi")));
        }
    }
    let row = if aggs.len() > 1 {
        baseline.clone().aggregate(vec![], aggs)?.collect().await?
    } else {
        vec![]
    };
    let mut plans = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let profiled = profiled
            .iter()
            .position(|p| p == n)
            .and_then(|j| profiles.as_ref().map(|p| &p.columns[j]));
        let present = match profiled {
            Some(p) => p.present,
            None => first_number(&row, &format!("__{i}_n")).unwrap_or(0.0),
        };
        if present == 0.0 {
            return invalid_err!(
                "column `{n}` has no values in the baseline: its PSI is undefined"
            );
        }
        if !numeric(n) {
            plans.push(Plan {
                name: n.clone(),
                bins: Bins::Categories,
                binning: None,
            });
            continue;
        }
        for &binning in binnings {
            let edges = match (binning, profiled) {
                (DriftBinning::Quantile, Some(p)) => {
                    p.quantiles.iter().flatten().copied().collect()
                }
                _ => {
                    // The range of the values of weight above 0.
                    let (lo, hi) = match profiled {
                        Some(p) => (p.min, p.max),
                        None => (
                            first_number(&row, &format!("__{i}_lo")),
                            first_number(&row, &format!("__{i}_hi")),
                        ),
                    };
                    let (lo, hi) = (lo.unwrap_or(0.0), hi.unwrap_or(0.0));
                    let k = options.bins as f64;
                    (1..options.bins)
                        .map(|j| lo + (hi - lo) * j as f64 / k)
                        .collect()
                }
            };
            plans.push(Plan {
                name: n.clone(),
                bins: Bins::Numeric(ascending_edges(edges)),
                binning: (binnings.len() > 1).then_some(binning),
            });
        }
    }
    Ok(plans)
}

/// Per group (None: everything), per column: weight per bin label.
type Shares = BTreeMap<Option<String>, Vec<BTreeMap<String, f64>>>;

/// Weights per bin for every column, in one grouped pass for numeric
/// columns (`bin_weights`: one count of edges per row and column) and one per
/// categorical column.
async fn shares(
    df: &DataFrame,
    plans: &[Plan],
    group: Option<Expr>,
    options: &DriftOptions,
) -> Result<Shares> {
    let w = weight(options);
    let keys: Vec<Expr> = group.iter().map(|g| g.clone().alias("__group")).collect();
    let mut out: Shares = BTreeMap::new();
    let mut aggs = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        if let Bins::Numeric(inner) = &p.bins {
            // NaN falls in the null bin there: no NaN-to-null step per row.
            let x = cast(column(&p.name), DataType::Float64);
            aggs.push(bin_weights(x, w.clone(), inner).alias(format!("__{i}")));
        }
    }
    let ensure = |out: &mut Shares, g: &Option<String>| {
        out.entry(g.clone())
            .or_insert_with(|| vec![BTreeMap::new(); plans.len()]);
    };
    if !aggs.is_empty() {
        let batches = df.clone().aggregate(keys.clone(), aggs)?.collect().await?;
        for b in &batches {
            let groups = group_labels(b, group.is_some())?;
            for (r, g) in groups.into_iter().enumerate() {
                let Some(g) = g else { continue };
                ensure(&mut out, &g);
                for (i, p) in plans.iter().enumerate() {
                    if !matches!(p.bins, Bins::Numeric(_)) {
                        continue;
                    }
                    let Some(weights) = b
                        .column_by_name(&format!("__{i}"))
                        .and_then(|c| float_list_at(c, r))
                    else {
                        continue;
                    };
                    for (j, v) in weights.into_iter().enumerate() {
                        if j == 0 && v == 0.0 {
                            continue;
                        }
                        if let Some(slot) = out.get_mut(&g) {
                            slot[i].insert(bin_key(j), v);
                        }
                    }
                }
            }
        }
    }
    for (i, p) in plans.iter().enumerate() {
        if !matches!(p.bins, Bins::Categories) {
            continue;
        }
        let category = cast(column(&p.name), DataType::Utf8).alias("__category");
        let mut by = keys.clone();
        by.push(category);
        let batches = df
            .clone()
            .aggregate(by, vec![sum(w.clone()).alias("__w")])?
            .collect()
            .await?;
        for b in &batches {
            let groups = group_labels(b, group.is_some())?;
            for (r, g) in groups.into_iter().enumerate() {
                let Some(g) = g else { continue };
                ensure(&mut out, &g);
                let c = text_at(b, "__category", r).unwrap_or_else(|| "(null)".into());
                let v = number_at(b, "__w", r).unwrap_or(0.0);
                if let Some(slot) = out.get_mut(&g) {
                    *slot[i].entry(c).or_default() += v;
                }
            }
        }
    }
    Ok(out)
}

/// Numeric bins are keyed by their zero-padded number, so maps keep bin order.
fn bin_key(j: usize) -> String {
    format!("{j:020}")
}

/// Bin `j` for people: `null`, `<= e1`, `(e1, e2]`, …, `> e(k−1)`.
fn numeric_label(inner: &[f64], j: usize) -> String {
    let k = inner.len() + 1;
    let e = |i: usize| short(inner[i]);
    if j == 0 {
        "null".to_string()
    } else if k == 1 {
        "all values".to_string()
    } else if j == 1 {
        format!("<= {}", e(0))
    } else if j == k {
        format!("> {}", e(k - 2))
    } else {
        format!("({}, {}]", e(j - 2), e(j - 1))
    }
}

fn compare(
    plan: &Plan,
    base: Option<&BTreeMap<String, f64>>,
    now: Option<&BTreeMap<String, f64>>,
    period: Option<String>,
    options: &DriftOptions,
) -> ColumnDrift {
    let empty = BTreeMap::new();
    let (base, now) = (base.unwrap_or(&empty), now.unwrap_or(&empty));
    let total = |m: &BTreeMap<String, f64>| m.values().sum::<f64>();
    let (tb, tc) = (total(base), total(now));
    let mut labels: Vec<&String> = base.keys().chain(now.keys()).collect();
    labels.sort();
    labels.dedup();
    let share = |m: &BTreeMap<String, f64>, t: f64, l: &String| {
        let s = if t > 0.0 {
            m.get(l).copied().unwrap_or(0.0) / t
        } else {
            0.0
        };
        if s == 0.0 { options.floor } else { s }
    };
    let numeric = matches!(plan.bins, Bins::Numeric(_));
    let bins: Vec<DriftBin> = labels
        .into_iter()
        .map(|l| {
            let (b, c) = (share(base, tb, l), share(now, tc, l));
            let bin = match (&plan.bins, l.parse::<usize>()) {
                (Bins::Numeric(inner), Ok(j)) => numeric_label(inner, j),
                _ => l.clone(),
            };
            DriftBin {
                bin,
                baseline: b,
                current: c,
                contribution: (c - b) * (c / b).ln(),
            }
        })
        .collect();
    let value: f64 = bins.iter().map(|b| b.contribution).sum();
    let verdict = if value > options.shifted {
        Verdict::Shifted
    } else if value >= options.watch {
        Verdict::Watch
    } else {
        Verdict::Stable
    };
    ColumnDrift {
        column: plan.name.clone(),
        method: if numeric { "psi" } else { "csi" }.into(),
        binning: plan.binning,
        period,
        value,
        verdict,
        bins,
    }
}

/// Per row of an aggregate's result, its group: `Some(None)` without
/// grouping, `Some(Some(label))` for a group's value as text, `None` for
/// the null group (no period, left out).
fn group_labels(b: &RecordBatch, grouped: bool) -> Result<Vec<Option<Option<String>>>> {
    match b.column_by_name("__group") {
        Some(keys) if grouped => Ok(labels(keys)?.into_iter().map(|l| l.map(Some)).collect()),
        _ => Ok(vec![Some(None); b.num_rows()]),
    }
}

/// Values as text, as SQL's `CAST(x AS VARCHAR)` writes them.
fn labels(values: &ArrayRef) -> Result<Vec<Option<String>>> {
    let text = arrow_cast(values, &DataType::Utf8, &DEFAULT_CAST_OPTIONS)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|t| t.map(str::to_string))
        .collect())
}

fn text_at(b: &RecordBatch, name: &str, r: usize) -> Option<String> {
    let a = b.column_by_name(name)?;
    if a.is_null(r) {
        return None;
    }
    match ScalarValue::try_from_array(a, r).ok()? {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s,
        other => Some(other.to_string()),
    }
}

impl ColumnDrift {
    /// The method with its binning when several were compared:
    /// `psi (equal-width)`.
    pub(super) fn method_label(&self) -> String {
        match self.binning {
            Some(b) => format!("{} ({b})", self.method),
            None => self.method.clone(),
        }
    }
}

impl DriftReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A summary table (column, period, method, value, verdict), then each
    /// column's bins when `detail` is set.
    pub fn to_markdown(&self, detail: bool) -> String {
        let periods = self.columns.iter().any(|c| c.period.is_some());
        let mut out = String::from(if periods {
            "| period | column | method | value | verdict |\n|---|---|---|---|---|\n"
        } else {
            "| column | method | value | verdict |\n|---|---|---|---|\n"
        });
        for c in &self.columns {
            if let Some(p) = &c.period {
                let _ = write!(out, "| {p} ");
            }
            let _ = writeln!(
                out,
                "| {} | {} | {:.4} | {} |",
                c.column,
                c.method_label(),
                c.value,
                c.verdict
            );
        }
        out.push_str(&left_out_line(&self.left_out));
        if detail {
            for c in &self.columns {
                let at = c
                    .period
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "\n{}{at}: {} {:.4} {}\n\n| bin | baseline | current | contribution |\n|---|---|---|---|\n",
                    c.column,
                    c.method_label(),
                    c.value,
                    c.verdict
                );
                for b in &c.bins {
                    let _ = writeln!(
                        out,
                        "| {} | {:.4} | {:.4} | {:.5} |",
                        b.bin, b.baseline, b.current, b.contribution
                    );
                }
            }
        }
        out
    }
}
