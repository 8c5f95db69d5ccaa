//! Scanning NCF files in the engine: projection, statistics pruning, byte-range splits.

use std::any::Any;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, HashMap, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileOpenFuture, FileOpener, FileScanConfig, FileSource,
};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::cache::cache_manager::{
    CachedFileMetadataEntry, FileMetadata as CachedFileMetadata, FileMetadataCache,
};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_expr::utils::{
    collect_columns, conjunction, reassign_expr_columns, split_conjunction,
};
use datafusion::physical_plan::DisplayFormatType;
use datafusion::physical_plan::filter_pushdown::{FilterPushdownPropagation, PushedDown};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use futures::{StreamExt, TryStreamExt};
use ncf::{FileMetadata, NcfReader, Predicate, ReadOptions, footer_span};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::filter::{is_simple, to_predicate};

/// Bytes read speculatively from the end of a file: usually trailer and footer in one request.
const TAIL_GUESS: u64 = 64 * 1024;

/// The engine's scan of NCF files (a DataFusion `FileSource`).
#[derive(Clone)]
pub struct NcfSource {
    table_schema: TableSchema,
    metadata_cache: Option<Arc<FileMetadataCache>>,
    projection: SplitProjection,
    pub(super) filter: Option<Arc<dyn PhysicalExpr>>,
    batch_size: usize,
    metrics: ExecutionPlanMetricsSet,
}

