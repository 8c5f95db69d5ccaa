//! Variable selection with the safeguards a model validation team checks:
//! an IV range (and a leakage flag), a correlation filter and a VIF ceiling
//! on the WoE columns, forward / backward / stepwise selection by p-value
//! or AIC, and a final check that every coefficient has the sign WoE
//! implies and is significant. Every decision is kept, with the figure that
//! triggered it.
//!
//! Every figure (see `select_figures`) comes from aggregate queries over
//! the rows given (compressed rows give the same figures as the rows they
//! stand for, weights being frequencies), so selection runs on any engine
//! without gathering data.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::logistic::{LogisticModel, LogisticOptions, fit_logistic};
use super::select_figures::{aic, correlations, inflation, score_tests, totals};
use crate::error::{Result, ensure, invalid, invalid_err};

/// How variables enter the model after the filters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every variable that passed the filters.
    None,
    /// Add the best variable while it passes the entry threshold.
    Forward,
    /// Start with all, remove the worst while it fails the exit threshold.
    Backward,
    /// Forward, and after each entry remove variables that fail the exit
    /// threshold (a removed variable does not come back).
    #[default]
    Stepwise,
}

/// What "best" and "worst" mean for [`Method`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Wald p-values against `p_enter` and `p_exit`.
    #[default]
    PValue,
    /// Akaike's information criterion, 2·(terms) − 2·log-likelihood: a
    /// variable enters (or leaves) when that lowers it.
    Aic,
}

/// Selection settings (the pipeline's `selection:` section).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelectionOptions {
    /// Variables with a smaller IV are dropped (default 0.02).
    pub min_iv: f64,
    /// Variables with a larger IV are dropped (default: none).
    pub max_iv: Option<f64>,
    /// Variables with a larger IV are flagged as possible leakage of the
    /// target (default 1.0; bureau variables rarely pass 0.5).
    pub leakage_iv: f64,
    /// Of two WoE columns correlated beyond this (|r|), the one with the
    /// smaller IV is dropped (default 0.7; none: no filter).
    pub max_correlation: Option<f64>,
    /// While a variable's variance inflation factor exceeds this, the
    /// largest is dropped (default 5; none: no ceiling).
    pub max_vif: Option<f64>,
    /// How variables enter (default stepwise).
    pub method: Method,
    /// By p-value (default) or AIC.
    pub criterion: Criterion,
    /// p-value a variable must be below to enter (default 0.05).
    pub p_enter: f64,
    /// p-value above which a variable leaves (default 0.05; at least
    /// `p_enter`).
    pub p_exit: f64,
    /// Every coefficient of the final model must have a p-value at most
    /// this (default 0.05; none: no check).
    pub max_p_value: Option<f64>,
    /// Every coefficient of the final model must have the sign WoE implies:
    /// negative, as a higher WoE means a lower event rate (default true).
    pub check_signs: bool,
    /// Variables that stay in whatever the figures say (their failed
    /// checks are flagged).
    pub fixed: Vec<String>,
    /// At most this many variables in the model.
    pub max_variables: Option<usize>,
    /// A variable failing a check (IV above `max_iv`, correlation, VIF,
    /// sign, significance) fails the selection instead of being dropped.
    pub strict: bool,
}

impl Default for SelectionOptions {
    fn default() -> Self {
        SelectionOptions {
            min_iv: 0.02,
            max_iv: None,
            leakage_iv: 1.0,
            max_correlation: Some(0.7),
            max_vif: Some(5.0),
            method: Method::Stepwise,
            criterion: Criterion::PValue,
            p_enter: 0.05,
            p_exit: 0.05,
            max_p_value: Some(0.05),
            check_signs: true,
            fixed: Vec::new(),
            max_variables: None,
            strict: false,
        }
    }
}

