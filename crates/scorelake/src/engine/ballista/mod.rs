//! Running plans on an [Apache DataFusion Ballista](https://datafusion.apache.org/ballista/)
//! cluster made of ScoreLake's own processes.
//!
//! - The **client** (any command with `engine.kind = ballista`) builds the
//!   same DataFusion plans as the embedded engine and sends their logical
//!   form to the scheduler, encoded by [`LogicalCodec`]. Pieces the codec
//!   cannot encode fail on the client, by name, before any work starts.
//! - The **scheduler** ([`run_scheduler`]) plans them physically with
//!   ScoreLake's planner, functions, formats and object stores, and splits
//!   them into stages at each shuffle.
//! - The **executors** ([`run_executor`]) run the stages' tasks, encoded by
//!   [`PhysicalCodec`], with the same functions and formats, reading and
//!   writing the lake with their own credentials (from their own
//!   configuration; credentials never travel with a plan).
//!
//! Every process checks that the others run the same ScoreLake version: the
//! client's version travels with each query (`scorelake.version`) and inside
//! every encoded plan piece.

mod codec;
mod executor;
mod scheduler;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use ballista::extension::SessionStateExt;
use ballista_core::extension::{
    SessionConfigExt, ballista_aggregate_functions, ballista_scalar_functions,
    ballista_window_functions,
};
use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use codec::{LogicalCodec, PhysicalCodec};
pub use executor::{ExecutorOptions, run_executor};
pub use scheduler::{SchedulerOptions, run_scheduler};

use crate::config::Config;
use crate::engine_choice::scheduler_http;
use crate::error::{Error, Result};
use crate::functions::{PlanLog, RecordingPlanner, ScoreLakePlanner};
use crate::session;

/// The ScoreLake version every process of a cluster must share.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// ScoreLake's options in a query's settings (`scorelake.*`): the version
/// of the client that sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScoreLakeOptions {
    /// The client's ScoreLake version; empty when the sender did not say.
    pub version: String,
}

impl ConfigExtension for ScoreLakeOptions {
    const PREFIX: &'static str = "scorelake";
}

impl ExtensionOptions for ScoreLakeOptions {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::common::Result<()> {
        match key {
            "version" => {
                self.version = value.to_string();
                Ok(())
            }
            _ => Err(DataFusionError::Configuration(format!(
                "unknown option `scorelake.{key}`"
            ))),
        }
    }

    /// Entries carry their full key, so they travel with a query's settings.
    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: "scorelake.version".into(),
            value: Some(self.version.clone()),
            description: "The ScoreLake version of the client that sent the query.",
        }]
    }
}

/// `sc` for a client of the cluster: ScoreLake's codecs, its version, and
/// Ballista's settings; inputs' declared orders are not used.
///
/// Jobs use Ballista's static stage planner: its adaptive planner (55.0)
/// loses track of a finished stage that must rerun after an executor died,
/// and the job then waits forever.
pub(crate) fn client_config(mut sc: SessionConfig) -> SessionConfig {
    // A shuffle does not keep row order: the order-preserving repartitions
    // a declared input order leads the planner to (`engine.use_input_order`)
    // would hand the next stage its rows out of order. Clusters sort.
    sc.options_mut().optimizer.prefer_existing_sort = false;
    sc.with_option_extension(ScoreLakeOptions {
        version: VERSION.into(),
    })
    .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
    .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()))
    .upgrade_for_ballista()
    .with_ballista_adaptive_query_planner(false)
}

/// A context whose queries become jobs of the cluster whose scheduler is at
/// `url`, with `config`'s engine settings, and ScoreLake's formats and
/// functions (registered after Ballista reset the function lists).
/// With `log`, the jobs' plans are kept there.
pub(crate) fn client_context(
    config: &Config,
    url: &str,
    log: Option<Arc<PlanLog>>,
) -> Result<SessionContext> {
    let sc = client_config(session::session_config(config)?);
    let state = session::state_builder(sc, session::runtime(config)?).build();
    let mut state = state.upgrade_for_ballista(scheduler_http(url)?)?;
    if let Some(log) = log {
        let planner = RecordingPlanner::new(Arc::clone(state.query_planner()), log);
        state = SessionStateBuilder::new_from_existing(state)
            .with_query_planner(Arc::new(planner))
            .build();
    }
    let ctx = SessionContext::new_with_state(state);
    session::register_extensions(&ctx, config);
    Ok(ctx)
}

/// The session configuration every cluster process starts from: the
/// engine settings of `config`, ScoreLake's codecs, and an empty
/// `scorelake.version` that each query fills in.
pub(crate) fn cluster_config(config: &Config) -> Result<SessionConfig> {
    Ok(client_config(session::session_config(config)?)
        .with_option_extension(ScoreLakeOptions::default()))
}

