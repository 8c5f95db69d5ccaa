//! `scorelake compress`: binning and compression through the library's
//! compress job.

use std::process::ExitCode;

use anyhow::Result;
use scorelake::docfile::write_whole;
use scorelake::pipeline::{self, BinningSource, CompressJob};
use scorelake::scorecard::BinMethod;
use scorelake::session::Session;

use crate::args::{CompressArgs, MethodArg};
use crate::options::{read_options, write_options};
use crate::output::{human_bytes, outln, report_format};
use scorelake::console::Progress;

/// Bins, compresses and writes `args.input`; prints the IV table and the sizes.
pub(crate) async fn compress(
    session: &Session,
    progress: Progress,
    args: CompressArgs,
) -> Result<ExitCode> {
    let binning = match args.binning_spec {
        Some(path) => BinningSource::File(path),
        None => BinningSource::Columns {
            target: args.target.unwrap_or_default(),
            columns: args.bin,
            method: match args.method {
                MethodArg::Optimal => BinMethod::Optimal,
                MethodArg::Quantile => BinMethod::Quantile,
                MethodArg::EqualWidth => BinMethod::EqualWidth,
            },
            bins: args.bins,
            weight: args.weight,
        },
    };
    report_format(args.report.as_deref(), &["json"])?;
    let mut job = CompressJob::new(args.input, args.output, binning);
    job.segments = args.segments;
    job.woe = args.woe;
    job.binning_out = args.binning_out;
    job.read = read_options(&args.read)?;
    job.write = write_options(&args.write, Some(&args.read))?;
    let report = progress
        .during(
            &format!("binning and compressing {}", job.input),
            pipeline::run_compress(session, &job),
        )
        .await?;
    let c = &report.compression;
    if let Some(path) = &args.report {
        write_whole(path, &(serde_json::to_string_pretty(c)? + "\n"))?;
    }
    outln!("{}", report.binning.iv_table())?;
    outln!(
        "compressed {} rows (weight {}, events {}) into {} rows ({:.1}×, {} rows eliminated, ~{} → {} in memory) → {} in {:.2}s",
        c.input_rows,
        c.input_weight,
        c.input_events,
        c.output_rows,
        c.ratio,
        c.rows_eliminated,
        human_bytes(c.input_bytes_estimate),
        human_bytes(c.output_bytes),
        report.written.location,
        report.seconds
    )?;
    Ok(ExitCode::SUCCESS)
}
