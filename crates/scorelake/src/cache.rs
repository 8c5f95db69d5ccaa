//! Cached intermediate results: a plan computed once, then read by later
//! queries from memory or from Arrow IPC files in the spill folder.
//!
//! Entries are found by the plan's fingerprint: its text and the identity of
//! every table it scans, so two reads of the same file are two entries and
//! a cached result is only ever served for the very plan that made it.
//! Memory held by entries is reserved in the engine's memory pool (it shows
//! in the pool's figures and out-of-memory messages, and operators get less
//! of the limit while it is held) and is bounded by `engine.cache_memory`.
//! Use it through the [`Session`](crate::session::Session):
//!
//! ```
//! use scorelake::{config::{CacheLevel, Config}, session::Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let session = Session::new(Config::default())?;
//! let df = session.ctx().sql("SELECT 1 AS one").await?;
//! // Computed once by the second use; read from memory from then on.
//! let first = session.cache_if_reused(df.clone(), "one", 2).await?;
//! let second = session.cache_if_reused(df.clone(), "one", 2).await?;
//! let third = session.cache_if_reused(df, "one", 2).await?;
//! assert_eq!(third.count().await?, 1);
//! let stats = session.cache_stats();
//! assert_eq!((stats.hits, stats.misses), (1, 2));
//! assert_eq!(stats.entries[0].level, CacheLevel::Memory.as_str());
//! session.unpersist("one");
//! assert_eq!(session.cache_stats().entries[0].note.as_deref(), Some("unpersisted"));
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Column;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::SpillFile;
use datafusion::execution::disk_manager::DiskManager;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::execute_stream_partitioned;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::config::CacheLevel;
use crate::error::{Error, Result};

/// The cache of one session: entries by plan fingerprint.
#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<HashMap<u64, Entry>>,
    /// Bytes the entries hold in memory, against `engine.cache_memory`.
    in_memory: Arc<AtomicUsize>,
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// What unpersisted entries did, for the run record.
    released: Mutex<Vec<CacheEntryStats>>,
}

/// What the cache knows of one plan.
struct Entry {
    name: String,
    /// Keeps the plan's tables alive, so their addresses in the fingerprint
    /// cannot be taken by other tables while the entry exists.
    _plan: LogicalPlan,
    uses: u64,
    hits: u64,
    state: State,
}

enum State {
    /// Not computed yet (fewer uses than asked for).
    Waiting,
    Stored(Box<Stored>),
    /// Not cached, and why (it is not tried again).
    Refused(String),
}

/// A computed result: batches in memory and Arrow IPC files on disk.
struct Stored {
    table: DataFrame,
    rows: u64,
    memory_bytes: usize,
    disk_bytes: u64,
    /// Held for as long as the entry lives; dropping it gives the memory back.
    _reservation: MemoryReservation,
    /// Deleted when the entry is dropped.
    _files: Vec<Arc<dyn SpillFile>>,
    budget: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.memory_bytes, Ordering::Relaxed);
    }
}

/// What the cache did, as run records show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Uses answered from the cache.
    pub hits: u64,
    /// Uses that computed the plan (including the one that filled an entry).
    pub misses: u64,
    /// Every plan the cache was asked about, in no particular order.
    pub entries: Vec<CacheEntryStats>,
}

/// One cached (or not cached) plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheEntryStats {
    /// The name it was cached under.
    pub name: String,
    /// Where it is: `memory`, `memory-and-disk`, `disk`, or `off` when not stored.
    pub level: String,
    /// How often it was asked for.
    pub uses: u64,
    /// How often it was answered from the cache.
    pub hits: u64,
    /// Rows stored.
    pub rows: u64,
    /// Bytes held in memory (reserved in the engine's pool).
    pub memory_bytes: u64,
    /// Bytes written to Arrow IPC files in the spill folder.
    pub disk_bytes: u64,
    /// Why it is not stored, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How a plan may be cached.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) level: CacheLevel,
    /// Computed at this use (1 = at once).
    pub(crate) min_reuses: u64,
    /// Most bytes all entries may hold in memory.
    pub(crate) memory: usize,
}

