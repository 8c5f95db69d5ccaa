//! `scorelake validate`: column checks through the library's validate job;
//! exit 3 on FAIL.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::docfile::write_whole;
use scorelake::pipeline::{self, ValidateJob};
use scorelake::quality::{Status, Thresholds};
use scorelake::session::Session;

use crate::args::ValidateArgs;
use crate::options::read_options;
use crate::output::{outln, report_format};
use scorelake::console::Progress;

/// Validates `args.input`; prints (and saves) the report; exit 3 on FAIL.
pub(crate) async fn validate(
    session: &Session,
    progress: Progress,
    args: ValidateArgs,
) -> Result<ExitCode> {
    let thresholds = match &args.thresholds {
        Some(path) => Thresholds::load(path)?,
        None => Thresholds::default(),
    };
    let report_format = report_format(args.report.as_deref(), &["json", "csv", "md", "html"])?;
    let mut job = ValidateJob::new(args.input);
    job.options.columns = args.columns;
    job.options.thresholds = thresholds;
    job.options.approximate = args.approx;
    job.options.weight = args.weight;
    job.read = read_options(&args.read)?;
    let report = progress
        .during(
            &format!("validating {}", job.input),
            pipeline::run_validate(session, &job),
        )
        .await?;
    outln!("{}", report.to_markdown())?;
    if let (Some(path), Some(ext)) = (&args.report, report_format) {
        let text = match ext.as_str() {
            "json" => report.to_json(),
            "csv" => report.to_csv(),
            "html" => report.to_html(),
            _ => report.to_markdown(),
        };
        write_whole(path, &text)?;
    }
    Ok(if report.status == Status::Fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
