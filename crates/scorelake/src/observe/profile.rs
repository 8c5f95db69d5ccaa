//! The profiler: several run records of one command folded into medians
//! per query and per operator, with bottleneck rules, each naming the
//! figure that triggered it and a concrete change.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::RunRecord;
use crate::advice::{Advice, markdown_list};
use crate::console::human_bytes;
use crate::error::{Error, Result};

/// An operator's share of compute time from which it is the bottleneck.
const DOMINANT_SHARE: f64 = 0.4;
/// Rows per partition, largest over median, from which a step is skewed.
const SKEWED: f64 = 1.5;
/// Rows from which skew matters.
const SKEW_ROWS: u64 = 100_000;
/// CPU time over wall time × partitions below which parallelism is poor.
const POOR_PARALLELISM: f64 = 0.5;

/// One operator of one query, over the runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorProfile {
    /// The query (plan) it belongs to, from 1, in the order they ran.
    pub query: usize,
    /// Its place in the query's plan, root first (0), depth first.
    pub place: usize,
    /// Depth in the plan (0: the root).
    pub depth: usize,
    /// The operator.
    pub name: String,
    /// Median compute time over the runs.
    pub compute_seconds: f64,
    /// Its share of all operators' compute time.
    pub share: f64,
    /// Rows it produced (first run).
    pub output_rows: Option<u64>,
    /// Rows of its largest partition over its median one's, when partitioned.
    pub skew: Option<f64>,
    /// Bytes it spilled (largest over the runs).
    pub spilled_bytes: u64,
}

