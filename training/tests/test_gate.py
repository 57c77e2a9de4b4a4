"""The quality gate: its verdict on given metrics, and what a refused or forced session leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import fast_config
from training.config import QualityGateConfig
from training.gate import GateVerdict, check_gate
from training.registry import RegisteredChampion
from training.tests.sessions import client_for, train

GATE = QualityGateConfig(min_test_roc_auc=0.70, max_drop_vs_champion=0.02)


def incumbent(auc: float | None) -> RegisteredChampion:
    return RegisteredChampion(version="3", run_id="run-3", test_roc_auc=auc)


def test_a_first_champion_above_the_minimum_passes() -> None:
    verdict = check_gate(GATE, {"test_roc_auc": 0.75}, None)
    assert verdict.passed and verdict.reasons == ()
    assert verdict.decision(force=False) == "passed" and verdict.decision(force=True) == "passed"


def test_below_the_minimum_is_refused_unless_forced() -> None:
    verdict = check_gate(GATE, {"test_roc_auc": 0.65}, None)
    assert verdict.reasons == ("test ROC AUC 0.6500 is below the minimum 0.7000",)
    assert verdict.decision(force=False) == "refused" and verdict.decision(force=True) == "forced"


def test_the_incumbent_allows_a_small_drop_but_not_a_larger_one() -> None:
    assert check_gate(GATE, {"test_roc_auc": 0.79}, incumbent(0.80)).passed
    verdict = check_gate(GATE, {"test_roc_auc": 0.75}, incumbent(0.80))
    assert verdict.reasons == (
        "test ROC AUC 0.7500 is worse than the registered champion v3 (0.8000) by more than 0.0200",
    )


def test_an_incumbent_without_a_recorded_auc_is_not_compared() -> None:
    assert check_gate(GATE, {"test_roc_auc": 0.71}, incumbent(None)).passed


def test_every_failed_check_is_a_reason() -> None:
    verdict = check_gate(GATE, {"test_roc_auc": 0.60}, incumbent(0.80))
    assert len(verdict.reasons) == 2
    assert verdict.summary == "; ".join(verdict.reasons)
    assert GateVerdict().passed


@pytest.mark.slow
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


@pytest.mark.slow
def test_gate_refuses_below_the_minimum_auc(store: Path) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    cfg["quality_gate"] = {"min_test_roc_auc": 0.99, "max_drop_vs_champion": 0.02}
    assert train(store, cfg) == 1
    assert not (store / "models").exists()
    assert client_for(store).search_registered_models() == []
