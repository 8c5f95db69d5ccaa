//! NCF through the engine: SQL, pruning, projection, conversions, directories, S3.

use std::path::Path;
use std::sync::Arc;

use scorelake::config::{Config, ConfigBuilder};
use scorelake::datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use scorelake::datafusion::arrow::compute::concat_batches;
use scorelake::datafusion::physical_plan::{ExecutionPlan, collect as run, displayable};
use scorelake::io::{self, ReadOptions, WriteMode, WriteOptions};
use scorelake::sample::{self, SampleSpec};
use scorelake::session::Session;

use crate::support::{
    BUCKET, collect, read_from, sample_columns, session, shared_s3, sorted_rows, write_to,
};

fn small_groups(rows: usize, partitions: usize) -> Session {
    let config = ConfigBuilder::new()
        .set("io.ncf_row_group_rows", &rows.to_string(), "test")
        .unwrap()
        .set("engine.target_partitions", &partitions.to_string(), "test")
        .unwrap()
        .build()
        .unwrap();
    Session::new(config).unwrap()
}

fn spec(customers: u64) -> SampleSpec {
    SampleSpec {
        customers,
        months: 12,
        seed: 5,
        ..SampleSpec::default()
    }
}

async fn sql(session: &Session, query: &str) -> Vec<RecordBatch> {
    let ctx = io::with_url_tables(session, &session.new_context(), ReadOptions::default());
    ctx.sql(query).await.unwrap().collect().await.unwrap()
}

/// Runs `query`, returns its rows and the sum of a scan metric over the plan.
async fn run_with_metric(session: &Session, query: &str, metric: &str) -> (Vec<String>, usize) {
    let ctx = io::with_url_tables(session, &session.new_context(), ReadOptions::default());
    let plan = ctx
        .sql(query)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let batches = run(Arc::clone(&plan), ctx.task_ctx()).await.unwrap();
    fn sum(plan: &Arc<dyn ExecutionPlan>, metric: &str) -> usize {
        let own = plan
            .metrics()
            .and_then(|m| m.sum_by_name(metric))
            .map_or(0, |v| v.as_usize());
        own + plan
            .children()
            .iter()
            .map(|c| sum(c, metric))
            .sum::<usize>()
    }
    (sorted_rows(&batches), sum(&plan, metric))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn parquet_to_ncf_to_parquet_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let session = small_groups(3_000, 2);
    let (pq, nc, back) = (
        dir.path().join("p.parquet"),
        dir.path().join("p.ncf"),
        dir.path().join("back.parquet"),
    );
    write_to(
        &session,
        sample::dataframe(&session, &spec(1_500), None).unwrap(),
        &pq,
    )
    .await;
    let r = ReadOptions::default();
    let w = WriteOptions::default();
    let to_ncf = io::convert(&session, path(&pq), path(&nc), &r, &w)
        .await
        .unwrap();
    assert_eq!(to_ncf.format.to_string(), "ncf");
    assert_eq!(to_ncf.bytes, std::fs::metadata(&nc).unwrap().len());
    let to_pq = io::convert(&session, path(&nc), path(&back), &r, &w)
        .await
        .unwrap();
    assert_eq!(to_ncf.rows, to_pq.rows);

    let read_all = |p: std::path::PathBuf| {
        let session = session.clone();
        async move {
            let batches = collect(read_from(&session, &p).await).await;
            concat_batches(&batches[0].schema(), &batches).unwrap()
        }
    };
    let (a, b, c) = (
        read_all(pq).await,
        read_all(nc.clone()).await,
        read_all(back).await,
    );
    // Same schema, same values, same order: a single file scanned in one
    // partition keeps its row order.
    let one = small_groups(3_000, 1);
    let ordered = collect(read_from(&one, &nc).await).await;
    let ordered = concat_batches(&ordered[0].schema(), &ordered).unwrap();
    assert_eq!(a.schema().fields(), c.schema().fields());
    assert_eq!(a.columns(), ordered.columns());
    assert_eq!(a.columns(), c.columns());
    assert_eq!(sorted_rows(&[a]), sorted_rows(&[b]));
    let footer = ncf::NcfReader::new(std::fs::File::open(&nc).unwrap()).unwrap();
    assert!(
        footer.num_row_groups() >= 5,
        "row groups follow io.ncf_row_group_rows"
    );
}

