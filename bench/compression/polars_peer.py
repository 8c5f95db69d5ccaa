"""W5 in Polars: `SRC OUT` (see run.py)."""
import polars as pl

from shared import BINNED, QUANTILES, SEGMENTS, TARGET, args, edges

SRC, OUT = args()
t = pl.scan_parquet(SRC)
# Every column's deciles with one quantile call (one sort per column).
row = t.select([pl.col(c).cast(pl.Float64).quantile(QUANTILES, "linear").alias(c) for c in BINNED]).collect().row(0, named=True)
cut = {c: edges(row[c]) for c in BINNED}
bins = []
for c in BINNED:
    x = pl.col(c).cast(pl.Float64)
    b = pl.sum_horizontal([(x > e).cast(pl.Int32) for e in cut[c]]) + 1
    bins.append(pl.when(x.is_null()).then(0).otherwise(b).alias(f"{c}_bin"))
keys = [f"{c}_bin" for c in BINNED] + SEGMENTS
out = (t.select([*bins, *SEGMENTS, pl.col(TARGET)]).group_by(keys)
       .agg(pl.len().cast(pl.Float64).alias("sample_weight"), pl.col(TARGET).sum().cast(pl.Float64).alias("event_weight"))
       .with_columns((pl.col("event_weight") / pl.col("sample_weight")).alias("event_rate")))
out.sink_parquet(OUT)
