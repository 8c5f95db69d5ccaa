//! Feature engine: the engine against the naive reference on random panels,
//! hand-computed cases through recipes, fit/transform, lineage, bad input.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use scorelake::config::ConfigBuilder;
use scorelake::datafusion::arrow::array::{
    Array, AsArray, Date32Array, Float64Array, Int64Array, RecordBatch,
};
use scorelake::datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, Float64Type, Int64Type, Schema,
};
use scorelake::datafusion::prelude::DataFrame;
use scorelake::features::{FeatureEngineer, FittedFeatures, RecipeFile};
use scorelake::session::Session;
use serde_json::json;

use crate::features_reference::{self as reference, Row, W};
use crate::support::{Edit, assert_edits_refused};

/// Small batches and three partitions: histories cross batch boundaries and
/// the engine must repartition and sort.
fn small_batch_session() -> Session {
    let config = ConfigBuilder::new()
        .set("engine.batch_size", "7", "test")
        .unwrap()
        .set("engine.target_partitions", "3", "test")
        .unwrap()
        .build()
        .unwrap();
    Session::new(config).unwrap()
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
}

fn days(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Rows in reverse order (the engine must sort them).
fn panel(session: &Session, rows: &[Row]) -> DataFrame {
    let rev: Vec<&Row> = rows.iter().rev().collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("day", DataType::Date32, false),
        Field::new("x", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(rev.iter().map(|r| r.id))),
            Arc::new(Date32Array::from_iter_values(
                rev.iter().map(|r| days(r.day)),
            )),
            Arc::new(Float64Array::from_iter(rev.iter().map(|r| r.x))),
        ],
    )
    .unwrap();
    session.ctx().read_batch(batch).unwrap()
}

fn recipes(entries: &[(String, &str, String, u32)], snapshot: Option<NaiveDate>) -> RecipeFile {
    let list: Vec<_> = entries
        .iter()
        .map(|(name, op, window, minp)| {
            let (op, params) = match *op {
                "volatility_cv" => ("volatility", json!({"kind": "cv", "min_periods": minp})),
                "delta" | "pct_change" => (*op, json!({})),
                other => (other, json!({"min_periods": minp})),
            };
            json!({"name": name, "operation": op, "source": "x", "window": window, "params": params, "output": name})
        })
        .collect();
    let mut file = json!({"entity": "id", "time": "day", "recipes": list});
    if let Some(s) = snapshot {
        file["snapshot"] = json!(s.to_string());
    }
    RecipeFile::parse(&file.to_string(), "json").unwrap()
}

fn window_text(w: W) -> String {
    match w {
        W::Rows(n) => n.to_string(),
        W::Months(m) => format!("{m}mo"),
        W::Days(d) => format!("{d}d"),
        W::All => "all_time".into(),
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// All rows of `df` in `id` order, as one batch.
async fn sorted_by_id(df: DataFrame) -> RecordBatch {
    let out = df
        .sort_by(vec![datafusion::prelude::col("id")])
        .unwrap()
        .collect()
        .await
        .unwrap();
    datafusion::arrow::compute::concat_batches(&out[0].schema(), &out).unwrap()
}

fn column_f64(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let a =
        datafusion::arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Float64)
            .unwrap();
    a.as_primitive::<Float64Type>().iter().collect()
}

const METHODS: &[&str] = &[
    "delta",
    "pct_change",
    "momentum",
    "volatility",
    "volatility_cv",
    "trend_slope",
    "rolling_rank",
    "minmax_range",
    "max",
    "min",
    "mean",
    "median",
    "std",
    "sum",
    "count",
    "first",
    "last",
    "range",
    "worst",
];

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(0.0)),
        2 => (-5i32..5).prop_map(|v| Some(f64::from(v))),
        5 => (-1000.0..1000.0f64).prop_map(Some),
    ]
}

/// Entities with late starts, gaps and (sometimes) days other than the 1st.
fn panel_rows() -> impl Strategy<Value = Vec<Row>> {
    let entity = (
        0u32..6,
        proptest::collection::vec((any::<bool>(), value()), 1..16),
        0u32..3,
    );
    proptest::collection::vec(entity, 1..7).prop_map(|entities| {
        let mut rows = Vec::new();
        for (id, (start, months, day_shift)) in entities.into_iter().enumerate() {
            let first = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
            for (k, (present, x)) in months.into_iter().enumerate() {
                if !present && k > 0 {
                    continue; // a gap
                }
                let month = first
                    .checked_add_months(chrono::Months::new(start + k as u32))
                    .unwrap();
                let day = month + Duration::days(i64::from(day_shift.min(1)) * (k as i64 % 3) * 9);
                rows.push(Row {
                    id: id as i64,
                    day,
                    x,
                });
            }
        }
        rows
    })
}

fn any_window(lag: bool) -> impl Strategy<Value = W> {
    let all = if lag { 0 } else { 1 };
    prop_oneof![
        3 => (1usize..7).prop_map(W::Rows),
        3 => (1u32..8).prop_map(W::Months),
        2 => (20i64..200).prop_map(W::Days),
        all => Just(W::All),
    ]
}

