//! How well a score ranks: AUC, Gini, KS and the event rate by score band,
//! weighted. Higher scores are meant to be safer (fewer events).
//!
//! The data are grouped by score (one aggregate pass); a scorecard has
//! finitely many scores, so the groups are few.

use std::fmt::Write as _;

use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{cast, lit};
use datafusion::prelude::DataFrame;
use serde::Serialize;

use crate::checks::weight_or_one;
use crate::error::{Result, ensure, invalid_err};
use crate::expr::{column, find};
use crate::results::number_at;

/// One score band.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Band {
    /// 1 = the lowest scores.
    pub band: usize,
    /// Lowest score in the band.
    pub from: f64,
    /// Highest score in the band.
    pub to: f64,
    /// Weight in the band.
    pub count: f64,
    /// Event weight in the band.
    pub events: f64,
    /// events / count.
    pub event_rate: f64,
}

/// Ranking quality of a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    /// P(a non-event scores above an event), ties counting half.
    pub auc: f64,
    /// 2·AUC − 1.
    pub gini: f64,
    /// Largest gap between the cumulative score distributions of events and non-events.
    pub ks: f64,
    /// The score where the gap is largest.
    pub ks_score: f64,
    /// Total weight.
    pub weight: f64,
    /// Event weight.
    pub events: f64,
    /// Event rate by score band, lowest scores first.
    pub bands: Vec<Band>,
}

/// Evaluates `score` against `target` (0/1, or a rate with weights) in
/// about `bands` bands of equal weight (a score never straddles two bands).
///
/// ```
/// use scorelake::scorecard::evaluate;
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql("SELECT * FROM (VALUES (1.0, 1), (2.0, 0), (3.0, 1), (4.0, 0)) AS t(s, y)").await?;
/// let e = evaluate(&df, "s", "y", None, 2).await?;
/// assert_eq!(e.auc, 0.75); // of 4 (non-event, event) pairs, 3 rank right
/// assert_eq!(e.ks, 0.5);
/// assert_eq!(e.bands.len(), 2);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn evaluate(
    df: &DataFrame,
    score: &str,
    target: &str,
    weight: Option<&str>,
    bands: usize,
) -> Result<Evaluation> {
    for (c, role) in [(score, "score column"), (target, "target column")] {
        let ty = find(df.schema(), c, role)?;
        ensure!(ty.is_numeric(), "{role} `{c}` is {ty}; expected numbers");
    }
    let w = weight_or_one(weight);
    let y = cast(column(target), DataType::Float64);
    let grouped = df
        .clone()
        .filter(column(score).is_not_null())?
        .aggregate(
            vec![cast(column(score), DataType::Float64).alias("__s")],
            vec![
                sum(w.clone() * y.clone()).alias("__e"),
                sum(w * (lit(1.0) - y)).alias("__g"),
            ],
        )?
        .collect()
        .await?;
    let mut rows: Vec<(f64, f64, f64)> = Vec::new();
    for b in &grouped {
        for r in 0..b.num_rows() {
            let s = number_at(b, "__s", r).unwrap_or(f64::NAN);
            let e = number_at(b, "__e", r).unwrap_or(0.0);
            let g = number_at(b, "__g", r).unwrap_or(0.0);
            rows.push((s, e, g));
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let events: f64 = rows.iter().map(|r| r.1).sum();
    let goods: f64 = rows.iter().map(|r| r.2).sum();
    if events <= 0.0 || goods <= 0.0 {
        return invalid_err!(
            "target column `{target}` needs both events and non-events to evaluate a score"
        );
    }
    let (mut below_e, mut below_g, mut pairs) = (0.0, 0.0, 0.0);
    let (mut ks, mut ks_score) = (0.0, f64::NAN);
    for &(s, e, g) in &rows {
        pairs += g * (below_e + 0.5 * e);
        below_e += e;
        below_g += g;
        let gap = (below_e / events - below_g / goods).abs();
        if gap > ks {
            ks = gap;
            ks_score = s;
        }
    }
    let auc = pairs / (events * goods);
    let total = events + goods;
    let k = bands.max(1);
    let mut out: Vec<Band> = Vec::new();
    let mut cumulative = 0.0;
    for &(s, e, g) in &rows {
        let band = ((cumulative / total * k as f64).floor() as usize).min(k - 1) + 1;
        cumulative += e + g;
        match out.last_mut() {
            Some(last) if last.band == band => {
                last.to = s;
                last.count += e + g;
                last.events += e;
            }
            _ => out.push(Band {
                band,
                from: s,
                to: s,
                count: e + g,
                events: e,
                event_rate: 0.0,
            }),
        }
    }
    for (i, b) in out.iter_mut().enumerate() {
        b.band = i + 1;
        b.event_rate = if b.count > 0.0 {
            b.events / b.count
        } else {
            0.0
        };
    }
    Ok(Evaluation {
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        ks_score,
        weight: total,
        events,
        bands: out,
    })
}

impl Evaluation {
    /// AUC, Gini, KS and the band table as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "AUC {:.4}, Gini {:.4}, KS {:.4} (at score {:.1})\n\n| band | scores | count | events | event rate |\n|---|---|---|---|---|\n",
            self.auc, self.gini, self.ks, self.ks_score
        );
        for b in &self.bands {
            let _ = writeln!(
                out,
                "| {} | {:.1}–{:.1} | {} | {} | {:.4} |",
                b.band, b.from, b.to, b.count, b.events, b.event_rate
            );
        }
        out
    }
}