impl NcfSource {
    /// A scan of files with `table_schema`, unprojected and unfiltered.
    pub fn new(table_schema: TableSchema) -> Self {
        NcfSource {
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            metadata_cache: None,
            filter: None,
            batch_size: 8192,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The same scan, taking footers from (and putting them in) `cache`.
    pub fn with_metadata_cache(self, cache: Arc<FileMetadataCache>) -> Self {
        NcfSource {
            metadata_cache: Some(cache),
            ..self
        }
    }

    fn predicate(&self) -> Option<Predicate> {
        self.filter
            .as_ref()
            .and_then(|f| to_predicate(f, self.table_schema.file_schema()))
    }
}

impl FileSource for NcfSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = Arc::clone(self.table_schema.file_schema());
        let columns = Arc::new(file_schema.project(&self.projection.file_indices)?);
        let metric =
            |name: &'static str| MetricBuilder::new(&self.metrics).counter(name, partition);
        let opener = Arc::new(NcfOpener {
            store: object_store,
            store_url: base_config.object_store_url.clone(),
            metadata_cache: self.metadata_cache.clone(),
            columns,
            predicate: self.predicate().map(Arc::new),
            filter: self.filter.clone(),
            batch_size: self.batch_size,
            metrics: ScanMetrics {
                row_groups_matched: metric("row_groups_matched"),
                row_groups_pruned: metric("row_groups_pruned_statistics"),
                row_groups_pruned_by_filter: metric("row_groups_pruned_by_filter"),
                bytes_scanned: metric("bytes_scanned"),
            },
        });
        ProjectionOpener::try_new(self.projection.clone(), opener, &file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(NcfSource {
            batch_size,
            ..self.clone()
        })
    }

    fn filter(&self) -> Option<Arc<dyn PhysicalExpr>> {
        self.filter.clone()
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "ncf"
    }

    fn fmt_extra(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match (t, &self.filter) {
            (DisplayFormatType::TreeRender, Some(p)) => write!(f, "predicate={p}"),
            (_, Some(p)) => {
                write!(f, ", predicate={p}")?;
                match self.predicate() {
                    Some(pruning) => write!(f, ", pruning_predicate={pruning}"),
                    None => Ok(()),
                }
            }
            (_, None) => Ok(()),
        }
    }

    /// Filters skip row groups by their statistics, and their simple parts
    /// are evaluated on their own columns before the rest is decoded (see
    /// `LateFilter`); the engine still filters the rows above the scan, so
    /// every filter is reported as not pushed down.
    fn try_pushdown_filters(
        &self,
        filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        let file_schema = self.table_schema.file_schema();
        // Kept: the parts of the filters that statistics can use and that are
        // plain enough to evaluate early (see `LateFilter`).
        let useful: Vec<_> = filters
            .iter()
            .flat_map(split_conjunction)
            .filter(|f| is_simple(f, file_schema) && to_predicate(f, file_schema).is_some())
            .cloned()
            .collect();
        let result = FilterPushdownPropagation::with_parent_pushdown_result(vec![
            PushedDown::No;
            filters.len()
        ]);
        if useful.is_empty() {
            return Ok(result);
        }
        let filter = conjunction(self.filter.clone().into_iter().chain(useful));
        let source = NcfSource {
            filter: Some(filter),
            ..self.clone()
        };
        Ok(result.with_updated_node(Arc::new(source)))
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        let merged = self.projection.source.try_merge(projection)?;
        Ok(Some(Arc::new(NcfSource {
            projection: SplitProjection::new(self.table_schema.file_schema(), &merged),
            ..self.clone()
        })))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        if datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)?
            == TreeNodeRecursion::Stop
        {
            return Ok(TreeNodeRecursion::Stop);
        }
        match &self.filter {
            Some(filter) => f(filter),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }
}

#[derive(Clone)]
struct ScanMetrics {
    row_groups_matched: Count,
    row_groups_pruned: Count,
    row_groups_pruned_by_filter: Count,
    bytes_scanned: Count,
}

/// Opens one NCF file (or the row groups of one byte range of it).
struct NcfOpener {
    store: Arc<dyn ObjectStore>,
    /// The store's URL, to name files in errors as users wrote them.
    store_url: ObjectStoreUrl,
    metadata_cache: Option<Arc<FileMetadataCache>>,
    /// The table's file columns this scan reads, in output order.
    columns: SchemaRef,
    predicate: Option<Arc<Predicate>>,
    /// The pushed-down filters, evaluated on their columns first.
    filter: Option<Arc<dyn PhysicalExpr>>,
    batch_size: usize,
    metrics: ScanMetrics,
}

impl FileOpener for NcfOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = Arc::clone(&self.store);
        let name = file_name(&self.store_url, &file.object_meta.location);
        let cache = self.metadata_cache.clone();
        let columns = Arc::clone(&self.columns);
        let predicate = self.predicate.clone();
        let filter = self.filter.clone();
        let batch_size = self.batch_size.max(1);
        let metrics = self.metrics.clone();
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            let size = file.object_meta.size;
            let meta = load_metadata(&store, &file.object_meta, cache.as_ref()).await?;
            let kept = meta
                .prune(predicate.as_deref())
                .map_err(|e| named(&name, &e))?;
            let in_range: Vec<usize> = (0..meta.num_row_groups())
                .filter(|&g| match &file.range {
                    None => true,
                    Some(r) => {
                        let start = meta.chunk_range(g, 0).map_or(0, |c| c.start) as i64;
                        (r.start..r.end).contains(&start)
                    }
                })
                .collect();
            let groups: Vec<usize> = in_range
                .iter()
                .copied()
                .filter(|g| kept.contains(g))
                .collect();
            metrics.row_groups_pruned.add(in_range.len() - groups.len());
            metrics.row_groups_matched.add(groups.len());
            let plan = ColumnPlan::new(&meta, &columns)?;
            let late = filter
                .as_ref()
                .and_then(|f| LateFilter::new(f, &meta, &columns, &name))
                .map(Arc::new);
            let stream = futures::stream::iter(groups)
                .map(move |g| {
                    let (store, meta, location, name, plan, metrics, late) = (
                        Arc::clone(&store),
                        Arc::clone(&meta),
                        location.clone(),
                        name.clone(),
                        plan.clone(),
                        metrics.clone(),
                        late.clone(),
                    );
                    async move {
                        let ranges: Vec<Range<u64>> = plan
                            .physical
                            .iter()
                            .filter_map(|&c| meta.chunk_range(g, c))
                            .collect();
                        let bytes = store
                            .get_ranges(&location, &ranges)
                            .await
                            .map_err(DataFusionError::from)?;
                        metrics
                            .bytes_scanned
                            .add(bytes.iter().map(Bytes::len).sum::<usize>());
                        let source = Fetched {
                            size,
                            pieces: ranges.iter().map(|r| r.start).zip(bytes).collect(),
                        };
                        let reader = NcfReader::with_metadata(source, meta, single_thread());
                        let rows = match &late {
                            Some(late) => match late.select(&reader, g)? {
                                Selection::None => {
                                    metrics.row_groups_pruned_by_filter.add(1);
                                    return Ok(None);
                                }
                                Selection::Rows(rows) => Some(rows),
                                Selection::Most => None,
                            },
                            None => None,
                        };
                        let batch = match &rows {
                            Some(rows) => reader.read_rows(g, Some(&plan.physical), rows),
                            None => reader.read_row_group(g, Some(&plan.physical)),
                        }
                        .map_err(|e| named(&name, &e))?;
                        plan.to_table(&batch).map(Some)
                    }
                })
                .buffered(2)
                .try_filter_map(|batch| async move { Ok(batch) })
                .map_ok(move |batch| {
                    let n = batch.num_rows();
                    let slices: Vec<Result<RecordBatch>> = (0..n)
                        .step_by(batch_size)
                        .map(|at| Ok(batch.slice(at, batch_size.min(n - at))))
                        .collect();
                    futures::stream::iter(slices)
                })
                .try_flatten();
            Ok(stream.boxed())
        }))
    }
}

