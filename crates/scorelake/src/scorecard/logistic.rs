//! Weighted logistic regression by Newton's method (IRLS), optionally with
//! an L2 penalty on the coefficients (not the intercept).
//!
//! Each iteration is one aggregate pass over the data (gradient, Hessian and
//! log-likelihood as sums), so the same code fits a few thousand compressed
//! rows or the full panel on any engine. The target may be a rate in [0, 1]
//! with a weight: a compressed row with weight W and event rate r
//! contributes exactly what its W original rows do, so fits on compressed
//! and original rows agree to rounding.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use datafusion::logical_expr::{Expr, cast, lit, when};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::linalg::{inverse, solve};
use crate::checks::{WeightCheck, weight_or_one};
use crate::error::{Error, Result, ensure, invalid, invalid_err};
use crate::expr::{column, find};
use crate::functions::float_list_at;
use crate::functions::logistic_moments::{logistic_moments, moments_len};
use crate::results::first_number;

/// Fitting settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticOptions {
    /// L2 penalty λ: the fit maximises log-likelihood − λ/2·Σβ² (default 0).
    pub l2: f64,
    /// Newton iterations at most (default 50).
    pub max_iter: usize,
    /// Stop when no coefficient moves more than this (default 1e-10).
    pub tolerance: f64,
    /// Coefficients beyond this size mean separation (default 25).
    pub max_coefficient: f64,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions {
            l2: 0.0,
            max_iter: 50,
            tolerance: 1e-10,
            max_coefficient: 25.0,
        }
    }
}

/// One estimated coefficient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// `intercept` or the feature.
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Its standard error (from the inverse of the (penalised) Hessian).
    pub std_error: f64,
    /// estimate / std_error.
    pub z: f64,
    /// Two-sided p-value of z under the normal distribution.
    pub p_value: f64,
}

/// A fitted model and how the fit went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// The intercept first, then one per feature in order.
    pub coefficients: Vec<Coefficient>,
    /// Newton iterations taken.
    pub iterations: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
    /// Weighted log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Total weight of the fitting rows.
    pub weight: f64,
    /// Their event weight.
    pub events: f64,
    /// The L2 penalty used.
    pub l2: f64,
}

impl LogisticModel {
    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.coefficients[0].estimate
    }

    /// The estimate for `feature`.
    pub fn coefficient(&self, feature: &str) -> Option<f64> {
        self.coefficients[1..]
            .iter()
            .find(|c| c.name == feature)
            .map(|c| c.estimate)
    }

    /// Coefficients with their standard errors, z and p-values, as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out =
            String::from("| term | estimate | std error | z | p-value |\n|---|---|---|---|---|\n");
        for c in &self.coefficients {
            out.push_str(&format!(
                "| {} | {:.6} | {:.6} | {:.3} | {:.3e} |\n",
                c.name, c.estimate, c.std_error, c.z, c.p_value
            ));
        }
        out.push_str(&format!(
            "\n{} after {} iterations; log-likelihood {:.6}\n",
            if self.converged {
                "converged"
            } else {
                "not converged"
            },
            self.iterations,
            self.log_likelihood
        ));
        out
    }
}

