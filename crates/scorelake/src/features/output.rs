//! What a resolved recipe computes: one [`Output`] column per operation
//! applied to its sources, with the fallbacks and fill strategies the
//! operations take.

use crate::functions::temporal::{Method, Window};

/// What to put where a value cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Fallback {
    Null,
    Value(f64),
}

/// How missing values are filled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Strategy {
    Keep,
    Value(f64),
    Mean,
    Median,
}

impl Strategy {
    pub(crate) fn learned(self) -> bool {
        matches!(self, Strategy::Mean | Strategy::Median)
    }
}

/// The operation behind one output column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Temporal {
        method: Method,
        window: Window,
        min_periods: u32,
    },
    Ratio(Fallback),
    Difference,
    Product,
    Log {
        nonpositive: Fallback,
        base: Option<f64>,
    },
    Sqrt,
    Clip {
        lower: Option<f64>,
        upper: Option<f64>,
    },
    Bin(Vec<f64>),
    Impute {
        strategy: Strategy,
        scope: Vec<String>,
    },
    FlagMissing,
}

impl Op {
    pub(crate) fn is_temporal(&self) -> bool {
        matches!(self, Op::Temporal { .. })
    }
}

/// One output column.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub name: String,
    pub recipe: usize,
    pub sources: Vec<String>,
    pub op: Op,
}
