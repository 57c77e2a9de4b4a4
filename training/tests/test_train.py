"""Pipeline and CLI tests: whole training sessions against a real MLflow sqlite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, fast_config, write_config
from training.tests.sessions import ALL_CANDIDATES, train

pytestmark = pytest.mark.slow


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
    cfg = fast_config(store, ALL_CANDIDATES)
    cfg["data"] = {"path": str(path), "target": "churned", "positive_label": "yes", "drop_features": []}
    cfg["registered_model_name"] = "churn"
    cfg["experiment_name"] = "churn"
    cfg["quality_gate"]["min_test_roc_auc"] = 0.5
    cfg["reasons"] = {
        "features": {
            "income": {"label": "Income", "high": "High income ({value})", "low": "Low income ({value})"},
            "region": {"label": "Region", "categories": {"east": "Lives in the east"}, "template": "Region: {value}"},
            "tenure": {"label": "Tenure", "high": "Long tenure", "low": "Short tenure ({value} months)"},
        }
    }
    # The governance sections describe German credit's columns: another dataset declares its own (none here).
    cfg.update(fairness={"groups": {}}, behavioral_tests=[], model_card={}, inputs={})
    assert train(store, cfg) == 0
    meta = json.loads((store / "models" / "churn" / "latest" / "metadata.json").read_text())
    card = (store / "models" / "churn" / "latest" / "model_card.md").read_text()
    assert "Not measured: no groups are configured" in card and "German" not in card
    schema = {f["name"]: f for f in meta["features"]}
    assert schema["region"]["categories"] == ["east", "north", "south"]
    assert schema["income"]["dtype"] == "float" and schema["tenure"]["dtype"] == "integer"
    assert meta["dataset"]["positive_label"] == "yes" and meta["dataset"]["target"] == "churned"
    assert meta["reason_codes"]["features"]["region"]["categories"] == {
        "east": "Lives in the east",
        "north": "Region: north",
        "south": "Region: south",
    }
    assert [o["name"] for o in meta["decision_policy"]["outcomes"]] == ["approve", "refer", "decline"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["data"].update(path="data/nope.csv"), "data file not found"),
        (lambda c: c["data"].update(target="nope"), "target column 'nope' not in"),
        (lambda c: c["data"].update(target="housing"), "exactly two values"),
        (lambda c: c["data"].update(drop_features=["not_a_feature"]), "unknown feature"),
        (lambda c: c["candidates"][0].update(params={"C": -1.0}), "bad hyperparameters"),
        (lambda c: c.update(split="nonsense"), "split"),
        (lambda c: c["reasons"]["features"].pop("purpose"), "reasons.features has no entry for feature(s): purpose"),
        (
            lambda c: c["reasons"]["features"]["housing"]["categories"].update(castle="Castle"),
            "reasons.features.housing.categories names unknown value(s): 'castle'",
        ),
        (lambda c: c["reasons"]["features"].update(salary={"label": "Salary"}), "unknown feature(s): salary"),
        (lambda c: c.pop("reasons"), "reasons: Field required"),
        (
            lambda c: c["decision_policy"]["outcomes"][1].update({"from": "threshold"}),
            "a gap between outcome 'approve' (to medium) and 'refer' (from threshold)",
        ),
        (
            lambda c: c["decision_policy"]["outcomes"][2].update({"from": "medium"}),
            "an overlap between outcome 'refer' (to threshold) and 'decline' (from medium)",
        ),
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
