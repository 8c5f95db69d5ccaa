//! The transaction log read directly, one commit file (`_delta_log/N.json`,
//! one JSON action per line) at a time: commits for history, time-travel
//! bounds and write summaries, and naming the corrupt entry when delta-rs cannot load a table.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use serde_json::Value;

use object_store::path::Path as ObjectPath;

use crate::error::{Error, Result};
use crate::io::location::Location;
use crate::io::store::store_error;

/// The `_delta_log` folder of the table at `loc`.
pub(super) fn log_dir(loc: &Location) -> ObjectPath {
    loc.object_path().join("_delta_log")
}

/// One commit of a Delta table, as `scorelake delta history` shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Commit {
    /// Version number.
    pub version: u64,
    /// Commit time, as time travel sees it: the commit's in-commit timestamp
    /// when the table records them, else its log file's modification time,
    /// raised where needed to 1 ms after the previous commit's (as Delta
    /// readers do, so times increase with versions).
    pub timestamp: DateTime<Utc>,
    /// Operation, e.g. `WRITE`, `OPTIMIZE`, `VACUUM END`.
    pub operation: String,
    /// The operation's parameters (mode, partitioning, …) as compact JSON text.
    pub parameters: BTreeMap<String, String>,
    /// Data files added.
    pub files_added: u64,
    /// Data files removed.
    pub files_removed: u64,
    /// Bytes of the data files added.
    pub bytes_added: u64,
    /// Rows in the files added (`None` when a file has no statistics).
    pub rows_added: Option<u64>,
    /// Rows in the files removed (`None` when unknown).
    pub rows_removed: Option<u64>,
    /// Rows in the table at this version (`None` when unknown: the log no
    /// longer starts at version 0, or a file has no statistics).
    pub rows: Option<u64>,
    /// The engine that committed, when it said.
    pub engine: Option<String>,
    /// Whether the time is the commit's in-commit timestamp.
    #[serde(skip)]
    pub in_commit_time: bool,
}

/// A commit file of the log.
#[derive(Clone, Debug)]
pub(super) struct LogFile {
    pub version: u64,
    /// The file's modification time (in whole milliseconds), made
    /// increasing over versions.
    pub modified: DateTime<Utc>,
    meta: ObjectMeta,
}

/// The commit files of the table at `loc`, oldest first.
pub(super) async fn versions(store: &Arc<dyn ObjectStore>, loc: &Location) -> Result<Vec<LogFile>> {
    let dir = log_dir(loc);
    let metas: Vec<ObjectMeta> = store
        .list(Some(&dir))
        .try_collect()
        .await
        .map_err(|e| store_error(loc.as_str(), &e, false))?;
    let mut files: Vec<LogFile> = metas
        .into_iter()
        .filter(|m| {
            m.location
                .prefix_match(&dir)
                .is_some_and(|p| p.count() == 1)
        })
        .filter_map(|meta| {
            let version = commit_version(meta.location.filename()?)?;
            Some(LogFile {
                version,
                modified: commit_time(&meta),
                meta,
            })
        })
        .collect();
    files.sort_by_key(|f| f.version);
    for i in 1..files.len() {
        let floor = files[i - 1].modified + chrono::Duration::milliseconds(1);
        if files[i].modified < floor {
            files[i].modified = floor;
        }
    }
    Ok(files)
}

