//! Recipes → one lazy plan; fit learns fill values, transform applies them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::functions_aggregate::expr_fn::{avg, count, max, median, min, stddev, sum};
use datafusion::functions_aggregate::first_last::{first_value_udaf, last_value_udaf};
use datafusion::logical_expr::expr::NullTreatment;
use datafusion::logical_expr::expr_rewriter::normalize_col_with_schemas_and_ambiguity_check;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, Projection, lit, when};
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use super::design::DesignCounts;
use super::lineage::Lineage;
use super::output::{Op, Output};
use super::recipe::RecipeFile;
use super::resolve::{Resolved, resolve};
use super::time_literal::{micros_of, time_literal};
use super::transforms::{Learned, expression, learn};
use crate::error::{Error, Result, ensure, invalid, invalid_err};
use crate::expr::{column, column_names, find, number};
use crate::functions::temporal::{
    Agg, Method, TemporalFeature, TemporalNode, TemporalSpec, Window, minus,
};

/// Builds feature plans from a recipe file.
///
/// ```
/// use scorelake::features::{FeatureEngineer, RecipeFile};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let panel = session.ctx().sql(
///     "SELECT * FROM (VALUES (1, DATE '2024-01-01', 10.0), (1, DATE '2024-02-01', 16.0), \
///      (1, DATE '2024-04-01', 22.0)) AS t(id, month, balance)",
/// ).await?;
/// let recipes = RecipeFile::parse(
///     "entity: id\ntime: month\nrecipes:\n\
///      - {name: d, operation: delta, source: balance, window: 1mo}\n\
///      - {name: s, operation: trend_slope, source: balance, window: last_3_months}\n",
///     "yaml",
/// )?;
/// let engineer = FeatureEngineer::new(recipes)?;
/// assert_eq!(engineer.outputs(), ["balance_delta_1mo", "balance_trend_slope_last_3_months"]);
/// let out = engineer.transform(panel)?.collect().await?;
/// let text = datafusion::arrow::util::pretty::pretty_format_batches(&out)?.to_string();
/// // April has no March: no one-month delta; the slope spans Feb → Apr (2 months).
/// assert!(text.contains("| 1  | 2024-04-01 | 22.0    |                   | 3.0 "), "{text}");
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct FeatureEngineer {
    resolved: Resolved,
}

/// Fill values learned by [`FeatureEngineer::fit`], with the recipes they
/// belong to: a self-contained JSON artifact that transforms other data the
/// same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedFeatures {
    /// Artifact kind and version.
    pub format: String,
    /// The recipes, as written.
    pub recipes: RecipeFile,
    /// Learned values per output column.
    pub learned: BTreeMap<String, Learned>,
}

const FITTED_FORMAT: &str = "scorelake.fitted-features/1";

/// One step of the plan.
#[derive(Clone, Debug)]
enum Stage {
    /// Row expressions.
    Project(Vec<usize>),
    /// Trailing per-entity features (one operator).
    Temporal(Vec<usize>),
    /// Snapshot aggregations (one row per entity).
    Aggregate(Vec<usize>),
}

impl FeatureEngineer {
    /// Checks the recipes (operations, params, names, dependencies).
    pub fn new(recipes: RecipeFile) -> Result<Self> {
        let resolved = resolve(recipes)?;
        stages(&resolved)?;
        Ok(FeatureEngineer { resolved })
    }

    /// Reads and checks a recipe file.
    pub fn from_path(path: &Path) -> Result<Self> {
        FeatureEngineer::new(RecipeFile::load(path)?).map_err(|e| match e {
            Error::InvalidInput(m) => invalid!("{}: {m}", path.display()),
            other => other,
        })
    }

    /// The recipes, as written.
    pub fn recipes(&self) -> &RecipeFile {
        &self.resolved.file
    }

    /// Output column names, in recipe order.
    pub fn outputs(&self) -> Vec<&str> {
        self.final_outputs()
            .into_iter()
            .map(|i| self.resolved.outputs[i].name.as_str())
            .collect()
    }

    /// True when some output needs values learned by [`fit`](Self::fit).
    pub fn needs_fit(&self) -> bool {
        self.resolved
            .outputs
            .iter()
            .any(|o| matches!(&o.op, Op::Impute { strategy, .. } if strategy.learned()))
    }

    /// Every output with its sources, operation, parameters and dependencies.
    pub fn lineage(&self) -> Lineage {
        Lineage::of(&self.resolved, &self.final_outputs())
    }