/// The scan's filters evaluated on their own columns before the other
/// columns are decoded: groups without a matching row are skipped, and of
/// groups where few rows match only those rows are materialised. The engine
/// still applies the filters above the scan (rows are only ever dropped when
/// they fail them).
struct LateFilter {
    expr: Arc<dyn PhysicalExpr>,
    /// Physical columns the filter reads.
    columns: Vec<usize>,
    /// The file, as errors name it.
    name: String,
}

enum Selection {
    /// No row matches.
    None,
    /// Few rows match: these.
    Rows(Vec<u32>),
    /// Enough rows match that reading the group whole is cheaper.
    Most,
}

impl LateFilter {
    /// `None` when the filter reads a column this scan does not decode.
    fn new(
        filter: &Arc<dyn PhysicalExpr>,
        meta: &FileMetadata,
        scanned: &SchemaRef,
        name: &str,
    ) -> Option<Self> {
        let schema = meta.schema();
        let mut columns: Vec<usize> = collect_columns(filter)
            .iter()
            .map(|c| {
                // The file must hold the column with the table's type (a
                // merged schema may differ) for the filter to apply as typed.
                let wanted = scanned.field_with_name(c.name()).ok()?;
                let index = schema.index_of(c.name()).ok()?;
                (schema.field(index).data_type() == wanted.data_type()).then_some(index)
            })
            .collect::<Option<_>>()?;
        columns.sort_unstable();
        let projected = Schema::new(
            columns
                .iter()
                .map(|&c| schema.field(c).clone())
                .collect::<Vec<_>>(),
        );
        let expr = reassign_expr_columns(Arc::clone(filter), &projected).ok()?;
        Some(LateFilter {
            expr,
            columns,
            name: name.to_string(),
        })
    }

    fn select<S: ncf::Source>(&self, reader: &NcfReader<S>, group: usize) -> Result<Selection> {
        let batch = reader
            .read_row_group(group, Some(&self.columns))
            .map_err(|e| named(&self.name, &e))?;
        let n = batch.num_rows();
        let mask = self.expr.evaluate(&batch)?.into_array(n)?;
        let Some(mask) = mask.as_any().downcast_ref::<BooleanArray>() else {
            return Ok(Selection::Most);
        };
        let matching = mask.true_count();
        Ok(if matching == 0 {
            Selection::None
        } else if matching <= n / 2 {
            let rows = (0..n)
                .filter(|&i| mask.is_valid(i) && mask.value(i))
                .map(|i| i as u32)
                .collect();
            Selection::Rows(rows)
        } else {
            Selection::Most
        })
    }
}

fn single_thread() -> ReadOptions {
    ReadOptions {
        threads: 1,
        ..ReadOptions::default()
    }
}

/// A file as its user names it: a local path with its leading `/`, or the
/// store's URL and the key.
fn file_name(store_url: &ObjectStoreUrl, location: &Path) -> String {
    let url = store_url.as_str();
    if url.starts_with("file://") {
        format!("/{location}")
    } else {
        format!("{}/{location}", url.trim_end_matches('/'))
    }
}

/// An NCF error as the engine carries it: a [`crate::Error::Read`] naming
/// the file, so whatever runs the plan (a write) can tell the input was bad.
fn named(name: &str, e: &ncf::NcfError) -> DataFusionError {
    DataFusionError::External(Box::new(crate::Error::Read {
        location: name.to_string(),
        reason: e.to_string(),
    }))
}

/// Which physical columns to read for the table's columns, and how to make
/// them into the table's types (files of a merged schema may lack a column).
#[derive(Clone)]
struct ColumnPlan {
    columns: SchemaRef,
    /// Physical column index per table column; `None` when the file lacks it.
    sources: Vec<Option<usize>>,
    /// Distinct physical columns to read, in the order they are decoded.
    physical: Vec<usize>,
}

