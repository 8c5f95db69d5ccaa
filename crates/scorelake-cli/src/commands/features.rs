//! `scorelake features`: recipes applied to a table through the library's
//! features job.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::pipeline::{self, FeaturesJob};
use scorelake::session::Session;

use crate::args::FeaturesArgs;
use crate::options::{read_options, write_options};
use crate::output::{count, outln};
use scorelake::console::Progress;

/// Computes the features of `args.input`; prints what was written.
pub(crate) async fn features(
    session: &Session,
    progress: Progress,
    args: FeaturesArgs,
) -> Result<ExitCode> {
    let mut job = FeaturesJob::default();
    job.read = read_options(&args.read)?;
    job.write = write_options(&args.write, Some(&args.read))?;
    job.recipes = args.recipes;
    job.input = args.input;
    job.output = args.output;
    job.fitted = args.fitted;
    job.apply = args.apply;
    job.lineage = args.lineage;
    let report = progress
        .during(
            &format!("features {} → {}", job.input, job.output),
            pipeline::run_features(session, &job),
        )
        .await?;
    outln!(
        "wrote {} with {} to {} in {:.2}s ({:.2}M rows/s){}",
        count(report.written.rows, "row"),
        count(report.features.len() as u64, "feature"),
        report.written.location,
        report.seconds,
        report.written.rows as f64 / report.seconds / 1e6,
        match (&job.fitted, report.fitted_here) {
            (Some(path), _) => format!("; learned values saved to {}", path.display()),
            (None, true) =>
                "; learned values fitted on this input (not saved: use --fitted FILE)".into(),
            (None, false) => String::new(),
        }
    )?;
    if let Some(design) = &report.design {
        for d in &design.dates {
            let at = d.date.as_deref().unwrap_or("all rows");
            match &design.target {
                Some(target) => outln!(
                    "{at}: {} rows; {target}: kept {} bad and {} good; excluded {} already bad and {} with a short performance window",
                    d.rows,
                    d.bad,
                    d.good,
                    d.already_bad,
                    d.short_window
                )?,
                None => outln!("{at}: {} rows", d.rows)?,
            }
        }
    }
    if let Some(path) = &job.lineage {
        outln!("lineage written to {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
