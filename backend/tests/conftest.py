"""Backend fixtures: apps over the real bundles of the root conftest, and a small synthetic schema."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.core.bundle import BundleMetadata
from app.core.config import Settings
from app.main import create_app
from tests.kit.api_keys import ALL_SCOPES, bearer, key_store
from tests.kit.backend import backend_process
from tests.kit.processes import LiveProcess

if TYPE_CHECKING:
    from training.data import Dataset

LOAD_TIMEOUT_S = 60


@contextmanager
def serving(bundle: Path | None, **settings: Any) -> Iterator[TestClient]:
    """A TestClient over a fresh app whose bundle finished loading (or failing); it sends a key with every scope
    (its own key store)."""
    work = Path(tempfile.mkdtemp(prefix="prediction-log-"))
    settings.setdefault("PREDICTION_LOG_PATH", work / "predictions.db")
    key = key_store(work / "api-keys.json", tests=ALL_SCOPES)["tests"]
    settings.setdefault("API_KEYS_PATH", work / "api-keys.json")
    app = create_app(Settings(SERVED_BUNDLE=bundle or Path("/nonexistent/bundle"), **settings))
    with TestClient(app, headers=bearer(key)) as client:
        app.state.loader.join(LOAD_TIMEOUT_S)
        yield client


def unloaded_client(**settings: Any) -> TestClient:
    """A TestClient over a fresh app whose lifespan does not run (no model loads), sending a key with every scope."""
    work = Path(tempfile.mkdtemp(prefix="unloaded-"))
    key = key_store(work / "api-keys.json", tests=ALL_SCOPES)["tests"]
    settings.setdefault("SERVED_BUNDLE", Path("unused"))
    app = create_app(Settings(API_KEYS_PATH=work / "api-keys.json", PREDICTION_LOG_PATH=work / "p.db", **settings))
    return TestClient(app, headers=bearer(key))


@pytest.fixture
def unloaded() -> Callable[..., TestClient]:
    """unloaded(**settings) -> an authenticated TestClient over an app that never loads its model."""
    return unloaded_client


@pytest.fixture(scope="session")
def catboost_client(catboost_bundle: Path) -> Iterator[TestClient]:
    with serving(catboost_bundle) as client:
        yield client


@pytest.fixture(scope="session")
def logreg_client(logreg_bundle: Path) -> Iterator[TestClient]:
    with serving(logreg_bundle) as client:
        yield client


@pytest.fixture(scope="session")
def forest_client(forest_bundle: Path) -> Iterator[TestClient]:
    with serving(forest_bundle) as client:
        yield client


def read_metadata(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "metadata.json").read_text())


@pytest.fixture(scope="session")
def example(catboost_bundle: Path) -> dict[str, Any]:
    """The catboost bundle's example applicant (all three test bundles share the dataset)."""
    return read_metadata(catboost_bundle)["example"]


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Callable[[Path, Callable[[dict], None] | None], Path]:
    """copy(bundle, edit) -> a private copy of a bundle, its metadata.json changed by `edit`."""

    def copy_bundle(bundle: Path, edit: Callable[[dict], None] | None = None) -> Path:
        target = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(bundle, target)
        if edit is not None:
            metadata = read_metadata(target)
            edit(metadata)
            (target / "metadata.json").write_text(json.dumps(metadata))
        return target

    return copy_bundle


SMALL_SCHEMA: dict[str, Any] = {
    "name": "toy",
    "version": "7",
    "run_id": "r",
    "algorithm": "catboost",
    "flavor": "catboost",
    "model_path": "model",
    "trained_at": "2026-01-01T00:00:00+00:00",
    "dataset": {"target": "y", "positive_label": "bad"},
    "dropped_features": [],
    "metrics": {"test_roc_auc": 0.8},
    "threshold": 0.3,
    "risk_bands": {"medium": 0.15, "high": 0.3},
    "features": [
        {"name": "kind", "type": "categorical", "categories": ["a", "b"], "nullable": False, "example": "a"},
        {"name": "note", "type": "categorical", "categories": ["__missing__", "x"], "nullable": True, "example": "x"},
        {
            "name": "count",
            "type": "numeric",
            "dtype": "integer",
            "min": 1,
            "max": 9,
            "lower_bound": 0,
            "upper_bound": 18,
            "nullable": False,
            "example": 3,
        },
        {
            "name": "rate",
            "type": "numeric",
            "dtype": "float",
            "min": 0.5,
            "max": 2.5,
            "lower_bound": 0,
            "upper_bound": 5,
            "nullable": True,
            "example": 1.5,
        },
    ],
    "feature_order": ["kind", "note", "count", "rate"],
    "example": {"kind": "b", "note": "x", "count": 4, "rate": 2.0},
    "bundle_schema_version": 1,
}


