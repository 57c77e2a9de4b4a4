"""Training fixtures: a fresh MLflow store per test, and one four-candidate session shared by the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import fast_config
from training.tests.sessions import ALL_CANDIDATES, tracking_at, train


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLflow sqlite store for one test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    monkeypatch.delenv("BUNDLES_DIR", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One training session with all four candidates (shared by the assertions of several modules)."""
    tmp_path = tmp_path_factory.mktemp("full")
    with tracking_at(tmp_path):
        assert train(tmp_path, fast_config(tmp_path, ALL_CANDIDATES)) == 0
    return tmp_path
