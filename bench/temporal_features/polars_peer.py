"""W1 in Polars: lazy scan, rolling expressions over customer_id, sink to Parquet (zstd)."""
import sys

import polars as pl

src, dst = sys.argv[1], sys.argv[2]
g = "customer_id"
exprs = []
for c in ["balance", "utilization", "payment"]:
    x = pl.col(c)
    lag = x.shift(1).over(g)
    valid = x.is_not_null().cast(pl.Float64)
    pos = pl.col("__pos")
    # Least squares over the pairs with a value, from rolling sums.
    n = valid.rolling_sum(6, min_samples=1).over(g)
    sp = (pos * valid).rolling_sum(6, min_samples=1).over(g)
    sx = x.fill_null(0).rolling_sum(6, min_samples=1).over(g)
    spp = (pos * pos * valid).rolling_sum(6, min_samples=1).over(g)
    spx = (pos * x.fill_null(0)).rolling_sum(6, min_samples=1).over(g)
    den = n * spp - sp * sp
    greater = sum((x.shift(k).over(g) > x).fill_null(False).cast(pl.Int64) for k in range(1, 6))
    exprs += [
        (x - lag).alias(f"{c}_delta"),
        pl.when(lag == 0).then(None).otherwise((x - lag) / lag).alias(f"{c}_pct_change"),
        (x - x.rolling_mean(3, min_samples=1).over(g)).alias(f"{c}_momentum_3"),
        x.rolling_std(6, min_samples=2).over(g).alias(f"{c}_volatility_6"),
        pl.when((n >= 2) & (den > 0)).then((n * spx - sp * sx) / den).alias(f"{c}_trend_slope_6"),
        pl.when(x.is_null()).then(None).otherwise(1 + greater).alias(f"{c}_rolling_rank_6"),
        (x.rolling_max(6, min_samples=1).over(g) - x.rolling_min(6, min_samples=1).over(g)).alias(f"{c}_minmax_range_6"),
    ]
(
    pl.scan_parquet(src)
    .sort([g, "month"])
    .with_columns(pl.int_range(pl.len()).over(g).cast(pl.Float64).alias("__pos"))
    .with_columns(exprs)
    .drop("__pos")
    .sink_parquet(dst, compression="zstd", compression_level=1)
)