#[tokio::test]
async fn queries_on_ncf_match_parquet_and_pruning_skips_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let session = small_groups(2_000, 3);
    let pq = dir.path().join("p.parquet");
    let nc = dir.path().join("p.ncf");
    let df = sample::dataframe(&session, &spec(2_000), None).unwrap();
    write_to(&session, df, &pq).await;
    io::convert(
        &session,
        path(&pq),
        path(&nc),
        &ReadOptions::default(),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let filters = [
        "customer_id < 40",
        "customer_id = 1234",
        "customer_id IN (3, 777, 1999)",
        "customer_id >= 1990 AND balance > 1000",
        "customer_id < 10 OR customer_id > 1995",
        "days_past_due >= 90",
        "region = 'north' OR region IS NULL",
        "product IN ('card', 'loan')",
        "utilization IS NULL",
        "month = DATE '2024-03-01'",
        "balance BETWEEN 100 AND 200.5",
        "channel <> 'web' AND num_inquiries > 3",
        "default_flag = 1",
        "customer_id < 0",
        "balance = 123.456",
        "days_past_due > 30 AND region = 'south'",
        "(customer_id + 1) % 7 = 0 AND customer_id > 1500",
    ];
    for filter in filters {
        let q = |file: &Path| {
            format!(
                "SELECT customer_id, month, balance, region FROM '{}' WHERE {filter}",
                file.display()
            )
        };
        let (expected, _) = run_with_metric(&session, &q(&pq), "output_rows").await;
        let (got, _) = run_with_metric(&session, &q(&nc), "output_rows").await;
        assert_eq!(got, expected, "filter {filter}");
    }
    // Aggregates the footers can answer equal the ones computed from the
    // rows (the filter keeps every row but stops answers from statistics;
    // Parquet's would say -0.0 for a minimum of 0.0, as its spec asks).
    for column in [
        "customer_id",
        "month",
        "balance",
        "utilization",
        "days_past_due",
        "region",
        "default_flag",
    ] {
        let q = |file: &Path, filter: &str| {
            format!(
                "SELECT min({column}) AS lo, max({column}) AS hi, count({column}) AS n, count(*) AS rows FROM '{}' {filter}",
                file.display()
            )
        };
        let computed = q(&pq, "WHERE customer_id >= 0");
        let (expected, _) = run_with_metric(&session, &computed, "output_rows").await;
        let (got, _) = run_with_metric(&session, &q(&nc, ""), "output_rows").await;
        assert_eq!(got, expected, "{column}");
    }
    // Sorted by customer: a narrow key range reads one or two of 12 groups.
    let q = format!(
        "SELECT count(*) FROM '{}' WHERE customer_id < 40",
        nc.display()
    );
    let (_, pruned) = run_with_metric(&session, &q, "row_groups_pruned_statistics").await;
    let (_, matched) = run_with_metric(&session, &q, "row_groups_matched").await;
    let groups = ncf::NcfReader::new(std::fs::File::open(&nc).unwrap())
        .unwrap()
        .num_row_groups();
    assert!(
        matched <= 2 && pruned + matched == groups,
        "{pruned} + {matched} of {groups}"
    );
    // Statistics cannot rule out a value inside every group's range; the
    // filter evaluated on its own column first skips the groups without it.
    let q = format!("SELECT * FROM '{}' WHERE balance = 123.456", nc.display());
    let (rows, by_filter) = run_with_metric(&session, &q, "row_groups_pruned_by_filter").await;
    assert!(rows.is_empty() && by_filter > 0, "{by_filter}");
    // An impossible filter reads nothing.
    let q = format!("SELECT * FROM '{}' WHERE customer_id < 0", nc.display());
    let (rows, bytes) = run_with_metric(&session, &q, "bytes_scanned").await;
    assert!(rows.is_empty() && bytes == 0);
}

#[tokio::test]
async fn explain_shows_projection_and_predicate() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let nc = dir.path().join("p.ncf");
    write_to(
        &session,
        sample::dataframe(&session, &spec(50), None).unwrap(),
        &nc,
    )
    .await;
    let q = format!(
        "EXPLAIN SELECT customer_id, balance FROM '{}' WHERE days_past_due >= 90",
        nc.display()
    );
    let ctx = io::with_url_tables(&session, &session.new_context(), ReadOptions::default());
    let plan = ctx
        .sql(&q)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let _ = displayable(plan.as_ref());
    let text = datafusion::arrow::util::pretty::pretty_format_batches(
        &run(plan, ctx.task_ctx()).await.unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(text.contains("file_type=ncf"), "{text}");
    assert!(
        text.contains("projection=[customer_id, balance, days_past_due]"),
        "{text}"
    );
    assert!(
        text.contains("pruning_predicate=days_past_due >= 90"),
        "{text}"
    );
}

