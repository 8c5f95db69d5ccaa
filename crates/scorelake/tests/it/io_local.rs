//! Lake I/O on local disk: round trips, layouts, atomic writes, bad input.

use std::sync::Arc;

use scorelake::Error;
use scorelake::config::ConfigBuilder;
use scorelake::datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
    TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use scorelake::datafusion::arrow::compute::concat_batches;
use scorelake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use scorelake::datafusion::arrow::record_batch::RecordBatch;
use scorelake::datafusion::physical_plan::ExecutionPlanProperties;
use scorelake::io::{self, CsvReadOptions, ReadOptions, WriteMode, WriteOptions};
use scorelake::session::Session;

use crate::support::{collect, read_from, session, sorted_rows, write_to};

fn all_types_batch() -> RecordBatch {
    let n = |v: i64| if v % 4 == 3 { None } else { Some(v) };
    let rows: Vec<i64> = (0..40).collect();
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "i8",
            Arc::new(Int8Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as i8 - 20)),
            )),
        ),
        (
            "i16",
            Arc::new(Int16Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as i16 * -300)),
            )),
        ),
        (
            "i32",
            Arc::new(Int32Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as i32 * 100_000)),
            )),
        ),
        (
            "i64",
            Arc::new(Int64Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v << 40)),
            )),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as u32 * 99)),
            )),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| u64::MAX - v as u64)),
            )),
        ),
        (
            "f32",
            Arc::new(Float32Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as f32 / 3.0)),
            )),
        ),
        (
            "f64",
            Arc::new(Float64Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v as f64 * 1e-9 - 0.5)),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from_iter(
                rows.iter().map(|&v| n(v).map(|v| v % 2 == 0)),
            )),
        ),
        (
            "name",
            Arc::new(StringArray::from_iter(
                rows.iter().map(|&v| n(v).map(|v| format!("näme-{v}"))),
            )),
        ),
        (
            "day",
            Arc::new(Date32Array::from_iter(
                rows.iter().map(|&v| n(v).map(|v| 19_000 + v as i32)),
            )),
        ),
        (
            "ts_us",
            Arc::new(TimestampMicrosecondArray::from_iter(
                rows.iter()
                    .map(|&v| n(v).map(|v| 1_700_000_000_000_000 + v * 1_000_001)),
            )),
        ),
        (
            "ts_ns_utc",
            Arc::new(
                TimestampNanosecondArray::from_iter(
                    rows.iter()
                        .map(|&v| n(v).map(|v| 1_700_000_000_000_000_000 + v)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "amount",
            Arc::new(
                Decimal128Array::from_iter(
                    rows.iter()
                        .map(|&v| n(v).map(|v| i128::from(v) * 12_345 - 99_999)),
                )
                .with_precision_and_scale(18, 4)
                .unwrap(),
            ),
        ),
        (
            "blob",
            Arc::new(BinaryArray::from_iter(
                rows.iter()
                    .map(|&v| n(v).map(|v| vec![v as u8; (v % 5) as usize])),
            )),
        ),
    ];
    let fields: Vec<Field> = cols
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn session_with(pairs: &[(&str, &str)]) -> Session {
    let mut b = ConfigBuilder::new();
    for (k, v) in pairs {
        b = b.set(k, v, "test").unwrap();
    }
    Session::new(b.build().unwrap()).unwrap()
}

#[tokio::test]
async fn parquet_round_trips_every_type_with_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let batch = all_types_batch();
    for (codec, level) in [
        ("none", ""),
        ("snappy", ""),
        ("gzip", "9"),
        ("lz4", ""),
        ("zstd", "7"),
    ] {
        let session = session_with(&[("io.compression", codec), ("io.compression_level", level)]);
        let out = dir.path().join(format!("all-{codec}.parquet"));
        let out = out.to_str().unwrap();
        let df = session.ctx().read_batch(batch.clone()).unwrap();
        let written = io::write(&session, df, out, &WriteOptions::default())
            .await
            .unwrap();
        assert_eq!(written.rows, 40);
        let back = collect(
            io::read(&session, out, &ReadOptions::default())
                .await
                .unwrap(),
        )
        .await;
        let back = concat_batches(&back[0].schema(), &back).unwrap();
        assert_eq!(back.schema(), batch.schema(), "{codec}");
        assert_eq!(back, batch, "{codec}");
    }
}

#[tokio::test]
async fn the_codec_is_really_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut sizes = vec![];
    for codec in ["none", "zstd"] {
        let session = session_with(&[("io.compression", codec)]);
        let out = dir.path().join(format!("{codec}.parquet"));
        let df = session
            .ctx()
            .sql("SELECT v % 10 AS a, v AS b FROM generate_series(1, 100000) AS t(v)")
            .await
            .unwrap();
        write_to(&session, df, &out).await;
        sizes.push(std::fs::metadata(&out).unwrap().len());
    }
    assert!(
        sizes[1] * 2 < sizes[0],
        "zstd {} vs none {}",
        sizes[1],
        sizes[0]
    );
}

