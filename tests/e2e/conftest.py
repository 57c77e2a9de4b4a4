"""A throw-away copy of the stacks for the end-to-end tests: its own compose project name, free
ports, models and state directories; images built once; torn down with `down --volumes` at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from deploy.compose import Compose
from deploy.networks import free_stack_net, used_subnets
from deploy.settings import DeploySettings
from tests.kit.ports import free_port
from tests.e2e.stack import (
    ENGINE_SCRIPT,
    TRAINER_CONFIG,
    Stack,
    docker_info_ok,
    fast_training_config,
    image_sizes,
)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """The engine must answer; on a machine without one, ../shared/tools/docker-engine.sh starts it.
    Never a skip: without Docker these tests fail."""
    if docker_info_ok():
        return
    if ENGINE_SCRIPT.is_file():
        subprocess.run(["bash", str(ENGINE_SCRIPT)], check=False, timeout=900)
    if not docker_info_ok():
        pytest.fail(f"the Docker engine is not reachable and {ENGINE_SCRIPT} could not start it")


@pytest.fixture(scope="session")
def stack(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """For the session (removed as soon as it is done): `up` on an empty models directory (shared images
    built, the trainer trains v1 against the mlflow service, blue gets this checkout's release, blue + nginx
    start), then a second training (v2) for green. Each test first puts traffic on blue."""
    work = tmp_path_factory.mktemp("e2e")
    models = work / "models"
    models.mkdir()
    (models / TRAINER_CONFIG).write_text(fast_training_config())
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": f"crtest{os.getpid()}",
        "DEPLOY_STATE_DIR": str(work / "state"),
        "BUNDLES_DIR": str(models),
        "PUBLIC_PORT": str(free_port()),
        "PREVIEW_PORT": str(free_port()),
        "MLFLOW_PORT": str(free_port()),
        "TRAINER_CONFIG": f"/bundles/{TRAINER_CONFIG}",
        "DEPLOY_READY_TIMEOUT": "60",
        "STACK_NET": free_stack_net(used_subnets()),
    }
    settings = DeploySettings.from_env(env)
    test_stack = Stack(env, settings)
    try:
        started = time.monotonic()
        up = test_stack.cli("up")
        assert up.returncode == 0, up.stdout + up.stderr
        test_stack.make_key()
        test_stack.record(up_with_training_seconds=round(time.monotonic() - started, 1), image_sizes=image_sizes())
        trained = test_stack.cli("train")
        assert trained.returncode == 0, trained.stdout + trained.stderr
        yield test_stack
    finally:
        Compose(settings, {}).down(volumes=True)
        shutil.rmtree(work, ignore_errors=True)
