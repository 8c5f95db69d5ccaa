//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// ScoreLake: credit-risk feature engineering on a data lake.
///
/// Reads and writes Parquet, CSV, NCF and Delta Lake on local disk or S3 with an embedded,
/// multi-core, spilling query engine. Configuration comes from defaults, a
/// config file (--config or $SCORELAKE_CONFIG), SCORELAKE__SECTION__KEY
/// variables and flags, in that order; see `scorelake config show`.
#[derive(Debug, Parser)]
#[command(name = "scorelake", version)]
#[command(
    after_help = "Examples:\n  scorelake demo\n  scorelake sample --customers 100000 --out panel.parquet\n  scorelake sql \"SELECT product, avg(balance) FROM p GROUP BY 1\" --table p=panel.parquet\n  scorelake config show"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Config file (TOML or YAML); defaults to $SCORELAKE_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set any config key, e.g. --set engine.batch_size=4096 (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Engine memory limit before spilling, e.g. 512m or 4g (engine.memory_limit).
    #[arg(long, global = true, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Parallel partitions (engine.target_partitions; default: cores).
    #[arg(long, global = true, value_name = "N")]
    pub target_partitions: Option<String>,
    /// Directory for spill files (engine.spill_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub spill_dir: Option<String>,
    /// Log level: error, warn, info, debug, trace (observability.log_level).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log format: text or json (observability.log_format).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Progress bars: auto (when stderr is a terminal), always, never.
    #[arg(long, global = true, value_name = "WHEN")]
    pub progress: Option<String>,
    /// Write a run record here when the command ends: times, peak memory,
    /// per-operator metrics of every plan, configuration (observability.metrics_file).
    #[arg(long, global = true, value_name = "FILE.json")]
    pub metrics: Option<String>,
    /// Where plans run: embedded, ballista (the cluster at ballista.url) or auto (engine.kind).
    #[arg(long, global = true, value_name = "KIND")]
    pub engine: Option<String>,
}

