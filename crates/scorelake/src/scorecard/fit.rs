//! Fitting a binning: checks and totals in one pass, exact (weighted)
//! quantile edges from sorted values, the weight and events of every
//! pre-bin of every numeric variable in one more pass (`bin_weights`), one
//! grouped pass per categorical variable, then merging in memory.

use std::collections::BTreeMap;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;

use super::binning::{Bin, Binning, FORMAT, VariableBins, VariableKind, edge_label};
use super::optimal::{Constraints, Monotonic, merge_optimal};
use super::spec::{BinMethod, BinningSpec, ResolvedSettings};
use super::totals::Totals;
use super::woe::{Counts, evidence};
use crate::checks::TargetCheck;
use crate::checks::{WeightCheck, weight_or_one};
use crate::error::{Error, Result, invalid, invalid_err};
use crate::expr::{column, find, is_text, number};
use crate::functions::bin_weights::{ascending_edges, bin_weights};
use crate::functions::float_list_at;
use crate::results::{first_number, number_at};
use crate::stats::{Wanted, budget, profile};

struct Variable {
    column: String,
    kind: VariableKind,
    constraints: Constraints,
    settings: ResolvedSettings,
}

/// The bins of a variable before WoE: bin number, label, counts.
type Tally = Vec<(i32, String, Counts)>;

/// Fits `spec` on `df`: the target must be 0/1, weights numbers ≥ 0.
///
/// ```
/// use scorelake::scorecard::{fit_binning, BinningSpec};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql(
///     "SELECT CAST(v AS DOUBLE) AS x, CAST(v > 60 AS INT) AS y FROM generate_series(1, 100) AS t(v)").await?;
/// let spec = BinningSpec::parse("target: y\ndefaults: {method: equal_width, bins: 2}\nvariables: [x]\n", "yaml")?;
/// let binning = fit_binning(&df, &spec).await?;
/// let x = &binning.variables[0];
/// assert_eq!(x.edges, vec![50.5]);
/// assert_eq!(x.bin(2).unwrap().counts.events, 40.0); // 61..=100
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn fit_binning(df: &DataFrame, spec: &BinningSpec) -> Result<Binning> {
    let fitting = Fitting::prepare(df, spec).await?;
    let counts = fitting.pre_bin_counts(df).await?;
    fitting.finish(df, counts).await
}

/// The weight and events of a numeric variable's missing, special and
/// regular (pre-)bins.
#[derive(Clone, Debug, Default)]
pub(super) struct BinCounts {
    pub(super) missing: Counts,
    /// One per special value, in the spec's order (bins −1, −2, …).
    pub(super) special: Vec<Counts>,
    /// One per regular (pre-)bin, bin 1 first.
    pub(super) regular: Vec<Counts>,
}

impl BinCounts {
    /// Room for the bins of a variable with `specials` special values and
    /// `edges` inner edges.
    pub(super) fn empty(specials: usize, edges: usize) -> BinCounts {
        BinCounts {
            missing: Counts::default(),
            special: vec![Counts::default(); specials],
            regular: vec![Counts::default(); edges + 1],
        }
    }

    /// Adds `weight` and `events` to bin number `bin` (0 missing, −1, −2, …
    /// special, 1, 2, … regular); `false` for a number it has no bin for.
    pub(super) fn add(&mut self, bin: i32, weight: f64, events: f64) -> bool {
        let slot = match bin {
            0 => Some(&mut self.missing),
            b if b < 0 => self.special.get_mut((-b - 1) as usize),
            b => self.regular.get_mut(b as usize - 1),
        };
        match slot {
            Some(c) => {
                *c = c.plus(side(weight, events));
                true
            }
            None => false,
        }
    }
}

