"""Run a workflow step's `run:` script locally the way a GitHub Ubuntu runner does (bash -eo pipefail)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class StepResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def find_step(workflow: dict[str, Any], job_id: str, step_id_or_name: str) -> dict[str, Any]:
    """The step of a job with this id or name."""
    for step in workflow["jobs"][job_id]["steps"]:
        if step_id_or_name in (step.get("id"), step.get("name")):
            return step
    raise KeyError(f"{job_id}: no step {step_id_or_name!r}")


def run_step(
    step: dict[str, Any], work_dir: Path, env: dict[str, str] | None = None, timeout_s: float = 120
) -> StepResult:
    """Run the step's script in work_dir with GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files; parse the outputs."""
    output_file, summary_file = work_dir / ".github-output", work_dir / ".github-step-summary"
    output_file.write_text("")
    summary_file.write_text("")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={
            **os.environ,
            **(env or {}),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
        },
    )
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return StepResult(result.returncode, result.stdout, result.stderr, outputs, summary_file.read_text())


def ssh_stand_in(work_dir: Path, exit_code: int = 0) -> tuple[dict[str, str], Path]:
    """A fake `ssh` on PATH that records its arguments (one a line) and exits with exit_code, and the environment
    of a deploy-server step (the deploy secrets and variables as the workflows pass them); the record file."""
    fake_bin = work_dir / "bin"
    fake_bin.mkdir()
    record = work_dir / "ssh-args"
    (fake_bin / "ssh").write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {record}\nexit {exit_code}\n'
    )
    (fake_bin / "ssh").chmod(0o755)
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "HOME": str(work_dir),
        "DEPLOY_SSH_HOST": "deploy.example.org",
        "DEPLOY_SSH_USER": "ops",
        "DEPLOY_SSH_PORT": "2222",
        "DEPLOY_PATH": "srv/credit risk",
        "ACTOR": "ana",
        "RUN_ID": "42",
    }
    return env, record
