//! The fitted binning: per variable its bins (edges or category groups, a
//! missing bin, special-value bins), their counts, WoE and IV; applied to
//! any data as plain expressions.
//!
//! Bin numbers: 0 is the missing bin (null, or NaN for numbers), −1, −2, …
//! the special values in the order given, 1..=k the regular bins (numeric
//! bins right-closed, `(a, b]`, the first also holding everything below, the
//! last everything above).

use std::fmt::Write as _;
use std::path::Path;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, case, cast, lit, when};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::optimal::Monotonic;
use super::spec::BinMethod;
use super::totals::Totals;
use super::woe::Counts;
use crate::docfile::{load_artifact, save_artifact};
use crate::error::{Result, ensure, invalid, invalid_err};
use crate::expr::column;
use crate::functions::bin_index::bin_index;

/// The `format` tag of binning artifacts.
pub const FORMAT: &str = "scorelake.binning.v1";

/// Numbers or categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// Binned by edges.
    Numeric,
    /// Binned by groups of categories (compared as text).
    Categorical,
}

/// One bin of a variable: what falls in it and its statistics on the
/// fitting data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// The bin number (0 missing, < 0 special values, ≥ 1 regular).
    pub bin: i32,
    /// `missing`, `= -999`, `<= 3`, `(3, 7]`, `> 7`, or the categories.
    pub label: String,
    /// Weight of the rows in the bin.
    pub count: f64,
    /// Its share of all the weight.
    pub share: f64,
    /// Weight with target 0 and 1.
    pub counts: Counts,
    /// Events over the bin's weight (None for an empty bin).
    pub event_rate: Option<f64>,
    /// ln(%non-events / %events); 0 for an empty bin.
    pub woe: f64,
    /// The bin's IV contribution.
    pub iv: f64,
}

/// The binning of one variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariableBins {
    /// The column.
    pub column: String,
    /// Numbers or categories.
    pub kind: VariableKind,
    /// How the regular numeric bins were cut.
    pub method: BinMethod,
    /// The event rate's direction over the regular bins (optimal binning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monotonic: Option<Monotonic>,
    /// Inner edges of the regular numeric bins (k − 1 for k bins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    /// Categories of regular bins 1..=k (categorical variables).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Vec<String>>,
    /// The bin for categories not seen when fitting (the bin that holds the
    /// rare categories, else the missing bin).
    #[serde(default)]
    pub unseen_bin: i32,
    /// Special values, bins −1, −2, … in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_values: Vec<f64>,
    /// Missing, special and regular bins.
    pub bins: Vec<Bin>,
    /// The variable's information value.
    pub iv: f64,
}

impl VariableBins {
    /// The bin number of each row as an Int32 expression.
    pub fn bin_expr(&self) -> Result<Expr> {
        match self.kind {
            VariableKind::Numeric => {
                // Nulls and NaN get bin 0 from bin_index; NaN equals no special value.
                let x = cast(column(&self.column), DataType::Float64);
                let regular = bin_index(x.clone(), &self.edges);
                let Some((first, rest)) = self.special_values.split_first() else {
                    return Ok(regular);
                };
                let mut cases = when(x.clone().eq(lit(*first)), lit(-1i32));
                for (i, s) in rest.iter().enumerate() {
                    cases = cases.when(x.clone().eq(lit(*s)), lit(-(i as i32) - 2));
                }
                Ok(cases.otherwise(regular)?)
            }
            VariableKind::Categorical => {
                let x = cast(column(&self.column), DataType::Utf8);
                let mut cases = when(x.clone().is_null(), lit(0i32));
                for (i, g) in self.groups.iter().enumerate() {
                    let members = g.iter().map(|c| lit(c.as_str())).collect();
                    cases = cases.when(x.clone().in_list(members, false), lit(i as i32 + 1));
                }
                Ok(cases.otherwise(lit(self.unseen_bin))?)
            }
        }
    }

    /// A Float64 expression giving each row `value(bin)` of its bin.
    pub fn by_bin(&self, value: impl Fn(&Bin) -> f64) -> Result<Expr> {
        self.by_bin_number(self.bin_expr()?, value)
    }

