//! Table maintenance: compaction (optionally z-ordered), vacuum, statistics.

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::operations::optimize::OptimizeType;
use serde_json::Value;

use super::TableVersion;
use super::commit_log::Z_ORDER_KEY;
use super::history::{HistoryOptions, history};
use super::open::{check_commits_are_safe, delta_error, load};
use super::write::writer_properties;
use crate::config::ByteSize;
use crate::error::{Error, Remedy, Result, invalid, invalid_err};
use crate::io::location::{IntoLocation, Location};
use crate::session::Session;

/// How [`optimize`] compacts a table.
///
/// ```
/// use scorelake::io::delta::OptimizeOptions;
/// let options = OptimizeOptions::default()
///     .with_z_order(["customer_id", "month"])
///     .with_target_size(256 << 20);
/// assert_eq!(options.z_order, ["customer_id", "month"]);
/// assert_eq!(options.target_size, Some(256 << 20));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptimizeOptions {
    /// Columns to z-order each partition's data by (empty: plain compaction).
    pub z_order: Vec<String>,
    /// Size of the files written, in bytes (`None`: `delta.target_file_size`).
    pub target_size: Option<u64>,
}

impl OptimizeOptions {
    /// Z-orders the data by `columns` (none: plain compaction).
    pub fn with_z_order<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.z_order = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Writes files of `bytes` (`None`: `delta.target_file_size`).
    pub fn with_target_size(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.target_size = bytes.into();
        self
    }
}

/// What [`vacuum`] removes, and whether it only lists.
///
/// The default lists (does not delete) the files older than 7 days, and
/// refuses a retention shorter than the table's.
///
/// ```
/// use std::time::Duration;
/// use scorelake::io::delta::VacuumOptions;
/// let options = VacuumOptions::default()
///     .with_retain(Duration::from_secs(30 * 24 * 3600))
///     .with_dry_run(false);
/// assert!(!options.dry_run && options.enforce_retention);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VacuumOptions {
    /// Keep the files that versions committed within this time still read.
    pub retain: Duration,
    /// Only list the files (the default); `false` deletes them.
    pub dry_run: bool,
    /// Refuse a retention shorter than the table's
    /// `delta.deletedFileRetentionDuration` (the default); `false` allows it.
    pub enforce_retention: bool,
}

impl Default for VacuumOptions {
    fn default() -> Self {
        VacuumOptions {
            retain: Duration::from_secs(7 * 24 * 3600),
            dry_run: true,
            enforce_retention: true,
        }
    }
}

impl VacuumOptions {
    /// Keeps the files that versions committed within `retain` still read.
    pub fn with_retain(mut self, retain: Duration) -> Self {
        self.retain = retain;
        self
    }

    /// Only lists the files (`true`) or deletes them (`false`).
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Refuses (`true`) or allows (`false`) a retention shorter than the table's.
    pub fn with_enforce_retention(mut self, enforce: bool) -> Self {
        self.enforce_retention = enforce;
        self
    }
}

/// What `optimize` did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OptimizeReport {
    /// The version it committed (`None`: nothing to compact, no commit).
    pub version: Option<u64>,
    /// Small files rewritten.
    pub files_removed: u64,
    /// Files written in their place.
    pub files_added: u64,
    /// Bytes of the files rewritten.
    pub bytes_removed: u64,
    /// Bytes of the files written.
    pub bytes_added: u64,
    /// Partitions that had files rewritten.
    pub partitions_optimized: u64,
    /// Columns the data was z-ordered by (empty: plain compaction).
    pub z_order: Vec<String>,
    /// The version that already z-ordered the table by these columns, with
    /// no data changed since: nothing was rewritten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_at: Option<u64>,
}

/// Memory a z-order may use when `engine.memory_limit` is not set: its
/// sorts (one per partition at a time) spill beyond it.
pub const Z_ORDER_MEMORY: u64 = 2 << 30;

