"""A throw-away copy of the stacks for the end-to-end tests: its own compose project name, free
ports, models and state directories; images built once; torn down with `down --volumes` at the end."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import yaml

from deploy.compose import Compose
from deploy.controller_config import DEFAULT_CONFIG
from deploy.mlflow_credentials import client_credentials
from deploy.networks import free_stack_net, used_subnets
from deploy.settings import DeploySettings
from tests.kit.ports import free_port
from tests.e2e.stack import TRAINER_CONFIG, Stack, fast_training_config, image_sizes
from deploy.tests.prometheus_server import Received, serve_receiver
from tests.kit.docker import ensure_docker_engine


@pytest.fixture(scope="session")
def docker_engine() -> None:
    ensure_docker_engine()


def e2e_bounds(path: Path) -> Path:
    """The controller's bounds for the tests: a short watch (20 s) and cool-down (5 s) so that several faults fit
    in one session; the flagged share of live traffic is not judged (the tests send one applicant over and
    over: its share is 0 or 1, far from training's); the other bounds are the shipped ones."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    config["failover"]["cooldown_s"] = 5
    config["watch"].update(window_s=20, analysis_interval_s=2, max_flagged_share_delta=1.0)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def alert_receiver() -> Iterator[tuple[Received, int]]:
    """Alertmanager's webhook: an HTTP server on every address of this host (the containers reach it at the stack
    network's gateway, <STACK_NET>.1), recording what it gets."""
    received = Received()
    with serve_receiver(received, host="0.0.0.0") as url:
        yield received, int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def stack(docker_engine: None, tmp_path_factory: pytest.TempPathFactory, alert_receiver) -> Iterator[Stack]:
    """For the session (removed as soon as it is done): `up` on an empty models directory (shared images
    built, the trainer trains v1 against the mlflow service, blue gets this checkout's release, blue + nginx
    start), then a second training (v2) for green. Each test first puts traffic on blue."""
    work = tmp_path_factory.mktemp("e2e")
    models = work / "models"
    models.mkdir()
    (models / TRAINER_CONFIG).write_text(fast_training_config())
    stack_net = free_stack_net(used_subnets())
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
        "STACK_NET": stack_net,
        "PROMETHEUS_PORT": str(free_port()),
        "ALERTMANAGER_PORT": str(free_port()),
        "ALERT_WEBHOOK_URL": f"http://{stack_net}.1:{alert_receiver[1]}/alerts",
        "DEPLOY_CONTROLLER_CONFIG": str(e2e_bounds(work / "controller.yaml")),
        "DEPLOY_WATCH_WAIT": "false",  # the watch tests wait for it
        "OUTCOME_METRICS_TTL_S": "2",  # realized-performance gauges follow outcomes loaded a moment ago
        # The tests drive up to a dozen clients at once from this host, one address to nginx (Docker's gateway):
        # limits they never reach. test_proxy.py lowers them through `up` to see the 429s, then restores these.
        "API_RATE_PER_CLIENT": "5000",
        "API_BURST_PER_CLIENT": "5000",
        "API_CONNECTIONS_PER_CLIENT": "256",
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
        with pytest.MonkeyPatch.context() as patch:  # the tests' own MLflow clients sign in as the deploy CLI does
            for name, value in client_credentials(settings).items():
                patch.setenv(name, value)
            yield test_stack
    finally:
        Compose(settings, {}).down(volumes=True)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def patient_controller(stack: Stack) -> Iterator[None]:
    """Readiness probes of 3 s, 6 failures in a row before a failover, for modules that build images, restart
    containers or train: under that load on a 2-core host probes of 0.8 s fail healthy colors over, which is the
    controller's business (test_controller.py), not theirs."""
    with stack.controller_bounds(probe={"timeout_s": 3.0}, failover={"after_failed_probes": 6}):
        yield
