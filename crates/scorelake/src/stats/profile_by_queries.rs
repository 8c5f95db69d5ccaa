//! Exact profiles by aggregate queries, for engines where the data is not in
//! this process (a cluster): the same metrics as the sorted profile, from a
//! handful of grouped aggregates whose results do not grow with the data.
//!
//! - one pass: rows, weight, and per column its count (or weight), sum,
//!   minimum and maximum; a second: the squared deviations from each mean;
//! - distinct counts: the keys of each column grouped, then counted;
//! - quantiles: each one needs the values at two positions of the sorted
//!   column. A position is found by radix descent over the 64-bit sortable
//!   key ([`sort_key`]): the weight per 16-bit digit of the keys in the
//!   current bracket tells which digit holds the position, four passes fix
//!   all 64 bits. A pass returns at most 65,536 rows per bracket, whatever
//!   the data's size.
//!
//! Quantiles, minimum, maximum and distinct counts are exactly those of the
//! sorted profile. Means and standard deviations add the values in another
//! order, so they may differ in the last bits.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
use datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use datafusion::logical_expr::{Expr, col, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;

use super::profile::{Profile, Profiles, Wanted};
use crate::checks::{WeightCheck, weight_or_one};
use crate::error::Result;
use crate::expr::number;
use crate::functions::quantile::between;
use crate::functions::sort_key::sort_key;
use crate::functions::sort_key::value;
use crate::results::first_number;

/// Bits the radix descent fixes per pass.
const DIGIT: u32 = 16;

/// Profiles `columns` of `df` as [`sorted_profile`](super::profile::sorted_profile) does, by
/// aggregate queries only.
pub(crate) async fn profile_by_queries(
    df: &DataFrame,
    columns: &[String],
    weight: Option<&WeightCheck>,
    ps: &[f64],
    wanted: Wanted,
) -> Result<Profiles> {
    let w = weight_or_one(weight.map(WeightCheck::column));
    // Each column's values where they count: present, not NaN, and with a
    // weight above zero.
    let base = {
        let mut exprs: Vec<Expr> = Vec::with_capacity(columns.len() + 2);
        for (i, c) in columns.iter().enumerate() {
            let x = match weight {
                None => number(c),
                Some(_) => when(w.clone().gt(lit(0.0)), number(c))
                    .otherwise(lit(ScalarValue::Float64(None)))?,
            };
            exprs.push(x.alias(x_name(i)));
        }
        exprs.push(w.alias("__w"));
        if let Some(check) = weight {
            exprs.push(col(check.column()));
        }
        df.clone().select(exprs)?
    };

    // Pass one: sizes, sums and extremes (and the weight checks).
    let mut aggs = vec![
        count(lit(1)).alias("__rows"),
        sum(col("__w")).alias("__weight"),
    ];
    if let Some(check) = weight {
        aggs.extend(check.aggregates());
    }
    for i in 0..columns.len() {
        let x = col(x_name(i));
        let present = match weight {
            None => count(x.clone()),
            Some(_) => sum(when(x.clone().is_not_null(), col("__w")).end()?),
        };
        aggs.push(present.alias(format!("__n{i}")));
        aggs.push(sum(col("__w") * x.clone()).alias(format!("__s{i}")));
        aggs.push(min(x.clone()).alias(format!("__min{i}")));
        aggs.push(max(x).alias(format!("__max{i}")));
    }
    let first = base.clone().aggregate(vec![], aggs)?.collect().await?;
    if let Some(check) = weight {
        check.verify(&first)?;
    }
    let get = |name: String| first_number(&first, &name);
    let rows = get("__rows".into()).unwrap_or(0.0) as u64;
    let total = get("__weight".into()).unwrap_or(0.0);
    let mut out: Vec<Profile> = (0..columns.len())
        .map(|i| {
            let present = get(format!("__n{i}")).unwrap_or(0.0);
            Profile {
                present,
                // Columns without values have no row in the distinct counts.
                unique: (wanted == Wanted::All).then_some(0.0),
                min: get(format!("__min{i}")),
                max: get(format!("__max{i}")),
                mean: (wanted == Wanted::All && present > 0.0)
                    .then(|| get(format!("__s{i}")).map(|s| s / present))
                    .flatten(),
                ..Profile::default()
            }
        })
        .collect();

    // Pass two: squared deviations from the means.
    let squares: Vec<Expr> = out
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let m = p.mean.unwrap_or(0.0);
            let d = col(x_name(i)) - lit(m);
            sum(col("__w") * d.clone() * d).alias(format!("__q{i}"))
        })
        .collect();
    if wanted == Wanted::All && !squares.is_empty() {
        let second = base.clone().aggregate(vec![], squares)?.collect().await?;
        for (i, p) in out.iter_mut().enumerate() {
            p.std = p
                .mean
                .filter(|_| p.present > 1.0)
                .and_then(|_| first_number(&second, &format!("__q{i}")))
                .map(|q| (q / (p.present - 1.0)).sqrt());
        }
    }

    // Distinct values: each column's keys grouped, then counted (one query).
    let mut counts: Option<DataFrame> = None;
    let distinct = if wanted == Wanted::All {
        0..columns.len()
    } else {
        0..0
    };
    for i in distinct {
        let one = base
            .clone()
            .filter(col(x_name(i)).is_not_null())?
            .aggregate(vec![sort_key(col(x_name(i)), 0).alias("__k")], vec![])?
            .aggregate(
                vec![lit(i as i64).alias("__c")],
                vec![count(lit(1)).alias("__unique")],
            )?;
        counts = Some(match counts {
            None => one,
            Some(all) => all.union(one)?,
        });
    }
    if let Some(counts) = counts {
        for batch in counts.collect().await? {
            let (c, n) = (
                batch.column(0).as_primitive::<Int64Type>(),
                batch.column(1).as_primitive::<Int64Type>(),
            );
            for r in 0..batch.num_rows() {
                if let Some(p) = out.get_mut(c.value(r) as usize) {
                    p.unique = Some(n.value(r) as f64);
                }
            }
        }
    }

    // Quantiles: the values at the positions each one reads.
    let weighted = weight.is_some();
    let mut targets: Vec<Target> = Vec::new();
    for (i, p) in out.iter().enumerate() {
        for t in positions(p.present, weighted, ps) {
            if p.present > 0.0 {
                targets.push(Target::new(i, t));
            }
        }
    }
    descend(&base, &mut targets).await?;
    for (i, p) in out.iter_mut().enumerate() {
        let at = |t: f64| {
            targets
                .iter()
                .find(|g| g.column == i && g.position == t)
                .map_or(p.max, |g| g.found.then(|| value(g.prefix)).or(p.max))
        };
        p.quantiles = ps
            .iter()
            .map(|q| {
                let (lo, h) = low_position(p.present, weighted, *q)?;
                let (low, high) = (at(lo)?, at(lo + 1.0)?);
                Some(between(low, high, h - lo))
            })
            .collect();
    }
    Ok(Profiles {
        rows,
        weight: total,
        columns: out,
    })
}

