"""The Prometheus configuration and rules, checked and unit-tested by the pinned image's own promtool:
prometheus/tests/rules_test.yml feeds series to the recording and alert rules and states what they must give."""

from __future__ import annotations

import subprocess

import pytest

from tests.kit.docker import ensure_docker_engine
from tests.kit.paths import ROOT

pytestmark = pytest.mark.docker
IMAGE = "prom/prometheus:v2.42.0"


def promtool(*args: str) -> subprocess.CompletedProcess:
    ensure_docker_engine()
    return subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{ROOT / 'prometheus'}:/p:ro",
            "-w",
            "/p",
            "--entrypoint",
            "promtool",
            IMAGE,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_rules_give_what_their_unit_tests_expect() -> None:
    done = promtool("test", "rules", "tests/rules_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_configuration_and_its_rule_files_are_valid() -> None:
    done = promtool("check", "rules", "rules/recording.yml", "rules/alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_a_broken_rule_is_caught(tmp_path) -> None:
    (tmp_path / "bad.yml").write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{tmp_path}:/p:ro",
            "--entrypoint",
            "promtool",
            IMAGE,
            "check",
            "rules",
            "/p/bad.yml",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
