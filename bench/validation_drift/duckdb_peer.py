"""W4 in DuckDB: `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
import duckdb

from shared import QUANTILES, args, psi_of, save

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
    side = f"(month > DATE '{BASE_END}')"
    qs = [f"quantile_cont({v(c)}, {QUANTILES}) FILTER (WHERE NOT {side})" for c in COLS]
    edges = [sorted(set(e)) for e in con.execute(f"SELECT {', '.join(qs)} FROM t").fetchone()]
    bins = []
    for c, e in zip(COLS, edges):
        x = v(c)
        case = " ".join(f"WHEN {x} <= {b!r} THEN {j + 1}" for j, b in enumerate(e))
        bins.append(f"CASE WHEN {x} IS NULL THEN 0 {case} ELSE {len(e) + 1} END AS b{len(bins)}")
    counts = con.execute(
        f"SELECT {side} AS cur, {', '.join(f'b{i}' for i in range(len(COLS)))}, count(*) "
        f"FROM (SELECT month, {', '.join(bins)} FROM t) GROUP BY ALL").fetchall()
    out = {}
    for i, (c, e) in enumerate(zip(COLS, edges)):
        tally = {False: {}, True: {}}
        for r in counts:
            tally[r[0]][r[1 + i]] = tally[r[0]].get(r[1 + i], 0) + r[-1]
        out[c] = {"psi": psi_of(tally[False], tally[True], len(e) + 1)}
    return out


save(OUT, validate() if TASK == "validate" else psi())
