"""The workflow readers catch what they should: unknown make targets, missing paths, unbuilt images."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.ci.workflow_checks import (
    build_matrix,
    compose_builds,
    load_workflow,
    make_targets_called,
    makefile_targets,
    makefile_variable,
    missing_paths,
    paths_named,
)

WORKFLOW = """
name: sample
on:
  push:
jobs:
  build:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        include:
          - {image: api, context: api, dockerfile: api/Dockerfile}
          - {image: job, context: ., dockerfile: job/Dockerfile}
    steps:
      - uses: actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c # v6.0.0
        with:
          cache-dependency-path: |
            api/requirements.txt
            missing/requirements.txt
      - uses: docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83 # v6.18.0
        with:
          context: ${{ matrix.context }}
          file: ${{ matrix.dockerfile }}
      - run: |
          make lint && sudo make --no-print-directory -C . test-fast PYTEST_ARGS=-q
          docker compose -f docker-compose.yml up --wait  # see docs/notes.md
          python scripts/report.py models/credit-default/latest/metadata.json > train-report/metrics.md
"""


@pytest.mark.parametrize(
    ("script", "targets"),
    [
        ("make lint", {"lint"}),
        ("sudo make system-deps && make -j2 --no-print-directory test PYTEST_ARGS='-k x'", {"system-deps", "test"}),
        ("make up; make switch-green || make down", {"up", "switch-green", "down"}),
        ("FOO=1 make -C sub a b \\\n  c", {"a", "b", "c"}),
        ('ssh host "cd app && make switch-green && make status"', {"switch-green", "status"}),
        ("echo make nothing  # make neither", set()),
        ("cmake build && makefile=1", set()),
    ],
)
def test_make_targets_are_read_from_shell_scripts(script: str, targets: set[str]) -> None:
    assert make_targets_called(script) == targets


def test_paths_come_from_cache_keys_matrix_builds_and_scripts_minus_run_time_outputs(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "wf.yml", WORKFLOW))
    assert paths_named(workflow) == {
        "api/requirements.txt",
        "missing/requirements.txt",
        "api",
        "api/Dockerfile",
        ".",
        "job/Dockerfile",
        "docker-compose.yml",
        "docs/notes.md",
        "scripts/report.py",
    }
    for path in ("api/requirements.txt", "api/Dockerfile", "docker-compose.yml", "scripts/report.py", "docs/notes.md"):
        write(tmp_path / path, "")
    assert missing_paths(workflow, tmp_path) == {"missing/requirements.txt", "job/Dockerfile"}


def test_a_build_matrix_is_compared_with_the_compose_builds(tmp_path: Path) -> None:
    workflow = load_workflow(write(tmp_path / "wf.yml", WORKFLOW))
    compose = {
        "services": {
            "api": {"build": {"context": "api"}},
            "job": {"build": {"context": ".", "dockerfile": "job/Dockerfile"}},
            "web": {"build": "web"},
            "db": {"image": "postgres:17"},
        }
    }
    assert build_matrix(workflow, "build") == {("api", "api/Dockerfile"), (".", "job/Dockerfile")}
    assert compose_builds([write(tmp_path / "compose.yml", yaml.safe_dump(compose))]) == {
        ("api", "api/Dockerfile"),
        (".", "job/Dockerfile"),
        ("web", "web/Dockerfile"),
    }


def test_makefile_targets_and_variables_come_from_make_itself(tmp_path: Path) -> None:
    write(tmp_path / "extra.mk", "included-target:\n\t@true\n")
    write(
        tmp_path / "Makefile",
        "FILES := a.txt \\\n b.txt\nDIRS = $(FILES:.txt=)\ninclude extra.mk\n"
        ".PHONY: lint listed-only\nlint: a.txt ## comment\n\t@echo lint\n"
        "a.txt:\n\ttouch $@\nVAR := 1\n",
    )
    assert makefile_targets(tmp_path) == {"lint", "a.txt", "included-target"}
    assert makefile_variable("DIRS", tmp_path) == "a b"
    assert not (tmp_path / "a.txt").exists(), "reading the Makefile runs no recipe"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
