"""The retrain workflow's SSH step, executed with a stand-in `ssh`: the command run on the server and what each exit
code of `make retrain` makes of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci.step_runner import find_step, run_step, ssh_stand_in
from tests.ci.workflow_checks import WORKFLOWS_DIR, load_workflow

RETRAIN = load_workflow(WORKFLOWS_DIR / "retrain.yml")
STEP = "Retrain on the server (new version registered and exported only if the gate passes)"


@pytest.mark.parametrize(
    ("remote_exit", "step_exit", "summary"),
    [
        (0, 0, "Retrained: a new version is registered and exported"),
        (1, 0, "Nothing registered: the gate refused, or too few or no new labeled rows"),
        (2, 2, ""),
        (255, 255, ""),
    ],
)
def test_the_retrain_step_runs_make_retrain_on_the_deploy_server(
    tmp_path: Path, remote_exit: int, step_exit: int, summary: str
) -> None:
    """Exit 1 (nothing registered) is a normal outcome of a scheduled retrain; bad data, a refused key, a stack down
    (exit 2) or an SSH failure fail the run."""
    env, record = ssh_stand_in(tmp_path, remote_exit)
    result = run_step(find_step(RETRAIN, "retrain", STEP), tmp_path, env)
    assert result.returncode == step_exit, result.stderr
    assert summary in result.summary and bool(summary) == bool(result.summary.strip())
    args = record.read_text().splitlines()
    assert args[args.index("-p") + 1] == "2222"
    assert "StrictHostKeyChecking=yes" in args and "BatchMode=yes" in args
    assert args[-2] == "ops@deploy.example.org"
    assert args[-1] == "cd -- srv/credit\\ risk && make retrain TRAINED_BY=retrain-workflow:ana:run-42"
