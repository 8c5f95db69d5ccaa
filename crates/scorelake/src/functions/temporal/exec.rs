//! The temporal operator in the engine: a logical node, its physical
//! operator and the planner that turns one into the other.

use std::cmp::Ordering;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef, DataFusionError, Result, plan_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    EquivalenceProperties, LexRequirement, OrderingRequirements, PhysicalExpr,
    PhysicalSortRequirement,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};

use super::histories::{ASCENDING, Completed, Features, Histories};
use super::spec::{TemporalSpec, Window};

/// The logical plan node: `input` plus one column per feature of `spec`.
///
/// Build it with [`TemporalNode::plan`]; the session's planner turns it into
/// a [`TemporalExec`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemporalNode {
    input: LogicalPlan,
    spec: TemporalSpec,
    schema: DFSchemaRef,
}

impl PartialOrd for TemporalNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self == other).then_some(Ordering::Equal)
    }
}

impl TemporalNode {
    /// `input` with the features of `spec` appended, as a logical plan.
    /// Checks that the entity, time and source columns exist, that sources
    /// are numeric and that calendar windows have a date or timestamp time.
    pub fn plan(input: LogicalPlan, spec: TemporalSpec) -> Result<LogicalPlan> {
        let schema = output_schema(input.schema(), &spec)?;
        Ok(LogicalPlan::Extension(Extension {
            node: Arc::new(TemporalNode {
                input,
                spec,
                schema,
            }),
        }))
    }

    /// What this node computes.
    pub fn spec(&self) -> &TemporalSpec {
        &self.spec
    }
}

fn output_schema(input: &DFSchemaRef, spec: &TemporalSpec) -> Result<DFSchemaRef> {
    let field = |name: &str, role: &str| {
        input
            .qualified_field_with_unqualified_name(name)
            .map(|(_, f)| Arc::clone(f))
            .map_err(|_| {
                DataFusionError::Plan(format!("{role} column `{name}` is not in the input"))
            })
    };
    for e in &spec.entity {
        field(e, "entity")?;
    }
    let time = field(&spec.time, "time")?;
    let calendar = spec.features.iter().any(|f| f.window.is_calendar());
    if calendar && !is_date_or_timestamp(time.data_type()) {
        return plan_err!(
            "time column `{}` is {}; calendar windows need a date or timestamp",
            spec.time,
            time.data_type()
        );
    }
    if !is_date_or_timestamp(time.data_type()) && !time.data_type().is_integer() {
        return plan_err!(
            "time column `{}` is {}; expected a date, timestamp or integer period",
            spec.time,
            time.data_type()
        );
    }
    let mut fields: Vec<_> = input
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::clone(f)))
        .collect();
    for f in &spec.features {
        let source = field(&f.source, "source")?;
        if !source.data_type().is_numeric() {
            return plan_err!(
                "feature `{}`: column `{}` is {}; expected a number",
                f.output,
                f.source,
                source.data_type()
            );
        }
        if let Window::Rows(0) = f.window {
            return plan_err!("feature `{}`: window must be greater than 0", f.output);
        }
        if fields.iter().any(|(_, x)| x.name() == &f.output) {
            return plan_err!("feature output `{}` exists already", f.output);
        }
        fields.push((None, Arc::new(f.field())));
    }
    Ok(Arc::new(DFSchema::new_with_metadata(
        fields,
        input.metadata().clone(),
    )?))
}

fn is_date_or_timestamp(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

impl UserDefinedLogicalNodeCore for TemporalNode {
    fn name(&self) -> &str {
        "Temporal"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Temporal: {}", describe(&self.spec))
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        let input = inputs
            .pop()
            .ok_or_else(|| DataFusionError::Internal("Temporal needs one input".into()))?;
        let schema = output_schema(input.schema(), &self.spec)?;
        Ok(TemporalNode {
            input,
            spec: self.spec.clone(),
            schema,
        })
    }
}

fn describe(spec: &TemporalSpec) -> String {
    let outputs: Vec<_> = spec.features.iter().map(|f| f.output.as_str()).collect();
    format!(
        "entity=[{}], time={}, features=[{}]",
        spec.entity.join(", "),
        spec.time,
        outputs.join(", ")
    )
}

/// Plans [`TemporalNode`]s as [`TemporalExec`]s. The session registers it.
#[derive(Debug, Default)]
pub struct TemporalPlanner;

#[async_trait]
impl ExtensionPlanner for TemporalPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn datafusion::catalog::Session,
        _ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<TemporalNode>() else {
            return Ok(None);
        };
        let [input] = physical_inputs else {
            return plan_err!("Temporal needs one input");
        };
        let exec = TemporalExec::try_new(Arc::clone(input), node.spec.clone())?;
        // A cluster spreads the histories over its executors instead.
        let clustered = crate::functions::plans_for_a_cluster(session.config_options());
        Ok(Some(Arc::new(if clustered {
            exec
        } else {
            exec.in_one_stream()
        })))
    }
}

