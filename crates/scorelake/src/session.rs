//! The engine session: a DataFusion `SessionContext` built from a [`Config`].
//!
//! A [`Session`] owns the memory pool and spilling set-up, the parallelism and
//! optimiser switches, Parquet writer defaults, and the object stores that
//! serve `s3://` URLs (created on first use of each bucket from
//! `storage.s3.*`). [`Session::global`] is the process-wide default.
//!
//! ```
//! use scorelake::{config::Config, session::Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let session = Session::new(Config::default())?;
//! let batches = session.ctx().sql("SELECT 1 + 1 AS two").await?.collect().await?;
//! assert_eq!(batches[0].num_rows(), 1);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemoryCatalogProviderList, MemorySchemaProvider,
};
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{
    FairSpillPool, GreedyMemoryPool, MemoryPool, TrackConsumersPool, UnboundedMemoryPool,
};
use datafusion::execution::object_store::{
    DefaultObjectStoreRegistry, ObjectStoreRegistry, ObjectStoreUrl,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use crate::cache::{Cache, CacheStats, Policy};
use crate::config::{
    CacheLevel, Config, ConfigBuilder, EngineConfig, EngineKind, PoolKind, S3Config,
};
use crate::console::Progress;
use crate::engine_choice::{Engine, EngineChoice};
use crate::error::{Error, Result};
use crate::formats::ncf::NcfFormatFactory;
use crate::functions::{self, PlanLog, ScoreLakePlanner};
use crate::ledger::Ledger;

/// An engine session built from a [`Config`]. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    config: Arc<Config>,
    engine: Arc<EngineChoice>,
    /// The plans made, when run records are on (`observability.metrics_*`).
    plans: Option<Arc<PlanLog>>,
    /// Intermediate results cached by [`Session::cache_if_reused`].
    cache: Arc<Cache>,
    /// The tables read and written, when run records are on.
    ledger: Arc<Ledger>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .field("engine", &self.engine.engine)
            .finish_non_exhaustive()
    }
}

static GLOBAL: RwLock<Option<Session>> = RwLock::new(None);

impl Session {
    /// Builds a session on the embedded engine from `config`.
    ///
    /// `engine.kind` must be `embedded`; for `ballista` or `auto`, use
    /// [`engine::start`](crate::engine::start), which reaches the cluster.
    pub fn new(config: Config) -> Result<Self> {
        if config.engine.kind != EngineKind::Embedded {
            return Err(Error::Config(format!(
                "engine.kind = {} (from {}) needs a session started by engine::start, which reaches the cluster",
                config.engine.kind,
                config
                    .source_of("engine.kind")
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )));
        }
        let reason = "engine.kind = embedded";
        Self::build(config, EngineChoice::embedded(reason))
    }

    /// A session on the embedded engine whatever `engine.kind` says (to
    /// look at inputs before choosing, or to run a writer in this process).
    pub(crate) fn new_embedded(config: Config) -> Result<Self> {
        Self::build(config, EngineChoice::embedded("inspecting inputs"))
    }

    fn build(config: Config, engine: EngineChoice) -> Result<Self> {
        let runtime = runtime(&config)?;
        let plans = plan_log(&config);
        let ctx = context(session_config(&config)?, runtime, &config, plans.clone());
        Ok(Session::from_parts(ctx, config, engine).with_plan_log(plans))
    }

    /// This session keeping its plans in `log`.
    pub(crate) fn with_plan_log(mut self, log: Option<Arc<PlanLog>>) -> Self {
        self.plans = log;
        self
    }

    /// The plans this session made, when run records or progress are on.
    pub(crate) fn plan_log(&self) -> Option<&PlanLog> {
        self.plans.as_deref()
    }

    /// Progress as `observability.progress` says, following the rows this
    /// session's plans read where it can.
    ///
    /// ```
    /// let session = scorelake::session::Session::new(Default::default()).unwrap();
    /// let progress = session.progress();
    /// ```
    pub fn progress(&self) -> Progress {
        let progress = Progress::new(self.config.observability.progress);
        match &self.plans {
            Some(log) => progress.following(Arc::clone(log)),
            None => progress,
        }
    }

