//! `scorelake cluster`: the scheduler and executor processes of a Ballista
//! cluster, with ScoreLake's operators, functions, formats and storage.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use scorelake::config::Config;
use scorelake::engine::ballista::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};

use crate::args::ClusterCommand;
use crate::error::Usage;

/// Runs the process `cmd` names until it is stopped.
pub(crate) async fn cluster(config: Config, cmd: &ClusterCommand) -> Result<ExitCode> {
    match cmd {
        ClusterCommand::Scheduler {
            bind,
            executor_timeout,
        } => {
            let mut options = SchedulerOptions::new(address(bind, "--bind")?);
            options.executor_timeout = Duration::from_secs(*executor_timeout);
            run_scheduler(config, options, |addr| {
                // Scripts and tests wait for this line (and learn the port).
                println!("scheduler listening on {addr}");
            })
            .await
            .context("the scheduler stopped")?;
        }
        ClusterCommand::Executor {
            scheduler,
            bind,
            concurrent_tasks,
            work_dir,
        } => {
            let mut options =
                ExecutorOptions::new(address(scheduler, "--scheduler")?, address(bind, "--bind")?);
            options.concurrent_tasks = *concurrent_tasks;
            options.work_dir = work_dir.clone();
            eprintln!(
                "executor on {bind} (tasks on port {}), scheduler {scheduler}",
                options.bind.port().saturating_add(1)
            );
            run_executor(config, options)
                .await
                .context("the executor stopped")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `HOST:PORT` resolved to one address; `flag` names what was wrong.
fn address(text: &str, flag: &str) -> Result<SocketAddr> {
    match text.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(addr)) => Ok(addr),
        Ok(None) | Err(_) => bail!(Usage(format!(
            "{flag} expects HOST:PORT (e.g. 127.0.0.1:50050), got `{text}`"
        ))),
    }
}