/// Several runs of one command, folded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Profile {
    /// The command's name (`features`, `validate`…).
    pub name: String,
    /// The command line.
    pub command: String,
    /// Wall time of each run.
    pub wall_seconds: Vec<f64>,
    /// Median wall time.
    pub median_wall_seconds: f64,
    /// Median CPU time (all threads).
    pub median_cpu_seconds: f64,
    /// Largest peak memory of the process.
    pub peak_rss_bytes: u64,
    /// The engine's partitions (`engine.target_partitions`).
    pub partitions: usize,
    /// Median CPU time over wall time × partitions: 1 keeps every partition busy.
    pub parallel_efficiency: f64,
    /// Median compute time per query, in the order they ran.
    pub queries: Vec<f64>,
    /// Operators, most compute time first.
    pub operators: Vec<OperatorProfile>,
    /// Bottlenecks, most important first; empty when none was found.
    pub findings: Vec<Advice>,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl Profile {
    /// Folds `runs` (records of the same command) into a profile.
    ///
    /// ```
    /// use scorelake::observe::{Profile, RunRecord};
    /// let run = |wall: f64| -> RunRecord {
    ///     serde_json::from_value(serde_json::json!({
    ///         "name": "features", "command": "scorelake features", "engine": "embedded",
    ///         "started": "2026-12-02T10:00:00Z", "ok": true, "wall_seconds": wall,
    ///         "cpu_seconds": 2.0 * wall, "peak_rss_bytes": 1000,
    ///         "config": {"engine.target_partitions": "2"},
    ///         "plans": [[
    ///             {"depth": 0, "name": "SortExec", "partitions": 2, "elapsed_compute_seconds": 3.0, "counters": {}},
    ///             {"depth": 1, "name": "DataSourceExec", "partitions": 2, "elapsed_compute_seconds": 1.0, "counters": {}}
    ///         ]]
    ///     })).unwrap()
    /// };
    /// let profile = Profile::of(&[run(1.0), run(3.0), run(2.0)])?;
    /// assert_eq!(profile.median_wall_seconds, 2.0);
    /// assert_eq!(profile.parallel_efficiency, 1.0);
    /// assert_eq!(profile.operators[0].name, "SortExec");
    /// assert_eq!(profile.operators[0].share, 0.75);
    /// assert!(profile.findings[0].finding.contains("SortExec"));
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn of(runs: &[RunRecord]) -> Result<Profile> {
        let Some(first) = runs.first() else {
            return Err(Error::InvalidInput("no runs to profile".into()));
        };
        if let Some(failed) = runs.iter().find(|r| !r.ok) {
            return Err(Error::InvalidInput(format!(
                "a run failed, so its figures are not the command's: {}",
                failed.error.as_deref().unwrap_or("no error recorded")
            )));
        }
        let partitions = first
            .config
            .get("engine.target_partitions")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        // Operators are matched across runs by their query and place in it.
        let mut operators = Vec::new();
        let mut queries = Vec::new();
        for (q, plan) in first.plans.iter().enumerate() {
            let mut query_time = Vec::new();
            for (i, op) in plan.iter().enumerate() {
                let same = |r: &RunRecord| {
                    r.plans
                        .get(q)
                        .and_then(|p| p.get(i))
                        .filter(|o| o.name == op.name)
                        .cloned()
                };
                let matched: Vec<_> = runs.iter().filter_map(same).collect();
                let compute = median(
                    matched
                        .iter()
                        .filter_map(|o| o.elapsed_compute_seconds)
                        .collect(),
                );
                let spilled = matched
                    .iter()
                    .filter_map(|o| o.counters.get("spilled_bytes").copied())
                    .max()
                    .unwrap_or(0);
                query_time.push(compute);
                operators.push(OperatorProfile {
                    query: q + 1,
                    place: i,
                    depth: op.depth,
                    name: op.name.clone(),
                    compute_seconds: compute,
                    share: 0.0,
                    output_rows: op.output_rows,
                    skew: op.skew(),
                    spilled_bytes: spilled,
                });
            }
            queries.push(query_time.iter().sum());
        }
        let total: f64 = operators.iter().map(|o| o.compute_seconds).sum();
        for o in &mut operators {
            o.share = if total > 0.0 {
                o.compute_seconds / total
            } else {
                0.0
            };
        }
        operators.sort_by(|a, b| b.compute_seconds.total_cmp(&a.compute_seconds));
        let wall: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
        let median_wall = median(wall.clone());
        let median_cpu = median(runs.iter().map(|r| r.cpu_seconds).collect());
        let efficiency = median(
            runs.iter()
                .map(|r| r.cpu_seconds / (r.wall_seconds.max(1e-9) * partitions as f64))
                .collect(),
        );
        let mut profile = Profile {
            name: first.name.clone(),
            command: first.command.clone(),
            wall_seconds: wall,
            median_wall_seconds: median_wall,
            median_cpu_seconds: median_cpu,
            peak_rss_bytes: runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0),
            partitions,
            parallel_efficiency: efficiency.min(1.0),
            queries,
            operators,
            findings: Vec::new(),
        };
        profile.findings = findings(&profile, first);
        Ok(profile)
    }

    /// The profile as Markdown: the figures, the queries and the operators
    /// that took time, then the findings.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("`{}` over {}\n", self.command, self.headline());
        out.push_str("\n| query | compute s |\n|---|---|\n");
        for (q, t) in self.queries.iter().enumerate() {
            let _ = writeln!(out, "| {} | {t:.3} |", q + 1);
        }
        out.push_str("\n| ");
        out.push_str(&OPERATOR_COLUMNS.join(" | "));
        out.push_str(" |\n|---|---|---|---|---|---|---|\n");
        for o in self.shown() {
            let _ = writeln!(out, "| {} |", cells(o).join(" | "));
        }
        out.push('\n');
        out.push_str(&markdown_list(&self.findings, "No bottleneck found."));
        out
    }

    /// The profile as one self-contained HTML page (inline SVG, no scripts
    /// or remote assets): the figures, compute time by operator as bars,
    /// the queries, then the findings.
    pub fn to_html(&self) -> String {
        use crate::html::{esc, page};
        let mut body = format!("<p>{}.</p>\n", esc(&self.headline()));
        body.push_str("<h2>Findings</h2>\n");
        if self.findings.is_empty() {
            body.push_str("<p>No bottleneck found.</p>\n");
        } else {
            body.push_str("<table><tr><th>finding</th><th>figure</th><th>change</th></tr>\n");
            for f in &self.findings {
                let _ = writeln!(
                    body,
                    "<tr class=\"WARN\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&f.finding),
                    esc(&f.figure),
                    esc(&f.change)
                );
            }
            body.push_str("</table>\n");
        }
        let shown = self.shown();
        body.push_str("<h2>Compute time by operator</h2>\n");
        body.push_str(&operator_bars(&shown));
        body.push_str("<table><tr>");
        for c in OPERATOR_COLUMNS {
            let _ = write!(body, "<th>{c}</th>");
        }
        body.push_str("</tr>\n");
        for o in &shown {
            body.push_str("<tr>");
            for c in cells(o) {
                let _ = write!(body, "<td>{}</td>", esc(&c));
            }
            body.push_str("</tr>\n");
        }
        body.push_str(
            "</table>\n<h2>Queries</h2>\n<table><tr><th>query</th><th>compute s</th></tr>\n",
        );
        for (q, t) in self.queries.iter().enumerate() {
            let _ = writeln!(body, "<tr><td>{}</td><td>{t:.3}</td></tr>", q + 1);
        }
        body.push_str("</table>\n");
        page(&format!("Profile: {}", self.command), &body)
    }

    /// The run figures in words: runs, wall and CPU time, peak memory,
    /// parallel efficiency.
    fn headline(&self) -> String {
        let n = self.wall_seconds.len();
        let runs: Vec<String> = self
            .wall_seconds
            .iter()
            .map(|w| format!("{w:.2}"))
            .collect();
        format!(
            "{n} run{}: wall {:.2} s median ({} s), CPU {:.2} s, peak {}, \
             parallel efficiency {:.0}% of {} partitions",
            if n == 1 { "" } else { "s" },
            self.median_wall_seconds,
            runs.join(", "),
            self.median_cpu_seconds,
            human_bytes(self.peak_rss_bytes),
            100.0 * self.parallel_efficiency,
            self.partitions
        )
    }

    /// The operators worth showing: the most compute time first, down to a
    /// share of 1%, at most [`SHOWN_OPERATORS`].
    fn shown(&self) -> Vec<&OperatorProfile> {
        self.operators
            .iter()
            .filter(|o| o.share >= 0.01)
            .take(SHOWN_OPERATORS)
            .collect()
    }
}

