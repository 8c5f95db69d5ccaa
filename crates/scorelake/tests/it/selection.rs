//! Variable selection: correlations and VIFs against naive formulas on the
//! expanded rows, known variables found by stepwise and backward selection,
//! wrong signs always removed, fixed variables, strictness, bad settings.

use std::sync::Arc;

use scorelake::datafusion::arrow::array::{Array, Float64Array, Int64Array, RecordBatch};
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use scorelake::datafusion::prelude::DataFrame;
use scorelake::scorecard::{
    Action, Candidate, Criterion, LogisticOptions, Method, Rule, Selection, SelectionOptions,
    compress, select_variables,
};
use scorelake::session::Session;

use crate::support::session;

/// A small deterministic generator (xorshift) with normal draws.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Columns x1..xk, the 0/1 target y and an integer weight w.
struct Data {
    xs: Vec<Vec<f64>>,
    y: Vec<i64>,
    w: Vec<f64>,
}

/// `n` rows: x1, x2, x3 drive the events (logit −1.0·x1 − 0.8·x2 − 0.6·x3 −
/// 1.5: higher is safer, as WoE), x4 and x5 are noise, x6 is x1 plus a
/// little noise, x7 is half x1 plus noise with a *positive* effect of its
/// own (right sign alone, wrong sign beside x1). Values are rounded to halves
/// so rows repeat and compress; weights are 1 to 3.
fn known(n: usize, seed: u64) -> Data {
    let mut r = Rng(seed);
    let round = |v: f64| (v * 2.0).round() / 2.0;
    let mut xs: Vec<Vec<f64>> = (0..7).map(|_| Vec::with_capacity(n)).collect();
    let (mut y, mut w) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let x1 = round(r.normal());
        let x2 = round(r.normal());
        let x3 = round(r.normal());
        let x4 = round(r.normal());
        let x5 = round(r.normal());
        let x6 = round(x1 + 0.2 * r.normal());
        let x7 = round(0.5 * x1 + r.normal());
        let eta = -1.5 - 1.0 * x1 - 0.8 * x2 - 0.6 * x3 + 0.5 * x7;
        let p = 1.0 / (1.0 + (-eta).exp());
        for (col, v) in xs.iter_mut().zip([x1, x2, x3, x4, x5, x6, x7]) {
            col.push(v);
        }
        y.push(i64::from(r.uniform() < p));
        w.push((1.0 + 3.0 * r.uniform()).floor());
    }
    Data { xs, y, w }
}

