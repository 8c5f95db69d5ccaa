//! PSI/CSI against a naive reference; weights equal expanded rows; by period; bad input.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use scorelake::Error;
use scorelake::datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use scorelake::datafusion::prelude::DataFrame;
use scorelake::datafusion::prelude::{cast, col, lit};
use scorelake::quality::{
    DriftBinning, DriftOptions, drift, drift_between_periods, drift_by_period,
};
use scorelake::session::Session;

use crate::support::session;

fn frame(session: &Session, xs: &[Option<f64>], cats: &[Option<&str>], w: &[f64]) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("c", DataType::Utf8, true),
        Field::new("w", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(xs.to_vec())),
            Arc::new(StringArray::from(cats.to_vec())),
            Arc::new(Float64Array::from(w.to_vec())),
        ],
    )
    .unwrap();
    session.ctx().read_batch(batch).unwrap()
}

/// numpy's linear quantile on rows repeated by weight: row i occupies the
/// expanded positions [start_i, start_i + w_i).
fn weighted_quantile(sorted: &[(f64, f64)], p: f64) -> f64 {
    let total: f64 = sorted.iter().map(|r| r.1).sum();
    let h = ((total - 1.0) * p).max(0.0);
    let value_at = |t: f64| {
        let mut start = 0.0;
        for &(x, w) in sorted {
            if t < start + w {
                return x;
            }
            start += w;
        }
        sorted[sorted.len() - 1].0
    };
    let lo = h.floor();
    value_at(lo) + (h - lo) * (value_at(lo + 1.0) - value_at(lo))
}

/// PSI from the definitions: baseline edges, right-closed bins with the end
/// bins open, nulls their own bin, empty shares floored.
fn naive_psi(
    base: &[(Option<f64>, f64)],
    now: &[(Option<f64>, f64)],
    binning: DriftBinning,
    n: usize,
) -> f64 {
    // The baseline's values with their weights; a row of weight 0 is not there.
    let mut v: Vec<(f64, f64)> = base
        .iter()
        .filter_map(|r| r.0.map(|x| (x, r.1)))
        .filter(|p| p.1 > 0.0)
        .collect();
    v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let (lo, hi) = (v[0].0, v[v.len() - 1].0);
    let mut inner: Vec<f64> = (1..n)
        .map(|k| match binning {
            DriftBinning::EqualWidth => lo + (hi - lo) * k as f64 / n as f64,
            DriftBinning::Quantile => weighted_quantile(&v, k as f64 / n as f64),
        })
        .collect();
    inner.dedup();
    let bin = |x: Option<f64>| match x {
        None => 0,
        Some(x) => 1 + inner.iter().filter(|e| x > **e).count(),
    };
    let hist = |rows: &[(Option<f64>, f64)]| {
        let mut h = BTreeMap::new();
        for (x, w) in rows {
            *h.entry(bin(*x)).or_insert(0.0) += w;
        }
        h
    };
    categorical_psi(&hist(base), &hist(now))
}

