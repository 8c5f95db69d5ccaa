//! Validation and drift reports as one self-contained HTML file each: inline
//! styles and SVG, no scripts or links, readable offline and printable.

use std::fmt::Write as _;

use crate::html::{Axis, Line, esc, line_chart, page};

use super::drift::{ColumnDrift, DriftReport};
use super::report::{ValidationReport, short};
use super::thresholds::Metric;

impl ValidationReport {
    /// The report as one self-contained HTML page: the verdict, then a
    /// metrics table per column with its status coloured and findings.
    ///
    /// ```
    /// use scorelake::quality::{validate, ValidateOptions};
    /// use scorelake::{config::Config, session::Session};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let session = Session::new(Config::default())?;
    /// let df = session.ctx().sql("SELECT * FROM (VALUES (1.0), (NULL), (3.0)) AS t(x)").await?;
    /// let html = validate(&df, &ValidateOptions::default()).await?.to_html();
    /// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<td>x</td>"));
    /// assert!(!html.contains("http"));
    /// # Ok::<(), scorelake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn to_html(&self) -> String {
        let dates = self.columns.iter().any(|c| c.range.is_some());
        let metrics: Vec<Metric> = Metric::ALL
            .into_iter()
            .filter(|m| {
                let range = dates && matches!(m, Metric::Min | Metric::Max);
                range || self.columns.iter().any(|c| c.metrics.contains_key(m))
            })
            .collect();
        let mut body = format!(
            "<p>{} rows: <span class=\"{s}\">&nbsp;{s}&nbsp;</span>{}</p>\n<table><tr><th>column</th><th>type</th><th>status</th><th>distribution</th>",
            self.rows,
            if self.approximate {
                " (approximate unique counts and quantiles)"
            } else {
                ""
            },
            s = self.status
        );
        for m in &metrics {
            let _ = write!(body, "<th>{}</th>", m.name());
        }
        body.push_str("<th>findings</th></tr>\n");
        for c in &self.columns {
            let status = c.status;
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td class=\"{status}\">{status}</td><td>{}</td>",
                esc(&c.column),
                esc(&c.data_type),
                spread(c)
            );
            for m in &metrics {
                let _ = write!(body, "<td>{}</td>", esc(&c.cell(*m, short)));
            }
            let _ = writeln!(body, "<td>{}</td></tr>", esc(&c.findings.join("; ")));
        }
        body.push_str("</table>\n");
        if !self.left_out.is_empty() {
            let names: Vec<String> = self
                .left_out
                .iter()
                .map(|l| format!("{} ({})", esc(&l.column), l.role))
                .collect();
            let _ = writeln!(
                body,
                "<p class=\"note\">Left out by role: {}</p>",
                names.join(", ")
            );
        }
        page("Validation report", &body)
    }
}

/// A column's spread on its own scale: min to max as a line, p01 to p99 as
/// a bar, the mean as a tick (numbers); the most frequent value's share as
/// a bar (text). Empty when the column has neither.
fn spread(c: &super::report::ColumnReport) -> String {
    let m = |k| c.metrics.get(&k).copied().flatten();
    let (w, h) = (160.0, 14.0);
    if let (Some(min), Some(max)) = (m(Metric::Min), m(Metric::Max)) {
        let span = max - min;
        let x = |v: f64| {
            if span > 0.0 && span.is_finite() {
                4.0 + (w - 8.0) * ((v - min) / span).clamp(0.0, 1.0)
            } else {
                w / 2.0
            }
        };
        let mut svg = format!(
            "<svg width=\"{w}\" height=\"{h}\" style=\"margin:0\" role=\"img\" aria-label=\"distribution of {}\"><title>min {}, p01 {}, mean {}, p99 {}, max {}</title><line x1=\"{:.1}\" y1=\"7\" x2=\"{:.1}\" y2=\"7\" stroke=\"#999\"/>",
            esc(&c.column),
            short(min),
            m(Metric::P01).map_or("–".into(), short),
            m(Metric::Mean).map_or("–".into(), short),
            m(Metric::P99).map_or("–".into(), short),
            short(max),
            x(min),
            x(max)
        );
        if let (Some(lo), Some(hi)) = (m(Metric::P01), m(Metric::P99)) {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"3\" width=\"{:.1}\" height=\"8\" fill=\"#8da0cb\"/>",
                x(lo),
                (x(hi) - x(lo)).max(1.0)
            );
        }
        if let Some(mean) = m(Metric::Mean) {
            let _ = write!(
                svg,
                "<line x1=\"{0:.1}\" y1=\"0\" x2=\"{0:.1}\" y2=\"14\" stroke=\"#222\" stroke-width=\"2\"/>",
                x(mean)
            );
        }
        return svg + "</svg>";
    }
    match m(Metric::TopShare) {
        Some(top) => format!(
            "<svg width=\"{w}\" height=\"{h}\" style=\"margin:0\" role=\"img\" aria-label=\"distribution of {}\"><title>most frequent value: {:.1}% of rows</title><rect x=\"0\" y=\"3\" width=\"{:.1}\" height=\"8\" fill=\"#fc8d62\"/></svg>",
            esc(&c.column),
            top * 100.0,
            w * top.clamp(0.0, 1.0)
        ),
        None => String::new(),
    }
}

