//! Commands on a loopback Ballista cluster (one scheduler and two executor
//! processes, started here and stopped by PID) against the embedded engine
//! on the same inputs; and what a client is told when the cluster is
//! missing, misconfigured or loses an executor.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{p, run, sample_panel, scorelake, sql};

/// A scheduler and its executors, killed when dropped.
struct Cluster {
    scheduler: Child,
    executors: Vec<Child>,
    url: String,
    _work: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain([&mut self.scheduler]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Cluster {
    /// A scheduler and `executors` executors of two tasks each, ready for jobs.
    fn start(executors: usize) -> Cluster {
        let work = tempfile::tempdir().unwrap();
        let mut scheduler = scorelake()
            .args(["cluster", "scheduler", "--bind", "127.0.0.1:0"])
            .args(["--executor-timeout", "15"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the scheduler");
        let stdout = scheduler.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the scheduler says where it listens");
        let addr = line
            .trim()
            .strip_prefix("scheduler listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        let mut cluster = Cluster {
            scheduler,
            executors: Vec::new(),
            url: format!("df://{addr}"),
            _work: work,
        };
        for i in 0..executors {
            cluster.add_executor(&addr, i);
        }
        cluster.wait_ready();
        cluster
    }

    fn add_executor(&mut self, scheduler: &str, i: usize) {
        let dir = self._work.path().join(format!("executor-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let bind = format!("127.0.0.1:{}", crate::ports::free_ports(2));
        let child = scorelake()
            .args([
                "cluster",
                "executor",
                "--scheduler",
                scheduler,
                "--bind",
                &bind,
            ])
            .args(["--concurrent-tasks", "2", "--work-dir", p(&dir)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start an executor");
        self.executors.push(child);
    }

    /// Waits until a query runs on the cluster.
    fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let (code, _, err) = run(self.client().args(["sql", "SELECT 1 AS one"]));
            if code == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "the cluster never ran a query: {err}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `scorelake` as a client of this cluster.
    fn client(&self) -> Command {
        let mut c = scorelake();
        c.args(["--engine", "ballista", "--set"])
            .arg(format!("ballista.url={}", self.url));
        c
    }
}

/// The number in the one-cell result `out` of `scorelake sql`.
fn cell(out: &str) -> u64 {
    out.lines()
        .filter_map(|l| l.trim().trim_matches('|').trim().parse::<u64>().ok())
        .next()
        .unwrap_or_else(|| panic!("no number in {out}"))
}

/// `a` and `b` (any readable tables) hold the same rows: as many, and none
/// of either missing from the other (values compared exactly).
fn assert_same_rows(a: &Path, b: &Path) {
    let tables = [("a", p(a)), ("b", p(b))];
    let count = |t: &str| cell(&sql(&format!("SELECT count(*) FROM {t}"), &tables));
    assert_eq!(count("a"), count("b"), "row counts of {a:?} and {b:?}");
    for (x, y) in [("a", "b"), ("b", "a")] {
        let query = format!("SELECT count(*) FROM (SELECT * FROM {x} EXCEPT SELECT * FROM {y})");
        assert_eq!(
            cell(&sql(&query, &tables)),
            0,
            "rows of {x} missing from {y}: {a:?} {b:?}"
        );
    }
}

/// The sample panel's feature recipes in `examples/`.
fn example_recipes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml")
}

/// [`both`], whose two outputs must hold the same rows.
fn same_on_both(cluster: &Cluster, dir: &Path, name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let (a, b) = both(cluster, dir, name, args);
    assert_same_rows(&a, &b);
    (a, b)
}

/// Runs `args` embedded and on `cluster`, each with `{out}` replaced by its
/// own output path (`name` in `dir/embedded` and `dir/ballista`); both must
/// succeed. The two outputs.
fn both(cluster: &Cluster, dir: &Path, name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let mut outputs = Vec::new();
    for (engine, mut cmd) in [("embedded", scorelake()), ("ballista", cluster.client())] {
        let folder = dir.join(engine);
        std::fs::create_dir_all(&folder).unwrap();
        let out = folder.join(name);
        let args: Vec<String> = args.iter().map(|a| a.replace("{out}", p(&out))).collect();
        let (code, stdout, err) = run(cmd.args(&args));
        assert_eq!(code, 0, "{engine} {args:?}: {err}\n{stdout}");
        outputs.push(out);
    }
    let ballista = outputs.pop().unwrap();
    (outputs.pop().unwrap(), ballista)
}

#[test]
fn commands_give_the_same_results_on_a_cluster() {
    let cluster = Cluster::start(2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // The generator runs on the executors.
    same_on_both(
        &cluster,
        d,
        "panel.parquet",
        &["sample", "--customers", "300", "--out", "{out}"],
    );
    let panel = sample_panel(d, 300);

    // Conversions to every format, one file and partitioned directories.
    for (name, extra) in [
        ("panel.csv", &[][..]),
        ("panel.ncf", &[][..]),
        (
            "by_product",
            &["--partition-by", "product", "--to", "ncf"][..],
        ),
        (
            "by_inquiries",
            &["--partition-by", "num_inquiries", "--to", "parquet"][..],
        ),
    ] {
        let mut args = vec!["convert", p(&panel), "{out}"];
        args.extend_from_slice(extra);
        same_on_both(&cluster, d, name, &args);
    }

    // Delta tables: written by the executors and committed by the client,
    // then read on the cluster as their snapshot's files.
    same_on_both(
        &cluster,
        d,
        "accounts",
        &[
            "convert",
            p(&panel),
            "{out}",
            "--to",
            "delta",
            "--partition-by",
            "product",
        ],
    );
    same_on_both(
        &cluster,
        d,
        "from_delta.parquet",
        &["convert", p(&d.join("embedded/accounts")), "{out}"],
    );
    // The executors wrote the cluster's table: files named by the engine's
    // write (`WRITEID_N.parquet`), not by delta-rs (`part-…`).
    let cluster_table = d.join("ballista/accounts");
    let files: Vec<PathBuf> = walkdir(&cluster_table)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(!files.is_empty());
    assert!(
        files.iter().all(|f| !f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("part-")),
        "{files:?}"
    );
    // An append and an overwrite on the cluster: one version each.
    for (flag, copies) in [("--append", 2), ("--overwrite", 1)] {
        let (code, _, err) = run(cluster.client().args([
            "convert",
            p(&panel),
            p(&cluster_table),
            "--to",
            "delta",
            flag,
        ]));
        assert_eq!(code, 0, "{flag}: {err}");
        let rows = |t: &Path| cell(&sql("SELECT count(*) FROM t", &[("t", p(t))]));
        assert_eq!(rows(&cluster_table), copies * rows(&panel), "{flag}");
    }
    let (code, history, err) = run(scorelake().args(["delta", "history", p(&cluster_table)]));
    assert_eq!(code, 0, "{err}");
    assert!(
        history.contains("| 2 ") && history.contains("Overwrite"),
        "{history}"
    );

    // Maintenance runs in the client (delta-rs plans its own scans).
    let table = d.join("ballista/accounts");
    let (code, _, err) = run(cluster.client().args(["delta", "optimize", p(&table)]));
    assert_eq!(code, 0, "{err}");
    same_on_both(
        &cluster,
        d,
        "optimized.parquet",
        &["convert", p(&table), "{out}"],
    );

    // Features: trends and windows per customer, then SQL over the result.
    let recipes = example_recipes();
    let (a, _) = same_on_both(
        &cluster,
        d,
        "features.parquet",
        &[
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            p(&panel),
            "--output",
            "{out}",
        ],
    );
    // A panel declared sorted, large enough to be scanned in several
    // partitions (two row groups): shuffled by customer, its rows reach the
    // features out of order unless the cluster sorts them (a shuffle does
    // not keep row order, whatever order the input declares).
    let grouped = d.join("grouped");
    std::fs::create_dir_all(&grouped).unwrap();
    let grouped_panel = sample_panel(&grouped, 20_000);
    same_on_both(
        &cluster,
        &grouped,
        "features.parquet",
        &[
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            p(&grouped_panel),
            "--output",
            "{out}",
        ],
    );
    // Its run record: the client's job, and the job's stages as the
    // scheduler measured them (tasks per stage, operators' rows).
    let metrics = d.join("cluster_run.json");
    let kept = format!("observability.metrics_dir={}", d.join("runs").display());
    let (code, _, err) = run(cluster
        .client()
        .args(["--metrics", p(&metrics), "--set", &kept])
        .args([
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            p(&panel),
            "--output",
            p(&d.join("ballista/features_again.parquet")),
        ]));
    assert_eq!(code, 0, "{err}");
    let record = json(&metrics);
    assert!(
        record["engine"].as_str().unwrap().starts_with("ballista"),
        "{record}"
    );
    let client_ops: Vec<&str> = record["plans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|plan| plan.as_array().unwrap())
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(
        client_ops.contains(&"DistributedQueryExec"),
        "{client_ops:?}"
    );
    let stages = record["stages"].as_array().unwrap();
    assert!(!stages.is_empty(), "{record}");
    assert!(
        stages
            .iter()
            .all(|s| s["partitions"].as_u64().unwrap() >= 1)
    );
    let panel_rows = cell(&sql("SELECT count(*) FROM t", &[("t", p(&panel))]));
    let temporal = stages
        .iter()
        .flat_map(|s| s["operators"].as_array().unwrap())
        .find(|o| o["name"] == "TemporalExec")
        .unwrap_or_else(|| panic!("no TemporalExec in the stages: {stages:?}"));
    assert_eq!(
        temporal["output_rows"].as_u64(),
        Some(panel_rows),
        "{temporal}"
    );

    let query = "SELECT product, count(*) AS n, sum(days_past_due) AS dpd FROM t GROUP BY product";
    let table = format!("t={}", p(&a));
    same_on_both(
        &cluster,
        d,
        "by_product.parquet",
        &["sql", query, "--table", &table, "--output", "{out}"],
    );

    // The demo: every step of the main job.
    let (a, b) = both(
        &cluster,
        d,
        "demo",
        &["demo", "--customers", "300", "--out", "{out}"],
    );
    assert_same_rows(&a.join("features.parquet"), &b.join("features.parquet"));
    assert_close_json(
        &json(&a.join("scorecard/scorecard.json")),
        &json(&b.join("scorecard/scorecard.json")),
        "demo card",
    );
}

/// `a` and `b` (JSON reports of the same command on two engines) agree:
/// the same structure, text and integers; other numbers within 1e-12
/// relative (sums over partitions add in another order); output paths
/// compared with the engine's folder name taken out; timings and file sizes
/// ignored.
fn assert_close_json(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<_> = x.keys().collect();
            assert_eq!(keys, y.keys().collect::<Vec<_>>(), "keys at {at}");
            for (k, v) in x {
                // Timings, and file sizes (rows in another order compress differently).
                if k.contains("seconds") || k.contains("elapsed") || k.contains("bytes") {
                    continue;
                }
                assert_close_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_close_json(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            let scale = x.abs().max(y.abs()).max(f64::MIN_POSITIVE);
            assert!((x - y).abs() / scale <= 1e-12, "{x} vs {y} at {at}");
        }
        (Value::String(x), Value::String(y)) => {
            assert_eq!(
                x.replace("/ballista/", "/embedded/"),
                y.replace("/ballista/", "/embedded/"),
                "at {at}"
            );
        }
        _ => assert_eq!(a, b, "at {at}"),
    }
}

/// The JSON file at `path`.
fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The JSON reports written beside the outputs `a` and `b` (their
/// extension replaced by `extension`) agree as [`assert_close_json`] says.
fn assert_close_reports(a: &Path, b: &Path, extension: &str) {
    let (a, b) = (a.with_extension(extension), b.with_extension(extension));
    assert_close_json(&json(&a), &json(&b), &a.display().to_string());
}

/// The same file written by the embedded and the cluster run of `both`.
fn pair_of(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join("embedded").join(name),
        dir.join("ballista").join(name),
    )
}

#[test]
fn modelling_and_quality_commands_agree_on_a_cluster() {
    let cluster = Cluster::start(2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let panel = sample_panel(d, 400);
    let panel = p(&panel);
    let side = |engine: &str, name: &str| p(&d.join(engine).join(name)).to_string();

    // Features: fit on the panel, then apply the fitted file; a snapshot.
    let recipes = example_recipes();
    let (a, b) = same_on_both(
        &cluster,
        d,
        "features.parquet",
        &[
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            panel,
            "--output",
            "{out}",
            "--fitted",
            &format!("{}.fitted.json", "{out}"),
        ],
    );
    assert_close_reports(&a, &b, "parquet.fitted.json");
    let fitted = side("embedded", "features.parquet.fitted.json");
    same_on_both(
        &cluster,
        d,
        "applied.parquet",
        &[
            "features", "--apply", &fitted, "--input", panel, "--output", "{out}",
        ],
    );
    let snapshot = d.join("snapshot.yaml");
    std::fs::write(
        &snapshot,
        "entity: customer_id\ntime: month\nsnapshot: 2024-06-01\nrecipes:\n\
         - {name: worst, operation: worst, source: days_past_due, window: last_6_months}\n\
         - {name: spend, operation: mean, source: payment, window: all_time}\n",
    )
    .unwrap();
    same_on_both(
        &cluster,
        d,
        "snapshot.parquet",
        &[
            "features",
            "--recipes",
            p(&snapshot),
            "--input",
            panel,
            "--output",
            "{out}",
        ],
    );

    // Encoders: fitted mappings travel to the executors.
    let spec = d.join("enc.yaml");
    std::fs::write(
        &spec,
        "target: default_flag\ncross_fit: {folds: 5, seed: 42, by: customer_id}\nencoders:\n\
         - {column: product, method: frequency}\n- {column: region, method: target_mean, smoothing: 20}\n",
    )
    .unwrap();
    same_on_both(
        &cluster,
        d,
        "encoded.parquet",
        &[
            "encode",
            "--spec",
            p(&spec),
            "--fit",
            panel,
            "--input",
            panel,
            "--output",
            "{out}",
            "--mappings",
            &format!("{}.json", "{out}"),
        ],
    );
    same_on_both(
        &cluster,
        d,
        "oof.parquet",
        &[
            "encode",
            "--spec",
            p(&spec),
            "--fit",
            panel,
            "--input",
            panel,
            "--out-of-fold",
            "--output",
            "{out}",
        ],
    );

    // Validation and drift reports.
    both(
        &cluster,
        d,
        "validate.json",
        &["validate", "--input", panel, "--report", "{out}"],
    );
    let (a, b) = pair_of(d, "validate.json");
    assert_close_json(&json(&a), &json(&b), "validate");
    both(
        &cluster,
        d,
        "drift.json",
        &[
            "drift",
            "--input",
            panel,
            "--period-col",
            "month",
            "--baseline-periods",
            "2023-01-01,2023-02-01,2023-03-01",
            "--current-periods",
            "2024-10-01,2024-11-01,2024-12-01",
            "--columns",
            "balance,utilization,payment",
            "--categorical",
            "product,region",
            "--fail-on",
            "never",
            "--report",
            "{out}",
        ],
    );
    let (a, b) = pair_of(d, "drift.json");
    assert_close_json(&json(&a), &json(&b), "drift");

    // Compression, a pipeline, scoring with its card.
    let (a, b) = same_on_both(
        &cluster,
        d,
        "compressed.parquet",
        &[
            "compress",
            "--input",
            panel,
            "--target",
            "default_flag",
            "--bin",
            "balance,utilization,payment",
            "--method",
            "quantile",
            "--bins",
            "5",
            "--segments",
            "product",
            "--output",
            "{out}",
            "--report",
            &format!("{}.json", "{out}"),
        ],
    );
    assert_close_reports(&a, &b, "parquet.json");
    for engine in ["embedded", "ballista"] {
        std::fs::write(
            d.join(engine).join("pipeline.yaml"),
            format!(
                "input: {panel}\noutput: run\ntarget: default_flag\nsegments: [product]\n\
                 holdout: {{share: 0.25, by: [customer_id]}}\n\
                 binning: {{variables: [utilization, days_past_due, payment, region]}}\n\
                 scaling: {{round: true}}\n"
            ),
        )
        .unwrap();
    }
    let (card_a, card_b) = both(&cluster, d, "pipeline.yaml", &["run", "{out}"]);
    let run_dir = |f: &Path| f.parent().unwrap().join("run");
    assert_close_json(
        &json(&run_dir(&card_a).join("scorecard.json")),
        &json(&run_dir(&card_b).join("scorecard.json")),
        "scorecard",
    );
    let card = run_dir(&card_a).join("scorecard.json");
    same_on_both(
        &cluster,
        d,
        "scored.parquet",
        &[
            "score",
            "--scorecard",
            p(&card),
            "--input",
            panel,
            "--output",
            "{out}",
        ],
    );
}

#[test]
fn an_unreachable_scheduler_is_named_before_any_work() {
    let port = crate::ports::free_ports(1);
    let url = format!("df://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.parquet");
    let started = Instant::now();
    let (code, _, err) = run(scorelake()
        .args(["--engine", "ballista", "--set"])
        .arg(format!("ballista.url={url}"))
        .args(["--set", "ballista.connect_timeout=1s"])
        .args(["sample", "--customers", "10", "--out", p(&out)]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&url) && err.contains("cannot reach"), "{err}");
    // A scheduler still starting is waited for, up to the timeout.
    assert!(
        err.contains("still after 1 s (ballista.connect_timeout)"),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());

    let (code, _, err) = run(scorelake().args(["--engine", "balista", "sql", "SELECT 1"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("did you mean `ballista`"), "{err}");

    let (code, _, err) = run(scorelake()
        .args([
            "--engine",
            "ballista",
            "--set",
            "ballista.url=127.0.0.1:50050",
        ])
        .args(["sql", "SELECT 1"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bad ballista.url"), "{err}");
}

/// The executor is killed once shuffle output of the job's last stage sits
/// on it: finished work is lost and must rerun (Ballista's adaptive planner
/// hung here; the static one reruns it).
#[test]
fn a_job_survives_or_fails_cleanly_when_an_executor_is_killed() {
    let mut cluster = Cluster::start(2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let panel = sample_panel(d, 20_000);
    let recipes = example_recipes();
    let reference = d.join("reference.parquet");
    let (code, _, err) = run(scorelake().args([
        "features",
        "--recipes",
        p(&recipes),
        "--input",
        p(&panel),
        "--output",
        p(&reference),
    ]));
    assert_eq!(code, 0, "{err}");

    let out = d.join("features.parquet");
    let mut job = cluster
        .client()
        .args([
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            p(&panel),
            "--output",
            p(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // features runs three jobs (two medians, then the features).
    let shuffled = cluster._work.path().join("executor-0");
    let started = Instant::now();
    while job_folders_with_data(&shuffled) < 3 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // kill -9: no goodbye to the scheduler.
    let victim = &mut cluster.executors[0];
    let _ = victim.kill();
    let _ = victim.wait();

    let started = Instant::now();
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = job.kill();
            panic!("the job neither finished nor failed after an executor was killed");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(job.stderr.as_mut().unwrap(), &mut err).unwrap();
    eprintln!("after the kill: {status}; {err}");
    if status.success() {
        // Retried on the surviving executor: the same result.
        assert_same_rows(&reference, &out);
    } else {
        // Or failed: one clear error, and nothing that reads as an output.
        assert!(
            err.starts_with("error: ") && err.lines().count() <= 2,
            "{err}"
        );
        assert!(!out.exists(), "a failed job left {out:?}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary outputs left: {leftovers:?}"
    );
}

/// Folders of `work_dir` (an executor's, one per job) holding a shuffle file.
fn job_folders_with_data(work_dir: &Path) -> usize {
    let holds_data = |dir: &Path| {
        walkdir(dir)
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "arrow"))
    };
    std::fs::read_dir(work_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| holds_data(&e.path()))
                .count()
        })
        .unwrap_or(0)
}

/// Every file under `dir`.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn edge_cases_and_auto_selection_on_a_cluster() {
    let cluster = Cluster::start(2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // NaN, nulls, a gap, ties, −0.0, month ends, a one-row customer.
    let panel = d.join("edges.parquet");
    let values = "(1, DATE '2024-01-31', 10.0), (1, DATE '2024-02-29', CAST('NaN' AS DOUBLE)), \
         (1, DATE '2024-03-31', NULL), (1, DATE '2024-05-31', 10.0), (1, DATE '2024-06-30', 12.5), \
         (2, DATE '2024-01-31', 5.0), \
         (3, DATE '2024-01-31', 1.0), (3, DATE '2024-02-29', 1.0), (3, DATE '2024-03-31', -0.0), \
         (3, DATE '2024-04-30', 0.0), (3, DATE '2024-05-31', 1.0), (3, DATE '2024-06-30', 1e300), \
         (4, DATE '2023-12-31', -2.0), (4, DATE '2024-12-31', -3.0)";
    let query = format!(
        "SELECT CAST(c AS BIGINT) AS customer_id, m AS month, CAST(b AS DOUBLE) AS balance FROM (VALUES {values}) AS t(c, m, b)"
    );
    let (code, _, err) = run(scorelake().args(["sql", &query, "--output", p(&panel)]));
    assert_eq!(code, 0, "{err}");
    let recipes = d.join("edges.yaml");
    std::fs::write(
        &recipes,
        "entity: customer_id\ntime: month\nrecipes:\n\
         - {name: d, operation: delta, source: balance}\n\
         - {name: g, operation: pct_change, source: balance}\n\
         - {name: s, operation: trend_slope, source: balance, window: 3}\n\
         - {name: r, operation: rolling_rank, source: balance, window: 3}\n\
         - {name: v, operation: volatility, source: balance, window: 3}\n\
         - {name: w, operation: worst, source: balance, window: last_3_months}\n\
         - {name: m, operation: mean, source: balance, window: all_time}\n",
    )
    .unwrap();
    same_on_both(
        &cluster,
        d,
        "edges_features.parquet",
        &[
            "features",
            "--recipes",
            p(&recipes),
            "--input",
            p(&panel),
            "--output",
            "{out}",
        ],
    );

    // auto: at or below engine.auto_threshold embedded, above it the cluster.
    let auto = |threshold: &str, url: &str| {
        let table = format!("t={}", p(&panel));
        run(scorelake()
            .args(["--log-level", "info", "--set", "engine.kind=auto", "--set"])
            .arg(format!("ballista.url={url}"))
            .args(["--set", &format!("engine.auto_threshold={threshold}")])
            .args(["sql", "SELECT count(*) AS n FROM t", "--table", &table]))
    };
    let (code, out, err) = auto("1g", &cluster.url);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("14") && err.contains("embedded") && err.contains("<= engine.auto_threshold"),
        "{err}"
    );
    let (code, out, err) = auto("1k", &cluster.url);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("14") && err.contains(&format!("ballista at {}", cluster.url)),
        "{err}"
    );
    assert!(err.contains("> engine.auto_threshold"), "{err}");
    // A cluster chosen by auto that does not answer is an error, not a fallback.
    let port = crate::ports::free_ports(1);
    let gone = format!("df://127.0.0.1:{port}");
    let (code, _, err) = auto("1k", &gone);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot reach the Ballista scheduler") && err.contains(&gone),
        "{err}"
    );
}
