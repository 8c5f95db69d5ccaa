//! Validation against a naive reference on random data; thresholds; reports.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use scorelake::datafusion::arrow::array::{Float64Array, Int32Array, RecordBatch, StringArray};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use scorelake::quality::{Metric, Status, Thresholds, ValidateOptions, validate};

use crate::support::session;

/// numpy's default quantile: linear interpolation at (n − 1)·p.
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Every numeric metric of `values` computed the obvious way.
fn reference(values: &[Option<f64>]) -> HashMap<Metric, Option<f64>> {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len() as f64;
    let mean = (n > 0.0).then(|| v.iter().sum::<f64>() / n);
    let std = (n > 1.0).then(|| {
        let m = mean.unwrap();
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
    });
    let mut unique = v.clone();
    unique.dedup();
    HashMap::from([
        (Metric::MissingRate, Some(1.0 - n / values.len() as f64)),
        (Metric::UniqueCount, Some(unique.len() as f64)),
        (
            Metric::ZeroVariance,
            Some(if unique.len() <= 1 { 1.0 } else { 0.0 }),
        ),
        (Metric::Min, v.first().copied()),
        (Metric::Max, v.last().copied()),
        (Metric::Mean, mean),
        (Metric::Std, std),
        (Metric::P01, quantile(&v, 0.01)),
        (Metric::P99, quantile(&v, 0.99)),
    ])
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

fn table(xs: &[Option<f64>], ints: &[Option<i32>], texts: &[Option<String>]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("i", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(xs.to_vec())),
            Arc::new(Int32Array::from(ints.to_vec())),
            Arc::new(StringArray::from(texts.to_vec())),
        ],
    )
    .unwrap()
}

#[test]
fn metrics_match_the_naive_reference() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    let row = (
        prop_oneof![2 => Just(None), 1 => Just(Some(f64::NAN)), 1 => (-3i32..3).prop_map(|v| Some(f64::from(v))), 6 => (-1e4..1e4f64).prop_map(Some)],
        prop_oneof![1 => Just(None), 4 => (0i32..20).prop_map(Some)],
        prop_oneof![1 => Just(None), 4 => "[a-d]".prop_map(Some)],
    );
    let mut runner = TestRunner::new(PropConfig {
        cases: 40,
        ..PropConfig::default()
    });
    runner
        .run(&proptest::collection::vec(row, 1..300), |rows| {
            let xs: Vec<_> = rows.iter().map(|r| r.0).collect();
            let ints: Vec<_> = rows.iter().map(|r| r.1).collect();
            let texts: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
            let df = session.ctx().read_batch(table(&xs, &ints, &texts)).unwrap();
            let report = rt
                .block_on(validate(&df, &ValidateOptions::default()))
                .unwrap();
            prop_assert_eq!(report.rows, rows.len() as u64);
            let as_f64: Vec<Option<f64>> = ints.iter().map(|v| v.map(f64::from)).collect();
            for (c, values) in [(0, &xs), (1, &as_f64)] {
                let want = reference(values);
                for (metric, w) in &want {
                    let got = report.columns[c].metrics[metric];
                    prop_assert!(
                        close(got, *w),
                        "{} {metric}: engine {got:?}, reference {w:?}",
                        report.columns[c].column
                    );
                }
            }
            // Text: unique count and the share of the most frequent value.
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for t in texts.iter().flatten() {
                *counts.entry(t).or_default() += 1;
            }
            let s = &report.columns[2].metrics;
            prop_assert_eq!(s[&Metric::UniqueCount], Some(counts.len() as f64));
            let top = counts.values().max().copied().unwrap_or(0) as f64 / rows.len() as f64;
            prop_assert!(close(s[&Metric::TopShare], Some(top)));
            prop_assert!(!s.contains_key(&Metric::Mean));
            Ok(())
        })
        .unwrap();
}

