"""The Python package against the command line, on the same data, in one run.

Run from the repository root (bench/setup.sh installs the package, built in
release mode, into bench/.venv):
    bash bench/setup.sh && bench/.venv/bin/python bench/python/run.py

W1 (bench/temporal_features/recipes.yaml) from Python on a Parquet URL and on
a pandas DataFrame, against `scorelake features` on the same file; then the
W1 output (4.6M rows at 200k customers) read into pyarrow, pandas and Polars,
with each process's peak memory against the result's Arrow bytes.
Environment: BENCH_CUSTOMERS (default 200000), BENCH_RUNS (default 3).
"""
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, measure, panel, require_cli, write_section  # noqa: E402

HERE = ROOT / "bench" / "python"
RECIPES = ROOT / "bench" / "temporal_features" / "recipes.yaml"
PY = sys.executable
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
MIB = 2**20


def job(name, *args):
    """Wall seconds, peak RSS and the job's own timings."""
    with tempfile.NamedTemporaryFile(suffix=".json") as timings:
        wall, peak = measure([PY, str(HERE / "job.py"), name, *map(str, args), timings.name])
        return wall, peak, json.loads(Path(timings.name).read_text())


def main():
    require_cli()
    src = panel(CUSTOMERS)
    out = DATA / "python"
    out.mkdir(parents=True, exist_ok=True)
    cli_out = out / "w1_cli.parquet"
    baseline = job("idle")[1]
    runs = {"cli": [], "python-url": [], "python-pandas": []}
    for i in range(RUNS):
        cmd = [str(BIN), "--progress", "never", "features", "--recipes", str(RECIPES), "--input", str(src),
               "--output", str(cli_out), "--overwrite", "--compression", "zstd:1"]
        wall, peak = measure(cmd)
        runs["cli"].append((wall, peak, {}))
        runs["python-url"].append(job("w1-url", src, RECIPES, out / "w1_url.parquet"))
        runs["python-pandas"].append(job("w1-pandas", src, RECIPES, out / "w1_pandas.parquet"))
        for tool, rs in runs.items():
            w, p, t = rs[-1]
            inner = f"  (ScoreLake part {t['scorelake_s']:.2f}s)" if "scorelake_s" in t else ""
            print(f"run {i + 1} {tool:14s} {w:6.2f}s  peak {p / MIB:6.0f} MiB{inner}", flush=True)
    conversions = {name: [job(name, cli_out) for _ in range(RUNS)] for name in ["to-arrow", "to-pandas", "to-polars"]}
    arrow_bytes = conversions["to-arrow"][0][2]["arrow_bytes"]
    report(src, runs, conversions, arrow_bytes, baseline)


def med(values):
    return statistics.median(values)


def report(src, runs, conversions, arrow_bytes, baseline):
    cli = med(w for w, _, _ in runs["cli"])
    lines = [
        "<!-- python:start -->",
        "## Python package vs the command line",
        "",
        f"`bench/python/run.py`: {CUSTOMERS:,} customers ({src.stat().st_size / MIB:.0f} MiB Parquet), "
        f"{RUNS} interleaved runs, medians; the package built in release mode.",
        "",
        "| W1 | median s (whole process) | ScoreLake part s | of which input to a table s | vs CLI | peak RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for tool, rs in runs.items():
        wall = med(w for w, _, _ in rs)
        inner = [t["scorelake_s"] for _, _, t in rs if "scorelake_s" in t]
        part = med(inner) if inner else wall
        ratio = part / cli
        imports = [t["input_s"] for _, _, t in rs if "input_s" in t]
        taken = f"{med(imports):.2f}" if imports else "–"
        peak = max(p for _, p, _ in rs) / MIB
        lines.append(f"| {tool} | {wall:.2f} | {part:.2f} | {taken} | {ratio:.3f}× | {peak:.0f} |")
    pandas_read = med(t["pandas_read_s"] for _, _, t in runs["python-pandas"])
    lines += [
        "",
        f"The pandas run reads the panel with `pd.read_parquet` first ({pandas_read:.2f} s, not in the "
        "ScoreLake part); the ScoreLake part of each Python run is `sl.table` to the committed write, "
        "and its input column the `sl.table` call alone (for pandas: the DataFrame's own Arrow export).",
        "",
        f"| W1 output ({arrow_bytes / MIB:.0f} MiB of Arrow data) to | median s | peak RSS MiB | peak ÷ Arrow bytes |",
        "|---|---|---|---|",
    ]
    for name, rs in conversions.items():
        peak = max(p for _, p, _ in rs)
        lines.append(f"| {name[3:]} | {med(t['convert_s'] for _, _, t in rs):.2f} | {peak / MIB:.0f} | {peak / arrow_bytes:.2f} |")
    lines += [
        "",
        f"An idle interpreter with the package imported holds about {baseline / MIB:.0f} MiB.",
        "<!-- python:end -->",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    write_section("python", section)


if __name__ == "__main__":
    main()