fn categorical_psi<K: Ord + Clone>(b: &BTreeMap<K, f64>, c: &BTreeMap<K, f64>) -> f64 {
    let (tb, tc): (f64, f64) = (b.values().sum(), c.values().sum());
    let keys: std::collections::BTreeSet<K> = b.keys().chain(c.keys()).cloned().collect();
    keys.iter()
        .map(|k| {
            let s = |m: &BTreeMap<K, f64>, t: f64| {
                let v = m.get(k).copied().unwrap_or(0.0) / t;
                if v == 0.0 { 1e-4 } else { v }
            };
            let (bs, cs) = (s(b, tb), s(c, tc));
            (cs - bs) * (cs / bs).ln()
        })
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn psi_and_csi_match_the_naive_reference_weighted_or_not() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    let row = (
        prop_oneof![1 => Just(None), 1 => Just(Some(f64::NAN)), 2 => (0i32..8).prop_map(|v| Some(f64::from(v))), 6 => (-50.0..50.0f64).prop_map(Some)],
        prop_oneof![1 => Just(None), 5 => prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(Some)],
        prop_oneof![1 => Just(0.0), 3 => Just(1.0), 2 => (1u32..5).prop_map(f64::from), 2 => 0.1..3.0f64],
    );
    let data = (
        proptest::collection::vec(row.clone(), 1..150),
        proptest::collection::vec(row, 1..150),
        prop_oneof![Just(DriftBinning::Quantile), Just(DriftBinning::EqualWidth)],
        1usize..12,
        any::<bool>(),
    );
    let mut runner = TestRunner::new(PropConfig {
        cases: 40,
        ..PropConfig::default()
    });
    runner
        .run(&data, |(base, now, binning, n, weighted)| {
            let w = |r: &(Option<f64>, Option<&str>, f64)| if weighted { r.2 } else { 1.0 };
            // The baseline needs a value and, weighted, some weight.
            prop_assume!(
                base.iter()
                    .any(|r| r.0.is_some_and(|x| !x.is_nan()) && w(r) > 0.0)
                    && base.iter().any(|r| r.1.is_some() && w(r) > 0.0)
            );
            prop_assume!(
                base.iter().map(w).sum::<f64>() > 0.0 && now.iter().map(w).sum::<f64>() > 0.0
            );
            let df = |rows: &[(Option<f64>, Option<&str>, f64)]| {
                let xs: Vec<_> = rows.iter().map(|r| r.0).collect();
                let cs: Vec<_> = rows.iter().map(|r| r.1).collect();
                let ws: Vec<_> = rows.iter().map(|r| r.2).collect();
                frame(&session, &xs, &cs, &ws)
            };
            let options = DriftOptions {
                binnings: vec![binning],
                bins: n,
                weight: weighted.then(|| "w".to_string()),
                ..DriftOptions::default()
            };
            let cols = ["x".to_string(), "c".to_string()];
            let report = rt
                .block_on(drift(&df(&base), &df(&now), Some(&cols), &options))
                .unwrap();
            // NaN is missing: the null bin.
            let pairs = |rows: &[(Option<f64>, Option<&str>, f64)]| {
                rows.iter()
                    .map(|r| (r.0.filter(|x| !x.is_nan()), w(r)))
                    .collect::<Vec<_>>()
            };
            let want = naive_psi(&pairs(&base), &pairs(&now), binning, n);
            prop_assert!(
                close(report.columns[0].value, want),
                "psi {} vs {want}",
                report.columns[0].value
            );
            let cats = |rows: &[(Option<f64>, Option<&str>, f64)]| {
                let mut m = BTreeMap::new();
                for r in rows {
                    *m.entry(r.1.map(String::from)).or_insert(0.0) += w(r);
                }
                m
            };
            let want = categorical_psi(&cats(&base), &cats(&now));
            prop_assert!(
                close(report.columns[1].value, want),
                "csi {} vs {want}",
                report.columns[1].value
            );
            prop_assert_eq!(&report.columns[1].method, "csi");
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn weights_equal_expanded_rows_and_periods_equal_separate_comparisons() {
    let session = session();
    let weighted = frame(
        &session,
        &[Some(1.0), Some(2.0), None, Some(9.0)],
        &[Some("a"), Some("b"), Some("a"), None],
        &[3.0, 1.0, 2.0, 1.0],
    );
    let expanded = frame(
        &session,
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(2.0),
            None,
            None,
            Some(9.0),
        ],
        &[
            Some("a"),
            Some("a"),
            Some("a"),
            Some("b"),
            Some("a"),
            Some("a"),
            None,
        ],
        &[1.0; 7],
    );
    let current = frame(
        &session,
        &[Some(0.0), Some(5.0), Some(20.0)],
        &[Some("b"), Some("z"), None],
        &[1.0; 3],
    );
    let cols = ["x".to_string(), "c".to_string()];
    let with_w = DriftOptions {
        weight: Some("w".into()),
        bins: 3,
        ..DriftOptions::default()
    };
    let plain = DriftOptions {
        bins: 3,
        ..DriftOptions::default()
    };
    let a = drift(&weighted, &current, Some(&cols), &with_w)
        .await
        .unwrap();
    let b = drift(&expanded, &current, Some(&cols), &plain)
        .await
        .unwrap();
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert!(
            close(x.value, y.value),
            "{} {} vs {}",
            x.column,
            x.value,
            y.value
        );
        assert_eq!(x.bins.len(), y.bins.len());
    }

    // By period = each period against the baseline periods, separately.
    let panel = session
        .ctx()
        .sql(
            "SELECT * FROM (VALUES (1, 1.0, 'a'), (1, 2.0, 'b'), (1, 3.0, 'a'), (2, 1.5, 'a'), (2, 2.5, 'a'), \
             (3, 9.0, 'c'), (3, 1.0, NULL), (4, 2.0, 'b'), (NULL, 5.0, 'z')) AS t(p, x, c)",
        )
        .await
        .unwrap();
    let by = drift_by_period(&panel, "p", &["1".into(), "2".into()], Some(&cols), &plain)
        .await
        .unwrap();
    assert_eq!(by.columns.len(), 4, "periods 3 and 4 × 2 columns");
    let base = panel.clone().filter(col("p").lt_eq(lit(2))).unwrap();
    for p in [3, 4] {
        let now = panel.clone().filter(col("p").eq(lit(p))).unwrap();
        let direct = drift(&base, &now, Some(&cols), &plain).await.unwrap();
        for d in &direct.columns {
            let row = by
                .columns
                .iter()
                .find(|c| c.column == d.column && c.period.as_deref() == Some(&p.to_string()))
                .unwrap();
            assert!(
                close(row.value, d.value),
                "period {p} {}: {} vs {}",
                d.column,
                row.value,
                d.value
            );
        }
    }
    let text = by.to_markdown(true);
    assert!(
        text.contains("| period | column | method | value | verdict |"),
        "{text}"
    );
    // Periods 3 and 4 as one current set = the rows of both against the baseline.
    let between = drift_between_periods(
        &panel,
        "p",
        &["1".into(), "2".into()],
        &["3".into(), "4".into()],
        Some(&cols),
        &plain,
    )
    .await
    .unwrap();
    let later = panel.clone().filter(col("p").gt(lit(2))).unwrap();
    let direct = drift(&base, &later, Some(&cols), &plain).await.unwrap();
    assert_eq!(between.columns.len(), 2);
    for (x, y) in between.columns.iter().zip(&direct.columns) {
        assert!(
            close(x.value, y.value),
            "{}: {} vs {}",
            x.column,
            x.value,
            y.value
        );
    }
    // Rows of other periods and of no period belong to neither side.
    let first_third = drift_between_periods(
        &panel,
        "p",
        &["1".into()],
        &["3".into()],
        Some(&cols),
        &plain,
    )
    .await
    .unwrap();
    let only = |p: i64| panel.clone().filter(col("p").eq(lit(p))).unwrap();
    let direct = drift(&only(1), &only(3), Some(&cols), &plain)
        .await
        .unwrap();
    assert_eq!(first_third.columns.len(), 2);
    for (x, y) in first_third.columns.iter().zip(&direct.columns) {
        assert!(
            close(x.value, y.value),
            "{}: {} vs {}",
            x.column,
            x.value,
            y.value
        );
        assert_eq!(x.bins, y.bins, "{}", x.column);
    }
    let e = refused(&panel, &["1"], &["9"], &cols, &plain).await;
    assert!(e.contains("no row has current period 9"), "{e}");
    let overlap = refused(&panel, &["1", "2"], &["2"], &cols, &plain).await;
    assert!(overlap.contains("period 2 is both"), "{overlap}");
    // The same period written twice counts once; written two ways on a
    // number column, it is one value on both sides.
    let twice = drift_between_periods(
        &panel,
        "p",
        &["1".into(), "1".into()],
        &["3".into()],
        Some(&cols),
        &plain,
    )
    .await
    .unwrap();
    for (x, y) in twice.columns.iter().zip(&first_third.columns) {
        assert_eq!(x.bins, y.bins, "{}", x.column);
    }
    let decimal = panel
        .clone()
        .select(vec![
            cast(col("p"), DataType::Float64).alias("p"),
            col("x"),
            col("c"),
        ])
        .unwrap();
    let same = refused(&decimal, &["1", "2"], &["2.0"], &cols, &plain).await;
    assert!(same.contains("period 2 is both"), "{same}");
    let typo = refused(&panel, &["one"], &["3"], &cols, &plain).await;
    assert!(
        typo.contains("baseline period `one`") && typo.contains("`p`"),
        "{typo}"
    );
}

/// The error of drift in `df` from baseline periods `base` to current
/// periods `now` of column `p`.
async fn refused(
    df: &DataFrame,
    base: &[&str],
    now: &[&str],
    cols: &[String],
    options: &DriftOptions,
) -> String {
    let owned = |v: &[&str]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    drift_between_periods(df, "p", &owned(base), &owned(now), Some(cols), options)
        .await
        .unwrap_err()
        .to_string()
}

/// Rows x = 1, 2 (categories a, b) of weights 1 and `second`.
fn two_rows(session: &Session, second: f64) -> DataFrame {
    frame(
        session,
        &[Some(1.0), Some(2.0)],
        &[Some("a"), Some("b")],
        &[1.0, second],
    )
}

#[tokio::test]
async fn bad_drift_inputs_are_named() {
    let session = session();
    let ok = two_rows(&session, 1.0);
    let nulls = frame(
        &session,
        &[None, None],
        &[Some("a"), Some("b")],
        &[1.0, 1.0],
    );
    let negative = two_rows(&session, -1.0);
    let x = ["x".to_string()];
    let e = drift(&nulls, &ok, Some(&x), &DriftOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`x`") && e.contains("undefined"), "{e}");
    let w = DriftOptions {
        weight: Some("w".into()),
        ..DriftOptions::default()
    };
    let e = drift(&ok, &negative, Some(&x), &w)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("weight column `w`") && e.contains("negative") && e.contains("current"),
        "{e}"
    );
    let other = session.ctx().sql("SELECT 'a' AS x").await.unwrap();
    let e = drift(&ok, &other, Some(&x), &DriftOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`x`") && e.contains("Utf8"), "{e}");
    let missing = session.ctx().sql("SELECT 1.0 AS y").await.unwrap();
    let e = drift(&ok, &missing, Some(&x), &DriftOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not in the current"), "{e}");
    // Absurd bin counts are refused up front, naming the option and the cap.
    let many = DriftOptions {
        bins: 1_000_000,
        ..DriftOptions::default()
    };
    let e = drift(&ok, &ok, Some(&x), &many).await.unwrap_err();
    assert!(
        matches!(&e, Error::OutOfRange { option, .. } if option == "bins"),
        "{e:?}"
    );
    assert!(e.to_string().contains("1000"), "{e}");
    let most = DriftOptions {
        bins: scorelake::quality::MAX_DRIFT_BINS,
        ..DriftOptions::default()
    };
    assert!(drift(&ok, &ok, Some(&x), &most).await.is_ok());
}

#[tokio::test]
async fn non_finite_weights_and_bad_floors_are_refused() {
    let session = session();
    let ok = two_rows(&session, 1.0);
    let x = ["x".to_string()];
    let w = DriftOptions {
        weight: Some("w".into()),
        ..DriftOptions::default()
    };
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let current = two_rows(&session, bad);
        let e = drift(&ok, &current, Some(&x), &w)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("weight column `w`")
                && e.contains("NaN or infinite")
                && e.contains("current"),
            "{bad}: {e}"
        );
        let e = drift(&current, &ok, Some(&x), &w)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("baseline") && e.contains("NaN or infinite"),
            "{bad}: {e}"
        );
    }
    for floor in [f64::NAN, 0.0, -0.1, 1.0, f64::INFINITY] {
        let options = DriftOptions {
            floor,
            ..DriftOptions::default()
        };
        let e = drift(&ok, &ok, Some(&x), &options)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("floor must be a finite number in (0, 1)"),
            "{floor}: {e}"
        );
    }
}

