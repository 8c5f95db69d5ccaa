//! Exact profiles of numeric columns by sorting: each column's values are
//! gathered (streamed from the engine, every partition at once), radix
//! sorted, and read off: count, distinct count, min, max, mean, standard
//! deviation and any quantiles. Columns are taken in groups sized to a
//! memory budget, each group one scan reading only its columns; the columns
//! of a group are sorted in parallel while the next group is read. When
//! only quantiles are wanted (bin edges), unweighted columns are not
//! sorted: selection moves the values each quantile reads into place.

use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::execution::memory_pool::MemoryLimit;
use datafusion::logical_expr::Expr;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use super::sort_keys::{key, radix_sort, value};
use crate::checks::{WeightCheck, weight_or_one};
use crate::error::{Error, Result};
use crate::expr::number;
use crate::functions::quantile::quantile_by_position;

/// Exact metrics of one numeric column (NaN counts as missing; with weights,
/// of the rows expanded by their weights).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Profile {
    /// Weight (rows) with a value.
    pub present: f64,
    /// Distinct values (−0.0 and 0.0 are one value); `None` unless
    /// [`Wanted::All`].
    pub unique: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `None` unless [`Wanted::All`].
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof 1 on the weight); `None` unless
    /// [`Wanted::All`].
    pub std: Option<f64>,
    /// One per requested quantile.
    pub quantiles: Vec<Option<f64>>,
}

/// The metrics a profile computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// Every metric of [`Profile`].
    All,
    /// Present weight, min, max and the quantiles (bin edges): no distinct
    /// count, mean or standard deviation, which lets unweighted columns go
    /// unsorted and a cluster skip two queries.
    Quantiles,
}

/// Profiles of every column, with the input's rows and total weight.
pub(crate) struct Profiles {
    pub rows: u64,
    pub weight: f64,
    pub columns: Vec<Profile>,
}

/// Memory for the values of exact profiles: half the engine's memory limit,
/// or 512 MiB without one.
pub(crate) fn budget(df: &DataFrame) -> usize {
    match df.task_ctx().memory_pool().memory_limit() {
        MemoryLimit::Finite(n) => n / 2,
        _ => 512 << 20,
    }
}

/// What one partition gathered for one group of columns.
#[derive(Default)]
struct Gathered {
    rows: u64,
    weight: f64,
    weight_nulls: u64,
    weight_nonfinite: u64,
    weight_min: Option<f64>,
    /// Per column: sortable keys and (weighted) their weights.
    keys: Vec<Vec<u64>>,
    weights: Vec<Vec<f64>>,
}

