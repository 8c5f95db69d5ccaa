//! Writing a table to a location: Delta tables through [`delta`], other
//! formats by the engine's writers, staged and committed atomically (see
//! [`atomic`](super::atomic)).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::common::config::{CsvOptions, ParquetColumnOptions, TableParquetOptions};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::file_format::format_as_file_type;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::DataFrame;

use super::atomic::{check_creatable, commit, mark_success, storage_failure, temp_name};
use super::column_types::{cast_columns, parquet_type};
use super::delta;
use super::listing::list;
use super::location::{IntoLocation, Location};
use super::store::{self, exists, remove};
use super::write_options::{WriteMode, WriteOptions, WriteSummary};
use crate::config::Format;
use crate::error::{Error, Remedy, Result, engine_message, ensure, invalid};
use crate::formats::ncf::NcfFormatFactory;
use crate::session::Session;

/// Executes `df` and writes it to `location`.
///
/// Delta tables (format `delta`, a `delta://` URL, or an existing table at
/// `location`) get one new version: created, appended or overwritten. Other
/// formats: a location with a file extension and no `partition_by` is
/// written as one file; otherwise as a directory of files. With `io.atomic_writes` (the
/// default) the data is written under a hidden temporary name first; a failed
/// or killed write leaves nothing at `location` that looks complete.
pub async fn write(
    session: &Session,
    df: DataFrame,
    location: impl IntoLocation,
    options: &WriteOptions,
) -> Result<WriteSummary> {
    let loc = location.into_location()?;
    let store = store::open(session, &loc)?;
    let is_delta = delta::is_table(session, &loc).await?;
    let named = options
        .format
        .or(loc.is_delta_url().then_some(Format::Delta))
        .or(loc.format_from_extension());
    let format = match named {
        Some(f) => f,
        None if is_delta => Format::Delta,
        None => session.config().io.default_format,
    };
    if is_delta && format != Format::Delta {
        return Err(invalid!(
            "`{loc}` is a Delta table; write it as delta, or remove it first to replace it with {format} files"
        )
        .refused(Remedy::WriteDelta));
    }
    let columns: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for col in &options.partition_by {
        ensure!(
            columns.contains(col),
            "cannot partition `{loc}` by `{col}`: no such column (columns: {})",
            columns.join(", ")
        );
    }
    ensure!(
        options.partition_by.is_empty() || options.partition_by.len() != columns.len(),
        "cannot partition `{loc}` by every column: no data columns would remain"
    );
    check_creatable(&loc)?;
    if format == Format::Delta {
        return delta::write(session, df, &loc, options, is_delta).await;
    }
    if options.mode == WriteMode::Append {
        return Err(invalid!(
            "cannot append to `{loc}`: appends need a Delta table (format delta or a delta:// URL); {format} outputs are written whole"
        )
        .refused(Remedy::WriteDelta));
    }
    let single_file = options.partition_by.is_empty()
        && !loc.is_dir_syntax()
        && loc.format_from_extension().is_some();
    if exists(&store, &loc).await? && options.mode == WriteMode::ErrorIfExists {
        return Err(Error::AlreadyExists(loc.to_string()));
    }

    let atomic = session.config().io.atomic_writes;
    // S3 completes a single-object upload atomically by itself; everything
    // else is staged under a hidden sibling name and committed after.
    let staged = atomic && !(loc.is_s3() && single_file);
    let target = if staged {
        loc.sibling(&temp_name(loc.file_name()))
    } else {
        loc.clone()
    };
    let started = std::time::Instant::now();
    let result = execute(session, df, &target, format, single_file, options).await;
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!(location = %loc, "write failed; removing its temporary output");
            if staged {
                let _ = remove(&store, &target).await;
            }
            // Users never see the temporary name: the error names the output.
            return Err(match e {
                Error::Write { reason, .. } => Error::Write {
                    location: loc.to_string(),
                    reason,
                },
                other => other,
            });
        }
    };
    if staged {
        if let Err(e) = commit(&store, &target, &loc, single_file).await {
            let _ = remove(&store, &target).await;
            return Err(e);
        }
    } else if !single_file {
        mark_success(&store, &loc).await?;
    }
    let bytes = list(&store, &loc).await?.total_bytes();
    tracing::info!(
        location = %loc,
        rows,
        bytes,
        format = %format,
        seconds = started.elapsed().as_secs_f64(),
        "table written"
    );
    Ok(WriteSummary {
        location: loc.to_string(),
        rows,
        format,
        bytes,
        version: None,
    })
}

