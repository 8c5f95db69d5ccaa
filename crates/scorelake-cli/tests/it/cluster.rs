//! Commands on a loopback Ballista cluster (one scheduler and two executor
//! processes, started here and stopped by PID) against the embedded engine
//! on the same inputs; and what a client is told when the cluster is
//! missing, misconfigured or loses an executor.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
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

/// A port `p` with `p + 1` also free (an executor takes both).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

impl Cluster {
    /// A scheduler and `executors` executors of two tasks each, ready for jobs.
    fn start(executors: usize) -> Cluster {
        let work = tempfile::tempdir().unwrap();
        let mut scheduler = scorelake()
            .args(["cluster", "scheduler", "--bind", "127.0.0.1:0"])
            .args(["--executor-timeout", "6"])
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
        let bind = format!("127.0.0.1:{}", free_port_pair());
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
    let (a, b) = both(
        &cluster,
        d,
        "panel.parquet",
        &["sample", "--customers", "300", "--out", "{out}"],
    );
    assert_same_rows(&a, &b);
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
        let (a, b) = both(&cluster, d, name, &args);
        assert_same_rows(&a, &b);
    }

    // Features: trends and windows per customer, then SQL over the result.
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/panel-features.yaml");
    let (a, b) = both(
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
    assert_same_rows(&a, &b);
    let query = "SELECT product, count(*) AS n, sum(days_past_due) AS dpd FROM t GROUP BY product";
    let table = format!("t={}", p(&a));
    let (a, b) = both(
        &cluster,
        d,
        "by_product.parquet",
        &["sql", query, "--table", &table, "--output", "{out}"],
    );
    assert_same_rows(&a, &b);
}

#[test]
fn an_unreachable_scheduler_is_named_before_any_work() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("df://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.parquet");
    let (code, _, err) = run(scorelake()
        .args(["--engine", "ballista", "--set"])
        .arg(format!("ballista.url={url}"))
        .args(["sample", "--customers", "10", "--out", p(&out)]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&url) && err.contains("cannot reach"), "{err}");
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
