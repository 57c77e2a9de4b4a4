"""Model bundles on the host: versions, the newest one, a required one, one that is what training exported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deploy import bundles
from deploy.errors import UsageError
from training.bundle_digest import DIGEST_FILE, compute_digest, write_digest

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


def exported(models: Path, version: str, threshold: float = 0.3) -> Path:
    """A bundle as training exports it: metadata naming its version, its digest file."""
    bundle = models / NAME / version
    (bundle / "model").mkdir(parents=True)
    (bundle / "model" / "model.cb").write_bytes(b"trees")
    (bundle / "metadata.json").write_text(json.dumps({"version": version, "threshold": threshold}))
    write_digest(bundle)
    return bundle


def test_an_exported_bundle_is_verified_against_the_registry(models: Path) -> None:
    bundle = exported(models, "3")
    assert bundles.verify(bundle, "3", compute_digest(bundle)) == compute_digest(bundle)


def test_a_copy_in_another_version_directory_is_refused(models: Path) -> None:
    """The doctored bundle of the issue: a copy of v1 in directory 3, its metadata still naming v1."""
    original = exported(models, "1")
    copy = models / NAME / "3"
    shutil.copytree(original, copy)
    with pytest.raises(UsageError, match="claims to be model version '1', not 3"):
        bundles.verify(copy, "3", compute_digest(original))


def test_a_bundle_changed_after_export_is_refused(models: Path) -> None:
    bundle = exported(models, "2")
    registered = compute_digest(bundle)
    (bundle / "metadata.json").write_text(json.dumps({"version": "2", "threshold": 0.001}))
    with pytest.raises(UsageError, match="was changed after training exported it"):
        bundles.verify(bundle, "2", registered)


def test_a_re_digested_bundle_is_refused_by_the_registry_record(models: Path) -> None:
    bundle = exported(models, "2")
    registered = compute_digest(bundle)
    (bundle / "metadata.json").write_text(json.dumps({"version": "2", "threshold": 0.001}))
    write_digest(bundle)  # the digest file rewritten to match: the registry still knows better
    with pytest.raises(UsageError, match="is not the bundle the registry recorded for v2"):
        bundles.verify(bundle, "2", registered)


def test_a_bundle_without_a_digest_or_a_registry_record_is_refused(models: Path) -> None:
    bundle = exported(models, "4")
    with pytest.raises(UsageError, match="registry recorded no bundle digest for v4"):
        bundles.verify(bundle, "4", None)
    (bundle / DIGEST_FILE).unlink()
    with pytest.raises(UsageError, match="has no bundle.sha256"):
        bundles.verify(bundle, "4", "x")