/// A binning being fitted: the variables, the input's totals (target and
/// weights checked) and the numeric variables' (pre-)bin edges; what is
/// left is counting the rows per bin.
pub(super) struct Fitting {
    target: String,
    weight: Option<String>,
    variables: Vec<Variable>,
    /// Edges of each numeric variable, by its place in `variables`.
    edges: BTreeMap<usize, Vec<f64>>,
    rows: u64,
    total: f64,
    total_events: f64,
    w: Expr,
    y: Expr,
}

impl Fitting {
    /// Checks the spec against `df`, then one pass for totals and checks
    /// and the profiles of quantile edges.
    pub(super) async fn prepare(df: &DataFrame, spec: &BinningSpec) -> Result<Fitting> {
        let target = TargetCheck::new(df, &spec.target)?;
        let weight_check = match &spec.weight {
            Some(w) => Some(WeightCheck::new(df, w, "fitting")?),
            None => None,
        };
        let mut variables = Vec::new();
        for (column, constraints, settings) in spec.resolved()? {
            let ty = find(df.schema(), &column, "binned column")?;
            if settings.splits.is_some() && is_text(&ty) {
                return invalid_err!(
                    "binned column `{column}` is {ty}: splits cut numbers; give groups for categories"
                );
            }
            let as_categories = settings.categorical == Some(true) || settings.groups.is_some();
            let kind = if is_text(&ty) || (ty.is_numeric() && as_categories) {
                VariableKind::Categorical
            } else if ty.is_numeric() {
                VariableKind::Numeric
            } else {
                return invalid_err!(
                    "binned column `{column}` is {ty}; expected numbers or categories"
                );
            };
            variables.push(Variable {
                column,
                kind,
                constraints,
                settings,
            });
        }
        let w = weight_or_one(spec.weight.as_deref());
        let y = target.value();

        // Pass 1: totals, checks, equal-width ranges.
        let mut aggs = vec![
            count(lit(1)).alias("__rows"),
            sum(w.clone()).alias("__weight"),
        ];
        aggs.extend(target.aggregates(&w)?);
        aggs.extend(weight_check.iter().flat_map(WeightCheck::aggregates));
        for (i, v) in variables.iter().enumerate() {
            if v.kind == VariableKind::Numeric && v.settings.method == BinMethod::EqualWidth {
                let x = when(w.clone().gt(lit(0.0)), regular(v)?)
                    .otherwise(lit(ScalarValue::Float64(None)))?;
                aggs.push(min(x.clone()).alias(format!("__{i}_lo")));
                aggs.push(max(x).alias(format!("__{i}_hi")));
            }
        }
        let row = df.clone().aggregate(vec![], aggs)?.collect().await?;
        if let Some(check) = &weight_check {
            check.verify(&row)?;
        }
        let total_events = target.verify(&row)?;
        let total = first_number(&row, "__weight").unwrap_or(0.0);
        if total <= 0.0 {
            return Err(Error::InvalidInput(
                "nothing to bin: no rows (or zero total weight)".into(),
            ));
        }

        // Quantile edges: one profile per distinct set of quantiles.
        let mut edges: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let mut by_count: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, v) in variables.iter().enumerate() {
            if v.kind != VariableKind::Numeric {
                continue;
            }
            match v.settings.method {
                BinMethod::Manual => {
                    edges.insert(i, v.settings.splits.clone().unwrap_or_default());
                }
                BinMethod::Optimal => by_count.entry(v.settings.prebins).or_default().push(i),
                BinMethod::Quantile => by_count.entry(v.settings.bins).or_default().push(i),
                BinMethod::EqualWidth => {
                    let lo = first_number(&row, &format!("__{i}_lo"));
                    let hi = first_number(&row, &format!("__{i}_hi"));
                    let n = v.settings.bins;
                    let e = match (lo, hi) {
                        (Some(lo), Some(hi)) => (1..n)
                            .map(|j| lo + (hi - lo) * j as f64 / n as f64)
                            .collect(),
                        _ => vec![],
                    };
                    edges.insert(i, ascending_edges(e));
                }
            }
        }
        for (n, members) in &by_count {
            let cols: Vec<String> = members.iter().map(|i| format!("__{i}")).collect();
            let mut exprs: Vec<Expr> = Vec::new();
            for i in members {
                exprs.push(regular(&variables[*i])?.alias(format!("__{i}")));
            }
            if let Some(wc) = &spec.weight {
                exprs.push(column(wc));
            }
            let projected = df.clone().select(exprs)?;
            let check = match &spec.weight {
                Some(wc) => Some(WeightCheck::new(&projected, wc, "fitting")?),
                None => None,
            };
            let ps: Vec<f64> = (1..*n).map(|k| k as f64 / *n as f64).collect();
            let profiles = profile(
                &projected,
                &cols,
                check.as_ref(),
                &ps,
                budget(df),
                Wanted::Quantiles,
            )
            .await?;
            for (i, p) in members.iter().zip(profiles.columns) {
                edges.insert(
                    *i,
                    ascending_edges(p.quantiles.into_iter().flatten().collect()),
                );
            }
        }

