"""Validation and drift: reports as Python objects that print well."""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Sequence

from . import _scorelake
from ._html import table_html
from ._inputs import to_table

__all__ = ["ValidationReport", "DriftReport", "validate", "drift", "document"]


def document(spec: Any) -> tuple[str, str]:
    """A spec given as a path or a mapping, in the form the engine reads:
    files by path (errors name the file), mappings as JSON."""
    if isinstance(spec, (str, os.PathLike)):
        return ("path", os.fspath(spec))
    if isinstance(spec, Mapping):
        return ("json", json.dumps(spec))
    raise TypeError(
        f"expected a file path or a dict, got a {type(spec).__qualname__}"
    )


class Report:
    """A report: its data as a dict (:meth:`to_dict`), Markdown
    (:meth:`to_markdown`, also ``str()``) and an HTML table in notebooks."""

    def __init__(self, data: dict[str, Any], markdown: str) -> None:
        self._data = data
        self._markdown = markdown

    def to_dict(self) -> dict[str, Any]:
        """The report's data (what the command line writes as JSON)."""
        return self._data

    def to_markdown(self) -> str:
        """The report as Markdown."""
        return self._markdown

    def __str__(self) -> str:
        return self._markdown

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._caption()})"

    def _rows(self) -> tuple[list[str], list[list[Any]]]:
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """One row per column (and period) as a ``pandas.DataFrame``."""
        try:
            import pandas as pd
        except ImportError:
            from ._errors import missing_package

            raise missing_package("pandas", "to_pandas()") from None
        header, rows = self._rows()
        return pd.DataFrame(rows, columns=header)

    def _repr_html_(self) -> str:
        header, rows = self._rows()
        return table_html(header, rows, note=self._caption())

    def _caption(self) -> str:
        return ""


class ValidationReport(Report):
    """Metrics per column with PASS/WARN/FAIL verdicts.

    ``status`` is the worst verdict; ``columns`` one dict per column with
    ``metrics``, ``status`` and ``findings``.
    """

    @property
    def status(self) -> str:
        """``PASS``, ``WARN`` or ``FAIL``: the worst column verdict."""
        return self._data["status"]

    @property
    def rows(self) -> int:
        """Rows validated."""
        return self._data["rows"]

    @property
    def columns(self) -> list[dict[str, Any]]:
        """One entry per column: ``column``, ``data_type``, ``metrics``,
        ``status``, ``findings``."""
        return self._data["columns"]

    def column(self, name: str) -> dict[str, Any]:
        """The entry of column ``name``."""
        for c in self.columns:
            if c["column"] == name:
                return c
        raise KeyError(name)

    def _rows(self) -> tuple[list[str], list[list[Any]]]:
        metrics: list[str] = []
        for c in self.columns:
            for m in c["metrics"]:
                if m not in metrics:
                    metrics.append(m)
        header = ["column", "type", "status", *metrics, "findings"]
        rows = [
            [c["column"], c["data_type"], c["status"]]
            + [c["metrics"].get(m) for m in metrics]
            + ["; ".join(c["findings"])]
            for c in self.columns
        ]
        return header, rows

    def _caption(self) -> str:
        return f"validation: {self.status}, {self.rows} rows"