impl GlobalArgs {
    /// The flags as given, for a child process running another command,
    /// but `--progress` and `--metrics` (the parent chooses those).
    pub(crate) fn forwarded(&self) -> Vec<std::ffi::OsString> {
        let mut out: Vec<std::ffi::OsString> = Vec::new();
        if let Some(config) = &self.config {
            out.push("--config".into());
            out.push(config.into());
        }
        for set in &self.set {
            out.push("--set".into());
            out.push(set.into());
        }
        for (flag, value) in [
            ("--memory-limit", &self.memory_limit),
            ("--target-partitions", &self.target_partitions),
            ("--spill-dir", &self.spill_dir),
            ("--log-level", &self.log_level),
            ("--log-format", &self.log_format),
            ("--engine", &self.engine),
        ] {
            if let Some(value) = value {
                out.push(flag.into());
                out.push(value.into());
            }
        }
        out
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the main job on the embedded engine: sample panel, Parquet, partitioned copy, CSV, Delta table, features, scorecard, SQL profile.
    #[command(
        after_help = "Examples:\n  scorelake demo\n  scorelake demo --customers 200000 --out /tmp/scorelake-demo"
    )]
    Demo(DemoArgs),
    /// Generate the synthetic customer × month credit panel.
    #[command(
        after_help = "Examples:\n  scorelake sample --customers 500000 --out panel.parquet\n  scorelake sample --customers 1000 --months 36 --seed 7 --out s3://lake/panel/ --partition-by month"
    )]
    Sample(SampleArgs),
    /// Convert a table between formats, codecs and layouts.
    #[command(
        after_help = "Examples:\n  scorelake convert panel.csv panel.parquet --compression zstd:3\n  scorelake convert panel.parquet s3://lake/panel/ --partition-by month\n  scorelake convert data/ out.csv --from parquet --overwrite"
    )]
    Convert(ConvertArgs),
    /// Compute features from a recipe file: trends, window aggregations, transforms.
    #[command(
        after_help = "Examples:\n  scorelake features --recipes examples/panel-features.yaml --input panel.parquet --output features.parquet\n  scorelake features --recipes r.yaml --input train.parquet --output train_features.parquet --fitted fitted.json --lineage lineage.json\n  scorelake features --apply fitted.json --input s3://lake/new/ --output s3://lake/new_features/"
    )]
    Features(FeaturesArgs),
    /// Categorical encoding: fit frequency / target-mean / rare-grouping mappings on one table, apply them to another.
    #[command(
        after_help = "Examples:\n  scorelake encode --spec encoders.yaml --fit train.parquet --input test.parquet --output test_encoded.parquet --mappings mappings.json\n  scorelake encode --spec encoders.yaml --fit train.parquet --input train.parquet --out-of-fold --output train_encoded.parquet\n  scorelake encode --apply mappings.json --input s3://lake/new/ --output s3://lake/new_encoded/"
    )]
    Encode(EncodeArgs),
    /// Validate columns: missing rate, unique count, zero variance, min/max/mean/std, p01/p99, top share; PASS/WARN/FAIL (exit 3 on FAIL).
    #[command(
        after_help = "Examples:\n  scorelake validate --input features.parquet\n  scorelake validate --input s3://lake/features/ --columns balance,utilization --thresholds thresholds.yaml --report report.json\n  scorelake validate --input big.parquet --approx --report report.md\n  scorelake validate --input compressed.parquet --weight sample_weight"
    )]
    Validate(ValidateArgs),
    /// Population stability: PSI of numeric columns, CSI of categorical ones; two data sets or by period.
    #[command(
        after_help = "Examples:\n  scorelake drift --baseline train.parquet --current oot.parquet --columns balance,utilization,payment\n  scorelake drift --input panel.parquet --period-col month --baseline-periods 2023-01-01,2023-02-01 --columns balance --report psi.json\n  scorelake drift --input panel.parquet --period-col month --baseline-periods 2023-01-01,2023-02-01 --current-periods 2024-01-01,2024-02-01\n  scorelake drift --baseline a.parquet --current b.parquet --binning equal-width --bins 20 --detail\n  scorelake drift --baseline a.parquet --current b.parquet --binning quantile,equal-width"
    )]
    Drift(DriftArgs),
    /// Run a scorecard pipeline file: features, encoders, validation, binning, compression, model, points, evaluation.
    #[command(
        after_help = "Examples:\n  scorelake run examples/scorecard-pipeline.yaml\n  scorelake run pipeline.toml --output /tmp/run-2026-12\n\nArtifacts in the output folder: modelling.parquet, binning.json, binning_tables.md,\ncompressed.parquet, scorecard.json/.sql/.md, report.json/.md/.html (and features_fitted.json,\nmappings.json, validation.md when those steps run)."
    )]
    Run(RunArgs),
    /// Score a table with a scorecard (scorecard.json from `scorelake run`).
    #[command(
        after_help = "Examples:\n  scorelake score --scorecard out/scorecard.json --input new.parquet --output scored.parquet\n  scorelake score --scorecard card.json --input s3://lake/applications/ --output s3://lake/scored/ --score-column points"
    )]
    Score(ScoreArgs),
    /// Bin variables and compress the rows into weighted unique rows (sample_weight, event_weight, event_rate).
    #[command(
        after_help = "Examples:\n  scorelake compress --input panel.parquet --target default_flag --bin balance,utilization,payment,credit_limit --method quantile --bins 10 --segments product,region --output compressed.parquet\n  scorelake compress --input features.parquet --binning-spec binning.yaml --segments product --woe --output train.parquet --binning-out binning.json --report compression.json"
    )]
    Compress(CompressArgs),
    /// Run SQL over tables given by URL and print the result (or write it).
    #[command(
        after_help = "Examples:\n  scorelake sql \"SELECT count(*) FROM p\" --table p=panel.parquet\n  scorelake sql \"SELECT * FROM p WHERE days_past_due >= 90\" --table p=s3://lake/panel/ --output late.parquet"
    )]
    Sql(SqlArgs),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Work with NCF files.
    #[command(subcommand)]
    Ncf(NcfCommand),
    /// Delta Lake tables: history, compaction, vacuum, statistics.
    #[command(subcommand)]
    Delta(DeltaCommand),
    /// Run the processes of a Ballista cluster: one scheduler, any number of executors.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// The run records kept in observability.metrics_dir: list, show one, compare two.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Layout and skew: file and row-group sizes, partition columns, a key's spread over hash partitions, and what to change.
    #[command(subcommand)]
    Partitions(PartitionsCommand),
    /// Run a command several times and show where its time went: queries, operators, and the bottlenecks with what to change.
    #[command(
        after_help = "Examples:\n  scorelake profile -- features --recipes r.yaml --input panel.parquet --output f.parquet --overwrite\n  scorelake profile --runs 5 --json -- --memory-limit 1g validate --input features.parquet\n  scorelake profile --report profile.html -- drift --input panel.parquet --period-col month --baseline-periods 2024-01-01 --fail-on never\n\nThe command runs as a separate process each time, with --metrics; give commands that\nwrite an output --overwrite so that every run can write it."
    )]
    Profile(ProfileArgs),
}

