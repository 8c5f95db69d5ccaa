//! Delta Lake tables on local disk and on a real S3 server: round trips,
//! time travel, schema evolution, maintenance, concurrent writer processes,
//! a writer killed mid-write, and bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use scorelake::Error;
use scorelake::config::ConfigBuilder;
use scorelake::datafusion::prelude::DataFrame;
use scorelake::io::delta::{HistoryOptions, OptimizeOptions, VacuumOptions};
use scorelake::io::{self, ReadOptions, TableVersion, WriteMode, WriteOptions, delta};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

use crate::support::{BUCKET, collect, sample_columns, session, shared_s3, sorted_rows};

fn spec(customers: u64, seed: u64) -> SampleSpec {
    SampleSpec {
        customers,
        months: 6,
        seed,
        ..SampleSpec::default()
    }
}

fn panel(session: &Session, customers: u64, seed: u64) -> DataFrame {
    sample::dataframe(session, &spec(customers, seed), None).unwrap()
}

/// The rows of the panels (customers, seed), as one sorted table's lines.
fn rows_of_all(panels: &[(u64, u64)]) -> Vec<String> {
    let batches: Vec<_> = panels
        .iter()
        .map(|&(customers, seed)| {
            let s = spec(customers, seed);
            sample::generate(&s, 0..s.customers).unwrap()
        })
        .collect();
    sorted_rows(&batches)
}

fn rows_of(customers: u64, seed: u64) -> Vec<String> {
    rows_of_all(&[(customers, seed)])
}

fn with_mode(mode: WriteMode) -> WriteOptions {
    WriteOptions {
        format: Some(scorelake::config::Format::Delta),
        mode,
        ..WriteOptions::default()
    }
}

fn at(version: TableVersion) -> ReadOptions {
    ReadOptions {
        version: Some(version),
        ..ReadOptions::default()
    }
}

async fn read_rows(session: &Session, table: &str, options: &ReadOptions) -> Vec<String> {
    let df = io::read(session, table, options).await.unwrap();
    sorted_rows(&collect(sample_columns(df)).await)
}

/// The error text of an operation that must fail.
async fn failed<T: std::fmt::Debug>(op: impl Future<Output = Result<T, Error>>) -> String {
    op.await.unwrap_err().to_string()
}

/// Equal row lists, or a short message with the first difference.
#[track_caller]
fn assert_rows(actual: &[String], expected: &[String]) {
    if actual != expected {
        let first = actual.iter().zip(expected).position(|(a, b)| a != b);
        panic!(
            "{} rows, expected {}; first difference at {first:?}: {:?} vs {:?}",
            actual.len(),
            expected.len(),
            first.map(|i| &actual[i]),
            first.map(|i| &expected[i])
        );
    }
}

async fn count(session: &Session, table: &str) -> usize {
    io::read(session, table, &ReadOptions::default())
        .await
        .unwrap()
        .count()
        .await
        .unwrap()
}

