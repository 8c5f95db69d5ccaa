//! `bin_weights(x, w, e1, …, ek)`: the weight of the rows in each bin cut by
//! the ascending inner edges `e1 < … < ek`, as a list of k + 2 numbers:
//! position 0 is the null bin (x null or NaN), positions 1..=k+1 the bins
//! `(−∞, e1], (e1, e2], …, (ek, ∞)` (right-closed, the end bins open, as
//! every ScoreLake binning). A row's bin is found by a branch-free count of
//! the edges below it (a binary search beyond 32 edges), so the cost per row
//! stays small however many bins there are, and one pass computes the bins
//! of many columns (and per group, with GROUP BY).
//!
//! Rows with a null weight add nothing; callers check weights first.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;
use datafusion::prelude::lit;

use super::{add_float_lists, float_list, float_list_type};

/// The bin (0 for null or NaN, else 1..=k+1) of `x` among the ascending
/// inner edges: right-closed bins, end bins open.
///
/// ```
/// use scorelake::functions::bin_weights::bin_of;
/// let edges = [1.0, 2.0];
/// assert_eq!(bin_of(None, &edges), 0);
/// assert_eq!(bin_of(Some(-5.0), &edges), 1);
/// assert_eq!(bin_of(Some(1.0), &edges), 1);
/// assert_eq!(bin_of(Some(1.5), &edges), 2);
/// assert_eq!(bin_of(Some(9.0), &edges), 3);
/// ```
pub fn bin_of(x: Option<f64>, edges: &[f64]) -> usize {
    match x {
        // A branch-free count beats a binary search's mispredicted
        // branches up to a few dozen edges.
        Some(v) if !v.is_nan() && edges.len() <= 32 => {
            1 + edges.iter().map(|e| usize::from(*e < v)).sum::<usize>()
        }
        Some(v) if !v.is_nan() => 1 + edges.partition_point(|e| *e < v),
        _ => 0,
    }
}

/// Inner edges as [`bin_weights`] and `bin_index` need them: ascending,
/// equal ones (and −0.0 / 0.0) merged.
pub(crate) fn ascending_edges(mut edges: Vec<f64>) -> Vec<f64> {
    edges.sort_by(f64::total_cmp);
    edges.dedup_by(|a, b| a == b);
    edges
}

/// The aggregate function, to call with [`bin_weights`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BinWeights {
    signature: Signature,
}

impl Default for BinWeights {
    fn default() -> Self {
        BinWeights {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// `bin_weights(x, w, edges…)` as an expression: `x` and `w` Float64, the
/// edges literals in ascending order. Its value is a list of k + 2 weights.
pub fn bin_weights(x: Expr, w: Expr, edges: &[f64]) -> Expr {
    let mut args = vec![x, w];
    args.extend(edges.iter().map(|e| lit(*e)));
    AggregateUDF::from(BinWeights::default()).call(args)
}

impl AggregateUDFImpl for BinWeights {
    fn name(&self) -> &str {
        "bin_weights"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() < 2 || args[..2].iter().any(|t| t != &DataType::Float64) {
            return plan_err!("bin_weights takes (x DOUBLE, w DOUBLE, edges…)");
        }
        Ok(float_list_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Field::new(
                format_state_name(args.name, "weights"),
                float_list_type(),
                true,
            )
            .into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let mut edges = Vec::with_capacity(args.exprs.len().saturating_sub(2));
        for e in args.exprs.iter().skip(2) {
            match e.downcast_ref::<Literal>().map(|l| l.value()) {
                Some(ScalarValue::Float64(Some(v))) if !v.is_nan() => edges.push(*v),
                _ => return plan_err!("bin_weights needs its edges as number literals"),
            }
        }
        if edges.windows(2).any(|p| p[0] >= p[1]) {
            return plan_err!("bin_weights needs strictly ascending edges, got {edges:?}");
        }
        let weights = vec![0.0; edges.len() + 2];
        Ok(Box::new(Tally { edges, weights }))
    }
}

#[derive(Debug)]
struct Tally {
    edges: Vec<f64>,
    weights: Vec<f64>,
}

impl Accumulator for Tally {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = values[0].as_primitive::<Float64Type>();
        let w = values[1].as_primitive::<Float64Type>();
        let (edges, weights) = (&self.edges, &mut self.weights);
        if w.null_count() == 0 && x.null_count() == 0 {
            for (x, w) in x.values().iter().zip(w.values()) {
                weights[bin_of(Some(*x), edges)] += w;
            }
        } else {
            for (x, w) in x.iter().zip(w.iter()) {
                if let Some(w) = w {
                    weights[bin_of(x, edges)] += w;
                }
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        add_float_lists(&mut self.weights, &states[0], "bin_weights")
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(float_list(&self.weights))
    }

    fn size(&self) -> usize {
        size_of_val(self) + 8 * (self.edges.capacity() + self.weights.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_one_plus_the_edges_below() {
        for k in [0, 5, 32, 33, 60] {
            let edges: Vec<f64> = (0..k).map(|i| f64::from(i) * 0.5 - 3.0).collect();
            for i in -200..600 {
                let x = f64::from(i) * 0.073;
                let below = edges.iter().position(|e| *e >= x).unwrap_or(edges.len());
                assert_eq!(bin_of(Some(x), &edges), 1 + below, "{x} with {k} edges");
            }
        }
        let edges = [1.0, 2.0];
        assert_eq!(bin_of(Some(f64::NAN), &edges), 0);
        assert_eq!(bin_of(Some(7.0), &[]), 1);
    }
}
