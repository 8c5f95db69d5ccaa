//! The column names a data file holds, read as the file spells them: the
//! engine merges the schemas it infers, and a merge folds two columns of one
//! name into one, so a file naming a column twice (pyarrow writes such
//! Parquet files, a CSV header can repeat a name) would lose the second
//! silently. Such files are refused instead.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::csv::reader::Format as CsvHeader;
use datafusion::arrow::datatypes::Schema;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::formats::ncf::{NcfFormat, file_schema as ncf_schema};

/// Bytes read from the start of a CSV file to find its header.
const CSV_HEADER_BYTES: u64 = 1 << 20;

/// The first column name the file `meta` holds more than once, if any.
pub(super) async fn repeated_column(
    state: &SessionState,
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    format: &Arc<dyn FileFormat>,
) -> Result<Option<String>> {
    let any = format.as_ref();
    let names: Vec<String> = if let Some(parquet) = any.downcast_ref::<ParquetFormat>() {
        let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
        let schema = DFParquetMetadata::new(store.as_ref(), meta)
            .with_metadata_size_hint(parquet.metadata_size_hint())
            .with_file_metadata_cache(Some(cache))
            .fetch_schema()
            .await?;
        field_names(&schema)
    } else if any.is::<NcfFormat>() {
        field_names(ncf_schema(state, store, meta).await?.as_ref())
    } else if let Some(csv) = any.downcast_ref::<CsvFormat>() {
        csv_header(state, store, meta, csv).await?
    } else {
        return Ok(None);
    };
    Ok(names
        .iter()
        .enumerate()
        .find(|(i, name)| names[..*i].contains(name))
        .map(|(_, name)| name.clone()))
}

fn field_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// The names in a CSV file's header row (none when the files have no
/// header, or when it does not end in the first [`CSV_HEADER_BYTES`]).
async fn csv_header(
    state: &SessionState,
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    csv: &CsvFormat,
) -> Result<Vec<String>> {
    let has_header = csv
        .has_header()
        .unwrap_or(state.config_options().catalog.has_header);
    if !has_header || meta.size == 0 {
        return Ok(vec![]);
    }
    let end = meta.size.min(CSV_HEADER_BYTES);
    let bytes = store.get_range(&meta.location, 0..end).await?;
    if end < meta.size && !bytes.contains(&b'\n') {
        return Ok(vec![]);
    }
    let header = CsvHeader::default()
        .with_header(true)
        .with_delimiter(csv.delimiter())
        .with_quote(csv.quote());
    let (schema, _) = header.infer_schema(Cursor::new(bytes), Some(0))?;
    Ok(field_names(&schema))
}