impl Data {
    fn frame(&self, s: &Session, weighted: bool) -> DataFrame {
        let mut fields: Vec<Field> = (1..=self.xs.len())
            .map(|j| Field::new(format!("x{j}"), DataType::Float64, false))
            .collect();
        fields.push(Field::new("y", DataType::Int64, false));
        let mut columns: Vec<Arc<dyn Array>> = self
            .xs
            .iter()
            .map(|c| Arc::new(Float64Array::from(c.clone())) as _)
            .collect();
        columns.push(Arc::new(Int64Array::from(self.y.clone())));
        if weighted {
            fields.push(Field::new("w", DataType::Float64, false));
            columns.push(Arc::new(Float64Array::from(self.w.clone())));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        s.ctx().read_batch(batch).unwrap()
    }

    /// The rows repeated by their weights.
    fn expanded(&self) -> Data {
        let mut out = Data {
            xs: vec![Vec::new(); self.xs.len()],
            y: Vec::new(),
            w: Vec::new(),
        };
        for i in 0..self.y.len() {
            for _ in 0..self.w[i] as usize {
                for (o, c) in out.xs.iter_mut().zip(&self.xs) {
                    o.push(c[i]);
                }
                out.y.push(self.y[i]);
                out.w.push(1.0);
            }
        }
        out
    }
}

/// Candidates x1..xk with IVs that rank them in that order (the filters
/// keep the stronger of a pair by IV).
fn candidates(k: usize) -> Vec<Candidate> {
    (1..=k)
        .map(|j| Candidate {
            variable: format!("x{j}"),
            column: format!("x{j}"),
            iv: 1.0 / j as f64,
        })
        .collect()
}

fn select(
    df: &DataFrame,
    weight: Option<&str>,
    k: usize,
    options: &SelectionOptions,
) -> scorelake::Result<Selection> {
    let c = candidates(k);
    let o = LogisticOptions::default();
    run(select_variables(df, "y", weight, &c, options, &o))
}

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// No filter, no selection, no final check: every candidate enters.
fn everything() -> SelectionOptions {
    SelectionOptions {
        min_iv: 0.0,
        max_correlation: None,
        max_vif: None,
        method: Method::None,
        max_p_value: None,
        check_signs: false,
        ..SelectionOptions::default()
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn decision(s: &Selection, variable: &str) -> Vec<(Rule, Action)> {
    s.trail
        .iter()
        .filter(|d| d.variable == variable)
        .map(|d| (d.rule, d.action))
        .collect()
}

#[test]
fn correlations_and_vifs_equal_the_naive_formulas_on_the_expanded_rows() {
    let s = session();
    let data = known(3000, 11);
    let got = select(&data.frame(&s, true), Some("w"), 7, &everything()).unwrap();
    assert_eq!(
        got.selected,
        names(&["x1", "x2", "x3", "x4", "x5", "x6", "x7"])
    );

    // Naive: means, covariances and correlations of the expanded rows; VIF
    // = 1 / (1 − R²) of an OLS regression of each column on the others
    // (normal equations solved by Gaussian elimination).
    let e = data.expanded();
    let n = e.y.len() as f64;
    let k = e.xs.len();
    let mean: Vec<f64> = e.xs.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    let cov = |a: usize, b: usize| {
        e.xs[a]
            .iter()
            .zip(&e.xs[b])
            .map(|(x, y)| (x - mean[a]) * (y - mean[b]))
            .sum::<f64>()
    };
    for a in 0..k {
        for b in 0..k {
            let r = cov(a, b) / (cov(a, a) * cov(b, b)).sqrt();
            let ours = got.correlation[a][b];
            assert!((ours - r).abs() < 1e-10, "r[{a}][{b}] {ours} vs {r}");
        }
    }
    for j in 0..k {
        let others: Vec<usize> = (0..k).filter(|&o| o != j).collect();
        // Centred regression of x_j on the others.
        let m = others.len();
        let mut a = vec![vec![0.0; m + 1]; m];
        for (p, &u) in others.iter().enumerate() {
            for (q, &v) in others.iter().enumerate() {
                a[p][q] = cov(u, v);
            }
            a[p][m] = cov(u, j);
        }
        for col in 0..m {
            let pivot = (col..m)
                .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            let pivot_row = a[col].clone();
            for (row, values) in a.iter_mut().enumerate() {
                if row != col {
                    let f = values[col] / pivot_row[col];
                    for (v, p) in values.iter_mut().zip(&pivot_row).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
        let beta: Vec<f64> = (0..m).map(|p| a[p][m] / a[p][p]).collect();
        let explained: f64 = others.iter().zip(&beta).map(|(&u, b)| b * cov(u, j)).sum();
        let r2 = explained / cov(j, j);
        let vif = 1.0 / (1.0 - r2);
        assert!(
            (got.vif[j] - vif).abs() < 1e-8 * vif,
            "VIF of x{}: {} vs {vif}",
            j + 1,
            got.vif[j]
        );
    }
}

#[test]
fn stepwise_finds_the_known_variables_and_compressed_rows_decide_the_same() {
    let s = session();
    let data = known(20_000, 7);
    let df = data.frame(&s, true);
    let options = SelectionOptions::default();
    let got = select(&df, Some("w"), 7, &options).unwrap();
    let mut chosen = got.selected.clone();
    chosen.sort();
    assert_eq!(chosen, names(&["x1", "x2", "x3"]), "{:#?}", got.trail);
    // x6 is x1 with a little noise: dropped by the correlation filter for
    // the stronger x1; x4 and x5 never enter; x7 (wrong sign beside x1)
    // never enters or is removed.
    assert_eq!(
        decision(&got, "x6"),
        vec![(Rule::Correlation, Action::Dropped)]
    );
    assert!(
        decision(&got, "x6")[0] == (Rule::Correlation, Action::Dropped)
            && got
                .trail
                .iter()
                .any(|d| d.variable == "x6" && d.detail.contains("`x1`"))
    );
    for noise in ["x4", "x5"] {
        assert_eq!(decision(&got, noise), vec![(Rule::Entry, Action::Dropped)]);
    }
    assert!(!got.selected.contains(&"x7".to_string()));

    // The same selection from the rows compressed by every column.
    let by: Vec<String> = (1..=7).map(|j| format!("x{j}")).collect();
    let (compressed, report) = run(compress(&df, &by, "y", Some("w"))).unwrap();
    assert!(report.output_rows < 20_000);
    let small = run(select_variables(
        &compressed,
        "event_rate",
        Some("sample_weight"),
        &candidates(7),
        &options,
        &LogisticOptions::default(),
    ))
    .unwrap();
    assert_eq!(small.selected, got.selected);
    assert_eq!(small.trail.len(), got.trail.len());
    for (a, b) in small.trail.iter().zip(&got.trail) {
        assert_eq!(
            (&a.variable, a.rule, a.action),
            (&b.variable, b.rule, b.action)
        );
    }

    // Backward by p-value and forward by AIC find them too (AIC may keep
    // a noise variable; never one of the wrong sign).
    let backward = SelectionOptions {
        method: Method::Backward,
        ..SelectionOptions::default()
    };
    let mut b = select(&df, Some("w"), 7, &backward).unwrap().selected;
    b.sort();
    assert_eq!(b, names(&["x1", "x2", "x3"]));
    let aic = SelectionOptions {
        method: Method::Forward,
        criterion: Criterion::Aic,
        max_p_value: None,
        ..SelectionOptions::default()
    };
    let a = select(&df, Some("w"), 7, &aic).unwrap();
    for v in ["x1", "x2", "x3"] {
        assert!(a.selected.contains(&v.to_string()), "{:?}", a.selected);
    }
    assert!(!a.selected.contains(&"x7".to_string()));
}

#[test]
fn a_wrong_sign_is_always_removed_and_fixed_variables_stay_flagged() {
    let s = session();
    let data = known(20_000, 3);
    let df = data.frame(&s, false);
    // Every candidate enters; only the final checks act.
    let checks = SelectionOptions {
        check_signs: true,
        max_p_value: Some(0.05),
        ..everything()
    };
    let got = select(&df, None, 7, &checks).unwrap();
    assert!(
        !got.selected.contains(&"x7".to_string()),
        "{:#?}",
        got.trail
    );
    let x7 = got.trail.iter().find(|d| d.variable == "x7").unwrap();
    assert_eq!((x7.rule, x7.action), (Rule::Sign, Action::Dropped));
    assert!(x7.detail.contains("wrong sign"), "{}", x7.detail);
    // What is left has only negative, significant coefficients.
    let features: Vec<String> = got.selected.clone();
    let m = run(scorelake::scorecard::fit_logistic(
        &df,
        &features,
        "y",
        None,
        &LogisticOptions::default(),
    ))
    .unwrap();
    for c in &m.coefficients[1..] {
        assert!(c.estimate < 0.0 && c.p_value <= 0.05, "{c:?}");
    }

    // A fixed noise variable stays in, flagged; strict refuses it by name.
    let fixed = SelectionOptions {
        fixed: names(&["x4"]),
        ..SelectionOptions::default()
    };
    let got = select(&df, None, 7, &fixed).unwrap();
    assert!(got.selected.contains(&"x4".to_string()));
    assert!(
        got.trail
            .iter()
            .any(|d| d.variable == "x4" && d.action == Action::Flagged),
        "{:#?}",
        got.trail
    );
    let strict = SelectionOptions {
        strict: true,
        ..SelectionOptions::default()
    };
    let e = select(&df, None, 7, &strict).unwrap_err().to_string();
    assert!(e.contains("strict") && e.contains("`x6`"), "{e}");
}

#[test]
fn bad_settings_and_empty_selections_are_clear_errors() {
    let s = session();
    let data = known(2000, 5);
    let df = data.frame(&s, false);
    let e = select(
        &df,
        None,
        7,
        &SelectionOptions {
            fixed: names(&["x9"]),
            ..SelectionOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("selection.fixed") && e.contains("`x9`"), "{e}");

    // Only noise: nothing enters, and the error gives the trail.
    let noise = vec![
        Candidate {
            variable: "x4".into(),
            column: "x4".into(),
            iv: 0.1,
        },
        Candidate {
            variable: "x5".into(),
            column: "x5".into(),
            iv: 0.05,
        },
    ];
    let e = run(select_variables(
        &df,
        "y",
        None,
        &noise,
        &SelectionOptions::default(),
        &LogisticOptions::default(),
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("selection left no variable") && e.contains("`x4`") && e.contains("p_enter"),
        "{e}"
    );
}