    /// A Float64 expression giving `value(bin)` of the bin number `bin`
    /// (an expression such as the bin column).
    pub(crate) fn by_bin_number(&self, bin: Expr, value: impl Fn(&Bin) -> f64) -> Result<Expr> {
        let mut cases = case(bin);
        for b in &self.bins {
            cases = cases.when(lit(b.bin), lit(value(b)));
        }
        Ok(cases.otherwise(lit(0.0))?)
    }

    /// The bin with number `n`.
    pub fn bin(&self, n: i32) -> Option<&Bin> {
        self.bins.iter().find(|b| b.bin == n)
    }

    /// The bin numbers a row can fall in: missing (0), the special values
    /// (−1, −2, …) and the regular bins (1..=k).
    pub fn bin_numbers(&self) -> Vec<i32> {
        let regular = match self.kind {
            VariableKind::Numeric => self.edges.len() + 1,
            VariableKind::Categorical => self.groups.len(),
        } as i32;
        let special = self.special_values.len() as i32;
        (-special..=regular).collect()
    }

    /// Checks that the bins are consistent (for artifacts edited by hand):
    /// edges finite and strictly increasing, category groups non-empty
    /// (but the unseen categories' bin) and
    /// disjoint, every bin a row can fall in listed once and no other.
    /// Errors name the variable and what is inconsistent.
    pub fn validate(&self) -> Result<()> {
        let name = &self.column;
        match self.kind {
            VariableKind::Numeric => {
                ensure!(
                    self.groups.is_empty(),
                    "variable `{name}` is numeric but has category groups"
                );
                if let Some(e) = self.edges.iter().find(|e| !e.is_finite()) {
                    return invalid_err!("variable `{name}`: edge {e} is not a finite number");
                }
                if let Some(w) = self.edges.windows(2).find(|w| w[0] >= w[1]) {
                    return invalid_err!(
                        "variable `{name}`: edges are not strictly increasing ({} then {})",
                        w[0],
                        w[1]
                    );
                }
                let mut seen = Vec::new();
                for v in &self.special_values {
                    ensure!(
                        v.is_finite() && !seen.contains(v),
                        "variable `{name}`: special value {v} is not finite or listed twice"
                    );
                    seen.push(*v);
                }
            }
            VariableKind::Categorical => {
                ensure!(
                    self.edges.is_empty() && self.special_values.is_empty(),
                    "variable `{name}` is categorical but has edges or special values"
                );
                let mut seen = std::collections::HashSet::new();
                for (i, g) in self.groups.iter().enumerate() {
                    // Only the bin of unseen categories may list none.
                    ensure!(
                        !g.is_empty() || self.unseen_bin == i as i32 + 1,
                        "variable `{name}`: category group {} is empty",
                        i + 1
                    );
                    if let Some(c) = g.iter().find(|c| !seen.insert(c.as_str())) {
                        return invalid_err!(
                            "variable `{name}`: category `{c}` is in more than one group"
                        );
                    }
                }
            }
        }
        self.check_bin_numbers("bins", self.bins.iter().map(|b| b.bin))?;
        let expected = self.bin_numbers();
        ensure!(
            expected.contains(&self.unseen_bin),
            "variable `{name}`: the unseen bin {} is not one of its bins",
            self.unseen_bin
        );
        Ok(())
    }

    /// Refuses bin numbers (of the variable's `what`: bins, points) that do
    /// not list every bin a row can fall in exactly once and no other.
    pub(crate) fn check_bin_numbers(
        &self,
        what: &str,
        listed: impl IntoIterator<Item = i32>,
    ) -> Result<()> {
        let name = &self.column;
        let expected = self.bin_numbers();
        let (lo, hi) = (
            expected.first().unwrap_or(&0),
            expected.last().unwrap_or(&0),
        );
        let mut seen = Vec::new();
        for n in listed {
            ensure!(
                !seen.contains(&n),
                "variable `{name}`: the {what} list bin {n} twice"
            );
            ensure!(
                expected.contains(&n),
                "variable `{name}`: the {what} list bin {n}, which its edges, groups and special values do not make (bins {lo} to {hi})"
            );
            seen.push(n);
        }
        if let Some(n) = expected.iter().find(|n| !seen.contains(n)) {
            return invalid_err!(
                "variable `{name}`: the {what} miss bin {n} ({} listed, {} expected from its edges, groups and special values)",
                seen.len(),
                expected.len()
            );
        }
        Ok(())
    }
}

