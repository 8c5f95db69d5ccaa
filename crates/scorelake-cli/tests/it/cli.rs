//! Help, usage errors and configuration.

use super::{p, run, scorelake};

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

    assert!(out.contains(&format!("config file: {}", p(&file))), "{out}");

    // Found without being named: ./scorelake.toml, else the user's config
    // folder; a named file wins.
    let found = dir.path().join("here");
    std::fs::create_dir(&found).unwrap();
    std::fs::write(
        found.join("scorelake.toml"),
        "[engine]\nbatch_size = 1234\n",
    )
    .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/scorelake")).unwrap();
    std::fs::write(
        home.join(".config/scorelake/config.toml"),
        "[engine]\nbatch_size = 777\n",
    )
    .unwrap();
    let show = |cwd: &std::path::Path, args: &[&str]| {
        let (code, out, err) = run(scorelake()
            .current_dir(cwd)
            .args(args)
            .args(["config", "show"])
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SCORELAKE_CONFIG"));
        assert_eq!(code, 0, "{err}");
        out
    };
    let out = show(&found, &[]);
    assert!(out.contains("config file: scorelake.toml"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("engine.batch_size ")
            && l.contains("1234")
            && l.contains("scorelake.toml:2")),
        "{out}"
    );
    let out = show(dir.path(), &[]);
    assert!(
        out.contains("config file: ") && out.contains(".config/scorelake/config.toml"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("engine.batch_size ") && l.contains("777"))
    );
    let out = show(&found, &["--config", p(&file)]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("engine.batch_size ") && l.contains("4096"))
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
fn sql_prints_tables_csv_json_and_vertical_blocks() {
    let query = "SELECT 1 AS a, 'x' AS b, NULL AS c UNION ALL SELECT 2, 'y', 3.5 ORDER BY a";
    let print = |format: &str| {
        let (code, out, err) = run(scorelake().args(["sql", query, "--format", format]));
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(print("csv").trim(), "a,b,c\n1,x,\n2,y,3.5");
    let json: serde_json::Value = serde_json::from_str(&print("json")).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{"a": 1, "b": "x", "c": null}, {"a": 2, "b": "y", "c": 3.5}])
    );
    assert_eq!(
        print("vertical").trim(),
        "-[ row 1 ]-\na | 1\nb | x\nc | NULL\n-[ row 2 ]-\na | 2\nb | y\nc | 3.5"
    );
    assert!(print("table").contains("| a | b | c   |"));
    // A cut result says so on stderr, so CSV and JSON stay clean.
    let (code, out, err) = run(scorelake().args([
        "sql",
        "SELECT * FROM generate_series(1, 5) AS t(v)",
        "--format",
        "csv",
        "--limit",
        "2",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "v\n1\n2");
    assert!(err.contains("first 2 rows shown"), "{err}");
    // A query that does not parse: one plain line.
    let (code, _, err) = run(scorelake().args(["sql", "SELEC 1"]));
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "error: the query does not parse: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1"
    );
}

#[test]
fn progress_off_a_terminal_is_plain_lines_when_asked() {
    // stderr is a pipe here: no progress by default...
    let (code, _, err) = run(scorelake().args(["sql", "SELECT 1"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("progress:"), "{err}");
    // ...and plain lines with --progress always: the stage's start and end.
    let (code, _, err) = run(scorelake().args(["--progress", "always", "sql", "SELECT 1"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("progress: running query: started"))
            && lines
                .last()
                .is_some_and(|l| l.starts_with("progress: running query: done")),
        "{err}"
    );
    // A counted stage gives its count out of the total.
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(scorelake()
        .args([
            "--progress",
            "always",
            "sample",
            "--customers",
            "50",
            "--months",
            "2",
        ])
        .args(["--out", p(&dir.path().join("s.parquet"))]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("progress: 0/50 customers (0%)"), "{err}");
    // A stage running queries gives the rows its scans read out of their
    // inputs' rows (from the Parquet footers).
    let (code, _, err) = run(scorelake()
        .args(["--progress", "always", "convert"])
        .arg(dir.path().join("s.parquet"))
        .arg(dir.path().join("t.csv")));
    assert_eq!(code, 0, "{err}");
    let rows = out.split_whitespace().nth(1).unwrap();
    assert!(
        err.contains(&format!(", {rows}/{rows} rows read in 1 query)")),
        "{out}{err}"
    );
}

/// Errors are one line each, in plain words, naming the file, column or
/// folder: no repeated causes, no engine listings, no partial report.
#[test]
fn errors_are_one_plain_line_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, _, err) = run(scorelake()
        .args(["sample", "--customers", "20", "--out"])
        .arg(&panel));
    assert_eq!(code, 0, "{err}");
    let missing = dir.path().join("recipes.yaml");
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "features".into(),
                "--input".into(),
                p(&panel).into(),
                "--recipes".into(),
                p(&missing).into(),
                "--output".into(),
                p(&dir.path().join("f.parquet")).into(),
            ],
            format!("error: `{}` does not exist", p(&missing)),
        ),
        (
            vec![
                "sql".into(),
                format!("SELECT balanse FROM '{}'", p(&panel)),
            ],
            "error: column `balanse` is not in the query's tables (did you mean `balance`?); they have customer_id, month,".into(),
        ),
        (
            vec![
                "validate".into(),
                "--input".into(),
                p(&panel).into(),
                "--report".into(),
                p(&dir.path().join("no/report.html")).into(),
            ],
            format!(
                "error: cannot write the report {}: folder {} does not exist",
                p(&dir.path().join("no/report.html")),
                p(&dir.path().join("no"))
            ),
        ),
    ];
    for (args, start) in cases {
        let (code, out, err) = run(scorelake().args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&start) && err.trim().lines().count() == 1,
            "{args:?}: {err}"
        );
        // Nothing was computed before the report's folder was checked.
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    assert!(!dir.path().join("no").exists());
}

#[test]
fn partitions_advise_reports_layout_and_skew() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.parquet");
    let (code, out, err) = run(scorelake()
        .args(["sample", "--customers", "200", "--out"])
        .arg(&panel));
    assert_eq!(code, 0, "{err}");
    let rows: u64 = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (code, out, err) = run(scorelake()
        .args(["partitions", "advise"])
        .arg(&panel)
        .args(["--key", "customer_id", "--partitions", "3", "--json"]));
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["rows"], rows);
    assert_eq!(json["key"]["distinct"], 200);
    let parts = json["key"]["hash_partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts.iter().map(|p| p.as_u64().unwrap()).sum::<u64>(), rows);
    let (code, out, err) = run(scorelake()
        .args(["partitions", "advise"])
        .arg(&panel)
        .args(["--target-size", "lots"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--target-size: `lots`"), "{err}");
}
