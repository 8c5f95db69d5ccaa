//! Bottleneck rules about how scans read their files, from one run's plans:
//! a filter that keeps few rows while the scan skipped almost nothing
//! (the filtered columns are spread over every row group and page), and
//! many small files.

use crate::advice::Advice;

use super::{OperatorRecord, RunRecord};

/// A filter keeping less than this share of the rows it reads is selective.
const SELECTIVE: f64 = 0.5;
/// A scan that skipped less than this share of its rows by statistics
/// pruned poorly.
const POOR_PRUNING: f64 = 0.1;
/// Scans of fewer rows are not worth a finding.
const SCAN_ROWS: u64 = 100_000;
/// At least this many files read, at less than [`SMALL_FILE`] bytes each,
/// are many small files.
const MANY_FILES: u64 = 16;
const SMALL_FILE: u64 = 4 << 20;

/// The findings about the scans of `run`'s plans.
pub(super) fn scan_findings(run: &RunRecord) -> Vec<Advice> {
    let mut out = Vec::new();
    for (query, plan) in run.plans.iter().enumerate() {
        for (i, scan) in plan.iter().enumerate() {
            if scan.name != "DataSourceExec" {
                continue;
            }
            if let Some(a) = poor_pruning(query + 1, plan, i, scan) {
                out.push(a);
            }
            if let Some(a) = small_files(query + 1, scan) {
                out.push(a);
            }
        }
    }
    out
}

/// Rows the scan read and skipped by statistics, at the finest level it
/// has (pages, else row groups' rows are unknown: none).
fn read_and_skipped(scan: &OperatorRecord) -> Option<(u64, u64)> {
    let c = &scan.counters;
    let read = *c.get("page_index_rows_pruned.matched")?;
    let skipped = *c.get("page_index_rows_pruned.pruned")?;
    Some((read, skipped))
}

/// The nearest filter above the scan at `at` in `plan` (operators root
/// first, each with its depth).
fn filter_above(plan: &[OperatorRecord], at: usize) -> Option<&OperatorRecord> {
    let mut depth = plan[at].depth;
    for o in plan[..at].iter().rev() {
        if o.depth < depth {
            if o.name == "FilterExec" {
                return Some(o);
            }
            depth = o.depth;
        }
    }
    None
}

fn poor_pruning(
    query: usize,
    plan: &[OperatorRecord],
    at: usize,
    scan: &OperatorRecord,
) -> Option<Advice> {
    let scanned = scan.output_rows?;
    let kept = filter_above(plan, at)?.output_rows?;
    let (read, skipped) = read_and_skipped(scan)?;
    let total = read + skipped;
    if scanned < SCAN_ROWS || total == 0 {
        return None;
    }
    let keeps = kept as f64 / scanned as f64;
    let skips = skipped as f64 / total as f64;
    if keeps >= SELECTIVE || skips >= POOR_PRUNING {
        return None;
    }
    let groups = &scan.counters;
    let rg = |k: &str| {
        groups
            .get(&format!("row_groups_pruned_statistics.{k}"))
            .copied()
    };
    let row_groups = match (rg("matched"), rg("pruned")) {
        (Some(m), Some(p)) => format!(", {m} of {} row groups read", m + p),
        _ => String::new(),
    };
    Some(Advice {
        finding: format!("poor scan pruning in query {query}"),
        figure: format!(
            "the filter keeps {:.1}% of the rows but the scan skipped {:.1}% of them by statistics{row_groups}",
            100.0 * keeps,
            100.0 * skips
        ),
        change: "the filtered columns' values are spread over every row group and page: \
                 store the data sorted or clustered by them (`scorelake delta optimize TABLE \
                 --z-order COL`, or sort before writing), partition by a low-cardinality one \
                 (`--partition-by COL`), or write smaller row groups (io.row_group_size) so \
                 statistics can skip"
            .into(),
    })
}

fn small_files(query: usize, scan: &OperatorRecord) -> Option<Advice> {
    let files = *scan.counters.get("files_opened")?;
    let bytes = *scan.counters.get("bytes_scanned")?;
    if files < MANY_FILES || bytes / files.max(1) >= SMALL_FILE {
        return None;
    }
    Some(Advice {
        finding: format!("many small files in query {query}"),
        figure: format!(
            "{files} files read, {} each on average",
            crate::console::human_bytes(bytes / files.max(1))
        ),
        change: "each file costs an open and a footer read: compact them (`scorelake delta \
                 optimize TABLE` for Delta, or `scorelake convert INPUT OUTPUT` into fewer \
                 files); `scorelake partitions advise INPUT` shows the layout"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn op(depth: usize, name: &str, rows: u64, counters: &[(&str, u64)]) -> OperatorRecord {
        OperatorRecord {
            depth,
            name: name.into(),
            partitions: 2,
            output_rows: Some(rows),
            elapsed_compute_seconds: Some(0.1),
            rows_per_partition: Vec::new(),
            counters: counters.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn run(plan: Vec<OperatorRecord>) -> RunRecord {
        RunRecord {
            name: "sql".into(),
            command: "scorelake sql".into(),
            engine: "embedded".into(),
            started: String::new(),
            ok: true,
            error: None,
            wall_seconds: 1.0,
            cpu_seconds: 1.0,
            peak_rss_bytes: 0,
            config: BTreeMap::new(),
            plans: vec![plan],
            cache: Default::default(),
            stages: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    fn plan(kept: u64, read: u64, skipped: u64, files: u64, bytes: u64) -> Vec<OperatorRecord> {
        vec![
            op(0, "AggregateExec", 1, &[]),
            op(1, "FilterExec", kept, &[]),
            op(2, "CoalesceBatchesExec", kept, &[]),
            op(
                3,
                "DataSourceExec",
                read,
                &[
                    ("page_index_rows_pruned.matched", read),
                    ("page_index_rows_pruned.pruned", skipped),
                    ("row_groups_pruned_statistics.matched", 4),
                    ("row_groups_pruned_statistics.pruned", 0),
                    ("files_opened", files),
                    ("bytes_scanned", bytes),
                ],
            ),
        ]
    }

    #[test]
    fn a_selective_filter_over_an_unpruned_scan_is_found() {
        // 4% of 500k rows kept; nothing skipped: found, with its figures.
        let found = scan_findings(&run(plan(20_000, 500_000, 0, 2, 50 << 20)));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].finding, "poor scan pruning in query 1");
        assert!(found[0].figure.contains("keeps 4.0%") && found[0].figure.contains("skipped 0.0%"));
        assert!(
            found[0].figure.contains("4 of 4 row groups"),
            "{}",
            found[0].figure
        );
        // Statistics skipped most rows, the filter keeps most, or the scan
        // is small: nothing to say.
        for quiet in [
            plan(20_000, 50_000, 450_000, 2, 50 << 20),
            plan(400_000, 500_000, 0, 2, 50 << 20),
            plan(2_000, 50_000, 0, 2, 50 << 20),
        ] {
            assert!(scan_findings(&run(quiet)).is_empty());
        }
    }

    #[test]
    fn many_small_files_are_found() {
        let found = scan_findings(&run(plan(400_000, 500_000, 0, 40, 40 << 20)));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].finding, "many small files in query 1");
        assert!(
            found[0].figure.starts_with("40 files read, 1.0 MB"),
            "{}",
            found[0].figure
        );
        assert!(scan_findings(&run(plan(400_000, 500_000, 0, 40, 400 << 20))).is_empty());
        assert!(scan_findings(&run(plan(400_000, 500_000, 0, 8, 8 << 20))).is_empty());
    }
}