/// Refuses a variable listed twice among `names`.
pub(crate) fn check_unique<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        ensure!(seen.insert(n), "variable `{n}` is listed twice");
    }
    Ok(())
}

/// Bin label of regular numeric bin `j` (1..=k) for inner `edges`.
pub(crate) fn edge_label(edges: &[f64], j: usize) -> String {
    let k = edges.len() + 1;
    let shown = readable(edges);
    match j {
        _ if k == 1 => "all values".into(),
        1 => format!("<= {}", shown[0]),
        j if j == k => format!("> {}", shown[k - 2]),
        j => format!("({}, {}]", shown[j - 2], shown[j - 1]),
    }
}

/// `edges` as labels show them: with the fewest significant digits (at
/// least 6) that keep them strictly increasing, so `1722.5240000000001`
/// reads `1722.52` beside `3228.74`. Labels only: bins use the exact edges.
fn readable(edges: &[f64]) -> Vec<String> {
    let round =
        |x: f64, digits: usize| -> f64 { format!("{:.*e}", digits - 1, x).parse().unwrap_or(x) };
    for digits in 6..=17 {
        let shown: Vec<f64> = edges.iter().map(|&x| round(x, digits)).collect();
        if shown.windows(2).all(|w| w[0] < w[1]) {
            return shown.iter().map(|x| x.to_string()).collect();
        }
    }
    edges.iter().map(|x| x.to_string()).collect()
}

/// A fitted binning (the artifact `fit_binning` writes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binning {
    /// Always [`FORMAT`].
    pub format: String,
    /// The target it was fitted on.
    pub target: String,
    /// The weight column it was fitted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Rows of the fitting data.
    pub total_rows: u64,
    /// Total weight of the fitting data.
    pub total_weight: f64,
    /// Its event weight.
    pub total_events: f64,
    /// One per variable, in the spec's order.
    pub variables: Vec<VariableBins>,
}

/// Names of the columns `transform` adds for a variable.
pub fn bin_column(variable: &str) -> String {
    format!("{variable}_bin")
}

/// See [`bin_column`].
pub fn woe_column(variable: &str) -> String {
    format!("{variable}_woe")
}

impl Binning {
    /// The variable `name`.
    pub fn variable(&self, name: &str) -> Result<&VariableBins> {
        self.variables
            .iter()
            .find(|v| v.column == name)
            .ok_or_else(|| invalid!("variable `{name}` is not in the binning"))
    }

    /// The fitting data's rows, weight and events (checked when fitting),
    /// for [`compress_with`](super::compress_with) on the same data.
    pub fn totals(&self) -> Totals {
        Totals {
            rows: self.total_rows,
            weight: self.total_weight,
            events: self.total_events,
        }
    }

    /// Variables with an IV of at least `min_iv`, strongest first.
    pub fn selected(&self, min_iv: f64) -> Vec<&VariableBins> {
        let mut v: Vec<&VariableBins> = self.variables.iter().filter(|v| v.iv >= min_iv).collect();
        v.sort_by(|a, b| b.iv.total_cmp(&a.iv));
        v
    }

    /// Adds `{variable}_bin` (Int32) and `{variable}_woe` (Float64) for
    /// each of `variables` (all when `None`) to `df`, as expressions.
    pub fn transform(&self, df: DataFrame, variables: Option<&[String]>) -> Result<DataFrame> {
        let chosen: Vec<&VariableBins> = match variables {
            None => self.variables.iter().collect(),
            Some(names) => names
                .iter()
                .map(|n| self.variable(n))
                .collect::<Result<_>>()?,
        };
        let schema = df.schema().clone();
        let mut exprs: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
        for v in chosen {
            if schema.field_with_unqualified_name(&v.column).is_err() {
                return invalid_err!(
                    "column `{}` (a binned variable) is not in the input",
                    v.column
                );
            }
            for out in [bin_column(&v.column), woe_column(&v.column)] {
                if schema.field_with_unqualified_name(&out).is_ok() {
                    return invalid_err!(
                        "the input has a column `{out}` already; binning would add it"
                    );
                }
            }
            exprs.push(v.bin_expr()?.alias(bin_column(&v.column)));
            exprs.push(v.by_bin(|b| b.woe)?.alias(woe_column(&v.column)));
        }
        Ok(df.select(exprs)?)
    }

