//! What a location holds: one file, or the data files of a directory with
//! its hive partition keys. A directory with a ScoreLake commit record
//! (`_SUCCESS` listing its files, see [`manifest`](super::manifest)) holds
//! exactly the files listed; one whose first write never committed is refused.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::location::{Location, format_of_name};
use super::manifest;
use super::store::store_error;
use crate::config::Format;
use crate::error::{Error, Result};

/// The data files behind a location.
#[derive(Debug)]
pub(crate) struct Listing {
    /// The table's files, sorted by path: the visible ones, or with a
    /// commit record the ones it lists.
    pub files: Vec<ObjectMeta>,
    /// Whether the location is a single file.
    pub single_file: bool,
    /// Hive partition keys, outermost first, with every value seen per key.
    pub partitions: Vec<(String, Vec<String>)>,
}

impl Listing {
    /// Total bytes of the data files.
    pub(super) fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The one format the files' extensions imply, if they agree.
    pub(super) fn format(&self, location: &Location) -> Result<Option<Format>> {
        let mut found: Option<(Format, &ObjectMeta)> = None;
        for f in &self.files {
            let Some(fmt) = f.location.filename().and_then(format_of_name) else {
                continue;
            };
            match found {
                Some((seen, other)) if seen != fmt => {
                    return Err(Error::Read {
                        location: location.to_string(),
                        reason: format!(
                            "mixed formats: `{}` is {seen} but `{}` is {fmt}",
                            other.location, f.location
                        ),
                    });
                }
                Some(_) => {}
                None => found = Some((fmt, f)),
            }
        }
        Ok(found.map(|(f, _)| f))
    }
}

/// Lists `location` in `store`: a single object, or a directory's data files.
///
/// Hidden files and folders (names starting with `.` or `_`) are skipped, as
/// are files in sub-folders that are not `key=value` partitions. A directory
/// with a commit record holds the files it lists (each must be there); one
/// with an in-progress marker and no record is an error.
pub(crate) async fn list(store: &Arc<dyn ObjectStore>, location: &Location) -> Result<Listing> {
    let prefix = location.object_path();
    if !location.is_dir_syntax() {
        match store.head(&prefix).await {
            Ok(meta) => {
                return Ok(Listing {
                    files: vec![meta],
                    single_file: true,
                    partitions: vec![],
                });
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_error(location.as_str(), &e, false)),
        }
    }
    let all: Vec<ObjectMeta> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| store_error(location.as_str(), &e, false))?;
    if all.is_empty() {
        return Err(Error::NotFound(location.to_string()));
    }
    let record = prefix.clone().join(manifest::SUCCESS);
    let mut listed: Option<BTreeSet<ObjectPath>> = None;
    if all.iter().any(|m| m.location == record && m.size > 0)
        && let Some((m, _)) = manifest::read(store, location).await?
    {
        let mut paths = BTreeSet::new();
        for f in &m.files {
            let path = manifest::absolute(&prefix, f).ok_or_else(|| Error::Read {
                location: location.to_string(),
                reason: format!(
                    "its commit record `{}` lists `{f}`, which is no file name",
                    manifest::SUCCESS
                ),
            })?;
            paths.insert(path);
        }
        listed = Some(paths);
    }
    let marker = prefix.clone().join(manifest::WRITING);
    if listed.is_none() && all.iter().any(|m| m.location == marker) {
        return Err(manifest::unfinished(location));
    }
    let listing = of_files(location, all, listed.as_ref())?;
    let found: BTreeSet<&ObjectPath> = listing.files.iter().map(|f| &f.location).collect();
    if let Some(listed) = &listed
        && let Some(missing) = listed.iter().find(|p| !found.contains(p))
    {
        return Err(Error::Read {
            location: location.to_string(),
            reason: format!(
                "its commit record `{}` lists `{missing}`, which is missing (removed after the write committed); rewrite it with overwrite",
                manifest::SUCCESS
            ),
        });
    }
    Ok(listing)
}

/// The data files among `all` (the objects under the directory `location`;
/// with `listed`, only those), with their hive partition keys.
pub(crate) fn of_files(
    location: &Location,
    all: Vec<ObjectMeta>,
    listed: Option<&BTreeSet<ObjectPath>>,
) -> Result<Listing> {
    let prefix = location.object_path();
    let mut files = Vec::new();
    let mut partitions: Option<Vec<(String, Vec<String>)>> = None;
    for meta in all {
        let Some(rel) = meta.location.prefix_match(&prefix) else {
            continue;
        };
        let segments: Vec<String> = rel.map(|s| s.as_ref().to_string()).collect();
        let Some((name, dirs)) = segments.split_last() else {
            continue;
        };
        let hidden = |s: &str| s.starts_with('.') || s.starts_with('_');
        if hidden(name) || dirs.iter().any(|d| hidden(d)) {
            continue;
        }
        if let Some(listed) = listed
            && !listed.contains(&meta.location)
        {
            continue; // a stray: not part of the committed version
        }
        let Some(pairs) = dirs
            .iter()
            .map(|d| {
                d.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect::<Option<Vec<_>>>()
        else {
            continue; // a plain sub-folder: not part of the table
        };
        match &mut partitions {
            None => {
                partitions = Some(pairs.into_iter().map(|(k, v)| (k, vec![v])).collect());
            }
            Some(known) => {
                let keys_match = known.len() == pairs.len()
                    && known.iter().zip(&pairs).all(|((k, _), (pk, _))| k == pk);
                if !keys_match {
                    return Err(Error::Read {
                        location: location.to_string(),
                        reason: format!(
                            "inconsistent partition folders: `{}` does not follow the layout {}",
                            meta.location,
                            known
                                .iter()
                                .map(|(k, _)| format!("{k}=…/"))
                                .collect::<String>()
                        ),
                    });
                }
                for ((_, values), (_, v)) in known.iter_mut().zip(pairs) {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
        }
        files.push(meta);
    }
    if files.is_empty() {
        return Err(Error::Read {
            location: location.to_string(),
            reason: "the directory holds no data files".into(),
        });
    }
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(Listing {
        files,
        single_file: false,
        partitions: partitions.unwrap_or_default(),
    })
}
