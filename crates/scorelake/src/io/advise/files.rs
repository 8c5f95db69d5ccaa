//! Files and row groups: sizes from the listing (or a Delta table's log)
//! and, for Parquet files, row groups from their footers.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::config::Format;
use crate::error::{Error, Result};
use crate::io::delta;
use crate::io::footer::parquet_footer;
use crate::io::listing;
use crate::io::location::{Location, format_of_name};
use crate::io::store;
use crate::session::Session;

/// File sizes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileSizes {
    /// Data files.
    pub count: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The smallest file, in bytes.
    pub smallest: u64,
    /// The mean file size, in bytes.
    pub mean: u64,
    /// The largest file, in bytes.
    pub largest: u64,
}

/// Parquet row groups over all files.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowGroups {
    /// Row groups.
    pub count: u64,
    /// Rows of the median row group.
    pub median_rows: u64,
    /// Compressed bytes of the median row group.
    pub median_bytes: u64,
}

/// What the listing says.
pub(super) struct Layout {
    pub delta: bool,
    pub files: FileSizes,
    pub row_groups: Option<RowGroups>,
    pub partition_columns: Vec<String>,
}

fn sizes(sizes: &[u64]) -> FileSizes {
    let bytes: u64 = sizes.iter().sum();
    let count = sizes.len() as u64;
    FileSizes {
        count,
        bytes,
        smallest: sizes.iter().copied().min().unwrap_or(0),
        mean: bytes / count.max(1),
        largest: sizes.iter().copied().max().unwrap_or(0),
    }
}

/// The files behind `loc`: a Delta table's current files (from its log),
/// else the listed data files with their Parquet row groups.
pub(super) async fn layout(session: &Session, loc: &Location) -> Result<Layout> {
    if delta::is_table(session, loc).await? {
        let stats = delta::stats(session, loc.clone(), None).await?;
        let mut files = sizes(&[]);
        files.count = stats.files;
        files.bytes = stats.bytes;
        files.smallest = stats.file_bytes_min;
        files.largest = stats.file_bytes_max;
        files.mean = stats.bytes / stats.files.max(1);
        return Ok(Layout {
            delta: true,
            files,
            row_groups: None,
            partition_columns: stats.partition_columns,
        });
    }
    let store = store::open(session, loc)?;
    let listing = listing::list(&store, loc).await?;
    let files = sizes(&listing.files.iter().map(|f| f.size).collect::<Vec<_>>());
    let parquet: Vec<_> = listing
        .files
        .iter()
        .filter(|f| f.location.filename().and_then(format_of_name) == Some(Format::Parquet))
        .cloned()
        .collect();
    let row_groups = if parquet.is_empty() {
        None
    } else {
        let groups: Vec<Vec<(u64, u64)>> = futures::stream::iter(parquet)
            .map(|meta| {
                let store = Arc::clone(&store);
                let location = loc.clone();
                async move {
                    let path = &meta.location;
                    let footer =
                        parquet_footer(&store, path, meta.size)
                            .await
                            .map_err(|reason| Error::Read {
                                location: format!("{location} ({path})"),
                                reason,
                            })?;
                    Ok::<_, Error>(
                        footer
                            .row_groups()
                            .iter()
                            .map(|rg| {
                                (
                                    rg.num_rows().max(0) as u64,
                                    rg.compressed_size().max(0) as u64,
                                )
                            })
                            .collect(),
                    )
                }
            })
            .buffered(8)
            .try_collect()
            .await?;
        let mut all: Vec<(u64, u64)> = groups.into_iter().flatten().collect();
        let count = all.len() as u64;
        all.sort_unstable();
        let median_rows = all.get(all.len() / 2).map_or(0, |g| g.0);
        let mut bytes: Vec<u64> = all.iter().map(|g| g.1).collect();
        bytes.sort_unstable();
        Some(RowGroups {
            count,
            median_rows,
            median_bytes: bytes.get(bytes.len() / 2).copied().unwrap_or(0),
        })
    };
    Ok(Layout {
        delta: false,
        files,
        row_groups,
        partition_columns: listing.partitions.into_iter().map(|(k, _)| k).collect(),
    })
}
