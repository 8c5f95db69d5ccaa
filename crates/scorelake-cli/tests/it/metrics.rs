//! Run records: `--metrics FILE` and `observability.metrics_dir` keep what a
//! command did (times, memory, per-operator metrics, configuration),
//! credentials masked, for failures too.

use serde_json::Value;

use crate::browser::render;
use crate::{p, run, sample_panel, scorelake, sql};

fn operators(record: &Value) -> Vec<&Value> {
    record["plans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|plan| plan.as_array().unwrap())
        .collect()
}

#[test]
fn run_records_carry_plan_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 300);
    let rows: u64 = sql("SELECT count(*) AS n FROM t", &[("t", p(&panel))])
        .lines()
        .find_map(|l| l.trim_matches(|c| c == '|' || c == ' ').parse().ok())
        .unwrap();
    let recipes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/temporal_features/recipes.yaml"
    );
    let (record, runs) = (dir.path().join("run.json"), dir.path().join("runs"));
    let (code, _, err) = run(scorelake()
        .args(["--metrics", p(&record), "--set"])
        .arg(format!("observability.metrics_dir={}", runs.display()))
        .args([
            "--set",
            "storage.s3.secret_access_key=SUPERSECRET-1234",
            "features",
            "--recipes",
            recipes,
        ])
        .args(["--input", p(&panel), "--output"])
        .arg(dir.path().join("f.parquet")));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(
        !text.contains("SUPERSECRET-1234"),
        "a credential in the record"
    );
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["ok"], true);
    assert!(r["engine"].as_str().unwrap().starts_with("embedded"));
    assert!(r["wall_seconds"].as_f64().unwrap() > 0.0);
    assert!(r["cpu_seconds"].as_f64().unwrap() > 0.0);
    assert!(r["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    assert_eq!(r["config"]["engine.kind"], "embedded");
    // The table read, with its files' bytes; the table written, with its
    // rows and bytes as on disk.
    let inputs = r["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert_eq!(inputs[0]["location"], p(&panel));
    assert_eq!(inputs[0]["format"], "parquet");
    assert_eq!(
        inputs[0]["bytes"].as_u64(),
        Some(std::fs::metadata(&panel).unwrap().len())
    );
    let outputs = r["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0]["rows"].as_u64(), Some(rows));
    assert_eq!(
        outputs[0]["bytes"].as_u64(),
        Some(
            std::fs::metadata(dir.path().join("f.parquet"))
                .unwrap()
                .len()
        )
    );
    // The temporal operator saw every row once, and the scan read them all.
    let ops = operators(&r);
    let temporal = ops
        .iter()
        .find(|o| o["name"] == "TemporalExec")
        .expect("the temporal operator");
    assert_eq!(temporal["output_rows"].as_u64(), Some(rows));
    assert!(temporal["elapsed_compute_seconds"].as_f64().unwrap() > 0.0);
    assert!(
        ops.iter()
            .any(|o| o["name"] == "DataSourceExec" && o["output_rows"].as_u64() == Some(rows))
    );
    // The same record in the run history folder.
    let kept: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].to_string_lossy().ends_with("-features.json"));
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), text);

    // A failed command is recorded with its error.
    let failed = dir.path().join("failed.json");
    let (code, _, _) = run(scorelake()
        .args(["--metrics", p(&failed), "features", "--recipes", recipes])
        .args(["--input", "missing.parquet", "--output", "x.parquet"]));
    assert_eq!(code, 1);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&failed).unwrap()).unwrap();
    assert_eq!(r["ok"], false);
    assert!(
        r["error"].as_str().unwrap().contains("missing.parquet"),
        "{r}"
    );
}

#[test]
fn runs_are_listed_shown_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 200);
    let runs = format!(
        "observability.metrics_dir={}",
        dir.path().join("runs").display()
    );
    let recipes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/temporal_features/recipes.yaml"
    );
    for i in 0..2 {
        let out = dir.path().join(format!("f{i}.parquet"));
        let (code, _, err) = run(scorelake()
            .args([
                "--set",
                &runs,
                "features",
                "--recipes",
                recipes,
                "--input",
                p(&panel),
                "--output",
            ])
            .arg(&out));
        assert_eq!(code, 0, "{err}");
    }
    let (code, list, err) = run(scorelake().args(["--set", &runs, "runs", "list"]));
    assert_eq!(code, 0, "{err}");
    let ids: Vec<&str> = list
        .lines()
        .skip(2)
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert!(list.contains("| features | yes |"), "{list}");

    let (code, shown, err) = run(scorelake().args(["--set", &runs, "runs", "show", ids[0]]));
    assert_eq!(code, 0, "{err}");
    assert!(
        shown.contains("TemporalExec") && shown.contains("plan 1"),
        "{shown}"
    );

    let (code, compared, err) =
        run(scorelake().args(["--set", &runs, "runs", "compare", ids[0], ids[1]]));
    assert_eq!(code, 0, "{err}");
    assert!(
        compared.contains("| wall s |") && compared.contains("×"),
        "{compared}"
    );

    // Repeated runs compare by their medians.
    let several = format!("{},{}", ids[0], ids[1]);
    let (code, medians, err) =
        run(scorelake().args(["--set", &runs, "runs", "compare", &several, ids[1]]));
    assert_eq!(code, 0, "{err}");
    assert!(
        medians.contains(&format!("| {} +1 (median of 2) | {} |", ids[0], ids[1])),
        "{medians}"
    );

    let (code, _, err) = run(scorelake().args(["--set", &runs, "runs", "show", "nope"]));
    assert_eq!(code, 1);
    assert!(err.contains("no run `nope`"), "{err}");
    let (code, _, err) = run(scorelake().args(["runs", "list"]));
    assert_eq!(code, 2);
    assert!(err.contains("observability.metrics_dir"), "{err}");
}