fn feature_specs() -> impl Strategy<Value = Vec<(W, u32)>> {
    let each: Vec<_> = METHODS
        .iter()
        .map(|m| {
            // min_periods above a rows window is refused.
            (any_window(matches!(*m, "delta" | "pct_change")), 1u32..4).prop_map(
                |(w, minp)| match w {
                    W::Rows(n) => (w, minp.min(n as u32)),
                    _ => (w, minp),
                },
            )
        })
        .collect();
    each
}

#[test]
fn trailing_features_match_the_naive_reference() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = small_batch_session();
    let mut runner = TestRunner::new(PropConfig {
        cases: 40,
        ..PropConfig::default()
    });
    runner
        .run(&(panel_rows(), feature_specs()), |(rows, specs)| {
            let entries: Vec<(String, &str, String, u32)> = METHODS
                .iter()
                .zip(&specs)
                .enumerate()
                .map(|(k, (m, (w, minp)))| (format!("f{k}"), *m, window_text(*w), *minp))
                .collect();
            let engineer = FeatureEngineer::new(recipes(&entries, None)).unwrap();
            let out = rt.block_on(engineer.transform(panel(&session, &rows)).unwrap().collect()).unwrap();
            let mut got: HashMap<(i64, i32), Vec<Option<f64>>> = HashMap::new();
            let mut n = 0;
            for b in &out {
                let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>().clone();
                let ds = b.column_by_name("day").unwrap().as_primitive::<Date32Type>().clone();
                let cols: Vec<_> = entries.iter().map(|e| column_f64(b, &e.0)).collect();
                for r in 0..b.num_rows() {
                    n += 1;
                    got.insert((ids.value(r), ds.value(r)), cols.iter().map(|c| c[r]).collect());
                }
            }
            prop_assert_eq!(n, rows.len(), "one output row per input row");
            let mut by_id: HashMap<i64, Vec<Row>> = HashMap::new();
            for r in &rows {
                by_id.entry(r.id).or_default().push(r.clone());
            }
            for hist in by_id.values() {
                for (i, row) in hist.iter().enumerate() {
                    let engine = &got[&(row.id, days(row.day))];
                    for (k, (m, (w, minp))) in METHODS.iter().zip(&specs).enumerate() {
                        let want = reference::feature(hist, i, m, *w, *minp as usize);
                        prop_assert!(
                            close(engine[k], want),
                            "{m} window {w:?} min_periods {minp} at id {} day {}: engine {:?}, reference {want:?}\nhistory {hist:?}",
                            row.id, row.day, engine[k]
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn snapshot_aggregations_match_the_naive_reference() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = small_batch_session();
    let aggs = [
        "max", "min", "mean", "median", "std", "sum", "count", "first", "last", "range", "worst",
    ];
    let windows = proptest::collection::vec(
        (
            prop_oneof![
                (1u32..10).prop_map(W::Months),
                (20i64..300).prop_map(W::Days),
                Just(W::All)
            ],
            1u32..3,
        ),
        aggs.len(),
    );
    let mut runner = TestRunner::new(PropConfig {
        cases: 30,
        ..PropConfig::default()
    });
    runner
        .run(&(panel_rows(), windows, 0i64..600), |(rows, specs, offset)| {
            let snapshot = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + Duration::days(offset);
            let entries: Vec<(String, &str, String, u32)> = aggs
                .iter()
                .zip(&specs)
                .enumerate()
                .map(|(k, (a, (w, minp)))| (format!("f{k}"), *a, window_text(*w), *minp))
                .collect();
            let engineer = FeatureEngineer::new(recipes(&entries, Some(snapshot))).unwrap();
            let out = rt.block_on(engineer.transform(panel(&session, &rows)).unwrap().collect()).unwrap();
            let mut got: HashMap<i64, Vec<Option<f64>>> = HashMap::new();
            for b in &out {
                let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>().clone();
                let cols: Vec<_> = entries.iter().map(|e| column_f64(b, &e.0)).collect();
                for r in 0..b.num_rows() {
                    prop_assert!(got.insert(ids.value(r), cols.iter().map(|c| c[r]).collect()).is_none());
                }
            }
            let mut by_id: HashMap<i64, Vec<Row>> = HashMap::new();
            for r in rows.iter().filter(|r| r.day <= snapshot) {
                by_id.entry(r.id).or_default().push(r.clone());
            }
            prop_assert_eq!(got.len(), by_id.len(), "one row per entity with history up to the snapshot");
            for (id, hist) in &by_id {
                // The reference's window at a virtual row dated the snapshot.
                let mut with_anchor = hist.clone();
                with_anchor.push(Row { id: *id, day: snapshot, x: None });
                let i = with_anchor.len() - 1;
                for (k, (a, (w, minp))) in aggs.iter().zip(&specs).enumerate() {
                    let want = reference::feature(&with_anchor, i, a, *w, *minp as usize);
                    prop_assert!(
                        close(got[id][k], want),
                        "{a} {w:?} as of {snapshot} for id {id}: engine {:?}, reference {want:?}\n{hist:?}",
                        got[id][k]
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

async fn table(session: &Session, sql: &str) -> DataFrame {
    session.ctx().sql(sql).await.unwrap()
}

fn yaml(text: &str) -> FeatureEngineer {
    FeatureEngineer::new(RecipeFile::parse(text, "yaml").unwrap()).unwrap()
}

fn err(text: &str, ext: &str) -> String {
    match RecipeFile::parse(text, ext).and_then(FeatureEngineer::new) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn hand_computed_recipes_with_gaps_nulls_and_transforms() {
    let session = small_batch_session();
    // id 1: Jan 10, Feb 20, (Mar missing), Apr null, May 0; id 2: one row.
    let df = table(
        &session,
        "SELECT id, CAST(m AS DATE) AS month, CAST(b AS DOUBLE) AS balance, CAST(l AS DOUBLE) AS lim, CAST(d AS INT) AS dpd, g FROM (VALUES \
         (1, '2024-01-01', 10, 100, 0, 'a'), (1, '2024-02-01', 20, 100, 30, 'a'), (1, '2024-04-01', NULL, 0, 60, 'a'), \
         (1, '2024-05-01', 0, 50, 0, 'a'), (2, '2024-05-01', 7, 70, 90, 'b')) AS t(id, m, b, l, d, g)",
    )
    .await;
    let engineer = yaml(
        "entity: id\ntime: month\nrecipes:\n\
         - {name: d, operation: delta, source: balance}\n\
         - {name: dm, operation: delta, source: balance, window: 1mo}\n\
         - {name: p, operation: pct_change, source: balance}\n\
         - {name: w, operation: worst, source: dpd, window: last_3_months}\n\
         - {name: c, operation: count, source: balance, window: all_time}\n\
         - {name: r, operation: ratio, sources: [balance, lim], params: {on_zero: -1}}\n\
         - {name: lg, operation: log, source: lim, params: {base: 10, on_nonpositive: zero}}\n\
         - {name: bn, operation: bin, source: balance, params: {edges: [0, 5, 15, 25]}}\n\
         - {name: cl, operation: clip, source: balance, params: {lower: 5, upper: 15}}\n\
         - {name: fl, operation: flag_missing, source: balance}\n\
         - {name: z, operation: impute, source: balance, params: {strategy: zero}}\n\
         - {name: zs, operation: trend_slope, source: balance_imputed, window: last_4_months}\n",
    );
    let out = engineer
        .transform(df)
        .unwrap()
        .sort_by(vec![
            datafusion::prelude::col("id"),
            datafusion::prelude::col("month"),
        ])
        .unwrap()
        .collect()
        .await
        .unwrap();
    let b = datafusion::arrow::compute::concat_batches(&out[0].schema(), &out).unwrap();
    let n = None;
    let col = |name: &str| column_f64(&b, name);
    assert_eq!(col("balance_delta"), [n, Some(10.0), n, n, n]);
    assert_eq!(
        col("balance_delta_1mo"),
        [n, Some(10.0), n, n, n],
        "April has no March"
    );
    assert_eq!(col("balance_pct_change"), [n, Some(1.0), n, n, n]);
    // (t − 3 months, t]: Jan [0], Feb [0,30], Apr [30,60], May [60,0]
    assert_eq!(
        col("dpd_worst_last_3_months"),
        [Some(0.0), Some(30.0), Some(60.0), Some(60.0), Some(90.0)]
    );
    assert_eq!(
        col("balance_count_all_time"),
        [Some(1.0), Some(2.0), Some(2.0), Some(3.0), Some(1.0)]
    );
    assert_eq!(
        col("balance_to_lim"),
        [Some(0.1), Some(0.2), n, Some(0.0), Some(0.1)],
        "0/50 = 0; null/0 stays null"
    );
    let logs = col("lim_log");
    let want = [2.0, 2.0, 0.0, 50f64.log10(), 70f64.log10()];
    assert!(
        logs.iter()
            .zip(want)
            .all(|(g, w)| (g.unwrap() - w).abs() < 1e-12),
        "{logs:?}"
    );
    assert_eq!(
        col("balance_bin"),
        [Some(2.0), Some(3.0), Some(0.0), Some(1.0), Some(2.0)]
    );
    assert_eq!(
        col("balance_clipped"),
        [Some(10.0), Some(15.0), n, Some(5.0), Some(7.0)]
    );
    assert_eq!(
        col("balance_missing"),
        [Some(0.0), Some(0.0), Some(1.0), Some(0.0), Some(0.0)]
    );
    assert_eq!(
        col("balance_imputed"),
        [Some(10.0), Some(20.0), Some(0.0), Some(0.0), Some(7.0)]
    );
    // (t − 4 months, t] in months since Jan: Apr sees Jan 10, Feb 20, Apr 0 at
    // 0, 1, 3 → slope −20/4.667 = −30/7; May sees Feb 20, Apr 0, May 0 at 1, 3, 4 → −50/7.
    let slope = col("balance_imputed_trend_slope_last_4_months");
    let want = [None, Some(10.0), Some(-30.0 / 7.0), Some(-50.0 / 7.0), None];
    assert!(
        slope.iter().zip(want).all(|(g, w)| close(*g, w)),
        "{slope:?}"
    );
    assert_eq!(
        b.schema()
            .field_with_name("balance_bin")
            .unwrap()
            .data_type(),
        &DataType::Int32
    );
    assert_eq!(
        b.schema()
            .field_with_name("balance_count_all_time")
            .unwrap()
            .data_type(),
        &DataType::Int64
    );
}

#[tokio::test]
async fn fit_learns_means_and_medians_per_group_and_applies_them_elsewhere() {
    let session = small_batch_session();
    let train = table(
        &session,
        "SELECT id, CAST(m AS DATE) AS month, CAST(x AS DOUBLE) AS x, g FROM (VALUES \
         (1, '2024-01-01', 1, 'a'), (2, '2024-01-01', 3, 'a'), (3, '2024-01-01', 8, 'a'), (4, '2024-01-01', NULL, 'a'), \
         (5, '2024-01-01', 10, 'b'), (6, '2024-01-01', NULL, NULL), (7, '2024-01-01', 20, NULL)) AS t(id, m, x, g)",
    )
    .await;
    let engineer = yaml(
        "entity: id\ntime: month\nrecipes:\n\
         - {name: mean_all, operation: impute, source: x, params: {strategy: mean}, output: x_mean}\n\
         - {name: med_g, operation: impute, source: x, params: {strategy: median, scope: g, indicator: true}}\n",
    );
    assert!(engineer.needs_fit());
    assert!(
        engineer
            .transform(train.clone())
            .unwrap_err()
            .to_string()
            .contains("fit")
    );
    let fitted = engineer.fit(&train).await.unwrap();
    assert_eq!(fitted.learned["x_mean"].global, 42.0 / 5.0);
    let med = &fitted.learned["x_imputed"];
    assert_eq!(med.global, 8.0);
    let group = |k: Option<&str>| {
        med.groups
            .iter()
            .find(|g| g.key == [k.map(String::from)])
            .unwrap()
            .value
    };
    assert_eq!(group(Some("a")), Some(3.0));
    assert_eq!(group(Some("b")), Some(10.0));
    assert_eq!(group(None), Some(20.0), "null is a group of its own");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fitted.json");
    fitted.save(&path).unwrap();
    let loaded = FittedFeatures::load(&path).unwrap();
    assert_eq!(loaded, fitted);
    let other = table(
        &session,
        "SELECT id, CAST(m AS DATE) AS month, CAST(x AS DOUBLE) AS x, g FROM (VALUES \
         (1, '2024-02-01', NULL, 'a'), (2, '2024-02-01', NULL, 'c'), (3, '2024-02-01', NULL, NULL), (4, '2024-02-01', 5, 'a')) AS t(id, m, x, g)",
    )
    .await;
    let b = sorted_by_id(loaded.transform(other).unwrap()).await;
    assert_eq!(
        column_f64(&b, "x_mean"),
        [Some(8.4), Some(8.4), Some(8.4), Some(5.0)]
    );
    assert_eq!(
        column_f64(&b, "x_imputed"),
        [Some(3.0), Some(8.0), Some(20.0), Some(5.0)],
        "unseen group c → global"
    );
    assert_eq!(
        column_f64(&b, "x_missing"),
        [Some(1.0), Some(1.0), Some(1.0), Some(0.0)]
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": \"other\"}").unwrap();
    assert!(
        FittedFeatures::load(&bad)
            .unwrap_err()
            .to_string()
            .contains("bad.json")
    );

    // Hand edits that do not match the recipes are refused, naming the output.
    let edits: [(Edit, &str); 5] = [
        (
            |v| v["learned"]["x_imputed"]["scope"] = serde_json::json!(["id"]),
            "`x_imputed`: the learned scope [id] differs from the recipe's [g]",
        ),
        (
            |v| v["learned"]["x_imputed"]["groups"][0]["key"] = serde_json::json!(["a", "b"]),
            "`x_imputed`: a learned group key has 2 values for 1 scope columns",
        ),
        (
            |v| {
                let groups = v["learned"]["x_imputed"]["groups"].as_array_mut().unwrap();
                groups.push(groups[0].clone());
            },
            "`x_imputed`: the learned group",
        ),
        (
            |v| {
                v["learned"].as_object_mut().unwrap().remove("x_mean");
            },
            "output `x_mean` has no learned values",
        ),
        (
            |v| v["learned"]["other"] = v["learned"]["x_mean"].clone(),
            "`other`, which no recipe learns",
        ),
    ];
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_edits_refused(&original, &edits, &bad, FittedFeatures::load);
}

#[test]
fn dependencies_are_ordered_and_exported_as_lineage() {
    let engineer = yaml(
        "entity: [id]\ntime: month\nrecipes:\n\
         - {name: trend_of_ratio, operation: trend_slope, source: x_to_y, window: 6, description: slope}\n\
         - {name: ratio, operation: ratio, sources: [x, y]}\n\
         - {name: after, operation: sqrt, source: z, depends_on: trend_of_ratio}\n",
    );
    assert_eq!(
        engineer.outputs(),
        ["x_to_y_trend_slope_6", "x_to_y", "z_sqrt"]
    );
    let lineage = serde_json::to_value(engineer.lineage()).unwrap();
    let f = &lineage["features"][0];
    assert_eq!(f["recipe"], "trend_of_ratio");
    assert_eq!(f["depends_on"], json!(["ratio"]));
    assert_eq!(f["input_columns"], json!(["x", "y"]));
    assert_eq!(f["window"], "6");
    assert_eq!(
        lineage["features"][2]["depends_on"],
        json!(["trend_of_ratio"])
    );
    assert_eq!(lineage["mode"], "trailing");
}

#[test]
fn bad_recipes_are_refused_naming_the_recipe() {
    let head = "entity: id\ntime: month\nrecipes:\n";
    let cases = [
        (
            "- {name: a, operation: slope, source: x, window: 6}\n",
            vec!["recipe `a`", "unknown operation `slope`"],
        ),
        (
            "- {name: a, operation: trend_slop, source: x, window: 6}\n",
            vec!["did you mean `trend_slope`"],
        ),
        (
            "- {name: a, operation: momentum, source: x, window: 0}\n",
            vec!["recipe `a`", "greater than 0"],
        ),
        (
            "- {name: a, operation: momentum, source: x, window: -3}\n",
            vec!["recipe `a`", "window `-3`"],
        ),
        (
            "- {name: a, operation: momentum, source: x}\n",
            vec!["recipe `a`", "needs a `window`"],
        ),
        (
            "- {name: a, operation: momentum, source: x, window: 3, params: {min_period: 2}}\n",
            vec!["unknown param `min_period`"],
        ),
        (
            "- {name: a, operation: delta, source: x}\n- {name: b, operation: delta, source: x}\n",
            vec!["output `x_delta`", "recipe `a`", "recipe `b`"],
        ),
        (
            "- {name: a, operation: sqrt, source: b_out}\n- {name: b, operation: sqrt, source: a_out, output: b_out}\n- {name: c, operation: sqrt, source: x, output: a_out}\n- {name: d, operation: sqrt, source: y, depends_on: a}\n",
            vec![],
        ),
        (
            "- {name: a, operation: sqrt, source: x_sqrt_sqrt, output: x_sqrt}\n- {name: b, operation: sqrt, source: x_sqrt, output: x_sqrt_sqrt}\n",
            vec!["cycle", "`a`", "`b`"],
        ),
        (
            "- {name: a, operation: ratio, source: x}\n",
            vec!["recipe `a`", "exactly two sources"],
        ),
        (
            "- {name: a, operation: sqrt, source: x, depends_on: nope}\n",
            vec!["depends_on `nope`"],
        ),
        (
            "- {name: a, operation: bin, source: x, params: {edges: [3, 1]}}\n",
            vec!["strictly increasing"],
        ),
        (
            "- {name: a, operation: sqrt, sources: [x, y], output: o}\n",
            vec!["makes 2"],
        ),
        (
            "- {name: a, operation: sqrt, source: x, colour: red}\n",
            vec!["recipe `a`", "colour"],
        ),
    ];
    for (recipes, wanted) in cases {
        let text = format!("{head}{recipes}");
        if wanted.is_empty() {
            FeatureEngineer::new(RecipeFile::parse(&text, "yaml").unwrap()).unwrap();
            continue;
        }
        let e = err(&text, "yaml");
        for w in wanted {
            assert!(e.contains(w), "{e} should mention {w}");
        }
    }
    let e = err(
        "entity: id\ntime: month\nsnapshot: 2024-13-01\nrecipes: []\n",
        "yaml",
    );
    assert!(e.contains("snapshot `2024-13-01`"), "{e}");
    let e = err(
        "entity: id\ntime: month\nsnapshot: 2024-06-01\nrecipes:\n- {name: a, operation: trend_slope, source: x, window: 6mo}\n",
        "yaml",
    );
    assert!(e.contains("recipe `a`") && e.contains("per-row"), "{e}");
    let e = err(
        "entity: id\ntime: month\nsnapshot: 2024-06-01\nrecipes:\n- {name: a, operation: max, source: x, window: 6}\n",
        "yaml",
    );
    assert!(e.contains("calendar"), "{e}");
}

#[test]
fn params_are_read_per_operation_naming_unknown_keys_and_wrong_types() {
    let head = "entity: id\ntime: month\nrecipes:\n";
    let cases: [(&str, &[&str]); 9] = [
        (
            "- {name: a, operation: delta, source: x, params: {windw: 2}}\n",
            &[
                "recipe `a`",
                "unknown param `windw` for `delta`",
                "expected one of: periods",
            ],
        ),
        (
            "- {name: a, operation: max, source: x, window: 3, params: {min_period: 2}}\n",
            &["unknown param `min_period`", "did you mean `min_periods`"],
        ),
        (
            "- {name: a, operation: sqrt, source: x, params: {base: 2}}\n",
            &[
                "recipe `a`",
                "unknown param `base`",
                "`sqrt` takes no params",
            ],
        ),
        (
            "- {name: a, operation: delta, source: x, params: {periods: two}}\n",
            &[
                "recipe `a`",
                "param periods: expected a whole number greater than 0, got \"two\"",
            ],
        ),
        (
            "- {name: a, operation: clip, source: x, params: {lower: low}}\n",
            &["recipe `a`", "param lower: expected a number"],
        ),
        (
            "- {name: a, operation: impute, source: x, params: {indicator: 1}}\n",
            &["param indicator: expected true or false, got 1"],
        ),
        (
            "- {name: a, operation: impute, source: x, params: {strategy: mean, value: 3}}\n",
            &["recipe `a`", "only strategy constant takes a `value`"],
        ),
        (
            "- {name: a, operation: bin, source: x, params: {edges: 3}}\n",
            &["param edges: expected a list of numbers"],
        ),
        (
            "- {name: a, operation: pct_chang, source: x}\n",
            &[
                "recipe `a`",
                "unknown operation `pct_chang`",
                "did you mean `pct_change`",
                "fill_missing",
            ],
        ),
    ];
    for (recipes, wanted) in cases {
        let e = err(&format!("{head}{recipes}"), "yaml");
        for w in wanted {
            assert!(e.contains(w), "{e} should mention {w}");
        }
    }
    // TOML: the same messages.
    let e = err(
        "entity = \"id\"\ntime = \"month\"\n[[recipes]]\nname = \"a\"\noperation = \"volatility\"\nsource = \"x\"\nwindow = 3\nparams = { kind = 2 }\n",
        "toml",
    );
    assert!(
        e.contains("recipe `a`") && e.contains("param kind: expected text, got 2"),
        "{e}"
    );
}

#[test]
fn an_empty_entity_list_is_refused() {
    for text in [
        "entity: []\ntime: month\nrecipes:\n- {name: a, operation: max, source: x, window: 3}\n",
        "time: month\nrecipes:\n- {name: a, operation: max, source: x, window: 3}\n",
    ] {
        let e = err(text, "yaml");
        assert!(e.contains("`entity` names no column"), "{e}");
    }
}

#[test]
fn log_bases_of_one_or_below_zero_are_refused() {
    for base in ["1", "0", "-2"] {
        let e = err(
            &format!(
                "entity: id\ntime: month\nrecipes:\n- {{name: a, operation: log, source: x, params: {{base: {base}}}}}\n"
            ),
            "yaml",
        );
        assert!(
            e.contains("recipe `a`")
                && e.contains("param base: expected a number above 0 other than 1"),
            "{e}"
        );
    }
}

#[test]
fn min_periods_above_a_rows_window_is_refused() {
    let e = err(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: mean, source: x, window: 3, params: {min_periods: 4}}\n",
        "yaml",
    );
    assert!(
        e.contains("recipe `a`") && e.contains("min_periods 4 is larger than the window of 3 rows"),
        "{e}"
    );
    yaml(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: mean, source: x, window: 3mo, params: {min_periods: 4}}\n",
    );
}

#[test]
fn numbers_out_of_range_are_refused_not_read_as_missing() {
    let e = err(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: clip, source: x, params: {lower: 0, upper: 1e400}}\n",
        "yaml",
    );
    assert!(e.contains("upper") && e.contains("1e400"), "{e}");
}

/// (id, feature) of every output row, sorted.
async fn by_id(out: DataFrame, feature: &str) -> Vec<(Option<i64>, f64)> {
    let mut rows = Vec::new();
    for b in out.collect().await.unwrap() {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let values = b
            .column_by_name(feature)
            .unwrap()
            .as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            rows.push((ids.is_valid(i).then(|| ids.value(i)), values.value(i)));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    rows
}

#[tokio::test]
async fn null_entity_keys_are_refused_by_name() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT CAST(id AS BIGINT) AS id, CAST(m AS DATE) AS month, CAST(v AS DOUBLE) AS v FROM (VALUES \
         (1, '2024-01-01', 10), (1, '2024-02-01', 20), (NULL, '2024-01-01', 1), (NULL, '2024-02-01', 2)) AS t(id, m, v)",
    )
    .await;
    let out = yaml(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: sum, source: v, window: 6}\n",
    )
    .transform(df)
    .unwrap();
    let e = out.collect().await.unwrap_err().to_string();
    assert!(e.contains("entity column `id` has null values"), "{e}");
}

#[tokio::test]
async fn rows_of_one_entity_at_one_time_share_their_calendar_window() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT CAST(id AS BIGINT) AS id, CAST(m AS DATE) AS month, CAST(v AS DOUBLE) AS v FROM (VALUES \
         (1, '2024-01-01', 1), (1, '2024-01-01', 2), (1, '2024-02-01', 4)) AS t(id, m, v)",
    )
    .await;
    let out = yaml(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: sum, source: v, window: 1mo}\n",
    )
    .transform(df)
    .unwrap();
    assert_eq!(
        by_id(out, "v_sum_1mo").await,
        [(Some(1), 3.0), (Some(1), 3.0), (Some(1), 4.0)]
    );
}

#[test]
fn every_listed_operation_is_accepted_and_listed_once() {
    let names = scorelake::features::operations();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for expected in [
        "delta",
        "worst",
        "max",
        "impute",
        "fill_missing",
        "flag_missing",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for name in names {
        let text = format!(
            "entity: id\ntime: month\nrecipes:\n- {{name: a, operation: {name}, sources: [x]}}\n"
        );
        if let Err(e) = RecipeFile::parse(&text, "yaml").and_then(FeatureEngineer::new) {
            assert!(!e.to_string().contains("unknown operation"), "{name}: {e}");
        }
    }
}

#[tokio::test]
async fn bad_input_data_is_refused_before_any_work() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT 1 AS id, 1 AS period, CAST('2024-01-01' AS DATE) AS month, 'x' AS name, 2.0 AS v",
    )
    .await;
    let check = |recipes: &str, wanted: &[&str]| {
        let e = yaml(recipes)
            .transform(df.clone())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        for w in wanted {
            assert!(e.contains(w), "{e} should mention {w}");
        }
    };
    check(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: momentum, source: vv, window: 3}\n",
        &["recipe `a`", "column `vv`", "did you mean `v`"],
    );
    check(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: momentum, source: name, window: 3}\n",
        &["recipe `a`", "`name` is Utf8", "number"],
    );
    check(
        "entity: id\ntime: period\nrecipes:\n- {name: a, operation: max, source: v, window: last_3_months}\n",
        &["time column `period`", "date or timestamp"],
    );
    check(
        "entity: id\ntime: name\nrecipes:\n- {name: a, operation: max, source: v, window: 3}\n",
        &["time column `name`"],
    );
    check(
        "entity: customer\ntime: month\nrecipes:\n- {name: a, operation: max, source: v, window: 3}\n",
        &["entity column `customer`"],
    );
    check(
        "entity: id\ntime: month\nrecipes:\n- {name: a, operation: sqrt, source: v, output: name}\n",
        &["recipe `a`", "output `name` is already a column"],
    );
    // Rows windows work with an integer period.
    let ok = yaml(
        "entity: id\ntime: period\nrecipes:\n- {name: a, operation: max, source: v, window: 3}\n",
    );
    assert_eq!(ok.transform(df.clone()).unwrap().count().await.unwrap(), 1);
}

#[tokio::test]
async fn recipes_read_from_yaml_and_toml_agree_and_the_example_runs_on_the_panel() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let engineer = FeatureEngineer::from_path(&root).unwrap();
    let session = small_batch_session();
    let spec = scorelake::sample::SampleSpec {
        customers: 300,
        ..Default::default()
    };
    let panel = scorelake::sample::dataframe(&session, &spec, None).unwrap();
    let rows = panel.clone().count().await.unwrap();
    let fitted = engineer.fit(&panel).await.unwrap();
    let out = fitted.transform(panel).unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for f in engineer.outputs() {
        assert!(names.contains(&f.to_string()), "{f}");
    }
    assert_eq!(out.count().await.unwrap(), rows);

    let toml = "entity = [\"id\"]\ntime = \"month\"\n[[recipes]]\nname = \"a\"\noperation = \"max\"\nsource = \"x\"\nwindow = 6\nparams = { min_periods = 2 }\n";
    let yaml_text = "entity: [id]\ntime: month\nrecipes:\n- name: a\n  operation: max\n  source: x\n  window: 6\n  params: {min_periods: 2}\n";
    assert_eq!(
        RecipeFile::parse(toml, "toml").unwrap(),
        RecipeFile::parse(yaml_text, "yaml").unwrap()
    );
}