    /// Learns fill values (means, medians) on `df`, stage by stage, as the
    /// recipes would see the data. Everything is checked before any work.
    pub async fn fit(&self, df: &DataFrame) -> Result<FittedFeatures> {
        // A dry run with placeholder values checks every column and type first.
        let mut placeholder = BTreeMap::new();
        for o in &self.resolved.outputs {
            if matches!(&o.op, Op::Impute { strategy, .. } if strategy.learned()) {
                let l = Learned {
                    statistic: String::new(),
                    global: 0.0,
                    scope: vec![],
                    groups: vec![],
                };
                placeholder.insert(o.name.clone(), l);
            }
        }
        self.build(df.clone(), &placeholder)?;
        let mut learned = BTreeMap::new();
        let mut current = self.start(df.clone())?;
        for stage in stages(&self.resolved)? {
            if let Stage::Project(ids) = &stage {
                let wanted: Vec<&Output> = ids
                    .iter()
                    .map(|&i| &self.resolved.outputs[i])
                    .filter(|o| matches!(&o.op, Op::Impute { strategy, .. } if strategy.learned()))
                    .collect();
                if !wanted.is_empty() {
                    learned.extend(learn(&current, &wanted).await?);
                }
            }
            current = self.apply(current, &stage, &learned)?;
        }
        Ok(FittedFeatures {
            format: FITTED_FORMAT.into(),
            recipes: self.resolved.file.clone(),
            learned,
        })
    }

    /// The features of `df` as a lazy plan. Recipes that fill with learned
    /// values need [`fit`](Self::fit) first (then use [`FittedFeatures::transform`]).
    pub fn transform(&self, df: DataFrame) -> Result<DataFrame> {
        if self.needs_fit() {
            return Err(Error::InvalidInput(
                "these recipes fill missing values with learned means or medians: fit them first"
                    .into(),
            ));
        }
        self.build(df, &BTreeMap::new())
    }

    fn build(&self, df: DataFrame, learned: &BTreeMap<String, Learned>) -> Result<DataFrame> {
        let original = df.clone();
        let mut df = self.start(df)?;
        let input: Vec<String> = column_names(df.schema());
        for stage in stages(&self.resolved)? {
            df = self.apply(df, &stage, learned)?;
        }
        let file = &self.resolved.file;
        let keep: Vec<String> = if self.resolved.snapshot.is_some() {
            file.entity.clone()
        } else if let Some(carry) = &self.resolved.design.carry {
            let mut keep: Vec<String> = file.entity.clone();
            for c in std::iter::once(&file.time).chain(carry) {
                find(original.schema(), c, "carried column")?;
                if !keep.contains(c) {
                    keep.push(c.clone());
                }
            }
            keep
        } else {
            input
        };
        let outputs = self
            .final_outputs()
            .into_iter()
            .map(|i| self.resolved.outputs[i].name.clone());
        let columns: Vec<Expr> = keep
            .into_iter()
            .chain(outputs)
            .map(|c| column(&c))
            .collect();
        let df = project(df, columns)?;
        if self.resolved.design.is_set() {
            return self
                .resolved
                .design
                .apply(&original, df, &file.entity, &file.time);
        }
        Ok(df)
    }

    /// Rows per observation date and what the target does to them (kept
    /// bad or good, excluded already bad or for a short performance
    /// window), counted on `df`'s entity, time and target columns (no
    /// features are computed); `None` without observation dates or target.
    /// An observation date without rows is an error naming it.
    pub async fn design_counts(&self, df: &DataFrame) -> Result<Option<DesignCounts>> {
        let design = &self.resolved.design;
        if !design.is_set() {
            return Ok(None);
        }
        let file = &self.resolved.file;
        Ok(Some(design.counts(df, &file.entity, &file.time).await?))
    }

    /// Checks entity and time columns; in snapshot mode keeps rows up to the snapshot.
    fn start(&self, df: DataFrame) -> Result<DataFrame> {
        let file = &self.resolved.file;
        let schema = df.schema().clone();
        for e in &file.entity {
            find(&schema, e, "entity column")?;
        }
        let time = find(&schema, &file.time, "time column")?;
        let calendar = self
            .resolved
            .outputs
            .iter()
            .any(|o| matches!(o.op, Op::Temporal { window, .. } if window.is_calendar()));
        let temporal_time = matches!(
            time,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
        );
        if (calendar || self.resolved.snapshot.is_some()) && !temporal_time {
            return invalid_err!(
                "time column `{}` is {time}; calendar windows and snapshots need a date or timestamp",
                file.time
            );
        }
        ensure!(
            temporal_time || time.is_integer(),
            "time column `{}` is {time}; expected a date, timestamp or integer period",
            file.time
        );
        match self.resolved.snapshot {
            Some(day) => {
                let at = time_literal(&time, micros_of(day))?;
                Ok(df.filter(column(&file.time).lt_eq(lit(at)))?)
            }
            None => Ok(df),
        }
    }

