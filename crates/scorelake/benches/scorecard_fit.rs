//! The logistic fit on compressed rows against the fit on every row: the
//! sample panel, four variables binned into exact deciles with WoE,
//! compressed by the bins, product and region; both fits timed (medians)
//! and their coefficients compared.
//!
//! Run: `cargo bench -p scorelake --bench scorecard_fit`
//! (`BENCH_CUSTOMERS`, default 500000; `BENCH_RUNS`, default 3).

use std::sync::Arc;
use std::time::Instant;

use scorelake::config::Config;
use scorelake::datafusion::datasource::MemTable;
use scorelake::datafusion::prelude::{DataFrame, col};
use scorelake::sample::{self, SampleSpec};
use scorelake::scorecard::{
    BinningSpec, LogisticOptions, compress, fit_binning, fit_logistic, woe_column,
};
use scorelake::session::Session;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const VARIABLES: [&str; 4] = ["balance", "utilization", "payment", "credit_limit"];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn in_memory(session: &Session, df: DataFrame) -> Result<DataFrame> {
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    let table = MemTable::try_new(schema, vec![batches])?;
    Ok(session.ctx().read_table(Arc::new(table))?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let customers: u64 = std::env::var("BENCH_CUSTOMERS").map_or(Ok(500_000), |v| v.parse())?;
    let runs: usize = std::env::var("BENCH_RUNS").map_or(Ok(3), |v| v.parse())?;
    let session = Session::new(Config::default())?;
    let spec = SampleSpec {
        customers,
        ..SampleSpec::default()
    };
    let panel = in_memory(&session, sample::dataframe(&session, &spec, None)?).await?;
    let binning_spec = BinningSpec::parse(
        &format!(
            "target: default_flag\ndefaults: {{method: quantile, bins: 10}}\nvariables: [{}]\n",
            VARIABLES.join(", ")
        ),
        "yaml",
    )?;
    let binning = fit_binning(&panel, &binning_spec).await?;
    let features: Vec<String> = VARIABLES.iter().map(|v| woe_column(v)).collect();
    let mut keep: Vec<_> = features.iter().map(|f| col(f.as_str())).collect();
    keep.extend(["product", "region", "default_flag"].map(col));
    for v in VARIABLES {
        keep.push(col(scorelake::scorecard::bin_column(v).as_str()));
    }
    let binned = in_memory(&session, binning.transform(panel, None)?.select(keep)?).await?;
    let mut by: Vec<String> = VARIABLES
        .iter()
        .map(|v| scorelake::scorecard::bin_column(v))
        .collect();
    by.extend(features.iter().cloned());
    by.extend(["product".to_string(), "region".to_string()]);
    let started = Instant::now();
    let (compressed, report) = compress(&binned, &by, "default_flag", None).await?;
    let compress_s = started.elapsed().as_secs_f64();
    let options = LogisticOptions::default();
    let (mut full_s, mut small_s) = (vec![], vec![]);
    let (mut full, mut small) = (None, None);
    for _ in 0..runs {
        let t = Instant::now();
        full = Some(fit_logistic(&binned, &features, "default_flag", None, &options).await?);
        full_s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        small = Some(
            fit_logistic(
                &compressed,
                &features,
                "event_rate",
                Some("sample_weight"),
                &options,
            )
            .await?,
        );
        small_s.push(t.elapsed().as_secs_f64());
    }
    let (full, small) = (full.ok_or("no run")?, small.ok_or("no run")?);
    let diff = full
        .coefficients
        .iter()
        .zip(&small.coefficients)
        .map(|(a, b)| (a.estimate - b.estimate).abs())
        .fold(0.0, f64::max);
    println!(
        "panel {} rows → {} compressed rows ({:.0}×) in {compress_s:.2}s",
        report.input_rows, report.output_rows, report.ratio
    );
    println!(
        "logistic fit ({} iterations): every row {:.3}s, compressed {:.4}s ({:.0}× faster); largest coefficient difference {diff:.2e}",
        small.iterations,
        median(full_s.clone()),
        median(small_s.clone()),
        median(full_s) / median(small_s)
    );
    Ok(())
}