/// Seconds timestamps and `Date64` dates have no Parquet logical type of
/// their own: they are written as millisecond timestamps and dates (same
/// values), not as plain INT64 columns other readers take for integers.
#[tokio::test]
async fn seconds_timestamps_and_date64_keep_their_logical_types() {
    use scorelake::datafusion::parquet::basic::{LogicalType, TimeUnit};
    use scorelake::datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let out = dir.path().join("times.parquet");
    let sql = "SELECT to_timestamp_seconds(1767225600 + v) AS ts, \
               arrow_cast(to_timestamp_seconds(1767225600 + v), 'Timestamp(Second, Some(\"+01:00\"))') AS ts_tz, \
               arrow_cast(DATE '2026-01-31' + v, 'Date64') AS d \
               FROM generate_series(0, 2) AS t(v)";
    let df = session.ctx().sql(sql).await.unwrap();
    write_to(&session, df, &out).await;

    let reader = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    for (i, name) in ["ts", "ts_tz"].into_iter().enumerate() {
        let column = schema.column(i);
        assert_eq!(column.name(), name);
        assert!(
            matches!(column.logical_type_ref(), Some(LogicalType::Timestamp(t)) if matches!(t.unit, TimeUnit::MILLIS)),
            "{name}: {:?}",
            column.logical_type_ref()
        );
    }
    assert_eq!(
        schema.column(2).logical_type_ref(),
        Some(&LogicalType::Date)
    );

    // The same values back.
    let back = collect(read_from(&session, &out).await).await;
    let back = concat_batches(&back[0].schema(), &back).unwrap();
    let written = collect(session.ctx().sql(sql).await.unwrap()).await;
    let written = concat_batches(&written[0].schema(), &written).unwrap();
    for (i, (was, now)) in written.columns().iter().zip(back.columns()).enumerate() {
        let expected = datafusion::arrow::compute::cast(was, now.data_type()).unwrap();
        assert_eq!(&expected, now, "column {i}: {:?}", now.data_type());
    }
    assert_eq!(back.column(2).data_type(), &DataType::Date32);
}