impl Command {
    /// The command's name, as typed.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Demo(_) => "demo",
            Command::Sample(_) => "sample",
            Command::Convert(_) => "convert",
            Command::Features(_) => "features",
            Command::Encode(_) => "encode",
            Command::Validate(_) => "validate",
            Command::Drift(_) => "drift",
            Command::Run(_) => "run",
            Command::Compress(_) => "compress",
            Command::Score(_) => "score",
            Command::Sql(_) => "sql",
            Command::Ncf(_) => "ncf",
            Command::Delta(_) => "delta",
            Command::Cluster(_) => "cluster",
            Command::Config(_) => "config",
            Command::Runs(_) => "runs",
            Command::Partitions(_) => "partitions",
            Command::Profile(_) => "profile",
        }
    }

    /// The tables the command reads, as given (for `engine.kind = auto`,
    /// which weighs their size).
    pub(crate) fn inputs(&self) -> Vec<String> {
        let mut inputs: Vec<String> = match self {
            Command::Convert(a) => vec![a.input.clone()],
            Command::Features(a) => vec![a.input.clone()],
            Command::Encode(a) => a.fit.iter().chain([&a.input]).cloned().collect(),
            Command::Validate(a) => vec![a.input.clone()],
            Command::Drift(a) => [&a.baseline, &a.current, &a.input]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            Command::Score(a) => vec![a.input.clone()],
            Command::Compress(a) => vec![a.input.clone()],
            Command::Partitions(PartitionsCommand::Advise { table, .. }) => vec![table.clone()],
            Command::Sql(a) => a
                .tables
                .iter()
                .filter_map(|t| t.split_once('=').map(|(_, url)| url.to_string()))
                .collect(),
            Command::Delta(_)
            | Command::Demo(_)
            | Command::Sample(_)
            | Command::Run(_)
            | Command::Config(_)
            | Command::Ncf(_)
            | Command::Cluster(_)
            | Command::Runs(_)
            | Command::Profile(_) => Vec::new(),
        };
        inputs.dedup();
        inputs
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// Run a scheduler: plans the queries of `--engine ballista` clients and hands tasks to executors.
    #[command(
        after_help = "Examples:\n  scorelake cluster scheduler --bind 0.0.0.0:50050\n  SCORELAKE__STORAGE__S3__ENDPOINT=http://minio:9000 scorelake cluster scheduler --bind 127.0.0.1:50050\n\nPrints `scheduler listening on ADDRESS` once it accepts connections."
    )]
    Scheduler {
        /// Address to listen on (port 0: any free port).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
        bind: String,
        /// Seconds without a heartbeat after which an executor is lost and its tasks rerun elsewhere.
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        executor_timeout: u64,
    },
    /// Run an executor: registers with the scheduler and runs tasks; uses PORT and PORT+1.
    #[command(
        after_help = "Examples:\n  scorelake cluster executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50051 --concurrent-tasks 4 --work-dir /var/tmp/scorelake\n  scorelake cluster executor --scheduler sched.internal:50050 --bind 0.0.0.0:50051 --memory-limit 16g"
    )]
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, value_name = "HOST:PORT")]
        scheduler: String,
        /// Address of the data port; the task port is the next one.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
        bind: String,
        /// Tasks run at once (default: one per core).
        #[arg(long, value_name = "N", default_value_t = 0)]
        concurrent_tasks: usize,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// Every kept run, oldest first: id, command, outcome, wall and CPU time, peak memory.
    #[command(
        after_help = "Examples:\n  scorelake --set observability.metrics_dir=runs features --recipes r.yaml --input p.parquet --output f.parquet\n  scorelake --set observability.metrics_dir=runs runs list"
    )]
    List,
    /// One run: its figures and every plan's operators (rows, time, partitions, skew, spills).
    #[command(
        after_help = "Examples:\n  scorelake --set observability.metrics_dir=runs runs show 20261202-1027"
    )]
    Show {
        /// The run's id, or its start (from `runs list`).
        id: String,
    },
    /// Two runs (or two sets of repeated runs, by their medians) side by side: times and memory with their ratio, and the operators whose time changed.
    #[command(
        after_help = "Examples:\n  scorelake --set observability.metrics_dir=runs runs compare 20261202-1027 20261202-1031\n  scorelake --set observability.metrics_dir=runs runs compare 20261202-1027,20261202-1028,20261202-1029 20261202-1031,20261202-1032,20261202-1033"
    )]
    Compare {
        /// The first run (the reference), or several runs of one command separated by commas.
        first: String,
        /// The second run, or several separated by commas.
        second: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PartitionsCommand {
    /// Measure a table's layout (and a key's skew) and say what to change.
    #[command(
        after_help = "Examples:\n  scorelake partitions advise lake/accounts\n  scorelake partitions advise s3://lake/panel/ --key customer_id --json\n\nReads footers, the partition columns and the key only. Skew is measured with the\nengine's own hash partitioning, over engine.target_partitions partitions."
    )]
    Advise {
        /// The table (a file, a folder of files, a Delta table).
        table: String,
        /// A key to measure skew on (a join, grouping or entity column).
        #[arg(long, value_name = "COL")]
        key: Option<String>,
        /// File size to aim for (default delta.target_file_size), e.g. 256m.
        #[arg(long, value_name = "SIZE")]
        target_size: Option<String>,
        /// Hash partitions to spread the key over (default engine.target_partitions).
        #[arg(long, value_name = "N")]
        partitions: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DeltaCommand {
    /// List the table's versions, newest first: time, operation, parameters, files and rows added/removed, rows in the table.
    #[command(
        after_help = "Examples:\n  scorelake delta history lake/accounts\n  scorelake delta history s3://lake/accounts --limit 10 --json"
    )]
    History {
        /// The table (path, file://, s3://, delta://).
        table: String,
        /// Show only the newest N versions.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compact small files into larger ones (a new version; readers of older versions are unaffected).
    #[command(
        after_help = "Examples:\n  scorelake delta optimize lake/accounts\n  scorelake delta optimize s3://lake/accounts --z-order customer_id,month --target-size 256m"
    )]
    Optimize {
        /// The table.
        table: String,
        /// Rewrite the data in Z-order of these columns (comma-separated or repeated).
        #[arg(long = "z-order", value_name = "COL", value_delimiter = ',')]
        z_order: Vec<String>,
        /// Size of the files written (default delta.target_file_size), e.g. 256m.
        #[arg(long, value_name = "SIZE")]
        target_size: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List (default) or delete data files no version younger than the retention still reads.
    #[command(
        after_help = "Examples:\n  scorelake delta vacuum lake/accounts\n  scorelake delta vacuum lake/accounts --retain 720h --execute\n\nWithout --execute nothing is deleted. Time travel to versions older than the\nretention stops working once their files are gone."
    )]
    Vacuum {
        /// The table.
        table: String,
        /// Keep files that versions committed within this time still read, e.g. 168h or 30d.
        #[arg(long, value_name = "DURATION", default_value = "168h")]
        retain: String,
        /// Delete the files (default: only list them).
        #[arg(long)]
        execute: bool,
        /// Allow a retention shorter than the table's delta.deletedFileRetentionDuration.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Version, files, rows, bytes, partitions and per-column nulls/min/max from the table's log.
    #[command(
        after_help = "Examples:\n  scorelake delta stats lake/accounts\n  scorelake delta stats s3://lake/accounts --version-as-of 3 --json"
    )]
    Stats {
        /// The table.
        table: String,
        /// Describe this version (default: the newest).
        #[arg(long = "version-as-of", value_name = "N", conflicts_with = "as_of")]
        version: Option<u64>,
        /// Describe the newest version committed at or before this time.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NcfCommand {
    /// Print schema, semantic metadata, row groups, encodings and statistics, and verify every checksum.
    #[command(
        after_help = "Examples:\n  scorelake ncf inspect panel.ncf\n  scorelake ncf inspect panel.ncf --json\n  scorelake ncf inspect s3://lake/panel/part-0.ncf"
    )]
    Inspect {
        /// An NCF file: a local path, or an s3:// URL (fetched whole).
        file: String,
        /// Print the footer as JSON.
        #[arg(long)]
        json: bool,
        /// Print every row group's chunks (default: one line per column
        /// over the whole file).
        #[arg(long)]
        row_groups: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    /// Times to run the command.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub runs: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the profile to FILE: .html (a self-contained page), .json or .md.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The command to profile, after `--`, as it would be typed after `scorelake`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Customers in the generated panel.
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    /// Months in the panel.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder (replaced outputs inside it).
    #[arg(long, default_value = "scorelake-demo")]
    pub out: String,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Pipeline file (YAML, TOML or JSON); relative paths in it are taken from its folder.
    pub pipeline: PathBuf,
    /// Output folder instead of the file's `output`.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompressArgs {
    /// Input table URL.
    #[arg(long, value_name = "URL")]
    pub input: String,
    /// Output table URL.
    #[arg(long, value_name = "URL")]
    pub output: String,
    /// Binning spec (YAML, TOML or JSON: target, weight, defaults, variables); instead of --target/--bin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "bin"])]
    pub binning_spec: Option<PathBuf>,
    /// The 0/1 target.
    #[arg(long, value_name = "COL", required_unless_present = "binning_spec")]
    pub target: Option<String>,
    /// Variables to bin (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COLS",
        required_unless_present = "binning_spec"
    )]
    pub bin: Vec<String>,
    /// How numeric variables are binned (with --bin).
    #[arg(long, value_enum, default_value = "optimal")]
    pub method: MethodArg,
    /// Bins for quantile and equal-width binning (with --bin).
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Non-negative row weight column (with --bin).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// Segment columns kept through compression (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub segments: Vec<String>,
    /// Keep the WoE column of each variable too.
    #[arg(long)]
    pub woe: bool,
    /// Save the fitted binning (JSON).
    #[arg(long, value_name = "FILE")]
    pub binning_out: Option<PathBuf>,
    /// Save the compression report (JSON).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MethodArg {
    Optimal,
    Quantile,
    EqualWidth,
}