/// The physical operator. It asks the engine for input partitioned by
/// entity and sorted by entity and time (the engine adds a repartition and
/// a spilling sort where needed), then streams: each entity's history is
/// complete once the next entity starts, and its features are computed in
/// one pass.
///
/// Over an input that comes in (entity, time) order already (a file that
/// declares it), the embedded engine reads it as one stream instead
/// ([`TemporalExec::in_one_stream`]): no repartition by entity before the
/// operator, and no merge of the partitions after it to give the rows back
/// in order.
#[derive(Debug)]
pub struct TemporalExec {
    input: Arc<dyn ExecutionPlan>,
    spec: TemporalSpec,
    one_stream: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl TemporalExec {
    /// The operator over `input`.
    pub fn try_new(input: Arc<dyn ExecutionPlan>, spec: TemporalSpec) -> Result<Self> {
        let in_schema = input.schema();
        let mut fields: Vec<_> = in_schema.fields().iter().cloned().collect();
        fields.extend(spec.features.iter().map(|f| Arc::new(f.field())));
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            in_schema.metadata().clone(),
        ));
        let orderings = input
            .output_ordering()
            .cloned()
            .into_iter()
            .map(|o| o.to_vec());
        let eq = EquivalenceProperties::new_with_orderings(Arc::clone(&schema), orderings);
        let properties = PlanProperties::new(
            eq,
            input.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(TemporalExec {
            input,
            spec,
            one_stream: false,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// The features this operator computes.
    pub fn spec(&self) -> &TemporalSpec {
        &self.spec
    }

    /// The operator reading its input as one stream when the input comes in
    /// (entity, time) order: it then needs neither a repartition by entity
    /// nor a sort, and its output keeps that order without a merge. One
    /// stream computes every history (the writers after it still use every
    /// core); an input in another order keeps the partitioned plan.
    pub fn in_one_stream(mut self) -> Self {
        self.one_stream = self.input_in_order();
        self
    }

    /// Whether the operator reads its input as one stream (see
    /// [`TemporalExec::in_one_stream`]).
    pub fn reads_one_stream(&self) -> bool {
        self.one_stream
    }

    /// Whether the input's rows come by entity and time.
    fn input_in_order(&self) -> bool {
        let Some(Some(required)) = self.required_ordering().into_iter().next() else {
            return false;
        };
        self.input
            .equivalence_properties()
            .ordering_satisfy_requirement(required.into_single())
            .unwrap_or(false)
    }

    fn required_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        let keys = self.spec.entity.iter().chain([&self.spec.time]);
        let reqs: Result<Vec<_>> = keys
            .map(|k| {
                Ok(PhysicalSortRequirement::new(
                    self.column(k)?,
                    Some(ASCENDING),
                ))
            })
            .collect();
        vec![
            reqs.ok()
                .and_then(LexRequirement::new)
                .map(OrderingRequirements::new),
        ]
    }

    fn column(&self, name: &str) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(Column::new_with_schema(
            name,
            &self.input.schema(),
        )?))
    }
}

impl DisplayAs for TemporalExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let stream = if self.one_stream { ", one stream" } else { "" };
        write!(f, "TemporalExec: {}{stream}", describe(&self.spec))
    }
}

impl ExecutionPlan for TemporalExec {
    fn name(&self) -> &str {
        "TemporalExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.spec.entity.is_empty() || self.one_stream {
            return vec![Distribution::SinglePartition];
        }
        match self.spec.entity.iter().map(|e| self.column(e)).collect() {
            Ok(keys) => vec![Distribution::KeyPartitioned(keys)],
            Err(_) => vec![Distribution::SinglePartition],
        }
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        self.required_ordering()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![!self.one_stream]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children
            .pop()
            .ok_or_else(|| DataFusionError::Internal("TemporalExec needs one input".into()))?;
        let exec = TemporalExec::try_new(input, self.spec.clone())?;
        Ok(Arc::new(TemporalExec {
            one_stream: self.one_stream,
            ..exec
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        // One stream computes as many batches at once as the engine has
        // partitions (cores); each partition of a partitioned input two.
        let at_once = if self.one_stream {
            context.session_config().target_partitions().max(2)
        } else {
            2
        };
        let input = self.input.execute(partition, context)?;
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let features = Arc::new(Features::new(
            &self.spec,
            &self.input.schema(),
            Arc::clone(&self.schema),
        )?);
        let histories = Histories::new(Arc::clone(&features));
        let output = metrics.clone();
        // The features of complete histories are computed in tasks of their
        // own, `at_once` at a time, so computing overlaps reading the next
        // rows (and with one stream, uses the other cores); the rows come
        // out in input order.
        let stream = completed(input, histories, metrics.clone())
            .map(move |done| {
                let features = Arc::clone(&features);
                let metrics = metrics.clone();
                async move {
                    let done = done?;
                    let task = SpawnedTask::spawn(async move {
                        let _timer = metrics.elapsed_compute().timer();
                        features.compute(done)
                    });
                    task.join().await.map_err(|e| {
                        DataFusionError::Execution(format!("temporal features: {e}"))
                    })?
                }
            })
            .buffered(at_once)
            .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
            .try_flatten()
            .inspect_ok(move |b| output.record_output(b.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// The complete histories of `input`'s rows, as `histories` cuts them.
fn completed(
    input: SendableRecordBatchStream,
    histories: Histories,
    metrics: BaselineMetrics,
) -> impl futures::Stream<Item = Result<Completed>> {
    futures::stream::unfold(Some((input, histories)), move |slot| {
        let metrics = metrics.clone();
        async move {
            let (mut input, mut histories) = slot?;
            loop {
                let batch = match input.next().await {
                    Some(Ok(batch)) => batch,
                    Some(Err(e)) => return Some((Err(e), None)),
                    None => return histories.finish().map(|done| (Ok(done), None)),
                };
                let _timer = metrics.elapsed_compute().timer();
                match histories.push(batch) {
                    Ok(Some(done)) => return Some((Ok(done), Some((input, histories)))),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), None)),
                }
            }
        }
    })
}

/// The session's extension planners (registered by [`crate::session`]).
pub fn planners() -> Vec<Arc<dyn ExtensionPlanner + Send + Sync>> {
    vec![Arc::new(TemporalPlanner)]
}
