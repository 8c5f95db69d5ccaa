//! Fitting mappings (one grouped pass per encoder) and applying them as expressions.

use std::path::Path;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::spec::{CrossFit, Encoder, EncoderSpec, EncodingMethod, Unseen};
use crate::checks::TargetCheck;
use crate::checks::{WeightCheck, weight_or_one};
use crate::error::{Error, Result, ensure, invalid_err};
use crate::expr::{column, find};
use crate::functions::fold::fold_index;
use crate::functions::lookup::{Mapping, lookup};
use crate::results::{first_number, number_at};

const FORMAT: &str = "scorelake.encoder-mappings/1";

/// One category of a fitted encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// The category as text (null for the null category).
    pub value: Option<String>,
    /// Rows (or weight) with this category.
    pub weight: f64,
    /// Share of all rows (of all weight).
    pub share: f64,
    /// Target mean of the category (target-mean encoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_mean: Option<f64>,
    /// The encoded number (frequency, target mean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<f64>,
    /// The group label (rare grouping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Cross-fitted target encoders: the encoded value learned without fold
    /// f, for each fold f (what fitting rows of fold f get).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_fold: Option<Vec<f64>>,
}

/// The fold split of a cross-fitted spec, as fitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Folds {
    /// Number of folds.
    pub folds: u32,
    /// Seed of the assignment.
    pub seed: u64,
    /// Columns the fold is computed from ([`fold_index`] of their text).
    pub by: Vec<String>,
    /// Weight (rows) per fold.
    pub weight: Vec<f64>,
    /// Target mean of the rows outside each fold: what unseen categories of
    /// fold f get (under the `global_mean` policy).
    pub global_mean: Vec<f64>,
}

/// A fitted encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoded {
    /// The encoder as specified.
    pub encoder: Encoder,
    /// Output column.
    pub output: String,
    /// Categories in value order (null first).
    pub categories: Vec<Category>,
    /// What unseen categories get (null: refused, under the `error` policy).
    pub unseen: Option<serde_json::Value>,
}

/// Fitted encoders: a self-contained JSON artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mappings {
    /// Artifact kind and version.
    pub format: String,
    /// The spec that was fitted.
    pub spec: EncoderSpec,
    /// Rows (or total weight) of the fitting data.
    pub total_weight: f64,
    /// Weighted mean of the target (when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_mean: Option<f64>,
    /// The fold split, when the spec cross-fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<Folds>,
    /// Per encoder.
    pub encoders: Vec<Encoded>,
}

fn key(name: &str) -> Expr {
    cast(column(name), DataType::Utf8)
}

fn find_type(df: &DataFrame, name: &str, role: &str) -> Result<DataType> {
    find(df.schema(), name, &format!("{role} column"))
}

