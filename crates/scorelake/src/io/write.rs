//! Writing a table to a location: Delta tables through [`delta`], other
//! formats by the engine's writers, staged and committed atomically (see
//! [`atomic`](super::atomic)).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::arrow::datatypes::Schema;
use datafusion::common::config::{CsvOptions, ParquetColumnOptions, TableParquetOptions};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::file_format::format_as_file_type;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::DataFrame;
use object_store::ObjectStore;

use super::atomic::{
    check_creatable, claim, commit, mark_success, release, storage_failure, temp_name,
};
use super::column_types::{cast_columns, parquet_type};
use super::delta;
use super::dir_commit::DirWrite;
use super::hive;
use super::listing::list;
use super::location::{IntoLocation, Location};
use super::recording_store::recording;
use super::store::{self, exists, remove};
use super::write_options::{WriteMode, WriteOptions, WriteSummary};
use crate::config::Format;
use crate::engine_choice::Engine;
use crate::error::{Error, Remedy, Result, engine_message, ensure, invalid};
use crate::expr::column_names;
use crate::formats::ncf::NcfFormatFactory;
use crate::session::Session;

/// Executes `df` and writes it to `location`.
///
/// Delta tables (format `delta`, a `delta://` URL, or an existing table at
/// `location`) get one new version: created, appended or overwritten. Other
/// formats: a location with a file extension and no `partition_by` is
/// written as one file; otherwise as a directory of files. With `io.atomic_writes` (the
/// default) local data is written under a hidden temporary name first; S3
/// directories are committed by a record written last (see `docs/lake-io.md`).
/// A failed or killed write leaves nothing at `location` that reads as
/// complete, and an interrupted overwrite leaves the previous version. A
/// create (`WriteMode::ErrorIfExists`) fails with [`Error::AlreadyExists`]
/// when another write created the output first, also under races.
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
    let columns: Vec<String> = column_names(df.schema());
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
    // S3 directories decide by their commit record (see `DirWrite::begin`).
    let s3_dir = loc.is_s3() && !single_file;
    if options.mode == WriteMode::ErrorIfExists && !s3_dir && exists(&store, &loc).await? {
        return Err(Error::AlreadyExists(loc.to_string()));
    }

    let df = hive::with_folder_values(df, &loc, &options.partition_by)?;
    let started = std::time::Instant::now();
    let rows = if loc.is_s3() {
        write_s3(session, &store, df, &loc, format, single_file, options).await?
    } else if session.config().io.atomic_writes {
        // Staged under a hidden sibling name and committed after.
        let staged = loc.sibling(&temp_name(loc.file_name()));
        let committed = match execute(session, df, &staged, format, single_file, options).await {
            Ok(rows) => commit(&staged, &loc, options.mode == WriteMode::Overwrite).map(|()| rows),
            Err(e) => Err(e),
        };
        if committed.is_err() {
            tracing::debug!(location = %loc, "write failed; removing its temporary output");
            let _ = remove(&store, &staged).await;
        }
        committed.map_err(|e| named_output(e, &loc))?
    } else {
        let rows = execute(session, df, &loc, format, single_file, options).await?;
        if !single_file {
            mark_success(&store, &loc).await?;
        }
        rows
    };
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

/// Writes to S3: one object (a create claims the name first), or a
/// directory committed by its manifest (see [`dir_commit`](super::dir_commit)).
async fn write_s3(
    session: &Session,
    store: &Arc<dyn ObjectStore>,
    df: DataFrame,
    loc: &Location,
    format: Format,
    single_file: bool,
    options: &WriteOptions,
) -> Result<u64> {
    if single_file {
        let create = options.mode == WriteMode::ErrorIfExists;
        if create {
            claim(store, loc).await?;
        }
        let written = execute(session, df, loc, format, true, options).await;
        // Once the object is there (or the write failed) the claim has done
        // its work; an overwrite also clears one an interrupted create left.
        release(store, loc).await;
        return written;
    }
    let dir = DirWrite::begin(store, loc, options.mode).await?;
    if session.engine().engine != Engine::Embedded {
        // The executors write; their requests are not ours to record.
        let rows = execute(session, df, loc, format, false, options).await?;
        let written = dir.written_by_others(store).await?;
        dir.commit(store, &written).await?;
        return Ok(rows);
    }
    let (df, recorder) = recording(df, &loc.store_url())?;
    match execute(session, df, loc, format, false, options).await {
        Ok(rows) => {
            dir.commit(store, &recorder.paths()).await?;
            Ok(rows)
        }
        Err(e) => {
            tracing::debug!(location = %loc, "write failed; removing its files");
            dir.abandon(store, &recorder.paths()).await;
            Err(e)
        }
    }
}

/// `e` naming the output instead of the temporary name users never see.
fn named_output(e: Error, loc: &Location) -> Error {
    match e {
        Error::Write { reason, .. } => Error::Write {
            location: loc.to_string(),
            reason,
        },
        other => other,
    }
}

/// The session's Parquet options, with dictionary encoding off for float
/// columns unless `io.parquet_float_dictionary` is set, and row groups
/// small enough for the memory limit (see [`row_group_rows`]).
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
    options.global.max_row_group_size = row_group_rows(
        session,
        df.schema().as_arrow(),
        options.global.max_row_group_size,
    );
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

/// Rows per Parquet row group: `configured`, or fewer under a memory limit.
///
/// A Parquet writer holds a whole row group in memory until it is complete,
/// and that memory cannot spill; so a row group may take at most a quarter of
/// `engine.memory_limit` (at the columns' uncompressed width: 8 bytes per
/// number, 32 per text or binary value), and never fewer than 4096 rows.
fn row_group_rows(session: &Session, schema: &Schema, configured: usize) -> usize {
    let Some(pool) = session.config().engine.pool_size() else {
        return configured;
    };
    let row_bytes: usize = schema
        .fields()
        .iter()
        .map(|f| f.data_type().primitive_width().unwrap_or(32))
        .sum::<usize>()
        .max(1);
    let rows = (pool / 4 / row_bytes).max(4096);
    if rows < configured {
        tracing::debug!(
            rows,
            configured,
            "row groups made smaller to fit the memory limit"
        );
    }
    rows.min(configured)
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
            let csv = csv_options(
                CsvOptions::default()
                    .with_delimiter(io.csv_delimiter.as_bytes()[0])
                    .with_has_header(io.csv_has_header),
            );
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

/// `csv` with every date and time format spelled out: the text the CSV
/// writer prints by default (ISO 8601; an offset as `+00:00`), the same on
/// every engine (a plan sent to a cluster loses unset formats).
fn csv_options(mut csv: CsvOptions) -> CsvOptions {
    const STAMP: &str = "%Y-%m-%dT%H:%M:%S%.f";
    csv.date_format = Some("%Y-%m-%d".into());
    csv.datetime_format = Some(STAMP.into());
    csv.timestamp_format = Some(STAMP.into());
    csv.timestamp_tz_format = Some(format!("{STAMP}%:z"));
    csv.time_format = Some("%H:%M:%S%.f".into());
    csv
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
