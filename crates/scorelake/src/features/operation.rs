//! Recipe operations: one typed variant per operation with its own
//! parameters, read from a recipe's `operation` and `params`, and the output
//! columns each one makes.
//!
//! Adding an operation is local to this file: a variant (with its names) in
//! the `operations!` list, a parameters struct implementing [`Params`], and
//! its arm in [`Operation::outputs`]. The list of operation names
//! ([`operations`]) comes from the variants.

use std::num::NonZeroU32;

use serde_json::{Map, Value};

use super::output::{Fallback, Op, Strategy};
use super::params::{Reader, Scope, did_you_mean};
use crate::functions::temporal::{Agg, Method, Window};

/// Parameters of one operation, read from a recipe's `params`.
pub(crate) trait Params: Sized {
    /// Reads them; `operation` is the operation's name as written.
    fn read(operation: &str, p: &mut Reader<'_>) -> Result<Self, String>;
}

/// Declares [`Operation`]: each variant with its parameters type and the
/// names a recipe writes for it; derives the name list and the parser.
macro_rules! operations {
    ($( $(#[$doc:meta])* $variant:ident($params:ty) = $names:expr, )*) => {
        /// A recipe's operation with its typed parameters.
        #[derive(Clone, Debug, PartialEq)]
        pub(crate) enum Operation {
            $( $(#[$doc])* $variant($params), )*
        }

        impl Operation {
            /// Every operation name, in declaration order.
            pub(crate) fn names() -> Vec<&'static str> {
                let mut names = Vec::new();
                $( names.extend($names); )*
                names
            }

            /// The operation called `name` with its params (`None`: no such name).
            fn named(name: &str, p: &mut Reader<'_>) -> Option<Result<Operation, String>> {
                $(
                    if $names.iter().any(|n| *n == name) {
                        return Some(<$params>::read(name, p).map(Operation::$variant));
                    }
                )*
                None
            }
        }
    };
}

operations! {
    /// `x − lag`.
    Delta(Lag) = ["delta"],
    /// `(x − lag) / lag`.
    PctChange(Lag) = ["pct_change"],
    /// `x − mean(window)`.
    Momentum(Rolling) = ["momentum"],
    /// Standard deviation (or coefficient of variation) of the window.
    Volatility(Volatility) = ["volatility"],
    /// Least-squares slope over the window.
    TrendSlope(Rolling) = ["trend_slope"],
    /// Rank of x among the window's values.
    RollingRank(Rolling) = ["rolling_rank"],
    /// Largest minus smallest value of the window.
    MinMaxRange(Rolling) = ["minmax_range"],
    /// An aggregation of the window (`max`, `mean`, `worst`, …).
    Aggregate(Aggregation) = Agg::ALL.map(Agg::name),
    /// `a / b` of two sources.
    Ratio(Ratio) = ["ratio"],
    /// `a − b` of two sources.
    Difference(NoParams) = ["difference"],
    /// `a × b` of two sources.
    Product(NoParams) = ["product"],
    /// Logarithm.
    Log(Log) = ["log"],
    /// Square root.
    Sqrt(NoParams) = ["sqrt"],
    /// Values limited to bounds.
    Clip(Clip) = ["clip"],
    /// Bin numbers for fixed edges.
    Bin(Bin) = ["bin"],
    /// Missing values filled (and flagged).
    Impute(Impute) = ["impute", "fill_missing"],
    /// 1 where a value is missing.
    FlagMissing(NoParams) = ["flag_missing"],
}

/// Every operation name a recipe may use.
pub fn operations() -> Vec<&'static str> {
    Operation::names()
}

/// One output column: its default name, its sources, how it is computed.
pub(crate) type Column = (String, Vec<String>, Op);

impl Operation {
    /// Reads operation `name` and its `params`; errors name an unknown
    /// operation or param (with the closest known one) and a param of the
    /// wrong type.
    pub(crate) fn parse(name: &str, params: &Map<String, Value>) -> Result<Operation, String> {
        let mut p = Reader::new(params);
        let Some(operation) = Operation::named(name, &mut p) else {
            let known = Operation::names();
            return Err(format!(
                "unknown operation `{name}`{}; expected one of {}",
                did_you_mean(name, &known),
                known.join(", ")
            ));
        };
        let operation = operation?;
        p.finish(name)?;
        Ok(operation)
    }

    /// The output columns on `sources`; `name` is the operation as written,
    /// `window` the recipe's window with its text.
    pub(crate) fn outputs(
        &self,
        name: &str,
        sources: &[String],
        window: Option<(Window, &str)>,
    ) -> Result<Vec<Column>, String> {
        let needs_window = || window.ok_or_else(|| format!("`{name}` needs a `window`"));
        let no_window = || match window {
            Some(_) => Err(format!("`{name}` takes no `window`")),
            None => Ok(()),
        };
        // One output per source, named `{source}_{suffix}`.
        let each = |suffix: &str, op: Op| -> Vec<Column> {
            sources
                .iter()
                .map(|s| (format!("{s}_{suffix}"), vec![s.clone()], op.clone()))
                .collect()
        };
        let rolling = |method: Method, r: &Rolling| -> Result<Vec<Column>, String> {
            let (window, text) = needs_window()?;
            let op = temporal(method, window, r.min_periods(method, window)?);
            Ok(each(&format!("{name}_{text}"), op))
        };
        // One output of two sources, named `{a}_{infix}_{b}`.
        let pair = |infix: &str, op: Op| -> Result<Vec<Column>, String> {
            no_window()?;
            let [a, b] = sources else {
                return Err(format!(
                    "`{name}` needs exactly two sources (numerator first)"
                ));
            };
            Ok(vec![(format!("{a}_{infix}_{b}"), sources.to_vec(), op)])
        };
        match self {
            Operation::Delta(lag) | Operation::PctChange(lag) => {
                let method = match self {
                    Operation::Delta(_) => Method::Delta,
                    _ => Method::PctChange,
                };
                let lag = lag.window(window.map(|w| w.0))?;
                let suffix = match lag {
                    Window::Rows(1) => name.to_string(),
                    w => format!("{name}_{w}"),
                };
                Ok(each(&suffix, temporal(method, lag, 1)))
            }
            Operation::Momentum(r) => rolling(Method::Momentum, r),
            Operation::TrendSlope(r) => rolling(Method::TrendSlope, r),
            Operation::RollingRank(r) => rolling(Method::RollingRank, r),
            Operation::MinMaxRange(r) => rolling(Method::MinMaxRange, r),
            Operation::Aggregate(a) => rolling(Method::Agg(a.agg), &a.rolling),
            Operation::Volatility(v) => {
                let (window, text) = needs_window()?;
                let op = temporal(v.method, window, v.rolling.min_periods(v.method, window)?);
                Ok(match v.method {
                    Method::VolatilityCv => each(&format!("{name}_cv_{text}"), op),
                    _ => each(&format!("{name}_{text}"), op),
                })
            }
            Operation::Ratio(r) => pair("to", Op::Ratio(r.on_zero)),
            Operation::Difference(NoParams) => pair("minus", Op::Difference),
            Operation::Product(NoParams) => pair("x", Op::Product),
            Operation::Log(l) => {
                no_window()?;
                let op = Op::Log {
                    nonpositive: l.on_nonpositive,
                    base: l.base,
                };
                Ok(each("log", op))
            }
            Operation::Sqrt(NoParams) => no_window().map(|()| each("sqrt", Op::Sqrt)),
            Operation::Clip(c) => no_window().map(|()| {
                let op = Op::Clip {
                    lower: c.lower,
                    upper: c.upper,
                };
                each("clipped", op)
            }),
            Operation::Bin(b) => no_window().map(|()| each("bin", Op::Bin(b.edges.clone()))),
            Operation::Impute(i) => {
                no_window()?;
                let mut outs = Vec::new();
                for s in sources {
                    if let Some(strategy) = i.strategy {
                        let op = Op::Impute {
                            strategy,
                            scope: i.scope.clone(),
                        };
                        outs.push((format!("{s}_imputed"), vec![s.clone()], op));
                    }
                    if i.indicator {
                        outs.push((format!("{s}_missing"), vec![s.clone()], Op::FlagMissing));
                    }
                }
                Ok(outs)
            }
            Operation::FlagMissing(NoParams) => {
                no_window().map(|()| each("missing", Op::FlagMissing))
            }
        }
    }
}

fn temporal(method: Method, window: Window, min_periods: u32) -> Op {
    Op::Temporal {
        method,
        window,
        min_periods,
    }
}

/// Operations without params.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NoParams;

impl Params for NoParams {
    fn read(_: &str, _: &mut Reader<'_>) -> Result<Self, String> {
        Ok(NoParams)
    }
}

/// Window features: `min_periods`, the non-null values a window needs for a
/// result (default per method).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rolling {
    min_periods: Option<NonZeroU32>,
}

impl Rolling {
    /// `min_periods` as written (refused above a rows window's size) or
    /// the method's default.
    fn min_periods(&self, method: Method, window: Window) -> Result<u32, String> {
        match (self.min_periods, window) {
            (Some(m), Window::Rows(n)) if m.get() > n => Err(format!(
                "min_periods {m} is larger than the window of {n} rows: every value would be null"
            )),
            (Some(m), _) => Ok(m.get()),
            (None, _) => Ok(method.default_min_periods()),
        }
    }
}

impl Params for Rolling {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        Ok(Rolling {
            min_periods: p.get("min_periods")?,
        })
    }
}

/// A window aggregation: which one (from its name) and `min_periods`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Aggregation {
    agg: Agg,
    rolling: Rolling,
}

