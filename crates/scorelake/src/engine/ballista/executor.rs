//! A Ballista executor with ScoreLake's functions, formats, codecs, object
//! stores and memory settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::prelude::SessionConfig;

use super::{LogicalCodec, PhysicalCodec, cluster_config, cluster_state};
use crate::config::Config;
use crate::error::{Error, Result};

/// How an executor runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExecutorOptions {
    /// The scheduler to register with.
    pub scheduler: SocketAddr,
    /// Address of the executor's data (Arrow Flight) port; the port after it
    /// is its task port. Both must be free.
    pub bind: SocketAddr,
    /// Tasks run at once (0: one per core).
    pub concurrent_tasks: usize,
    /// Folder for shuffle files; `None`: a temporary folder.
    pub work_dir: Option<PathBuf>,
    /// Interval of the heartbeats that tell the scheduler this executor lives.
    pub heartbeat: Duration,
}

impl ExecutorOptions {
    /// An executor of `scheduler` listening on `bind` (and the next port).
    pub fn new(scheduler: SocketAddr, bind: SocketAddr) -> Self {
        ExecutorOptions {
            scheduler,
            bind,
            concurrent_tasks: 0,
            work_dir: None,
            heartbeat: Duration::from_secs(5),
        }
    }
}

/// Registers with the scheduler and runs tasks until the process stops. A
/// scheduler still starting is waited for, up to `ballista.connect_timeout`.
///
/// Tasks run with `config`'s engine settings (memory limit and pool, spill
/// folder: `engine.memory_limit` is this process's, shared by its tasks)
/// and storage settings; the query's own settings come with each task.
pub async fn run_executor(config: Config, options: ExecutorOptions) -> Result<()> {
    let runtime = crate::session::runtime(&config)?;
    let base = cluster_config(&config)?;
    // The functions tasks find by name: ScoreLake's and the engine's.
    let with_version = base.clone().with_option_extension(super::ScoreLakeOptions {
        version: super::VERSION.into(),
    });
    let state = cluster_state(with_version, Arc::clone(&runtime), &config)?;
    let registry = BallistaFunctionRegistry::from(&state);
    let produce = move || -> SessionConfig { base.clone() };
    let scheduler = options.scheduler;
    let flight_port = options.bind.port();
    let grpc_port = flight_port.checked_add(1).ok_or_else(|| {
        Error::Config(format!(
            "executor port {flight_port} leaves no room for its task port"
        ))
    })?;
    let process = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        external_host: Some(options.bind.ip().to_string()),
        port: flight_port,
        grpc_port,
        scheduler_host: scheduler.ip().to_string(),
        scheduler_port: scheduler.port(),
        vcores: options.concurrent_tasks,
        work_dir: options
            .work_dir
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned()),
        executor_heartbeat_interval_seconds: options.heartbeat.as_secs().max(1),
        // Our runtime's memory pool as it is (engine.memory_limit), shared
        // by all tasks of the process.
        memory_pool_size: Some(0),
        override_function_registry: Some(Arc::new(registry)),
        override_config_producer: Some(Arc::new(produce)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            Ok(Arc::clone(&runtime))
        })),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    super::reach_starting(
        &format!("df://{scheduler}"),
        config.ballista.connect_timeout,
    )
    .await?;
    start_executor_process(Arc::new(process))
        .await
        .map_err(|e| {
            Error::Config(format!(
                "the executor on {} (scheduler {scheduler}) failed: {e}",
                options.bind
            ))
        })
}
