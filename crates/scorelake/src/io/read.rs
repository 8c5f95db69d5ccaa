//! Reading a location as one table.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::datasource::file_format::FileFormat;
use datafusion::prelude::{DataFrame, Expr, SessionContext, cast};
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectMeta, ObjectStore};

use super::delta::{self, SnapshotFiles, TableVersion};
use super::file_columns::repeated_column;
use super::hive::{FolderKeys, with_url_keys};
use super::listing::{Listing, list};
use super::location::{IntoLocation, Location};
use super::pinned_listing::{FileTable, PinnedListing, ScanFormat};
use super::store;
use crate::config::Format;
use crate::engine_choice::Engine;
use crate::error::{Error, Result, engine_message, invalid_err};
use crate::expr::column;
use crate::ledger::TableUse;
use crate::session::Session;

/// How to read a location. Unset fields come from the session's config.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The format; by default taken from the file extensions.
    pub format: Option<Format>,
    /// CSV settings.
    pub csv: CsvReadOptions,
    /// Accept files with different (compatible) schemas and read their union.
    pub merge_schema: bool,
    /// Read files (in path order) and their rows in order, on one partition:
    /// a conversion keeps a sorted input sorted (so statistics prune well),
    /// at the cost of parallelism.
    pub preserve_order: bool,
    /// Delta tables: the version to read (default: the newest).
    pub version: Option<TableVersion>,
}

/// CSV reading settings; `None` takes `io.csv_*` from the config.
#[derive(Clone, Debug, Default)]
pub struct CsvReadOptions {
    /// Field delimiter.
    pub delimiter: Option<u8>,
    /// Whether files start with a header row.
    pub has_header: Option<bool>,
    /// Rows read to infer the schema.
    pub infer_rows: Option<usize>,
    /// Column types that replace the inferred ones.
    pub column_types: Vec<(String, DataType)>,
}

/// Opens `location` as a lazy [`DataFrame`].
///
/// Fails with a message naming the location (and the file, for per-file
/// problems) when it does not exist, is not readable as the format, or its
/// files disagree on the schema (unless `merge_schema`).
pub async fn read(
    session: &Session,
    location: impl IntoLocation,
    options: &ReadOptions,
) -> Result<DataFrame> {
    let loc = location.into_location()?;
    if options.format.is_none() && (loc.is_delta_url() || delta::is_table(session, &loc).await?) {
        return read_delta(session, &loc, options.version).await;
    }
    let store = store::open(session, &loc)?;
    let listing = list(&store, &loc).await?;
    read_listing(session, &loc, &store, listing, options).await
}

/// The Delta table at `loc`: through delta-rs on the embedded engine; on a
/// cluster, as a table of its version's data files (delta-rs's scan cannot
/// be sent there), with the table's column order and types.
async fn read_delta(
    session: &Session,
    loc: &Location,
    version: Option<TableVersion>,
) -> Result<DataFrame> {
    if session.engine().engine == Engine::Embedded {
        return delta::read(session, loc, version).await;
    }
    let SnapshotFiles { listing, schema } = delta::snapshot_files(session, loc, version).await?;
    let Some(listing) = listing else {
        let empty = MemTable::try_new(schema, vec![vec![]])?;
        return Ok(session.ctx().read_table(Arc::new(empty))?);
    };
    let options = ReadOptions {
        format: Some(Format::Parquet),
        merge_schema: true,
        ..ReadOptions::default()
    };
    let dir = loc.as_dir();
    let store = store::open(session, loc)?;
    let df = read_listing(session, &dir, &store, listing, &options).await?;
    let columns: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| cast(column(f.name()), f.data_type().clone()).alias(f.name()))
        .collect();
    Ok(df.select(columns)?)
}

