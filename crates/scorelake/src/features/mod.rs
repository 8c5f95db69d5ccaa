//! Feature engineering from recipe files: temporal trends, time-window
//! aggregations and row transforms, compiled into one lazy plan.
//!
//! A [`RecipeFile`] (YAML, TOML or JSON) names the entity and time columns
//! and lists recipes; [`FeatureEngineer`] checks them, orders them by their
//! dependencies and builds the plan: row transforms as expressions, trailing
//! features as the registered [temporal operator](crate::functions::temporal),
//! snapshot aggregations as one grouped aggregation. [`FeatureEngineer::fit`]
//! learns fill values into a [`FittedFeatures`] artifact that transforms other
//! data the same way; [`FeatureEngineer::lineage`] describes every output.
//! Semantics: `docs/features.md`.

mod design;
mod engineer;
mod lineage;
mod operation;
mod output;
mod params;
mod recipe;
mod resolve;
mod time_literal;
pub(crate) mod transforms;

pub use design::{DateCounts, DesignCounts, MAX_OBSERVATION_DATES};
pub use engineer::{FeatureEngineer, FittedFeatures};
pub use lineage::{FeatureLineage, Lineage};
pub use operation::operations;
pub use recipe::{Observation, Recipe, RecipeFile, TargetSpec};
pub use resolve::MAX_RECIPE_DEPTH;
pub use transforms::{GroupValue, Learned};
