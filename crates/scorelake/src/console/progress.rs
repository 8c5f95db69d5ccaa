//! Progress on stderr: bars when it is a terminal; with `--progress always`
//! and stderr not a terminal (CI logs, `nohup`), plain lines instead: one
//! when a stage starts, one every few seconds while it runs (with counts,
//! rate and ETA where the total is known), one when it is done. A stage
//! following a session's plans ([`Progress::following`]) shows the rows its
//! queries read out of their inputs' rows, the rate and the time left.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::meter::{self, Meter};
use crate::config::ProgressMode;
use crate::functions::PlanLog;
use indicatif::{ProgressBar, ProgressStyle};

/// Makes progress bars, or hidden ones when progress is off.
///
/// ```
/// use scorelake::config::ProgressMode;
/// use scorelake::console::Progress;
/// let progress = Progress::new(ProgressMode::Never);
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(progress.during("counting", async { 1 + 1 }).await, 2);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Progress {
    enabled: bool,
    /// stderr is a terminal: bars; else plain lines.
    terminal: bool,
    /// The session's plans, whose scans [`Progress::during`] follows.
    plans: Option<Arc<PlanLog>>,
}

/// Seconds between plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    /// Progress as `mode` asks: `auto` shows it only on a terminal.
    pub fn new(mode: ProgressMode) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let enabled = match mode {
            ProgressMode::Auto => terminal,
            ProgressMode::Always => true,
            ProgressMode::Never => false,
        };
        Progress {
            enabled,
            terminal,
            plans: None,
        }
    }

    /// Whether anything is shown.
    pub fn shown(&self) -> bool {
        self.enabled
    }

    /// The same progress, with stages showing the rows read by the plans
    /// made in `plans` while they run.
    pub fn following(mut self, plans: Arc<PlanLog>) -> Self {
        self.plans = Some(plans);
        self
    }

    /// A spinner with a message and the elapsed time.
    fn spinner(&self, message: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        if !self.terminal {
            let pb = ProgressBar::hidden();
            pb.set_message(message.to_string());
            lines(pb.clone(), None);
            return pb;
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

    /// Shows the stage `name` until [`Stage::finish`]: a spinner with its
    /// current step and, when following a session's plans, the rows its
    /// queries read so far out of their inputs' rows, the rate and ETA.
    ///
    /// ```
    /// use scorelake::config::ProgressMode;
    /// use scorelake::console::Progress;
    /// let stage = Progress::new(ProgressMode::Never).stage("demo");
    /// stage.step("sampling");
    /// stage.finish();
    /// ```
    pub fn stage(&self, name: &str) -> Stage {
        let started = Instant::now();
        let pb = self.spinner(name);
        let step = Arc::new(Mutex::new(name.to_string()));
        let meter = self
            .plans
            .as_ref()
            .filter(|_| self.enabled)
            .map(|log| Arc::new(Mutex::new(Meter::new(PlanLog::watch(log)))));
        if let Some(meter) = &meter {
            let (pb, meter, step) = (pb.clone(), Arc::clone(meter), Arc::clone(&step));
            std::thread::spawn(move || {
                while !pb.is_finished() {
                    let reading = locked(&meter).read();
                    let step = locked(&step).clone();
                    match meter::describe(reading, started.elapsed().as_secs_f64()) {
                        Some(rows) => pb.set_message(format!("{step}: {rows}")),
                        None => pb.set_message(step),
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            });
        }
        Stage {
            pb,
            name: name.to_string(),
            step,
            meter,
            started,
            plain: self.enabled && !self.terminal,
        }
    }

    /// Awaits `work` as the stage `message` ([`Progress::stage`]).
    pub async fn during<F: Future>(&self, message: &str, work: F) -> F::Output {
        let stage = self.stage(message);
        let out = work.await;
        stage.finish();
        out
    }

    /// A bar that follows `counter` up to `total` until the returned bar is finished.
    pub fn counter(&self, total: u64, counter: Arc<AtomicU64>, unit: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = if self.terminal {
            let pb = ProgressBar::new(total);
            pb.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {unit} [{{elapsed}} < {{eta}}]"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            pb
        } else {
            let pb = ProgressBar::hidden();
            pb.set_length(total);
            lines(pb.clone(), Some(unit.to_string()));
            pb
        };
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

/// Plain progress lines for `pb` (hidden) on stderr: at the start and every
/// [`LINE_EVERY`] while it runs ([`Progress::during`] adds the last); a
/// counter (`unit`) gives its count out of the total, rate and ETA.
fn lines(pb: ProgressBar, unit: Option<String>) {
    let started = Instant::now();
    let line = move |pb: &ProgressBar, what: &str| {
        let secs = started.elapsed().as_secs_f64();
        let detail = match &unit {
            Some(unit) => {
                let (pos, len) = (pb.position(), pb.length().unwrap_or(0));
                let rate = pos as f64 / secs.max(1e-9);
                let eta = if rate > 0.0 && len > pos {
                    format!(", ETA {:.0} s", (len - pos) as f64 / rate)
                } else {
                    String::new()
                };
                format!(
                    "{pos}/{len} {unit} ({:.0}%), {rate:.0} {unit}/s{eta}",
                    100.0 * pos as f64 / len.max(1) as f64
                )
            }
            None => pb.message(),
        };
        eprintln!("progress: {detail}: {what} ({secs:.1} s)");
    };
    line(&pb, "started");
    std::thread::spawn(move || {
        let mut last = Instant::now();
        while !pb.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= LINE_EVERY && !pb.is_finished() {
                line(&pb, "running");
                last = Instant::now();
            }
        }
    });
}

/// A stage of a command shown on stderr ([`Progress::stage`]).
pub struct Stage {
    pb: ProgressBar,
    name: String,
    /// The text shown before the rows read: the stage's name or its step.
    step: Arc<Mutex<String>>,
    meter: Option<Arc<Mutex<Meter>>>,
    started: Instant,
    /// Plain lines (stderr is not a terminal): a last line when done.
    plain: bool,
}

impl Stage {
    /// Shows `text` as the step the stage is at.
    pub fn step(&self, text: &str) {
        *locked(&self.step) = text.to_string();
        self.pb.set_message(text.to_string());
    }

    /// Ends the stage: the spinner is cleared; in plain lines, a last one
    /// with the time taken and the rows read.
    pub fn finish(self) {
        self.pb.finish_and_clear();
        if !self.plain {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64();
        let rows = self
            .meter
            .map(|m| locked(&m).read())
            .filter(|r| r.rows > 0)
            .map(|r| {
                let s = if r.queries == 1 { "y" } else { "ies" };
                let total = r.total.map(|t| format!("/{t}")).unwrap_or_default();
                format!(", {}{total} rows read in {} quer{s}", r.rows, r.queries)
            })
            .unwrap_or_default();
        eprintln!("progress: {}: done ({secs:.1} s{rows})", self.name);
    }
}

/// `mutex`'s value, whether or not a holder panicked.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
