"""W4 in Polars: `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
import datetime

import polars as pl

from shared import BINNINGS, QUANTILES, args, psi_of, save, width_edges

TASK, SRC, OUT, COLS, BASE_END = args()
t = pl.scan_parquet(SRC)


def v(c):
    """The value as a double, NaN read as missing."""
    return pl.col(c).cast(pl.Float64).fill_nan(None)


def validate():
    exprs = [pl.len().alias("rows")]
    for c in COLS:
        x = v(c)
        exprs += [x.count().alias(f"{c}|n"), x.drop_nulls().n_unique().alias(f"{c}|u"), x.min().alias(f"{c}|min"),
                  x.max().alias(f"{c}|max"), x.mean().alias(f"{c}|mean"), x.std(ddof=1).alias(f"{c}|std"),
                  x.quantile(0.01, "linear").alias(f"{c}|p01"), x.quantile(0.99, "linear").alias(f"{c}|p99")]
    row = t.select(exprs).collect().row(0, named=True)
    out = {}
    for c in COLS:
        m = {k: row[f"{c}|{k}"] for k in ["min", "max", "mean", "std", "p01", "p99"]}
        m["missing_rate"] = 1 - row[f"{c}|n"] / row["rows"]
        m["unique_count"] = row[f"{c}|u"]
        out[c] = m
    return out


def psi():
    """Both binnings: one pass over the baseline for every column's deciles
    (one quantile call per column) and range, one grouped count of both
    binnings' bins."""
    cur = pl.col("month") > datetime.date.fromisoformat(BASE_END)
    stats = t.filter(~cur).select(
        [e for c in COLS for e in (v(c).quantile(QUANTILES, "linear").alias(f"{c}|q"),
                                   v(c).min().alias(f"{c}|lo"), v(c).max().alias(f"{c}|hi"))]
    ).collect().row(0, named=True)
    edges = {}
    for c in COLS:
        edges[f"{c}|quantile"] = sorted(set(stats[f"{c}|q"]))
        edges[f"{c}|equal_width"] = width_edges(stats[f"{c}|lo"], stats[f"{c}|hi"])
    bins = []
    for key, e in edges.items():
        x = v(key.split("|")[0])
        # 1 + number of edges below the value: right-closed bins; null → 0.
        b = pl.sum_horizontal([(x > edge).cast(pl.Int32) for edge in e]) + 1
        bins.append(pl.when(x.is_null()).then(0).otherwise(b).alias(key))
    counts = t.select([cur.alias("cur"), *bins]).group_by(["cur", *edges]).len().collect()
    out = {}
    for key, e in edges.items():
        tally = {False: {}, True: {}}
        for r in counts.iter_rows(named=True):
            tally[r["cur"]][r[key]] = tally[r["cur"]].get(r[key], 0) + r["len"]
        out[key] = {"psi": psi_of(tally[False], tally[True], len(e) + 1)}
    assert {k.split("|")[1] for k in out} == set(BINNINGS)
    return out


save(OUT, validate() if TASK == "validate" else psi())
