//! One typed configuration, layered from defaults, a file, the environment and flags.
//!
//! Precedence, lowest first: built-in defaults < standard `AWS_*` variables <
//! config file (TOML or YAML) < `SCORELAKE__SECTION__KEY` variables < CLI flags.
//! Unknown keys are rejected with the nearest valid key suggested; bad values
//! name the key, where the value came from and what was expected.
//!
//! ```
//! use scorelake::config::{ByteSize, Config, ConfigBuilder};
//!
//! let config = ConfigBuilder::new()
//!     .toml_str("engine.toml", "[engine]\nmemory_limit = \"2g\"\n")?
//!     .set("engine.batch_size", "4096", "--set")?
//!     .build()?;
//! assert_eq!(config.engine.memory_limit, Some(ByteSize(2 << 30)));
//! assert_eq!(config.engine.batch_size, 4096);
//! assert_eq!(config.source_of("engine.memory_limit").unwrap().to_string(), "engine.toml:2");
//! # Ok::<(), scorelake::Error>(())
//! ```

mod load;
mod redact;
mod spark;
mod value;

use std::collections::BTreeMap;
use std::time::Duration;

pub use load::{ConfigBuilder, Source, discovered_file};
pub use value::{
    ByteSize, CacheLevel, Codec, ColumnRole, ConfigValue, EngineKind, Format, LogFormat, LogLevel,
    PoolKind, ProgressMode, S3Commit, Secret,
};

/// One configuration key: its dotted name, what it expects and what it does.
#[derive(Clone, Debug)]
pub struct KeySpec {
    /// Dotted key, e.g. `engine.memory_limit`.
    pub key: &'static str,
    /// What a valid value looks like.
    pub expected: String,
    /// One-line description.
    pub help: &'static str,
    /// Whether the value is a secret (never shown).
    pub secret: bool,
}

/// A key's effective value and where it came from, as `config show` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownKey {
    /// Dotted key.
    pub key: String,
    /// Effective value, secrets redacted.
    pub value: String,
    /// Where the value came from.
    pub source: Source,
}

/// Prefix of the raw DataFusion options passed through unchanged.
pub const DATAFUSION_PREFIX: &str = "datafusion.";

/// Prefix of the column roles: `roles.<column> = <role>`.
pub const ROLES_PREFIX: &str = "roles.";

/// The whole configuration. Build it with [`ConfigBuilder`] or take the defaults.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Config {
    /// The embedded engine: memory, spilling, parallelism, optimiser switches.
    pub engine: EngineConfig,
    /// Reading and writing data.
    pub io: IoConfig,
    /// S3-compatible object storage (`storage.s3.*`).
    pub s3: S3Config,
    /// Delta Lake tables (`delta.*`).
    pub delta: DeltaConfig,
    /// The Ballista cluster (`ballista.*`).
    pub ballista: BallistaConfig,
    /// Logs and metrics.
    pub observability: ObservabilityConfig,
    /// Raw `datafusion.*` options, passed to the engine as they are.
    pub datafusion: BTreeMap<String, String>,
    /// Column roles by name (`roles.<column>`), ahead of a column's declared
    /// NCF semantics and of the name rules.
    pub roles: BTreeMap<String, ColumnRole>,
    /// Where each key that is not a default came from.
    sources: BTreeMap<String, Source>,
    /// The config file read, if any.
    file: Option<std::path::PathBuf>,
}

