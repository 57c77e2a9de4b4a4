"""The bundle's metadata: the score reference, the commit lookup, and a real session's metadata.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from training.metadata import SCORE_BINS, git_commit, score_reference
from training.tests.sessions import client_for


def test_score_reference_counts_each_score_in_its_bin() -> None:
    reference = score_reference(np.array([0.05, 0.15, 0.15, 0.1, 0.95]))
    assert reference["kind"] == "numeric" and reference["edges"] == SCORE_BINS
    assert len(reference["shares"]) == len(SCORE_BINS) + 1
    assert reference["shares"][:2] == [0.2, 0.6], "an edge value belongs to the bin above it"
    assert reference["shares"][-1] == 0.2 and sum(reference["shares"]) == pytest.approx(1.0)


def test_git_commit_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMIT", "0123abc")
    assert git_commit() == "0123abc"


@pytest.mark.slow
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
    assert list(meta["reason_codes"]["features"]) == meta["feature_order"], "a reason text for every feature"
    outcomes = meta["decision_policy"]["outcomes"]
    assert [(o["from"], o["to"]) for o in outcomes] == [
        (0.0, meta["risk_bands"]["medium"]),
        (meta["risk_bands"]["medium"], meta["threshold"]),
        (meta["threshold"], 1.0),
    ]
    assert sum(o["holdout_share"] for o in outcomes) == pytest.approx(1.0)
    assert f"threshold {meta['threshold']:.3f}" in meta["decision_policy"]["threshold_rationale"]
    assert 0.70 <= meta["metrics"]["test_roc_auc"] <= 0.9
    for plot in meta["plots"].values():
        assert (bundle / plot).read_bytes()[:4] == b"\x89PNG"
    assert (bundle / "model" / "MLmodel").is_file()
    assert not [p for p in (full_run / "models" / "credit-default").iterdir() if p.name.startswith(".")]
