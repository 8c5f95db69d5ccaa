//! One engine runtime for the process, and waiting on it the way Python
//! expects: the GIL released (other threads run), Ctrl-C stopping the work.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use scorelake::config::{Config, ProgressMode};
use scorelake::console::Progress;
use tokio::runtime::Runtime;

use crate::errors::{ScoreLakeError, to_py};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// How often a wait looks for Ctrl-C (Python's pending signals).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A call shorter than this shows no progress in a notebook.
const QUIET: Duration = Duration::from_secs(1);

/// How often a notebook's progress line is updated.
const NOTEBOOK_EVERY: Duration = Duration::from_millis(500);

/// Tells `scorelake._progress` (which draws under a notebook's cell) how
/// long `label` has run; errors of the display are not the work's.
fn notebook(label: &str, elapsed: Duration, done: bool) {
    Python::attach(|py| {
        let shown = py
            .import("scorelake._progress")
            .and_then(|m| m.call_method1("update", (label, elapsed.as_secs_f64(), done)));
        if let Err(e) = shown {
            e.print(py);
        }
    });
}

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
/// released, showing `label` as `config`'s `observability.progress` says:
/// a spinner when stderr is a terminal, a line under the cell in a notebook
/// (calls over a second).
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
            let mode = config.observability.progress;
            let progress = Progress::new(mode);
            let mut work = std::pin::pin!(progress.during(label, work()));
            let mut tick = tokio::time::interval(SIGNAL_CHECK);
            let started = Instant::now();
            let (mut shown, mut last) = (false, started);
            loop {
                tokio::select! {
                    done = &mut work => {
                        if shown {
                            notebook(label, started.elapsed(), true);
                        }
                        return Ok::<_, PyErr>(done);
                    }
                    _ = tick.tick() => {
                        Python::attach(|py| py.check_signals())?;
                        let due = started.elapsed() >= QUIET && last.elapsed() >= NOTEBOOK_EVERY;
                        if due && mode != ProgressMode::Never {
                            notebook(label, started.elapsed(), false);
                            (shown, last) = (true, Instant::now());
                        }
                    }
                }
            }
        })
    });
    outcome?.map_err(|e| to_py(e, Some(config)))
}
