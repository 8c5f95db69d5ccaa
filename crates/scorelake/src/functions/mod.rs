//! ScoreLake's registered engine extensions: custom operators and functions
//! that plans built by the domain modules use.
//!
//! [`quantile`] is the exact, numpy-compatible quantile aggregate;
//! [`weighted_std`] the frequency-weighted standard deviation; [`fold`] the
//! deterministic fold number cross-fitting uses; [`bin_index`] the bin of a
//! value among edges; [`bin_weights`] the weight
//! per bin of a binned column (drift, binning); [`sort_key`] the
//! order-preserving key of a float (exact quantiles by grouping);
//! [`logistic_moments`] the
//! sums of one Newton step of a weighted logistic regression.
//! [`register`] makes the functions known to a context by name (the
//! operators are planned by [`ScoreLakePlanner`]).
//! [`temporal`] is the per-entity operator behind every trailing feature
//! (trends and time-window aggregations). The [`session`](crate::session)
//! registers its planner, so any plan holding a [`temporal::TemporalNode`]
//! runs on the engine like a built-in operator: partitioned by entity across
//! all cores, fed by the engine's (spilling) sort.

pub mod bin_index;
pub mod bin_weights;
pub mod fold;
pub mod logistic_moments;
pub(crate) mod lookup;
mod plan_log;
pub mod quantile;
pub mod sort_key;
pub mod temporal;
pub mod weighted_std;

pub use plan_log::{PlanLog, PlanWatch};

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::catalog::Session as EngineSession;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::{AggregateUDF, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;
use deltalake_core::delta_datafusion::planner::DeltaExtensionPlanner;

/// Registers every ScoreLake function on `ctx`, so plans and SQL find them
/// by name (`quantile_linear`, `fold_index`, `bin_index`, `sort_key`,
/// `weighted_stddev`, `bin_weights`, `logistic_moments`).
///
/// ```
/// use scorelake::datafusion::prelude::SessionContext;
/// let ctx = SessionContext::new();
/// scorelake::functions::register(&ctx);
/// assert!(ctx.state().scalar_functions().contains_key("bin_index"));
/// assert!(ctx.state().aggregate_functions().contains_key("bin_weights"));
/// ```
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(AggregateUDF::from(quantile::LinearQuantile::default()));
    ctx.register_udf(ScalarUDF::from(fold::FoldIndex::default()));
    ctx.register_udf(ScalarUDF::from(bin_index::BinIndex::default()));
    ctx.register_udf(ScalarUDF::from(sort_key::SortKey::default()));
    ctx.register_udaf(AggregateUDF::from(weighted_std::WeightedStd::default()));
    ctx.register_udaf(AggregateUDF::from(bin_weights::BinWeights::default()));
    ctx.register_udaf(AggregateUDF::from(
        logistic_moments::LogisticMoments::default(),
    ));
}

/// The engine's planner with ScoreLake's operators and delta-rs's (the nodes
/// its Delta writes and compactions add) known; sessions use it. With a
/// [`PlanLog`] it keeps every plan it makes, for run records.
#[derive(Debug, Default)]
pub struct ScoreLakePlanner {
    log: Option<Arc<PlanLog>>,
}

impl ScoreLakePlanner {
    /// A planner keeping every plan it makes in `log`.
    pub fn recording(log: Arc<PlanLog>) -> Self {
        ScoreLakePlanner { log: Some(log) }
    }
}

#[async_trait]
impl QueryPlanner for ScoreLakePlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn EngineSession,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut planners = temporal::planners();
        planners.push(DeltaExtensionPlanner::new());
        let physical = DefaultPhysicalPlanner::with_extension_planners(planners)
            .create_physical_plan(plan, session)
            .await?;
        if let Some(log) = &self.log {
            log.push(Arc::clone(&physical));
        }
        Ok(physical)
    }
}

/// Another planner (a cluster client's) whose plans are kept in a
/// [`PlanLog`]: the job each ran as, for run records.
#[derive(Debug)]
pub(crate) struct RecordingPlanner {
    inner: Arc<dyn QueryPlanner + Send + Sync>,
    log: Arc<PlanLog>,
}

impl RecordingPlanner {
    pub(crate) fn new(inner: Arc<dyn QueryPlanner + Send + Sync>, log: Arc<PlanLog>) -> Self {
        RecordingPlanner { inner, log }
    }
}

#[async_trait]
impl QueryPlanner for RecordingPlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn EngineSession,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let physical = self.inner.create_physical_plan(plan, session).await?;
        self.log.push(Arc::clone(&physical));
        Ok(physical)
    }
}

/// Whether a session with these options plans for a cluster (it carries
/// Ballista's settings): its plans run in other processes.
pub(crate) fn plans_for_a_cluster(options: &ConfigOptions) -> bool {
    options
        .extensions
        .get::<ballista_core::config::BallistaConfig>()
        .is_some()
}

/// A list of numbers as one scalar: the state and value of the aggregates
/// that sum fixed-length vectors ([`bin_weights`], [`logistic_moments`]).
pub(crate) fn float_list(values: &[f64]) -> ScalarValue {
    let values = Float64Array::from(values.to_vec());
    let list = ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        OffsetBuffer::from_lengths([values.len()]),
        Arc::new(values),
        None,
    );
    ScalarValue::List(Arc::new(list))
}

/// The type of [`float_list`] values.
pub(crate) fn float_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// Adds every list of `states` (partial sums from [`float_list`]) into `sums`.
pub(crate) fn add_float_lists(sums: &mut [f64], states: &ArrayRef, function: &str) -> Result<()> {
    let lists = states.as_list::<i32>();
    for r in 0..lists.len() {
        if lists.is_null(r) {
            continue;
        }
        let part = lists.value(r);
        let part = part.as_primitive::<Float64Type>();
        if part.len() != sums.len() {
            return plan_err!(
                "{function}: a partial result has {} values, expected {}",
                part.len(),
                sums.len()
            );
        }
        for (mine, theirs) in sums.iter_mut().zip(part.values()) {
            *mine += theirs;
        }
    }
    Ok(())
}

/// The numbers of a `float_list` result at `row` of `column` (None when null).
pub fn float_list_at(column: &ArrayRef, row: usize) -> Option<Vec<f64>> {
    let lists = column.as_list_opt::<i32>()?;
    if lists.is_null(row) {
        return None;
    }
    let part = lists.value(row);
    Some(part.as_primitive_opt::<Float64Type>()?.values().to_vec())
}