/// Learns every encoder of `spec` on `df`. The target must be 0/1 and the
/// weights non-negative numbers; both are checked first.
///
/// ```
/// use scorelake::encoding::{fit, EncoderSpec};
/// use scorelake::{config::Config, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let train = session.ctx().sql(
///     "SELECT * FROM (VALUES ('a', 1), ('a', 0), ('a', 1), ('b', 0)) AS t(g, y)",
/// ).await?;
/// let spec = EncoderSpec::parse(
///     "target: y\nencoders:\n- {column: g, method: target_mean, smoothing: 2}\n", "yaml")?;
/// let mappings = fit(&train, &spec).await?;
/// // a: (3·(2/3) + 2·0.5) / (3 + 2) = 0.6
/// assert_eq!(mappings.encoders[0].categories[0].encoded, Some(0.6));
/// let out = mappings.transform(train).await?.collect().await?;
/// assert_eq!(out[0].num_columns(), 3);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn fit(df: &DataFrame, spec: &EncoderSpec) -> Result<Mappings> {
    let w = weight_or_one(spec.weight.as_deref());
    let mut checks = vec![sum(w.clone()).alias("total")];
    let weight_check = match &spec.weight {
        Some(wc) => Some(WeightCheck::new(df, wc, "fitting")?),
        None => None,
    };
    checks.extend(weight_check.iter().flat_map(WeightCheck::aggregates));
    let target_check = match &spec.target {
        Some(t) => Some(TargetCheck::new(df, t)?),
        None => None,
    };
    if let Some(t) = &target_check {
        checks.extend(t.aggregates(&w)?);
    }
    for e in &spec.encoders {
        find_type(df, &e.column, "encoded")?;
    }
    let row = df.clone().aggregate(vec![], checks)?.collect().await?;
    let get = |name: &str| first_number(&row, name);
    if let Some(check) = &weight_check {
        check.verify(&row)?;
    }
    let total = get("total").unwrap_or(0.0);
    if total <= 0.0 {
        return Err(Error::InvalidInput(
            "nothing to fit on: no rows (or zero total weight)".into(),
        ));
    }
    let global_mean = match &target_check {
        None => None,
        Some(t) => Some(t.verify(&row)? / total),
    };
    let folds = match &spec.cross_fit {
        None => None,
        Some(cf) => Some(fold_columns(df, spec, &cf.by)?),
    };
    let mut grouped = Vec::new();
    for e in &spec.encoders {
        let cross = folds.is_some() && matches!(e.method, EncodingMethod::TargetMean { .. });
        grouped.push(category_stats(df, spec, e, cross.then_some(folds.as_ref()).flatten()).await?);
    }
    let folds = match (&spec.cross_fit, folds) {
        (Some(cf), Some(by)) => Some(fold_totals(cf, by, &grouped)?),
        _ => None,
    };
    let mut encoders = Vec::new();
    for (e, stats) in spec.encoders.iter().zip(grouped) {
        let categories = stats
            .into_iter()
            .map(|(value, per_fold)| {
                let n: f64 = per_fold.iter().map(|(n, _)| n).sum();
                let events = global_mean.map(|_| per_fold.iter().map(|(_, ev)| ev).sum());
                let mut c = encode(e, value.clone(), n, events, total, global_mean);
                if let (Some(f), true) = (&folds, per_fold.len() > 1) {
                    c.out_of_fold = Some(
                        (0..per_fold.len())
                            .map(|held| {
                                let others = |pick: fn(&(f64, f64)) -> f64| -> f64 {
                                    (0..per_fold.len())
                                        .filter(|g| *g != held)
                                        .map(|g| pick(&per_fold[g]))
                                        .sum()
                                };
                                let rest: f64 = (0..f.weight.len())
                                    .filter(|g| *g != held)
                                    .map(|g| f.weight[g])
                                    .sum();
                                encode(
                                    e,
                                    value.clone(),
                                    others(|s| s.0),
                                    Some(others(|s| s.1)),
                                    rest,
                                    Some(f.global_mean[held]),
                                )
                                .encoded
                                .unwrap_or(f.global_mean[held])
                            })
                            .collect(),
                    );
                }
                c
            })
            .collect();
        let unseen = match (spec.unseen, &e.method) {
            (Unseen::Error, _) => None,
            (_, EncodingMethod::Rare { label, .. }) => Some(serde_json::Value::from(label.clone())),
            (Unseen::GlobalMean, EncodingMethod::TargetMean { .. }) => {
                global_mean.map(serde_json::Value::from)
            }
            _ => Some(serde_json::Value::from(0.0)),
        };
        encoders.push(Encoded {
            encoder: e.clone(),
            output: e.output(),
            categories,
            unseen,
        });
    }
    Ok(Mappings {
        format: FORMAT.into(),
        spec: spec.clone(),
        total_weight: total,
        global_mean,
        folds,
        encoders,
    })
}

/// Name of the hidden fold column while fitting and transforming.
const FOLD: &str = "__scorelake_fold";

/// The columns deciding the fold: `by`, or every column but the target and
/// the weight.
fn fold_columns(df: &DataFrame, spec: &EncoderSpec, by: &[String]) -> Result<Vec<String>> {
    if by.is_empty() {
        let skip = [spec.target.as_deref(), spec.weight.as_deref()];
        return Ok(df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !skip.contains(&Some(n.as_str())))
            .collect());
    }
    for c in by {
        find_type(df, c, "cross_fit.by")?;
    }
    Ok(by.to_vec())
}

fn fold_expr(cf: &CrossFit, by: &[String]) -> Expr {
    fold_index(
        u64::from(cf.folds),
        cf.seed,
        by.iter().map(|c| column(c)).collect(),
    )
}

/// Per category (value order, null first): (weight, events) per fold.
type CategoryStats = Vec<(Option<String>, Vec<(f64, f64)>)>;

