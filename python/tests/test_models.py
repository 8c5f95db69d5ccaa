"""Features, encoders, binning, compression and scorecards from Python:
fitted on one table, applied to another, equal to the command line's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet  # noqa: F401 (pa.parquet)
import pyarrow.compute as pc
import pytest

import scorelake as sl

ENCODERS = {
    "target": "default_flag",
    "encoders": [
        {"column": "product", "method": "frequency"},
        {"column": "region", "method": "target_mean", "smoothing": 20},
        {"column": "channel", "method": "rare", "threshold": 0.05, "label": "OTHER"},
    ]
}


def test_fitted_features_save_and_load(repo: Path, panel_path: Path, tmp_path: Path) -> None:
    engineer = sl.FeatureEngineer.from_recipes(repo / "examples" / "panel-features.yaml")
    assert engineer.needs_fit and not engineer.is_fitted
    with pytest.raises(sl.ScoreLakeError, match="fit"):
        engineer.transform(panel_path)
    fitted = engineer.fit(panel_path)
    fitted.save(tmp_path / "fitted.json")
    loaded = sl.FeatureEngineer.load(tmp_path / "fitted.json")
    assert loaded.fitted() == fitted.fitted()
    a = fitted.transform(panel_path).to_arrow()
    b = loaded.transform(panel_path).to_arrow()
    assert a.sort_by("customer_id").equals(b.sort_by("customer_id"))
    lineage = engineer.lineage()
    assert set(engineer.outputs) <= set(json.dumps(lineage).replace('"', " ").split())


def test_encoders_fit_on_train_apply_to_test(panel_path: Path, tmp_path: Path) -> None:
    panel = sl.read(panel_path)
    train = panel.filter("month < DATE '2024-01-01'")
    test = panel.filter("month >= DATE '2024-01-01'")
    encoders = sl.Encoders.from_spec(ENCODERS).fit(train)
    mappings = encoders.mappings()
    assert set(encoders.transform(test).columns) >= {"product_freq", "region_te", "channel_grouped"}
    assert len(mappings["encoders"]) == 3
    encoded = encoders.apply(test).to_arrow()
    assert encoded.num_rows == test.count()
    # Frequency encoding: each product's share of the training rows.
    shares = (
        train.to_arrow().group_by("product").aggregate([("product", "count")])
    )
    total = train.count()
    expected = {p: n / total for p, n in zip(shares["product"].to_pylist(), shares["product_count"].to_pylist())}
    for product, value in zip(encoded["product"].to_pylist(), encoded["product_freq"].to_pylist()):
        assert value == pytest.approx(expected[product], rel=1e-12)
    encoders.save(tmp_path / "m.json")
    assert sl.Encoders.load(tmp_path / "m.json").mappings() == mappings
    with pytest.raises(sl.ScoreLakeError):
        encoders.transform(test, out_of_fold=True).to_arrow()


def test_binning_and_exact_compression(panel_path: Path) -> None:
    spec = {
        "target": "default_flag",
        "defaults": {"method": "quantile", "bins": 5},
        "variables": [{"column": "balance"}, {"column": "utilization"}, {"column": "product"}],
    }
    binning = sl.Binning.fit(panel_path, spec)
    assert set(binning.iv) == {"balance", "utilization", "product"}
    assert repr(binning) == "Binning(balance, utilization, product)"
    assert "balance" in binning.iv_table()
    assert all(v >= 0 for v in binning.iv.values())
    rows, report = binning.compress(panel_path, segments=["region"])
    compressed = rows.to_arrow()
    panel = pa.parquet.read_table(panel_path)
    assert pc.sum(compressed["sample_weight"]).as_py() == pytest.approx(panel.num_rows)
    assert pc.sum(compressed["event_weight"]).as_py() == pytest.approx(pc.sum(panel["default_flag"]).as_py())
    assert compressed.num_rows < panel.num_rows
    assert (report["input_rows"], report["output_rows"]) == (panel.num_rows, compressed.num_rows)
    assert report["input_events"] == pc.sum(panel["default_flag"]).as_py()
    banded = binning.transform(panel_path, ["balance"]).to_arrow()
    assert {"balance_bin", "balance_woe"} <= set(banded.column_names)


def pipeline_file(repo: Path, features: Path, folder: Path, output: Path) -> Path:
    shutil.copy(repo / "examples" / "development-sample.yaml", folder / "development-sample.yaml")
    path = folder / "pipeline.yaml"
    path.write_text(
        f"""input: {features}
