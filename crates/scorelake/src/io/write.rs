//! Writing a table to a location, atomically.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::common::config::{CsvOptions, ParquetColumnOptions, TableParquetOptions};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::file_format::format_as_file_type;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::DataFrame;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::delta;
use super::listing::list;
use super::location::Location;
use super::store_error;
use crate::config::Format;
use crate::error::{Error, Result};
use crate::formats::ncf::NcfFormatFactory;
use crate::session::Session;
use ncf::Semantic;

/// What to do when the output exists already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// Refuse to write (the default).
    #[default]
    ErrorIfExists,
    /// Replace it once the new data is completely written.
    Overwrite,
    /// Add the data as a new version (Delta tables; others refuse).
    Append,
}

/// How to write a table.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// The format; by default from the extension, else `io.default_format`.
    pub format: Option<Format>,
    /// What to do when the output exists.
    pub mode: WriteMode,
    /// Columns to partition the output folders by (`key=value/`).
    pub partition_by: Vec<String>,
    /// NCF outputs: semantic metadata per column (see
    /// [`load_semantics`](crate::formats::ncf::load_semantics)); columns read
    /// from NCF keep theirs unless named here.
    pub semantics: BTreeMap<String, Semantic>,
    /// Delta appends: add the data's new columns to the table (as nullable
    /// columns) instead of refusing them.
    pub merge_schema: bool,
}

/// What a write produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSummary {
    /// Where the table now is.
    pub location: String,
    /// Rows written.
    pub rows: u64,
    /// Format written.
    pub format: Format,
    /// Bytes of the written files.
    pub bytes: u64,
    /// Delta tables: the version committed.
    pub version: Option<u64>,
}

/// Name of the marker written last into directory outputs.
pub const SUCCESS_MARKER: &str = "_SUCCESS";

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
    location: &str,
    options: &WriteOptions,
) -> Result<WriteSummary> {
    let loc = Location::parse(location)?;
    let store = session.object_store(&loc.store_url())?;
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
        return Err(Error::InvalidInput(format!(
            "`{loc}` is a Delta table; write it as delta (--to delta), or remove it first to replace it with {format} files"
        )));
    }
    let columns: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for col in &options.partition_by {
        if !columns.contains(col) {
            return Err(Error::InvalidInput(format!(
                "cannot partition `{loc}` by `{col}`: no such column (columns: {})",
                columns.join(", ")
            )));
        }
    }
    if !options.partition_by.is_empty() && options.partition_by.len() == columns.len() {
        return Err(Error::InvalidInput(format!(
            "cannot partition `{loc}` by every column: no data columns would remain"
        )));
    }
    if format == Format::Delta {
        return delta::write(session, df, &loc, options, is_delta).await;
    }
    if options.mode == WriteMode::Append {
        return Err(Error::InvalidInput(format!(
            "cannot append to `{loc}`: appends need a Delta table (--to delta or a delta:// URL); {format} outputs are written whole"
        )));
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
            tracing::warn!(location = %loc, error = %e, "write failed; removing its temporary output");
            if staged {
                let _ = remove(&store, &target).await;
            }
            return Err(e);
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
        Format::Parquet => {
            let parquet = parquet_options(session, &df);
            df.write_parquet(&url, write_options, Some(parquet)).await
        }
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
        Format::Delta => Err(datafusion::error::DataFusionError::Plan(
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
    .map_err(|e| Error::Write {
        location: target.to_string(),
        reason: e.strip_backtrace(),
    })?;
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

/// A hidden, unique name next to the output.
fn temp_name(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    format!(".{name}.tmp-{}-{nanos:x}-{n}{ext}", std::process::id())
}

/// Whether anything is at `loc`: a file, a directory or objects under the prefix.
pub(crate) async fn exists(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<bool> {
    if let Some(path) = loc.local_path() {
        return Ok(path.exists());
    }
    let key = loc.object_path();
    match store.head(&key).await {
        Ok(_) => return Ok(true),
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(store_error(loc.as_str(), e, true)),
    }
    let mut listing = store.list(Some(&key));
    match listing.next().await {
        Some(Err(e)) => Err(store_error(loc.as_str(), e, true)),
        Some(Ok(_)) => Ok(true),
        None => Ok(false),
    }
}

/// Moves the staged output to its final place, replacing what was there.
async fn commit(
    store: &Arc<dyn ObjectStore>,
    staged: &Location,
    target: &Location,
    single_file: bool,
) -> Result<()> {
    if let (Some(from), Some(to)) = (staged.local_path(), target.local_path()) {
        return commit_local(&from, &to);
    }
    // S3 directory: nothing of the new data is visible until the staging
    // succeeded; then old objects go, staged ones are copied in, and the
    // success marker is written last.
    debug_assert!(!single_file);
    remove(store, target).await?;
    let from = staged.object_path();
    let to = target.object_path();
    let staged_objects: Vec<_> = store
        .list(Some(&from))
        .try_collect()
        .await
        .map_err(|e| store_error(target.as_str(), e, true))?;
    for meta in staged_objects {
        let rel: Vec<_> = meta
            .location
            .prefix_match(&from)
            .map(|p| p.collect())
            .unwrap_or_default();
        let dest = rel.into_iter().fold(to.clone(), |p, part| p.join(part));
        store
            .copy(&meta.location, &dest)
            .await
            .map_err(|e| store_error(target.as_str(), e, true))?;
    }
    remove(store, staged).await?;
    mark_success(store, target).await
}

fn commit_local(from: &Path, to: &Path) -> Result<()> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| Error::io(p, e)
    };
    if from.is_file() && !to.is_dir() {
        // rename(2) replaces a file atomically.
        return std::fs::rename(from, to).map_err(io(to));
    }
    // The marker travels with the directory, so it appears with the data.
    std::fs::write(from.join(SUCCESS_MARKER), b"").map_err(io(from))?;
    let old: Option<PathBuf> = if to.exists() {
        let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let old = to.with_file_name(temp_name(&format!("{name}.old")));
        std::fs::rename(to, &old).map_err(io(to))?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(from, to) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, to);
        }
        return Err(io(to)(e));
    }
    if let Some(old) = old {
        if old.is_dir() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            std::fs::remove_file(&old).map_err(io(&old))?;
        }
    }
    Ok(())
}

async fn mark_success(store: &Arc<dyn ObjectStore>, dir: &Location) -> Result<()> {
    let marker: ObjectPath = dir.object_path().join(SUCCESS_MARKER);
    store
        .put(&marker, PutPayload::new())
        .await
        .map_err(|e| store_error(dir.as_str(), e, true))?;
    Ok(())
}

/// Removes a file, a directory or every object under a prefix.
async fn remove(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<()> {
    if let Some(path) = loc.local_path() {
        let r = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else if path.exists() {
            std::fs::remove_file(&path)
        } else {
            Ok(())
        };
        return r.map_err(|e| Error::io(path.display(), e));
    }
    let key = loc.object_path();
    let mut paths: Vec<ObjectPath> = store
        .list(Some(&key))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(|e| store_error(loc.as_str(), e, true))?;
    if store.head(&key).await.is_ok() {
        paths.push(key);
    }
    let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
    store
        .delete_stream(stream)
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| store_error(loc.as_str(), e, true))?;
    Ok(())
}