/// A commit file's modification time at the millisecond precision of Delta
/// commit times, so the time history shows resolves to that version.
fn commit_time(meta: &ObjectMeta) -> DateTime<Utc> {
    let t = meta.last_modified;
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The version of a commit file name: 20 digits and `.json`.
fn commit_version(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// What one commit file says.
#[derive(Debug, Default)]
pub(super) struct Entry {
    info: serde_json::Map<String, Value>,
    /// (path, size, rows) of each file added.
    pub added: Vec<(String, u64, Option<u64>)>,
    /// Paths of the files removed.
    pub removed: Vec<String>,
}

/// Reads and parses one commit file; an unparsable one is an error naming it.
pub(super) async fn fetch(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    file: &LogFile,
) -> Result<Entry> {
    let bytes = store
        .get(&file.meta.location)
        .await
        .map_err(|e| store_error(loc.as_str(), &e, false))?
        .bytes()
        .await
        .map_err(|e| store_error(loc.as_str(), &e, false))?;
    parse(&bytes).map_err(|reason| Error::Delta {
        table: loc.to_string(),
        version: Some(file.version),
        reason: format!(
            "its log entry _delta_log/{:020}.json is corrupt: {reason}",
            file.version
        ),
    })
}

fn parse(bytes: &[u8]) -> std::result::Result<Entry, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let mut entry = Entry::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let action: serde_json::Map<String, Value> =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if let Some(Value::Object(info)) = action.get("commitInfo") {
            entry.info = info.clone();
        }
        if let Some(Value::Object(add)) = action.get("add") {
            let path = add.get("path").and_then(Value::as_str);
            let Some(path) = path else {
                return Err(format!("line {}: an add action without a path", n + 1));
            };
            check_inside(path).map_err(|e| format!("line {}: {e}", n + 1))?;
            let size = add.get("size").and_then(Value::as_u64).unwrap_or(0);
            let records = add
                .get("stats")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|s| s.get("numRecords").and_then(Value::as_u64));
            // Rows a deletion vector marks deleted are no longer in the table.
            let deleted = add
                .get("deletionVector")
                .and_then(|dv| dv.get("cardinality"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let rows = records.map(|r| r.saturating_sub(deleted));
            entry.added.push((path.to_string(), size, rows));
        }
        if let Some(Value::Object(remove)) = action.get("remove")
            && let Some(path) = remove.get("path").and_then(Value::as_str)
        {
            check_inside(path).map_err(|e| format!("line {}: {e}", n + 1))?;
            entry.removed.push(path.to_string());
        }
    }
    if entry.info.is_empty() && entry.added.is_empty() && entry.removed.is_empty() {
        let any = text.lines().any(|l| !l.trim().is_empty());
        if !any {
            return Err("the file is empty".into());
        }
    }
    Ok(entry)
}

/// Refuses a data file path (as the log stores it, percent-encoded) that
/// leaves the table's folder: an absolute path or URL, or one climbing out
/// with `..` segments (also written `%2E%2E` or with backslashes).
pub(super) fn check_inside(path: &str) -> std::result::Result<(), String> {
    const ROOT: &str = "http://table.invalid/root/";
    let inside = url::Url::parse(ROOT)
        .and_then(|base| base.join(path))
        .is_ok_and(|u| {
            u.as_str().len() > ROOT.len()
                && u.as_str().starts_with(ROOT)
                && u.path().len() > "/root/".len()
        });
    if inside && !path.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "data file path `{path}` is outside the table folder (only relative paths inside the table are read)"
        ))
    }
}

/// The commitInfo key recording the columns an optimize z-ordered by (as
/// Spark's `zOrderBy`: a JSON list), shown with the commit's parameters.
pub(super) const Z_ORDER_KEY: &str = "zOrderBy";

