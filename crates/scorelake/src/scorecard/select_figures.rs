//! The figures variable selection rests on, each from aggregate queries
//! over the rows: totals, weighted Pearson correlations, variance
//! inflation factors, AIC, and score (Rao) tests for entering a variable.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::DataFrame;

use super::linalg::{cholesky, inverse, solve};
use super::logistic::LogisticModel;
use crate::checks::weight_or_one;
use crate::error::{Result, invalid_err};
use crate::expr::column;
use crate::results::first_number;

/// Total weight and event weight of `rows`.
pub(super) async fn totals(
    rows: &DataFrame,
    target: &str,
    weight: Option<&str>,
) -> Result<(f64, f64)> {
    let w = weight_or_one(weight);
    let y = cast(column(target), DataType::Float64);
    let row = rows
        .clone()
        .aggregate(
            vec![],
            vec![sum(w.clone()).alias("__w"), sum(w * y).alias("__e")],
        )?
        .collect()
        .await?;
    Ok((
        first_number(&row, "__w").unwrap_or(0.0),
        first_number(&row, "__e").unwrap_or(0.0),
    ))
}

/// Score (Rao) tests, in one aggregate pass, of adding each of
/// `candidates` to the logistic model of `model` fitted at `beta`
/// (intercept first): with p the model's probabilities and v = w·p·(1 − p),
/// U = Σ w·(y − p)·x, and S = U² / (Σ v·x² − b'·A⁻¹·b), where
/// A = Σ v·t·t' over the model's terms t = (1, model…) and b = Σ v·t·x; S is
/// χ² with one degree of freedom under the model. The p-value of each
/// (None where the denominator vanishes: x is a combination of the terms).
pub(super) async fn score_tests(
    rows: &DataFrame,
    target: &str,
    weight: Option<&str>,
    model: &[String],
    beta: &[f64],
    candidates: &[String],
) -> Result<Vec<Option<f64>>> {
    use datafusion::functions::math::expr_fn::exp;
    let w = weight_or_one(weight);
    let y = cast(column(target), DataType::Float64);
    let f64_of = |c: &String| cast(column(c), DataType::Float64);
    let mut terms: Vec<Expr> = vec![lit(1.0)];
    terms.extend(model.iter().map(f64_of));
    let eta = terms
        .iter()
        .zip(beta)
        .map(|(t, b)| lit(*b) * t.clone())
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    let p = lit(1.0) / (lit(1.0) + exp(-eta));
    let v = w.clone() * p.clone() * (lit(1.0) - p.clone());
    let r = w * (y - p);
    let t = terms.len();
    let mut aggs = Vec::new();
    for a in 0..t {
        for b in a..t {
            aggs.push(
                sum(v.clone() * terms[a].clone() * terms[b].clone()).alias(format!("__a{a}_{b}")),
            );
        }
    }
    for (c, x) in candidates.iter().map(f64_of).enumerate() {
        aggs.push(sum(r.clone() * x.clone()).alias(format!("__u{c}")));
        aggs.push(sum(v.clone() * x.clone() * x.clone()).alias(format!("__d{c}")));
        for (a, term) in terms.iter().enumerate() {
            aggs.push(sum(v.clone() * term.clone() * x.clone()).alias(format!("__b{c}_{a}")));
        }
    }
    let row = rows.clone().aggregate(vec![], aggs)?.collect().await?;
    let get = |n: String| first_number(&row, &n).unwrap_or(0.0);
    let matrix: Vec<Vec<f64>> = (0..t)
        .map(|a| {
            (0..t)
                .map(|b| get(format!("__a{}_{}", a.min(b), a.max(b))))
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(candidates.len());
    for c in 0..candidates.len() {
        let u = get(format!("__u{c}"));
        let d = get(format!("__d{c}"));
        let b: Vec<f64> = (0..t).map(|a| get(format!("__b{c}_{a}"))).collect();
        let explained = match solve(&matrix, &b) {
            Ok(x) => x.iter().zip(&b).map(|(x, b)| x * b).sum::<f64>(),
            Err(_) => return invalid_err!("the model's terms are collinear: no score test"),
        };
        let denominator = d - explained;
        out.push(if denominator > 1e-10 * d.abs().max(1e-300) {
            let statistic = u * u / denominator;
            Some(libm::erfc((statistic / 2.0).sqrt()))
        } else {
            None
        });
    }
    Ok(out)
}

/// AIC of a fitted model: 2·(coefficients) − 2·log-likelihood.
pub(super) fn aic(m: &LogisticModel) -> f64 {
    2.0 * m.coefficients.len() as f64 - 2.0 * m.log_likelihood
}

/// Variance inflation factors from a correlation matrix: the diagonal of
/// its inverse; a column that is a linear combination of the others gets
/// infinity.
pub(super) fn inflation(r: &[Vec<f64>]) -> Vec<f64> {
    match inverse(r) {
        Ok(inv) => (0..r.len()).map(|j| inv[j][j]).collect(),
        Err(_) => {
            // The first pivot that fails names a column dependent on the
            // ones before it: infinite, the others from the rest.
            let n = r.len();
            let j = cholesky(r).err().unwrap_or(n - 1);
            let mut out = vec![f64::INFINITY; n];
            let rest: Vec<usize> = (0..n).filter(|&k| k != j).collect();
            let sub: Vec<Vec<f64>> = rest
                .iter()
                .map(|&a| rest.iter().map(|&b| r[a][b]).collect())
                .collect();
            for (v, &k) in inflation(&sub).into_iter().zip(&rest) {
                out[k] = v;
            }
            out
        }
    }
}

/// Weighted Pearson correlations of `columns` (NaN for a column with one
/// value): means in one aggregate pass, centred cross products in another.
pub(super) async fn correlations(
    rows: &DataFrame,
    columns: &[String],
    weight: Option<&str>,
) -> Result<Vec<Vec<f64>>> {
    let k = columns.len();
    if k == 0 {
        return Ok(Vec::new());
    }
    let w = weight_or_one(weight);
    let xs: Vec<Expr> = columns
        .iter()
        .map(|c| cast(column(c), DataType::Float64))
        .collect();
    let mut aggs = vec![sum(w.clone()).alias("__w")];
    for (i, x) in xs.iter().enumerate() {
        aggs.push(sum(w.clone() * x.clone()).alias(format!("__m{i}")));
    }
    let row = rows.clone().aggregate(vec![], aggs)?.collect().await?;
    let total = first_number(&row, "__w").unwrap_or(0.0);
    if total.is_nan() || total <= 0.0 {
        return invalid_err!("nothing to correlate: no rows (or zero total weight)");
    }
    let means: Vec<f64> = (0..k)
        .map(|i| first_number(&row, &format!("__m{i}")).unwrap_or(0.0) / total)
        .collect();
    let centred: Vec<Expr> = xs
        .iter()
        .zip(&means)
        .map(|(x, m)| x.clone() - lit(*m))
        .collect();
    let mut aggs = Vec::new();
    for i in 0..k {
        for j in i..k {
            aggs.push(
                sum(w.clone() * centred[i].clone() * centred[j].clone())
                    .alias(format!("__c{i}_{j}")),
            );
        }
    }
    let row = rows.clone().aggregate(vec![], aggs)?.collect().await?;
    let c = |i: usize, j: usize| {
        let (a, b) = if i <= j { (i, j) } else { (j, i) };
        first_number(&row, &format!("__c{a}_{b}")).unwrap_or(0.0)
    };
    Ok((0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    let d = (c(i, i) * c(j, j)).sqrt();
                    if i == j && c(i, i) > 0.0 {
                        1.0
                    } else if d > 0.0 {
                        (c(i, j) / d).clamp(-1.0, 1.0)
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::{LogisticOptions, fit_logistic};

    #[test]
    fn inflation_is_the_diagonal_of_the_inverse_and_infinite_for_dependent_columns() {
        // Two columns correlated r: VIF = 1 / (1 − r²) for both.
        let r = 0.6;
        let v = inflation(&[vec![1.0, r], vec![r, 1.0]]);
        for x in v {
            assert!((x - 1.0 / (1.0 - r * r)).abs() < 1e-12);
        }
        // The third is the sum of the first two, standardised.
        let s = (2.0f64 * (1.0 + 0.0)).sqrt();
        let m = vec![
            vec![1.0, 0.0, 1.0 / s],
            vec![0.0, 1.0, 1.0 / s],
            vec![1.0 / s, 1.0 / s, 1.0],
        ];
        let v = inflation(&m);
        assert!(v[2].is_infinite());
        assert!((v[0] - 1.0).abs() < 1e-12 && (v[1] - 1.0).abs() < 1e-12);
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Runtime::new().unwrap().block_on(f)
    }

    #[test]
    fn the_score_test_of_a_binary_variable_is_pearsons_chi_square() {
        // x = 0: 30 events in 100; x = 1: 50 in 100 (as weights).
        let ctx = datafusion::prelude::SessionContext::new();
        let df = block_on(ctx.sql(
            "SELECT * FROM (VALUES (0.0, 1, 30.0), (0.0, 0, 70.0), (1.0, 1, 50.0), (1.0, 0, 50.0)) AS t(x, y, w)",
        ))
        .unwrap();
        let null = (80.0f64 / 120.0).ln();
        let p = block_on(score_tests(
            &df,
            "y",
            Some("w"),
            &[],
            &[null],
            &["x".into()],
        ))
        .unwrap();
        // n·(ad − bc)² / (row and column totals).
        let chi2 = 200.0 * (30.0f64 * 50.0 - 70.0 * 50.0).powi(2) / (100.0 * 100.0 * 80.0 * 120.0);
        let expected = libm::erfc((chi2 / 2.0).sqrt());
        assert!(
            (p[0].unwrap() - expected).abs() < 1e-12,
            "{p:?} vs {expected}"
        );
    }

    #[test]
    fn score_tests_beside_a_fitted_model_equal_the_naive_sums() {
        let rows: Vec<(f64, f64, f64, f64)> = (0..400)
            .map(|i| {
                let x1 = ((i * 7) % 13) as f64 / 4.0 - 1.5;
                let x2 = ((i * 5) % 11) as f64 / 3.0 - 1.7 + 0.3 * x1;
                let y = f64::from(((i * 37) % 17) as f64 / 17.0 < 0.3 - 0.1 * x1);
                (x1, x2, y, 1.0 + (i % 3) as f64)
            })
            .collect();
        let values: Vec<String> = rows
            .iter()
            .map(|(a, b, y, w)| format!("({a}, {b}, {y}, {w})"))
            .collect();
        let ctx = datafusion::prelude::SessionContext::new();
        let df = block_on(ctx.sql(&format!(
            "SELECT * FROM (VALUES {}) AS t(x1, x2, y, w)",
            values.join(", ")
        )))
        .unwrap();
        let m = block_on(fit_logistic(
            &df,
            &["x1".into()],
            "y",
            Some("w"),
            &LogisticOptions::default(),
        ))
        .unwrap();
        let beta: Vec<f64> = m.coefficients.iter().map(|c| c.estimate).collect();
        let p = block_on(score_tests(
            &df,
            "y",
            Some("w"),
            &["x1".into()],
            &beta,
            &["x2".into()],
        ))
        .unwrap();
        // Naive: the sums row by row, the 2×2 system by Cramer's rule.
        let (mut u, mut d) = (0.0, 0.0);
        let (mut a, mut b) = ([[0.0; 2]; 2], [0.0; 2]);
        for &(x1, x2, y, w) in &rows {
            let pr = 1.0 / (1.0 + (-(beta[0] + beta[1] * x1)).exp());
            let v = w * pr * (1.0 - pr);
            let t = [1.0, x1];
            u += w * (y - pr) * x2;
            d += v * x2 * x2;
            for i in 0..2 {
                b[i] += v * t[i] * x2;
                for j in 0..2 {
                    a[i][j] += v * t[i] * t[j];
                }
            }
        }
        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        let z0 = (b[0] * a[1][1] - a[0][1] * b[1]) / det;
        let z1 = (a[0][0] * b[1] - b[0] * a[1][0]) / det;
        let statistic = u * u / (d - (z0 * b[0] + z1 * b[1]));
        let expected = libm::erfc((statistic / 2.0).sqrt());
        let got = p[0].unwrap();
        assert!(
            (got - expected).abs() < 1e-9 * expected.max(1e-300),
            "{got} vs {expected}"
        );
    }
}
