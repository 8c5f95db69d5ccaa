"""What every benchmark runner shares: paths, the release CLI, the sample
panel, and measuring a command's wall time and peak memory."""
import os
import statistics
import subprocess
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "scorelake"
DATA = ROOT / "bench" / "data"


def require_cli():
    if not BIN.exists():
        raise SystemExit("build the CLI first: cargo build --release -p scorelake-cli")


def measure(cmd, env=None, ok=(0,)):
    """Wall seconds and peak RSS (bytes) of the whole process tree; exit codes
    outside `ok` stop the benchmark."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [root] + root.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return wall, peak


def record(cmd, tool, label, results, failed, ok=(0,)):
    """Measures one run of `tool` into `results[tool]`; a peer that cannot
    finish (e.g. out of memory) goes into `failed` with its last error line
    instead of stopping the benchmark."""
    try:
        wall, peak = measure(cmd, ok=ok)
    except SystemExit as e:
        lines = [line.strip() for line in str(e).splitlines() if "Error" in line or "error" in line]
        failed[tool] = (lines[-1] if lines else str(e).splitlines()[0])[:160]
        print(f"{label} {tool:10s} failed: {failed[tool]}", flush=True)
        return
    results[tool].append((wall, peak))
    print(f"{label} {tool:10s} {wall:7.2f}s  peak {peak / 2**20:7.0f} MiB", flush=True)


def results_table(tools, results, checks, failed):
    """Markdown rows per tool: median, runs, peak RSS, time against ScoreLake,
    and whether its results equal ScoreLake's (or why it did not finish)."""
    med, peak = medians({t: r for t, r in results.items() if r})
    base = med.get("scorelake")
    lines = ["| tool | median s | runs (s) | peak RSS MiB | time vs ScoreLake | results |", "|---|---|---|---|---|---|"]
    for t in tools:
        if t in failed:
            lines.append(f"| {t} | – | failed | – | – | did not finish: `{failed[t]}` |")
            continue
        runs = ", ".join(f"{w:.2f}" for w, _ in results[t])
        ratio = f"{med[t] / base:.2f}×" if base else "–"
        same = "reference" if t == "scorelake" else ("same" if not checks.get(t) else "; ".join(checks[t][:3]))
        lines.append(f"| {t} | {med[t]:.2f} | {runs} | {peak[t] / 2**20:.0f} | {ratio} | {same} |")
    return lines


def panel(customers):
    """The sample panel at `customers` customers (generated once)."""
    path = DATA / "panel" / f"panel_{customers}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(BIN), "--progress", "never", "sample", "--customers", str(customers), "--out", str(path)], check=True)
    return path


def medians(results):
    """Per tool: median wall seconds and the largest peak RSS of its runs."""
    return ({t: statistics.median(w for w, _ in r) for t, r in results.items()},
            {t: max(p for _, p in r) for t, r in results.items()})


def write_section(name, section):
    """Replaces (or appends) the `<!-- name:start -->…<!-- name:end -->` part of RESULTS.md."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->\n"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[-1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
