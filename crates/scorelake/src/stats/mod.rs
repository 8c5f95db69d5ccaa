//! Exact statistics of columns that domain modules share: the sorted
//! profile (count, distinct count, min, max, mean, std, any quantiles of
//! numeric columns) that validation, drift and binning read their metrics
//! and edges from.

mod profile;
mod profile_by_queries;

pub(crate) use profile::{Wanted, budget};

use datafusion::prelude::DataFrame;

use crate::checks::WeightCheck;
use crate::error::Result;
use profile::Profiles;

/// Exact profiles of numeric `columns` of `df` (count, distinct count, min,
/// max, mean, std, the quantiles `ps`; only some of them when `wanted` says
/// so), weighted by `weight` when given: by
/// sorting the values in this process, or, when `df` runs on a cluster, by
/// aggregate queries there (nothing data-sized comes to this process).
pub(crate) async fn profile(
    df: &DataFrame,
    columns: &[String],
    weight: Option<&WeightCheck>,
    ps: &[f64],
    budget: usize,
    wanted: Wanted,
) -> Result<Profiles> {
    if crate::session::runs_elsewhere(df) {
        profile_by_queries::profile_by_queries(df, columns, weight, ps, wanted).await
    } else {
        profile::sorted_profile(df, columns, weight, ps, budget, wanted).await
    }
}

/// The largest of `values` and their lower median (of two, the smaller),
/// the figures a skew is read from; `None` for no values.
pub(crate) fn max_and_lower_median(values: &[u64]) -> Option<(u64, u64)> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    Some((*sorted.last()?, sorted[(sorted.len() - 1) / 2]))
}
