//! Exact statistics of columns that domain modules share: the sorted
//! profile (count, distinct count, min, max, mean, std, any quantiles of
//! numeric columns) that validation, drift and binning read their metrics
//! and edges from.

mod profile;
mod profile_by_queries;
mod sort_keys;

pub(crate) use profile::{budget, profile};