#[test]
fn profile_runs_a_command_and_folds_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 300);
    let recipes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/temporal_features/recipes.yaml"
    );
    let out = dir.path().join("f.parquet");
    let command = |extra: &[&str]| {
        let mut c = scorelake();
        // A global flag before `profile` applies to every run.
        c.args(["--set", "engine.target_partitions=3", "profile"])
            .args(extra)
            .args([
                "--",
                "features",
                "--recipes",
                recipes,
                "--input",
                p(&panel),
                "--output",
                p(&out),
            ]);
        c
    };
    let page = dir.path().join("profile.html");
    let (code, json, err) =
        run(command(&["--runs", "2", "--json", "--report", p(&page)]).arg("--overwrite"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("run 2 of 2"), "{err}");
    let profile: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(profile["wall_seconds"].as_array().unwrap().len(), 2);
    assert_eq!(profile["partitions"], 3);
    assert!(
        profile["command"]
            .as_str()
            .unwrap()
            .starts_with("scorelake features --recipes"),
        "{profile}"
    );
    let operators = profile["operators"].as_array().unwrap();
    let temporal = operators
        .iter()
        .find(|o| o["name"] == "TemporalExec")
        .expect("the temporal operator");
    let panel_rows: u64 = sql("SELECT count(*) AS n FROM t", &[("t", p(&panel))])
        .lines()
        .find_map(|l| l.trim_matches(|c| c == '|' || c == ' ').parse().ok())
        .unwrap();
    assert_eq!(temporal["output_rows"].as_u64(), Some(panel_rows));
    let shares: f64 = operators.iter().map(|o| o["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "shares add up to {shares}");
    // Operators come most compute time first.
    let times: Vec<f64> = operators
        .iter()
        .map(|o| o["compute_seconds"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // The same profile as a self-contained page, as Chromium renders it
    // offline.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && !html.contains("http") && !html.contains("<script"),
        "{html}"
    );
    let shown = render(&page);
    let median = profile["median_wall_seconds"].as_f64().unwrap();
    assert!(
        shown.contains("<svg")
            && shown.contains("TemporalExec")
            && shown.contains(&format!("wall {median:.2} s median")),
        "{shown}"
    );

    let (code, text, err) = run(command(&["--runs", "1"]).arg("--overwrite"));
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("over 1 run:") && text.contains("| operator | query |"),
        "{text}"
    );

    // Without --overwrite the second run cannot write: said once, with the fix.
    let (code, _, err) = run(&mut command(&["--runs", "1"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("run 1 failed") && err.contains("give the command --overwrite"),
        "{err}"
    );
    let (code, _, err) = run(&mut command(&["--runs", "0"]));
    assert_eq!(code, 2, "{err}");
}

/// Runs started at once keep every record: in the folder (one file each,
/// claimed exclusively) and in the Delta history table (one row each,
/// appended by optimistic commits). `runs` reads the table when it is set.
#[test]
fn concurrent_runs_append_to_the_history_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 100);
    let table = dir.path().join("history");
    let folder = dir.path().join("runs");
    let history = format!("observability.history={}", table.display());
    let metrics_dir = format!("observability.metrics_dir={}", folder.display());
    let table_arg = format!("t={}", p(&panel));
    let runs = 6;
    let children: Vec<_> = (0..runs)
        .map(|_| {
            scorelake()
                .args(["--set", &history, "--set", &metrics_dir])
                .args(["sql", "SELECT count(*) AS n FROM t", "--table", &table_arg])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(!err.contains("cannot"), "{err}");
    }
    let ids = |setting: &str| -> Vec<String> {
        let (code, list, err) = run(scorelake().args(["--set", setting, "runs", "list"]));
        assert_eq!(code, 0, "{err}");
        list.lines()
            .filter(|l| l.starts_with("| 2"))
            .map(|l| l.split('|').nth(1).unwrap().trim().to_string())
            .collect()
    };
    let from_table = ids(&history);
    let from_folder = ids(&metrics_dir);
    assert_eq!(from_table.len(), runs, "{from_table:?}");
    assert_eq!(from_folder.len(), runs, "{from_folder:?}");
    let unique: std::collections::BTreeSet<_> = from_table.iter().collect();
    assert_eq!(unique.len(), runs, "{from_table:?}");
    // One run from the table, operator by operator.
    let (code, shown, err) =
        run(scorelake().args(["--set", &history, "runs", "show", &from_table[0]]));
    assert_eq!(code, 0, "{err}");
    assert!(
        shown.contains(": sql (") && shown.contains("| operator |"),
        "{shown}"
    );
    let (code, _, err) = run(scorelake().args(["--set", &history, "runs", "show", "19990101"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("no run `19990101` in the history table"),
        "{err}"
    );
    // A history that cannot be written: the command's result stands, and
    // the failure is said.
    let blocked = format!("observability.history={}/history", p(&panel));
    let (code, _, err) = run(scorelake()
        .args(["--set", &blocked, "--log-level", "warn"])
        .args(["sql", "SELECT 1", "--table", &table_arg]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("cannot append the run record to the history table"),
        "{err}"
    );
}
