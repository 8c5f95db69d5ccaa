//! The `scorelake` binary end to end: flags, exit codes, outputs, errors.

mod delta;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn scorelake() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scorelake"));
    // A clean environment: no config or credentials from the caller.
    for (k, _) in std::env::vars() {
        if k.starts_with("SCORELAKE") || k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run scorelake");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The row count in `scorelake sample`'s "wrote N rows" line.
fn out_rows(stdout: &str) -> u64 {
    stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count in {stdout}"))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn every_command_has_help_with_examples() {
    for cmd in [
        vec![],
        vec!["demo"],
        vec!["sample"],
        vec!["convert"],
        vec!["sql"],
        vec!["features"],
        vec!["validate"],
        vec!["encode"],
        vec!["drift"],
        vec!["run"],
        vec!["score"],
        vec!["compress"],
        vec!["config", "show"],
        vec!["config", "keys"],
        vec!["config", "spark"],
        vec!["ncf", "inspect"],
        vec!["delta", "history"],
        vec!["delta", "optimize"],
        vec!["delta", "vacuum"],
        vec!["delta", "stats"],
    ] {
        let mut c = scorelake();
        c.args(&cmd).arg("--help");
        let (code, out, _) = run(&mut c);
        assert_eq!(code, 0, "{cmd:?}");
        assert!(out.contains("Examples:"), "{cmd:?}: {out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(scorelake().args(["sample", "--no-such-flag"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(scorelake().args(["--set", "engine.batch_size", "config", "show"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KEY=VALUE"), "{err}");
}

#[test]
fn config_show_reports_values_sources_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lake.yaml");
    std::fs::write(
        &file,
        "engine:\n  batch_size: 4096\nio:\n  compression: snappy\n",
    )
    .unwrap();
    let (code, out, err) = run(scorelake()
        .args([
            "--config",
            p(&file),
            "--memory-limit",
            "2g",
            "config",
            "show",
        ])
        .env("SCORELAKE__IO__ROW_GROUP_SIZE", "65536")
        .env("AWS_SECRET_ACCESS_KEY", "super-secret-value")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"));
    assert_eq!(code, 0, "{err}");
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .to_string()
    };
    assert!(
        line("engine.batch_size").contains("4096")
            && line("engine.batch_size").contains("lake.yaml:2")
    );
    assert!(
        line("engine.memory_limit").contains("2g")
            && line("engine.memory_limit").contains("flag --memory-limit")
    );
    assert!(line("io.row_group_size").contains("env SCORELAKE__IO__ROW_GROUP_SIZE"));
    assert!(line("storage.s3.secret_access_key").contains("****"));
    assert!(line("engine.batch_size").contains("4096"));
    assert!(
        !out.contains("super-secret-value") && !out.contains("AKIDEXAMPLE"),
        "{out}"
    );

    let (code, out, _) = run(scorelake().args(["config", "show", "--json"]));
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(rows.as_array().unwrap().len() >= 40);

    let (code, out, _) = run(scorelake()
        .args(["config", "spark"])
        .env("AWS_SECRET_ACCESS_KEY", "super-secret-value"));
    assert_eq!(code, 0);
    assert!(out.contains("spark.sql.shuffle.partitions="), "{out}");
    assert!(out.contains("spark.hadoop.fs.s3a.secret.key=****"), "{out}");
}