/// The session a scheduler plans a query in (and whose functions executors
/// run): ScoreLake's planner, formats and functions over Ballista's, on the
/// process's `runtime`. Fails for a query from another ScoreLake version.
pub(crate) fn cluster_state(
    sc: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    config: &Config,
) -> datafusion::common::Result<SessionState> {
    check_version(&sc)?;
    let state = SessionStateBuilder::new()
        .with_config(sc)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_query_planner(Arc::new(ScoreLakePlanner::default()))
        .with_optimizer_rules(ballista_core::optimizer::ballista_default_optimizer_rules())
        .with_scalar_functions(ballista_scalar_functions())
        .with_aggregate_functions(ballista_aggregate_functions())
        .with_window_functions(ballista_window_functions())
        .build();
    let ctx = SessionContext::new_with_state(state);
    session::register_extensions(&ctx, config);
    Ok(ctx.state())
}

/// Fails unless the query's `scorelake.version` is this process's.
fn check_version(sc: &SessionConfig) -> datafusion::common::Result<()> {
    let theirs = sc
        .options()
        .extensions
        .get::<ScoreLakeOptions>()
        .map(|o| o.version.as_str())
        .unwrap_or_default();
    if theirs == VERSION {
        return Ok(());
    }
    let theirs = if theirs.is_empty() {
        "an unknown version"
    } else {
        theirs
    };
    Err(DataFusionError::Configuration(format!(
        "version mismatch: the client runs ScoreLake {theirs}, the cluster ScoreLake {VERSION}; run the same version everywhere"
    )))
}

/// Checks that a Ballista scheduler answers at `url` within `timeout`, so an
/// unreachable cluster fails before any work, naming the URL.
pub(crate) async fn reach(url: &str, timeout: Duration) -> Result<()> {
    let http = scheduler_http(url)?;
    let unreachable = |why: String| {
        Error::Config(format!(
            "cannot reach the Ballista scheduler at {url} (ballista.url): {why}"
        ))
    };
    let endpoint = ballista_core::utils::create_grpc_client_endpoint(http, None)
        .map_err(|e| unreachable(e.to_string()))?
        .connect_timeout(timeout);
    match tokio::time::timeout(timeout, endpoint.connect()).await {
        Ok(Ok(_channel)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(transport_cause(&e))),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s (ballista.connect_timeout)",
            timeout.as_secs_f64()
        ))),
    }
}

/// Waits for a scheduler that may still be starting: tries to reach it
/// until `timeout` has passed, then fails as [`reach`] does.
pub(crate) async fn reach_starting(url: &str, timeout: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match reach(url, left.max(Duration::from_millis(100))).await {
            Ok(()) => return Ok(()),
            Err(Error::Config(m)) if left.is_zero() && !m.contains("connect_timeout") => {
                return Err(Error::Config(format!(
                    "{m}, still after {} s (ballista.connect_timeout)",
                    timeout.as_secs_f64()
                )));
            }
            Err(e) if left.is_zero() => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The innermost cause of a connection failure ("Connection refused (os
/// error 111)"), not tonic's "transport error".
fn transport_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_versions_are_refused() {
        let ours = SessionConfig::new().with_option_extension(ScoreLakeOptions {
            version: VERSION.into(),
        });
        check_version(&ours).unwrap();
        let theirs = SessionConfig::new().with_option_extension(ScoreLakeOptions {
            version: "0.0.1".into(),
        });
        let e = check_version(&theirs).unwrap_err().to_string();
        assert!(
            e.contains("client runs ScoreLake 0.0.1") && e.contains(VERSION),
            "{e}"
        );
        let silent = SessionConfig::new().with_option_extension(ScoreLakeOptions::default());
        assert!(
            check_version(&silent)
                .unwrap_err()
                .to_string()
                .contains("unknown version")
        );
    }

    #[test]
    fn the_version_travels_with_a_query() {
        // What a client sends, applied as a scheduler applies it.
        let sent = client_config(SessionConfig::new()).options().entries();
        let mut received = SessionConfig::new().with_option_extension(ScoreLakeOptions::default());
        for entry in sent {
            if let Some(value) = entry.value {
                let _ = received.options_mut().set(&entry.key, &value);
            }
        }
        check_version(&received).unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_scheduler_is_named() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("df://127.0.0.1:{port}");
        let e = reach(&url, Duration::from_secs(2))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(&url) && e.contains("cannot reach"), "{e}");
        assert!(!e.contains("transport error"), "{e}");
    }
}
