//! `scorelake convert`: a table copied between formats, codecs and layouts.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use scorelake::io;
use scorelake::session::Session;

use crate::args::ConvertArgs;
use crate::options::{read_options, write_options};
use crate::output::{human_bytes, outln};
use scorelake::console::Progress;

/// Copies `args.input` to `args.output`; prints rows, sizes and speed.
pub(crate) async fn convert(
    session: &Session,
    progress: Progress,
    args: ConvertArgs,
) -> Result<ExitCode> {
    let started = Instant::now();
    let (read, write) = (
        read_options(&args.read)?,
        write_options(&args.write, Some(&args.read))?,
    );
    let summary = progress
        .during(
            &format!("{} → {}", args.input, args.output),
            io::convert(session, &args.input, &args.output, &read, &write),
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let read_bytes = io::total_bytes(session, &args.input).await?;
    outln!(
        "converted {} rows: {} ({}) → {} ({}, {}, {:.2}× the input) in {:.2}s ({:.2}M rows/s)",
        summary.rows,
        args.input,
        human_bytes(read_bytes),
        summary.location,
        match summary.version {
            Some(v) => format!("{} version {v}", summary.format),
            None => summary.format.to_string(),
        },
        human_bytes(summary.bytes),
        summary.bytes as f64 / read_bytes.max(1) as f64,
        secs,
        summary.rows as f64 / secs / 1e6
    )?;
    Ok(ExitCode::SUCCESS)
}
