//! Exact profiles of numeric columns: each column's values are gathered
//! (streamed from the engine, every partition at once) as sortable keys,
//! sorted and read off: count, distinct count, min, max, mean, standard
//! deviation and any quantiles. When only quantiles are wanted (bin edges),
//! unweighted columns are not sorted: selection moves the values each
//! quantile reads into place. Columns are taken in groups sized to a memory
//! budget, each group one scan reading only its columns; the columns of a
//! group are summarised in parallel while the next group is read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::execution::memory_pool::MemoryLimit;
use datafusion::logical_expr::Expr;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use crate::checks::{WeightCheck, weight_or_one};
use crate::error::{Error, Result};
use crate::expr::number;
use crate::functions::quantile::quantile_by_position;
use crate::functions::sort_key::{key, value};

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

/// Counts of one scan (a partition's, then all of them).
#[derive(Default)]
struct Totals {
    rows: u64,
    weight: f64,
    weight_nulls: u64,
    weight_nonfinite: u64,
    weight_min: Option<f64>,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.rows += other.rows;
        self.weight += other.weight;
        self.weight_nulls += other.weight_nulls;
        self.weight_nonfinite += other.weight_nonfinite;
        self.weight_min = match (self.weight_min, other.weight_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// What one scan gathered for one group of columns: per column, sortable
/// keys and (weighted) their weights, in no particular order.
struct Gathered {
    totals: Totals,
    keys: Vec<Vec<u64>>,
    weights: Vec<Vec<f64>>,
}

/// Buffers with room for every row, passed from a summarised group to the
/// next group's scan: the memory is reused instead of being handed back to
/// the system and faulted in again page by page.
#[derive(Clone, Default)]
struct Spare {
    keys: Arc<Mutex<Vec<Vec<u64>>>>,
    weights: Arc<Mutex<Vec<Vec<f64>>>>,
}

impl Spare {
    fn take<T>(pool: &Mutex<Vec<Vec<T>>>, rows: usize) -> Vec<T> {
        match pool.lock().ok().and_then(|mut p| p.pop()) {
            Some(mut v) => {
                v.clear();
                v
            }
            None => Vec::with_capacity(rows),
        }
    }

    fn give<T>(pool: &Mutex<Vec<Vec<T>>>, v: Vec<T>) {
        if let Ok(mut p) = pool.lock() {
            p.push(v);
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
    // Every column in one scan when they fit (with a copy per thread where
    // weighted columns are sorted as pairs); else groups of which two are in
    // memory at a time, one read while the other is summarised.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let buffers = if weight.is_some() {
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
    let spare = Spare::default();
    // While one group is summarised, the next is read: two groups in memory.
    let mut summarising: Option<tokio::task::JoinHandle<Vec<Profile>>> = None;
    for (g, names) in columns.chunks(group).enumerate() {
        let gathered = gather(df, names, weight, rows, &spare).await?;
        let totals = &gathered.totals;
        if let Some(check) = weight {
            check.verify_counts(
                totals.weight_nulls as f64,
                totals.weight_nonfinite as f64,
                totals.weight_min,
            )?;
        }
        if g == 0 {
            out.rows = totals.rows;
            out.weight = totals.weight;
        }
        if let Some(previous) = summarising.take() {
            out.columns.extend(previous.await.map_err(stopped)?);
        }
        let weighted = weight.is_some();
        let ps = ps.to_vec();
        let spare = spare.clone();
        summarising = Some(tokio::task::spawn_blocking(move || {
            summarise(gathered, weighted, &ps, wanted, &spare)
        }));
    }
    if let Some(last) = summarising {
        out.columns.extend(last.await.map_err(stopped)?);
    }
    Ok(out)
}

/// Streams `names` (and the weight) from every partition at once into
/// sortable keys, each partition appending its batches to one buffer per
/// column (taken from `spare`).
async fn gather(
    df: &DataFrame,
    names: &[String],
    weight: Option<&WeightCheck>,
    rows: usize,
    spare: &Spare,
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
    let sinks: Arc<Vec<Sink>> = Arc::new(
        (0..k)
            .map(|_| {
                let keys = Spare::take(&spare.keys, rows);
                let weights = if weighted {
                    Spare::take(&spare.weights, rows)
                } else {
                    Vec::new()
                };
                Mutex::new((keys, weights))
            })
            .collect(),
    );
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            let sinks = Arc::clone(&sinks);
            tokio::spawn(async move {
                let mut t = Totals::default();
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    t.rows += batch.num_rows() as u64;
                    let w = weighted.then(|| batch.column(k).as_primitive::<Float64Type>());
                    if let Some(w) = w {
                        t.weight_nulls += w.null_count() as u64;
                        for v in w.iter().flatten() {
                            t.weight_nonfinite += u64::from(!v.is_finite());
                            t.weight += v;
                            t.weight_min = Some(t.weight_min.map_or(v, |m: f64| m.min(v)));
                        }
                    } else {
                        t.weight += batch.num_rows() as f64;
                    }
                    for (c, sink) in sinks.iter().enumerate() {
                        let x = batch.column(c).as_primitive::<Float64Type>();
                        let mut sink = sink.lock().map_err(|_| poisoned())?;
                        let (keys, weights) = &mut *sink;
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
                                        weights.push(w);
                                    }
                                }
                            }
                        }
                    }
                }
                Ok::<_, datafusion::error::DataFusionError>(t)
            })
        })
        .collect();
    let mut totals = Totals::default();
    for task in tasks {
        totals.add(&task.await.map_err(stopped)??);
    }
    let sinks = Arc::into_inner(sinks).ok_or_else(poisoned)?;
    let mut keys = Vec::with_capacity(k);
    let mut weights = Vec::with_capacity(if weighted { k } else { 0 });
    for sink in sinks {
        let (k, w) = sink.into_inner().map_err(|_| poisoned())?;
        keys.push(k);
        if weighted {
            weights.push(w);
        }
    }
    Ok(Gathered {
        totals,
        keys,
        weights,
    })
}

