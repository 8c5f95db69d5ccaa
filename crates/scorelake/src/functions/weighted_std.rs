//! `weighted_stddev(x, w)`: the sample standard deviation (ddof 1) of `x`
//! where a row of weight w counts as w rows (frequency weights): for whole
//! weights, exactly the standard deviation of the expanded rows. Rows with a
//! null value or a weight ≤ 0 are not there; null when the weight present is
//! ≤ 1. Computed with West's weighted update and Chan's merge, so large
//! values with a small spread keep their precision.

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};

/// The aggregate function, to call with [`weighted_stddev`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WeightedStd {
    signature: Signature,
}

impl Default for WeightedStd {
    fn default() -> Self {
        WeightedStd {
            signature: Signature::exact(
                vec![DataType::Float64, DataType::Float64],
                Volatility::Immutable,
            ),
        }
    }
}

/// `weighted_stddev(x, w)` as an expression (`x`, `w` Float64).
pub fn weighted_stddev(x: Expr, w: Expr) -> Expr {
    AggregateUDF::from(WeightedStd::default()).call(vec![x, w])
}

impl AggregateUDFImpl for WeightedStd {
    fn name(&self) -> &str {
        "weighted_stddev"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["weight", "mean", "m2"]
            .iter()
            .map(|n| Field::new(format_state_name(args.name, n), DataType::Float64, true).into())
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Moments>::default())
    }
}

/// Weight, mean and sum of weighted squared deviations of the rows so far.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Total weight.
    pub weight: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Σ w·(x − mean)².
    pub m2: f64,
}

impl Moments {
    /// Adds `x` with weight `w` (> 0).
    pub fn push(&mut self, x: f64, w: f64) {
        let weight = self.weight + w;
        let delta = x - self.mean;
        self.mean += delta * w / weight;
        self.m2 += w * delta * (x - self.mean);
        self.weight = weight;
    }

    /// Combines with the moments of other rows.
    pub fn merge(&mut self, other: Moments) {
        if other.weight <= 0.0 {
            return;
        }
        if self.weight <= 0.0 {
            *self = other;
            return;
        }
        let weight = self.weight + other.weight;
        let delta = other.mean - self.mean;
        self.m2 += other.m2 + delta * delta * self.weight * other.weight / weight;
        self.mean += delta * other.weight / weight;
        self.weight = weight;
    }

    /// Sample standard deviation with frequency weights (ddof 1).
    ///
    /// ```
    /// use scorelake::functions::weighted_std::Moments;
    /// let mut m = Moments::default();
    /// m.push(1.0, 2.0); // 1, 1
    /// m.push(4.0, 1.0); // 4
    /// assert_eq!(m.std(), Some(3f64.sqrt())); // std of [1, 1, 4]
    /// ```
    pub fn std(&self) -> Option<f64> {
        (self.weight > 1.0).then(|| (self.m2.max(0.0) / (self.weight - 1.0)).sqrt())
    }
}

impl Accumulator for Moments {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = values[0].as_primitive::<Float64Type>();
        let w = values[1].as_primitive::<Float64Type>();
        for (x, w) in x.iter().zip(w.iter()) {
            if let (Some(x), Some(w)) = (x, w)
                && w > 0.0
            {
                self.push(x, w);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [weight, mean, m2] = [0, 1, 2].map(|i| states[i].as_primitive::<Float64Type>());
        for r in 0..weight.len() {
            self.merge(Moments {
                weight: weight.value(r),
                mean: mean.value(r),
                m2: m2.value(r),
            });
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([self.weight, self.mean, self.m2]
            .map(|v| ScalarValue::Float64(Some(v)))
            .to_vec())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.std()))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_std(values: &[f64]) -> f64 {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    #[test]
    fn merged_weighted_moments_equal_the_expanded_rows() {
        let rows: Vec<(f64, u32)> = (0..200)
            .map(|i| (1e6 + ((i * 37) % 23) as f64 * 0.25, 1 + (i % 4) as u32))
            .collect();
        let expanded: Vec<f64> = rows
            .iter()
            .flat_map(|(x, w)| std::iter::repeat_n(*x, *w as usize))
            .collect();
        let (mut a, mut b) = (Moments::default(), Moments::default());
        for (i, (x, w)) in rows.iter().enumerate() {
            let m = if i % 3 == 0 { &mut a } else { &mut b };
            m.push(*x, f64::from(*w));
        }
        a.merge(b);
        let (got, want) = (a.std().unwrap(), naive_std(&expanded));
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        assert_eq!(a.weight, expanded.len() as f64);
    }

    #[test]
    fn one_row_of_weight_one_has_no_std() {
        let mut m = Moments::default();
        m.push(5.0, 1.0);
        assert_eq!(m.std(), None);
        m.merge(Moments::default());
        assert_eq!(m.std(), None);
    }
}
