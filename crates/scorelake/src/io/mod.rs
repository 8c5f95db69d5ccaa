//! Reading and writing tables by URL: Parquet, CSV, NCF and Delta Lake, on local disk or S3.
//!
//! Locations are plain paths, `file://` URLs or `s3://bucket/key` URLs. A
//! location is one file or a directory of files (also hive-partitioned
//! `key=value/` folders) read as one table, or a Delta table (see [`delta`]). Writes are atomic: they go to a
//! hidden temporary name and are renamed (S3: a multipart upload completed,
//! or a directory's `_SUCCESS` record listing its new files put last) only
//! when everything succeeded, and creates are exclusive under races.
//!
//! ```
//! use scorelake::{config::Config, io, session::Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("ones.parquet");
//! let session = Session::new(Config::default())?;
//! let df = session.ctx().sql("SELECT * FROM (VALUES (1), (2)) AS t(x)").await?;
//! let written = io::write(&session, df, out.to_str().unwrap(), &io::WriteOptions::default()).await?;
//! assert_eq!(written.rows, 2);
//! let back = io::read(&session, out.to_str().unwrap(), &io::ReadOptions::default()).await?;
//! assert_eq!(back.count().await?, 2);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

pub mod advise;
mod atomic;
mod column_types;
pub mod delta;
mod dir_commit;
mod execute;
mod file_columns;
mod footer;
mod hive;
mod listing;
mod location;
mod manifest;
pub(crate) mod pinned_listing;
mod read;
mod recording_store;
mod store;
mod url_tables;
mod write;
mod write_options;

pub use delta::TableVersion;
pub use location::{IntoLocation, Location, format_of_name};
pub use read::{CsvReadOptions, ReadOptions, read};
pub use recording_store::{Change, Hook, HookedStore};
pub use url_tables::with_url_tables;
pub use write::write;
pub use write_options::{WriteMode, WriteOptions, WriteSummary};

use crate::error::Result;
use crate::session::Session;

/// Reads `input` and writes it to `output`: a format conversion, a
/// recompression or a repartitioning, streamed through the engine.
pub async fn convert(
    session: &Session,
    input: impl IntoLocation,
    output: impl IntoLocation,
    read_options: &ReadOptions,
    write_options: &WriteOptions,
) -> Result<WriteSummary> {
    let df = read(session, input, read_options).await?;
    write(session, df, output, write_options).await
}

/// The whole object at `location` (one file, local or on S3) in memory.
pub async fn fetch(session: &Session, location: impl IntoLocation) -> Result<Vec<u8>> {
    use object_store::ObjectStoreExt;
    let loc = location.into_location()?;
    let failed = |e| store::store_error(loc.as_str(), &e, false);
    let got = store::open(session, &loc)?
        .get(&loc.object_path())
        .await
        .map_err(failed)?;
    Ok(got.bytes().await.map_err(failed)?.to_vec())
}

/// Total size in bytes of the table files at every location of `inputs`
/// (listed on the embedded engine, whatever `engine.kind` says): what
/// `engine.kind = auto` weighs.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.csv"), "x\n1\n").unwrap();
/// let inputs = [dir.path().join("a.csv").display().to_string()];
/// let bytes = scorelake::io::input_bytes(&scorelake::config::Config::default(), &inputs).await?;
/// assert_eq!(bytes, 4);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn input_bytes(config: &crate::config::Config, inputs: &[String]) -> Result<u64> {
    let probe = Session::new_embedded(config.clone())?;
    let mut bytes = 0;
    for input in inputs {
        bytes += total_bytes(&probe, input.as_str()).await?;
    }
    Ok(bytes)
}

/// Total size in bytes of the table files at `location` (hidden files excluded).
pub async fn total_bytes(session: &Session, location: impl IntoLocation) -> Result<u64> {
    let loc = location.into_location()?;
    let store = store::open(session, &loc)?;
    Ok(listing::list(&store, &loc).await?.total_bytes())
}