/// Each column's PSI/CSI over the periods, one line per column and method,
/// periods in order on the x axis, the values on a scale up to the largest.
fn over_time(columns: &[ColumnDrift]) -> String {
    const COLOURS: [&str; 8] = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
    ];
    let mut periods: Vec<&str> = columns.iter().filter_map(|c| c.period.as_deref()).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut names: Vec<String> = Vec::new();
    for c in columns {
        let name = format!("{} {}", c.column, c.method_label());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let top = columns
        .iter()
        .map(|c| c.value)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let step = (periods.len().max(2) - 1) as f64;
    let lines: Vec<Line> = names
        .iter()
        .enumerate()
        .map(|(i, name)| Line {
            name,
            colour: COLOURS[i % COLOURS.len()],
            points: columns
                .iter()
                .filter(|c| format!("{} {}", c.column, c.method_label()) == *name)
                .filter_map(|c| {
                    let at = periods
                        .iter()
                        .position(|p| Some(*p) == c.period.as_deref())?;
                    Some((at as f64 / step, c.value / top))
                })
                .collect(),
        })
        .collect();
    format!(
        "<h2>Over time</h2>\n{}",
        line_chart(
            &lines,
            &Axis {
                name: "period",
                ticks: [
                    periods.first().copied().unwrap_or_default().into(),
                    String::new(),
                    periods.last().copied().unwrap_or_default().into()
                ],
            },
            &Axis {
                name: "value",
                ticks: ["0".into(), format!("{:.4}", top / 2.0), format!("{top:.4}")],
            },
            false
        )
    )
}

/// Baseline and current shares of each bin as paired bars.
fn bars(c: &ColumnDrift) -> String {
    let (w, h, pad) = (28.0, 120.0, 20.0);
    let top = c
        .bins
        .iter()
        .map(|b| b.baseline.max(b.current))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let width = pad * 2.0 + w * c.bins.len() as f64;
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"shares per bin\">",
        h + 30.0
    );
    for (i, b) in c.bins.iter().enumerate() {
        let x = pad + w * i as f64;
        for (j, (share, colour)) in [(b.baseline, "#8da0cb"), (b.current, "#fc8d62")]
            .iter()
            .enumerate()
        {
            let bh = h * share / top;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"><title>{}: {} {:.2}%</title></rect>",
                x + 2.0 + j as f64 * (w - 4.0) / 2.0,
                h - bh,
                (w - 4.0) / 2.0,
                esc(&b.bin),
                if j == 0 { "baseline" } else { "current" },
                share * 100.0
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{}\" font-size=\"11\" fill=\"#8da0cb\">■ baseline</text><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#fc8d62\">■ current</text></svg>",
        h + 20.0,
        pad + 80.0,
        h + 20.0
    );
    svg
}

impl DriftReport {
    /// The report as one self-contained HTML page: with periods, each
    /// column's value over them as lines; PSI/CSI per column (and period)
    /// with the verdict coloured; then each comparison's bins as a table and
    /// paired bars.
    pub fn to_html(&self) -> String {
        let periods = self.columns.iter().any(|c| c.period.is_some());
        // With periods, the values over time come first, then the table.
        let mut body = if periods {
            over_time(&self.columns)
        } else {
            String::new()
        };
        body.push_str("<table><tr>");
        if periods {
            body.push_str("<th>period</th>");
        }
        body.push_str("<th>column</th><th>method</th><th>value</th><th>verdict</th></tr>\n");
        for c in &self.columns {
            body.push_str("<tr>");
            if let Some(p) = &c.period {
                let _ = write!(body, "<td>{}</td>", esc(p));
            }
            let method = c.method_label();
            let verdict = c.verdict.to_string();
            let _ = writeln!(
                body,
                "<td>{}</td><td>{}</td><td>{:.4}</td><td class=\"{verdict}\">{verdict}</td></tr>",
                esc(&c.column),
                esc(&method),
                c.value
            );
        }
        body.push_str("</table>\n");
        for c in &self.columns {
            let at = c
                .period
                .as_ref()
                .map(|p| format!(", {}", esc(p)))
                .unwrap_or_default();
            let _ = write!(
                body,
                "<h2>{}{at}: {} {:.4}</h2>\n<table><tr><th>bin</th><th>baseline</th><th>current</th><th>contribution</th></tr>\n",
                esc(&c.column),
                esc(&c.method_label()),
                c.value
            );
            for b in &c.bins {
                let _ = writeln!(
                    body,
                    "<tr><td>{}</td><td>{:.2}%</td><td>{:.2}%</td><td>{:.5}</td></tr>",
                    esc(&b.bin),
                    b.baseline * 100.0,
                    b.current * 100.0,
                    b.contribution
                );
            }
            body.push_str("</table>\n");
            body.push_str(&bars(c));
        }
        page("Drift report", &body)
    }
}
