//! Writing a frame to a Delta table: create, append or overwrite, as one commit.

use std::num::NonZeroU64;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::DataFrame;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::operations::write::SchemaMode;
use deltalake_core::protocol::SaveMode;
use object_store::{ObjectStore, ObjectStoreExt};

use super::cluster_write::write_on_cluster;
use super::open::{check_commits_are_safe, delta_error, handle, load};
use super::{commit_log, schema_check};
use crate::config::{Config, Format};
use crate::engine_choice::Engine;
use crate::error::{Error, Remedy, Result};
use crate::io::column_types::{cast_columns, delta_type};
use crate::io::location::Location;
use crate::io::store::{self, exists};
use crate::io::write_options::{WriteMode, WriteOptions, WriteSummary};
use crate::session::Session;

/// Writes `df` to the Delta table at `loc` (created when absent) as one new version.
/// `table_exists`: whether `loc` holds a Delta table (the caller has looked).
///
/// A create commits version 0 or nothing: when another writer created the
/// table meanwhile, a plain create fails with [`Error::AlreadyExists`], and an
/// append or overwrite that found no table is made to that table instead
/// (so concurrent creators never both commit). Unsigned integer
/// columns are widened to signed ones first (Delta has no unsigned types;
/// see `docs/delta.md`).
pub(crate) async fn write(
    session: &Session,
    df: DataFrame,
    loc: &Location,
    options: &WriteOptions,
    table_exists: bool,
) -> Result<WriteSummary> {
    let unsigned_64: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .filter(|f| f.data_type() == &DataType::UInt64)
        .map(|f| format!("`{}`", f.name()))
        .collect();
    let df = cast_columns(df, delta_type)?;
    if table_exists {
        first_commit(session, loc).await?;
    }
    let written = match write_once(session, df.clone(), loc, options, table_exists).await {
        Err(e)
            if !table_exists
                && (super::is_table(session, loc).await?
                    || being_created(session, loc, options.mode).await?) =>
        {
            if options.mode == WriteMode::ErrorIfExists {
                tracing::debug!(table = %loc, error = %e, "another writer created the table first");
                Err(Error::AlreadyExists(loc.to_string()))
            } else {
                tracing::info!(table = %loc, error = %e, "another writer created the table first; writing to it");
                first_commit(session, loc).await?;
                write_once(session, df, loc, options, true).await
            }
        }
        other => other,
    };
    match written {
        Err(Error::Delta {
            table,
            version,
            reason,
        }) if !unsigned_64.is_empty() && reason.contains("Can't cast value") => Err(Error::Delta {
            table,
            version,
            reason: format!(
                "{reason}: uint64 columns ({}) are stored as Delta longs, which hold values below 2^63 only; cast them to decimal(20, 0) to keep larger values",
                unsigned_64.join(", ")
            ),
        }),
        other => other,
    }
}