class DriftReport(Report):
    """PSI (numeric bins) or CSI (categories) per column, and period.
    ``str()`` is the summary; :meth:`to_markdown` adds every bin's shares."""

    def __init__(self, data: dict[str, Any], summary: str, detail: str) -> None:
        super().__init__(data, summary)
        self._detail = detail

    def to_markdown(self, detail: bool = True) -> str:
        """The report as Markdown: with every bin (``detail``) or one line
        per column (and period)."""
        return self._detail if detail else self._markdown

    @property
    def columns(self) -> list[dict[str, Any]]:
        """One entry per column (and period): ``column``, ``method``,
        ``value``, ``verdict``, ``bins``."""
        return self._data["columns"]

    @property
    def shifted(self) -> list[str]:
        """Columns (``column@period`` by period) whose verdict is ``shifted``."""
        return [
            c["column"] + (f"@{c['period']}" if "period" in c else "")
            for c in self.columns
            if c["verdict"] == "shifted"
        ]

    def value(self, column: str, period: Any = None) -> float:
        """The index of ``column`` (in ``period``, by-period reports: a date
        or its text)."""
        wanted = None if period is None else str(period)
        for c in self.columns:
            if c["column"] == column and c.get("period") == wanted:
                return c["value"]
        raise KeyError(column if wanted is None else f"{column}@{wanted}")

    def _rows(self) -> tuple[list[str], list[list[Any]]]:
        by_period = any("period" in c for c in self.columns)
        header = ["column", *(["period"] if by_period else []), "method", "value", "verdict"]
        rows = [
            [c["column"], *([c.get("period")] if by_period else []), c["method"], c["value"], c["verdict"]]
            for c in self.columns
        ]
        return header, rows

    def _caption(self) -> str:
        shifted = self.shifted
        return f"drift: {len(self.columns)} compared, shifted: {', '.join(shifted) or 'none'}"


def validate(
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    thresholds: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    approximate: bool = False,
    weight: str | None = None,
) -> ValidationReport:
    """Validates ``data``: missing rate, distinct count, zero variance,
    moments and quantiles per column, judged against ``thresholds`` (a
    thresholds file or the same as a dict) into PASS/WARN/FAIL.

    Identifier and target columns (by name rules) are left out unless
    ``columns`` names them. ``approximate`` uses sketches for distinct
    counts and quantiles; ``weight`` validates rows expanded by a weight
    column (compressed rows).

    >>> import pyarrow as pa, scorelake as sl
    >>> r = sl.validate(pa.table({"x": [1.0, None, 3.0, 5.0]}))
    >>> r.column("x")["metrics"]["missing_rate"], r.column("x")["metrics"]["max"]
    (0.25, 5.0)
    """
    table = to_table(data)
    text, markdown = _scorelake.validate(
        table._native,
        list(columns) if columns is not None else None,
        document(thresholds) if thresholds is not None else None,
        approximate,
        weight,
    )
    return ValidationReport(json.loads(text), markdown)


def drift(
    baseline: Any,
    current: Any = None,
    *,
    columns: Sequence[str] | None = None,
    period_column: str | None = None,
    baseline_periods: Iterable[Any] = (),
    current_periods: Iterable[Any] = (),
    binning: str | Sequence[str] = "quantile",
    bins: int = 10,
    floor: float = 1e-4,
    watch: float = 0.1,
    shifted: float = 0.25,
    weight: str | None = None,
    categorical: Sequence[str] = (),
) -> DriftReport:
    """Population stability: PSI of numeric columns (``bins`` baseline
    quantile or equal-width bins), CSI of categories.

    Either two tables (``baseline``, ``current``), or one table split by
    ``period_column``: each other period against ``baseline_periods``, or
    ``current_periods`` as one set. Values at or above ``watch`` read
    ``watch``, above ``shifted`` read ``shifted``. Several binnings
    (``binning=["quantile", "equal-width"]``) are computed in one run: each
    numeric column then has one entry per binning, labelled ``binning``.
    """
    settings = {
        "binning": [binning] if isinstance(binning, str) else list(binning),
        "bins": bins,
        "floor": floor,
        "watch": watch,
        "shifted": shifted,
        "weight": weight,
        "categorical": list(categorical),
    }
    cols = list(columns) if columns is not None else None
    base = to_table(baseline)
    if period_column is None:
        if current is None:
            raise TypeError("drift() needs a current table, or a period_column to split by")
        text, summary, detail = _scorelake.drift(base._native, to_table(current)._native, cols, settings)
    else:
        if current is not None:
            raise TypeError("give either a current table or a period_column, not both")
        text, summary, detail = _scorelake.drift_by_period(
            base._native,
            period_column,
            [str(p) for p in baseline_periods],
            [str(p) for p in current_periods],
            cols,
            settings,
        )
    return DriftReport(json.loads(text), summary, detail)
