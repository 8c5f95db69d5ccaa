//! Directory outputs on S3, committed by a manifest written last.
//!
//! S3 has no rename, so a directory cannot appear at once. Instead a write
//! puts its data files straight into the directory under names no other
//! write uses, then commits by one PUT of the `_SUCCESS` record listing them
//! ([`manifest`](super::manifest)); only after that are the previous
//! version's files removed. Readers read exactly the files the record lists,
//! so an interrupted write leaves the previous version readable, never a mix.
//! A directory's first write puts an in-progress marker before any data,
//! which readers refuse until a record exists (a failed first write leaves
//! it, so files still in flight never read as a table). The record is put
//! conditionally: if-absent for a first write, else on the version it
//! replaces; of writes that raced, the first to commit wins and the others
//! fail (creators with `AlreadyExists`) and remove their files.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};

use super::listing::list;
use super::location::Location;
use super::manifest::{self, Manifest};
use super::store::store_error;
use super::write_options::WriteMode;
use crate::error::{Error, Result};

/// A write into an S3 directory, between [`begin`](DirWrite::begin) and
/// [`commit`](DirWrite::commit) or [`abandon`](DirWrite::abandon).
#[derive(Debug)]
pub(super) struct DirWrite {
    dir: Location,
    /// What the commit record is put over: `None` when there is none,
    /// `Some(etag)` for the committed record this write replaces.
    base: Option<Option<String>>,
    /// Objects of earlier versions and writes, removed once this one commits.
    previous: Vec<ObjectPath>,
    /// Whether this write may replace a committed version.
    mode: WriteMode,
}

impl DirWrite {
    /// Prepares `dir` for a write: refuses an existing output unless
    /// overwriting (a first write that never committed is no output), marks
    /// a first write, and records a directory written by another tool as the
    /// version to replace.
    pub(super) async fn begin(
        store: &Arc<dyn ObjectStore>,
        dir: &Location,
        mode: WriteMode,
    ) -> Result<DirWrite> {
        let before = objects(store, dir).await?;
        let committed = manifest::read(store, dir).await?;
        let success = manifest::success_path(dir);
        let marker = manifest::writing_path(dir);
        let previous: Vec<ObjectPath> = before
            .iter()
            .filter(|p| **p != success && **p != marker)
            .cloned()
            .collect();
        let mut write = DirWrite {
            dir: dir.clone(),
            base: None,
            previous,
            mode,
        };
        if let Some((_, e_tag)) = committed {
            if mode == WriteMode::ErrorIfExists {
                return Err(Error::AlreadyExists(dir.to_string()));
            }
            write.base = Some(e_tag);
        } else if before.contains(&marker) {
            // A first write that has not committed (running, failed or
            // killed): this one may replace it; of the two, the first to
            // commit wins.
        } else if before.is_empty() {
            store
                .put(&marker, PutPayload::new())
                .await
                .map_err(|e| store_error(dir.as_str(), &e, true))?;
        } else if mode == WriteMode::ErrorIfExists {
            return Err(Error::AlreadyExists(dir.to_string()));
        } else {
            // Written by another tool (or an older ScoreLake): its files, as
            // readers see them now, become the committed version first.
            write.base = Some(write.adopt(store).await?);
        }
        Ok(write)
    }