/// Compacts small files into files of `delta.target_file_size` (or
/// [`OptimizeOptions::target_size`]); with [`OptimizeOptions::z_order`]
/// columns, rewrites each partition's data in Z-order of those columns so
/// range filters on them skip more files, unless the last change of the
/// table's data was a z-order by the same columns. Without
/// `engine.memory_limit`, a z-order uses at most [`Z_ORDER_MEMORY`] and
/// spills beyond it. Readers of older versions are unaffected; the old
/// files stay until a vacuum.
pub async fn optimize(
    session: &Session,
    table: impl IntoLocation,
    options: &OptimizeOptions,
) -> Result<OptimizeReport> {
    let OptimizeOptions {
        z_order,
        target_size,
    } = options;
    let loc = table.into_location()?;
    let delta = load(session, &loc, None).await?;
    let snapshot = delta.snapshot().map_err(|e| delta_error(&loc, None, &e))?;
    let before = snapshot.version() as u64;
    let schema = snapshot.schema();
    let partitions = snapshot.metadata().partition_columns().to_vec();
    for col in z_order {
        if schema.field(col).is_none() {
            let names: Vec<&str> = schema.fields().map(|f| f.name().as_str()).collect();
            return invalid_err!(
                "cannot z-order `{loc}` by `{col}`: no such column (columns: {})",
                names.join(", ")
            );
        }
        if partitions.contains(col) {
            return invalid_err!(
                "cannot z-order `{loc}` by `{col}`: it is a partition column (z-order by data columns)"
            );
        }
    }
    if !z_order.is_empty()
        && let Some(at) = z_ordered_at(session, &loc, z_order).await?
    {
        return Ok(OptimizeReport {
            version: None,
            files_removed: 0,
            files_added: 0,
            bytes_removed: 0,
            bytes_added: 0,
            partitions_optimized: 0,
            z_order: z_order.clone(),
            already_at: Some(at),
        });
    }
    check_commits_are_safe(session, &loc).await?;
    let here = session.here()?;
    let bounded;
    let here = if !z_order.is_empty() && here.config().engine.memory_limit.is_none() {
        let mut config = here.config().clone();
        config.engine.memory_limit = Some(ByteSize(Z_ORDER_MEMORY));
        bounded = Session::new_embedded(config)?;
        &bounded
    } else {
        &here
    };
    let config = session.config();
    let target = target_size.unwrap_or(config.delta.target_file_size.0);
    let kind = if z_order.is_empty() {
        OptimizeType::Compact
    } else {
        OptimizeType::ZOrder(z_order.to_vec())
    };
    let mut builder = delta
        .optimize()
        .with_type(kind)
        .with_writer_properties(writer_properties(config))
        // delta-rs plans its own scans: in this process.
        .with_session_state(Arc::new(here.ctx().state()))
        .with_commit_properties(
            CommitProperties::default()
                .with_max_retries(config.delta.commit_retries)
                .with_metadata((!z_order.is_empty()).then(|| {
                    (
                        Z_ORDER_KEY.to_string(),
                        serde_json::json!(z_order_text(z_order)),
                    )
                })),
        );
    if let Some(t) = NonZeroU64::new(target) {
        builder = builder.with_target_size(t);
    }
    let (after, metrics) = builder
        .await
        .map_err(|e| delta_error(&loc, Some(before), &e))?;
    let version = after.version().filter(|v| *v > before);
    Ok(OptimizeReport {
        version,
        files_removed: metrics.num_files_removed,
        files_added: metrics.num_files_added,
        bytes_removed: metrics.files_removed.total_size.max(0) as u64,
        bytes_added: metrics.files_added.total_size.max(0) as u64,
        partitions_optimized: metrics.partitions_optimized,
        z_order: z_order.clone(),
        already_at: None,
    })
}

/// `columns` as the commit records them: a JSON list.
fn z_order_text(columns: &[String]) -> String {
    serde_json::to_string(columns).unwrap_or_default()
}

/// The version that z-ordered `loc` by `columns`, when no commit since
/// changed its data (added or removed files).
async fn z_ordered_at(
    session: &Session,
    loc: &Location,
    columns: &[String],
) -> Result<Option<u64>> {
    let commits = history(session, loc.clone(), &HistoryOptions::default()).await?;
    let last_change = commits
        .iter()
        .find(|c| c.files_added > 0 || c.files_removed > 0);
    Ok(last_change
        .filter(|c| {
            c.operation == "OPTIMIZE"
                && c.parameters.get(Z_ORDER_KEY) == Some(&z_order_text(columns))
        })
        .map(|c| c.version))
}

/// What `vacuum` found or removed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VacuumReport {
    /// Whether files were only listed (the default) or deleted.
    pub dry_run: bool,
    /// Data files no version younger than the retention needs, relative to the table.
    pub files: Vec<String>,
    /// The retention applied.
    pub retain_hours: f64,
}

