"""Helpers for tests that run whole training sessions through the CLI against real MLflow sqlite stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from conftest import write_config
from training.train import main

ALL_CANDIDATES = ["decision_tree", "logistic_regression", "random_forest", "catboost"]


def train(tmp_path: Path, cfg: dict, *flags: str, name: str = "params.yaml") -> int:
    """Write `cfg` as a YAML file in tmp_path and run the CLI on it; return its exit code."""
    return main(["--config", str(write_config(tmp_path / name, cfg)), *flags])


def client_for(tmp_path: Path) -> MlflowClient:
    """A client on the store a session in tmp_path wrote (also sets MLflow's tracking URI)."""
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    return MlflowClient()


@contextmanager
def tracking_at(work: Path) -> Iterator[None]:
    """MLFLOW_TRACKING_URI at work's store for the block (module and session fixtures cannot monkeypatch)."""
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work}/mlruns/mlflow.db"
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI")
        if previous:
            os.environ["MLFLOW_TRACKING_URI"] = previous
