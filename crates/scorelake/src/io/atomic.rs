//! The atomic-commit protocol of file outputs on local disk, and exclusive
//! creates of S3 objects. Local data is written under a hidden temporary name
//! beside the output, then put in place in one step (a rename; a create
//! takes a place that is still free or fails), so a failed or killed write
//! leaves nothing at the output that looks complete. S3 completes a
//! single-object upload atomically by itself; a create first claims the name
//! with a put-if-absent marker. S3 directories: see
//! [`dir_commit`](super::dir_commit).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};

use super::location::Location;
use super::manifest::SUCCESS;
use super::store::store_error;
use crate::error::{Error, Result};

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

/// Moves the staged local output to its final place: replacing what is
/// there when `replace`, else only if the place is still free (so of
/// concurrent creators exactly one succeeds, the others get
/// [`Error::AlreadyExists`]).
pub(super) fn commit(staged: &Location, target: &Location, replace: bool) -> Result<()> {
    let (Some(from), Some(to)) = (staged.local_path(), target.local_path()) else {
        return Err(Error::Write {
            location: target.to_string(),
            reason: "a local commit of a location that is not on local disk".into(),
        });
    };
    if replace {
        return replace_local(&from, &to);
    }
    let exists = || Error::AlreadyExists(target.to_string());
    if from.is_dir() {
        std::fs::write(from.join(SUCCESS), b"").map_err(|e| Error::io(from.display(), e))?;
        // rename(2) neither replaces a non-empty directory nor puts a
        // directory over a file.
        return match std::fs::rename(&from, &to) {
            Ok(()) => Ok(()),
            Err(_) if to.exists() => Err(exists()),
            Err(e) => Err(Error::io(to.display(), e)),
        };
    }
    // A hard link is created only where no file is.
    match std::fs::hard_link(&from, &to) {
        Ok(()) => std::fs::remove_file(&from).map_err(|e| Error::io(from.display(), e)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists || to.exists() => Err(exists()),
        // A file system without hard links: the best it offers.
        Err(_) => std::fs::rename(&from, &to).map_err(|e| Error::io(to.display(), e)),
    }
}

/// The hidden marker beside the S3 object `loc` that claims its creation.
fn claim_path(loc: &Location) -> ObjectPath {
    loc.sibling(&format!(".{}.scorelake-creating", loc.file_name()))
        .object_path()
}

/// Claims the creation of the S3 object `loc` (put-if-absent of a hidden
/// marker beside it), then checks it is still absent: of concurrent creators
/// exactly one gets the claim, the others [`Error::AlreadyExists`]. The claim
/// is given up by [`release`] once the object is written (or the write failed).
pub(super) async fn claim(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<()> {
    let path = claim_path(loc);
    match store
        .put_opts(&path, PutPayload::new(), PutMode::Create.into())
        .await
    {
        Ok(_) => {}
        Err(object_store::Error::AlreadyExists { .. }) => {
            return Err(Error::AlreadyExists(loc.to_string()));
        }
        Err(e) => return Err(store_error(loc.as_str(), &e, true)),
    }
    match store.head(&loc.object_path()).await {
        Err(object_store::Error::NotFound { .. }) => Ok(()),
        Ok(_) => {
            release(store, loc).await;
            Err(Error::AlreadyExists(loc.to_string()))
        }
        Err(e) => {
            release(store, loc).await;
            Err(store_error(loc.as_str(), &e, true))
        }
    }
}

/// Gives up the creation claim on `loc` (also one an interrupted create left).
pub(super) async fn release(store: &Arc<dyn ObjectStore>, loc: &Location) {
    if let Err(e) = store.delete(&claim_path(loc)).await
        && !matches!(e, object_store::Error::NotFound { .. })
    {
        tracing::warn!(location = %loc, error = %e, "could not remove the creation claim");
    }
}

/// Puts `from` in place of whatever is at `to`.
fn replace_local(from: &Path, to: &Path) -> Result<()> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| Error::io(p, e)
    };
    if from.is_file() && !to.is_dir() {
        // rename(2) replaces a file atomically.
        return std::fs::rename(from, to).map_err(io(to));
    }
    // The marker travels with the directory, so it appears with the data.
    std::fs::write(from.join(SUCCESS), b"").map_err(io(from))?;
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
    let marker: ObjectPath = dir.object_path().join(SUCCESS);
    store
        .put(&marker, PutPayload::new())
        .await
        .map_err(|e| store_error(dir.as_str(), &e, true))?;
    Ok(())
}