impl ColumnPlan {
    fn new(meta: &FileMetadata, columns: &SchemaRef) -> Result<Self> {
        let schema = meta.schema();
        let sources: Vec<Option<usize>> = columns
            .fields()
            .iter()
            .map(|f| schema.index_of(f.name()).ok())
            .collect();
        let mut physical: Vec<usize> = sources.iter().flatten().copied().collect();
        physical.sort_unstable();
        physical.dedup();
        Ok(ColumnPlan {
            columns: Arc::clone(columns),
            sources,
            physical,
        })
    }

    fn to_table(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let n = batch.num_rows();
        let arrays = self
            .columns
            .fields()
            .iter()
            .zip(&self.sources)
            .map(|(field, source)| -> Result<ArrayRef> {
                let Some(c) = source else {
                    return Ok(new_null_array(field.data_type(), n));
                };
                let at = self.physical.binary_search(c).map_err(|_| {
                    DataFusionError::Internal(format!("column {c} was not decoded"))
                })?;
                let array = batch.column(at);
                if array.data_type() == field.data_type() {
                    Ok(Arc::clone(array))
                } else {
                    Ok(cast(array, field.data_type())?)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.columns),
            arrays,
            &options,
        )?)
    }
}

/// A checked footer held in the engine's file metadata cache (shared with
/// Parquet footers, bounded by DataFusion's metadata cache limit).
struct CachedFooter {
    meta: Arc<FileMetadata>,
    /// Footer and trailer bytes: the size it stands for.
    bytes: usize,
}

impl CachedFileMetadata for CachedFooter {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn memory_size(&self) -> usize {
        self.bytes
    }
    fn extra_info(&self) -> HashMap<String, String> {
        HashMap::new()
    }
}

/// The checked footer of `object`: from `cache` when it holds one for this
/// version of the file (same size, modification time and entity tag), else
/// read with one or two range requests (and put in `cache`). Planning reads
/// each footer for the schema and the statistics, and scanning once more.
pub(super) async fn load_metadata(
    store: &Arc<dyn ObjectStore>,
    object: &ObjectMeta,
    cache: Option<&Arc<FileMetadataCache>>,
) -> Result<Arc<FileMetadata>> {
    let location = &object.location;
    if let Some(entry) = cache.and_then(|c| c.get(location))
        && entry.is_valid_for(object)
        && entry.meta.e_tag == object.e_tag
        && let Some(footer) = entry.file_metadata.as_any().downcast_ref::<CachedFooter>()
    {
        return Ok(Arc::clone(&footer.meta));
    }
    let size = object.size;
    let tail_len = size.min(TAIL_GUESS);
    let mut ranges = vec![0..size.min(4), size - tail_len..size];
    let mut bytes = store.get_ranges(location, &ranges).await?;
    let trailer_at = bytes[1].len().saturating_sub(ncf::footer::TRAILER_LEN);
    let span =
        footer_span(size, &bytes[1][trailer_at..]).map_err(|e| named(location.as_ref(), &e))?;
    if span > tail_len {
        ranges[1] = size - span..size;
        bytes[1] = store.get_range(location, ranges[1].clone()).await?;
    }
    let source = Fetched {
        size,
        pieces: ranges.iter().map(|r| r.start).zip(bytes).collect(),
    };
    let meta = Arc::new(
        FileMetadata::load(&source, &ReadOptions::default())
            .map_err(|e| named(location.as_ref(), &e))?,
    );
    if let Some(cache) = cache {
        let footer = CachedFooter {
            meta: Arc::clone(&meta),
            bytes: span as usize,
        };
        cache.put(
            location,
            CachedFileMetadataEntry::new(object.clone(), Arc::new(footer)),
        );
    }
    Ok(meta)
}

/// File bytes fetched before decoding: the pieces the reader will ask for.
struct Fetched {
    size: u64,
    pieces: Vec<(u64, Bytes)>,
}

impl ncf::Source for Fetched {
    fn size(&self) -> ncf::Result<u64> {
        Ok(self.size)
    }

    fn read_at(&self, offset: u64, len: usize) -> ncf::Result<Vec<u8>> {
        let end = offset.saturating_add(len as u64);
        self.pieces
            .iter()
            .find(|(start, b)| *start <= offset && end <= start + b.len() as u64)
            .map(|(start, b)| {
                let at = (offset - start) as usize;
                b[at..at + len].to_vec()
            })
            .ok_or_else(|| {
                ncf::NcfError::Invalid(format!("bytes {offset}..{end} were not fetched"))
            })
    }
}