    /// Writes the artifact as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_artifact(path, self)
    }

    /// Reads an artifact written by [`save`](Self::save) and checks it
    /// ([`validate`](Self::validate)); errors name the file.
    pub fn load(path: &Path) -> Result<Binning> {
        load_artifact(path, FORMAT, "a binning", Binning::validate)
    }

    /// Checks every variable ([`VariableBins::validate`]) and that none is
    /// listed twice.
    pub fn validate(&self) -> Result<()> {
        check_unique(self.variables.iter().map(|v| v.column.as_str()))?;
        self.variables.iter().try_for_each(VariableBins::validate)
    }

    /// The IV table (variable, bins, IV), strongest first, as Markdown. The
    /// bins are the regular ones, then the missing and special-value bins:
    /// `10 + missing`, `4 + missing + 2 special`.
    pub fn iv_table(&self) -> String {
        let mut out = String::from("| variable | bins | IV |\n|---|---|---|\n");
        for v in self.selected(f64::NEG_INFINITY) {
            let _ = writeln!(
                out,
                "| {} | {} | {:.4} |",
                v.column,
                bin_counts(&v.bins),
                v.iv
            );
        }
        out
    }

    /// Every variable's binning table (bin, label, count, share, events,
    /// event rate, WoE, IV) as Markdown.
    pub fn tables(&self) -> String {
        let mut out = String::new();
        for v in &self.variables {
            let _ = write!(
                out,
                "### {} (IV {:.4})\n\n| bin | label | count | share | events | event rate | WoE | IV |\n|---|---|---|---|---|---|---|---|\n",
                v.column, v.iv
            );
            for b in &v.bins {
                let rate = b.event_rate.map_or("–".into(), |r| format!("{r:.4}"));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.4} | {} | {rate} | {:.4} | {:.4} |",
                    b.bin, b.label, b.count, b.share, b.counts.events, b.woe, b.iv
                );
            }
            out.push('\n');
        }
        out
    }
}

/// `bins` counted as the IV table shows them: regular bins, then the
/// missing bin and special-value bins when there are any.
fn bin_counts(bins: &[Bin]) -> String {
    let regular = bins.iter().filter(|b| b.bin >= 1).count();
    let special = bins.iter().filter(|b| b.bin < 0).count();
    let mut text = regular.to_string();
    if bins.iter().any(|b| b.bin == 0) {
        text.push_str(" + missing");
    }
    if special > 0 {
        text.push_str(&format!(" + {special} special"));
    }
    text
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn labels_show_few_digits_but_keep_edges_apart() {
        assert_eq!(
            edge_label(&[1722.5240000000001, 3228.74], 2),
            "(1722.52, 3228.74]"
        );
        assert_eq!(
            edge_label(&[0.06759663906728197, 0.09935331638684113], 1),
            "<= 0.0675966"
        );
        // Close edges get the digits that tell them apart.
        assert_eq!(
            edge_label(&[1.0000001, 1.0000002], 2),
            "(1.0000001, 1.0000002]"
        );
        assert_eq!(edge_label(&[0.0, 20.0, 53.0], 4), "> 53");
        assert_eq!(edge_label(&[3.5, 7.5], 1), "<= 3.5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_right_closed_bins() {
        let e = [1.5, 3.0];
        let labels: Vec<String> = (1..=3).map(|j| edge_label(&e, j)).collect();
        assert_eq!(labels, ["<= 1.5", "(1.5, 3]", "> 3"]);
        assert_eq!(edge_label(&[], 1), "all values");
    }
}
