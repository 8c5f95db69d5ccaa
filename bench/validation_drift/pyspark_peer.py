"""W4 in PySpark (local[2]): `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from shared import QUANTILES, args, psi_of, save

TASK, SRC, OUT, COLS, BASE_END = args()
spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "14g")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
         .config("spark.sql.shuffle.partitions", "8").config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
t = spark.read.parquet(SRC)


def v(c):
    """The value as a double, NaN read as missing."""
    x = F.col(c).cast("double")
    return F.when(F.isnan(x), None).otherwise(x)


def validate():
    aggs = [F.count(F.lit(1)).alias("rows")]
    for c in COLS:
        x = v(c)
        aggs += [F.count(x).alias(f"{c}|n"), F.countDistinct(x).alias(f"{c}|u"), F.min(x).alias(f"{c}|min"),
                 F.max(x).alias(f"{c}|max"), F.avg(x).alias(f"{c}|mean"), F.stddev_samp(x).alias(f"{c}|std"),
                 F.percentile(x, F.lit(0.01)).alias(f"{c}|p01"), F.percentile(x, F.lit(0.99)).alias(f"{c}|p99")]
    row = t.agg(*aggs).collect()[0].asDict()
    out = {}
    for c in COLS:
        m = {k: row[f"{c}|{k}"] for k in ["min", "max", "mean", "std", "p01", "p99"]}
        m["missing_rate"] = 1 - row[f"{c}|n"] / row["rows"]
        m["unique_count"] = row[f"{c}|u"]
        out[c] = m
    return out


def psi():
    cur = F.col("month") > F.lit(BASE_END).cast("date")
    base = t.filter(~cur)
    row = base.agg(*[F.percentile(v(c), F.lit(q)).alias(f"{c}|{q}") for c in COLS for q in QUANTILES]).collect()[0].asDict()
    edges = {c: sorted({row[f"{c}|{q}"] for q in QUANTILES}) for c in COLS}
    bins = []
    for c in COLS:
        x = v(c)
        b = F.when(x.isNull(), 0)
        for j, e in enumerate(edges[c]):
            b = b.when(x <= F.lit(e), j + 1)
        bins.append(b.otherwise(len(edges[c]) + 1).alias(c))
    counts = t.select(cur.alias("cur"), *bins).groupBy("cur", *COLS).count().collect()
    out = {}
    for c in COLS:
        tally = {False: {}, True: {}}
        for r in counts:
            tally[r["cur"]][r[c]] = tally[r["cur"]].get(r[c], 0) + r["count"]
        out[c] = {"psi": psi_of(tally[False], tally[True], len(edges[c]) + 1)}
    return out


save(OUT, validate() if TASK == "validate" else psi())
