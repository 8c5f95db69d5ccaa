"""Bad input gives Python exceptions carrying the library's message."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest

import scorelake as sl


def test_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    with pytest.raises(sl.ScoreLakeError, match="nope.parquet"):
        sl.read(missing)


def test_unknown_column_names_it_and_suggests() -> None:
    t = sl.table(pa.table({"balance": [1.0, 2.0]}))
    with pytest.raises(sl.ScoreLakeError, match="balanse"):
        sl.validate(t, columns=["balanse"])


def test_bad_recipe_names_the_recipe() -> None:
    with pytest.raises(sl.ScoreLakeError, match="no_such_op"):
        sl.FeatureEngineer.from_recipes(
            {"entity": "id", "time": "t", "recipes": [{"name": "x", "operation": "no_such_op", "source": "a"}]}
        )


def test_wrong_column_type_is_an_error_not_a_crash() -> None:
    t = sl.table(pa.table({"customer_id": [1, 1], "month": [1, 2], "balance": ["x", "y"]}))
    fe = sl.FeatureEngineer.from_recipes(
        {"entity": "customer_id", "time": "month", "recipes": [{"name": "d", "operation": "delta", "source": "balance"}]}
    )
    with pytest.raises(sl.ScoreLakeError, match="balance"):
        fe.transform(t).to_arrow()


def test_bad_setting_names_the_key() -> None:
    with pytest.raises(sl.ScoreLakeError, match=r"memory_limt.*Session\(settings\).*memory_limit"):
        sl.Session({"engine.memory_limt": "1g"})
    with pytest.raises(sl.ScoreLakeError, match="memory_limit"):
        sl.Session({"engine.memory_limit": "lots"})


def test_bad_spec_argument_type() -> None:
    with pytest.raises(TypeError, match="file path or a dict"):
        sl.Encoders.from_spec(42)


def test_existing_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    t = sl.table(pa.table({"x": [1]}))
    t.write(out)
    with pytest.raises(sl.ScoreLakeError, match="exists"):
        t.write(out)
    assert t.write(out, mode="overwrite")["rows"] == 1
    with pytest.raises(sl.ScoreLakeError, match="mode"):
        t.write(out, mode="replace")


def test_missing_optional_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    t = sl.table(pa.table({"x": [1]}))
    with pytest.raises(ImportError, match="pip install pandas"):
        t.to_pandas()


def test_secrets_are_not_in_messages() -> None:
    secret = "SECRETKEY-0123456789"
    s = sl.Session(
        {
            "storage.s3.access_key_id": "AKIA-EXAMPLE-KEY",
            "storage.s3.secret_access_key": secret,
            "storage.s3.endpoint": "http://127.0.0.1:9",
            "storage.s3.allow_http": "true",
            "storage.s3.max_retries": "0",
            "storage.s3.retry_timeout": "2s",
        }
    )
    with pytest.raises(sl.ScoreLakeError) as caught:
        s.read(f"s3://bucket-{secret}/x.parquet").count()
    assert secret not in str(caught.value)
    assert "AKIA-EXAMPLE-KEY" not in str(caught.value)
    shown = {k: v for k, v, _ in s.config_show()}
    assert secret not in shown["storage.s3.secret_access_key"]
