//! Run records: what a command did and what it cost. With
//! `observability.metrics_file` or `metrics_dir` set, a session keeps every
//! physical plan it runs ([`PlanLog`](crate::functions::PlanLog)); when the command ends, [`RunRecord`]
//! reads each operator's metrics from them (rows, compute time, spills,
//! rows per partition) beside the wall and CPU time, the peak memory of the
//! process and the configuration, credentials masked. On a cluster the
//! client's side of each job is kept, and its stages' metrics are asked of
//! the scheduler when the command ends ([`StageRecord`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::{MetricValue, MetricsSet};
use serde::{Deserialize, Serialize};

use crate::cache::CacheStats;
use crate::engine_choice::Engine;
use crate::error::{Error, Result};
use crate::session::Session;

mod cluster;
pub use crate::ledger::TableUse;
pub use cluster::StageRecord;
pub mod mlflow;
mod profile;
mod scans;

pub use profile::{OperatorProfile, Profile};

/// One operator of an executed plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OperatorRecord {
    /// Depth in the plan (0: the root).
    pub depth: usize,
    /// The operator (`TemporalExec`, `AggregateExec`, …).
    pub name: String,
    /// Its output partitions.
    pub partitions: usize,
    /// Rows it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_rows: Option<u64>,
    /// CPU time it spent computing, summed over partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_compute_seconds: Option<f64>,
    /// Rows produced per partition (skew shows here), when more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows_per_partition: Vec<u64>,
    /// Every other counter (spill counts and bytes, pruning, bytes scanned…),
    /// summed over partitions.
    pub counters: BTreeMap<String, u64>,
}

impl OperatorRecord {
    /// Rows of its largest partition over its median one's (the lower
    /// median of an even count), when it has more than one partition.
    ///
    /// ```
    /// let op: scorelake::observe::OperatorRecord = serde_json::from_value(serde_json::json!({
    ///     "depth": 0, "name": "RepartitionExec", "partitions": 2,
    ///     "rows_per_partition": [300, 100], "counters": {}
    /// })).unwrap();
    /// assert_eq!(op.skew(), Some(3.0));
    /// ```
    pub fn skew(&self) -> Option<f64> {
        if self.rows_per_partition.len() < 2 {
            return None;
        }
        let (max, median) = crate::stats::max_and_lower_median(&self.rows_per_partition)?;
        Some(max as f64 / median.max(1) as f64)
    }
}

/// What a command did and what it cost.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The command (`features`, `validate`, …).
    pub name: String,
    /// The command line, credentials masked.
    pub command: String,
    /// The engine and why it was chosen.
    pub engine: String,
    /// Start time (RFC 3339, UTC).
    pub started: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Its error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time.
    pub wall_seconds: f64,
    /// CPU time of the process (user + system), all threads.
    pub cpu_seconds: f64,
    /// Peak resident memory of the process.
    pub peak_rss_bytes: u64,
    /// Every configuration key and value, credentials masked.
    pub config: BTreeMap<String, String>,
    /// The plans run in this process, each as its operators, root first.
    pub plans: Vec<Vec<OperatorRecord>>,
    /// What the session's cache of intermediate results did (`engine.cache`).
    #[serde(default)]
    pub cache: CacheStats,
    /// On a cluster: every job's stages as the scheduler measured them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRecord>,
    /// The tables read: location, format, bytes, Delta version.
    #[serde(default)]
    pub inputs: Vec<TableUse>,
    /// The tables written: location, format, rows, bytes, Delta version.
    #[serde(default)]
    pub outputs: Vec<TableUse>,
}

/// Measures one command from [`Run::start`] to [`Run::finish`].
#[derive(Debug)]
pub struct Run {
    started: Instant,
    at: String,
    cpu: f64,
    /// Plans the session made before the run started (not the run's).
    first_plan: u64,
    /// Tables the session read or wrote before the run started.
    first_table: usize,
}