#[tokio::test]
async fn directories_and_hive_partitions_read_as_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let source = session
        .ctx()
        .sql(
            "SELECT v AS id, CAST(v % 3 AS BIGINT) AS bucket, \
             CASE WHEN v % 2 = 0 THEN DATE '2024-01-01' ELSE DATE '2024-02-01' END AS month, \
             CASE WHEN v % 5 = 0 THEN NULL ELSE 'p' || CAST(v % 4 AS VARCHAR) END AS product \
             FROM generate_series(1, 1000) AS t(v)",
        )
        .await
        .unwrap();
    let expected = sorted_rows(&collect(source.clone()).await);
    let out = dir.path().join("by_bucket_month");
    let out = out.to_str().unwrap();
    let options = WriteOptions {
        partition_by: vec!["bucket".into(), "month".into()],
        ..WriteOptions::default()
    };
    let written = io::write(&session, source, out, &options).await.unwrap();
    assert_eq!(written.rows, 1000);
    assert!(
        dir.path()
            .join("by_bucket_month/bucket=2/month=2024-02-01")
            .is_dir()
    );
    assert!(dir.path().join("by_bucket_month/_SUCCESS").is_file());

    let back = io::read(&session, out, &ReadOptions::default())
        .await
        .unwrap();
    let schema = back.schema().clone();
    assert_eq!(
        schema.field_with_name(None, "bucket").unwrap().data_type(),
        &DataType::Int64
    );
    assert_eq!(
        schema.field_with_name(None, "month").unwrap().data_type(),
        &DataType::Date32
    );
    let back = back
        .select_columns(&["id", "bucket", "month", "product"])
        .unwrap();
    assert_eq!(sorted_rows(&collect(back).await), expected);

    // A plain folder of files (written by two writes) is one table too.
    let flat = dir.path().join("flat");
    std::fs::create_dir(&flat).unwrap();
    for i in 0..2 {
        let df = session
            .ctx()
            .sql(&format!(
                "SELECT {i} AS part, v FROM generate_series(1, 10) AS t(v)"
            ))
            .await
            .unwrap();
        let f = flat.join(format!("part-{i}.parquet"));
        write_to(&session, df, &f).await;
    }
    // Hidden and underscore files are not data.
    std::fs::write(flat.join(".part-9.parquet.tmp"), b"junk").unwrap();
    std::fs::write(flat.join("_SUCCESS"), b"").unwrap();
    let df = read_from(&session, &flat).await;
    assert_eq!(df.count().await.unwrap(), 20);
}

#[tokio::test]
async fn csv_delimiter_header_inference_and_type_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let path = dir.path().join("accounts.csv");
    std::fs::write(
        &path,
        "id;balance;opened;segment\n1;10.5;2024-01-31;A\n2;;2024-02-29;B\n3;7;2024-03-31;\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let mut options = ReadOptions {
        csv: CsvReadOptions {
            delimiter: Some(b';'),
            ..CsvReadOptions::default()
        },
        ..ReadOptions::default()
    };
    let df = io::read(&session, p, &options).await.unwrap();
    let schema = df.schema().clone();
    assert_eq!(schema.field(0).data_type(), &DataType::Int64);
    assert_eq!(schema.field(1).data_type(), &DataType::Float64);
    assert_eq!(schema.field(2).data_type(), &DataType::Date32);
    let batches = collect(df).await;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(total, 3);

    options.csv.column_types = vec![("id".into(), DataType::Utf8)];
    let df = io::read(&session, p, &options).await.unwrap();
    assert_eq!(df.schema().field(0).data_type(), &DataType::Utf8);

    options.csv.column_types = vec![("nope".into(), DataType::Utf8)];
    let e = io::read(&session, p, &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`nope`") && e.contains("id, balance, opened, segment"),
        "{e}"
    );

    // Without a header the first line is data.
    let headless = dir.path().join("headless.csv");
    std::fs::write(&headless, "1,2\n3,4\n").unwrap();
    let options = ReadOptions {
        csv: CsvReadOptions {
            has_header: Some(false),
            ..CsvReadOptions::default()
        },
        ..ReadOptions::default()
    };
    let df = io::read(&session, headless.to_str().unwrap(), &options)
        .await
        .unwrap();
    assert_eq!(df.count().await.unwrap(), 2);
}

