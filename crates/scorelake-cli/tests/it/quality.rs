//! Column checks and population stability: validate, drift.

use super::browser::render;
use super::{p, run, sample_panel, sample_panel_with, scorelake};

#[test]
fn validate_reports_and_exits_3_on_fail() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 200);
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
    let (panel, _) = sample_panel_with(dir.path(), 300, &["--months", "4"]);
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

    // Without --columns, identifiers and targets are left out by name; so
    // are they in validation, unless a threshold names them.
    let (code, stdout, err) =
        run(scorelake().args(["drift", "--baseline", p(&panel), "--current", p(&panel)]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("Left out by role (name them to include them): `customer_id` (identifier), `default_flag` (target)")
            && !stdout.contains("| customer_id |")
            && stdout.contains("| balance | psi |"),
        "{stdout}"
    );
    let (code, stdout, err) = run(scorelake().args(["validate", "--input", p(&panel)]));
    assert!(code == 0 || code == 3, "{err}");
    assert!(
        stdout.contains("`customer_id` (identifier)") && !stdout.contains("| customer_id |"),
        "{stdout}"
    );

    // report), unless --fail-on never: the first month against the rows
    // with a large balance.
    let first = dir.path().join("first.parquet");
    let late = dir.path().join("late.parquet");
    for (file, filter) in [
        (&first, "month = DATE '2023-01-01'"),
        (&late, "balance > 3000"),
    ] {
        let (code, _, err) = run(scorelake().args([
            "sql",
            &format!("SELECT * FROM p WHERE {filter}"),
            "--table",
            &format!("p={}", p(&panel)),
            "--output",
            p(file),
        ]));
        assert_eq!(code, 0, "{err}");
    }
    let (code, stdout, err) = run(scorelake()
        .args(["drift", "--baseline", p(&first), "--current", p(&late)])
        .args(["--columns", "balance", "--report", p(&report)]));
    assert_eq!(code, 3, "{stdout}{err}");
    assert!(
        err.starts_with("drift: 1 comparison is shifted: balance (exit 3")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(report.is_file() && stdout.contains("| balance | psi |"));
    let (code, _, err) = run(scorelake()
        .args(["drift", "--baseline", p(&first), "--current", p(&late)])
        .args(["--columns", "balance", "--fail-on", "never"]));
    assert_eq!(code, 0, "{err}");
}

/// `--report x.html`: one self-contained page (no scripts, links or remote
/// assets) with the figures of the JSON report.
#[test]
fn html_reports_are_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 200);
    let (html, json) = (dir.path().join("v.html"), dir.path().join("v.json"));
    for report in [&html, &json] {
        let (code, _, err) = run(scorelake()
            .args(["validate", "--input", p(&panel), "--report"])
            .arg(report));
        assert!(code == 0 || code == 3, "{err}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // As Chromium renders it offline: every column with its status, and
    // the row count.
    let shown = render(&html);
    for c in figures["columns"].as_array().unwrap() {
        let (name, status) = (c["column"].as_str().unwrap(), c["status"].as_str().unwrap());
        assert!(shown.contains(&format!("<tr><td>{name}</td>")), "{name}");
        assert!(
            shown.contains(&format!("class=\"{status}\">{status}<")),
            "{name}: {status}"
        );
        // Numbers and text get a distribution strip; dates do not.
        let drawn = c["metrics"]["max"].is_number() || c["metrics"]["top_share"].is_number();
        assert_eq!(
            shown.contains(&format!("aria-label=\"distribution of {name}\"")),
            drawn,
            "{name}"
        );
    }
    assert!(
        shown.contains(&format!("{} rows", figures["rows"])),
        "rows {}",
        figures["rows"]
    );
    let (drift, drift_json) = (dir.path().join("d.html"), dir.path().join("d.json"));
    for report in [&drift_json, &drift] {
        let (code, _, err) = run(scorelake()
            .args(["drift", "--input", p(&panel), "--period-col", "month"])
            .args([
                "--baseline-periods",
                "2023-01-01",
                "--columns",
                "balance,product",
            ])
            .args([
                "--binning",
                "quantile,equal-width",
                "--fail-on",
                "never",
                "--report",
            ])
            .arg(report));
        assert_eq!(code, 0, "{err}");
    }
    let page2 = std::fs::read_to_string(&drift).unwrap();
    let shown = render(&drift);
    assert!(shown.contains("psi (equal-width)") && shown.contains("<svg"));
    assert!(
        shown.contains("aria-label=\"value by period\""),
        "the PSI over time"
    );
    // Every period, column and binning with its value, as the JSON has it.
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&drift_json).unwrap()).unwrap();
    for c in figures["columns"].as_array().unwrap() {
        let method = match c["method"].as_str().unwrap() {
            "psi" => format!("psi ({})", c["binning"].as_str().unwrap().replace('_', "-")),
            other => other.to_string(),
        };
        let row = format!(
            "<td>{}</td><td>{}</td><td>{method}</td><td>{:.4}</td>",
            c["period"].as_str().unwrap(),
            c["column"].as_str().unwrap(),
            c["value"].as_f64().unwrap()
        );
        assert!(shown.contains(&row), "{row}");
    }
    for p in [&page, &page2] {
        assert!(!p.contains("<script") && !p.contains("http") && !p.contains("<link"));
    }
    let (code, _, err) =
        run(scorelake().args(["validate", "--input", p(&panel), "--report", "x.pdf"]));
    assert_eq!(code, 2);
    assert!(err.contains(".html"), "{err}");
}
