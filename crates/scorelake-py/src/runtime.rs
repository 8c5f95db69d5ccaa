//! One engine runtime for the process, and waiting on it the way Python
//! expects: the GIL released (other threads run), Ctrl-C stopping the work.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use scorelake::config::Config;
use scorelake::console::Progress;
use tokio::runtime::Runtime;

use crate::errors::{ScoreLakeError, to_py};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// How often a wait looks for Ctrl-C (Python's pending signals).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The process's multi-threaded runtime, started on first use.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("scorelake")
        .build()
        .map_err(|e| ScoreLakeError::new_err(format!("cannot start the engine's threads: {e}")))?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Runs the future `work` makes to completion, on this thread, with the GIL
/// released, showing `label` with a spinner as `config`'s
/// `observability.progress` says (by default when stderr is a terminal).
/// Every 100 ms it lets Python handle pending signals: Ctrl-C raises
/// `KeyboardInterrupt` here and drops the work (its queries stop). Errors
/// are masked with `config`'s credentials.
pub(crate) fn wait<T, F>(
    py: Python<'_>,
    config: &Config,
    label: &str,
    work: impl FnOnce() -> F + Send,
) -> PyResult<T>
where
    T: Send,
    F: Future<Output = scorelake::Result<T>>,
{
    let rt = runtime()?;
    let outcome = py.detach(|| {
        rt.block_on(async move {
            let progress = Progress::new(config.observability.progress);
            let mut work = std::pin::pin!(progress.during(label, work()));
            let mut tick = tokio::time::interval(SIGNAL_CHECK);
            loop {
                tokio::select! {
                    done = &mut work => return Ok::<_, PyErr>(done),
                    _ = tick.tick() => {
                        Python::attach(|py| py.check_signals())?;
                    }
                }
            }
        })
    });
    outcome?.map_err(|e| to_py(e, Some(config)))
}