#[tokio::test]
async fn every_type_round_trips_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let n = 5;
    let nulls = |i: usize| i % 3 != 1;
    let batch = RecordBatch::try_from_iter([
        (
            "i8",
            Arc::new(Int8Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i as i8 - 2)),
            )) as ArrayRef,
        ),
        (
            "i16",
            Arc::new(Int16Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i16::MIN + i as i16)),
            )),
        ),
        (
            "i32",
            Arc::new(Int32Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i as i32 * 1000)),
            )),
        ),
        (
            "i64",
            Arc::new(Int64Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i64::MAX - i as i64)),
            )),
        ),
        (
            "u8",
            Arc::new(UInt8Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(250 + i as u8)),
            )),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i as u16)),
            )),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(u32::MAX - i as u32)),
            )),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(u64::MAX / (i as u64 + 1))),
            )),
        ),
        (
            "f32",
            Arc::new(Float32Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(i as f32 / 3.0)),
            )),
        ),
        (
            "f64",
            Arc::new(Float64Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(-(i as f64) * 1e300)),
            )),
        ),
        (
            "s",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| nulls(i).then(|| "é".repeat(i))),
            )),
        ),
        (
            "b",
            Arc::new(BinaryArray::from_iter(
                (0..n).map(|i| nulls(i).then(|| vec![i as u8; i])),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from_iter(
                (0..n).map(|i| nulls(i).then_some(i % 2 == 0)),
            )),
        ),
        (
            "d",
            Arc::new(Date32Array::from_iter(
                (0..n).map(|i| nulls(i).then_some(19_000 + i as i32)),
            )),
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from_iter(
                    (0..n).map(|i| nulls(i).then_some(i as i64 * 1_000_000)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from_iter((0..n).map(|i| nulls(i).then_some(i as i128 * 12_345)))
                    .with_precision_and_scale(20, 3)
                    .unwrap(),
            ),
        ),
    ])
    .unwrap();
    let df = session.ctx().read_batch(batch.clone()).unwrap();
    let out = dir.path().join("types.ncf");
    write_to(&session, df, &out).await;
    let back = collect(read_from(&session, &out).await).await;
    let back = concat_batches(&back[0].schema(), &back).unwrap();
    assert_eq!(back.schema().fields().len(), batch.schema().fields().len());
    for (a, b) in back.schema().fields().iter().zip(batch.schema().fields()) {
        assert_eq!((a.name(), a.data_type()), (b.name(), b.data_type()));
    }
    assert_eq!(back.columns(), batch.columns());

    // min/max/count per column from the file (footer statistics may answer
    // them) equal the same aggregates over the batch in memory.
    let ctx = io::with_url_tables(&session, &session.new_context(), ReadOptions::default());
    ctx.register_batch("mem", batch.clone()).unwrap();
    for field in batch.schema().fields() {
        let c = field.name();
        let q = |from: &str| {
            format!(
                "SELECT min({c}) AS lo, max({c}) AS hi, count({c}) AS n, count(*) AS rows FROM {from}"
            )
        };
        let file = format!("'{}'", out.display());
        let got = ctx.sql(&q(&file)).await.unwrap().collect().await.unwrap();
        let expected = ctx.sql(&q("mem")).await.unwrap().collect().await.unwrap();
        assert_eq!(sorted_rows(&got), sorted_rows(&expected), "column {c}");
    }
}

