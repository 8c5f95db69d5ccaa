//! Hive partition folders: NULL values written as `__HIVE_DEFAULT_PARTITION__`
//! and read back as NULL, percent-encoded keys decoded, folders written by
//! other engines (Spark) read, pruning kept; every format, local and S3.

use object_store::ObjectStoreExt;
use object_store::path::Path;
use scorelake::Error;
use scorelake::config::Format;
use std::sync::Arc;

use scorelake::datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use scorelake::datafusion::arrow::datatypes::DataType;
use scorelake::datafusion::arrow::record_batch::RecordBatch;
use scorelake::datafusion::arrow::util::display::array_value_to_string;
use scorelake::datafusion::logical_expr::{cast, lit};
use scorelake::datafusion::physical_plan::displayable;
use scorelake::datafusion::prelude::{DataFrame, SessionContext, coalesce, ident};
use scorelake::io::{self, ReadOptions, WriteOptions};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

use crate::support::{BUCKET, collect, session, shared_s3};

/// The rows of `columns` of `df` as sorted text, NULL spelled `∅` (so NULL
/// and `''` differ, and equal values of different types agree).
async fn rows(df: &DataFrame, columns: &[&str]) -> Vec<String> {
    let text: Vec<_> = columns
        .iter()
        .map(|c| coalesce(vec![cast(ident(*c), DataType::Utf8), lit("∅")]).alias(*c))
        .collect();
    let batches = collect(df.clone().select(text).unwrap()).await;
    let mut out = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            let row: Vec<String> = (0..b.num_columns())
                .map(|j| array_value_to_string(b.column(j), i).unwrap())
                .collect();
            out.push(row.join("|"));
        }
    }
    out.sort();
    out
}

/// The issue's panel (`scorelake sample --customers 200`): `num_inquiries`
/// holds 34 NULLs.
fn panel(session: &Session) -> DataFrame {
    let spec = SampleSpec {
        customers: 200,
        ..SampleSpec::default()
    };
    sample::dataframe(session, &spec, None).unwrap()
}

/// A table whose keys hold NULLs in every type: an integer, text with `''`,
/// `/`, `%` and non-ASCII values under a non-ASCII name, a date, and an
/// all-NULL date.
async fn keyed(session: &Session) -> DataFrame {
    session
        .ctx()
        .sql(
            "SELECT v AS id, \
             CASE WHEN v % 7 = 0 THEN NULL ELSE CAST(v % 3 AS INT) END AS n, \
             CASE v % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'a/b%c' WHEN 3 THEN 'Île' \
               ELSE 'north' END AS \"région\", \
             CASE WHEN v % 5 = 0 THEN NULL WHEN v % 2 = 0 THEN DATE '2024-01-01' ELSE DATE '2024-02-29' END AS day, \
             CAST(NULL AS DATE) AS never \
             FROM generate_series(1, 300) AS t(v)",
        )
        .await
        .unwrap()
}

const KEYED: [&str; 5] = ["id", "n", "région", "day", "never"];

/// Writes the panel by `num_inquiries` and the keyed table by all its keys
/// under `base` in each format, and checks that each reads back row for
/// row, NULLs included.
async fn assert_round_trips(session: &Session, base: &str) {
    let panel_cols = ["customer_id", "month", "num_inquiries"];
    let expected_panel = rows(&panel(session), &panel_cols).await;
    let expected_keyed = rows(&keyed(session).await, &KEYED).await;
    // The panel has rows with no `num_inquiries`: a NULL partition.
    assert!(expected_panel.iter().filter(|r| r.ends_with("|∅")).count() > 10);
    for format in [Format::Parquet, Format::Csv, Format::Ncf] {
        let by_inquiries = WriteOptions {
            partition_by: vec!["num_inquiries".into()],
            format: Some(format),
            ..WriteOptions::default()
        };
        let out = format!("{base}/{format}/by_inquiries/");
        let source = panel(session).select_columns(&panel_cols).unwrap();
        io::write(session, source, &out, &by_inquiries)
            .await
            .unwrap();
        let back = io::read(session, &out, &ReadOptions::default())
            .await
            .unwrap();
        let field = back
            .schema()
            .field_with_name(None, "num_inquiries")
            .unwrap();
        assert_eq!(field.data_type(), &DataType::Int64, "{format}");
        assert_eq!(rows(&back, &panel_cols).await, expected_panel, "{format}");

        let by_all = WriteOptions {
            partition_by: vec!["n".into(), "région".into(), "day".into(), "never".into()],
            format: Some(format),
            ..WriteOptions::default()
        };
        let out = format!("{base}/{format}/by_all/");
        io::write(session, keyed(session).await, &out, &by_all)
            .await
            .unwrap();
        let back = io::read(session, &out, &ReadOptions::default())
            .await
            .unwrap();
        let schema = back.schema();
        let type_of = |c| schema.field_with_name(None, c).unwrap().data_type().clone();
        assert_eq!(type_of("n"), DataType::Int64, "{format}");
        assert_eq!(type_of("région"), DataType::Utf8, "{format}");
        assert_eq!(type_of("day"), DataType::Date32, "{format}");
        assert_eq!(rows(&back, &KEYED).await, expected_keyed, "{format}");
    }
}

