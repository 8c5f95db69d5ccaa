//! From parsed flags to a command: the configuration, logging, the engine,
//! and the command that runs.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use scorelake::config::{Config, ConfigBuilder};
use scorelake::console::logging;

use crate::args::{Cli, Command, GlobalArgs, WriteArgs};
use crate::commands;
use crate::error::Usage;

/// Runs the command `cli` names; its exit code, or the error to report.
pub(crate) async fn run(cli: Cli) -> Result<ExitCode> {
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
        | Command::Cluster(_)
        | Command::Runs(_)
        | Command::Partitions(_)
        | Command::Profile(_)
        | Command::Validate(_)
        | Command::Drift(_) => None,
    };
    let config = build_config(&cli.global, write_args)?;
    logging::init(&config);
    // Commands that need no engine.
    match &cli.command {
        Command::Config(cmd) => return commands::config::config(&config, cmd).await,
        Command::Cluster(cmd) => return commands::cluster::cluster(config, cmd).await,
        Command::Runs(cmd) => return commands::runs::runs(config, cmd).await,
        Command::Profile(args) => return commands::profile::profile(args, &cli.global),
        Command::Ncf(cmd) => {
            if let Some(code) = commands::ncf::ncf_local(cmd)? {
                return Ok(code);
            }
        }
        _ => {}
    }
    let inputs = cli.command.inputs();
    let sizes = config.clone();
    let input_bytes = async move { scorelake::io::input_bytes(&sizes, &inputs).await };
    let session = scorelake::engine::start(config, input_bytes)
        .await
        .context("cannot start the engine")?;
    tracing::info!(engine = %session.engine(), "engine chosen");
    if let Command::Ncf(cmd) = cli.command {
        return commands::ncf::ncf(&session, cmd).await;
    }
    let session = &session;
    let progress = session.progress();
    let (run, name) = (scorelake::observe::Run::start(session), cli.command.name());
    let outcome = match cli.command {
        Command::Demo(args) => commands::demo::demo(session, progress, args).await,
        Command::Sample(args) => commands::sample::sample(session, progress, args).await,
        Command::Convert(args) => commands::convert::convert(session, progress, args).await,
        Command::Sql(args) => commands::sql::sql(session, progress, args).await,
        Command::Features(args) => commands::features::features(session, progress, args).await,
        Command::Validate(args) => commands::validate::validate(session, progress, args).await,
        Command::Encode(args) => commands::encode::encode(session, progress, args).await,
        Command::Drift(args) => commands::drift::drift(session, progress, args).await,
        Command::Run(args) => commands::run::run(session, progress, args).await,
        Command::Score(args) => commands::score::score(session, progress, args).await,
        Command::Compress(args) => commands::compress::compress(session, progress, args).await,
        Command::Delta(cmd) => commands::delta::delta(session, progress, cmd).await,
        Command::Partitions(cmd) => commands::partitions::partitions(session, progress, cmd).await,
        Command::Config(_)
        | Command::Ncf(_)
        | Command::Cluster(_)
        | Command::Runs(_)
        | Command::Profile(_) => {
            unreachable!("handled above")
        }
    };
    let o = &session.config().observability;
    if o.keeps_run_records() {
        let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        let record = run.finish(session, name, &command, error).await;
        if let Err(e) = record.save(session) {
            tracing::warn!("cannot write the run record: {e}");
        }
        if let Err(e) = scorelake::pipeline::history::append(session, &record).await {
            tracing::warn!("cannot append the run record to the history table: {e}");
        }
    }
    outcome
}

/// The configuration keys that have a flag of their own, with the flag.
pub(crate) const KEY_FLAGS: [(&str, &str); 8] = [
    ("engine.memory_limit", "--memory-limit"),
    ("engine.target_partitions", "--target-partitions"),
    ("engine.spill_dir", "--spill-dir"),
    ("observability.log_level", "--log-level"),
    ("observability.log_format", "--log-format"),
    ("observability.progress", "--progress"),
    ("observability.metrics_file", "--metrics"),
    ("engine.kind", "--engine"),
];

/// The configuration: defaults, file, environment, then the flags.
fn build_config(global: &GlobalArgs, write: Option<&WriteArgs>) -> Result<Config> {
    let mut b = ConfigBuilder::standard(global.config.as_deref())?;
    let values = [
        &global.memory_limit,
        &global.target_partitions,
        &global.spill_dir,
        &global.log_level,
        &global.log_format,
        &global.progress,
        &global.metrics,
        &global.engine,
    ];
    let flags = KEY_FLAGS.iter().zip(values).map(|((k, f), v)| (*k, *f, v));
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