/// Fits `target` (0/1, or a rate in [0, 1] with weights) on `features`.
///
/// ```
/// use scorelake::scorecard::{fit_logistic, LogisticOptions};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// // Two groups: x = 0 has 1 event in 4, x = 1 has 3 in 4.
/// let df = session.ctx().sql("SELECT * FROM (VALUES (0.0, 0), (0.0, 0), (0.0, 0), (0.0, 1), (1.0, 1), (1.0, 1), (1.0, 1), (1.0, 0)) AS t(x, y)").await?;
/// let m = fit_logistic(&df, &["x".to_string()], "y", None, &LogisticOptions::default()).await?;
/// assert!((m.intercept() - (1.0f64 / 3.0).ln()).abs() < 1e-9);
/// assert!((m.coefficient("x").unwrap() - 9f64.ln()).abs() < 1e-9);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn fit_logistic(
    df: &DataFrame,
    features: &[String],
    target: &str,
    weight: Option<&str>,
    options: &LogisticOptions,
) -> Result<LogisticModel> {
    if features.is_empty() {
        return Err(Error::InvalidInput(
            "the model needs at least one feature".into(),
        ));
    }
    let ty = find(df.schema(), target, "target column")?;
    ensure!(
        ty.is_numeric(),
        "target column `{target}` is {ty}; expected 0/1 numbers (or rates with weights)"
    );
    for f in features {
        let t = find(df.schema(), f, "feature column")?;
        ensure!(
            t.is_numeric(),
            "feature column `{f}` is {t}; expected numbers (e.g. WoE columns)"
        );
    }
    let weight_check = match weight {
        Some(w) => Some(WeightCheck::new(df, w, "fitting")?),
        None => None,
    };
    let w = weight_or_one(weight);
    let y = cast(column(target), DataType::Float64);
    let xs: Vec<Expr> = features
        .iter()
        .map(|f| cast(column(f), DataType::Float64))
        .collect();

    // Checks: target in [0, 1] everywhere, features present and not constant.
    let outside = when(
        y.clone()
            .is_null()
            .or(y.clone().lt(lit(0.0)))
            .or(y.clone().gt(lit(1.0))),
        lit(1i64),
    )
    .otherwise(lit(0i64))?;
    let mut aggs = vec![
        count(lit(1)).alias("__rows"),
        sum(outside).alias("__y_bad"),
        sum(w.clone()).alias("__weight"),
        sum(w.clone() * y.clone()).alias("__events"),
    ];
    aggs.extend(weight_check.iter().flat_map(WeightCheck::aggregates));
    for (j, x) in xs.iter().enumerate() {
        aggs.push(count(x.clone()).alias(format!("__{j}_n")));
        aggs.push(min(x.clone()).alias(format!("__{j}_lo")));
        aggs.push(max(x.clone()).alias(format!("__{j}_hi")));
    }
    let row = df.clone().aggregate(vec![], aggs)?.collect().await?;
    let get = |n: &str| first_number(&row, n);
    if let Some(wc) = &weight_check {
        wc.verify(&row)?;
    }
    let rows = get("__rows").unwrap_or(0.0);
    if get("__y_bad").unwrap_or(0.0) > 0.0 {
        return invalid_err!(
            "target column `{target}` must be 0 or 1 (or a rate in [0, 1]) on every row; it has nulls or other values"
        );
    }
    for (j, f) in features.iter().enumerate() {
        if get(&format!("__{j}_n")).unwrap_or(0.0) < rows {
            return invalid_err!(
                "feature column `{f}` has missing values; the model needs a value on every row"
            );
        }
        if get(&format!("__{j}_lo")) == get(&format!("__{j}_hi")) {
            return invalid_err!(
                "feature column `{f}` has one distinct value; it cannot be estimated"
            );
        }
    }
    let (total, events) = (
        get("__weight").unwrap_or(0.0),
        get("__events").unwrap_or(0.0),
    );
    if total <= 0.0 {
        return Err(Error::InvalidInput(
            "nothing to fit: no rows (or zero total weight)".into(),
        ));
    }
    if events <= 0.0 || events >= total {
        return invalid_err!(
            "target column `{target}` has {} events: every row is on one side, nothing to fit",
            if events <= 0.0 { "no" } else { "only" }
        );
    }

    let k = features.len() + 1;
    // Start at the intercept-only optimum.
    let mut beta = vec![0.0; k];
    beta[0] = (events / (total - events)).ln();
    let mut step = moments(df, &xs, &y, &w, &beta).await?;
    let penalised = |s: &Moments, b: &[f64]| {
        s.log_likelihood - 0.5 * options.l2 * b[1..].iter().map(|v| v * v).sum::<f64>()
    };
    let mut converged = false;
    let mut iterations = 0;
    while iterations < options.max_iter {
        iterations += 1;
        let (h, g) = penalise(&step, &beta, options.l2);
        // Singular at the start: collinear terms; later: the fit ran off
        // towards a separating direction.
        let delta = solve(&h, &g).map_err(|j| {
            if iterations == 1 {
                singular(features, j)
            } else {
                separated(features, &beta)
            }
        })?;
        let before = penalised(&step, &beta);
        let mut scale = 1.0;
        let (next, next_step) = loop {
            let candidate: Vec<f64> = beta
                .iter()
                .zip(&delta)
                .map(|(b, d)| b + scale * d)
                .collect();
            let s = moments(df, &xs, &y, &w, &candidate).await?;
            if penalised(&s, &candidate) >= before - 1e-12 * before.abs().max(1.0) || scale < 1e-6 {
                break (candidate, s);
            }
            scale /= 2.0;
        };
        let moved = beta
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        beta = next;
        step = next_step;
        if beta.iter().any(|b| !b.is_finite()) {
            return Err(separated(features, &beta));
        }
        if moved < options.tolerance {
            converged = true;
            break;
        }
    }
    if (1..k).any(|j| beta[j].abs() > options.max_coefficient) {
        return Err(separated(features, &beta));
    }
    let (h, _) = penalise(&step, &beta, options.l2);
    let covariance = inverse(&h).map_err(|_| separated(features, &beta))?;
    let coefficients = (0..k)
        .map(|j| {
            let se = covariance[j][j].max(0.0).sqrt();
            let z = beta[j] / se;
            Coefficient {
                name: if j == 0 {
                    "intercept".into()
                } else {
                    features[j - 1].clone()
                },
                estimate: beta[j],
                std_error: se,
                z,
                p_value: libm::erfc(z.abs() / std::f64::consts::SQRT_2),
            }
        })
        .collect();
    Ok(LogisticModel {
        coefficients,
        iterations,
        converged,
        log_likelihood: step.log_likelihood,
        weight: total,
        events,
        l2: options.l2,
    })
}

