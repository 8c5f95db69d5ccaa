//! The advisor's rules (each finding with its figure and a concrete
//! change) and its report as Markdown.

use std::fmt::Write as _;

use super::{Advice, LayoutAdvice};
use crate::advice::markdown_list;
use crate::console::human_bytes;

/// Files below this share of the target are small.
const SMALL_FILE_SHARE: u64 = 4;
/// Row groups with fewer rows than this make scans slow and footers large.
const SMALL_ROW_GROUP_ROWS: u64 = 65_536;
/// Row groups larger than this (compressed) take much memory to read or write.
const LARGE_ROW_GROUP_BYTES: u64 = 512 << 20;
/// Partitions with fewer median rows than this are too many.
const TINY_PARTITION_ROWS: u64 = 10_000;
/// A largest partition (or hash partition) this many times the median is skew.
const UNEVEN: f64 = 4.0;
/// A largest hash partition this many times the median is skew.
const SKEWED_HASH: f64 = 1.5;

/// What to change about `a`, by the rules above.
pub(super) fn rules(a: &LayoutAdvice) -> Vec<Advice> {
    let mut out = Vec::new();
    let loc = &a.location;
    let f = &a.files;
    if f.count > 1 && f.mean < a.target_file_size / SMALL_FILE_SHARE {
        out.push(Advice {
            finding: "small files: every file costs a request and a footer read".into(),
            figure: format!(
                "{} files, {} on average against a {} target",
                f.count,
                human_bytes(f.mean),
                human_bytes(a.target_file_size)
            ),
            change: if a.delta {
                format!("compact them: `scorelake delta optimize {loc}`")
            } else {
                format!(
                    "rewrite them as fewer files: `scorelake convert {loc} NEW`, and write with fewer partitions"
                )
            },
        });
    }
    if let Some(rg) = &a.row_groups {
        if rg.count > 1 && rg.median_rows < SMALL_ROW_GROUP_ROWS {
            out.push(Advice {
                finding: "small row groups: per-group overhead dominates scans".into(),
                figure: format!("{} row groups of {} rows (median)", rg.count, rg.median_rows),
                change: format!(
                    "rewrite with larger row groups: `scorelake --set io.row_group_size=1048576 convert {loc} NEW`"
                ),
            });
        }
        if rg.median_bytes > LARGE_ROW_GROUP_BYTES {
            out.push(Advice {
                finding: "large row groups: readers and writers hold a whole group in memory".into(),
                figure: format!("{} per row group (median)", human_bytes(rg.median_bytes)),
                change: format!(
                    "rewrite with smaller row groups: `scorelake --set io.row_group_size=262144 convert {loc} NEW`"
                ),
            });
        }
    }
    for p in &a.partition_columns {
        if p.values > 1 && p.rows_median < TINY_PARTITION_ROWS {
            out.push(Advice {
                finding: format!("too many partitions by `{}`", p.column),
                figure: format!("{} partitions of {} rows (median)", p.values, p.rows_median),
                change: format!(
                    "partition by a coarser column, or not at all: `scorelake convert {loc} NEW` (with `--partition-by COARSER`)"
                ),
            });
        } else if p.values > 1 && p.rows_max as f64 > UNEVEN * p.rows_median.max(1) as f64 {
            out.push(Advice {
                finding: format!("uneven partitions by `{}`: one task gets most of the work", p.column),
                figure: format!(
                    "largest partition {} rows, median {}",
                    p.rows_max, p.rows_median
                ),
                change: format!(
                    "partition by a column that splits the data more evenly, or add one (`--partition-by {},OTHER`)",
                    p.column
                ),
            });
        }
    }
    if let Some(k) = &a.key {
        let n = k.hash_partitions.len();
        let hot = k.top.first();
        let one_value_too_many = hot.is_some_and(|h| n > 1 && h.share > 1.0 / n as f64);
        if n > 1 && (k.max_over_median > SKEWED_HASH || one_value_too_many) {
            let hottest = hot
                .map(|h| {
                    format!(
                        "; `{}` alone holds {:.1}% of the rows",
                        h.value,
                        100.0 * h.share
                    )
                })
                .unwrap_or_default();
            out.push(Advice {
                finding: format!(
                    "`{}` is skewed: joins and per-key work on it wait for one partition",
                    k.column
                ),
                figure: format!(
                    "the largest of {n} hash partitions holds {:.2}× the median's rows{hottest}",
                    k.max_over_median
                ),
                change: format!(
                    "on a cluster, salt the hot values of `{}` for joins (`scorelake::salting::salted_join`, Python `Table.join(..., salts=16)`): \
                     a salt (0..S) on the large side's rows, the small side's matching rows repeated once per salt, the join on the key and the salt; \
                     grouping is two-phase already (partial aggregates before the shuffle), so salting does not \
                     help it, nor anything on the embedded engine",
                    k.column
                ),
            });
        }
    }
    out
}

impl LayoutAdvice {
    /// The figures and the advice as Markdown (also readable in a terminal).
    pub fn to_markdown(&self) -> String {
        let f = &self.files;
        let mut out = format!(
            "{}{}: {} rows in {} file{} ({}; smallest {}, mean {}, largest {}; target {})\n",
            self.location,
            if self.delta { " (Delta table)" } else { "" },
            self.rows,
            f.count,
            if f.count == 1 { "" } else { "s" },
            human_bytes(f.bytes),
            human_bytes(f.smallest),
            human_bytes(f.mean),
            human_bytes(f.largest),
            human_bytes(self.target_file_size)
        );
        if let Some(rg) = &self.row_groups {
            let _ = writeln!(
                out,
                "row groups: {} (median {} rows, {})",
                rg.count,
                rg.median_rows,
                human_bytes(rg.median_bytes)
            );
        }
        if !self.partition_columns.is_empty() {
            out.push_str("\n| partition column | values | rows min | rows median | rows max |\n|---|---|---|---|---|\n");
            for p in &self.partition_columns {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    p.column, p.values, p.rows_min, p.rows_median, p.rows_max
                );
            }
        }
        if let Some(k) = &self.key {
            let parts: Vec<String> = k.hash_partitions.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "\nkey `{}`: {} distinct values; rows per hash partition ({}): {} (largest ÷ median {:.2})",
                k.column,
                k.distinct,
                parts.len(),
                parts.join(", "),
                k.max_over_median
            );
            let top: Vec<String> = k
                .top
                .iter()
                .map(|t| format!("`{}` {:.2}%", t.value, 100.0 * t.share))
                .collect();
            let _ = writeln!(out, "most frequent: {}", top.join(", "));
        }
        out.push('\n');
        out.push_str(&markdown_list(&self.advice, "Nothing to change."));
        out
    }
}