#[tokio::test]
async fn null_partition_values_and_encoded_keys_round_trip_locally() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    assert_round_trips(&session, dir.path().to_str().unwrap()).await;
    let mut folders = Vec::new();
    let mut pending = vec![dir.path().to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.path().is_dir() {
                folders.push(e.file_name().to_string_lossy().into_owned());
                pending.push(e.path());
            }
        }
    }
    for folder in [
        "num_inquiries=__HIVE_DEFAULT_PARTITION__",
        "n=__HIVE_DEFAULT_PARTITION__",
        "r%C3%A9gion=__HIVE_DEFAULT_PARTITION__",
        "r%C3%A9gion=a%2Fb%25c",
        "r%C3%A9gion=%C3%8Ele",
        "r%C3%A9gion=",
        "day=__HIVE_DEFAULT_PARTITION__",
        "never=__HIVE_DEFAULT_PARTITION__",
    ] {
        assert!(folders.iter().any(|f| f == folder), "no {folder}");
    }
}

/// Files as Spark lays them out (path under the table, Parquet bytes):
/// un-encoded UTF-8 keys, `%2F`-escaped values, NULL as
/// `__HIVE_DEFAULT_PARTITION__` in text and integer keys.
async fn spark_files(session: &Session) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (folder, first) in [
        ("région=a%2Fb/num_inquiries=__HIVE_DEFAULT_PARTITION__", 1),
        ("région=Île/num_inquiries=3", 10),
        ("région=__HIVE_DEFAULT_PARTITION__/num_inquiries=4", 20),
    ] {
        let sql = format!(
            "SELECT v AS id FROM generate_series({first}, {}) AS t(v)",
            first + 1
        );
        let df = session.ctx().sql(&sql).await.unwrap();
        let file = dir.path().join(format!("{first}.parquet"));
        crate::support::write_to(session, df, &file).await;
        let path = format!("{folder}/part-00000-{first}.c000.snappy.parquet");
        files.push((path, std::fs::read(&file).unwrap()));
    }
    files
}

/// Checks that the table at `location` holds [`spark_files`]' rows.
async fn assert_spark_files_read_back(session: &Session, location: &str) {
    let back = io::read(session, location, &ReadOptions::default())
        .await
        .unwrap();
    let schema = back.schema();
    let type_of = |c| schema.field_with_name(None, c).unwrap().data_type().clone();
    assert_eq!(type_of("num_inquiries"), DataType::Int64);
    assert_eq!(type_of("région"), DataType::Utf8);
    assert_eq!(
        rows(&back, &["id", "région", "num_inquiries"]).await,
        [
            "10|Île|3",
            "11|Île|3",
            "1|a/b|∅",
            "20|∅|4",
            "21|∅|4",
            "2|a/b|∅"
        ]
    );
}

#[tokio::test]
async fn spark_written_folders_read_back_with_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    for (path, bytes) in spark_files(&session).await {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    assert_spark_files_read_back(&session, dir.path().to_str().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_partitions_and_encoded_keys_round_trip_on_s3() {
    let session = shared_s3().session();
    assert_round_trips(&session, &format!("s3://{BUCKET}/hive")).await;

    // Spark's keys as they are (UTF-8, not percent-encoded by the store).
    let store = session
        .object_store(&url::Url::parse(&format!("s3://{BUCKET}/")).unwrap())
        .unwrap();
    for (path, bytes) in spark_files(&session).await {
        let key = Path::parse(format!("hive/spark/{path}")).unwrap();
        store.put(&key, bytes.into()).await.unwrap();
    }
    assert_spark_files_read_back(&session, &format!("s3://{BUCKET}/hive/spark/")).await;

    let wrong = hostile_round_trips(&session, &format!("s3://{BUCKET}/hive/hostile"), 15).await;
    assert!(wrong.is_empty(), "seeds with different rows: {wrong:?}");
}

#[tokio::test]
async fn filters_on_keys_with_null_folders_still_prune_folders() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let out = dir.path().join("t");
    let out = out.to_str().unwrap();
    let options = WriteOptions {
        partition_by: vec!["num_inquiries".into()],
        ..WriteOptions::default()
    };
    io::write(&session, panel(&session), out, &options)
        .await
        .unwrap();
    for (filter, folder) in [
        (
            "num_inquiries IS NULL",
            "num_inquiries=__HIVE_DEFAULT_PARTITION__",
        ),
        ("num_inquiries = 2", "num_inquiries=2"),
    ] {
        let df = io::read(&session, out, &ReadOptions::default())
            .await
            .unwrap();
        let ctx = SessionContext::new();
        ctx.register_table("t", df.into_view()).unwrap();
        let query = format!("SELECT customer_id, num_inquiries FROM t WHERE {filter}");
        let plan = ctx
            .sql(&query)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let text = displayable(plan.as_ref()).indent(true).to_string();
        let scanned = text.matches(".parquet").count();
        assert!(
            text.contains(folder) && scanned == 1,
            "{filter}: {scanned} files scanned:\n{text}"
        );
    }
}

#[tokio::test]
async fn keys_that_do_not_read_back_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let df = session
        .ctx()
        .sql(
            "SELECT v, to_timestamp(v) AS ts, CAST(v AS DECIMAL(10, 2)) AS amount, \
             v AS _hidden, v AS \"a=b\" FROM generate_series(1, 3) AS t(v)",
        )
        .await
        .unwrap();
    for (key, wanted) in [
        ("ts", "Timestamp"),
        ("amount", "Decimal"),
        ("_hidden", "must not start with"),
        ("a=b", "nor hold `=`"),
    ] {
        let out = dir.path().join(format!("by_{key}"));
        let options = WriteOptions {
            partition_by: vec![key.into()],
            ..WriteOptions::default()
        };
        let e = io::write(&session, df.clone(), out.to_str().unwrap(), &options)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
        let e = e.to_string();
        assert!(e.contains(&format!("`{key}`")) && e.contains(wanted), "{e}");
        assert!(!out.exists());
    }
}

