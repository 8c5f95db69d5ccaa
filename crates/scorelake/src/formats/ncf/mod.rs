//! NCF as a DataFusion file format: `SELECT … FROM 'x.ncf'`, directories of
//! `.ncf` files, `COPY … TO 'x.ncf'`, and every `io` read and write.
//!
//! Scans read only the projected columns, skip row groups whose statistics
//! rule out the query's filters (`row_groups_pruned_statistics` in the plan's
//! metrics) and split large files by byte range across partitions.
//!
//! ```
//! use scorelake::{config::Config, io, session::Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("t.ncf");
//! let session = Session::new(Config::default())?;
//! let copy = format!("COPY (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(x, y)) TO '{}'", file.display());
//! session.ctx().sql(&copy).await?.collect().await?;
//! let ctx = io::with_url_tables(&session, &session.new_context(), io::ReadOptions::default());
//! let read = format!("SELECT y FROM '{}' WHERE x > 1", file.display());
//! let batches = ctx.sql(&read).await?.collect().await?;
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

mod filter;
mod semantics;
mod sink;
mod source;
mod stats;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, GetExt, Result, Statistics, not_impl_err, plan_err};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::{
    FileScanConfig, FileScanConfigBuilder, FileSinkConfig, FileSource,
};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_expr::LexRequirement;
use datafusion::physical_plan::ExecutionPlan;
use ncf::{Compression, Semantic, WriteOptions};
use object_store::{ObjectMeta, ObjectStore};

pub use semantics::load_semantics;
pub(crate) use wire::NcfSettings;

use crate::config::{Codec, Config};
pub use sink::NcfSink;
pub use source::NcfSource;

/// Builds [`NcfFormat`]s; registered in every [`crate::session::Session`]
/// under the extension `ncf`.
///
/// Per-statement options (`COPY … OPTIONS (…)`, with or without a `format.`
/// prefix): `compression` (`none`, `lz4`, `zstd`), `compression_level`,
/// `row_group_rows`.
#[derive(Clone, Debug, Default)]
pub struct NcfFormatFactory {
    options: WriteOptions,
    /// Why the configured codec cannot write NCF, if it cannot.
    codec_error: Option<String>,
}

impl NcfFormatFactory {
    /// A factory whose formats write with `options` unless a statement overrides them.
    pub fn new(options: WriteOptions) -> Self {
        NcfFormatFactory {
            options,
            codec_error: None,
        }
    }

    /// The same factory, annotating written columns with `semantics`.
    pub fn with_semantics(mut self, semantics: BTreeMap<String, Semantic>) -> Self {
        self.options.semantics = semantics;
        self
    }

    /// Write settings from `io.compression`, `io.compression_level` and
    /// `io.ncf_row_group_rows`. A codec NCF lacks (snappy, gzip) fails writes
    /// that do not name their own compression.
    pub fn from_config(config: &Config) -> Self {
        let io = &config.io;
        let (compression, codec_error) = match io.compression {
            Codec::None => (Compression::None, None),
            Codec::Lz4 => (Compression::Lz4, None),
            Codec::Zstd => (Compression::Zstd, None),
            other => (
                Compression::Zstd,
                Some(format!(
                    "io.compression = {other} is not available for NCF files (none, lz4 or zstd)"
                )),
            ),
        };
        let options = WriteOptions {
            row_group_rows: io.ncf_row_group_rows,
            compression,
            zstd_level: io.compression_level.unwrap_or(3),
            ..WriteOptions::default()
        };
        NcfFormatFactory {
            options,
            codec_error,
        }
    }
}

impl GetExt for NcfFormatFactory {
    fn get_ext(&self) -> String {
        "ncf".into()
    }
}