#[tokio::test]
async fn directories_partitions_and_merged_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let session = small_groups(500, 2);
    let parts = dir.path().join("by_region");
    let df = sample::dataframe(&session, &spec(300), None).unwrap();
    let expected =
        sorted_rows(&collect(sample::dataframe(&session, &spec(300), None).unwrap()).await);
    let options = WriteOptions {
        format: Some(scorelake::config::Format::Ncf),
        partition_by: vec!["region".into()],
        ..WriteOptions::default()
    };
    io::write(&session, df, path(&parts), &options)
        .await
        .unwrap();
    let files: Vec<_> = walk(&parts)
        .into_iter()
        .filter(|p| p.ends_with(".ncf"))
        .collect();
    assert!(files.len() > 3, "{files:?}");
    let back = sample_columns(read_from(&session, &parts).await);
    assert_eq!(sorted_rows(&collect(back).await), expected);

    // Two files, the second with an extra column: refused, then merged.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    let ctx = session.ctx();
    let a = ctx.sql("SELECT 1 AS x").await.unwrap();
    let b = ctx.sql("SELECT 2 AS x, 'b' AS y").await.unwrap();
    write_to(&session, a, &mixed.join("a.ncf")).await;
    write_to(&session, b, &mixed.join("b.ncf")).await;
    let err = io::read(&session, path(&mixed), &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("mixed schemas"), "{err}");
    let merged = ReadOptions {
        merge_schema: true,
        ..ReadOptions::default()
    };
    let df = io::read(&session, path(&mixed), &merged).await.unwrap();
    let rows =
        sorted_rows(&collect(df.sort_by(vec![datafusion::prelude::col("x")]).unwrap()).await);
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].contains("| 1 |") && rows[1].contains("| b |"),
        "{rows:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn semantics_are_written_and_survive_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let schema_file = dir.path().join("semantics.toml");
    std::fs::write(
        &schema_file,
        "[columns.customer_id]\nkind = \"identifier\"\npii = \"indirect\"\n\n[columns.balance]\nkind = \"numerical\"\ngroup = \"behaviour\"\n",
    )
    .unwrap();
    let semantics = scorelake::formats::ncf::load_semantics(&schema_file).unwrap();
    let first = dir.path().join("a.ncf");
    let options = WriteOptions {
        semantics,
        ..WriteOptions::default()
    };
    let df = sample::dataframe(&session, &spec(20), None).unwrap();
    io::write(&session, df, path(&first), &options)
        .await
        .unwrap();
    let second = dir.path().join("b.ncf");
    io::convert(
        &session,
        path(&first),
        path(&second),
        &ReadOptions::default(),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    for file in [&first, &second] {
        let r = ncf::NcfReader::new(std::fs::File::open(file).unwrap()).unwrap();
        let fields = &r.footer().schema.fields;
        let id = fields.iter().find(|f| f.name == "customer_id").unwrap();
        let semantic = id.semantic.as_ref().expect("semantic kept");
        assert_eq!(semantic.kind.as_deref(), Some("identifier"));
        assert!(semantic.contains_pii);
        let balance = fields.iter().find(|f| f.name == "balance").unwrap();
        assert_eq!(
            balance.semantic.as_ref().unwrap().group.as_deref(),
            Some("behaviour")
        );
        assert!(
            fields
                .iter()
                .find(|f| f.name == "region")
                .unwrap()
                .semantic
                .is_none()
        );
    }
    // Naming a column the data lacks is an error naming it.
    let mut bad = scorelake::formats::ncf::load_semantics(&schema_file).unwrap();
    bad.insert("nope".into(), Default::default());
    let df = sample::dataframe(&session, &spec(5), None).unwrap();
    let options = WriteOptions {
        semantics: bad,
        ..WriteOptions::default()
    };
    let err = io::write(&session, df, path(&dir.path().join("c.ncf")), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`nope`"), "{err}");
    assert!(
        !dir.path().join("c.ncf").exists(),
        "no output after a failed write"
    );
}

#[tokio::test]
async fn damaged_files_fail_with_the_file_row_group_and_column_named() {
    let dir = tempfile::tempdir().unwrap();
    let session = small_groups(100, 1);
    let nc = dir.path().join("p.ncf");
    write_to(
        &session,
        sample::dataframe(&session, &spec(30), None).unwrap(),
        &nc,
    )
    .await;
    let r = ncf::NcfReader::new(std::fs::File::open(&nc).unwrap()).unwrap();
    let chunk = &r.footer().row_groups[2].columns[3];
    let name = &r.footer().schema.fields[3].name;
    let mut bytes = std::fs::read(&nc).unwrap();
    bytes[chunk.offset as usize + 1] ^= 0x40;
    std::fs::write(&nc, &bytes).unwrap();
    let df = read_from(&session, &nc).await;
    let err = df.collect().await.unwrap_err().to_string();
    assert!(
        err.contains("p.ncf")
            && err.contains(&format!(
                "checksum mismatch in row group 2, column `{name}`"
            )),
        "{err}"
    );
    // A truncated file is refused when the table is opened.
    std::fs::write(&nc, &bytes[..bytes.len() - 5]).unwrap();
    let err = io::read(&session, path(&nc), &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.ncf") && err.contains("truncated"), "{err}");
}

#[tokio::test]
async fn codec_settings_apply_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = |codec: &str| {
        Session::new(
            ConfigBuilder::new()
                .set("io.compression", codec, "test")
                .unwrap()
                .build()
                .unwrap(),
        )
        .unwrap()
    };
    for (codec, expected) in [
        ("lz4", ncf::Compression::Lz4),
        ("none", ncf::Compression::None),
    ] {
        let session = config(codec);
        let out = dir.path().join(format!("{codec}.ncf"));
        write_to(
            &session,
            sample::dataframe(&session, &spec(10), None).unwrap(),
            &out,
        )
        .await;
        let r = ncf::NcfReader::new(std::fs::File::open(&out).unwrap()).unwrap();
        assert!(
            r.footer().row_groups[0]
                .columns
                .iter()
                .all(|c| c.compression == expected)
        );
    }
    let session = config("snappy");
    let out = dir.path().join("snappy.ncf");
    let err = io::write(
        &session,
        sample::dataframe(&session, &spec(10), None).unwrap(),
        path(&out),
        &WriteOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("io.compression = snappy") && err.contains("NCF"),
        "{err}"
    );
    // SQL COPY takes per-statement options, and refuses unknown ones.
    let s = Session::new(Config::default()).unwrap();
    let ok = format!(
        "COPY (SELECT 1 AS x) TO '{}' STORED AS NCF OPTIONS ('format.compression' 'lz4', 'format.row_group_rows' '10')",
        dir.path().join("copy.ncf").display()
    );
    s.ctx().sql(&ok).await.unwrap().collect().await.unwrap();
    let bad = format!(
        "COPY (SELECT 1 AS x) TO '{}' STORED AS NCF OPTIONS ('format.compresion' 'lz4')",
        dir.path().join("bad.ncf").display()
    );
    let err = match s.ctx().sql(&bad).await {
        Ok(df) => df.collect().await.unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("unknown NCF option `compresion`"), "{err}");
}

#[tokio::test]
async fn ncf_on_s3_reads_writes_and_queries() {
    let s3 = shared_s3();
    let session = s3.session();
    let spec = spec(200);
    let expected = sorted_rows(&collect(sample::dataframe(&session, &spec, None).unwrap()).await);
    let url = format!("s3://{BUCKET}/ncf/panel.ncf");
    let options = WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let df = sample::dataframe(&session, &spec, None).unwrap();
    let written = io::write(&session, df, &url, &options).await.unwrap();
    assert!(written.bytes > 0);
    let bytes = io::fetch(&session, &url).await.unwrap();
    assert_eq!(bytes.len() as u64, written.bytes);
    let r = ncf::NcfReader::new(bytes).unwrap();
    assert_eq!(r.footer().num_rows, written.rows);
    let back = io::read(&session, &url, &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(sorted_rows(&collect(back).await), expected);
    let q = format!("SELECT count(*) AS n FROM '{url}' WHERE customer_id < 10");
    let counted = sql(&session, &q).await;
    let local = collect(
        sample::dataframe(&session, &spec, None)
            .unwrap()
            .filter(datafusion::prelude::col("customer_id").lt(datafusion::prelude::lit(10i64)))
            .unwrap(),
    )
    .await;
    let n: usize = local.iter().map(|b| b.num_rows()).sum();
    assert_eq!(sorted_rows(&counted), vec![format!("| {n:<2} |")]);
}

#[test]
fn the_shipped_panel_semantics_name_real_columns() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-semantics.toml");
    let semantics = scorelake::formats::ncf::load_semantics(&file).unwrap();
    let schema = sample::schema();
    assert_eq!(semantics.len(), schema.fields().len());
    for name in semantics.keys() {
        assert!(schema.field_with_name(name).is_ok(), "{name}");
    }
}

#[tokio::test]
async fn an_empty_result_is_an_empty_ncf_table() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let out = dir.path().join("none.ncf");
    let df = sample::dataframe(&session, &spec(10), None)
        .unwrap()
        .filter(datafusion::prelude::lit(false))
        .unwrap();
    assert_eq!(write_to(&session, df, &out).await.rows, 0);
    let back = read_from(&session, &out).await;
    assert_eq!(
        back.schema().fields().len(),
        sample::schema().fields().len()
    );
    assert_eq!(back.count().await.unwrap(), 0);
    let r = ncf::NcfReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(r.footer().num_rows, 0);
}

