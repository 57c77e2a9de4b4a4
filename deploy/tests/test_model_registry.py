"""The registry as the deploy CLI uses it, on a real MLflow store with a real exported bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import UsageError
from deploy.model_registry import ModelRegistry
from deploy.settings import MODEL_NAME
from tests.kit.ports import closed_url
from training.bundle_digest import compute_digest, recorded_digest

pytestmark = pytest.mark.slow


def test_references_name_versions_by_number_or_alias(trained: tuple[Path, ModelRegistry]) -> None:
    _, registry = trained
    assert registry.version_of("1") == registry.version_of("champion") == "1"
    with pytest.raises(UsageError, match="model version '42' does not exist"):
        registry.version_of("42")
    with pytest.raises(UsageError, match="model alias 'nightly' does not exist"):
        registry.version_of("nightly")


def test_the_recorded_digest_and_the_fetched_bundle_are_the_exported_ones(
    trained: tuple[Path, ModelRegistry], tmp_path: Path
) -> None:
    models, registry = trained
    exported = models / MODEL_NAME / "1"
    assert registry.digest("1") == recorded_digest(exported) == compute_digest(exported)
    fetched = registry.fetch_bundle("1", tmp_path / "elsewhere" / MODEL_NAME / "1")
    assert compute_digest(fetched) == registry.digest("1")
    assert not [p for p in fetched.parent.iterdir() if p.name.startswith(".fetch-")], "no staging left behind"


def test_marking_points_an_alias_and_tags_the_version(trained: tuple[Path, ModelRegistry]) -> None:
    _, registry = trained
    registry.mark("green", "1", {"green_since": "2026-11-23T00:00:00+00:00"}, print)
    assert registry.version_of("green") == "1"
    assert registry.client.get_model_version(MODEL_NAME, "1").tags["green_since"].startswith("2026")


def test_a_registry_that_fails_to_mark_only_warns(trained: tuple[Path, ModelRegistry]) -> None:
    _, registry = trained
    warnings: list[str] = []
    registry.mark("live", "99", {}, warnings.append)
    assert warnings and "was not updated (alias live -> v99)" in warnings[0]


def test_a_registry_that_lacks_local_bundles_imports_them(trained: tuple[Path, ModelRegistry], tmp_path: Path) -> None:
    models, _ = trained
    empty = ModelRegistry(f"sqlite:///{tmp_path / 'empty.db'}", MODEL_NAME)
    assert empty.sync(models) == ["1"]
    assert empty.digest("1") == recorded_digest(models / MODEL_NAME / "1")
    assert empty.sync(models) == [], "a second sync has nothing to do"


def test_an_unreachable_registry_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot be reached"):
        ModelRegistry(closed_url(), MODEL_NAME).version_of("champion")