    /// The same session, said to run on `engine` (an embedded choice's reason).
    pub(crate) fn with_engine(mut self, engine: EngineChoice) -> Self {
        self.engine = Arc::new(engine);
        self
    }

    /// A session of `ctx`, built from `config`, running on `engine`.
    pub(crate) fn from_parts(ctx: SessionContext, config: Config, engine: EngineChoice) -> Self {
        let ledger = Arc::new(Ledger::new(config.observability.keeps_run_records()));
        Session {
            ctx,
            config: Arc::new(config),
            engine: Arc::new(engine),
            plans: None,
            cache: Arc::default(),
            ledger,
        }
    }

    /// The tables this session read and wrote (kept when run records are on).
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// `df`, or its result cached as `engine.cache` says: each call counts a
    /// use of `df`'s plan; at the `min_reuses`-th use the plan is computed
    /// and kept (in memory, reserved in the engine's pool, and in Arrow IPC
    /// files in the spill folder for what does not fit), and later uses read
    /// it. The result is the same either way. On a cluster nothing is
    /// cached here (the executors cannot read this process's memory): `df`
    /// comes back as it is. See [`cache`](crate::cache) for an example.
    pub async fn cache_if_reused(
        &self,
        df: DataFrame,
        name: &str,
        min_reuses: usize,
    ) -> Result<DataFrame> {
        self.cache_as(df, name, self.config.engine.cache, min_reuses)
            .await
    }

    /// `df`'s result computed now and kept at `level` until
    /// [`Session::unpersist`] (off: `df` as it is).
    pub async fn persist(&self, df: DataFrame, name: &str, level: CacheLevel) -> Result<DataFrame> {
        self.cache_as(df, name, level, 1).await
    }

    /// [`Session::cache_if_reused`] with `engine.cache_min_reuses`: how jobs
    /// cache the tables they read several times.
    pub(crate) async fn reuse(&self, df: DataFrame, name: &str) -> Result<DataFrame> {
        let e = &self.config.engine;
        self.cache_as(df, name, e.cache, e.cache_min_reuses).await
    }

    async fn cache_as(
        &self,
        df: DataFrame,
        name: &str,
        level: CacheLevel,
        min_reuses: usize,
    ) -> Result<DataFrame> {
        if self.engine.engine != Engine::Embedded || runs_elsewhere(&df) {
            return Ok(df);
        }
        let policy = Policy {
            level,
            min_reuses: min_reuses.max(1) as u64,
            memory: self.config.engine.cache_memory(),
        };
        self.cache.use_plan(&self.ctx, df, name, policy).await
    }

    /// Drops what is cached under `name` (memory back to the pool, files
    /// deleted); false when nothing was.
    pub fn unpersist(&self, name: &str) -> bool {
        self.cache.unpersist(name)
    }

    /// The cache's hits, misses and entries so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The engine this session's plans run on, and why.
    pub fn engine(&self) -> &EngineChoice {
        &self.engine
    }

    /// This session if it runs embedded, else one with the same settings on
    /// the embedded engine: for work that must run in this process
    /// (delta-rs maintenance, which plans its own scans).
    pub(crate) fn here(&self) -> Result<Session> {
        if self.engine.engine == Engine::Embedded {
            return Ok(self.clone());
        }
        Session::new_embedded(self.config().clone())
    }

    /// `df`'s result as a plan of the embedded engine in this process, for
    /// writers that must run here (delta-rs commits): the cluster computes
    /// `df`, and its result streams in as it is written, one batch at a time.
    /// On the embedded engine, `df` itself.
    pub(crate) fn in_process(&self, df: DataFrame) -> Result<DataFrame> {
        if self.engine.engine == Engine::Embedded {
            return Ok(df);
        }
        let schema = Arc::clone(df.schema().inner());
        let result = ClusterResult {
            df,
            schema: Arc::clone(&schema),
        };
        let table = StreamingTable::try_new(schema, vec![Arc::new(result)])?;
        Ok(self.here()?.ctx().read_table(Arc::new(table))?)
    }

