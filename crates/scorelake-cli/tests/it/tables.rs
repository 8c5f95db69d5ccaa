//! Tables in and out: sample, convert, sql, NCF files, bad inputs, killed writes.

use std::time::{Duration, Instant};

use super::{out_rows, p, run, sample_panel, sample_panel_with, scorelake};

#[test]
fn sample_convert_and_sql_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let (panel, out) = sample_panel_with(dir.path(), 300, &["--months", "12"]);
    assert!(out.contains("wrote") && out.contains("rows"), "{out}");

    let csv = dir.path().join("panel.csv");
    let (code, _, err) = run(scorelake()
        .args([
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "convert",
            p(&panel),
            p(&csv),
        ])
        .env("AWS_SECRET_ACCESS_KEY", "log-secret-value"));
    assert_eq!(code, 0, "{err}");
    let written = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "table written")
        .unwrap_or_else(|| panic!("no JSON 'table written' log line in {err}"));
    assert_eq!(written["fields"]["rows"].as_u64(), Some(out_rows(&out)));
    assert!(!err.contains("log-secret-value"), "secret in logs");
    let parts = dir.path().join("parts");
    let (code, _, err) = run(scorelake().args([
        "convert",
        p(&csv),
        p(&parts),
        "--to",
        "parquet",
        "--compression",
        "zstd:5",
        "--partition-by",
        "product",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(parts.join("product=credit_card").is_dir());

    let (code, out, err) = run(scorelake().args([
        "sql",
        "SELECT (SELECT count(*) FROM a) = (SELECT count(*) FROM b) AS same, (SELECT count(*) FROM a) AS n",
        "--table",
        &format!("a={}", p(&panel)),
        "--table",
        &format!("b={}", p(&parts)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("true"), "{out}");

    let (code, out, _) = run(scorelake().args([
        "sql",
        "SELECT customer_id FROM a ORDER BY 1",
        "--limit",
        "5",
        "--table",
        &format!("a={}", p(&panel)),
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("first 5 rows shown"), "{out}");

    let (code, out, err) = run(scorelake().args([
        "--set",
        "observability.metrics=true",
        "sql",
        "SELECT count(*) AS n FROM a",
        "--table",
        &format!("a={}", p(&panel)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| n "), "{out}");
    assert!(
        err.contains("metrics=[") && err.contains("output_rows"),
        "{err}"
    );

    let late = dir.path().join("late.parquet");
    let (code, out, err) = run(scorelake().args([
        "sql",
        "SELECT * FROM a WHERE days_past_due >= 30",
        "--output",
        p(&late),
        "--table",
        &format!("a={}", p(&panel)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote") && late.is_file(), "{out}");

    // An existing output is refused unless --overwrite.
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), p(&csv)]));
    assert_eq!(code, 1);
    assert!(err.contains("exists already"), "{err}");
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), p(&csv), "--overwrite"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.parquet");
    let out = dir.path().join("out.parquet");
    let (code, _, err) = run(scorelake().args(["convert", p(&missing), p(&out)]));
    assert_eq!(code, 1);
    assert!(
        err.contains("missing.parquet") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists());

    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, vec![7u8; 4096]).unwrap();
    let (code, _, err) = run(scorelake().args([
        "sql",
        "SELECT * FROM t",
        "--table",
        &format!("t={}", p(&corrupt)),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("corrupt.parquet"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (code, _, err) = run(scorelake().args(["convert", "s3://Bad_Bucket/x.parquet", p(&out)]));
    assert_eq!(code, 1);
    assert!(
        err.contains("s3://Bad_Bucket/x.parquet") && err.contains("bucket"),
        "{err}"
    );

    let (code, _, err) = run(scorelake().args(["sample", "--customers", "0", "--out", p(&out)]));
    assert_eq!(code, 1);
    assert!(err.contains("--customers"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_killed_write_leaves_no_complete_looking_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("panel.parquet");
    let mut child = scorelake()
        .args(["sample", "--customers", "3000000", "--out", p(&out)])
        .spawn()
        .unwrap();
    // Wait until the write has visibly started (its hidden temporary file exists).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let staged = std::fs::read_dir(dir.path()).unwrap().count();
        if staged > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed write must not leave {out:?}");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.starts_with('.'), "unexpected visible file {name}");
    }
}

#[test]
fn ncf_inspect_shows_the_file_and_catches_damage() {
    use scorelake::datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ncf");
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1000));
    let product: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..1000).map(|i| ["card", "loan"][i % 2]),
    ));
    let batch = RecordBatch::try_from_iter([("customer_id", ids), ("product", product)]).unwrap();
    let mut w = ncf::NcfWriter::new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        ncf::WriteOptions {
            semantics: [(
                "customer_id".to_string(),
                ncf::Semantic {
                    kind: Some("identifier".into()),
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        },
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();

    let (code, out, err) = run(scorelake().args(["ncf", "inspect", p(&path)]));
    assert_eq!(code, 0, "{err}");
    for expected in [
        "1000 rows",
        "customer_id",
        "identifier",
        "dictionary",
        "min 0 max 999",
        "\"card\"",
        "all checksums verified",
    ] {
        assert!(out.contains(expected), "missing {expected} in {out}");
    }
    // One line per column by default; each row group's chunks on request.
    assert!(!out.contains("row group 0"), "{out}");
    let (code, out, _) = run(scorelake().args(["ncf", "inspect", p(&path), "--row-groups"]));
    assert_eq!(code, 0);
    assert!(out.contains("row group 0: 1000 rows"), "{out}");
    let (code, out, _) = run(scorelake().args(["ncf", "inspect", p(&path), "--json"]));
    assert_eq!(code, 0);
    let footer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(footer["num_rows"], 1000);

    // Dates show as dates.
    let panel = sample_panel(dir.path(), 20);
    let panel_ncf = dir.path().join("panel.ncf");
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), p(&panel_ncf)]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(scorelake().args(["ncf", "inspect", p(&panel_ncf)]));
    assert_eq!(code, 0);
    assert!(out.contains("min 2023-01-01 max 2024-12-01"), "{out}");

    let mut bytes = std::fs::read(&path).unwrap();
    bytes[6] ^= 0xFF; // inside the first chunk
    std::fs::write(&path, bytes).unwrap();
    let (code, _, err) = run(scorelake().args(["ncf", "inspect", p(&path)]));
    assert_eq!(code, 1);
    assert!(
        err.contains("checksum mismatch in row group 0, column `customer_id`"),
        "{err}"
    );
}

#[test]
fn convert_to_ncf_and_query_it_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 200);
    let semantics = dir.path().join("semantics.yaml");
    std::fs::write(
        &semantics,
        "columns:\n  customer_id: {kind: identifier, pii: indirect}\n  default_flag: {kind: target}\n",
    )
    .unwrap();
    let ncf_file = dir.path().join("panel.ncf");
    let (code, out, err) = run(scorelake().args([
        "convert",
        p(&panel),
        p(&ncf_file),
        "--semantics",
        p(&semantics),
    ]));
    assert_eq!(code, 0, "{err}");
    // Rows, both sizes, the ratio and the time.
    assert!(
        out.starts_with("converted ")
            && out.contains("kB")
            && out.contains("× the input")
            && out.contains("rows/s"),
        "{out}"
    );
    let (code, out, err) = run(scorelake().args(["ncf", "inspect", p(&ncf_file)]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("identifier") && out.contains("target"),
        "{out}"
    );

    let (code, out, err) = run(scorelake().args([
        "sql",
        &format!(
            "SELECT (SELECT count(*) FROM '{}') = (SELECT count(*) FROM '{}') AS same",
            p(&panel),
            p(&ncf_file)
        ),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("true"), "{out}");
    let (code, out, err) = run(scorelake().args([
        "sql",
        &format!(
            "EXPLAIN SELECT balance FROM '{}' WHERE customer_id = 7",
            p(&ncf_file)
        ),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("file_type=ncf") && out.contains("pruning_predicate=customer_id = 7"),
        "{out}"
    );
    let (code, _, err) = run(scorelake().args(["sql", "SELECT * FROM 'missing/panel.ncf'"]));
    assert_eq!(code, 1);
    assert!(err.contains("missing/panel.ncf"), "{err}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "columns:\n  customer_id: {kind: key}\n").unwrap();
    let (code, _, err) = run(scorelake().args([
        "convert",
        p(&panel),
        p(&dir.path().join("x.ncf")),
        "--semantics",
        p(&bad),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.yaml") && err.contains("kind `key`"),
        "{err}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 1000);
    // Megabytes of table, far more than a pipe holds.
    let mut child = scorelake()
        .args([
            "sql",
            "SELECT * FROM p",
            "--table",
            &format!("p={}", p(&panel)),
            "--limit",
            "1000000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 1024];
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "killed or failed: {status:?} {err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_corrupt_input_is_named_as_the_input_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("p.ncf");
    let (code, _, err) = run(scorelake().args(["sample", "--customers", "300", "--out", p(&good)]));
    assert_eq!(code, 0, "{err}");
    let mut bytes = std::fs::read(&good).unwrap();
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0xff;
    let bad = dir.path().join("bad.ncf");
    std::fs::write(&bad, bytes).unwrap();
    let out = dir.path().join("out.parquet");
    let (code, _, err) = run(scorelake().args(["convert", p(&bad), p(&out)]));
    assert_eq!(code, 1);
    // The input is named with its full path and blamed, once; the output's
    // temporary name never shows, and nothing is left behind.
    assert!(
        err.contains(&format!("cannot read `{}`", p(&bad))) && err.contains("corrupt NCF"),
        "{err}"
    );
    assert_eq!(err.matches("corrupt NCF").count(), 1, "{err}");
    assert!(
        !err.contains(".tmp-") && !err.contains("cannot write"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("out"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