impl Gathered {
    fn absorb(&mut self, mut other: Gathered) {
        self.rows += other.rows;
        self.weight += other.weight;
        self.weight_nulls += other.weight_nulls;
        self.weight_nonfinite += other.weight_nonfinite;
        self.weight_min = match (self.weight_min, other.weight_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.keys.is_empty() {
            self.keys = std::mem::take(&mut other.keys);
            self.weights = std::mem::take(&mut other.weights);
            return;
        }
        for (mine, theirs) in self.keys.iter_mut().zip(other.keys) {
            mine.extend_from_slice(&theirs);
        }
        for (mine, theirs) in self.weights.iter_mut().zip(other.weights) {
            mine.extend_from_slice(&theirs);
        }
    }
}

/// Profiles `columns` of `df` (numeric; NaN read as missing), weighted by
/// `weight` when given, with the quantiles `ps` and the `wanted` metrics.
/// The values held (8 bytes a value, 16 weighted) stay within `budget`
/// bytes where they can (a group is one column at least).
pub(crate) async fn sorted_profile(
    df: &DataFrame,
    columns: &[String],
    weight: Option<&WeightCheck>,
    ps: &[f64],
    budget: usize,
    wanted: Wanted,
) -> Result<Profiles> {
    let rows = df.clone().count().await?;
    let per_column = rows.max(1) * if weight.is_some() { 16 } else { 8 };
    // Every column in one scan when they fit (with the sort's second buffer
    // per thread where columns are sorted); else groups of which two are in
    // memory at a time, one read while the other is summarised.
    let sorted = wanted == Wanted::All || weight.is_some();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let buffers = if sorted {
        threads.min(columns.len())
    } else {
        0
    };
    let group = if (columns.len() + buffers).saturating_mul(per_column) <= budget {
        columns.len().max(1)
    } else {
        (budget / 2 / per_column).clamp(1, columns.len().max(1))
    };
    let mut out = Profiles {
        rows: 0,
        weight: 0.0,
        columns: Vec::with_capacity(columns.len()),
    };
    // While one group is sorted, the next is read: two groups in memory.
    let mut sorting: Option<tokio::task::JoinHandle<Vec<Profile>>> = None;
    for (g, names) in columns.chunks(group).enumerate() {
        let gathered = gather(df, names, weight, rows).await?;
        if let Some(check) = weight {
            check.verify_counts(
                gathered.weight_nulls as f64,
                gathered.weight_nonfinite as f64,
                gathered.weight_min,
            )?;
        }
        if g == 0 {
            out.rows = gathered.rows;
            out.weight = gathered.weight;
        }
        if let Some(previous) = sorting.take() {
            out.columns.extend(previous.await.map_err(stopped)?);
        }
        let weighted = weight.is_some();
        let ps = ps.to_vec();
        sorting = Some(tokio::task::spawn_blocking(move || {
            summarise(gathered, weighted, &ps, wanted)
        }));
    }
    if let Some(last) = sorting {
        out.columns.extend(last.await.map_err(stopped)?);
    }
    Ok(out)
}

/// Streams `names` (and the weight) from every partition at once into sortable keys.
async fn gather(
    df: &DataFrame,
    names: &[String],
    weight: Option<&WeightCheck>,
    rows: usize,
) -> Result<Gathered> {
    let mut exprs: Vec<Expr> = names
        .iter()
        .enumerate()
        .map(|(i, n)| number(n).alias(format!("__{i}")))
        .collect();
    if let Some(w) = weight {
        exprs.push(weight_or_one(Some(w.column())).alias("__w"));
    }
    let streams = df
        .clone()
        .select(exprs)?
        .execute_stream_partitioned()
        .await?;
    let k = names.len();
    let weighted = weight.is_some();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                // Room for every row: untouched capacity costs no memory, and
                // the other partitions are appended to the first without a copy
                // of what is there.
                let mut g = Gathered {
                    keys: (0..k).map(|_| Vec::with_capacity(rows)).collect(),
                    weights: (0..if weighted { k } else { 0 })
                        .map(|_| Vec::with_capacity(rows))
                        .collect(),
                    ..Gathered::default()
                };
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    g.rows += batch.num_rows() as u64;
                    let w = weighted.then(|| batch.column(k).as_primitive::<Float64Type>());
                    if let Some(w) = w {
                        g.weight_nulls += w.null_count() as u64;
                        for v in w.iter().flatten() {
                            g.weight_nonfinite += u64::from(!v.is_finite());
                            g.weight += v;
                            g.weight_min = Some(g.weight_min.map_or(v, |m: f64| m.min(v)));
                        }
                    } else {
                        g.weight += batch.num_rows() as f64;
                    }
                    for c in 0..k {
                        let x = batch.column(c).as_primitive::<Float64Type>();
                        let keys = &mut g.keys[c];
                        match w {
                            None if x.null_count() == 0 => {
                                keys.extend(x.values().iter().map(|v| key(*v)));
                            }
                            None => keys.extend(x.iter().flatten().map(key)),
                            Some(w) => {
                                for (v, w) in x.iter().zip(w.iter()) {
                                    if let (Some(v), Some(w)) = (v, w)
                                        && w > 0.0
                                    {
                                        keys.push(key(v));
                                        g.weights[c].push(w);
                                    }
                                }
                            }
                        }
                    }
                }
                Ok::<_, datafusion::error::DataFusionError>(g)
            })
        })
        .collect();
    let mut all = Gathered::default();
    for task in tasks {
        let part = task.await.map_err(stopped)??;
        all.absorb(part);
    }
    if all.keys.is_empty() {
        all.keys = vec![Vec::new(); k];
        all.weights = vec![Vec::new(); if weighted { k } else { 0 }];
    }
    Ok(all)
}

fn stopped(e: tokio::task::JoinError) -> Error {
    Error::Engine(datafusion::error::DataFusionError::External(Box::new(e)))
}

