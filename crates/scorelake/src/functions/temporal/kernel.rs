//! The per-entity computations, on one entity's history at a time.
//!
//! Values are `f64` with NaN standing for a missing value (null in the
//! input, or NaN itself): missing values are ignored inside a window. Times
//! are microseconds since the Unix epoch, ascending. Results use NaN for null.

use std::ops::Range;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Timelike};

use super::spec::{Agg, Method, Span, Window};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The rows `[start, end)` of each row's window, within one history of `n` rows.
///
/// Rows windows end at the current row; calendar and all-time windows end at
/// the last row with the same time (a window is "rows whose time is in
/// `(t − span, t]`", ties included).
pub(crate) fn window_bounds(window: Window, times: &[i64], n: usize, out: &mut Vec<Range<usize>>) {
    out.clear();
    match window {
        Window::Rows(w) => {
            let w = w as usize;
            out.extend((0..n).map(|i| (i + 1).saturating_sub(w)..i + 1));
        }
        Window::Calendar(span) => {
            let mut start = 0;
            let mut end = 0;
            for i in 0..n {
                let t = times[i];
                let after = minus(t, span);
                while times[start] <= after {
                    start += 1;
                }
                end = end.max(i + 1);
                while end < n && times[end] <= t {
                    end += 1;
                }
                out.push(start..end);
            }
        }
        Window::AllTime => {
            let mut end = 0;
            for i in 0..n {
                end = end.max(i + 1);
                while end < n && times[end] <= times[i] {
                    end += 1;
                }
                out.push(0..end);
            }
        }
    }
}

/// For delta and pct_change: the row holding each row's lag, if any. A rows
/// window `p` is `p` rows back; a calendar span is the row whose time is
/// exactly `t − span` (the last one if several), so gaps give null.
pub(crate) fn lag_rows(window: Window, times: &[i64], n: usize, out: &mut Vec<Option<usize>>) {
    out.clear();
    match window {
        Window::Rows(p) => out.extend((0..n).map(|i| i.checked_sub(p as usize))),
        Window::Calendar(span) => out.extend((0..n).map(|i| {
            let target = minus(times[i], span);
            let after = times[..i].partition_point(|&t| t <= target);
            (after > 0 && times[after - 1] == target).then(|| after - 1)
        })),
        Window::AllTime => out.extend((0..n).map(|i| (i > 0).then_some(0))),
    }
}

/// The x axis of trend slopes: row position for rows and all-time windows,
/// months (whole months plus the elapsed fraction of the month) or days for
/// calendar windows.
pub(crate) fn slope_axis(window: Window, times: &[i64], n: usize, out: &mut Vec<f64>) {
    out.clear();
    match window {
        Window::Rows(_) | Window::AllTime => out.extend((0..n).map(|i| i as f64)),
        Window::Calendar(Span::Days(_)) => {
            out.extend(times.iter().map(|&t| t as f64 / MICROS_PER_DAY as f64))
        }
        Window::Calendar(Span::Months(_)) => out.extend(times.iter().map(|&t| month_position(t))),
    }
}

/// `t − span` in microseconds; months are calendar months (day clamped to
/// the month's end), out-of-range results saturate.
pub fn minus(t: i64, span: Span) -> i64 {
    match span {
        Span::Days(d) => t.saturating_sub(i64::from(d) * MICROS_PER_DAY),
        Span::Months(m) => datetime(t)
            .and_then(|dt| dt.checked_sub_months(Months::new(m)))
            .map_or(i64::MIN, |dt| dt.and_utc().timestamp_micros()),
    }
}

fn datetime(t: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(t).map(|d| d.naive_utc())
}

/// Months since January of year 0 with the elapsed fraction of the month:
/// the first of every month is a whole number.
pub fn month_position(t: i64) -> f64 {
    let Some(dt) = datetime(t) else {
        return f64::NAN;
    };
    let (y, m) = (dt.year(), dt.month());
    let first = NaiveDate::from_ymd_opt(y, m, 1);
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    let days_in_month = match (first, next) {
        (Some(a), Some(b)) => (b - a).num_days() as f64,
        _ => 31.0,
    };
    let elapsed = f64::from(dt.day0()) + f64::from(dt.num_seconds_from_midnight()) / 86_400.0;
    f64::from(y) * 12.0 + f64::from(m - 1) + elapsed / days_in_month
}

/// What a method needs besides the values.
pub(crate) struct Frame<'a> {
    pub bounds: &'a [Range<usize>],
    pub lags: &'a [Option<usize>],
    pub axis: &'a [f64],
}

