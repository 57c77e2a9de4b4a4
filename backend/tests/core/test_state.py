"""Loading into the model state: ready with a good bundle, a reason (never a crash) otherwise."""

import gc
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.state import NO_MODEL, ModelState, load_into, start_loader


def loaded(bundle: Path) -> ModelState:
    state = ModelState("green")
    load_into(state, Settings(SERVED_BUNDLE=bundle))
    return state


def test_a_fresh_state_is_loading_without_a_model() -> None:
    state = ModelState("blue")
    assert (state.status, state.version, state.service) == ("loading", NO_MODEL, None)
    assert dict(state.response_headers) == {
        b"x-deployment-color": b"blue",
        b"x-model-version": b"none",
        b"x-app-revision": b"unknown",
    }


def test_a_missing_bundle_fails_with_the_path_in_the_reason(tmp_path: Path) -> None:
    state = loaded(tmp_path / "absent")
    assert state.status == "failed" and state.service is None
    assert str(tmp_path / "absent") in state.reason


@pytest.mark.slow
def test_a_good_bundle_is_served_and_the_heap_frozen(catboost_bundle: Path) -> None:
    state = loaded(catboost_bundle)
    assert state.status == "ready" and state.reason == ""
    assert state.version == json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    assert dict(state.response_headers)[b"x-model-version"] == state.version.encode()
    assert state.load_seconds is not None and gc.get_freeze_count() > 0


@pytest.mark.slow
def test_the_loader_thread_fills_the_state(catboost_bundle: Path) -> None:
    state = ModelState("blue")
    thread = start_loader(state, Settings(SERVED_BUNDLE=catboost_bundle))
    thread.join(60)
    assert state.status == "ready"


def swap_model_file(bundle: Path, other: Path) -> None:
    """A bundle whose metadata says CatBoost but whose model directory holds another model."""
    for item in (bundle / "model").iterdir():
        item.unlink()
    for item in (other / "model").iterdir():
        (bundle / "model" / item.name).write_bytes(item.read_bytes())


def rename_feature(metadata: dict) -> None:
    old = metadata["feature_order"][0]
    metadata["feature_order"][0] = "renamed"
    metadata["example"]["renamed"] = metadata["example"].pop(old)
    next(f for f in metadata["features"] if f["name"] == old)["name"] = "renamed"


def example_outside_schema(metadata: dict) -> None:
    metadata["example"]["purpose"] = "yacht"


@pytest.mark.slow
@pytest.mark.parametrize(
    "break_bundle, reason",
    [
        (lambda b, other: (b / "model" / "model.cb").write_bytes(b"\0" * 64), "CatBoost cannot read"),
        (lambda b, other: (b / "metadata.json").write_text("{"), "not readable JSON"),
        (swap_model_file, "no 'catboost' flavor"),
    ],
)
def test_a_broken_bundle_is_never_served(
    catboost_bundle: Path, logreg_bundle: Path, bundle_copy: Callable, break_bundle: Callable, reason: str
) -> None:
    bundle = bundle_copy(catboost_bundle)
    break_bundle(bundle, logreg_bundle)
    state = loaded(bundle)
    assert (state.status, state.service, state.version) == ("failed", None, NO_MODEL)
    assert reason in state.reason


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit, reason", [(rename_feature, "features differ"), (example_outside_schema, "example row does not fit")]
)
def test_metadata_that_does_not_fit_the_model_is_refused(
    catboost_bundle: Path, bundle_copy: Callable, edit: Callable, reason: str
) -> None:
    state = loaded(bundle_copy(catboost_bundle, edit))
    assert state.status == "failed" and reason in state.reason