        Ok(Fitting {
            target: spec.target.clone(),
            weight: spec.weight.clone(),
            variables,
            edges,
            rows: first_number(&row, "__rows").unwrap_or(0.0) as u64,
            total,
            total_events,
            w,
            y,
        })
    }

    /// The input's rows, weight and events.
    pub(super) fn totals(&self) -> Totals {
        Totals {
            rows: self.rows,
            weight: self.total,
            events: self.total_events,
        }
    }

    /// Whether every variable's bins are known before counting (numeric,
    /// not merged from pre-bins), so counts can come from rows grouped by
    /// the bins themselves.
    pub(super) fn bins_are_final(&self) -> bool {
        self.variables
            .iter()
            .all(|v| v.kind == VariableKind::Numeric && v.settings.method != BinMethod::Optimal)
    }

    /// The numeric variables as bins without counts: what rows are binned
    /// by before they are counted.
    pub(super) fn uncounted(&self) -> Result<Vec<VariableBins>> {
        let mut out = Vec::new();
        for (i, v) in self.variables.iter().enumerate() {
            if let Some(edges) = self.edges.get(&i) {
                let empty = BinCounts::empty(v.settings.special_values.len(), edges.len());
                out.push(numeric(v, edges, empty)?);
            }
        }
        Ok(out)
    }

    /// The numeric variables' counts from rows grouped by (at least) their
    /// bin columns, `bin_column(variable)`, with the rows' `weight` and
    /// `events` columns.
    pub(super) fn counts_of_groups(
        &self,
        rows: &[RecordBatch],
        bin_column: impl Fn(&str) -> String,
        weight: &str,
        events: &str,
    ) -> Result<BTreeMap<usize, BinCounts>> {
        let mut out = BTreeMap::new();
        for (i, edges) in &self.edges {
            let v = &self.variables[*i];
            let mut counts = BinCounts::empty(v.settings.special_values.len(), edges.len());
            let name = bin_column(&v.column);
            for batch in rows {
                let (Some(bins), Some(w), Some(e)) = (
                    batch.column_by_name(&name),
                    batch.column_by_name(weight),
                    batch.column_by_name(events),
                ) else {
                    return invalid_err!("grouped rows without `{name}`, `{weight}` or `{events}`");
                };
                let bins = bins.as_primitive::<Int32Type>();
                let (w, e) = (
                    w.as_primitive::<Float64Type>(),
                    e.as_primitive::<Float64Type>(),
                );
                for r in 0..batch.num_rows() {
                    if !counts.add(bins.value(r), w.value(r), e.value(r)) {
                        return invalid_err!(
                            "`{name}` holds bin {}, which variable `{}` does not have",
                            bins.value(r),
                            v.column
                        );
                    }
                }
            }
            out.insert(*i, counts);
        }
        Ok(out)
    }

    /// One pass: the weight and events of every (pre-)bin of every numeric
    /// variable, missing and special values.
    pub(super) async fn pre_bin_counts(
        &self,
        df: &DataFrame,
    ) -> Result<BTreeMap<usize, BinCounts>> {
        let (w, y) = (&self.w, &self.y);
        // Pass 2: weight and events per pre-bin, missing and special values.
        let mut aggs = vec![count(lit(1)).alias("__rows")];
        for (i, v) in self.variables.iter().enumerate() {
            if v.kind != VariableKind::Numeric {
                continue;
            }
            let e = &self.edges[&i];
            let x = number(&v.column);
            aggs.push(bin_weights(regular(v)?, w.clone(), e).alias(format!("__{i}_w")));
            aggs.push(bin_weights(regular(v)?, w.clone() * y.clone(), e).alias(format!("__{i}_e")));
            let mut sides = vec![("m".to_string(), x.clone().is_null())];
            for (s, value) in v.settings.special_values.iter().enumerate() {
                sides.push((format!("s{s}"), x.clone().eq(lit(*value))));
            }
            for (name, cond) in sides {
                let weight = when(cond.clone(), w.clone()).otherwise(lit(0.0))?;
                let events = when(cond, w.clone() * y.clone()).otherwise(lit(0.0))?;
                aggs.push(sum(weight).alias(format!("__{i}_{name}_w")));
                aggs.push(sum(events).alias(format!("__{i}_{name}_e")));
            }
        }
        let counts = if aggs.len() > 1 {
            df.clone().aggregate(vec![], aggs)?.collect().await?
        } else {
            vec![]
        };
        let batch = counts.iter().find(|b| b.num_rows() > 0);

        let mut out = BTreeMap::new();
        for (i, v) in self.variables.iter().enumerate() {
            if v.kind != VariableKind::Numeric {
                continue;
            }
            let list = |suffix: &str| {
                batch
                    .and_then(|b| b.column_by_name(&format!("__{i}_{suffix}")).cloned())
                    .and_then(|c| float_list_at(&c, 0))
                    .unwrap_or_default()
            };
            let get = |name: String| first_number(&counts, &name).unwrap_or(0.0);
            let (tw, te) = (list("w"), list("e"));
            out.insert(
                i,
                BinCounts {
                    missing: side(get(format!("__{i}_m_w")), get(format!("__{i}_m_e"))),
                    special: (0..v.settings.special_values.len())
                        .map(|s| side(get(format!("__{i}_s{s}_w")), get(format!("__{i}_s{s}_e"))))
                        .collect(),
                    regular: (1..tw.len()).map(|j| side(tw[j], te[j])).collect(),
                },
            );
        }
        Ok(out)
    }

    /// The binning from the numeric variables' `counts` (by place); a
    /// grouped pass over `df` per categorical variable.
    pub(super) async fn finish(
        self,
        df: &DataFrame,
        mut counts: BTreeMap<usize, BinCounts>,
    ) -> Result<Binning> {
        let mut out = Vec::new();
        for (i, v) in self.variables.iter().enumerate() {
            let fitted = match v.kind {
                VariableKind::Numeric => {
                    let c = counts.remove(&i).unwrap_or_default();
                    numeric(v, &self.edges[&i], c)?
                }
                VariableKind::Categorical => categorical(df, v, &self.w, &self.y).await?,
            };
            let sum: f64 = fitted.bins.iter().map(|b| b.count).sum();
            if (sum - self.total).abs() > 1e-9 * self.total.max(1.0) {
                return invalid_err!(
                    "variable `{}`: its bins hold weight {sum}, the data {}",
                    v.column,
                    self.total
                );
            }
            out.push(fitted);
        }
        Ok(Binning {
            format: FORMAT.into(),
            target: self.target,
            weight: self.weight,
            total_rows: self.rows,
            total_weight: self.total,
            total_events: self.total_events,
            variables: out,
        })
    }
}