/// Lists ([`VacuumOptions::dry_run`], the default) or deletes the data
/// files that no version committed within [`VacuumOptions::retain`] still
/// reads. Time travel to versions older than the retention stops working
/// once they are gone. A retention shorter than the table's
/// `delta.deletedFileRetentionDuration` (7 days by default) is refused
/// unless [`VacuumOptions::enforce_retention`] is off.
pub async fn vacuum(
    session: &Session,
    table: impl IntoLocation,
    options: &VacuumOptions,
) -> Result<VacuumReport> {
    let VacuumOptions {
        retain,
        dry_run,
        enforce_retention,
    } = *options;
    let loc = table.into_location()?;
    let delta = load(session, &loc, None).await?;
    let version = delta.version();
    if !dry_run {
        check_commits_are_safe(session, &loc).await?;
    }
    let retention = chrono::Duration::from_std(retain)
        .map_err(|_| invalid!("retention {retain:?} is too long"))?;
    let (_, metrics) = delta
        .vacuum()
        .with_retention_period(retention)
        .with_dry_run(dry_run)
        .with_enforce_retention_duration(enforce_retention)
        .await
        .map_err(|e| {
            let text = e.to_string();
            if text.contains("retention") && enforce_retention {
                Error::Delta {
                    table: loc.to_string(),
                    version,
                    reason: format!("{text} (vacuuming with a shorter retention needs enforce_retention off; time travel to older versions then fails)"),
                }
                .refused(Remedy::ShortRetention)
            } else {
                delta_error(&loc, version, &e)
            }
        })?;
    let root = loc.as_dir().url().to_string();
    let root_path = loc.object_path().to_string();
    let mut files: Vec<String> = metrics
        .files_deleted
        .iter()
        .map(|f| {
            let f = f.strip_prefix(&root).unwrap_or(f);
            let f = f.strip_prefix(&root_path).unwrap_or(f);
            f.trim_start_matches('/').to_string()
        })
        .collect();
    files.sort();
    Ok(VacuumReport {
        dry_run,
        files,
        retain_hours: retain.as_secs_f64() / 3600.0,
    })
}

/// A column's statistics over the table's files.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ColumnStats {
    /// Column name.
    pub name: String,
    /// Delta type.
    pub data_type: String,
    /// Whether it is a partition column.
    pub partition: bool,
    /// Nulls, as the files' statistics count them (rows a deletion vector
    /// removed included; `None` when a file has no statistics for it).
    pub nulls: Option<u64>,
    /// Smallest value, as JSON text (`None` when unknown).
    pub min: Option<String>,
    /// Largest value, as JSON text (`None` when unknown).
    pub max: Option<String>,
}

/// A table's size and shape at a version.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TableStats {
    /// The table as given.
    pub table: String,
    /// Version described.
    pub version: u64,
    /// Data files.
    pub files: u64,
    /// Rows, less those deletion vectors mark deleted (`None` when a file
    /// has no statistics).
    pub rows: Option<u64>,
    /// Bytes of the data files.
    pub bytes: u64,
    /// Smallest and largest file, in bytes.
    pub file_bytes_min: u64,
    /// Largest file, in bytes.
    pub file_bytes_max: u64,
    /// Partition columns.
    pub partition_columns: Vec<String>,
    /// Distinct partitions.
    pub partitions: u64,
    /// Per column: nulls, min, max from the files' statistics.
    pub columns: Vec<ColumnStats>,
    /// Table properties (`delta.*` settings).
    pub properties: BTreeMap<String, String>,
}

