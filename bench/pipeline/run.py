"""`scorelake run` with and without the cache of intermediate results, on the
same data, in one run.

Run from the repository root:
    bench/setup.sh && bench/.venv/bin/python bench/pipeline/run.py

The README's scorecard pipeline (examples/scorecard-pipeline.yaml: features
of the development sample, validation, optimal binning of ten candidates,
stepwise selection, compression, logistic fit, evaluation on training,
holdout and out-of-time rows, bin stability) on the sample panel's features
(examples/panel-features.yaml). Every step after the modelling table reads
that table again: with `engine.cache = off` each read decodes
modelling.parquet; by default (`memory-and-disk`) the table is kept in
memory from its second use. The two runs alternate; their reports must be
identical (selected variables, coefficients, Gini of every sample).
Environment: BENCH_CUSTOMERS (default 200000), BENCH_RUNS (default 3).
"""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BIN, DATA, ROOT, measure, panel, require_cli, write_section  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
EXAMPLES = ROOT / "crates" / "scorelake" / "assets"
MIB = 2**20
MODES = {"cache off": ["--set", "engine.cache=off"], "cache on (default)": []}


def features(src, out):
    """The panel's features (generated once)."""
    if not out.exists():
        subprocess.run([str(BIN), "--progress", "never", "features", "--recipes",
                        str(EXAMPLES / "panel-features.yaml"), "--input", str(src), "--output", str(out)], check=True)
    return out


def pipeline_file(folder, table, output):
    """The example pipeline pointed at `table`, writing into `output`."""
    text = (EXAMPLES / "scorecard-pipeline.yaml").read_text()
    text = text.replace("input: ../features.parquet", f"input: {table}")
    text = text.replace("output: ../scorecard", f"output: {output}")
    text = text.replace("features: development-sample.yaml", f"features: {EXAMPLES / 'development-sample.yaml'}")
    path = folder / f"{output.name}.yaml"
    path.write_text(text)
    return path


def outcome(output):
    """What must not depend on the cache: the card and every sample's figures."""
    report = json.loads((output / "report.json").read_text())
    return json.dumps({k: report[k] for k in ("selected", "model", "train", "holdout", "oot", "samples", "iv")},
                      sort_keys=True)


def main():
    require_cli()
    folder = DATA / "pipeline"
    folder.mkdir(parents=True, exist_ok=True)
    table = features(panel(CUSTOMERS), folder / f"features_{CUSTOMERS}.parquet")
    files = {m: pipeline_file(folder, table, folder / f"card_{i}") for i, m in enumerate(MODES)}
    runs = {m: [] for m in MODES}
    outcomes = {}
    for i in range(RUNS):
        for mode, flags in MODES.items():
            output = folder / f"card_{list(MODES).index(mode)}"
            metrics = folder / f"metrics_{list(MODES).index(mode)}.json"
            wall, peak = measure([str(BIN), "--progress", "never", "--metrics", str(metrics), *flags,
                                  "run", str(files[mode])])
            record = json.loads(metrics.read_text())
            steps = dict(json.loads((output / "report.json").read_text())["steps"])
            runs[mode].append((wall, peak, steps, record["cache"]))
            outcomes[mode] = outcome(output)
            print(f"run {i + 1} {mode:18s} {wall:6.2f}s  peak {peak / MIB:6.0f} MiB  "
                  f"cache {record['cache']['hits']} hits", flush=True)
    same = len(set(outcomes.values())) == 1
    report(runs, same)


def report(runs, same):
    med = {m: statistics.median(w for w, *_ in r) for m, r in runs.items()}
    off, on = med["cache off"], med["cache on (default)"]
    lines = [
        "<!-- pipeline:start -->",
        "## `scorelake run`: the cache of intermediate results",
        "",
        f"`bench/.venv/bin/python bench/pipeline/run.py`: the README's scorecard pipeline on the sample panel's "
        f"features at {CUSTOMERS:,} customers, `--set engine.cache=off` against the default, alternating, "
        f"{RUNS} runs each, medians. Reports identical: {'yes' if same else '**no**'}.",
        "",
        "| mode | median s | runs (s) | peak RSS MiB | vs cache off |",
        "|---|---|---|---|---|",
    ]
    for m, r in runs.items():
        lines.append(f"| {m} | {med[m]:.2f} | {', '.join(f'{w:.2f}' for w, *_ in r)} | "
                     f"{max(p for _, p, *_ in r) / MIB:.0f} | {med[m] / off:.2f}× |")
    steps = list(runs["cache off"][0][2])
    lines += ["", "Median seconds per step:", "", "| step | cache off | cache on | ratio |", "|---|---|---|---|"]
    for s in steps:
        a = statistics.median(r[2][s] for r in runs["cache off"])
        b = statistics.median(r[2][s] for r in runs["cache on (default)"])
        lines.append(f"| {s} | {a:.2f} | {b:.2f} | {b / a if a else 0:.2f}× |")
    cache = runs["cache on (default)"][-1][3]
    for e in cache["entries"]:
        lines.append("")
        lines.append(f"Cached: {e['name']}, {e['rows']:,} rows, {e['memory_bytes'] / MIB:.0f} MiB in memory, "
                     f"{e['disk_bytes'] / MIB:.0f} MiB on disk, used {e['uses']} times ({e['hits']} from the cache).")
    lines += ["", f"Saving: {off - on:.2f} s of {off:.2f} s ({(off - on) / off:.0%}).", "<!-- pipeline:end -->", ""]
    section = "\n".join(lines)
    print(section)
    write_section("pipeline", section)
    if not same:
        raise SystemExit("the reports differ between cache off and on")


if __name__ == "__main__":
    main()
