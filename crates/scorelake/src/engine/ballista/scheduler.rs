//! A Ballista scheduler with ScoreLake's planner, functions, formats,
//! codecs and object stores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::net::TcpListener;

use super::{LogicalCodec, PhysicalCodec, cluster_config, cluster_state};
use crate::config::Config;
use crate::error::{Error, Result};

/// How a scheduler runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SchedulerOptions {
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// Time without a heartbeat after which an executor counts as lost and
    /// its tasks run elsewhere.
    pub executor_timeout: Duration,
}

impl SchedulerOptions {
    /// A scheduler listening on `bind`, declaring executors lost after 30 s
    /// of silence.
    pub fn new(bind: SocketAddr) -> Self {
        SchedulerOptions {
            bind,
            executor_timeout: Duration::from_secs(30),
        }
    }
}

/// Binds the scheduler's port, then calls `ready` with the bound address
/// (the port is known even when `options.bind` asked for any) and serves
/// until the process stops.
///
/// The scheduler plans each query in a session built from `config`'s
/// engine settings and the query's own, with ScoreLake's planner, functions
/// and formats; it lists and opens the input files there, so it needs the
/// same storage settings (`storage.s3.*`) as the executors.
pub async fn run_scheduler(
    config: Config,
    options: SchedulerOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = TcpListener::bind(options.bind)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", options.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io(options.bind, e))?;
    let runtime = crate::session::runtime(&config)?;
    let producer_config = config.clone();
    let produce = move || -> SessionConfig {
        // Checked when the process started (see below), so this cannot fail.
        cluster_config(&producer_config).unwrap_or_default()
    };
    cluster_config(&config)?;
    let builder_config = config.clone();
    let scheduler_config = SchedulerConfig {
        bind_host: addr.ip().to_string(),
        bind_port: addr.port(),
        external_host: addr.ip().to_string(),
        executor_timeout_seconds: options.executor_timeout.as_secs().max(1),
        expire_dead_executor_interval_seconds: options.executor_timeout.as_secs().clamp(1, 15),
        override_session_builder: Some(Arc::new(move |sc: SessionConfig| {
            cluster_state(sc, Arc::clone(&runtime), &builder_config)
        })),
        override_config_producer: Some(Arc::new(produce)),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let scheduler_config = Arc::new(scheduler_config);
    let failed = |e: ballista_core::error::BallistaError| {
        Error::Config(format!("the scheduler on {addr} failed: {e}"))
    };
    let cluster = BallistaCluster::new_from_config(&scheduler_config)
        .await
        .map_err(failed)?;
    let server = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, scheduler_config)
        .await
        .map_err(failed)?;
    ready(addr);
    start_grpc_service_with_listener(listener, server)
        .await
        .map_err(failed)
}
