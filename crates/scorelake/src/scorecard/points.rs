//! Scaling a model on WoE columns to points: the scorecard.
//!
//! With the model's log-odds of an event η = β₀ + Σ βⱼ·WoEⱼ, a score rises
//! by `pdo` points each time the odds of a non-event double and equals
//! `base_score` at non-event odds `base_odds`:
//! factor = pdo / ln 2, offset = base_score − factor·ln(base_odds),
//! score = offset − factor·η. Each of the n variables gets, per bin,
//! points = −factor·(βⱼ·WoE + β₀/n) + offset/n, so a row's score is the sum
//! of its bins' points. With `round`, points are whole numbers.

use std::fmt::Write as _;
use std::path::Path;

use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::binning::{Binning, VariableBins, VariableKind, check_unique, woe_column};
use super::logistic::LogisticModel;
use crate::docfile::{load_artifact, save_artifact};
use crate::error::{Result, ensure, invalid, invalid_err};

/// The `format` tag of scorecard artifacts.
pub const FORMAT: &str = "scorelake.scorecard.v1";

/// How log-odds become points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scaling {
    /// Points to double the odds (default 20).
    pub pdo: f64,
    /// The score at `base_odds` (default 600).
    pub base_score: f64,
    /// Non-event:event odds at `base_score` (default 50).
    pub base_odds: f64,
    /// Round each bin's points to a whole number (default false).
    pub round: bool,
    /// The event rate the probabilities of default are calibrated to
    /// (default: none, the training rows' rate): their log-odds move by
    /// logit(target) − logit(training rate).
    pub pd_target_rate: Option<f64>,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            pdo: 20.0,
            base_score: 600.0,
            base_odds: 50.0,
            round: false,
            pd_target_rate: None,
        }
    }
}

impl Scaling {
    /// pdo / ln 2.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// base_score − factor·ln(base_odds).
    pub fn offset(&self) -> f64 {
        self.base_score - self.factor() * self.base_odds.ln()
    }

    fn check(&self) -> Result<()> {
        ensure!(
            self.pdo > 0.0 && self.base_odds > 0.0 && self.base_score.is_finite(),
            "scaling: pdo and base_odds must be > 0 and base_score a number (got pdo {}, base_odds {}, base_score {})",
            self.pdo,
            self.base_odds,
            self.base_score
        );
        if let Some(r) = self.pd_target_rate
            && (r.is_nan() || r <= 0.0 || r >= 1.0)
        {
            return invalid_err!("scaling.pd_target_rate is {r}; expected a rate in (0, 1)");
        }
        Ok(())
    }
}

/// Points of one bin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinPoints {
    /// Bin number.
    pub bin: i32,
    /// Bin label.
    pub label: String,
    /// Its WoE.
    pub woe: f64,
    /// Its points.
    pub points: f64,
}

/// A variable of the scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredVariable {
    /// The model's coefficient on the variable's WoE.
    pub coefficient: f64,
    /// The variable's binning (how rows find their bin).
    pub binning: VariableBins,
    /// Points per bin.
    pub points: Vec<BinPoints>,
}

/// A points scorecard: applies to raw data (bins are found from the
/// variables' values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Always [`FORMAT`].
    pub format: String,
    /// The scaling.
    pub scaling: Scaling,
    /// The model's intercept.
    pub intercept: f64,
    /// The training rows' event rate (weighted), which the model's
    /// probabilities are calibrated to (absent in cards of older versions).
    #[serde(default)]
    pub event_rate: Option<f64>,
    /// The variables with their points.
    pub variables: Vec<ScoredVariable>,
}

impl Scorecard {
    /// Builds the scorecard from a binning and a model fitted on its WoE
    /// columns (`{variable}_woe`, in any order).
    pub fn new(binning: &Binning, model: &LogisticModel, scaling: &Scaling) -> Result<Scorecard> {
        scaling.check()?;
        let (factor, offset) = (scaling.factor(), scaling.offset());
        let terms = &model.coefficients[1..];
        let n = terms.len() as f64;
        let mut variables = Vec::new();
        for term in terms {
            let v = binning
                .variables
                .iter()
                .find(|v| woe_column(&v.column) == term.name)
                .ok_or_else(|| {
                    invalid!(
                        "model term `{}` is not the WoE column of a binned variable",
                        term.name
                    )
                })?;
            let points = v
                .bins
                .iter()
                .map(|b| {
                    let p = -factor * (term.estimate * b.woe + model.intercept() / n) + offset / n;
                    BinPoints {
                        bin: b.bin,
                        label: b.label.clone(),
                        woe: b.woe,
                        points: if scaling.round { p.round() } else { p },
                    }
                })
                .collect();
            variables.push(ScoredVariable {
                coefficient: term.estimate,
                binning: v.clone(),
                points,
            });
        }
        Ok(Scorecard {
            format: FORMAT.into(),
            scaling: scaling.clone(),
            intercept: model.intercept(),
            event_rate: (model.weight > 0.0).then(|| model.events / model.weight),
            variables,
        })
    }

