"""Reading a bundle: the contract is checked, every problem is one readable reason."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.bundle import BundleError, read_bundle


def refusal(directory: Path) -> str:
    with pytest.raises(BundleError) as caught:
        read_bundle(directory)
    return str(caught.value)


def test_a_valid_bundle_is_read(write_bundle: Callable, small_schema: dict) -> None:
    bundle = read_bundle(write_bundle(small_schema))
    assert bundle.metadata.version == "7"
    assert [f.name for f in bundle.metadata.ordered_features()] == small_schema["feature_order"]
    assert bundle.raw == small_schema and bundle.model_dir == bundle.path / "model"


def test_the_feature_order_is_the_models_not_the_lists(write_bundle: Callable, small_schema: dict) -> None:
    small_schema["feature_order"] = ["rate", "count", "note", "kind"]
    names = [f.name for f in read_bundle(write_bundle(small_schema)).metadata.ordered_features()]
    assert names == ["rate", "count", "note", "kind"]


def test_missing_directory_and_metadata(tmp_path: Path) -> None:
    assert "does not exist" in refusal(tmp_path / "nope")
    assert "metadata.json is missing" in refusal(tmp_path)


def test_unreadable_metadata(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text("{not json")
    assert "not readable JSON" in refusal(tmp_path)


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda m: m.pop("threshold"), "threshold"),
        (lambda m: m.update(flavor="onnx"), "flavor"),
        (lambda m: m.update(threshold=1.5), "threshold"),
        (lambda m: m.update(feature_order=["kind", "note", "count"]), "feature_order"),
        (lambda m: m["example"].pop("rate"), "example row"),
        (lambda m: m.update(bundle_schema_version=2), "bundle_schema_version"),
        (lambda m: m.update(risk_bands={"medium": 0.5, "high": 0.3}), "risk_bands"),
        (lambda m: m["features"].append(dict(m["features"][0])), "duplicate"),
        (lambda m: m["features"][2].update(lower_bound=50), "lower_bound"),
        (lambda m: m["features"][0].update(categories=[]), "categories"),
        (lambda m: m["features"][0].update(type="text"), "features"),
    ],
)
def test_contract_violations_name_the_problem(
    write_bundle: Callable, small_schema: dict, edit: Callable[[dict[str, Any]], Any], reason: str
) -> None:
    edit(small_schema)
    assert reason in refusal(write_bundle(small_schema))


def test_missing_model_directory(write_bundle: Callable, small_schema: dict) -> None:
    directory = write_bundle(small_schema)
    (directory / "model").rmdir()
    assert "model directory" in refusal(directory)


def test_plot_paths_stay_inside_the_bundle(write_bundle: Callable, small_schema: dict) -> None:
    small_schema["plots"] = {"roc_curve": "plots/roc_curve.png", "escape": "../../etc/passwd", "gone": "plots/x.png"}
    directory = write_bundle(small_schema)
    (directory / "plots").mkdir()
    (directory / "plots" / "roc_curve.png").write_bytes(b"\x89PNG")
    bundle = read_bundle(directory)
    assert bundle.plot_path("roc_curve") == directory.resolve() / "plots" / "roc_curve.png"
    assert bundle.plot_path("escape") is None and bundle.plot_path("gone") is None
    assert bundle.plot_path("unknown") is None


@pytest.mark.slow
def test_a_trained_bundle_satisfies_the_contract(catboost_bundle: Path) -> None:
    bundle = read_bundle(catboost_bundle)
    assert bundle.metadata.flavor == "catboost"
    assert all(bundle.plot_path(name) is not None for name in bundle.metadata.plots)