/// Counts from a weight and an event weight.
fn side(weight: f64, events: f64) -> Counts {
    Counts {
        non_events: weight - events,
        events,
    }
}

/// The variable's value where it is neither missing nor special (else null).
fn regular(v: &Variable) -> Result<Expr> {
    let x = number(&v.column);
    if v.settings.special_values.is_empty() {
        return Ok(x);
    }
    let specials = v.settings.special_values.iter().map(|s| lit(*s)).collect();
    Ok(when(
        x.clone().in_list(specials, false),
        lit(ScalarValue::Float64(None)),
    )
    .otherwise(x)?)
}

/// A numeric variable's bins from its missing/special bins (`head`), the
/// pre-bin edges and the pre-bins' counts.
fn numeric(v: &Variable, pre_edges: &[f64], counts: BinCounts) -> Result<VariableBins> {
    let mut head: Tally = vec![(0, "missing".into(), counts.missing)];
    for (s, (value, c)) in v
        .settings
        .special_values
        .iter()
        .zip(counts.special)
        .enumerate()
    {
        head.push((-(s as i32) - 1, format!("= {value}"), c));
    }
    let pre = counts.regular;
    let (edges, monotonic, regular): (Vec<f64>, Option<Monotonic>, Vec<Counts>) =
        if v.settings.method == BinMethod::Optimal && pre.iter().any(|c| c.total() > 0.0) {
            let merged = merge_optimal(&pre, &v.constraints)
                .map_err(|e| invalid!("variable `{}`: {e}", v.column))?;
            let edges = merged.groups[..merged.groups.len() - 1]
                .iter()
                .map(|(_, end)| pre_edges[end - 1])
                .collect();
            let counts = merged
                .groups
                .iter()
                .map(|(s, e)| {
                    pre[*s..*e]
                        .iter()
                        .fold(Counts::default(), |a, c| a.plus(*c))
                })
                .collect();
            let direction = (merged.monotonic != Monotonic::None).then_some(merged.monotonic);
            (edges, direction, counts)
        } else if v.settings.method == BinMethod::Manual {
            let direction = forced_order(v, &pre, |j| edge_label(pre_edges, j + 1))?;
            (pre_edges.to_vec(), direction, pre)
        } else {
            (pre_edges.to_vec(), None, pre)
        };
    let mut tally = head;
    for (j, c) in regular.into_iter().enumerate() {
        tally.push((j as i32 + 1, edge_label(&edges, j + 1), c));
    }
    Ok(VariableBins {
        column: v.column.clone(),
        kind: VariableKind::Numeric,
        method: v.settings.method,
        monotonic,
        edges,
        groups: vec![],
        unseen_bin: 0,
        special_values: v.settings.special_values.clone(),
        bins: with_evidence(tally),
        iv: 0.0,
    }
    .with_iv())
}