impl Cache {
    /// `df` itself, or its cached result: a use of `df`'s plan is counted,
    /// and at the `policy.min_reuses`-th use the plan is computed and stored.
    pub(crate) async fn use_plan(
        &self,
        ctx: &SessionContext,
        df: DataFrame,
        name: &str,
        policy: Policy,
    ) -> Result<DataFrame> {
        let key = fingerprint(df.logical_plan());
        {
            let mut entries = self.lock();
            let entry = entries.entry(key).or_insert_with(|| Entry {
                name: name.to_string(),
                _plan: df.logical_plan().clone(),
                uses: 0,
                hits: 0,
                state: State::Waiting,
            });
            entry.uses += 1;
            match &entry.state {
                State::Stored(s) => {
                    entry.hits += 1;
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(s.table.clone());
                }
                State::Refused(_) => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok(df);
                }
                State::Waiting if policy.level == CacheLevel::Off => {
                    entry.state = State::Refused("engine.cache = off".into());
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok(df);
                }
                State::Waiting if entry.uses < policy.min_reuses => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok(df);
                }
                State::Waiting => {}
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let stored = store(ctx, df.clone(), name, policy, &self.in_memory).await?;
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(&key) else {
            // Unpersisted while it was computed: nothing to keep.
            return Ok(df);
        };
        Ok(match stored {
            Ok(s) => {
                let table = s.table.clone();
                entry.state = State::Stored(Box::new(s));
                table
            }
            Err(why) => {
                entry.state = State::Refused(why);
                df
            }
        })
    }

    /// Drops the entries cached under `name`: their memory goes back to the
    /// pool and their files are deleted (what they did stays in the
    /// statistics, noted `unpersisted`). False when there was none.
    pub(crate) fn unpersist(&self, name: &str) -> bool {
        let mut entries = self.lock();
        let gone: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.name == name)
            .map(|(k, _)| *k)
            .collect();
        let mut released = self.released.lock().unwrap_or_else(|e| e.into_inner());
        for key in &gone {
            if let Some(e) = entries.remove(key) {
                let mut stats = e.stats();
                stats.note = Some(match stats.note.take() {
                    Some(n) => format!("unpersisted; {n}"),
                    None => "unpersisted".into(),
                });
                released.push(stats);
            }
        }
        !gone.is_empty()
    }

    /// What the cache did so far.
    pub(crate) fn stats(&self) -> CacheStats {
        let entries = self.lock();
        let mut list: Vec<CacheEntryStats> = entries.values().map(Entry::stats).collect();
        list.extend(
            self.released
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        list.sort_by(|a, b| a.name.cmp(&b.name));
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed) as u64,
            misses: self.misses.load(Ordering::Relaxed) as u64,
            entries: list,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Entry {
    fn stats(&self) -> CacheEntryStats {
        let mut s = CacheEntryStats {
            name: self.name.clone(),
            level: CacheLevel::Off.as_str().into(),
            uses: self.uses,
            hits: self.hits,
            rows: 0,
            memory_bytes: 0,
            disk_bytes: 0,
            note: None,
        };
        match &self.state {
            State::Waiting => s.note = Some("not reused enough yet".into()),
            State::Refused(why) => s.note = Some(why.clone()),
            State::Stored(t) => {
                s.level = match (t.memory_bytes > 0 || t.disk_bytes == 0, t.disk_bytes > 0) {
                    (true, false) => CacheLevel::Memory,
                    (true, true) => CacheLevel::MemoryAndDisk,
                    (false, _) => CacheLevel::Disk,
                }
                .as_str()
                .into();
                s.rows = t.rows;
                s.memory_bytes = t.memory_bytes as u64;
                s.disk_bytes = t.disk_bytes;
            }
        }
        s
    }
}

/// A fingerprint of `plan`: its text with schemas, and the address of every
/// table it scans (subqueries included).
fn fingerprint(plan: &LogicalPlan) -> u64 {
    let mut h = DefaultHasher::new();
    plan.display_indent_schema().to_string().hash(&mut h);
    // The closure never fails.
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            (Arc::as_ptr(&scan.source) as *const () as usize).hash(&mut h);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    h.finish()
}

/// Computes `df` and stores it as `policy` allows; `Err(why)` inside when it
/// is not stored (then nothing is held).
async fn store(
    ctx: &SessionContext,
    df: DataFrame,
    name: &str,
    policy: Policy,
    in_memory: &Arc<AtomicUsize>,
) -> Result<std::result::Result<Stored, String>> {
    let runtime = ctx.runtime_env();
    let reservation =
        Arc::new(MemoryConsumer::new(format!("cache {name}")).register(&runtime.memory_pool));
    let names = df.schema().clone();
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let streams = execute_stream_partitioned(plan, ctx.task_ctx())?;
    let place = Placement {
        name: name.to_string(),
        policy,
        schema: Arc::clone(&schema),
        disk: Arc::clone(&runtime.disk_manager),
        reservation: Arc::clone(&reservation),
        in_memory: Arc::clone(in_memory),
    };
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(place.clone().partition(s)))
        .collect();
    drop(place);
    let mut parts = Vec::with_capacity(tasks.len());
    let mut failed = None;
    let mut too_big = false;
    for task in tasks {
        match task.await {
            Ok(Ok(Some(p))) => parts.push(p),
            Ok(Ok(None)) => too_big = true,
            Ok(Err(e)) => failed = failed.or(Some(e)),
            Err(e) => failed = failed.or(Some(Error::InvalidInput(format!("cache {name}: {e}")))),
        }
    }
    let memory_bytes = parts.iter().map(|p| p.memory_bytes).sum::<usize>();
    let release = |memory_bytes: usize| {
        in_memory.fetch_sub(memory_bytes, Ordering::Relaxed);
    };
    if let Some(e) = failed {
        release(memory_bytes);
        return Err(e);
    }
    if too_big {
        release(memory_bytes);
        return Ok(Err(format!(
            "does not fit in memory (engine.cache_memory {} and the engine's pool); engine.cache = memory-and-disk keeps the rest on disk",
            crate::console::human_bytes(policy.memory as u64)
        )));
    }
    let rows = parts.iter().map(|p| p.rows).sum();
    let disk_bytes = parts.iter().map(|p| p.disk_bytes).sum();
    let files: Vec<Arc<dyn SpillFile>> = parts.iter().filter_map(|p| p.file.clone()).collect();
    let memory: Vec<Vec<RecordBatch>> = parts.into_iter().map(|p| p.batches).collect();
    let table = match table(ctx, schema, memory, &files).await {
        Ok(t) => {
            let columns: Vec<Expr> = names
                .iter()
                .enumerate()
                .map(|(i, (q, f))| {
                    Expr::Column(Column::from(t.schema().qualified_field(i)))
                        .alias_qualified(q.cloned(), f.name())
                })
                .collect();
            t.select(columns)
        }
        Err(e) => Err(e),
    };
    let table = match table {
        Ok(t) => t,
        Err(e) => {
            // Plans whose columns cannot be a table's (repeated names).
            release(memory_bytes);
            return Ok(Err(format!("cannot be kept as a table: {e}")));
        }
    };
    let reservation = Arc::try_unwrap(reservation).unwrap_or_else(|r| r.split(r.size()));
    Ok(Ok(Stored {
        table,
        rows,
        memory_bytes,
        disk_bytes,
        _reservation: reservation,
        _files: files,
        budget: Arc::clone(in_memory),
    }))
}

