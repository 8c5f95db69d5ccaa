//! Rows windows over many histories at once.
//!
//! A rows window of `w` rows is the current row and the `w − 1` before it
//! within its history. These kernels take every row of a set of complete
//! histories in one call, for the methods whose window is all they need.
//! The arithmetic is that of [`kernel::evaluate`], in the same order, so the
//! results are the same bit for bit.
//!
//! Most rows have a full window (`w` rows of their own history) without
//! missing values; for those the sums and comparisons need no filtering, and
//! [`together`] computes [`LANES`] neighbouring rows at once, each row still
//! summing its own window oldest first (independent chains the CPU runs side
//! by side). Rows near a history's start or a missing value, and the last
//! few, are computed one by one ([`one_row`]).
//!
//! [`kernel::evaluate`]: super::kernel::evaluate

use super::kernel::{extremes, mean, std};
use super::spec::Method;

/// Rows computed together by [`together`].
const LANES: usize = 4;

/// Whether [`evaluate_rows`] computes `method`.
pub(crate) fn has_rows_kernel(method: Method) -> bool {
    matches!(
        method,
        Method::Delta
            | Method::PctChange
            | Method::RollingRank
            | Method::Momentum
            | Method::TrendSlope
            | Method::Volatility
            | Method::MinMaxRange
    )
}

/// `method` over a rows window of `w` rows (for delta and pct_change, the
/// lag) for every row of `xs` (NaN = missing), where `first[i]` is the
/// first row of row `i`'s history; appends one value per row to `out` (NaN
/// for null). Methods without a kernel here ([`has_rows_kernel`]) append
/// nothing.
pub(crate) fn evaluate_rows(
    method: Method,
    min_periods: u32,
    w: usize,
    xs: &[f64],
    first: &[usize],
    out: &mut Vec<f64>,
) {
    let minp = min_periods as usize;
    let rows = 0..xs.len();
    // Each arm names its method as a constant, so that `one_row` (inlined)
    // is that method's loop body alone.
    match method {
        Method::Delta => out.extend(rows.map(|i| one_row(Method::Delta, minp, w, xs, first, i))),
        Method::PctChange => {
            out.extend(rows.map(|i| one_row(Method::PctChange, minp, w, xs, first, i)))
        }
        Method::Momentum => together(Method::Momentum, minp, w, xs, first, out, |span| {
            let s = sums(span, w);
            each(|l| span[w - 1 + l] - s[l] / w as f64)
        }),
        Method::Volatility => together(Method::Volatility, minp, w, xs, first, out, |span| {
            let s = sums(span, w);
            let m: [f64; LANES] = each(|l| s[l] / w as f64);
            let mut ss = [0.0; LANES];
            for k in 0..w {
                let v = lanes(span, k);
                for l in 0..LANES {
                    let d = v[l] - m[l];
                    ss[l] += d * d;
                }
            }
            each(|l| (ss[l] / (w - 1) as f64).sqrt())
        }),
        Method::TrendSlope => {
            // Positions relative to their mean: `k − (w − 1) / 2` wherever
            // the window starts (exact in floating point), so every full
            // window has the same sum of their squares.
            let da: Vec<f64> = (0..w).map(|k| k as f64 - (w as f64 - 1.0) / 2.0).collect();
            let saa = da.iter().fold(0.0, |saa, d| saa + d * d);
            together(Method::TrendSlope, minp, w, xs, first, out, |span| {
                let s = sums(span, w);
                let mx: [f64; LANES] = each(|l| s[l] / w as f64);
                let mut sxy = [0.0; LANES];
                for (k, &da) in da.iter().enumerate() {
                    let v = lanes(span, k);
                    for l in 0..LANES {
                        sxy[l] += da * (v[l] - mx[l]);
                    }
                }
                each(|l| sxy[l] / saa)
            })
        }
        Method::RollingRank => together(Method::RollingRank, minp, w, xs, first, out, |span| {
            let x = lanes(span, w - 1);
            let mut above = [0usize; LANES];
            for k in 0..w {
                let v = lanes(span, k);
                for l in 0..LANES {
                    above[l] += usize::from(v[l] > x[l]);
                }
            }
            each(|l| 1.0 + above[l] as f64)
        }),
        Method::MinMaxRange => together(Method::MinMaxRange, minp, w, xs, first, out, |span| {
            let (mut low, mut high) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
            for k in 0..w {
                let v = lanes(span, k);
                for l in 0..LANES {
                    low[l] = low[l].min(v[l]);
                    high[l] = high[l].max(v[l]);
                }
            }
            each(|l| high[l] - low[l])
        }),
        _ => {}
    }
}

