//! The partition and skew advisor: how a table is laid out (file and row
//! group sizes against a target, hive or Delta partition columns and the
//! rows per value) and how evenly a key spreads over the engine's hash
//! partitions, with the change that fixes each problem found.
//!
//! ```
//! use scorelake::io::advise::{AdviseOptions, advise};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let session = scorelake::session::Session::new(Default::default())?;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("t.parquet");
//! let df = session.ctx().sql("SELECT v % 3 AS k, v FROM generate_series(1, 300) AS t(v)").await?;
//! scorelake::io::write(&session, df, path.to_str().unwrap(), &Default::default()).await?;
//! let options = AdviseOptions { key: Some("k".into()), ..AdviseOptions::default() };
//! let advice = advise(&session, path.to_str().unwrap(), &options).await?;
//! assert_eq!(advice.files.count, 1);
//! let skew = advice.key.as_ref().unwrap();
//! assert_eq!((skew.rows, skew.distinct), (300, 3));
//! assert_eq!(skew.hash_partitions.iter().sum::<u64>(), 300);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

mod files;
mod report;
mod skew;

use serde::Serialize;

pub use files::{FileSizes, RowGroups};
pub use skew::{KeyShare, KeySkew};

use super::location::IntoLocation;
use super::{ReadOptions, read};
use crate::error::Result;
use crate::session::Session;

/// What [`advise`] looks at.
#[derive(Clone, Debug, Default)]
pub struct AdviseOptions {
    /// A key to measure skew on (a join, grouping or entity column).
    pub key: Option<String>,
    /// The file size to aim for; default `delta.target_file_size` (128 MiB).
    pub target_file_size: Option<u64>,
    /// Hash partitions to spread the key over; default `engine.target_partitions`.
    pub partitions: Option<usize>,
}

/// One partition column: its values and the rows each holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionColumn {
    /// The column.
    pub column: String,
    /// Distinct values (partitions).
    pub values: u64,
    /// Rows of the smallest, the median and the largest partition.
    pub rows_min: u64,
    /// Rows of the median partition.
    pub rows_median: u64,
    /// Rows of the largest partition.
    pub rows_max: u64,
}

pub use crate::advice::Advice;

/// A table's layout, its key's skew and what to change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LayoutAdvice {
    /// The table as given.
    pub location: String,
    /// Whether it is a Delta table.
    pub delta: bool,
    /// The target file size the files were judged against.
    pub target_file_size: u64,
    /// Data files.
    pub files: FileSizes,
    /// Parquet row groups (Parquet files only).
    pub row_groups: Option<RowGroups>,
    /// Rows.
    pub rows: u64,
    /// Hive or Delta partition columns.
    pub partition_columns: Vec<PartitionColumn>,
    /// The key's skew, when a key was given.
    pub key: Option<KeySkew>,
    /// What to change; empty when nothing needs to.
    pub advice: Vec<Advice>,
}

/// Looks at the table at `location`: its files (sizes, Parquet row groups),
/// its partition columns (rows per value) and, with
/// [`AdviseOptions::key`], how the key's rows spread over the engine's hash
/// partitions, and says what to change. Reads footers and the partition
/// and key columns only; nothing data-sized reaches this process.
pub async fn advise(
    session: &Session,
    location: impl IntoLocation,
    options: &AdviseOptions,
) -> Result<LayoutAdvice> {
    let loc = location.into_location()?;
    let config = session.config();
    let target = options
        .target_file_size
        .unwrap_or(config.delta.target_file_size.0)
        .max(1);
    let layout = files::layout(session, &loc).await?;
    let df = read(session, loc.clone(), &ReadOptions::default()).await?;
    let (rows, partition_columns) = skew::partition_rows(&df, &layout.partition_columns).await?;
    let key = match &options.key {
        Some(key) => {
            let n = options
                .partitions
                .unwrap_or(config.engine.target_partitions)
                .max(1);
            Some(skew::key_skew(&df, key, n).await?)
        }
        None => None,
    };
    let mut advice = LayoutAdvice {
        location: loc.to_string(),
        delta: layout.delta,
        target_file_size: target,
        files: layout.files,
        row_groups: layout.row_groups,
        rows,
        partition_columns,
        key,
        advice: Vec::new(),
    };
    advice.advice = report::rules(&advice);
    Ok(advice)
}
