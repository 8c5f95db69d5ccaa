//! A plan rule for the temporal operator reading one stream: the merge the
//! engine puts under it is taken out where the rows are one stream in order
//! already beneath it.
//!
//! The engine spreads rows over partitions to work on them in parallel: it
//! cuts a file into byte ranges to scan them in parallel, and deals batches
//! round-robin to the partitions of the projections above a scan; then it
//! puts a sorted merge on top, because the operator needs the rows as one
//! stream in order. The ranges of one file, in order, already are that
//! stream, and so are the batches before they were dealt: reading the file
//! whole (or not dealing the batches) gives the same rows in the same order
//! without comparing every row's keys and copying every column in the merge.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, replace_children_if_necessary,
};

use super::exec::TemporalExec;

/// Replaces a sorted merge under a [`TemporalExec`] reading one stream by
/// the one stream beneath it, where there is one.
#[derive(Debug, Default)]
pub(crate) struct OneStream;

impl PhysicalOptimizerRule for OneStream {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(temporal) = node.downcast_ref::<TemporalExec>() else {
                return Ok(Transformed::no(node));
            };
            if !temporal.reads_one_stream() {
                return Ok(Transformed::no(node));
            }
            let Some(merge) = temporal
                .children()
                .first()
                .and_then(|c| c.downcast_ref::<SortPreservingMergeExec>())
                .filter(|m| m.fetch().is_none())
            else {
                return Ok(Transformed::no(node));
            };
            let Some(stream) = one_stream(merge.input())? else {
                return Ok(Transformed::no(node));
            };
            Ok(Transformed::yes(replace_children_if_necessary(
                node,
                vec![stream],
            )?))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "temporal_one_stream"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` as one partition with the same rows in the same order, when it
/// is projections and filters over batches dealt round-robin from one
/// partition, or over the byte ranges of one file.
fn one_stream(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if plan.is::<ProjectionExec>() || plan.is::<FilterExec>() {
        let [child] = plan.children()[..] else {
            return Ok(None);
        };
        return match one_stream(child)? {
            Some(stream) => Ok(Some(replace_children_if_necessary(
                Arc::clone(plan),
                vec![stream],
            )?)),
            None => Ok(None),
        };
    }
    if let Some(deal) = plan.downcast_ref::<RepartitionExec>() {
        let dealt = matches!(deal.partitioning(), Partitioning::RoundRobinBatch(_));
        let from_one = deal.input().output_partitioning().partition_count() == 1;
        return Ok((dealt && from_one).then(|| Arc::clone(deal.input())));
    }
    Ok(whole_file(plan))
}

/// `plan` as a scan of one whole file, when it is a scan whose partitions
/// are byte ranges of that one file, in order and together the whole file.
fn whole_file(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let scan = plan.downcast_ref::<DataSourceExec>()?;
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    let pieces: Vec<_> = config
        .file_groups
        .iter()
        .flat_map(FileGroup::iter)
        .collect();
    let first = pieces.first()?;
    let mut end = 0;
    for p in &pieces {
        let (start, stop) = p.range();
        if p.object_meta.location != first.object_meta.location || start != end {
            return None;
        }
        end = stop;
    }
    if end != first.object_meta.size || config.limit.is_some() {
        return None;
    }
    let mut file = (*first).clone();
    file.range = None;
    let whole = FileScanConfigBuilder::from(config.clone())
        .with_file_groups(vec![FileGroup::new(vec![file])])
        .build();
    Some(DataSourceExec::from_data_source(whole))
}
