"""Finding model bundles on the host: versions, the newest one, a required one."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import bundles
from deploy.errors import UsageError

NAME = "credit-default"


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    """A models directory as `make train` leaves it (mode 755: pytest's own tmp_path is 700)."""
    directory = tmp_path / "models"
    directory.mkdir(mode=0o755)
    return directory


def make_bundle(models: Path, version: str) -> Path:
    bundle = models / NAME / version
    bundle.mkdir(parents=True)
    (bundle / "metadata.json").write_text("{}")
    return bundle


def test_versions_lists_exported_bundles_in_numeric_order(models: Path) -> None:
    for version in ("10", "2", "1"):
        make_bundle(models, version)
    (models / NAME / ".3-staging").mkdir()  # an export in progress
    (models / NAME / "4").mkdir()  # no metadata: not a bundle
    (models / NAME / "latest").symlink_to("2")
    assert bundles.versions(models, NAME) == ["1", "2", "10"]


def test_newest_follows_the_latest_link(models: Path) -> None:
    make_bundle(models, "1")
    make_bundle(models, "2")
    (models / NAME / "latest").symlink_to("1")
    assert bundles.newest(models, NAME) == "1"


def test_newest_without_a_link_is_the_highest_version(models: Path) -> None:
    make_bundle(models, "9")
    make_bundle(models, "11")
    assert bundles.newest(models, NAME) == "11"


def test_newest_without_any_bundle_says_to_train(models: Path) -> None:
    with pytest.raises(UsageError, match="no model bundle .* train one first"):
        bundles.newest(models, NAME)


def test_require_returns_the_bundle_or_names_the_available_versions(models: Path) -> None:
    bundle = make_bundle(models, "3")
    assert bundles.require(models, NAME, "3") == bundle
    with pytest.raises(UsageError, match=r"version 5 not found .*available: 3"):
        bundles.require(models, NAME, "5")


@pytest.mark.parametrize("version", ["", "../1", ".hidden"])
def test_require_refuses_a_path_as_version(models: Path, version: str) -> None:
    with pytest.raises(UsageError, match="bad model version"):
        bundles.require(models, NAME, version)


def test_require_refuses_a_bundle_the_containers_cannot_read(models: Path) -> None:
    bundle = make_bundle(models, "1")
    (bundle / "model").mkdir()
    (bundle / "model" / "model.cb").write_text("weights")
    (bundle / "model" / "model.cb").chmod(0o600)
    with pytest.raises(UsageError, match=r"model\.cb is not readable by the containers' user .*chmod -R a\+rX"):
        bundles.require(models, NAME, "1")
    (bundle / "model" / "model.cb").chmod(0o644)
    (bundle / "model").chmod(0o700)
    with pytest.raises(UsageError, match="model is not readable"):
        bundles.require(models, NAME, "1")
    (bundle / "model").chmod(0o755)
    (models / NAME).chmod(0o700)
    with pytest.raises(UsageError, match=f"{NAME} is not readable"):
        bundles.require(models, NAME, "1")
    (models / NAME).chmod(0o755)
    assert bundles.require(models, NAME, "1") == bundle
