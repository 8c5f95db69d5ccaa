"""What the W5 peer scripts share: the workload's columns and the command line.

W5: bin balance, utilization, payment and credit_limit into deciles (exact
linear-interpolation quantiles at 0.1 … 0.9, equal edges merged; bins
right-closed, the end bins open, null → bin 0) and compress the panel by the
four bins, product and region into sample_weight (rows), event_weight (sum of
default_flag) and event_rate, written as Parquet.
"""
import sys

BINNED = ["balance", "utilization", "payment", "credit_limit"]
SEGMENTS = ["product", "region"]
TARGET = "default_flag"
QUANTILES = [k / 10 for k in range(1, 10)]


def args():
    """SRC OUT: the panel and the compressed output."""
    return sys.argv[1], sys.argv[2]


def edges(values):
    """Quantile edges, sorted with equal ones merged."""
    return sorted(set(v for v in values if v is not None))
