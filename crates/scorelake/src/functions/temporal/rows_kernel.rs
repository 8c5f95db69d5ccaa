//! Rows windows over many histories at once.
//!
//! A rows window of `w` rows is the current row and the `w − 1` before it
//! within its history. These kernels take every row of a set of complete
//! histories in one call, each with one loop over its window's values and
//! no bounds, lags or axis built per history, for the methods whose window
//! is all they need. The arithmetic is that of [`kernel::evaluate`], in the
//! same order, so the results are the same bit for bit.
//!
//! [`kernel::evaluate`]: super::kernel::evaluate

use super::kernel::{extremes, mean, std};
use super::spec::Method;

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
    let null = f64::NAN;
    let n = xs.len();
    // The first row of each row's window.
    let lo = |i: usize| first[i].max((i + 1).saturating_sub(w));
    let lag = |i: usize| i.checked_sub(w).filter(|&j| j >= first[i]);
    let window = |i: usize| &xs[lo(i)..=i];
    let rows = 0..n;
    match method {
        Method::Delta => out.extend(rows.map(|i| match lag(i) {
            Some(j) => xs[i] - xs[j],
            None => null,
        })),
        Method::PctChange => out.extend(rows.map(|i| match lag(i) {
            Some(j) if xs[j] != 0.0 => (xs[i] - xs[j]) / xs[j],
            _ => null,
        })),
        Method::RollingRank => out.extend(rows.map(|i| {
            let x = xs[i];
            let (mut present, mut above) = (0, 0);
            for &v in window(i) {
                present += usize::from(!v.is_nan());
                above += usize::from(v > x);
            }
            if x.is_nan() || present < minp {
                null
            } else {
                1.0 + above as f64
            }
        })),
        Method::Momentum => out.extend(rows.map(|i| match mean(window(i), minp) {
            Some(m) => xs[i] - m,
            None => null,
        })),
        Method::Volatility => out.extend(rows.map(|i| std(window(i), minp.max(2)).unwrap_or(null))),
        Method::TrendSlope => out.extend(rows.map(|i| {
            let values = window(i);
            // Positions within the history, as the general path's axis.
            let start = (lo(i) - first[i]) as f64;
            let (mut count, mut sx, mut sa) = (0usize, 0.0, 0.0);
            let mut at = start;
            for &v in values {
                if !v.is_nan() {
                    count += 1;
                    sx += v;
                    sa += at;
                }
                at += 1.0;
            }
            if count < minp.max(2) {
                return null;
            }
            let (mx, ma) = (sx / count as f64, sa / count as f64);
            let (mut sxy, mut saa) = (0.0, 0.0);
            let mut at = start;
            for &v in values {
                if !v.is_nan() {
                    let da = at - ma;
                    sxy += da * (v - mx);
                    saa += da * da;
                }
                at += 1.0;
            }
            if saa > 0.0 { sxy / saa } else { null }
        })),
        Method::MinMaxRange => out.extend(rows.map(|i| match extremes(window(i), minp) {
            Some((low, high)) => high - low,
            None => null,
        })),
        _ => {}
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
    /// and constant stretches, all in one call, every method gives the
    /// general path's values history by history, bit for bit.
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
                xs.push(match next() % 8 {
                    0 => f64::NAN,
                    1 => 0.0,
                    2 => 5.0,
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
