"""Workload W4 side by side: validation of every numeric column and PSI of
balance/utilization/payment (months 1–12 against 13–24) on the W1 output,
in ScoreLake, DuckDB, Polars and PySpark.

Run from the repository root:
    bash bench/setup.sh && bench/.venv/bin/python bench/validation_drift/run.py

Environment: BENCH_PYSPARK_RUNS (default BENCH_RUNS), BENCH_CUSTOMERS (default 200000), BENCH_RUNS (default 3),
BENCH_TOOLS (default scorelake,duckdb,polars,pyspark), BENCH_TASKS
(default validate,psi). The W1 output is computed once by ScoreLake. Each
run's wall time and peak RSS (the whole process tree) are recorded; every
peer's metrics are compared with ScoreLake's before any figure is reported.
"""
import json
import os
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pyarrow.types as pat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, measure, panel, record, require_cli, results_table, write_section  # noqa: E402

HERE = ROOT / "bench" / "validation_drift"
PY = sys.executable
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TOOLS = os.environ.get("BENCH_TOOLS", "scorelake,duckdb,polars,pyspark").split(",")
# PySpark's runs take minutes each: fewer of them when BENCH_PYSPARK_RUNS says so.
RUNS_OF = {t: int(os.environ.get("BENCH_PYSPARK_RUNS", RUNS)) if t == "pyspark" else RUNS for t in TOOLS}
TASKS = os.environ.get("BENCH_TASKS", "validate,psi").split(",")
PSI_COLUMNS = ["balance", "utilization", "payment"]


def features(customers):
    """The W1 output (33 columns) at `customers` customers, computed once."""
    path = DATA / "validation_drift" / f"features_{customers}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        src = panel(customers)
        measure([str(BIN), "--progress", "never", "features", "--recipes", str(ROOT / "bench" / "temporal_features" / "recipes.yaml"),
                 "--input", str(src), "--output", str(path), "--compression", "zstd:1"])
    return path


def command(tool, task, src, dst, cols, months):
    base, cur = months[:12], months[12:24]
    if tool == "scorelake":
        if task == "validate":
            return [str(BIN), "--progress", "never", "validate", "--input", str(src), "--columns", ",".join(cols),
                    "--report", str(dst)]
        return [str(BIN), "--progress", "never", "drift", "--input", str(src), "--period-col", "month",
                "--baseline-periods", ",".join(base), "--current-periods", ",".join(cur),
                "--columns", ",".join(cols), "--binning", "quantile,equal-width", "--fail-on", "never",
                "--report", str(dst)]
    return [PY, str(HERE / f"{tool}_peer.py"), task, str(src), str(dst), ",".join(cols), base[-1]]


def scorelake_result(task, path):
    report = json.loads(Path(path).read_text())
    if task == "validate":
        return {c["column"]: c["metrics"] for c in report["columns"]}
    return {f'{c["column"]}|{c["binning"]}': {"psi": c["value"]} for c in report["columns"]}


def compare(reference, other):
    """Every metric equal to 1e-6 relative (unique counts exactly)."""
    bad = []
    for col, metrics in reference.items():
        for name, want in metrics.items():
            if name == "zero_variance":
                continue
            got = other.get(col, {}).get(name)
            if want is None or got is None:
                if want != got:
                    bad.append(f"{col}.{name}: {got} vs {want}")
                continue
            tol = 0 if name == "unique_count" else 1e-6 * max(abs(want), abs(got), 1.0)
            if abs(got - want) > tol:
                bad.append(f"{col}.{name}: {got} vs {want}")
    return bad


def main():
    require_cli()
    src = features(CUSTOMERS)
    schema = pq.read_schema(src)
    numeric = [f.name for f in schema if pat.is_integer(f.type) or pat.is_floating(f.type)]
    months = sorted({str(m) for m in pq.read_table(src, columns=["month"]).column("month").unique().to_pylist()})
    rows = pq.ParquetFile(src).metadata.num_rows
    out = DATA / "validation_drift" / "out"
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    for task in TASKS:
        cols = numeric if task == "validate" else PSI_COLUMNS
        results = {t: [] for t in TOOLS}
        failed = {}
        for run in range(RUNS):
            for tool in [t for t in TOOLS if run < RUNS_OF[t] and t not in failed]:
                dst = out / f"{task}_{tool}.json"
                record(command(tool, task, src, dst, cols, months), tool, f"{task} run {run + 1}", results, failed,
                       ok=(0, 3))
        reference = scorelake_result(task, out / f"{task}_scorelake.json")
        checks = {}
        for tool in TOOLS:
            if tool != "scorelake" and tool not in failed:
                checks[tool] = compare(reference, json.loads((out / f"{task}_{tool}.json").read_text()))
                print(f"{task} {tool}: {'same results' if not checks[tool] else checks[tool][:5]}")
        sections.append(table(task, cols, results, checks, failed))
    section = "\n".join([
        "<!-- w4:start -->",
        f"## W4: validation and PSI ({time.strftime('%Y-%m-%d')}, 2 cores, one run of `bench/validation_drift/run.py`)",
        "",
        f"The W1 output at {CUSTOMERS:,} customers ({rows:,} rows, 33 columns, Parquet zstd 1). "
        f"{RUNS} runs per tool ({RUNS_OF.get('pyspark', RUNS)} for PySpark), interleaved; median wall time of the whole command (start-up, reading, "
        "computing, writing a small JSON report); peak RSS of the process tree.",
        "",
        *sections,
        "<!-- w4:end -->",
    ]) + "\n"
    write_section("w4", section)
    print(section)


def table(task, cols, results, checks, failed):
    title = {
        "validate": f"**Validation** of all {len(cols)} numeric columns: missing rate, exact unique count, min, max, "
                    "mean, std, exact p01/p99 (numpy's linear definition), NaN read as missing.",
        "psi": "**PSI** of " + ", ".join(cols) + " with two binnings in one run: 10 exact quantile bins and 10 "
               "equal-width bins over the range of months 1–12 (right-closed, nulls their own bin, empty shares "
               "floored at 1e-4), against months 13–24. Each peer computes every column's deciles with one "
               "quantile call and the counts of both binnings in one grouped pass.",
    }[task]
    lines = [title, "", *results_table(list(results), results, checks, failed)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
