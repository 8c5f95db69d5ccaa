//! `scorelake sample`: the synthetic customer × month credit panel.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::Result;
use scorelake::io;
use scorelake::sample::{self, NaiveDate, SampleSpec};
use scorelake::session::Session;

use crate::args::SampleArgs;
use crate::error::Usage;
use crate::options::write_options;
use crate::output::outln;
use scorelake::console::Progress;

/// Writes the sample panel; prints rows and speed.
pub(crate) async fn sample(
    session: &Session,
    progress: Progress,
    args: SampleArgs,
) -> Result<ExitCode> {
    let start = month(&args.start)?;
    let spec = SampleSpec {
        customers: args.customers,
        months: args.months,
        seed: args.seed,
        start,
    };
    let started = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.counter(spec.customers, Arc::clone(&counter), "customers");
    let df = sample::dataframe(session, &spec, Some(counter))?;
    let mut options = write_options(&args.write, None)?;
    if options.partition_by.is_empty() {
        options.sorted_by = sample::ORDER.map(String::from).to_vec();
    }
    let result = io::write(session, df, &args.out, &options).await;
    bar.finish_and_clear();
    let summary = result?;
    let secs = started.elapsed().as_secs_f64();
    outln!(
        "wrote {} rows ({} customers × up to {} months) to {} in {:.2}s ({:.2}M rows/s)",
        summary.rows,
        spec.customers,
        spec.months,
        summary.location,
        secs,
        summary.rows as f64 / secs / 1e6
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The first day of the month `--start YYYY-MM` names.
fn month(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map_err(|_| Usage(format!("--start expects YYYY-MM, got `{text}`")).into())
}