impl SelectionOptions {
    /// Refuses thresholds out of range, naming the key.
    pub fn check(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if v.is_nan() || v <= 0.0 || v > 1.0 {
                return invalid_err!("selection.{name} is {v}; expected a number in (0, 1]");
            }
            Ok(())
        };
        if self.min_iv.is_nan() || self.min_iv < 0.0 || self.min_iv.is_infinite() {
            return invalid_err!("selection.min_iv is {}; expected a number ≥ 0", self.min_iv);
        }
        if let Some(max) = self.max_iv
            && (max.is_nan() || max <= self.min_iv)
        {
            return invalid_err!(
                "selection.max_iv is {max}; expected more than min_iv ({})",
                self.min_iv
            );
        }
        if self.leakage_iv.is_nan() || self.leakage_iv <= 0.0 {
            return invalid_err!(
                "selection.leakage_iv is {}; expected a number > 0",
                self.leakage_iv
            );
        }
        if let Some(r) = self.max_correlation {
            unit("max_correlation", r)?;
        }
        if let Some(v) = self.max_vif
            && (v.is_nan() || v < 1.0)
        {
            return invalid_err!(
                "selection.max_vif is {v}; expected a number ≥ 1 (a VIF is never below 1)"
            );
        }
        unit("p_enter", self.p_enter)?;
        unit("p_exit", self.p_exit)?;
        if self.p_exit < self.p_enter {
            return invalid_err!(
                "selection.p_exit ({}) is below p_enter ({}): a variable could enter and leave forever",
                self.p_exit,
                self.p_enter
            );
        }
        if let Some(p) = self.max_p_value {
            unit("max_p_value", p)?;
        }
        if let Some(n) = self.max_variables
            && (n == 0 || n < self.fixed.len())
        {
            return invalid_err!(
                "selection.max_variables is {n}; expected at least 1 and at least the {} fixed variables",
                self.fixed.len()
            );
        }
        Ok(())
    }
}

/// A candidate variable: its name, the (WoE) column the model uses, its IV.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The variable.
    pub variable: String,
    /// Its column in the rows (e.g. `utilization_woe`).
    pub column: String,
    /// Its information value.
    pub iv: f64,
}

/// The rule behind a [`Decision`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `min_iv` / `max_iv`.
    Iv,
    /// `leakage_iv`.
    Leakage,
    /// `max_correlation`.
    Correlation,
    /// `max_vif`.
    Vif,
    /// Entry by p-value or AIC.
    Entry,
    /// Exit by p-value or AIC.
    Exit,
    /// `max_variables`.
    Limit,
    /// A model with it could not be estimated.
    Estimation,
    /// `check_signs`.
    Sign,
    /// `max_p_value`.
    Significance,
}

/// What a rule did to a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Left out of the model.
    Dropped,
    /// Entered the model.
    Entered,
    /// Left the model it had entered.
    Removed,
    /// Kept, with a warning.
    Flagged,
}

/// One step of the selection trail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The variable.
    pub variable: String,
    /// The rule that decided.
    pub rule: Rule,
    /// What it did.
    pub action: Action,
    /// The figures behind it.
    pub detail: String,
}

/// The selected variables, how they were chosen, and how they relate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Selection {
    /// The model's variables, in order of entry.
    pub selected: Vec<String>,
    /// Every decision, in order.
    pub trail: Vec<Decision>,
    /// Correlations of the selected variables' columns (rows and columns in
    /// the order of `selected`).
    pub correlation: Vec<Vec<f64>>,
    /// The variance inflation factor of each selected variable.
    pub vif: Vec<f64>,
}

