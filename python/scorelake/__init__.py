"""ScoreLake: credit-risk feature engineering on a data lake, from Python.

Everything runs on the same engine as the ``scorelake`` command: tables are
lazy plans, read through the Arrow PyCapsule interface without copies.
Inputs are detected by type (:func:`table`): lake URLs, pyarrow, pandas,
Polars, DuckDB or any Arrow stream.

>>> import scorelake as sl
>>> panel = sl.sample(customers=100, months=12)
>>> features = sl.FeatureEngineer.from_recipes({
...     "entity": "customer_id", "time": "month",
...     "recipes": [{"name": "balance_trend", "operation": "trend_slope",
...                  "source": "balance", "window": 3}]})
>>> out = features.transform(panel)
>>> out.count() == panel.count(), set(features.outputs) <= set(out.columns)
(True, True)
"""

from __future__ import annotations

import os
from typing import Any

from . import _scorelake
from ._errors import ScoreLakeError
from ._inputs import ACCEPTED
from ._inputs import to_table as _to_table
from ._models import Binning, Encoders, FeatureEngineer, Scorecard, compress, run_pipeline
from ._quality import DriftReport, ValidationReport, drift, validate
from ._session import Run, Session, config, session, track
from ._table import Table

__version__: str = _scorelake.__version__

__all__ = [
    "ACCEPTED",
    "Binning",
    "DriftReport",
    "Encoders",
    "FeatureEngineer",
    "ScoreLakeError",
    "Scorecard",
    "Session",
    "Table",
    "Run",
    "ValidationReport",
    "compress",
    "config",
    "delta_history",
    "drift",
    "read",
    "run_pipeline",
    "sample",
    "session",
    "sql",
    "table",
    "track",
    "validate",
]


def table(data: Any) -> Table:
    """``data`` as a table of the default session.

    Accepted: a ScoreLake :class:`Table`; a lake URL or path (read lazily,
    streamed); a pyarrow Table or RecordBatchReader, a pandas DataFrame, a
    Polars DataFrame or LazyFrame, a DuckDB relation or any object with
    ``__arrow_c_stream__`` (held without copying, run embedded). A PySpark
    DataFrame raises :class:`ScoreLakeError`: there is no Spark engine yet.
    """
    return _to_table(data)


def read(
    url: str | os.PathLike[str],
    *,
    format: str | None = None,
    version: int | None = None,
    as_of: str | None = None,
    merge_schema: bool = False,
) -> Table:
    """A lazy table read from ``url`` on the default session (see
    :meth:`Session.read`)."""
    return session().read(
        url, format=format, version=version, as_of=as_of, merge_schema=merge_schema
    )


def sql(query: str, **tables: Any) -> Table:
    """A lazy SQL query on the default session over ``tables`` given by
    name (any input :func:`table` accepts) and tables named by URL.

    >>> import scorelake as sl
    >>> sl.sql("SELECT count(*) AS n FROM p", p=sl.sample(customers=3, months=2)).to_arrow()["n"][0].as_py()
    6
    """
    return session().sql(query, **tables)


def sample(
    customers: int = 1000,
    *,
    months: int | None = None,
    seed: int | None = None,
    start: str | None = None,
) -> Table:
    """The synthetic customer × month credit panel (24 months from
    2023-01-01 by default, deterministic per ``seed``), generated lazily."""
    return session().sample(customers, months=months, seed=seed, start=start)


def delta_history(url: str | os.PathLike[str], *, limit: int | None = None) -> list[dict[str, Any]]:
    """A Delta table's commits, newest first: version, time, operation,
    rows added and removed, rows in the table."""
    return session().delta_history(url, limit=limit)
