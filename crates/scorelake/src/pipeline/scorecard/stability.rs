//! Bin stability over periods: each model variable's event rate per bin
//! in every period of the modelling table, and whether the bins keep the
//! order of the event rate the binning found.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::cast;
use datafusion::prelude::DataFrame;
use serde::Serialize;

use crate::checks::weight_or_one;
use crate::error::Result;
use crate::expr::column;
use crate::results::number_at;
use crate::scorecard::{Binning, Monotonic, VariableBins, bin_column};

/// One variable's event rate per bin and period.
#[derive(Clone, Debug, Serialize)]
pub struct BinStability {
    /// The variable.
    pub variable: String,
    /// Bin labels (regular bins, in order).
    pub bins: Vec<String>,
    /// Periods, in order.
    pub periods: Vec<String>,
    /// Event rate per bin (rows) and period (columns); none for an empty cell.
    pub rates: Vec<Vec<Option<f64>>>,
    /// Per period, neighbouring bins whose event rates go against the
    /// variable's direction (0: the order holds).
    pub inversions: Vec<usize>,
}

/// The event-rate direction of `v`'s regular bins: the binning's, else the
/// one its fitted event rates follow; none when they follow neither.
fn direction(v: &VariableBins) -> Option<bool> {
    match v.monotonic {
        Some(Monotonic::Ascending) => return Some(true),
        Some(Monotonic::Descending) => return Some(false),
        _ => {}
    }
    let rates: Vec<f64> = v
        .bins
        .iter()
        .filter(|b| b.bin >= 1)
        .filter_map(|b| b.event_rate)
        .collect();
    if rates.windows(2).all(|w| w[1] > w[0]) {
        Some(true)
    } else if rates.windows(2).all(|w| w[1] < w[0]) {
        Some(false)
    } else {
        None
    }
}

/// The stability of `variables` over the periods of `period` in `rows`
/// (one grouped aggregate per variable; the groups are periods × bins).
pub(super) async fn bin_stability(
    binning: &Binning,
    variables: &[String],
    rows: &DataFrame,
    period: &str,
    target: &str,
    weight: Option<&str>,
) -> Result<Vec<BinStability>> {
    let binned = binning.transform(rows.clone(), Some(variables))?;
    let w = weight_or_one(weight);
    let y = cast(column(target), DataType::Float64);
    let mut out = Vec::new();
    for name in variables {
        let v = binning.variable(name)?;
        let batches = binned
            .clone()
            .aggregate(
                vec![
                    cast(column(period), DataType::Utf8).alias("__period"),
                    column(&bin_column(name)).alias("__bin"),
                ],
                vec![
                    sum(w.clone()).alias("__w"),
                    sum(w.clone() * y.clone()).alias("__e"),
                ],
            )?
            .collect()
            .await?;
        let regular: Vec<i32> = v.bins.iter().map(|b| b.bin).filter(|b| *b >= 1).collect();
        let mut cells: BTreeMap<String, BTreeMap<i32, (f64, f64)>> = BTreeMap::new();
        for b in &batches {
            let periods = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let periods = datafusion::arrow::array::AsArray::as_string::<i32>(&periods);
            for r in 0..b.num_rows() {
                if datafusion::arrow::array::Array::is_null(periods, r) {
                    continue;
                }
                let (Some(bin), Some(weight), Some(events)) = (
                    number_at(b, "__bin", r),
                    number_at(b, "__w", r),
                    number_at(b, "__e", r),
                ) else {
                    continue;
                };
                cells
                    .entry(periods.value(r).to_string())
                    .or_default()
                    .insert(bin as i32, (weight, events));
            }
        }
        let periods: Vec<String> = cells.keys().cloned().collect();
        let rates: Vec<Vec<Option<f64>>> = regular
            .iter()
            .map(|bin| {
                periods
                    .iter()
                    .map(|p| {
                        cells[p]
                            .get(bin)
                            .filter(|(w, _)| *w > 0.0)
                            .map(|(w, e)| e / w)
                    })
                    .collect()
            })
            .collect();
        let up = direction(v);
        let inversions = (0..periods.len())
            .map(|p| {
                let column: Vec<f64> = rates.iter().filter_map(|r| r[p]).collect();
                match up {
                    Some(up) => column
                        .windows(2)
                        .filter(|w| if up { w[1] < w[0] } else { w[1] > w[0] })
                        .count(),
                    None => 0,
                }
            })
            .collect();
        out.push(BinStability {
            variable: name.clone(),
            bins: v
                .bins
                .iter()
                .filter(|b| b.bin >= 1)
                .map(|b| b.label.clone())
                .collect(),
            periods,
            rates,
            inversions,
        });
    }
    Ok(out)
}

/// The tables as Markdown: event rates (%) per bin and period, and the
/// inversions per period.
pub(super) fn to_markdown(stability: &[BinStability]) -> String {
    let mut out = String::new();
    for s in stability {
        let _ = write!(out, "`{}`\n\n| bin |", s.variable);
        for p in &s.periods {
            let _ = write!(out, " {p} |");
        }
        out.push_str("\n|---|");
        for _ in &s.periods {
            out.push_str("---|");
        }
        out.push('\n');
        for (label, row) in s.bins.iter().zip(&s.rates) {
            let _ = write!(out, "| {label} |");
            for r in row {
                match r {
                    Some(r) => {
                        let _ = write!(out, " {:.2}% |", r * 100.0);
                    }
                    None => out.push_str(" |"),
                }
            }
            out.push('\n');
        }
        out.push_str("| inversions |");
        for n in &s.inversions {
            let _ = write!(out, " {n} |");
        }
        out.push_str("\n\n");
    }
    out
}
