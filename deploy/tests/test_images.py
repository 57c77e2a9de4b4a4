"""A release's images: present, pulled by tag (unknown tags and unreachable registries are exit-2 errors), or
built from this checkout; nothing else is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.compose import Compose
from deploy.errors import UsageError
from deploy.images import Images, ensure_release_images
from deploy.release import release_images
from deploy.settings import DeploySettings
from deploy.tests.fake_docker import FakeDocker

REGISTRY = "127.0.0.1:5999/acme/credit"


@pytest.fixture()
def compose(tmp_path: Path) -> tuple[FakeDocker, Compose]:
    docker = FakeDocker()
    return docker, Compose(DeploySettings(DEPLOY_STATE_DIR=tmp_path / "state"), {}, docker)


def ensure(docker: FakeDocker, compose: Compose, tag: str, checkout: str | None, registry: str | None) -> str:
    refs = release_images(tag, registry)
    return ensure_release_images(Images(docker), compose, refs, tag, checkout, registry, lambda line: None)


def test_images_on_the_engine_are_used_as_they_are(compose) -> None:
    docker, runner = compose
    docker.images |= set(release_images("r1", None).values())
    assert ensure(docker, runner, "r1", "r2", None) == "present"
    assert docker.compose_calls() == []


def test_the_checkouts_own_release_is_built(compose) -> None:
    docker, runner = compose
    assert ensure(docker, runner, "r2", "r2", None) == "built"
    assert set(release_images("r2", None).values()) <= docker.images


def test_another_tag_without_a_registry_is_an_unknown_tag(compose) -> None:
    docker, runner = compose
    with pytest.raises(UsageError, match="unknown tag r1: .* no REGISTRY is set"):
        ensure(docker, runner, "r1", "r2", None)
    assert docker.compose_calls() == [], "nothing is built for a tag this checkout is not"


def test_with_a_registry_the_images_are_pulled_by_tag(compose) -> None:
    docker, runner = compose
    assert ensure(docker, runner, "r3", "r2", REGISTRY) == "pulled"
    assert [c[-1] for c in docker.calls if c[:2] == ["docker", "pull"]] == list(release_images("r3", REGISTRY).values())


@pytest.mark.parametrize(
    "error, message",
    [
        ("Error response from daemon: manifest unknown: manifest unknown", "unknown tag: the registry has no image"),
        (
            'Error response from daemon: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: '
            "connection refused",
            "cannot be reached",
        ),
    ],
)
def test_pull_failures_are_named(compose, error: str, message: str) -> None:
    docker, runner = compose
    docker.pull_errors[release_images("r4", REGISTRY)["backend"]] = error
    with pytest.raises(UsageError, match=message):
        ensure(docker, runner, "r4", "r2", REGISTRY)