impl Params for Aggregation {
    fn read(operation: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        let agg = Agg::from_name(operation)
            .ok_or_else(|| format!("`{operation}` is not an aggregation"))?;
        Ok(Aggregation {
            agg,
            rolling: Rolling::read(operation, p)?,
        })
    }
}

/// `delta`, `pct_change`: the lag, `periods` rows back (default 1) or the
/// recipe's calendar `window`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Lag {
    periods: Option<NonZeroU32>,
}

impl Lag {
    fn window(&self, window: Option<Window>) -> Result<Window, String> {
        let lag = match (window, self.periods) {
            (Some(_), Some(_)) => return Err("give `window` or `periods`, not both".into()),
            (Some(w), None) => w,
            (None, Some(n)) => Window::Rows(n.get()),
            (None, None) => Window::Rows(1),
        };
        if lag == Window::AllTime {
            return Err("the lag must be rows or a calendar span, not all_time".into());
        }
        Ok(lag)
    }
}

impl Params for Lag {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        Ok(Lag {
            periods: p.get("periods")?,
        })
    }
}

/// `volatility`: `kind: std` (default) or `cv`, and `min_periods`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Volatility {
    method: Method,
    rolling: Rolling,
}

impl Params for Volatility {
    fn read(operation: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        let method = match p.get::<Option<String>>("kind")?.as_deref() {
            None | Some("std") => Method::Volatility,
            Some("cv") => Method::VolatilityCv,
            Some(other) => return Err(format!("param kind `{other}`: expected std or cv")),
        };
        Ok(Volatility {
            method,
            rolling: Rolling::read(operation, p)?,
        })
    }
}