    /// The process-wide default session, built on first use from the standard
    /// configuration layers (`$SCORELAKE_CONFIG`, `SCORELAKE__*`, `AWS_*`).
    pub fn global() -> Result<Session> {
        if let Some(s) = GLOBAL.read().ok().and_then(|g| g.clone()) {
            return Ok(s);
        }
        let mut slot = GLOBAL
            .write()
            .map_err(|_| Error::Config("the global session lock is poisoned".into()))?;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let session = Session::new(ConfigBuilder::standard(None)?.build()?)?;
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Replaces the process-wide default session (e.g. after the CLI read its flags).
    pub fn set_global(session: Session) {
        if let Ok(mut slot) = GLOBAL.write() {
            *slot = Some(session);
        }
    }

    /// The DataFusion context: plans, SQL, registered tables and functions.
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// A fresh context with its own (empty) table catalog that shares this
    /// session's configuration, engine, memory pool, spill space and object
    /// stores. Use it to register tables by name without touching the session's.
    pub fn new_context(&self) -> SessionContext {
        let state = SessionStateBuilder::new_from_existing(self.ctx.state())
            .with_catalog_list(Arc::new(MemoryCatalogProviderList::new()))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let default = ctx.copied_config();
        let catalog = &default.options().catalog;
        if ctx.catalog(&catalog.default_catalog).is_none() {
            let schema = Arc::new(MemorySchemaProvider::new());
            let catalog_provider = Arc::new(MemoryCatalogProvider::new());
            // A fresh catalog has no schema yet; adding one cannot fail.
            let _ = catalog_provider.register_schema(&catalog.default_schema, schema);
            ctx.register_catalog(&catalog.default_catalog, catalog_provider);
        }
        ctx
    }

    /// The configuration this session was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The object store serving `url` (`file:///…` or `s3://bucket/…`).
    pub fn object_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let root = ObjectStoreUrl::parse(&url[..url::Position::BeforePath])?;
        Ok(self.ctx.runtime_env().object_store(&root)?)
    }
}

/// Where a session keeps its plans: all of them when run records are on
/// (`observability.metrics_file`, `metrics_dir` or `history`), those made
/// while progress watches when it is shown, none otherwise.
pub(crate) fn plan_log(config: &Config) -> Option<Arc<PlanLog>> {
    if config.observability.keeps_run_records() {
        Some(Arc::new(PlanLog::keeping_all()))
    } else if Progress::new(config.observability.progress).shown() {
        Some(Arc::new(PlanLog::while_watched()))
    } else {
        None
    }
}

/// The process's runtime: memory pool and spilling from `engine.*`, object
/// stores from `storage.s3.*`.
pub(crate) fn runtime(config: &Config) -> Result<Arc<RuntimeEnv>> {
    runtime_builder(config)
        .with_object_store_registry(Arc::new(S3Registry::new(config.s3.clone())))
        .build_arc()
        .map_err(|e| match (&e, &config.engine.spill_dir) {
            // The only file-system work here: the spill folder.
            (DataFusionError::IoError(io), Some(dir)) => Error::Config(format!(
                "cannot spill to `{dir}` (engine.spill_dir, from {}): {io}",
                config
                    .source_of("engine.spill_dir")
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )),
            _ => Error::from(e),
        })
}

/// Whether `df` runs on another process than this one (a cluster's).
pub(crate) fn runs_elsewhere(df: &DataFrame) -> bool {
    functions::plans_for_a_cluster(df.task_ctx().session_config().options())
}

/// The result stream of a plan that runs on a cluster.
#[derive(Debug)]
struct ClusterResult {
    df: DataFrame,
    schema: SchemaRef,
}

impl PartitionStream for ClusterResult {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let df = self.df.clone();
        let batches = futures::stream::once(df.execute_stream()).try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        ))
    }
}