/// The stored result as a table: the batches kept in memory, and the files
/// written, one scan each.
async fn table(
    ctx: &SessionContext,
    schema: SchemaRef,
    memory: Vec<Vec<RecordBatch>>,
    files: &[Arc<dyn SpillFile>],
) -> datafusion::error::Result<DataFrame> {
    let in_memory = ctx.read_table(Arc::new(MemTable::try_new(Arc::clone(&schema), memory)?))?;
    let paths: Vec<String> = files
        .iter()
        .filter_map(|f| f.path().map(|p| p.display().to_string()))
        .collect();
    if paths.is_empty() {
        return Ok(in_memory);
    }
    let options = ArrowReadOptions {
        schema: Some(&schema),
        file_extension: "",
        ..ArrowReadOptions::default()
    };
    let on_disk = ctx.read_arrow(paths, options).await?;
    in_memory.union(on_disk)
}

/// Where one partition's batches go.
#[derive(Clone)]
struct Placement {
    name: String,
    policy: Policy,
    schema: SchemaRef,
    disk: Arc<DiskManager>,
    reservation: Arc<MemoryReservation>,
    in_memory: Arc<AtomicUsize>,
}

/// One partition, stored.
#[derive(Default)]
struct Part {
    batches: Vec<RecordBatch>,
    memory_bytes: usize,
    rows: u64,
    file: Option<Arc<dyn SpillFile>>,
    disk_bytes: u64,
}