/// Computes `method` for every row of one history into `out` (NaN = null).
pub(crate) fn evaluate(
    method: Method,
    min_periods: u32,
    xs: &[f64],
    frame: &Frame,
    out: &mut Vec<f64>,
) {
    let minp = min_periods as usize;
    let null = f64::NAN;
    match method {
        Method::Delta => out.extend(frame.lags.iter().enumerate().map(|(i, lag)| match lag {
            Some(j) => xs[i] - xs[*j],
            None => null,
        })),
        Method::PctChange => out.extend(frame.lags.iter().enumerate().map(|(i, lag)| match lag {
            Some(j) if xs[*j] != 0.0 => (xs[i] - xs[*j]) / xs[*j],
            _ => null,
        })),
        Method::RollingRank => out.extend(frame.bounds.iter().enumerate().map(|(i, r)| {
            let x = xs[i];
            let w = &xs[r.clone()];
            if x.is_nan() || present(w) < minp {
                return null;
            }
            1.0 + w.iter().filter(|&&v| v > x).count() as f64
        })),
        Method::Momentum => out.extend(frame.bounds.iter().enumerate().map(|(i, r)| {
            match mean(&xs[r.clone()], minp) {
                Some(m) => xs[i] - m,
                None => null,
            }
        })),
        Method::TrendSlope => {
            out.extend(frame.bounds.iter().map(|r| {
                slope(&xs[r.clone()], &frame.axis[r.clone()], minp.max(2)).unwrap_or(null)
            }))
        }
        Method::Volatility => out.extend(
            frame
                .bounds
                .iter()
                .map(|r| std(&xs[r.clone()], minp.max(2)).unwrap_or(null)),
        ),
        Method::VolatilityCv => out.extend(frame.bounds.iter().map(|r| {
            let w = &xs[r.clone()];
            match (std(w, minp.max(2)), mean(w, 1)) {
                (Some(s), Some(m)) if m != 0.0 => s / m,
                _ => null,
            }
        })),
        Method::MinMaxRange | Method::Agg(Agg::Range) => {
            out.extend(
                frame
                    .bounds
                    .iter()
                    .map(|r| match extremes(&xs[r.clone()], minp) {
                        Some((lo, hi)) => hi - lo,
                        None => null,
                    }),
            )
        }
        Method::Agg(agg) => {
            let mut scratch = Vec::new();
            out.extend(
                frame
                    .bounds
                    .iter()
                    .map(|r| aggregate(agg, &xs[r.clone()], minp, &mut scratch).unwrap_or(null)),
            )
        }
    }
}

fn present(w: &[f64]) -> usize {
    w.iter().filter(|v| !v.is_nan()).count()
}

/// The number and the sum (oldest first) of the values that are not
/// missing.
fn count_and_sum(w: &[f64]) -> (usize, f64) {
    let (mut n, mut sum) = (0usize, 0.0);
    for &v in w.iter().filter(|v| !v.is_nan()) {
        n += 1;
        sum += v;
    }
    (n, sum)
}

pub(super) fn mean(w: &[f64], minp: usize) -> Option<f64> {
    let (n, sum) = count_and_sum(w);
    (n >= minp.max(1)).then(|| sum / n as f64)
}

/// Sample standard deviation, two passes (mean first) for accuracy.
pub(super) fn std(w: &[f64], minp: usize) -> Option<f64> {
    let (n, sum) = count_and_sum(w);
    if n < minp.max(2) {
        return None;
    }
    let m = sum / n as f64;
    let ss: f64 = w
        .iter()
        .filter(|v| !v.is_nan())
        .map(|v| (v - m) * (v - m))
        .sum();
    Some((ss / (n - 1) as f64).sqrt())
}

/// Least-squares slope of `xs` against `axis` over the pairs with a value.
fn slope(xs: &[f64], axis: &[f64], minp: usize) -> Option<f64> {
    let pairs = || xs.iter().zip(axis).filter(|(v, _)| !v.is_nan());
    let n = pairs().count();
    if n < minp {
        return None;
    }
    let (sx, sa) = pairs().fold((0.0, 0.0), |(sx, sa), (v, a)| (sx + v, sa + a));
    let (mx, ma) = (sx / n as f64, sa / n as f64);
    let (sxy, saa) = pairs().fold((0.0, 0.0), |(sxy, saa), (v, a)| {
        let da = a - ma;
        (sxy + da * (v - mx), saa + da * da)
    });
    (saa > 0.0).then(|| sxy / saa)
}

