//! Scorecards: binning with WoE/IV, post-binning compression, weighted
//! logistic regression, points scaling and evaluation.
//!
//! [`fit_binning`] learns a [`Binning`] artifact from a [`BinningSpec`]:
//! equal-width, quantile or optimal monotonic bins for numbers (fine
//! quantile pre-bins merged exactly to the largest IV under a monotonic
//! event rate, bin count and size constraints: [`merge_optimal`]), event-rate
//! groups for categories, a missing bin and special-value bins, each with
//! WoE and IV ([`evidence`]). [`Binning::transform`] adds bin and WoE
//! columns to any data. [`compress`] groups rows by their bins into
//! weighted unique rows (totals verified); [`fit_logistic`] fits a weighted
//! logistic regression (same coefficients on compressed or original rows);
//! [`select_variables`] chooses the model's variables with the usual
//! safeguards (IV range, correlation, VIF, stepwise entry and exit, sign
//! and significance of every coefficient), keeping the trail;
//! [`Scorecard`] scales it to points, scores data and exports SQL;
//! [`evaluate`] gives AUC, Gini, KS and event rates by score band.
//! Semantics: `docs/scorecard.md`.

mod binning;
mod compress;
mod evaluate;
mod fit;
mod linalg;
mod logistic;
mod optimal;
mod packed_bins;
mod points;
mod scoring;
mod segment_codes;
mod select;
mod select_figures;
mod spec;
mod totals;
mod woe;

pub use binning::{
    Bin, Binning, FORMAT as BINNING_FORMAT, VariableBins, VariableKind, bin_column, woe_column,
};
pub(crate) use compress::grouping;
pub use compress::{
    CompressionReport, EVENT_RATE, EVENT_WEIGHT, SAMPLE_WEIGHT, compress, compress_with,
    fit_and_compress,
};
pub use evaluate::{Band, Evaluation, evaluate};
pub use fit::fit_binning;
pub use logistic::{Coefficient, LogisticModel, LogisticOptions, fit_logistic};
pub use optimal::{Constraints, Merged, Monotonic, merge_optimal};
pub use points::{BinPoints, FORMAT as SCORECARD_FORMAT, Scaling, Scorecard, ScoredVariable};
pub use scoring::{ScoreColumns, points_column, reason_column};
pub use select::{
    Action, Candidate, Criterion, Decision, Method, Rule, Selection, SelectionOptions,
    select_variables,
};
pub use spec::{
    BinMethod, BinningSpec, MAX_BINS, MAX_PREBINS, ResolvedSettings, Settings, VariableSpec,
};
pub use totals::Totals;
pub use woe::{Counts, Evidence, SMOOTHING, evidence, information_value};
