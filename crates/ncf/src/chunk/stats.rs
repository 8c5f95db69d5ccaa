//! A chunk's statistics, gathered while it is encoded: null count, bounds
//! (min and max as the stored little-endian bytes, base64), and the exact
//! number of distinct values or an estimate of it.

use std::hash::Hasher;

use arrow_buffer::NullBuffer;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::hash::FxHasher;
use super::layout::{Physical, fixed_width};
use crate::distinct;
use crate::footer::Stats;

/// Longest string value whose min/max is kept in statistics.
const MAX_STAT_BYTES: usize = 1024;

/// Bounds and distinct count of a boolean column's valid `values`.
pub(super) fn bools(values: &[bool], valid: impl Fn(usize) -> bool, stats: &mut Stats) {
    let set: Vec<bool> = (0..values.len())
        .filter(|&i| valid(i))
        .map(|i| values[i])
        .collect();
    if let (Some(min), Some(max)) = (set.iter().min(), set.iter().max()) {
        stats.min = Some(B64.encode([u8::from(*min)]));
        stats.max = Some(B64.encode([u8::from(*max)]));
        stats.distinct_count = Some(1 + u64::from(min != max));
    }
}

/// Index of the smallest and largest valid value by `less`.
fn min_max_index(
    n: usize,
    nulls: Option<&NullBuffer>,
    less: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let mut live = (0..n).filter(|&i| nulls.is_none_or(|nb| nb.is_valid(i)));
    let first = live.next()?;
    Some(live.fold((first, first), |(lo, hi), i| {
        (
            if less(i, lo) { i } else { lo },
            if less(hi, i) { i } else { hi },
        )
    }))
}

/// Bounds of a fixed-width column (`raw` its values, `ints` them as i64 when
/// they are integers); none for a float column holding NaN.
pub(super) fn fixed_bounds(
    p: Physical,
    raw: &[u8],
    ints: Option<&[i64]>,
    nulls: Option<&NullBuffer>,
    stats: &mut Stats,
) {
    let width = fixed_width(p);
    let n = raw.len() / width;
    let slot = |i: usize| &raw[i * width..(i + 1) * width];
    let best = match (p, ints) {
        (_, Some(v)) => min_max_index(n, nulls, |a, b| v[a] < v[b]),
        (Physical::Fixed { .. }, None) => {
            let u: Vec<u64> = raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            min_max_index(n, nulls, |a, b| u[a] < u[b])
        }
        (Physical::Float { width }, None) => {
            let f: Vec<f64> = if width == 4 {
                raw.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
                    .collect()
            } else {
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            };
            if (0..n).any(|i| f[i].is_nan() && nulls.is_none_or(|nb| nb.is_valid(i))) {
                return;
            }
            // Total order: -0.0 is below 0.0, as the engine's min and max see it.
            min_max_index(n, nulls, |a, b| f[a].total_cmp(&f[b]).is_lt())
        }
        (Physical::Decimal, None) => {
            let d: Vec<i128> = raw
                .chunks_exact(16)
                .map(|c| i128::from_le_bytes(c.try_into().unwrap_or([0; 16])))
                .collect();
            min_max_index(n, nulls, |a, b| d[a] < d[b])
        }
        (Physical::Bool | Physical::Bytes, None) => None,
    };
    if let Some((lo, hi)) = best {
        stats.min = Some(B64.encode(slot(lo)));
        stats.max = Some(B64.encode(slot(hi)));
    }
}

/// Distinct count of an integer column, exact when its values span a small
/// range (`reference` the smallest, `spread` the distance to the largest).
pub(super) fn ints(
    values: &[i64],
    valid: impl Fn(usize) -> bool,
    reference: i64,
    spread: u64,
    stats: &mut Stats,
) {
    match distinct::of_ints(values, valid, reference, spread) {
        (count, true) => stats.distinct_count = Some(count),
        (estimate, false) => stats.distinct_estimate = Some(estimate),
    }
}

/// Estimated distinct count of a fixed-width column that is not bitpacked
/// (floats, decimals, unsigned 64-bit integers).
pub(super) fn fixed_distinct(
    raw: &[u8],
    width: usize,
    valid: impl Fn(usize) -> bool,
    stats: &mut Stats,
) {
    let mut sketch = distinct::Sketch::new();
    let mut live = 0;
    for (i, v) in raw.chunks_exact(width).enumerate() {
        if valid(i) {
            let mut key = [0u8; 8];
            let low = width.min(8);
            key[..low].copy_from_slice(&v[..low]);
            let mut key = u64::from_le_bytes(key);
            if width == 16 {
                let high: [u8; 8] = v[8..16].try_into().unwrap_or([0; 8]);
                key ^= distinct::mix(u64::from_le_bytes(high));
            }
            sketch.add(key);
            live += 1;
        }
    }
    stats.distinct_estimate = Some(sketch.estimate(live));
}

/// Bounds of a text or binary column, kept when neither is longer than
/// `MAX_STAT_BYTES`.
pub(super) fn bytes_bounds(min: Option<&[u8]>, max: Option<&[u8]>, stats: &mut Stats) {
    if let (Some(min), Some(max)) = (min, max)
        && min.len() <= MAX_STAT_BYTES
        && max.len() <= MAX_STAT_BYTES
    {
        stats.min = Some(B64.encode(min));
        stats.max = Some(B64.encode(max));
    }
}

/// Estimated distinct count of a text or binary column's valid `values`.
pub(super) fn bytes_distinct(values: &[&[u8]], valid: &dyn Fn(usize) -> bool, stats: &mut Stats) {
    let mut sketch = distinct::Sketch::new();
    let mut live = 0;
    for v in (0..values.len()).filter(|&i| valid(i)).map(|i| values[i]) {
        let mut h = FxHasher::default();
        h.write(v);
        h.write_usize(v.len());
        sketch.add(h.finish());
        live += 1;
    }
    stats.distinct_estimate = Some(sketch.estimate(live));
}
