"""W5 in DuckDB: `SRC OUT` (see run.py)."""
import duckdb

from shared import BINNED, QUANTILES, SEGMENTS, TARGET, args, edges

SRC, OUT = args()
con = duckdb.connect()
con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{SRC}')")
qs = [f"quantile_cont({c}::DOUBLE, {QUANTILES})" for c in BINNED]
cut = [edges(e) for e in con.execute(f"SELECT {', '.join(qs)} FROM t").fetchone()]
bins = []
for c, e in zip(BINNED, cut):
    case = " ".join(f"WHEN {c} <= {b!r} THEN {j + 1}" for j, b in enumerate(e))
    bins.append(f"CASE WHEN {c} IS NULL THEN 0 {case} ELSE {len(e) + 1} END AS {c}_bin")
keys = [f"{c}_bin" for c in BINNED] + SEGMENTS
con.execute(
    f"COPY (SELECT {', '.join(keys)}, count(*)::DOUBLE AS sample_weight, sum({TARGET})::DOUBLE AS event_weight, "
    f"sum({TARGET})::DOUBLE / count(*) AS event_rate FROM (SELECT {', '.join(bins)}, {', '.join(SEGMENTS)}, {TARGET} FROM t) "
    f"GROUP BY ALL) TO '{OUT}' (FORMAT parquet)")
