//! How far the running plans are: the rows their scans produced so far out
//! of the rows their inputs hold (the scans' statistics: Parquet footers,
//! NCF and Delta metadata, in-memory tables), read live from the engine's
//! metrics while the plans run.

use std::sync::Arc;

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};

use crate::functions::PlanWatch;

/// Rows read so far by the plans made since a [`PlanWatch`] opened.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Reading {
    /// Rows the plans' scans produced so far.
    pub rows: u64,
    /// Rows the scans will read, when every scan knows its input's size.
    pub total: Option<u64>,
    /// Plans made since the watch opened.
    pub queries: usize,
}

/// Follows the scans of the plans a watch sees, remembering each plan's
/// total (it does not change once the plan is made).
pub(crate) struct Meter {
    watch: PlanWatch,
    totals: Vec<Option<u64>>,
}

impl Meter {
    pub(crate) fn new(watch: PlanWatch) -> Self {
        Meter {
            watch,
            totals: Vec::new(),
        }
    }

    /// The reading now.
    pub(crate) fn read(&mut self) -> Reading {
        let plans = self.watch.plans();
        for plan in &plans[self.totals.len().min(plans.len())..] {
            self.totals.push(scan_total(plan));
        }
        Reading {
            rows: plans.iter().map(scan_rows).sum(),
            total: self.totals.iter().copied().sum(),
            queries: plans.len(),
        }
    }
}

/// The leaves of `plan` (its scans).
fn scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut out = Vec::new();
    let mut stack = vec![Arc::clone(plan)];
    while let Some(p) = stack.pop() {
        let children = p.children();
        if children.is_empty() {
            out.push(p);
        } else {
            stack.extend(children.into_iter().cloned());
        }
    }
    out
}

/// Rows `plan`'s scans will read, if each knows (exactly or as an estimate).
fn scan_total(plan: &Arc<dyn ExecutionPlan>) -> Option<u64> {
    scans(plan)
        .iter()
        .map(|scan| {
            let stats = StatisticsContext::new()
                .compute(scan.as_ref(), &StatisticsArgs::new())
                .ok()?;
            stats.num_rows.get_value().map(|n| *n as u64)
        })
        .sum()
}

/// Rows `plan`'s scans produced so far.
fn scan_rows(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    scans(plan)
        .iter()
        .filter_map(|scan| scan.metrics()?.output_rows())
        .map(|n| n as u64)
        .sum()
}

/// `reading` as words after a stage's name: rows read out of the total,
/// the rate over `seconds`, the time left at that rate.
pub(crate) fn describe(reading: Reading, seconds: f64) -> Option<String> {
    if reading.rows == 0 {
        return None;
    }
    let rate = reading.rows as f64 / seconds.max(1e-3);
    let query = if reading.queries > 1 {
        format!(" · query {}", reading.queries)
    } else {
        String::new()
    };
    let rows = count(reading.rows as f64);
    Some(match reading.total {
        Some(total) if total > reading.rows => format!(
            "{rows}/{} rows read ({:.0}%), {}/s, ETA {:.0} s{query}",
            count(total as f64),
            100.0 * reading.rows as f64 / total as f64,
            count(rate),
            (total - reading.rows) as f64 / rate
        ),
        Some(_) => format!("{rows} rows read, finishing{query}"),
        None => format!("{rows} rows read, {}/s{query}", count(rate)),
    })
}

/// `n` with a k/M/G suffix and three significant digits.
fn count(n: f64) -> String {
    let (value, suffix) = if n >= 1e9 {
        (n / 1e9, "G")
    } else if n >= 1e6 {
        (n / 1e6, "M")
    } else if n >= 1e3 {
        (n / 1e3, "k")
    } else {
        return format!("{n:.0}");
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_read_as_counts_rates_and_time_left() {
        let reading = |rows, total, queries| Reading {
            rows,
            total,
            queries,
        };
        assert_eq!(describe(reading(0, Some(10), 1), 1.0), None);
        assert_eq!(
            describe(reading(1_230_000, Some(4_590_000), 1), 2.0).as_deref(),
            Some("1.23M/4.59M rows read (27%), 615k/s, ETA 5 s")
        );
        assert_eq!(
            describe(reading(4_590_000, Some(4_590_000), 3), 2.0).as_deref(),
            Some("4.59M rows read, finishing · query 3")
        );
        assert_eq!(
            describe(reading(999, None, 1), 1.0).as_deref(),
            Some("999 rows read, 999/s")
        );
        assert_eq!(count(12_345.0), "12.3k");
        assert_eq!(count(123_456_789.0), "123M");
    }
}