pub(super) fn extremes(w: &[f64], minp: usize) -> Option<(f64, f64)> {
    let mut n = 0usize;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in w.iter().filter(|v| !v.is_nan()) {
        n += 1;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (n >= minp.max(1)).then_some((lo, hi))
}

fn aggregate(agg: Agg, w: &[f64], minp: usize, scratch: &mut Vec<f64>) -> Option<f64> {
    let mut values = w.iter().copied().filter(|v| !v.is_nan());
    match agg {
        Agg::Count => Some(present(w) as f64),
        Agg::Max | Agg::Worst => extremes(w, minp).map(|(_, hi)| hi),
        Agg::Min => extremes(w, minp).map(|(lo, _)| lo),
        Agg::Range => extremes(w, minp).map(|(lo, hi)| hi - lo),
        Agg::Mean => mean(w, minp),
        Agg::Std => std(w, minp),
        Agg::Sum => (present(w) >= minp.max(1)).then(|| values.sum()),
        Agg::First => (present(w) >= minp.max(1)).then(|| values.next()).flatten(),
        Agg::Last => (present(w) >= minp.max(1))
            .then(|| values.next_back())
            .flatten(),
        Agg::Median => {
            scratch.clear();
            scratch.extend(values);
            let n = scratch.len();
            if n < minp.max(1) {
                return None;
            }
            scratch.sort_unstable_by(f64::total_cmp);
            Some(if n % 2 == 1 {
                scratch[n / 2]
            } else {
                (scratch[n / 2 - 1] + scratch[n / 2]) / 2.0
            })
        }
    }
}

/// `method` over one history with times `times`, through its bounds,
/// lags and axis (the reference of the tests of faster paths).
#[cfg(test)]
pub(crate) fn evaluate_history(
    method: Method,
    window: Window,
    minp: u32,
    xs: &[f64],
    times: &[i64],
) -> Vec<f64> {
    let (mut bounds, mut lags, mut axis, mut out) = (vec![], vec![], vec![], vec![]);
    window_bounds(window, times, xs.len(), &mut bounds);
    lag_rows(window, times, xs.len(), &mut lags);
    slope_axis(window, times, xs.len(), &mut axis);
    let frame = Frame {
        bounds: &bounds,
        lags: &lags,
        axis: &axis,
    };
    evaluate(method, minp, xs, &frame, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::evaluate_history as run;
    use super::*;

    const NA: f64 = f64::NAN;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_micros())
            .unwrap_or_default()
    }

    fn same(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn hand_computed_rows_windows() {
        let xs = [1.0, 3.0, NA, 6.0, 6.0];
        let t: Vec<i64> = (0..5).collect();
        same(
            &run(Method::Delta, Window::Rows(1), 1, &xs, &t),
            &[NA, 2.0, NA, NA, 0.0],
        );
        same(
            &run(Method::Delta, Window::Rows(2), 1, &xs, &t),
            &[NA, NA, NA, 3.0, NA],
        );
        same(
            &run(Method::PctChange, Window::Rows(1), 1, &xs, &t),
            &[NA, 2.0, NA, NA, 0.0],
        );
        same(
            &run(Method::PctChange, Window::Rows(1), 1, &[0.0, 5.0], &t[..2]),
            &[NA, NA],
        );
        // windows of 3: [1], [1,3], [1,3,_], [3,_,6], [_,6,6]
        same(
            &run(Method::Momentum, Window::Rows(3), 1, &xs, &t),
            &[0.0, 1.0, NA, 1.5, 0.0],
        );
        same(
            &run(Method::Volatility, Window::Rows(3), 2, &xs, &t),
            &[NA, 2f64.sqrt(), 2f64.sqrt(), 4.5f64.sqrt(), 0.0],
        );
        same(
            &run(Method::VolatilityCv, Window::Rows(3), 2, &xs, &t),
            &[
                NA,
                2f64.sqrt() / 2.0,
                2f64.sqrt() / 2.0,
                4.5f64.sqrt() / 4.5,
                0.0,
            ],
        );
        // slope against positions: [1,3] at 0,1 → 2; [3,6] at 1,3 → 1.5; [6,6] → 0
        same(
            &run(Method::TrendSlope, Window::Rows(3), 2, &xs, &t),
            &[NA, 2.0, 2.0, 1.5, 0.0],
        );
        // ties: 6 and 6 → both rank 1; x null → null
        same(
            &run(Method::RollingRank, Window::Rows(3), 1, &xs, &t),
            &[1.0, 1.0, NA, 1.0, 1.0],
        );
        same(
            &run(
                Method::RollingRank,
                Window::Rows(3),
                1,
                &[5.0, 9.0, 1.0],
                &t[..3],
            ),
            &[1.0, 1.0, 3.0],
        );
        same(
            &run(Method::MinMaxRange, Window::Rows(3), 1, &xs, &t),
            &[0.0, 2.0, 2.0, 3.0, 0.0],
        );
        same(
            &run(Method::MinMaxRange, Window::Rows(3), 3, &xs, &t),
            &[NA, NA, NA, NA, NA],
        );
        // one-row history
        same(
            &run(Method::Volatility, Window::Rows(6), 2, &[4.0], &[0]),
            &[NA],
        );
        same(
            &run(Method::TrendSlope, Window::Rows(6), 2, &[4.0], &[0]),
            &[NA],
        );
    }

    #[test]
    fn calendar_windows_do_not_stretch_over_gaps() {
        // Jan, Feb, (Mar missing), Apr, Jul
        let t = [
            day(2024, 1, 1),
            day(2024, 2, 1),
            day(2024, 4, 1),
            day(2024, 7, 1),
        ];
        let xs = [10.0, 20.0, 40.0, 70.0];
        let w3 = Window::Calendar(Span::Months(3));
        // (t − 3 months, t]: Jan:[Jan] Feb:[Jan,Feb] Apr:[Feb,Apr] Jul:[Jul]
        same(
            &run(Method::Agg(Agg::Sum), w3, 1, &xs, &t),
            &[10.0, 30.0, 60.0, 70.0],
        );
        same(
            &run(Method::Agg(Agg::Count), w3, 1, &xs, &t),
            &[1.0, 2.0, 2.0, 1.0],
        );
        // slope in months: Feb→Apr is 2 months, 20 → 40 = 10 per month
        same(
            &run(Method::TrendSlope, w3, 2, &xs, &t),
            &[NA, 10.0, 10.0, NA],
        );
        // lag of exactly one month: Apr has no Mar
        let m1 = Window::Calendar(Span::Months(1));
        same(&run(Method::Delta, m1, 1, &xs, &t), &[NA, 10.0, NA, NA]);
        // 40 days back from Feb 1 is Dec 23: Jan included; from Apr 1, Feb 21
        let d = Window::Calendar(Span::Days(40));
        same(
            &run(Method::Agg(Agg::Sum), d, 1, &xs, &t),
            &[10.0, 30.0, 40.0, 70.0],
        );
        // all time
        same(
            &run(Method::Agg(Agg::Median), Window::AllTime, 1, &xs, &t),
            &[10.0, 15.0, 20.0, 30.0],
        );
        same(
            &run(
                Method::Agg(Agg::First),
                Window::AllTime,
                1,
                &[NA, 2.0, 3.0, NA],
                &t,
            ),
            &[NA, 2.0, 2.0, 2.0],
        );
        same(
            &run(
                Method::Agg(Agg::Last),
                Window::AllTime,
                1,
                &[NA, 2.0, 3.0, NA],
                &t,
            ),
            &[NA, 2.0, 3.0, 3.0],
        );
    }

    #[test]
    fn month_arithmetic_clamps_and_positions_are_months() {
        assert_eq!(minus(day(2024, 3, 31), Span::Months(1)), day(2024, 2, 29));
        assert_eq!(minus(day(2024, 3, 1), Span::Days(1)), day(2024, 2, 29));
        assert_eq!(
            month_position(day(2024, 2, 1)) - month_position(day(2024, 1, 1)),
            1.0
        );
        let mid = month_position(day(2024, 2, 15)) - month_position(day(2024, 2, 1));
        assert!((mid - 14.0 / 29.0).abs() < 1e-9);
    }

    #[test]
    fn ties_in_time_share_a_calendar_window() {
        let t = [day(2024, 1, 1), day(2024, 1, 1), day(2024, 2, 1)];
        let xs = [1.0, 2.0, 4.0];
        let w = Window::Calendar(Span::Months(1));
        same(&run(Method::Agg(Agg::Sum), w, 1, &xs, &t), &[3.0, 3.0, 4.0]);
        same(&run(Method::TrendSlope, w, 2, &xs, &t), &[NA, NA, NA]);
    }
}
