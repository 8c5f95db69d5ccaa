//! Reading and writing tables by URL: Parquet, CSV, NCF and Delta Lake, on local disk or S3.
//!
//! Locations are plain paths, `file://` URLs or `s3://bucket/key` URLs. A
//! location is one file or a directory of files (also hive-partitioned
//! `key=value/` folders) read as one table, or a Delta table (see [`delta`]). Writes are atomic: they go to a
//! hidden temporary name and are renamed (S3: a multipart upload completed,
//! or staged objects copied) only when everything succeeded.
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

pub mod delta;
mod listing;
mod location;
mod read;
mod url_tables;
mod write;

pub use delta::TableVersion;
pub use location::{Location, format_of_name};
pub use read::{CsvReadOptions, ReadOptions, read};
pub use url_tables::with_url_tables;
pub use write::{WriteMode, WriteOptions, WriteSummary, write};

use crate::error::{Error, Result};
use crate::session::Session;

/// Reads `input` and writes it to `output`: a format conversion, a
/// recompression or a repartitioning, streamed through the engine.
pub async fn convert(
    session: &Session,
    input: &str,
    output: &str,
    read_options: &ReadOptions,
    write_options: &WriteOptions,
) -> Result<WriteSummary> {
    let df = read(session, input, read_options).await?;
    write(session, df, output, write_options).await
}

/// The whole object at `location` (one file, local or on S3) in memory.
pub async fn fetch(session: &Session, location: &str) -> Result<Vec<u8>> {
    use object_store::ObjectStoreExt;
    let loc = Location::parse(location)?;
    let store = session.object_store(&loc.store_url())?;
    let got = store
        .get(&loc.object_path())
        .await
        .map_err(|e| store_error(location, e, false))?;
    let bytes = got
        .bytes()
        .await
        .map_err(|e| store_error(location, e, false))?;
    Ok(bytes.to_vec())
}

/// Total size in bytes of the table files at `location` (hidden files excluded).
pub async fn total_bytes(session: &Session, location: &str) -> Result<u64> {
    let loc = Location::parse(location)?;
    let store = session.object_store(&loc.store_url())?;
    Ok(listing::list(&store, &loc).await?.total_bytes())
}

fn is_denied(text: &str) -> bool {
    [
        "403 Forbidden",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// Turns an object-store error into ours, naming `location`.
pub(crate) fn store_error(location: &str, err: object_store::Error, writing: bool) -> Error {
    use object_store::Error as E;
    // S3 answers a LIST with bad keys by 403, which arrives as a generic error.
    let denied = match &err {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => true,
        E::Generic { .. } => is_denied(&err.to_string()),
        _ => false,
    };
    let reason = match &err {
        E::NotFound { .. } if !writing => return Error::NotFound(location.to_string()),
        _ if denied => format!(
            "access denied; check storage.s3.access_key_id and storage.s3.secret_access_key ({err})"
        ),
        _ => err.to_string(),
    };
    let location = location.to_string();
    if writing {
        Error::Write { location, reason }
    } else {
        Error::Read { location, reason }
    }
}
