//! A cluster job's stages as its scheduler measured them: for every plan a
//! session ran on a Ballista cluster, the job's stages (their partitions,
//! that is tasks) and each stage's operators with their metrics summed over
//! the stage's tasks, asked of the scheduler (`GetJobMetrics`) when the
//! command ends.

use std::sync::Arc;

use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{GetJobMetricsParams, OperatorMetricsSet};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion_proto::protobuf::LogicalPlanNode;
use serde::{Deserialize, Serialize};

use super::{OperatorRecord, operator_record};
use crate::engine_choice::scheduler_http;

/// One stage of a cluster job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageRecord {
    /// The job's id on the scheduler.
    pub job: String,
    /// The stage's number in the job.
    pub stage: u32,
    /// Its partitions: one task each.
    pub partitions: u32,
    /// Its operators, root first, with their metrics summed over its tasks.
    pub operators: Vec<OperatorRecord>,
}

/// The ids of the cluster jobs `plans` ran, in order.
fn jobs(plans: &[Arc<dyn ExecutionPlan>]) -> Vec<String> {
    let mut out = Vec::new();
    for plan in plans {
        let mut stack = vec![Arc::clone(plan)];
        while let Some(p) = stack.pop() {
            if let Some(q) = p.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
                && let Some(job) = q.job_id()
            {
                out.push(job.to_string());
            }
            stack.extend(p.children().into_iter().cloned());
        }
    }
    out
}

/// The stages of the jobs `plans` ran on the cluster whose scheduler is at
/// `url` (`df://host:port`); the reason when the scheduler cannot say.
pub(crate) async fn stages(
    url: &str,
    plans: &[Arc<dyn ExecutionPlan>],
) -> Result<Vec<StageRecord>, String> {
    let jobs = jobs(plans);
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let endpoint = scheduler_http(url).map_err(|e| e.to_string())?;
    let mut client = SchedulerGrpcClient::connect(endpoint)
        .await
        .map_err(|e| format!("cannot reach the scheduler at {url}: {e}"))?
        .max_decoding_message_size(64 << 20);
    let mut out = Vec::new();
    for job in jobs {
        let answer = client
            .get_job_metrics(GetJobMetricsParams {
                job_id: job.clone(),
            })
            .await
            .map_err(|e| format!("job {job}: {}", e.message()))?
            .into_inner();
        for stage in answer.stages {
            let operators = stage
                .operators
                .into_iter()
                .map(|o| {
                    let metrics: Option<MetricsSet> =
                        OperatorMetricsSet { metrics: o.metrics }.try_into().ok();
                    operator_record(
                        o.depth as usize,
                        o.operator_type,
                        stage.partitions as usize,
                        metrics,
                    )
                })
                .collect();
            out.push(StageRecord {
                job: job.clone(),
                stage: stage.stage_id,
                partitions: stage.partitions,
                operators,
            });
        }
    }
    Ok(out)
}
