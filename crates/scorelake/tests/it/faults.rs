//! Failures named for what they are: queries nested too deep for the
//! engine, folders that take no files, a full disk, an S3 server that is
//! gone; credentials and data values kept out of the messages.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use scorelake::datafusion::prelude::DataFrame;
use scorelake::io::{self, ReadOptions, WriteOptions};
use scorelake::session::Session;
use scorelake::sql;

use crate::support::{Seaweed, session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_nested_too_deep_are_refused_and_the_limit_runs() {
    let session = session();
    let unions = vec!["SELECT 1 AS x"; 3000].join(" UNION ALL ");
    let sum = format!("SELECT {} AS x", vec!["1"; 20_000].join(" + "));
    for (query, what) in [(unions, "set operations"), (sum, "expressions")] {
        let e = sql::query(session.ctx(), &query)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(what) && e.contains("more than 1000 levels deep"),
            "{e}"
        );
    }
    let at_limit = format!("SELECT {} AS x", vec!["1"; 1000].join(" + "));
    let batches = sql::query(session.ctx(), &at_limit)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains("| 1000 |"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_that_takes_no_files_fails_fast() {
    let session = session();
    for out in ["/proc/x.parquet", "/proc/self/x.csv", "/proc/t"] {
        let df = session.ctx().sql("SELECT 1 AS x").await.unwrap();
        let mut options = WriteOptions::default();
        if out == "/proc/t" {
            options.format = Some(scorelake::config::Format::Delta);
        }
        let write = io::write(&session, df, out, &options);
        let e = tokio::time::timeout(Duration::from_secs(30), write)
            .await
            .unwrap_or_else(|_| panic!("writing {out} did not finish"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(out) && e.contains("cannot create files in `/proc"),
            "{e}"
        );
    }
}

/// The error of writing `df` to the local `out`.
async fn write_error(session: &Session, df: DataFrame, out: &Path) -> String {
    let out = out.to_str().unwrap();
    let result = io::write(session, df, out, &WriteOptions::default()).await;
    result.unwrap_err().to_string()
}

/// A 256 KiB tmpfs at `dir`, unmounted on drop; `None` when this process
/// may not mount (not root).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_named_not_reported_as_an_engine_bug() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_disk) = Tmpfs::mount(dir.path()) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    // Nearly full: what is left does not hold the output.
    std::fs::write(dir.path().join("filler"), vec![1u8; 240 << 10]).unwrap();
    let session = session();
    for name in ["x.csv", "x.parquet", "d/"] {
        let df = session
            .ctx()
            .sql("SELECT v, 'some text to fill the disk' AS s FROM generate_series(1, 100000) AS t(v)")
            .await
            .unwrap();
        let e = write_error(&session, df, &dir.path().join(name)).await;
        assert!(
            e.contains("No space left on device") && !e.contains("bug in DataFusion"),
            "{name}: {e}"
        );
    }
}

#[test]
fn a_stopped_s3_server_is_named_unreachable_without_credentials() {
    let mut s3 = Seaweed::start();
    let with_userinfo = s3
        .endpoint
        .replace("http://", "http://admin:userinfo-secret@");
    let config = s3
        .config_builder()
        .set("storage.s3.endpoint", &with_userinfo, "test")
        .unwrap()
        .build()
        .unwrap();
    let shown = format!("{:?} {:?}", config.show(), config.to_spark_conf_redacted());
    assert!(!shown.contains("userinfo-secret"), "{shown}");
    s3.stop();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = Session::new(config).unwrap();
    let host = s3.endpoint.trim_start_matches("http://").to_string();
    let read = rt.block_on(io::read(
        &session,
        "s3://lake/gone.parquet",
        &ReadOptions::default(),
    ));
    let df = rt.block_on(session.ctx().sql("SELECT 1 AS x")).unwrap();
    let write = rt.block_on(io::write(
        &session,
        df,
        "s3://lake/gone.csv",
        &WriteOptions::default(),
    ));
    for e in [read.unwrap_err(), write.unwrap_err()] {
        let e = e.to_string();
        assert!(e.contains("unreachable") && e.contains(&host), "{e}");
        assert!(!e.contains("bug in DataFusion"), "{e}");
        for secret in ["userinfo-secret", crate::support::SECRET_KEY] {
            assert!(!e.contains(secret), "{secret} in {e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_value_that_does_not_parse_is_located_not_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let rows: String = (0..2000)
        .map(|i| format!("{i},person{i},{i}.5\n"))
        .collect();
    std::fs::write(
        &csv,
        format!("id,name,amount\n{rows}2001,Jane Roe,555-12-3456\n"),
    )
    .unwrap();
    let session = session();
    let df = io::read(&session, csv.to_str().unwrap(), &ReadOptions::default())
        .await
        .unwrap();
    let e = write_error(&session, df, &dir.path().join("out.parquet")).await;
    assert!(e.contains("line 2001") && e.contains("Float64"), "{e}");
    assert!(
        !e.contains("555-12-3456") && !e.contains("Jane Roe"),
        "data in {e}"
    );
}

#[test]
fn a_missing_spill_folder_is_named() {
    let config = scorelake::config::ConfigBuilder::new()
        .set("engine.spill_dir", "/nonexistent/spill", "test")
        .unwrap()
        .build()
        .unwrap();
    let Err(e) = Session::new(config) else {
        panic!("a missing spill folder was accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("`/nonexistent/spill`") && e.contains("engine.spill_dir"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_periods_no_row_has_are_named() {
    let session = session();
    let spec = scorelake::sample::SampleSpec {
        customers: 50,
        ..Default::default()
    };
    let df = scorelake::sample::dataframe(&session, &spec, None).unwrap();
    let options = scorelake::quality::DriftOptions::default();
    let absent = ["1999-01-01".to_string(), "2024-01-01".to_string()];
    let e = scorelake::quality::drift_by_period(&df, "month", &absent, None, &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no row has baseline period 1999-01-01 in period column `month`"),
        "{e}"
    );
    let base = ["2023-01-01".to_string()];
    let e = scorelake::quality::drift_between_periods(
        &df,
        "month",
        &base,
        &["2030-01-01".to_string()],
        None,
        &options,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("no row has current period 2030-01-01"), "{e}");
}

#[test]
fn a_recipe_window_that_is_no_window_says_what_a_window_is() {
    let recipe = |window: &str| {
        format!(
            "entity: customer_id\ntime: month\nrecipes:\n  - name: bal\n    operation: trend_slope\n    source: balance\n    window: {window}\n"
        )
    };
    for bad in ["3.5", "[1]", "true"] {
        let e = scorelake::features::RecipeFile::parse(&recipe(bad), "yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("recipe `bal`: `window` must be a whole number of rows")
                && !e.contains("untagged"),
            "{bad}: {e}"
        );
    }
    assert!(scorelake::features::RecipeFile::parse(&recipe("6"), "yaml").is_ok());
}

#[test]
fn an_s3_server_stopped_mid_write_is_named_not_an_engine_bug() {
    let mut s3 = Seaweed::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (url, format) in [
        ("s3://lake/cut/panel.parquet", None),
        ("s3://lake/cut/panel.csv", None),
        (
            "s3://lake/cut/delta",
            Some(scorelake::config::Format::Delta),
        ),
    ] {
        let session = s3.session();
        let spec = scorelake::sample::SampleSpec {
            customers: 60_000,
            ..Default::default()
        };
        let generated = Arc::new(AtomicU64::new(0));
        let df =
            scorelake::sample::dataframe(&session, &spec, Some(Arc::clone(&generated))).unwrap();
        let options = WriteOptions {
            format,
            ..WriteOptions::default()
        };
        let write = rt.spawn(async move { io::write(&session, df, url, &options).await });
        while generated.load(Ordering::Relaxed) < spec.customers / 3 && !write.is_finished() {
            std::thread::sleep(Duration::from_millis(20));
        }
        s3.stop();
        let e = rt.block_on(write).unwrap().unwrap_err().to_string();
        assert!(
            e.contains("unreachable") || e.contains("stopped answering"),
            "{url}: {e}"
        );
        for wrong in ["bug in DataFusion", "Failed to parse parquet"] {
            assert!(!e.contains(wrong), "{url}: {e}");
        }
        s3.restart();
    }
}