/// A context with our planner (custom operators; keeping its plans in `log`
/// when given), formats and functions.
fn context(
    sc: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    config: &Config,
    log: Option<Arc<PlanLog>>,
) -> SessionContext {
    let mut builder = state_builder(sc, runtime);
    if let Some(log) = log {
        builder = builder.with_query_planner(Arc::new(ScoreLakePlanner::recording(log)));
    }
    let state = builder.build();
    let ctx = SessionContext::new_with_state(state);
    register_extensions(&ctx, config);
    ctx
}

/// A session state of `sc` on `runtime` with our planner.
pub(crate) fn state_builder(sc: SessionConfig, runtime: Arc<RuntimeEnv>) -> SessionStateBuilder {
    SessionStateBuilder::new()
        .with_config(sc)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_query_planner(Arc::new(ScoreLakePlanner::default()))
        .with_physical_optimizer_rule(Arc::new(functions::temporal::OneStream))
}

/// Our file formats, found by extension (`'x.ncf'` in SQL, `STORED AS
/// NCF`), and our functions.
pub(crate) fn register_extensions(ctx: &SessionContext, config: &Config) {
    let ncf = Arc::new(NcfFormatFactory::from_config(config));
    // Registering with `overwrite` cannot fail.
    let _ = ctx.state_ref().write().register_file_format(ncf, true);
    functions::register(ctx);
}

fn runtime_builder(config: &Config) -> RuntimeEnvBuilder {
    let e = &config.engine;
    // No listing cache: a lake changes under us (other writers, our own
    // overwrites), and every read must see the files that are there now.
    let mut rt = RuntimeEnvBuilder::new().with_object_list_cache_limit(0);
    if let Some(size) = e.pool_size() {
        let top = NonZeroUsize::new(5).unwrap_or(NonZeroUsize::MIN);
        let pool: Arc<dyn MemoryPool> = match e.memory_pool {
            PoolKind::Fair => Arc::new(TrackConsumersPool::new(FairSpillPool::new(size), top)),
            PoolKind::Greedy => Arc::new(TrackConsumersPool::new(GreedyMemoryPool::new(size), top)),
            PoolKind::Unbounded => Arc::new(UnboundedMemoryPool::default()),
        };
        rt = rt.with_memory_pool(pool);
    }
    let mut disk = DiskManagerBuilder::default();
    if let Some(dir) = &e.spill_dir {
        disk = disk.with_mode(DiskManagerMode::Directories(vec![dir.into()]));
    }
    disk = disk.with_max_spill_merge_fan_in(spill_merge_fan_in(e));
    if let Some(max) = e.max_spill_size {
        disk = disk.with_max_temp_directory_size(max.0);
    }
    rt.with_disk_manager_builder(disk)
}

/// A quarter of each sort's share of the memory limit: the part one sort may
/// hold for merging (the sorts of all partitions run at once).
fn merge_share(e: &EngineConfig) -> Option<usize> {
    Some(e.pool_size()? / 4 / e.target_partitions.max(1))
}

/// Memory each sort reserves for merging: `engine.sort_spill_reservation`,
/// at most its [`merge_share`] (more could never be granted to every sort).
fn sort_spill_reservation(e: &EngineConfig) -> usize {
    let configured = e.sort_spill_reservation.0 as usize;
    merge_share(e).map_or(configured, |share| configured.min(share))
}

/// How many spill files one merge pass reads. Each file read holds two
/// batches; left unbounded, the first sort to merge takes all the memory
/// that is free and starves the sorts still reading their input. So under a
/// memory limit a merge reads what fits its [`merge_share`] at 256 bytes per
/// row (more passes over the spill files, but they finish).
fn spill_merge_fan_in(e: &EngineConfig) -> usize {
    if e.spill_merge_fan_in > 0 {
        return e.spill_merge_fan_in.max(2);
    }
    let Some(share) = merge_share(e) else {
        return 0; // no limit: nothing spills
    };
    let per_file = 2 * e.batch_size.max(1) * 256;
    (share / per_file).clamp(2, 64)
}

