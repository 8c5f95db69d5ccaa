//! What the commands print: stdout writes that stop quietly on a closed
//! pipe, query results as tables, sizes, report files.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use scorelake::datafusion::arrow::array::RecordBatch;
use scorelake::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use scorelake::datafusion::arrow::util::pretty::pretty_format_batches;
use scorelake::datafusion::arrow::{csv, json};
use scorelake::datafusion::logical_expr::LogicalPlan;
use scorelake::datafusion::physical_plan::{collect, display::DisplayableExecutionPlan};
use scorelake::datafusion::prelude::{DataFrame, SessionContext};

use crate::error::{StdoutClosed, Usage};

/// `print!` that returns an error instead of panicking when stdout fails;
/// [`StdoutClosed`] when its reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that returns an error instead of panicking when stdout fails;
/// [`StdoutClosed`] when its reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// Writes `args` to stdout; a closed pipe is [`StdoutClosed`].
pub(crate) fn write_stdout(args: fmt::Arguments<'_>) -> Result<()> {
    std::io::stdout().lock().write_fmt(args).map_err(|e| {
        if e.kind() == ErrorKind::BrokenPipe {
            StdoutClosed.into()
        } else {
            anyhow::Error::new(e).context("cannot write to stdout")
        }
    })
}

/// Runs `df`, returns at most `limit` rows as a table; with `metrics`, prints
/// the executed plan with per-operator metrics to stderr.
pub(crate) async fn print_query(
    ctx: &SessionContext,
    df: DataFrame,
    limit: usize,
    metrics: bool,
    format: PrintFormat,
) -> Result<String> {
    // EXPLAIN must stay the root of its plan; its output is small anyway.
    let explain = matches!(
        df.logical_plan(),
        LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)
    );
    let df = if explain {
        df
    } else {
        df.limit(0, Some(limit + 1))
            .map_err(scorelake::Error::from)?
    };
    let plan = df
        .create_physical_plan()
        .await
        .map_err(scorelake::Error::from)?;
    let mut batches = collect(Arc::clone(&plan), ctx.task_ctx())
        .await
        .map_err(scorelake::Error::from)?;
    if metrics {
        eprintln!(
            "{}",
            DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true)
        );
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut more = String::new();
    if rows > limit {
        let mut left = limit;
        for b in &mut batches {
            let take = left.min(b.num_rows());
            *b = b.slice(0, take);
            left -= take;
        }
        more = format!("(first {limit} rows shown; raise --limit for more)");
    }
    let text = match format {
        PrintFormat::Table => {
            let table = pretty_format_batches(&batches)?.to_string();
            return Ok(if more.is_empty() {
                table
            } else {
                format!("{table}\n{more}")
            });
        }
        PrintFormat::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .with_header(true)
                .build(Vec::new());
            for b in &batches {
                writer.write(b)?;
            }
            String::from_utf8_lossy(&writer.into_inner())
                .trim_end()
                .to_string()
        }
        PrintFormat::Json => {
            let mut writer = json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, json::writer::JsonArray>(Vec::new());
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            writer.write_batches(&refs)?;
            writer.finish()?;
            String::from_utf8_lossy(&writer.into_inner()).to_string()
        }
        PrintFormat::Vertical => vertical(&batches)?,
    };
    // Machine-readable output stays clean: the note goes to stderr.
    if !more.is_empty() {
        eprintln!("{more}");
    }
    Ok(text)
}

/// How `sql` prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PrintFormat {
    /// An aligned table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
    /// One `column | value` block per row (for wide results).
    Vertical,
}

/// Each row as a block of `column | value` lines.
fn vertical(batches: &[RecordBatch]) -> Result<String> {
    use std::fmt::Write as _;
    let options = FormatOptions::default().with_null("NULL");
    let mut out = String::new();
    let mut n = 0;
    for b in batches {
        let schema = b.schema();
        let width = schema
            .fields()
            .iter()
            .map(|f| f.name().len())
            .max()
            .unwrap_or(0);
        let formatters: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<_, _>>()?;
        for r in 0..b.num_rows() {
            n += 1;
            let _ = writeln!(out, "-[ row {n} ]-");
            for (f, fmt) in schema.fields().iter().zip(&formatters) {
                let _ = writeln!(out, "{:<width$} | {}", f.name(), fmt.value(r));
            }
        }
    }
    Ok(out.trim_end().to_string())
}

/// `1 file`, `2 files`: a count with its noun, singular or plural.
pub(crate) fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub(crate) use scorelake::console::human_bytes;

/// The format of the report a command was asked for (`--report FILE`): its
/// extension, one of `allowed`. Checked before any work: a bad extension is
/// a usage error, and a missing folder is named.
pub(crate) fn report_format(report: Option<&Path>, allowed: &[&str]) -> Result<Option<String>> {
    let Some(path) = report else {
        return Ok(None);
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if !allowed.contains(&ext) {
        let names: Vec<String> = allowed.iter().map(|e| format!(".{e}")).collect();
        let (last, first) = names
            .split_last()
            .map_or(("", &[][..]), |(l, f)| (l.as_str(), f));
        let list = if first.is_empty() {
            last.to_string()
        } else {
            format!("{} or {last}", first.join(", "))
        };
        anyhow::bail!(Usage(format!(
            "--report {}: expected a {list} file",
            path.display()
        )));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(folder) if !folder.is_dir() => anyhow::bail!(
            "cannot write the report {}: folder {} does not exist",
            path.display(),
            folder.display()
        ),
        _ => Ok(Some(ext.to_string())),
    }
}