/// `ratio`: `on_zero`, the value where the denominator is 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ratio {
    on_zero: Fallback,
}

impl Params for Ratio {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        Ok(Ratio {
            on_zero: p.get("on_zero")?,
        })
    }
}

/// `log`: `base` (default e) and `on_nonpositive`, the value for x ≤ 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Log {
    base: Option<f64>,
    on_nonpositive: Fallback,
}

impl Params for Log {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        let on_nonpositive = p.get("on_nonpositive")?;
        let base: Option<f64> = p.get("base")?;
        if let Some(b) = base
            && (b <= 0.0 || b == 1.0)
        {
            return Err(format!(
                "param base: expected a number above 0 other than 1, got {b}"
            ));
        }
        Ok(Log {
            on_nonpositive,
            base,
        })
    }
}

/// `clip`: `lower`, `upper` or both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Clip {
    lower: Option<f64>,
    upper: Option<f64>,
}

impl Params for Clip {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        let (lower, upper) = (p.get("lower")?, p.get("upper")?);
        match (lower, upper) {
            (None, None) => Err("clip needs `lower`, `upper` or both".into()),
            (Some(l), Some(u)) if l > u => Err(format!("clip lower {l} is above upper {u}")),
            _ => Ok(Clip { lower, upper }),
        }
    }
}

/// `bin`: `edges`, at least two, strictly increasing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bin {
    edges: Vec<f64>,
}

impl Params for Bin {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        match p.get::<Option<Vec<f64>>>("edges")? {
            Some(edges) if edges.len() >= 2 && edges.windows(2).all(|w| w[0] < w[1]) => {
                Ok(Bin { edges })
            }
            _ => Err("bin needs `edges`: at least two numbers, strictly increasing".into()),
        }
    }
}

/// `impute`: `strategy` (`keep`, `zero`, `mean`, `median` (default),
/// `constant` with `value`, or `flag`), `scope`, `indicator`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Impute {
    /// How values are filled; `None` for `flag` (only the indicator).
    strategy: Option<Strategy>,
    scope: Vec<String>,
    indicator: bool,
}

impl Params for Impute {
    fn read(_: &str, p: &mut Reader<'_>) -> Result<Self, String> {
        let written = p.get::<Option<String>>("strategy")?;
        let value: Option<f64> = p.get("value")?;
        let strategy = match written.as_deref() {
            Some("keep") => Some(Strategy::Keep),
            Some("zero") => Some(Strategy::Value(0.0)),
            None | Some("median") => Some(Strategy::Median),
            Some("mean") => Some(Strategy::Mean),
            Some("constant") => Some(Strategy::Value(
                value.ok_or("strategy constant needs a numeric `value`")?,
            )),
            Some("flag") => None,
            Some(other) => {
                return Err(format!(
                    "strategy `{other}`: expected keep, zero, mean, median, constant or flag"
                ));
            }
        };
        if value.is_some() && written.as_deref() != Some("constant") {
            return Err("param value: only strategy constant takes a `value`".into());
        }
        let scope: Scope = p.get("scope")?;
        let indicator = p.get::<Option<bool>>("indicator")?.unwrap_or(false);
        Ok(Impute {
            indicator: indicator || strategy.is_none(),
            strategy,
            scope: scope.0,
        })
    }
}