/// The files of `listing` (found at `loc` in `store`) as one table.
pub(crate) async fn read_listing(
    session: &Session,
    loc: &Location,
    store: &Arc<dyn ObjectStore>,
    listing: Listing,
    options: &ReadOptions,
) -> Result<DataFrame> {
    let loc = loc.clone();
    let format = match options.format.or(listing.format(&loc)?) {
        Some(f) => f,
        None => {
            return Err(Error::Read {
                location: loc.to_string(),
                reason: "cannot tell the format from the file names; name it (parquet, csv or ncf)"
                    .into(),
            });
        }
    };
    if let (Some(version), false) = (options.version, format == Format::Delta) {
        return invalid_err!(
            "`{loc}` is not a Delta table, so it has no versions to read ({version} asked)"
        );
    }
    let scan_format = match format {
        Format::Delta => return Box::pin(read_delta(session, &loc, options.version)).await,
        Format::Parquet => ScanFormat::Parquet,
        Format::Ncf => ScanFormat::Ncf,
        Format::Csv => {
            let io = &session.config().io;
            let csv = &options.csv;
            ScanFormat::Csv {
                delimiter: csv.delimiter.unwrap_or(io.csv_delimiter.as_bytes()[0]),
                has_header: csv.has_header.unwrap_or(io.csv_has_header),
                infer_rows: csv.infer_rows.unwrap_or(io.csv_infer_rows),
            }
        }
    };
    let file_format = scan_format.file_format();
    session.ledger().note(
        false,
        TableUse {
            location: loc.to_string(),
            format: format.to_string(),
            bytes: Some(listing.total_bytes()),
            rows: None,
            version: None,
        },
    );
    tracing::debug!(
        location = %loc,
        files = listing.files.len(),
        bytes = listing.total_bytes(),
        format = %format,
        partitions = listing.partitions.len(),
        "opening table"
    );
    let ctx = scan_context(session, &listing, options.preserve_order);
    let schema = file_schema(&ctx, store, &loc, &listing, &file_format, options).await?;
    let schema = match format {
        Format::Csv => with_column_types(&loc, schema, &options.csv.column_types)?,
        Format::Parquet | Format::Ncf | Format::Delta => schema,
    };

    let extension = listing
        .files
        .first()
        .and_then(|f| f.location.extension().map(|e| format!(".{e}")))
        .unwrap_or_default();
    let keys = FolderKeys::new(&listing.partitions);
    keys.check(&loc, &schema)?;
    let url = if listing.single_file {
        loc.url().clone()
    } else {
        loc.as_dir().url().clone()
    };
    let table = FileTable {
        url: url.to_string(),
        format: scan_format,
        extension: if listing.single_file {
            String::new()
        } else {
            extension
        },
        partition_cols: keys.declared.clone(),
        file_schema: schema,
    };
    // The files listed now (hidden ones, strays and later writes left out).
    let single_file = listing.single_file;
    let pinned = PinnedListing::new(table, loc.object_path(), listing.files)?;
    let df = keys.columns(ctx.read_table(Arc::new(pinned))?)?;
    if single_file {
        return Ok(df);
    }
    with_url_keys(df, &loc)
}

/// A context for this scan: the session's, with more partitions when
/// `io.scan_partition_bytes` asks for smaller scan splits than the engine's
/// parallelism gives, or with one when the order must be kept.
fn scan_context(session: &Session, listing: &Listing, preserve_order: bool) -> SessionContext {
    let split = session.config().io.scan_partition_bytes.0.max(1);
    let parts = listing.total_bytes().div_ceil(split) as usize;
    let mut state = session.ctx().state();
    if preserve_order {
        let options = state.config_mut().options_mut();
        options.execution.target_partitions = 1;
        options.optimizer.repartition_file_scans = false;
    } else if parts > state.config().target_partitions() {
        let options = state.config_mut().options_mut();
        options.execution.target_partitions = parts;
        options.optimizer.repartition_file_min_size = options
            .optimizer
            .repartition_file_min_size
            .min(split as usize);
    }
    SessionContext::new_with_state(state)
}