@pytest.fixture
def small_metadata() -> BundleMetadata:
    """Four features: a plain and a nullable categorical, an integer and a nullable float."""
    return BundleMetadata.model_validate(copy.deepcopy(SMALL_SCHEMA))


@pytest.fixture
def small_schema() -> dict[str, Any]:
    """A fresh copy of the small schema's metadata.json content."""
    return copy.deepcopy(SMALL_SCHEMA)


@pytest.fixture
def write_bundle(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """write(metadata) -> a bundle dir with that metadata.json and an empty model/ dir."""

    def write(metadata: dict[str, Any]) -> Path:
        directory = tmp_path / f"bundle-{len(list(tmp_path.iterdir()))}"
        (directory / "model").mkdir(parents=True)
        (directory / "metadata.json").write_text(json.dumps(metadata))
        return directory

    return write


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The training data set, loaded once per session as training loads it."""
    from training.config import DataConfig
    from training.data import load_dataset

    config = DataConfig(path=ROOT / "data" / "german_credit.csv", target="creditability", positive_label="bad")
    return load_dataset(config)


def json_ready(rows: pd.DataFrame, bundle: Path) -> list[dict[str, Any]]:
    """Rows as JSON applicants in the bundle's feature order (integer features as int)."""
    metadata = read_metadata(bundle)
    integers = {f["name"] for f in metadata["features"] if f.get("dtype") == "integer"}
    return [
        {name: int(value) if name in integers else value for name, value in row.items()}
        for row in rows[metadata["feature_order"]].to_dict("records")
    ]


@pytest.fixture(scope="session")
def training_rows(dataset: Dataset) -> pd.DataFrame:
    """200 applicants typed exactly as at training time (float64 numbers, object strings)."""
    return dataset.features.head(200)


@pytest.fixture(scope="session")
def applicants(training_rows: pd.DataFrame, catboost_bundle: Path) -> list[dict[str, Any]]:
    """The same 200 applicants, JSON-ready (integer features as int); every test bundle accepts them."""
    return json_ready(training_rows, catboost_bundle)


@pytest.fixture(scope="session")
def as_row(catboost_bundle: Path) -> Callable[[dict[str, Any]], tuple]:
    """as_row(applicant) -> its values in the bundles' feature order (a validated applicant's form)."""
    names = read_metadata(catboost_bundle)["feature_order"]
    return lambda applicant: tuple(applicant[name] for name in names)


@pytest.fixture(scope="session")
def applicant_rows(applicants: list[dict[str, Any]], as_row: Callable) -> list[tuple]:
    """The 200 applicants as rows."""
    return [as_row(applicant) for applicant in applicants]


@pytest.fixture(scope="session")
def holdout(dataset: Dataset) -> pd.DataFrame:
    """The hold-out rows of the test bundles' training (the split of training/params.yaml), typed as at training."""
    from conftest import fast_config
    from training.config import SplitConfig
    from training.data import split

    settings = fast_config(ROOT, [])["split"]
    _, x_test, _, _ = split(dataset, SplitConfig(test_size=settings["test_size"], seed=settings["seed"]))
    return x_test


@pytest.fixture(scope="session")
def holdout_rows(holdout: pd.DataFrame, catboost_bundle: Path, as_row: Callable) -> list[tuple]:
    """The hold-out applicants as validated rows (integer features as int)."""
    return [as_row(applicant) for applicant in json_ready(holdout, catboost_bundle)]


@pytest.fixture(scope="session")
def random_applicants(dataset: Dataset, catboost_bundle: Path) -> list[dict[str, Any]]:
    """300 applicants drawn at random from the whole dataset (its file order is not random), JSON-ready."""
    return json_ready(dataset.features.sample(300, random_state=7), catboost_bundle)


@pytest.fixture(scope="session")
def live_catboost(catboost_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProcess]:
    """One real backend process (`python -m app`, color green) serving the catboost bundle, shared by the live tests."""
    with backend_process(catboost_bundle, tmp_path_factory.mktemp("live")) as server:
        server.wait_for("/ready")
        yield server


@pytest.fixture
def serve() -> Callable[..., Any]:
    """serve(bundle, **settings) -> a context manager giving a TestClient over a fresh, loaded app."""
    return serving


@pytest.fixture
def start_live_server(tmp_path: Path) -> Callable[..., Any]:
    """start_live_server(bundle, **env) -> a context manager giving a running backend process (LiveProcess)."""
    return lambda bundle=None, **env: backend_process(bundle, tmp_path, **env)