#[tokio::test]
async fn a_key_also_in_the_files_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let df = session
        .ctx()
        .sql("SELECT 1 AS id, DATE '2024-01-01' AS month")
        .await
        .unwrap();
    let file = dir.path().join("month=2024-01-01/part-0.parquet");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    crate::support::write_to(&session, df, &file).await;
    let e = io::read(
        &session,
        dir.path().to_str().unwrap(),
        &ReadOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("partition folders `month=…` and a column `month`"),
        "{e}"
    );
}

/// Text values a folder name must carry through: path separators, `%`
/// escapes, `=`, dots, spaces, quotes, control characters, non-ASCII.
const HOSTILE: [&str; 34] = [
    "",
    " ",
    "a b",
    "a/b",
    "/",
    "a\\b",
    "%",
    "%2F",
    "100%",
    "%zz",
    "a=b",
    "=",
    ".",
    "..",
    "_x",
    ".hidden",
    "ü",
    "日本",
    "😀",
    "tab\t",
    "new\nline",
    "cr\r",
    "quote\"",
    "'",
    "#",
    "?",
    "*",
    "[x]",
    "{y}",
    "~|<>",
    "007",
    "-1",
    "2024-01-01",
    "trailing ",
];

/// Key names a folder must carry through (one per seed, in turn).
const HOSTILE_NAMES: [&str; 8] = ["key", "région", "a b", "a/b", "50%", "日本", "x.y", "K-1"];

/// Writes, for each seed, a table keyed (under one of [`HOSTILE_NAMES`]) by
/// a random subset of [`HOSTILE`] and NULLs, partitioned under `base`, and
/// reads it back: returns the seeds whose rows differ.
async fn hostile_round_trips(session: &Session, base: &str, seeds: u64) -> Vec<u64> {
    use rand::{Rng, SeedableRng};
    let mut wrong = Vec::new();
    for seed in 0..seeds {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        // A textual anchor keeps the key Utf8 whatever else is drawn.
        let mut pool: Vec<Option<&str>> = vec![Some("text"), None];
        pool.extend(
            HOSTILE
                .iter()
                .filter(|_| rng.random_bool(0.5))
                .map(|v| Some(*v)),
        );
        let values: Vec<Option<&str>> = (0..60)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect();
        let id: ArrayRef = Arc::new(Int64Array::from((0..60).collect::<Vec<i64>>()));
        let key: ArrayRef = Arc::new(StringArray::from(values));
        let name = HOSTILE_NAMES[seed as usize % HOSTILE_NAMES.len()];
        let batch = RecordBatch::try_from_iter([("id", id), (name, key)]).unwrap();
        let df = session.ctx().read_batch(batch).unwrap();
        let expected = rows(&df, &["id", name]).await;
        let out = format!("{base}/seed_{seed}/");
        let options = WriteOptions {
            partition_by: vec![name.into()],
            ..WriteOptions::default()
        };
        io::write(session, df, &out, &options).await.unwrap();
        let back = io::read(session, &out, &ReadOptions::default())
            .await
            .unwrap();
        if rows(&back, &["id", name]).await != expected {
            wrong.push(seed);
        }
    }
    wrong
}

#[tokio::test]
async fn hostile_text_values_round_trip_locally() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = hostile_round_trips(&session(), dir.path().to_str().unwrap(), 40).await;
    assert!(wrong.is_empty(), "seeds with different rows: {wrong:?}");
}
