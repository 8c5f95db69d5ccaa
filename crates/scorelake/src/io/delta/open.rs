//! Opening a Delta table through the session's object stores, at a version.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Once};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::errors::ParquetError;
use datafusion::prelude::DataFrame;
use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig, default_logstore, logstore_factories,
};
use deltalake_core::{DeltaResult, DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use url::Url;

use super::TableVersion;
use super::commit_log::{self, log_dir};
use crate::config::S3Commit;
use crate::error::{Error, Result, engine_message, redact_urls};
use crate::io::listing::{self, Listing};
use crate::io::location::Location;
use crate::io::store::{self, exists, store_error};
use crate::ledger::TableUse;
use crate::session::Session;

/// delta-rs ships log stores for `file://` and `memory://` only. S3 commits
/// here use its put-if-absent log store too: the store is ours (the session's
/// S3 client), whose `PutMode::Create` sends `If-None-Match: *`.
struct PutIfAbsentLogStores;

impl LogStoreFactory for PutIfAbsentLogStores {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

fn register_log_stores() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registry = logstore_factories();
        for scheme in ["s3://", "s3a://"] {
            if let Ok(url) = Url::parse(scheme) {
                registry.insert(url, Arc::new(PutIfAbsentLogStores));
            }
        }
    });
}

/// A handle on the table at `loc`, its log not read yet.
pub(super) fn handle(session: &Session, loc: &Location) -> Result<DeltaTable> {
    register_log_stores();
    let store = store::open(session, loc)?;
    let url = loc.as_dir().url().clone();
    DeltaTableBuilder::from_url(url.clone())
        .and_then(|b| b.with_storage_backend(store, url).build())
        .map_err(|e| delta_error(loc, None, &e))
}

/// Whether `location` holds a Delta table (a non-empty `_delta_log` folder).
///
/// ```
/// use scorelake::{config::Config, io, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let session = Session::new(Config::default())?;
/// let loc = io::Location::parse(dir.path().to_str().unwrap())?;
/// assert!(!io::delta::is_table(&session, &loc).await?);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn is_table(session: &Session, loc: &Location) -> Result<bool> {
    if let Some(path) = loc.local_path() {
        let log = path.join("_delta_log");
        return Ok(log.is_dir()
            && std::fs::read_dir(&log)
                .map_err(|e| Error::io(log.display(), e))?
                .next()
                .is_some());
    }
    let store = store::open(session, loc)?;
    let mut entries = store.list(Some(&log_dir(loc)));
    match entries.next().await {
        None | Some(Err(object_store::Error::NotFound { .. })) => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) => Err(store_error(loc.as_str(), &e, false)),
    }
}