/// Selects the model's variables among `candidates`, whose columns are in
/// `rows` with the 0/1 (or rate, with weights) `target`.
///
/// ```
/// use scorelake::scorecard::{select_variables, Candidate, LogisticOptions, SelectionOptions};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// // x lowers the event rate (WoE-like: higher is safer), z is noise.
/// let df = session.ctx().sql(
///     "SELECT CAST(v % 7 AS DOUBLE) - 3 AS x, CAST((v * 13) % 5 AS DOUBLE) AS z,
///             CAST(((v * 37) % 11) < 5 - (v % 7) + 3 AS INT) AS y
///      FROM generate_series(1, 700) AS t(v)").await?;
/// let candidates = vec![
///     Candidate { variable: "x".into(), column: "x".into(), iv: 0.8 },
///     Candidate { variable: "z".into(), column: "z".into(), iv: 0.05 },
/// ];
/// let s = select_variables(&df, "y", None, &candidates, &SelectionOptions::default(),
///                          &LogisticOptions::default()).await?;
/// assert_eq!(s.selected, vec!["x".to_string()]);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn select_variables(
    rows: &DataFrame,
    target: &str,
    weight: Option<&str>,
    candidates: &[Candidate],
    options: &SelectionOptions,
    model: &LogisticOptions,
) -> Result<Selection> {
    options.check()?;
    for f in &options.fixed {
        ensure!(
            candidates.iter().any(|c| &c.variable == f),
            "selection.fixed names `{f}`, which is not a candidate variable"
        );
    }
    let mut s = Selector {
        rows,
        target,
        weight,
        options,
        model,
        candidates: candidates.to_vec(),
        trail: Vec::new(),
        violations: Vec::new(),
        at: Vec::new(),
        r: Vec::new(),
    };
    s.candidates.sort_by(|a, b| {
        s.options
            .fixed
            .contains(&b.variable)
            .cmp(&s.options.fixed.contains(&a.variable))
            .then(b.iv.total_cmp(&a.iv))
    });
    let all: Vec<usize> = (0..s.candidates.len()).collect();
    let kept = s.iv_filter(&all);
    // One correlation matrix of every candidate left, for both filters and
    // the report.
    let columns: Vec<String> = kept.iter().map(|&i| s.column(i)).collect();
    s.r = correlations(rows, &columns, weight).await?;
    s.at = vec![usize::MAX; s.candidates.len()];
    for (a, &i) in kept.iter().enumerate() {
        s.at[i] = a;
    }
    let kept = s.correlation_filter(&kept);
    let kept = s.vif_filter(&kept);
    let chosen = match options.method {
        Method::None => s.limit_by_iv(&kept),
        Method::Forward | Method::Stepwise => s.forward(&kept).await?,
        Method::Backward => s.backward(&kept).await?,
    };
    let chosen = s.final_checks(chosen).await?;
    if chosen.is_empty() {
        return invalid_err!("selection left no variable: {}", s.trail_line());
    }
    if options.strict && !s.violations.is_empty() {
        return invalid_err!(
            "selection is strict and {} failed a check: {}",
            s.violations.len(),
            s.violations.join("; ")
        );
    }
    let correlation = s.correlation(&chosen);
    let vif = inflation(&correlation);
    Ok(Selection {
        selected: chosen.iter().map(|&i| s.name(i).to_string()).collect(),
        trail: s.trail,
        correlation,
        vif,
    })
}

struct Selector<'a> {
    rows: &'a DataFrame,
    target: &'a str,
    weight: Option<&'a str>,
    options: &'a SelectionOptions,
    model: &'a LogisticOptions,
    /// Fixed variables first, then by IV, strongest first.
    candidates: Vec<Candidate>,
    trail: Vec<Decision>,
    /// Failed checks, for `strict`.
    violations: Vec<String>,
    /// Row of each candidate in `r` (`usize::MAX`: not in it).
    at: Vec<usize>,
    /// Correlations of the candidates that passed the IV filter.
    r: Vec<Vec<f64>>,
}

