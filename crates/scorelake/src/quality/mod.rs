//! Data quality: feature validation reports with PASS/WARN/FAIL thresholds,
//! and drift (PSI of numeric columns, CSI of categorical ones, by period).
//!
//! [`validate`] computes per-column metrics (missing rate, unique count,
//! zero variance, min, max, mean, std, exact p01/p99 for numbers; unique
//! count and top-value share for text): exact numeric metrics from one sorted
//! copy of each column (`stats` profiles, columns in memory-budgeted groups), text
//! metrics from one aggregate pass plus one grouped pass per text column, and
//! [`Thresholds`] turn them into a status per column and overall.
//! Semantics: `docs/quality.md`.

mod drift;
mod html;
mod report;
mod roles;
mod thresholds;
mod validate;

pub use drift::{
    ColumnDrift, DriftBin, DriftBinning, DriftOptions, DriftReport, MAX_DRIFT_BINS, Verdict, drift,
    drift_between_periods, drift_by_period,
};
pub use report::{ColumnReport, Range, Status, ValidationReport};
pub use roles::{LeftOut, Role, role_of, role_of_field};
pub use thresholds::{Metric, Rule, Thresholds};
pub use validate::{ValidateOptions, validate};
