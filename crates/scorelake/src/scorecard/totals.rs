//! The totals compressed rows must add up to: the input's rows, weight and
//! event weight, from one aggregate pass that also checks target and weights.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::DataFrame;
use serde::Serialize;

use crate::checks::{TargetCheck, WeightCheck, weight_or_one};
use crate::error::Result;
use crate::results::first_number;

/// The input's rows, weight and events: what compressed rows must add up to.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Rows.
    pub rows: u64,
    /// Total weight (rows without a weight column).
    pub weight: f64,
    /// Event weight.
    pub events: f64,
}

impl Totals {
    /// One aggregate pass over `df` that also checks the target (0/1) and
    /// the weights (numbers ≥ 0, no nulls).
    pub async fn of(df: &DataFrame, target: &str, weight: Option<&str>) -> Result<Totals> {
        let check = TargetCheck::new(df, target)?;
        let weight_check = match weight {
            Some(w) => Some(WeightCheck::new(df, w, "input")?),
            None => None,
        };
        let w = weight_or_one(weight);
        let mut totals = vec![
            count(lit(1)).alias("__rows"),
            weight_sum(weight).alias("__weight"),
        ];
        totals.extend(check.aggregates(&w)?);
        totals.extend(weight_check.iter().flat_map(WeightCheck::aggregates));
        let row = df.clone().aggregate(vec![], totals)?.collect().await?;
        if let Some(wc) = &weight_check {
            wc.verify(&row)?;
        }
        Ok(Totals {
            events: check.verify(&row)?,
            rows: first_number(&row, "__rows").unwrap_or(0.0) as u64,
            weight: first_number(&row, "__weight").unwrap_or(0.0),
        })
    }
}

/// The weight of a group: counted without weights, so totals are exact integers.
pub(super) fn weight_sum(weight: Option<&str>) -> Expr {
    match weight {
        Some(_) => sum(weight_or_one(weight)),
        None => cast(count(lit(1)), DataType::Float64),
    }
}
