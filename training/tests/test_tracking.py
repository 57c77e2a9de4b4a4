"""Model tests: what a training session records in MLflow (parent run, one nested run per candidate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.tests.sessions import ALL_CANDIDATES, client_for

pytestmark = pytest.mark.slow
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


def test_parent_and_one_nested_run_per_candidate_with_metrics(full_run: Path) -> None:
    client = client_for(full_run)
    experiment = client.get_experiment_by_name("credit-default")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 4
    assert sorted(r.data.tags["mlflow.runName"] for r in children) == sorted(ALL_CANDIDATES)
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
    assert parent.data.tags["champion"] in ALL_CANDIDATES
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {"comparison.csv", "comparison.json"}
    best = max(children, key=lambda r: r.data.metrics["cv_roc_auc_mean"])
    assert parent.data.tags["champion"] == best.data.tags["mlflow.runName"]
