"""W4 in DuckDB: `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
import duckdb

from shared import BINNINGS, QUANTILES, args, psi_of, save, width_edges

TASK, SRC, OUT, COLS, BASE_END = args()
con = duckdb.connect()
con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{SRC}')")


def v(c):
    """The value as a double, NaN read as missing."""
    return f"(CASE WHEN isnan(\"{c}\"::DOUBLE) THEN NULL ELSE \"{c}\"::DOUBLE END)"


def validate():
    aggs = ["count(*)"]
    for c in COLS:
        x = v(c)
        aggs += [f"count({x})", f"count(DISTINCT {x})", f"min({x})", f"max({x})", f"avg({x})",
                 f"stddev_samp({x})", f"quantile_cont({x}, [0.01, 0.99])"]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM t").fetchone()
    rows, out = row[0], {}
    for i, c in enumerate(COLS):
        n, u, lo, hi, mean, std, q = row[1 + 7 * i: 8 + 7 * i]
        out[c] = {"missing_rate": 1 - n / rows, "unique_count": u, "min": lo, "max": hi, "mean": mean,
                  "std": std, "p01": q[0] if q else None, "p99": q[1] if q else None}
    return out


def psi():
    """Both binnings: one query for every column's deciles and range on the
    baseline, one grouped count of both binnings' bins."""
    side = f"(month > DATE '{BASE_END}')"
    stats = []
    for c in COLS:
        stats += [f"quantile_cont({v(c)}, {QUANTILES}) FILTER (WHERE NOT {side})",
                  f"min({v(c)}) FILTER (WHERE NOT {side})", f"max({v(c)}) FILTER (WHERE NOT {side})"]
    row = con.execute(f"SELECT {', '.join(stats)} FROM t").fetchone()
    edges = {}
    for i, c in enumerate(COLS):
        q, lo, hi = row[3 * i: 3 * i + 3]
        edges[f"{c}|quantile"] = sorted(set(q))
        edges[f"{c}|equal_width"] = width_edges(lo, hi)
    bins = []
    for i, (key, e) in enumerate(edges.items()):
        x = v(key.split("|")[0])
        case = " ".join(f"WHEN {x} <= {b!r} THEN {j + 1}" for j, b in enumerate(e))
        bins.append(f"CASE WHEN {x} IS NULL THEN 0 {case} ELSE {len(e) + 1} END AS b{i}")
    counts = con.execute(
        f"SELECT {side} AS cur, {', '.join(f'b{i}' for i in range(len(edges)))}, count(*) "
        f"FROM (SELECT month, {', '.join(bins)} FROM t) GROUP BY ALL").fetchall()
    out = {}
    for i, (key, e) in enumerate(edges.items()):
        tally = {False: {}, True: {}}
        for r in counts:
            tally[r[0]][r[1 + i]] = tally[r[0]].get(r[1 + i], 0) + r[-1]
        out[key] = {"psi": psi_of(tally[False], tally[True], len(e) + 1)}
    assert {k.split("|")[1] for k in out} == set(BINNINGS)
    return out


save(OUT, validate() if TASK == "validate" else psi())