    fn apply(
        &self,
        df: DataFrame,
        stage: &Stage,
        learned: &BTreeMap<String, Learned>,
    ) -> Result<DataFrame> {
        let (ids, is_aggregate) = match stage {
            Stage::Project(ids) | Stage::Temporal(ids) => (ids, false),
            Stage::Aggregate(ids) => (ids, true),
        };
        let schema = df.schema().clone();
        for &i in ids {
            self.check_output(&schema, &self.resolved.outputs[i], is_aggregate)?;
        }
        let outs = ids.iter().map(|&i| &self.resolved.outputs[i]);
        match stage {
            Stage::Project(_) => {
                let mut columns: Vec<Expr> =
                    schema.columns().into_iter().map(Expr::Column).collect();
                for o in outs {
                    columns.push(expression(o, learned.get(&o.name))?.alias(&o.name));
                }
                project(df, columns)
            }
            Stage::Temporal(_) => {
                let spec = TemporalSpec {
                    entity: self.resolved.file.entity.clone(),
                    time: self.resolved.file.time.clone(),
                    features: outs
                        .map(|o| match o.op {
                            Op::Temporal {
                                method,
                                window,
                                min_periods,
                            } => Ok(TemporalFeature {
                                output: o.name.clone(),
                                source: o.sources[0].clone(),
                                method,
                                window,
                                min_periods,
                            }),
                            _ => invalid_err!("`{}` is not a temporal feature", o.name),
                        })
                        .collect::<Result<_>>()?,
                };
                let (state, plan) = df.into_parts();
                Ok(DataFrame::new(state, TemporalNode::plan(plan, spec)?))
            }
            Stage::Aggregate(_) => {
                let time = schema
                    .field_with_unqualified_name(&self.resolved.file.time)?
                    .data_type()
                    .clone();
                let snapshot = self.resolved.snapshot.map(micros_of).unwrap_or_default();
                let aggs = outs
                    .map(|o| snapshot_aggregate(o, &self.resolved.file.time, &time, snapshot))
                    .collect::<Result<Vec<_>>>()?;
                let keys = self
                    .resolved
                    .file
                    .entity
                    .iter()
                    .map(|e| column(e))
                    .collect();
                Ok(df.aggregate(keys, aggs)?)
            }
        }
    }

    /// Sources exist and are numbers; the output is a new column.
    fn check_output(&self, schema: &DFSchema, o: &Output, aggregate: bool) -> Result<()> {
        let recipe = &self.resolved.file.recipes[o.recipe].name;
        let bad = |what: String| invalid!("recipe `{recipe}`: {what}");
        for s in &o.sources {
            let ty = find(schema, s, "column").map_err(|e| bad(e.to_string()))?;
            let numeric = ty.is_numeric() || ty == DataType::Null;
            if !numeric && o.op != Op::FlagMissing {
                return Err(bad(format!("column `{s}` is {ty}; expected a number")));
            }
        }
        if let Op::Impute { scope, .. } = &o.op {
            for c in scope {
                find(schema, c, "scope column").map_err(|e| bad(e.to_string()))?;
            }
        }
        if !aggregate && schema.has_column_with_unqualified_name(&o.name) {
            return Err(bad(format!(
                "output `{}` is already a column of the input; set another `output` name",
                o.name
            )));
        }
        Ok(())
    }

    /// Outputs that end up in the result, in recipe order.
    fn final_outputs(&self) -> Vec<usize> {
        let r = &self.resolved;
        let dropped = if r.snapshot.is_some() {
            row_level(r)
        } else {
            BTreeSet::new()
        };
        (0..r.outputs.len())
            .filter(|i| !dropped.contains(&r.outputs[*i].recipe))
            .collect()
    }
}

impl FittedFeatures {
    /// The features of `df` with the learned values, as a lazy plan.
    pub fn transform(&self, df: DataFrame) -> Result<DataFrame> {
        FeatureEngineer::new(self.recipes.clone())?.build(df, &self.learned)
    }

