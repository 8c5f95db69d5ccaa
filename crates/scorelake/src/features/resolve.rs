//! From recipes as written to checked outputs in dependency order.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::recipe::{Recipe, RecipeFile};
use crate::error::{Error, Result};
use crate::functions::temporal::{Agg, Method, Window};

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

/// A checked recipe file: outputs grouped by recipe, recipes in levels
/// (a recipe only uses outputs of lower levels).
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub file: RecipeFile,
    pub snapshot: Option<NaiveDate>,
    pub outputs: Vec<Output>,
    /// Recipe indexes per level, each level in file order.
    pub levels: Vec<Vec<usize>>,
    /// Recipes each recipe depends on (directly).
    pub deps: Vec<BTreeSet<usize>>,
}

const TRANSFORMS: &[&str] = &[
    "ratio",
    "difference",
    "product",
    "log",
    "sqrt",
    "clip",
    "bin",
    "impute",
    "fill_missing",
    "flag_missing",
];
const TRENDS: &[&str] = &[
    "delta",
    "pct_change",
    "momentum",
    "volatility",
    "trend_slope",
    "rolling_rank",
    "minmax_range",
];

/// Every operation name a recipe may use.
pub fn operations() -> Vec<&'static str> {
    let aggs = Agg::ALL.iter().map(|a| a.name());
    TRENDS
        .iter()
        .copied()
        .chain(aggs)
        .chain(TRANSFORMS.iter().copied())
        .collect()
}

pub(crate) fn resolve(file: RecipeFile) -> Result<Resolved> {
    if file.time.trim().is_empty() {
        return Err(Error::InvalidInput(
            "recipe file: `time` names no column".into(),
        ));
    }
    let snapshot = match &file.snapshot {
        None => None,
        Some(text) => Some(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                Error::InvalidInput(format!(
                    "recipe file: snapshot `{text}` is not a date (YYYY-MM-DD)"
                ))
            })?,
        ),
    };
    let mut names = HashMap::new();
    let mut outputs = Vec::new();
    for (i, r) in file.recipes.iter().enumerate() {
        if let Some(j) = names.insert(r.name.as_str(), i) {
            return Err(Error::InvalidInput(format!(
                "recipes #{} and #{} are both named `{}`",
                j + 1,
                i + 1,
                r.name
            )));
        }
        outputs.extend(expand(i, r)?);
    }
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for o in &outputs {
        if let Some(j) = producer.insert(o.name.as_str(), o.recipe) {
            return Err(Error::InvalidInput(format!(
                "output `{}` is produced by recipe `{}` and by recipe `{}`; set `output` on one of them",
                o.name, file.recipes[j].name, file.recipes[o.recipe].name
            )));
        }
    }
    let mut deps = vec![BTreeSet::new(); file.recipes.len()];
    for o in &outputs {
        for s in &o.sources {
            if let Some(&p) = producer.get(s.as_str()) {
                deps[o.recipe].insert(p);
            }
        }
    }
    for (i, r) in file.recipes.iter().enumerate() {
        for d in &r.depends_on {
            let Some(&j) = names.get(d.as_str()) else {
                return Err(Error::InvalidInput(format!(
                    "recipe `{}`: depends_on `{d}` is not a recipe",
                    r.name
                )));
            };
            deps[i].insert(j);
        }
    }
    let levels = levels(&file, &deps)?;
    Ok(Resolved {
        file,
        snapshot,
        outputs,
        levels,
        deps,
    })
}

