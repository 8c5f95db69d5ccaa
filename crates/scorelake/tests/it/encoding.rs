//! Categorical encoders: hand-computed cases, a naive reference on random
//! data, weights equal expanded rows, unseen policies, bad input.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use scorelake::datafusion::arrow::array::{
    AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use scorelake::datafusion::prelude::{DataFrame, col};
use scorelake::encoding::{EncoderSpec, Mappings, fit};
use scorelake::functions::fold::fold_of;
use scorelake::session::Session;

use crate::support::{Edit, assert_edits_refused, session};

fn frame(session: &Session, g: &[Option<&str>], y: &[i64], w: &[f64]) -> DataFrame {
    let ids: Vec<i64> = (0..g.len() as i64).collect();
    frame_with_ids(session, &ids, g, y, w)
}

fn frame_with_ids(
    session: &Session,
    ids: &[i64],
    g: &[Option<&str>],
    y: &[i64],
    w: &[f64],
) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("g", DataType::Utf8, true),
        Field::new("y", DataType::Int64, false),
        Field::new("w", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(g.to_vec())),
            Arc::new(Int64Array::from(y.to_vec())),
            Arc::new(Float64Array::from(w.to_vec())),
        ],
    )
    .unwrap();
    session.ctx().read_batch(batch).unwrap()
}

fn spec(text: &str) -> EncoderSpec {
    EncoderSpec::parse(text, "yaml").unwrap()
}

/// `df` encoded by `m`, in `id` order.
async fn encode_sorted(m: &Mappings, df: DataFrame) -> Vec<RecordBatch> {
    by_id(m.transform(df).await.unwrap()).await
}

async fn by_id(df: DataFrame) -> Vec<RecordBatch> {
    let sorted = df.sort(vec![col("id").sort(true, false)]).unwrap();
    sorted.collect().await.unwrap()
}