    /// The recipes' engineer (outputs, lineage).
    pub fn engineer(&self) -> Result<FeatureEngineer> {
        FeatureEngineer::new(self.recipes.clone())
    }

    /// Writes the artifact as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::docfile::save_artifact(path, self)
    }

    /// Reads an artifact written by [`save`](Self::save) and checks it
    /// ([`validate`](Self::validate)); errors name the file.
    pub fn load(path: &Path) -> Result<Self> {
        crate::docfile::load_artifact(
            path,
            FITTED_FORMAT,
            "a fitted-features file",
            Self::validate,
        )
    }

    /// Checks that the learned values match the recipes (for files edited
    /// by hand): one entry per learned output and no other, its scope the
    /// recipe's, every group key one value per scope column, no key twice.
    /// Errors name the output and what is inconsistent.
    pub fn validate(&self) -> Result<()> {
        let engineer = self.engineer()?;
        let mut expected = BTreeSet::new();
        for o in &engineer.resolved.outputs {
            let Op::Impute { strategy, scope } = &o.op else {
                continue;
            };
            if !strategy.learned() {
                continue;
            }
            let name = &o.name;
            expected.insert(name.as_str());
            let Some(l) = self.learned.get(name) else {
                return invalid_err!("output `{name}` has no learned values");
            };
            ensure!(
                &l.scope == scope,
                "output `{name}`: the learned scope [{}] differs from the recipe's [{}]",
                l.scope.join(", "),
                scope.join(", ")
            );
            let mut keys = BTreeSet::new();
            for g in &l.groups {
                ensure!(
                    g.key.len() == scope.len(),
                    "output `{name}`: a learned group key has {} values for {} scope columns",
                    g.key.len(),
                    scope.len()
                );
                ensure!(
                    keys.insert(&g.key),
                    "output `{name}`: the learned group {:?} is listed twice",
                    g.key
                );
            }
        }
        if let Some(extra) = self.learned.keys().find(|k| !expected.contains(k.as_str())) {
            return invalid_err!("learned values for `{extra}`, which no recipe learns");
        }
        Ok(())
    }
}

/// Recipes feeding snapshot aggregations (row-level, not in the output).
fn row_level(r: &Resolved) -> BTreeSet<usize> {
    let aggregated = aggregated(r);
    (0..r.file.recipes.len())
        .filter(|i| !aggregated.contains(i))
        .collect()
}

/// Recipes that are aggregations or use one (transitively).
fn aggregated(r: &Resolved) -> BTreeSet<usize> {
    let mut set: BTreeSet<usize> = r
        .outputs
        .iter()
        .filter(|o| o.op.is_temporal())
        .map(|o| o.recipe)
        .collect();
    for level in &r.levels {
        for &i in level {
            if r.deps[i].iter().any(|d| set.contains(d)) {
                set.insert(i);
            }
        }
    }
    set
}

/// Plan steps: per dependency level, row transforms then one temporal operator
/// (snapshot mode: row transforms, one aggregation, transforms of aggregates).
fn stages(r: &Resolved) -> Result<Vec<Stage>> {
    let outputs_of = |recipes: &[usize], temporal: bool| -> Vec<usize> {
        (0..r.outputs.len())
            .filter(|&i| {
                recipes.contains(&r.outputs[i].recipe) && r.outputs[i].op.is_temporal() == temporal
            })
            .collect()
    };
    let mut stages = Vec::new();
    if r.snapshot.is_none() {
        for level in &r.levels {
            let project = outputs_of(level, false);
            let temporal = outputs_of(level, true);
            if !project.is_empty() {
                stages.push(Stage::Project(project));
            }
            if !temporal.is_empty() {
                stages.push(Stage::Temporal(temporal));
            }
        }
        return Ok(stages);
    }
    let aggregated = aggregated(r);
    let name = |i: usize| &r.file.recipes[i].name;
    for o in r.outputs.iter().filter(|o| o.op.is_temporal()) {
        let Op::Temporal { method, window, .. } = o.op else {
            continue;
        };
        ensure!(
            matches!(method, Method::Agg(_)),
            "recipe `{}`: {} is a per-row feature; a snapshot recipe file takes window aggregations and transforms",
            name(o.recipe),
            r.file.recipes[o.recipe].operation
        );
        if matches!(window, Window::Rows(_)) {
            return invalid_err!(
                "recipe `{}`: as of a snapshot, windows are calendar spans (last_6_months, 90d) or all_time",
                name(o.recipe)
            );
        }
        if r.deps[o.recipe].iter().any(|d| aggregated.contains(d)) {
            return invalid_err!(
                "recipe `{}` aggregates the output of an aggregation; as of a snapshot aggregations use row columns",
                name(o.recipe)
            );
        }
    }
    let feeds: BTreeSet<usize> = (0..r.deps.len())
        .filter(|i| aggregated.contains(i))
        .flat_map(|i| r.deps[i].iter().copied())
        .collect();
    let mut post = Vec::new();
    for level in &r.levels {
        let before: Vec<usize> = level
            .iter()
            .copied()
            .filter(|i| !aggregated.contains(i))
            .collect();
        for &i in &before {
            ensure!(
                feeds.contains(&i),
                "recipe `{}` transforms row values that no aggregation uses; as of a snapshot the output has one row per entity",
                name(i)
            );
        }
        let project = outputs_of(&before, false);
        if !project.is_empty() {
            stages.push(Stage::Project(project));
        }
        let after: Vec<usize> = level
            .iter()
            .copied()
            .filter(|i| aggregated.contains(i))
            .collect();
        let transforms = outputs_of(&after, false);
        if !transforms.is_empty() {
            post.push(Stage::Project(transforms));
        }
    }
    let all: Vec<usize> = (0..r.outputs.len())
        .filter(|&i| r.outputs[i].op.is_temporal())
        .collect();
    if !all.is_empty() {
        stages.push(Stage::Aggregate(all));
    }
    stages.extend(post);
    Ok(stages)
}