/// The table at `loc`, loaded at `at` (default: the newest version).
///
/// Errors name the table and the version: not a table, a version that does
/// not exist, a time before the first commit, a corrupt log entry (an empty
/// or unreadable newest one refuses the newest version, and so every write).
pub(super) async fn load(
    session: &Session,
    loc: &Location,
    at: Option<TableVersion>,
) -> Result<DeltaTable> {
    if !is_table(session, loc).await? {
        return Err(not_a_table(session, loc).await);
    }
    let store = store::open(session, loc)?;
    let versions = commit_log::versions(&store, loc).await?;
    let (Some(first), Some(latest)) = (versions.first(), versions.last()) else {
        return Err(Error::Delta {
            table: loc.to_string(),
            version: None,
            reason: "its _delta_log folder has no commits".into(),
        });
    };
    let mut table = handle(session, loc)?;
    let wanted = match at {
        None => {
            // delta-rs skips an unreadable newest commit file (with a
            // warning) and loads the version before, which an append would
            // then build on: the table is refused instead, naming the file.
            commit_log::read(&store, loc, latest).await?;
            let loaded = table.load().await;
            return finish(loaded, table, &store, loc, &versions, latest.version).await;
        }
        Some(TableVersion::Number(v)) => {
            if v > latest.version || v < first.version {
                let kept = if first.version > 0 {
                    format!(
                        " (older versions' log entries were cleaned up; the earliest kept is {})",
                        first.version
                    )
                } else {
                    String::new()
                };
                return Err(Error::Delta {
                    table: loc.to_string(),
                    version: Some(v),
                    reason: format!(
                        "no such version: the table has versions {} to {}{kept}",
                        first.version, latest.version
                    ),
                });
            }
            v
        }
        Some(TableVersion::AsOf(t)) => {
            let earliest = commit_log::read(&store, loc, first).await?;
            if t < earliest.timestamp {
                return Err(Error::Delta {
                    table: loc.to_string(),
                    version: None,
                    reason: format!(
                        "{} is before the first commit (version {} at {})",
                        t.to_rfc3339(),
                        first.version,
                        earliest.timestamp.to_rfc3339()
                    ),
                });
            }
            if commit_log::read(&store, loc, latest).await?.in_commit_time {
                // delta-rs resolves in-commit timestamps.
                let loaded = table.load_with_datetime(t).await;
                let v = table.version().unwrap_or_default();
                return finish(loaded, table, &store, loc, &versions, v).await;
            }
            // The newest version whose (increasing) commit time is at or before t.
            versions
                .iter()
                .rev()
                .find(|f| f.modified <= t)
                .map_or(first.version, |f| f.version)
        }
    };
    let loaded = table.load_version(wanted).await;
    finish(loaded, table, &store, loc, &versions, wanted).await
}

/// The loaded table, or an error naming the corrupt log entry behind a failure.
async fn finish(
    loaded: DeltaResult<()>,
    table: DeltaTable,
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    versions: &[commit_log::LogFile],
    version: u64,
) -> Result<DeltaTable> {
    let upto = || -> Vec<_> {
        versions
            .iter()
            .filter(|f| f.version <= version)
            .cloned()
            .collect()
    };
    if let Err(e) = loaded {
        if let Some(err) = commit_log::first_corrupt(store, loc, &upto()).await {
            return Err(err);
        }
        return Err(delta_error(loc, Some(version), &e));
    }
    let snapshot = table
        .snapshot()
        .map_err(|e| delta_error(loc, Some(version), &e))?;
    let outside = snapshot
        .log_data()
        .iter()
        .find_map(|file| commit_log::check_inside(&file.path()).err());
    if let Some(reason) = outside {
        // The commit file that added it names the line; a checkpoint the version.
        if let Some(err) = commit_log::first_corrupt(store, loc, &upto()).await {
            return Err(err);
        }
        return Err(Error::Delta {
            table: loc.to_string(),
            version: Some(version),
            reason: format!("its checkpoint is corrupt: {reason}"),
        });
    }
    Ok(table)
}

/// Refuses a version whose data files are gone (removed by a vacuum, or by
/// hand), naming the first missing one: counts answered from the log's
/// statistics would otherwise report rows that can no longer be read.
async fn check_files_exist(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    table: &DeltaTable,
) -> Result<()> {
    let version = table.version();
    let snapshot = table
        .snapshot()
        .map_err(|e| delta_error(loc, version, &e))?;
    let root = loc.object_path();
    let listed: HashSet<ObjectPath> = store
        .list(Some(&root))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(|e| store_error(loc.as_str(), &e, false))?;
    for file in snapshot.log_data().iter() {
        let path: ObjectPath = root
            .parts()
            .chain(file.object_store_path().parts())
            .collect();
        // A file missing from the listing is asked for directly before it is
        // called gone, in case the listing spells its name differently.
        if listed.contains(&path) || store.head(&path).await.is_ok() {
            continue;
        }
        return Err(Error::Delta {
            table: loc.to_string(),
            version,
            reason: format!(
                "its data file `{}` is gone (removed by a vacuum, or by hand); this version can no longer be read",
                file.path()
            ),
        });
    }
    Ok(())
}

