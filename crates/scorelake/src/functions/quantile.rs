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

/// The aggregate function, to call with [`quantile_linear`]: `(x, p)`, or
/// `(x, w, p)` with non-negative weights (a row of weight k counts as k rows).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LinearQuantile {
    signature: Signature,
}

impl Default for LinearQuantile {
    fn default() -> Self {
        use datafusion::logical_expr::TypeSignature::Exact;
        LinearQuantile {
            signature: Signature::one_of(
                vec![
                    Exact(vec![DataType::Float64, DataType::Float64]),
                    Exact(vec![
                        DataType::Float64,
                        DataType::Float64,
                        DataType::Float64,
                    ]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

/// `quantile_linear(x, w, p)`: the quantile of `x` where each row counts
/// `w` times (for whole weights, exactly the quantile of the expanded rows).
pub fn weighted_quantile_linear(x: Expr, w: Expr, p: f64) -> Expr {
    AggregateUDF::from(LinearQuantile::default()).call(vec![x, w, datafusion::prelude::lit(p)])
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
        let list = |name: &str| -> FieldRef {
            let item = Field::new_list_field(DataType::Float64, true);
            Field::new(
                format_state_name(args.name, name),
                DataType::List(Arc::new(item)),
                true,
            )
            .into()
        };
        Ok(vec![list("values"), list("weights")])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let weighted = args.exprs.len() == 3;
        let p = args
            .exprs
            .last()
            .and_then(|e| e.downcast_ref::<Literal>())
            .and_then(|l| match l.value() {
                ScalarValue::Float64(Some(p)) => Some(*p),
                _ => None,
            });
        match p {
            Some(p) if (0.0..=1.0).contains(&p) => Ok(Box::new(Values {
                p,
                weighted,
                values: vec![],
                weights: vec![],
            })),
            _ => plan_err!("quantile_linear needs a literal quantile between 0 and 1"),
        }
    }
}

#[derive(Debug)]
struct Values {
    p: f64,
    weighted: bool,
    values: Vec<f64>,
    weights: Vec<f64>,
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = values[0].as_primitive::<Float64Type>();
        if !self.weighted {
            if a.null_count() == 0 {
                self.values.extend_from_slice(a.values());
            } else {
                self.values.extend(a.iter().flatten());
            }
            return Ok(());
        }
        let w = values[1].as_primitive::<Float64Type>();
        for (x, w) in a.iter().zip(w.iter()) {
            if let (Some(x), Some(w)) = (x, w)
                && w > 0.0
            {
                self.values.push(x);
                self.weights.push(w);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let values = states[0].as_list::<i32>();
        let weights = states[1].as_list::<i32>();
        for (v, w) in values.iter().zip(weights.iter()) {
            if let Some(v) = v {
                self.values
                    .extend(v.as_primitive::<Float64Type>().values().iter());
            }
            if let Some(w) = w {
                self.weights
                    .extend(w.as_primitive::<Float64Type>().values().iter());
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = |values: Vec<f64>| {
            let offsets = OffsetBuffer::new(ScalarBuffer::from(vec![0, values.len() as i32]));
            ScalarValue::List(Arc::new(ListArray::new(
                Arc::new(Field::new_list_field(DataType::Float64, true)),
                offsets,
                Arc::new(Float64Array::new(values.into(), None)),
                None,
            )))
        };
        Ok(vec![
            list(std::mem::take(&mut self.values)),
            list(std::mem::take(&mut self.weights)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(if self.weighted {
            weighted_linear_quantile(&self.values, &self.weights, self.p)
        } else {
            linear_quantile(&mut self.values, self.p)
        }))
    }

    fn size(&self) -> usize {
        size_of_val(self) + (self.values.capacity() + self.weights.capacity()) * size_of::<f64>()
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
    Some(between(low, high, h - lo as f64))
}

/// The linear quantile where row i counts `weights[i]` times: position
/// `h = (W − 1)·p` on the expanded rows (W = total weight), interpolated
/// between the values at expanded positions ⌊h⌋ and ⌊h⌋ + 1. For whole
/// weights this is exactly [`linear_quantile`] of the expanded rows.
///
/// ```
/// use scorelake::functions::quantile::{linear_quantile, weighted_linear_quantile};
/// let w = weighted_linear_quantile(&[1.0, 2.0, 9.0], &[3.0, 1.0, 1.0], 0.6);
/// assert_eq!(w, linear_quantile(&mut [1.0, 1.0, 1.0, 2.0, 9.0], 0.6));
/// ```
pub fn weighted_linear_quantile(values: &[f64], weights: &[f64], p: f64) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .filter(|(_, w)| *w > 0.0)
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (values, weights): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
    quantile_of_sorted(&values, Some(&weights), p)
}

/// The linear quantile of ascending `values`, where value i counts
/// `weights[i]` (> 0) times when weights are given: the definition of
/// [`linear_quantile`] and [`weighted_linear_quantile`] without the sorting.
///
/// ```
/// use scorelake::functions::quantile::quantile_of_sorted;
/// assert_eq!(quantile_of_sorted(&[1.0, 3.0, 5.0], None, 0.99), Some(4.96));
/// assert_eq!(quantile_of_sorted(&[1.0, 2.0], Some(&[3.0, 1.0]), 1.0), Some(2.0));
/// ```
pub fn quantile_of_sorted(values: &[f64], weights: Option<&[f64]>, p: f64) -> Option<f64> {
    quantile_by_position(values.len(), |i| values[i], weights, p)
}

/// [`quantile_of_sorted`] of the `n` ascending values `value(0..n)`.
pub(crate) fn quantile_by_position(
    n: usize,
    value: impl Fn(usize) -> f64,
    weights: Option<&[f64]>,
    p: f64,
) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let Some(weights) = weights else {
        let h = (n - 1) as f64 * p;
        let lo = (h.floor() as usize).min(n - 1);
        let (low, high) = (value(lo), value((lo + 1).min(n - 1)));
        return Some(between(low, high, h - lo as f64));
    };
    let total: f64 = weights.iter().sum();
    let h = ((total - 1.0) * p).max(0.0);
    let at = |t: f64| {
        // The value at expanded position t: the first whose cumulative weight exceeds t.
        let mut cumulative = 0.0;
        for (i, w) in weights.iter().enumerate() {
            cumulative += w;
            if cumulative > t {
                return value(i);
            }
        }
        value(n - 1)
    };
    let lo = h.floor();
    let (low, high) = (at(lo), at(lo + 1.0));
    Some(between(low, high, h - lo))
}

/// `low + fraction · (high − low)`, exactly `low` where the two are equal
/// or the fraction is 0 (so an infinite end gives itself, not NaN).
pub(crate) fn between(low: f64, high: f64, fraction: f64) -> f64 {
    if fraction == 0.0 || low == high {
        low
    } else {
        low + fraction * (high - low)
    }
}
