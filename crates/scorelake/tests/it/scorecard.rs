//! Scorecards: hand-computed binning and WoE, constraints on random data,
//! weights = expanded rows, exact compression, logistic fits on compressed
//! = original rows and against a naive Newton fit, exported SQL = engine
//! score, evaluation against naive AUC/KS, the pipeline, bad input.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use scorelake::datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use scorelake::datafusion::prelude::{DataFrame, col};
use scorelake::scorecard::{
    BinningSpec, Counts, LogisticOptions, Monotonic, Scaling, ScoreColumns, Scorecard, compress,
    evaluate, evidence, fit_and_compress, fit_binning, fit_logistic, points_column, woe_column,
};
use scorelake::session::Session;

use crate::support::{Edit, assert_edits_refused, session};

/// x (nullable), a category, the 0/1 target, a whole-number weight.
fn frame(
    session: &Session,
    xs: &[Option<f64>],
    cats: &[Option<&str>],
    ys: &[i64],
    ws: &[f64],
) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("c", DataType::Utf8, true),
        Field::new("y", DataType::Int64, false),
        Field::new("w", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(xs.to_vec())),
            Arc::new(StringArray::from(cats.to_vec())),
            Arc::new(Int64Array::from(ys.to_vec())),
            Arc::new(Float64Array::from(ws.to_vec())),
        ],
    )
    .unwrap();
    session.ctx().read_batch(batch).unwrap()
}

fn spec(text: &str) -> BinningSpec {
    BinningSpec::parse(text, "yaml").unwrap()
}

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn floats(batches: &[RecordBatch], name: &str) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = datafusion::arrow::compute::cast(
                b.column_by_name(name).unwrap(),
                &DataType::Float64,
            )
            .unwrap();
            a.as_primitive::<Float64Type>().values().to_vec()
        })
        .collect()
}

#[test]
fn hand_computed_bins_woe_missing_and_special_values() {
    let s = session();
    // x: 1..=8, a special −999 twice, two nulls. Events at 6, 7, 8, one −999, one null.
    let xs = [
        Some(1.0),
        Some(2.0),
        Some(3.0),
        Some(4.0),
        Some(5.0),
        Some(6.0),
        Some(7.0),
        Some(8.0),
        Some(-999.0),
        Some(-999.0),
        None,
        None,
    ];
    let ys = [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0];
    let n = xs.len();
    let df = frame(&s, &xs, &vec![Some("a"); n], &ys, &vec![1.0; n]);
    let b = run(fit_binning(
        &df,
        &spec("target: y\ndefaults: {method: equal_width, bins: 2, special_values: [-999]}\nvariables: [x]\n"),
    ))
    .unwrap();
    let x = &b.variables[0];
    // Equal widths over [1, 8] without the special value: edge 4.5.
    assert_eq!(x.edges, vec![4.5]);
    let counts: Vec<(i32, f64, f64)> = x
        .bins
        .iter()
        .map(|b| (b.bin, b.counts.non_events, b.counts.events))
        .collect();
    assert_eq!(
        counts,
        vec![(0, 1.0, 1.0), (-1, 1.0, 1.0), (1, 4.0, 0.0), (2, 1.0, 3.0)]
    );
    // Bin 1 has no events: every bin is smoothed by 0.5; goods 7 + 2, bads 5 + 2.
    let woe = |g: f64, e: f64| (((g + 0.5) / 9.0) / ((e + 0.5) / 7.0)).ln();
    let want = [woe(1.0, 1.0), woe(1.0, 1.0), woe(4.0, 0.0), woe(1.0, 3.0)];
    for (bin, w) in x.bins.iter().zip(want) {
        assert!(
            (bin.woe - w).abs() < 1e-12,
            "{}: {} vs {w}",
            bin.label,
            bin.woe
        );
    }
    let iv: f64 = x.bins.iter().map(|b| b.iv).sum();
    assert!((x.iv - iv).abs() < 1e-15 && x.iv > 0.0);
    assert_eq!(x.bins[2].label, "<= 4.5");
    // Applied: the bin and WoE columns follow the same rules.
    let out = run(b
        .transform(df, None)
        .unwrap()
        .select(vec![col("x_bin"), col("x_woe")])
        .unwrap()
        .collect())
    .unwrap();
    let bins = floats(&out, "x_bin");
    assert_eq!(
        bins,
        vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, -1.0, -1.0, 0.0, 0.0]
    );
    assert!((floats(&out, "x_woe")[4] - want[3]).abs() < 1e-12);
}

#[test]
fn categorical_bins_group_rare_values_and_take_unseen_ones_with_them() {
    let s = session();
    let mut cats = Vec::new();
    let mut ys = Vec::new();
    for (c, n, events) in [("A", 50, 5), ("B", 40, 15), ("C", 1, 1), ("D", 1, 0)] {
        for i in 0..n {
            cats.push(Some(c));
            ys.push(i64::from(i < events));
        }
    }
    cats.push(None);
    ys.push(1);
    let n = cats.len();
    let df = frame(&s, &vec![Some(0.0); n], &cats, &ys, &vec![1.0; n]);
    let b = run(fit_binning(
        &df,
        &spec("target: y\ndefaults: {rare_share: 0.05, min_bin_size: 0.0}\nvariables: [c]\n"),
    ))
    .unwrap();
    let c = &b.variables[0];
    assert_eq!(
        c.groups,
        vec![
            vec!["A".to_string()],
            vec!["B".to_string()],
            vec!["C".to_string(), "D".to_string()]
        ]
    );
    assert_eq!(c.unseen_bin, 3);
    let rates: Vec<f64> = c.bins[1..].iter().map(|b| b.event_rate.unwrap()).collect();
    assert!(rates.windows(2).all(|p| p[0] < p[1]), "{rates:?}");
    let new = frame(
        &s,
        &[Some(0.0); 3],
        &[Some("Z"), None, Some("B")],
        &[0; 3],
        &[1.0; 3],
    );
    let out = run(b.transform(new, None).unwrap().collect()).unwrap();
    assert_eq!(floats(&out, "c_bin"), vec![3.0, 0.0, 2.0]);
    // A single rare category is still the rare group that takes unseen ones.
    let keep: Vec<usize> = (0..n).filter(|i| cats[*i] != Some("D")).collect();
    let one_rare = frame(
        &s,
        &vec![Some(0.0); keep.len()],
        &keep.iter().map(|i| cats[*i]).collect::<Vec<_>>(),
        &keep.iter().map(|i| ys[*i]).collect::<Vec<_>>(),
        &vec![1.0; keep.len()],
    );
    let b = run(fit_binning(
        &one_rare,
        &spec("target: y\ndefaults: {rare_share: 0.05, min_bin_size: 0.0}\nvariables: [c]\n"),
    ))
    .unwrap();
    let c = &b.variables[0];
    let holding_c = c
        .groups
        .iter()
        .position(|g| g.contains(&"C".to_string()))
        .unwrap();
    assert_eq!(c.unseen_bin, holding_c as i32 + 1);
}