#[derive(Debug, Args)]
pub(crate) struct ScoreArgs {
    /// Scorecard artifact (JSON).
    #[arg(long, value_name = "FILE")]
    pub scorecard: PathBuf,
    /// Input table URL.
    #[arg(long, value_name = "URL")]
    pub input: String,
    /// Output table URL: the input's columns and the score.
    #[arg(long, value_name = "URL")]
    pub output: String,
    /// Name of the score column.
    #[arg(long, default_value = "score")]
    pub score_column: String,
    /// Name of the probability-of-default column (from the score, calibrated
    /// to the training event rate or the card's `pd_target_rate`).
    #[arg(long, default_value = "pd")]
    pub pd_column: String,
    /// Leave the PD out.
    #[arg(long)]
    pub no_pd: bool,
    /// Add each variable's points (`points_{variable}`).
    #[arg(long)]
    pub points: bool,
    /// Add this many reason codes (`reason_1`…): the variables that lost
    /// most points against their best bin.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub reasons: usize,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SampleArgs {
    /// Number of customers.
    #[arg(long)]
    pub customers: u64,
    /// Months of history.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First month, YYYY-MM.
    #[arg(long, default_value = "2023-01")]
    pub start: String,
    /// Output URL (path, file://, s3://); format from the extension or --to.
    #[arg(long)]
    pub out: String,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input URL: a file or a directory of files.
    pub input: String,
    /// Output URL.
    pub output: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FeaturesArgs {
    /// Recipe file (YAML, TOML or JSON).
    #[arg(long, value_name = "FILE", required_unless_present = "apply")]
    pub recipes: Option<PathBuf>,
    /// Input table URL.
    #[arg(long, value_name = "URL")]
    pub input: String,
    /// Output table URL.
    #[arg(long, value_name = "URL")]
    pub output: String,
    /// Fit on the input and save the learned values (means, medians) here.
    #[arg(long, value_name = "FILE", conflicts_with = "apply")]
    pub fitted: Option<PathBuf>,
    /// Apply learned values saved by --fitted instead of fitting.
    #[arg(long, value_name = "FILE")]
    pub apply: Option<PathBuf>,
    /// Write every output feature's sources, operation, parameters and dependencies (JSON).
    #[arg(long, value_name = "FILE")]
    pub lineage: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// Encoder spec (YAML, TOML or JSON).
    #[arg(
        long,
        value_name = "FILE",
        requires = "fit",
        required_unless_present = "apply"
    )]
    pub spec: Option<PathBuf>,
    /// Table to fit the mappings on.
    #[arg(long, value_name = "URL", conflicts_with = "apply")]
    pub fit: Option<String>,
    /// Apply mappings saved by --mappings instead of fitting.
    #[arg(long, value_name = "FILE")]
    pub apply: Option<PathBuf>,
    /// Table to encode.
    #[arg(long, value_name = "URL")]
    pub input: String,
    /// Output table URL.
    #[arg(long, value_name = "URL")]
    pub output: String,
    /// Save the fitted mappings here (JSON).
    #[arg(long, value_name = "FILE", conflicts_with = "apply")]
    pub mappings: Option<PathBuf>,
    /// The input is the fitting data: cross-fitted target encoders (spec
    /// `cross_fit`) give each row the value learned without its fold.
    #[arg(long)]
    pub out_of_fold: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Input table URL.
    #[arg(long, value_name = "URL")]
    pub input: String,
    /// Columns to validate (comma-separated; all by default).
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub columns: Option<Vec<String>>,
    /// Warning and failure thresholds (YAML, TOML or JSON); defaults: missing rate warn > 5 %, fail > 50 %; constant columns fail.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Also write the report here: .json, .csv or .md.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Approximate unique counts (HyperLogLog) and quantiles (t-digest), for huge tables.
    #[arg(long)]
    pub approx: bool,
    /// Non-negative weight column (e.g. sample_weight): metrics of the rows expanded by weight.
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// Baseline table URL.
    #[arg(
        long,
        value_name = "URL",
        requires = "current",
        conflicts_with = "input"
    )]
    pub baseline: Option<String>,
    /// Current table URL.
    #[arg(long, value_name = "URL")]
    pub current: Option<String>,
    /// One table split by period (with --period-col and --baseline-periods).
    #[arg(long, value_name = "URL", requires_all = ["period_col", "baseline_periods"])]
    pub input: Option<String>,
    /// Period column of --input.
    #[arg(long, value_name = "COL")]
    pub period_col: Option<String>,
    /// Periods forming the baseline (comma-separated, as text: 2023-01-01).
    #[arg(long, value_delimiter = ',', value_name = "P")]
    pub baseline_periods: Vec<String>,
    /// Periods forming the current side, compared as one set (default: each other period on its own).
    #[arg(long, value_delimiter = ',', value_name = "P", requires = "input")]
    pub current_periods: Vec<String>,
    /// Columns to compare (comma-separated; all numeric and text columns by default).
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub columns: Option<Vec<String>>,
    /// How numeric bins are cut on the baseline; a comma list computes
    /// several binnings in one run (one entry per column and binning).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "quantile")]
    pub binning: Vec<BinningArg>,
    /// Numeric bins.
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Share used for a bin that is empty on one side.
    #[arg(long, default_value_t = 1e-4)]
    pub floor: f64,
    /// Non-negative weight column (e.g. sample_weight).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// Numeric columns to treat as categories (already binned): CSI.
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub categorical: Vec<String>,
    /// Print every column's bins too.
    #[arg(long)]
    pub detail: bool,
    /// Also write the report here: .json or .md.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Exit 3 when a column's verdict is at least this (after the report
    /// is written): shifted, watch, or never.
    #[arg(long, value_enum, default_value = "shifted")]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The drift verdict that fails `drift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Shifted,
    Watch,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum BinningArg {
    Quantile,
    EqualWidth,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The query.
    pub query: String,
    /// A table for the query, NAME=URL (repeatable).
    #[arg(long = "table", value_name = "NAME=URL")]
    pub tables: Vec<String>,
    /// Write the result here instead of printing it.
    #[arg(long, value_name = "URL")]
    pub output: Option<String>,
    /// Most rows printed.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// How the result is printed: table, csv, json (an array of objects) or
    /// vertical (one block per row, for wide results).
    #[arg(long, value_enum, default_value = "table")]
    pub format: crate::output::PrintFormat,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// How inputs are read.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// Input format when the extension does not say.
    #[arg(long, value_enum)]
    pub from: Option<FormatArg>,
    /// Accept differing schemas: read a directory whose files have different
    /// (compatible) schemas as their union, and add new columns to a Delta
    /// output when appending.
    #[arg(long)]
    pub merge_schema: bool,
    /// Delta input: read this version (0 is the first commit). Named as
    /// Spark's `versionAsOf`, apart from the program's own `--version`.
    #[arg(long = "version-as-of", value_name = "N", conflicts_with = "as_of")]
    pub version: Option<u64>,
    /// Delta input: read the newest version committed at or before this time
    /// (RFC 3339, e.g. 2026-01-31T00:00:00Z, or a date).
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Keep the input's row order (files in path order, one partition; slower).
    #[arg(long)]
    pub preserve_order: bool,
    /// CSV input: field delimiter (io.csv_delimiter).
    #[arg(long, value_name = "CHAR")]
    pub csv_delimiter: Option<char>,
    /// CSV input has no header row.
    #[arg(long)]
    pub no_header: bool,
    /// CSV input: type of a column instead of the inferred one, COL=TYPE (int32, int64, float64, utf8, date, timestamp, bool).
    #[arg(long = "csv-type", value_name = "COL=TYPE")]
    pub csv_types: Vec<String>,
}

