//! A table's history: its commits, newest first, with row totals.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};

use super::commit_log::{Commit, Entry, LogFile, commit, fetch, versions};
use super::open::{is_table, not_a_table};
use crate::error::{Error, Result};
use crate::io::location::IntoLocation;
use crate::io::store;
use crate::session::Session;

/// Which commits [`history`] lists.
///
/// ```
/// use scorelake::io::delta::HistoryOptions;
/// let newest_ten = HistoryOptions::default().with_limit(10);
/// assert_eq!(newest_ten.limit, Some(10));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryOptions {
    /// At most this many commits, the newest (`None`: all).
    pub limit: Option<usize>,
}

impl HistoryOptions {
    /// Lists at most `limit` commits, the newest.
    pub fn with_limit(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.limit = limit.into();
        self
    }
}

/// The table's commits, newest first (at most [`HistoryOptions::limit`]), with rows added,
/// removed and in the table at each version.
///
/// Row totals come from replaying every commit's files and their
/// statistics, so they are known when the log still starts at version 0.
pub async fn history(
    session: &Session,
    table: impl IntoLocation,
    options: &HistoryOptions,
) -> Result<Vec<Commit>> {
    let loc = table.into_location()?;
    if !is_table(session, &loc).await? {
        return Err(not_a_table(session, &loc).await);
    }
    let limit = options.limit;
    let store = store::open(session, &loc)?;
    let files = versions(&store, &loc).await?;
    let complete = files.first().is_some_and(|f| f.version == 0);
    // Totals need every commit; without them only the newest `limit` are read.
    let skip = match (complete, limit) {
        (false, Some(n)) => files.len().saturating_sub(n),
        _ => 0,
    };
    let entries: Vec<(&LogFile, Entry)> = futures::stream::iter(&files[skip..])
        .map(|file| {
            let store = &store;
            let loc = &loc;
            async move { Ok::<_, Error>((file, fetch(store, loc, file).await?)) }
        })
        .buffered(16)
        .try_collect()
        .await?;
    let mut live: HashMap<String, Option<u64>> = HashMap::new();
    let mut total: Option<u64> = Some(0);
    let mut commits = Vec::with_capacity(entries.len());
    for (file, entry) in &entries {
        let mut c = commit(file, entry);
        if complete {
            let mut removed = Some(0u64);
            for path in &entry.removed {
                let rows = live.remove(path).flatten();
                removed = removed.zip(rows).map(|(a, b)| a + b);
            }
            for (path, _, rows) in &entry.added {
                live.insert(path.clone(), *rows);
            }
            total = match (total, c.rows_added, removed) {
                (Some(t), Some(a), Some(r)) => Some((t + a).saturating_sub(r)),
                _ => None,
            };
            c.rows_removed = removed;
            c.rows = total;
        }
        commits.push(c);
    }
    commits.reverse();
    if let Some(n) = limit {
        commits.truncate(n);
    }
    Ok(commits)
}

/// A Markdown table of `commits` (also readable in a terminal).
pub fn history_markdown(commits: &[Commit]) -> String {
    use std::fmt::Write;
    let known = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |n| n.to_string());
    let mut out = String::from(
        "| version | time (UTC) | operation | rows added | rows removed | rows | files +/- | parameters |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in commits {
        let params: Vec<String> = c
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | +{}/-{} | {} |",
            c.version,
            c.timestamp.format("%Y-%m-%d %H:%M:%S%.3f"),
            c.operation,
            known(c.rows_added),
            known(c.rows_removed),
            known(c.rows),
            c.files_added,
            c.files_removed,
            params.join(", ").replace('|', "\\|")
        );
    }
    out
}
