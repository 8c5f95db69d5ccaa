//! Progress bars on stderr, shown only when it is a terminal (or when asked).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use scorelake::config::ProgressMode;

/// Makes progress bars, or hidden ones when progress is off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress as `mode` asks: `auto` shows it only on a terminal.
    pub(crate) fn new(mode: ProgressMode) -> Self {
        let enabled = match mode {
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Always => true,
            ProgressMode::Never => false,
        };
        Progress { enabled }
    }

    /// A spinner with a message and the elapsed time.
    pub(crate) fn spinner(&self, message: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(message.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    /// Awaits `work` with a spinner showing `message`, cleared when it ends.
    pub(crate) async fn during<F: Future>(&self, message: &str, work: F) -> F::Output {
        let spinner = self.spinner(message);
        let out = work.await;
        spinner.finish_and_clear();
        out
    }

    /// A bar that follows `counter` up to `total` until the returned bar is finished.
    pub(crate) fn counter(&self, total: u64, counter: Arc<AtomicU64>, unit: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit} [{{elapsed}} < {{eta}}]"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let follower = pb.clone();
        std::thread::spawn(move || {
            while !follower.is_finished() {
                follower.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        pb
    }
}
