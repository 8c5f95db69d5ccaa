"""W1 in DuckDB: one SQL query with window functions, Parquet in -> Parquet (zstd) out."""
import sys

import duckdb

src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads = 2")

w = "PARTITION BY customer_id ORDER BY month"
exprs = []
for c in ["balance", "utilization", "payment"]:
    lag = f"lag({c}) OVER ({w})"
    greater = " + ".join(
        f"coalesce((lag({c}, {k}) OVER ({w}) > {c})::INT, 0)" for k in range(1, 6)
    )
    exprs += [
        f"{c} - {lag} AS {c}_delta",
        f"CASE WHEN {lag} = 0 THEN NULL ELSE ({c} - {lag}) / {lag} END AS {c}_pct_change",
        f"{c} - avg({c}) OVER ({w} ROWS 2 PRECEDING) AS {c}_momentum_3",
        f"stddev_samp({c}) OVER ({w} ROWS 5 PRECEDING) AS {c}_volatility_6",
        f"regr_slope({c}, pos) OVER ({w} ROWS 5 PRECEDING) AS {c}_trend_slope_6",
        f"CASE WHEN {c} IS NULL THEN NULL ELSE 1 + {greater} END AS {c}_rolling_rank_6",
        f"max({c}) OVER ({w} ROWS 5 PRECEDING) - min({c}) OVER ({w} ROWS 5 PRECEDING) AS {c}_minmax_range_6",
    ]
query = f"""
COPY (
  WITH t AS (SELECT *, row_number() OVER ({w})::DOUBLE AS pos FROM read_parquet('{src}'))
  SELECT * EXCLUDE (pos), {', '.join(exprs)} FROM t
) TO '{dst}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)
"""
con.execute(query)