/// Statistics of the table at `at` (default: newest), from its log alone
/// (file sizes and the per-file statistics of each add action).
pub async fn stats(
    session: &Session,
    table: impl IntoLocation,
    at: Option<TableVersion>,
) -> Result<TableStats> {
    let loc = table.into_location()?;
    let delta = load(session, &loc, at).await?;
    let snapshot = delta.snapshot().map_err(|e| delta_error(&loc, None, &e))?;
    let version = snapshot.version() as u64;
    let schema = snapshot.schema();
    let partition_columns = snapshot.metadata().partition_columns().to_vec();
    let mut columns: Vec<ColumnStats> = schema
        .fields()
        .map(|f| ColumnStats {
            name: f.name().to_string(),
            data_type: f.data_type().to_string(),
            partition: partition_columns.contains(f.name()),
            nulls: Some(0),
            min: None,
            max: None,
        })
        .collect();
    let mut bounds: Vec<(Option<Value>, Option<Value>, bool)> =
        vec![(None, None, true); columns.len()];
    let (mut files, mut rows, mut bytes) = (0u64, Some(0u64), 0u64);
    let (mut smallest, mut largest) = (u64::MAX, 0u64);
    let mut partitions = std::collections::HashSet::new();
    for file in snapshot.log_data().iter() {
        files += 1;
        let size = file.size().max(0) as u64;
        bytes += size;
        smallest = smallest.min(size);
        largest = largest.max(size);
        let values = file.partition_values_map();
        let key: Vec<Option<String>> = partition_columns
            .iter()
            .map(|c| values.get(c).cloned().flatten())
            .collect();
        let stats: Option<Value> = file.stats().and_then(|s| serde_json::from_str(&s).ok());
        let n = stats
            .as_ref()
            .and_then(|s| s.get("numRecords"))
            .and_then(Value::as_u64);
        // Rows a deletion vector marks deleted are no longer in the table.
        let deleted = file
            .deletion_vector_descriptor()
            .map_or(0, |dv| dv.cardinality.max(0) as u64);
        rows = rows.zip(n).map(|(a, b)| a + b.saturating_sub(deleted));
        for (col, bound) in columns.iter_mut().zip(bounds.iter_mut()) {
            if col.partition {
                let v = values.get(&col.name).cloned().flatten();
                if v.is_none() {
                    col.nulls = col.nulls.zip(n).map(|(a, b)| a + b);
                }
                merge_bound(bound, v.map(Value::String));
                continue;
            }
            let get = |part: &str| {
                stats
                    .as_ref()
                    .and_then(|s| s.get(part))
                    .and_then(|m| m.get(&col.name))
            };
            let nulls = get("nullCount").and_then(Value::as_u64);
            col.nulls = col.nulls.zip(nulls).map(|(a, b)| a + b);
            let all_null = nulls.is_some() && nulls == n;
            if !all_null {
                match (get("minValues"), get("maxValues")) {
                    (Some(lo), Some(hi)) => {
                        merge_bound(bound, Some(lo.clone()));
                        let (_, max, _) = bound;
                        if max.as_ref().is_none_or(|m| compare(hi, m).is_gt()) {
                            *max = Some(hi.clone());
                        }
                    }
                    _ => bound.2 = false,
                }
            }
        }
        partitions.insert(key);
    }
    for (col, (min, max, known)) in columns.iter_mut().zip(bounds) {
        if known {
            col.min = min.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
            col.max = max.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        }
    }
    let properties = snapshot
        .metadata()
        .configuration()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(TableStats {
        table: loc.to_string(),
        version,
        files,
        rows,
        bytes,
        file_bytes_min: if files == 0 { 0 } else { smallest },
        file_bytes_max: largest,
        partition_columns,
        partitions: if files == 0 {
            0
        } else {
            partitions.len() as u64
        },
        columns,
        properties,
    })
}

impl TableStats {
    /// A readable summary and a Markdown table of the columns.
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let known = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |n| n.to_string());
        let mut out = format!(
            "{} at version {}: {} rows in {} files, {} bytes (files {}–{} bytes)",
            self.table,
            self.version,
            known(self.rows),
            self.files,
            self.bytes,
            self.file_bytes_min,
            self.file_bytes_max
        );
        if !self.partition_columns.is_empty() {
            let _ = write!(
                out,
                ", {} partitions by {}",
                self.partitions,
                self.partition_columns.join(", ")
            );
        }
        out.push_str("\n\n| column | type | nulls | min | max |\n|---|---|---|---|---|\n");
        for c in &self.columns {
            let name = if c.partition {
                format!("{} (partition)", c.name)
            } else {
                c.name.clone()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                c.data_type,
                known(c.nulls),
                c.min.as_deref().unwrap_or("?"),
                c.max.as_deref().unwrap_or("?")
            );
        }
        for (k, v) in &self.properties {
            let _ = writeln!(out, "{k} = {v}");
        }
        out
    }
}

/// Widens a (min, max) pair by `value` (a partition value, or a file's min).
fn merge_bound(bound: &mut (Option<Value>, Option<Value>, bool), value: Option<Value>) {
    let Some(v) = value else { return };
    let (min, max, _) = bound;
    if min.as_ref().is_none_or(|m| compare(&v, m).is_lt()) {
        *min = Some(v.clone());
    }
    if max.as_ref().is_none_or(|m| compare(&v, m).is_gt()) {
        *max = Some(v);
    }
}

/// Orders statistics values: numbers numerically, text (also dates and
/// times in their ISO forms) lexically.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_widen_numerically_and_lexically() {
        let mut b = (None, None, true);
        for v in [json!(10), json!(9.5), json!(100)] {
            merge_bound(&mut b, Some(v));
        }
        assert_eq!((b.0, b.1), (Some(json!(9.5)), Some(json!(100))));
        let mut d = (None, None, true);
        for v in ["2026-02-01", "2025-12-01", "2026-01-01"] {
            merge_bound(&mut d, Some(json!(v)));
        }
        assert_eq!(
            (d.0, d.1),
            (Some(json!("2025-12-01")), Some(json!("2026-02-01")))
        );
    }
}
