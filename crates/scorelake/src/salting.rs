//! Joins on a hot key, salted: the rows of the few key values that hold
//! most of the large side are spread over `salts` partitions instead of one.
//! Each such row of the large (left) side gets a random salt in `0..salts`,
//! each matching row of the small (right) side is repeated once per salt,
//! and the join runs on the key and the salt; other rows get salt 0. Every
//! left row meets every matching right row exactly once, so the result is
//! the plain join's, row for row.
//!
//! It pays on a cluster, where one hot key otherwise sends most rows to one
//! task. Embedded, the hash join's build side is one table for all
//! partitions and the probe side is split evenly whatever the keys, so
//! salting only adds work there; and grouping is two-phase on both engines
//! (partial aggregates before the shuffle), so it needs no salting at all.
//!
//! ```
//! use datafusion::logical_expr::JoinType;
//! use scorelake::{config::Config, salting::{self, SaltOptions}, session::Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let session = Session::new(Config::default())?;
//! let big = session.ctx().sql("SELECT CASE WHEN value % 10 < 8 THEN 1 ELSE value END AS k, value AS v FROM generate_series(1, 1000)").await?;
//! let small = session.ctx().sql("SELECT value AS k, value * 2 AS w FROM generate_series(1, 1000)").await?;
//! let options = SaltOptions { salts: 8, ..SaltOptions::default() };
//! let (joined, salting) = salting::salted_join(big, small, &["k"], JoinType::Inner, &options).await?;
//! assert_eq!(salting.hot_keys, 1);           // k = 1 holds 80% of the rows
//! assert_eq!(joined.count().await?, 1000);   // as the plain join
//! # Ok::<(), scorelake::Error>(())
//! # }).unwrap();
//! ```

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::math::expr_fn::{floor, random};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, JoinType, cast, lit, when};
use datafusion::prelude::DataFrame;

use crate::error::{Result, invalid_err};
use crate::expr::{column, find};
use crate::results::number_at;

/// The salt column added to both sides while they are joined.
const SALT: &str = "__scorelake_salt";
const RIGHT_SALT: &str = "__scorelake_salt_right";

/// How a join is salted.
#[derive(Clone, Debug)]
pub struct SaltOptions {
    /// Partitions each hot key's rows are spread over.
    pub salts: usize,
    /// A key value holding at least this share of the left side's rows is hot.
    pub hot_share: f64,
    /// Most hot key values salted (the most frequent first).
    pub max_hot_keys: usize,
}

impl Default for SaltOptions {
    fn default() -> Self {
        SaltOptions {
            salts: 16,
            hot_share: 0.05,
            max_hot_keys: 100,
        }
    }
}

/// What [`salted_join`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Salting {
    /// Key values found hot and salted (0: a plain join was made).
    pub hot_keys: usize,
    /// Share of the left side's rows they hold.
    pub hot_rows_share: f64,
}