#[tokio::test]
async fn one_plan_partitioned_by_entity_with_a_spilling_sort() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT id, CAST(m AS DATE) AS month, v FROM (VALUES (2, '2024-01-01', 1.0), (1, '2024-02-01', 2.0), (1, '2024-01-01', 3.0)) AS t(id, m, v)",
    )
    .await;
    let plan = yaml("entity: id\ntime: month\nrecipes:\n- {name: a, operation: max, source: v, window: 3}\n- {name: b, operation: sqrt, source: v_max_3}\n")
        .transform(df)
        .unwrap()
        .explain(false, false)
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string();
    assert!(
        text.contains("TemporalExec: entity=[id], time=month, features=[v_max_3]"),
        "{text}"
    );
    assert!(text.contains("SortExec"), "{text}");

    // Under a small memory limit the sort spills and the result is the same.
    let limited = Session::new(
        ConfigBuilder::new()
            .set("engine.memory_limit", "40m", "test")
            .unwrap()
            .set("engine.sort_spill_reservation", "2m", "test")
            .unwrap()
            .set("engine.target_partitions", "2", "test")
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap();
    let spec = scorelake::sample::SampleSpec {
        customers: 20_000,
        ..Default::default()
    };
    let recipes = "entity: customer_id\ntime: month\nrecipes:\n- {name: a, operation: trend_slope, source: balance, window: 6}\n- {name: b, operation: worst, source: days_past_due, window: last_12_months}\n";
    let unlimited = feature_sums(small_batch_session(), &spec, recipes).await;
    let spilled = feature_sums(limited, &spec, recipes).await;
    assert_eq!(unlimited.lines().count(), spilled.lines().count());
    let nums = |t: &str| -> Vec<f64> {
        t.lines()
            .nth(3)
            .unwrap()
            .split('|')
            .filter_map(|c| c.trim().parse().ok())
            .collect()
    };
    let (a, b) = (nums(&unlimited), nums(&spilled));
    assert_eq!(a[0], b[0]);
    assert!(
        (a[1] - b[1]).abs() <= 1e-6 * a[1].abs(),
        "{unlimited}\n{spilled}"
    );
    assert_eq!(a[2], b[2]);
}