impl FileFormatFactory for NcfFormatFactory {
    fn create(
        &self,
        _state: &dyn Session,
        format_options: &HashMap<String, String>,
    ) -> Result<Arc<dyn FileFormat>> {
        let mut options = self.options.clone();
        let mut codec_error = self.codec_error.clone();
        for (key, value) in format_options {
            if key.starts_with("execution.") {
                continue;
            }
            let key = key.strip_prefix("format.").unwrap_or(key);
            let bad =
                |expected: &str| plan_err!("NCF option `{key}` = `{value}`: expected {expected}");
            match key {
                "compression" => {
                    options.compression = match value.to_ascii_lowercase().as_str() {
                        "none" | "uncompressed" => Compression::None,
                        "lz4" => Compression::Lz4,
                        "zstd" => Compression::Zstd,
                        _ => return bad("none, lz4 or zstd"),
                    };
                    codec_error = None;
                }
                "compression_level" => match value.parse() {
                    Ok(level) if (1..=22).contains(&level) => options.zstd_level = level,
                    _ => return bad("a zstd level from 1 to 22"),
                },
                "row_group_rows" => match value.parse() {
                    Ok(rows) if rows > 0 && rows <= u32::MAX as usize => {
                        options.row_group_rows = rows
                    }
                    _ => return bad("a row count from 1 to 4294967295"),
                },
                _ => {
                    return plan_err!(
                        "unknown NCF option `{key}`; known: compression, compression_level, row_group_rows"
                    );
                }
            }
        }
        if let Some(e) = codec_error {
            return plan_err!("{e}");
        }
        Ok(Arc::new(NcfFormat { options }))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(NcfFormat {
            options: self.options.clone(),
        })
    }
}

/// The NCF file format for DataFusion: schema and statistics from footers,
/// pruning scans, streaming writes.
#[derive(Clone, Default)]
pub struct NcfFormat {
    options: WriteOptions,
}

impl fmt::Debug for NcfFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcfFormat").finish_non_exhaustive()
    }
}

impl NcfFormat {
    /// A format that writes with `options`.
    pub fn new(options: WriteOptions) -> Self {
        NcfFormat { options }
    }
}

#[async_trait]
impl FileFormat for NcfFormat {
    fn get_ext(&self) -> String {
        "ncf".into()
    }

    fn get_ext_with_compression(&self, compression: &FileCompressionType) -> Result<String> {
        if compression.is_compressed() {
            return plan_err!(
                "NCF files compress their column chunks; whole-file compression is not supported"
            );
        }
        Ok(self.get_ext())
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        None
    }

    async fn infer_schema(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        let mut schemas = Vec::with_capacity(objects.len());
        for object in objects {
            schemas.push(file_schema(state, store, object).await?.as_ref().clone());
        }
        Ok(Arc::new(Schema::try_merge(schemas)?))
    }

    async fn infer_stats(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        object: &ObjectMeta,
    ) -> Result<Statistics> {
        let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
        let meta = source::load_metadata(store, object, Some(&cache)).await?;
        let footer = meta.footer();
        let file_schema = meta.schema();
        let column_statistics = table_schema
            .fields()
            .iter()
            .map(|f| match file_schema.index_of(f.name()) {
                Ok(c) => stats::column(footer, c, file_schema.field(c).data_type(), f),
                // A column the file lacks (merged schema) is null in every row.
                Err(_) => ColumnStatistics {
                    null_count: Precision::Exact(footer.num_rows as usize),
                    ..ColumnStatistics::new_unknown()
                },
            })
            .collect();
        Ok(Statistics {
            num_rows: Precision::Exact(footer.num_rows as usize),
            total_byte_size: Precision::Inexact(object.size as usize),
            column_statistics,
        })
    }

    async fn create_physical_plan(
        &self,
        state: &dyn Session,
        conf: FileScanConfig,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table_schema = TableSchema::builder(Arc::clone(conf.file_schema()))
            .with_table_partition_cols(conf.table_partition_cols().clone())
            .build();
        let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
        let mut source: Arc<dyn FileSource> =
            Arc::new(NcfSource::new(table_schema).with_metadata_cache(cache));
        if let Some(projection) = conf.file_source.projection()
            && let Some(projected) = source.try_pushdown_projection(projection)?
        {
            source = projected;
        }
        let config = FileScanConfigBuilder::from(conf)
            .with_source(source)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }

    async fn create_writer_physical_plan(
        &self,
        input: Arc<dyn ExecutionPlan>,
        _state: &dyn Session,
        conf: FileSinkConfig,
        order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if conf.insert_op != InsertOp::Append {
            return not_impl_err!(
                "NCF tables are written whole; INSERT OVERWRITE/REPLACE is not supported"
            );
        }
        let sink = Arc::new(NcfSink::new(conf, self.options.clone()));
        Ok(Arc::new(DataSinkExec::new(input, sink, order_requirements)))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(NcfSource::new(table_schema))
    }
}

/// The schema of one NCF file as written (the engine's schema of several
/// files merges them), from the session's footer cache when it holds it.
pub(crate) async fn file_schema(
    state: &dyn Session,
    store: &Arc<dyn ObjectStore>,
    object: &ObjectMeta,
) -> Result<SchemaRef> {
    let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
    Ok(source::load_metadata(store, object, Some(&cache))
        .await?
        .schema())
}
