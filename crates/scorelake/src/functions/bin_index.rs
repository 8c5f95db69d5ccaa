//! `bin_index(x, e1, …, ek)`: the bin of each value among the ascending
//! inner edges `e1 < … < ek` (literals) as an Int32: 0 for null or NaN,
//! else 1 + the number of edges below the value, so bins are right-closed,
//! `(e(j−1), ej]`, with the end bins open (every ScoreLake binning): the
//! rule of [`bin_of`](super::bin_weights::bin_of), evaluated without
//! branches per row.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;

use super::bin_weights::bins_of_array;

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
        let mut bins = Vec::with_capacity(x.len());
        bins_of_array(x, &edges, &mut bins);
        let bins = Int32Array::from_iter_values(bins.into_iter().map(|b| b as i32));
        Ok(ColumnarValue::Array(Arc::new(bins)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Float64Array, RecordBatch};
    use datafusion::arrow::datatypes::{Field, Int32Type, Schema};
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::functions::bin_weights::bin_of;

    /// Bins of a column with nulls, NaN and infinities, in batches with and
    /// without nulls, equal [`bin_of`] of each value.
    #[tokio::test]
    async fn bins_equal_bin_of_each_value() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let with_nulls: Vec<Option<f64>> = (0..5000)
            .map(|_| match next() % 40 {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(f64::INFINITY),
                3 => Some(f64::NEG_INFINITY),
                v => Some(v as f64 * 0.25 - 3.0),
            })
            .collect();
        let without: Vec<Option<f64>> = with_nulls.iter().map(|x| x.or(Some(1.0))).collect();
        let ctx = SessionContext::new();
        ctx.register_udf(ScalarUDF::from(BinIndex::default()));
        let edges = [-1.0, 0.0, 2.5, 4.0];
        for xs in [&with_nulls, &without] {
            let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
            let batch =
                RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(xs.clone()))])
                    .unwrap();
            let df = ctx
                .read_batch(batch)
                .unwrap()
                .select(vec![bin_index(datafusion::prelude::col("x"), &edges)])
                .unwrap();
            let got: Vec<i32> = df
                .collect()
                .await
                .unwrap()
                .iter()
                .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
                .collect();
            let want: Vec<i32> = xs.iter().map(|x| bin_of(*x, &edges) as i32).collect();
            assert_eq!(got, want);
        }
    }
}
