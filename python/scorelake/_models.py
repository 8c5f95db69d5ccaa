"""Fitted artifacts: features, encoders, binnings, scorecards, pipelines."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Mapping, Sequence

from . import _scorelake
from ._html import table_html
from ._inputs import to_table
from ._quality import document
from ._session import Session
from ._session import session as default_session
from ._table import Table

__all__ = ["FeatureEngineer", "Encoders", "Binning", "Scorecard", "compress", "run_pipeline"]

Spec = "str | os.PathLike[str] | Mapping[str, Any]"

class FeatureEngineer:
    """Features from recipes: trends, time-window aggregations, ratios and
    transforms (``docs/features.md``). Fit learns the values some recipes
    need (fills); transform builds the features lazily.

    >>> import scorelake as sl
    >>> fe = sl.FeatureEngineer.from_recipes({
    ...     "entity": "customer_id", "time": "month",
    ...     "recipes": [{"name": "balance_change", "operation": "delta", "source": "balance"}]})
    >>> fe.outputs
    ['balance_delta']
    >>> panel = sl.sample(customers=5, months=2)
    >>> fe.transform(panel).count() == panel.count()
    True
    """

    def __init__(self, native: _scorelake.Features) -> None:
        self._native = native

    @classmethod
    def from_recipes(cls, recipes: str | os.PathLike[str] | Mapping[str, Any]) -> FeatureEngineer:
        """Recipes from a YAML/TOML/JSON file or a dict with a ``recipes``
        list; checked now (operations, parameters, names, dependencies)."""
        return cls(_scorelake.Features.from_recipes(document(recipes)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FeatureEngineer:
        """A fitted engineer saved by :meth:`save`."""
        return cls(_scorelake.Features.load(os.fspath(path)))

    @property
    def outputs(self) -> list[str]:
        """The feature columns it adds."""
        return self._native.outputs()

    @property
    def needs_fit(self) -> bool:
        """True when some recipe learns values before transforming."""
        return self._native.needs_fit()

    @property
    def is_fitted(self) -> bool:
        """True once fitted."""
        return self._native.is_fitted()

    def lineage(self) -> dict[str, Any]:
        """Each output's recipe, inputs and dependencies."""
        return json.loads(self._native.lineage())

    def fitted(self) -> dict[str, Any] | None:
        """The learned values with their recipes (``None`` before fitting)."""
        text = self._native.fitted_json()
        return None if text is None else json.loads(text)

    def fit(self, data: Any) -> FeatureEngineer:
        """A copy fitted on ``data`` (any table input)."""
        return FeatureEngineer(self._native.fit(to_table(data)._native))

    def transform(self, data: Any) -> Table:
        """The features of ``data``, lazily (fit first when :attr:`needs_fit`)."""
        return Table(self._native.transform(to_table(data)._native))

    def fit_transform(self, data: Any) -> tuple[FeatureEngineer, Table]:
        """Fits on ``data`` and transforms it: (fitted engineer, features)."""
        table = to_table(data)
        fitted = self.fit(table)
        return fitted, fitted.transform(table)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the fitted values and recipes as JSON (``--apply`` file)."""
        self._native.save(os.fspath(path))

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"FeatureEngineer({len(self.outputs)} outputs, {state})"

class Encoders:
    """Categorical encoders (frequency, smoothed target mean, rare
    grouping; ``docs/encoding.md``): fit on one table, apply to others."""

    def __init__(self, native: _scorelake.Encoders) -> None:
        self._native = native

    @classmethod
    def from_spec(cls, spec: str | os.PathLike[str] | Mapping[str, Any]) -> Encoders:
        """Encoders from a spec file or a dict with an ``encoders`` list."""
        return cls(_scorelake.Encoders.from_spec(document(spec)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Encoders:
        """Fitted mappings saved by :meth:`save`."""
        return cls(_scorelake.Encoders.load(os.fspath(path)))

    def mappings(self) -> dict[str, Any] | None:
        """The fitted mappings (``None`` before fitting)."""
        text = self._native.mappings_json()
        return None if text is None else json.loads(text)

    def fit(self, data: Any) -> Encoders:
        """The encoders fitted on ``data``."""
        return Encoders(self._native.fit(to_table(data)._native))

    def transform(self, data: Any, *, out_of_fold: bool = False) -> Table:
        """``data`` with its encoded columns. ``out_of_fold=True`` only on
        the fitting data: cross-fitted target encoders then give each row the
        value learned without its fold (other data is refused)."""
        return Table(self._native.transform(to_table(data)._native, out_of_fold))

    apply = transform
    """Another name of :meth:`transform` (fit on one table, apply to another)."""

    def fit_transform(self, data: Any) -> tuple[Encoders, Table]:
        """Fits on ``data`` and encodes it out-of-fold: (fitted, encoded)."""
        table = to_table(data)
        fitted = self.fit(table)
        return fitted, fitted.transform(table, out_of_fold=True)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the mappings as JSON."""
        self._native.save(os.fspath(path))