impl Run {
    /// Starts measuring now, on `session`: only the plans it makes from
    /// now on are the run's.
    pub fn start(session: &Session) -> Run {
        Run {
            started: Instant::now(),
            at: chrono::Utc::now().to_rfc3339(),
            cpu: usage().0,
            first_plan: session.plan_log().map_or(0, |log| log.made()),
            first_table: session.ledger().len(),
        }
    }

    /// The record of the command `name` (its command line `command`) that
    /// ran on `session` (its plans' metrics; on a cluster, its jobs' stages
    /// as the scheduler measured them) and ended with `error` (`None`: it
    /// succeeded).
    pub async fn finish(
        &self,
        session: &Session,
        name: &str,
        command: &str,
        error: Option<String>,
    ) -> RunRecord {
        let config = session.config();
        let (cpu, peak) = usage();
        let wall = self.started.elapsed().as_secs_f64();
        let kept = session
            .plan_log()
            .map(|log| log.since(self.first_plan))
            .unwrap_or_default();
        let plans = kept.iter().map(operators).collect();
        let (inputs, outputs) = session.ledger().since(self.first_table);
        let stages = match &session.engine().engine {
            Engine::Ballista { url } => cluster::stages(url, &kept).await.unwrap_or_else(|why| {
                tracing::warn!("the run record has no stage metrics: {why}");
                Vec::new()
            }),
            Engine::Embedded => Vec::new(),
        };
        RunRecord {
            name: name.to_string(),
            command: config.redact(command),
            engine: session.engine().to_string(),
            started: self.at.clone(),
            ok: error.is_none(),
            error: error.map(|e| config.redact(&e)),
            wall_seconds: wall,
            cpu_seconds: cpu - self.cpu,
            peak_rss_bytes: peak,
            config: config
                .show()
                .into_iter()
                .map(|k| (k.key, k.value))
                .collect(),
            plans,
            cache: session.cache_stats(),
            stages,
            inputs,
            outputs,
        }
    }
}

impl RunRecord {
    /// Writes the record as JSON to `observability.metrics_file` and into
    /// `observability.metrics_dir` (named by start time and command), as
    /// configured for `session`.
    pub fn save(&self, session: &Session) -> Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let o = &session.config().observability;
        if let Some(file) = &o.metrics_file {
            write(Path::new(file), &text)?;
        }
        if let Some(dir) = &o.metrics_dir {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            write(&claim(Path::new(dir), &self.id())?, &text)?;
        }
        Ok(())
    }

    /// The record's id: its start to the millisecond and its command
    /// (`20261202-104323.935-features`), sortable by time.
    pub fn id(&self) -> String {
        let d: String = self.started.chars().filter(char::is_ascii_digit).collect();
        let stamp = match (d.get(..8), d.get(8..14), d.get(14..17)) {
            (Some(day), Some(time), Some(ms)) => format!("{day}-{time}.{ms}"),
            _ => d,
        };
        format!("{stamp}-{}", self.name)
    }
}

/// A file name for the record `id` in `dir` that no other run holds:
/// `id.json`, or `id-<process>-<n>.json` when another run started in the
/// same millisecond. Created empty, exclusively, so two runs cannot take it.
fn claim(dir: &Path, id: &str) -> Result<std::path::PathBuf> {
    let pid = std::process::id();
    for n in 0..1000 {
        let name = match n {
            0 => format!("{id}.json"),
            n => format!("{id}-{pid}-{n}.json"),
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(path.display(), e)),
        }
    }
    Err(Error::InvalidInput(format!(
        "{}: no free name for run {id}",
        dir.display()
    )))
}

/// The run records kept in `dir` (`observability.metrics_dir`), oldest
/// first, each with its id (the file name without `.json`).
pub fn history(dir: &Path) -> Result<Vec<(String, RunRecord)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))?;
    let mut runs = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir.display(), e))?.path();
        let Some(id) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "json") {
            runs.push((id.to_string(), RunRecord::load(&path)?));
        }
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(runs)
}