/// Weight and events per category (value order, null first), per fold when
/// `by` is given (one entry per fold) or in one entry otherwise.
async fn category_stats(
    df: &DataFrame,
    spec: &EncoderSpec,
    e: &Encoder,
    by: Option<&Vec<String>>,
) -> Result<CategoryStats> {
    let w = weight_or_one(spec.weight.as_deref());
    let mut aggs = vec![sum(w.clone()).alias("n")];
    if let Some(t) = &spec.target {
        aggs.push(sum(w * cast(column(t), DataType::Float64)).alias("e"));
    }
    let mut keys = vec![key(&e.column).alias("k")];
    let k = match (by, &spec.cross_fit) {
        (Some(by), Some(cf)) => {
            keys.push(fold_expr(cf, by).alias(FOLD));
            cf.folds as usize
        }
        _ => 1,
    };
    let groups = df.clone().aggregate(keys, aggs)?.collect().await?;
    let mut stats: std::collections::BTreeMap<Option<String>, Vec<(f64, f64)>> = Default::default();
    for b in &groups {
        let keys = b.column_by_name("k").map(|a| a.as_string::<i32>().clone());
        for r in 0..b.num_rows() {
            let value = keys
                .as_ref()
                .and_then(|k| (!k.is_null(r)).then(|| k.value(r).to_string()));
            let fold = number_at(b, FOLD, r).unwrap_or(0.0) as usize;
            let entry = stats.entry(value).or_insert_with(|| vec![(0.0, 0.0); k]);
            entry[fold] = (
                number_at(b, "n", r).unwrap_or(0.0),
                number_at(b, "e", r).unwrap_or(0.0),
            );
        }
    }
    Ok(stats.into_iter().collect())
}

/// Per-fold weight and out-of-fold target means, from the first cross-fitted
/// encoder's statistics (every encoder sees every row).
fn fold_totals(cf: &CrossFit, by: Vec<String>, grouped: &[CategoryStats]) -> Result<Folds> {
    let k = cf.folds as usize;
    let mut weight = vec![0.0; k];
    let mut events = vec![0.0; k];
    if let Some(stats) = grouped
        .iter()
        .find(|g| g.first().is_some_and(|c| c.1.len() == k))
    {
        for (_, per_fold) in stats {
            for (f, (n, ev)) in per_fold.iter().enumerate() {
                weight[f] += n;
                events[f] += ev;
            }
        }
    }
    let mut global_mean = Vec::with_capacity(k);
    for held in 0..k {
        let others = |v: &[f64]| -> f64 { (0..k).filter(|g| *g != held).map(|g| v[g]).sum() };
        let rest = others(&weight);
        if rest <= 0.0 {
            return invalid_err!(
                "cannot cross-fit: fold {held} of {k} holds all the rows (or weight); \
                 use fewer folds or more data"
            );
        }
        global_mean.push(others(&events) / rest);
    }
    Ok(Folds {
        folds: cf.folds,
        seed: cf.seed,
        by,
        weight,
        global_mean,
    })
}

fn encode(
    e: &Encoder,
    value: Option<String>,
    n: f64,
    events: Option<f64>,
    total: f64,
    global: Option<f64>,
) -> Category {
    let share = n / total;
    let target_mean = events.filter(|_| n > 0.0).map(|ev| ev / n);
    let (encoded, group) = match &e.method {
        EncodingMethod::Frequency { share: true } => (Some(share), None),
        EncodingMethod::Frequency { share: false } => (Some(n), None),
        EncodingMethod::TargetMean {
            smoothing,
            min_samples_leaf,
        } => {
            let g = global.unwrap_or(0.0);
            let v = match target_mean {
                Some(m) if n >= *min_samples_leaf && n + smoothing > 0.0 => {
                    (n * m + smoothing * g) / (n + smoothing)
                }
                _ => g,
            };
            (Some(v), None)
        }
        EncodingMethod::Rare { threshold, label } => {
            let g = if share < *threshold {
                Some(label.clone())
            } else {
                value.clone()
            };
            (None, g)
        }
    };
    Category {
        value,
        weight: n,
        share,
        target_mean,
        encoded,
        group,
        out_of_fold: None,
    }
}

impl Mappings {
    /// `df` with every encoder's output column added (a lazy plan). Under the
    /// `error` policy the categories are checked first (one pass) and unseen
    /// ones are refused, naming the column and values.
    pub async fn transform(&self, df: DataFrame) -> Result<DataFrame> {
        self.encode_columns(df, None).await
    }