fn x_name(i: usize) -> String {
    format!("__x{i}")
}

/// The position `h` a quantile `p` interpolates at, and the position below it
/// (`None` for an empty column), as the sorted profile reads them: unweighted
/// `(n − 1)·p` over `n` values; weighted `(W − 1)·p` over the total weight.
fn low_position(present: f64, weighted: bool, p: f64) -> Option<(f64, f64)> {
    if present <= 0.0 {
        return None;
    }
    let h = ((present - 1.0) * p).max(0.0);
    let lo = h.floor();
    // Unweighted, the position above the last is the last.
    let lo = if weighted { lo } else { lo.min(present - 1.0) };
    Some((lo, h))
}

/// Every position the quantiles `ps` read.
fn positions(present: f64, weighted: bool, ps: &[f64]) -> Vec<f64> {
    let mut out = Vec::new();
    for p in ps {
        if let Some((lo, _)) = low_position(present, weighted, *p) {
            let above = if weighted {
                lo + 1.0
            } else {
                (lo + 1.0).min(present - 1.0)
            };
            for t in [lo, above] {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// One position of one column being searched for.
#[derive(Debug)]
struct Target {
    column: usize,
    /// The position (0-based, in rows or in weight): the value sought is the
    /// first whose cumulative weight exceeds it.
    position: f64,
    /// The key bits fixed so far (all 64 once found).
    prefix: u64,
    /// Weight of the keys below the current bracket.
    below: f64,
    /// Whether a value holds the position (else the position is past the
    /// last value, which is then the answer).
    found: bool,
}

impl Target {
    fn new(column: usize, position: f64) -> Self {
        Target {
            column,
            position,
            prefix: 0,
            below: 0.0,
            found: true,
        }
    }
}

/// Fixes every target's key, [`DIGIT`] bits per pass.
async fn descend(base: &DataFrame, targets: &mut [Target]) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let columns: Vec<usize> = {
        let mut c: Vec<usize> = targets.iter().map(|t| t.column).collect();
        c.dedup();
        c
    };
    for pass in 0..64 / DIGIT {
        let drop = 64 - DIGIT * (pass + 1);
        // Per column: the brackets (prefixes of the fixed bits) still searched.
        let mut histograms: BTreeMap<(usize, u64), f64> = BTreeMap::new();
        let mut queries: Vec<DataFrame> = Vec::new();
        for &c in &columns {
            let brackets: Vec<u64> = {
                let mut b: Vec<u64> = targets
                    .iter()
                    .filter(|t| t.column == c && t.found)
                    .map(|t| t.prefix)
                    .collect();
                b.sort_unstable();
                b.dedup();
                b
            };
            if brackets.is_empty() {
                continue;
            }
            let x = col(x_name(c));
            let mut q = base.clone().filter(x.clone().is_not_null())?;
            if pass > 0 {
                let list = brackets.iter().map(|b| lit(*b)).collect();
                q = q.filter(sort_key(x.clone(), drop + DIGIT).in_list(list, false))?;
            }
            queries.push(q.aggregate(
                vec![lit(c as i64).alias("__c"), sort_key(x, drop).alias("__top")],
                vec![sum(col("__w")).alias("__w")],
            )?);
        }
        let Some(first) = queries.pop() else {
            break;
        };
        let mut all = first;
        for q in queries {
            all = all.union(q)?;
        }
        for batch in all.collect().await? {
            read_histogram(&batch, &mut histograms);
        }
        for t in targets.iter_mut().filter(|t| t.found) {
            // The digits of this bracket, ascending: the first whose weight
            // takes the cumulative weight past the position holds it.
            let lo = (t.column, t.prefix << DIGIT);
            let hi = (t.column, (t.prefix << DIGIT) | ((1 << DIGIT) - 1));
            let mut hit = None;
            for ((_, top), w) in histograms.range(lo..=hi) {
                if t.below + w > t.position {
                    hit = Some(*top);
                    break;
                }
                t.below += w;
            }
            match hit {
                Some(top) => t.prefix = top,
                None => t.found = false,
            }
        }
    }
    Ok(())
}

/// Adds the rows of one histogram batch (`__c`, `__top`, `__w`).
fn read_histogram(batch: &RecordBatch, into: &mut BTreeMap<(usize, u64), f64>) {
    let (Some(c), Some(top), Some(w)) = (
        batch.column_by_name("__c"),
        batch.column_by_name("__top"),
        batch.column_by_name("__w"),
    ) else {
        return;
    };
    let (c, top, w) = (
        c.as_primitive::<Int64Type>(),
        top.as_primitive::<UInt64Type>(),
        w.as_primitive::<Float64Type>(),
    );
    for r in 0..batch.num_rows() {
        if c.is_null(r) || top.is_null(r) || w.is_null(r) {
            continue;
        }
        *into.entry((c.value(r) as usize, top.value(r))).or_default() += w.value(r);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Float64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::stats::profile::sorted_profile;

    /// A column of `n` values drawn from few distinct ones (ties), with
    /// nulls, NaN, −0.0 and 0.0, and large and tiny magnitudes.
    fn column(rng: &mut Xoshiro256PlusPlus, n: usize) -> Float64Array {
        let pool = [
            -1e300,
            -3.5,
            -0.0,
            0.0,
            1e-310,
            0.25,
            1.0,
            2.0,
            7.5,
            1e12,
            f64::NAN,
        ];
        (0..n)
            .map(|_| match rng.random_range(0..20) {
                0 => None,
                1..=10 => Some(pool[rng.random_range(0..pool.len())]),
                _ => Some(rng.random_range(-50.0..50.0)),
            })
            .collect()
    }

    #[tokio::test]
    async fn queries_give_the_sorted_profile() {
        let session = crate::session::Session::new(crate::config::Config::default()).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Float64, true),
            Field::new("empty", DataType::Float64, true),
            Field::new("w", DataType::Float64, false),
        ]));
        let batches: Vec<RecordBatch> = (0..4)
            .map(|_| {
                let n = 700;
                let w: Float64Array = (0..n)
                    .map(|_| Some(rng.random_range(0..4) as f64))
                    .collect();
                RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![
                        Arc::new(column(&mut rng, n)),
                        Arc::new(column(&mut rng, n)),
                        Arc::new(Float64Array::from(vec![None; n])),
                        Arc::new(w),
                    ],
                )
                .unwrap()
            })
            .collect();
        let df = session.ctx().read_batches(batches).unwrap();
        let cols: Vec<String> = ["a", "b", "empty"].map(String::from).to_vec();
        let ps = [0.0, 0.01, 0.1, 0.25, 0.5, 0.77, 0.99, 1.0];
        let check = WeightCheck::new(&df, "w", "input").unwrap();
        for (weight, wanted) in [
            (None, Wanted::All),
            (Some(&check), Wanted::All),
            (None, Wanted::Quantiles),
            (Some(&check), Wanted::Quantiles),
        ] {
            let sorted = sorted_profile(&df, &cols, weight, &ps, usize::MAX, wanted)
                .await
                .unwrap();
            let queried = profile_by_queries(&df, &cols, weight, &ps, wanted)
                .await
                .unwrap();
            assert_eq!((queried.rows, queried.weight), (sorted.rows, sorted.weight));
            for (q, s) in queried.columns.iter().zip(&sorted.columns) {
                assert_eq!(
                    (q.present, q.unique, q.min, q.max, &q.quantiles),
                    (s.present, s.unique, s.min, s.max, &s.quantiles),
                    "weighted: {}",
                    weight.is_some()
                );
                for (a, b) in [(q.mean, s.mean), (q.std, s.std)] {
                    match (a, b) {
                        (Some(a), Some(b)) => {
                            let close = a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
                            assert!(close, "{a} {b}")
                        }
                        (a, b) => assert_eq!(a, b),
                    }
                }
            }
        }
    }
}