    /// The score of each row as a Float64 expression over the raw variables.
    pub fn score_expr(&self) -> Result<Expr> {
        let mut total = lit(0.0);
        for v in &self.variables {
            total = total + v.binning.by_bin(|b| points_of(v, b.bin))?;
        }
        Ok(total)
    }

    /// Adds the score as column `name` to `df`.
    pub fn score(&self, df: DataFrame, name: &str) -> Result<DataFrame> {
        for v in &self.variables {
            if df
                .schema()
                .field_with_unqualified_name(&v.binning.column)
                .is_err()
            {
                return invalid_err!(
                    "column `{}` (a scorecard variable) is not in the input",
                    v.binning.column
                );
            }
        }
        if df.schema().field_with_unqualified_name(name).is_ok() {
            return invalid_err!(
                "the input has a column `{name}` already; choose another score column"
            );
        }
        Ok(df.with_column(name, self.score_expr()?)?)
    }

    /// The score as one SQL expression (standard `CASE`, double literals)
    /// that gives the same score in any SQL engine. Missing values must be
    /// NULL (engines disagree on NaN).
    pub fn to_sql(&self) -> String {
        let mut out = format!(
            "-- ScoreLake scorecard: {} points double the odds; {} points at odds {}:1\n",
            self.scaling.pdo, self.scaling.base_score, self.scaling.base_odds
        );
        let parts: Vec<String> = self.variables.iter().map(sql_case).collect();
        let _ = write!(out, "{}", parts.join("\n+ "));
        out
    }

    /// Points per bin per variable as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out =
            String::from("| variable | bin | label | WoE | points |\n|---|---|---|---|---|\n");
        for v in &self.variables {
            for p in &v.points {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.4} | {:.2} |",
                    v.binning.column, p.bin, p.label, p.woe, p.points
                );
            }
        }
        out
    }

    /// Writes the artifact as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_artifact(path, self)
    }

    /// Reads an artifact written by [`save`](Self::save) and checks it
    /// ([`validate`](Self::validate)); errors name the file.
    pub fn load(path: &Path) -> Result<Scorecard> {
        load_artifact(path, FORMAT, "a scorecard", Scorecard::validate)
    }

    /// Checks that the scorecard is consistent (for files edited by hand):
    /// the scaling, each variable's bins ([`VariableBins::validate`]), no
    /// variable twice, and points for every bin a row can fall in, once
    /// each and for no other bin, so no row scores 0 points silently.
    pub fn validate(&self) -> Result<()> {
        self.scaling.check()?;
        check_unique(self.variables.iter().map(|v| v.binning.column.as_str()))?;
        for v in &self.variables {
            v.binning.validate()?;
            v.binning
                .check_bin_numbers("points", v.points.iter().map(|p| p.bin))?;
            if let Some(p) = v.points.iter().find(|p| !p.points.is_finite()) {
                return invalid_err!(
                    "variable `{}`: bin {} has points {}",
                    v.binning.column,
                    p.bin,
                    p.points
                );
            }
        }
        Ok(())
    }
}

/// The points of bin `bin` of `v` (0 for a bin without points).
pub(super) fn points_of(v: &ScoredVariable, bin: i32) -> f64 {
    v.points
        .iter()
        .find(|p| p.bin == bin)
        .map_or(0.0, |p| p.points)
}

/// A double literal that every SQL engine reads as the same f64.
pub(super) fn double(v: f64) -> String {
    format!("{v:E}")
}

pub(super) fn quoted_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) fn quoted_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One variable's points as a SQL CASE.
pub(super) fn sql_case(v: &ScoredVariable) -> String {
    let b = &v.binning;
    let p = |bin: i32| double(points_of(v, bin));
    let mut s = String::from("CASE");
    match b.kind {
        VariableKind::Numeric => {
            let x = format!("CAST({} AS DOUBLE)", quoted_identifier(&b.column));
            let _ = write!(s, " WHEN {x} IS NULL THEN {}", p(0));
            for (i, value) in b.special_values.iter().enumerate() {
                let _ = write!(
                    s,
                    " WHEN {x} = {} THEN {}",
                    double(*value),
                    p(-(i as i32) - 1)
                );
            }
            for (i, e) in b.edges.iter().enumerate() {
                let _ = write!(s, " WHEN {x} <= {} THEN {}", double(*e), p(i as i32 + 1));
            }
            let _ = write!(s, " ELSE {} END", p(b.edges.len() as i32 + 1));
        }
        VariableKind::Categorical => {
            let x = format!("CAST({} AS VARCHAR)", quoted_identifier(&b.column));
            let _ = write!(s, " WHEN {x} IS NULL THEN {}", p(0));
            for (i, g) in b.groups.iter().enumerate() {
                let members: Vec<String> = g.iter().map(|c| quoted_text(c)).collect();
                let _ = write!(
                    s,
                    " WHEN {x} IN ({}) THEN {}",
                    members.join(", "),
                    p(i as i32 + 1)
                );
            }
            let _ = write!(s, " ELSE {} END", p(b.unseen_bin));
        }
    }
    s
}