/// The session's Parquet options, with dictionary encoding off for float
/// columns unless `io.parquet_float_dictionary` is set.
fn parquet_options(session: &Session, df: &DataFrame) -> TableParquetOptions {
    let mut options = TableParquetOptions {
        global: df
            .task_ctx()
            .session_config()
            .options()
            .execution
            .parquet
            .clone(),
        ..TableParquetOptions::default()
    };
    if !session.config().io.parquet_float_dictionary {
        for f in df.schema().fields() {
            if f.data_type().is_floating() {
                options.column_specific_options.insert(
                    f.name().clone(),
                    ParquetColumnOptions {
                        dictionary_enabled: Some(false),
                        ..ParquetColumnOptions::default()
                    },
                );
            }
        }
    }
    options
}

async fn execute(
    session: &Session,
    df: DataFrame,
    target: &Location,
    format: Format,
    single_file: bool,
    options: &WriteOptions,
) -> Result<u64> {
    let url = if single_file {
        target.url().to_string()
    } else {
        target.as_dir().url().to_string()
    };
    let write_options = DataFrameWriteOptions::new()
        .with_single_file_output(single_file)
        .with_partition_by(options.partition_by.clone());
    let batches = match format {
        Format::Parquet => match cast_columns(df, parquet_type) {
            Ok(df) => {
                let parquet = parquet_options(session, &df);
                df.write_parquet(&url, write_options, Some(parquet)).await
            }
            Err(e) => Err(e),
        },
        Format::Ncf => {
            let factory = NcfFormatFactory::from_config(session.config())
                .with_semantics(options.semantics.clone());
            let sink_options =
                HashMap::from([("single_file_output".to_string(), single_file.to_string())]);
            let (state, plan) = df.into_parts();
            let copy = LogicalPlanBuilder::copy_to(
                plan,
                url,
                format_as_file_type(Arc::new(factory)),
                sink_options,
                options.partition_by.clone(),
            )
            .and_then(|b| b.build());
            match copy {
                Ok(plan) => DataFrame::new(state, plan).collect().await,
                Err(e) => Err(e),
            }
        }
        Format::Delta => Err(DataFusionError::Plan(
            "Delta tables are written by io::delta".into(),
        )),
        Format::Csv => {
            let io = &session.config().io;
            let csv = CsvOptions::default()
                .with_delimiter(io.csv_delimiter.as_bytes()[0])
                .with_has_header(io.csv_has_header);
            df.write_csv(&url, write_options, Some(csv)).await
        }
    }
    .map_err(|e| failed_write(&e, target))?;
    if !single_file && let Some(dir) = target.local_path() {
        // An empty result writes no files; the output is still a (empty) table.
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
    }
    Ok(batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
        .sum())
}

/// The error of a write whose plan failed: an input that could not be read
/// is named as such (a corrupt input file is no write failure); a storage
/// failure the engine reports without its cause (as an internal error) gets
/// its cause when the local disk tells it (a full disk); anything else
/// names the output.
fn failed_write(e: &DataFusionError, target: &Location) -> Error {
    match e.find_root() {
        DataFusionError::External(inner) => {
            if let Some(Error::Read { location, reason }) = inner.downcast_ref::<Error>() {
                return Error::Read {
                    location: location.clone(),
                    reason: reason.clone(),
                };
            }
        }
        DataFusionError::Internal(message) if message.contains("finalizing writes") => {
            let reason = match storage_failure(target) {
                Some(cause) => format!("the storage failed: {cause}"),
                None if target.is_s3() => "the upload could not be finished: the S3 endpoint stopped answering or refused the data".into(),
                None => "the disk refused the data while the file was finished (is the disk full?)".into(),
            };
            return Error::Write {
                location: target.to_string(),
                reason,
            };
        }
        _ => {}
    }
    Error::Write {
        location: target.to_string(),
        reason: store::with_unreachable(engine_message(e)),
    }
}
