"""The guard against the real Docker engine: a guarded container killed through the engine is started again;
one stopped on purpose, an unguarded service or another project's container is left alone."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from deploy.guard import DockerEngine, Guard
from tests.kit.docker import ensure_docker_engine

pytestmark = pytest.mark.docker
PROJECT = f"guardtest{os.getpid()}"
SOCKET = "/var/run/docker.sock"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def container(name: str, service: str, project: str = PROJECT) -> str:
    return docker(
        "run", "-d", "--name", name, "--label", f"com.docker.compose.project={project}",
        "--label", f"com.docker.compose.service={service}", "--stop-signal", "SIGKILL",
        "python:3.11-slim", "sleep", "600",
    )  # fmt: skip


def running(name: str) -> bool:
    return docker("inspect", "-f", "{{.State.Running}}", name) == "true"


def eventually_running(name: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if running(name):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def guarded() -> Iterator[list[str]]:
    ensure_docker_engine()
    names = [f"{PROJECT}-nginx", f"{PROJECT}-backend", f"other{PROJECT}-nginx"]
    container(names[0], "nginx")
    container(names[1], "backend-blue")
    container(names[2], "nginx", project=f"other{PROJECT}")
    guard = Guard(DockerEngine(SOCKET), PROJECT, {"nginx"}, grace_s=0.5)
    threading.Thread(target=guard.run, daemon=True).start()
    time.sleep(1.0)  # the event stream is open
    try:
        yield names
    finally:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True)


def test_a_killed_guarded_container_is_started_again_within_seconds(guarded: list[str]) -> None:
    nginx = guarded[0]
    started = time.monotonic()
    docker("kill", nginx)
    assert eventually_running(nginx), "the guard started it again"
    assert time.monotonic() - started < 5


def test_a_stopped_container_and_other_containers_are_left_alone(guarded: list[str]) -> None:
    nginx, backend, other_project = guarded
    docker("stop", "-t", "1", nginx)
    docker("kill", backend)
    docker("kill", other_project)
    time.sleep(3)
    assert not running(nginx), "stopped on purpose (compose down/stop): stays stopped"
    assert not running(backend), "not a guarded service"
    assert not running(other_project), "another project's"
