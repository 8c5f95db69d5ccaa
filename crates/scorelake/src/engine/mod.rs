//! Where plans run. Domain modules build DataFusion plans; the
//! [`Session`](crate::session::Session) decides which engine executes them:
//! the embedded engine in this process, or a [Ballista](ballista) cluster
//! (ScoreLake's own scheduler and executors) that runs the same plans with
//! the same operators and functions.
//!
//! [`choose`] turns `engine.kind` into an [`EngineChoice`] with the reason,
//! which every command logs:
//!
//! ```
//! use scorelake::config::ConfigBuilder;
//! use scorelake::engine::{Engine, choose};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // `auto` with no cluster configured stays in this process.
//! let config = ConfigBuilder::new().set("engine.kind", "auto", "example")?.build()?;
//! let choice = choose(&config, &[]).await?;
//! assert_eq!(choice.engine, Engine::Embedded);
//! assert!(choice.reason.contains("ballista.url"), "{}", choice.reason);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

pub mod ballista;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::DataFrame;
use futures::TryStreamExt;

use crate::config::{ByteSize, Config, EngineKind};
use crate::error::{Error, Result};
use crate::session::Session;

/// The engine a session runs its plans on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// DataFusion in this process.
    Embedded,
    /// The Ballista cluster whose scheduler answers at `url` (`df://host:port`).
    Ballista {
        /// The scheduler's URL as configured.
        url: String,
    },
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Embedded => f.write_str("embedded"),
            Engine::Ballista { url } => write!(f, "ballista at {url}"),
        }
    }
}

/// An [`Engine`] and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineChoice {
    /// The engine.
    pub engine: Engine,
    /// Why: the setting and where it came from, or the sizes `auto` compared.
    pub reason: String,
}

impl EngineChoice {
    /// The embedded engine, for `reason`.
    pub fn embedded(reason: impl Into<String>) -> Self {
        EngineChoice {
            engine: Engine::Embedded,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.engine, self.reason)
    }
}

/// Chooses the engine for a command reading `inputs` (URLs or paths).
///
/// `embedded` and `ballista` are taken as set (`ballista` needs
/// `ballista.url`). `auto` runs on the cluster when `ballista.url` is set and
/// the inputs' files (listed before anything runs) add up to more than
/// `engine.auto_threshold`; otherwise embedded. Whether the cluster answers
/// is checked when the session starts: a cluster that was chosen but does not
/// answer is an error, never a fallback.
pub async fn choose(config: &Config, inputs: &[String]) -> Result<EngineChoice> {
    let kind = config.engine.kind;
    let from = config
        .source_of("engine.kind")
        .map(|s| format!(", from {s}"))
        .unwrap_or_default();
    match kind {
        EngineKind::Embedded => Ok(EngineChoice::embedded(format!(
            "engine.kind = embedded{from}"
        ))),
        EngineKind::Ballista => Ok(EngineChoice {
            engine: Engine::Ballista {
                url: cluster_url(config)?,
            },
            reason: format!("engine.kind = ballista{from}"),
        }),
        EngineKind::Auto => {
            let Some(url) = config.ballista.url.clone() else {
                return Ok(EngineChoice::embedded(
                    "engine.kind = auto and no cluster is configured (ballista.url)",
                ));
            };
            let threshold = config.engine.auto_threshold;
            let probe = Session::new_embedded(config.clone())?;
            let mut bytes = 0u64;
            for input in inputs {
                bytes += crate::io::total_bytes(&probe, input.as_str()).await?;
            }
            let sizes = format!(
                "inputs {} {} engine.auto_threshold {threshold}",
                ByteSize(bytes),
                if bytes > threshold.0 { ">" } else { "<=" }
            );
            if bytes > threshold.0 {
                Ok(EngineChoice {
                    engine: Engine::Ballista { url },
                    reason: format!("engine.kind = auto: {sizes}"),
                })
            } else {
                Ok(EngineChoice::embedded(format!(
                    "engine.kind = auto: {sizes}"
                )))
            }
        }
    }
}

/// `ballista.url`, which `engine.kind = ballista` needs.
fn cluster_url(config: &Config) -> Result<String> {
    config.ballista.url.clone().ok_or_else(|| {
        Error::Config(
            "engine.kind = ballista needs the scheduler's address in ballista.url (e.g. df://127.0.0.1:50050)"
                .into(),
        )
    })
}

/// Whether `df` runs on another process than this one (a cluster).
pub(crate) fn runs_elsewhere(df: &DataFrame) -> bool {
    df.task_ctx()
        .session_config()
        .options()
        .extensions
        .get::<ballista::ScoreLakeOptions>()
        .is_some_and(|o| !o.version.is_empty())
}

/// `df`'s result as a plan of the embedded engine in this process, for
/// writers that must run here (delta-rs commits): the cluster computes `df`,
/// and its result streams in as it is written, one batch at a time. On the
/// embedded engine, `df` itself.
pub(crate) fn in_process(session: &Session, df: DataFrame) -> Result<DataFrame> {
    if session.engine().engine == Engine::Embedded {
        return Ok(df);
    }
    let schema = Arc::clone(df.schema().inner());
    let result = ClusterResult {
        df,
        schema: Arc::clone(&schema),
    };
    let table = StreamingTable::try_new(schema, vec![Arc::new(result)])?;
    let here = Session::new_embedded(session.config().clone())?;
    Ok(here.ctx().read_table(Arc::new(table))?)
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
