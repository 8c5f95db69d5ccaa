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
                s.level = match (t.memory_bytes > 0, t.disk_bytes > 0) {
                    (_, false) => CacheLevel::Memory,
                    (true, true) => CacheLevel::MemoryAndDisk,
                    (false, true) => CacheLevel::Disk,
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
