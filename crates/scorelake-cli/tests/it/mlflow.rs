//! `run` logging to a real MLflow tracking server on 127.0.0.1, checked
//! with MLflow's own Python client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::free_ports;
use super::{p, run, sample_panel, scorelake};

/// `mlflow server` (SQLite store, artifacts proxied into a temporary
/// folder), stopped when dropped or when the test process ends.
struct Mlflow {
    watchdog: Child,
    url: String,
    dir: tempfile::TempDir,
}

fn mlflow_bin() -> PathBuf {
    if let Ok(p) = std::env::var("SCORELAKE_MLFLOW") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-mlflow/bin/mlflow");
    assert!(
        venv.exists(),
        "the MLflow test needs an `mlflow` server: run scripts/setup-test-tools.sh \
         (pip install mlflow into .venv-mlflow) or set SCORELAKE_MLFLOW"
    );
    venv
}

impl Mlflow {
    fn start() -> Mlflow {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_ports(1);
        let script = format!(
            "'{bin}' server --host 127.0.0.1 --port {port} --workers 1 \
             --backend-store-uri 'sqlite:///{d}/mlflow.db' --artifacts-destination '{d}/artifacts' \
             >'{d}/server.log' 2>&1 & w=$!; echo $w >'{d}/pid'; \
             while kill -0 {me} 2>/dev/null && kill -0 $w 2>/dev/null; do sleep 0.5; done; \
             kill $w 2>/dev/null; wait $w",
            bin = mlflow_bin().display(),
            d = d.display(),
            me = std::process::id(),
        );
        let watchdog = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .stdin(Stdio::null())
            .spawn()
            .expect("start mlflow");
        let server = Mlflow {
            watchdog,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_ready(port);
        server
    }

    fn wait_ready(&self, port: u16) {
        use std::io::{Read, Write};
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = write!(
                    s,
                    "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                );
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        panic!("mlflow server did not answer in 120 s; its log:\n{log}");
    }

    /// Runs `code` in MLflow's Python with `url` and `run_id` defined;
    /// returns what it prints.
    fn python(&self, run_id: &str, code: &str) -> String {
        let python = mlflow_bin().with_file_name("python");
        let out = Command::new(python)
            .arg("-c")
            .arg(format!(
                "from mlflow.tracking import MlflowClient\nurl = {:?}\nrun_id = {:?}\n\
                 client = MlflowClient(tracking_uri=url)\n{code}",
                self.url, run_id
            ))
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Mlflow {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let _ = self.watchdog.wait();
    }
}

fn pipeline(dir: &Path, name: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "input = \"panel.parquet\"\noutput = \"{name}\"\ntarget = \"default_flag\"\n\
             [holdout]\nshare = 0.25\nby = [\"customer_id\"]\n\
             [binning]\nvariables = [\"utilization\", \"days_past_due\", \"payment\", \"region\"]\n"
        ),
    )
    .unwrap();
    file
}

#[test]
fn a_pipeline_run_is_logged_to_mlflow_with_the_reports_figures() {
    let server = Mlflow::start();
    let dir = tempfile::tempdir().unwrap();
    sample_panel(dir.path(), 1500);
    let file = pipeline(dir.path(), "card");
    let (code, stdout, err) = run(scorelake()
        .args(["--set", &format!("observability.mlflow_url={}", server.url)])
        .args(["--set", "observability.mlflow_experiment=credit risk"])
        .args(["run", p(&file)]));
    assert_eq!(code, 0, "{err}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("logged to MLflow: run "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let run_id = line["logged to MLflow: run ".len()..]
        .split_whitespace()
        .next()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("card/report.json")).unwrap(),
    )
    .unwrap();
    let logged: serde_json::Value = serde_json::from_str(&server.python(
        run_id,
        "import json\nr = client.get_run(run_id)\n\
         exp = client.get_experiment(r.info.experiment_id).name\n\
         files = sorted(f.path for f in client.list_artifacts(run_id))\n\
         print(json.dumps({'status': r.info.status, 'experiment': exp, 'metrics': r.data.metrics, \
         'params': r.data.params, 'files': files}))",
    ))
    .unwrap();
    assert_eq!(logged["status"], "FINISHED");
    assert_eq!(logged["experiment"], "credit risk");
    // The logged figures are the report's, to the last bit.
    for (i, sample) in ["training", "holdout"].iter().enumerate() {
        for figure in ["gini", "ks", "auc"] {
            assert_eq!(
                logged["metrics"][format!("{sample}.{figure}")],
                report["samples"][i][figure],
                "{sample}.{figure}"
            );
        }
    }
    for v in report["selected"].as_array().unwrap() {
        let v = v.as_str().unwrap();
        let iv = report["iv"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == v)
            .unwrap();
        assert_eq!(logged["metrics"][format!("iv.{v}")], iv[1], "iv of {v}");
    }
    assert_eq!(logged["params"]["target"], "default_flag");
    assert_eq!(logged["params"]["holdout.share"], "0.25");
    assert_eq!(
        logged["params"]["selected"],
        report["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(",")
    );
    let files: Vec<&str> = logged["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in [
        "report.html",
        "report.json",
        "scorecard.json",
        "scorecard.sql",
    ] {
        assert!(files.contains(&f), "{files:?}");
    }
    assert!(!files.iter().any(|f| f.ends_with(".parquet")), "{files:?}");
    // The uploaded card is the file written.
    let card = server.python(
        run_id,
        "import pathlib\np = client.download_artifacts(run_id, 'scorecard.json')\n\
         print(pathlib.Path(p).read_text(), end='')",
    );
    assert_eq!(
        card,
        std::fs::read_to_string(dir.path().join("card/scorecard.json")).unwrap()
    );
}

/// An unreachable server does not cost the run: its artifacts are written,
/// it succeeds, and the failure is said once, with no credentials in it.
#[test]
fn an_unreachable_mlflow_server_is_reported_once_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    sample_panel(dir.path(), 600);
    let port = free_ports(1);
    for (i, url) in [
        format!("http://user:hunter2@127.0.0.1:{port}"),
        "ftp://127.0.0.1/mlflow".to_string(),
    ]
    .iter()
    .enumerate()
    {
        let file = pipeline(dir.path(), &format!("card{i}"));
        let (code, stdout, err) = run(scorelake()
            .args(["--set", &format!("observability.mlflow_url={url}")])
            .args(["run", p(&file)]));
        assert_eq!(code, 0, "{err}");
        assert!(stdout.contains("artifacts in"), "{stdout}");
        assert_eq!(err.matches("not logged to MLflow").count(), 1, "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let expected = ["cannot connect", "expected an http:// or https:// URL"][i];
        assert!(err.contains(expected), "{err}");
        assert!(dir.path().join(format!("card{i}/scorecard.json")).is_file());
    }
}