/// Several binnings in one run give, entry for entry, what one run per
/// binning gives (labelled with their binning), on random data, weighted
/// and by period; a categorical column appears once.
#[test]
fn several_binnings_equal_one_run_each() {
    let session = session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let compared = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = TestRunner::new(PropConfig::with_cases(12));
    let data = (
        proptest::collection::vec(proptest::option::weighted(0.9, -50.0..50.0f64), 20..80),
        proptest::collection::vec(0.1..3.0f64, 80),
        1usize..8,
    );
    runner
        .run(&data, |(xs, ws, bins)| {
            let cats: Vec<Option<&str>> = (0..xs.len())
                .map(|i| Some(["a", "b", "c"][i % 3]))
                .collect();
            let df = frame(&session, &xs, &cats, &ws[..xs.len()]);
            let period = (col("x").is_null().or(col("w").gt(lit(1.5)))).alias("p");
            let df = df.with_column("p", cast(period, DataType::Utf8)).unwrap();
            let (base, now) = (
                df.clone().filter(col("p").eq(lit("false"))).unwrap(),
                df.clone(),
            );
            let cols = ["x".to_string(), "c".to_string()];
            let run = |binnings: Vec<DriftBinning>, by_period: bool| {
                let options = DriftOptions {
                    binnings,
                    bins,
                    weight: Some("w".into()),
                    ..DriftOptions::default()
                };
                let (base, now, df, cols) = (base.clone(), now.clone(), df.clone(), cols.clone());
                rt.block_on(async move {
                    if by_period {
                        drift_by_period(&df, "p", &["false".to_string()], Some(&cols), &options)
                            .await
                    } else {
                        drift(&base, &now, Some(&cols), &options).await
                    }
                })
            };
            for by_period in [false, true] {
                let (Ok(both), Ok(q), Ok(e)) = (
                    run(
                        vec![DriftBinning::Quantile, DriftBinning::EqualWidth],
                        by_period,
                    ),
                    run(vec![DriftBinning::Quantile], by_period),
                    run(vec![DriftBinning::EqualWidth], by_period),
                ) else {
                    // An empty side is refused alike by every run.
                    continue;
                };
                let key = |c: &scorelake::quality::ColumnDrift| {
                    (
                        c.period.clone(),
                        c.column.clone(),
                        c.binning.map(|b| b.to_string()),
                    )
                };
                let mut expected: Vec<_> =
                    q.columns
                        .iter()
                        .cloned()
                        .map(|mut c| {
                            if c.method == "psi" {
                                c.binning = Some(DriftBinning::Quantile);
                            }
                            c
                        })
                        .chain(e.columns.iter().filter(|c| c.method == "psi").cloned().map(
                            |mut c| {
                                c.binning = Some(DriftBinning::EqualWidth);
                                c
                            },
                        ))
                        .collect();
                let mut got = both.columns.clone();
                expected.sort_by_key(key);
                got.sort_by_key(key);
                prop_assert_eq!(got, expected);
                compared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    assert!(compared.into_inner() >= 12, "too few cases compared");
}
