//! What each command does.

use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use scorelake::config::{Config, ConfigBuilder, Format, LogFormat};
use scorelake::datafusion::arrow::datatypes::{DataType, TimeUnit};
use scorelake::datafusion::arrow::util::pretty::pretty_format_batches;
use scorelake::datafusion::logical_expr::LogicalPlan;
use scorelake::datafusion::physical_plan::{collect, display::DisplayableExecutionPlan};
use scorelake::datafusion::prelude::{DataFrame, SessionContext};
use scorelake::encoding::{self, EncoderSpec, Mappings};
use scorelake::io::{self, CsvReadOptions, ReadOptions, TableVersion, WriteMode, WriteOptions};
use scorelake::pipeline::{self, DemoOptions, FeaturesJob, ScorecardPipeline};
use scorelake::quality::{self, Binning, DriftOptions, Status, Thresholds, ValidateOptions};
use scorelake::sample::{self, SampleSpec};
use scorelake::scorecard::{self, BinMethod, BinningSpec, Scorecard, Settings, VariableSpec};
use scorelake::session::Session;

use crate::args::{
    BinningArg, Cli, Command, CompressArgs, ConfigCommand, DemoArgs, DriftArgs, EncodeArgs,
    FeaturesArgs, FormatArg, GlobalArgs, MethodArg, NcfCommand, ReadArgs, RunArgs, SampleArgs,
    ScoreArgs, SqlArgs, ValidateArgs, WriteArgs,
};
use crate::progress::Progress;

