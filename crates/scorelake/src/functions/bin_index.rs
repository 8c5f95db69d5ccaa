//! `bin_index(x, e1, …, ek)`: the bin of each value among the ascending
//! inner edges `e1 < … < ek` (literals) as an Int32: 0 for null or NaN,
//! else 1 + the number of edges below the value, so bins are right-closed,
//! `(e(j−1), ej]`, with the end bins open (every ScoreLake binning): the
//! rule of [`bin_of`], evaluated without branches per row.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;

use super::bin_weights::bin_of;

/// The scalar function; call it with [`bin_index`] or from SQL as
/// `bin_index(x, e1, …)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BinIndex {
    signature: Signature,
}

impl Default for BinIndex {
    fn default() -> Self {
        BinIndex {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// `bin_index(x, edges…)` as an expression (`x` numeric, edges ascending).
pub fn bin_index(x: Expr, edges: &[f64]) -> Expr {
    let mut args = vec![x];
    args.extend(edges.iter().map(|e| lit(*e)));
    ScalarUDF::from(BinIndex::default()).call(args)
}

impl ScalarUDFImpl for BinIndex {
    fn name(&self) -> &str {
        "bin_index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(t) if t.is_numeric() || t.is_null() => Ok(DataType::Int32),
            _ => plan_err!("bin_index takes a number and its edges"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut edges = Vec::with_capacity(args.args.len().saturating_sub(1));
        for a in &args.args[1..] {
            match a {
                ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Float64)? {
                    ScalarValue::Float64(Some(e)) if !e.is_nan() => edges.push(e),
                    _ => return exec_err!("bin_index needs its edges as numbers"),
                },
                ColumnarValue::Array(_) => {
                    return exec_err!("bin_index needs its edges as literals");
                }
            }
        }
        if edges.windows(2).any(|p| p[0] >= p[1]) {
            return exec_err!("bin_index needs strictly ascending edges, got {edges:?}");
        }
        let x = args.args[0].to_array(args.number_rows)?;
        let x = cast(&x, &DataType::Float64)?;
        let x = x.as_primitive::<Float64Type>();
        let bins: Int32Array = if x.null_count() == 0 {
            x.values()
                .iter()
                .map(|v| bin_of(Some(*v), &edges) as i32)
                .collect()
        } else {
            x.iter().map(|v| Some(bin_of(v, &edges) as i32)).collect()
        };
        Ok(ColumnarValue::Array(Arc::new(bins)))
    }
}