/// One column's gathered keys and (weighted) weights.
type Column = (Vec<u64>, Option<Vec<f64>>);

/// Sorts and reads off every column of a group, the columns spread over the cores.
fn summarise(g: Gathered, weighted: bool, ps: &[f64], wanted: Wanted) -> Vec<Profile> {
    let k = g.keys.len();
    let mut weights = g.weights.into_iter();
    let work: Vec<std::sync::Mutex<Option<Column>>> = g
        .keys
        .into_iter()
        .map(|keys| {
            let w = if weighted { weights.next() } else { None };
            std::sync::Mutex::new(Some((keys, w)))
        })
        .collect();
    let results: Vec<std::sync::Mutex<Profile>> =
        (0..k).map(|_| std::sync::Mutex::default()).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(k.max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                // The sort's second buffer, kept for the thread's next column.
                let mut scratch = Scratch::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= k {
                        break;
                    }
                    let taken = work[i].lock().ok().and_then(|mut slot| slot.take());
                    if let Some((keys, w)) = taken {
                        let p = column_profile(keys, w, ps, wanted, &mut scratch);
                        if let Ok(mut slot) = results[i].lock() {
                            *slot = p;
                        }
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_default())
        .collect()
}

/// Buffers a sorting thread reuses from column to column.
#[derive(Default)]
struct Scratch {
    keys: Vec<u64>,
    pairs: Vec<(u64, f64)>,
}

/// One column's profile from its keys (and weights).
fn column_profile(
    mut keys: Vec<u64>,
    weights: Option<Vec<f64>>,
    ps: &[f64],
    wanted: Wanted,
    scratch: &mut Scratch,
) -> Profile {
    if wanted == Wanted::Quantiles && weights.is_none() {
        return selected(keys, ps);
    }
    let weights = match weights {
        None => {
            radix_sort(&mut keys, &mut scratch.keys, |k| *k);
            None
        }
        Some(w) => {
            let mut pairs: Vec<(u64, f64)> = keys.iter().copied().zip(w).collect();
            radix_sort(&mut pairs, &mut scratch.pairs, |p| p.0);
            keys = pairs.iter().map(|p| p.0).collect();
            Some(pairs.into_iter().map(|p| p.1).collect::<Vec<f64>>())
        }
    };
    let all = read_off(&keys, weights.as_deref(), ps);
    match wanted {
        Wanted::All => all,
        Wanted::Quantiles => Profile {
            unique: None,
            mean: None,
            std: None,
            ..all
        },
    }
}

/// Present count, extremes and quantiles of unsorted keys: the positions
/// the quantiles read are selected into place, not sorted.
fn selected(mut keys: Vec<u64>, ps: &[f64]) -> Profile {
    let n = keys.len();
    // The positions each quantile reads, as it reads them from sorted keys.
    let read = std::cell::RefCell::new(Vec::new());
    for p in ps {
        let note = |i| {
            read.borrow_mut().push(i);
            0.0
        };
        quantile_by_position(n, note, None, *p);
    }
    let mut positions = read.into_inner();
    positions.sort_unstable();
    positions.dedup();
    select_positions(&mut keys, &positions);
    let (lo, hi) = keys
        .iter()
        .fold((u64::MAX, u64::MIN), |(lo, hi), k| (lo.min(*k), hi.max(*k)));
    Profile {
        present: n as f64,
        unique: None,
        min: (n > 0).then(|| value(lo)),
        max: (n > 0).then(|| value(hi)),
        mean: None,
        std: None,
        quantiles: ps
            .iter()
            .map(|p| quantile_by_position(n, |i| value(keys[i]), None, *p))
            .collect(),
    }
}

/// Reorders `keys` so that each of the ascending `positions` holds the key
/// it would hold sorted: the middle position is selected first, then each
/// side's positions within that side.
fn select_positions(keys: &mut [u64], positions: &[usize]) {
    let Some(&at) = positions.get(positions.len() / 2) else {
        return;
    };
    if at >= keys.len() {
        return;
    }
    let (below, _, above) = keys.select_nth_unstable(at);
    let mid = positions.len() / 2;
    select_positions(below, &positions[..mid]);
    let shifted: Vec<usize> = positions[mid + 1..].iter().map(|p| p - at - 1).collect();
    select_positions(above, &shifted);
}

/// The metrics of sorted keys (each counting its weight).
fn read_off(keys: &[u64], weights: Option<&[f64]>, ps: &[f64]) -> Profile {
    let n = keys.len();
    let x = |i: usize| value(keys[i]);
    let present: f64 = weights.map_or(n as f64, |w| w.iter().sum());
    let unique = if n == 0 {
        0.0
    } else {
        1.0 + keys.windows(2).filter(|p| p[0] != p[1]).count() as f64
    };
    let mean = (present > 0.0).then(|| {
        let sum: f64 = match weights {
            None => keys.iter().map(|k| value(*k)).sum(),
            Some(w) => keys.iter().zip(w).map(|(k, w)| w * value(*k)).sum(),
        };
        sum / present
    });
    let std = mean.filter(|_| present > 1.0).map(|m| {
        let squares: f64 = match weights {
            None => keys.iter().map(|k| (value(*k) - m).powi(2)).sum(),
            Some(w) => keys
                .iter()
                .zip(w)
                .map(|(k, w)| w * (value(*k) - m).powi(2))
                .sum(),
        };
        (squares / (present - 1.0)).sqrt()
    });
    Profile {
        present,
        unique: Some(unique),
        min: (n > 0).then(|| x(0)),
        max: (n > 0).then(|| x(n - 1)),
        mean,
        std,
        quantiles: ps
            .iter()
            .map(|p| quantile_by_position(n, x, weights, *p))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn column_groups_and_partitions_do_not_change_profiles() {
        let session = crate::session::Session::new(crate::config::Config::default()).unwrap();
        let df = session
            .ctx()
            .sql(
                "SELECT CAST(v % 7 AS DOUBLE) AS a, CASE WHEN v % 5 = 0 THEN NULL ELSE v * 0.5 END AS b, \
                 CAST(v % 3 AS DOUBLE) AS c, CAST(1 + v % 2 AS DOUBLE) AS w FROM generate_series(1, 3000) AS t(v)",
            )
            .await
            .unwrap()
            .repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(3))
            .unwrap();
        let cols: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let check = WeightCheck::new(&df, "w", "input").unwrap();
        for weight in [None, Some(&check)] {
            let ps = [0.0, 0.37, 1.0];
            let one_group = sorted_profile(&df, &cols, weight, &ps, usize::MAX, Wanted::All)
                .await
                .unwrap();
            let per_column = sorted_profile(&df, &cols, weight, &ps, 1, Wanted::All)
                .await
                .unwrap();
            assert_eq!(one_group.rows, 3000);
            assert_eq!(one_group.columns, per_column.columns);
            let b = &one_group.columns[1];
            let expected_present = if weight.is_some() { 3600.0 } else { 2400.0 };
            assert_eq!(b.present, expected_present);
            assert_eq!((b.min, b.max), (Some(0.5), Some(1499.5)));
            assert_eq!(b.unique, Some(2400.0));
            assert_eq!(one_group.columns[0].unique, Some(7.0));
        }
    }

    /// Quantiles by selection equal those read off the sorted keys, on
    /// random columns with ties, ±0.0, infinities and every size from empty.
    #[test]
    fn selected_quantiles_equal_sorted_ones() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let ps = [0.0, 0.01, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 0.99, 1.0];
        for n in [0usize, 1, 2, 3, 10, 999, 5000, 20_000] {
            for distinct in [1u64, 3, 1000, u64::MAX] {
                let values: Vec<f64> = (0..n)
                    .map(|_| match next() % distinct.min(1 << 40) {
                        0 => -0.0,
                        1 => 0.0,
                        2 if distinct > 100 => f64::INFINITY,
                        v => (v as f64 - 500.0) * 0.37,
                    })
                    .collect();
                let keys: Vec<u64> = values.iter().map(|v| key(*v)).collect();
                let want = column_profile(
                    keys.clone(),
                    None,
                    &ps,
                    Wanted::All,
                    &mut Scratch::default(),
                );
                let got = selected(keys, &ps);
                assert_eq!(got.quantiles, want.quantiles, "n {n}, distinct {distinct}");
                assert_eq!((got.min, got.max), (want.min, want.max));
                assert_eq!(got.present, want.present);
                assert_eq!((got.unique, got.mean, got.std), (None, None, None));
            }
        }
    }
}
