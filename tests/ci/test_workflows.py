"""The CI/CD workflows: schema-valid, zizmor-clean, and consistent with the Makefile, the compose files and the repo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci.workflow_checks import (
    PRE_COMMIT_CONFIG,
    ROOT,
    WORKFLOWS_DIR,
    build_matrix,
    compose_builds,
    load_workflow,
    makefile_targets,
    makefile_variable,
    missing_paths,
    paths_named,
    secrets_used,
    steps,
    steps_using,
    workflow_files,
    workflow_make_targets,
)

BIN = Path(sys.executable).parent
CI = WORKFLOWS_DIR / "ci.yml"
RELEASE = WORKFLOWS_DIR / "release.yml"
RETRAIN = WORKFLOWS_DIR / "retrain.yml"
WEEKLY_CRON = re.compile(r"^\d{1,2} \d{1,2} \* \* [0-6]$")
PINNED_USES = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+\s*$", re.MULTILINE)
# The only write scopes: pushing images (release), uploading the image scans' SARIF (tests/ci/test_image_scans.py).
EXPECTED_WRITES = {(CI, "build"): {"security-events"}, (RELEASE, "publish"): {"packages", "security-events"}}


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed next to {sys.executable} (make install; requirements-dev.txt)"
    return str(path)


def test_the_workflows_parse_with_the_expected_jobs() -> None:
    assert {path.name for path in workflow_files()} == {"ci.yml", "release.yml", "retrain.yml"}
    ci, release, retrain = load_workflow(CI), load_workflow(RELEASE), load_workflow(RETRAIN)
    assert set(ci["jobs"]) == {"lint", "test", "train", "build", "e2e", "security"}
    assert {"publish", "deploy"} <= set(release["jobs"])
    assert set(ci["on"]) == {"push", "pull_request"}
    assert ci["on"]["push"]["branches"] == ["**"]
    assert release["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert set(retrain["on"]) == {"schedule", "workflow_dispatch"}
    assert set(retrain["jobs"]) == {"deploy-config", "retrain"}


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_the_workflows_validate_against_the_github_workflow_schema(schema: str) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, workflow_files())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_as_an_auditor() -> None:
    """The strictest persona, offline (the online audits need the GitHub API); pre-commit config included."""
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--persona=auditor", "--format=json", str(WORKFLOWS_DIR), str(PRE_COMMIT_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "completed .github/workflows/ci.yml" in result.stderr.replace(str(ROOT) + "/", "")
    findings = json.loads(result.stdout)
    assert findings == [], json.dumps(findings, indent=1)[:4000]
    assert result.returncode == 0, result.stderr


def test_every_make_target_a_workflow_calls_exists() -> None:
    targets = makefile_targets()
    called = {path.name: workflow_make_targets(load_workflow(path)) for path in workflow_files()}
    expected = {"lint", "coverage", "train", "up", "deploy", "switch-green", "rollback", "down", "security"}
    assert expected <= called["ci.yml"]
    assert {"release", "status"} <= called["release.yml"]
    assert called["retrain.yml"] == {"retrain"}
    missing = {name: sorted(names - targets) for name, names in called.items() if names - targets}
    assert not missing, f"make targets missing from the Makefile: {missing}"


def test_every_path_a_workflow_names_exists() -> None:
    ci = load_workflow(CI)
    assert {"scripts/metrics_table.py", "docker-compose.yml", "training/Dockerfile", "requirements-dev.txt"} <= (
        paths_named(ci)
    )
    missing = {path.name: sorted(missing_paths(load_workflow(path))) for path in workflow_files()}
    assert not any(missing.values()), f"paths named by workflows that do not exist: {missing}"


def test_pip_caching_is_keyed_on_every_requirements_file_make_install_uses() -> None:
    requirements = makefile_variable("REQUIREMENTS").split()
    assert requirements
    for path in workflow_files():
        for job_id, step in steps_using(load_workflow(path), "actions/setup-python"):
            keys = step["with"]["cache-dependency-path"].split()
            assert step["with"]["cache"] == "pip", job_id
            assert sorted(keys) == sorted(requirements), f"{path.name}:{job_id}"
            assert step["with"]["python-version"] == "3.11"


@pytest.mark.parametrize(("workflow", "job_id"), [(CI, "build"), (RELEASE, "publish")])
def test_the_image_jobs_build_every_image_of_the_compose_files(workflow: Path, job_id: str) -> None:
    compose_files = sorted(ROOT.glob("docker-compose*.yml"))
    assert compose_files
    expected = compose_builds(compose_files)
    assert len(expected) >= 5
    assert build_matrix(load_workflow(workflow), job_id) == expected


def test_every_action_is_pinned_to_a_commit_with_its_version_noted() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for job_id, step in steps(load_workflow(path)):
            if "uses" in step:
                assert PINNED_USES.match(step["uses"]), f"{path.name}:{job_id}: {step['uses']} is not a commit SHA"
                action, sha = step["uses"].split("@")
                pins.setdefault(action, set()).add(sha)
        text = path.read_text(encoding="utf-8")
        assert text.count("uses: ") == len(VERSION_COMMENT.findall(text)), f"{path.name}: a `uses:` lacks '# vX.Y.Z'"
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}, "one SHA per action"


def test_permissions_are_least_privilege() -> None:
    for path in workflow_files():
        workflow = load_workflow(path)
        assert workflow["permissions"] == {}, f"{path.name}: top-level permissions must be empty"
        for job_id, job in workflow["jobs"].items():
            granted = job.get("permissions")
            assert granted is not None, f"{path.name}:{job_id} must state its permissions"
            assert set(granted.values()) <= {"read", "write"}
            writes = {scope for scope, level in granted.items() if level == "write"}
            assert writes == EXPECTED_WRITES.get((path, job_id), set()), (path.name, job_id)


def test_checkouts_do_not_persist_credentials() -> None:
    checkouts = [step for path in workflow_files() for _, step in steps_using(load_workflow(path), "actions/checkout")]
    assert len(checkouts) >= 7
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_ci_cancels_superseded_runs_and_orders_its_jobs() -> None:
    ci = load_workflow(CI)
    assert "github.ref" in ci["concurrency"]["group"]
    assert ci["concurrency"]["cancel-in-progress"] == "${{ github.ref != 'refs/heads/main' }}"
    jobs = ci["jobs"]
    assert {jobs[job]["needs"] for job in ("test", "train", "build", "e2e")} == {"lint"}, "nothing heavy before lint"
    assert "needs" not in jobs["lint"] and "needs" not in jobs["security"]
    release = load_workflow(RELEASE)
    assert release["concurrency"]["cancel-in-progress"] is False


def test_retrain_runs_weekly_and_on_dispatch_on_the_release_workflows_deploy_server() -> None:
    """The same server, secrets, environment and deploy queue as the release's deploy; nothing deployed."""
    retrain, release = load_workflow(RETRAIN), load_workflow(RELEASE)
    (schedule,) = retrain["on"]["schedule"]
    assert WEEKLY_CRON.match(schedule["cron"]), schedule["cron"]
    assert retrain["on"]["workflow_dispatch"] is None
    job, deploy = retrain["jobs"]["retrain"], release["jobs"]["deploy"]
    assert job["runs-on"] == deploy["runs-on"]
    assert job["concurrency"] == deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    assert job["environment"]["name"] == deploy["environment"]["name"] == "production"
    assert job["environment"]["deployment"] is False, "a retrain creates no deployment"
    assert (
        secrets_used(job)
        == secrets_used(deploy)
        == {
            "DEPLOY_SSH_HOST",
            "DEPLOY_SSH_USER",
            "DEPLOY_SSH_KEY",
            "DEPLOY_SSH_KNOWN_HOSTS",
        }
    )
    assert retrain["jobs"]["deploy-config"] == release["jobs"]["deploy-config"] | {
        "steps": retrain["jobs"]["deploy-config"]["steps"]
    }
    assert job["if"] == "${{ needs.deploy-config.outputs.enabled == 'true' }}"
    assert workflow_make_targets({"jobs": {"retrain": job}}) == {"retrain"}
    assert "release" not in workflow_make_targets(retrain) and "deploy" not in workflow_make_targets(retrain)
    assert job["steps"][-1]["if"] == "${{ always() }}" and "rm -f ~/.ssh/deploy_key" in job["steps"][-1]["run"]