async fn write_once(
    session: &Session,
    df: DataFrame,
    loc: &Location,
    options: &WriteOptions,
    table_exists: bool,
) -> Result<WriteSummary> {
    let store = store::open(session, loc)?;
    let table = if table_exists {
        Some(load(session, loc, None).await?)
    } else {
        None
    };
    let refuse = |version: Option<u64>, reason: String| Error::Delta {
        table: loc.to_string(),
        version,
        reason,
    };
    let mut partition_by = options.partition_by.clone();
    let save_mode = match (&table, options.mode) {
        (None, mode) => {
            if exists(&store, loc).await? && !is_empty_dir(loc) {
                if mode == WriteMode::ErrorIfExists {
                    return Err(Error::AlreadyExists(loc.to_string()));
                }
                return Err(refuse(
                    None,
                    "the location holds other files but no _delta_log: it is not a Delta table, so nothing was written (choose an empty location)".into(),
                ));
            }
            // The mode asked for, so the table's history says what the
            // user ran; a create never retries onto a table another writer
            // made meanwhile (see `retries`), whatever the mode.
            match mode {
                WriteMode::Append => SaveMode::Append,
                WriteMode::Overwrite => SaveMode::Overwrite,
                WriteMode::ErrorIfExists => SaveMode::ErrorIfExists,
            }
        }
        (Some(_), WriteMode::ErrorIfExists) => return Err(Error::AlreadyExists(loc.to_string())),
        (Some(_), WriteMode::Overwrite) => SaveMode::Overwrite,
        (Some(t), WriteMode::Append) => {
            let snapshot = t.snapshot().map_err(|e| delta_error(loc, None, &e))?;
            let version = Some(snapshot.version());
            let existing: Vec<String> = snapshot.metadata().partition_columns().to_vec();
            if partition_by.is_empty() {
                partition_by = existing;
            } else if partition_by != existing {
                return Err(refuse(
                    version,
                    format!(
                        "the table is partitioned by [{}], the append asks for [{}]; append without a partitioning of its own (the table's is kept) or overwrite the table",
                        existing.join(", "),
                        partition_by.join(", ")
                    ),
                )
                .refused(Remedy::KeepPartitioning));
            }
            let change = schema_check::compare(&snapshot.schema(), df.schema().as_arrow())
                .map_err(|reason| refuse(version, reason))?;
            if let Some((name, was, now)) = change.retyped.first() {
                return Err(refuse(
                    version,
                    format!(
                        "column `{name}` is {was} in the table but {now} in the new data; type changes are refused (cast the column, or overwrite the table)"
                    ),
                ));
            }
            let named = |cols: &[String]| {
                cols.iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !change.missing.is_empty() && !options.merge_schema {
                return Err(refuse(
                    version,
                    format!(
                        "the new data lacks the table's columns {}; append with merge_schema to write them as nulls",
                        named(&change.missing)
                    ),
                )
                .refused(Remedy::MergeSchema));
            }
            if !change.added.is_empty() && !options.merge_schema {
                return Err(refuse(
                    version,
                    format!(
                        "the new data has columns the table lacks: {}; append with merge_schema to add them as nullable columns",
                        named(&change.added)
                    ),
                )
                .refused(Remedy::MergeSchema));
            }
            SaveMode::Append
        }
    };
    check_commits_are_safe(session, loc).await?;

    let config = session.config();
    // A create never retries: delta-rs would commit it on top of a table
    // another writer created meanwhile, as one more version.
    let retries = if table.is_some() {
        config.delta.commit_retries
    } else {
        0
    };
    let exists = table.is_some();
    let table = match table {
        Some(t) => t,
        None => handle(session, loc)?,
    };
    let started = std::time::Instant::now();
    if session.engine().engine != Engine::Embedded {
        match executors_cannot_write(exists.then_some(&table), &df, &partition_by, save_mode) {
            None => {
                let version = write_on_cluster(
                    session,
                    &store,
                    df,
                    loc,
                    &table,
                    exists,
                    save_mode,
                    &partition_by,
                    retries,
                )
                .await?;
                return committed(&store, loc, version, started).await;
            }
            Some(why) => {
                tracing::info!(table = %loc, reason = why, "Delta write through this process");
            }
        }
    }
    // delta-rs writes and commits in this process.
    let (state, plan) = session.in_process(df)?.into_parts();
    let mut builder = table
        .write(Vec::new())
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_save_mode(save_mode)
        .with_writer_properties(writer_properties(config))
        .with_target_file_size(NonZeroU64::new(config.delta.target_file_size.0))
        .with_commit_properties(CommitProperties::default().with_max_retries(retries));
    if !partition_by.is_empty() {
        builder = builder.with_partition_columns(partition_by);
    }
    builder = match save_mode {
        SaveMode::Overwrite => builder.with_schema_mode(SchemaMode::Overwrite),
        SaveMode::Append if options.merge_schema => builder.with_schema_mode(SchemaMode::Merge),
        _ => builder,
    };
    let created_dir = !exists && loc.local_path().is_some_and(|p| !p.exists());
    super::caught_panics::quiet_caught_abort_panic();
    let written = match builder.await {
        Ok(written) => written,
        Err(e) => {
            if created_dir && let Some(path) = loc.local_path() {
                remove_failed_create(&path).await;
            }
            return Err(delta_error(loc, None, &e));
        }
    };
    let version = written.version().unwrap_or_default() as u64;
    committed(&store, loc, version, started).await
}

/// What version `version` of the table at `loc` committed.
async fn committed(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    version: u64,
    started: std::time::Instant,
) -> Result<WriteSummary> {
    let commit = commit_log::read_version(store, loc, version).await?;
    tracing::info!(
        table = %loc,
        version,
        rows = commit.rows_added,
        bytes = commit.bytes_added,
        seconds = started.elapsed().as_secs_f64(),
        "Delta version committed"
    );
    Ok(WriteSummary {
        location: loc.to_string(),
        rows: commit.rows_added.unwrap_or_default(),
        format: Format::Delta,
        bytes: commit.bytes_added,
        version: Some(version),
    })
}

/// Why a cluster's executors cannot write this version themselves (delta-rs
/// then writes it from this process), or `None` when they can: a new
/// table, or an append or overwrite that keeps the table's schema and
/// partitioning, to a table without writer features beyond the basic ones
/// (no constraints, invariants or generated columns to check).
fn executors_cannot_write(
    table: Option<&DeltaTable>,
    df: &DataFrame,
    partition_by: &[String],
    mode: SaveMode,
) -> Option<&'static str> {
    let table = table?;
    let Ok(snapshot) = table.snapshot() else {
        return Some("its snapshot is not loaded");
    };
    if snapshot.protocol().min_writer_version() > 2 {
        return Some("the table has writer features");
    }
    let metadata = snapshot.metadata();
    if metadata
        .configuration()
        .keys()
        .any(|k| k.starts_with("delta.constraints."))
    {
        return Some("the table has constraints");
    }
    let schema = snapshot.schema();
    if schema.fields().any(|f| {
        f.metadata().contains_key("delta.invariants")
            || f.metadata().contains_key("delta.generationExpression")
    }) {
        return Some("the table has invariants or generated columns");
    }
    match schema_check::compare(&schema, df.schema().as_arrow()) {
        Ok(c) if c.added.is_empty() && c.missing.is_empty() && c.retyped.is_empty() => {}
        _ => return Some("the schema changes"),
    }
    if mode == SaveMode::Overwrite && metadata.partition_columns()[..] != *partition_by {
        return Some("the partitioning changes");
    }
    None
}

