"""The fairness gate and the behavioral tests in whole training sessions (real MLflow sqlite stores)."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from conftest import fast_config
from training.tests.sessions import client_for, train

pytestmark = pytest.mark.slow


def session_run(store: Path):
    """The session (parent) run of the only training in the store."""
    client = client_for(store)
    experiment = client.get_experiment_by_name("credit-default")
    runs = client.search_runs([experiment.experiment_id], "tags.champion != ''")
    assert len(runs) == 1
    return client, runs[0]


def test_a_strict_fairness_limit_refuses_and_registers_nothing(store: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    cfg["fairness"]["gate"] = {"action": "refuse", "min_demographic_parity_ratio": 0.95}
    assert train(store, cfg) == 1
    err = capsys.readouterr().err
    assert "quality gate refused the champion: age_band: demographic-parity ratio" in err
    assert "is below the limit 0.950 (out-of-fold predictions)" in err
    assert not (store / "models").exists()
    client, run = session_run(store)
    assert client.search_registered_models() == []
    assert run.data.tags["fairness_gate"] == "refused" and run.data.tags["quality_gate"] == "refused"
    gate = json.loads(Path(mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/gate.json")).read_text())
    assert gate["warnings"] == [] and any("demographic-parity ratio" in reason for reason in gate["reasons"])
    assert "champion_fairness_out_of_fold_age_band_demographic_parity_ratio" in run.data.metrics


def test_warn_registers_with_the_warning_recorded(store: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    cfg["fairness"]["gate"] = {
        "action": "warn",
        "min_demographic_parity_ratio": 0.95,
        "max_equalized_odds_difference": None,
    }
    assert train(store, cfg) == 0
    out = capsys.readouterr().out
    assert "quality gate warning: age_band: demographic-parity ratio" in out
    assert "gate: passed (fairness warned, behavioral tests passed, 1 warning(s))" in out
    bundle = store / "models" / "credit-default" / "1"
    meta = json.loads((bundle / "metadata.json").read_text())
    assert meta["gate"]["decision"] == "passed" and meta["gate"]["fairness"] == "warned"
    assert meta["gate"]["warnings"] == meta["fairness"]["gate"]["findings"] and len(meta["gate"]["warnings"]) == 1
    card = (bundle / "model_card.md").read_text()
    assert "| Quality gate | passed with 1 warning(s) |" in card
    assert f"- {meta['gate']['warnings'][0]}" in card
    client, run = session_run(store)
    assert run.data.tags["fairness_gate"] == "warned" and run.data.tags["quality_gate"] == "passed"
    assert str(client.get_model_version_by_alias("credit-default", "champion").version) == "1"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "fairness")}
    assert {"fairness/fairness.json", "fairness/by_group.csv", "fairness/fairness.png"} <= artifacts
    cards = {a.path for a in client.list_artifacts(run.info.run_id, "model_card")}
    assert cards == {"model_card/model_card.md", "model_card/model_card.html"}


def test_a_broken_behavioral_expectation_refuses(store: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    textbook = next(t for t in cfg["behavioral_tests"] if t["name"] == "textbook_low_risk")
    textbook["expect"] = "flagged"  # broken on purpose: the textbook good applicant
    assert train(store, cfg) == 1
    err = capsys.readouterr().err
    assert "behavioral test textbook_low_risk failed: P(default)" in err and "(expected flagged)" in err
    assert not (store / "models").exists()
    client, run = session_run(store)
    assert client.search_registered_models() == []
    assert run.data.tags["behavioral_tests"] == "failed"
    children = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert children[0].data.metrics["behavioral_textbook_low_risk_passed"] == 0.0


def test_an_invariance_test_that_is_not_enforced_is_reported_only(full_run: Path) -> None:
    meta = json.loads((full_run / "models" / "credit-default" / "latest" / "metadata.json").read_text())
    results = {r["name"]: r for r in meta["behavioral_tests"]}
    sex = results["sex_invariance"]
    assert sex["enforced"] is False and sex["figures"]["applicants"] == 200
    assert (
        sex["figures"]["values"]
        == sorted(f["categories"] for f in meta["features"] if f["name"] == "personal_status_and_sex")[0]
    )
    assert meta["gate"]["decision"] == "passed" and meta["gate"]["behavioral"] == "passed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["fairness"]["groups"]["sex"].update(column="gender"),
            "fairness.groups.sex: column 'gender' is not in",
        ),
        (
            lambda c: c["fairness"]["groups"]["age_band"].update(bins=[21, 30, 60], labels=None),
            "fairness.groups.age_band: bins [21.0, 30.0, 60.0] do not cover the values of 'age_in_years' (from 19",
        ),
        (
            lambda c: c["behavioral_tests"].append({"name": "x", "type": "monotone", "feature": "credit_amount"}),
            "behavioral_tests.6: Input tag 'monotone' found using 'type' does not match any of the expected tags",
        ),
        (
            lambda c: c["behavioral_tests"][0].update(feature="salary"),
            "behavioral_tests.longer_duration_not_safer: unknown feature 'salary'",
        ),
    ],
)
def test_bad_governance_input_exits_2_and_leaves_nothing(
    store: Path, capsys: pytest.CaptureFixture, change, message: str
) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    change(cfg)
    assert train(store, cfg) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (store / "models").exists()
    assert not (store / "mlruns").exists(), "no MLflow store, run or registered model is created"
