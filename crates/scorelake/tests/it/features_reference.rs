//! A deliberately naive implementation of every feature, written from the
//! definitions in docs/features.md: for each row, find its window by
//! scanning the entity's whole history, then compute the statistic directly.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// One row of a panel.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub id: i64,
    pub day: NaiveDate,
    pub x: Option<f64>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum W {
    Rows(usize),
    Months(u32),
    Days(i64),
    All,
}

fn start_of(day: NaiveDate, w: W) -> Option<NaiveDate> {
    match w {
        W::Months(m) => day.checked_sub_months(Months::new(m)),
        W::Days(d) => Some(day - Duration::days(d)),
        _ => None,
    }
}

/// Indexes (into `rows`) of row `i`'s window; `rows` hold one entity, sorted by day.
pub(crate) fn window(rows: &[Row], i: usize, w: W) -> Vec<usize> {
    let t = rows[i].day;
    (0..rows.len())
        .filter(|&j| match w {
            W::Rows(n) => j <= i && i - j < n,
            W::All => rows[j].day <= t,
            W::Months(_) | W::Days(_) => {
                let s = start_of(t, w).expect("in range");
                rows[j].day > s && rows[j].day <= t
            }
        })
        .collect()
}

/// The lag row of row `i`: `p` rows back, or the row exactly one span back.
pub(crate) fn lag(rows: &[Row], i: usize, w: W) -> Option<usize> {
    match w {
        W::Rows(p) => i.checked_sub(p),
        _ => {
            let target = start_of(rows[i].day, w)?;
            (0..i).rev().find(|&j| rows[j].day == target)
        }
    }
}

fn days_in_month(d: NaiveDate) -> f64 {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("date");
    let next = first.checked_add_months(Months::new(1)).expect("date");
    (next - first).num_days() as f64
}

/// The slope's x for row `j`: position, months or days.
pub(crate) fn axis(rows: &[Row], j: usize, w: W) -> f64 {
    let d = rows[j].day;
    match w {
        W::Rows(_) | W::All => j as f64,
        W::Months(_) => {
            d.year() as f64 * 12.0 + (d.month() - 1) as f64 + d.day0() as f64 / days_in_month(d)
        }
        W::Days(_) => (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as f64,
    }
}

pub(crate) fn values(rows: &[Row], idx: &[usize]) -> Vec<f64> {
    idx.iter().filter_map(|&j| rows[j].x).collect()
}

pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

pub(crate) fn sample_std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
}

/// Slope by the normal equations on an axis shifted to start at 0.
pub(crate) fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let a0 = points.first()?.0;
    let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    for &(a, y) in points {
        let a = a - a0;
        sx += a;
        sy += y;
        sxx += a * a;
        sxy += a * y;
    }
    let den = n * sxx - sx * sx;
    (den.abs() > 1e-12).then(|| (n * sxy - sx * sy) / den)
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Feature `op` for row `i` of one entity's `rows`.
pub(crate) fn feature(rows: &[Row], i: usize, op: &str, w: W, minp: usize) -> Option<f64> {
    let x = rows[i].x;
    if op == "delta" || op == "pct_change" {
        let l = rows[lag(rows, i, w)?].x?;
        let x = x?;
        return if op == "delta" {
            Some(x - l)
        } else if l == 0.0 {
            None
        } else {
            Some((x - l) / l)
        };
    }
    let idx = window(rows, i, w);
    let v = values(rows, &idx);
    if op == "count" {
        return Some(v.len() as f64);
    }
    if v.len() < minp.max(1) {
        return None;
    }
    let max = v.iter().cloned().fold(f64::MIN, f64::max);
    let min = v.iter().cloned().fold(f64::MAX, f64::min);
    match op {
        "momentum" => Some(x? - mean(&v)),
        "volatility" | "std" => (v.len() >= 2).then(|| sample_std(&v)),
        "volatility_cv" => {
            let m = mean(&v);
            (v.len() >= 2 && m != 0.0).then(|| sample_std(&v) / m)
        }
        "trend_slope" => {
            let pts: Vec<(f64, f64)> = idx
                .iter()
                .filter_map(|&j| rows[j].x.map(|y| (axis(rows, j, w), y)))
                .collect();
            if pts.len() < 2 { None } else { slope(&pts) }
        }
        "rolling_rank" => {
            let x = x?;
            Some(1.0 + v.iter().filter(|&&y| y > x).count() as f64)
        }
        "minmax_range" | "range" => Some(max - min),
        "max" | "worst" => Some(max),
        "min" => Some(min),
        "mean" => Some(mean(&v)),
        "median" => Some(median(&v)),
        "sum" => Some(v.iter().sum()),
        "first" => v.first().copied(),
        "last" => v.last().copied(),
        other => panic!("no reference for {other}"),
    }
}
