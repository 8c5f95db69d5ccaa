"""W1 in PySpark (local[2]): DataFrame window functions, Parquet in -> Parquet (zstd) out."""
import sys

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

src, dst = sys.argv[1], sys.argv[2]
spark = (
    SparkSession.builder.master("local[2]")
    .appName("w1")
    .config("spark.driver.memory", "6g")
    .config("spark.sql.shuffle.partitions", "8")
    .config("spark.sql.parquet.compression.codec", "zstd")
    .config("parquet.compression.codec.zstd.level", "1")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.host", "127.0.0.1")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
w = Window.partitionBy("customer_id").orderBy("month")
df = spark.read.parquet(src).withColumn("__pos", F.row_number().over(w).cast("double"))
cols = []
for c in ["balance", "utilization", "payment"]:
    x = F.col(c)
    lag = F.lag(x, 1).over(w)
    greater = sum(F.coalesce((F.lag(x, k).over(w) > x).cast("int"), F.lit(0)) for k in range(1, 6))
    w3, w6 = w.rowsBetween(-2, 0), w.rowsBetween(-5, 0)
    cols += [
        (x - lag).alias(f"{c}_delta"),
        F.when(lag == 0, None).otherwise((x - lag) / lag).alias(f"{c}_pct_change"),
        (x - F.avg(x).over(w3)).alias(f"{c}_momentum_3"),
        F.stddev_samp(x).over(w6).alias(f"{c}_volatility_6"),
        F.regr_slope(x, F.col("__pos")).over(w6).alias(f"{c}_trend_slope_6"),
        F.when(x.isNull(), None).otherwise(1 + greater).alias(f"{c}_rolling_rank_6"),
        (F.max(x).over(w6) - F.min(x).over(w6)).alias(f"{c}_minmax_range_6"),
    ]
df.select(*[F.col(c) for c in df.columns if c != "__pos"], *cols).write.mode("overwrite").parquet(dst)
spark.stop()