    /// The fitting data encoded for training: cross-fitted target encoders
    /// give each row the value learned without its fold (rows are assigned
    /// to folds exactly as when fitting), so no row sees its own target; the
    /// other encoders apply as in [`transform`](Self::transform). Needs
    /// mappings fitted with `cross_fit`.
    ///
    /// ```
    /// use scorelake::encoding::{fit, EncoderSpec};
    /// use scorelake::{config::Config, session::Session};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let session = Session::new(Config::default())?;
    /// let train = session.ctx().sql(
    ///     "SELECT * FROM (VALUES (1, 'a', 1), (2, 'a', 0), (3, 'a', 1), (4, 'b', 0)) AS t(id, g, y)",
    /// ).await?;
    /// let spec = EncoderSpec::parse(
    ///     "target: y\ncross_fit: {folds: 2, by: id}\nencoders:\n- {column: g, method: target_mean}\n",
    ///     "yaml",
    /// )?;
    /// let mappings = fit(&train, &spec).await?;
    /// let rows = mappings.transform_out_of_fold(train).await?.count().await?;
    /// assert_eq!(rows, 4);
    /// # Ok::<(), scorelake::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn transform_out_of_fold(&self, df: DataFrame) -> Result<DataFrame> {
        let folds = self.folds.as_ref().ok_or_else(|| {
            Error::InvalidInput(
                "out-of-fold encoding needs mappings fitted with `cross_fit` in the spec".into(),
            )
        })?;
        for c in &folds.by {
            find_type(&df, c, "cross_fit.by")?;
        }
        self.check_is_fitting_data(&df, folds).await?;
        self.encode_columns(df, Some(folds)).await
    }

    /// Out-of-fold values belong to the rows they were fitted on: `df` must
    /// have the fitting data's weight in every fold (one grouped pass).
    async fn check_is_fitting_data(&self, df: &DataFrame, folds: &Folds) -> Result<()> {
        let cf = CrossFit {
            folds: folds.folds,
            seed: folds.seed,
            by: folds.by.clone(),
        };
        let w = weight_or_one(self.spec.weight.as_deref());
        let batches = df
            .clone()
            .aggregate(
                vec![fold_expr(&cf, &folds.by).alias(FOLD)],
                vec![sum(w).alias("__w")],
            )?
            .collect()
            .await?;
        let mut got = vec![0.0; folds.folds as usize];
        for b in &batches {
            for r in 0..b.num_rows() {
                let (Some(f), Some(w)) = (number_at(b, FOLD, r), number_at(b, "__w", r)) else {
                    continue;
                };
                if let Some(slot) = got.get_mut(f as usize) {
                    *slot += w;
                }
            }
        }
        let same = got
            .iter()
            .zip(&folds.weight)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0));
        if !same {
            let total: f64 = got.iter().sum();
            return invalid_err!(
                "out-of-fold encoding is for the data the mappings were fitted on; this input's weight per fold differs from it (total {total} against {}): encode other data in-fold",
                self.total_weight
            );
        }
        Ok(())
    }

    async fn encode_columns(&self, df: DataFrame, folds: Option<&Folds>) -> Result<DataFrame> {
        if self.spec.unseen == Unseen::Error {
            self.refuse_unseen(&df).await?;
        }
        let columns: Vec<Expr> = df
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        let mut encoded = columns.clone();
        for e in &self.encoders {
            find_type(&df, &e.encoder.column, "encoded")?;
            if df.schema().has_column_with_unqualified_name(&e.output) {
                return invalid_err!("output `{}` is already a column of the input", e.output);
            }
            let by_fold = folds.filter(|_| e.categories.iter().any(|c| c.out_of_fold.is_some()));
            let expr = self.expression(e, by_fold)?;
            encoded.push(expr.alias(&e.output));
        }
        let df = match folds {
            None => df,
            Some(f) => {
                let cf = CrossFit {
                    folds: f.folds,
                    seed: f.seed,
                    by: f.by.clone(),
                };
                let mut with_fold = columns;
                with_fold.push(fold_expr(&cf, &f.by).alias(FOLD));
                df.select(with_fold)?
            }
        };
        Ok(df.select(encoded)?)
    }

    /// The encoder as one hash lookup of its categories per row; with
    /// `folds`, the values learned without the row's fold.
    fn expression(&self, e: &Encoded, folds: Option<&Folds>) -> Result<Expr> {
        let rare = matches!(e.encoder.method, EncodingMethod::Rare { .. });
        // The values of fold `held` (`None`: not cross-fitted), then the unseen one.
        let values = |held: Option<usize>| -> ArrayRef {
            if rare {
                let unseen = match &e.unseen {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    _ => None,
                };
                let groups = e.categories.iter().map(|c| c.group.clone());
                return Arc::new(StringArray::from_iter(groups.chain([unseen])));
            }
            let unseen = match (&e.unseen, held, folds) {
                (Some(_), Some(f), Some(folds)) if self.spec.unseen == Unseen::GlobalMean => {
                    Some(folds.global_mean[f])
                }
                (Some(v), _, _) => v.as_f64(),
                (None, _, _) => None,
            };
            let encoded = e.categories.iter().map(|c| match (held, &c.out_of_fold) {
                (Some(f), Some(oof)) => oof.get(f).copied(),
                _ => c.encoded,
            });
            Arc::new(Float64Array::from_iter(encoded.chain([unseen])))
        };
        let keys = category_keys(e);
        let (per_fold, fold): (Vec<ArrayRef>, _) = match folds {
            None => (vec![values(None)], None),
            Some(f) => (
                (0..f.folds as usize)
                    .map(|held| values(Some(held)))
                    .collect(),
                Some(column(FOLD)),
            ),
        };
        let mapping = Mapping::new(1, &keys, &per_fold)?;
        Ok(lookup(mapping, vec![key(&e.encoder.column)], fold))
    }

    async fn refuse_unseen(&self, df: &DataFrame) -> Result<()> {
        for e in &self.encoders {
            // One hash lookup per row: known categories (null included
            // when it was seen) give false, any other value true.
            let keys = category_keys(e);
            let unseen = BooleanArray::from_iter(
                std::iter::repeat_n(Some(false), keys.len()).chain([Some(true)]),
            );
            let k = key(&e.encoder.column);
            let mapping = Mapping::new(1, &keys, &[Arc::new(unseen) as ArrayRef])?;
            let unseen = lookup(mapping, vec![k.clone()], None);
            let found = df
                .clone()
                .filter(unseen)?
                .select(vec![k.alias("k")])?
                .distinct()?
                .limit(0, Some(5))?
                .collect()
                .await?;
            let values: Vec<String> = found
                .iter()
                .flat_map(|b| {
                    let a = b.column(0).as_string::<i32>().clone();
                    (0..b.num_rows()).map(move |r| {
                        if a.is_null(r) {
                            "null".to_string()
                        } else {
                            format!("`{}`", a.value(r))
                        }
                    })
                })
                .collect();
            ensure!(
                values.is_empty(),
                "column `{}` has categories not seen when fitting: {} (policy: error)",
                e.encoder.column,
                values.join(", ")
            );
        }
        Ok(())
    }

    /// Writes the mappings as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::docfile::save_artifact(path, self)
    }

    /// Reads mappings written by [`save`](Self::save) and checks them
    /// ([`validate`](Self::validate)); errors name the file.
    pub fn load(path: &Path) -> Result<Mappings> {
        crate::docfile::load_artifact(path, FORMAT, "an encoder mappings file", Self::validate)
    }

    /// Checks that the mappings are consistent (for files edited by hand):
    /// no output column written by two encoders, no category listed twice
    /// in an encoder. Errors name the column and the category.
    pub fn validate(&self) -> Result<()> {
        let mut outputs = std::collections::HashSet::new();
        for e in &self.encoders {
            let column = &e.encoder.column;
            ensure!(
                outputs.insert(e.output.as_str()),
                "output column `{}` is named by two encoders (of column `{column}`)",
                e.output
            );
            let mut seen = std::collections::HashSet::new();
            if let Some(c) = e.categories.iter().find(|c| !seen.insert(&c.value)) {
                return invalid_err!(
                    "the encoder of column `{column}` lists category {} twice",
                    c.value
                        .as_ref()
                        .map_or("null".to_string(), |v| format!("`{v}`"))
                );
            }
        }
        Ok(())
    }
}

/// The encoder's categories as lookup keys (one part each, null for the null category).
fn category_keys(e: &Encoded) -> Vec<Vec<Option<&str>>> {
    e.categories
        .iter()
        .map(|c| vec![c.value.as_deref()])
        .collect()
}
