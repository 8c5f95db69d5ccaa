"""W5 in PySpark (local[2]): `SRC OUT` (see run.py)."""
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from shared import BINNED, QUANTILES, SEGMENTS, TARGET, args, edges

SRC, OUT = args()
spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "14g")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
         .config("spark.sql.shuffle.partitions", "8").config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
t = spark.read.parquet(SRC)
row = t.agg(*[F.percentile(F.col(c).cast("double"), F.lit(q)).alias(f"{c}|{q}") for c in BINNED for q in QUANTILES]).collect()[0].asDict()
cut = {c: edges(row[f"{c}|{q}"] for q in QUANTILES) for c in BINNED}
bins = []
for c in BINNED:
    b = F.when(F.col(c).isNull(), 0)
    for j, e in enumerate(cut[c]):
        b = b.when(F.col(c) <= F.lit(e), j + 1)
    bins.append(b.otherwise(len(cut[c]) + 1).alias(f"{c}_bin"))
keys = [f"{c}_bin" for c in BINNED] + SEGMENTS
(t.select(*bins, *SEGMENTS, F.col(TARGET)).groupBy(*keys)
 .agg(F.count(F.lit(1)).cast("double").alias("sample_weight"), F.sum(TARGET).cast("double").alias("event_weight"))
 .withColumn("event_rate", F.col("event_weight") / F.col("sample_weight"))
 .coalesce(1).write.mode("overwrite").parquet(OUT))
