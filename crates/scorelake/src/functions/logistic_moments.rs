//! `logistic_moments(y, w, x1, …, xk, b0, b1, …, bk)`: what one Newton step
//! of a weighted logistic regression needs, summed over the rows, at the
//! coefficients `b` (literals): the log-likelihood, the gradient and the
//! lower triangle of the Hessian (negative second derivative), as one list
//!
//! `[ll, g0, …, gk, h00, h10, h11, h20, …, hkk]`
//!
//! with η = b0 + Σ bj·xj, p = 1/(1 + e^−η), term t0 = 1 and tj = xj:
//! ll = Σ w·(y·η − ln(1 + e^η)), gj = Σ w·(y − p)·tj,
//! hjl = Σ w·p·(1 − p)·tj·tl. `y` may be a rate in [0, 1] (compressed rows).
//! Rows with a null anywhere are skipped (callers check for nulls first).

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
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

/// The aggregate function, to call with [`logistic_moments`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LogisticMoments {
    signature: Signature,
}

impl Default for LogisticMoments {
    fn default() -> Self {
        LogisticMoments {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// `logistic_moments(y, w, xs…, beta…)` as an expression; `y`, `w` and the
/// `xs` must be Float64 and `beta` has one more value than `xs` (the
/// intercept first).
pub fn logistic_moments(y: Expr, w: Expr, xs: Vec<Expr>, beta: &[f64]) -> Expr {
    let mut args = vec![y, w];
    args.extend(xs);
    args.extend(beta.iter().map(|b| lit(*b)));
    AggregateUDF::from(LogisticMoments::default()).call(args)
}

/// Length of the result for `k` features.
pub fn moments_len(k: usize) -> usize {
    1 + (k + 1) + (k + 1) * (k + 2) / 2
}

impl AggregateUDFImpl for LogisticMoments {
    fn name(&self) -> &str {
        "logistic_moments"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() < 5 || args.len().is_multiple_of(2) {
            return plan_err!("logistic_moments takes (y, w, x1…xk, b0…bk)");
        }
        Ok(float_list_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Field::new(
                format_state_name(args.name, "sums"),
                float_list_type(),
                true,
            )
            .into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let k = (args.exprs.len() - 3) / 2;
        let mut beta = Vec::with_capacity(k + 1);
        for e in &args.exprs[2 + k..] {
            match e.downcast_ref::<Literal>().map(|l| l.value()) {
                Some(ScalarValue::Float64(Some(v))) => beta.push(*v),
                _ => {
                    return plan_err!("logistic_moments needs its coefficients as number literals");
                }
            }
        }
        Ok(Box::new(Sums {
            beta,
            sums: vec![0.0; moments_len(k)],
            compensation: vec![0.0; moments_len(k)],
            terms: vec![0.0; k + 1],
        }))
    }
}

#[derive(Debug)]
struct Sums {
    beta: Vec<f64>,
    sums: Vec<f64>,
    /// Neumaier compensation of each sum: millions of rows add up to the
    /// same totals in any order (compressed or not) to about 1e-16.
    compensation: Vec<f64>,
    /// Scratch: the current row's terms.
    terms: Vec<f64>,
}

/// Adds `x` to `sum`, keeping the lost low-order part in `compensation`.
fn add(sum: &mut f64, compensation: &mut f64, x: f64) {
    let t = *sum + x;
    *compensation += if sum.abs() >= x.abs() {
        (*sum - t) + x
    } else {
        (x - t) + *sum
    };
    *sum = t;
}

impl Sums {
    fn totals(&self) -> Vec<f64> {
        self.sums
            .iter()
            .zip(&self.compensation)
            .map(|(s, c)| s + c)
            .collect()
    }
}

impl Accumulator for Sums {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let k = self.beta.len() - 1;
        let cols: Vec<&Float64Array> = values[..2 + k]
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let any_nulls = cols.iter().any(|c| c.null_count() > 0);
        let (y, w) = (cols[0].values(), cols[1].values());
        let xs: Vec<&[f64]> = cols[2..].iter().map(|c| c.values().as_ref()).collect();
        let terms = &mut self.terms;
        terms[0] = 1.0;
        for r in 0..y.len() {
            if any_nulls && cols.iter().any(|c| c.is_null(r)) {
                continue;
            }
            let mut eta = self.beta[0];
            for j in 0..k {
                terms[j + 1] = xs[j][r];
                eta += self.beta[j + 1] * xs[j][r];
            }
            let p = 1.0 / (1.0 + (-eta).exp());
            let softplus = eta.max(0.0) + (-eta.abs()).exp().ln_1p();
            let (wr, yr) = (w[r], y[r]);
            let v = wr * p * (1.0 - p);
            let g = wr * (yr - p);
            let (sums, comp) = (&mut self.sums, &mut self.compensation);
            add(&mut sums[0], &mut comp[0], wr * (yr * eta - softplus));
            let mut at = k + 2;
            for j in 0..=k {
                add(&mut sums[1 + j], &mut comp[1 + j], g * terms[j]);
                let vj = v * terms[j];
                for t in &terms[..=j] {
                    add(&mut sums[at], &mut comp[at], vj * t);
                    at += 1;
                }
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let mut parts = vec![0.0; self.sums.len()];
        add_float_lists(&mut parts, &states[0], "logistic_moments")?;
        for (i, x) in parts.into_iter().enumerate() {
            add(&mut self.sums[i], &mut self.compensation[i], x);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(float_list(&self.totals()))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + 8 * (self.beta.capacity() + self.sums.capacity() + self.terms.capacity())
    }
}
