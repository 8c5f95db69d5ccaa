//! The `scorelake` binary end to end: flags, exit codes, outputs, errors.

mod browser;
mod cli;
mod cluster;
mod delta;
mod docs;
mod faults;
mod metrics;
mod mlflow;
mod modelling;
mod partitions;
#[path = "../../../scorelake/tests/it/ports.rs"]
mod ports;
mod quality;
mod tables;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// `scorelake sql QUERY --table NAME=LOCATION…`, which must succeed: its output.
fn sql(query: &str, tables: &[(&str, &str)]) -> String {
    let mut cmd = scorelake();
    cmd.args(["sql", query]);
    for (name, location) in tables {
        cmd.arg("--table").arg(format!("{name}={location}"));
    }
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{query}: {err}");
    out
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

/// `scorelake sample` of `customers` customers and the `extra` flags into
/// `dir/panel.parquet`: the panel's path and the command's output.
fn sample_panel_with(dir: &Path, customers: u64, extra: &[&str]) -> (PathBuf, String) {
    let panel = dir.join("panel.parquet");
    let customers = customers.to_string();
    let (code, out, err) = run(scorelake()
        .args(["sample", "--customers", &customers, "--out", p(&panel)])
        .args(extra));
    assert_eq!(code, 0, "{err}");
    (panel, out)
}

/// A sample panel of `customers` customers in `dir/panel.parquet`.
fn sample_panel(dir: &Path, customers: u64) -> PathBuf {
    sample_panel_with(dir, customers, &[]).0
}
