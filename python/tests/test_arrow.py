"""Arrow in and out: every supported input type, and no copies where the
interface promises none (checked by buffer addresses)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import scorelake as sl


def addresses(table: pa.Table, column: str) -> list[int]:
    """The data buffer address of each chunk of a fixed-width column."""
    return [chunk.buffers()[1].address for chunk in table.column(column).chunks]


@pytest.fixture()
def source() -> pa.Table:
    rng = np.random.default_rng(3)
    n = 50_000
    return pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "x": pa.array(rng.normal(size=n)),
            "g": pa.array(rng.choice(["a", "b", "c"], size=n)),
        }
    )


def test_pyarrow_table_in_and_out_share_buffers(source: pa.Table) -> None:
    out = sl.table(source).to_arrow()
    assert out.equals(source)
    # The engine reads the input in slices of its batch size: every output
    # chunk points into the input's one buffer.
    buffer = source.column("x").chunks[0].buffers()[1]
    for address in addresses(out, "x"):
        assert buffer.address <= address < buffer.address + buffer.size


def test_batches_shared_between_pyarrow_and_polars(source: pa.Table) -> None:
    result = sl.table(source).filter("x > 0")._native.collect()
    arrow = pa.table(result)
    polars = pl.DataFrame(result)
    assert polars.height == arrow.num_rows == result.num_rows()
    # Both keep the engine's float buffers (no copy on import).
    polars_chunks = polars["x"].get_chunks()
    polars_addresses = [c.to_numpy(allow_copy=False).ctypes.data for c in polars_chunks]
    assert polars_addresses == addresses(arrow, "x")


def test_arrow_consumers_read_the_lazy_table(source: pa.Table) -> None:
    t = sl.table(source).select("id", "x")
    assert pa.table(t).num_rows == source.num_rows
    assert pl.DataFrame(t).height == source.num_rows
    assert duckdb.sql("SELECT count(*) FROM t").fetchall()[0][0] == source.num_rows
    assert t.schema == pa.schema([("id", pa.int64()), ("x", pa.float64())])


def test_pandas_input_and_output(source: pa.Table) -> None:
    frame = source.to_pandas()
    back = sl.table(frame).to_pandas()
    pd.testing.assert_frame_equal(back, frame)


def test_polars_dataframe_and_lazyframe(source: pa.Table) -> None:
    frame = pl.from_arrow(source)
    assert sl.table(frame).count() == source.num_rows
    lazy = frame.lazy().filter(pl.col("g") == "a")
    expected = frame.filter(pl.col("g") == "a").height
    assert sl.table(lazy).count() == expected
    assert sl.table(frame).to_polars().equals(frame)


def test_duckdb_relation(source: pa.Table) -> None:
    rel = duckdb.sql("SELECT id, x FROM source WHERE g = 'b'")
    expected = duckdb.sql("SELECT count(*) FROM source WHERE g = 'b'").fetchall()[0][0]
    assert sl.table(rel).count() == expected


def test_record_batch_reader_streams_once(source: pa.Table) -> None:
    reader = pa.RecordBatchReader.from_batches(source.schema, source.to_batches(max_chunksize=4096))
    t = sl.table(reader)
    assert t.count() == source.num_rows
    # Read as the plan ran, not held: a second read is refused by name.
    with pytest.raises(sl.ScoreLakeError, match="read already"):
        t.count()
    with pytest.raises(sl.ScoreLakeError, match="already read"):
        sl.table(reader)


def test_generated_batches_stream_through(source: pa.Table) -> None:
    """A reader over a Python generator: the engine pulls its batches on
    its own threads (taking the GIL) while the caller waits without it."""
    produced = []

    def batches():
        for batch in source.to_batches(max_chunksize=5000):
            produced.append(batch.num_rows)
            yield batch

    reader = pa.RecordBatchReader.from_batches(source.schema, batches())
    out = sl.table(reader).filter("g = 'a'").to_arrow()
    assert sum(produced) == source.num_rows
    assert out.num_rows == pc.sum(pc.equal(source["g"], "a")).as_py()
    again = pa.RecordBatchReader.from_batches(source.schema, iter(source.to_batches()))
    assert pl.DataFrame(sl.table(again)).height == source.num_rows


def test_sql_over_mixed_inputs(source: pa.Table, panel_path) -> None:
    frame = pl.from_arrow(source)
    out = sl.sql(
        "SELECT g, count(*) AS n FROM a JOIN b USING (id) GROUP BY g ORDER BY g",
        a=source,
        b=frame.select("id"),
    ).to_arrow()
    assert out["n"].to_pylist() == [
        sum(1 for v in source["g"].to_pylist() if v == g) for g in ["a", "b", "c"]
    ]
    rows = sl.sql(f"SELECT count(*) AS n FROM '{panel_path}'").to_arrow()["n"][0].as_py()
    assert rows == sl.read(panel_path).count()


def test_unsupported_input_names_the_accepted_ones() -> None:
    with pytest.raises(TypeError, match="pyarrow Table"):
        sl.table(42)


def test_pyspark_dataframe_is_refused_not_collected() -> None:
    class DataFrame:  # stands in for pyspark.sql.DataFrame: only its type is looked at
        def toPandas(self) -> None:  # noqa: N802
            raise AssertionError("a Spark DataFrame must never be collected")

    DataFrame.__module__ = "pyspark.sql.dataframe"
    with pytest.raises(sl.ScoreLakeError, match="Spark DataFrames are not supported yet"):
        sl.table(DataFrame())
