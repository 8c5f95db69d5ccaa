//! Observation dates and forward targets in recipe files: hand-computed
//! targets and exclusions on a small panel (events at the window's edges,
//! censoring, gaps), features at each date equal to features computed on
//! the history cut at that date, and bad designs refused by name.

use scorelake::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use scorelake::datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use scorelake::datafusion::prelude::{DataFrame, col};
use scorelake::features::{DateCounts, FeatureEngineer, RecipeFile};
use scorelake::session::Session;

use crate::support::session;

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn engineer(yaml: &str) -> scorelake::Result<FeatureEngineer> {
    FeatureEngineer::new(RecipeFile::parse(yaml, "yaml")?)
}

/// Customer 1: monthly Jan–Dec 2024, 90+ days past due from June.
/// Customer 2: Jan–Apr only, never bad. Customer 3: Jan–Dec with a gap in
/// May, never bad. Customer 4: bad from February.
fn small(s: &Session) -> DataFrame {
    let mut rows = Vec::new();
    for m in 1..=12 {
        rows.push((1, m, if m >= 6 { 90 + 30 * (m - 6) } else { 0 }));
        if m <= 4 {
            rows.push((2, m, 0));
        }
        if m != 5 {
            rows.push((3, m, (m % 3) * 10));
        }
        rows.push((4, m, if m >= 2 { 90 } else { 30 }));
    }
    let values: Vec<String> = rows
        .iter()
        .map(|(c, m, d)| format!("({c}, DATE '2024-{m:02}-01', {d})"))
        .collect();
    run(s.ctx().sql(&format!(
        "SELECT column1 AS customer_id, column2 AS month, CAST(column3 AS INT) AS days_past_due FROM (VALUES {})",
        values.join(", ")
    )))
    .unwrap()
}

fn ints(b: &[RecordBatch], name: &str) -> Vec<i64> {
    b.iter()
        .flat_map(|b| {
            let a =
                datafusion::arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Int64)
                    .unwrap();
            a.as_primitive::<Int64Type>().values().to_vec()
        })
        .collect()
}