/// Removes what a failed create of a new folder left in it (data files of
/// no version, folders), unless a `_delta_log` is there by now: then another
/// writer has created the table and everything is left as it is.
///
/// The writer's tasks for other partitions can still be finishing a file
/// when the write returns its error, so the folder is removed again until it
/// stays gone (for up to two seconds).
async fn remove_failed_create(dir: &std::path::Path) {
    let mut gone_for = 0;
    for _ in 0..40 {
        if dir.join("_delta_log").exists() {
            return;
        }
        remove_uncommitted(dir);
        gone_for = if dir.exists() { 0 } else { gone_for + 1 };
        if gone_for == 3 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn remove_uncommitted(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => remove_uncommitted(&path),
                Ok(_) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(_) => {}
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Whether another writer is creating the table at `loc`, which holds files
/// but no log yet (a create writes its data before its first commit): waits
/// a little for that commit. Plain creates do not wait; they are refused.
async fn being_created(session: &Session, loc: &Location, mode: WriteMode) -> Result<bool> {
    if mode == WriteMode::ErrorIfExists {
        return Ok(false);
    }
    let store = store::open(session, loc)?;
    let is_file = match loc.local_path() {
        Some(path) => path.is_file(),
        None => store.head(&loc.object_path()).await.is_ok(),
    };
    if is_file || !exists(&store, loc).await? || is_empty_dir(loc) {
        return Ok(false);
    }
    waited_for(|| super::is_table(session, loc)).await
}

/// Waits (as [`being_created`] does) while the table's `_delta_log` holds
/// files but no commit yet: another writer is creating it, and its version
/// 0 is about to land.
async fn first_commit(session: &Session, loc: &Location) -> Result<()> {
    let store = &store::open(session, loc)?;
    waited_for(|| async move { Ok(!commit_log::versions(store, loc).await?.is_empty()) }).await?;
    Ok(())
}

/// Whether `ready` came true within [`CREATE_WAIT_STEPS`] steps of 100 ms.
async fn waited_for<F: Future<Output = Result<bool>>>(
    mut ready: impl FnMut() -> F,
) -> Result<bool> {
    for _ in 0..CREATE_WAIT_STEPS {
        if ready().await? {
            return Ok(true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(false)
}

/// How many 100 ms steps a write waits for a table another writer is creating.
const CREATE_WAIT_STEPS: u32 = 50;

fn is_empty_dir(loc: &Location) -> bool {
    loc.local_path()
        .and_then(|p| std::fs::read_dir(p).ok())
        .is_some_and(|mut entries| entries.next().is_none())
}

/// Parquet writer settings from `io.*`: codec and level (as for Parquet
/// outputs), row group size.
pub(super) fn writer_properties(config: &Config) -> WriterProperties {
    // The config checked the codec and level when it was built.
    let compression = config
        .parquet_compression()
        .parse()
        .unwrap_or(Compression::SNAPPY);
    WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(config.io.row_group_size))
        .build()
}
