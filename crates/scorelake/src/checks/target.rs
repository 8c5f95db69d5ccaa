//! Binary targets (default flags): a [`TargetCheck`] folds the check that
//! every row's target is 0 or 1, and the event weight, into an aggregate
//! pass the caller runs anyway.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{max, min, sum};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;

use crate::error::{Result, ensure, invalid_err};
use crate::expr::{column, find};
use crate::results::first_number;

/// The checks a target column must pass: present, numeric, 0 or 1 on every row.
pub(crate) struct TargetCheck {
    column: String,
}

impl TargetCheck {
    /// Checks the column's type now; the values are checked by
    /// [`verify`](Self::verify) on the result of [`aggregates`](Self::aggregates).
    pub(crate) fn new(df: &DataFrame, column: &str) -> Result<TargetCheck> {
        let ty = find(df.schema(), column, "target column")?;
        ensure!(
            ty.is_numeric(),
            "target column `{column}` is {ty}; expected 0/1 numbers"
        );
        Ok(TargetCheck {
            column: column.to_string(),
        })
    }

    /// The target as a float.
    pub(crate) fn value(&self) -> Expr {
        cast(column(&self.column), DataType::Float64)
    }

    /// Aggregates to add to a global aggregate: rows that are not 0/1, the
    /// range, and the event weight (`__y_events`) with row weights `w`.
    pub(crate) fn aggregates(&self, w: &Expr) -> Result<Vec<Expr>> {
        let y = self.value();
        let bad = when(y.clone().eq(lit(0.0)).or(y.clone().eq(lit(1.0))), lit(0i64))
            .otherwise(lit(1i64))?;
        Ok(vec![
            sum(bad).alias("__y_bad"),
            sum(w.clone() * y.clone()).alias("__y_events"),
            min(y.clone()).alias("__y_min"),
            max(y).alias("__y_max"),
        ])
    }

    /// Refuses targets that are not 0 or 1; returns the event weight.
    pub(crate) fn verify(&self, row: &[RecordBatch]) -> Result<f64> {
        let get = |name: &str| first_number(row, name);
        if get("__y_bad").unwrap_or(0.0) > 0.0 {
            return invalid_err!(
                "target column `{}` must be 0 or 1 on every row; it has other values or nulls (min {:?}, max {:?})",
                self.column,
                get("__y_min"),
                get("__y_max")
            );
        }
        Ok(get("__y_events").unwrap_or(0.0))
    }
}
