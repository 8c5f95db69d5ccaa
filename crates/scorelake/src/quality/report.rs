//! Validation results and their JSON, CSV and Markdown forms.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use super::roles::{LeftOut, left_out_line};
use super::thresholds::{Metric, Thresholds};

/// Outcome of a column or of the whole report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Status {
    /// Within every threshold.
    #[serde(rename = "PASS")]
    Pass,
    /// Beyond a warning threshold.
    #[serde(rename = "WARN")]
    Warn,
    /// Beyond a failure threshold.
    #[serde(rename = "FAIL")]
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// One column's metrics and verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ColumnReport {
    /// Column name.
    pub column: String,
    /// Arrow type.
    pub data_type: String,
    /// Metrics that apply to the column (null where undefined, e.g. the mean of no values).
    pub metrics: BTreeMap<Metric, Option<f64>>,
    /// The earliest and latest value of a date or timestamp column, as
    /// ISO 8601 text (none when every value is null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// Verdict.
    pub status: Status,
    /// Why the verdict is not PASS: `missing_rate 0.62 > fail 0.5`.
    pub findings: Vec<String>,
}

/// The smallest and largest value of a column whose values are not numbers
/// (dates, timestamps), as text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Range {
    /// Smallest value.
    pub min: String,
    /// Largest value.
    pub max: String,
}

/// A validation report: rows, one entry per column, overall verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationReport {
    /// Rows in the input.
    pub rows: u64,
    /// Total weight, when validated with a weight column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// True when unique counts and quantiles are approximate.
    pub approximate: bool,
    /// Per column, in input order.
    pub columns: Vec<ColumnReport>,
    /// The worst column verdict.
    pub status: Status,
    /// Columns left out for their role (identifiers, targets) when no
    /// columns were named.
    pub left_out: Vec<LeftOut>,
}

impl ColumnReport {
    /// Applies `thresholds` to the metrics, setting status and findings.
    pub(crate) fn judge(&mut self, thresholds: &Thresholds) {
        let mut status = Status::Pass;
        let mut findings = Vec::new();
        for (&metric, value) in &self.metrics {
            let (Some(v), Some(rule)) = (value, thresholds.rule(&self.column, metric)) else {
                continue;
            };
            let mut check = |bound: Option<f64>, above: bool, level: Status, word: &str| {
                if let Some(b) = bound
                    && (if above { *v > b } else { *v < b })
                {
                    findings.push(format!(
                        "{metric} {} {} {word} {}",
                        short(*v),
                        if above { ">" } else { "<" },
                        short(b)
                    ));
                    status = status.max(level);
                }
            };
            check(rule.fail, true, Status::Fail, "fail");
            check(rule.fail_below, false, Status::Fail, "fail");
            check(rule.warn, true, Status::Warn, "warn");
            check(rule.warn_below, false, Status::Warn, "warn");
        }
        self.status = status;
        self.findings = findings;
    }
}

impl ColumnReport {
    /// `metric`'s cell: its value formatted, a date column's earliest or
    /// latest value for min and max, empty where it does not apply.
    pub(super) fn cell(&self, metric: Metric, format: fn(f64) -> String) -> String {
        match (&self.range, metric) {
            (Some(r), Metric::Min) => r.min.clone(),
            (Some(r), Metric::Max) => r.max.clone(),
            _ => self
                .metrics
                .get(&metric)
                .copied()
                .flatten()
                .map(format)
                .unwrap_or_default(),
        }
    }

    /// Every metric in report order, formatted; empty where it does not apply.
    fn cells(&self, format: fn(f64) -> String) -> impl Iterator<Item = String> + '_ {
        Metric::ALL.into_iter().map(move |m| self.cell(m, format))
    }
}

/// A number in few characters: whole numbers as such, else up to 6 decimals.
pub(super) fn short(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}").trim_end_matches('0').to_string()
    }
}

impl ValidationReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// One CSV row per column: column, type, status, every metric, findings.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("column,data_type,status");
        for m in Metric::ALL {
            let _ = write!(out, ",{m}");
        }
        out.push_str(",findings\n");
        for c in &self.columns {
            let _ = write!(out, "{},{},{}", csv(&c.column), csv(&c.data_type), c.status);
            for v in c.cells(|v| v.to_string()) {
                let _ = write!(out, ",{v}");
            }
            let _ = writeln!(out, ",{}", csv(&c.findings.join("; ")));
        }
        out
    }

    /// A Markdown table (also readable in a terminal) and the overall verdict.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| column | type | status |");
        for m in Metric::ALL {
            let _ = write!(out, " {m} |");
        }
        out.push_str(" findings |\n|---|---|---|");
        for _ in Metric::ALL {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        for c in &self.columns {
            let _ = write!(out, "| {} | {} | {} |", c.column, c.data_type, c.status);
            for v in c.cells(short) {
                let _ = write!(out, " {v} |");
            }
            let _ = writeln!(out, " {} |", c.findings.join("; "));
        }
        let counts = |s: Status| self.columns.iter().filter(|c| c.status == s).count();
        let _ = write!(
            out,
            "\n{} rows{}, {} columns{}: {} ({} PASS, {} WARN, {} FAIL)",
            self.rows,
            match self.weight {
                Some(w) => format!(" (weight {w})"),
                None => String::new(),
            },
            self.columns.len(),
            if self.approximate {
                " (approximate unique counts and quantiles)"
            } else {
                ""
            },
            self.status,
            counts(Status::Pass),
            counts(Status::Warn),
            counts(Status::Fail)
        );
        out.push_str(&left_out_line(&self.left_out));
        out
    }
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
