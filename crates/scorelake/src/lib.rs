//! ScoreLake: credit-risk feature engineering on a data lake.
//!
//! The library behind the `scorelake` command. Modules, lowest first:
//! [`error`], [`config`] (layered typed configuration), [`docfile`] (hand-written
//! TOML/YAML/JSON documents), [`formats`] (NCF in the engine), [`functions`]
//! (registered operators, such as the temporal feature operator),
//! [`session`] (the DataFusion engine built from a config), [`engine`]
//! (where plans run: embedded or a Ballista cluster), [`sql`] (user
//! queries, refused when nested deeper than the engine plans), [`features`]
//! (recipes → one feature plan; fit/transform), [`encoding`] (categorical
//! encoders), [`quality`] (validation and drift reports), [`io`] (read and write tables
//! by URL, atomically), [`sample`] (the synthetic credit panel) and
//! [`pipeline`] (the end-to-end jobs: demo, features).

pub mod advice;
pub mod cache;
mod checks;
pub mod config;
pub mod console;
pub mod docfile;
pub mod encoding;
pub mod engine;
mod engine_choice;
pub mod error;
mod expr;
pub mod features;
pub mod formats;
pub mod functions;
mod html;
pub mod io;
mod ledger;
pub mod observe;
pub mod pipeline;
pub mod quality;
mod results;
pub mod salting;
pub mod sample;
pub mod scorecard;
pub mod session;
pub mod sql;
mod stats;
#[cfg(test)]
mod test_rng;

pub use error::{Error, Result};

/// The engine, re-exported so callers use the same version.
pub use datafusion;
