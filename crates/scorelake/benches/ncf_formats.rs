//! NCF against Parquet (zstd 3) and Arrow IPC (zstd) on the sample panel,
//! through the same engine: write time, file size, full scan, a two-column
//! scan and a selective filter. Medians of several runs; ratios to Parquet.
//!
//! Run: `cargo bench -p scorelake --bench ncf_formats`
//! (`BENCH_CUSTOMERS` = panel size, default 500000; `BENCH_RUNS`, default 5;
//! data and outputs go to `target/bench-data/`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_ipc::CompressionType;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use futures::StreamExt;
use scorelake::config::Config;
use scorelake::datafusion::datasource::MemTable;
use scorelake::datafusion::datasource::file_format::options::ArrowReadOptions;
use scorelake::datafusion::prelude::{DataFrame, SessionContext};
use scorelake::io::{self, ReadOptions, WriteMode, WriteOptions};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Clone, Copy, PartialEq)]
enum Fmt {
    Parquet,
    Ncf,
    Ipc,
}

impl Fmt {
    fn name(self) -> &'static str {
        match self {
            Fmt::Parquet => "Parquet (zstd 3)",
            Fmt::Ncf => "NCF (zstd 3)",
            Fmt::Ipc => "Arrow IPC (zstd)",
        }
    }
    fn ext(self) -> &'static str {
        match self {
            Fmt::Parquet => "parquet",
            Fmt::Ncf => "ncf",
            Fmt::Ipc => "arrow",
        }
    }
}

const QUERIES: [(&str, &str); 3] = [
    ("full scan", "SELECT * FROM t"),
    ("2 columns", "SELECT balance, days_past_due FROM t"),
    ("dpd >= 90", "SELECT * FROM t WHERE days_past_due >= 90"),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn drain(df: DataFrame) -> Result<usize> {
    let mut stream = df.execute_stream().await?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

async fn write(session: &Session, fmt: Fmt, data: &DataFrame, out: &Path) -> Result<()> {
    match fmt {
        Fmt::Parquet | Fmt::Ncf => {
            let options = WriteOptions {
                mode: WriteMode::Overwrite,
                ..WriteOptions::default()
            };
            io::write(session, data.clone(), out.to_str().ok_or("path")?, &options).await?;
        }
        Fmt::Ipc => {
            let schema = Arc::new(data.schema().as_arrow().clone());
            let options =
                IpcWriteOptions::default().try_with_compression(Some(CompressionType::ZSTD))?;
            let mut w = FileWriter::try_new_with_options(File::create(out)?, &schema, options)?;
            let mut stream = data.clone().execute_stream().await?;
            while let Some(batch) = stream.next().await {
                w.write(&batch?)?;
            }
            w.finish()?;
        }
    }
    Ok(())
}

async fn table(session: &Session, fmt: Fmt, file: &Path) -> Result<SessionContext> {
    let ctx = session.new_context();
    let path = file.to_str().ok_or("path")?;
    match fmt {
        Fmt::Ipc => {
            ctx.register_arrow("t", path, ArrowReadOptions::default())
                .await?
        }
        _ => {
            let df = io::read(session, path, &ReadOptions::default()).await?;
            ctx.register_table("t", df.into_view())?;
        }
    }
    Ok(ctx)
}

#[tokio::main]
async fn main() -> Result<()> {
    let customers: u64 = std::env::var("BENCH_CUSTOMERS").map_or(Ok(500_000), |v| v.parse())?;
    let runs: usize = std::env::var("BENCH_RUNS").map_or(Ok(5), |v| v.parse())?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let session = Session::new(Config::default())?;

    let spec = SampleSpec {
        customers,
        ..SampleSpec::default()
    };
    let batches = sample::dataframe(&session, &spec, None)?.collect().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let schema = batches[0].schema();
    let mem = Arc::new(MemTable::try_new(schema, vec![batches])?);
    let data = session.ctx().read_table(mem)?;
    eprintln!("panel: {customers} customers, {rows} rows in memory; {runs} runs each");

    let formats = [Fmt::Parquet, Fmt::Ncf, Fmt::Ipc];
    let mut results = vec![];
    for fmt in formats {
        let out = dir.join(format!("panel-{customers}.{}", fmt.ext()));
        let mut times = vec![];
        for _ in 0..runs.min(3) {
            let t = Instant::now();
            write(&session, fmt, &data, &out).await?;
            times.push(t.elapsed().as_secs_f64());
        }
        let size = std::fs::metadata(&out)?.len();
        let mut scans = vec![];
        for (label, sql) in QUERIES {
            let ctx = table(&session, fmt, &out).await?;
            let mut times_q = vec![];
            let mut n = 0;
            for _ in 0..runs {
                let t = Instant::now();
                n = drain(ctx.sql(sql).await?).await?;
                times_q.push(t.elapsed().as_secs_f64());
            }
            scans.push((label, median(times_q), n));
        }
        eprintln!("{}: done", fmt.name());
        results.push((fmt, median(times), size, scans));
    }

    let base = &results[0];
    println!("| format | write s | size MB | full scan s | 2 columns s | dpd >= 90 s |");
    println!("|---|---|---|---|---|---|");
    for (fmt, w, size, scans) in &results {
        let cell = |v: f64, b: f64| format!("{v:.3} ({:.2}×)", v / b);
        let mut line = format!(
            "| {} | {} | {:.1} ({:.2}×) |",
            fmt.name(),
            cell(*w, base.1),
            *size as f64 / 1e6,
            *size as f64 / base.2 as f64
        );
        for (i, (_, t, _)) in scans.iter().enumerate() {
            line.push_str(&format!(" {} |", cell(*t, base.3[i].1)));
        }
        println!("{line}");
    }
    for (i, (label, _, n)) in base.3.iter().enumerate() {
        for (fmt, _, _, scans) in &results {
            assert_eq!(
                scans[i].2,
                *n,
                "{label}: {} returned a different row count",
                fmt.name()
            );
        }
        println!("\n{label}: {n} rows");
    }
    Ok(())
}