/// `left` joined to `right` on the columns `on` (named alike on both sides;
/// the result keeps the left's), with the key values holding at least
/// `options.hot_share` of `left`'s rows salted over `options.salts`
/// partitions. Inner and left joins only: a right or full join would repeat
/// the right side's unmatched hot rows once per salt, and is refused.
pub async fn salted_join(
    left: DataFrame,
    right: DataFrame,
    on: &[&str],
    join_type: JoinType,
    options: &SaltOptions,
) -> Result<(DataFrame, Salting)> {
    if !matches!(join_type, JoinType::Inner | JoinType::Left) {
        return invalid_err!(
            "a salted join is inner or left; a {join_type} join would repeat the right side's unmatched rows once per salt"
        );
    }
    if on.is_empty() {
        return invalid_err!("a salted join needs at least one key column");
    }
    for key in on {
        find(left.schema(), key, "left join key")?;
        find(right.schema(), key, "right join key")?;
    }
    let hot = if options.salts > 1 {
        hot_keys(&left, on, options).await?
    } else {
        Hot {
            values: Vec::new(),
            share: 0.0,
        }
    };
    let right_keys: Vec<String> = on
        .iter()
        .map(|k| format!("__scorelake_right_{k}"))
        .collect();
    let renamed = right.clone().select(
        right
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let name = f.name();
                match on.iter().position(|k| k == name) {
                    Some(i) => column(name).alias(&right_keys[i]),
                    None => column(name),
                }
            })
            .collect::<Vec<_>>(),
    )?;
    let right_names: Vec<&str> = right_keys.iter().map(String::as_str).collect();
    if hot.values.is_empty() {
        let joined = left.join(renamed, join_type, on, &right_names, None)?;
        let keep: Vec<Expr> = joined
            .schema()
            .fields()
            .iter()
            .filter(|f| !right_keys.contains(f.name()))
            .map(|f| column(f.name()))
            .collect();
        return Ok((
            joined.select(keep)?,
            Salting {
                hot_keys: 0,
                hot_rows_share: 0.0,
            },
        ));
    }
    let is_hot = |names: &[&str]| -> Expr {
        hot.values
            .iter()
            .map(|row| {
                names
                    .iter()
                    .zip(row)
                    .map(|(n, v)| column(n).eq(v.clone()))
                    .reduce(Expr::and)
                    .unwrap_or(lit(false))
            })
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    };
    let salts = options.salts as i64;
    let left_salt = when(
        is_hot(on),
        cast(floor(random() * lit(salts as f64)), DataType::Int64),
    )
    .otherwise(lit(0i64))?;
    let left = left.with_column(SALT, left_salt)?;
    // The right side's hot rows once per salt, the others once with salt 0.
    let series = renamed.clone().filter(is_hot(&right_names))?.join_on(
        right_salts(&renamed, salts)?,
        JoinType::Inner,
        vec![lit(true)],
    )?;
    let cold = renamed
        .filter(is_hot(&right_names).is_not_true())?
        .with_column(RIGHT_SALT, lit(0i64))?;
    let right = series.union(cold)?;
    let mut left_on: Vec<&str> = on.to_vec();
    left_on.push(SALT);
    let mut right_on: Vec<&str> = right_names.clone();
    right_on.push(RIGHT_SALT);
    let joined = left.join(right, join_type, &left_on, &right_on, None)?;
    let keep: Vec<Expr> = joined
        .schema()
        .fields()
        .iter()
        .filter(|f| f.name() != SALT && f.name() != RIGHT_SALT && !right_keys.contains(f.name()))
        .map(|f| column(f.name()))
        .collect();
    Ok((
        joined.select(keep)?,
        Salting {
            hot_keys: hot.values.len(),
            hot_rows_share: hot.share,
        },
    ))
}

/// The salts `0..salts` as a one-column table (named [`RIGHT_SALT`]) on
/// `like`'s session.
fn right_salts(like: &DataFrame, salts: i64) -> Result<DataFrame> {
    let values: Vec<Vec<Expr>> = (0..salts).map(|s| vec![lit(s)]).collect();
    let plan = datafusion::logical_expr::LogicalPlanBuilder::values(values)?
        .project(vec![column("column1").alias(RIGHT_SALT)])?
        .build()?;
    Ok(DataFrame::new(like.clone().into_parts().0, plan))
}

/// The hot key values of `left` and the share of its rows they hold.
struct Hot {
    values: Vec<Vec<Expr>>,
    share: f64,
}