/// A categorical variable: categories (rare ones grouped) ordered by event
/// rate, then merged like numeric pre-bins (the order makes any merge
/// monotonic).
/// The event-rate direction of the user's bins `bins` (in their order;
/// empty bins skipped): checked against an ascending or descending
/// `monotonic`, else reported when it holds.
fn forced_order(
    v: &Variable,
    bins: &[Counts],
    label: impl Fn(usize) -> String,
) -> Result<Option<Monotonic>> {
    let rates: Vec<(usize, f64)> = bins
        .iter()
        .enumerate()
        .filter_map(|(j, c)| c.event_rate().map(|r| (j, r)))
        .collect();
    let broken = |up: bool| {
        rates
            .windows(2)
            .find(|w| {
                if up {
                    w[1].1 <= w[0].1
                } else {
                    w[1].1 >= w[0].1
                }
            })
            .map(|w| (w[0], w[1]))
    };
    let want = v.constraints.monotonic;
    for (direction, up) in [(Monotonic::Ascending, true), (Monotonic::Descending, false)] {
        if want == direction
            && let Some(((a, ra), (b, rb))) = broken(up)
        {
            return invalid_err!(
                "variable `{}`: the given bins break the {} event rate: bin {} ({}) has {ra:.4}, bin {} ({}) {rb:.4}",
                v.column,
                if up { "ascending" } else { "descending" },
                a + 1,
                label(a),
                b + 1,
                label(b)
            );
        }
    }
    Ok(if broken(true).is_none() {
        Some(Monotonic::Ascending)
    } else if broken(false).is_none() {
        Some(Monotonic::Descending)
    } else {
        None
    })
}