macro_rules! config_sections {
    ($(
        $(#[$sm:meta])*
        $sname:ident as $field:ident at $prefix:literal {
            $( $(#[doc = $doc:literal])* $key:ident : $ty:ty = $default:expr ),* $(,)?
        }
    )*) => {
        $(
            $(#[$sm])*
            #[derive(Clone, Debug, PartialEq)]
            pub struct $sname { $( $(#[doc = $doc])* pub $key: $ty, )* }

            impl Default for $sname {
                fn default() -> Self {
                    Self { $($key: $default,)* }
                }
            }
        )*

        /// Every typed configuration key (the `datafusion.*` passthrough aside).
        pub fn keys() -> Vec<KeySpec> {
            vec![$($(KeySpec {
                key: concat!($prefix, ".", stringify!($key)),
                expected: <$ty as ConfigValue>::expected(),
                help: concat!($($doc),*),
                secret: <$ty as ConfigValue>::SECRET,
            },)*)*]
        }

        impl Config {
            /// Sets a typed key from text. `None`: no such key; `Some(Err)`: what was expected.
            fn set_typed(&mut self, key: &str, text: &str) -> Option<Result<(), String>> {
                match key {
                    $($(concat!($prefix, ".", stringify!($key)) => Some(
                        match <$ty as ConfigValue>::parse_value(text) {
                            Some(v) => { self.$field.$key = v; Ok(()) }
                            None => Err(<$ty as ConfigValue>::expected()),
                        }
                    ),)*)*
                    _ => None,
                }
            }

            /// A typed key's value rendered as text (secrets redacted).
            fn render_typed(&self, key: &str) -> Option<String> {
                match key {
                    $($(concat!($prefix, ".", stringify!($key)) =>
                        Some(ConfigValue::render(&self.$field.$key)),)*)*
                    _ => None,
                }
            }
        }
    };
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

config_sections! {
    /// `engine.*`: the embedded engine.
    EngineConfig as engine at "engine" {
        /// Memory the engine may use before spilling; empty = unbounded.
        memory_limit: Option<ByteSize> = None,
        /// How the memory limit is shared between operators.
        memory_pool: PoolKind = PoolKind::Fair,
        /// Share of `memory_limit` the engine may actually use (0 < f <= 1).
        memory_fraction: f64 = 1.0,
        /// Directory for spill files; empty = the system temporary directory.
        spill_dir: Option<String> = None,
        /// Largest total size of spill files; empty = DataFusion's default (100g).
        max_spill_size: Option<ByteSize> = None,
        /// Memory reserved per sort for merging spilled runs (at most a
        /// quarter of each sort's share of `memory_limit`).
        sort_spill_reservation: ByteSize = ByteSize(10 << 20),
        /// Most spill files one merge pass of a sort reads; 0 = chosen from
        /// `memory_limit` (a quarter of each sort's share of it).
        spill_merge_fan_in: usize = 0,
        /// Parallel partitions per query; default = number of cores.
        target_partitions: usize = cores(),
        /// Rows per record batch.
        batch_size: usize = 8192,
        /// Repartition joins on their keys for parallelism.
        repartition_joins: bool = true,
        /// Repartition aggregations on their group keys for parallelism.
        repartition_aggregations: bool = true,
        /// Repartition window functions on their partition keys for parallelism.
        repartition_windows: bool = true,
        /// Sort partitions in parallel, then merge.
        repartition_sorts: bool = true,
        /// Split large files into several scan partitions.
        repartition_file_scans: bool = true,
        /// Collect file statistics when a table is opened (helps pruning and joins).
        collect_statistics: bool = true,
        /// Skip Parquet row groups and pages using their statistics.
        parquet_pruning: bool = true,
        /// Evaluate filters while decoding Parquet (late materialisation).
        parquet_pushdown_filters: bool = false,
        /// Use the sort order inputs declare (Parquet `sorting_columns`, as
        /// `sample` records) instead of sorting them again; the temporal
        /// operator checks the order as it reads. The embedded engine only: a
        /// cluster's shuffles do not keep row order, so clusters sort.
        use_input_order: bool = true,
        /// Largest build side (bytes) that is broadcast to every partition instead of shuffled.
        broadcast_join_threshold: ByteSize = ByteSize(1 << 20),
        /// Where plans run: embedded (this process), ballista (the cluster at
        /// `ballista.url`), or auto (the cluster when the inputs are larger than
        /// `engine.auto_threshold` and `ballista.url` is set).
        kind: EngineKind = EngineKind::Embedded,
        /// Input size from which `engine.kind = auto` runs on the cluster.
        auto_threshold: ByteSize = ByteSize(10 << 30),
        /// Where intermediate results that jobs reuse are cached: off,
        /// memory, memory-and-disk (Arrow IPC files in the spill folder for
        /// what does not fit) or disk. Embedded engine only.
        cache: CacheLevel = CacheLevel::MemoryAndDisk,
        /// The use of a result at which it is cached (2: when it is used a
        /// second time).
        cache_min_reuses: usize = 2,
        /// Most memory cached results hold, reserved in the engine's pool;
        /// empty = a quarter of `memory_limit`, or 2 GiB without one.
        cache_memory: Option<ByteSize> = None,
    }

    /// `io.*`: reading and writing data.
    IoConfig as io at "io" {
        /// Format for outputs whose URL has no recognised extension.
        default_format: Format = Format::Parquet,
        /// Compression codec of Parquet and NCF files (NCF: none, lz4, zstd).
        compression: Codec = Codec::Zstd,
        /// Codec level; empty = the codec's default (zstd 3, gzip 6).
        compression_level: Option<i32> = None,
        /// Rows per Parquet row group (fewer under a memory limit). A writer
        /// holds a whole group until it is complete: smaller groups keep
        /// memory down and the disk busy while the next group is encoded.
        row_group_size: usize = 1 << 18,
        /// Rows per NCF row group (the unit that NCF statistics skip).
        ncf_row_group_rows: usize = 128 * 1024,
        /// Encode Parquet row groups and columns in parallel.
        parallel_writes: bool = true,
        /// Dictionary-encode float columns in Parquet (off: measured values
        /// rarely repeat, and trying costs time and size).
        parquet_float_dictionary: bool = false,
        /// Most bytes one scan partition reads; larger inputs get more partitions.
        scan_partition_bytes: ByteSize = ByteSize(128 << 20),
        /// Write to a temporary name and rename on success.
        atomic_writes: bool = true,
        /// CSV field delimiter (one ASCII character).
        csv_delimiter: String = ",".into(),
        /// Whether CSV files start with a header row.
        csv_has_header: bool = true,
        /// Rows read to infer a CSV schema.
        csv_infer_rows: usize = 1000,
    }

    /// `storage.s3.*`: S3-compatible object storage (AWS, MinIO, SeaweedFS).
    S3Config as s3 at "storage.s3" {
        /// Endpoint URL for non-AWS stores, e.g. http://127.0.0.1:9000.
        endpoint: Option<String> = None,
        /// Region.
        region: String = "us-east-1".into(),
        /// Access key id.
        access_key_id: Option<Secret> = None,
        /// Secret access key.
        secret_access_key: Option<Secret> = None,
        /// Session token for temporary credentials.
        session_token: Option<Secret> = None,
        /// Path-style addressing (endpoint/bucket/key), needed by most non-AWS stores.
        path_style: bool = false,
        /// Allow plain http endpoints.
        allow_http: bool = false,
        /// Send unsigned requests (public buckets).
        skip_signature: bool = false,
        /// Most idle connections kept per host.
        max_connections: usize = 64,
        /// Part size of multipart uploads.
        multipart_part_size: ByteSize = ByteSize(10 << 20),
        /// Time allowed to open a connection.
        connect_timeout: Duration = Duration::from_secs(5),
        /// Time allowed for one request.
        request_timeout: Duration = Duration::from_secs(60),
        /// Retries of a failed request.
        max_retries: usize = 5,
        /// Total time spent retrying one request.
        retry_timeout: Duration = Duration::from_secs(120),
    }

    /// `delta.*`: Delta Lake tables.
    DeltaConfig as delta at "delta" {
        /// How often a commit that lost a race with another writer is retried.
        commit_retries: usize = 100,
        /// Commits on S3: conditional_put (the store must honour If-None-Match; checked once per bucket) or single_writer (no check; safe only with one writer at a time).
        s3_commit: S3Commit = S3Commit::ConditionalPut,
        /// Size data files are written and compacted to.
        target_file_size: ByteSize = ByteSize(128 << 20),
    }

    /// `ballista.*`: the Ballista cluster plans run on with `engine.kind = ballista`.
    BallistaConfig as ballista at "ballista" {
        /// Scheduler URL, e.g. df://127.0.0.1:50050.
        url: Option<String> = None,
        /// Time allowed to reach the scheduler (one still starting is waited
        /// for) before a command or an executor fails.
        connect_timeout: Duration = Duration::from_secs(5),
    }

    /// `observability.*`: logs and metrics.
    ObservabilityConfig as observability at "observability" {
        /// Log verbosity.
        log_level: LogLevel = LogLevel::Warn,
        /// Log line format.
        log_format: LogFormat = LogFormat::Text,
        /// Collect and report execution metrics per operator (`sql` prints them).
        metrics: bool = false,
        /// Write a run record (JSON: times, memory, per-operator metrics of
        /// every plan, configuration) here when a command ends.
        metrics_file: Option<String> = None,
        /// Keep a run record of every command in this folder (one JSON file each).
        metrics_dir: Option<String> = None,
        /// Append every command's run record to this Delta table (a path or
        /// `s3://` URL; created by the first run) as one row; `runs` reads it
        /// instead of `metrics_dir`. Concurrent runs append without loss.
        history: Option<String> = None,
        /// When to show progress: auto (bars on a terminal), always (bars, or plain lines every few seconds when stderr is not a terminal), never.
        progress: ProgressMode = ProgressMode::Auto,
        /// An MLflow tracking server (`http://host:5000`) that `run` logs
        /// each pipeline to: parameters, metrics, artifacts. Credentials
        /// come from `MLFLOW_TRACKING_TOKEN` or `MLFLOW_TRACKING_USERNAME`
        /// and `MLFLOW_TRACKING_PASSWORD`.
        mlflow_url: Option<String> = None,
        /// The MLflow experiment runs are logged to (created when missing).
        mlflow_experiment: String = "scorelake".to_string(),
    }
}

impl ObservabilityConfig {
    /// Whether commands keep run records: `metrics_file`, `metrics_dir` or
    /// `history` is set.
    ///
    /// ```
    /// # use scorelake::config::ConfigBuilder;
    /// let c = ConfigBuilder::new().set("observability.metrics_dir", "runs", "example")?.build()?;
    /// assert!(c.observability.keeps_run_records());
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn keeps_run_records(&self) -> bool {
        self.metrics_file.is_some() || self.metrics_dir.is_some() || self.history.is_some()
    }
}

impl EngineConfig {
    /// The memory the engine may use: `memory_fraction` of `memory_limit`,
    /// or `None` when there is no limit.
    ///
    /// ```
    /// # use scorelake::config::ConfigBuilder;
    /// let c = ConfigBuilder::new()
    ///     .set("engine.memory_limit", "64m", "example")?
    ///     .set("engine.memory_fraction", "0.5", "example")?
    ///     .build()?;
    /// assert_eq!(c.engine.pool_size(), Some(32 << 20));
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn pool_size(&self) -> Option<usize> {
        self.memory_limit
            .map(|limit| (limit.0 as f64 * self.memory_fraction) as usize)
    }

    /// Most bytes cached results may hold in memory: `cache_memory`, else a
    /// quarter of the pool, else 2 GiB.
    pub fn cache_memory(&self) -> usize {
        match (self.cache_memory, self.pool_size()) {
            (Some(m), _) => m.0 as usize,
            (None, Some(pool)) => pool / 4,
            (None, None) => 2 << 30,
        }
    }
}

impl Config {
    /// The config file this configuration read (named, from
    /// `$SCORELAKE_CONFIG`, or found: see [`discovered_file`]).
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// Where `key`'s value came from ([`Source::Default`] for untouched keys).
    pub fn source_of(&self, key: &str) -> Option<Source> {
        if let Some(s) = self.sources.get(key) {
            return Some(s.clone());
        }
        keys()
            .iter()
            .any(|k| k.key == key)
            .then_some(Source::Default)
    }

    /// The configured column roles, with `first`'s entries ahead of them.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use scorelake::config::{ColumnRole, ConfigBuilder};
    /// let config = ConfigBuilder::new().set("roles.acct", "identifier", "--set")?.build()?;
    /// let first = BTreeMap::from([("acct".to_string(), ColumnRole::Measure)]);
    /// assert_eq!(config.roles_with(&first)["acct"], ColumnRole::Measure);
    /// assert_eq!(config.roles_with(&BTreeMap::new())["acct"], ColumnRole::Identifier);
    /// # Ok::<(), scorelake::Error>(())
    /// ```
    pub fn roles_with(&self, first: &BTreeMap<String, ColumnRole>) -> BTreeMap<String, ColumnRole> {
        let mut roles = self.roles.clone();
        roles.extend(first.iter().map(|(c, r)| (c.clone(), *r)));
        roles
    }

    /// Every key with its effective value and source, secrets (and the user
    /// information of URLs) redacted, sorted by key.
    pub fn show(&self) -> Vec<ShownKey> {
        let mut out: Vec<ShownKey> = keys()
            .iter()
            .map(|k| ShownKey {
                key: k.key.to_string(),
                value: crate::error::redact_urls(&self.render_typed(k.key).unwrap_or_default()),
                source: self.sources.get(k.key).cloned().unwrap_or(Source::Default),
            })
            .collect();
        out.extend(self.datafusion.iter().map(|(k, v)| ShownKey {
            key: k.clone(),
            value: v.clone(),
            source: self.sources.get(k).cloned().unwrap_or(Source::Default),
        }));
        out.extend(self.roles.iter().map(|(column, role)| {
            let key = format!("{ROLES_PREFIX}{column}");
            ShownKey {
                source: self.sources.get(&key).cloned().unwrap_or(Source::Default),
                key,
                value: role.to_string(),
            }
        }));
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Checks cross-field and range rules; errors name the key and its source.
    fn validate(&self) -> Result<(), String> {
        let fail = |key: &str, what: String| {
            let source = self.source_of(key).unwrap_or(Source::Default);
            Err(format!(
                "bad value for `{key}` (from {source}): expected {what}"
            ))
        };
        let e = &self.engine;
        if !(e.memory_fraction > 0.0 && e.memory_fraction <= 1.0) {
            return fail("engine.memory_fraction", "a number in (0, 1]".into());
        }
        if e.target_partitions == 0 {
            return fail("engine.target_partitions", "a whole number >= 1".into());
        }
        if e.batch_size == 0 {
            return fail("engine.batch_size", "a whole number >= 1".into());
        }
        let io = &self.io;
        if io.row_group_size == 0 {
            return fail("io.row_group_size", "a whole number >= 1".into());
        }
        if io.ncf_row_group_rows == 0 || io.ncf_row_group_rows > u32::MAX as usize {
            return fail(
                "io.ncf_row_group_rows",
                "a whole number from 1 to 4294967295".into(),
            );
        }
        if io.scan_partition_bytes.0 == 0 {
            return fail("io.scan_partition_bytes", "a size above 0".into());
        }
        if io.csv_delimiter.len() != 1 || !io.csv_delimiter.is_ascii() {
            return fail("io.csv_delimiter", "exactly one ASCII character".into());
        }
        if let Some(level) = io.compression_level {
            let range = match io.compression {
                Codec::Zstd => Some(1..=22),
                Codec::Gzip => Some(0..=9),
                Codec::None | Codec::Snappy | Codec::Lz4 => None,
            };
            match range {
                Some(r) if !r.contains(&level) => {
                    return fail(
                        "io.compression_level",
                        format!(
                            "a level in {}..={} for {}",
                            r.start(),
                            r.end(),
                            io.compression
                        ),
                    );
                }
                None => {
                    return fail(
                        "io.compression_level",
                        format!("no level: {} has none", io.compression),
                    );
                }
                _ => {}
            }
        }
        let s3 = &self.s3;
        if s3.multipart_part_size.0 < (5 << 20) {
            return fail(
                "storage.s3.multipart_part_size",
                "at least 5m (the S3 minimum part size)".into(),
            );
        }
        if let Some(endpoint) = &s3.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return fail(
                "storage.s3.endpoint",
                "a URL starting with http:// or https://".into(),
            );
        }
        Ok(())
    }

    /// The Parquet compression string DataFusion understands, e.g. `zstd(3)`.
    ///
    /// ```
    /// let c = scorelake::config::Config::default();
    /// assert_eq!(c.parquet_compression(), "zstd(3)");
    /// ```
    pub fn parquet_compression(&self) -> String {
        let level = self.io.compression_level;
        match self.io.compression {
            Codec::None => "uncompressed".into(),
            Codec::Snappy => "snappy".into(),
            Codec::Lz4 => "lz4_raw".into(),
            Codec::Gzip => format!("gzip({})", level.unwrap_or(6)),
            Codec::Zstd => format!("zstd({})", level.unwrap_or(3)),
        }
    }
}

#[cfg(test)]
mod tests;
