//! Delta writes on a cluster: the executors write the data files into the
//! table's folder (Parquet, hive partition folders), and this process
//! commits them as one version: a create, an append, or an overwrite that
//! removes every file of the version it replaces.
//!
//! Only the files' names, sizes and row counts (from their footers) reach
//! this process, never their rows. Files of more than one engine write (a
//! retried task, another writer) are refused; whatever fails after the
//! files are written removes them, so no version lists them.

use std::collections::{BTreeSet, HashMap};

use datafusion::prelude::DataFrame;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, Add, StructType};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;

use super::open::delta_error;
use crate::config::Format;
use crate::error::{Error, Result};
use crate::io::dir_commit::{delete, objects, one_write};
use crate::io::execute::execute;
use crate::io::footer::parquet_footer;
use crate::io::hive::{decode, folder_value, with_folder_values};
use crate::io::location::Location;
use crate::io::write_options::WriteOptions;
use crate::session::Session;

/// Writes `df` into the table at `loc` on the session's cluster and
/// commits it with `mode`: a new table (`table` none), or a new version of
/// `table`. Returns the committed version.
#[allow(clippy::too_many_arguments)]
pub(super) async fn write_on_cluster(
    session: &Session,
    store: &Arc<dyn ObjectStore>,
    df: DataFrame,
    loc: &Location,
    table: &DeltaTable,
    exists: bool,
    mode: SaveMode,
    partition_by: &[String],
    retries: usize,
) -> Result<u64> {
    let schema: StructType =
        df.schema()
            .as_arrow()
            .try_into_kernel()
            .map_err(|e| Error::Delta {
                table: loc.to_string(),
                version: None,
                reason: format!("the data's schema has no Delta equivalent: {e}"),
            })?;
    let before: BTreeSet<ObjectPath> = data_files(store, loc).await?;
    let df = with_folder_values(df, loc, partition_by)?;
    let options = WriteOptions {
        partition_by: partition_by.to_vec(),
        ..WriteOptions::default()
    };
    execute(session, df, loc, Format::Parquet, false, &options).await?;
    let new: Vec<ObjectPath> = data_files(store, loc)
        .await?
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    let committed = async {
        one_write(loc, &new)?;
        let adds = adds(store, loc, &new).await?;
        commit(
            loc,
            table,
            exists,
            schema,
            adds,
            mode,
            partition_by,
            retries,
        )
        .await
    }
    .await;
    if committed.is_err() {
        tracing::debug!(table = %loc, "cluster write failed; removing its files");
        delete(store, new).await;
    }
    committed
}

/// Every object under the table's folder but its log.
async fn data_files(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<BTreeSet<ObjectPath>> {
    let log = format!("{}/_delta_log/", loc.as_dir().object_path());
    Ok(objects(store, &loc.as_dir())
        .await?
        .into_iter()
        .filter(|p| !p.as_ref().starts_with(&log))
        .collect())
}

/// One `add` per new file: its path under the table, partition values from
/// its folders, size, and row count from its footer.
async fn adds(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    files: &[ObjectPath],
) -> Result<Vec<Action>> {
    let root = loc.as_dir().object_path();
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let meta = store
            .head(file)
            .await
            .map_err(|e| crate::io::store::store_error(loc.as_str(), &e, true))?;
        let relative: Vec<String> = file
            .prefix_match(&root)
            .map(|parts| parts.map(|p| p.as_ref().to_string()).collect())
            .unwrap_or_default();
        let Some((name, folders)) = relative.split_last() else {
            continue;
        };
        let partition_values: HashMap<String, Option<String>> = folders
            .iter()
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (decode(k), folder_value(v)))
            .collect();
        let rows = row_count(store, file, meta.size)
            .await
            .map_err(|reason| Error::Write {
                location: loc.to_string(),
                reason: format!("the new file `{name}`: {reason}"),
            })?;
        out.push(Action::Add(Add {
            path: relative.join("/"),
            partition_values,
            size: meta.size as i64,
            modification_time: meta.last_modified.timestamp_millis(),
            data_change: true,
            stats: Some(format!("{{\"numRecords\":{rows}}}")),
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        }));
    }
    Ok(out)
}

/// The rows of the Parquet file `file` of `size` bytes, from its footer.
async fn row_count(
    store: &Arc<dyn ObjectStore>,
    file: &ObjectPath,
    size: u64,
) -> std::result::Result<i64, String> {
    Ok(parquet_footer(store, file, size)
        .await?
        .file_metadata()
        .num_rows())
}

/// Commits `adds` (and, for an overwrite, the removal of every file of
/// `table`'s version) as one version; creates the table when it does not
/// `exist`.
#[allow(clippy::too_many_arguments)]
async fn commit(
    loc: &Location,
    table: &DeltaTable,
    exists: bool,
    schema: StructType,
    adds: Vec<Action>,
    mode: SaveMode,
    partition_by: &[String],
    retries: usize,
) -> Result<u64> {
    if !exists {
        let created = CreateBuilder::new()
            .with_log_store(table.log_store())
            .with_columns(schema.fields().cloned())
            .with_partition_columns(partition_by.to_vec())
            .with_actions(adds)
            .with_save_mode(SaveMode::ErrorIfExists)
            .await
            .map_err(|e| delta_error(loc, None, &e))?;
        return Ok(created.version().unwrap_or_default() as u64);
    }
    let snapshot = table.snapshot().map_err(|e| delta_error(loc, None, &e))?;
    let mut actions = Vec::new();
    if mode == SaveMode::Overwrite {
        actions.extend(
            snapshot
                .log_data()
                .iter()
                .map(|f| Action::Remove(f.remove_action(true))),
        );
    }
    actions.extend(adds);
    let operation = DeltaOperation::Write {
        mode,
        partition_by: (!partition_by.is_empty()).then(|| partition_by.to_vec()),
        predicate: None,
    };
    let version = snapshot.version();
    let committed = CommitBuilder::from(CommitProperties::default().with_max_retries(retries))
        .with_actions(actions)
        .build(Some(snapshot), table.log_store(), operation)
        .await
        .map_err(|e| delta_error(loc, Some(version), &e))?;
    Ok(committed.version() as u64)
}