async fn feature_sums(s: Session, spec: &scorelake::sample::SampleSpec, recipes: &str) -> String {
    let panel = scorelake::sample::dataframe(&s, spec, None).unwrap();
    let out = yaml(recipes).transform(panel).unwrap();
    s.ctx().register_table("f", out.into_view()).unwrap();
    let b = s
        .ctx()
        .sql("SELECT count(*) AS n, sum(balance_trend_slope_6) AS a, sum(days_past_due_worst_last_12_months) AS b FROM f")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&b)
        .unwrap()
        .to_string()
}

/// Fills learned for 1,500 groups and a bin with 300 edges cost one lookup
/// per row: every row equals the naive reference (its group's mean, the
/// global one for a group without values; the first edge at or above it).
#[tokio::test]
async fn many_groups_and_edges_match_the_naive_reference() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT id, DATE '2024-01-01' AS month, \
         CASE WHEN id % 3 = 0 THEN NULL ELSE CAST((id * 37) % 1000 AS DOUBLE) END AS x, \
         CASE WHEN id % 701 = 0 THEN NULL ELSE CAST(id % 1500 AS VARCHAR) END AS g \
         FROM generate_series(1, 3000) AS t(id)",
    )
    .await;
    let edges: Vec<f64> = (0..302).map(|j| f64::from(j) * 3.3 - 0.5).collect();
    let text: Vec<String> = edges.iter().map(f64::to_string).collect();
    let engineer = yaml(&format!(
        "entity: id\ntime: month\nrecipes:\n\
         - {{name: m, operation: impute, source: x, params: {{strategy: mean, scope: g}}}}\n\
         - {{name: b, operation: bin, source: x, params: {{edges: [{}]}}}}\n",
        text.join(", ")
    ));
    let fitted = engineer.fit(&df).await.unwrap();
    let b = sorted_by_id(fitted.transform(df).unwrap()).await;
    let x = |id: i64| (id % 3 != 0).then(|| ((id * 37) % 1000) as f64);
    let g = |id: i64| (id % 701 != 0).then_some(id % 1500);
    let ids = 1..=3000i64;
    let mut sums: HashMap<Option<i64>, (f64, f64)> = HashMap::new();
    for id in ids.clone() {
        if let Some(v) = x(id) {
            let s = sums.entry(g(id)).or_default();
            s.0 += v;
            s.1 += 1.0;
        }
    }
    let (all, n) = sums
        .values()
        .fold((0.0, 0.0), |a, s| (a.0 + s.0, a.1 + s.1));
    let inner = &edges[1..edges.len() - 1];
    let imputed = column_f64(&b, "x_imputed");
    let bins = b
        .column_by_name("x_bin")
        .unwrap()
        .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
        .clone();
    for (i, id) in ids.enumerate() {
        let want = x(id).unwrap_or_else(|| sums.get(&g(id)).map_or(all / n, |s| s.0 / s.1));
        let got = imputed[i].unwrap();
        assert!((got - want).abs() < 1e-9, "id {id}: {got} vs {want}");
        let bin = match x(id) {
            None => 0,
            Some(v) => 1 + inner.iter().take_while(|e| **e < v).count() as i32,
        };
        assert_eq!(bins.value(i), bin, "id {id}");
    }
}

