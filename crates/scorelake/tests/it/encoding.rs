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
use scorelake::session::Session;

use crate::support::session;

fn frame(session: &Session, g: &[Option<&str>], y: &[i64], w: &[f64]) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("g", DataType::Utf8, true),
        Field::new("y", DataType::Int64, false),
        Field::new("w", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..g.len() as i64)),
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
    m.transform(df)
        .await
        .unwrap()
        .sort(vec![col("id").sort(true, false)])
        .unwrap()
        .collect()
        .await
        .unwrap()
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

#[test]
fn encodings_match_the_naive_reference_and_weights_equal_expanded_rows() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    let row = (
        prop_oneof![1 => Just(None), 6 => prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(Some)],
        0i64..2,
        1u32..4,
    );
    let mut runner = TestRunner::new(PropConfig {
        cases: 30,
        ..PropConfig::default()
    });
    runner
        .run(&(proptest::collection::vec(row, 1..120), 0.0..20.0f64, 0.0..6.0f64), |(rows, m, leaf)| {
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