/// Operators a report lists.
const SHOWN_OPERATORS: usize = 15;

/// The columns of the operator table, as [`cells`] fills them.
const OPERATOR_COLUMNS: [&str; 7] = [
    "operator",
    "query",
    "compute s",
    "share",
    "rows",
    "skew (max / median rows)",
    "spilled bytes",
];

/// An operator's row of the operator table.
fn cells(o: &OperatorProfile) -> [String; 7] {
    [
        o.name.clone(),
        o.query.to_string(),
        format!("{:.3}", o.compute_seconds),
        format!("{:.1}%", 100.0 * o.share),
        o.output_rows.map(|r| r.to_string()).unwrap_or_default(),
        o.skew.map(|s| format!("{s:.2}")).unwrap_or_default(),
        if o.spilled_bytes > 0 {
            o.spilled_bytes.to_string()
        } else {
            String::new()
        },
    ]
}

/// Compute time per operator as horizontal bars.
fn operator_bars(operators: &[&OperatorProfile]) -> String {
    let (label, width, row) = (220.0, 420.0, 18.0);
    let top = operators
        .iter()
        .map(|o| o.compute_seconds)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut svg = format!(
        "<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"compute time by operator\">",
        label + width + 70.0,
        row * operators.len() as f64 + 4.0
    );
    for (i, o) in operators.iter().enumerate() {
        let y = row * i as f64;
        let w = width * o.compute_seconds / top;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{} (query {})</text>\
             <rect x=\"{label}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#1b9e77\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{:.2} s</text>",
            y + 13.0,
            crate::html::esc(&o.name),
            o.query,
            y + 2.0,
            row - 4.0,
            label + w + 4.0,
            y + 13.0,
            o.compute_seconds
        );
    }
    svg + "</svg>"
}