pub(crate) fn session_config(config: &Config) -> Result<SessionConfig> {
    let e = &config.engine;
    let io = &config.io;
    let mut sc = SessionConfig::new()
        .with_target_partitions(e.target_partitions)
        .with_batch_size(e.batch_size)
        .with_repartition_joins(e.repartition_joins)
        .with_repartition_aggregations(e.repartition_aggregations)
        .with_repartition_windows(e.repartition_windows)
        .with_repartition_sorts(e.repartition_sorts)
        .with_repartition_file_scans(e.repartition_file_scans)
        .with_collect_statistics(e.collect_statistics)
        .with_parquet_pruning(e.parquet_pruning)
        .with_information_schema(true);
    let options = sc.options_mut();
    options.execution.parquet.pushdown_filters = e.parquet_pushdown_filters;
    options.optimizer.prefer_existing_sort = e.use_input_order;
    options.execution.sort_spill_reservation_bytes = sort_spill_reservation(e);
    options.optimizer.hash_join_single_partition_threshold = e.broadcast_join_threshold.0 as usize;
    options.execution.parquet.compression = Some(config.parquet_compression());
    options.execution.parquet.max_row_group_size = io.row_group_size;
    options.execution.parquet.allow_single_file_parallelism = io.parallel_writes;
    options.execution.objectstore_writer_buffer_size = config.s3.multipart_part_size.0 as usize;
    for (key, value) in &config.datafusion {
        options.set(key, value).map_err(|err| {
            Error::Config(format!(
                "bad DataFusion option `{key}`: {}",
                err.strip_backtrace()
            ))
        })?;
    }
    Ok(sc)
}

/// Serves `file://` like DataFusion's default registry and creates an S3
/// store per bucket on first use of an `s3://` (or `s3a://`) URL.
#[derive(Debug)]
struct S3Registry {
    inner: DefaultObjectStoreRegistry,
    s3: S3Config,
}

impl S3Registry {
    fn new(s3: S3Config) -> Self {
        S3Registry {
            inner: DefaultObjectStoreRegistry::new(),
            s3,
        }
    }
}

impl ObjectStoreRegistry for S3Registry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.inner.get_store(url) {
            return Ok(store);
        }
        if !matches!(url.scheme(), "s3" | "s3a") {
            return self.inner.get_store(url);
        }
        // First use of this bucket: create its client; the inner registry
        // caches it (a concurrent first use may build a second, harmlessly).
        let bucket = url.host_str().unwrap_or_default();
        tracing::debug!(
            bucket,
            endpoint = self.s3.endpoint.as_deref().unwrap_or("AWS"),
            "creating S3 client"
        );
        let store: Arc<dyn ObjectStore> = Arc::new(s3_store(&self.s3, bucket)?);
        self.inner.register_store(url, Arc::clone(&store));
        Ok(store)
    }
}

