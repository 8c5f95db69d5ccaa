//! A cluster (ScoreLake's scheduler and an executor, in this process) reading
//! and writing a real S3 server: directory writes by the executors committed
//! by the client, NCF and Parquet, read back identical to the embedded engine.

use std::net::SocketAddr;
use std::time::Duration;

use scorelake::config::{Config, Format};
use scorelake::engine::Engine;
use scorelake::engine::ballista::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};
use scorelake::io::{self, ReadOptions, WriteMode, WriteOptions};
use scorelake::sample::{self, SampleSpec};

use crate::support::{BUCKET, collect, shared_s3, sorted_rows};

/// Starts a scheduler and one executor with `config` on this runtime; the
/// scheduler's URL.
async fn start_cluster(config: &Config) -> String {
    let (tx, rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let scheduler_config = config.clone();
    tokio::spawn(async move {
        let options = SchedulerOptions::new("127.0.0.1:0".parse().unwrap());
        let _ = run_scheduler(scheduler_config, options, move |addr| {
            let _ = tx.send(addr);
        })
        .await;
    });
    let addr = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .unwrap()
        .unwrap();
    let mut options = ExecutorOptions::new(
        addr,
        format!("127.0.0.1:{}", crate::ports::free_ports(2))
            .parse()
            .unwrap(),
    );
    options.concurrent_tasks = 2;
    let executor_config = config.clone();
    tokio::spawn(async move {
        let _ = run_executor(executor_config, options).await;
    });
    format!("df://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_writes_and_reads_s3_directories() {
    let s3 = shared_s3();
    let config = s3.config_builder().build().unwrap();
    let url = start_cluster(&config).await;
    let cluster_config = s3
        .config_builder()
        .set("engine.kind", "ballista", "test")
        .unwrap()
        .set("ballista.url", &url, "test")
        .unwrap()
        .build()
        .unwrap();
    let cluster = scorelake::engine::start(cluster_config, async { Ok(0) })
        .await
        .unwrap();
    assert!(matches!(cluster.engine().engine, Engine::Ballista { .. }));
    let embedded = s3.session();

    let spec = SampleSpec {
        customers: 300,
        ..SampleSpec::default()
    };
    let expected = sorted_rows(&[sample::generate(&spec, 0..spec.customers).unwrap()]);
    for (name, format) in [("parquet", Format::Parquet), ("ncf", Format::Ncf)] {
        let dir = format!("s3://{BUCKET}/cluster/{name}/");
        let options = WriteOptions {
            format: Some(format),
            partition_by: vec!["region".into()],
            ..WriteOptions::default()
        };
        let df = sample::dataframe(&cluster, &spec, None).unwrap();
        let written = io::write(&cluster, df, dir.as_str(), &options)
            .await
            .unwrap();
        assert_eq!(written.rows as usize, expected.len());
        // An overwrite replaces the version the first write committed.
        let overwrite = WriteOptions {
            mode: WriteMode::Overwrite,
            ..options.clone()
        };
        let df = sample::dataframe(&cluster, &spec, None).unwrap();
        io::write(&cluster, df, dir.as_str(), &overwrite)
            .await
            .unwrap();
        for session in [&embedded, &cluster] {
            let back = io::read(session, dir.as_str(), &ReadOptions::default())
                .await
                .unwrap();
            let back = back
                .select_columns(&[
                    "customer_id",
                    "month",
                    "balance",
                    "credit_limit",
                    "utilization",
                    "payment",
                    "days_past_due",
                    "num_inquiries",
                    "product",
                    "region",
                    "channel",
                    "default_flag",
                ])
                .unwrap();
            assert_eq!(sorted_rows(&collect(back).await), expected, "{dir}");
        }
    }
}