/// One snapshot aggregation: the window `(snapshot − span, snapshot]` is the
/// aggregate's filter (the plan already dropped rows after the snapshot).
fn snapshot_aggregate(o: &Output, time: &str, time_type: &DataType, snapshot: i64) -> Result<Expr> {
    let Op::Temporal {
        method: Method::Agg(agg),
        window,
        min_periods,
    } = o.op
    else {
        return invalid_err!("`{}` is not an aggregation", o.name);
    };
    let x = number(&o.sources[0]);
    let t = column(time);
    let filter = match window {
        Window::Calendar(span) => Some(
            t.clone()
                .gt(lit(time_literal(time_type, minus(snapshot, span))?)),
        ),
        _ => None,
    };
    let with = |e: Expr| -> Result<Expr> {
        Ok(match &filter {
            Some(f) => e.filter(f.clone()).build()?,
            None => e,
        })
    };
    let n = with(count(x.clone()))?;
    let value = match agg {
        Agg::Count => return Ok(n.alias(&o.name)),
        Agg::Max | Agg::Worst => with(max(x.clone()))?,
        Agg::Min => with(min(x.clone()))?,
        Agg::Range => with(max(x.clone()))? - with(min(x.clone()))?,
        Agg::Mean => with(avg(x.clone()))?,
        Agg::Median => with(median(x.clone()))?,
        Agg::Std => with(stddev(x.clone()))?,
        Agg::Sum => with(sum(x.clone()))?,
        Agg::First | Agg::Last => {
            let udaf = if agg == Agg::First {
                first_value_udaf()
            } else {
                last_value_udaf()
            };
            let mut b = udaf
                .call(vec![x.clone()])
                .order_by(vec![t.sort(true, false)])
                .null_treatment(NullTreatment::IgnoreNulls);
            if let Some(f) = &filter {
                b = b.filter(f.clone());
            }
            b.build()?
        }
    };
    let needed = i64::from(min_periods.max(1));
    Ok(when(
        n.gt_eq(lit(needed)),
        datafusion::logical_expr::cast(value, DataType::Float64),
    )
    .otherwise(lit(ScalarValue::Float64(None)))?
    .alias(&o.name))
}

/// `df` projected to `columns`, their column references resolved against the
/// input's schema alone. `DataFrame::select` resolves each reference by
/// walking the whole plan below it (for join `USING` columns), so a chain of
/// n transforms, each a projection of up to n columns, cost n³ to plan
/// (500 chained clips: minutes); this costs n².
fn project(df: DataFrame, columns: Vec<Expr>) -> Result<DataFrame> {
    let (state, plan) = df.into_parts();
    let schema = Arc::clone(plan.schema());
    let columns = columns
        .into_iter()
        .map(|e| normalize_col_with_schemas_and_ambiguity_check(e, &[&[schema.as_ref()]], &[]))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let projection = Projection::try_new(columns, Arc::new(plan))?;
    Ok(DataFrame::new(state, LogicalPlan::Projection(projection)))
}