impl Placement {
    /// Keeps the stream's batches in memory while the budget and the pool
    /// allow, then (memory-and-disk) writes the rest to one IPC file.
    /// None when memory alone was allowed and it did not fit (then the
    /// partition holds nothing).
    async fn partition(self, mut stream: SendableRecordBatchStream) -> Result<Option<Part>> {
        let mut part = Part::default();
        let mut writer: Option<FileWriter<Box<dyn datafusion::execution::SpillWriter>>> = None;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            part.rows += batch.num_rows() as u64;
            if writer.is_none() && self.keep_in_memory(batch.get_array_memory_size()) {
                part.memory_bytes += batch.get_array_memory_size();
                part.batches.push(batch);
                continue;
            }
            if self.policy.level == CacheLevel::Memory {
                self.give_back(part.memory_bytes);
                return Ok(None);
            }
            let w = match &mut writer {
                Some(w) => w,
                None => {
                    let file = self.disk.create_tmp_file(&format!("cache {}", self.name))?;
                    let w = FileWriter::try_new(file.open_writer()?, &self.schema)?;
                    part.file = Some(file);
                    writer.insert(w)
                }
            };
            w.write(&batch)?;
        }
        if let Some(mut w) = writer {
            w.finish()?;
            w.into_inner()?.finish()?;
        }
        part.disk_bytes = part
            .file
            .as_ref()
            .and_then(|f| f.path())
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        Ok(Some(part))
    }

    /// Whether `bytes` more fit the memory budget and the pool (and are
    /// then counted against both).
    fn keep_in_memory(&self, bytes: usize) -> bool {
        if self.policy.level == CacheLevel::Disk {
            return false;
        }
        let within = self
            .in_memory
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                (held + bytes <= self.policy.memory).then_some(held + bytes)
            })
            .is_ok();
        if !within {
            return false;
        }
        if self.reservation.try_grow(bytes).is_err() {
            self.in_memory.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn give_back(&self, bytes: usize) {
        self.in_memory.fetch_sub(bytes, Ordering::Relaxed);
        self.reservation.shrink(bytes);
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;

    use crate::config::{CacheLevel, ConfigBuilder};
    use crate::error::Result;
    use crate::session::Session;

    fn session(pairs: &[(&str, &str)]) -> Result<Session> {
        let mut b = ConfigBuilder::new().set("engine.target_partitions", "3", "test")?;
        for (k, v) in pairs {
            b = b.set(k, v, "test")?;
        }
        Session::new(b.build()?)
    }

    /// 60,000 rows in 3 partitions: a key, a group, a number and a text.
    async fn table(s: &Session) -> Result<datafusion::prelude::DataFrame> {
        Ok(s.ctx()
            .sql(
                "SELECT value AS k, value % 7 AS g, (value * 7919) % 1000 AS x, \
                 concat('c', CAST(value % 13 AS VARCHAR)) AS t \
                 FROM generate_series(1, 60000) \
                 UNION ALL SELECT NULL, NULL, NULL, NULL",
            )
            .await?
            .repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(3))?)
    }

    /// Every row of `df` in key order, and a grouped aggregate, as text.
    async fn contents(df: datafusion::prelude::DataFrame) -> Result<(String, String)> {
        use datafusion::functions_aggregate::expr_fn::{count, sum};
        use datafusion::prelude::{col, lit};
        let rows = df
            .clone()
            .sort(vec![col("k").sort(true, true)])?
            .collect()
            .await?;
        let grouped = df
            .filter(col("x").gt(lit(200)))?
            .aggregate(vec![col("g")], vec![sum(col("x")), count(col("t"))])?
            .sort(vec![col("g").sort(true, true)])?
            .collect()
            .await?;
        Ok((
            pretty_format_batches(&rows)?.to_string(),
            pretty_format_batches(&grouped)?.to_string(),
        ))
    }

    /// Compares without printing 60,000 rows.
    fn same(got: &(String, String), expected: &(String, String)) {
        assert!(
            got.1 == expected.1,
            "aggregates differ:\n{}\n{}",
            got.1,
            expected.1
        );
        let first = got.0.lines().zip(expected.0.lines()).find(|(a, b)| a != b);
        assert!(got.0 == expected.0, "rows differ, first at {first:?}");
    }

    fn reserved(s: &Session) -> usize {
        s.ctx().runtime_env().memory_pool.reserved()
    }

    #[tokio::test]
    async fn a_reused_plan_is_computed_once_and_gives_the_same_rows() -> Result<()> {
        let s = session(&[("engine.memory_limit", "512m")])?;
        let df = table(&s).await?;
        let expected = contents(df.clone()).await?;
        let before = reserved(&s);
        let first = s.cache_if_reused(df.clone(), "panel", 2).await?;
        assert_eq!(
            s.cache_stats().entries[0].rows,
            0,
            "not stored at the first use"
        );
        same(&contents(first).await?, &expected);
        let second = s.cache_if_reused(df.clone(), "panel", 2).await?;
        let stats = s.cache_stats();
        let entry = &stats.entries[0];
        assert_eq!((entry.rows, entry.level.as_str()), (60_001, "memory"));
        assert!(entry.memory_bytes > 60_000 * 8, "{entry:?}");
        assert_eq!(entry.disk_bytes, 0);
        assert_eq!(reserved(&s) - before, entry.memory_bytes as usize);
        same(&contents(second).await?, &expected);
        let third = s.cache_if_reused(df.clone(), "panel", 2).await?;
        same(&contents(third).await?, &expected);
        let stats = s.cache_stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        assert_eq!((stats.entries[0].uses, stats.entries[0].hits), (3, 1));
        assert!(s.unpersist("panel"));
        assert!(!s.unpersist("panel"));
        assert_eq!(reserved(&s), before);
        // What it did stays in the statistics.
        let stats = s.cache_stats();
        assert_eq!(stats.entries.len(), 1);
        assert_eq!(stats.entries[0].note.as_deref(), Some("unpersisted"));
        assert_eq!(stats.entries[0].hits, 1);
        Ok(())
    }

    #[tokio::test]
    async fn what_does_not_fit_in_memory_goes_to_disk() -> Result<()> {
        let s = session(&[("engine.cache_memory", "300k")])?;
        let df = table(&s).await?;
        let expected = contents(df.clone()).await?;
        let cached = s.persist(df, "panel", CacheLevel::MemoryAndDisk).await?;
        let entry = s.cache_stats().entries[0].clone();
        assert_eq!(entry.level, "memory-and-disk", "{entry:?}");
        assert!(entry.memory_bytes > 0 && entry.memory_bytes <= 300 << 10);
        assert!(entry.disk_bytes > 0);
        same(&contents(cached).await?, &expected);
        s.unpersist("panel");
        Ok(())
    }

    #[tokio::test]
    async fn the_disk_level_writes_arrow_files_that_go_with_the_entry() -> Result<()> {
        let spill = std::env::temp_dir().join(format!("sl-cache-{}", std::process::id()));
        std::fs::create_dir_all(&spill).map_err(|e| crate::Error::io(spill.display(), e))?;
        let s = session(&[("engine.spill_dir", spill.to_str().unwrap_or_default())])?;
        let df = table(&s).await?;
        let expected = contents(df.clone()).await?;
        let cached = s.persist(df, "panel", CacheLevel::Disk).await?;
        let entry = s.cache_stats().entries[0].clone();
        assert_eq!((entry.level.as_str(), entry.memory_bytes), ("disk", 0));
        let files = || walk(&spill).into_iter().filter(|p| p.is_file()).count();
        assert!(files() > 0);
        same(&contents(cached.clone()).await?, &expected);
        drop(cached);
        s.unpersist("panel");
        assert_eq!(files(), 0, "the files go with the entry");
        let _ = std::fs::remove_dir_all(&spill);
        Ok(())
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
        out
    }

    #[tokio::test]
    async fn memory_only_refuses_what_does_not_fit_and_holds_nothing() -> Result<()> {
        let s = session(&[("engine.cache_memory", "300k"), ("engine.cache", "memory")])?;
        let df = table(&s).await?;
        let expected = contents(df.clone()).await?;
        let before = reserved(&s);
        let out = s.cache_if_reused(df.clone(), "panel", 1).await?;
        let entry = s.cache_stats().entries[0].clone();
        assert_eq!(entry.level, "off");
        assert!(
            entry
                .note
                .as_deref()
                .unwrap_or_default()
                .contains("does not fit in memory"),
            "{entry:?}"
        );
        assert_eq!(reserved(&s), before);
        same(&contents(out).await?, &expected);
        // Not tried again.
        s.cache_if_reused(df, "panel", 1).await?;
        let stats = s.cache_stats();
        assert_eq!((stats.hits, stats.misses), (0, 2));
        Ok(())
    }

    #[tokio::test]
    async fn entries_are_told_apart_by_plan_and_by_table() -> Result<()> {
        let s = session(&[("engine.cache", "off")])?;
        let a = table(&s).await?;
        let b = table(&s).await?;
        let filtered = a
            .clone()
            .filter(datafusion::prelude::col("g").eq(datafusion::prelude::lit(1)))?;
        for df in [a.clone(), a, b, filtered] {
            s.cache_if_reused(df, "t", 1).await?;
        }
        let stats = s.cache_stats();
        // The same plan text over another scan of the same rows is another entry.
        let uses: Vec<u64> = stats.entries.iter().map(|e| e.uses).collect();
        assert_eq!(uses.iter().sum::<u64>(), 4);
        assert_eq!(stats.entries.len(), 3, "{stats:?}");
        assert!(
            stats
                .entries
                .iter()
                .all(|e| e.note.as_deref() == Some("engine.cache = off"))
        );
        Ok(())
    }
}
