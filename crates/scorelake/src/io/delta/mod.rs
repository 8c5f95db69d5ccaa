//! Delta Lake tables (delta-rs) on local disk or S3: reading any version,
//! appending, overwriting, creating (also partitioned) with schema checks,
//! history, and maintenance (optimize, vacuum, stats).
//!
//! A location is a Delta table when it holds a `_delta_log` folder, when it
//! is written `delta://…` (`delta+s3://…`), or when the format is `delta`.
//! Commits go through the table's log with put-if-absent, so concurrent
//! writers never overwrite each other's versions: a writer that loses a race
//! re-reads the log and retries (`delta.commit_retries`). On S3 the store must
//! honour conditional writes (`If-None-Match: *`); that is checked once per
//! bucket before the first commit (see `docs/delta.md`).
//!
//! ```
//! use scorelake::{config::Config, io, session::Session};
//! use scorelake::io::{ReadOptions, TableVersion, WriteMode, WriteOptions};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let table = format!("delta://{}/accounts", dir.path().display());
//! let session = Session::new(Config::default())?;
//! let append = WriteOptions { mode: WriteMode::Append, ..WriteOptions::default() };
//! for n in [2, 3] {
//!     let df = session.ctx().sql(&format!("SELECT * FROM generate_series(1, {n}) AS t(x)")).await?;
//!     io::write(&session, df, &table, &append).await?;
//! }
//! let now = io::read(&session, &table, &ReadOptions::default()).await?;
//! assert_eq!(now.count().await?, 5);
//! let first = ReadOptions { version: Some(TableVersion::Number(0)), ..ReadOptions::default() };
//! assert_eq!(io::read(&session, &table, &first).await?.count().await?, 2);
//! let history = io::delta::history(&session, &table, &Default::default()).await?;
//! assert_eq!(history[0].version, 1);
//! assert_eq!(history[0].rows, Some(5));
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

mod caught_panics;
mod cluster_write;
mod commit_log;
mod history;
mod maintain;
mod open;
mod schema_check;
mod write;

pub use commit_log::Commit;
pub use history::{HistoryOptions, history, history_markdown};
pub use maintain::{
    ColumnStats, OptimizeOptions, OptimizeReport, TableStats, VacuumOptions, VacuumReport,
    Z_ORDER_MEMORY, optimize, stats, vacuum,
};
pub use open::is_table;

pub(crate) use open::{SnapshotFiles, read, snapshot_files};
pub(crate) use write::write;

use crate::error::invalid;
use chrono::{DateTime, Utc};

/// Which version of a Delta table to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableVersion {
    /// A version number (0 is the first commit).
    Number(u64),
    /// The newest version committed at or before this time.
    AsOf(DateTime<Utc>),
}

impl std::fmt::Display for TableVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableVersion::Number(n) => write!(f, "version {n}"),
            TableVersion::AsOf(t) => write!(f, "as of {}", t.to_rfc3339()),
        }
    }
}

impl TableVersion {
    /// Parses an RFC 3339 time (`2026-01-31T00:00:00Z`) or a date (`2026-01-31`, midnight UTC).
    ///
    /// ```
    /// use scorelake::io::TableVersion;
    /// assert!(TableVersion::parse_as_of("2026-01-31").is_ok());
    /// assert!(TableVersion::parse_as_of("2026-01-31T12:00:00+01:00").is_ok());
    /// assert!(TableVersion::parse_as_of("yesterday").is_err());
    /// ```
    pub fn parse_as_of(text: &str) -> crate::Result<TableVersion> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
            return Ok(TableVersion::AsOf(t.with_timezone(&Utc)));
        }
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| TableVersion::AsOf(t.and_utc()))
            .ok_or_else(|| {
                invalid!("`{text}` is not a time: expected RFC 3339 like 2026-01-31T00:00:00Z or a date like 2026-01-31")
            })
    }
}
