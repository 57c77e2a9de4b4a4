"""The pre-commit hooks run the same flake8 and black as `make lint`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.ci.workflow_checks import PRE_COMMIT_CONFIG, ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")


def dev_pins() -> dict[str, str]:
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    return {match[1].lower(): match[2] for match in map(PIN.match, lines) if match}


def test_the_config_names_flake8_and_black_at_the_pinned_dev_versions() -> None:
    config = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())
    hooks = {hook["id"]: repo for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {"flake8", "black"}
    pins = dev_pins()
    assert hooks["flake8"]["repo"] == "https://github.com/PyCQA/flake8"
    assert hooks["black"]["repo"] == "https://github.com/psf/black-pre-commit-mirror"
    assert hooks["flake8"]["rev"] == pins["flake8"]
    assert hooks["black"]["rev"] == pins["black"]
    assert config["default_language_version"]["python"] == "python3.11"


def test_pre_commit_accepts_the_config() -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    result = subprocess.run(
        [str(pre_commit), "validate-config", str(PRE_COMMIT_CONFIG)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
