"""Sessions: the configuration and engine every table and job runs on."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from . import _scorelake

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["Run", "Session", "config", "session", "track"]


class Session:
    """A configured engine.

    The configuration is layered like the command line's: built-in defaults
    < ``AWS_*`` variables < config file (``config_file``, else
    ``$SCORELAKE_CONFIG``, else ``./scorelake.toml`` or the user's config
    directory) < ``SCORELAKE__SECTION__KEY`` variables < ``settings`` given
    here, by dotted key (``"engine.memory_limit": "4g"``) or as keyword
    arguments with ``__`` for the dot (``engine__memory_limit="4g"``).

    Most users never create one: module-level functions use
    :func:`scorelake.session`, which :func:`scorelake.config` configures.

    >>> import scorelake as sl
    >>> s = sl.Session({"engine.target_partitions": 2})
    >>> s.engine.startswith("embedded")
    True
    >>> dict((k, v) for k, v, _ in s.config_show())["engine.target_partitions"]
    '2'
    """

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        config_file: str | os.PathLike[str] | None = None,
        **keywords: Any,
    ) -> None:
        pairs = {str(k): v for k, v in (settings or {}).items()}
        pairs.update({k.replace("__", "."): v for k, v in keywords.items()})
        self._native = _scorelake.Session(
            os.fspath(config_file) if config_file is not None else None,
            [(k, _setting(v)) for k, v in pairs.items()],
        )

    @property
    def engine(self) -> str:
        """The engine the session runs on and why it was chosen."""
        return self._native.engine()

    def config_show(self) -> list[tuple[str, str, str]]:
        """Every configuration key as ``(key, value, source)``, secrets redacted."""
        return self._native.config_show()

    def read(
        self,
        url: str | os.PathLike[str],
        *,
        format: str | None = None,
        version: int | None = None,
        as_of: str | None = None,
        merge_schema: bool = False,
    ) -> Table:
        """A lazy table read from a file, folder, Delta table or S3 URL.

        ``format`` overrides the one the URL implies (``parquet``, ``csv``,
        ``ncf``, ``delta``); ``version`` or ``as_of`` (an RFC 3339 time or a
        date) time-travel a Delta table.
        """
        from ._table import Table

        return Table(
            self._native.read(os.fspath(url), format, version, as_of, merge_schema)
        )

    def table(self, data: Any) -> Table:
        """``data`` as a table of this session: a ScoreLake table, a lake URL,
        or any Arrow data (pyarrow, pandas, Polars, DuckDB, …); see
        :func:`scorelake.table`."""
        from ._inputs import to_table

        return to_table(data, self)

    def sample(
        self,
        customers: int = 1000,
        *,
        months: int | None = None,
        seed: int | None = None,
        start: str | None = None,
    ) -> Table:
        """The synthetic customer × month credit panel (generated as read)."""
        from ._table import Table

        return Table(self._native.sample(customers, months, seed, start))

    def sql(self, query: str, **tables: Any) -> Table:
        """A lazy SQL query over the named ``tables`` (any input
        :meth:`table` accepts) and tables named by URL in the query."""
        named = [(name, self.table(data)._native) for name, data in tables.items()]
        from ._table import Table

        return Table(self._native.sql(query, named))

    def unpersist(self, name: str) -> bool:
        """Drops what :meth:`Table.persist` keeps under ``name`` (memory back
        to the engine's pool, files deleted); False when nothing was."""
        return self._native.unpersist(name)

    def cache_stats(self) -> dict[str, Any]:
        """What the session's cache did: ``hits``, ``misses`` and
        ``entries`` (name, level, rows, bytes in memory and on disk, uses)."""
        return json.loads(self._native.cache_stats())

    def delta_history(
        self, url: str | os.PathLike[str], *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """A Delta table's commits, newest first."""
        import json

        return json.loads(self._native.delta_history(os.fspath(url), limit))

    @contextlib.contextmanager
    def track(self, name: str) -> Iterator[Run]:
        """Measures the work in the ``with`` block as a run named ``name``:
        wall and CPU time, peak memory and, when the session keeps them
        (``observability.metrics_file``, ``metrics_dir`` or ``history`` set), the
        per-operator metrics of every plan it ran. The record is saved there
        and set on the yielded :class:`Run` when the block ends, errors
        included (the error is recorded and raised again).

        >>> import scorelake as sl, tempfile
        >>> s = sl.Session({"observability.metrics_dir": tempfile.mkdtemp()})
        >>> with s.track("count the panel") as run:
        ...     n = s.sample(customers=20).count()
        >>> run.record["ok"], len(run.record["plans"])
        (True, 1)
        """
        run = Run()
        tracker = self._native.track(name)
        try:
            yield run
        except BaseException as e:
            run.record = json.loads(tracker.finish(f"{type(e).__name__}: {e}"))
            raise
        run.record = json.loads(tracker.finish(None))

    def __repr__(self) -> str:
        return f"Session(engine={self.engine!r})"


class Run:
    """A run measured by :meth:`Session.track`; ``record`` is set when the
    ``with`` block ends (the same fields as the command line's
    ``--metrics`` file)."""

    record: dict[str, Any] | None = None


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_default: Session | None = None
_lock = threading.Lock()


def session() -> Session:
    """The default session (created on first use from the environment and
    config files, and :func:`config`'s settings)."""
    global _default
    with _lock:
        if _default is None:
            _default = Session()
        return _default


def config(
    settings: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    **keywords: Any,
) -> Session:
    """Replaces the default session with one built from these settings
    (see :class:`Session`) and returns it.

    >>> import scorelake as sl
    >>> s = sl.config({"engine.memory_limit": "2g"})
    >>> s is sl.session()
    True
    """
    global _default
    new = Session(settings, config_file=config_file, **keywords)
    with _lock:
        _default = new
    return new


def track(name: str) -> contextlib.AbstractContextManager[Run]:
    """:meth:`Session.track` on the default session."""
    return session().track(name)