/// The key values of `df` holding at least `options.hot_share` of its rows,
/// most frequent first (at most `options.max_hot_keys`): one small grouped
/// query, whose few rows are read here.
async fn hot_keys(df: &DataFrame, on: &[&str], options: &SaltOptions) -> Result<Hot> {
    let total = df.clone().count().await? as f64;
    if total == 0.0 {
        return Ok(Hot {
            values: Vec::new(),
            share: 0.0,
        });
    }
    let threshold = (options.hot_share * total).ceil().max(1.0) as i64;
    let keys: Vec<Expr> = on.iter().map(|k| column(k)).collect();
    let top = df
        .clone()
        .aggregate(keys, vec![count(lit(1)).alias("__n")])?
        .filter(column("__n").gt_eq(lit(threshold)))?
        .sort(vec![column("__n").sort(false, false)])?
        .limit(0, Some(options.max_hot_keys))?
        .collect()
        .await?;
    let mut values = Vec::new();
    let mut rows = 0.0;
    for batch in &top {
        for i in 0..batch.num_rows() {
            let mut row = Vec::new();
            for c in 0..on.len() {
                let v = datafusion::common::ScalarValue::try_from_array(batch.column(c), i)?;
                if v.is_null() {
                    // NULL keys never match: nothing to salt.
                    row.clear();
                    break;
                }
                row.push(lit(v));
            }
            if !row.is_empty() {
                values.push(row);
                rows += number_at(batch, "__n", i).unwrap_or(0.0);
            }
        }
    }
    Ok(Hot {
        values,
        share: rows / total,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;

    use super::*;
    use crate::config::Config;
    use crate::session::Session;

    /// 20,000 left rows, 60% with k = 1, 20% with k = 2, NULL keys; right
    /// rows for keys 1 to 3,000 with k = 1 twice, and a NULL key.
    async fn sides(s: &Session) -> Result<(DataFrame, DataFrame)> {
        let left = s
            .ctx()
            .sql(
                "SELECT CASE WHEN value % 10 < 6 THEN 1 WHEN value % 10 < 8 THEN 2 \
                 WHEN value % 97 = 0 THEN NULL ELSE value % 5000 END AS k, value AS v \
                 FROM generate_series(1, 20000)",
            )
            .await?;
        let right = s
            .ctx()
            .sql(
                "SELECT value AS k, value * 10 AS w FROM generate_series(1, 3000) \
                 UNION ALL SELECT 1, -1 UNION ALL SELECT NULL, -2",
            )
            .await?;
        Ok((left, right))
    }

    async fn sorted(df: DataFrame) -> Result<String> {
        let cols: Vec<_> = df
            .schema()
            .fields()
            .iter()
            .map(|f| column(f.name()).sort(true, true))
            .collect();
        Ok(pretty_format_batches(&df.sort(cols)?.collect().await?)?.to_string())
    }

    #[tokio::test]
    async fn a_salted_join_gives_the_plain_joins_rows() -> Result<()> {
        let s = Session::new(Config::default())?;
        for join_type in [JoinType::Inner, JoinType::Left] {
            let (left, right) = sides(&s).await?;
            let plain = left
                .clone()
                .join(
                    right.clone().with_column_renamed("k", "rk")?,
                    join_type,
                    &["k"],
                    &["rk"],
                    None,
                )?
                .select_columns(&["k", "v", "w"])?;
            let expected = sorted(plain).await?;
            let options = SaltOptions {
                salts: 7,
                hot_share: 0.1,
                ..SaltOptions::default()
            };
            let (salted, salting) = salted_join(left, right, &["k"], join_type, &options).await?;
            let plan = format!("{}", salted.logical_plan().display_indent());
            assert!(plan.contains(SALT) && plan.contains("random()"), "{plan}");
            assert_eq!(salting.hot_keys, 2, "{join_type}");
            assert!((salting.hot_rows_share - 0.8).abs() < 1e-9, "{salting:?}");
            let columns: Vec<String> = salted
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(columns, ["k", "v", "w"]);
            let got = sorted(salted).await?;
            assert!(
                got == expected,
                "{join_type}: the salted join's rows differ"
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn without_hot_keys_the_join_is_plain_and_outer_joins_are_refused() -> Result<()> {
        let s = Session::new(Config::default())?;
        let (left, right) = sides(&s).await?;
        let options = SaltOptions {
            hot_share: 0.9,
            ..SaltOptions::default()
        };
        let (joined, salting) = salted_join(
            left.clone(),
            right.clone(),
            &["k"],
            JoinType::Inner,
            &options,
        )
        .await?;
        assert_eq!(salting.hot_keys, 0);
        assert!(!format!("{}", joined.logical_plan().display_indent()).contains(SALT));
        for refused in [JoinType::Right, JoinType::Full] {
            let e = salted_join(left.clone(), right.clone(), &["k"], refused, &options)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("inner or left"), "{e}");
        }
        let e = salted_join(left, right, &["key"], JoinType::Inner, &options)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("`key`"), "{e}");
        Ok(())
    }
}
