//! What a location holds: one file, or the data files of a directory with
//! its hive partition keys.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::location::{Location, format_of_name};
use super::store::store_error;
use crate::config::Format;
use crate::error::{Error, Result};

/// The data files behind a location.
#[derive(Debug)]
pub(crate) struct Listing {
    /// Visible data files, sorted by path.
    pub files: Vec<ObjectMeta>,
    /// Whether the location is a single file.
    pub single_file: bool,
    /// Hive partition keys, outermost first, with every value seen per key.
    pub partitions: Vec<(String, Vec<String>)>,
    /// Whether hidden (`.x`, `_x`) files with data extensions were skipped.
    pub skipped_hidden: bool,
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
/// are files in sub-folders that are not `key=value` partitions.
pub(crate) async fn list(store: &Arc<dyn ObjectStore>, location: &Location) -> Result<Listing> {
    let prefix = location.object_path();
    if !location.is_dir_syntax() {
        match store.head(&prefix).await {
            Ok(meta) => {
                return Ok(Listing {
                    files: vec![meta],
                    single_file: true,
                    partitions: vec![],
                    skipped_hidden: false,
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
    let mut files = Vec::new();
    let mut skipped_hidden = false;
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
            skipped_hidden |= format_of_name(name).is_some();
            continue;
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
        skipped_hidden,
    })
}