#[tokio::test]
async fn preserve_order_keeps_a_sorted_input_sorted_for_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let config = ConfigBuilder::new()
        .set("io.row_group_size", "1000", "test")
        .unwrap()
        .set("io.ncf_row_group_rows", "1000", "test")
        .unwrap()
        .set("engine.target_partitions", "4", "test")
        .unwrap()
        // Small scan splits: without preserve_order the file is read in pieces in parallel.
        .set("io.scan_partition_bytes", "20000", "test")
        .unwrap()
        .build()
        .unwrap();
    let session = Session::new(config).unwrap();
    let pq = dir.path().join("sorted.parquet");
    write_to(
        &session,
        sample::dataframe(&session, &spec(800), None).unwrap(),
        &pq,
    )
    .await;
    let ordered = ReadOptions {
        preserve_order: true,
        ..ReadOptions::default()
    };
    // The default read splits the file across partitions (whose batches a
    // write interleaves); preserve_order reads it on one.
    let partitions = |options: ReadOptions| {
        let session = session.clone();
        let pq = pq.clone();
        async move {
            let df = io::read(&session, path(&pq), &options).await.unwrap();
            let plan = df.create_physical_plan().await.unwrap();
            plan.properties().output_partitioning().partition_count()
        }
    };
    assert!(partitions(ReadOptions::default()).await > 1);
    assert_eq!(partitions(ordered.clone()).await, 1);
    let nc = dir.path().join("sorted.ncf");
    io::convert(
        &session,
        path(&pq),
        path(&nc),
        &ordered,
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let r = ncf::NcfReader::new(std::fs::File::open(&nc).unwrap()).unwrap();
    let id = r.schema().index_of("customer_id").unwrap();
    let t = r.schema().field(id).data_type().clone();
    let bounds: Vec<(ncf::Value, ncf::Value)> = r
        .footer()
        .row_groups
        .iter()
        .map(|g| {
            let s = &g.columns[id].stats;
            (
                ncf::stat_value(&t, s.min.as_ref().unwrap()).unwrap(),
                ncf::stat_value(&t, s.max.as_ref().unwrap()).unwrap(),
            )
        })
        .collect();
    assert!(bounds.len() > 5);
    let int = |v: &ncf::Value| match v {
        ncf::Value::Int(i) => *i,
        other => panic!("{other:?}"),
    };
    for pair in bounds.windows(2) {
        // Consecutive groups hold consecutive, non-overlapping key ranges.
        assert!(int(&pair[0].1) <= int(&pair[1].0), "{pair:?}");
    }
}

