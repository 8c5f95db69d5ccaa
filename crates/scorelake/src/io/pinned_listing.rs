//! A directory table that scans the files listed when it was opened, not
//! whatever the directory holds when a query runs: a write that lands
//! between the two (new files, a commit, old files removed) never mixes into
//! a read. A file removed in between is an error, never a silently smaller
//! result.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::{Result, internal_datafusion_err};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::ListingTable;
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

/// A [`ListingTable`] over one directory whose files are fixed.
#[derive(Debug)]
pub(super) struct PinnedListing {
    inner: ListingTable,
    /// The directory (the table path's prefix in its store).
    dir: ObjectPath,
    /// Every file of the table.
    files: Vec<ObjectMeta>,
}

impl PinnedListing {
    /// `inner`, a listing of the directory `dir`, reading exactly `files`.
    pub(super) fn new(inner: ListingTable, dir: ObjectPath, files: Vec<ObjectMeta>) -> Self {
        PinnedListing { inner, dir, files }
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
        let state = self.pinned_state(state)?;
        self.inner.scan(&state, projection, filters, limit).await
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> Result<ScanResult> {
        let state = self.pinned_state(state)?;
        self.inner.scan_with_args(&state, args).await
    }
}