/// The error for a location without a Delta log.
pub(super) async fn not_a_table(session: &Session, loc: &Location) -> Error {
    let found = match store::open(session, loc) {
        Ok(store) => exists(&store, loc).await.unwrap_or(true),
        Err(e) => return e,
    };
    if !found {
        return Error::NotFound(loc.to_string());
    }
    Error::Delta {
        table: loc.to_string(),
        version: None,
        reason: "not a Delta table: it has no _delta_log folder (read its files as parquet, csv or ncf instead)".into(),
    }
}

/// Reads the table at `loc` (at `at`, default the newest version) as a lazy frame.
pub(crate) async fn read(
    session: &Session,
    loc: &Location,
    at: Option<TableVersion>,
) -> Result<DataFrame> {
    let table = load(session, loc, at).await?;
    check_files_exist(&store::open(session, loc)?, loc, &table).await?;
    let version = table.version();
    let provider = table
        .table_provider()
        .with_session(Arc::new(session.ctx().state()))
        .await
        .map_err(|e| Error::Delta {
            table: loc.to_string(),
            version,
            reason: engine_message(&e),
        })?;
    tracing::debug!(table = %loc, version, "opening Delta table");
    session.ledger().note(
        false,
        TableUse {
            location: loc.to_string(),
            format: "delta".into(),
            bytes: None,
            rows: None,
            version,
        },
    );
    Ok(session.ctx().read_table(provider)?)
}

/// The data files of a Delta table's version, for scans that do not go
/// through delta-rs (a plan sent to a cluster): their listing (`None` for a
/// table without files) and the table's schema.
pub(crate) struct SnapshotFiles {
    pub listing: Option<Listing>,
    pub schema: SchemaRef,
}

/// The files of the table at `loc` (at `at`, default the newest version).
///
/// Refused, naming the reason, for what a plain scan of the files would
/// read wrongly: deletion vectors (deleted rows are still in the files),
/// column mapping (the files' column names are not the table's), and files
/// outside partition folders that match the table's partition columns.
pub(crate) async fn snapshot_files(
    session: &Session,
    loc: &Location,
    at: Option<TableVersion>,
) -> Result<SnapshotFiles> {
    let table = load(session, loc, at).await?;
    check_files_exist(&store::open(session, loc)?, loc, &table).await?;
    let version = table.version();
    let refuse = |reason: String| Error::Delta {
        table: loc.to_string(),
        version,
        reason: format!("{reason}; read it with engine.kind = embedded"),
    };
    let snapshot = table
        .snapshot()
        .map_err(|e| delta_error(loc, version, &e))?;
    let metadata = snapshot.metadata();
    if let Some(mode) = metadata.configuration().get("delta.columnMapping.mode")
        && mode != "none"
    {
        return Err(refuse(format!(
            "it maps column names (delta.columnMapping.mode = {mode}), which a cluster cannot read yet"
        )));
    }
    let root = loc.object_path();
    let mut files = Vec::new();
    for file in snapshot.log_data().iter() {
        if file.deletion_vector_descriptor().is_some() {
            return Err(refuse(format!(
                "its file `{}` has deleted rows (a deletion vector), which a cluster cannot read yet",
                file.path()
            )));
        }
        files.push(ObjectMeta {
            location: root
                .parts()
                .chain(file.object_store_path().parts())
                .collect(),
            last_modified: file
                .modification_datetime()
                .map_err(|e| delta_error(loc, version, &e))?,
            size: file.size().max(0) as u64,
            e_tag: None,
            version: None,
        });
    }
    let schema = snapshot.snapshot().arrow_schema();
    if files.is_empty() {
        return Ok(SnapshotFiles {
            listing: None,
            schema,
        });
    }
    let listing = listing::of_files(&loc.as_dir(), files, None)?;
    let folders: Vec<&String> = listing.partitions.iter().map(|(k, _)| k).collect();
    let declared: Vec<&String> = metadata.partition_columns().iter().collect();
    if folders != declared {
        return Err(refuse(format!(
            "its files are not in partition folders of its partition columns ({})",
            metadata.partition_columns().join(", ")
        )));
    }
    Ok(SnapshotFiles {
        listing: Some(listing),
        schema,
    })
}