/// One column's keys and (weighted) weights as the partitions append them.
type Sink = Mutex<(Vec<u64>, Vec<f64>)>;

/// A buffer left behind by a scan task that stopped half-way.
fn poisoned() -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Internal(
        "a profile's scan stopped while appending values".into(),
    )
}

fn stopped(e: tokio::task::JoinError) -> Error {
    Error::Engine(datafusion::error::DataFusionError::External(Box::new(e)))
}

/// One column's gathered keys and (weighted) weights.
type Column = (Vec<u64>, Option<Vec<f64>>);

/// Summarises every column of a group, the columns spread over the cores;
/// their buffers go back to `spare`.
fn summarise(
    g: Gathered,
    weighted: bool,
    ps: &[f64],
    wanted: Wanted,
    spare: &Spare,
) -> Vec<Profile> {
    let k = g.keys.len();
    let mut weights = g.weights.into_iter();
    let work: Vec<Mutex<Option<Column>>> = g
        .keys
        .into_iter()
        .map(|keys| {
            let w = if weighted { weights.next() } else { None };
            Mutex::new(Some((keys, w)))
        })
        .collect();
    let results: Vec<Mutex<Profile>> = (0..k).map(|_| Mutex::default()).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(k.max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= k {
                        break;
                    }
                    let taken = work[i].lock().ok().and_then(|mut slot| slot.take());
                    if let Some((mut keys, mut w)) = taken {
                        let p = column_profile(&mut keys, w.as_deref_mut(), ps, wanted);
                        if let Ok(mut slot) = results[i].lock() {
                            *slot = p;
                        }
                        Spare::give(&spare.keys, keys);
                        if let Some(w) = w {
                            Spare::give(&spare.weights, w);
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

/// One column's profile from its keys (and weights), which it reorders:
/// sorted and read off, or, when only quantiles of an unweighted column are
/// wanted, selected. (Rust's unstable sort beat an 11-bit LSD radix sort by
/// 2.8× and a hash set's distinct count by 1.7× on 4.6M distinct floats, and
/// equalled the hash set on a hundred distinct values.)
fn column_profile(
    keys: &mut [u64],
    weights: Option<&mut [f64]>,
    ps: &[f64],
    wanted: Wanted,
) -> Profile {
    let all = match weights {
        None if wanted == Wanted::Quantiles => return selected(keys, ps),
        None => {
            keys.sort_unstable();
            read_off(keys, None, ps)
        }
        Some(w) => {
            // By key, then weight: the same order whatever order the
            // partitions appended the values in.
            let mut pairs: Vec<(u64, f64)> = keys.iter().copied().zip(w.iter().copied()).collect();
            pairs.sort_unstable_by_key(|p| (p.0, p.1.to_bits()));
            for ((k, x), (pk, px)) in keys.iter_mut().zip(w.iter_mut()).zip(pairs) {
                *k = pk;
                *x = px;
            }
            read_off(keys, Some(w), ps)
        }
    };
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
fn selected(keys: &mut [u64], ps: &[f64]) -> Profile {
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
    select_positions(keys, &positions);
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

    /// Keys sorted and read off: the reference the faster paths are held to.
    fn sorted_reference(keys: &[u64], ps: &[f64]) -> Profile {
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        read_off(&sorted, None, ps)
    }

    /// Random columns with ties, ±0.0 and infinities, of every size from
    /// empty, with few distinct values and many.
    fn random_columns() -> Vec<(usize, u64, Vec<u64>)> {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let mut out = Vec::new();
        for n in [0usize, 1, 2, 3, 10, 999, 5000, 20_000, 100_000] {
            for distinct in [1u64, 3, 1000, 40_000, u64::MAX] {
                let keys = (0..n)
                    .map(|_| match next() % distinct.min(1 << 40) {
                        0 => -0.0,
                        1 => 0.0,
                        2 if distinct > 100 => f64::INFINITY,
                        v => (v as f64 - 500.0) * 0.37,
                    })
                    .map(key)
                    .collect();
                out.push((n, distinct, keys));
            }
        }
        out
    }

    const PS: [f64; 10] = [0.0, 0.01, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 0.99, 1.0];

    /// Quantiles by selection equal those read off the sorted keys.
    #[test]
    fn selected_quantiles_equal_sorted_ones() {
        for (n, distinct, keys) in random_columns() {
            let want = sorted_reference(&keys, &PS);
            let mut keys = keys;
            let got = selected(&mut keys, &PS);
            assert_eq!(got.quantiles, want.quantiles, "n {n}, distinct {distinct}");
            assert_eq!((got.min, got.max), (want.min, want.max));
            assert_eq!(got.present, want.present);
            assert_eq!((got.unique, got.mean, got.std), (None, None, None));
        }
    }
}