/// An S3 client for `bucket` from the `storage.s3.*` settings.
pub(crate) fn s3_store(
    s3: &S3Config,
    bucket: &str,
) -> datafusion::error::Result<object_store::aws::AmazonS3> {
    let client = ClientOptions::new()
        .with_allow_http(s3.allow_http)
        .with_connect_timeout(s3.connect_timeout)
        .with_timeout(s3.request_timeout)
        .with_pool_max_idle_per_host(s3.max_connections);
    let retry = RetryConfig {
        max_retries: s3.max_retries,
        retry_timeout: s3.retry_timeout,
        ..RetryConfig::default()
    };
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&s3.region)
        .with_virtual_hosted_style_request(!s3.path_style)
        .with_allow_http(s3.allow_http)
        .with_skip_signature(s3.skip_signature)
        .with_client_options(client)
        .with_retry(retry);
    if let Some(endpoint) = &s3.endpoint {
        b = b.with_endpoint(endpoint);
    }
    if let Some(key) = &s3.access_key_id {
        b = b.with_access_key_id(key.expose());
    }
    if let Some(secret) = &s3.secret_access_key {
        b = b.with_secret_access_key(secret.expose());
    }
    if let Some(token) = &s3.session_token {
        b = b.with_token(token.expose());
    }
    b.build().map_err(|e| {
        DataFusionError::Configuration(format!("cannot set up S3 for bucket `{bucket}`: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Session> {
        let mut b = ConfigBuilder::new();
        for (k, v) in pairs {
            b = b.set(k, v, "test")?;
        }
        Session::new(b.build()?)
    }

    #[test]
    fn config_reaches_the_engine() {
        let s = with(&[
            ("engine.target_partitions", "3"),
            ("engine.batch_size", "1024"),
            ("engine.parquet_pushdown_filters", "true"),
            ("io.compression", "gzip"),
            ("storage.s3.multipart_part_size", "16m"),
            ("datafusion.optimizer.max_passes", "5"),
        ])
        .unwrap();
        let config = s.ctx().copied_config();
        let o = config.options();
        assert_eq!(o.execution.target_partitions, 3);
        assert_eq!(s.ctx().copied_config().batch_size(), 1024);
        assert!(o.execution.parquet.pushdown_filters);
        assert_eq!(o.execution.parquet.compression.as_deref(), Some("gzip(6)"));
        assert_eq!(o.execution.objectstore_writer_buffer_size, 16 << 20);
        assert_eq!(o.optimizer.max_passes, 5);
    }

    #[test]
    fn sort_merges_fit_their_share_of_the_memory_limit() {
        let engine = |pairs: &[(&str, &str)]| {
            let mut b = ConfigBuilder::new();
            for (k, v) in pairs {
                b = b.set(k, v, "test").unwrap();
            }
            b.build().unwrap().engine
        };
        // 64 MiB over 2 sorts: 8 MiB each for merging, two 4 MiB spill reads.
        let small = engine(&[
            ("engine.memory_limit", "64m"),
            ("engine.target_partitions", "2"),
        ]);
        assert_eq!(sort_spill_reservation(&small), 8 << 20);
        assert_eq!(spill_merge_fan_in(&small), 2);
        // 4 GiB: the configured reservation, a fan-in capped at 64.
        let big = engine(&[
            ("engine.memory_limit", "4g"),
            ("engine.target_partitions", "2"),
        ]);
        assert_eq!(sort_spill_reservation(&big), 10 << 20);
        assert_eq!(spill_merge_fan_in(&big), 64);
        let unbounded = engine(&[]);
        assert_eq!(spill_merge_fan_in(&unbounded), 0);
        assert_eq!(sort_spill_reservation(&unbounded), 10 << 20);
        let explicit = engine(&[
            ("engine.memory_limit", "64m"),
            ("engine.spill_merge_fan_in", "5"),
        ]);
        assert_eq!(spill_merge_fan_in(&explicit), 5);
    }

    #[test]
    fn memory_limit_installs_a_bounded_pool() {
        let s = with(&[
            ("engine.memory_limit", "64m"),
            ("engine.memory_fraction", "0.5"),
        ])
        .unwrap();
        let limit = s.ctx().runtime_env().memory_pool.memory_limit();
        assert!(matches!(
            limit,
            datafusion::execution::memory_pool::MemoryLimit::Finite(n) if n == 32 << 20
        ));
    }

    #[test]
    fn cluster_engines_need_a_started_session() {
        let e = with(&[("engine.kind", "ballista")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("engine.kind = ballista") && e.contains("engine::start"),
            "{e}"
        );
        let renamed = with(&[("remote.engine", "ballista")])
            .unwrap_err()
            .to_string();
        assert!(
            renamed.contains("renamed; write `engine.kind`"),
            "{renamed}"
        );
        let typo = with(&[("engine.kind", "balista")]).unwrap_err().to_string();
        assert!(typo.contains("did you mean `ballista`"), "{typo}");
    }

    #[test]
    fn global_session_is_shared_and_replaceable() {
        let a = Session::global().unwrap();
        let b = Session::global().unwrap();
        assert_eq!(a.ctx().session_id(), b.ctx().session_id());
        let fresh = Session::new(Config::default()).unwrap();
        let id = fresh.ctx().session_id();
        Session::set_global(fresh);
        assert_eq!(Session::global().unwrap().ctx().session_id(), id);
    }
}