#[tokio::test]
async fn csv_to_parquet_and_back_keeps_values() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let source = session
        .ctx()
        .sql("SELECT v AS id, v * 0.25 AS x, 'c' || CAST(v AS VARCHAR) AS s FROM generate_series(1, 500) AS t(v)")
        .await
        .unwrap();
    let expected = sorted_rows(&collect(source.clone()).await);
    let csv = dir.path().join("t.csv");
    let parquet = dir.path().join("t.parquet");
    write_to(&session, source, &csv).await;
    let summary = io::convert(
        &session,
        csv.to_str().unwrap(),
        parquet.to_str().unwrap(),
        &ReadOptions::default(),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.rows, 500);
    let back = read_from(&session, &parquet).await;
    assert_eq!(sorted_rows(&collect(back).await), expected);
}

#[tokio::test]
async fn a_failing_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    // The cast fails only on the very last row, after most data is written.
    let bad = session
        .ctx()
        .sql(
            "SELECT v, v % 4 AS p, \
             arrow_cast(CASE WHEN v = 300000 THEN 'oops' ELSE CAST(v AS VARCHAR) END, 'Int64') AS n \
             FROM generate_series(1, 300000) AS t(v)",
        )
        .await
        .unwrap();
    for (name, options) in [
        ("single.parquet", WriteOptions::default()),
        (
            "parts",
            WriteOptions {
                partition_by: vec!["p".into()],
                ..WriteOptions::default()
            },
        ),
    ] {
        let out = dir.path().join(name);
        let e = io::write(&session, bad.clone(), out.to_str().unwrap(), &options)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Write { .. }), "{e}");
        assert!(e.to_string().contains(name), "{e}");
        assert!(!out.exists(), "{name} must not exist after a failed write");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[tokio::test]
async fn existing_outputs_are_refused_or_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let out = dir.path().join("t.parquet");
    let out = out.to_str().unwrap();
    let df = |n: i64| {
        let ctx = session.ctx().clone();
        async move {
            ctx.sql(&format!("SELECT v FROM generate_series(1, {n}) AS t(v)"))
                .await
                .unwrap()
        }
    };
    io::write(&session, df(3).await, out, &WriteOptions::default())
        .await
        .unwrap();
    let e = io::write(&session, df(5).await, out, &WriteOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::AlreadyExists(_)), "{e}");
    let overwrite = WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    io::write(&session, df(5).await, out, &overwrite)
        .await
        .unwrap();
    let n = io::read(&session, out, &ReadOptions::default())
        .await
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n, 5);

    // Directories too: the old files are gone, not mixed with the new ones.
    let d = dir.path().join("d");
    let d = d.to_str().unwrap();
    let parts = WriteOptions {
        partition_by: vec!["p".into()],
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    for n in [100, 7] {
        let df = session
            .ctx()
            .sql(&format!(
                "SELECT v, v % 3 AS p FROM generate_series(1, {n}) AS t(v)"
            ))
            .await
            .unwrap();
        io::write(&session, df, d, &parts).await.unwrap();
    }
    let n = io::read(&session, d, &ReadOptions::default())
        .await
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n, 7);
}

/// Writes one Parquet file per `(name, query)` into a new folder `dir`.
async fn write_files(session: &Session, dir: &std::path::Path, files: &[(&str, &str)]) {
    std::fs::create_dir(dir).unwrap();
    for (name, sql) in files {
        let df = session.ctx().sql(sql).await.unwrap();
        write_to(session, df, &dir.join(name)).await;
    }
}