/// The one run of `runs` (kept in `place`) whose id is or starts with `id`.
pub fn pick(runs: &[(String, RunRecord)], id: &str, place: &str) -> Result<(String, RunRecord)> {
    let matching: Vec<_> = runs.iter().filter(|(run, _)| run.starts_with(id)).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!("no run `{id}` in {place}"))),
        several => Err(Error::InvalidInput(format!(
            "{} runs in {place} start with `{id}`: give more of the id",
            several.len()
        ))),
    }
}

impl RunRecord {
    /// Reads the run record saved at `path`.
    pub fn load(path: &Path) -> Result<RunRecord> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::InvalidInput(format!("{}: not a run record: {e}", path.display())))
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    crate::docfile::write_whole(path, &format!("{text}\n"))
}

/// `plan`'s operators, root first, with their metrics summed over partitions.
fn operators(plan: &Arc<dyn ExecutionPlan>) -> Vec<OperatorRecord> {
    let mut out = Vec::new();
    let mut stack = vec![(0, Arc::clone(plan))];
    while let Some((depth, p)) = stack.pop() {
        out.push(operator_record(
            depth,
            p.name().to_string(),
            p.properties().output_partitioning().partition_count(),
            p.metrics(),
        ));
        for child in p.children().into_iter().rev() {
            stack.push((depth + 1, Arc::clone(child)));
        }
    }
    out
}

/// One operator's record from its metrics (summed over partitions; rows
/// per partition kept where there are several).
fn operator_record(
    depth: usize,
    name: String,
    partitions: usize,
    metrics: Option<MetricsSet>,
) -> OperatorRecord {
    let mut record = OperatorRecord {
        depth,
        name,
        partitions,
        output_rows: None,
        elapsed_compute_seconds: None,
        rows_per_partition: Vec::new(),
        counters: BTreeMap::new(),
    };
    if let Some(metrics) = metrics {
        let mut per_partition: BTreeMap<usize, u64> = BTreeMap::new();
        for m in metrics.iter() {
            match m.value() {
                MetricValue::OutputRows(c) => {
                    *record.output_rows.get_or_insert(0) += c.value() as u64;
                    if let Some(part) = m.partition() {
                        *per_partition.entry(part).or_default() += c.value() as u64;
                    }
                }
                MetricValue::ElapsedCompute(t) => {
                    *record.elapsed_compute_seconds.get_or_insert(0.0) += t.value() as f64 / 1e9;
                }
                MetricValue::Count { name, count } => {
                    *record.counters.entry(name.to_string()).or_default() += count.value() as u64;
                }
                MetricValue::SpillCount(c) => {
                    *record.counters.entry("spill_count".into()).or_default() += c.value() as u64;
                }
                MetricValue::SpilledBytes(c) => {
                    *record.counters.entry("spilled_bytes".into()).or_default() += c.value() as u64;
                }
                MetricValue::SpilledRows(c) => {
                    *record.counters.entry("spilled_rows".into()).or_default() += c.value() as u64;
                }
                MetricValue::PruningMetrics {
                    name,
                    pruning_metrics,
                } => {
                    // Row groups, files or pages skipped and read by statistics.
                    *record.counters.entry(format!("{name}.pruned")).or_default() +=
                        pruning_metrics.pruned() as u64;
                    *record
                        .counters
                        .entry(format!("{name}.matched"))
                        .or_default() += pruning_metrics.matched() as u64;
                }
                _ => {}
            }
        }
        if per_partition.len() > 1 {
            record.rows_per_partition = per_partition.into_values().collect();
        }
    }
    record
}

/// CPU seconds (user + system) and peak resident bytes of this process.
#[cfg(unix)]
fn usage() -> (f64, u64) {
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return (0.0, 0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    // ru_maxrss is in KiB on Linux.
    (
        secs(u.ru_utime) + secs(u.ru_stime),
        u.ru_maxrss.max(0) as u64 * 1024,
    )
}

/// CPU seconds and peak resident bytes: not measured on this platform.
#[cfg(not(unix))]
fn usage() -> (f64, u64) {
    (0.0, 0)
}
