"""The Docker engine for the tests that need one: started with ../shared/tools/docker-engine.sh on a machine
where it does not answer. Never a skip: without Docker these tests fail."""

from __future__ import annotations

import subprocess

import pytest

from tests.kit.paths import ROOT

ENGINE_SCRIPT = ROOT.parent / "shared" / "tools" / "docker-engine.sh"


def docker_info_ok() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def ensure_docker_engine() -> None:
    """Return when the engine answers; start it if it does not; fail the test if that does not help."""
    if docker_info_ok():
        return
    if ENGINE_SCRIPT.is_file():
        subprocess.run(["bash", str(ENGINE_SCRIPT)], check=False, timeout=900)
    if not docker_info_ok():
        pytest.fail(f"the Docker engine is not reachable and {ENGINE_SCRIPT} could not start it")