#[tokio::test]
async fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let read = |p: std::path::PathBuf| {
        let session = session.clone();
        async move {
            io::read(&session, p.to_str().unwrap(), &ReadOptions::default())
                .await
                .unwrap_err()
                .to_string()
        }
    };

    let e = read(dir.path().join("missing.parquet")).await;
    assert!(
        e.contains("missing.parquet") && e.contains("does not exist"),
        "{e}"
    );

    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, b"this is not parquet at all, not even close").unwrap();
    let e = read(corrupt).await;
    assert!(
        e.contains("corrupt.parquet") && e.contains("cannot read"),
        "{e}"
    );

    let empty = dir.path().join("empty.parquet");
    std::fs::write(&empty, b"").unwrap();
    let e = read(empty).await;
    assert!(e.contains("empty.parquet"), "{e}");

    let mixed = dir.path().join("mixed");
    write_files(
        &session,
        &mixed,
        &[
            ("a.parquet", "SELECT 1 AS id, 2.5 AS x"),
            ("b.parquet", "SELECT 2 AS id, 'text' AS x"),
        ],
    )
    .await;
    let e = read(mixed.clone()).await;
    assert!(e.contains("mixed schemas") && e.contains("`x`"), "{e}");
    assert!(e.contains("a.parquet") && e.contains("b.parquet"), "{e}");

    let compatible = dir.path().join("compatible");
    write_files(
        &session,
        &compatible,
        &[
            ("a.parquet", "SELECT 1 AS id"),
            ("b.parquet", "SELECT 2 AS id, 'x' AS extra"),
        ],
    )
    .await;
    let e = read(compatible.clone()).await;
    assert!(e.contains("`extra` is missing"), "{e}");
    let merged = ReadOptions {
        merge_schema: true,
        ..ReadOptions::default()
    };
    let df = io::read(&session, compatible.to_str().unwrap(), &merged)
        .await
        .unwrap();
    assert_eq!(df.schema().fields().len(), 2);
    assert_eq!(df.count().await.unwrap(), 2);

    let empty_dir = dir.path().join("nothing");
    std::fs::create_dir(&empty_dir).unwrap();
    let e = read(empty_dir).await;
    assert!(e.contains("nothing"), "{e}");

    let e = io::read(&session, "gs://bucket/x.parquet", &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported scheme"), "{e}");

    let df = session.ctx().sql("SELECT 1 AS a").await.unwrap();
    let out = dir.path().join("p");
    let options = WriteOptions {
        partition_by: vec!["nope".into()],
        ..WriteOptions::default()
    };
    let e = io::write(&session, df, out.to_str().unwrap(), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nope`") && e.contains("columns: a"), "{e}");
}

#[tokio::test]
async fn scan_partition_bytes_splits_large_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let session = session_with(&[
        ("engine.target_partitions", "2"),
        ("io.scan_partition_bytes", "64k"),
    ]);
    let out = dir.path().join("big.parquet");
    let df = session
        .ctx()
        .sql("SELECT v, v * 2 AS w FROM generate_series(1, 200000) AS t(v)")
        .await
        .unwrap();
    let options = WriteOptions::default();
    io::write(&session, df, out.to_str().unwrap(), &options)
        .await
        .unwrap();
    let bytes = std::fs::metadata(&out).unwrap().len();
    assert!(bytes > 4 * 65536, "{bytes}");
    let df = read_from(&session, &out).await;
    let plan = df.clone().create_physical_plan().await.unwrap();
    assert!(plan.output_partitioning().partition_count() > 2);
    assert_eq!(df.count().await.unwrap(), 200_000);
}

#[tokio::test]
async fn a_small_memory_limit_spills_instead_of_failing() {
    let spill = tempfile::tempdir().unwrap();
    let session = session_with(&[
        ("engine.memory_limit", "24m"),
        ("engine.target_partitions", "2"),
        ("engine.spill_dir", spill.path().to_str().unwrap()),
    ]);
    let df = session
        .ctx()
        .sql(
            "SELECT v, to_hex((v * 2654435761) % 4294967296) AS h FROM generate_series(1, 1500000) AS t(v) \
             ORDER BY h",
        )
        .await
        .unwrap();
    let n = df.count().await.unwrap();
    assert_eq!(n, 1_500_000);
    let sorted = session
        .ctx()
        .sql(
            "SELECT count(*) FROM (SELECT h, lag(h) OVER (ORDER BY h) AS prev \
             FROM (SELECT to_hex((v * 2654435761) % 4294967296) AS h FROM generate_series(1, 1500000) AS t(v))) \
             WHERE prev > h",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let out_of_order = sorted[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    assert_eq!(out_of_order, 0);
}