async fn categorical(df: &DataFrame, v: &Variable, w: &Expr, y: &Expr) -> Result<VariableBins> {
    let key = cast(column(&v.column), DataType::Utf8).alias("__category");
    let batches = df
        .clone()
        .aggregate(
            vec![key],
            vec![
                sum(w.clone()).alias("__w"),
                sum(w.clone() * y.clone()).alias("__e"),
            ],
        )?
        .collect()
        .await?;
    let mut missing = Counts::default();
    let mut categories: Vec<(String, Counts)> = Vec::new();
    for b in &batches {
        let names = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let names = names.as_string::<i32>();
        for r in 0..b.num_rows() {
            let c = side(
                number_at(b, "__w", r).unwrap_or(0.0),
                number_at(b, "__e", r).unwrap_or(0.0),
            );
            if datafusion::arrow::array::Array::is_null(names, r) {
                missing = c;
            } else if c.total() > 0.0 {
                categories.push((names.value(r).to_string(), c));
            }
        }
    }
    if let Some(given) = &v.settings.groups {
        return manual_groups(v, given, missing, &categories);
    }
    let present: f64 = categories.iter().map(|(_, c)| c.total()).sum();
    let (rare, mut groups): (Vec<_>, Vec<_>) = categories
        .into_iter()
        .partition(|(_, c)| c.total() < v.settings.rare_share * present);
    let mut groups: Vec<(Vec<String>, Counts)> =
        groups.drain(..).map(|(n, c)| (vec![n], c)).collect();
    let mut rare_names: Vec<String> = rare.iter().map(|(n, _)| n.clone()).collect();
    rare_names.sort();
    if !rare.is_empty() {
        let counts = rare.iter().fold(Counts::default(), |a, (_, c)| a.plus(*c));
        groups.push((rare_names.clone(), counts));
    }
    groups.sort_by(|a, b| {
        let rate = |c: &Counts| c.event_rate().unwrap_or(0.0);
        rate(&a.1)
            .total_cmp(&rate(&b.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut regular: Vec<(Vec<String>, Counts)> = Vec::new();
    if !groups.is_empty() {
        let pre: Vec<Counts> = groups.iter().map(|g| g.1).collect();
        let constraints = Constraints {
            monotonic: Monotonic::Ascending,
            ..v.constraints.clone()
        };
        // Categories in event-rate order may still tie; a tie merges.
        let merged = merge_optimal(&pre, &constraints)
            .or_else(|_| {
                merge_optimal(
                    &pre,
                    &Constraints {
                        monotonic: Monotonic::None,
                        ..constraints.clone()
                    },
                )
            })
            .map_err(|e| invalid!("variable `{}`: {e}", v.column))?;
        for (s, e) in merged.groups {
            let mut names: Vec<String> = groups[s..e].iter().flat_map(|g| g.0.clone()).collect();
            names.sort();
            let counts = groups[s..e]
                .iter()
                .fold(Counts::default(), |a, g| a.plus(g.1));
            regular.push((names, counts));
        }
    }
    let unseen_bin = regular
        .iter()
        .position(|(names, _)| rare_names.first().is_some_and(|r| names.contains(r)))
        .map_or(0, |j| j as i32 + 1);
    let mut tally: Tally = vec![(0, "missing".into(), missing)];
    for (j, (names, c)) in regular.iter().enumerate() {
        tally.push((j as i32 + 1, names.join(", "), *c));
    }
    Ok(VariableBins {
        column: v.column.clone(),
        kind: VariableKind::Categorical,
        method: BinMethod::Optimal,
        monotonic: Some(Monotonic::Ascending),
        edges: vec![],
        groups: regular.into_iter().map(|(n, _)| n).collect(),
        unseen_bin,
        special_values: vec![],
        bins: with_evidence(tally),
        iv: 0.0,
    }
    .with_iv())
}

/// A categorical variable in the user's groups, in their order; the group
/// `["*"]` takes every category no other group lists (and categories
/// unseen when fitting); without it, a category in no group is an error.
fn manual_groups(
    v: &Variable,
    given: &[Vec<String>],
    missing: Counts,
    categories: &[(String, Counts)],
) -> Result<VariableBins> {
    let rest = given.iter().position(|g| g.len() == 1 && g[0] == "*");
    let listed = |name: &str| given.iter().any(|g| g.iter().any(|c| c == name));
    let unlisted: Vec<&String> = categories
        .iter()
        .map(|(n, _)| n)
        .filter(|n| !listed(n))
        .collect();
    if rest.is_none() && !unlisted.is_empty() {
        return invalid_err!(
            "variable `{}`: categories {} are in no group; list them or add a group [\"*\"] for every other category",
            v.column,
            unlisted
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut groups: Vec<(Vec<String>, Counts)> = given
        .iter()
        .enumerate()
        .map(|(j, g)| {
            let names: Vec<String> = if Some(j) == rest {
                unlisted.iter().map(|n| n.to_string()).collect()
            } else {
                g.clone()
            };
            (names, Counts::default())
        })
        .collect();
    for (name, c) in categories {
        let j = given
            .iter()
            .position(|g| g.contains(name))
            .or(rest)
            .unwrap_or_default();
        groups[j].1 = groups[j].1.plus(*c);
    }
    let label = |j: usize| {
        if Some(j) == rest {
            "every other category".to_string()
        } else {
            groups[j].0.join(", ")
        }
    };
    let counts: Vec<Counts> = groups.iter().map(|g| g.1).collect();
    let monotonic = forced_order(v, &counts, label)?;
    let mut tally: Tally = vec![(0, "missing".into(), missing)];
    for (j, (_, c)) in groups.iter().enumerate() {
        tally.push((j as i32 + 1, label(j), *c));
    }
    Ok(VariableBins {
        column: v.column.clone(),
        kind: VariableKind::Categorical,
        method: BinMethod::Manual,
        monotonic,
        edges: vec![],
        groups: groups.into_iter().map(|(n, _)| n).collect(),
        unseen_bin: rest.map_or(0, |j| j as i32 + 1),
        special_values: vec![],
        bins: with_evidence(tally),
        iv: 0.0,
    }
    .with_iv())
}

/// Bins with shares, event rates, WoE and IV (WoE over all of the
/// variable's bins together).
fn with_evidence(tally: Tally) -> Vec<Bin> {
    let counts: Vec<Counts> = tally.iter().map(|t| t.2).collect();
    let total: f64 = counts.iter().map(Counts::total).sum();
    let ev = evidence(&counts);
    tally
        .into_iter()
        .zip(ev)
        .map(|((bin, label, counts), e)| Bin {
            bin,
            label,
            count: counts.total(),
            share: if total > 0.0 {
                counts.total() / total
            } else {
                0.0
            },
            counts,
            event_rate: counts.event_rate(),
            woe: e.woe,
            iv: e.iv,
        })
        .collect()
}

impl VariableBins {
    fn with_iv(mut self) -> Self {
        self.iv = self.bins.iter().map(|b| b.iv).sum();
        self
    }
}