/// Longest-path levels; a cycle is an error naming its recipes.
fn levels(file: &RecipeFile, deps: &[BTreeSet<usize>]) -> Result<Vec<Vec<usize>>> {
    let n = deps.len();
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut done = 0;
    while done < n {
        let mut progressed = false;
        for i in 0..n {
            if level[i].is_some() {
                continue;
            }
            let ready: Option<Vec<usize>> = deps[i].iter().map(|&d| level[d]).collect();
            if let Some(ls) = ready {
                level[i] = Some(ls.into_iter().max().map_or(0, |l| l + 1));
                done += 1;
                progressed = true;
            }
        }
        if !progressed {
            let stuck: Vec<String> = (0..n)
                .filter(|&i| level[i].is_none())
                .map(|i| format!("`{}`", file.recipes[i].name))
                .collect();
            return Err(Error::InvalidInput(format!(
                "recipes depend on each other in a cycle: {}",
                stuck.join(", ")
            )));
        }
    }
    let depth = level.iter().flatten().max().map_or(0, |l| l + 1);
    let mut out = vec![Vec::new(); depth];
    for (i, l) in level.into_iter().enumerate() {
        if let Some(l) = l {
            out[l].push(i);
        }
    }
    Ok(out)
}

/// The output columns of one recipe.
fn expand(index: usize, r: &Recipe) -> Result<Vec<Output>> {
    let bad = |what: String| Error::InvalidInput(format!("recipe `{}`: {what}", r.name));
    if r.sources.is_empty() {
        return Err(bad("no source column".into()));
    }
    let mut p = Params {
        recipe: &r.name,
        map: &r.params,
        used: BTreeSet::new(),
    };
    let op_name = r.operation.as_str();
    let window = match &r.window {
        Some(w) => Some(Window::parse(w).map_err(bad)?),
        None => None,
    };
    let window_suffix = r.window.clone().unwrap_or_default();
    let mut outs: Vec<(String, Vec<String>, Op)> = Vec::new();
    let needs_window = || window.ok_or_else(|| bad(format!("`{op_name}` needs a `window`")));
    let no_window = || match window {
        Some(_) => Err(bad(format!("`{op_name}` takes no `window`"))),
        None => Ok(()),
    };
    if let Some(agg) = Agg::from_name(op_name) {
        let w = needs_window()?;
        let min_periods = p.min_periods(Method::Agg(agg))?;
        for s in &r.sources {
            let op = Op::Temporal {
                method: Method::Agg(agg),
                window: w,
                min_periods,
            };
            outs.push((
                format!("{s}_{op_name}_{window_suffix}"),
                vec![s.clone()],
                op,
            ));
        }
    } else if TRENDS.contains(&op_name) {
        let (method, w, suffix) = match op_name {
            "delta" | "pct_change" => {
                let periods = p.u32("periods")?;
                let w = match (window, periods) {
                    (Some(_), Some(_)) => {
                        return Err(bad("give `window` or `periods`, not both".into()));
                    }
                    (Some(w), None) => w,
                    (None, Some(n)) => Window::Rows(n),
                    (None, None) => Window::Rows(1),
                };
                if w == Window::AllTime {
                    return Err(bad(
                        "the lag must be rows or a calendar span, not all_time".into()
                    ));
                }
                let method = if op_name == "delta" {
                    Method::Delta
                } else {
                    Method::PctChange
                };
                let suffix = if w == Window::Rows(1) {
                    String::new()
                } else {
                    format!("_{w}")
                };
                (method, w, suffix)
            }
            "volatility" => {
                let method = match p.str("kind")?.as_deref() {
                    None | Some("std") => Method::Volatility,
                    Some("cv") => Method::VolatilityCv,
                    Some(other) => {
                        return Err(bad(format!("param kind `{other}`: expected std or cv")));
                    }
                };
                let w = needs_window()?;
                let suffix = if method == Method::VolatilityCv {
                    format!("_cv_{window_suffix}")
                } else {
                    format!("_{window_suffix}")
                };
                (method, w, suffix)
            }
            other => {
                let method = match other {
                    "momentum" => Method::Momentum,
                    "trend_slope" => Method::TrendSlope,
                    "rolling_rank" => Method::RollingRank,
                    _ => Method::MinMaxRange,
                };
                (method, needs_window()?, format!("_{window_suffix}"))
            }
        };
        let min_periods = match method {
            Method::Delta | Method::PctChange => 1,
            m => p.min_periods(m)?,
        };
        for s in &r.sources {
            let op = Op::Temporal {
                method,
                window: w,
                min_periods,
            };
            outs.push((format!("{s}_{op_name}{suffix}"), vec![s.clone()], op));
        }
    } else if TRANSFORMS.contains(&op_name) {
        no_window()?;
        match op_name {
            "ratio" | "difference" | "product" => {
                let [a, b] = r.sources.as_slice() else {
                    return Err(bad(format!(
                        "`{op_name}` needs exactly two sources (numerator first)"
                    )));
                };
                let (op, name) = match op_name {
                    "ratio" => (Op::Ratio(p.fallback("on_zero")?), format!("{a}_to_{b}")),
                    "difference" => (Op::Difference, format!("{a}_minus_{b}")),
                    _ => (Op::Product, format!("{a}_x_{b}")),
                };
                outs.push((name, r.sources.clone(), op));
            }
            "impute" | "fill_missing" => {
                let strategy = match p.str("strategy")?.as_deref() {
                    Some("keep") => Strategy::Keep,
                    Some("zero") => Strategy::Value(0.0),
                    None | Some("median") => Strategy::Median,
                    Some("mean") => Strategy::Mean,
                    Some("constant") => {
                        Strategy::Value(p.f64("value")?.ok_or_else(|| {
                            bad("strategy constant needs a numeric `value`".into())
                        })?)
                    }
                    Some("flag") => Strategy::Keep,
                    Some(other) => {
                        return Err(bad(format!(
                            "strategy `{other}`: expected keep, zero, mean, median, constant or flag"
                        )));
                    }
                };
                let flag_only = p.map.get("strategy").and_then(Value::as_str) == Some("flag");
                let scope = p.scope()?;
                let indicator = p.bool("indicator")?.unwrap_or(false) || flag_only;
                for s in &r.sources {
                    if !flag_only {
                        let op = Op::Impute {
                            strategy,
                            scope: scope.clone(),
                        };
                        outs.push((format!("{s}_imputed"), vec![s.clone()], op));
                    }
                    if indicator {
                        outs.push((format!("{s}_missing"), vec![s.clone()], Op::FlagMissing));
                    }
                }
            }
            unary => {
                let op = match unary {
                    "log" => Op::Log {
                        nonpositive: p.fallback("on_nonpositive")?,
                        base: p.f64("base")?,
                    },
                    "sqrt" => Op::Sqrt,
                    "clip" => {
                        let (lower, upper) = (p.f64("lower")?, p.f64("upper")?);
                        if lower.is_none() && upper.is_none() {
                            return Err(bad("clip needs `lower`, `upper` or both".into()));
                        }
                        if let (Some(l), Some(u)) = (lower, upper)
                            && l > u
                        {
                            return Err(bad(format!("clip lower {l} is above upper {u}")));
                        }
                        Op::Clip { lower, upper }
                    }
                    "bin" => Op::Bin(p.edges()?),
                    _ => Op::FlagMissing,
                };
                let suffix = match unary {
                    "clip" => "clipped",
                    "flag_missing" => "missing",
                    other => other,
                };
                for s in &r.sources {
                    outs.push((format!("{s}_{suffix}"), vec![s.clone()], op.clone()));
                }
            }
        }
    } else {
        let known = operations();
        let hint = known
            .iter()
            .max_by(|a, b| {
                strsim::jaro_winkler(a, op_name).total_cmp(&strsim::jaro_winkler(b, op_name))
            })
            .filter(|k| strsim::jaro_winkler(k, op_name) > 0.8)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return Err(bad(format!(
            "unknown operation `{op_name}`{hint}; expected one of {}",
            known.join(", ")
        )));
    }
    p.finish()?;
    if let Some(name) = &r.output {
        if outs.len() != 1 {
            return Err(bad(format!(
                "`output` names one column but the recipe makes {} ({}); drop `output` or split the recipe",
                outs.len(),
                outs.iter()
                    .map(|o| o.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        outs[0].0 = name.clone();
    }
    Ok(outs
        .into_iter()
        .map(|(name, sources, op)| Output {
            name,
            recipe: index,
            sources,
            op,
        })
        .collect())
}

/// Reads a recipe's `params`, refusing keys no one asked for.
struct Params<'a> {
    recipe: &'a str,
    map: &'a Map<String, Value>,
    used: BTreeSet<&'static str>,
}

impl Params<'_> {
    fn bad(&self, what: String) -> Error {
        Error::InvalidInput(format!("recipe `{}`: {what}", self.recipe))
    }

    fn get(&mut self, key: &'static str) -> Option<&Value> {
        self.used.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn f64(&mut self, key: &'static str) -> Result<Option<f64>> {
        match self.get(key).cloned() {
            None => Ok(None),
            Some(v) => match v.as_f64().filter(|x| x.is_finite()) {
                Some(x) => Ok(Some(x)),
                None => Err(self.bad(format!("param {key}: expected a number, got {v}"))),
            },
        }
    }

    fn u32(&mut self, key: &'static str) -> Result<Option<u32>> {
        match self.get(key).cloned() {
            None => Ok(None),
            Some(v) => match v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n > 0)
            {
                Some(n) => Ok(Some(n)),
                None => Err(self.bad(format!(
                    "param {key}: expected a whole number greater than 0, got {v}"
                ))),
            },
        }
    }

    fn bool(&mut self, key: &'static str) -> Result<Option<bool>> {
        match self.get(key).cloned() {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(v) => Err(self.bad(format!("param {key}: expected true or false, got {v}"))),
        }
    }

    fn str(&mut self, key: &'static str) -> Result<Option<String>> {
        match self.get(key).cloned() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.bad(format!("param {key}: expected text, got {v}"))),
        }
    }

    fn min_periods(&mut self, method: Method) -> Result<u32> {
        Ok(self
            .u32("min_periods")?
            .unwrap_or(method.default_min_periods()))
    }

    /// `null` (default), `zero`, or a number.
    fn fallback(&mut self, key: &'static str) -> Result<Fallback> {
        match self.get(key).cloned() {
            None => Ok(Fallback::Null),
            Some(Value::String(s)) if s == "null" => Ok(Fallback::Null),
            Some(Value::String(s)) if s == "zero" => Ok(Fallback::Value(0.0)),
            Some(v) => match v.as_f64().filter(|x| x.is_finite()) {
                Some(x) => Ok(Fallback::Value(x)),
                None => Err(self.bad(format!(
                    "param {key}: expected null, zero or a number, got {v}"
                ))),
            },
        }
    }

    /// `global` (default) or a list of group columns.
    fn scope(&mut self) -> Result<Vec<String>> {
        match self.get("scope").cloned() {
            None => Ok(vec![]),
            Some(Value::String(s)) if s == "global" => Ok(vec![]),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(String::from).ok_or_else(|| {
                        self.bad(format!("param scope: expected column names, got {v}"))
                    })
                })
                .collect(),
            Some(v) => Err(self.bad(format!(
                "param scope: expected global or a list of columns, got {v}"
            ))),
        }
    }

    fn edges(&mut self) -> Result<Vec<f64>> {
        let edges: Option<Vec<f64>> = match self.get("edges") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_f64().filter(|x| x.is_finite()))
                .collect(),
            _ => None,
        };
        match edges {
            Some(e) if e.len() >= 2 && e.windows(2).all(|w| w[0] < w[1]) => Ok(e),
            _ => {
                Err(self.bad("bin needs `edges`: at least two numbers, strictly increasing".into()))
            }
        }
    }

    fn finish(self) -> Result<()> {
        match self.map.keys().find(|k| !self.used.contains(k.as_str())) {
            None => Ok(()),
            Some(k) => {
                let known: Vec<_> = self.used.iter().copied().collect();
                Err(self.bad(format!(
                    "unknown param `{k}`{}",
                    if known.is_empty() {
                        " (this operation takes no params)".to_string()
                    } else {
                        format!("; expected {}", known.join(", "))
                    }
                )))
            }
        }
    }
}
