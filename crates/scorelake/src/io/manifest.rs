//! The commit record of a directory output on S3: the `_SUCCESS` object,
//! written last, lists the files of the committed version, and readers read
//! exactly those. A directory being written for the first time holds an
//! in-progress marker until then, which readers refuse.

use std::sync::Arc;

use object_store::path::{Path as ObjectPath, PathPart};
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};

use super::location::Location;
use super::store::store_error;
use crate::error::{Error, Result};

/// Name of the object written last into directory outputs.
pub(super) const SUCCESS: &str = "_SUCCESS";

/// Name of the marker a first write puts into a directory before any data.
pub(super) const WRITING: &str = "_scorelake_writing";

/// The files of one committed version of a directory output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Manifest {
    /// Format tag: tells this record from the empty or foreign `_SUCCESS`
    /// files other tools write.
    pub scorelake_manifest: u32,
    /// Paths relative to the directory, `/`-separated.
    pub files: Vec<String>,
}

impl Manifest {
    /// A manifest of `files` (relative paths).
    pub(super) fn new(mut files: Vec<String>) -> Manifest {
        files.sort();
        Manifest {
            scorelake_manifest: 1,
            files,
        }
    }

    /// The record's bytes.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        // Serialising strings into JSON cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// The manifest in `bytes`, or `None` when they are not one (an empty
    /// `_SUCCESS` or another tool's).
    pub(super) fn parse(bytes: &[u8]) -> Option<Manifest> {
        serde_json::from_slice::<Manifest>(bytes)
            .ok()
            .filter(|m| m.scorelake_manifest == 1)
    }
}

/// The committed manifest of the directory `dir` and the version (ETag) of
/// its record, if it has one.
pub(super) async fn read(
    store: &Arc<dyn ObjectStore>,
    dir: &Location,
) -> Result<Option<(Manifest, Option<String>)>> {
    let path = success_path(dir);
    let got = match store.get(&path).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_error(dir.as_str(), &e, false)),
    };
    let e_tag = got.meta.e_tag.clone();
    let bytes = got
        .bytes()
        .await
        .map_err(|e| store_error(dir.as_str(), &e, false))?;
    Ok(Manifest::parse(&bytes).map(|m| (m, e_tag)))
}

/// `path` relative to the directory `dir` (`/`-separated), if it is inside.
pub(super) fn relative(dir: &ObjectPath, path: &ObjectPath) -> Option<String> {
    let parts: Vec<String> = path
        .prefix_match(dir)?
        .map(|p| p.as_ref().to_string())
        .collect();
    Some(parts.join("/"))
}

/// The store path of the file `rel` (as [`relative`] gives it) in `dir`;
/// `None` for a name no store path has.
pub(super) fn absolute(dir: &ObjectPath, rel: &str) -> Option<ObjectPath> {
    let parts: Vec<PathPart<'_>> = rel
        .split('/')
        .map(PathPart::parse)
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    Some(ObjectPath::from_iter(dir.parts().chain(parts)))
}

/// Where the commit record of `dir` lives.
pub(super) fn success_path(dir: &Location) -> ObjectPath {
    dir.object_path().join(SUCCESS)
}

/// Where the in-progress marker of `dir` lives.
pub(super) fn writing_path(dir: &Location) -> ObjectPath {
    dir.object_path().join(WRITING)
}

/// The error for a directory whose first write never finished.
pub(super) fn unfinished(dir: &Location) -> Error {
    Error::Read {
        location: dir.to_string(),
        reason: format!(
            "unfinished write: a write into it was interrupted or is still running (`{WRITING}` without a committed `{SUCCESS}`); rerun that write with overwrite, or remove the directory"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_foreign_markers_are_not_manifests() {
        let m = Manifest::new(vec!["b.parquet".into(), "a=1/x.parquet".into()]);
        assert_eq!(m.files[0], "a=1/x.parquet");
        assert_eq!(Manifest::parse(&m.to_bytes()), Some(m));
        assert_eq!(Manifest::parse(b""), None);
        assert_eq!(
            Manifest::parse(br#"{"name":"org.apache.hadoop.fs.s3a.commit.files.SuccessData/1","filenames":["x"]}"#),
            None
        );
    }
}
