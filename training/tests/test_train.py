"""Model tests: end-to-end training runs against a real MLflow sqlite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from conftest import ROOT, fast_config, write_config
from training.train import main

pytestmark = pytest.mark.slow
ALL = ["decision_tree", "logistic_regression", "random_forest", "catboost"]
CANDIDATE_METRICS = {
    "cv_roc_auc_mean",
    "cv_roc_auc_std",
    "test_accuracy",
    "test_precision",
    "test_recall",
    "test_f1",
    "test_roc_auc",
    "test_pr_auc",
    "test_brier",
    "test_log_loss",
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLflow sqlite store for one test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    monkeypatch.delenv("MODELS_DIR", raising=False)
    return tmp_path


def train(tmp_path: Path, cfg: dict, *flags: str, name: str = "params.yaml") -> int:
    return main(["--config", str(write_config(tmp_path / name, cfg)), *flags])


def client_for(tmp_path: Path) -> MlflowClient:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    return MlflowClient()


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One training session with all four candidates (shared by the assertions below)."""
    tmp_path = tmp_path_factory.mktemp("full")
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    try:
        assert train(tmp_path, fast_config(tmp_path, ALL)) == 0
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI")
        if previous:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    return tmp_path


def test_parent_and_one_nested_run_per_candidate_with_metrics(full_run: Path) -> None:
    client = client_for(full_run)
    experiment = client.get_experiment_by_name("credit-default")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 4
    assert sorted(r.data.tags["mlflow.runName"] for r in children) == sorted(ALL)
    for child in children:
        assert CANDIDATE_METRICS <= set(child.data.metrics)
        assert child.data.tags["dataset_sha256"] == parents[0].data.tags["dataset_sha256"]
        assert child.data.tags["dataset_rows"] == "1000" and child.data.tags["git_commit"]
        assert child.data.params, "candidate hyperparameters are logged"
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id, "plots")}
        assert {
            f"plots/{p}.png"
            for p in ("confusion_matrix", "roc_curve", "precision_recall", "calibration", "feature_importance")
        } <= artifacts
    parent = parents[0]
    assert parent.data.tags["champion"] in ALL
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {"comparison.csv", "comparison.json"}
    best = max(children, key=lambda r: r.data.metrics["cv_roc_auc_mean"])
    assert parent.data.tags["champion"] == best.data.tags["mlflow.runName"]


def test_champion_is_registered_with_alias_and_logged_model(full_run: Path) -> None:
    client = client_for(full_run)
    version = client.get_model_version_by_alias("credit-default", "champion")
    assert str(version.version) == "1"
    model = mlflow.pyfunc.load_model("models:/credit-default@champion")
    assert model.metadata.get_input_schema() is not None, "the model is logged with a signature"


def test_bundle_matches_the_data_and_the_registry(full_run: Path) -> None:
    bundle = full_run / "models" / "credit-default" / "latest"
    assert bundle.is_symlink() and bundle.resolve().name == "1"
    meta = json.loads((bundle / "metadata.json").read_text())
    client = client_for(full_run)
    version = client.get_model_version_by_alias("credit-default", "champion")
    assert meta["version"] == "1" and meta["run_id"] == version.run_id
    frame = pd.read_csv(ROOT / "data" / "german_credit.csv")
    assert meta["feature_order"] == [c for c in frame.columns if c != "creditability"]
    for feature in meta["features"]:
        column = frame[feature["name"]]
        if feature["type"] == "categorical":
            assert feature["categories"] == sorted(column.unique())
        else:
            assert (feature["min"], feature["max"]) == (column.min(), column.max())
    assert set(meta["example"]) == set(meta["feature_order"])
    assert 0 < meta["threshold"] < 1 and meta["risk_bands"]["high"] == meta["threshold"]
    assert meta["dataset"]["sha256"] == "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6"
    assert meta["dropped_features"] == []
    assert 0.70 <= meta["metrics"]["test_roc_auc"] <= 0.9
    for plot in meta["plots"].values():
        assert (bundle / plot).read_bytes()[:4] == b"\x89PNG"
    assert (bundle / "model" / "MLmodel").is_file()
    assert not [p for p in (full_run / "models" / "credit-default").iterdir() if p.name.startswith(".")]


def test_bundle_model_predicts_like_the_registry(full_run: Path) -> None:
    bundle = full_run / "models" / "credit-default" / "latest"
    meta = json.loads((bundle / "metadata.json").read_text())
    row = pd.DataFrame([meta["example"]]).astype(
        {f["name"]: "float64" for f in meta["features"] if f["type"] == "numeric"}
    )
    from_bundle = mlflow.pyfunc.load_model(str(bundle / "model")).predict(row)
    client_for(full_run)
    from_registry = mlflow.pyfunc.load_model("models:/credit-default@champion").predict(row)
    assert np.allclose(np.asarray(from_bundle, dtype=float), np.asarray(from_registry, dtype=float))


