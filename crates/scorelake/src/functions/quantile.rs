//! `quantile_linear(x, p)`: the exact quantile with numpy's default
//! definition: sort the non-null values, take position `h = (n − 1)·p` and
//! interpolate linearly between the order statistics around it.
//!
//! (The engine's own `percentile_cont` rounds the interpolation weight to
//! six decimals, which differs from numpy in the seventh significant digit.)

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

/// The aggregate function, to call with [`quantile_linear`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LinearQuantile {
    signature: Signature,
}

impl Default for LinearQuantile {
    fn default() -> Self {
        LinearQuantile {
            signature: Signature::exact(
                vec![DataType::Float64, DataType::Float64],
                Volatility::Immutable,
            ),
        }
    }
}

/// `quantile_linear(x, p)` as an expression; `x` must be Float64 and `p` a
/// literal in [0, 1].
pub fn quantile_linear(x: Expr, p: f64) -> Expr {
    AggregateUDF::from(LinearQuantile::default()).call(vec![x, datafusion::prelude::lit(p)])
}

impl AggregateUDFImpl for LinearQuantile {
    fn name(&self) -> &str {
        "quantile_linear"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Field::new_list_field(DataType::Float64, true);
        Ok(vec![
            Field::new(
                format_state_name(args.name, "values"),
                DataType::List(Arc::new(item)),
                true,
            )
            .into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let p = args
            .exprs
            .get(1)
            .and_then(|e| e.downcast_ref::<Literal>())
            .and_then(|l| match l.value() {
                ScalarValue::Float64(Some(p)) => Some(*p),
                _ => None,
            });
        match p {
            Some(p) if (0.0..=1.0).contains(&p) => Ok(Box::new(Values { p, values: vec![] })),
            _ => plan_err!("quantile_linear needs a literal quantile between 0 and 1"),
        }
    }
}

#[derive(Debug)]
struct Values {
    p: f64,
    values: Vec<f64>,
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = values[0].as_primitive::<Float64Type>();
        if a.null_count() == 0 {
            self.values.extend_from_slice(a.values());
        } else {
            self.values.extend(a.iter().flatten());
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for list in states[0].as_list::<i32>().iter().flatten() {
            self.update_batch(&[list])?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values = std::mem::take(&mut self.values);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(vec![0, values.len() as i32]));
        let list = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            offsets,
            Arc::new(Float64Array::new(values.into(), None)),
            None,
        );
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(linear_quantile(
            &mut self.values,
            self.p,
        )))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.values.capacity() * size_of::<f64>()
    }
}

/// numpy's linear quantile of `values` (reordered in place); None when empty.
///
/// ```
/// use scorelake::functions::quantile::linear_quantile;
/// assert_eq!(linear_quantile(&mut [3.0, 1.0, 5.0], 0.99), Some(4.96));
/// assert_eq!(linear_quantile(&mut [], 0.5), None);
/// ```
pub fn linear_quantile(values: &mut [f64], p: f64) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    let (_, low, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let low = *low;
    let high = above.iter().copied().min_by(f64::total_cmp).unwrap_or(low);
    Some(low + (h - lo as f64) * (high - low))
}
