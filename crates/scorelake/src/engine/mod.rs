//! Where plans run. Domain modules build DataFusion plans; the
//! [`Session`] decides which engine executes them:
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
//! let choice = choose(&config, async { Ok(0) }).await?;
//! assert_eq!(choice.engine, Engine::Embedded);
//! assert!(choice.reason.contains("ballista.url"), "{}", choice.reason);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

pub mod ballista;

use std::future::Future;

use crate::config::{ByteSize, Config, EngineKind};
pub use crate::engine_choice::{Engine, EngineChoice};
use crate::error::{Error, Result};
use crate::session::Session;

/// Starts a session on the engine [`choose`] picks for a command whose
/// inputs hold `input_bytes` (awaited only for `engine.kind = auto`; see
/// [`io::input_bytes`](crate::io::input_bytes)); a chosen cluster must
/// answer within `ballista.connect_timeout`.
///
/// ```
/// use scorelake::{config::Config, engine::{self, Engine}};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = engine::start(Config::default(), async { Ok(0) }).await?;
/// assert_eq!(session.engine().engine, Engine::Embedded);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn start(
    config: Config,
    input_bytes: impl Future<Output = Result<u64>>,
) -> Result<Session> {
    let choice = choose(&config, input_bytes).await?;
    let Engine::Ballista { url } = &choice.engine else {
        return Session::new_embedded(config).map(|s| s.with_engine(choice));
    };
    ballista::reach_starting(url, config.ballista.connect_timeout).await?;
    let log = crate::session::plan_log(&config);
    let ctx = ballista::client_context(&config, url, log.clone())?;
    Ok(Session::from_parts(ctx, config, choice).with_plan_log(log))
}

/// Chooses the engine for a command whose inputs hold `input_bytes` (see
/// [`io::input_bytes`](crate::io::input_bytes); awaited only for `auto`).
///
/// `embedded` and `ballista` are taken as set (`ballista` needs
/// `ballista.url`). `auto` runs on the cluster when `ballista.url` is set and
/// the inputs' files (listed before anything runs) add up to more than
/// `engine.auto_threshold`; otherwise embedded. Whether the cluster answers
/// is checked when the session starts: a cluster that was chosen but does not
/// answer is an error, never a fallback.
pub async fn choose(
    config: &Config,
    input_bytes: impl Future<Output = Result<u64>>,
) -> Result<EngineChoice> {
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
            let bytes = input_bytes.await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigBuilder;

    #[tokio::test]
    async fn ballista_without_a_url_is_refused() {
        let config = ConfigBuilder::new()
            .set("engine.kind", "ballista", "test")
            .unwrap()
            .build()
            .unwrap();
        let e = start(config, async { Ok(0) })
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs the scheduler's address in ballista.url"),
            "{e}"
        );
    }
}