fn singular(features: &[String], j: usize) -> Error {
    let which = if j == 0 {
        "the intercept".to_string()
    } else {
        format!("`{}`", features[j - 1])
    };
    invalid!(
        "the model cannot be estimated: {which} is a linear combination of the other terms (collinear or constant features)"
    )
}

/// The largest (or a non-finite) coefficient names the separating feature.
fn separated(features: &[String], beta: &[f64]) -> Error {
    let j = (1..beta.len())
        .max_by(|a, b| {
            let size = |v: f64| {
                if v.is_finite() {
                    v.abs()
                } else {
                    f64::INFINITY
                }
            };
            size(beta[*a]).total_cmp(&size(beta[*b]))
        })
        .unwrap_or(1);
    invalid!(
        "the data are (quasi-)perfectly separated by `{}`: its coefficient grows without bound ({:.1}); merge its bins or add an L2 penalty",
        features[j - 1],
        beta[j]
    )
}

/// Gradient, Hessian (lower triangle used) and log-likelihood at β.
struct Moments {
    gradient: Vec<f64>,
    hessian: Vec<Vec<f64>>,
    log_likelihood: f64,
}

#[allow(clippy::needless_range_loop)] // a symmetric matrix filled by index
async fn moments(df: &DataFrame, xs: &[Expr], y: &Expr, w: &Expr, beta: &[f64]) -> Result<Moments> {
    let k = beta.len();
    let sums = logistic_moments(y.clone(), w.clone(), xs.to_vec(), beta).alias("__m");
    let row = df.clone().aggregate(vec![], vec![sums])?.collect().await?;
    let values = row
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| float_list_at(b.column(0), 0))
        .filter(|v| v.len() == moments_len(k - 1))
        .ok_or_else(|| invalid!("the model's sums could not be computed"))?;
    let mut hessian = vec![vec![0.0; k]; k];
    let mut at = 1 + k;
    for j in 0..k {
        for l in 0..=j {
            hessian[j][l] = values[at];
            hessian[l][j] = values[at];
            at += 1;
        }
    }
    Ok(Moments {
        gradient: values[1..=k].to_vec(),
        hessian,
        log_likelihood: values[0],
    })
}

/// The penalised Hessian (negative second derivative) and gradient.
fn penalise(m: &Moments, beta: &[f64], l2: f64) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut h = m.hessian.clone();
    let mut g = m.gradient.clone();
    for j in 1..beta.len() {
        h[j][j] += l2;
        g[j] -= l2 * beta[j];
    }
    (h, g)
}
