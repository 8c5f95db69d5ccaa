"""Lake tables from Python: formats, Delta versions and time travel, sessions."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import scorelake as sl


def test_formats_round_trip(tmp_path: Path) -> None:
    panel = sl.sample(customers=30, months=6)
    expected = panel.to_arrow().sort_by([("customer_id", "ascending"), ("month", "ascending")])
    for name, fmt in [("p.parquet", None), ("p.csv", None), ("p.ncf", None), ("folder", "parquet")]:
        written = panel.write(tmp_path / name, format=fmt, partition_by=["product"] if name == "folder" else ())
        assert written["rows"] == expected.num_rows
        back = sl.read(tmp_path / name, format=fmt).to_arrow()
        back = back.select(expected.column_names).sort_by([("customer_id", "ascending"), ("month", "ascending")])
        assert back.num_rows == expected.num_rows
        assert back["balance"].to_pylist() == expected["balance"].to_pylist(), name


def test_delta_versions_and_time_travel(tmp_path: Path) -> None:
    url = tmp_path / "accounts"
    panel = sl.sample(customers=40, months=4)
    first = panel.filter("month < DATE '2023-03-01'")
    rest = panel.filter("month >= DATE '2023-03-01'")
    assert sl.table(first).write(url, format="delta")["version"] == 0
    assert rest.write(url, format="delta", mode="append")["version"] == 1
    history = sl.delta_history(url)
    assert [c["version"] for c in history] == [1, 0]
    assert sl.read(url).count() == panel.count()
    assert sl.read(url, version=0).count() == first.count()
    with pytest.raises(sl.ScoreLakeError, match="version"):
        sl.read(url, version=7).count()


def test_session_settings_and_default_session(tmp_path: Path) -> None:
    s = sl.Session(engine__target_partitions=3, config_file=None)
    shown = {k: (v, src) for k, v, src in s.config_show()}
    assert shown["engine.target_partitions"] == ("3", "Session(settings)")
    config = tmp_path / "lake.toml"
    config.write_text('[engine]\nmemory_limit = "1g"\n')
    s2 = sl.Session(config_file=config)
    shown = {k: (v, src) for k, v, src in s2.config_show()}
    assert shown["engine.memory_limit"] == ("1g", f"{config}:2")
    previous = sl.session()
    try:
        assert sl.config({"engine.batch_size": 1024}) is sl.session()
        assert sl.session() is not previous
    finally:
        sl.config()


def test_sample_is_deterministic() -> None:
    a = sl.sample(customers=20, seed=3).to_arrow()
    b = sl.sample(customers=20, seed=3).to_arrow()
    assert a.equals(b)
    assert pa.table(sl.sample(customers=20, seed=4)).num_rows > 0


def test_tracked_runs_are_recorded(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    s = sl.Session({"observability.metrics_dir": str(runs)})
    panel = s.sample(customers=30, months=6)
    assert panel.count() > 0  # before the run: not its plan
    with s.track("monthly count") as run:
        n = panel.filter("balance > 0").count()
    assert run.record["ok"] and run.record["name"] == "monthly count"
    assert len(run.record["plans"]) == 1, run.record["plans"]
    counted = [op for op in run.record["plans"][0] if op["name"] == "AggregateExec" and op["depth"] == 0]
    assert counted and run.record["cpu_seconds"] >= 0 and n > 0
    with pytest.raises(ZeroDivisionError):
        with s.track("broken") as failed:
            1 / 0
    assert failed.record["ok"] is False and "ZeroDivisionError" in failed.record["error"]
    assert len(list(runs.glob("*.json"))) == 2
