//! Row transforms and missing-value fills as engine expressions.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions::math::expr_fn::{ln, sqrt};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use super::output::{Fallback, Op, Output, Strategy};
use crate::error::{Error, Result, invalid, invalid_err};
use crate::expr::{column, number};
use crate::functions::lookup::{Mapping, lookup};
use crate::results::{first_number, number_at};

/// Values learned by `fit` for one imputed output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// `mean` or `median`.
    pub statistic: String,
    /// Over all rows (also the value for groups not seen when fitting).
    pub global: f64,
    /// Group columns (empty: global scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// Per group: the group's key (as text, null for a null key) and value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupValue>,
}

/// The learned value of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupValue {
    /// One entry per scope column; null stands for a null key.
    pub key: Vec<Option<String>>,
    /// The group's statistic (null when the group had no values: the global one applies).
    pub value: Option<f64>,
}

fn fallback(f: Fallback) -> Expr {
    match f {
        Fallback::Null => lit(ScalarValue::Float64(None)),
        Fallback::Value(v) => lit(v),
    }
}

/// The expression computing `out` (learned values must be given for fitted fills).
pub(crate) fn expression(out: &Output, learned: Option<&Learned>) -> Result<Expr> {
    let src = |i: usize| number(&out.sources[i]);
    let x = src(0);
    let missing = || x.clone().is_null();
    let e = match &out.op {
        Op::Ratio(on_zero) => when(
            src(1).eq(lit(0.0)).and(x.clone().is_not_null()),
            fallback(*on_zero),
        )
        .otherwise(x.clone() / src(1))?,
        Op::Difference => x.clone() - src(1),
        Op::Product => x.clone() * src(1),
        Op::Log { nonpositive, base } => {
            let log = match base {
                Some(b) => ln(x.clone()) / lit(b.ln()),
                None => ln(x.clone()),
            };
            when(x.clone().lt_eq(lit(0.0)), fallback(*nonpositive)).otherwise(log)?
        }
        Op::Sqrt => when(x.clone().lt(lit(0.0)), lit(ScalarValue::Float64(None)))
            .otherwise(sqrt(x.clone()))?,
        Op::Clip { lower, upper } => {
            let mut e = x.clone();
            if let Some(u) = upper {
                e = when(e.clone().gt(lit(*u)), lit(*u)).otherwise(e)?;
            }
            if let Some(l) = lower {
                e = when(e.clone().lt(lit(*l)), lit(*l)).otherwise(e)?;
            }
            e
        }
        Op::Bin(edges) => bin_index(&x, &edges[1..edges.len() - 1])?,
        Op::FlagMissing => when(missing(), lit(1i8)).otherwise(lit(0i8))?,
        Op::Impute { strategy, .. } => {
            let fill = match (strategy, learned) {
                (Strategy::Keep, _) => return Ok(x),
                (Strategy::Value(v), _) => lit(*v),
                (_, Some(l)) => learned_value(l)?,
                (_, None) => {
                    return invalid_err!(
                        "output `{}` fills with a learned value: fit the recipes first (or apply a fitted file)",
                        out.name
                    );
                }
            };
            when(missing(), fill).otherwise(x.clone())?
        }
        Op::Temporal { .. } => {
            return invalid_err!("output `{}` is not a row transform", out.name);
        }
    };
    Ok(e)
}

/// The bin of `x` (a float expression, NaN already null) for bins cut at
/// `inner` edges e1 < … < e(k−1): bins are right-closed, numbered 1…k, the
/// first also holds everything ≤ e1 and the last everything above e(k−1);
/// missing → 0. One search per row, whatever the number of edges.
pub(crate) fn bin_index(x: &Expr, inner: &[f64]) -> Result<Expr> {
    Ok(crate::functions::bin_index::bin_index(x.clone(), inner))
}