impl Selector<'_> {
    fn name(&self, i: usize) -> &str {
        &self.candidates[i].variable
    }

    fn column(&self, i: usize) -> String {
        self.candidates[i].column.clone()
    }

    fn fixed(&self, i: usize) -> bool {
        self.options.fixed.contains(&self.candidates[i].variable)
    }

    fn note(&mut self, i: usize, rule: Rule, action: Action, detail: String) {
        self.trail.push(Decision {
            variable: self.name(i).to_string(),
            rule,
            action,
            detail,
        });
    }

    /// A check failed for `i`: dropped, or flagged if fixed; counted for
    /// `strict` either way.
    fn failed(&mut self, i: usize, rule: Rule, detail: String) {
        self.violations
            .push(format!("`{}`: {detail}", self.name(i)));
        let action = if self.fixed(i) {
            Action::Flagged
        } else {
            Action::Dropped
        };
        self.note(i, rule, action, detail);
    }

    fn trail_line(&self) -> String {
        self.trail
            .iter()
            .map(|d| format!("`{}` {:?} ({})", d.variable, d.action, d.detail).to_lowercase())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The correlation matrix of candidates `of`.
    fn correlation(&self, of: &[usize]) -> Vec<Vec<f64>> {
        of.iter()
            .map(|&i| of.iter().map(|&j| self.r[self.at[i]][self.at[j]]).collect())
            .collect()
    }

    fn iv_filter(&mut self, all: &[usize]) -> Vec<usize> {
        let mut kept = Vec::new();
        for &i in all {
            let iv = self.candidates[i].iv;
            let fixed = self.fixed(i);
            if iv < self.options.min_iv && !fixed {
                let detail = format!("IV {iv:.4} below min_iv {}", self.options.min_iv);
                self.note(i, Rule::Iv, Action::Dropped, detail);
                continue;
            }
            if let Some(max) = self.options.max_iv
                && iv > max
            {
                self.failed(i, Rule::Iv, format!("IV {iv:.4} above max_iv {max}"));
                if !fixed {
                    continue;
                }
            } else if iv > self.options.leakage_iv {
                let detail = format!(
                    "IV {iv:.4} above leakage_iv {}: check that it is known at the observation date and does not encode the target",
                    self.options.leakage_iv
                );
                tracing::warn!(variable = self.name(i), iv, "possible target leakage");
                self.note(i, Rule::Leakage, Action::Flagged, detail);
            }
            kept.push(i);
        }
        kept
    }

    fn correlation_filter(&mut self, kept: &[usize]) -> Vec<usize> {
        let Some(max) = self.options.max_correlation else {
            return kept.to_vec();
        };
        let r = self.correlation(kept);
        let mut out: Vec<usize> = Vec::new();
        // `kept` is in order of priority (fixed, then IV): each variable
        // meets the stronger ones already kept.
        let mut positions: Vec<usize> = Vec::new();
        for (a, &i) in kept.iter().enumerate() {
            let clash = positions
                .iter()
                .map(|&b| (b, r[a][b]))
                .filter(|(_, rab)| rab.is_nan() || rab.abs() > max)
                .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()));
            if let Some((b, rab)) = clash {
                let other = kept[b];
                let detail = if rab.is_nan() {
                    "one value on every row: no correlation".to_string()
                } else {
                    format!(
                        "|r| = {:.3} above max_correlation {max} with `{}` (IV {:.4} against {:.4})",
                        rab.abs(),
                        self.name(other),
                        self.candidates[other].iv,
                        self.candidates[i].iv
                    )
                };
                self.failed(i, Rule::Correlation, detail);
                if !self.fixed(i) {
                    continue;
                }
            }
            out.push(i);
            positions.push(a);
        }
        out
    }

    fn vif_filter(&mut self, kept: &[usize]) -> Vec<usize> {
        let Some(max) = self.options.max_vif else {
            return kept.to_vec();
        };
        let mut kept = kept.to_vec();
        loop {
            if kept.len() < 2 {
                return kept;
            }
            let vif = inflation(&self.correlation(&kept));
            let worst = (0..kept.len())
                .filter(|&a| !self.fixed(kept[a]))
                .max_by(|&a, &b| vif[a].total_cmp(&vif[b]));
            match worst {
                Some(a) if vif[a] > max => {
                    let detail = if vif[a].is_finite() {
                        format!("VIF {:.2} above max_vif {max}", vif[a])
                    } else {
                        "a linear combination of the other variables (VIF infinite)".into()
                    };
                    self.failed(kept[a], Rule::Vif, detail);
                    kept.remove(a);
                }
                _ => return kept,
            }
        }
    }

    fn limit_by_iv(&mut self, kept: &[usize]) -> Vec<usize> {
        let limit = self.options.max_variables.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for &i in kept {
            if out.len() < limit || self.fixed(i) {
                out.push(i);
            } else {
                let detail = format!("max_variables {limit} reached by stronger variables");
                self.note(i, Rule::Limit, Action::Dropped, detail);
            }
        }
        out
    }

    async fn fit(&self, model: &[usize]) -> Result<LogisticModel> {
        let features: Vec<String> = model.iter().map(|&i| self.column(i)).collect();
        fit_logistic(self.rows, &features, self.target, self.weight, self.model).await
    }

    /// AIC of the model with `model`'s variables (none: the intercept only).
    async fn aic(&self, model: &[usize]) -> Result<f64> {
        if model.is_empty() {
            return self.null_aic().await;
        }
        Ok(aic(&self.fit(model).await?))
    }

    async fn null_aic(&self) -> Result<f64> {
        let (total, events) = totals(self.rows, self.target, self.weight).await?;
        let p = events / total;
        let ll = events * p.ln() + (total - events) * (1.0 - p).ln();
        Ok(2.0 - 2.0 * ll)
    }

    /// The p-value of the score test for adding each of `pool` to the
    /// model of `model`'s variables (None: a linear combination of them).
    async fn entry_scores(
        &self,
        model: &[usize],
        pool: &[usize],
    ) -> Result<Vec<(usize, Option<f64>)>> {
        let beta = if model.is_empty() {
            let (total, events) = totals(self.rows, self.target, self.weight).await?;
            vec![(events / (total - events)).ln()]
        } else {
            let m = self.fit(model).await?;
            m.coefficients.iter().map(|c| c.estimate).collect()
        };
        let model_columns: Vec<String> = model.iter().map(|&i| self.column(i)).collect();
        let pool_columns: Vec<String> = pool.iter().map(|&i| self.column(i)).collect();
        let p = score_tests(
            self.rows,
            self.target,
            self.weight,
            &model_columns,
            &beta,
            &pool_columns,
        )
        .await?;
        Ok(pool.iter().copied().zip(p).collect())
    }

    /// p-value of `i`'s coefficient in `m`.
    fn p_value(&self, m: &LogisticModel, i: usize) -> f64 {
        let c = &self.candidates[i].column;
        m.coefficients
            .iter()
            .find(|k| &k.name == c)
            .map_or(1.0, |k| k.p_value)
    }

    async fn forward(&mut self, kept: &[usize]) -> Result<Vec<usize>> {
        let limit = self.options.max_variables.unwrap_or(usize::MAX);
        let mut model: Vec<usize> = kept.iter().copied().filter(|&i| self.fixed(i)).collect();
        let mut out: HashSet<usize> = HashSet::new();
        let mut step = 0;
        loop {
            let pool: Vec<usize> = kept
                .iter()
                .copied()
                .filter(|i| !model.contains(i) && !out.contains(i))
                .collect();
            if pool.is_empty() {
                break;
            }
            if model.len() >= limit {
                for i in pool {
                    let detail = format!("max_variables {limit} reached");
                    self.note(i, Rule::Limit, Action::Dropped, detail);
                    out.insert(i);
                }
                break;
            }
            step += 1;
            let current = match self.options.criterion {
                Criterion::Aic => self.aic(&model).await?,
                Criterion::PValue => f64::NAN,
            };
            // (candidate, score: p-value or AIC; lower is better)
            let mut best: Option<(usize, f64)> = None;
            match self.options.criterion {
                Criterion::PValue => {
                    for (i, p) in self.entry_scores(&model, &pool).await? {
                        match p {
                            Some(p) if best.is_none_or(|(_, b)| p < b) => best = Some((i, p)),
                            Some(_) => {}
                            None => {
                                let detail =
                                    "a linear combination of the model's variables".to_string();
                                self.note(i, Rule::Estimation, Action::Dropped, detail);
                                out.insert(i);
                            }
                        }
                    }
                }
                Criterion::Aic => {
                    for i in pool {
                        let mut with = model.clone();
                        with.push(i);
                        match self.fit(&with).await {
                            Ok(m) => {
                                let score = aic(&m);
                                if best.is_none_or(|(_, b)| score < b) {
                                    best = Some((i, score));
                                }
                            }
                            Err(e) => {
                                let detail =
                                    format!("cannot be estimated with the model's variables: {e}");
                                self.note(i, Rule::Estimation, Action::Dropped, detail);
                                out.insert(i);
                            }
                        }
                    }
                }
            }
            let Some((i, score)) = best else { break };
            let (enters, detail) = match self.options.criterion {
                Criterion::PValue => (
                    score < self.options.p_enter,
                    format!(
                        "step {step}: score test p = {score:.3e}, p_enter {}",
                        self.options.p_enter
                    ),
                ),
                Criterion::Aic => (
                    score < current,
                    format!("step {step}: AIC {current:.2} → {score:.2}"),
                ),
            };
            if !enters {
                break;
            }
            self.note(i, Rule::Entry, Action::Entered, detail);
            model.push(i);
            if self.options.method == Method::Stepwise {
                self.exits(&mut model, &mut out, step).await?;
            }
        }
        for &i in kept {
            if !model.contains(&i) && !out.contains(&i) {
                let detail = match self.options.criterion {
                    Criterion::PValue => format!(
                        "never below p_enter {} given the model's variables",
                        self.options.p_enter
                    ),
                    Criterion::Aic => "never lowered the AIC given the model's variables".into(),
                };
                self.note(i, Rule::Entry, Action::Dropped, detail);
            }
        }
        Ok(model)
    }

    /// Removes the worst variables of `model` while one fails the exit
    /// threshold (fixed variables stay).
    async fn exits(
        &mut self,
        model: &mut Vec<usize>,
        out: &mut HashSet<usize>,
        step: usize,
    ) -> Result<()> {
        loop {
            let movable: Vec<usize> = model.iter().copied().filter(|&i| !self.fixed(i)).collect();
            if movable.is_empty() || model.len() < 2 {
                return Ok(());
            }
            let worst = match self.options.criterion {
                Criterion::PValue => {
                    let m = self.fit(model).await?;
                    movable
                        .iter()
                        .map(|&i| (i, self.p_value(&m, i)))
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .filter(|(_, p)| *p > self.options.p_exit)
                        .map(|(i, p)| {
                            (
                                i,
                                format!("step {step}: p = {p:.3e}, p_exit {}", self.options.p_exit),
                            )
                        })
                }
                Criterion::Aic => {
                    let current = self.aic(model).await?;
                    let mut best: Option<(usize, f64)> = None;
                    for &i in &movable {
                        let without: Vec<usize> =
                            model.iter().copied().filter(|&j| j != i).collect();
                        let a = self.aic(&without).await?;
                        if best.is_none_or(|(_, b)| a < b) {
                            best = Some((i, a));
                        }
                    }
                    best.filter(|(_, a)| *a < current)
                        .map(|(i, a)| (i, format!("step {step}: AIC {current:.2} → {a:.2}")))
                }
            };
            let Some((i, detail)) = worst else {
                return Ok(());
            };
            self.note(i, Rule::Exit, Action::Removed, detail);
            model.retain(|&j| j != i);
            out.insert(i);
        }
    }

    async fn backward(&mut self, kept: &[usize]) -> Result<Vec<usize>> {
        let mut model = kept.to_vec();
        let mut out = HashSet::new();
        self.exits(&mut model, &mut out, 1).await?;
        let limit = self.options.max_variables.unwrap_or(usize::MAX);
        while model.len() > limit {
            let m = self.fit(&model).await?;
            let worst = model
                .iter()
                .copied()
                .filter(|&i| !self.fixed(i))
                .max_by(|&a, &b| self.p_value(&m, a).total_cmp(&self.p_value(&m, b)));
            let Some(i) = worst else { break };
            let detail = format!(
                "max_variables {limit}: the largest p-value ({:.3e})",
                self.p_value(&m, i)
            );
            self.note(i, Rule::Limit, Action::Removed, detail);
            model.retain(|&j| j != i);
        }
        Ok(model)
    }

    /// Refits until every coefficient has the right sign and is
    /// significant, dropping the worst offender each time (wrong signs
    /// first); fixed variables are flagged instead.
    async fn final_checks(&mut self, mut model: Vec<usize>) -> Result<Vec<usize>> {
        let mut flagged: HashSet<(usize, Rule)> = HashSet::new();
        while !model.is_empty() {
            let m = self.fit(&model).await?;
            let mut offenders: Vec<(usize, Rule, String, f64)> = Vec::new();
            for &i in &model {
                let c = m
                    .coefficients
                    .iter()
                    .find(|k| k.name == self.candidates[i].column)
                    .ok_or_else(|| invalid!("the model lacks `{}`", self.name(i)))?;
                if self.options.check_signs && c.estimate > 0.0 {
                    let detail = format!(
                        "coefficient {:+.4} (p = {:.3e}) has the wrong sign: a higher WoE means fewer events, so it must be negative",
                        c.estimate, c.p_value
                    );
                    // Above every p-value: wrong signs go first, the most
                    // clearly wrong (largest z) first of all.
                    offenders.push((i, Rule::Sign, detail, 2.0 + c.z.max(0.0)));
                } else if let Some(max) = self.options.max_p_value
                    && c.p_value > max
                {
                    let detail = format!(
                        "coefficient {:+.4} not significant: p = {:.3e} above max_p_value {max}",
                        c.estimate, c.p_value
                    );
                    offenders.push((i, Rule::Significance, detail, c.p_value));
                }
            }
            let fixed: Vec<_> = offenders
                .iter()
                .filter(|o| self.fixed(o.0))
                .cloned()
                .collect();
            for (i, rule, detail, _) in fixed {
                if flagged.insert((i, rule)) {
                    self.failed(i, rule, detail);
                }
            }
            let worst = offenders
                .into_iter()
                .filter(|o| !self.fixed(o.0))
                // Ties: the weaker variable (later in IV order) goes.
                .max_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0)));
            let Some((i, rule, detail, _)) = worst else {
                break;
            };
            self.failed(i, rule, detail);
            model.retain(|&j| j != i);
        }
        Ok(model)
    }
}