/// Appends `method` at every row of `xs` to `out` (see [`one_row`]),
/// taking the rows whose window is full (`w` rows of their own history) and
/// has no missing value [`LANES`] at a time from `full` (given the
/// `w − 1 + LANES` values their windows span) when `w` rows are enough for
/// a value.
///
/// `full` must do the operations of [`one_row`] in the same order: sums
/// start at 0.0 and add a window oldest first.
#[inline(always)]
fn together(
    method: Method,
    minp: usize,
    w: usize,
    xs: &[f64],
    first: &[usize],
    out: &mut Vec<f64>,
    full: impl Fn(&[f64]) -> [f64; LANES],
) {
    let row = |i: usize| one_row(method, minp, w, xs, first, i);
    let n = xs.len();
    if w < needed(method, minp) || n < w - 1 + LANES {
        out.extend((0..n).map(row));
        return;
    }
    let start = out.len();
    out.reserve(n);
    out.extend(std::iter::repeat_n(f64::NAN, w - 1));
    let mut i = w - 1;
    while i + LANES <= n {
        out.extend(full(&xs[i + 1 - w..i + LANES]));
        i += LANES;
    }
    let done = i;
    out.extend(std::iter::repeat_n(f64::NAN, n - done));
    let out = &mut out[start..];
    // Rows without a full window of their own history, and the last ones.
    for i in 0..n {
        if i >= done || i - first[i] + 1 < w {
            out[i] = row(i);
        }
    }
    // Rows whose window has a missing value.
    for j in (0..done).filter(|&j| xs[j].is_nan()) {
        let end = (j + w).min(done);
        for (i, o) in out[j..end].iter_mut().enumerate() {
            *o = row(j + i);
        }
    }
}

/// Value `k` (oldest first) of the windows of [`LANES`] neighbouring rows,
/// from the `w − 1 + LANES` values `span` their windows cover.
#[inline(always)]
fn lanes(span: &[f64], k: usize) -> [f64; LANES] {
    let v = &span[k..k + LANES];
    [v[0], v[1], v[2], v[3]]
}

/// `f` of each lane.
#[inline(always)]
fn each(f: impl Fn(usize) -> f64) -> [f64; LANES] {
    [f(0), f(1), f(2), f(3)]
}

/// The sums of the `w`-row windows of [`LANES`] neighbouring rows (see
/// [`lanes`]), each from 0.0, oldest value first.
#[inline(always)]
fn sums(span: &[f64], w: usize) -> [f64; LANES] {
    let mut s = [0.0; LANES];
    for k in 0..w {
        let v = lanes(span, k);
        for l in 0..LANES {
            s[l] += v[l];
        }
    }
    s
}

/// Values a window needs for `method` to have one: `min_periods`, at least
/// one, and two for a spread or a slope.
#[inline(always)]
fn needed(method: Method, minp: usize) -> usize {
    match method {
        Method::Volatility | Method::TrendSlope => minp.max(2),
        _ => minp.max(1),
    }
}

