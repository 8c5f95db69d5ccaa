"""W4 in PySpark (local[2]): `validate SRC OUT COLS` or `psi SRC OUT COLS BASE_END` (see run.py)."""
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from shared import BINNINGS, QUANTILES, args, psi_of, save, width_edges

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
    """Both binnings: one aggregate for every column's exact deciles and
    range on the baseline, one grouped count of both binnings' bins."""
    cur = F.col("month") > F.lit(BASE_END).cast("date")
    base = t.filter(~cur)
    aggs = []
    for c in COLS:
        aggs += [F.percentile(v(c), F.array(*[F.lit(q) for q in QUANTILES])).alias(f"{c}|q"),
                 F.min(v(c)).alias(f"{c}|lo"), F.max(v(c)).alias(f"{c}|hi")]
    row = base.agg(*aggs).collect()[0].asDict()
    edges = {}
    for c in COLS:
        edges[f"{c}|quantile"] = sorted(set(row[f"{c}|q"]))
        edges[f"{c}|equal_width"] = width_edges(row[f"{c}|lo"], row[f"{c}|hi"])
    bins = []
    for i, (key, e) in enumerate(edges.items()):
        x = v(key.split("|")[0])
        b = F.when(x.isNull(), 0)
        for j, edge in enumerate(e):
            b = b.when(x <= F.lit(edge), j + 1)
        bins.append(b.otherwise(len(e) + 1).alias(f"b{i}"))
    names = [f"b{i}" for i in range(len(edges))]
    counts = t.select(cur.alias("cur"), *bins).groupBy("cur", *names).count().collect()
    out = {}
    for i, (key, e) in enumerate(edges.items()):
        tally = {False: {}, True: {}}
        for r in counts:
            tally[r["cur"]][r[f"b{i}"]] = tally[r["cur"]].get(r[f"b{i}"], 0) + r["count"]
        out[key] = {"psi": psi_of(tally[False], tally[True], len(e) + 1)}
    assert {k.split("|")[1] for k in out} == set(BINNINGS)
    return out


save(OUT, validate() if TASK == "validate" else psi())