impl Selection {
    /// The trail, the correlation matrix and the VIFs as Markdown.
    pub fn to_markdown(&self, ivs: &[(String, f64)]) -> String {
        let mut out =
            String::from("| variable | IV | rule | action | detail |\n|---|---|---|---|---|\n");
        let iv_of = |v: &str| {
            ivs.iter()
                .find(|(n, _)| n == v)
                .map_or(String::new(), |(_, iv)| format!("{iv:.4}"))
        };
        for d in &self.trail {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                d.variable,
                iv_of(&d.variable),
                label(&d.rule),
                label(&d.action),
                d.detail
            );
        }
        let _ = write!(out, "\nCorrelations of the model's WoE columns\n\n| |");
        for v in &self.selected {
            let _ = write!(out, " {v} |");
        }
        let _ = write!(out, " VIF |\n|---|");
        for _ in 0..=self.selected.len() {
            out.push_str("---|");
        }
        out.push('\n');
        for (a, v) in self.selected.iter().enumerate() {
            let _ = write!(out, "| {v} |");
            for r in &self.correlation[a] {
                let _ = write!(out, " {r:.3} |");
            }
            let _ = writeln!(out, " {:.2} |", self.vif[a]);
        }
        out
    }
}

/// A rule or action as the report spells it (its JSON name).
fn label<T: Serialize + fmt::Debug>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_out_of_range_are_refused_by_name() {
        let bad = [
            SelectionOptions {
                max_correlation: Some(1.5),
                ..Default::default()
            },
            SelectionOptions {
                max_vif: Some(0.5),
                ..Default::default()
            },
            SelectionOptions {
                p_enter: 0.1,
                p_exit: 0.05,
                ..Default::default()
            },
            SelectionOptions {
                max_iv: Some(0.01),
                ..Default::default()
            },
            SelectionOptions {
                max_p_value: Some(0.0),
                ..Default::default()
            },
        ];
        let keys = [
            "max_correlation",
            "max_vif",
            "p_exit",
            "max_iv",
            "max_p_value",
        ];
        for (o, key) in bad.iter().zip(keys) {
            let e = o.check().unwrap_err().to_string();
            assert!(e.contains(&format!("selection.{key}")), "{e}");
        }
        assert!(SelectionOptions::default().check().is_ok());
    }
}
