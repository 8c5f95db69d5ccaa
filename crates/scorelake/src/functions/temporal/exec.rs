//! The temporal operator in the engine: a logical node, its physical
//! operator and the planner that turns one into the other.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::make_comparator;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{SortOptions, cast, concat_batches, partition};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Int64Type, Schema, SchemaRef, TimeUnit,
};
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
use futures::StreamExt;

use super::kernel::{self, Frame};
use super::spec::{Method, TemporalSpec, Window};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The order the operator needs (the SQL default, so inputs written sorted by
/// `ORDER BY entity, time` need no sort).
const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

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
        _session: &dyn datafusion::catalog::Session,
        _ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<TemporalNode>() else {
            return Ok(None);
        };
        let [input] = physical_inputs else {
            return plan_err!("Temporal needs one input");
        };
        Ok(Some(Arc::new(TemporalExec::try_new(
            Arc::clone(input),
            node.spec.clone(),
        )?)))
    }
}

/// The physical operator. It asks the engine for input partitioned by
/// entity and sorted by entity and time (the engine adds a repartition and
/// a spilling sort where needed), then streams: each entity's history is
/// complete once the next entity starts, and its features are computed in
/// one pass.
#[derive(Debug)]
pub struct TemporalExec {
    input: Arc<dyn ExecutionPlan>,
    spec: TemporalSpec,
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
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// The features this operator computes.
    pub fn spec(&self) -> &TemporalSpec {
        &self.spec
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
        write!(f, "TemporalExec: {}", describe(&self.spec))
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
        if self.spec.entity.is_empty() {
            return vec![Distribution::SinglePartition];
        }
        match self.spec.entity.iter().map(|e| self.column(e)).collect() {
            Ok(keys) => vec![Distribution::KeyPartitioned(keys)],
            Err(_) => vec![Distribution::SinglePartition],
        }
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
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

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![true]
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
        Ok(Arc::new(TemporalExec::try_new(input, self.spec.clone())?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let state = Histories::new(&self.spec, &self.input.schema(), Arc::clone(&self.schema))?;
        let stream = futures::stream::unfold(Some((input, state, metrics)), |slot| async move {
            let (mut input, mut state, metrics) = slot?;
            loop {
                let step = match input.next().await {
                    Some(Ok(batch)) => {
                        let _timer = metrics.elapsed_compute().timer();
                        state.push(batch)
                    }
                    Some(Err(e)) => Err(e),
                    None => {
                        let _timer = metrics.elapsed_compute().timer();
                        let last = state.finish();
                        return match last {
                            Ok(Some(b)) => {
                                metrics.record_output(b.num_rows());
                                Some((Ok(b), None))
                            }
                            Ok(None) => None,
                            Err(e) => Some((Err(e), None)),
                        };
                    }
                };
                match step {
                    Ok(Some(b)) => {
                        metrics.record_output(b.num_rows());
                        return Some((Ok(b), Some((input, state, metrics))));
                    }
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), None)),
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's state: the rows of the entity whose history may continue
/// in the next batch.
struct Histories {
    spec: TemporalSpec,
    entity: Vec<usize>,
    time: usize,
    sources: Vec<usize>,
    windows: Vec<WindowGroup>,
    output: SchemaRef,
    pending: Vec<RecordBatch>,
}

/// Features sharing a window share its bounds, lags and axis; which of the
/// three a window needs is known once, not per history.
struct WindowGroup {
    window: Window,
    bounds: bool,
    lags: bool,
    axis: bool,
    features: Vec<usize>,
}

impl WindowGroup {
    fn of(spec: &TemporalSpec) -> Vec<WindowGroup> {
        let mut groups: Vec<WindowGroup> = Vec::new();
        for (k, f) in spec.features.iter().enumerate() {
            let i = match groups.iter().position(|g| g.window == f.window) {
                Some(i) => i,
                None => {
                    groups.push(WindowGroup {
                        window: f.window,
                        bounds: false,
                        lags: false,
                        axis: false,
                        features: vec![],
                    });
                    groups.len() - 1
                }
            };
            let g = &mut groups[i];
            let lag = matches!(f.method, Method::Delta | Method::PctChange);
            g.lags |= lag;
            g.bounds |= !lag;
            g.axis |= f.method == Method::TrendSlope;
            g.features.push(k);
        }
        groups
    }
}

impl Histories {
    fn new(spec: &TemporalSpec, input: &SchemaRef, output: SchemaRef) -> Result<Self> {
        let index = |name: &str| input.index_of(name).map_err(DataFusionError::from);
        Ok(Histories {
            entity: spec
                .entity
                .iter()
                .map(|e| index(e))
                .collect::<Result<_>>()?,
            time: index(&spec.time)?,
            sources: spec
                .features
                .iter()
                .map(|f| index(&f.source))
                .collect::<Result<_>>()?,
            windows: WindowGroup::of(spec),
            spec: spec.clone(),
            output,
            pending: Vec::new(),
        })
    }

    /// Adds a batch; returns the features of every history it completes.
    ///
    /// The rows must come by entity: each entity's rows together, entities
    /// ascending. The engine sorts them so, unless the input declares that
    /// order (a Parquet file's `sorting_columns`) and it is trusted
    /// (`engine.use_input_order`); a false declaration is caught here, as an
    /// entity key lower than the one before it, instead of splitting an
    /// entity's history.
    fn push(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        if batch.num_rows() == 0 {
            return Ok(None);
        }
        let runs = if self.entity.is_empty() {
            std::iter::once(0..batch.num_rows()).collect()
        } else {
            partition(&self.keys(&batch))?.ranges()
        };
        self.check_entity_order(&batch, &runs)?;
        if let Some(last) = self.pending.last()
            && !self.same_entity(last, &batch)?
        {
            let done = std::mem::take(&mut self.pending);
            self.pending.push(batch);
            return self.compute(&done).map(Some);
        }
        let last_start = runs.last().map_or(0, |r| r.start);
        if last_start == 0 {
            self.pending.push(batch);
            return Ok(None);
        }
        let mut done = std::mem::take(&mut self.pending);
        done.push(batch.slice(0, last_start));
        self.pending
            .push(batch.slice(last_start, batch.num_rows() - last_start));
        self.compute(&done).map(Some)
    }

    fn finish(&mut self) -> Result<Option<RecordBatch>> {
        let done = std::mem::take(&mut self.pending);
        if done.is_empty() {
            return Ok(None);
        }
        self.compute(&done).map(Some)
    }

    fn keys(&self, batch: &RecordBatch) -> Vec<ArrayRef> {
        self.entity
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect()
    }

    fn same_entity(&self, last: &RecordBatch, next: &RecordBatch) -> Result<bool> {
        if self.entity.is_empty() {
            return Ok(true);
        }
        let pair = concat_batches(
            &last.schema(),
            [&last.slice(last.num_rows() - 1, 1), &next.slice(0, 1)],
        )?;
        Ok(partition(&self.keys(&pair))?.len() == 1)
    }

    /// Fails unless the entities of `batch` (its `runs`) ascend, from the
    /// last row seen before it.
    fn check_entity_order(&self, batch: &RecordBatch, runs: &[Range<usize>]) -> Result<()> {
        if self.entity.is_empty() {
            return Ok(());
        }
        let within = runs.windows(2).map(|w| (batch, w[0].end - 1, w[1].start));
        let before = self
            .pending
            .last()
            .map(|last| (last, last.num_rows() - 1, 0))
            .into_iter();
        for (left, i, j) in before.chain(within) {
            let mut order = Ordering::Equal;
            for &k in &self.entity {
                let compare = make_comparator(left.column(k), batch.column(k), ASCENDING)?;
                order = compare(i, j);
                if order != Ordering::Equal {
                    break;
                }
            }
            if order == Ordering::Greater {
                return Err(self.out_of_order());
            }
        }
        Ok(())
    }

    /// The error for rows that do not come by entity and time.
    fn out_of_order(&self) -> DataFusionError {
        let mut order = self.spec.entity.clone();
        order.push(self.spec.time.clone());
        DataFusionError::Execution(format!(
            "temporal features: the rows are not in ({}) order, although the input declares it \
             (a Parquet file's sorting_columns); rewrite the input sorted, or set \
             engine.use_input_order = false to have it sorted",
            order.join(", ")
        ))
    }

    /// The input rows of complete histories with their features appended.
    fn compute(&self, parts: &[RecordBatch]) -> Result<RecordBatch> {
        let Some(first) = parts.first() else {
            return Ok(RecordBatch::new_empty(Arc::clone(&self.output)));
        };
        let batch = if parts.len() == 1 {
            first.clone()
        } else {
            concat_batches(&first.schema(), parts)?
        };
        let n = batch.num_rows();
        // A NULL key would make one history out of unrelated rows.
        for &i in &self.entity {
            if batch.column(i).null_count() > 0 {
                return Err(DataFusionError::Execution(format!(
                    "entity column `{}` has null values; every row needs an entity key (filter those rows out or give them a key)",
                    batch.schema().field(i).name()
                )));
            }
        }
        let runs: Vec<Range<usize>> = if self.entity.is_empty() {
            std::iter::once(0..n).collect()
        } else {
            partition(&self.keys(&batch))?.ranges()
        };
        let times = micros(batch.column(self.time), &self.spec.time)?;
        // The engine sorts the input (or trusts its declared order); a
        // history out of time order would give wrong windows, so it is an
        // error rather than an assumption.
        if runs
            .iter()
            .any(|r| times[r.clone()].windows(2).any(|w| w[0] > w[1]))
        {
            return Err(self.out_of_order());
        }
        let mut values: HashMap<usize, Vec<f64>> = HashMap::new();
        for &s in &self.sources {
            if let std::collections::hash_map::Entry::Vacant(e) = values.entry(s) {
                e.insert(as_f64(batch.column(s))?);
            }
        }
        let mut outs: Vec<Vec<f64>> = vec![Vec::with_capacity(n); self.spec.features.len()];
        let (mut bounds, mut lags, mut axis) = (Vec::new(), Vec::new(), Vec::new());
        for run in &runs {
            let t = &times[run.clone()];
            let len = run.len();
            for g in &self.windows {
                if g.bounds {
                    kernel::window_bounds(g.window, t, len, &mut bounds);
                }
                if g.lags {
                    kernel::lag_rows(g.window, t, len, &mut lags);
                }
                if g.axis {
                    kernel::slope_axis(g.window, t, len, &mut axis);
                }
                let frame = Frame {
                    bounds: &bounds,
                    lags: &lags,
                    axis: &axis,
                };
                for &k in &g.features {
                    let f = &self.spec.features[k];
                    let xs = &values[&self.sources[k]][run.clone()];
                    kernel::evaluate(f.method, f.min_periods, xs, &frame, &mut outs[k]);
                }
            }
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (f, out) in self.spec.features.iter().zip(outs) {
            let valid = NullBuffer::from_iter(out.iter().map(|v| !v.is_nan()));
            let valid = (valid.null_count() > 0).then_some(valid);
            columns.push(if f.method.is_integer() {
                Arc::new(Int64Array::new(
                    out.iter()
                        .map(|&v| if v.is_nan() { 0 } else { v as i64 })
                        .collect(),
                    valid,
                ))
            } else {
                Arc::new(Float64Array::new(out.into(), valid))
            });
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.output), columns)?)
    }
}

/// A numeric column as f64 with NaN for null.
fn as_f64(array: &ArrayRef) -> Result<Vec<f64>> {
    let floats = cast(array, &DataType::Float64)?;
    let floats = floats.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    Ok(match floats.nulls() {
        None => floats.values().to_vec(),
        Some(nulls) => floats
            .values()
            .iter()
            .zip(nulls.iter())
            .map(|(&v, ok)| if ok { v } else { f64::NAN })
            .collect(),
    })
}

/// The time column as microseconds since the epoch (dates and timestamps)
/// or as itself (integer periods). Nulls are refused.
fn micros(array: &ArrayRef, name: &str) -> Result<Vec<i64>> {
    if array.null_count() > 0 {
        return Err(DataFusionError::Execution(format!(
            "time column `{name}` has {} null values; every row needs a time",
            array.null_count()
        )));
    }
    Ok(match array.data_type() {
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .values()
            .iter()
            .map(|&d| i64::from(d) * MICROS_PER_DAY)
            .collect(),
        DataType::Date64 => array
            .as_primitive::<Date64Type>()
            .values()
            .iter()
            .map(|&ms| ms.saturating_mul(1000))
            .collect(),
        DataType::Timestamp(unit, _) => {
            let raw = cast(array, &DataType::Int64)?;
            let raw = raw.as_primitive::<Int64Type>().values();
            match unit {
                TimeUnit::Second => raw.iter().map(|v| v.saturating_mul(1_000_000)).collect(),
                TimeUnit::Millisecond => raw.iter().map(|v| v.saturating_mul(1000)).collect(),
                TimeUnit::Microsecond => raw.to_vec(),
                TimeUnit::Nanosecond => raw.iter().map(|v| v / 1000).collect(),
            }
        }
        _ => cast(array, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .values()
            .to_vec(),
    })
}

/// The session's extension planners (registered by [`crate::session`]).
pub fn planners() -> Vec<Arc<dyn ExtensionPlanner + Send + Sync>> {
    vec![Arc::new(TemporalPlanner)]
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::Field;

    use super::*;
    use crate::functions::temporal::TemporalFeature;

    fn spec() -> TemporalSpec {
        TemporalSpec {
            entity: vec!["id".into()],
            time: "t".into(),
            features: vec![TemporalFeature {
                output: "s".into(),
                source: "x".into(),
                method: Method::Agg(super::super::Agg::Sum),
                window: Window::Rows(2),
                min_periods: 1,
            }],
        }
    }

    fn batch(ids: &[i32], ts: &[i32], xs: &[f64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("t", DataType::Int32, false),
            Field::new("x", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(ids.to_vec())),
                Arc::new(Int32Array::from(ts.to_vec())),
                Arc::new(Float64Array::from(xs.to_vec())),
            ],
        )
        .unwrap()
    }

    fn histories(input: &RecordBatch) -> Histories {
        let out = TemporalExec::try_new(
            Arc::new(datafusion::physical_plan::empty::EmptyExec::new(
                input.schema(),
            )),
            spec(),
        )
        .unwrap()
        .schema();
        Histories::new(&spec(), &input.schema(), out).unwrap()
    }

    fn sums(batches: &[RecordBatch]) -> Vec<f64> {
        batches
            .iter()
            .flat_map(|b| {
                b.column(3)
                    .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn histories_split_across_batches_give_the_same_result() {
        let whole = batch(
            &[1, 1, 1, 2, 2, 3],
            &[1, 2, 3, 1, 2, 1],
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        );
        let want = [1.0, 3.0, 6.0, 8.0, 24.0, 32.0];
        let mut h = histories(&whole);
        let mut out: Vec<RecordBatch> = h.push(whole.clone()).unwrap().into_iter().collect();
        out.extend(h.finish().unwrap());
        assert_eq!(sums(&out), want);
        // One row per batch: entity 1 spans three batches.
        let mut h = histories(&whole);
        let mut out = Vec::new();
        for i in 0..whole.num_rows() {
            out.extend(h.push(whole.slice(i, 1)).unwrap());
        }
        out.extend(h.finish().unwrap());
        assert_eq!(sums(&out), want);
        assert_eq!(out.iter().map(|b| b.num_rows()).sum::<usize>(), 6);
    }

    #[test]
    fn a_history_out_of_time_order_is_an_error() {
        let b = batch(&[1, 1], &[2, 1], &[1.0, 2.0]);
        let mut h = histories(&b);
        let err = h.push(b).and_then(|_| h.finish()).unwrap_err().to_string();
        assert!(err.contains("not in (id, t) order"), "{err}");
    }
}