/// The schema of the data files: every file's schema must agree on its
/// columns' names and types, unless `merge_schema`.
async fn file_schema(
    ctx: &SessionContext,
    store: &Arc<dyn ObjectStore>,
    loc: &Location,
    listing: &Listing,
    format: &Arc<dyn FileFormat>,
    options: &ReadOptions,
) -> Result<SchemaRef> {
    let state = ctx.state();
    let state = &state;
    let schemas: Vec<(String, SchemaRef)> = futures::stream::iter(listing.files.iter().cloned())
        .map(|meta: ObjectMeta| async move {
            let failed = |reason: String| Error::Read {
                location: file_display(loc, &meta, listing.single_file),
                reason,
            };
            let repeated = repeated_column(state, store, &meta, format)
                .await
                .map_err(|e| failed(engine_message(&e)))?;
            if let Some(name) = repeated {
                return Err(failed(format!(
                    "column `{name}` appears twice in the file; rename one of them"
                )));
            }
            let schema = format
                .infer_schema(state, store, std::slice::from_ref(&meta))
                .await
                .map_err(|e| failed(engine_message(&e)))?;
            Ok::<_, Error>((meta.location.to_string(), schema))
        })
        .buffered(
            state
                .config_options()
                .execution
                .meta_fetch_concurrency
                .get(),
        )
        .try_collect()
        .await?;
    let (first_name, first) = &schemas[0];
    if options.merge_schema {
        let all: Vec<Schema> = schemas.iter().map(|(_, s)| s.as_ref().clone()).collect();
        let merged = Schema::try_merge(all).map_err(|e| Error::Read {
            location: loc.to_string(),
            reason: format!("the files' schemas cannot be merged: {e}"),
        })?;
        // A column some files lack reads as null in their rows.
        let fields: Vec<Field> = merged
            .fields()
            .iter()
            .map(|f| {
                let everywhere = schemas
                    .iter()
                    .all(|(_, s)| s.field_with_name(f.name()).is_ok());
                f.as_ref()
                    .clone()
                    .with_nullable(f.is_nullable() || !everywhere)
            })
            .collect();
        return Ok(Arc::new(Schema::new_with_metadata(
            fields,
            merged.metadata().clone(),
        )));
    }
    for (name, schema) in &schemas[1..] {
        if let Some(diff) = schema_difference(first, schema) {
            return Err(Error::Read {
                location: loc.to_string(),
                reason: format!(
                    "mixed schemas: {diff} (`{first_name}` vs `{name}`); read with merge_schema to take their union"
                ),
            });
        }
    }
    Ok(Arc::clone(first))
}

fn file_display(loc: &Location, meta: &ObjectMeta, single: bool) -> String {
    if single {
        loc.to_string()
    } else {
        format!(
            "{}/{}",
            loc.store_url().as_str().trim_end_matches('/'),
            meta.location
        )
    }
}

/// Describes the first difference in column names or types, if any.
fn schema_difference(a: &Schema, b: &Schema) -> Option<String> {
    for fa in a.fields() {
        match b.field_with_name(fa.name()) {
            Err(_) => return Some(format!("column `{}` is missing from one file", fa.name())),
            Ok(fb) if fb.data_type() != fa.data_type() => {
                return Some(format!(
                    "column `{}` is {} in one file and {} in another",
                    fa.name(),
                    fa.data_type(),
                    fb.data_type()
                ));
            }
            Ok(_) => {}
        }
    }
    b.fields()
        .iter()
        .find(|fb| a.field_with_name(fb.name()).is_err())
        .map(|fb| format!("column `{}` is missing from one file", fb.name()))
}

fn with_column_types(
    loc: &Location,
    schema: SchemaRef,
    types: &[(String, DataType)],
) -> Result<SchemaRef> {
    if types.is_empty() {
        return Ok(schema);
    }
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (name, ty) in types {
        let Some(field) = fields.iter_mut().find(|f| f.name() == name) else {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return invalid_err!(
                "column `{name}` given a type is not in `{loc}` (columns: {})",
                names.join(", ")
            );
        };
        *field = Field::new(name, ty.clone(), true);
    }
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_differences_are_named() {
        let a = Schema::new(vec![Field::new("x", DataType::Int64, true)]);
        let b = Schema::new(vec![Field::new("x", DataType::Utf8, true)]);
        let c = Schema::new(vec![
            Field::new("x", DataType::Int64, false),
            Field::new("y", DataType::Int64, true),
        ]);
        assert!(schema_difference(&a, &b).unwrap().contains("`x` is Int64"));
        assert!(
            schema_difference(&a, &c)
                .unwrap()
                .contains("`y` is missing")
        );
        assert_eq!(schema_difference(&a, &a), None);
    }
}