/// Naive counts of (non-events, events) per bin for edges, from the rows.
fn naive_counts(rows: &[(Option<f64>, i64, f64)], edges: &[f64]) -> Vec<Counts> {
    let mut out = vec![Counts::default(); edges.len() + 2];
    for (x, y, w) in rows {
        let bin = match x {
            None => 0,
            Some(v) => 1 + edges.iter().filter(|e| **e < *v).count(),
        };
        if *y == 1 {
            out[bin].events += w;
        } else {
            out[bin].non_events += w;
        }
    }
    out
}

#[test]
fn optimal_bins_meet_their_constraints_on_random_data() {
    let s = session();
    let mut runner = TestRunner::new(PropConfig {
        cases: 25,
        ..PropConfig::default()
    });
    let row = (
        prop_oneof![1 => Just(None), 9 => (0i32..200).prop_map(|v| Some(f64::from(v) / 4.0))],
        0u8..100,
        1u8..4,
    );
    let case = (
        proptest::collection::vec(row, 60..400),
        2usize..7,
        prop_oneof![Just(0.0), Just(0.05), Just(0.1)],
        0u8..3,
        prop_oneof![Just("ascending"), Just("descending"), Just("auto")],
    );
    runner
        .run(&case, |(raw, max_bins, min_size, min_events, direction)| {
            // Events more likely for larger x, so both directions are tested.
            let rows: Vec<(Option<f64>, i64, f64)> = raw
                .iter()
                .map(|(x, u, w)| {
                    let p = x.map_or(30.0, |v| 10.0 + v * 0.3);
                    (*x, i64::from(f64::from(*u) < p), f64::from(*w))
                })
                .collect();
            let xs: Vec<Option<f64>> = rows.iter().map(|r| r.0).collect();
            let ys: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let ws: Vec<f64> = rows.iter().map(|r| r.2).collect();
            let events: f64 = rows.iter().filter(|r| r.1 == 1 && r.0.is_some()).map(|r| r.2).sum();
            let goods: f64 = rows.iter().filter(|r| r.1 == 0 && r.0.is_some()).map(|r| r.2).sum();
            prop_assume!(events >= 3.0 && goods >= 3.0);
            let df = frame(&s, &xs, &vec![None; rows.len()], &ys, &ws);
            let text = format!(
                "target: y\nweight: w\ndefaults: {{max_n_bins: {max_bins}, min_bin_size: {min_size}, min_events: {min_events}, min_non_events: {min_events}, monotonic: {direction}, prebins: 15}}\nvariables: [x]\n"
            );
            let b = run(fit_binning(&df, &spec(&text))).unwrap();
            let x = &b.variables[0];
            let regular: Vec<_> = x.bins.iter().filter(|b| b.bin > 0).collect();
            prop_assert!(regular.len() <= max_bins);
            let binned: f64 = regular.iter().map(|b| b.count).sum();
            for r in &regular {
                prop_assert!(r.count >= min_size * binned * (1.0 - 1e-9), "{r:?}");
                prop_assert!(r.counts.events >= f64::from(min_events));
                prop_assert!(r.counts.non_events >= f64::from(min_events));
            }
            let rates: Vec<f64> = regular.iter().map(|b| b.event_rate.unwrap()).collect();
            let up = rates.windows(2).all(|p| p[0] < p[1]);
            let down = rates.windows(2).all(|p| p[0] > p[1]);
            match x.monotonic {
                Some(Monotonic::Ascending) => prop_assert!(up, "{rates:?}"),
                Some(Monotonic::Descending) => prop_assert!(down, "{rates:?}"),
                other => prop_assert!(false, "direction {other:?}"),
            }
            if direction == "ascending" {
                prop_assert_eq!(x.monotonic, Some(Monotonic::Ascending));
            }
            // The counts are those of the rows, binned naively by the edges.
            let want = naive_counts(&rows, &x.edges);
            let got: Vec<Counts> = x.bins.iter().filter(|b| b.bin >= 0).map(|b| b.counts).collect();
            prop_assert_eq!(&got, &want);
            let ev = evidence(&want);
            for (b, e) in x.bins.iter().filter(|b| b.bin >= 0).zip(ev) {
                prop_assert!((b.woe - e.woe).abs() < 1e-12 && b.woe.is_finite());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn weighted_binning_equals_binning_the_expanded_rows() {
    let s = session();
    let rows: Vec<(Option<f64>, Option<&str>, i64, f64)> = (0..300)
        .map(|i| {
            let x = if i % 17 == 0 {
                None
            } else {
                Some(f64::from((i * 37) % 101))
            };
            let c = ["a", "b", "c", "d"][(i % 4) as usize];
            let y = i64::from((i * 7919) % 100 < 20 + (i % 101) / 3);
            (x, Some(c), y, f64::from(1 + i % 3))
        })
        .collect();
    let weighted = frame(
        &s,
        &rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    );
    let expanded: Vec<_> = rows
        .iter()
        .flat_map(|r| std::iter::repeat_n(*r, r.3 as usize))
        .collect();
    let plain = frame(
        &s,
        &expanded.iter().map(|r| r.0).collect::<Vec<_>>(),
        &expanded.iter().map(|r| r.1).collect::<Vec<_>>(),
        &expanded.iter().map(|r| r.2).collect::<Vec<_>>(),
        &vec![1.0; expanded.len()],
    );
    for method in ["optimal", "quantile", "equal_width"] {
        let body =
            format!("defaults: {{method: {method}, min_bin_size: 0.02}}\nvariables: [x, c]\n");
        let a = run(fit_binning(
            &weighted,
            &spec(&format!("target: y\nweight: w\n{body}")),
        ))
        .unwrap();
        let b = run(fit_binning(&plain, &spec(&format!("target: y\n{body}")))).unwrap();
        assert_eq!(a.variables, b.variables, "{method}");
    }
}

#[test]
fn compression_is_exact_and_fits_on_it_equal_fits_on_all_rows() {
    let s = session();
    let rows: Vec<(Option<f64>, Option<&str>, i64)> = (0..2000)
        .map(|i: i32| {
            let x = if i % 29 == 0 {
                None
            } else {
                Some(f64::from((i * 53) % 97))
            };
            let c = ["a", "b", "c"][(i % 3) as usize];
            let risk = 5 + (i % 97) / 4 + if c == "c" { 15 } else { 0 };
            (x, Some(c), i64::from((i * 7919 + 13) % 100 < risk))
        })
        .collect();
    let n = rows.len();
    let df = frame(
        &s,
        &rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        &vec![1.0; n],
    );
    let b = run(fit_binning(&df, &spec("target: y\nvariables: [x, c]\n"))).unwrap();
    let binned = b.transform(df.clone(), None).unwrap();
    let by: Vec<String> = ["x_bin", "x_woe", "c_bin", "c_woe"]
        .map(String::from)
        .to_vec();
    let (compressed, report) = run(compress(&binned, &by, "y", None)).unwrap();
    let events: i64 = rows.iter().map(|r| r.2).sum();
    assert_eq!(report.input_rows, n as u64);
    assert_eq!(report.input_weight, n as f64);
    assert_eq!(report.input_events, events as f64);
    let out = run(compressed.clone().collect()).unwrap();
    assert_eq!(floats(&out, "sample_weight").iter().sum::<f64>(), n as f64);
    assert_eq!(
        floats(&out, "event_weight").iter().sum::<f64>(),
        events as f64
    );
    // As many rows as distinct bin combinations.
    let distinct = run(binned
        .clone()
        .select(vec![col("x_bin"), col("c_bin")])
        .unwrap()
        .distinct()
        .unwrap()
        .count())
    .unwrap();
    assert_eq!(report.output_rows, distinct as u64);
    assert!(report.ratio > 50.0, "{report:?}");

    let features = vec![woe_column("x"), woe_column("c")];
    let options = LogisticOptions::default();
    let full = run(fit_logistic(&binned, &features, "y", None, &options)).unwrap();
    let small = run(fit_logistic(
        &compressed,
        &features,
        "event_rate",
        Some("sample_weight"),
        &options,
    ))
    .unwrap();
    assert!(full.converged && small.converged);
    for (a, b) in full.coefficients.iter().zip(&small.coefficients) {
        assert!((a.estimate - b.estimate).abs() < 1e-8, "{a:?} vs {b:?}");
        assert!((a.std_error - b.std_error).abs() < 1e-8, "{a:?} vs {b:?}");
    }
    assert!((full.log_likelihood - small.log_likelihood).abs() < 1e-6);

    // A naive Newton fit on the rows in memory gives the same estimates.
    let table = run(binned
        .select(vec![col("x_woe"), col("c_woe"), col("y")])
        .unwrap()
        .collect())
    .unwrap();
    let (x1, x2, y) = (
        floats(&table, "x_woe"),
        floats(&table, "c_woe"),
        floats(&table, "y"),
    );
    let beta = naive_newton(&[x1, x2], &y);
    for (j, c) in full.coefficients.iter().enumerate() {
        assert!(
            (c.estimate - beta[j]).abs() < 1e-8,
            "{j}: {} vs {}",
            c.estimate,
            beta[j]
        );
    }

    // The scorecard: SQL export = engine score = scaled log-odds.
    let scaling = Scaling::default();
    let card = Scorecard::new(&b, &small, &scaling).unwrap();
    let scored = run(card.score(df.clone(), "score").unwrap().collect()).unwrap();
    let engine = floats(&scored, "score");
    let ctx = s.new_context();
    ctx.register_table("t", df.clone().into_view()).unwrap();
    let sql = run(ctx.sql(&format!("SELECT {} AS score FROM t", card.to_sql()))).unwrap();
    let exported = floats(&run(sql.collect()).unwrap(), "score");
    assert_eq!(engine, exported);
    let woes = run(b
        .transform(df.clone(), None)
        .unwrap()
        .select(vec![col("x_woe"), col("c_woe")])
        .unwrap()
        .collect())
    .unwrap();
    let (wx, wc) = (floats(&woes, "x_woe"), floats(&woes, "c_woe"));
    for i in 0..n {
        let eta = small.intercept()
            + small.coefficient("x_woe").unwrap() * wx[i]
            + small.coefficient("c_woe").unwrap() * wc[i];
        let want = scaling.offset() - scaling.factor() * eta;
        assert!(
            (engine[i] - want).abs() < 1e-9,
            "row {i}: {} vs {want}",
            engine[i]
        );
    }
    // The artifact round-trips.
    let dir = tempfile::tempdir().unwrap();
    card.save(&dir.path().join("card.json")).unwrap();
    assert_eq!(
        Scorecard::load(&dir.path().join("card.json")).unwrap(),
        card
    );
}

/// Plain Newton's method on in-memory rows (intercept first).
#[allow(clippy::needless_range_loop)] // textbook indices on purpose
fn naive_newton(xs: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let k = xs.len() + 1;
    let row = |i: usize| -> Vec<f64> {
        std::iter::once(1.0)
            .chain(xs.iter().map(|x| x[i]))
            .collect()
    };
    let mut beta = vec![0.0; k];
    for _ in 0..100 {
        let mut g = vec![0.0; k];
        let mut h = vec![vec![0.0; k]; k];
        for i in 0..y.len() {
            let r = row(i);
            let eta: f64 = r.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-eta).exp());
            for a in 0..k {
                g[a] += (y[i] - p) * r[a];
                for b in 0..k {
                    h[a][b] += p * (1.0 - p) * r[a] * r[b];
                }
            }
        }
        // Gaussian elimination.
        let mut m: Vec<Vec<f64>> = h
            .iter()
            .zip(&g)
            .map(|(r, v)| {
                let mut r = r.clone();
                r.push(*v);
                r
            })
            .collect();
        for c in 0..k {
            let p = (c..k)
                .max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
                .unwrap();
            m.swap(c, p);
            for r in 0..k {
                if r != c {
                    let f = m[r][c] / m[c][c];
                    for j in c..=k {
                        m[r][j] -= f * m[c][j];
                    }
                }
            }
        }
        let step: Vec<f64> = (0..k).map(|c| m[c][k] / m[c][c]).collect();
        for (b, d) in beta.iter_mut().zip(&step) {
            *b += d;
        }
        if step.iter().all(|d| d.abs() < 1e-13) {
            break;
        }
    }
    beta
}

#[test]
fn auc_and_ks_match_the_pairwise_definitions() {
    let s = session();
    let mut runner = TestRunner::new(PropConfig {
        cases: 30,
        ..PropConfig::default()
    });
    let row = (0i32..15, 0u8..2, 1u8..4);
    runner
        .run(&proptest::collection::vec(row, 2..120), |rows| {
            let ys: Vec<i64> = rows.iter().map(|r| i64::from(r.1)).collect();
            prop_assume!(ys.contains(&0) && ys.contains(&1));
            let xs: Vec<Option<f64>> = rows.iter().map(|r| Some(f64::from(r.0))).collect();
            let ws: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            let df = frame(&s, &xs, &vec![None; rows.len()], &ys, &ws);
            let e = run(evaluate(&df, "x", "y", Some("w"), 4)).unwrap();
            let (mut pairs, mut right) = (0.0, 0.0);
            for a in &rows {
                for b in &rows {
                    if a.1 == 0 && b.1 == 1 {
                        let w = f64::from(a.2) * f64::from(b.2);
                        pairs += w;
                        right += w * match a.0.cmp(&b.0) {
                            std::cmp::Ordering::Greater => 1.0,
                            std::cmp::Ordering::Equal => 0.5,
                            std::cmp::Ordering::Less => 0.0,
                        };
                    }
                }
            }
            prop_assert!((e.auc - right / pairs).abs() < 1e-12);
            let total = |y: u8, upto: i32| -> f64 {
                rows.iter()
                    .filter(|r| r.1 == y && r.0 <= upto)
                    .map(|r| f64::from(r.2))
                    .sum()
            };
            let ks = (0..15)
                .map(|t| (total(1, t) / total(1, 99) - total(0, t) / total(0, 99)).abs())
                .fold(0.0, f64::max);
            prop_assert!((e.ks - ks).abs() < 1e-12);
            let banded: f64 = e.bands.iter().map(|b| b.count).sum();
            prop_assert!((banded - ws.iter().sum::<f64>()).abs() < 1e-9);
            Ok(())
        })
        .unwrap();
}

#[test]
fn bad_input_is_named() {
    let s = session();
    let xs: Vec<Option<f64>> = (0..20).map(|i| Some(f64::from(i))).collect();
    let cats = vec![Some("a"); 20];
    let ys: Vec<i64> = (0..20).map(|i| i64::from(i >= 10)).collect();
    let ws = vec![1.0; 20];
    let df = frame(&s, &xs, &cats, &ys, &ws);
    let err = |r: scorelake::Result<_>| r.err().map(|e| e.to_string()).unwrap_or_default();

    let mut two = ys.clone();
    two[3] = 2;
    let bad = frame(&s, &xs, &cats, &two, &ws);
    let e = err(run(fit_binning(&bad, &spec("target: y\nvariables: [x]\n"))).map(|_| ()));
    assert!(e.contains("target column `y` must be 0 or 1"), "{e}");
    let e = err(run(fit_binning(
        &df,
        &spec("target: y\ndefaults: {min_events: 50}\nvariables: [x]\n"),
    ))
    .map(|_| ()));
    assert!(
        e.contains("variable `x`") && e.contains("min_events 50"),
        "{e}"
    );
    let e = err(run(fit_binning(&df, &spec("target: y\nvariables: [nope]\n"))).map(|_| ()));
    assert!(e.contains("`nope`"), "{e}");
    // Absurd bin counts (`compress --bins 1e6`) are refused, naming the option.
    for (settings, option) in [
        ("{method: quantile, bins: 1000000}", "bins"),
        ("{prebins: 100000}", "prebins"),
        ("{max_n_bins: 5000}", "max_n_bins"),
    ] {
        let text = format!("target: y\ndefaults: {settings}\nvariables: [x]\n");
        let e = spec(&text).resolved().unwrap_err();
        assert!(
            matches!(&e, scorelake::Error::OutOfRange { option: o, .. } if o == option),
            "{e:?}"
        );
        assert!(e.to_string().contains("variable `x`"), "{e}");
    }
    let e = err(
        BinningSpec::parse("target: y\nvariables: [{column: x, max_bins: 3}]\n", "yaml")
            .map(|_| ()),
    );
    assert!(e.contains("variable `x`") && e.contains("max_bins"), "{e}");
    let mut negative = ws.clone();
    negative[0] = -1.0;
    let e = err(run(fit_binning(
        &frame(&s, &xs, &cats, &ys, &negative),
        &spec("target: y\nweight: w\nvariables: [x]\n"),
    ))
    .map(|_| ()));
    assert!(e.contains("weight column `w` has negative values"), "{e}");

    // A feature with one value cannot be estimated; separated data are reported.
    let options = LogisticOptions::default();
    let one = frame(&s, &vec![Some(1.0); 20], &cats, &ys, &ws);
    let e = err(run(fit_logistic(&one, &["x".to_string()], "y", None, &options)).map(|_| ()));
    assert!(
        e.contains("feature column `x` has one distinct value"),
        "{e}"
    );
    let e = err(run(fit_logistic(&df, &["x".to_string()], "y", None, &options)).map(|_| ()));
    assert!(e.contains("separated") && e.contains("`x`"), "{e}");
    let e = err(run(fit_logistic(&df, &["c".to_string()], "y", None, &options)).map(|_| ()));
    assert!(e.contains("feature column `c` is Utf8"), "{e}");
}

/// The sample panel of `customers` customers as `dir/panel.parquet`.
fn sample_parquet(s: &Session, dir: &std::path::Path, customers: u64) -> std::path::PathBuf {
    let panel = dir.join("panel.parquet");
    let spec = scorelake::sample::SampleSpec {
        customers,
        ..scorelake::sample::SampleSpec::default()
    };
    run(async {
        let df = scorelake::sample::dataframe(s, &spec, None).unwrap();
        crate::support::write_to(s, df, &panel).await;
    });
    panel
}

#[test]
fn the_pipeline_runs_from_a_file_and_writes_every_artifact() {
    let s = session();
    let dir = tempfile::tempdir().unwrap();
    sample_parquet(&s, dir.path(), 3000);
    // The development sample: monthly observations, a 12-month target.
    std::fs::write(
        dir.path().join("design.yaml"),
        "entity: customer_id\ntime: month\n\
         observation: {every: 1mo, from: 2023-07-01, to: 2023-12-01}\n\
         target: {name: bad_12m, default_event_within: 12mo}\nrecipes: []\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pipeline.yaml"),
        "input: panel.parquet\noutput: out\ntarget: bad_12m\nfeatures: design.yaml\n\
         holdout: {share: 0.3, by: [customer_id], seed: 7}\n\
         binning:\n  defaults: {max_n_bins: 5}\n  variables: [utilization, days_past_due, balance, num_inquiries, product, region]\n\
         segments: [channel]\nscaling: {pdo: 20, base_score: 600, base_odds: 50, round: true}\n\
         publish: {modelling: lake/modelling, compressed: lake/compressed}\n",
    )
    .unwrap();
    let pipeline =
        scorelake::pipeline::ScorecardPipeline::from_path(&dir.path().join("pipeline.yaml"))
            .unwrap();
    let report = run(scorelake::pipeline::run_scorecard_pipeline(&s, &pipeline)).unwrap();
    // Published as Delta tables (append): a second run is version 1 of each.
    let again = run(scorelake::pipeline::run_scorecard_pipeline(&s, &pipeline)).unwrap();
    for (first, second) in report.published.iter().zip(&again.published) {
        assert_eq!(
            (first.version, second.version),
            (Some(0), Some(1)),
            "{first:?}"
        );
        assert_eq!(first.rows, second.rows);
    }
    assert_eq!(report.published.len(), 2);
    assert_eq!(report.published[0].rows, report.rows.0);
    assert_eq!(report.published[1].rows, report.compression.output_rows);
    assert!(dir.path().join("lake/modelling/_delta_log").is_dir());
    let out = dir.path().join("out");
    for f in [
        "modelling.parquet",
        "binning.json",
        "binning_tables.md",
        "compressed.parquet",
        "scorecard.json",
        "scorecard.sql",
        "scorecard.md",
        "report.json",
        "report.md",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let (rows, train, held) = report.rows;
    assert_eq!(rows, train + held);
    assert!(held > rows / 5 && held < rows * 2 / 5, "{report:?}");
    assert_eq!(report.compression.input_rows, train);
    assert!(report.compression.ratio > 5.0, "{:?}", report.compression);
    assert!(!report.selected.is_empty());
    for c in &report.model.coefficients[1..] {
        assert!(c.estimate < 0.0 && c.p_value <= 0.05, "{c:?}");
    }
    assert!(report.train.gini > 0.2, "{}", report.train.gini);
    assert!(report.holdout.as_ref().unwrap().gini > 0.1);
    let card = Scorecard::load(&out.join("scorecard.json")).unwrap();
    assert!(
        card.variables
            .iter()
            .all(|v| v.points.iter().all(|p| p.points == p.points.round()))
    );
}

#[test]
fn an_out_of_time_sample_is_held_out_and_reported_beside_the_others() {
    let s = session();
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_parquet(&s, dir.path(), 2000);
    let write = |name: &str, holdout: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "input: panel.parquet\noutput: {name}.out\ntarget: default_flag\nholdout: {holdout}\n\
                 binning:\n  variables: [utilization, days_past_due, payment, region]\n"
            ),
        )
        .unwrap();
        scorelake::pipeline::ScorecardPipeline::from_path(&path)
    };
    let pipeline = write(
        "both.yaml",
        "{share: 0.3, by: [customer_id], seed: 7, oot_from: 2024-07-01, time: month}",
    )
    .unwrap();
    let report = run(scorelake::pipeline::run_scorecard_pipeline(&s, &pipeline)).unwrap();
    // Counted independently: rows from July 2024 on, and the rest.
    let ctx = s.new_context();
    let count = |sql: &str| -> u64 {
        run(async {
            ctx.register_parquet("p", panel.to_str().unwrap(), Default::default())
                .await
                .ok();
            let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            b[0].column(0)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(0) as u64
        })
    };
    let late = count("SELECT count(*) FROM p WHERE month >= DATE '2024-07-01'");
    let all = count("SELECT count(*) FROM p");
    let names: Vec<&str> = report.samples.iter().map(|x| x.sample.as_str()).collect();
    assert_eq!(names, ["training", "holdout", "out of time"]);
    let (train, held, oot) = (
        report.samples[0].rows,
        report.samples[1].rows,
        report.samples[2].rows,
    );
    assert_eq!(oot, late);
    assert_eq!(train + held + oot, all);
    assert!(
        held > (all - late) / 5 && held < (all - late) * 2 / 5,
        "{held}"
    );
    // Nothing out of time (or held out) reaches a fit.
    assert_eq!(report.compression.input_rows, train);
    assert!(report.oot.as_ref().unwrap().gini > 0.1);
    for x in &report.samples[1..] {
        assert!(
            x.score_psi.unwrap() >= 0.0 && x.score_psi.unwrap() < 0.25,
            "{x:?}"
        );
    }
    let md = std::fs::read_to_string(dir.path().join("both.yaml.out/report.md")).unwrap();
    assert!(
        md.contains("| out of time | ") && md.contains("score PSI"),
        "{md}"
    );

    // Bin stability: each model variable's event rate per bin and month,
    // as SQL finds it on the modelling table binned by the fitted binning.
    assert_eq!(report.stability.len(), report.selected.len());
    let binning =
        scorelake::scorecard::Binning::load(&dir.path().join("both.yaml.out/binning.json"))
            .unwrap();
    let first = &report.stability[0];
    assert_eq!(first.periods.len(), 24);
    let modelling = run(s.ctx().read_parquet(
        dir.path()
            .join("both.yaml.out/modelling.parquet")
            .to_str()
            .unwrap(),
        Default::default(),
    ))
    .unwrap();
    let binned = binning
        .transform(modelling, Some(std::slice::from_ref(&first.variable)))
        .unwrap();
    let ctx = s.new_context();
    ctx.register_table("b", binned.into_view()).unwrap();
    let rates = run(async {
        ctx.sql(&format!(
            "SELECT CAST(month AS VARCHAR) AS p, CAST({} AS BIGINT) AS bin, avg(CAST(default_flag AS DOUBLE)) AS r \
             FROM b GROUP BY 1, 2",
            scorelake::scorecard::bin_column(&first.variable)
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
    });
    let mut checked = 0;
    for batch in &rates {
        let ps = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8).unwrap();
        let ps = ps.as_string::<i32>();
        let bins = batch
            .column(1)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let want = batch.column(2).as_primitive::<Float64Type>();
        for r in 0..batch.num_rows() {
            let bin = bins.value(r);
            if bin < 1 {
                continue;
            }
            let p = first.periods.iter().position(|x| x == ps.value(r)).unwrap();
            let got = first.rates[bin as usize - 1][p].unwrap();
            assert!(
                (got - want.value(r)).abs() < 1e-12,
                "{} {bin}: {got}",
                ps.value(r)
            );
            checked += 1;
        }
    }
    assert!(checked >= 24, "{checked}");

    // Out of time alone.
    let pipeline = write("oot.yaml", "{oot_from: 2024-07-01, time: month}").unwrap();
    let report = run(scorelake::pipeline::run_scorecard_pipeline(&s, &pipeline)).unwrap();
    assert_eq!(report.samples.len(), 2);
    assert_eq!(report.samples[0].rows, all - late);

    // Bad settings: named, before anything is written.
    for (holdout, expected) in [
        (
            "{oot_from: 2030-01-01, time: month}",
            "out-of-time sample is empty",
        ),
        (
            "{oot_from: 2024-07-01}",
            "holdout.oot_from needs holdout.time",
        ),
        (
            "{oot_from: 2024-13-01, time: month}",
            "`2024-13-01` is not a date",
        ),
        (
            "{oot_from: 2024-07-01, time: product}",
            "holdout.time column `product` is Utf8",
        ),
        (
            "{by: [customer_id]}",
            "holdout.by is set without holdout.share",
        ),
    ] {
        let pipeline = write("bad.yaml", holdout).unwrap();
        let e = run(scorelake::pipeline::run_scorecard_pipeline(&s, &pipeline))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(expected), "{holdout}: {e}");
    }
}