output: {output}
features: development-sample.yaml
target: bad_12m
holdout: {{share: 0.3, by: [customer_id], seed: 7}}
binning:
  defaults: {{method: optimal, prebins: 10, max_n_bins: 4, min_bin_size: 0.05, monotonic: auto}}
  variables: [utilization, balance, days_past_due_worst_last_6_months, num_inquiries, product]
selection: {{min_iv: 0.0, max_p_value: 1.0, check_signs: false, method: none}}
scaling: {{pdo: 20, base_score: 600, base_odds: 50, round: false}}
"""
    )
    return path


@pytest.fixture(scope="module")
def card_run(cli, repo: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("pipeline")
    features = folder / "features.parquet"
    engineer = sl.FeatureEngineer.from_recipes(repo / "examples" / "panel-features.yaml")
    engineer.fit_transform(sl.sample(customers=3000, seed=5))[1].write(features)
    ours = sl.run_pipeline(pipeline_file(repo, features, folder, folder / "py"))
    cli("run", str(pipeline_file(repo, features, folder, folder / "cli")))
    return folder, features, ours


def test_pipeline_from_a_dict(card_run, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, features, _ = card_run
    monkeypatch.chdir(folder)  # relative paths of a dict are the working folder's
    spec = {
        "input": features.name,
        "output": "from_dict",
        "features": "development-sample.yaml",
        "target": "bad_12m",
        "holdout": {"share": 0.3, "by": ["customer_id"], "seed": 7},
        "binning": {
            "defaults": {"method": "optimal", "prebins": 10, "max_n_bins": 4, "min_bin_size": 0.05, "monotonic": "auto"},
            "variables": ["utilization", "balance", "days_past_due_worst_last_6_months", "num_inquiries", "product"],
        },
        "selection": {"min_iv": 0.0, "max_p_value": 1.0, "check_signs": False, "method": "none"},
        "scaling": {"pdo": 20, "base_score": 600, "base_odds": 50, "round": False},
    }
    sl.run_pipeline(spec)
    ours = json.loads((folder / "from_dict" / "scorecard.json").read_text())
    assert ours == json.loads((folder / "py" / "scorecard.json").read_text())
    with pytest.raises(sl.ScoreLakeError, match="selection.min_iv"):
        sl.run_pipeline({**spec, "binning": {**spec["binning"], "min_iv": 0.1}})


def test_an_unreachable_mlflow_server_is_a_warning(card_run, repo: Path, tmp_path: Path) -> None:
    import socket

    folder, features, _ = card_run
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    s = sl.Session({"observability.mlflow_url": f"http://127.0.0.1:{port}"})
    with pytest.warns(UserWarning, match="not logged to MLflow") as caught:
        report = sl.run_pipeline(pipeline_file(repo, features, folder, tmp_path / "card"), session=s)
    assert len(caught) == 1
    assert "cannot connect" in report["tracking"]["failed"]
    assert (tmp_path / "card" / "scorecard.json").is_file()
    assert "tracking" not in sl.run_pipeline(pipeline_file(repo, features, folder, tmp_path / "plain"))


def test_pipeline_equals_the_command(card_run) -> None:
    folder, _, report = card_run
    ours = json.loads((folder / "py" / "scorecard.json").read_text())
    theirs = json.loads((folder / "cli" / "scorecard.json").read_text())
    assert ours == theirs
    assert 0 < report["holdout"]["gini"] <= 1
    card = sl.Scorecard.load(folder / "py" / "scorecard.json")
    assert repr(card).startswith("Scorecard(") and "points" in str(card).lower()


def test_scores_equal_the_exported_sql(card_run) -> None:
    folder, features, _ = card_run
    card = sl.Scorecard.load(folder / "py" / "scorecard.json")
    scored = card.score(features, reasons=2).to_arrow()
    applications = pa.parquet.read_table(features)  # noqa: F841 (read by DuckDB below)
    by_sql = duckdb.sql(card.to_sql("applications", reasons=2)).arrow().read_all()
    ours = scored.sort_by([("customer_id", "ascending"), ("month", "ascending")])
    theirs = by_sql.sort_by([("customer_id", "ascending"), ("month", "ascending")])
    diff = pc.max(pc.abs(pc.subtract(ours["score"], theirs["score"]))).as_py()
    assert diff < 1e-9
    assert ours["reason_1"].to_pylist() == theirs["reason_1"].to_pylist()
