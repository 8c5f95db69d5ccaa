//! Running a write plan on the session's engine: Parquet, CSV or NCF, one
//! file or a folder (hive partition folders), with ScoreLake's writer
//! settings; the error of a failed plan names the output (or the input it
//! could not read).

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

use super::atomic::storage_failure;
use super::column_types::{cast_columns, parquet_type};
use super::location::Location;
use super::store;
use super::write_options::WriteOptions;
use crate::config::Format;
use crate::error::{Error, Result, engine_message};
use crate::formats::ncf::NcfFormatFactory;
use crate::session::Session;

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

pub(super) async fn execute(
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
        .with_partition_by(options.partition_by.clone())
        .with_sort_by(
            options
                .sorted_by
                .iter()
                .map(|c| crate::expr::column(c).sort(true, false))
                .collect(),
        );
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