/// `method` at row `i` (see [`evaluate_rows`]).
#[inline(always)]
fn one_row(method: Method, minp: usize, w: usize, xs: &[f64], first: &[usize], i: usize) -> f64 {
    let null = f64::NAN;
    // The first row of the window.
    let lo = first[i].max((i + 1).saturating_sub(w));
    let lag = || i.checked_sub(w).filter(|&j| j >= first[i]);
    let window = || &xs[lo..=i];
    match method {
        Method::Delta => match lag() {
            Some(j) => xs[i] - xs[j],
            None => null,
        },
        Method::PctChange => match lag() {
            Some(j) if xs[j] != 0.0 => (xs[i] - xs[j]) / xs[j],
            _ => null,
        },
        Method::RollingRank => {
            let x = xs[i];
            let (mut present, mut above) = (0, 0);
            for &v in window() {
                present += usize::from(!v.is_nan());
                above += usize::from(v > x);
            }
            if x.is_nan() || present < minp {
                null
            } else {
                1.0 + above as f64
            }
        }
        Method::Momentum => match mean(window(), minp) {
            Some(m) => xs[i] - m,
            None => null,
        },
        Method::Volatility => std(window(), needed(method, minp)).unwrap_or(null),
        Method::TrendSlope => {
            // Positions within the history, as the general path's axis.
            let start = (lo - first[i]) as f64;
            let (mut count, mut sx, mut sa) = (0usize, 0.0, 0.0);
            let mut at = start;
            for &v in window() {
                if !v.is_nan() {
                    count += 1;
                    sx += v;
                    sa += at;
                }
                at += 1.0;
            }
            if count < needed(method, minp) {
                return null;
            }
            let (mx, ma) = (sx / count as f64, sa / count as f64);
            let (mut sxy, mut saa) = (0.0, 0.0);
            let mut at = start;
            for &v in window() {
                if !v.is_nan() {
                    let da = at - ma;
                    sxy += da * (v - mx);
                    saa += da * da;
                }
                at += 1.0;
            }
            if saa > 0.0 { sxy / saa } else { null }
        }
        Method::MinMaxRange => match extremes(window(), minp) {
            Some((low, high)) => high - low,
            None => null,
        },
        _ => null,
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernel::evaluate_history;
    use super::super::spec::{Agg, Window};
    use super::*;

    /// The general path (bounds, lags and axis of each history).
    fn general(method: Method, w: u32, minp: u32, history: &[f64]) -> Vec<f64> {
        let times: Vec<i64> = (0..history.len() as i64).collect();
        evaluate_history(method, Window::Rows(w), minp, history, &times)
    }

    /// On random histories of 1 to 40 rows with missing values, ties, zeros
    /// of both signs, infinities and constant stretches, all in one call,
    /// every method gives the general path's values history by history, bit
    /// for bit (full windows computed together, the others row by row).
    #[test]
    fn all_histories_at_once_equal_the_general_path() {
        let mut next = crate::test_rng::xorshift(0x5eed_7e3f);
        let methods = [
            Method::Delta,
            Method::PctChange,
            Method::RollingRank,
            Method::Momentum,
            Method::TrendSlope,
            Method::Volatility,
            Method::MinMaxRange,
        ];
        let (mut xs, mut first) = (Vec::new(), Vec::new());
        for len in [1, 2, 3, 7, 40].into_iter().cycle().take(60) {
            let start = xs.len();
            for _ in 0..len {
                xs.push(match next() % 64 {
                    0..8 => f64::NAN,
                    8..12 => 0.0,
                    12..16 => -0.0,
                    16..24 => 5.0,
                    24 => f64::INFINITY,
                    25 => f64::NEG_INFINITY,
                    _ => (next() % 2001) as f64 / 8.0 - 125.0,
                });
                first.push(start);
            }
        }
        let bits = |v: &[f64]| -> Vec<u64> {
            v.iter()
                .map(|x| if x.is_nan() { 1 } else { x.to_bits() })
                .collect()
        };
        for &method in &methods {
            assert!(has_rows_kernel(method));
            for w in 1..=7u32 {
                for minp in 0..=3 {
                    let mut want = Vec::new();
                    let mut start = 0;
                    while start < xs.len() {
                        let end = first
                            .iter()
                            .rposition(|&f| f == start)
                            .map_or(start, |e| e + 1);
                        want.extend(general(method, w, minp, &xs[start..end]));
                        start = end;
                    }
                    let mut got = Vec::new();
                    evaluate_rows(method, minp, w as usize, &xs, &first, &mut got);
                    assert_eq!(bits(&got), bits(&want), "{method:?} w={w} minp={minp}");
                }
            }
        }
        assert!(!has_rows_kernel(Method::Agg(Agg::Sum)));
    }
}