fn floats(b: &[RecordBatch], name: &str) -> Vec<Option<f64>> {
    b.iter()
        .flat_map(|b| {
            let a = datafusion::arrow::compute::cast(
                b.column_by_name(name).unwrap(),
                &DataType::Float64,
            )
            .unwrap();
            let a = a.as_primitive::<Float64Type>();
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (customer, month number, target) of the output, sorted.
fn targets(df: DataFrame) -> Vec<(i64, i64, i64)> {
    let b = run(df
        .select(vec![
            col("customer_id"),
            datafusion::functions::expr_fn::date_part(
                datafusion::prelude::lit("month"),
                col("month"),
            )
            .alias("m"),
            col("bad_3m"),
        ])
        .unwrap()
        .sort(vec![
            col("customer_id").sort(true, false),
            col("m").sort(true, false),
        ])
        .unwrap()
        .collect())
    .unwrap();
    let (c, m, t) = (ints(&b, "customer_id"), ints(&b, "m"), ints(&b, "bad_3m"));
    (0..c.len()).map(|i| (c[i], m[i], t[i])).collect()
}

const DESIGN: &str = "entity: customer_id\ntime: month\n\
    observation: {dates: [2024-01-01, 2024-03-01]}\n\
    target: {name: bad_3m, when: \"days_past_due >= 90\", window: 3mo}\n\
    recipes:\n  - {name: worst, operation: max, source: days_past_due, window: last_3_months, output: worst}\n";

#[test]
fn targets_and_exclusions_by_hand() {
    let s = session();
    let panel = small(&s);
    let e = engineer(DESIGN).unwrap();
    // January: window (Jan, Apr]. Customer 1's event (June) is after it,
    // and its data run to December: good. Customer 2's data end in April,
    // the window's last month: good. Customer 4 goes bad in February: bad.
    // March: window (Mar, Jun]. Customer 1 goes bad in June, the window's
    // last month: bad. Customer 2's data end before June: excluded (short
    // window). Customer 4 is bad already: excluded.
    assert_eq!(
        targets(e.transform(panel.clone()).unwrap()),
        vec![
            (1, 1, 0),
            (1, 3, 1),
            (2, 1, 0),
            (3, 1, 0),
            (3, 3, 0),
            (4, 1, 1)
        ]
    );
    let counts = run(e.design_counts(&panel)).unwrap().unwrap();
    assert_eq!(counts.target.as_deref(), Some("bad_3m"));
    let at = |d: &str| -> DateCounts {
        counts
            .dates
            .iter()
            .find(|c| c.date.as_deref() == Some(d))
            .unwrap()
            .clone()
    };
    let jan = at("2024-01-01");
    assert_eq!(
        (
            jan.rows,
            jan.bad,
            jan.good,
            jan.already_bad,
            jan.short_window
        ),
        (4, 1, 3, 0, 0)
    );
    let mar = at("2024-03-01");
    assert_eq!(
        (
            mar.rows,
            mar.bad,
            mar.good,
            mar.already_bad,
            mar.short_window
        ),
        (4, 1, 1, 1, 1)
    );

    // The same target from the event column; every row an observation
    // when no dates are given; carried columns only.
    let panel = panel
        .with_column(
            "default_flag",
            datafusion::prelude::cast(
                col("days_past_due").gt_eq(datafusion::prelude::lit(90)),
                DataType::Int8,
            ),
        )
        .unwrap();
    let e = engineer(
        "entity: customer_id\ntime: month\ncarry: [default_flag]\n\
         target: {name: bad_3m, default_event_within: 3mo}\n\
         recipes:\n  - {name: worst, operation: max, source: days_past_due, window: last_3_months, output: worst}\n",
    )
    .unwrap();
    let out = e.transform(panel.clone()).unwrap();
    assert_eq!(
        out.schema()
            .as_arrow()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["customer_id", "month", "default_flag", "worst", "bad_3m"]
    );
    let all = targets(out);
    // Customer 1: (Feb, May] holds no event, (Mar, Jun] and (May, Aug] do.
    assert!(all.contains(&(1, 2, 0)) && all.contains(&(1, 3, 1)) && all.contains(&(1, 5, 1)));
    // Customer 1 after June is already bad; from October its window runs
    // past December: neither appears.
    assert!(!all.iter().any(|r| r.0 == 1 && r.1 >= 6));
    assert!(!all.iter().any(|r| r.0 == 3 && r.1 >= 10));
}

#[test]
fn features_at_an_observation_date_see_only_the_history_up_to_it() {
    let s = session();
    let spec = scorelake::sample::SampleSpec {
        customers: 400,
        ..scorelake::sample::SampleSpec::default()
    };
    let panel = scorelake::sample::dataframe(&s, &spec, None).unwrap();
    let recipes = "entity: customer_id\ntime: month\n\
        observation: {every: 3mo, from: 2023-07-01, to: 2024-01-01}\n\
        target: {name: bad_12m, default_event_within: 12mo}\n\
        carry: [product]\n\
        recipes:\n\
          - {name: slope, operation: trend_slope, source: balance, window: 6, params: {min_periods: 3}, output: slope}\n\
          - {name: worst, operation: max, source: days_past_due, window: last_6_months, output: worst}\n\
          - {name: vol, operation: volatility, source: utilization, window: 6, output: vol}\n";
    let e = engineer(recipes).unwrap();
    let stacked = e.transform(panel.clone()).unwrap();
    let plain = engineer(
        "entity: customer_id\ntime: month\nrecipes:\n\
          - {name: slope, operation: trend_slope, source: balance, window: 6, params: {min_periods: 3}, output: slope}\n\
          - {name: worst, operation: max, source: days_past_due, window: last_6_months, output: worst}\n\
          - {name: vol, operation: volatility, source: utilization, window: 6, output: vol}\n",
    )
    .unwrap();
    let counts = run(e.design_counts(&panel)).unwrap().unwrap();
    assert_eq!(counts.dates.len(), 3);
    for d in ["2023-07-01", "2023-10-01", "2024-01-01"] {
        let at = |df: DataFrame| {
            run(df
                .filter(col("month").eq(datafusion::prelude::cast(
                    datafusion::prelude::lit(d),
                    DataType::Date32,
                )))
                .unwrap()
                .sort(vec![col("customer_id").sort(true, false)])
                .unwrap()
                .collect())
            .unwrap()
        };
        // The history cut at the date, features computed on it alone.
        let cut = panel
            .clone()
            .filter(col("month").lt_eq(datafusion::prelude::cast(
                datafusion::prelude::lit(d),
                DataType::Date32,
            )))
            .unwrap();
        let want = at(plain.transform(cut).unwrap());
        let got = at(stacked.clone());
        let kept: std::collections::BTreeSet<i64> = ints(&got, "customer_id").into_iter().collect();
        let c = counts
            .dates
            .iter()
            .find(|c| c.date.as_deref() == Some(d))
            .unwrap();
        assert_eq!(kept.len() as u64, c.bad + c.good, "{d}");
        assert!(c.already_bad > 0 || d == "2023-07-01", "{d}: {c:?}");
        let ids = ints(&want, "customer_id");
        for f in ["slope", "worst", "vol"] {
            let (w, g) = (floats(&want, f), floats(&got, f));
            let mut j = 0;
            for (i, id) in ids.iter().enumerate() {
                if kept.contains(id) {
                    assert_eq!(
                        w[i].map(f64::to_bits),
                        g[j].map(f64::to_bits),
                        "{d} {f} customer {id}"
                    );
                    j += 1;
                }
            }
            assert_eq!(j, g.len());
        }
    }
}

#[test]
fn bad_designs_are_refused_by_name() {
    let s = session();
    let panel = small(&s);
    let head = "entity: customer_id\ntime: month\n";
    let recipes = "recipes:\n  - {name: worst, operation: max, source: days_past_due, window: 3}\n";
    for (design, expected) in [
        (
            "observation: {dates: [2024-01-01], every: 1mo}\n",
            "dates or every/from/to, not both",
        ),
        (
            "observation: {every: 1mo, from: 2024-01-01}\n",
            "observation.every needs from and to",
        ),
        (
            "observation: {every: 10d, from: 2024-01-01, to: 2024-03-01}\n",
            "must be a number of months",
        ),
        (
            "observation: {dates: [2024-02-30]}\n",
            "`2024-02-30` is not a date",
        ),
        (
            "target: {name: t, when: \"days_past_due > 0\"}\n",
            "needs when and window, or default_event_within",
        ),
        (
            "target: {name: t, when: \"days_past_due > 0\", window: 3}\n",
            "must be months or days",
        ),
        (
            "snapshot: 2024-03-01\nobservation: {dates: [2024-03-01]}\n",
            "use observation instead",
        ),
    ] {
        let e = engineer(&format!("{head}{design}{recipes}"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(expected), "{design}: {e}");
    }
    // An observation date outside the data is named.
    let e = engineer(&format!(
        "{head}observation: {{dates: [2024-03-01, 2030-01-01]}}\n{recipes}"
    ))
    .unwrap();
    let err = run(e.design_counts(&panel)).unwrap_err().to_string();
    assert!(
        err.contains("observation date 2030-01-01 has no rows"),
        "{err}"
    );
    // A condition that does not parse is named with the target.
    let e = engineer(&format!(
        "{head}target: {{name: t, when: \"no_such_column > 1\", window: 3mo}}\n{recipes}"
    ))
    .unwrap();
    let err = e
        .transform(panel)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("target `t`: when `no_such_column > 1`"),
        "{err}"
    );
}
