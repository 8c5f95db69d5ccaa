//! `scorelake delta …`: history, optimize, vacuum, stats.

use std::process::ExitCode;

use anyhow::{Result, bail};
use scorelake::config::ConfigValue;
use scorelake::console::Progress;
use scorelake::io::{TableVersion, delta};
use scorelake::session::Session;

use crate::args::DeltaCommand;
use crate::error::Usage;
use crate::options::size_flag;
use crate::output::{count, human_bytes, out, outln};

/// Runs the Delta maintenance command `cmd` and prints its answer.
pub(crate) async fn delta(
    session: &Session,
    progress: Progress,
    cmd: DeltaCommand,
) -> Result<ExitCode> {
    match cmd {
        DeltaCommand::History { table, limit, json } => {
            let commits = delta::history(
                session,
                &table,
                &delta::HistoryOptions::default().with_limit(limit),
            )
            .await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&commits)?)?;
            } else {
                out!("{}", delta::history_markdown(&commits))?;
            }
        }
        DeltaCommand::Optimize {
            table,
            z_order,
            target_size,
            json,
        } => {
            let target = size_flag("--target-size", target_size.as_deref())?;
            let options = delta::OptimizeOptions::default()
                .with_z_order(z_order)
                .with_target_size(target);
            let report = progress
                .during(
                    &format!("optimizing {table}"),
                    delta::optimize(session, &table, &options),
                )
                .await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                match report.version {
                    Some(v) => outln!(
                        "{table}: version {v}: {} ({}) rewritten as {} ({}) in {}{}",
                        count(report.files_removed as u64, "file"),
                        human_bytes(report.bytes_removed as u64),
                        count(report.files_added as u64, "file"),
                        human_bytes(report.bytes_added as u64),
                        count(report.partitions_optimized as u64, "partition"),
                        if report.z_order.is_empty() {
                            String::new()
                        } else {
                            format!(", z-ordered by {}", report.z_order.join(", "))
                        }
                    )?,
                    None => match report.already_at {
                        Some(v) => outln!(
                            "{table}: already z-ordered by {} at version {v}, no data changed since; no new version",
                            report.z_order.join(", ")
                        )?,
                        None => outln!("{table}: nothing to compact; no new version")?,
                    },
                }
            }
        }
        DeltaCommand::Vacuum {
            table,
            retain,
            execute,
            force,
            json,
        } => {
            let Some(retain) = std::time::Duration::parse_value(&retain) else {
                bail!(Usage(format!(
                    "--retain: `{retain}` is not {}",
                    std::time::Duration::expected()
                )));
            };
            let report = delta::vacuum(
                session,
                &table,
                &delta::VacuumOptions::default()
                    .with_retain(retain)
                    .with_dry_run(!execute)
                    .with_enforce_retention(!force),
            )
            .await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                for f in &report.files {
                    outln!("{f}")?;
                }
                if report.dry_run {
                    outln!(
                        "{} would be deleted (retention {}h); run with --execute to delete them",
                        count(report.files.len() as u64, "file"),
                        report.retain_hours
                    )?;
                } else {
                    outln!(
                        "{} deleted (retention {}h)",
                        count(report.files.len() as u64, "file"),
                        report.retain_hours
                    )?;
                }
            }
        }
        DeltaCommand::Stats {
            table,
            version,
            as_of,
            json,
        } => {
            let at = match (version, as_of) {
                (Some(n), _) => Some(TableVersion::Number(n)),
                (None, Some(t)) => Some(TableVersion::parse_as_of(&t)?),
                (None, None) => None,
            };
            let stats = delta::stats(session, &table, at).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&stats)?)?;
            } else {
                out!("{}", stats.to_markdown())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
