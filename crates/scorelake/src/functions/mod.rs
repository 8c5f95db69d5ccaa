//! ScoreLake's registered engine extensions: custom operators and functions
//! that plans built by the domain modules use.
//!
//! [`quantile`] is the exact, numpy-compatible quantile aggregate;
//! [`weighted_std`] the frequency-weighted standard deviation; [`fold`] the
//! deterministic fold number cross-fitting uses; [`bin_weights`] the weight
//! per bin of a binned column (drift, binning).
//! [`temporal`] is the per-entity operator behind every trailing feature
//! (trends and time-window aggregations). The [`session`](crate::session)
//! registers its planner, so any plan holding a [`temporal::TemporalNode`]
//! runs on the engine like a built-in operator: partitioned by entity across
//! all cores, fed by the engine's (spilling) sort.

pub mod bin_weights;
pub mod fold;
pub mod quantile;
pub mod temporal;
pub mod weighted_std;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session as EngineSession;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

/// The engine's planner with ScoreLake's operators added; sessions use it.
#[derive(Debug, Default)]
pub struct ScoreLakePlanner;

#[async_trait]
impl QueryPlanner for ScoreLakePlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn EngineSession,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(temporal::planners())
            .create_physical_plan(plan, session)
            .await
    }
}