async fn encoded(m: &Mappings, df: DataFrame, column: &str) -> Vec<Option<f64>> {
    let out = encode_sorted(m, df).await;
    out.iter()
        .flat_map(|b| {
            b.column_by_name(column)
                .unwrap()
                .as_primitive::<Float64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn labels(m: &Mappings, df: DataFrame, column: &str) -> Vec<Option<String>> {
    let out = encode_sorted(m, df).await;
    out.iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).unwrap().as_string::<i32>().clone();
            a.iter().map(|v| v.map(String::from)).collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn hand_computed_encodings_with_null_and_unseen_categories() {
    let session = session();
    // a: 3 rows (2 events), b: 1 row (0), null: 2 rows (1); global mean 3/6 = 0.5
    let train = frame(
        &session,
        &[Some("a"), Some("a"), Some("a"), Some("b"), None, None],
        &[1, 1, 0, 0, 1, 0],
        &[1.0; 6],
    );
    let s = spec(
        "target: y\nencoders:\n\
         - {column: g, method: frequency}\n\
         - {column: g, method: frequency, share: false, output: g_count}\n\
         - {column: g, method: target_mean, smoothing: 2, min_samples_leaf: 2}\n\
         - {column: g, method: rare, threshold: 0.2}\n",
    );
    let m = fit(&train, &s).await.unwrap();
    assert_eq!(m.global_mean, Some(0.5));
    let new = frame(
        &session,
        &[Some("a"), Some("b"), None, Some("zz")],
        &[0, 0, 0, 0],
        &[1.0; 4],
    );
    assert_eq!(
        encoded(&m, new.clone(), "g_freq").await,
        [Some(0.5), Some(1.0 / 6.0), Some(2.0 / 6.0), Some(0.0)]
    );
    assert_eq!(
        encoded(&m, new.clone(), "g_count").await,
        [Some(3.0), Some(1.0), Some(2.0), Some(0.0)]
    );
    // a: (3·2/3 + 2·0.5)/(3 + 2) = 0.6; b: 1 row < min_samples_leaf 2 → global; null: (2·0.5 + 1)/4 = 0.5; unseen → global
    assert_eq!(
        encoded(&m, new.clone(), "g_te").await,
        [Some(0.6), Some(0.5), Some(0.5), Some(0.5)]
    );
    // b (1/6 ≈ 0.167 < 0.2) is rare; null (1/3) is kept as null; unseen → RARE
    assert_eq!(
        labels(&m, new.clone(), "g_grouped").await,
        [
            Some("a".into()),
            Some("RARE".into()),
            None,
            Some("RARE".into())
        ]
    );

    // unseen: zero and error
    let zero = fit(
        &train,
        &spec("target: y\nunseen: zero\nencoders:\n- {column: g, method: target_mean}\n"),
    )
    .await
    .unwrap();
    assert_eq!(encoded(&zero, new.clone(), "g_te").await[3], Some(0.0));
    let strict = fit(
        &train,
        &spec("target: y\nunseen: error\nencoders:\n- {column: g, method: frequency}\n"),
    )
    .await
    .unwrap();
    let e = strict.transform(new.clone()).await.unwrap_err().to_string();
    assert!(
        e.contains("column `g`") && e.contains("`zz`") && e.contains("not seen"),
        "{e}"
    );
    assert!(strict.transform(train.clone()).await.is_ok());

    // save and load
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    m.save(&path).unwrap();
    let loaded = Mappings::load(&path).unwrap();
    assert_eq!(loaded, m);
    assert_eq!(encoded(&loaded, new, "g_te").await[0], Some(0.6));
}

/// Target-mean and frequency values from the definitions, weighted.
fn naive(
    rows: &[(Option<String>, i64, f64)],
    m: f64,
    leaf: f64,
) -> (BTreeMap<Option<String>, (f64, f64)>, f64) {
    let total: f64 = rows.iter().map(|r| r.2).sum();
    let events: f64 = rows.iter().map(|r| r.2 * r.1 as f64).sum();
    let global = events / total;
    let mut by: BTreeMap<Option<String>, (f64, f64)> = BTreeMap::new();
    for (g, y, w) in rows {
        let e = by.entry(g.clone()).or_default();
        e.0 += w;
        e.1 += w * *y as f64;
    }
    let out = by
        .into_iter()
        .map(|(k, (n, ev))| {
            let te = if n >= leaf && n > 0.0 {
                (ev + m * global) / (n + m)
            } else {
                global
            };
            (k, (n / total, te))
        })
        .collect();
    (out, global)
}

/// A random row: category (null sometimes), 0/1 target, whole weight 1–3.
fn row() -> impl Strategy<Value = (Option<&'static str>, i64, u32)> {
    (
        prop_oneof![1 => Just(None), 6 => prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(Some)],
        0i64..2,
        1u32..4,
    )
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(PropConfig {
        cases,
        ..PropConfig::default()
    })
}

#[test]
fn encodings_match_the_naive_reference_and_weights_equal_expanded_rows() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    runner(30)
        .run(&(proptest::collection::vec(row(), 1..120), 0.0..20.0f64, 0.0..6.0f64), |(rows, m, leaf)| {
            let g: Vec<Option<&str>> = rows.iter().map(|r| r.0).collect();
            let y: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            let text = format!(
                "target: y\nweight: w\nencoders:\n- {{column: g, method: frequency}}\n- {{column: g, method: target_mean, smoothing: {m}, min_samples_leaf: {leaf}}}\n"
            );
            let weighted = rt.block_on(fit(&frame(&session, &g, &y, &w), &spec(&text))).unwrap();
            let owned: Vec<(Option<String>, i64, f64)> = rows.iter().map(|r| (r.0.map(String::from), r.1, f64::from(r.2))).collect();
            let (want, global) = naive(&owned, m, leaf);
            prop_assert!((weighted.global_mean.unwrap() - global).abs() < 1e-12);
            for (enc, pick) in [(0usize, 0usize), (1, 1)] {
                for c in &weighted.encoders[enc].categories {
                    let w = want[&c.value];
                    let expected = if pick == 0 { w.0 } else { w.1 };
                    prop_assert!((c.encoded.unwrap() - expected).abs() < 1e-12, "{:?}: {:?} vs {expected}", c.value, c.encoded);
                }
            }
            // The same rows repeated w times, unweighted, give the same mappings.
            let mut eg = Vec::new();
            let mut ey = Vec::new();
            for r in &rows {
                for _ in 0..r.2 {
                    eg.push(r.0);
                    ey.push(r.1);
                }
            }
            let plain = text.replace("weight: w\n", "");
            let expanded = rt.block_on(fit(&frame(&session, &eg, &ey, &vec![1.0; eg.len()]), &spec(&plain))).unwrap();
            for (a, b) in weighted.encoders.iter().zip(&expanded.encoders) {
                for (x, z) in a.categories.iter().zip(&b.categories) {
                    prop_assert_eq!(&x.value, &z.value);
                    prop_assert!((x.encoded.unwrap() - z.encoded.unwrap()).abs() < 1e-12);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Out-of-fold target encoding of each row from the definition: the
/// smoothed mean of its category over the rows of the other folds.
fn naive_out_of_fold(
    rows: &[(Option<String>, i64, f64)],
    fold: &[u64],
    m: f64,
    leaf: f64,
) -> Vec<f64> {
    (0..rows.len())
        .map(|i| {
            let outside: Vec<_> = (0..rows.len()).filter(|j| fold[*j] != fold[i]).collect();
            let total: f64 = outside.iter().map(|j| rows[*j].2).sum();
            let events: f64 = outside.iter().map(|j| rows[*j].2 * rows[*j].1 as f64).sum();
            let global = events / total;
            let same: Vec<_> = outside
                .iter()
                .filter(|j| rows[**j].0 == rows[i].0)
                .collect();
            let n: f64 = same.iter().map(|j| rows[**j].2).sum();
            let ev: f64 = same.iter().map(|j| rows[**j].2 * rows[**j].1 as f64).sum();
            if n >= leaf && n > 0.0 {
                (ev + m * global) / (n + m)
            } else {
                global
            }
        })
        .collect()
}

async fn out_of_fold(m: &Mappings, df: DataFrame, column: &str) -> Vec<f64> {
    let out = by_id(m.transform_out_of_fold(df).await.unwrap()).await;
    out.iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(column)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone();
            a.iter().map(|v| v.unwrap()).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn cross_fitted_target_encoding_matches_the_naive_reference() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    runner(25)
        .run(
            &(proptest::collection::vec(row(), 8..80), 0.0..10.0f64, 0.0..4.0f64, 2u32..6, 0u64..1000),
            |(rows, m, leaf, k, seed)| {
                let g: Vec<Option<&str>> = rows.iter().map(|r| r.0).collect();
                let mut y: Vec<i64> = rows.iter().map(|r| r.1).collect();
                let w: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
                let ids: Vec<i64> = (0..rows.len() as i64).collect();
                let fold: Vec<u64> = ids
                    .iter()
                    .map(|i| fold_of(u64::from(k), seed, &[Some(&i.to_string())]))
                    .collect();
                if fold.iter().all(|f| *f == fold[0]) {
                    return Ok(()); // one fold holds everything: refused, tested below
                }
                let text = format!(
                    "target: y\nweight: w\ncross_fit: {{folds: {k}, seed: {seed}, by: id}}\nencoders:\n- {{column: g, method: target_mean, smoothing: {m}, min_samples_leaf: {leaf}}}\n"
                );
                let df = frame(&session, &g, &y, &w);
                let fitted = rt.block_on(fit(&df, &spec(&text))).unwrap();
                let owned: Vec<(Option<String>, i64, f64)> =
                    rows.iter().map(|r| (r.0.map(String::from), r.1, f64::from(r.2))).collect();
                let want = naive_out_of_fold(&owned, &fold, m, leaf);
                let got = rt.block_on(out_of_fold(&fitted, df.clone(), "g_te"));
                for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                    prop_assert!((a - b).abs() < 1e-12, "row {i}: {a} vs {b}");
                }
                // The full mapping is still the plain fit.
                let (full, _) = naive(&owned, m, leaf);
                for c in &fitted.encoders[0].categories {
                    prop_assert!((c.encoded.unwrap() - full[&c.value].1).abs() < 1e-12);
                }
                // A row's own target never reaches its encoding.
                y[0] = 1 - y[0];
                let flipped_df = frame(&session, &g, &y, &w);
                let flipped = rt.block_on(fit(&flipped_df, &spec(&text))).unwrap();
                let again = rt.block_on(out_of_fold(&flipped, flipped_df, "g_te"));
                prop_assert!((again[0] - got[0]).abs() < 1e-12);
                // Weighted rows equal their expansion when the fold follows the id.
                let (mut ei, mut eg, mut ey) = (Vec::new(), Vec::new(), Vec::new());
                for (i, r) in rows.iter().enumerate() {
                    for _ in 0..r.2 {
                        ei.push(i as i64);
                        eg.push(r.0);
                        ey.push(y[i]);
                    }
                }
                let ones = vec![1.0; eg.len()];
                let expanded = rt
                    .block_on(fit(&frame_with_ids(&session, &ei, &eg, &ey, &ones), &spec(&text.replace("weight: w\n", ""))))
                    .unwrap();
                for (x, z) in flipped.encoders[0].categories.iter().zip(&expanded.encoders[0].categories) {
                    let (a, b) = (x.out_of_fold.as_ref().unwrap(), z.out_of_fold.as_ref().unwrap());
                    for (p, q) in a.iter().zip(b) {
                        prop_assert!((p - q).abs() < 1e-12);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

#[tokio::test]
async fn cross_fit_defaults_and_refusals() {
    let session = session();
    let df = frame(
        &session,
        &[Some("a"), Some("b"), Some("a"), None],
        &[1, 0, 0, 1],
        &[1.0; 4],
    );
    let s = spec(
        "target: y\nweight: w\ncross_fit: {folds: 3}\nencoders:\n- {column: g, method: target_mean}\n- {column: g, method: frequency}\n",
    );
    let m = fit(&df, &s).await.unwrap();
    let folds = m.folds.as_ref().unwrap();
    assert_eq!(folds.by, ["id", "g"], "all columns but target and weight");
    assert_eq!(folds.weight.iter().sum::<f64>(), 4.0);
    assert!(
        m.encoders[1]
            .categories
            .iter()
            .all(|c| c.out_of_fold.is_none())
    );
    // Frequency columns are the same either way; the plain transform uses the full mapping.
    let plain = encoded(&m, df.clone(), "g_te").await;
    assert_eq!(plain[0], m.encoders[0].categories[1].encoded);
    let e = m
        .transform_out_of_fold(
            frame(&session, &[Some("a")], &[1], &[1.0])
                .drop_columns(&["id"])
                .unwrap(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cross_fit.by") && e.contains("`id`"), "{e}");
    let no_folds = fit(
        &df,
        &spec("target: y\nencoders:\n- {column: g, method: target_mean}\n"),
    )
    .await
    .unwrap();
    let e = no_folds
        .transform_out_of_fold(df.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cross_fit"), "{e}");
    let one = frame(&session, &[Some("a")], &[1], &[1.0]);
    let e = fit(&one, &spec("target: y\ncross_fit: {folds: 2, by: id}\nencoders:\n- {column: g, method: target_mean}\n"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds all the rows"), "{e}");
}

#[tokio::test]
async fn bad_specs_and_inputs_are_named() {
    for (text, wanted) in [
        (
            "encoders:\n- {column: g, method: woe}\n",
            "unknown method `woe`",
        ),
        (
            "encoders:\n- {column: g, method: target_mean}\n",
            "needs a `target`",
        ),
        (
            "encoders:\n- {column: g, method: frequency, threshold: 0.1}\n",
            "`threshold` does not apply",
        ),
        (
            "encoders:\n- {column: g, method: rare}\n",
            "needs a `threshold`",
        ),
        (
            "encoders:\n- {column: g, method: frequency}\n- {column: g, method: frequency}\n",
            "two encoders write `g_freq`",
        ),
        (
            "encoders:\n- {column: g, method: frequency, colour: red}\n",
            "colour",
        ),
        (
            "target: y\ncross_fit: {folds: 1}\nencoders:\n- {column: g, method: target_mean}\n",
            "at least 2",
        ),
        (
            "target: y\ncross_fit: {folds: 10000}\nencoders:\n- {column: g, method: target_mean}\n",
            "cross_fit.folds must be at least 2 and at most 100, got 10000",
        ),
        (
            "cross_fit: {folds: 3}\nencoders:\n- {column: g, method: frequency}\n",
            "target_mean encoders",
        ),
        (
            "target: y\ncross_fit: {folds: 3, shuffle: true}\nencoders:\n- {column: g, method: target_mean}\n",
            "shuffle",
        ),
    ] {
        let e = EncoderSpec::parse(text, "yaml").unwrap_err().to_string();
        assert!(e.contains(wanted), "{e} should mention {wanted}");
    }
    let session = session();
    let bad_target = frame(&session, &[Some("a"), Some("b")], &[0, 2], &[1.0, 1.0]);
    let s = spec("target: y\nencoders:\n- {column: g, method: target_mean}\n");
    let e = fit(&bad_target, &s).await.unwrap_err().to_string();
    assert!(
        e.contains("target column `y`") && e.contains("0 or 1"),
        "{e}"
    );
    let negative = frame(&session, &[Some("a"), Some("b")], &[0, 1], &[1.0, -2.0]);
    let e = fit(
        &negative,
        &spec("target: y\nweight: w\nencoders:\n- {column: g, method: frequency}\n"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("weight column `w`") && e.contains("negative"),
        "{e}"
    );
    let text_target = session
        .ctx()
        .sql("SELECT 'a' AS g, 'yes' AS y")
        .await
        .unwrap();
    let e = fit(&text_target, &s).await.unwrap_err().to_string();
    assert!(e.contains("target column `y` is Utf8"), "{e}");
    let e = fit(
        &negative,
        &spec("encoders:\n- {column: nope, method: frequency}\n"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("`nope`"), "{e}");
}

#[tokio::test]
async fn non_finite_weights_are_refused() {
    let session = session();
    let s = spec("target: y\nweight: w\nencoders:\n- {column: g, method: target_mean}\n");
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let df = frame(&session, &[Some("a"), Some("b")], &[0, 1], &[1.0, bad]);
        let e = fit(&df, &s).await.unwrap_err().to_string();
        assert!(
            e.contains("weight column `w`")
                && e.contains("NaN or infinite")
                && e.contains("fitting"),
            "{bad}: {e}"
        );
    }
}

#[tokio::test]
async fn hand_edited_mappings_are_refused_naming_what_is_inconsistent() {
    let session = session();
    let df = frame(
        &session,
        &[Some("a"), Some("b"), Some("a"), None],
        &[0, 1, 1, 0],
        &[1.0; 4],
    );
    let s = spec(
        "target: y\nencoders:\n- {column: g, method: frequency}\n- {column: g, method: target_mean}\n",
    );
    let mappings = fit(&df, &s).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    mappings.save(&path).unwrap();
    assert_eq!(Mappings::load(&path).unwrap(), mappings);
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let edits: [(Edit, &str); 2] = [
        (
            |v| {
                let cats = v["encoders"][0]["categories"].as_array_mut().unwrap();
                cats.push(cats[1].clone());
            },
            "the encoder of column `g` lists category `a` twice",
        ),
        (
            |v| v["encoders"][1]["output"] = v["encoders"][0]["output"].clone(),
            "is named by two encoders (of column `g`)",
        ),
    ];
    let bad = dir.path().join("bad.json");
    assert_edits_refused(&original, &edits, &bad, Mappings::load);
}

/// Thousands of categories (the lookup is one hash probe per row, not one
/// comparison per category): every row's encodings, plain and cross-fitted,
/// equal the naive reference, and unseen categories get the unseen value.
#[tokio::test]
async fn thousands_of_categories_match_the_naive_reference() {
    let session = session();
    // 6,000 rows over 3,001 categories (null included), pseudo-random.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let names: Vec<String> = (0..3000).map(|i| format!("c{i}")).collect();
    let rows: Vec<(Option<String>, i64, f64)> = (0..6000)
        .map(|_| {
            let g = next() % 3001;
            let g = (g < 3000).then(|| names[g as usize].clone());
            (g, (next() % 3 == 0) as i64, (1 + next() % 3) as f64)
        })
        .collect();
    let g: Vec<Option<&str>> = rows.iter().map(|r| r.0.as_deref()).collect();
    let y: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let w: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let df = frame(&session, &g, &y, &w);
    let text = "target: y\nweight: w\nencoders:\n- {column: g, method: frequency}\n- {column: g, method: target_mean, smoothing: 3, min_samples_leaf: 2}\n- {column: g, method: rare, threshold: 0.0004}\n";
    let fitted = fit(&df, &spec(text)).await.unwrap();
    let (want, global) = naive(&rows, 3.0, 2.0);
    let freq = encoded(&fitted, df.clone(), "g_freq").await;
    let te = encoded(&fitted, df.clone(), "g_te").await;
    let rare = labels(&fitted, df.clone(), "g_grouped").await;
    for (i, r) in rows.iter().enumerate() {
        let (share, mean) = want[&r.0];
        assert!((freq[i].unwrap() - share).abs() < 1e-12, "row {i}");
        assert!((te[i].unwrap() - mean).abs() < 1e-12, "row {i}");
        let expected = if share < 0.0004 {
            Some("RARE".to_string())
        } else {
            r.0.clone()
        };
        assert_eq!(rare[i], expected, "row {i}");
    }
    // Categories never seen: frequency 0, target mean the global one.
    let unseen = frame(
        &session,
        &[Some("new"), Some("c1"), None],
        &[0; 3],
        &[1.0; 3],
    );
    let te = encoded(&fitted, unseen.clone(), "g_te").await;
    assert!((te[0].unwrap() - global).abs() < 1e-12);
    assert!((te[1].unwrap() - want[&Some("c1".to_string())].1).abs() < 1e-12);
    assert!((te[2].unwrap() - want[&None].1).abs() < 1e-12);
    assert_eq!(
        encoded(&fitted, unseen.clone(), "g_freq").await[0],
        Some(0.0)
    );
    // Under the `error` policy the same unseen value is refused by name;
    // seen ones (null included) pass.
    let strict = fit(&df, &spec(&format!("unseen: error\n{text}")))
        .await
        .unwrap();
    let e = strict.transform(unseen).await.unwrap_err().to_string();
    assert!(e.contains("`new`") && !e.contains("`c1`"), "{e}");
    let seen = frame(&session, &[Some("c2999"), None], &[0; 2], &[1.0; 2]);
    assert!(strict.transform(seen).await.is_ok());

    // Cross-fitted over 5 folds of the id.
    let (k, seed) = (5u64, 11u64);
    let text = format!(
        "target: y\nweight: w\ncross_fit: {{folds: {k}, seed: {seed}, by: id}}\nencoders:\n- {{column: g, method: target_mean, smoothing: 3, min_samples_leaf: 2}}\n"
    );
    let crossed = fit(&df, &spec(&text)).await.unwrap();
    let fold: Vec<u64> = (0..rows.len())
        .map(|i| fold_of(k, seed, &[Some(&i.to_string())]))
        .collect();
    let want = naive_out_of_fold(&rows, &fold, 3.0, 2.0);
    let got = out_of_fold(&crossed, df, "g_te").await;
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < 1e-12, "row {i}: {a} vs {b}");
    }
}