#[tokio::test]
async fn cached_footers_follow_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let out = dir.path().join("t.ncf");
    let overwrite = WriteOptions {
        mode: WriteMode::Overwrite,
        ..WriteOptions::default()
    };
    let q = format!(
        "SELECT count(*) AS n, max(customer_id) AS top FROM '{}'",
        out.display()
    );
    for customers in [10, 25, 7] {
        let df = sample::dataframe(&session, &spec(customers), None).unwrap();
        let written = io::write(&session, df, path(&out), &overwrite)
            .await
            .unwrap();
        // Planning and scanning share footers through the session's cache;
        // each overwrite is a new version of the file and is read afresh.
        let rows = sorted_rows(&sql(&session, &q).await);
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].contains(&format!(" {} ", written.rows))
                && rows[0].contains(&format!(" {customers} ")),
            "{rows:?} after writing {} rows of {customers} customers",
            written.rows
        );
        let scanned = format!(
            "SELECT sum(balance) FROM '{}' WHERE customer_id > 0",
            out.display()
        );
        sql(&session, &scanned).await;
    }
    // A file too short to be NCF is named, not a panic.
    std::fs::write(&out, b"").unwrap();
    let err = io::read(&session, path(&out), &ReadOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("t.ncf") && err.contains("too short"), "{err}");
}
