//! `scorelake encode`: categorical encoders through the library's encode job.

use std::process::ExitCode;

use anyhow::{Result, bail};
use scorelake::pipeline::{self, EncodeJob, EncodeMappings};
use scorelake::session::Session;

use crate::args::EncodeArgs;
use crate::error::Usage;
use crate::options::{read_options, write_options};
use crate::output::outln;
use scorelake::console::Progress;

/// Fits or loads the mappings and encodes `args.input`; prints what was written.
pub(crate) async fn encode(
    session: &Session,
    progress: Progress,
    args: EncodeArgs,
) -> Result<ExitCode> {
    let mappings = match (args.apply, args.spec, args.fit) {
        (Some(path), _, _) => EncodeMappings::Apply(path),
        (None, Some(spec), Some(on)) => EncodeMappings::Fit {
            spec,
            on,
            save: args.mappings.clone(),
        },
        _ => bail!(Usage("give --spec and --fit, or --apply".into())),
    };
    let mut job = EncodeJob::new(mappings, args.input, args.output);
    job.out_of_fold = args.out_of_fold;
    job.read = read_options(&args.read)?;
    job.write = write_options(&args.write, Some(&args.read))?;
    let report = progress
        .during(
            &format!("encoding {} → {}", job.input, job.output),
            pipeline::run_encode(session, &job),
        )
        .await?;
    outln!(
        "wrote {} rows with {} encoded columns to {} in {:.2}s{}",
        report.written.rows,
        report.mappings.encoders.len(),
        report.written.location,
        report.seconds,
        match &args.mappings {
            Some(path) => format!("; mappings saved to {}", path.display()),
            None => String::new(),
        }
    )?;
    Ok(ExitCode::SUCCESS)
}
