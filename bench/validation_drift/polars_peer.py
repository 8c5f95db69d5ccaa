"""W4 in Polars: `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
import datetime

import polars as pl

from shared import QUANTILES, args, psi_of, save

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
    cur = pl.col("month") > datetime.date.fromisoformat(BASE_END)
    base = t.filter(~cur)
    row = base.select([v(c).quantile(q, "linear").alias(f"{c}|{q}") for c in COLS for q in QUANTILES]).collect().row(0, named=True)
    edges = {c: sorted({row[f"{c}|{q}"] for q in QUANTILES}) for c in COLS}
    bins = []
    for c in COLS:
        x = v(c)
        # 1 + number of edges below the value: right-closed bins; null → 0.
        b = pl.sum_horizontal([(x > e).cast(pl.Int32) for e in edges[c]]) + 1
        bins.append(pl.when(x.is_null()).then(0).otherwise(b).alias(c))
    counts = t.select([cur.alias("cur"), *bins]).group_by(["cur", *COLS]).len().collect()
    out = {}
    for c in COLS:
        tally = {False: {}, True: {}}
        for r in counts.iter_rows(named=True):
            tally[r["cur"]][r[c]] = tally[r["cur"]].get(r[c], 0) + r["len"]
        out[c] = {"psi": psi_of(tally[False], tally[True], len(edges[c]) + 1)}
    return out


save(OUT, validate() if TASK == "validate" else psi())