/// What to change about an operator that takes most of the time.
fn remedy(operator: &str) -> &'static str {
    match operator {
        "SortExec" | "SortPreservingMergeExec" => {
            "if the input is already in this order, let it say so (Parquet sorting_columns, as \
             `scorelake sample` outputs do) and keep engine.use_input_order = true; \
             else give the sort more memory (engine.memory_limit) so it spills less"
        }
        "DataSinkExec" => {
            "writing: a lighter codec level (`--compression zstd:1`), io.parallel_writes = true, \
             fewer output columns"
        }
        "DataSourceExec" => {
            "reading: check the layout with `scorelake partitions advise INPUT`, read fewer \
             columns, filter on sorted or partition columns so files and row groups are skipped"
        }
        "TemporalExec" => {
            "the trailing features themselves: drop windows and features no model uses \
             (rolling_rank and trend_slope cost most)"
        }
        "AggregateExec" => "aggregation: fewer or narrower grouping keys, fewer aggregates",
        "RepartitionExec" => {
            "shuffling: fewer partitions (engine.target_partitions) for data this small, or \
             inputs already partitioned by the key"
        }
        "HashJoinExec" | "SortMergeJoinExec" => {
            "a join: let the small side be broadcast (engine.broadcast_join_threshold)"
        }
        _ => "look at this operator with `scorelake runs show`",
    }
}

