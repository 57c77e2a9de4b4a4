"""The MLmodel reader loads what MLflow's own flavor loaders load, and refuses unsafe formats."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from app.core.bundle import BundleError
from app.core.mlmodel import load_model, read_flavor

pytestmark = pytest.mark.slow


def test_catboost_matches_mlflow_catboost_loader(catboost_bundle: Path, training_rows: pd.DataFrame) -> None:
    import mlflow.catboost

    ours = load_model(catboost_bundle / "model", "catboost")
    theirs = mlflow.catboost.load_model(str(catboost_bundle / "model"))
    np.testing.assert_array_equal(ours.predict_proba(training_rows), theirs.predict_proba(training_rows))


@pytest.mark.parametrize("bundle_name", ["logreg_bundle", "forest_bundle"])
def test_sklearn_matches_mlflow_sklearn_loader(
    bundle_name: str, request: pytest.FixtureRequest, training_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.sklearn

    bundle = request.getfixturevalue(bundle_name)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    ours = load_model(bundle / "model", "sklearn")
    theirs = mlflow.sklearn.load_model(str(bundle / "model"))
    assert ours.get_params(deep=False).keys() == theirs.get_params(deep=False).keys()
    # equal up to summation order (a random forest adds its trees' votes in thread completion order)
    np.testing.assert_allclose(
        ours.predict_proba(training_rows), theirs.predict_proba(training_rows), rtol=0, atol=1e-12
    )


def edit_mlmodel(model_dir: Path, flavor: str, **changes: object) -> None:
    path = model_dir / "MLmodel"
    document = yaml.safe_load(path.read_text())
    document["flavors"][flavor].update(changes)
    path.write_text(yaml.safe_dump(document))


def refusal(model_dir: Path, flavor: str) -> str:
    with pytest.raises(BundleError) as caught:
        load_model(model_dir, flavor)
    return str(caught.value)


def test_pickled_sklearn_models_are_refused(logreg_bundle: Path, bundle_copy: Callable) -> None:
    model_dir = bundle_copy(logreg_bundle) / "model"
    edit_mlmodel(model_dir, "sklearn", serialization_format="cloudpickle")
    assert "only skops" in refusal(model_dir, "sklearn")


def test_missing_flavor_and_missing_file(catboost_bundle: Path, bundle_copy: Callable) -> None:
    model_dir = bundle_copy(catboost_bundle) / "model"
    assert "no 'sklearn' flavor" in refusal(model_dir, "sklearn")
    assert "unsupported flavor" in refusal(model_dir, "onnx")
    edit_mlmodel(model_dir, "catboost", data="../../elsewhere.cb")
    assert "missing" in refusal(model_dir, "catboost")


def test_corrupt_model_files_are_a_bundle_error(
    catboost_bundle: Path, logreg_bundle: Path, bundle_copy: Callable
) -> None:
    catboost_dir = bundle_copy(catboost_bundle) / "model"
    (catboost_dir / read_flavor(catboost_dir, "catboost")["data"]).write_bytes(b"garbage")
    assert "CatBoost cannot read" in refusal(catboost_dir, "catboost")
    sklearn_dir = bundle_copy(logreg_bundle) / "model"
    (sklearn_dir / read_flavor(sklearn_dir, "sklearn")["pickled_model"]).write_bytes(b"garbage")
    assert "skops cannot read" in refusal(sklearn_dir, "sklearn")
    (sklearn_dir / "MLmodel").write_text("flavors: [")
    assert "not readable" in refusal(sklearn_dir, "sklearn")
