"""Releases: tags from the git revision (and its uncommitted changes), image names, the JSON of a pin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.errors import UsageError
from deploy.release import Release, checkout_tag, image_ref, release_images, short


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    for directory in ("backend", "frontend", "docs"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "file.txt").write_text(directory)
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "one")
    return tmp_path


def test_a_clean_checkout_is_tagged_with_its_commit(repo: Path) -> None:
    assert checkout_tag(repo) == (git(repo, "rev-parse", "HEAD"), False)


def test_changes_outside_the_build_contexts_keep_the_tag(repo: Path) -> None:
    (repo / "docs" / "file.txt").write_text("edited")
    assert checkout_tag(repo) == (git(repo, "rev-parse", "HEAD"), False)


def test_a_dirty_build_context_gets_a_tag_that_says_so_and_follows_the_content(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    (repo / "backend" / "file.txt").write_text("edited")
    tag, dirty = checkout_tag(repo)
    assert dirty and tag.startswith(f"{commit}-dirty-")
    assert checkout_tag(repo)[0] == tag, "the same change, the same tag"
    (repo / "frontend" / "new.py").write_text("print(1)")
    assert checkout_tag(repo)[0] != tag, "an untracked file in a build context is part of the release"


def test_outside_git_the_tag_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a git checkout: give the release tag explicitly"):
        checkout_tag(tmp_path)


def test_image_names_with_and_without_a_registry() -> None:
    assert image_ref("backend", "abc", None) == "credit-risk/backend:abc"
    assert image_ref("backend", "abc", "ghcr.io/owner/repo/") == "ghcr.io/owner/repo/backend:abc"
    assert release_images("abc", "localhost:5000/x") == {
        "backend": "localhost:5000/x/backend:abc",
        "frontend": "localhost:5000/x/frontend:abc",
    }


def test_a_release_round_trips_through_json_and_reads_short() -> None:
    release = Release("0123456789abcdef" * 2 + "01234567-dirty-00ff00ff00ff", release_images("t", None), "4", "d")
    assert Release.from_json(release.to_json()) == release
    assert short(release.tag) == "0123456789ab-dirty-00ff00ff00ff"
    assert release.describe() == "0123456789ab-dirty-00ff00ff00ff + model v4"