/// The bottleneck rules.
fn findings(p: &Profile, first: &RunRecord) -> Vec<Advice> {
    let mut out = Vec::new();
    if let Some(top) = p.operators.first()
        && top.share >= DOMINANT_SHARE
    {
        out.push(Advice {
            finding: format!(
                "{} (query {}) takes most of the compute time",
                top.name, top.query
            ),
            figure: format!(
                "{:.0}% ({:.2} s of {:.2} s)",
                100.0 * top.share,
                top.compute_seconds,
                p.operators.iter().map(|o| o.compute_seconds).sum::<f64>()
            ),
            change: remedy(&top.name).to_string(),
        });
    }
    let spilled: BTreeMap<&str, u64> =
        p.operators
            .iter()
            .filter(|o| o.spilled_bytes > 0)
            .fold(BTreeMap::new(), |mut m, o| {
                *m.entry(o.name.as_str()).or_default() += o.spilled_bytes;
                m
            });
    if !spilled.is_empty() {
        let by: Vec<String> = spilled
            .iter()
            .map(|(o, b)| format!("{o} {b} bytes"))
            .collect();
        let limit = first
            .config
            .get("engine.memory_limit")
            .filter(|v| !v.is_empty())
            .map_or("unset".to_string(), |v| v.clone());
        out.push(Advice {
            finding: "operators spilled to disk".into(),
            figure: by.join(", "),
            change: format!(
                "raise engine.memory_limit (now {limit}), or compress spills \
                 (`--set datafusion.execution.spill_compression=lz4_frame`)"
            ),
        });
    }
    // Skew, once per operator kind and figure: where it starts (a scan of
    // uneven row groups, or a hash partitioning of a hot key) it carries on
    // up the plan, and every query reading the same input shows it again.
    let mut skewed: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for o in &p.operators {
        if let Some(skew) = o.skew
            && skew > SKEWED
            && o.output_rows.is_some_and(|r| r >= SKEW_ROWS)
            && matches!(o.name.as_str(), "DataSourceExec" | "RepartitionExec")
        {
            skewed
                .entry((o.name.clone(), format!("{skew:.2}")))
                .or_default()
                .push(o.query);
        }
    }
    for ((name, skew), mut queries) in skewed {
        queries.sort_unstable();
        queries.dedup();
        let list: Vec<String> = queries.iter().map(usize::to_string).collect();
        let scan = name == "DataSourceExec";
        out.push(Advice {
            finding: format!(
                "{} in query {}",
                if scan {
                    "uneven scan partitions"
                } else {
                    "skewed hash partitions"
                },
                list.join(", ")
            ),
            figure: format!("the largest {name} partition has {skew}× the median's rows"),
            change: if scan {
                "the input's row groups or files differ in size: rewrite it with even row groups \
                 (io.row_group_size) or more files so scan partitions split evenly; \
                 `scorelake partitions advise INPUT` shows them"
                    .into()
            } else {
                "a few keys hold most rows: find them with `scorelake partitions advise INPUT \
                 --key KEY`; salt them for joins on a cluster"
                    .into()
            },
        });
    }
    if p.partitions > 1 && p.median_wall_seconds >= 1.0 && p.parallel_efficiency < POOR_PARALLELISM
    {
        out.push(Advice {
            finding: "low parallel efficiency: cores wait".into(),
            figure: format!(
                "CPU time is {:.0}% of wall time × {} partitions",
                100.0 * p.parallel_efficiency,
                p.partitions
            ),
            change: "a serial step dominates (one input file or row group, a single-file write, \
                     a merge): give inputs more row groups (io.row_group_size) or files, keep \
                     io.parallel_writes = true"
                .into(),
        });
    }
    out.extend(super::scans::scan_findings(first));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::OperatorRecord;

    fn op(name: &str, seconds: f64, rows: &[u64], spilled: u64) -> OperatorRecord {
        OperatorRecord {
            depth: 0,
            name: name.into(),
            partitions: rows.len(),
            output_rows: Some(rows.iter().sum()),
            elapsed_compute_seconds: Some(seconds),
            rows_per_partition: rows.to_vec(),
            counters: BTreeMap::from([("spilled_bytes".to_string(), spilled)]),
        }
    }

    fn record(wall: f64, cpu: f64, plan: Vec<OperatorRecord>) -> RunRecord {
        RunRecord {
            name: "features".into(),
            command: "scorelake features".into(),
            engine: "embedded".into(),
            started: String::new(),
            ok: true,
            error: None,
            wall_seconds: wall,
            cpu_seconds: cpu,
            peak_rss_bytes: 0,
            config: BTreeMap::from([
                ("engine.target_partitions".to_string(), "4".to_string()),
                ("engine.memory_limit".to_string(), "64m".to_string()),
            ]),
            plans: vec![plan],
            cache: Default::default(),
            stages: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    #[test]
    fn medians_shares_and_rules_follow_the_figures() {
        let even = [250_000, 250_000, 250_000, 250_000];
        let hot = [700_000, 100_000, 100_000, 100_000];
        let runs: Vec<RunRecord> = [(2.0, 1.0), (4.0, 3.0), (3.0, 2.0)]
            .into_iter()
            .map(|(wall, sort)| {
                record(
                    wall,
                    wall * 4.0,
                    vec![
                        op("SortExec", sort, &even, 1000),
                        op("RepartitionExec", 1.0, &hot, 0),
                        op("DataSourceExec", 1.0, &even, 0),
                    ],
                )
            })
            .collect();
        let p = Profile::of(&runs).unwrap();
        assert_eq!(p.median_wall_seconds, 3.0);
        assert_eq!(p.median_cpu_seconds, 12.0);
        assert_eq!(p.parallel_efficiency, 1.0);
        assert_eq!(p.queries, vec![4.0]);
        assert_eq!(p.operators[0].name, "SortExec");
        assert_eq!(p.operators[0].compute_seconds, 2.0);
        assert_eq!(p.operators[0].share, 0.5);
        assert_eq!(p.operators[0].spilled_bytes, 1000);
        let repartition = p.operators.iter().find(|o| o.name == "RepartitionExec");
        assert_eq!(repartition.and_then(|o| o.skew), Some(7.0));
        let said: Vec<&str> = p.findings.iter().map(|f| f.finding.as_str()).collect();
        assert_eq!(
            said,
            [
                "SortExec (query 1) takes most of the compute time",
                "operators spilled to disk",
                "skewed hash partitions in query 1",
            ]
        );
        assert!(p.findings[1].change.contains("now 64m"));
        assert!(p.findings[2].figure.contains("7.00×"));

        // One busy core of four, no spill, no skew, no dominant operator.
        let idle = record(
            2.0,
            2.0,
            vec![
                op("SortExec", 1.0, &even, 0),
                op("DataSourceExec", 1.0, &even, 0),
                op("ProjectionExec", 1.0, &even, 0),
            ],
        );
        let p = Profile::of(&[idle]).unwrap();
        let said: Vec<&str> = p.findings.iter().map(|f| f.finding.as_str()).collect();
        assert_eq!(said, ["low parallel efficiency: cores wait"]);
        assert!(p.findings[0].figure.contains("25%"));
    }

    #[test]
    fn a_failed_run_or_none_is_refused() {
        assert!(Profile::of(&[]).is_err());
        let mut failed = record(1.0, 1.0, Vec::new());
        failed.ok = false;
        failed.error = Some("`x.parquet` does not exist".into());
        let err = Profile::of(&[failed]).unwrap_err().to_string();
        assert!(err.contains("x.parquet"), "{err}");
    }
}
