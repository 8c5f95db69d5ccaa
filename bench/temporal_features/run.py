"""Workload W1 side by side: ScoreLake, DuckDB, Polars, PySpark on the same panel.

Run from the repository root (see bench/README.md):
    bash bench/setup.sh && bench/.venv/bin/python bench/temporal_features/run.py

Environment: BENCH_CUSTOMERS (default 200000), BENCH_RUNS (default 3),
BENCH_TOOLS (default scorelake,scorelake-metrics,scorelake-sort,scorelake-512m,limit,duckdb,polars,pyspark), BENCH_SPILL_CUSTOMERS
(default 500000; 0 skips the memory-limited run), BENCH_LIMIT (the hand-written W1
kernel of ../shared/limit, built as its README says; default
../limit-build/target/release/limit; the `limit` tool is left out when it is missing).
Each run's wall time and peak RSS (the whole process tree, sampled every
20 ms) are recorded; outputs are compared column by column with ScoreLake's
before any figure is reported.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, measure, medians, panel, require_cli, write_section  # noqa: E402

HERE = ROOT / "bench" / "temporal_features"
PY = sys.executable
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
LIMIT = Path(os.environ.get("BENCH_LIMIT", ROOT.parent / "limit-build" / "target" / "release" / "limit"))
TOOLS = os.environ.get("BENCH_TOOLS", "scorelake,scorelake-metrics,scorelake-sort,scorelake-512m,limit,duckdb,polars,pyspark").split(",")
if "limit" in TOOLS and not LIMIT.exists():
    print(f"no limit kernel at {LIMIT}: build ../shared/limit as its README says to compare with it")
    TOOLS.remove("limit")
# ScoreLake with a memory limit: the sort spills, for a fraction of the memory.
LIMITED = ["--memory-limit", "512m"]
# Rows per row group of ScoreLake's Parquet outputs (io.row_group_size); the
# limit kernel writes the same layout.
ROW_GROUP_ROWS = "262144"
# ScoreLake ignoring the panel's declared (customer_id, month) order: it sorts.
SORT = ["--set", "engine.use_input_order=false"]
SPILL_CUSTOMERS = int(os.environ.get("BENCH_SPILL_CUSTOMERS", "500000"))
FEATURES = [
    f"{c}_{m}"
    for c in ["balance", "utilization", "payment"]
    for m in ["delta", "pct_change", "momentum_3", "volatility_6", "trend_slope_6", "rolling_rank_6", "minmax_range_6"]
]
# The limit kernel names its features without the window.
LIMIT_NAMES = {f.rsplit("_", 1)[0]: f for f in FEATURES if f[-1].isdigit()}


def command(tool, src, dst):
    if tool.startswith("scorelake"):
        # scorelake-metrics: the same run writing its run record (the cost of recording).
        metrics = ["--metrics", str(Path(dst).with_suffix(".json"))]
        flags = {"scorelake-512m": LIMITED, "scorelake-sort": SORT, "scorelake-metrics": metrics}.get(tool, [])
        return [str(BIN), "--progress", "never", *flags, "features", "--recipes", str(HERE / "recipes.yaml"),
                "--input", str(src), "--output", str(dst), "--overwrite", "--compression", "zstd:1"]
    if tool == "limit":
        return [str(LIMIT), "--input", str(src), "--output", str(dst), "--zstd-level", "1",
                "--row-group-rows", ROW_GROUP_ROWS]
    return [PY, str(HERE / f"{tool}_peer.py"), str(src), str(dst)]


def load(path):
    path = Path(path)
    source = str(path / "*.parquet") if path.is_dir() else str(path)
    df = pl.read_parquet(source).sort(["customer_id", "month"])
    return df.rename({k: v for k, v in LIMIT_NAMES.items() if k in df.columns})


def compare(reference, other, tool):
    """Every feature equal: missing in the same rows, values to 1e-6 relative."""
    if reference.height != other.height:
        return [f"{other.height} rows, expected {reference.height}"]
    bad = []
    for f in FEATURES:
        a = reference[f].cast(pl.Float64).to_numpy()
        b = other[f].cast(pl.Float64).to_numpy()
        na, nb = np.isnan(a), np.isnan(b)
        both = ~na & ~nb
        scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0)
        diff = (np.abs(np.where(both, a - b, 0.0)) > 1e-6 * scale) & both
        mismatched = int((na != nb).sum() + diff.sum())
        if mismatched:
            bad.append(f"{f}: {mismatched} rows differ")
    return bad


def main():
    require_cli()
    src = panel(CUSTOMERS)
    rows = pl.scan_parquet(src).select(pl.len()).collect().item()
    out = DATA / "temporal_features" / "out"
    out.mkdir(parents=True, exist_ok=True)
    results = {t: [] for t in TOOLS}
    for run in range(RUNS):
        for tool in TOOLS:
            dst = out / f"{tool}.parquet"
            wall, peak = measure(command(tool, src, dst))
            results[tool].append((wall, peak))
            print(f"run {run + 1} {tool:10s} {wall:7.2f}s  peak {peak / 2**20:7.0f} MiB", flush=True)
    reference = load(out / "scorelake.parquet")
    checks = {}
    for tool in TOOLS:
        if tool != "scorelake":
            checks[tool] = compare(reference, load(out / f"{tool}.parquet"), tool)
            print(f"{tool}: {'same results' if not checks[tool] else checks[tool]}")
    spill = None
    if SPILL_CUSTOMERS and "scorelake" in TOOLS:
        big = panel(SPILL_CUSTOMERS)
        big_rows = pl.scan_parquet(big).select(pl.len()).collect().item()
        cmd = [str(BIN), "--memory-limit", "1g"] + command("scorelake", big, out / "spill.parquet")[1:]
        wall, peak = measure(cmd)
        spill = (big_rows, wall, peak)
        print(f"{SPILL_CUSTOMERS} customers with --memory-limit 1g: {wall:.2f}s, peak {peak / 2**20:.0f} MiB")
    report(rows, results, checks, spill)


def report(rows, results, checks, spill):
    med, peak = medians(results)
    lines = [
        "<!-- w1:start -->",
        f"## W1: 21 temporal features ({time.strftime('%Y-%m-%d')}, 2 cores, one run of `bench/temporal_features/run.py`)",
        "",
        f"Sample panel at {CUSTOMERS:,} customers ({rows:,} rows), Parquet in → 33-column Parquet (zstd level 1) out; "
        f"{RUNS} runs per tool, interleaved; median wall time; peak RSS of the whole process tree.",
        "",
        "| tool | median s | runs (s) | peak RSS MiB | time vs ScoreLake | results |",
        "|---|---|---|---|---|---|",
    ]
    base = med.get("scorelake")
    for t in results:
        runs = ", ".join(f"{w:.2f}" for w, _ in results[t])
        ratio = f"{med[t] / base:.2f}×" if base else "–"
        same = "reference" if t == "scorelake" else ("same" if not checks.get(t) else "; ".join(checks[t]))
        lines.append(f"| {t} | {med[t]:.2f} | {runs} | {peak[t] / 2**20:.0f} | {ratio} | {same} |")
    if "scorelake-sort" in med:
        lines += ["", "`scorelake-sort` is ScoreLake with `--set engine.use_input_order=false`: it sorts the panel "
                  "instead of using the (customer_id, month) order `scorelake sample` declared in the file."]
    if base and "scorelake-metrics" in med:
        lines += ["", f"`scorelake-metrics` is the same run writing its run record (`--metrics`): "
                  f"{100 * (med['scorelake-metrics'] / base - 1):+.1f}% wall time (target ≤ 3%)."]
    if base and "limit" in med:
        lines += ["", f"ScoreLake ÷ the hand-written limit kernel: {base / med['limit']:.2f}× (target ≤ 1.25×)."]
    if spill:
        r, w, p = spill
        lines += ["", f"ScoreLake at {SPILL_CUSTOMERS:,} customers ({r:,} rows) with `--memory-limit 1g`: "
                  f"completed in {w:.2f}s, peak RSS {p / 2**20:.0f} MiB."]
    lines.append("<!-- w1:end -->")
    section = "\n".join(lines) + "\n"
    write_section("w1", section)
    print(section)


if __name__ == "__main__":
    main()
