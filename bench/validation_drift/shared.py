"""What the W4 peer scripts share: the PSI formula (ScoreLake's definition:
bins 1..k always count, the null bin 0 only when either side has nulls,
empty shares floored at 1e-4), the two binnings (baseline deciles and ten
equal widths over the baseline's range; results keyed `column|binning`)
and the command line."""
import json
import math
import sys

QUANTILES = [k / 10 for k in range(1, 10)]
BINNINGS = ["quantile", "equal_width"]


def width_edges(lo, hi, k=10):
    """Inner edges of `k` equal-width bins over [lo, hi], equal edges merged."""
    return sorted({lo + (hi - lo) * j / k for j in range(1, k)})


def psi_of(base, cur, k, floor=1e-4):
    """PSI from {bin: rows} of the baseline and the current side."""
    tb, tc = sum(base.values()), sum(cur.values())
    labels = set(range(1, k + 1)) | ({0} if base.get(0) or cur.get(0) else set())
    total = 0.0
    for b in labels:
        pb = base.get(b, 0) / tb or floor
        pc = cur.get(b, 0) / tc or floor
        total += (pc - pb) * math.log(pc / pb)
    return total


def args():
    """TASK SRC OUT COLS [BASE_END]: the task, input, output JSON, columns and the last baseline month."""
    task, src, out, cols = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    return task, src, out, cols, (sys.argv[5] if len(sys.argv) > 5 else None)


def save(out, result):
    with open(out, "w") as f:
        json.dump(result, f)
