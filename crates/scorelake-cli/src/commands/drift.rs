//! `scorelake drift`: population stability through the library's drift job.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::docfile::write_whole;
use scorelake::pipeline::{self, DriftInputs, DriftJob};
use scorelake::quality::{DriftBinning, Verdict};
use scorelake::session::Session;

use crate::args::{BinningArg, DriftArgs, FailOn};
use crate::options::read_options;
use crate::output::{outln, report_format};
use scorelake::console::Progress;

/// Compares the tables or periods `args` names; prints (and saves) the
/// report; exit 3 when a column reaches the `--fail-on` verdict.
pub(crate) async fn drift(
    session: &Session,
    progress: Progress,
    args: DriftArgs,
) -> Result<ExitCode> {
    let report_format = report_format(args.report.as_deref(), &["json", "md", "html"])?;
    let inputs = match (args.baseline, args.current, args.input, args.period_col) {
        (Some(baseline), Some(current), _, _) => DriftInputs::Tables { baseline, current },
        (_, _, Some(input), Some(period_column)) => DriftInputs::Periods {
            input,
            period_column,
            baseline: args.baseline_periods,
            current: args.current_periods,
        },
        _ => {
            return Err(scorelake::Error::InvalidInput(
                "give --baseline and --current, or --input with --period-col and --baseline-periods"
                    .into(),
            )
            .into());
        }
    };
    let mut job = DriftJob::new(inputs);
    job.columns = args.columns;
    job.options.binnings = args
        .binning
        .iter()
        .map(|b| match b {
            BinningArg::Quantile => DriftBinning::Quantile,
            BinningArg::EqualWidth => DriftBinning::EqualWidth,
        })
        .collect();
    job.options.bins = args.bins;
    job.options.floor = args.floor;
    job.options.weight = args.weight;
    job.options.categorical = args.categorical;
    job.read = read_options(&args.read)?;
    let report = progress
        .during("drift", pipeline::run_drift(session, &job))
        .await?;
    outln!("{}", report.to_markdown(args.detail))?;
    if let (Some(path), Some(ext)) = (&args.report, report_format) {
        let text = match ext.as_str() {
            "json" => report.to_json(),
            "html" => report.to_html(),
            _ => report.to_markdown(true),
        };
        write_whole(path, &text)?;
    }
    let failing: Vec<String> = report
        .columns
        .iter()
        .filter(|c| match args.fail_on {
            FailOn::Shifted => c.verdict == Verdict::Shifted,
            FailOn::Watch => c.verdict != Verdict::Stable,
            FailOn::Never => false,
        })
        .map(|c| match &c.period {
            Some(p) => format!("{} ({p})", c.column),
            None => c.column.clone(),
        })
        .collect();
    if failing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let level = if args.fail_on == FailOn::Watch {
        "watch or shifted"
    } else {
        "shifted"
    };
    let count = match failing.len() {
        1 => "1 comparison is".to_string(),
        n => format!("{n} comparisons are"),
    };
    eprintln!(
        "drift: {count} {level}: {} (exit 3; --fail-on never only reports)",
        failing.join(", ")
    );
    Ok(ExitCode::from(3))
}
