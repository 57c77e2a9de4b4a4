"""Shared fixtures: real bundles trained once per test session (real MLflow sqlite store)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent
PARAMS = ROOT / "training" / "params.yaml"
FAST_OVERRIDES = {
    "decision_tree": {},
    "logistic_regression": {},
    "random_forest": {"n_estimators": 60},
    "catboost": {"iterations": 150},
}


def fast_config(tmp_dir: Path, candidates: list[str], **changes) -> dict:
    """The real params.yaml, shrunk for tests: fewer folds, trees, repeats and bootstrap resamples."""
    cfg = yaml.safe_load(PARAMS.read_text())
    cfg["data"]["path"] = str(ROOT / cfg["data"]["path"])
    cfg["export_dir"] = str(tmp_dir / "models")
    cfg["split"]["cv_folds"] = 3
    cfg["permutation_repeats"] = 1
    cfg["fairness"]["bootstrap"]["n_boot"] = 20
    cfg["candidates"] = [
        {**c, "params": {**c["params"], **FAST_OVERRIDES[c["type"]]}}
        for c in cfg["candidates"]
        if c["name"] in candidates
    ]
    for key, value in changes.items():
        cfg[key] = value
    return copy.deepcopy(cfg)


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def bundle_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Train (once per session and candidate) a one-candidate champion; return its bundle dir."""
    from training.config import TrainingConfig
    from training.train import run

    cache: dict[str, Path] = {}

    def make(candidate: str = "catboost") -> Path:
        if candidate not in cache:
            work = tmp_path_factory.mktemp(f"bundle-{candidate}")
            cfg = TrainingConfig.model_validate(fast_config(work, [candidate]))
            previous = os.environ.get("MLFLOW_TRACKING_URI")
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work}/mlruns/mlflow.db"
            try:
                cache[candidate] = run(cfg).resolve()
            finally:
                if previous is None:
                    os.environ.pop("MLFLOW_TRACKING_URI", None)
                else:
                    os.environ["MLFLOW_TRACKING_URI"] = previous
        return cache[candidate]

    return make


@pytest.fixture(scope="session")
def catboost_bundle(bundle_factory: Callable[[str], Path]) -> Path:
    return bundle_factory("catboost")


@pytest.fixture(scope="session")
def logreg_bundle(bundle_factory: Callable[[str], Path]) -> Path:
    return bundle_factory("logistic_regression")


@pytest.fixture(scope="session")
def forest_bundle(bundle_factory: Callable[[str], Path]) -> Path:
    return bundle_factory("random_forest")