/// Checks, once per bucket and process, that the S3 store honours
/// put-if-absent, on which safe concurrent commits rest.
pub(super) async fn check_commits_are_safe(session: &Session, loc: &Location) -> Result<()> {
    if !loc.is_s3() || session.config().delta.s3_commit == S3Commit::SingleWriter {
        return Ok(());
    }
    static CHECKED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!(
        "{}|{}",
        session.config().s3.endpoint.as_deref().unwrap_or("aws"),
        loc.store_url()
    );
    let seen = |insert: bool| {
        let mut guard = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
        let set = guard.get_or_insert_with(HashSet::new);
        if insert {
            set.insert(key.clone());
            true
        } else {
            set.contains(&key)
        }
    };
    if seen(false) {
        return Ok(());
    }
    let store = store::open(session, loc)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Beside the table, hidden, so no reader takes it for part of the table.
    let probe = loc
        .sibling(&format!(
            ".{}.put-if-absent-check-{}-{nanos:x}",
            loc.file_name(),
            std::process::id()
        ))
        .object_path();
    let create = || PutMode::Create.into();
    let first = store
        .put_opts(&probe, PutPayload::from_static(b"1"), create())
        .await;
    let second = store
        .put_opts(&probe, PutPayload::from_static(b"2"), create())
        .await;
    let _ = store.delete(&probe).await;
    first.map_err(|e| store_error(loc.as_str(), &e, true))?;
    match second {
        Err(object_store::Error::AlreadyExists { .. }) => {
            seen(true);
            Ok(())
        }
        Ok(_) => Err(Error::Delta {
            table: loc.to_string(),
            version: None,
            reason: "the S3 store ignores conditional writes (If-None-Match: *), so concurrent commits could overwrite each other; use a store that honours them (AWS S3, MinIO, SeaweedFS, R2) or, if only one writer ever commits to this table, set delta.s3_commit = single_writer".into(),
        }),
        Err(e) => Err(store_error(loc.as_str(), &e, true)),
    }
}

/// A delta-rs error as ours, naming the table (and version, when known).
pub(super) fn delta_error(loc: &Location, version: Option<u64>, err: &DeltaTableError) -> Error {
    let reason = match &err {
        DeltaTableError::NotATable(_) => "not a Delta table".to_string(),
        DeltaTableError::InvalidVersion(v) => {
            return Error::Delta {
                table: loc.to_string(),
                version: Some(*v),
                reason: "no such version".into(),
            };
        }
        DeltaTableError::VersionAlreadyExists(v) => format!(
            "version {v} was committed by another writer and the retries (delta.commit_retries) ran out"
        ),
        _ if is_disk_full(&err.to_string()) => format!(
            "the disk is full: nothing was committed (an existing table is unchanged); free space and write again ({err})"
        ),
        // delta-rs reports a data file that could not be stored as a Parquet
        // parse failure; it is a storage failure.
        DeltaTableError::Parquet {
            source: ParquetError::External(inner),
        } => format!("storage failed: {inner}"),
        _ => err.to_string(),
    };
    Error::Delta {
        table: loc.to_string(),
        version,
        reason: redact_urls(&store::with_unreachable(reason)),
    }
}

/// Whether an error's text is the operating system's "no space" (or quota) error.
fn is_disk_full(text: &str) -> bool {
    [
        "No space left on device",
        "os error 28",
        "Disk quota exceeded",
        "os error 122",
    ]
    .iter()
    .any(|m| text.contains(m))
}