/// How outputs are written.
#[derive(Debug, Args)]
pub(crate) struct WriteArgs {
    /// Output format when the extension does not say.
    #[arg(long, value_enum)]
    pub to: Option<FormatArg>,
    /// Codec and level, e.g. zstd:3, snappy, gzip:6, lz4, none (NCF: none, lz4, zstd).
    #[arg(long, value_name = "CODEC[:LEVEL]")]
    pub compression: Option<String>,
    /// Partition the output folders by these columns, outermost first
    /// (comma-separated or repeated).
    #[arg(long = "partition-by", value_name = "COLS", value_delimiter = ',')]
    pub partition_by: Vec<String>,
    /// Replace the output if it exists (Delta: a new version with only this data).
    #[arg(long, conflicts_with = "append")]
    pub overwrite: bool,
    /// Delta output: add the data to the table as a new version (created if absent).
    #[arg(long)]
    pub append: bool,
    /// NCF output: semantic column metadata from a TOML/YAML/JSON file
    /// (`[columns.NAME] kind, pii, contains_pii, description, group`).
    #[arg(long, value_name = "FILE")]
    pub semantics: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum FormatArg {
    Parquet,
    Csv,
    Ncf,
    Delta,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print every key's effective value and where it came from (secrets redacted).
    #[command(
        after_help = "Examples:\n  scorelake config show\n  SCORELAKE__ENGINE__MEMORY_LIMIT=2g scorelake config show --json\n  scorelake --config lake.toml config show"
    )]
    Show {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List every key with what it expects and what it does.
    #[command(
        after_help = "Examples:\n  scorelake config keys\n  scorelake config keys --markdown"
    )]
    Keys {
        /// Print a Markdown table.
        #[arg(long)]
        markdown: bool,
    },
    /// Print the Spark configuration equivalent to this one (secrets redacted).
    #[command(after_help = "Examples:\n  scorelake --memory-limit 8g config spark")]
    Spark,
}