/// The learned fill of each row: its group's value (one hash lookup of the
/// scope columns' text), the global one for groups without a value or not
/// seen when fitting.
fn learned_value(l: &Learned) -> Result<Expr> {
    let groups: Vec<&GroupValue> = l.groups.iter().filter(|g| g.value.is_some()).collect();
    if l.scope.is_empty() || groups.is_empty() {
        return Ok(lit(l.global));
    }
    if let Some(g) = groups.iter().find(|g| g.key.len() != l.scope.len()) {
        return invalid_err!(
            "a learned group has {} key values for the {} scope columns ({})",
            g.key.len(),
            l.scope.len(),
            l.scope.join(", ")
        );
    }
    let keys: Vec<Vec<Option<&str>>> = groups
        .iter()
        .map(|g| g.key.iter().map(Option::as_deref).collect())
        .collect();
    let values = Float64Array::from_iter(groups.iter().map(|g| g.value).chain([Some(l.global)]));
    let mapping = Mapping::new(l.scope.len(), &keys, &[Arc::new(values) as ArrayRef])?;
    let scope = l.scope.iter().map(|c| column(c)).collect();
    Ok(lookup(mapping, scope, None))
}

/// Learns the fill values of `outputs` (imputations by mean or median) on `df`:
/// one aggregate query per scope.
pub(crate) async fn learn(df: &DataFrame, outputs: &[&Output]) -> Result<Vec<(String, Learned)>> {
    use datafusion::functions_aggregate::expr_fn::{avg, median};
    let mut learned = Vec::new();
    let mut scopes: Vec<&Vec<String>> = Vec::new();
    for o in outputs {
        if let Op::Impute { scope, .. } = &o.op
            && !scopes.contains(&scope)
        {
            scopes.push(scope);
        }
    }
    let stat = |o: &Output| match &o.op {
        Op::Impute {
            strategy: Strategy::Mean,
            ..
        } => Some(("mean", avg(number(&o.sources[0])))),
        Op::Impute {
            strategy: Strategy::Median,
            ..
        } => Some(("median", median(number(&o.sources[0])))),
        _ => None,
    };
    // Global values for every learned output (the fallback of scoped ones too).
    let globals: Vec<_> = outputs
        .iter()
        .filter_map(|o| stat(o).map(|(_, e)| e.alias(&o.name)))
        .collect();
    if globals.is_empty() {
        return Ok(learned);
    }
    let row = df.clone().aggregate(vec![], globals)?.collect().await?;
    let global = |name: &str| first_number(&row, name);
    for scope in scopes {
        let mine: Vec<&&Output> = outputs
            .iter()
            .filter(|o| {
                matches!(&o.op, Op::Impute { scope: s, .. } if s == scope) && stat(o).is_some()
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut groups: Vec<Vec<GroupValue>> = vec![Vec::new(); mine.len()];
        if !scope.is_empty() {
            let keys: Vec<Expr> = scope
                .iter()
                .enumerate()
                .map(|(i, c)| cast(column(c), DataType::Utf8).alias(format!("__key{i}")))
                .collect();
            let aggs: Vec<Expr> = mine
                .iter()
                .filter_map(|o| stat(o).map(|(_, e)| e.alias(&o.name)))
                .collect();
            let batches = df.clone().aggregate(keys, aggs)?.collect().await?;
            for b in &batches {
                for r in 0..b.num_rows() {
                    let key: Vec<Option<String>> = (0..scope.len())
                        .map(|i| {
                            let a = b.column(i);
                            ScalarValue::try_from_array(a, r)
                                .ok()
                                .and_then(|v| match v {
                                    ScalarValue::Utf8(s) => s,
                                    _ => None,
                                })
                        })
                        .collect();
                    for (g, o) in groups.iter_mut().zip(&mine) {
                        let value = number_at(b, &o.name, r);
                        g.push(GroupValue {
                            key: key.clone(),
                            value,
                        });
                    }
                }
            }
            for g in &mut groups {
                g.sort_by(|a, b| a.key.cmp(&b.key));
            }
        }
        for (o, groups) in mine.iter().zip(groups) {
            let (statistic, _) = stat(o).ok_or_else(|| Error::InvalidInput(o.name.clone()))?;
            let global = global(&o.name).ok_or_else(|| {
                invalid!(
                    "output `{}`: column `{}` has no values to learn a {statistic} from",
                    o.name,
                    o.sources[0]
                )
            })?;
            learned.push((
                o.name.clone(),
                Learned {
                    statistic: statistic.into(),
                    global,
                    scope: scope.clone(),
                    groups,
                },
            ));
        }
    }
    Ok(learned)
}
