//! Features, encoders, compression, pipelines, scoring and the demo.

use std::path::Path;
use std::process::Command;

use super::browser::render;
use super::{p, run, sample_panel, scorelake, sql};

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
    // It writes its reports as pages and names them; each opens offline.
    let listed: Vec<&str> = stdout
        .split("Reports (self-contained HTML):")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"))
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(".html"))
        .collect();
    assert_eq!(listed.len(), 3, "{stdout}");
    for page in ["validation.html", "drift.html"] {
        let path = out.join(page);
        assert!(listed.contains(&p(&path)), "{listed:?}");
        assert!(render(&path).contains("<table>"), "{page}");
    }
    // The card passes the selection safeguards: every coefficient on a WoE
    // column is negative (a higher WoE is safer) and significant, and the
    // report gives the trail.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scorecard/report.json")).unwrap())
            .unwrap();
    let terms = report["model"]["coefficients"].as_array().unwrap();
    assert!(terms.len() >= 3, "{report}");
    for c in &terms[1..] {
        let (estimate, p) = (
            c["estimate"].as_f64().unwrap(),
            c["p_value"].as_f64().unwrap(),
        );
        assert!(estimate < 0.0 && p <= 0.05, "{c}");
    }
    assert!(!report["selection"]["trail"].as_array().unwrap().is_empty());
    let md = std::fs::read_to_string(out.join("scorecard/report.md")).unwrap();
    assert!(
        md.contains("Variable selection") && md.contains("| VIF |"),
        "{md}"
    );
    // The same run as one self-contained page, as Chromium renders it
    // offline: every term and every sample's Gini and KS.
    let page = out.join("scorecard/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && !html.contains("<script") && !html.contains("http")
    );
    let shown = render(&page);
    for c in terms {
        assert!(
            shown.contains(&format!("<tr><td>{}</td>", c["name"].as_str().unwrap())),
            "{c}"
        );
    }
    // The WoE of every bin of the model's variables, as binning.json has it.
    let binning: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scorecard/binning.json")).unwrap())
            .unwrap();
    assert!(shown.contains("Cumulative capture of events") && shown.contains("WoE per bin"));
    for v in report["selected"].as_array().unwrap() {
        let bins = binning["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["column"] == *v)
            .unwrap()["bins"]
            .as_array()
            .unwrap();
        assert!(
            shown.contains(&format!("<h3>{}</h3>", v.as_str().unwrap())),
            "{v}"
        );
        for b in bins {
            let woe = b["woe"].as_f64().unwrap();
            assert!(
                shown.contains(&format!("<td>{woe:.4}</td>")),
                "{v}: WoE {woe}"
            );
        }
    }
    for s in report["samples"].as_array().unwrap() {
        for figure in ["gini", "ks"] {
            let v = s[figure].as_f64().unwrap();
            assert!(
                shown.contains(&format!("<td>{v:.4}</td>")),
                "{} {figure} {v}",
                s["sample"]
            );
        }
    }
    // Running it again replaces its outputs.
    let (code, _, err) = run(scorelake().args(["demo", "--customers", "1500", "--out", p(&out)]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn features_fit_apply_lineage_and_bad_recipes() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 300);
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let (fitted, lineage) = (
        dir.path().join("fitted.json"),
        dir.path().join("lineage.json"),
    );
    let out = dir.path().join("features.parquet");
    let (code, stdout, err) = run(features(&[], &recipes, &panel, &out).args([
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
    let text = sql(query, &[("a", p(&out)), ("b", p(&again))]);
    assert!(text.contains("| 0 "), "{text}");
    // A bad recipe is named and nothing is written.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "entity: customer_id\ntime: month\nrecipes:\n- {name: trend, operation: trend_slope, source: balanse, window: 6}\n").unwrap();
    let target = dir.path().join("bad_out.parquet");
    let (code, _, err) = run(&mut features(&[], &bad, &panel, &target));
    assert_ne!(code, 0);
    assert!(
        err.contains("recipe `trend`") && err.contains("did you mean `balance`"),
        "{err}"
    );
    assert!(!target.exists());
}

/// The 21 temporal features of the W1 benchmark spill their sort under a
/// memory limit far below the data and still finish; the spill folder is
/// left as it was found.
#[test]
fn features_finish_under_a_small_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let panel = sample_panel(dir.path(), 20_000);
    let recipes =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/temporal_features/recipes.yaml");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let out = dir.path().join("features.parquet");
    let spill_dir = format!("engine.spill_dir={}", p(&spill));
    // The panel declares its order; ignoring it makes the engine sort.
    let record = dir.path().join("run.json");
    let limited = [
        "--memory-limit",
        "32m",
        "--set",
        &spill_dir,
        "--set",
        "engine.use_input_order=false",
        "--metrics",
        p(&record),
    ];
    let (code, stdout, err) = run(&mut features(&limited, &recipes, &panel, &out));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("wrote 459376 rows with 21 features"),
        "{stdout}"
    );
    // The run record says the sort spilled.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let spilled: u64 = record["plans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|plan| plan.as_array().unwrap())
        .filter(|op| op["name"] == "SortExec")
        .filter_map(|op| op["counters"]["spilled_bytes"].as_u64())
        .sum();
    assert!(spilled > 0, "{record}");
    let left: Vec<_> = std::fs::read_dir(&spill).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // Far too little memory for the sort (whose merge reserves more than
    // this up front): the hint names ScoreLake's settings. Without the sort
    // (the panel's declared order) whether 4 MiB fails depends on how much
    // the writer holds at a time.
    let too_small = dir.path().join("too_small.parquet");
    let (code, _, err) = run(&mut features(
        &[
            "--memory-limit",
            "4m",
            "--set",
            "engine.use_input_order=false",
        ],
        &recipes,
        &panel,
        &too_small,
    ));
    assert_ne!(code, 0);
    // One line in the library's terms, then the flag as a hint.
    let lines: Vec<&str> = err.trim().lines().collect();
    assert!(
        lines.len() == 2
            && lines[0].contains("engine.memory_limit")
            && !lines[0].contains("--memory-limit")
            && lines[1].contains("engine.memory_limit is --memory-limit")
            && !err.contains("datafusion.runtime"),
        "{err}"
    );
}

/// `scorelake [global] features --recipes R --input I --output O`.
fn features(global: &[&str], recipes: &Path, input: &Path, output: &Path) -> Command {
    let mut c = scorelake();
    c.args(global).args([
        "features",
        "--recipes",
        p(recipes),
        "--input",
        p(input),
        "--output",
        p(output),
    ]);
    c
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
    let panel = sample_panel(dir.path(), 300);
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
    let text = sql(query, &[("a", p(&out)), ("b", p(&again))]);
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
    let text = sql(query, &[("o", p(&oof))]);
    let row = text
        .lines()
        .find(|l| l.contains("| 0 "))
        .unwrap_or_else(|| panic!("{text}"));
    let groups: u64 = row.split('|').nth(1).unwrap().trim().parse().unwrap();
    assert!(groups > 5, "regions × folds: {text}");
    // Out of fold is for the fitting data only: other rows are refused.
    let other = dir.path().join("other.parquet");
    let (code, _, err) = run(scorelake().args([
        "sql",
        "SELECT * FROM p WHERE customer_id % 2 = 0",
        "--table",
        &format!("p={}", p(&panel)),
        "--output",
        p(&other),
    ]));
    assert_eq!(code, 0, "{err}");
    let refused = dir.path().join("refused.parquet");
    let (code, _, err) = run(scorelake()
        .args([
            "encode",
            "--spec",
            p(&spec),
            "--fit",
            p(&panel),
            "--input",
            p(&other),
        ])
        .args(["--output", p(&refused), "--out-of-fold"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("out-of-fold encoding is for the data the mappings were fitted on"),
        "{err}"
    );
    assert!(!refused.exists());
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
    let panel = sample_panel(dir.path(), 2000);

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
    // `--bins 10` gives ten bins; balance's NULLs get a missing bin beside them.
    assert!(stdout.contains("| balance | 10 + missing |"), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let (input, output) = (
        r["input_rows"].as_u64().unwrap(),
        r["output_rows"].as_u64().unwrap(),
    );
    assert!(input > 40_000 && output < input / 2, "{r}");
    let stdout = sql(
        "SELECT CAST(sum(sample_weight) AS BIGINT) AS w, count(*) AS n FROM c",
        &[("c", p(&compressed))],
    );
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
    // The IV threshold's old place is refused, naming the new one; a
    // selection threshold out of range is named.
    for (extra, expected) in [
        (
            "binning: {variables: [utilization], min_iv: 0.1}\n",
            "binning.min_iv moved to selection.min_iv",
        ),
        (
            "binning: {variables: [utilization]}\nselection: {max_correlation: 2}\n",
            "selection.max_correlation is 2",
        ),
    ] {
        let file = dir.path().join("refused.yaml");
        std::fs::write(
            &file,
            format!("input: panel.parquet\noutput: run2\ntarget: default_flag\n{extra}"),
        )
        .unwrap();
        let (code, _, err) = run(scorelake().args(["run", p(&file)]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "{err}");
    }
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
        "--reasons",
        "2",
        "--points",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains(&format!("scored {input} rows")), "{stdout}");
    let stdout = sql(
        "SELECT count(*) AS n FROM s WHERE score IS NULL OR isnan(score) OR NOT (pd > 0 AND pd < 1) \
         OR points_utilization IS NULL OR (reason_2 IS NOT NULL AND reason_1 IS NULL)",
        &[("s", p(&scored))],
    );
    assert!(stdout.contains("| 0 "), "{stdout}");
    // The exported query gives the same score, PD and reasons on every row.
    let query = std::fs::read_to_string(dir.path().join("run/scorecard_query.sql")).unwrap();
    let stdout = sql(
        &format!(
            "WITH q AS ({query}) SELECT count(*) AS n, \
             sum(CASE WHEN q.score = s.score AND q.pd = s.pd \
             AND (q.reason_1 IS NOT DISTINCT FROM s.reason_1) \
             AND (q.reason_2 IS NOT DISTINCT FROM s.reason_2) THEN 1 ELSE 0 END) AS same \
             FROM q JOIN s ON q.customer_id = s.customer_id AND q.month = s.month"
        ),
        &[("s", p(&scored)), ("input", p(&panel))],
    );
    assert!(
        stdout.matches(&format!("| {input} ")).count() == 2,
        "{stdout}"
    );

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

/// The pipeline reads its modelling table at every step: cached (in memory,
/// or partly on disk under a small `engine.cache_memory`) or not, the card
/// and every figure of the report are the same, and the run record says
/// what the cache did.
#[test]
fn the_pipeline_caches_its_modelling_table_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    sample_panel(dir.path(), 1500);
    let mut outcomes = Vec::new();
    for (i, flags) in [
        vec!["--set", "engine.cache=off"],
        vec![],
        vec!["--set", "engine.cache_memory=1m"],
        vec!["--set", "engine.cache=disk"],
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir.path().join(format!("pipeline{i}.toml"));
        std::fs::write(
            &file,
            format!(
                "input = \"panel.parquet\"\noutput = \"run{i}\"\ntarget = \"default_flag\"\n\
                 [holdout]\nshare = 0.25\nby = [\"customer_id\"]\n\
                 [binning]\nvariables = [\"utilization\", \"days_past_due\", \"payment\", \"region\"]\n"
            ),
        )
        .unwrap();
        let metrics = dir.path().join(format!("metrics{i}.json"));
        let (code, _, err) = run(scorelake()
            .args(["--metrics", p(&metrics)])
            .args(&flags)
            .args(["run", p(&file)]));
        assert_eq!(code, 0, "{flags:?}: {err}");
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        let cache = &record["cache"];
        let entry = &cache["entries"][0];
        assert_eq!(entry["name"], "modelling table", "{cache}");
        match i {
            0 => assert_eq!(
                (cache["hits"].as_u64(), entry["level"].as_str()),
                (Some(0), Some("off"))
            ),
            _ => {
                assert!(cache["hits"].as_u64().unwrap() >= 5, "{flags:?}: {cache}");
                assert!(entry["rows"].as_u64().unwrap() > 10_000, "{cache}");
            }
        }
        let level = ["off", "memory", "memory-and-disk", "disk"][i];
        assert_eq!(entry["level"], level, "{flags:?}: {cache}");
        // Released when the run ended.
        assert!(
            entry["note"].as_str().unwrap().starts_with("unpersisted"),
            "{cache}"
        );
        if i >= 2 {
            assert!(entry["disk_bytes"].as_u64().unwrap() > 0, "{cache}");
        }
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("run{i}/report.json"))).unwrap(),
        )
        .unwrap();
        let card =
            std::fs::read_to_string(dir.path().join(format!("run{i}/scorecard.json"))).unwrap();
        let figures: Vec<String> = [
            "selected",
            "model",
            "train",
            "holdout",
            "samples",
            "iv",
            "stability",
        ]
        .iter()
        .map(|k| report[k].to_string())
        .collect();
        outcomes.push((card, figures));
    }
    for (i, o) in outcomes.iter().enumerate().skip(1) {
        assert!(
            o.0 == outcomes[0].0,
            "scorecard {i} differs from the uncached one"
        );
        for (a, b) in o.1.iter().zip(&outcomes[0].1) {
            assert_eq!(a, b, "run {i}");
        }
    }
}
