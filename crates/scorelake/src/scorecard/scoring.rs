//! What a scorecard adds to each row: the score, the probability of an
//! event (PD), the points of each variable and reason codes; and the same
//! columns as one standard SQL query for other engines.
//!
//! PD: the score maps back to the model's log-odds of an event,
//! η = (offset − score) / factor, moved by logit(target) − logit(training
//! event rate) when the card has a `pd_target_rate`; PD = 1 / (1 + e^−η).
//! Reason codes: each variable loses (its best bin's points − the row's
//! bin's points); `reason_1` names the variable that lost most, `reason_2`
//! the next, and so on (ties: in the card's order); variables that lost
//! nothing are not reasons (NULL).

use std::fmt::Write as _;

use datafusion::functions::math::expr_fn::exp;
use datafusion::logical_expr::{Expr, case, lit};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;

use super::points::{
    Scorecard, ScoredVariable, double, points_of, quoted_identifier, quoted_text, sql_case,
};
use crate::error::{Result, invalid_err};
use crate::expr::column;

/// The columns [`Scorecard::score_with`] adds.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreColumns {
    /// The score's column (default `score`).
    pub score: String,
    /// The PD's column (default `pd`; none: no PD).
    pub pd: Option<String>,
    /// Add `points_{variable}` for each variable (default false).
    pub points: bool,
    /// Add `reason_1` … `reason_K` (default 0: none).
    pub reasons: usize,
}

impl Default for ScoreColumns {
    fn default() -> Self {
        ScoreColumns {
            score: "score".into(),
            pd: Some("pd".into()),
            points: false,
            reasons: 0,
        }
    }
}

/// `points_{variable}`: a variable's points column.
pub fn points_column(variable: &str) -> String {
    format!("points_{variable}")
}

/// `reason_{k}`, k from 1.
pub fn reason_column(k: usize) -> String {
    format!("reason_{k}")
}

impl Scorecard {
    /// How far the PD's log-odds move from the model's: logit(target) −
    /// logit(training event rate), 0 without a `pd_target_rate`.
    pub fn pd_shift(&self) -> Result<f64> {
        let Some(target) = self.scaling.pd_target_rate else {
            return Ok(0.0);
        };
        let Some(trained) = self.event_rate.filter(|r| *r > 0.0 && *r < 1.0) else {
            return invalid_err!(
                "the scorecard has no training event rate to calibrate to pd_target_rate {target}; fit it again with this version"
            );
        };
        let logit = |p: f64| (p / (1.0 - p)).ln();
        Ok(logit(target) - logit(trained))
    }