#[test]
fn weighted_metrics_equal_the_expanded_rows() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = session();
    let row = (
        prop_oneof![2 => Just(None), 1 => Just(Some(f64::NAN)), 6 => (-1e3..1e3f64).prop_map(|v| Some(1e6 + v))],
        prop_oneof![1 => Just(None), 4 => (0i32..8).prop_map(Some)],
        prop_oneof![1 => Just(None), 4 => "[a-d]".prop_map(Some)],
        0u32..4,
    );
    let mut runner = TestRunner::new(PropConfig {
        cases: 30,
        ..PropConfig::default()
    });
    runner
        .run(&proptest::collection::vec(row, 1..150), |rows| {
            let xs: Vec<_> = rows.iter().map(|r| r.0).collect();
            let ints: Vec<_> = rows.iter().map(|r| r.1).collect();
            let texts: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
            let base = table(&xs, &ints, &texts);
            let mut fields = base.schema().fields().to_vec();
            fields.push(Arc::new(Field::new("w", DataType::Float64, false)));
            let mut columns = base.columns().to_vec();
            columns.push(Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| f64::from(r.3)),
            )));
            let weighted = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
            let expand = |r: &(Option<f64>, Option<i32>, Option<String>, u32)| {
                std::iter::repeat_n(r.clone(), r.3 as usize)
            };
            let expanded: Vec<_> = rows.iter().flat_map(expand).collect();
            let plain = table(
                &expanded.iter().map(|r| r.0).collect::<Vec<_>>(),
                &expanded.iter().map(|r| r.1).collect::<Vec<_>>(),
                &expanded.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
            );
            let options = ValidateOptions {
                weight: Some("w".into()),
                ..ValidateOptions::default()
            };
            let got = rt
                .block_on(validate(
                    &session.ctx().read_batch(weighted).unwrap(),
                    &options,
                ))
                .unwrap();
            let want = rt
                .block_on(validate(
                    &session.ctx().read_batch(plain).unwrap(),
                    &ValidateOptions::default(),
                ))
                .unwrap();
            prop_assert_eq!(got.weight, Some(expanded.len() as f64));
            prop_assert_eq!(got.columns.len(), 3, "the weight column is not validated");
            for (g, w) in got.columns.iter().zip(&want.columns) {
                prop_assert_eq!(&g.column, &w.column);
                for (metric, value) in &w.metrics {
                    prop_assert!(
                        close(g.metrics[metric], *value),
                        "{} {metric}: weighted {:?}, expanded {value:?}",
                        g.column,
                        g.metrics[metric]
                    );
                }
                prop_assert_eq!(g.status, w.status);
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn thresholds_decide_pass_warn_fail_and_reports_render() {
    let session = session();
    let df = session
        .ctx()
        .sql("SELECT * FROM (VALUES (1.0, 5, 'a'), (NULL, 5, 'a'), (3.0, 5, 'b'), (-1.0, 5, NULL)) AS t(x, k, s)")
        .await
        .unwrap();
    let thresholds = Thresholds::parse(
        "defaults:\n  missing_rate: {warn: 0.1, fail: 0.3}\n  zero_variance: {fail: true}\n\
         columns:\n  x: {min: {warn_below: 0}}\n  s: {top_share: {warn: 0.4}}\n",
        "yaml",
    )
    .unwrap();
    let report = validate(
        &df,
        &ValidateOptions {
            thresholds,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let by = |c: &str| report.columns.iter().find(|r| r.column == c).unwrap();
    assert_eq!(by("x").status, Status::Warn, "{:?}", by("x").findings);
    assert_eq!(
        by("x").findings,
        ["missing_rate 0.25 > warn 0.1", "min -1 < warn 0"]
    );
    assert_eq!(by("k").status, Status::Fail, "constant column");
    assert_eq!(by("s").status, Status::Warn);
    assert_eq!(report.status, Status::Fail);
    assert!(
        report
            .to_markdown()
            .contains("4 rows, 3 columns: FAIL (0 PASS, 2 WARN, 1 FAIL)"),
        "{}",
        report.to_markdown()
    );
    let csv = report.to_csv();
    assert!(
        csv.starts_with("column,data_type,status,missing_rate,unique_count"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["columns"][1]["status"], "FAIL");
    assert_eq!(json["columns"][0]["metrics"]["p99"], 2.96);

    // Only some columns; a threshold for a column left out is an error.
    let only = ValidateOptions {
        columns: Some(vec!["x".into()]),
        ..Default::default()
    };
    assert_eq!(validate(&df, &only).await.unwrap().columns.len(), 1);
    let t = Thresholds::parse("columns:\n  k: {max: {fail: 1}}\n", "yaml").unwrap();
    let e = validate(
        &df,
        &ValidateOptions {
            thresholds: t,
            ..only.clone()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("column `k`") && e.contains("validated"), "{e}");
    let missing = ValidateOptions {
        columns: Some(vec!["nope".into()]),
        ..Default::default()
    };
    assert!(
        validate(&df, &missing)
            .await
            .unwrap_err()
            .to_string()
            .contains("`nope`")
    );

    // Approximate mode agrees on small data.
    let approx = validate(&df, &approximately()).await.unwrap();
    assert!(approx.approximate);
    assert_eq!(approx.columns[0].metrics[&Metric::UniqueCount], Some(3.0));
}

#[test]
fn bad_threshold_files_are_named() {
    for (text, wanted) in [
        (
            "defaults:\n  missingness: {warn: 0.1}\n",
            "`defaults.missingness`: unknown metric",
        ),
        ("columns:\n  x: {max: {warn: high}}\n", "`columns.x.max`"),
        ("columns:\n  x: {max: {alarm: 3}}\n", "alarm"),
        ("limits: {}\n", "unknown key `limits`"),
    ] {
        let e = Thresholds::parse(text, "yaml").unwrap_err().to_string();
        assert!(e.contains(wanted), "{e} should mention {wanted}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(&path, "[defaults]\nmean = { fail = \"x\" }\n").unwrap();
    let e = Thresholds::load(&path).unwrap_err().to_string();
    assert!(e.contains("t.toml") && e.contains("defaults.mean"), "{e}");
}

#[tokio::test]
async fn non_finite_weights_and_inputs_without_columns_are_refused() {
    let session = session();
    for bad in ["'NaN'", "'Infinity'", "'-Infinity'"] {
        let df = session
            .ctx()
            .sql(&format!(
                "SELECT * FROM (VALUES (1.0, 1.0), (2.0, CAST({bad} AS DOUBLE))) AS t(x, w)"
            ))
            .await
            .unwrap();
        let options = ValidateOptions {
            weight: Some("w".into()),
            ..ValidateOptions::default()
        };
        let e = validate(&df, &options).await.unwrap_err().to_string();
        assert!(
            e.contains("weight column `w`") && e.contains("NaN or infinite") && e.contains("input"),
            "{bad}: {e}"
        );
    }
    // A 0-byte CSV is refused naming the file, not a PASS over 0 columns.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    std::fs::write(&path, "").unwrap();
    let job = scorelake::pipeline::ValidateJob::new(path.to_string_lossy());
    let e = scorelake::pipeline::run_validate(&session, &job)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty.csv"), "{e}");
}

#[tokio::test]
async fn approximate_unique_counts_of_floats_are_close_and_merge_signed_zeros() {
    let s = session();
    // 20,000 distinct halves, and a column whose only values are 0.0, −0.0
    // and 1.5 (two distinct values, as the exact count says).
    let df = s
        .ctx()
        .sql(
            "SELECT CAST(v AS DOUBLE) / 2 AS x, \
             CASE v % 3 WHEN 0 THEN CAST(0.0 AS DOUBLE) WHEN 1 THEN CAST('-0.0' AS DOUBLE) ELSE 1.5 END AS z \
             FROM generate_series(1, 20000) AS t(v)",
        )
        .await
        .unwrap();
    let unique = |r: &scorelake::quality::ValidationReport, i: usize| {
        r.columns[i].metrics[&Metric::UniqueCount].unwrap()
    };
    let exact = validate(&df, &ValidateOptions::default()).await.unwrap();
    let approx = validate(&df, &approximately()).await.unwrap();
    assert_eq!(unique(&exact, 0), 20_000.0);
    assert!(
        (unique(&approx, 0) - 20_000.0).abs() < 0.03 * 20_000.0,
        "{}",
        unique(&approx, 0)
    );
    assert_eq!(unique(&exact, 1), 2.0);
    assert_eq!(unique(&approx, 1), 2.0);
}

/// Validation with sketches instead of exact counts and quantiles.
fn approximately() -> ValidateOptions {
    ValidateOptions {
        approximate: true,
        ..Default::default()
    }
}

/// Roles declared in an NCF file's semantics decide what validation and
/// drift leave out, before the name rules: `region` declared an identifier
/// is left out, `account_id` declared numerical is kept.
#[tokio::test]
async fn declared_semantics_decide_roles() {
    use scorelake::io::{self, ReadOptions, WriteOptions};
    use scorelake::quality::{DriftOptions, LeftOut, Role, drift};

    let session = session();
    let dir = tempfile::tempdir().unwrap();
    let semantics = dir.path().join("semantics.toml");
    std::fs::write(
        &semantics,
        "[columns.region]\nkind = \"identifier\"\n[columns.account_id]\nkind = \"numerical\"\n",
    )
    .unwrap();
    let path = dir.path().join("t.ncf");
    let df = session
        .ctx()
        .sql("SELECT * FROM (VALUES ('north', 1.0, 10.0), ('south', 2.0, 20.0), ('north', 3.0, 15.0)) AS t(region, account_id, balance)")
        .await
        .unwrap();
    let options = WriteOptions {
        semantics: scorelake::formats::ncf::load_semantics(&semantics).unwrap(),
        ..WriteOptions::default()
    };
    io::write(&session, df, path.to_str().unwrap(), &options)
        .await
        .unwrap();
    let table = io::read(&session, path.to_str().unwrap(), &ReadOptions::default())
        .await
        .unwrap();

    let report = validate(&table, &ValidateOptions::default()).await.unwrap();
    let validated: Vec<&str> = report.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(validated, ["account_id", "balance"]);
    let region = LeftOut {
        column: "region".into(),
        role: Role::Identifier,
    };
    assert_eq!(report.left_out, std::slice::from_ref(&region));

    let report = drift(&table, &table, None, &DriftOptions::default())
        .await
        .unwrap();
    let compared: Vec<&str> = report.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(compared, ["account_id", "balance"]);
    assert_eq!(report.left_out, [region]);
}

#[tokio::test]
async fn dates_and_timestamps_get_their_earliest_and_latest_values() {
    let session = session();
    let sql = "SELECT * FROM (VALUES \
        (DATE '2024-03-31', TIMESTAMP '2024-01-02 03:04:05', 1.0), \
        (NULL, NULL, 1.0), \
        (DATE '2023-11-30', TIMESTAMP '2025-06-01 00:00:00', 1.0), \
        (DATE '2021-01-01', TIMESTAMP '2020-01-01 00:00:00', 0.0)) AS t(d, ts, w)";
    let df = session.ctx().sql(sql).await.unwrap();
    let options = ValidateOptions {
        columns: Some(vec!["d".into(), "ts".into()]),
        ..ValidateOptions::default()
    };
    let report = validate(&df, &options).await.unwrap();
    let range = |i: usize| {
        let r = report.columns[i].range.as_ref().unwrap();
        (r.min.as_str(), r.max.as_str())
    };
    assert_eq!(range(0), ("2021-01-01", "2024-03-31"));
    assert_eq!(range(1), ("2020-01-01T00:00:00", "2025-06-01T00:00:00"));
    assert_eq!(report.columns[0].metrics[&Metric::MissingRate], Some(0.25));
    assert_eq!(report.columns[0].metrics[&Metric::UniqueCount], Some(3.0));
    assert!(!report.columns[0].metrics.contains_key(&Metric::Min));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["columns"][0]["range"]["max"], "2024-03-31");
    let markdown = report.to_markdown();
    assert!(
        markdown.contains("| 2021-01-01 | 2024-03-31 |"),
        "{markdown}"
    );
    assert!(report.to_csv().contains(",2021-01-01,2024-03-31,"));
    assert!(report.to_html().contains("<td>2024-03-31</td>"));
    // Weighted: a row of weight 0 is not there.
    let weighted = validate(
        &df,
        &ValidateOptions {
            weight: Some("w".into()),
            ..options
        },
    )
    .await
    .unwrap();
    let r = weighted.columns[0].range.as_ref().unwrap();
    assert_eq!(
        (r.min.as_str(), r.max.as_str()),
        ("2023-11-30", "2024-03-31")
    );
    // All null: no range.
    let df = session
        .ctx()
        .sql("SELECT CAST(NULL AS DATE) AS d")
        .await
        .unwrap();
    let report = validate(&df, &ValidateOptions::default()).await.unwrap();
    assert_eq!(report.columns[0].range, None);
}

/// The configuration's `roles.*` come before declared semantics and name
/// rules; times are validated but not compared by drift.
#[tokio::test]
async fn configured_roles_come_first_and_times_skip_drift() {
    use scorelake::config::ConfigBuilder;
    use scorelake::pipeline::{DriftInputs, DriftJob, ValidateJob, run_drift, run_validate};
    use scorelake::quality::Role;
    use scorelake::session::Session;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let config = ConfigBuilder::new()
        .toml_str(
            "scorelake.toml",
            "[roles]\nacct = \"identifier\"\ncustomer_id = \"measure\"\nperiod_no = \"time\"\n",
        )
        .unwrap()
        .build()
        .unwrap();
    let session = Session::new(config).unwrap();
    session
        .ctx()
        .sql(&format!(
            "COPY (SELECT * FROM (VALUES \
               ('a', 1, 1, DATE '2024-01-31', 10.0), ('b', 2, 1, DATE '2024-02-29', 20.0), \
               ('c', 3, 2, DATE '2024-01-31', 30.0), ('d', 4, 2, DATE '2024-02-29', 40.0)) \
             AS t(acct, customer_id, period_no, month, balance)) TO '{}'",
            path.display()
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let input = path.to_str().unwrap();
    let report = run_validate(&session, &ValidateJob::new(input))
        .await
        .unwrap();
    let validated: Vec<&str> = report.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(validated, ["customer_id", "period_no", "month", "balance"]);
    let left: Vec<(&str, Role)> = report
        .left_out
        .iter()
        .map(|l| (l.column.as_str(), l.role))
        .collect();
    assert_eq!(left, [("acct", Role::Identifier)]);
    let month = report.columns.iter().find(|c| c.column == "month").unwrap();
    let range = month.range.as_ref().unwrap();
    assert_eq!(
        (range.min.as_str(), range.max.as_str()),
        ("2024-01-31", "2024-02-29")
    );

    let inputs = DriftInputs::Tables {
        baseline: input.into(),
        current: input.into(),
    };
    let report = run_drift(&session, &DriftJob::new(inputs)).await.unwrap();
    let compared: Vec<&str> = report.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(compared, ["customer_id", "balance"]);
    let left: Vec<(&str, Role)> = report
        .left_out
        .iter()
        .map(|l| (l.column.as_str(), l.role))
        .collect();
    assert_eq!(
        left,
        [("acct", Role::Identifier), ("period_no", Role::Time)]
    );
    // A role that is not one is named with what was expected.
    let e = ConfigBuilder::new()
        .set("roles.acct", "identifer", "--set")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`roles.acct`") && e.contains("did you mean `identifier`?"),
        "{e}"
    );
}
