//! Rows per partition value, and a key's spread: its hottest values and
//! the rows each of the engine's hash partitions gets (measured by the
//! engine's own hash repartitioning, so the figures are the ones a join or
//! grouping on the key would see).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{col, lit};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning, execute_stream_partitioned};
use datafusion::prelude::DataFrame;
use futures::TryStreamExt;
use serde::Serialize;

use super::PartitionColumn;
use crate::error::Result;
use crate::expr::{column, find};
use crate::stats::max_and_lower_median;

/// One of a key's most frequent values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyShare {
    /// The value, as text (`NULL` for missing).
    pub value: String,
    /// Rows holding it.
    pub rows: u64,
    /// Its share of all rows.
    pub share: f64,
}

/// How a key's rows spread.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeySkew {
    /// The key column.
    pub column: String,
    /// Rows.
    pub rows: u64,
    /// Distinct values (NULL counted as one).
    pub distinct: u64,
    /// The ten most frequent values.
    pub top: Vec<KeyShare>,
    /// Rows each hash partition of the key gets.
    pub hash_partitions: Vec<u64>,
    /// Rows of the largest hash partition over the (lower) median one's.
    pub max_over_median: f64,
}

/// Rows in `df`, and per partition column the rows of each value.
pub(super) async fn partition_rows(
    df: &DataFrame,
    columns: &[String],
) -> Result<(u64, Vec<PartitionColumn>)> {
    let rows = df.clone().count().await? as u64;
    let mut out = Vec::new();
    for name in columns {
        let mut counts = grouped_counts(df, name).await?;
        counts.sort_unstable();
        out.push(PartitionColumn {
            column: name.clone(),
            values: counts.len() as u64,
            rows_min: counts.first().copied().unwrap_or(0),
            rows_median: counts.get(counts.len() / 2).copied().unwrap_or(0),
            rows_max: counts.last().copied().unwrap_or(0),
        });
    }
    Ok((rows, out))
}

/// Rows per value of `name` (one entry per value).
async fn grouped_counts(df: &DataFrame, name: &str) -> Result<Vec<u64>> {
    let batches = df
        .clone()
        .aggregate(vec![column(name)], vec![count(lit(1)).alias("__rows")])?
        .select(vec![col("__rows")])?
        .collect()
        .await?;
    Ok(batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|n| *n as u64)
                .collect::<Vec<_>>()
        })
        .collect())
}

/// The spread of `key` in `df` over `partitions` hash partitions.
pub(super) async fn key_skew(df: &DataFrame, key: &str, partitions: usize) -> Result<KeySkew> {
    find(df.schema(), key, "key column")?;
    let top = df
        .clone()
        .aggregate(vec![column(key)], vec![count(lit(1)).alias("__rows")])?
        .sort(vec![col("__rows").sort(false, false)])?
        .limit(0, Some(10))?
        .collect()
        .await?;
    let distinct = df
        .clone()
        .aggregate(vec![column(key)], vec![])?
        .count()
        .await? as u64;
    let hash_partitions = hash_partition_rows(df, key, partitions).await?;
    let rows: u64 = hash_partitions.iter().sum();
    let mut top_values = Vec::new();
    for batch in &top {
        let counts = batch.column(1).as_primitive::<Int64Type>();
        for r in 0..batch.num_rows() {
            let value = if batch.column(0).is_null(r) {
                "NULL".to_string()
            } else {
                array_value_to_string(batch.column(0), r)?
            };
            let n = counts.value(r) as u64;
            top_values.push(KeyShare {
                value,
                rows: n,
                share: n as f64 / rows.max(1) as f64,
            });
        }
    }
    let (max, median) = max_and_lower_median(&hash_partitions).unwrap_or((0, 0));
    Ok(KeySkew {
        column: key.to_string(),
        rows,
        distinct,
        top: top_values,
        hash_partitions,
        max_over_median: if median > 0 {
            max as f64 / median as f64
        } else if max > 0 {
            f64::INFINITY
        } else {
            1.0
        },
    })
}

/// Rows per output partition of the engine's hash repartitioning of `df`
/// on `key` into `partitions`, counted as they stream by.
async fn hash_partition_rows(df: &DataFrame, key: &str, partitions: usize) -> Result<Vec<u64>> {
    let keys = df.clone().select(vec![column(key)])?;
    let task = Arc::new(keys.task_ctx());
    let plan = keys.create_physical_plan().await?;
    let hash = Partitioning::Hash(vec![Arc::new(Column::new(key, 0))], partitions);
    let plan: Arc<dyn ExecutionPlan> = Arc::new(RepartitionExec::try_new(plan, hash)?);
    let streams = execute_stream_partitioned(plan, task)?;
    let counts = futures::future::try_join_all(streams.into_iter().map(|s| {
        s.try_fold(
            0u64,
            |n, batch| async move { Ok(n + batch.num_rows() as u64) },
        )
    }))
    .await?;
    Ok(counts)
}
