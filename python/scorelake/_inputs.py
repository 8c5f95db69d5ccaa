"""Whatever a user passes as data, as a ScoreLake table.

The engine follows the input: ScoreLake tables stay on their session; lake
URLs are read by the session (streamed, never loaded whole); a pyarrow
RecordBatchReader is streamed as the plan runs, once; Arrow data from
pyarrow, pandas, Polars, DuckDB or any other producer of the Arrow PyCapsule
interface is held without copying and runs embedded. PySpark DataFrames are
refused: ScoreLake has no Spark engine yet, and collecting a Spark
DataFrame into this process is exactly what it must never do silently.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

from ._errors import ScoreLakeError
from ._table import Table

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["to_table", "ACCEPTED"]

ACCEPTED = (
    "a scorelake Table, a lake URL or path (str or os.PathLike), "
    "a pyarrow Table or RecordBatchReader, a pandas DataFrame, "
    "a Polars DataFrame or LazyFrame, a DuckDB relation, "
    "or any object with __arrow_c_stream__"
)


# Arrow streams are single-use: a reader read once exports an empty stream
# the next time, which would look like an empty table.
_read_streams: weakref.WeakSet[Any] = weakref.WeakSet()


def _is_stream(obj: Any) -> bool:
    return _module(obj) == "pyarrow" and type(obj).__name__ == "RecordBatchReader"


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def to_table(data: Any, session: Session | None = None) -> Table:
    """``data`` as a :class:`Table` on ``session`` (the default session when
    ``None``)."""
    from ._session import session as default_session

    if isinstance(data, Table):
        return data
    s = session or default_session()
    if isinstance(data, (str, os.PathLike)):
        return s.read(data)
    module = _module(data)
    if module == "pyspark":
        raise ScoreLakeError(
            "PySpark DataFrames are not supported yet: ScoreLake has no Spark "
            "engine, and it does not collect a Spark DataFrame into this "
            "process. Write it to the lake (df.write.parquet(url)) and pass the URL."
        )
    if module == "polars" and type(data).__name__ == "LazyFrame":
        data = data.collect()
    if module == "duckdb" and not hasattr(data, "__arrow_c_stream__"):
        data = data.fetch_record_batch()
    if _is_stream(data):
        if data in _read_streams:
            raise ScoreLakeError(
                "this RecordBatchReader was already read (Arrow streams are "
                "single-use): pass a pyarrow Table, or a new reader"
            )
        _read_streams.add(data)
        return Table(s._native.arrow_stream(data))
    if hasattr(data, "__arrow_c_stream__"):
        return Table(s._native.arrow_table(data))
    if module == "pandas":
        try:
            import pyarrow as pa
        except ImportError:
            raise ImportError(
                "this pandas version has no Arrow export; reading it needs "
                "pyarrow: pip install pyarrow"
            ) from None
        return Table(s._native.arrow_table(pa.Table.from_pandas(data, preserve_index=False)))
    raise TypeError(f"cannot use a {type(data).__qualname__} as a table: expected {ACCEPTED}")