#[test]
fn config_mistakes_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[engine]\nmemory_limt = \"1g\"\n").unwrap();
    let (code, _, err) = run(scorelake().args(["--config", p(&file), "config", "show"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.toml:2") && err.contains("did you mean `engine.memory_limit`"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let (code, _, err) = run(scorelake().args(["--memory-limit", "lots", "config", "show"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("engine.memory_limit")
            && err.contains("--memory-limit")
            && err.contains("512m"),
        "{err}"
    );

    let (code, _, err) = run(scorelake()
        .args(["config", "show"])
        .env("SCORELAKE__ENGINE__BATCH", "1"));
    assert_eq!(code, 1);
    assert!(
        err.contains("SCORELAKE__ENGINE__BATCH") && err.contains("engine.batch_size"),
        "{err}"
    );
}

#[test]
fn sample_convert_and_sql_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, out, err) = run(scorelake().args([
        "sample",
        "--customers",
        "300",
        "--months",
        "12",
        "--out",
        p(&panel),
    ]));
    assert_eq!(code, 0, "{err}");
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
fn demo_runs_on_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let (code, stdout, err) =
        run(scorelake().args(["demo", "--customers", "1500", "--out", p(&out)]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("ScoreLake demo") && stdout.contains("credit_card"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Scorecard (") && stdout.contains("holdout: Gini"),
        "{stdout}"
    );
    assert!(out.join("scorecard/scorecard.sql").is_file());
    assert!(out.join("panel.parquet").is_file());
    assert!(out.join("panel_by_month/_SUCCESS").is_file());
    assert!(out.join("delinquent_accounts.csv").is_file());
    assert!(out.join("features.parquet").is_file());
    assert!(stdout.contains("worst_dpd_6m"), "{stdout}");
    // Running it again replaces its outputs.
    let (code, _, err) = run(scorelake().args(["demo", "--customers", "1500", "--out", p(&out)]));
    assert_eq!(code, 0, "{err}");
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
    let (code, out, _) = run(scorelake().args(["ncf", "inspect", p(&path), "--json"]));
    assert_eq!(code, 0);
    let footer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(footer["num_rows"], 1000);

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
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) =
        run(scorelake().args(["sample", "--customers", "200", "--out", p(&panel)]));
    assert_eq!(code, 0, "{err}");
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
fn features_fit_apply_lineage_and_bad_recipes() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) =
        run(scorelake().args(["sample", "--customers", "300", "--out", p(&panel)]));
    assert_eq!(code, 0, "{err}");
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let (fitted, lineage) = (
        dir.path().join("fitted.json"),
        dir.path().join("lineage.json"),
    );
    let out = dir.path().join("features.parquet");
    let (code, stdout, err) = run(scorelake().args([
        "features",
        "--recipes",
        p(&recipes),
        "--input",
        p(&panel),
        "--output",
        p(&out),
        "--fitted",
        p(&fitted),
        "--lineage",
        p(&lineage),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("features to") && stdout.contains("learned values saved"),
        "{stdout}"
    );
    let lineage_text = std::fs::read_to_string(&lineage).unwrap();
    assert!(
        lineage_text.contains("\"recipe\": \"payment_ratio_trend\""),
        "{lineage_text}"
    );
    // Applying the fitted file gives the same table.
    let again = dir.path().join("again.parquet");
    let (code, stdout, err) = run(scorelake().args([
        "features",
        "--apply",
        p(&fitted),
        "--input",
        p(&panel),
        "--output",
        p(&again),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(!stdout.contains("learned values"), "{stdout}");
    let query = "SELECT count(*) AS differing FROM a JOIN b USING (customer_id, month) \
        WHERE (a.utilization_imputed IS DISTINCT FROM b.utilization_imputed) \
        OR (a.balance_trend_slope_last_6_months IS DISTINCT FROM b.balance_trend_slope_last_6_months)";
    let (code, text, err) = run(scorelake().args([
        "sql",
        query,
        "--table",
        &format!("a={}", p(&out)),
        "--table",
        &format!("b={}", p(&again)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("| 0 "), "{text}");
    // A bad recipe is named and nothing is written.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "entity: customer_id\ntime: month\nrecipes:\n- {name: trend, operation: trend_slope, source: balanse, window: 6}\n").unwrap();
    let target = dir.path().join("bad_out.parquet");
    let (code, _, err) = run(scorelake().args([
        "features",
        "--recipes",
        p(&bad),
        "--input",
        p(&panel),
        "--output",
        p(&target),
    ]));
    assert_ne!(code, 0);
    assert!(
        err.contains("recipe `trend`") && err.contains("did you mean `balance`"),
        "{err}"
    );
    assert!(!target.exists());
}

#[test]
fn validate_reports_and_exits_3_on_fail() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) =
        run(scorelake().args(["sample", "--customers", "200", "--out", p(&panel)]));
    assert_eq!(code, 0, "{err}");
    let report = dir.path().join("report.json");
    let (code, stdout, err) = run(scorelake().args([
        "validate",
        "--input",
        p(&panel),
        "--columns",
        "balance,utilization,product",
        "--report",
        p(&report),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("| balance | Float64 | PASS |"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["status"], "PASS");
    assert_eq!(json["columns"].as_array().unwrap().len(), 3);
    // A threshold that balance breaks: FAIL, exit code 3, CSV report.
    let thresholds = dir.path().join("t.yaml");
    std::fs::write(&thresholds, "columns:\n  balance: {max: {fail: 10}}\n").unwrap();
    let csv = dir.path().join("report.csv");
    let (code, stdout, err) = run(scorelake().args([
        "validate",
        "--input",
        p(&panel),
        "--thresholds",
        p(&thresholds),
        "--report",
        p(&csv),
    ]));
    assert_eq!(code, 3, "{stdout}{err}");
    assert!(stdout.contains(": FAIL ("), "{stdout}");
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains("balance,Float64,FAIL")
    );
    // A bad thresholds file is named.
    std::fs::write(&thresholds, "defaults:\n  missingness: {warn: 0.1}\n").unwrap();
    let (code, _, err) = run(scorelake().args([
        "validate",
        "--input",
        p(&panel),
        "--thresholds",
        p(&thresholds),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("t.yaml") && err.contains("missingness"),
        "{err}"
    );
}

#[test]
fn drift_by_period_and_between_tables() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) = run(scorelake().args([
        "sample",
        "--customers",
        "300",
        "--months",
        "4",
        "--out",
        p(&panel),
    ]));
    assert_eq!(code, 0, "{err}");
    let report = dir.path().join("psi.json");
    let (code, stdout, err) = run(scorelake().args([
        "drift",
        "--input",
        p(&panel),
        "--period-col",
        "month",
        "--baseline-periods",
        "2023-01-01,2023-02-01",
        "--columns",
        "balance,product",
        "--report",
        p(&report),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("| 2023-04-01 | product | csi |"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        json["columns"].as_array().unwrap().len(),
        4,
        "2 periods × 2 columns"
    );
    // A table against itself: PSI 0, stable; bins printed with --detail.
    let (code, stdout, err) = run(scorelake().args([
        "drift",
        "--baseline",
        p(&panel),
        "--current",
        p(&panel),
        "--columns",
        "utilization",
        "--detail",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("| utilization | psi | 0.0000 | stable |")
            && stdout.contains("| bin | baseline |"),
        "{stdout}"
    );
    let (code, _, err) = run(scorelake().args([
        "drift",
        "--baseline",
        p(&panel),
        "--current",
        p(&panel),
        "--columns",
        "nope",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("`nope`"), "{err}");
}

/// `scorelake encode` fitting `spec` on `panel` and encoding it into `out`.
fn fit_and_encode(spec: &Path, panel: &Path, out: &Path) -> Command {
    let mut cmd = scorelake();
    cmd.args([
        "encode",
        "--spec",
        p(spec),
        "--fit",
        p(panel),
        "--input",
        p(panel),
        "--output",
        p(out),
    ]);
    cmd
}

#[test]
fn encode_fits_on_one_table_and_applies_to_another() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) =
        run(scorelake().args(["sample", "--customers", "300", "--out", p(&panel)]));
    assert_eq!(code, 0, "{err}");
    let spec = dir.path().join("enc.yaml");
    std::fs::write(
        &spec,
        "target: default_flag\nencoders:\n- {column: product, method: frequency}\n- {column: region, method: target_mean, smoothing: 20}\n",
    )
    .unwrap();
    let (mappings, out) = (dir.path().join("m.json"), dir.path().join("enc.parquet"));
    let (code, stdout, err) = run(scorelake().args([
        "encode",
        "--spec",
        p(&spec),
        "--fit",
        p(&panel),
        "--input",
        p(&panel),
        "--output",
        p(&out),
        "--mappings",
        p(&mappings),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("2 encoded columns") && stdout.contains("mappings saved"),
        "{stdout}"
    );
    let again = dir.path().join("again.parquet");
    let (code, _, err) = run(scorelake().args([
        "encode",
        "--apply",
        p(&mappings),
        "--input",
        p(&panel),
        "--output",
        p(&again),
    ]));
    assert_eq!(code, 0, "{err}");
    let query = "SELECT count(*) AS differing FROM a JOIN b USING (customer_id, month) \
        WHERE (a.region_te IS DISTINCT FROM b.region_te) OR (a.product_freq IS DISTINCT FROM b.product_freq)";
    let (code, text, err) = run(scorelake().args([
        "sql",
        query,
        "--table",
        &format!("a={}", p(&out)),
        "--table",
        &format!("b={}", p(&again)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("| 0 "), "{text}");
    // Out of fold: one value per (region, fold), the fold computed in SQL.
    std::fs::write(
        &spec,
        "target: default_flag\ncross_fit: {folds: 5, seed: 42, by: customer_id}\nencoders:\n- {column: region, method: target_mean, smoothing: 20}\n",
    )
    .unwrap();
    let oof = dir.path().join("oof.parquet");
    let (code, _, err) = run(fit_and_encode(&spec, &panel, &oof).arg("--out-of-fold"));
    assert_eq!(code, 0, "{err}");
    let query = "SELECT count(*) AS groups, sum(CASE WHEN v > 1 THEN 1 ELSE 0 END) AS mixed FROM \
        (SELECT region, fold_index(5, 42, customer_id) AS f, count(DISTINCT region_te) AS v FROM o GROUP BY 1, 2)";
    let (code, text, err) =
        run(scorelake().args(["sql", query, "--table", &format!("o={}", p(&oof))]));
    assert_eq!(code, 0, "{err}");
    let row = text
        .lines()
        .find(|l| l.contains("| 0 "))
        .unwrap_or_else(|| panic!("{text}"));
    let groups: u64 = row.split('|').nth(1).unwrap().trim().parse().unwrap();
    assert!(groups > 5, "regions × folds: {text}");
    // A target that is not 0/1 is named.
    std::fs::write(
        &spec,
        "target: days_past_due\nencoders:\n- {column: region, method: target_mean}\n",
    )
    .unwrap();
    let target = dir.path().join("bad.parquet");
    let (code, _, err) = run(&mut fit_and_encode(&spec, &panel, &target));
    assert_eq!(code, 1);
    assert!(err.contains("target column `days_past_due`"), "{err}");
    assert!(!target.exists());
}

#[test]
fn compress_run_and_score_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) =
        run(scorelake().args(["sample", "--customers", "2000", "--out", p(&panel)]));
    assert_eq!(code, 0, "{err}");

    // Deciles of four columns and two segments, compressed and verified.
    let compressed = dir.path().join("compressed.parquet");
    let report = dir.path().join("compression.json");
    let (code, stdout, err) = run(scorelake().args([
        "compress",
        "--input",
        p(&panel),
        "--target",
        "default_flag",
        "--bin",
        "balance,utilization,payment,credit_limit",
        "--method",
        "quantile",
        "--bins",
        "10",
        "--segments",
        "product,region",
        "--output",
        p(&compressed),
        "--report",
        p(&report),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("| balance |") && stdout.contains("compressed"),
        "{stdout}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let (input, output) = (
        r["input_rows"].as_u64().unwrap(),
        r["output_rows"].as_u64().unwrap(),
    );
    assert!(input > 40_000 && output < input / 2, "{r}");
    let (code, stdout, err) = run(scorelake().args([
        "sql",
        "SELECT CAST(sum(sample_weight) AS BIGINT) AS w, count(*) AS n FROM c",
        "--table",
        &format!("c={}", p(&compressed)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains(&format!("| {input} ")) && stdout.contains(&format!("| {output} ")),
        "{stdout}"
    );

    // A pipeline file, then scoring new data with its scorecard.
    std::fs::write(
        dir.path().join("pipeline.toml"),
        "input = \"panel.parquet\"\noutput = \"run\"\ntarget = \"default_flag\"\nsegments = [\"product\"]\n\
         [holdout]\nshare = 0.25\nby = [\"customer_id\"]\n\
         [binning]\nvariables = [\"utilization\", \"days_past_due\", \"payment\", \"region\"]\n\
         [scaling]\nround = true\n",
    )
    .unwrap();
    let (code, stdout, err) = run(scorelake().args(["run", p(&dir.path().join("pipeline.toml"))]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("Information value") && stdout.contains("Holdout rows"),
        "{stdout}"
    );
    let card = dir.path().join("run/scorecard.json");
    assert!(card.is_file() && dir.path().join("run/scorecard.sql").is_file());
    let scored = dir.path().join("scored.parquet");
    let (code, stdout, err) = run(scorelake().args([
        "score",
        "--scorecard",
        p(&card),
        "--input",
        p(&panel),
        "--output",
        p(&scored),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains(&format!("scored {input} rows")), "{stdout}");
    let (code, stdout, err) = run(scorelake().args([
        "sql",
        "SELECT count(*) AS n FROM s WHERE score IS NULL OR isnan(score)",
        "--table",
        &format!("s={}", p(&scored)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("| 0 "), "{stdout}");

    // Bad input: a target that is not 0/1 is named and nothing is written.
    let bad = dir.path().join("bad.parquet");
    let (code, _, err) = run(scorelake().args([
        "compress",
        "--input",
        p(&panel),
        "--target",
        "balance",
        "--bin",
        "utilization",
        "--output",
        p(&bad),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("target column `balance` must be 0 or 1"),
        "{err}"
    );
    assert!(!bad.exists());
    let (code, _, err) = run(scorelake().args([
        "score",
        "--scorecard",
        p(&report),
        "--input",
        p(&panel),
        "--output",
        p(&bad),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expected `scorelake.scorecard.v1`"), "{err}");
}