/// A chain of 100 clips (each clipping the one before) plans and runs, each
/// link equal to the naive reference; a chain deeper than the cap is refused,
/// naming the recipe.
#[tokio::test]
async fn chained_transforms_plan_up_to_the_cap() {
    let session = small_batch_session();
    let df = table(
        &session,
        "SELECT id, DATE '2024-01-01' AS month, CAST(id AS DOUBLE) * 10 - 500 AS x \
         FROM generate_series(1, 100) AS t(id)",
    )
    .await;
    let chain = |n: usize| {
        let mut text = String::from("entity: id\ntime: month\nrecipes:\n");
        let mut source = "x".to_string();
        for i in 0..n {
            let (lower, upper) = (-400.0 + i as f64, 400.0 - i as f64);
            text.push_str(&format!(
                "- {{name: c{i}, operation: clip, source: {source}, params: {{lower: {lower}, upper: {upper}}}, output: x{i}}}\n"
            ));
            source = format!("x{i}");
        }
        text
    };
    let n = scorelake::features::MAX_RECIPE_DEPTH;
    let b = sorted_by_id(yaml(&chain(n)).transform(df).unwrap()).await;
    for i in [0, n / 2, n - 1] {
        let got = column_f64(&b, &format!("x{i}"));
        for (r, v) in got.iter().enumerate() {
            let mut want = (r as f64 + 1.0) * 10.0 - 500.0;
            for j in 0..=i {
                want = want.clamp(-400.0 + j as f64, 400.0 - j as f64);
            }
            assert_eq!(*v, Some(want), "x{i}, row {r}");
        }
    }
    let e = err(&chain(n + 1), "yaml");
    assert!(
        e.contains(&format!("`c{n}`")) && e.contains("at most 100"),
        "{e}"
    );
}
