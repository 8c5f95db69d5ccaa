"""Workload W5 side by side: decile binning of four columns and compression
by the bins and two segments (see shared.py), in ScoreLake, DuckDB, Polars
and PySpark, on the sample panel.

Run from the repository root:
    bash bench/setup.sh && bench/.venv/bin/python bench/compression/run.py

Environment: BENCH_PYSPARK_RUNS (default BENCH_RUNS), BENCH_CUSTOMERS (default 500000), BENCH_RUNS (default 3),
BENCH_TOOLS (default scorelake,duckdb,polars,pyspark). Each run's wall time
and peak RSS (the whole process tree) are recorded; every peer's compressed
rows are compared with ScoreLake's (same keys, same weights and events)
before any figure is reported.
"""
import os
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, panel, record, require_cli, results_table, write_section  # noqa: E402

HERE = ROOT / "bench" / "compression"
sys.path.insert(0, str(HERE))
from shared import BINNED, SEGMENTS, TARGET  # noqa: E402

PY = sys.executable
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "500000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TOOLS = os.environ.get("BENCH_TOOLS", "scorelake,duckdb,polars,pyspark").split(",")
# PySpark's runs take minutes each: fewer of them when BENCH_PYSPARK_RUNS says so.
RUNS_OF = {t: int(os.environ.get("BENCH_PYSPARK_RUNS", RUNS)) if t == "pyspark" else RUNS for t in TOOLS}
KEYS = [f"{c}_bin" for c in BINNED] + SEGMENTS


def command(tool, src, dst):
    if tool == "scorelake":
        return [str(BIN), "--progress", "never", "compress", "--input", str(src), "--target", TARGET,
                "--bin", ",".join(BINNED), "--method", "quantile", "--bins", "10",
                "--segments", ",".join(SEGMENTS), "--output", str(dst)]
    return [PY, str(HERE / f"{tool}_peer.py"), str(src), str(dst)]


def rows(path):
    """{key tuple: (sample_weight, event_weight)} of a compressed output (file or folder)."""
    t = pq.read_table(path)
    cols = {c: t.column(c).to_pylist() for c in KEYS + ["sample_weight", "event_weight"]}
    return {tuple(cols[c][i] for c in KEYS): (cols["sample_weight"][i], cols["event_weight"][i]) for i in range(t.num_rows)}


def compare(reference, other):
    bad = [f"{k}: {other.get(k)} vs {v}" for k, v in reference.items() if other.get(k) != v]
    bad += [f"{k}: extra" for k in other if k not in reference]
    return bad


def main():
    require_cli()
    src = panel(CUSTOMERS)
    n = pq.ParquetFile(src).metadata.num_rows
    out = DATA / "compression" / "out"
    out.mkdir(parents=True, exist_ok=True)
    results = {t: [] for t in TOOLS}
    failed = {}
    for run in range(RUNS):
        for tool in [t for t in TOOLS if run < RUNS_OF[t] and t not in failed]:
            dst = out / f"{tool}.parquet"
            if dst.exists():
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            record(command(tool, src, dst), tool, f"run {run + 1}", results, failed)
    reference = rows(out / "scorelake.parquet")
    checks = {}
    for tool in TOOLS:
        if tool != "scorelake" and tool not in failed:
            checks[tool] = compare(reference, rows(out / f"{tool}.parquet"))
            print(f"{tool}: {'same rows' if not checks[tool] else checks[tool][:5]}")
    lines = results_table(TOOLS, results, checks, failed)
    section = "\n".join([
        "<!-- w5:start -->",
        f"## W5: decile binning and compression ({time.strftime('%Y-%m-%d')}, 2 cores, one run of `bench/compression/run.py`)",
        "",
        f"Sample panel at {CUSTOMERS:,} customers ({n:,} rows). Bin balance, utilization, payment and credit_limit "
        "into exact deciles (equal edges merged, right-closed, null → 0) and compress by the four bins, product and "
        f"region into {len(reference):,} rows ({n / len(reference):.0f}× fewer) of sample_weight, event_weight and "
        f"event_rate, written as Parquet. {RUNS} runs per tool" + (f" ({RUNS_OF['pyspark']} for PySpark)" if "pyspark" in TOOLS else "") + ", interleaved; median wall time of the whole command; "
        "peak RSS of the process tree. Every peer's rows are checked equal to ScoreLake's (keys, weights, events).",
        "",
        *lines,
        "",
        "<!-- w5:end -->",
    ]) + "\n"
    write_section("w5", section)
    print(section)


if __name__ == "__main__":
    main()
