//! Keeps a panic that delta-rs raises and catches on purpose off stderr.
//!
//! When the final put of a data file fails (a full disk, a dropped S3
//! connection), delta-rs aborts the upload through object_store's
//! `BufWriter::abort`, which panics with "Already shut down" once the
//! upload's completion has begun; delta-rs catches that panic and returns
//! the write error. The default panic hook would still print it with a
//! backtrace, as if ScoreLake had crashed. Only that exact panic is kept
//! quiet; every other goes to the hook installed before.

use std::panic::PanicHookInfo;
use std::sync::Once;

/// Installs (once per process) the filter in front of the current panic hook.
pub(super) fn quiet_caught_abort_panic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_caught_abort(info) {
                previous(info);
            }
        }));
    });
}

/// Whether `info` is object_store's "Already shut down" abort panic.
fn is_caught_abort(info: &PanicHookInfo<'_>) -> bool {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
    message == Some("Already shut down")
        && info.location().is_some_and(|l| {
            let file = l.file().replace('\\', "/");
            file.contains("object_store") && file.ends_with("src/buffered.rs")
        })
}
