//! Writing a table to a location: Delta tables through [`delta`], other
//! formats by the engine's writers, staged and committed atomically (see
//! [`atomic`](super::atomic)).

use std::sync::Arc;

use datafusion::prelude::DataFrame;
use object_store::ObjectStore;

use super::atomic::{check_creatable, claim, commit, mark_success, release, temp_name};
use super::delta;
use super::dir_commit::DirWrite;
use super::execute::execute;
use super::hive;
use super::listing::list;
use super::location::{IntoLocation, Location};
use super::recording_store::recording;
use super::store::{self, exists, remove};
use super::write_options::{WriteMode, WriteOptions, WriteSummary};
use crate::config::Format;
use crate::engine_choice::Engine;
use crate::error::{Error, Remedy, Result, ensure, invalid};
use crate::expr::column_names;
use crate::ledger::TableUse;
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
    let written = write_table(session, df, location.into_location()?, options).await?;
    session.ledger().note(
        true,
        TableUse {
            location: written.location.clone(),
            format: written.format.to_string(),
            bytes: Some(written.bytes),
            rows: Some(written.rows),
            version: written.version,
        },
    );
    Ok(written)
}

async fn write_table(
    session: &Session,
    df: DataFrame,
    loc: Location,
    options: &WriteOptions,
) -> Result<WriteSummary> {
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
