//! The atomic-commit protocol of file outputs: data is written under a
//! hidden temporary name beside the output, then put in place in one step
//! (local disk: a rename; S3 directories: old objects removed, staged ones
//! copied in, the success marker last), so a failed or killed write leaves
//! nothing at the output that looks complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::location::Location;
use super::store::{remove, store_error};
use crate::error::{Error, Result};

/// Name of the marker written last into directory outputs.
const SUCCESS_MARKER: &str = "_SUCCESS";

/// A hidden, unique name next to the output.
pub(super) fn temp_name(name: &str) -> String {
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

/// Refuses a local output whose folder does not take new files, before any
/// work starts. Some folders (`/proc`) exist yet answer every file creation
/// with "not found", which the object store would retry forever.
pub(super) fn check_creatable(loc: &Location) -> Result<()> {
    let Some(dir) = local_parent(loc) else {
        return Ok(());
    };
    probe(&dir, 0).map_err(|e| Error::Write {
        location: loc.to_string(),
        reason: format!("cannot create files in `{}`: {e}", dir.display()),
    })
}

/// Why the local disk refuses to store `loc` (a full disk, a read-only
/// file system), found by storing a small file beside it; `None` when it
/// stores one, or `loc` is not local. Some writers report a storage failure
/// without its cause.
pub(super) fn storage_failure(loc: &Location) -> Option<std::io::Error> {
    probe(&local_parent(loc)?, 64 << 10).err()
}

fn local_parent(loc: &Location) -> Option<PathBuf> {
    Some(loc.local_path()?.parent()?.to_path_buf())
}

/// Creates the folder `dir`, and in it a file of `bytes` zeros stored on
/// disk, then removes the file.
fn probe(dir: &Path, bytes: usize) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(temp_name("probe"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let written = file
        .write_all(&vec![0; bytes])
        .and_then(|()| file.sync_all());
    drop(file);
    let removed = std::fs::remove_file(&path);
    written.and(removed)
}

/// Moves the staged output to its final place, replacing what was there.
pub(super) async fn commit(
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
        .map_err(|e| store_error(target.as_str(), &e, true))?;
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
            .map_err(|e| store_error(target.as_str(), &e, true))?;
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

/// Writes the success marker into the directory output `dir`.
pub(super) async fn mark_success(store: &Arc<dyn ObjectStore>, dir: &Location) -> Result<()> {
    let marker: ObjectPath = dir.object_path().join(SUCCESS_MARKER);
    store
        .put(&marker, PutPayload::new())
        .await
        .map_err(|e| store_error(dir.as_str(), &e, true))?;
    Ok(())
}
