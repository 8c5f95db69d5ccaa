//! `scorelake demo`: the main job end to end on a generated panel.

use std::process::ExitCode;

use anyhow::{Context, Result};
use scorelake::pipeline::{self, DemoOptions};
use scorelake::sample::SampleSpec;
use scorelake::session::Session;

use crate::args::DemoArgs;
use crate::output::outln;
use scorelake::console::Progress;

/// Runs the demo and prints its report.
pub(crate) async fn demo(
    session: &Session,
    progress: Progress,
    args: DemoArgs,
) -> Result<ExitCode> {
    let options = DemoOptions {
        sample: SampleSpec {
            customers: args.customers,
            months: args.months,
            seed: args.seed,
            ..SampleSpec::default()
        },
        out_dir: args.out,
    };
    let stage = progress.stage("demo");
    let on_step = |step: &str| stage.step(step);
    let report = pipeline::demo(session, &options, &on_step).await;
    stage.finish();
    outln!("{}", report.context("demo failed")?)?;
    Ok(ExitCode::SUCCESS)
}
