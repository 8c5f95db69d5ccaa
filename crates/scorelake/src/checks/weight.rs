//! Row weights (e.g. `sample_weight` of compressed rows): a row of weight k
//! stands for k identical rows. Every weighted computation takes its weights
//! from [`weight_or_one`] and checks them with a [`WeightCheck`] folded into
//! an aggregate pass it runs anyway.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::DataFrame;

use crate::error::{Result, ensure, invalid_err};
use crate::expr::{column, find};
use crate::results::first_number;

/// The weight of each row: the (non-negative) weight column as a float, or 1.
pub(crate) fn weight_or_one(weight: Option<&str>) -> Expr {
    match weight {
        Some(w) => cast(column(w), DataType::Float64),
        None => lit(1.0),
    }
}

/// The checks a weight column must pass: present, numeric, no nulls, no
/// NaN or infinite values, no negative values. Errors name the column and
/// the data set (`which`).
pub(crate) struct WeightCheck {
    column: String,
    which: String,
}

impl WeightCheck {
    /// Checks the column's type now; the values are checked by
    /// [`verify`](Self::verify) on the result of [`aggregates`](Self::aggregates).
    pub(crate) fn new(df: &DataFrame, column: &str, which: &str) -> Result<WeightCheck> {
        let ty = find(
            df.schema(),
            column,
            &format!("weight column (in the {which} data)"),
        )?;
        ensure!(
            ty.is_numeric(),
            "weight column `{column}` is {ty} in the {which} data; expected numbers ≥ 0"
        );
        Ok(WeightCheck {
            column: column.to_string(),
            which: which.to_string(),
        })
    }

    /// Aggregates to add to a global (ungrouped) aggregate of the data.
    pub(crate) fn aggregates(&self) -> Vec<Expr> {
        let w = cast(column(&self.column), DataType::Float64);
        vec![
            count(lit(1)).alias("__w_rows"),
            count(w.clone()).alias("__w_present"),
            // w − w is 0 for finite weights, NaN for NaN and ±inf.
            sum(cast(
                (w.clone() - w.clone()).not_eq(lit(0.0)),
                DataType::Int64,
            ))
            .alias("__w_nonfinite"),
            min(w).alias("__w_min"),
        ]
    }

    /// Refuses null, NaN, infinite or negative weights, given the aggregated row.
    pub(crate) fn verify(&self, row: &[RecordBatch]) -> Result<()> {
        let get = |name: &str| first_number(row, name).unwrap_or(0.0);
        self.verify_counts(
            get("__w_rows") - get("__w_present"),
            get("__w_nonfinite"),
            first_number(row, "__w_min"),
        )
    }

    /// Refuses null, NaN, infinite or negative weights, given their null
    /// count, NaN-or-infinite count and minimum.
    pub(crate) fn verify_counts(&self, nulls: f64, nonfinite: f64, min: Option<f64>) -> Result<()> {
        if nulls > 0.0 {
            return invalid_err!(
                "weight column `{}` has {nulls} null values in the {} data; weights must be numbers ≥ 0",
                self.column,
                self.which
            );
        }
        ensure!(
            nonfinite == 0.0,
            "weight column `{}` has {nonfinite} NaN or infinite values in the {} data; weights must be finite numbers ≥ 0",
            self.column,
            self.which
        );
        if let Some(lo) = min.filter(|lo| *lo < 0.0) {
            return invalid_err!(
                "weight column `{}` has negative values in the {} data (min {lo})",
                self.column,
                self.which
            );
        }
        Ok(())
    }

    /// The weight column's name.
    pub(crate) fn column(&self) -> &str {
        &self.column
    }

    /// Runs the checks in a pass of their own.
    pub(crate) async fn run(&self, df: &DataFrame) -> Result<()> {
        let row = df
            .clone()
            .aggregate(vec![], self.aggregates())?
            .collect()
            .await?;
        self.verify(&row)
    }
}