/// The commit `entry` read from `file` says (no table totals).
pub(super) fn commit(file: &LogFile, entry: &Entry) -> Commit {
    let in_commit = entry
        .info
        .get("inCommitTimestamp")
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis);
    let mut parameters = match entry.info.get("operationParameters") {
        Some(Value::Object(p)) => p
            .iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (k.clone(), text)
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    // The z-order columns ScoreLake records beside delta-rs's parameters.
    if let Some(Value::String(columns)) = entry.info.get(Z_ORDER_KEY) {
        parameters.insert(Z_ORDER_KEY.to_string(), columns.clone());
    }
    Commit {
        version: file.version,
        timestamp: in_commit.unwrap_or(file.modified),
        in_commit_time: in_commit.is_some(),
        operation: entry
            .info
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN")
            .to_string(),
        parameters,
        files_added: entry.added.len() as u64,
        files_removed: entry.removed.len() as u64,
        bytes_added: entry.added.iter().map(|(_, size, _)| size).sum(),
        rows_added: entry.added.iter().map(|(_, _, rows)| *rows).sum(),
        rows_removed: None,
        rows: None,
        engine: entry
            .info
            .get("engineInfo")
            .or_else(|| entry.info.get("clientVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// The commit in `file` on its own (no table totals).
pub(super) async fn read(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    file: &LogFile,
) -> Result<Commit> {
    Ok(commit(file, &fetch(store, loc, file).await?))
}

/// The commit of `version` on its own, found by its file name (no listing).
pub(super) async fn read_version(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    version: u64,
) -> Result<Commit> {
    let path = log_dir(loc).join(format!("{version:020}.json"));
    let meta = store
        .head(&path)
        .await
        .map_err(|e| store_error(loc.as_str(), &e, false))?;
    let file = LogFile {
        version,
        modified: commit_time(&meta),
        meta,
    };
    read(store, loc, &file).await
}

/// The error for the first of `files` that cannot be parsed, if any.
pub(super) async fn first_corrupt(
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    files: &[LogFile],
) -> Option<Error> {
    for file in files {
        if let Err(e @ Error::Delta { .. }) = fetch(store, loc, file).await {
            return Some(e);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_file_names_give_versions() {
        assert_eq!(commit_version("00000000000000000012.json"), Some(12));
        assert_eq!(
            commit_version("00000000000000000012.checkpoint.parquet"),
            None
        );
        assert_eq!(commit_version("12.json"), None);
        assert_eq!(commit_version("_last_checkpoint"), None);
    }

    #[test]
    fn entries_give_files_rows_and_operation() {
        let text = concat!(
            r#"{"commitInfo":{"timestamp":1767225600000,"operation":"WRITE","operationParameters":{"mode":"Append","partitionBy":"[\"month\"]"}}}"#,
            "\n",
            r#"{"add":{"path":"a.parquet","size":10,"stats":"{\"numRecords\":3}"}}"#,
            "\n",
            r#"{"add":{"path":"b.parquet","size":5,"stats":"{\"numRecords\":4}"}}"#,
            "\n",
            r#"{"remove":{"path":"old.parquet"}}"#,
            "\n"
        );
        let entry = parse(text.as_bytes()).unwrap();
        assert_eq!(entry.removed, vec!["old.parquet".to_string()]);
        let file = LogFile {
            version: 3,
            modified: DateTime::from_timestamp_millis(1767225600000).unwrap(),
            meta: ObjectMeta {
                location: "t/_delta_log/00000000000000000003.json".into(),
                last_modified: DateTime::from_timestamp_millis(0).unwrap(),
                size: text.len() as u64,
                e_tag: None,
                version: None,
            },
        };
        let c = commit(&file, &entry);
        assert_eq!((c.files_added, c.files_removed, c.bytes_added), (2, 1, 15));
        assert_eq!(c.rows_added, Some(7));
        assert_eq!(c.operation, "WRITE");
        assert_eq!(c.parameters["mode"], "Append");
        assert_eq!(c.timestamp.to_rfc3339(), "2026-01-01T00:00:00+00:00");
    }

    #[test]
    fn paths_outside_the_table_are_refused() {
        for inside in [
            "a.parquet",
            "month=2026-01/part-1.parquet",
            "x%20y/a.parquet",
            "a/../b.parquet",
        ] {
            assert!(check_inside(inside).is_ok(), "{inside}");
        }
        for outside in [
            "../../x",
            "/etc/passwd",
            "s3://other-bucket/t/a.parquet",
            "file:///etc/passwd",
            "//other-host/a.parquet",
            "%2E%2E/x.parquet",
            "a/..\\..\\x",
            "",
            ".",
        ] {
            let e = check_inside(outside).unwrap_err();
            assert!(e.contains("outside the table"), "{outside}: {e}");
        }
        let text = "{\"add\":{\"path\":\"../../x\",\"size\":1}}\n";
        let e = parse(text.as_bytes()).unwrap_err();
        assert!(e.starts_with("line 1:") && e.contains("`../../x`"), "{e}");
    }

    #[test]
    fn deletion_vectors_take_their_rows_off() {
        let text = concat!(
            r#"{"add":{"path":"a.parquet","size":10,"stats":"{\"numRecords\":1000}","deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":1,"sizeInBytes":36,"cardinality":4}}}"#,
            "\n"
        );
        let entry = parse(text.as_bytes()).unwrap();
        assert_eq!(entry.added[0].2, Some(996));
    }

    #[test]
    fn corrupt_entries_say_where() {
        let e = parse(b"{\"commitInfo\":{}}\n{\"add\": {\"path\"").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(parse(b"").unwrap_err().contains("empty"));
        assert!(parse(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    }
}
