"""The Makefile targets only CI calls: `make security` (bandit + pip-audit) and `make coverage`."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from tests.ci.workflow_checks import ROOT, dry_run

SKIPPED_DIRS = {".venv", ".git", "mlruns", "models", "node_modules", "test-artifacts"}


def requirements_files() -> set[str]:
    """Every requirements file of the repository (images, host tools, dev tools), as repository paths."""
    found = set()
    for path in ROOT.rglob("requirements*.txt"):
        relative = path.relative_to(ROOT)
        if not SKIPPED_DIRS & set(relative.parts):
            found.add(str(relative))
    return found


def command(commands: list[str], program: str, *args: str) -> list[str]:
    """The one command of a dry run that runs the given program with these first arguments."""
    matches = [
        words
        for words in map(shlex.split, commands)
        if Path(words[0]).name == program and words[1 : 1 + len(args)] == list(args)
    ]
    assert len(matches) == 1, f"expected one `{program} {' '.join(args)}` command in {commands}"
    return matches[0]


def test_pip_audit_covers_every_requirements_file_and_fails_when_it_cannot_audit() -> None:
    audit = command(dry_run("security"), "pip-audit")
    audited = {audit[i + 1] for i, arg in enumerate(audit) if arg in ("-r", "--requirement")}
    assert {"backend/requirements.txt", "mlflow/requirements.txt", "requirements-dev.txt"} <= requirements_files()
    assert audited == requirements_files()
    assert "--strict" in audit, "a dependency that cannot be audited must fail the job, not pass silently"


def test_bandit_finds_no_high_severity_issue_in_the_code() -> None:
    """Runs `make security`'s bandit command itself, so `make test` covers the CI security job's code scan."""
    bandit = command(dry_run("security"), "bandit")
    assert "--severity-level" in bandit and bandit[bandit.index("--severity-level") + 1] == "high"
    scanned = [arg for arg in bandit[1:] if (ROOT / arg).is_dir()]
    assert {"training", "backend/app", "frontend", "deploy"} <= set(scanned)
    result = subprocess.run(bandit, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_coverage_measures_every_component_and_enforces_a_minimum() -> None:
    pytest_command = command(dry_run("coverage"), "python", "-m", "pytest")
    measured = {arg.removeprefix("--cov=") for arg in pytest_command if arg.startswith("--cov=")}
    assert {"training", "backend/app", "frontend", "deploy"} <= measured
    minimum = [arg for arg in pytest_command if arg.startswith("--cov-fail-under=")]
    assert len(minimum) == 1 and float(minimum[0].split("=")[1]) >= 70
    assert {"--cov-report=xml", "--cov-report=html"} <= set(pytest_command)
    assert pytest_command[pytest_command.index("-m", 3) + 1] == "not docker"