    /// Commits the files `written` (paths in the store) as the directory's
    /// new version, then removes the previous version's files.
    pub(super) async fn commit(
        self,
        store: &Arc<dyn ObjectStore>,
        written: &[ObjectPath],
    ) -> Result<()> {
        let files: Vec<String> = written
            .iter()
            .filter_map(|p| manifest::relative(&self.dir.object_path(), p))
            .collect();
        let mode = match &self.base {
            None => PutMode::Create,
            Some(Some(e_tag)) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag.clone()),
                version: None,
            }),
            Some(None) => PutMode::Overwrite,
        };
        let record = PutPayload::from(Manifest::new(files).to_bytes());
        let put = store
            .put_opts(&manifest::success_path(&self.dir), record, mode.into())
            .await;
        if let Err(e) = put {
            let raced = matches!(
                e,
                object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. }
            );
            self.abandon(store, written).await;
            return Err(if raced && self.mode == WriteMode::ErrorIfExists {
                Error::AlreadyExists(self.dir.to_string())
            } else if raced {
                Error::Write {
                    location: self.dir.to_string(),
                    reason: "another write committed to it while this one ran; this write's files were removed and the other write's version stands".into(),
                }
            } else {
                store_error(self.dir.as_str(), &e, true)
            });
        }
        if self.base.is_none() {
            delete(store, vec![manifest::writing_path(&self.dir)]).await;
        }
        let ours: BTreeSet<&ObjectPath> = written.iter().collect();
        let old: Vec<ObjectPath> = self
            .previous
            .iter()
            .filter(|p| !ours.contains(p))
            .cloned()
            .collect();
        // The new version is committed whatever happens here: files left
        // behind are not listed, so readers never see them.
        delete(store, old).await;
        Ok(())
    }

    /// The files a write run by other processes (a cluster's executors, whose
    /// requests this process cannot see) put since [`begin`](DirWrite::begin):
    /// the new objects, all named by one engine write (`WRITEID_N.ext`). New
    /// objects of more than one write (a concurrent writer, or an attempt of
    /// a task that was retried) cannot be told apart: the write fails, and
    /// removes none of them.
    pub(super) async fn written_by_others(
        &self,
        store: &Arc<dyn ObjectStore>,
    ) -> Result<Vec<ObjectPath>> {
        let known: BTreeSet<&ObjectPath> = self.previous.iter().collect();
        let special = [
            manifest::success_path(&self.dir),
            manifest::writing_path(&self.dir),
        ];
        let new: Vec<ObjectPath> = objects(store, &self.dir)
            .await?
            .into_iter()
            .filter(|p| !known.contains(p) && !special.contains(p))
            .collect();
        one_write(&self.dir, &new)?;
        Ok(new)
    }

    /// Removes the files `written` by a write that failed. A first write's
    /// marker stays: files still in flight may land after this, and readers
    /// must not take them for a table.
    pub(super) async fn abandon(&self, store: &Arc<dyn ObjectStore>, written: &[ObjectPath]) {
        delete(store, written.to_vec()).await;
    }

    /// Puts a record of the files readers see in the directory now; returns
    /// its version.
    async fn adopt(&self, store: &Arc<dyn ObjectStore>) -> Result<Option<String>> {
        let files = match list(store, &self.dir).await {
            Ok(listing) => listing
                .files
                .iter()
                .filter_map(|m| manifest::relative(&self.dir.object_path(), &m.location))
                .collect(),
            Err(_) => Vec::new(),
        };
        let record = PutPayload::from(Manifest::new(files).to_bytes());
        let put = store
            .put(&manifest::success_path(&self.dir), record)
            .await
            .map_err(|e| store_error(self.dir.as_str(), &e, true))?;
        Ok(put.e_tag)
    }
}

/// Refuses new files `new` of `dir` that more than one engine write put
/// (names `WRITEID_N.ext`): another writer, or a retried task, whose files
/// cannot be told apart from this write's.
pub(super) fn one_write(dir: &Location, new: &[ObjectPath]) -> Result<()> {
    let writes: BTreeSet<&str> = new
        .iter()
        .map(|p| {
            let name = p.filename().unwrap_or_default();
            name.split_once('_').map_or(name, |(id, _)| id)
        })
        .collect();
    if writes.len() > 1 {
        return Err(Error::Write {
            location: dir.to_string(),
            reason: format!(
                "{} writes put files into it at once (another writer, or a retried task); this write cannot tell its files apart and commits nothing",
                writes.len()
            ),
        });
    }
    Ok(())
}

/// Every object under `dir`.
pub(super) async fn objects(
    store: &Arc<dyn ObjectStore>,
    dir: &Location,
) -> Result<Vec<ObjectPath>> {
    store
        .list(Some(&dir.object_path()))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(|e| store_error(dir.as_str(), &e, true))
}

/// Deletes `paths`, best effort: what stays behind is not part of any version.
pub(super) async fn delete(store: &Arc<dyn ObjectStore>, paths: Vec<ObjectPath>) {
    if paths.is_empty() {
        return;
    }
    let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
    let results: Vec<_> = store.delete_stream(stream).collect().await;
    for r in results {
        if let Err(e) = r
            && !matches!(e, object_store::Error::NotFound { .. })
        {
            tracing::warn!(error = %e, "could not remove an object no version lists");
        }
    }
}
