//! A Parquet file's footer, read with two ranged requests (its length,
//! then the footer), for the figures it holds without reading any data.

use std::sync::Arc;

use datafusion::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

/// The metadata of the Parquet file `file` of `size` bytes in `store`; the
/// error says what is wrong with the file, for a message naming it.
pub(crate) async fn parquet_footer(
    store: &Arc<dyn ObjectStore>,
    file: &ObjectPath,
    size: u64,
) -> Result<ParquetMetaData, String> {
    let bad = |e: &dyn std::fmt::Display| format!("cannot read its Parquet footer: {e}");
    if size < 12 {
        return Err(bad(&"the file is too short"));
    }
    let tail = store
        .get_range(file, size - 8..size)
        .await
        .map_err(|e| bad(&e))?;
    if &tail[4..8] != b"PAR1" {
        return Err(bad(&"no Parquet magic at its end"));
    }
    let length = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if length + 8 > size {
        return Err(bad(&"its footer length runs past the file"));
    }
    let footer = store
        .get_range(file, size - 8 - length..size - 8)
        .await
        .map_err(|e| bad(&e))?;
    ParquetMetaDataReader::decode_metadata(&footer).map_err(|e| bad(&e))
}
