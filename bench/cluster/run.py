"""W1 (21 temporal features) and W5 (compression) on a loopback Ballista cluster against the embedded engine.

Run from the repository root after `cargo build --release -p scorelake-cli`:
    bash bench/setup.sh && bench/.venv/bin/python bench/cluster/run.py

The cluster is one scheduler and BENCH_EXECUTORS (default 2) executors of
BENCH_TASKS (default 1) tasks each, all on this machine, started here and
stopped at the end. Each workload runs BENCH_RUNS (default 3) times per
engine, interleaved, on the same panel; the cluster's outputs are compared
with the embedded engine's before any figure is reported. Wall time and peak
RSS are the client's (the `scorelake` command); the client's peak RSS is also
measured at a second, smaller panel (BENCH_SMALL_CUSTOMERS) to show that it
does not grow with the data.

Environment: BENCH_CUSTOMERS (default 200000), BENCH_SMALL_CUSTOMERS (default 50000).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, measure, medians, panel, require_cli, write_section  # noqa: E402

sys.path.insert(0, str(ROOT / "bench" / "compression"))
from shared import BINNED, SEGMENTS, TARGET  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
SMALL = int(os.environ.get("BENCH_SMALL_CUSTOMERS", "50000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
EXECUTORS = int(os.environ.get("BENCH_EXECUTORS", "2"))
TASKS = int(os.environ.get("BENCH_TASKS", "1"))
RECIPES = ROOT / "bench" / "temporal_features" / "recipes.yaml"


def free_pair():
    """A port p with p + 1 free too (an executor takes both)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as t:
                t.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue


def start_cluster(work):
    sched = subprocess.Popen([str(BIN), "cluster", "scheduler", "--bind", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = sched.stdout.readline().strip()
    addr = line.removeprefix("scheduler listening on ")
    procs = [sched]
    for i in range(EXECUTORS):
        d = Path(work) / f"executor-{i}"
        d.mkdir()
        procs.append(subprocess.Popen(
            [str(BIN), "cluster", "executor", "--scheduler", addr, "--bind", f"127.0.0.1:{free_pair()}",
             "--concurrent-tasks", str(TASKS), "--work-dir", str(d)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    url = f"df://{addr}"
    for _ in range(300):
        if subprocess.run([str(BIN), "--engine", "ballista", "--set", f"ballista.url={url}", "sql", "SELECT 1"],
                          capture_output=True).returncode == 0:
            time.sleep(1)  # the other executors register within their first heartbeat
            return procs, url
        time.sleep(0.2)
    raise SystemExit("the cluster never answered")


def workloads(src, out):
    return {
        "W1": [str(BIN), "--progress", "never", "features", "--recipes", str(RECIPES), "--input", str(src),
               "--output", str(out / "w1.parquet"), "--overwrite", "--compression", "zstd:1"],
        "W5": [str(BIN), "--progress", "never", "compress", "--input", str(src), "--target", TARGET,
               "--bin", ",".join(BINNED), "--method", "quantile", "--bins", "10",
               "--segments", ",".join(SEGMENTS), "--output", str(out / "w5.parquet"), "--overwrite"],
        "validate": [str(BIN), "--progress", "never", "validate", "--input", str(src),
                     "--report", str(out / "validate.json")],
    }


def on(url, cmd):
    return [cmd[0], "--engine", "ballista", "--set", f"ballista.url={url}", *cmd[1:]]


def same(a, b, keys):
    x = pl.read_parquet(a).sort(keys)
    y = pl.read_parquet(b).sort(keys)
    return x.equals(y)


def main():
    require_cli()
    src, small = panel(CUSTOMERS), panel(SMALL)
    rows = pl.scan_parquet(src).select(pl.len()).collect().item()
    base = DATA / "cluster"
    with tempfile.TemporaryDirectory() as work:
        procs, url = start_cluster(work)
        try:
            results, checks, small_peaks = {}, {}, {}
            for run in range(RUNS):
                for engine in ["embedded", "ballista"]:
                    out = base / engine
                    out.mkdir(parents=True, exist_ok=True)
                    for name, cmd in workloads(src, out).items():
                        cmd = cmd if engine == "embedded" else on(url, cmd)
                        wall, peak = measure(cmd)
                        results.setdefault(f"{name} {engine}", []).append((wall, peak))
                        print(f"run {run + 1} {name:8s} {engine:8s} {wall:7.2f}s  client peak {peak / 2**20:6.0f} MiB",
                              flush=True)
            for name in ["W1", "W5"]:
                keys = ["customer_id", "month"] if name == "W1" else [f"{c}_bin" for c in BINNED] + SEGMENTS
                f = f"{name.lower()}.parquet"
                checks[name] = same(base / "embedded" / f, base / "ballista" / f, keys)
            out = base / "small"
            out.mkdir(parents=True, exist_ok=True)
            for name, cmd in workloads(small, out).items():
                small_peaks[name] = measure(on(url, cmd))[1]
        finally:
            for p in procs:
                p.kill()
                p.wait()
    report(rows, results, checks, small_peaks)


def report(rows, results, checks, small_peaks):
    med, peak = medians(results)
    lines = [
        "<!-- cluster:start -->",
        f"## Loopback Ballista cluster vs embedded ({time.strftime('%Y-%m-%d')}, 2 cores, one run of `bench/cluster/run.py`)",
        "",
        f"Sample panel at {CUSTOMERS:,} customers ({rows:,} rows). Cluster: one scheduler and {EXECUTORS} executors of "
        f"{TASKS} task(s) each on the same 2 cores. {RUNS} runs per engine, interleaved; median wall time of the "
        "client command; peak RSS of the client process (the cluster's processes not included).",
        "",
        "| workload | embedded s | cluster s | cluster / embedded | embedded peak MiB | client peak MiB "
        f"| client peak at {SMALL:,} customers | same results |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ["W1", "W5", "validate"]:
        e, b = f"{name} embedded", f"{name} ballista"
        verdict = {True: "same rows", False: "DIFFERENT"}.get(checks.get(name), "reports compared in the tests")
        lines.append(f"| {name} | {med[e]:.2f} | {med[b]:.2f} | {med[b] / med[e]:.2f}× | {peak[e] / 2**20:.0f} | "
                     f"{peak[b] / 2**20:.0f} | {small_peaks[name] / 2**20:.0f} | {verdict} |")
    lines.append("<!-- cluster:end -->")
    section = "\n".join(lines) + "\n"
    write_section("cluster", section)
    print(section)


if __name__ == "__main__":
    main()