class Binning:
    """Bins per variable with WoE and IV (``docs/scorecard.md``)."""

    def __init__(self, native: _scorelake.Binning) -> None:
        self._native = native

    @classmethod
    def fit(cls, data: Any, spec: str | os.PathLike[str] | Mapping[str, Any]) -> Binning:
        """Bins fitted on ``data`` as a binning spec (file or dict with
        ``target``, ``variables`` and optional ``defaults``, ``weight``) says."""
        return cls(_scorelake.Binning.fit(to_table(data)._native, document(spec)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Binning:
        """A binning saved by :meth:`save`."""
        return cls(_scorelake.Binning.load(os.fspath(path)))

    def to_dict(self) -> dict[str, Any]:
        """The binning: totals, and each variable's bins with counts, WoE, IV."""
        return json.loads(self._native.to_json())

    @property
    def iv(self) -> dict[str, float]:
        """Information value per variable."""
        return {v["column"]: v["iv"] for v in self.to_dict()["variables"]}

    def iv_table(self) -> str:
        """IV per variable, as a Markdown table."""
        return self._native.iv_table()

    def tables(self) -> str:
        """Every variable's bins, as Markdown."""
        return self._native.tables()

    def transform(self, data: Any, variables: Sequence[str] | None = None) -> Table:
        """``data`` with ``<variable>_bin`` and ``<variable>_woe`` columns."""
        vs = list(variables) if variables is not None else None
        return Table(self._native.transform(to_table(data)._native, vs))

    def compress(
        self, data: Any, *, segments: Sequence[str] = (), woe: bool = False
    ) -> tuple[Table, dict[str, Any]]:
        """``data`` as weighted unique rows of bins (and ``segments``), with
        event weights; exact for any fit that uses only these columns.
        Returns (rows, report: rows and weights before and after)."""
        native, report = self._native.compress(to_table(data)._native, list(segments), woe)
        return Table(native), json.loads(report)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the binning as JSON."""
        self._native.save(os.fspath(path))

    def __str__(self) -> str:
        return self.iv_table()

    def __repr__(self) -> str:
        return f"Binning({', '.join(self.iv)})"

    def _repr_html_(self) -> str:
        rows = sorted(self.iv.items(), key=lambda kv: -kv[1])
        return table_html(["variable", "IV"], rows, note="information value")

def compress(
    data: Any,
    *,
    target: str,
    columns: Sequence[str],
    method: str = "quantile",
    bins: int = 10,
    segments: Sequence[str] = (),
    weight: str | None = None,
    woe: bool = False,
) -> tuple[Table, Binning, dict[str, Any]]:
    """Bins ``columns`` against ``target`` with one ``method`` (``quantile``,
    ``equal-width``, ``optimal``) and compresses ``data`` into weighted unique
    rows: (rows, binning, report)."""
    spec: dict[str, Any] = {
        "target": target,
        "defaults": {"method": method, "bins": bins},
        "variables": [{"column": c} for c in columns],
    }
    if weight is not None:
        spec["weight"] = weight
    table = to_table(data)
    binning = Binning.fit(table, spec)
    rows, report = binning.compress(table, segments=segments, woe=woe)
    return rows, binning, report

class Scorecard:
    """A points scorecard (``scorecard.json`` of a pipeline run)."""

    def __init__(self, native: _scorelake.Scorecard) -> None:
        self._native = native

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scorecard:
        """A scorecard file."""
        return cls(_scorelake.Scorecard.load(os.fspath(path)))

    def to_dict(self) -> dict[str, Any]:
        """Scaling, and each variable's points per bin."""
        return json.loads(self._native.to_json())

    def to_markdown(self) -> str:
        """Points per bin, as Markdown."""
        return self._native.to_markdown()

    def to_sql(self, input: str = "input", *, reasons: int = 0) -> str:
        """A SQL query scoring the table named ``input``: score, PD and
        ``reasons`` reason codes; runs on any SQL engine."""
        return self._native.to_sql(input, reasons)

    def score(
        self,
        data: Any,
        *,
        score: str = "score",
        pd: str | None = "pd",
        points: bool = False,
        reasons: int = 0,
    ) -> Table:
        """``data`` with its score, PD, points per variable (``points``) and
        the ``reasons`` variables that cost most points."""
        return Table(self._native.score(to_table(data)._native, score, pd, points, reasons))

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        names = [v["binning"]["column"] for v in self.to_dict()["variables"]]
        return f"Scorecard({', '.join(names)})"

def run_pipeline(
    spec: str | os.PathLike[str] | Mapping[str, Any], *, session: Session | None = None
) -> dict[str, Any]:
    """Runs a scorecard pipeline (``docs/scorecard.md``): sample, features,
    encoders, binning, selection, compression, logistic fit, points and
    evaluation; every artifact goes to its output folder. ``spec`` is a
    pipeline file, or the same as a dict whose relative paths are taken
    from the working folder. Returns the run's report (holdout and
    out-of-time Gini/KS, selection trail, steps). With
    ``observability.mlflow_url`` set, the run is also logged to MLflow:
    ``report["tracking"]`` holds ``{"logged": {"run_id": …, "page": …}}``,
    or ``{"failed": message}`` (also said once as a warning; the pipeline's
    result stands)."""
    s = session or default_session()
    report = json.loads(_scorelake.run_pipeline(s._native, document(spec)))
    failed = (report.get("tracking") or {}).get("failed")
    if failed:
        warnings.warn(f"not logged to MLflow: {failed}", stacklevel=2)
    return report