    /// Adds the score, PD, points and reason codes of `columns` to `df`.
    ///
    /// ```
    /// use scorelake::scorecard::{ScoreColumns, Scorecard};
    /// # fn example(card: &Scorecard, df: scorelake::datafusion::prelude::DataFrame) -> scorelake::Result<()> {
    /// let columns = ScoreColumns { reasons: 3, ..ScoreColumns::default() };
    /// let scored = card.score_with(df, &columns)?; // score, pd, reason_1..reason_3
    /// # Ok(())
    /// # }
    /// ```
    pub fn score_with(&self, df: DataFrame, columns: &ScoreColumns) -> Result<DataFrame> {
        let new = self.new_columns(columns);
        for name in &new {
            if df.schema().field_with_unqualified_name(name).is_ok() {
                return invalid_err!(
                    "the input has a column `{name}` already; scoring adds it (choose other names)"
                );
            }
        }
        let shift = self.pd_shift()?;
        let points: Vec<Expr> = self
            .variables
            .iter()
            .map(|v| v.binning.by_bin(|b| points_of(v, b.bin)))
            .collect::<Result<_>>()?;
        let mut out = self.score(df, &columns.score)?;
        if let Some(pd) = &columns.pd {
            let score = column(&columns.score);
            let eta =
                (lit(self.scaling.offset()) - score) / lit(self.scaling.factor()) + lit(shift);
            out = out.with_column(pd, lit(1.0) / (lit(1.0) + exp(-eta)))?;
        }
        if columns.points {
            for (v, p) in self.variables.iter().zip(&points) {
                out = out.with_column(&points_column(&v.binning.column), p.clone())?;
            }
        }
        let lost: Vec<Expr> = self
            .variables
            .iter()
            .zip(&points)
            .map(|(v, p)| lit(best(v)) - p.clone())
            .collect();
        for k in 1..=columns.reasons {
            let mut reason = case(lit(true));
            let mut any = false;
            for (j, v) in self.variables.iter().enumerate() {
                let rank = lost
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != j)
                    .map(|(i, l)| {
                        let ahead = if i < j {
                            l.clone().gt_eq(lost[j].clone())
                        } else {
                            l.clone().gt(lost[j].clone())
                        };
                        case(ahead).when(lit(true), lit(1i64)).otherwise(lit(0i64))
                    })
                    .collect::<datafusion::common::Result<Vec<Expr>>>()?
                    .into_iter()
                    .fold(lit(1i64), |a, b| a + b);
                let this = lost[j].clone().gt(lit(0.0)).and(rank.eq(lit(k as i64)));
                reason = reason.when(this, lit(v.binning.column.as_str()));
                any = true;
            }
            let expr = if any {
                reason.otherwise(lit(ScalarValue::Utf8(None)))?
            } else {
                lit(ScalarValue::Utf8(None))
            };
            out = out.with_column(&reason_column(k), expr)?;
        }
        Ok(out)
    }

    fn new_columns(&self, columns: &ScoreColumns) -> Vec<String> {
        let mut names = vec![columns.score.clone()];
        names.extend(columns.pd.iter().cloned());
        if columns.points {
            names.extend(
                self.variables
                    .iter()
                    .map(|v| points_column(&v.binning.column)),
            );
        }
        names.extend((1..=columns.reasons).map(reason_column));
        names
    }

    /// One standard SQL query over table `input` giving its columns, each
    /// variable's points (`points_{variable}`), `score`, `pd` and
    /// `reason_1` … `reason_{reasons}`: the same values as
    /// [`score_with`](Self::score_with) (tested row by row).
    pub fn to_sql_query(&self, input: &str, reasons: usize) -> Result<String> {
        let shift = self.pd_shift()?;
        let q = quoted_identifier;
        let mut inner = String::from("SELECT s.*");
        for v in &self.variables {
            let _ = write!(
                inner,
                ",\n    {} AS {}",
                sql_case(v),
                q(&points_column(&v.binning.column))
            );
        }
        let _ = write!(inner, "\n  FROM {} AS s", q(input));
        let points: Vec<String> = self
            .variables
            .iter()
            .map(|v| format!("t.{}", q(&points_column(&v.binning.column))))
            .collect();
        let score = format!("({})", points.join(" + "));
        let mut out = format!(
            "-- ScoreLake scorecard: {} points double the odds; {} points at odds {}:1\n",
            self.scaling.pdo, self.scaling.base_score, self.scaling.base_odds
        );
        let _ = write!(out, "SELECT t.*,\n  {score} AS \"score\"");
        let _ = write!(
            out,
            ",\n  {one} / ({one} + EXP(-(({offset} - {score}) / {factor} + {shift}))) AS \"pd\"",
            one = double(1.0),
            offset = double(self.scaling.offset()),
            factor = double(self.scaling.factor()),
            shift = double(shift)
        );
        let lost: Vec<String> = self
            .variables
            .iter()
            .zip(&points)
            .map(|(v, p)| format!("({} - {p})", double(best(v))))
            .collect();
        for k in 1..=reasons {
            let mut case = String::from("CASE");
            for (j, v) in self.variables.iter().enumerate() {
                let ahead: Vec<String> = lost
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != j)
                    .map(|(i, l)| {
                        let op = if i < j { ">=" } else { ">" };
                        format!("CASE WHEN {l} {op} {} THEN 1 ELSE 0 END", lost[j])
                    })
                    .collect();
                let rank = std::iter::once("1".to_string())
                    .chain(ahead)
                    .collect::<Vec<_>>()
                    .join(" + ");
                let _ = write!(
                    case,
                    " WHEN {} > {} AND {rank} = {k} THEN {}",
                    lost[j],
                    double(0.0),
                    quoted_text(&v.binning.column)
                );
            }
            let _ = write!(
                out,
                ",\n  {} AS {}",
                if self.variables.is_empty() {
                    "CAST(NULL AS VARCHAR)".to_string()
                } else {
                    format!("{case} ELSE NULL END")
                },
                q(&reason_column(k))
            );
        }
        let _ = write!(out, "\nFROM ({inner}) AS t");
        Ok(out)
    }
}

/// The most points a row can get from `v`.
fn best(v: &ScoredVariable) -> f64 {
    v.points
        .iter()
        .map(|p| p.points)
        .fold(f64::NEG_INFINITY, f64::max)
}