#[test]
fn weight_zero_rows_count_for_nothing_and_non_finite_weights_are_refused() {
    let s = session();
    // Rows of category `z` all have weight 0; a few other rows too.
    let n: i32 = 300;
    let xs: Vec<Option<f64>> = (0..n).map(|i| Some(f64::from((i * 37) % 23))).collect();
    let cats: Vec<Option<&str>> = (0..n)
        .map(|i| Some(["a", "b", "z"][(i % 3) as usize]))
        .collect();
    let ys: Vec<i64> = (0..n).map(|i| i64::from((i * 7919 + 5) % 10 < 3)).collect();
    let ws: Vec<f64> = (0..n)
        .map(|i| {
            if i % 3 == 2 || i % 17 == 0 {
                0.0
            } else {
                f64::from(1 + i % 4)
            }
        })
        .collect();
    let df = frame(&s, &xs, &cats, &ys, &ws);
    let kept: Vec<usize> = (0..n as usize).filter(|i| ws[*i] > 0.0).collect();
    fn pick<T: Copy>(v: &[T], kept: &[usize]) -> Vec<T> {
        kept.iter().map(|i| v[*i]).collect()
    }
    let without = frame(
        &s,
        &pick(&xs, &kept),
        &pick(&cats, &kept),
        &pick(&ys, &kept),
        &pick(&ws, &kept),
    );

    // Compression drops them: no NaN event rate, no group of weight 0.
    let by = vec!["c".to_string()];
    let (compressed, report) = run(compress(&df, &by, "y", Some("w"))).unwrap();
    assert_eq!(report.input_rows, n as u64);
    let out = run(compressed.collect()).unwrap();
    assert_eq!(report.output_rows, 2);
    assert!(floats(&out, "event_rate").iter().all(|r| r.is_finite()));
    assert!(floats(&out, "sample_weight").iter().all(|w| *w > 0.0));

    // The logistic fit with weight-0 rows equals the fit without them.
    let options = LogisticOptions::default();
    let x = ["x".to_string()];
    let with = run(fit_logistic(&df, &x, "y", Some("w"), &options)).unwrap();
    let plain = run(fit_logistic(&without, &x, "y", Some("w"), &options)).unwrap();
    for (a, b) in with.coefficients.iter().zip(&plain.coefficients) {
        assert!((a.estimate - b.estimate).abs() < 1e-10, "{a:?} vs {b:?}");
        assert!((a.std_error - b.std_error).abs() < 1e-10, "{a:?} vs {b:?}");
    }
    // statsmodels 0.15 on the same rows: GLM(y, [1, x], Binomial(),
    // freq_weights=w).fit(), which ignores the rows of weight 0 too.
    let statsmodels = [
        (-0.9376229772052243, 0.19904072591052127),
        (0.014308199097513394, 0.015240189457010458),
    ];
    for (c, (estimate, std_error)) in with.coefficients.iter().zip(statsmodels) {
        assert!((c.estimate - estimate).abs() < 1e-6, "{c:?} vs {estimate}");
        assert!(
            (c.std_error - std_error).abs() < 1e-6,
            "{c:?} vs {std_error}"
        );
    }

    // NaN and infinite weights are refused, naming the column.
    for bad in [f64::NAN, f64::INFINITY] {
        let mut w = ws.clone();
        w[4] = bad;
        let e = run(compress(
            &frame(&s, &xs, &cats, &ys, &w),
            &by,
            "y",
            Some("w"),
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("weight column `w`") && e.contains("NaN or infinite"),
            "{bad}: {e}"
        );
    }
}

/// A scorecard fitted on a numeric variable (with a special value) and a
/// categorical one, with the data it scores.
fn fitted_card(s: &Session) -> (Scorecard, DataFrame) {
    let n = 1200;
    let xs: Vec<Option<f64>> = (0..n)
        .map(|i: i32| match i % 31 {
            0 => None,
            1 => Some(-1.0),
            _ => Some(f64::from(i % 97)),
        })
        .collect();
    let cats: Vec<Option<&str>> = (0..n)
        .map(|i| Some(["a", "b", "c", "d"][(i % 4) as usize]))
        .collect();
    let ys: Vec<i64> = (0..n)
        .map(|i| {
            let risk = 5 + (i % 97) / 3 + if i % 4 == 2 { 20 } else { (i % 4) * 3 };
            i64::from((i * 7919 + 13) % 100 < risk)
        })
        .collect();
    let df = frame(s, &xs, &cats, &ys, &vec![1.0; n as usize]);
    let b = run(fit_binning(
        &df,
        &spec("target: y\ndefaults: {rare_share: 0}\nvariables: [{column: x, special_values: [-1]}, c]\n"),
    ))
    .unwrap();
    let binned = b.transform(df.clone(), None).unwrap();
    let features = vec![woe_column("x"), woe_column("c")];
    let model = run(fit_logistic(
        &binned,
        &features,
        "y",
        None,
        &LogisticOptions::default(),
    ))
    .unwrap();
    let card = Scorecard::new(&b, &model, &Scaling::default()).unwrap();
    assert!(card.variables[0].binning.edges.len() >= 2, "{card:?}");
    assert!(card.variables[1].binning.groups.len() >= 2, "{card:?}");
    (card, df)
}

/// Edits of a scorecard's JSON that make it inconsistent, with what the
/// error names.
const CARD_EDITS: [(Edit, &str); 9] = [
    (
        |v| {
            v["variables"][0]["points"]
                .as_array_mut()
                .unwrap()
                .remove(1);
        },
        "variable `x`: the points miss bin -1",
    ),
    (
        |v| {
            let p = v["variables"][0]["points"].as_array_mut().unwrap();
            let mut extra = p[0].clone();
            extra["bin"] = serde_json::json!(99);
            p.push(extra);
        },
        "variable `x`: the points list bin 99, which",
    ),
    (
        |v| {
            let p = v["variables"][1]["points"].as_array_mut().unwrap();
            p.push(p[1].clone());
        },
        "variable `c`: the points list bin 1 twice",
    ),
    (
        |v| {
            let bins = v["variables"][0]["binning"]["bins"].as_array_mut().unwrap();
            bins.push(bins[2].clone());
        },
        "variable `x`: the bins list bin 1 twice",
    ),
    (
        |v| {
            let vars = v["variables"].as_array_mut().unwrap();
            vars.push(vars[0].clone());
        },
        "variable `x` is listed twice",
    ),
    (
        |v| {
            v["variables"][0]["binning"]["edges"]
                .as_array_mut()
                .unwrap()
                .swap(0, 1)
        },
        "variable `x`: edges are not strictly increasing",
    ),
    (
        |v| {
            v["variables"][0]["binning"]["edges"]
                .as_array_mut()
                .unwrap()
                .pop();
        },
        "variable `x`: the bins list bin",
    ),
    (
        |v| v["variables"][1]["binning"]["groups"][0] = serde_json::json!([]),
        "variable `c`: category group 1 is empty",
    ),
    (
        |v| {
            let g = v["variables"][1]["binning"]["groups"]
                .as_array_mut()
                .unwrap();
            let first = g[0][0].clone();
            g[1].as_array_mut().unwrap().push(first);
        },
        "is in more than one group",
    ),
];

#[test]
fn hand_edited_scorecards_are_refused_naming_what_is_inconsistent() {
    let s = session();
    let (card, _) = fitted_card(&s);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    card.save(&path).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bad = dir.path().join("edited.json");
    assert_edits_refused(&original, &CARD_EDITS, &bad, Scorecard::load);
    // The same checks guard a binning file, and edges that are not finite.
    let mut binning = card.variables[0].binning.clone();
    binning.edges[0] = f64::INFINITY;
    let e = binning.validate().unwrap_err().to_string();
    assert!(
        e.contains("variable `x`: edge inf is not a finite number"),
        "{e}"
    );
    let mut binning = card.variables[1].binning.clone();
    binning.unseen_bin = 42;
    let e = binning.validate().unwrap_err().to_string();
    assert!(e.contains("variable `c`: the unseen bin 42"), "{e}");
}

#[test]
fn random_edits_of_a_scorecard_are_refused_or_score_the_same() {
    let s = session();
    let (card, df) = fitted_card(&s);
    let score = |c: &Scorecard| {
        floats(
            &run(c.score(df.clone(), "score").unwrap().collect()).unwrap(),
            "score",
        )
    };
    let want = score(&card);
    let original = serde_json::to_value(&card).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let (mut refused, mut accepted) = (0, 0);
    for _ in 0..240 {
        let mut v = original.clone();
        let var = next(2);
        let target = &mut v["variables"][var];
        match next(6) {
            0 => {
                let p = target["points"].as_array_mut().unwrap();
                let i = next(p.len());
                p.remove(i);
            }
            1 => {
                let bins = target["binning"]["bins"].as_array_mut().unwrap();
                let i = next(bins.len());
                bins.push(bins[i].clone());
            }
            2 => {
                if let Some(e) = target["binning"]["edges"].as_array_mut() {
                    let (i, j) = (next(e.len()), next(e.len()));
                    e.swap(i, j);
                }
            }
            3 => {
                let bins = target["binning"]["bins"].as_array_mut().unwrap();
                let i = next(bins.len());
                bins[i]["count"] = serde_json::json!(next(1000));
            }
            4 => {
                let p = target["points"].as_array_mut().unwrap();
                let i = next(p.len());
                p[i]["bin"] = serde_json::json!(next(12) as i64 - 3);
            }
            _ => {
                let bins = target["binning"]["bins"].as_array_mut().unwrap();
                let i = next(bins.len());
                bins.remove(i);
            }
        }
        std::fs::write(&path, v.to_string()).unwrap();
        match Scorecard::load(&path) {
            Err(e) => {
                assert!(e.to_string().contains("card.json"), "{e}");
                refused += 1;
            }
            Ok(edited) => {
                assert_eq!(score(&edited), want, "an accepted edit changed the scores");
                accepted += 1;
            }
        }
    }
    assert!(
        refused > 100 && accepted > 10,
        "{refused} refused, {accepted} accepted"
    );
}

/// Text values of column `name` (None for NULL).
fn texts(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a =
                datafusion::arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Utf8)
                    .unwrap();
            let a = a.as_string::<i32>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn pd_and_reason_codes_equal_their_sql_export_and_the_naive_rules() {
    let s = session();
    let (mut card, df) = fitted_card(&s);
    // One more variable, so three can compete for two reasons: x again
    // under another name with its own points.
    let mut twin = card.variables[0].clone();
    twin.binning.column = "x2".into();
    for p in &mut twin.points {
        p.points = (p.points * 0.5).round();
    }
    card.variables.push(twin);
    let df = df.with_column("x2", col("x")).unwrap();
    let columns = ScoreColumns {
        points: true,
        reasons: 2,
        ..ScoreColumns::default()
    };
    let engine = run(card.score_with(df.clone(), &columns).unwrap().collect()).unwrap();
    let ctx = s.new_context();
    ctx.register_table("input", df.clone().into_view()).unwrap();
    let sql = run(ctx.sql(&card.to_sql_query("input", 2).unwrap())).unwrap();
    let exported = run(sql.collect()).unwrap();
    for c in ["score", "pd"] {
        assert_eq!(floats(&engine, c), floats(&exported, c), "{c}");
    }
    for c in ["reason_1", "reason_2"] {
        assert_eq!(texts(&engine, c), texts(&exported, c), "{c}");
    }

    // Naive: PD from the score; reasons by points lost against each
    // variable's best bin, largest first, ties in card order.
    let (score, pd) = (floats(&engine, "score"), floats(&engine, "pd"));
    let names: Vec<String> = card
        .variables
        .iter()
        .map(|v| v.binning.column.clone())
        .collect();
    let points: Vec<Vec<f64>> = names
        .iter()
        .map(|n| floats(&engine, &points_column(n)))
        .collect();
    let best: Vec<f64> = card
        .variables
        .iter()
        .map(|v| v.points.iter().map(|p| p.points).fold(f64::MIN, f64::max))
        .collect();
    let (r1, r2) = (texts(&engine, "reason_1"), texts(&engine, "reason_2"));
    let (factor, offset) = (card.scaling.factor(), card.scaling.offset());
    let mut with_reasons = 0;
    for i in 0..score.len() {
        let total: f64 = points.iter().map(|p| p[i]).sum();
        assert!((total - score[i]).abs() < 1e-9);
        let eta = (offset - score[i]) / factor;
        let want = 1.0 / (1.0 + (-eta).exp());
        assert!((pd[i] - want).abs() < 1e-15, "row {i}: {} vs {want}", pd[i]);
        let mut lost: Vec<(usize, f64)> = (0..names.len())
            .map(|j| (j, best[j] - points[j][i]))
            .filter(|(_, l)| *l > 0.0)
            .collect();
        lost.sort_by(|a, b| b.1.total_cmp(&a.1)); // stable: card order on ties
        let want: Vec<Option<String>> = (0..2)
            .map(|k| lost.get(k).map(|(j, _)| names[*j].clone()))
            .collect();
        assert_eq!(vec![r1[i].clone(), r2[i].clone()], want, "row {i}");
        with_reasons += usize::from(want[1].is_some());
    }
    assert!(with_reasons > 100, "{with_reasons}");

    // A target rate moves every PD's log-odds by the same amount.
    let trained = card.event_rate.unwrap();
    card.scaling.pd_target_rate = Some(0.02);
    let moved = floats(
        &run(card
            .score_with(df.clone(), &ScoreColumns::default())
            .unwrap()
            .collect())
        .unwrap(),
        "pd",
    );
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let shift = logit(0.02) - logit(trained);
    for (a, b) in pd.iter().zip(&moved) {
        assert!((logit(*b) - logit(*a) - shift).abs() < 1e-9);
    }
    // Scoring refuses to overwrite an input column.
    let e = card
        .score_with(
            df.with_column("pd", col("x")).unwrap(),
            &ScoreColumns::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("column `pd` already"), "{e}");
}

#[test]
fn user_splits_and_groups_give_the_hand_computed_table() {
    let s = session();
    // x = 1..=10, ten rows each; x = k has k events. Categories a..e in turn.
    let (mut xs, mut cats, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for k in 1..=10i32 {
        for r in 0..10i32 {
            xs.push(Some(f64::from(k)));
            cats.push(Some(["a", "b", "c", "d", "e"][(r % 5) as usize]));
            ys.push(i64::from(r < k));
        }
    }
    let df = frame(&s, &xs, &cats, &ys, &vec![1.0; xs.len()]);
    let b = run(fit_binning(
        &df,
        &spec(
            "target: y\nvariables:\n  - {column: x, splits: [3.5, 7.5], monotonic: ascending}\n  - {column: c, groups: [[a, b], ['*']]}\n",
        ),
    ))
    .unwrap();
    let x = &b.variables[0];
    assert_eq!(x.edges, vec![3.5, 7.5]);
    // (−∞, 3.5]: 30 rows, 6 events; (3.5, 7.5]: 40 rows, 22; (7.5, ∞): 30, 27.
    let (total_e, total_n): (f64, f64) = (55.0, 45.0);
    let mut iv = 0.0;
    for (bin, (rows, events)) in [(1, (30.0f64, 6.0f64)), (2, (40.0, 22.0)), (3, (30.0, 27.0))] {
        let got = x.bin(bin).unwrap();
        let (pn, pe) = ((rows - events) / total_n, events / total_e);
        let woe = (pn / pe).ln();
        iv += (pn - pe) * woe;
        assert_eq!((got.count, got.counts.events), (rows, events));
        assert!(
            (got.woe - woe).abs() < 1e-12,
            "bin {bin}: {} vs {woe}",
            got.woe
        );
    }
    assert!((x.iv - iv).abs() < 1e-12);
    assert_eq!(x.monotonic, Some(Monotonic::Ascending));

    // Groups: {a, b} and every other category (c, d, e), unseen ones too.
    let c = &b.variables[1];
    assert_eq!(
        c.groups,
        vec![
            vec!["a".to_string(), "b".into()],
            vec!["c".into(), "d".into(), "e".into()]
        ]
    );
    assert_eq!(c.bin(1).unwrap().count, 40.0);
    assert_eq!(c.bin(2).unwrap().count, 60.0);
    assert_eq!(c.unseen_bin, 2);
    let new = frame(&s, &[Some(1.0)], &[Some("zzz")], &[0], &[1.0]);
    let binned = run(b.transform(new, None).unwrap().collect()).unwrap();
    assert_eq!(floats(&binned, "c_bin"), vec![2.0]);

    // A forced order the data break, categories in no group, bad splits.
    for (variables, expected) in [
        (
            "[{column: x, splits: [3.5, 7.5], monotonic: descending}]",
            "variable `x`: the given bins break the descending event rate: bin 1 (<= 3.5) has 0.2000, bin 2",
        ),
        (
            "[{column: c, groups: [[a, b], [c]]}]",
            "categories `d`, `e` are in no group",
        ),
        (
            "[{column: x, splits: [7.5, 3.5]}]",
            "splits must be finite numbers in strictly increasing order",
        ),
        (
            "[{column: x, splits: [3.5], method: quantile}]",
            "make the method manual",
        ),
        ("[{column: c, splits: [1]}]", "splits cut numbers"),
        ("[{column: c, groups: [[a], [a, b]]}]", "list `a` twice"),
    ] {
        let e = run(fit_binning(
            &df,
            &spec(&format!("target: y\nvariables: {variables}\n")),
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains(expected), "{variables}: {e}");
    }
}

/// The compressed rows as sorted text lines, to compare row for row.
fn sorted_rows(df: DataFrame) -> Vec<String> {
    let batches = run(df.collect()).unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let mut lines: Vec<String> = text.lines().skip(3).map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn fitting_and_compressing_at_once_equals_fitting_then_compressing() {
    let s = session();
    let df = run(s.ctx().sql(
        "SELECT CASE WHEN v % 13 = 0 THEN NULL WHEN v % 11 = 0 THEN -999.0 \
                ELSE CAST((v * 7919) % 1000 AS DOUBLE) / 10 END AS x1, \
                CAST((v * 31) % 97 AS DOUBLE) AS x2, \
                CASE WHEN v % 17 = 0 THEN NULL WHEN v % 3 = 0 THEN 'a' WHEN v % 3 = 1 THEN 'b' ELSE 'c' END AS seg, \
                CAST((v * 104729) % 100 < 20 + (v % 50) / 2 AS INT) AS y, \
                CAST(v % 4 AS DOUBLE) AS w \
         FROM generate_series(1, 5000) AS t(v)",
    ))
    .unwrap()
    .repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(3))
    .unwrap();
    // Bins known before counting (the rows' groups give the counts), then
    // bins merged from pre-bins and categories (counted by a pass first).
    let bodies = [
        "defaults: {method: quantile, bins: 5, special_values: [-999]}\nvariables: [x1, x2]",
        "defaults: {method: equal_width, bins: 4}\nvariables: [x1, x2]",
        "variables: [{column: x1, splits: [10, 50.5], special_values: [-999]}, {column: x2, method: quantile, bins: 3}]",
        "defaults: {method: optimal, min_bin_size: 0.05}\nvariables: [x1, x2]",
        "defaults: {method: quantile, bins: 4}\nvariables: [x1, seg]",
    ];
    for body in bodies {
        for weight in ["", "weight: w\n"] {
            for woe in [false, true] {
                let sp = spec(&format!("target: y\n{weight}{body}\n"));
                let segments: Vec<String> = if body.contains("seg]") {
                    vec![]
                } else {
                    vec!["seg".into()]
                };
                let (at_once, rows, report) =
                    run(fit_and_compress(&df, &sp, &segments, woe)).unwrap();
                let fitted = run(fit_binning(&df, &sp)).unwrap();
                let (then, then_report) =
                    run(fitted.compress_fitted(df.clone(), None, &segments, woe)).unwrap();
                let case = format!("{body} {weight} woe {woe}");
                assert_eq!(at_once, fitted, "{case}");
                // The same rows; their size in memory (an estimate) may
                // differ by how the arrays were built.
                let sized = |r: &scorelake::scorecard::CompressionReport| {
                    (
                        r.input_rows,
                        r.input_weight,
                        r.input_events,
                        r.output_rows,
                        r.ratio,
                    )
                };
                assert_eq!(sized(&report), sized(&then_report), "{case}");
                let bytes = (report.output_bytes as f64, then_report.output_bytes as f64);
                assert!(
                    (bytes.0 - bytes.1).abs() <= 0.01 * bytes.1,
                    "{case}: {bytes:?}"
                );
                assert_eq!(
                    rows.schema().as_arrow().fields(),
                    then.schema().as_arrow().fields(),
                    "{case}"
                );
                assert_eq!(sorted_rows(rows), sorted_rows(then), "{case}");
            }
        }
    }
}