/// A usage mistake found after parsing (exit code 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let write_args = match &cli.command {
        Command::Sample(a) => Some(&a.write),
        Command::Convert(a) => Some(&a.write),
        Command::Sql(a) => Some(&a.write),
        Command::Features(a) => Some(&a.write),
        Command::Encode(a) => Some(&a.write),
        Command::Score(a) => Some(&a.write),
        Command::Compress(a) => Some(&a.write),
        Command::Demo(_)
        | Command::Run(_)
        | Command::Config(_)
        | Command::Ncf(_)
        | Command::Delta(_)
        | Command::Validate(_)
        | Command::Drift(_) => None,
    };
    let config = build_config(&cli.global, write_args)?;
    init_logging(&config);
    if let Command::Config(cmd) = &cli.command {
        return config_command(&config, cmd);
    }
    let remote_inspect = match &cli.command {
        Command::Ncf(NcfCommand::Inspect { file, json }) => {
            let location = io::Location::parse(file)?;
            match location.local_path() {
                Some(path) => {
                    let opened = std::fs::File::open(&path)
                        .with_context(|| format!("cannot open {}", path.display()))?;
                    crate::inspect::inspect(file, opened, *json)?;
                    return Ok(ExitCode::SUCCESS);
                }
                None => Some((file.clone(), *json)),
            }
        }
        _ => None,
    };
    let progress = Progress::new(config.observability.progress);
    let session = Session::new(config).context("cannot start the engine")?;
    if let Some((url, json)) = remote_inspect {
        let bytes = io::fetch(&session, &url).await?;
        crate::inspect::inspect(&url, bytes, json)?;
        return Ok(ExitCode::SUCCESS);
    }
    Session::set_global(session.clone());
    match cli.command {
        Command::Demo(args) => demo(&session, progress, args).await,
        Command::Sample(args) => sample(&session, progress, args).await,
        Command::Convert(args) => {
            let started = Instant::now();
            let spinner = progress.spinner(&format!("{} → {}", args.input, args.output));
            let summary = io::convert(
                &session,
                &args.input,
                &args.output,
                &read_options(&args.read)?,
                &write_options(&args.write, Some(&args.read))?,
            )
            .await;
            spinner.finish_and_clear();
            let summary = summary?;
            let secs = started.elapsed().as_secs_f64();
            let read_bytes = io::total_bytes(&session, &args.input).await?;
            println!(
                "converted {} rows: {} ({}) → {} ({}, {}, {:.2}× the input) in {:.2}s ({:.2}M rows/s)",
                summary.rows,
                args.input,
                human_bytes(read_bytes),
                summary.location,
                match summary.version {
                    Some(v) => format!("{} version {v}", summary.format),
                    None => summary.format.to_string(),
                },
                human_bytes(summary.bytes),
                summary.bytes as f64 / read_bytes.max(1) as f64,
                secs,
                summary.rows as f64 / secs / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Sql(args) => sql(&session, progress, args).await,
        Command::Features(args) => features(&session, progress, args).await,
        Command::Validate(args) => validate(&session, progress, args).await,
        Command::Encode(args) => encode(&session, progress, args).await,
        Command::Drift(args) => drift(&session, progress, args).await,
        Command::Run(args) => run_pipeline(&session, progress, args).await,
        Command::Score(args) => score(&session, progress, args).await,
        Command::Compress(args) => compress(&session, progress, args).await,
        Command::Delta(cmd) => crate::delta::delta(&session, cmd).await,
        Command::Config(_) | Command::Ncf(_) => unreachable!("handled above"),
    }
}

fn build_config(global: &GlobalArgs, write: Option<&WriteArgs>) -> Result<Config> {
    let mut b = ConfigBuilder::standard(global.config.as_deref())?;
    let flags = [
        (
            "engine.memory_limit",
            "--memory-limit",
            &global.memory_limit,
        ),
        (
            "engine.target_partitions",
            "--target-partitions",
            &global.target_partitions,
        ),
        ("engine.spill_dir", "--spill-dir", &global.spill_dir),
        ("observability.log_level", "--log-level", &global.log_level),
        (
            "observability.log_format",
            "--log-format",
            &global.log_format,
        ),
        ("observability.progress", "--progress", &global.progress),
    ];
    for (key, flag, value) in flags {
        if let Some(v) = value {
            b = b.set(key, v, flag)?;
        }
    }
    for kv in &global.set {
        let Some((k, v)) = kv.split_once('=') else {
            bail!(Usage(format!("--set expects KEY=VALUE, got `{kv}`")));
        };
        b = b.set(k.trim(), v.trim(), "--set")?;
    }
    if let Some(c) = write.and_then(|w| w.compression.as_deref()) {
        let (codec, level) = c.split_once(':').map_or((c, ""), |(a, b)| (a, b));
        b = b.set("io.compression", codec, "--compression")?;
        b = b.set("io.compression_level", level, "--compression")?;
    }
    Ok(b.build()?)
}

fn init_logging(config: &Config) {
    let level = config.observability.log_level.as_str();
    let filter = tracing_subscriber::EnvFilter::new(format!("scorelake={level},{level}"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.observability.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn config_command(config: &Config, cmd: &ConfigCommand) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Show { json } => {
            let shown = config.show();
            if *json {
                let rows: Vec<_> = shown
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "key": k.key, "value": k.value, "source": k.source.to_string()
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                let width = shown.iter().map(|k| k.key.len()).max().unwrap_or(0);
                let vwidth = shown
                    .iter()
                    .map(|k| k.value.len())
                    .max()
                    .unwrap_or(0)
                    .min(40);
                for k in shown {
                    println!("{:<width$}  {:<vwidth$}  {}", k.key, k.value, k.source);
                }
            }
        }
        ConfigCommand::Keys { markdown } => {
            let defaults = Config::default().show();
            let default_of = |key: &str| {
                defaults
                    .iter()
                    .find(|k| k.key == key)
                    .map(|k| k.value.clone())
                    .unwrap_or_default()
            };
            if *markdown {
                println!("| key | default | expects | what it does |\n|---|---|---|---|");
            }
            for k in scorelake::config::keys() {
                let (help, default) = (k.help.trim(), default_of(k.key));
                if *markdown {
                    println!("| `{}` | {} | {} | {help} |", k.key, default, k.expected);
                } else {
                    println!(
                        "{}\n    default: {default}\n    expects: {}\n    {help}",
                        k.key, k.expected
                    );
                }
            }
        }
        ConfigCommand::Spark => {
            for (k, v) in config.to_spark_conf_redacted() {
                println!("{k}={v}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(session: &Session, progress: Progress, args: DemoArgs) -> Result<ExitCode> {
    let options = DemoOptions {
        sample: SampleSpec {
            customers: args.customers,
            months: args.months,
            seed: args.seed,
            ..SampleSpec::default()
        },
        out_dir: args.out,
    };
    let spinner = progress.spinner("demo");
    let on_step = |step: &str| spinner.set_message(step.to_string());
    let report = pipeline::demo(session, &options, &on_step).await;
    spinner.finish_and_clear();
    println!("{}", report.context("demo failed")?);
    Ok(ExitCode::SUCCESS)
}

async fn run_pipeline(session: &Session, progress: Progress, args: RunArgs) -> Result<ExitCode> {
    let mut spec = ScorecardPipeline::from_path(&args.pipeline)?;
    if let Some(out) = args.output {
        spec.output = out;
    }
    let spinner = progress.spinner(&format!("pipeline {}", args.pipeline.display()));
    let report = pipeline::run_scorecard_pipeline(session, &spec).await;
    spinner.finish_and_clear();
    let report = report.with_context(|| format!("pipeline {} failed", args.pipeline.display()))?;
    println!("{report}");
    println!("artifacts in {}", report.output.display());
    Ok(ExitCode::SUCCESS)
}

async fn compress(session: &Session, progress: Progress, args: CompressArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let spec = match &args.binning_spec {
        Some(path) => BinningSpec::from_path(path)?,
        None => BinningSpec {
            target: args.target.clone().unwrap_or_default(),
            weight: args.weight.clone(),
            defaults: Settings {
                method: Some(match args.method {
                    MethodArg::Optimal => BinMethod::Optimal,
                    MethodArg::Quantile => BinMethod::Quantile,
                    MethodArg::EqualWidth => BinMethod::EqualWidth,
                }),
                bins: Some(args.bins),
                ..Settings::default()
            },
            variables: args
                .bin
                .iter()
                .map(|c| VariableSpec {
                    column: c.clone(),
                    settings: Settings::default(),
                })
                .collect(),
        },
    };
    let read = read_options(&args.read)?;
    let write = write_options(&args.write, Some(&args.read))?;
    let spinner = progress.spinner(&format!("binning and compressing {}", args.input));
    let result = async {
        let df = io::read(session, &args.input, &read).await?;
        let binning = scorecard::fit_binning(&df, &spec).await?;
        if let Some(path) = &args.binning_out {
            binning.save(path)?;
        }
        let (compressed, report) = binning
            .compress_fitted(df, None, &args.segments, args.woe)
            .await?;
        let written = io::write(session, compressed, &args.output, &write).await?;
        Ok::<_, scorelake::Error>((binning, report, written))
    }
    .await;
    spinner.finish_and_clear();
    let (binning, report, written) = result?;
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", binning.iv_table());
    println!(
        "compressed {} rows (weight {}, events {}) into {} rows ({:.1}×, {} rows eliminated, ~{} → {} in memory) → {} in {:.2}s",
        report.input_rows,
        report.input_weight,
        report.input_events,
        report.output_rows,
        report.ratio,
        report.rows_eliminated,
        human_bytes(report.input_bytes_estimate),
        human_bytes(report.output_bytes),
        written.location,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn score(session: &Session, progress: Progress, args: ScoreArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let card = Scorecard::load(&args.scorecard)?;
    let read = read_options(&args.read)?;
    let write = write_options(&args.write, Some(&args.read))?;
    let spinner = progress.spinner(&format!("scoring {} → {}", args.input, args.output));
    let result = async {
        let df = io::read(session, &args.input, &read).await?;
        let scored = card.score(df, &args.score_column)?;
        io::write(session, scored, &args.output, &write).await
    }
    .await;
    spinner.finish_and_clear();
    let written = result?;
    println!(
        "scored {} rows with {} variables into {} (column `{}`) in {:.2}s",
        written.rows,
        card.variables.len(),
        written.location,
        args.score_column,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn features(session: &Session, progress: Progress, args: FeaturesArgs) -> Result<ExitCode> {
    let job = FeaturesJob {
        recipes: args.recipes,
        input: args.input,
        output: args.output,
        fitted: args.fitted,
        apply: args.apply,
        lineage: args.lineage,
        read: read_options(&args.read)?,
        write: write_options(&args.write, Some(&args.read))?,
    };
    let spinner = progress.spinner(&format!("features {} → {}", job.input, job.output));
    let report = pipeline::run_features(session, &job).await;
    spinner.finish_and_clear();
    let report = report?;
    println!(
        "wrote {} rows with {} features to {} in {:.2}s ({:.2}M rows/s){}",
        report.written.rows,
        report.features.len(),
        report.written.location,
        report.seconds,
        report.written.rows as f64 / report.seconds / 1e6,
        match (&job.fitted, report.fitted_here) {
            (Some(path), _) => format!("; learned values saved to {}", path.display()),
            (None, true) =>
                "; learned values fitted on this input (not saved: use --fitted FILE)".into(),
            (None, false) => String::new(),
        }
    );
    if let Some(path) = &job.lineage {
        println!("lineage written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn encode(session: &Session, progress: Progress, args: EncodeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let read = read_options(&args.read)?;
    let mappings = match (&args.apply, &args.spec, &args.fit) {
        (Some(path), _, _) => Mappings::load(path)?,
        (None, Some(spec), Some(fit_url)) => {
            let spec = EncoderSpec::load(spec)?;
            let spinner = progress.spinner(&format!("fitting on {fit_url}"));
            let train = io::read(session, fit_url, &read).await;
            let fitted = match train {
                Ok(df) => encoding::fit(&df, &spec).await,
                Err(e) => Err(e),
            };
            spinner.finish_and_clear();
            let fitted = fitted?;
            if let Some(path) = &args.mappings {
                fitted.save(path)?;
            }
            fitted
        }
        _ => bail!(Usage("give --spec and --fit, or --apply".into())),
    };
    let write = write_options(&args.write, Some(&args.read))?;
    let spinner = progress.spinner(&format!("{} → {}", args.input, args.output));
    let result = async {
        let df = io::read(session, &args.input, &read).await?;
        let encoded = if args.out_of_fold {
            mappings.transform_out_of_fold(df).await?
        } else {
            mappings.transform(df).await?
        };
        io::write(session, encoded, &args.output, &write).await
    }
    .await;
    spinner.finish_and_clear();
    let written = result?;
    println!(
        "wrote {} rows with {} encoded columns to {} in {:.2}s{}",
        written.rows,
        mappings.encoders.len(),
        written.location,
        started.elapsed().as_secs_f64(),
        match &args.mappings {
            Some(path) => format!("; mappings saved to {}", path.display()),
            None => String::new(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

async fn validate(session: &Session, progress: Progress, args: ValidateArgs) -> Result<ExitCode> {
    let thresholds = match &args.thresholds {
        Some(path) => Thresholds::load(path)?,
        None => Thresholds::default(),
    };
    let report_format = match &args.report {
        None => None,
        Some(path) => match path.extension().and_then(|e| e.to_str()) {
            Some(ext @ ("json" | "csv" | "md")) => Some(ext.to_string()),
            _ => bail!(Usage(format!(
                "--report {}: expected a .json, .csv or .md file",
                path.display()
            ))),
        },
    };
    let options = ValidateOptions {
        columns: args.columns,
        thresholds,
        approximate: args.approx,
        weight: args.weight,
    };
    let spinner = progress.spinner(&format!("validating {}", args.input));
    let df = io::read(session, &args.input, &read_options(&args.read)?).await;
    let report = match df {
        Ok(df) => quality::validate(&df, &options).await,
        Err(e) => Err(e),
    };
    spinner.finish_and_clear();
    let report = report?;
    println!("{}", report.to_markdown());
    if let (Some(path), Some(ext)) = (&args.report, report_format) {
        let text = match ext.as_str() {
            "json" => report.to_json(),
            "csv" => report.to_csv(),
            _ => report.to_markdown(),
        };
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if report.status == Status::Fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

async fn drift(session: &Session, progress: Progress, args: DriftArgs) -> Result<ExitCode> {
    let json = match &args.report {
        None => false,
        Some(path) => match path.extension().and_then(|e| e.to_str()) {
            Some("json") => true,
            Some("md") => false,
            _ => bail!(Usage(format!(
                "--report {}: expected a .json or .md file",
                path.display()
            ))),
        },
    };
    let options = DriftOptions {
        binning: match args.binning {
            BinningArg::Quantile => Binning::Quantile,
            BinningArg::EqualWidth => Binning::EqualWidth,
        },
        bins: args.bins,
        floor: args.floor,
        weight: args.weight.clone(),
        categorical: args.categorical.clone(),
        ..DriftOptions::default()
    };
    let read = read_options(&args.read)?;
    let spinner = progress.spinner("drift");
    let columns = args.columns.as_deref();
    let report = async {
        match (&args.baseline, &args.current, &args.input, &args.period_col) {
            (Some(b), Some(c), _, _) => {
                let base = io::read(session, b, &read).await?;
                let now = io::read(session, c, &read).await?;
                quality::drift(&base, &now, columns, &options).await
            }
            (_, _, Some(input), Some(period)) => {
                let df = io::read(session, input, &read).await?;
                let base = &args.baseline_periods;
                if args.current_periods.is_empty() {
                    quality::drift_by_period(&df, period, base, columns, &options).await
                } else {
                    let now = &args.current_periods;
                    quality::drift_between_periods(&df, period, base, now, columns, &options).await
                }
            }
            _ => Err(scorelake::Error::InvalidInput(
                "give --baseline and --current, or --input with --period-col and --baseline-periods"
                    .into(),
            )),
        }
    }
    .await;
    spinner.finish_and_clear();
    let report = report?;
    println!("{}", report.to_markdown(args.detail));
    if let Some(path) = &args.report {
        let text = if json {
            report.to_json()
        } else {
            report.to_markdown(true)
        };
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn sample(session: &Session, progress: Progress, args: SampleArgs) -> Result<ExitCode> {
    let start = chrono_month(&args.start)?;
    let spec = SampleSpec {
        customers: args.customers,
        months: args.months,
        seed: args.seed,
        start,
    };
    let started = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.counter(spec.customers, Arc::clone(&counter), "customers");
    let df = sample::dataframe(session, &spec, Some(counter))?;
    let result = io::write(session, df, &args.out, &write_options(&args.write, None)?).await;
    bar.finish_and_clear();
    let summary = result?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {} rows ({} customers × up to {} months) to {} in {:.2}s ({:.2}M rows/s)",
        summary.rows,
        spec.customers,
        spec.months,
        summary.location,
        secs,
        summary.rows as f64 / secs / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn chrono_month(text: &str) -> Result<scorelake::sample::NaiveDate> {
    scorelake::sample::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map_err(|_| Usage(format!("--start expects YYYY-MM, got `{text}`")).into())
}

async fn sql(session: &Session, progress: Progress, args: SqlArgs) -> Result<ExitCode> {
    let read = read_options(&args.read)?;
    let ctx = io::with_url_tables(session, session.new_context(), read.clone());
    for spec in &args.tables {
        let Some((name, url)) = spec.split_once('=') else {
            bail!(Usage(format!("--table expects NAME=URL, got `{spec}`")));
        };
        let df = io::read(session, url, &read)
            .await
            .with_context(|| format!("table `{name}`"))?;
        ctx.register_table(name, df.into_view())?;
    }
    let spinner = progress.spinner("running query");
    let df = ctx.sql(&args.query).await;
    let result = match (df, &args.output) {
        (Err(e), _) => Err(anyhow::Error::from(scorelake::Error::from(e))),
        (Ok(df), Some(out)) => match write_options(&args.write, Some(&args.read)) {
            Ok(options) => io::write(session, df, out, &options)
                .await
                .map(|s| format!("wrote {} rows to {}", s.rows, s.location))
                .map_err(Into::into),
            Err(e) => Err(e),
        },
        (Ok(df), None) => {
            print_query(&ctx, df, args.limit, session.config().observability.metrics).await
        }
    };
    spinner.finish_and_clear();
    println!("{}", result?);
    Ok(ExitCode::SUCCESS)
}

/// Runs `df`, returns at most `limit` rows as a table; with `metrics`, prints
/// the executed plan with per-operator metrics to stderr.
async fn print_query(
    ctx: &SessionContext,
    df: DataFrame,
    limit: usize,
    metrics: bool,
) -> Result<String> {
    // EXPLAIN must stay the root of its plan; its output is small anyway.
    let explain = matches!(
        df.logical_plan(),
        LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)
    );
    let df = if explain {
        df
    } else {
        df.limit(0, Some(limit + 1))?
    };
    let plan = df.create_physical_plan().await?;
    let mut batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    if metrics {
        eprintln!(
            "{}",
            DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true)
        );
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut more = String::new();
    if rows > limit {
        let mut left = limit;
        for b in &mut batches {
            let take = left.min(b.num_rows());
            *b = b.slice(0, take);
            left -= take;
        }
        more = format!("\n(first {limit} rows shown; raise --limit for more)");
    }
    Ok(format!("{}{more}", pretty_format_batches(&batches)?))
}

fn read_options(args: &ReadArgs) -> Result<ReadOptions> {
    let delimiter = match args.csv_delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => bail!(Usage(format!(
            "--csv-delimiter must be one ASCII character, got `{c}`"
        ))),
        None => None,
    };
    let column_types = args
        .csv_types
        .iter()
        .map(|spec| {
            let (col, ty) = spec
                .split_once('=')
                .ok_or_else(|| Usage(format!("--csv-type expects COL=TYPE, got `{spec}`")))?;
            Ok((col.to_string(), data_type(ty)?))
        })
        .collect::<Result<_>>()?;
    let version = match (args.version, &args.as_of) {
        (Some(n), _) => Some(TableVersion::Number(n)),
        (None, Some(t)) => {
            Some(TableVersion::parse_as_of(t).map_err(|e| Usage(format!("--as-of: {e}")))?)
        }
        (None, None) => None,
    };
    Ok(ReadOptions {
        format: args.from.map(format),
        merge_schema: args.merge_schema,
        preserve_order: args.preserve_order,
        version,
        csv: CsvReadOptions {
            delimiter,
            has_header: args.no_header.then_some(false),
            infer_rows: None,
            column_types,
        },
    })
}

fn data_type(name: &str) -> Result<DataType> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" | "int" => DataType::Int32,
        "int64" | "bigint" => DataType::Int64,
        "float32" | "float" => DataType::Float32,
        "float64" | "double" => DataType::Float64,
        "utf8" | "string" | "str" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        "date" | "date32" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        other => bail!(Usage(format!(
            "unknown column type `{other}`; expected int8, int16, int32, int64, float32, float64, utf8, bool, date or timestamp"
        ))),
    })
}

/// Write options from the flags; `read` brings `--merge-schema`, where the command has it.
fn write_options(args: &WriteArgs, read: Option<&ReadArgs>) -> Result<WriteOptions> {
    let semantics = match &args.semantics {
        Some(path) => scorelake::formats::ncf::load_semantics(path)?,
        None => Default::default(),
    };
    Ok(WriteOptions {
        format: args.to.map(format),
        mode: if args.overwrite {
            WriteMode::Overwrite
        } else if args.append {
            WriteMode::Append
        } else {
            WriteMode::ErrorIfExists
        },
        partition_by: args.partition_by.clone(),
        semantics,
        merge_schema: read.is_some_and(|r| r.merge_schema),
    })
}

fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Parquet => Format::Parquet,
        FormatArg::Csv => Format::Csv,
        FormatArg::Ncf => Format::Ncf,
        FormatArg::Delta => Format::Delta,
    }
}

/// `1.5 GB`-style sizes (decimal units).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
