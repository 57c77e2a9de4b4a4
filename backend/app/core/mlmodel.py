"""Load the MLflow model directory of a bundle, per its MLmodel file, without importing MLflow.

This does what `mlflow.catboost.load_model` and `mlflow.sklearn.load_model` do for a local
directory (read the flavor configuration, then CatBoost's own loader or `skops.io.load` with the
trusted types recorded at logging time) but skips importing the `mlflow` package, which adds
noticeably to every start (on top of the libraries the service imports anyway; docs/benchmarks.md). Pickle and
cloudpickle sklearn models are refused: only the safe skops format is served. The equivalence
with MLflow's loaders is a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.core.bundle import BundleError

MLMODEL_FILE = "MLmodel"
SUPPORTED_CATBOOST_TYPES = {"CatBoostClassifier"}


def read_flavor(model_dir: Path, flavor: str) -> dict[str, Any]:
    """The configuration of one flavor from <model_dir>/MLmodel."""
    mlmodel = model_dir / MLMODEL_FILE
    try:
        document = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BundleError(f"{mlmodel} is not readable: {exc}") from None
    flavors = document.get("flavors") if isinstance(document, dict) else None
    if not isinstance(flavors, dict) or not isinstance(flavors.get(flavor), dict):
        raise BundleError(f"{mlmodel} has no '{flavor}' flavor")
    return flavors[flavor]


def _data_file(model_dir: Path, relative: object) -> Path:
    if not isinstance(relative, str) or not relative:
        raise BundleError(f"{model_dir / MLMODEL_FILE} does not name the model file")
    path = (model_dir / relative).resolve()
    if not path.is_file() or not path.is_relative_to(model_dir.resolve()):
        raise BundleError(f"model file {model_dir / relative} is missing")
    return path


def load_catboost(model_dir: Path) -> Any:
    """A CatBoostClassifier from the catboost flavor (as mlflow.catboost.load_model)."""
    conf = read_flavor(model_dir, "catboost")
    if conf.get("model_type") not in SUPPORTED_CATBOOST_TYPES:
        raise BundleError(f"unsupported CatBoost model type {conf.get('model_type')!r}")
    path = _data_file(model_dir, conf.get("data"))
    from catboost import CatBoostClassifier, CatBoostError

    model = CatBoostClassifier()
    try:
        model.load_model(str(path), format=conf.get("save_format") or "cbm")
    except CatBoostError as exc:
        raise BundleError(f"CatBoost cannot read {path}: {exc}") from None
    return model


def load_sklearn(model_dir: Path) -> Any:
    """A scikit-learn estimator from the sklearn flavor, skops format only (as mlflow.sklearn.load_model)."""
    conf = read_flavor(model_dir, "sklearn")
    if conf.get("serialization_format") != "skops":
        raise BundleError(f"sklearn model format {conf.get('serialization_format')!r} is refused (only skops)")
    path = _data_file(model_dir, conf.get("pickled_model"))
    import skops.io

    trusted = conf.get("skops_trusted_types") or []
    try:
        return skops.io.load(path, trusted=trusted)
    except Exception as exc:  # skops raises many types (untrusted types, bad zip, unpickling errors)
        raise BundleError(f"skops cannot read {path}: {type(exc).__name__}: {exc}") from None


def load_model(model_dir: Path, flavor: str) -> Any:
    """The fitted estimator of a bundle's model directory."""
    if flavor == "catboost":
        return load_catboost(model_dir)
    if flavor == "sklearn":
        return load_sklearn(model_dir)
    raise BundleError(f"unsupported flavor {flavor!r}")
