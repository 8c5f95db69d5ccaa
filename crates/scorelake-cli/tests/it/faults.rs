//! Hostile input and failing storage through the command line: a clear
//! error and exit code 1, never a crash, a hang or a leaked credential.

use std::io::Write;
use std::time::{Duration, Instant};

use super::{p, run, sample_panel, scorelake};

#[test]
fn deep_queries_are_refused_instead_of_overflowing_the_stack() {
    let unions = vec!["SELECT 1 AS x"; 3000].join(" UNION ALL ");
    let sum = format!("SELECT {} AS x", vec!["1"; 20_000].join("+"));
    for query in [unions, sum] {
        let (code, _, err) = run(scorelake().args(["sql", &query]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("more than 1000 levels deep"), "{err}");
    }
    // At the limit (1000 levels: min, =, 998 terms), columns plan and run.
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 20);
    let sum = vec!["customer_id"; 998].join(" + ");
    let query = format!(
        "SELECT min({sum} = 998 * customer_id) AS ok FROM '{}'",
        p(&panel)
    );
    let (code, out, err) = run(scorelake().args(["sql", &query]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("true"), "{out}");
}

#[test]
fn writing_where_no_file_can_be_created_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 5);
    let started = Instant::now();
    let (code, _, err) = run(scorelake().args(["convert", p(&panel), "/proc/x.parquet"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot create files in `/proc`"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn credentials_stay_out_of_config_errors_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 5);
    let env = [
        // Nothing listens on port 1: the server is gone.
        (
            "SCORELAKE__STORAGE__S3__ENDPOINT",
            "http://admin:userinfo-secret@127.0.0.1:1",
        ),
        ("SCORELAKE__STORAGE__S3__ALLOW_HTTP", "true"),
        ("SCORELAKE__STORAGE__S3__PATH_STYLE", "true"),
        ("SCORELAKE__STORAGE__S3__MAX_RETRIES", "0"),
        ("AWS_ACCESS_KEY_ID", "AKIA-KEY-ID-VALUE"),
        ("AWS_SECRET_ACCESS_KEY", "secret-key-value"),
    ];
    let secrets = ["userinfo-secret", "AKIA-KEY-ID-VALUE", "secret-key-value"];
    for args in [
        vec!["config", "show"],
        vec!["config", "show", "--json"],
        vec!["config", "spark"],
        vec![
            "--log-level",
            "trace",
            "convert",
            p(&panel),
            "s3://lake/x.parquet",
        ],
        vec![
            "--log-level",
            "debug",
            "sql",
            "SELECT count(*) FROM 's3://lake/t/'",
        ],
        vec!["--log-level", "debug", "delta", "history", "s3://lake/t"],
    ] {
        let (code, out, err) = run(scorelake().args(&args).envs(env));
        for secret in secrets {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{args:?} shows {secret}: {out}{err}"
            );
        }
        if args[0] == "config" {
            assert_eq!(code, 0, "{err}");
            assert!(out.contains("****@127.0.0.1:1"), "{out}");
        } else {
            assert_eq!(code, 1, "{err}");
            assert!(
                err.contains("S3 endpoint http://****@127.0.0.1:1 is unreachable")
                    && !err.contains("bug in DataFusion"),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn a_bad_csv_value_is_located_once_without_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    // 2000 good rows (the types are inferred from them), then a bad one.
    let good = "SELECT v AS id, concat('person', v) AS name, v + 0.5 AS amount \
                FROM generate_series(0, 1999) AS t(v)";
    let (code, _, err) = run(scorelake().args(["sql", good, "--output", p(&csv)]));
    assert_eq!(code, 0, "{err}");
    let mut file = std::fs::OpenOptions::new().append(true).open(&csv).unwrap();
    file.write_all(b"2001,Jane Roe,555-12-3456\n").unwrap();
    let out = dir.path().join("out.parquet");
    let query = format!("SELECT sum(amount) FROM '{}'", p(&csv));
    for args in [vec!["convert", p(&csv), p(&out)], vec!["sql", &query]] {
        let (code, _, err) = run(scorelake().args(&args));
        assert_eq!(code, 1, "{err}");
        assert_eq!(err.matches("at line 2001").count(), 1, "{err}");
        assert!(
            !err.contains("Jane Roe") && !err.contains("555-12-3456"),
            "{err}"
        );
    }
}
