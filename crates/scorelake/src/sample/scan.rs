//! The synthetic panel as a table and a scan the engine plans like any
//! other: [`PanelTable`] and [`PanelExec`] carry only the [`SampleSpec`], so
//! a plan reading the panel can be sent to another process (a cluster's
//! executors generate it there, identical for the same seed).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use async_trait::async_trait;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as EngineSession, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, internal_err};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use super::generate::{PanelStream, SampleSpec, schema};

/// The panel of a [`SampleSpec`] as a table.
#[derive(Debug)]
pub(crate) struct PanelTable {
    spec: SampleSpec,
    progress: Option<Arc<AtomicU64>>,
}

impl PanelTable {
    /// The panel of `spec`; `progress` counts the customers generated (in
    /// this process).
    pub(crate) fn new(spec: SampleSpec, progress: Option<Arc<AtomicU64>>) -> Self {
        PanelTable { spec, progress }
    }

    /// What the table generates.
    pub(crate) fn spec(&self) -> &SampleSpec {
        &self.spec
    }
}

#[async_trait]
impl TableProvider for PanelTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn EngineSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let exec: Arc<dyn ExecutionPlan> =
            Arc::new(PanelExec::new(self.spec.clone(), self.progress.clone()));
        match projection {
            None => Ok(exec),
            Some(columns) => {
                let exprs = columns.iter().map(|&i| {
                    let field = schema().field(i).clone();
                    let column =
                        datafusion::physical_expr::expressions::col(field.name(), &schema());
                    column.map(|c| (c, field.name().clone()))
                });
                let exprs: Vec<_> = exprs.collect::<Result<_>>()?;
                Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
            }
        }
    }
}

/// Generates the panel of a [`SampleSpec`] (one partition, batches made in
/// parallel).
#[derive(Debug)]
pub(crate) struct PanelExec {
    spec: SampleSpec,
    progress: Option<Arc<AtomicU64>>,
    properties: Arc<PlanProperties>,
}

impl PanelExec {
    /// The scan of `spec`'s panel.
    pub(crate) fn new(spec: SampleSpec, progress: Option<Arc<AtomicU64>>) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema(), [panel_order()]),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        PanelExec {
            spec,
            progress,
            properties: Arc::new(properties),
        }
    }

    /// What the scan generates.
    pub(crate) fn spec(&self) -> &SampleSpec {
        &self.spec
    }
}

/// The panel's rows come by customer, then month: the order the temporal
/// features need, declared so that the engine does not sort them again and
/// the writer records it.
fn panel_order() -> Vec<PhysicalSortExpr> {
    let schema = schema();
    super::ORDER
        .into_iter()
        .filter_map(|name| {
            let index = schema.index_of(name).ok()?;
            Some(PhysicalSortExpr::new(
                Arc::new(Column::new(name, index)),
                SortOptions::new(false, false),
            ))
        })
        .collect()
}

impl DisplayAs for PanelExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PanelExec: customers={}, months={}, seed={}",
            self.spec.customers, self.spec.months, self.spec.seed
        )
    }
}

impl ExecutionPlan for PanelExec {
    fn name(&self) -> &str {
        "PanelExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("PanelExec has no inputs")
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("PanelExec has one partition, not {partition}");
        }
        let stream = PanelStream::new(self.spec.clone(), self.progress.clone());
        Ok(stream.execute(context))
    }
}