def test_gate_refuses_a_worse_model_and_force_overrides(store: Path) -> None:
    good = fast_config(store, ["logistic_regression"])
    assert train(store, good) == 0
    worse = fast_config(store, ["decision_tree"])
    worse["candidates"][0]["params"] = {"max_depth": 1}
    assert train(store, worse, name="worse.yaml") == 1
    client = client_for(store)
    assert [str(v.version) for v in client.search_model_versions("name='credit-default'")] == ["1"]
    assert sorted(p.name for p in (store / "models" / "credit-default").iterdir()) == ["1", "latest"]
    assert train(store, worse, "--force", name="worse.yaml") == 0
    assert str(client.get_model_version_by_alias("credit-default", "champion").version) == "2"
    assert str(client.get_model_version_by_alias("credit-default", "previous").version) == "1"
    assert (store / "models" / "credit-default" / "latest").resolve().name == "2"


def test_gate_refuses_below_the_minimum_auc(store: Path) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    cfg["quality_gate"] = {"min_test_roc_auc": 0.99, "max_drop_vs_champion": 0.02}
    assert train(store, cfg) == 1
    assert not (store / "models").exists()
    assert client_for(store).search_registered_models() == []


def test_a_second_store_never_overwrites_bundles_it_did_not_register(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    assert train(store, cfg) == 0
    bundle_meta = store / "models" / "credit-default" / "1" / "metadata.json"
    before = bundle_meta.read_bytes()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/other-store/mlflow.db")
    assert train(store, cfg) == 2
    err = capsys.readouterr().err
    assert "did not register: v1 (run" in err and "MLFLOW_TRACKING_URI" in err
    assert bundle_meta.read_bytes() == before
    assert sorted(p.name for p in (store / "models" / "credit-default").iterdir()) == ["1", "latest"]


def test_same_seed_gives_the_same_metrics(store: Path) -> None:
    metrics = []
    for attempt in ("a", "b"):
        work = store / attempt
        work.mkdir()
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work}/mlruns/mlflow.db"
        assert train(work, fast_config(work, ["logistic_regression", "catboost"])) == 0
        metrics.append(json.loads((work / "models" / "credit-default" / "1" / "metadata.json").read_text())["metrics"])
    assert metrics[0] == pytest.approx(metrics[1])


def test_another_binary_csv_trains_with_a_config_change_only(store: Path) -> None:
    rng = np.random.default_rng(3)
    n = 300
    income = rng.normal(50, 15, n).round(1)
    region = rng.choice(["north", "south", "east"], n)
    churn = np.where(rng.random(n) < 1 / (1 + np.exp((income - 45) / 8)) + (region == "east") * 0.2, "yes", "no")
    path = store / "churn.csv"
    pd.DataFrame({"income": income, "region": region, "tenure": rng.integers(1, 60, n), "churned": churn}).to_csv(
        path, index=False
    )
    cfg = fast_config(store, ALL)
    cfg["data"] = {"path": str(path), "target": "churned", "positive_label": "yes", "drop_features": []}
    cfg["registered_model_name"] = "churn"
    cfg["experiment_name"] = "churn"
    cfg["quality_gate"]["min_test_roc_auc"] = 0.5
    assert train(store, cfg) == 0
    meta = json.loads((store / "models" / "churn" / "latest" / "metadata.json").read_text())
    schema = {f["name"]: f for f in meta["features"]}
    assert schema["region"]["categories"] == ["east", "north", "south"]
    assert schema["income"]["dtype"] == "float" and schema["tenure"]["dtype"] == "integer"
    assert meta["dataset"]["positive_label"] == "yes" and meta["dataset"]["target"] == "churned"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["data"].update(path="data/nope.csv"), "data file not found"),
        (lambda c: c["data"].update(target="nope"), "target column 'nope' not in"),
        (lambda c: c["data"].update(target="housing"), "exactly two values"),
        (lambda c: c["data"].update(drop_features=["not_a_feature"]), "unknown feature"),
        (lambda c: c["candidates"][0].update(params={"C": -1.0}), "bad hyperparameters"),
        (lambda c: c.update(split="nonsense"), "split"),
    ],
)
def test_bad_input_exits_2_and_leaves_nothing(store: Path, capsys: pytest.CaptureFixture, change, message: str) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    change(cfg)
    assert train(store, cfg) == 2
    assert message in capsys.readouterr().err
    assert not (store / "models").exists()
    assert not (store / "mlruns").exists(), "no MLflow store, run or registered model is created"


def test_cli_exit_code_and_summary_in_a_real_process(store: Path) -> None:
    config = write_config(store / "params.yaml", fast_config(store, ["logistic_regression"]))
    done = subprocess.run(
        [sys.executable, "-m", "training.train", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "(* = champion)" in done.stdout and "bundle:" in done.stdout
    assert "fold 3/3" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "training.train", "--config", str(store / "missing.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "config file not found" in bad.stderr and "Traceback" not in bad.stderr