/// Create, refuse to re-create, append, overwrite, time travel by version and
/// by time, a partitioned table: the same checks on any store.
async fn round_trips(session: &Session, root: &str) {
    let table = format!("{root}/accounts");
    let first = io::write(
        session,
        panel(session, 40, 1),
        &table,
        &with_mode(WriteMode::ErrorIfExists),
    )
    .await
    .unwrap();
    assert_eq!(first.version, Some(0));
    assert_eq!(first.rows as usize, rows_of(40, 1).len());
    assert!(first.bytes > 0);
    // Found as a Delta table without being told.
    assert_rows(
        &read_rows(session, &table, &ReadOptions::default()).await,
        &rows_of(40, 1),
    );
    let again = io::write(
        session,
        panel(session, 5, 9),
        &table,
        &with_mode(WriteMode::ErrorIfExists),
    )
    .await;
    assert!(matches!(again, Err(Error::AlreadyExists(_))), "{again:?}");

    let appended = io::write(
        session,
        panel(session, 30, 2),
        &table,
        &with_mode(WriteMode::Append),
    )
    .await
    .unwrap();
    assert_eq!(appended.version, Some(1));
    let both = rows_of_all(&[(40, 1), (30, 2)]);
    assert_rows(
        &read_rows(session, &table, &ReadOptions::default()).await,
        &both,
    );

    let replaced = io::write(
        session,
        panel(session, 10, 3),
        &table,
        &with_mode(WriteMode::Overwrite),
    )
    .await
    .unwrap();
    assert_eq!(replaced.version, Some(2));
    assert_rows(
        &read_rows(session, &table, &ReadOptions::default()).await,
        &rows_of(10, 3),
    );
    assert_rows(
        &read_rows(session, &table, &at(TableVersion::Number(0))).await,
        &rows_of(40, 1),
    );
    assert_rows(
        &read_rows(session, &table, &at(TableVersion::Number(1))).await,
        &both,
    );

    // History: newest first, with exact row counts.
    let history = delta::history(session, &table, &HistoryOptions::default())
        .await
        .unwrap();
    let versions: Vec<u64> = history.iter().map(|c| c.version).collect();
    assert_eq!(versions, vec![2, 1, 0]);
    let rows: Vec<Option<u64>> = history.iter().map(|c| c.rows).collect();
    let n = |v: &[String]| Some(v.len() as u64);
    assert_eq!(rows, vec![n(&rows_of(10, 3)), n(&both), n(&rows_of(40, 1))]);
    assert_eq!(history[1].rows_added, n(&rows_of(30, 2)));
    assert_eq!(history[0].rows_removed, n(&both));
    assert!(
        history.iter().all(|c| c.operation == "WRITE"),
        "{history:?}"
    );
    assert_eq!(
        delta::history(session, &table, &HistoryOptions::default().with_limit(1))
            .await
            .unwrap()
            .len(),
        1
    );

    // Time travel by time: each commit's own timestamp reads that version;
    // a time between commits reads the older one.
    for c in &history {
        let rows = read_rows(session, &table, &at(TableVersion::AsOf(c.timestamp))).await;
        assert_eq!(
            Some(rows.len() as u64),
            c.rows,
            "as of version {}",
            c.version
        );
    }
    // The same at the millisecond precision `delta history` prints: version
    // 0's printed time reads version 0, not "before the first commit".
    for c in &history {
        let printed = c.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let as_of = TableVersion::parse_as_of(&printed).unwrap();
        let rows = read_rows(session, &table, &at(as_of)).await;
        assert_eq!(
            Some(rows.len() as u64),
            c.rows,
            "as of {printed} (version {})",
            c.version
        );
    }
    let between = history[1].timestamp + (history[0].timestamp - history[1].timestamp) / 2;
    if between > history[1].timestamp && between < history[0].timestamp {
        let rows = read_rows(session, &table, &at(TableVersion::AsOf(between))).await;
        assert_rows(&rows, &both);
    }
    let before = history[2].timestamp - chrono::Duration::seconds(1);
    let e = failed(io::read(session, &table, &at(TableVersion::AsOf(before)))).await;
    assert!(
        e.contains("before the first commit") && e.contains(&table),
        "{e}"
    );
    let e = failed(io::read(session, &table, &at(TableVersion::Number(7)))).await;
    assert!(
        e.contains("version 7") && e.contains("versions 0 to 2") && e.contains(&table),
        "{e}"
    );

    // Partitioned by month: one folder per month, the same rows back.
    let by_month = format!("{root}/by_month");
    let options = WriteOptions {
        partition_by: vec!["month".into()],
        ..with_mode(WriteMode::ErrorIfExists)
    };
    io::write(session, panel(session, 25, 4), &by_month, &options)
        .await
        .unwrap();
    io::write(
        session,
        panel(session, 15, 5),
        &by_month,
        &with_mode(WriteMode::Append),
    )
    .await
    .unwrap();
    let expected = rows_of_all(&[(25, 4), (15, 5)]);
    assert_rows(
        &read_rows(session, &by_month, &ReadOptions::default()).await,
        &expected,
    );
    let stats = delta::stats(session, &by_month, None).await.unwrap();
    assert_eq!(stats.partition_columns, vec!["month".to_string()]);
    assert_eq!(stats.partitions, 6);
    assert_eq!(stats.rows, Some(expected.len() as u64));
    // Filters on the partition column read only matching rows.
    let df = io::read(session, &by_month, &ReadOptions::default())
        .await
        .unwrap();
    let one_month = df
        .filter(
            datafusion::prelude::col("month").eq(datafusion::prelude::lit(
                datafusion::scalar::ScalarValue::Date32(Some(19358)),
            )),
        )
        .unwrap()
        .count()
        .await
        .unwrap();
    assert!(one_month > 0 && one_month < expected.len());
    // Appending with another partitioning is refused, naming both.
    let other = WriteOptions {
        partition_by: vec!["product".into()],
        ..with_mode(WriteMode::Append)
    };
    let e = failed(io::write(session, panel(session, 2, 6), &by_month, &other)).await;
    assert!(e.contains("[month]") && e.contains("[product]"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_tables_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    round_trips(&session, &format!("delta://{}", dir.path().display())).await;
    // The log is where Delta readers expect it.
    assert!(
        dir.path()
            .join("accounts/_delta_log/00000000000000000002.json")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tables_round_trip() {
    let s3 = shared_s3();
    let session = s3.session();
    round_trips(&session, &format!("delta+s3://{BUCKET}/delta-roundtrip")).await;
    // Plain s3:// URLs find the table by its log.
    let plain = format!("s3://{BUCKET}/delta-roundtrip/accounts");
    assert_eq!(count(&session, &plain).await, rows_of(10, 3).len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_columns_need_merge_schema_and_types_may_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t").display().to_string();
    let session = session();
    let sql = |q: &str| {
        let session = session.clone();
        let q = q.to_string();
        async move { session.ctx().sql(&q).await.unwrap() }
    };
    let create = sql("SELECT CAST(1 AS BIGINT) AS id, 0.5 AS x").await;
    io::write(
        &session,
        create,
        &table,
        &with_mode(WriteMode::ErrorIfExists),
    )
    .await
    .unwrap();

    let wider = "SELECT CAST(2 AS BIGINT) AS id, 1.5 AS x, 'new' AS note";
    let e = failed(io::write(
        &session,
        sql(wider).await,
        &table,
        &with_mode(WriteMode::Append),
    ))
    .await;
    assert!(
        e.contains("`note`") && e.contains("merge_schema") && e.contains("version 0"),
        "{e}"
    );
    let merge = WriteOptions {
        merge_schema: true,
        ..with_mode(WriteMode::Append)
    };
    let v = io::write(&session, sql(wider).await, &table, &merge)
        .await
        .unwrap();
    assert_eq!(v.version, Some(1));
    let back = io::read(&session, &table, &ReadOptions::default())
        .await
        .unwrap();
    let back = back
        .sort(vec![datafusion::prelude::col("id").sort(true, true)])
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&collect(back).await)
        .unwrap()
        .to_string();
    assert!(text.contains("| 1  | 0.5 |      |"), "{text}");
    assert!(text.contains("| 2  | 1.5 | new  |"), "{text}");
    // The version before the merge still reads with its own schema.
    let old = io::read(&session, &table, &at(TableVersion::Number(0)))
        .await
        .unwrap();
    assert_eq!(old.schema().fields().len(), 2);

    // Data without a table column: refused, or written as nulls with merging.
    let narrower = "SELECT CAST(3 AS BIGINT) AS id, 2.5 AS x";
    let e = failed(io::write(
        &session,
        sql(narrower).await,
        &table,
        &with_mode(WriteMode::Append),
    ))
    .await;
    assert!(e.contains("lacks") && e.contains("`note`"), "{e}");
    io::write(&session, sql(narrower).await, &table, &merge)
        .await
        .unwrap();
    let nulls = io::read(&session, &table, &ReadOptions::default())
        .await
        .unwrap()
        .filter(datafusion::prelude::col("note").is_null())
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(nulls, 2);

    // A type change is refused, naming the column and both types, with or without merging.
    for options in [with_mode(WriteMode::Append), merge.clone()] {
        let retyped = sql("SELECT 'three' AS id, 2.5 AS x").await;
        let e = failed(io::write(&session, retyped, &table, &options)).await;
        assert!(
            e.contains("`id`") && e.contains("long") && e.contains("string"),
            "{e}"
        );
    }
    assert_eq!(
        delta::history(&session, &table, &HistoryOptions::default())
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_compacts_vacuums_and_reports_stats() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t").display().to_string();
    let session = session();
    for seed in 0..5 {
        io::write(
            &session,
            panel(&session, 20, seed),
            &table,
            &with_mode(WriteMode::Append),
        )
        .await
        .unwrap();
    }
    let before = read_rows(&session, &table, &ReadOptions::default()).await;
    let stats = delta::stats(&session, &table, None).await.unwrap();
    assert_eq!((stats.version, stats.files), (4, 5));
    assert_eq!(stats.rows, Some(before.len() as u64));
    // Per-column statistics agree with the engine's own aggregates.
    let df = io::read(&session, &table, &ReadOptions::default())
        .await
        .unwrap();
    let agg = collect(
        df.aggregate(
            vec![],
            vec![
                datafusion::functions_aggregate::expr_fn::min(datafusion::prelude::col(
                    "customer_id",
                )),
                datafusion::functions_aggregate::expr_fn::max(datafusion::prelude::col(
                    "customer_id",
                )),
            ],
        )
        .unwrap(),
    )
    .await;
    let expected = datafusion::arrow::util::pretty::pretty_format_batches(&agg)
        .unwrap()
        .to_string();
    let id = stats
        .columns
        .iter()
        .find(|c| c.name == "customer_id")
        .unwrap();
    let (lo, hi) = (id.min.clone().unwrap(), id.max.clone().unwrap());
    assert!(
        expected.contains(&format!("| {lo} ")) && expected.contains(&format!("| {hi} ")),
        "{expected} vs {lo}..{hi}"
    );
    let balance = stats.columns.iter().find(|c| c.name == "balance").unwrap();
    let nulls = io::read(&session, &table, &ReadOptions::default())
        .await
        .unwrap()
        .filter(datafusion::prelude::col("balance").is_null())
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(balance.nulls, Some(nulls as u64));
    assert!(stats.to_markdown().contains("| balance | double |"));

    let report = delta::optimize(&session, &table, &OptimizeOptions::default())
        .await
        .unwrap();
    assert_eq!(report.version, Some(5));
    assert_eq!((report.files_removed, report.files_added), (5, 1));
    assert_rows(
        &read_rows(&session, &table, &ReadOptions::default()).await,
        &before,
    );
    assert_eq!(delta::stats(&session, &table, None).await.unwrap().files, 1);
    let zordered = delta::optimize(
        &session,
        &table,
        &OptimizeOptions::default().with_z_order(["customer_id"]),
    )
    .await
    .unwrap();
    assert_eq!(zordered.z_order, vec!["customer_id".to_string()]);
    assert_eq!((zordered.version, zordered.already_at), (Some(6), None));
    assert_rows(
        &read_rows(&session, &table, &ReadOptions::default()).await,
        &before,
    );
    // The same z-order again, with no data changed since: nothing rewritten;
    // the columns are in the history.
    let again = delta::optimize(
        &session,
        &table,
        &OptimizeOptions::default().with_z_order(["customer_id"]),
    )
    .await
    .unwrap();
    assert_eq!((again.version, again.already_at), (None, Some(6)));
    let newest = &delta::history(&session, &table, &HistoryOptions::default().with_limit(1))
        .await
        .unwrap()[0];
    assert_eq!(newest.version, 6);
    assert_eq!(newest.parameters["zOrderBy"], r#"["customer_id"]"#);
    let e = failed(delta::optimize(
        &session,
        &table,
        &OptimizeOptions::default().with_z_order(["nope"]),
    ))
    .await;
    assert!(e.contains("`nope`"), "{e}");

    // Vacuum: the default retention keeps everything; a short one is refused
    // unless forced; a dry run deletes nothing.
    let kept = delta::vacuum(
        &session,
        &table,
        &VacuumOptions::default().with_retain(Duration::from_secs(168 * 3600)),
    )
    .await
    .unwrap();
    assert!(kept.dry_run && kept.files.is_empty(), "{kept:?}");
    let e = failed(delta::vacuum(
        &session,
        &table,
        &VacuumOptions::default().with_retain(Duration::ZERO),
    ))
    .await;
    assert!(e.contains("enforce_retention"), "{e}");
    let listed = delta::vacuum(
        &session,
        &table,
        &VacuumOptions::default()
            .with_retain(Duration::ZERO)
            .with_enforce_retention(false),
    )
    .await
    .unwrap();
    assert_eq!(listed.files.len(), 6, "{listed:?}");
    for f in &listed.files {
        assert!(dir.path().join("t").join(f).exists(), "{f}");
    }
    assert_eq!(
        read_rows(&session, &table, &at(TableVersion::Number(2)))
            .await
            .len() as u64,
        {
            let h = delta::history(&session, &table, &HistoryOptions::default())
                .await
                .unwrap();
            h.iter().find(|c| c.version == 2).unwrap().rows.unwrap()
        }
    );
    let deleted = delta::vacuum(
        &session,
        &table,
        &VacuumOptions::default()
            .with_retain(Duration::ZERO)
            .with_dry_run(false)
            .with_enforce_retention(false),
    )
    .await
    .unwrap();
    assert_eq!(deleted.files, listed.files);
    for f in &deleted.files {
        assert!(!dir.path().join("t").join(f).exists(), "{f}");
    }
    assert_rows(
        &read_rows(&session, &table, &ReadOptions::default()).await,
        &before,
    );
    // A vacuumed version is refused, naming a missing file, even for a
    // count the log's statistics could answer.
    let old = io::read(&session, &table, &at(TableVersion::Number(2))).await;
    let e = match old {
        Ok(df) => df
            .count()
            .await
            .map(|n| format!("counted {n}"))
            .unwrap_or_else(|e| e.to_string()),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("version 2")
            && e.contains("gone")
            && deleted.files.iter().any(|f| e.contains(f.as_str())),
        "{e}"
    );
}

/// A table of `customers` sample customers (seed 0) in one version: its
/// folder, folder path and location text.
async fn one_version_table(
    session: &Session,
    customers: u64,
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("t");
    let table = root.display().to_string();
    io::write(
        session,
        panel(session, customers, 0),
        &table,
        &with_mode(WriteMode::Append),
    )
    .await
    .unwrap();
    (dir, root, table)
}

/// The first add action of version 0 (`{"add": {…}}`).
fn first_add(table: &std::path::Path) -> serde_json::Value {
    let first =
        std::fs::read_to_string(table.join("_delta_log/00000000000000000000.json")).unwrap();
    let add = first.lines().find(|l| l.starts_with("{\"add\"")).unwrap();
    serde_json::from_str(add).unwrap()
}

/// Copies the first add action of version 0 into a new commit `version`,
/// its path replaced by `path` (and `extra` JSON fields added).
fn hand_written_add(table: &std::path::Path, version: u64, path: &str, extra: &str) {
    let log = table.join("_delta_log");
    let mut action = first_add(table);
    action["add"]["path"] = path.into();
    let extra: serde_json::Value = serde_json::from_str(extra).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        action["add"][k] = v.clone();
    }
    let info = r#"{"commitInfo":{"timestamp":1767225600000,"operation":"WRITE"}}"#;
    std::fs::write(
        log.join(format!("{version:020}.json")),
        format!("{info}\n{action}\n"),
    )
    .unwrap();
}

/// Data file paths leaving the table folder (`..`, absolute paths, other
/// buckets) are refused by reads, stats, history and vacuum, naming the
/// commit file and the path, and never read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_paths_outside_the_table_are_refused() {
    let session = session();
    let (dir, root, table) = one_version_table(&session, 3).await;
    // A real data file outside the table, which a reader following the
    // path would read as part of it.
    let first = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let outside = dir.path().join("x.parquet");
    std::fs::copy(&first, &outside).unwrap();
    for path in [
        "../x.parquet".to_string(),
        outside.display().to_string(),
        format!("file://{}", outside.display()),
        "s3://other-bucket/t/part-0.parquet".to_string(),
    ] {
        hand_written_add(&root, 1, &path, "{}");
        let named = |e: &str| {
            e.contains("00000000000000000001.json")
                && e.contains(&format!("`{path}`"))
                && e.contains("outside the table")
        };
        let e = failed(io::read(&session, &table, &ReadOptions::default())).await;
        assert!(named(&e), "{e}");
        let e = failed(delta::stats(&session, &table, None)).await;
        assert!(named(&e), "{e}");
        let e = failed(delta::history(&session, &table, &HistoryOptions::default())).await;
        assert!(named(&e), "{e}");
        let e = failed(delta::vacuum(&session, &table, &VacuumOptions::default())).await;
        assert!(named(&e), "{e}");
        // The version before stays readable.
        assert_eq!(
            read_rows(&session, &table, &at(TableVersion::Number(0))).await,
            rows_of(3, 0)
        );
    }
    assert!(outside.exists());
}

/// Stats and history count rows less those deletion vectors removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_counts_subtract_deletion_vectors() {
    let session = session();
    let (_dir, root, table) = one_version_table(&session, 5).await;
    let rows = rows_of(5, 0).len() as u64;
    let add = first_add(&root);
    let path = add["add"]["path"].as_str().unwrap().to_string();
    // Version 1 marks 4 rows of the file deleted (a DELETE with deletion
    // vectors: the file removed and added again with its vector).
    hand_written_add(
        &root,
        1,
        &path,
        r#"{"deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":1,"sizeInBytes":36,"cardinality":4}}"#,
    );
    let log = root.join("_delta_log/00000000000000000001.json");
    let text = std::fs::read_to_string(&log).unwrap();
    let remove = format!(
        r#"{{"remove":{{"path":"{path}","dataChange":true,"deletionTimestamp":1767225600000}}}}"#
    );
    std::fs::write(&log, format!("{remove}\n{text}")).unwrap();
    let stats = delta::stats(&session, &table, None).await.unwrap();
    assert_eq!((stats.version, stats.rows), (1, Some(rows - 4)));
    let h = delta::history(&session, &table, &HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h[0].rows, Some(rows - 4), "{h:?}");
    assert_eq!(h[1].rows, Some(rows), "{h:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tables_and_versions_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let plain = dir.path().join("plain").display().to_string();
    io::write(
        &session,
        panel(&session, 3, 1),
        &format!("{plain}/"),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let as_delta = ReadOptions {
        format: Some(scorelake::config::Format::Delta),
        ..ReadOptions::default()
    };
    let e = failed(io::read(&session, &plain, &as_delta)).await;
    assert!(e.contains("not a Delta table") && e.contains(&plain), "{e}");
    let e = failed(delta::history(&session, &plain, &HistoryOptions::default())).await;
    assert!(e.contains("not a Delta table"), "{e}");
    // Time travel on files that are not a table.
    let e = failed(io::read(&session, &plain, &at(TableVersion::Number(0)))).await;
    assert!(e.contains("not a Delta table"), "{e}");
    // Appending to plain files, or writing a Delta table over them, is refused.
    let e = failed(io::write(
        &session,
        panel(&session, 1, 1),
        &plain,
        &WriteOptions {
            mode: WriteMode::Append,
            ..WriteOptions::default()
        },
    ))
    .await;
    assert!(e.contains("Delta"), "{e}");
    let e = failed(io::write(
        &session,
        panel(&session, 1, 1),
        &plain,
        &with_mode(WriteMode::Overwrite),
    ))
    .await;
    assert!(e.contains("not a Delta table"), "{e}");
    let missing = dir.path().join("missing").display().to_string();
    let e = io::read(
        &session,
        &format!("delta://{missing}"),
        &ReadOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");

    // A corrupt log entry is named with its version.
    let table = dir.path().join("t").display().to_string();
    for seed in 0..3 {
        io::write(
            &session,
            panel(&session, 3, seed),
            &table,
            &with_mode(WriteMode::Append),
        )
        .await
        .unwrap();
    }
    // Overwriting the table with plain files is refused (its history would be lost).
    let e = failed(io::write(
        &session,
        panel(&session, 1, 1),
        &table,
        &WriteOptions {
            format: Some(scorelake::config::Format::Parquet),
            mode: WriteMode::Overwrite,
            ..WriteOptions::default()
        },
    ))
    .await;
    assert!(e.contains("is a Delta table"), "{e}");
    let entry = dir.path().join("t/_delta_log/00000000000000000002.json");
    std::fs::write(&entry, b"{\"commitInfo\": {\"timestamp\": 1").unwrap();
    let e = failed(io::read(&session, &table, &ReadOptions::default())).await;
    assert!(
        e.contains("version 2") && e.contains("corrupt") && e.contains(&table),
        "{e}"
    );
    // Versions before the corrupt one still read.
    let old = io::read(&session, &table, &at(TableVersion::Number(1)))
        .await
        .unwrap();
    assert_eq!(
        old.count().await.unwrap(),
        rows_of(3, 0).len() + rows_of(3, 1).len()
    );
    let e = failed(delta::history(&session, &table, &HistoryOptions::default())).await;
    assert!(e.contains("version 2") && e.contains("corrupt"), "{e}");
}

/// An empty newest commit file refuses the table for reads and writes,
/// naming the file: no silent fall-back to the version before, no append on
/// top of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_newest_commit_refuses_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let table = dir.path().join("t").display().to_string();
    for seed in 0..3 {
        io::write(
            &session,
            panel(&session, 2, seed),
            &table,
            &with_mode(WriteMode::Append),
        )
        .await
        .unwrap();
    }
    let newest = dir.path().join("t/_delta_log/00000000000000000002.json");
    std::fs::write(&newest, b"").unwrap();
    let named = |e: &str| {
        e.contains("00000000000000000002.json") && e.contains("empty") && e.contains(&table)
    };
    let e = failed(io::read(&session, &table, &ReadOptions::default())).await;
    assert!(named(&e), "{e}");
    let e = failed(io::write(
        &session,
        panel(&session, 1, 9),
        &table,
        &with_mode(WriteMode::Append),
    ))
    .await;
    assert!(named(&e), "{e}");
    assert!(
        !dir.path()
            .join("t/_delta_log/00000000000000000003.json")
            .exists()
    );
    let e = failed(delta::stats(&session, &table, None)).await;
    assert!(named(&e), "{e}");
}

/// Unsigned integers are widened to signed Delta types with every value kept;
/// a uint64 value too large for a Delta long fails the write, naming the column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_integers_are_widened_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let table = dir.path().join("t").display().to_string();
    let df = session
        .ctx()
        .sql(
            "SELECT arrow_cast(255, 'UInt8') AS u8, arrow_cast(65535, 'UInt16') AS u16, \
             arrow_cast(4294967295, 'UInt32') AS u32, arrow_cast(9223372036854775807, 'UInt64') AS u64",
        )
        .await
        .unwrap();
    io::write(&session, df, &table, &with_mode(WriteMode::Append))
        .await
        .unwrap();
    let back = collect(
        io::read(&session, &table, &ReadOptions::default())
            .await
            .unwrap(),
    )
    .await;
    use scorelake::datafusion::arrow::datatypes::DataType;
    let types: Vec<DataType> = back[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let wide = [
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::Int64,
    ];
    assert_eq!(types, wide);
    let row = &sorted_rows(&back)[0];
    for value in ["255", "65535", "4294967295", "9223372036854775807"] {
        assert!(row.contains(&format!(" {value} ")), "{value} in {row}");
    }

    let too_large = session
        .ctx()
        .sql(
            "SELECT arrow_cast(1, 'UInt8') AS u8, arrow_cast(1, 'UInt16') AS u16, \
             arrow_cast(1, 'UInt32') AS u32, arrow_cast('18446744073709551615', 'UInt64') AS u64",
        )
        .await
        .unwrap();
    let e = failed(io::write(
        &session,
        too_large,
        &table,
        &with_mode(WriteMode::Append),
    ))
    .await;
    assert!(e.contains("`u64`") && e.contains("2^63"), "{e}");
    let history = delta::history(&session, &table, &HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
}

// ---- writer processes ------------------------------------------------------

const CHILD_TABLE: &str = "SCORELAKE_TEST_DELTA_TABLE";
const CHILD_JOB: &str = "SCORELAKE_TEST_DELTA_JOB";

/// Not a test on its own: the body of the writer processes the tests below
/// start (this test binary run again with the job in its environment).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by other tests as a writer process"]
async fn writer_process() {
    let (Ok(table), Ok(job)) = (std::env::var(CHILD_TABLE), std::env::var(CHILD_JOB)) else {
        return;
    };
    let config = ConfigBuilder::standard(None).unwrap().build().unwrap();
    let session = Session::new(config).unwrap();
    if let Some(writer) = job.strip_prefix("append:") {
        // 20 appends of 10 rows each, tagged with the writer and the append.
        for i in 0..20 {
            let df = session
                .ctx()
                .sql(&format!(
                    "SELECT '{writer}' AS writer, CAST({i} AS BIGINT) AS append, CAST(v AS BIGINT) AS row FROM generate_series(1, 10) AS t(v)"
                ))
                .await
                .unwrap();
            io::write(&session, df, &table, &with_mode(WriteMode::Append))
                .await
                .unwrap();
        }
    } else if job == "big" {
        println!("writing");
        let df = session
            .ctx()
            .sql("SELECT 'big' AS writer, CAST(v AS BIGINT) AS append, CAST(v * 7919 % 1000003 AS BIGINT) AS row FROM generate_series(1, 400000000) AS t(v)")
            .await
            .unwrap();
        io::write(&session, df, &table, &with_mode(WriteMode::Append))
            .await
            .unwrap();
        println!("finished");
    }
}

fn writer(table: &str, job: &str, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "delta::writer_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_TABLE, table)
    .env(CHILD_JOB, job)
    .env("SCORELAKE__DELTA__TARGET_FILE_SIZE", "256k")
    .envs(env.iter().cloned())
    .stdin(Stdio::null());
    cmd
}

async fn create_writers_table(session: &Session, table: &str) {
    let empty = session
        .ctx()
        .sql("SELECT 'none' AS writer, CAST(0 AS BIGINT) AS append, CAST(0 AS BIGINT) AS row WHERE false")
        .await
        .unwrap();
    let v = io::write(session, empty, table, &with_mode(WriteMode::ErrorIfExists))
        .await
        .unwrap();
    assert_eq!(v.version, Some(0));
}

/// Two processes × 20 appends at once: all 40 commit, each exactly once.
async fn concurrent_appends(session: &Session, table: &str, env: &[(String, String)]) {
    create_writers_table(session, table).await;
    let last = 40;
    let mut children: Vec<_> = ["a", "b"]
        .iter()
        .map(|w| {
            writer(table, &format!("append:{w}"), env)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    let history = delta::history(session, table, &HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(history.len() as u64, last + 1);
    assert_eq!(history[0].version, last);
    assert_eq!(history[0].rows, Some(400));
    assert!(history[..40].iter().all(|c| c.rows_added == Some(10)));
    let df = io::read(session, table, &ReadOptions::default())
        .await
        .unwrap();
    let per_append = collect(
        df.aggregate(
            vec![
                datafusion::prelude::col("writer"),
                datafusion::prelude::col("append"),
            ],
            vec![
                datafusion::functions_aggregate::expr_fn::count(datafusion::prelude::lit(1))
                    .alias("n"),
            ],
        )
        .unwrap()
        .filter(datafusion::prelude::col("n").eq(datafusion::prelude::lit(10i64)))
        .unwrap(),
    )
    .await;
    assert_eq!(per_append.iter().map(|b| b.num_rows()).sum::<usize>(), 40);
    assert_eq!(count(session, table).await, 400);
}

/// A writer killed (SIGKILL) while writing leaves the table at its last version.
async fn killed_writer(session: &Session, table: &str, env: &[(String, String)]) {
    let before = delta::history(session, table, &HistoryOptions::default().with_limit(1))
        .await
        .unwrap()[0]
        .clone();
    let rows_before = count(session, table).await;
    let mut child = writer(table, "big", env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The test harness prints its own lines first; the pipe stays open until the kill.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.trim_end().ends_with("writing") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the writer ended before writing"
        );
    }
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the writer finished before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let after = delta::history(session, table, &HistoryOptions::default().with_limit(1))
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(after.version, before.version);
    assert_eq!(count(session, table).await, rows_before);
    // The table takes new commits afterwards.
    let more = session
        .ctx()
        .sql("SELECT 'late' AS writer, CAST(0 AS BIGINT) AS append, CAST(1 AS BIGINT) AS row")
        .await
        .unwrap();
    let v = io::write(session, more, table, &with_mode(WriteMode::Append))
        .await
        .unwrap();
    assert_eq!(v.version, Some(before.version + 1));
    assert_eq!(count(session, table).await, rows_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_writer_processes_commit_safely() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("w").display().to_string();
    let session = session();
    concurrent_appends(&session, &table, &[]).await;
    killed_writer(&session, &table, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_writer_processes_commit_safely() {
    let s3 = shared_s3();
    let session = s3.session();
    let table = format!("s3://{BUCKET}/delta-writers/w");
    concurrent_appends(&session, &format!("delta://{table}"), &s3.env()).await;
    killed_writer(&session, &table, &s3.env()).await;
}
