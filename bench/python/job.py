"""One measured Python job (run in its own process by run.py, so its peak
memory is its own). Writes its inner timings as JSON to the last argument.

    job.py w1-url PANEL RECIPES OUT TIMINGS
    job.py w1-pandas PANEL RECIPES OUT TIMINGS
    job.py to-arrow|to-pandas|to-polars TABLE TIMINGS
    job.py idle TIMINGS      (the interpreter with the package imported)
"""
import json
import sys
import time

import scorelake as sl

sl.config({"io.compression": "zstd", "io.compression_level": 1, "observability.progress": "never"})


def w1(source, recipes, out, figures):
    engineer = sl.FeatureEngineer.from_recipes(recipes)
    started = time.perf_counter()
    table = sl.table(source)
    figures["input_s"] = time.perf_counter() - started
    if engineer.needs_fit:
        engineer = engineer.fit(table)
    return engineer.transform(table).write(out, mode="overwrite")


def main():
    job, args, timings = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
    figures = {}
    if job == "idle":
        pass
    elif job == "w1-url":
        panel, recipes, out = args
        started = time.perf_counter()
        figures["rows"] = w1(panel, recipes, out, figures)["rows"]
        figures["scorelake_s"] = time.perf_counter() - started
    elif job == "w1-pandas":
        import pandas as pd

        panel, recipes, out = args
        started = time.perf_counter()
        frame = pd.read_parquet(panel, engine="pyarrow")
        figures["pandas_read_s"] = time.perf_counter() - started
        started = time.perf_counter()
        figures["rows"] = w1(frame, recipes, out, figures)["rows"]
        figures["scorelake_s"] = time.perf_counter() - started
    else:
        (source,) = args
        table = sl.read(source)
        started = time.perf_counter()
        result = {"to-arrow": table.to_arrow, "to-pandas": table.to_pandas, "to-polars": table.to_polars}[job]()
        figures["convert_s"] = time.perf_counter() - started
        figures["rows"] = len(result)
        figures["arrow_bytes"] = result.nbytes if job == "to-arrow" else None
    with open(timings, "w") as f:
        json.dump(figures, f)


if __name__ == "__main__":
    main()
