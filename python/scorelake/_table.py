"""Tables: lazy plans read through the Arrow PyCapsule interface."""

from __future__ import annotations

import os
from typing import Any

from . import _scorelake
from ._errors import missing_package

__all__ = ["Table"]


class Table:
    """A lazy table: a plan that runs when it is read, counted or written.

    Any Arrow consumer reads it without copies through
    ``__arrow_c_stream__`` (``pyarrow.table(t)``, ``polars.DataFrame(t)``,
    ``duckdb.from_arrow(t)``); :meth:`to_arrow`, :meth:`to_pandas` and
    :meth:`to_polars` do it for you and can be stopped with Ctrl-C.

    >>> import scorelake as sl
    >>> t = sl.sample(customers=10, months=3)
    >>> t.filter("month = DATE '2023-03-01'").select("customer_id", "balance").columns
    ['customer_id', 'balance']
    >>> t.head(4).count()
    4
    """

    __slots__ = ("_native",)

    def __init__(self, native: _scorelake.Table) -> None:
        self._native = native

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return self._native.columns()

    @property
    def schema(self) -> Any:
        """The schema as a ``pyarrow.Schema`` (needs pyarrow)."""
        pa = _pyarrow("Table.schema")
        return pa.schema(self._native)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The result as an Arrow C stream (computed as it is read)."""
        return self._native.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> Any:
        """The schema as an Arrow C schema."""
        return self._native.__arrow_c_schema__()

    def count(self) -> int:
        """Number of rows (runs the plan)."""
        return self._native.count()

    def head(self, n: int = 5) -> Table:
        """The first ``n`` rows, lazily."""
        return Table(self._native.limit(n))

    def select(self, *columns: str) -> Table:
        """These columns, in this order."""
        return Table(self._native.select(list(columns)))

    def filter(self, predicate: str) -> Table:
        """The rows where the SQL ``predicate`` holds (``"balance > 1000"``)."""
        return Table(self._native.filter(predicate))

    def join(
        self, other: Table, on: str | list[str], *, how: str = "inner", salts: int = 0, hot_share: float = 0.05
    ) -> Table:
        """This table joined to ``other`` on the column(s) ``on`` (named
        alike on both sides; the result keeps this table's), ``how`` is
        ``"inner"`` or ``"left"``. With ``salts`` > 1 the key values holding
        at least ``hot_share`` of this table's rows are spread over that many
        partitions (a random salt here, the matching rows of ``other``
        repeated once per salt): the same rows as the plain join, without
        one task holding a hot key on a cluster. Embedded it only adds work.

        >>> import scorelake as sl
        >>> s = sl.Session()
        >>> panel = s.sample(customers=50, months=3)
        >>> limits = s.sql("SELECT product, max(credit_limit) AS top_limit FROM p GROUP BY product", p=panel)
        >>> plain = panel.join(limits, "product", how="left")
        >>> salted = panel.join(limits, "product", how="left", salts=4)
        >>> salted.count() == plain.count() == panel.count()
        True
        """
        keys = [on] if isinstance(on, str) else list(on)
        return Table(self._native.join(other._native, keys, how, salts, hot_share))

    def persist(self, name: str, level: str = "memory-and-disk") -> Table:
        """The result computed now and kept by the session under ``name``:
        in memory (reserved in the engine's pool, at most
        ``engine.cache_memory``) and, with ``"memory-and-disk"``, in Arrow
        IPC files in the spill folder for what does not fit; ``"memory"``
        keeps it only if it fits, ``"disk"`` writes it all. Reads of the
        returned table (and of tables made from it) come from the cache
        until :meth:`Session.unpersist`.

        >>> import scorelake as sl
        >>> s = sl.Session()
        >>> panel = s.sample(customers=200, months=6).persist("panel")
        >>> panel.filter("days_past_due > 30").count() <= panel.count()
        True
        >>> [(e["name"], e["rows"] == panel.count()) for e in s.cache_stats()["entries"]]
        [('panel', True)]
        >>> s.unpersist("panel")
        True
        """
        return Table(self._native.persist(name, level))

    def plan(self) -> str:
        """The logical plan, as text."""
        return self._native.plan()

    def to_arrow(self) -> Any:
        """The rows as a ``pyarrow.Table`` (needs pyarrow); the engine's
        buffers are handed over, not copied."""
        pa = _pyarrow("Table.to_arrow()")
        return pa.table(self._native.collect())

    def to_pandas(self, **options: Any) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs pandas and pyarrow);
        ``options`` go to ``pyarrow.Table.to_pandas``."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise missing_package("pandas", "Table.to_pandas()") from None
        return self.to_arrow().to_pandas(**options)

    def to_polars(self) -> Any:
        """The rows as a ``polars.DataFrame`` (needs polars), without copies."""
        try:
            import polars as pl
        except ImportError:
            raise missing_package("polars", "Table.to_polars()") from None
        return pl.DataFrame(self._native.collect())

    def write(
        self,
        url: str | os.PathLike[str],
        *,
        format: str | None = None,
        mode: str = "error",
        partition_by: list[str] | tuple[str, ...] = (),
        merge_schema: bool = False,
    ) -> dict[str, Any]:
        """Writes the table to ``url`` (Parquet, CSV, NCF or Delta; local or
        S3), atomically; ``mode`` is ``error`` (refuse an existing output),
        ``overwrite`` or ``append`` (Delta). Returns what was written:
        location, rows, format, bytes and the Delta version."""
        return self._native.write(
            os.fspath(url), format, mode, list(partition_by), merge_schema
        )

    def __repr__(self) -> str:
        return f"Table({', '.join(self.columns)})"

    def _repr_html_(self) -> str:
        from ._html import table_html

        try:
            pa = _pyarrow("a table preview")
        except ImportError:
            return table_html(self.columns, [])
        preview = pa.table(self._native.limit(10).collect())
        rows = [list(r.values()) for r in preview.to_pylist()]
        return table_html(self.columns, rows, note="first 10 rows")


def _pyarrow(purpose: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise missing_package("pyarrow", purpose) from None
    return pa
