//! A table of data files that scans the files listed when it was opened,
//! not whatever the directory holds when a query runs: a write that lands
//! between the two (new files, a commit, old files removed) never mixes into
//! a read. A file removed in between is an error, never a silently smaller
//! result.
//!
//! The table is described by plain values ([`FileTable`] and the pinned
//! files), so a plan reading it can be sent to another process (a cluster's
//! scheduler) and open the same files there.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::{Result, internal_datafusion_err};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::cache::TableScopedPath;
use datafusion::execution::cache::cache_manager::{
    CacheManager, CacheManagerConfig, CachedFileList, ListFilesCache,
};
use datafusion::execution::cache::default_cache::DefaultCache;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::TableProviderFilterPushDown;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::Expr;
use object_store::ObjectMeta;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use crate::formats::ncf::NcfFormat;

/// How the files of a [`FileTable`] are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ScanFormat {
    /// Parquet, text columns as plain strings.
    Parquet,
    /// NCF.
    Ncf,
    /// CSV with this delimiter, header row or not, and rows read to infer types.
    Csv {
        delimiter: u8,
        has_header: bool,
        infer_rows: usize,
    },
}

impl ScanFormat {
    /// The engine's format for these files.
    pub(crate) fn file_format(&self) -> Arc<dyn FileFormat> {
        match self {
            ScanFormat::Parquet => Arc::new(ParquetFormat::default().with_force_view_types(false)),
            ScanFormat::Ncf => Arc::new(NcfFormat::default()),
            ScanFormat::Csv {
                delimiter,
                has_header,
                infer_rows,
            } => Arc::new(
                CsvFormat::default()
                    .with_delimiter(*delimiter)
                    .with_has_header(*has_header)
                    .with_schema_infer_max_rec(*infer_rows),
            ),
        }
    }
}

/// What a table of files is: where, in which format, with which columns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FileTable {
    /// The file, or the directory (ending in `/`).
    pub url: String,
    pub format: ScanFormat,
    /// Extension of the data files (`.parquet`); empty for one file.
    pub extension: String,
    /// Hive partition keys as spelled in the folders, and their types.
    pub partition_cols: Vec<(String, DataType)>,
    /// The columns of the data files.
    pub file_schema: SchemaRef,
}

impl FileTable {
    fn listing(&self) -> Result<ListingTable> {
        let options = ListingOptions::new(self.format.file_format())
            .with_file_extension(self.extension.clone())
            .with_table_partition_cols(self.partition_cols.clone());
        let config = ListingTableConfig::new(ListingTableUrl::parse(&self.url)?)
            .with_listing_options(options)
            .with_schema(Arc::clone(&self.file_schema));
        ListingTable::try_new(config)
    }
}

/// A [`ListingTable`] over one file or directory whose files are fixed.
#[derive(Debug)]
pub(crate) struct PinnedListing {
    table: FileTable,
    inner: ListingTable,
    /// The file or directory (the table path's prefix in its store).
    dir: ObjectPath,
    /// Every file of the table.
    files: Vec<ObjectMeta>,
}

impl PinnedListing {
    /// `table`, whose file or directory is `dir` in its store, reading exactly `files`.
    pub(crate) fn new(table: FileTable, dir: ObjectPath, files: Vec<ObjectMeta>) -> Result<Self> {
        Ok(PinnedListing {
            inner: table.listing()?,
            table,
            dir,
            files,
        })
    }

    /// What the table is, where it is, and the files it reads.
    pub(crate) fn parts(&self) -> (&FileTable, &ObjectPath, &[ObjectMeta]) {
        (&self.table, &self.dir, &self.files)
    }

    /// `state` with a listing cache that answers this directory with the
    /// pinned files (the engine lists through it).
    fn pinned_state(&self, state: &dyn Session) -> Result<SessionState> {
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| internal_datafusion_err!("a scan outside a SessionState"))?;
        let runtime = state.runtime_env();
        let caches = &runtime.cache_manager;
        // Room for every entry, so none is evicted back to a live listing.
        let bytes: usize = self.files.len() * 4096 + (1 << 20);
        let listing: Arc<ListFilesCache> = Arc::new(DefaultCache::new_with_ttl(bytes, None));
        listing.put(
            &TableScopedPath {
                table: None,
                path: self.dir.clone(),
            },
            CachedFileList::new(self.files.clone()),
        );
        let config = CacheManagerConfig::default()
            .with_list_files_cache(Some(listing))
            .with_list_files_cache_limit(bytes)
            .with_file_statistics_cache(caches.get_file_statistic_cache())
            .with_file_statistics_cache_limit(caches.get_file_statistic_cache_limit())
            .with_file_metadata_cache(Some(caches.get_file_metadata_cache()))
            .with_metadata_cache_limit(caches.get_metadata_cache_limit());
        let runtime = RuntimeEnv {
            cache_manager: CacheManager::try_new(&config)?,
            ..RuntimeEnv::clone(runtime)
        };
        Ok(SessionStateBuilder::new_from_existing(state.clone())
            .with_runtime_env(Arc::new(runtime))
            .build())
    }
}

#[async_trait]
impl TableProvider for PinnedListing {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let trust = state.config_options().optimizer.prefer_existing_sort;
        let state = self.pinned_state(state)?;
        let plan = self.inner.scan(&state, projection, filters, limit).await?;
        Ok(declared_order(plan, trust))
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> Result<ScanResult> {
        let trust = state.config_options().optimizer.prefer_existing_sort;
        let state = self.pinned_state(state)?;
        let result = self.inner.scan_with_args(&state, args).await?;
        Ok(ScanResult::new(declared_order(result.into_inner(), trust)))
    }
}

/// `scan` as it is when the files' declared order is trusted
/// (`engine.use_input_order`, the engine's `prefer_existing_sort`); else
/// the same scan declaring no order, so that plans needing one sort.
fn declared_order(scan: Arc<dyn ExecutionPlan>, trust: bool) -> Arc<dyn ExecutionPlan> {
    if trust {
        return scan;
    }
    let Some(config) = scan
        .downcast_ref::<DataSourceExec>()
        .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
    else {
        return scan;
    };
    if config.output_ordering.is_empty() {
        return scan;
    }
    let unordered = FileScanConfigBuilder::from(config.clone())
        .with_output_ordering(vec![])
        .build();
    DataSourceExec::from_data_source(unordered)
}
