"""The docker compose commands the CLI runs: project, files, environment, arguments, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.compose import Compose, ServiceStatus, docker_available
from deploy.errors import DeployError
from deploy.release import Release
from deploy.settings import DeploySettings
from deploy.tests.fake_docker import FakeDocker


@pytest.fixture()
def settings(tmp_path: Path) -> DeploySettings:
    return DeploySettings(
        COMPOSE_PROJECT_NAME="unit", DEPLOY_STATE_DIR=tmp_path / "state", BUNDLES_DIR=tmp_path / "models"
    )


def test_every_command_names_the_project_and_both_files(settings: DeploySettings) -> None:
    docker = FakeDocker()
    Compose(settings, {}, docker).stop(["backend-green"])
    assert docker.calls[0] == [
        "docker",
        "compose",
        "-p",
        "unit",
        "-f",
        str(settings.root / "docker-compose.yml"),
        "-f",
        str(settings.root / "docker-compose.green.yml"),
        "stop",
        "backend-green",
    ]


RELEASE = Release("abc123", {"backend": "credit-risk/backend:abc123", "frontend": "credit-risk/frontend:abc123"}, "3")


def test_the_environment_carries_ports_paths_and_only_the_pinned_releases(settings: DeploySettings) -> None:
    docker = FakeDocker()
    Compose(settings, {"blue": RELEASE}, docker).up(["nginx"])
    env = docker.envs[0]
    assert env["BLUE_MODEL_VERSION"] == "3" and "GREEN_MODEL_VERSION" not in env
    assert env["BLUE_BACKEND_IMAGE"] == "credit-risk/backend:abc123"
    assert env["BLUE_FRONTEND_IMAGE"] == "credit-risk/frontend:abc123" and "GREEN_BACKEND_IMAGE" not in env
    assert env["DEPLOY_STATE_DIR"] == str(settings.DEPLOY_STATE_DIR)
    assert env["BUNDLES_DIR"] == str(settings.BUNDLES_DIR)
    assert env["PUBLIC_PORT"] == "8080" and env["PREVIEW_PORT"] == "8081" and env["MLFLOW_PORT"] == "5000"


def test_up_waits_for_health_unless_told_otherwise_and_can_leave_running_containers_alone(
    settings: DeploySettings,
) -> None:
    docker = FakeDocker()
    compose = Compose(settings, {}, docker)
    compose.up(["mlflow", "nginx"])
    compose.up(["backend-green"], wait=False, no_deps=True)
    compose.up(["backend-blue"], keep_existing=True)
    assert docker.compose_calls() == [
        ["up", "--detach", "--wait", "--wait-timeout", "300", "mlflow", "nginx"],
        ["up", "--detach", "--no-deps", "backend-green"],
        ["up", "--detach", "--wait", "--wait-timeout", "300", "--no-recreate", "backend-blue"],
    ]


def test_a_release_is_built_through_blue_with_its_tags_and_revision(settings: DeploySettings) -> None:
    docker = FakeDocker()
    Compose(settings, {"blue": RELEASE}, docker).build_release(
        {"backend": "credit-risk/backend:new", "frontend": "credit-risk/frontend:new"}, "new"
    )
    assert docker.compose_calls() == [["build", "backend-blue", "frontend-blue"]]
    env = docker.envs[0]
    assert env["BLUE_BACKEND_IMAGE"] == "credit-risk/backend:new", "the build tags the new release, not blue's pin"
    assert env["RELEASE_TAG"] == "new" and env["RELEASE_CREATED"].startswith("20")


def test_build_includes_the_trainer_and_down_keeps_volumes_by_default(settings: DeploySettings) -> None:
    docker = FakeDocker()
    compose = Compose(settings, {}, docker)
    compose.build(["mlflow", "nginx", "trainer"])
    compose.down()
    compose.down(volumes=True)
    assert docker.compose_calls() == [
        ["--profile", "train", "build", "mlflow", "nginx", "trainer"],
        ["--profile", "train", "down", "--remove-orphans"],
        ["--profile", "train", "down", "--remove-orphans", "--volumes"],
    ]


def test_a_failed_command_raises_with_its_error_output(settings: DeploySettings) -> None:
    docker = FakeDocker(fail={"ps"})
    with pytest.raises(DeployError, match=r"`docker compose ps --all --format json` failed \(1\): .*simulated failure"):
        Compose(settings, {}, docker).ps()


def test_exec_returns_the_result_without_raising(settings: DeploySettings) -> None:
    docker = FakeDocker(fail={"exec"})
    done = Compose(settings, {}, docker).exec("nginx", "nginx", "-t")
    assert done.returncode == 1
    assert docker.compose_calls() == [["exec", "-T", "nginx", "nginx", "-t"]]


def test_ps_reads_states_and_running(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={"nginx": ("running", "healthy"), "backend-green": ("exited", "")})
    compose = Compose(settings, {}, docker)
    assert compose.ps()["nginx"] == ServiceStatus("nginx", "running", "healthy")
    assert compose.running(["nginx"])
    assert not compose.running(["nginx", "backend-green"])
    assert not compose.running(["frontend-green"])


def test_a_missing_docker_cli_is_a_clear_error(settings: DeploySettings) -> None:
    def no_docker(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("docker")

    with pytest.raises(DeployError, match="docker CLI is not installed"):
        Compose(settings, {}, no_docker).stop(["nginx"])
    assert docker_available(no_docker) is False
    assert docker_available(FakeDocker(info_ok=False)) is False
    assert docker_available(FakeDocker()) is True
