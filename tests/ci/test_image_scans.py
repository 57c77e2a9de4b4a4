"""Image scans: every image ci.yml and release.yml build is scanned by Trivy (before any push), fails on fixable
critical findings, goes to code scanning as SARIF and leaves a CycloneDX SBOM; broken copies of the workflows
show that the checks name what is missing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ci.image_scans import (
    IGNORE_FILE,
    TRIVY,
    UPLOAD_SARIF,
    action,
    ignore_file_problems,
    image_jobs,
    image_scan_problems,
    permission_problems,
)
from tests.ci.workflow_checks import ROOT, WORKFLOWS_DIR, load_workflow, matrix_rows

CI = WORKFLOWS_DIR / "ci.yml"
RELEASE = WORKFLOWS_DIR / "release.yml"
IMAGE_JOB = {CI: "build", RELEASE: "publish"}
IMAGES = {"backend", "frontend", "trainer", "mlflow", "nginx", "prometheus", "controller"}
GATE = "Fail on fixable critical vulnerabilities (accepted findings in .trivyignore.yaml)"
PUSH = "Push the scanned image"

Workflow = dict[str, Any]


def step_named(workflow: Workflow, job_id: str, name: str) -> dict[str, Any]:
    [step] = [step for step in workflow["jobs"][job_id]["steps"] if step.get("name") == name]
    return step


def steps_of(workflow: Workflow, job_id: str, uses: str) -> list[dict[str, Any]]:
    return [step for step in workflow["jobs"][job_id]["steps"] if action(step) == uses]


def broken(path: Path, change: Callable[[Workflow], None]) -> Workflow:
    """A copy of the real workflow with one change applied."""
    workflow = copy.deepcopy(load_workflow(path))
    change(workflow)
    return workflow


@pytest.mark.parametrize("path", [CI, RELEASE])
def test_every_image_the_workflow_builds_is_scanned_reported_and_gets_an_sbom(path: Path) -> None:
    workflow = load_workflow(path)
    assert image_jobs(workflow) == [IMAGE_JOB[path]]
    assert {row["image"] for row in matrix_rows(workflow["jobs"][IMAGE_JOB[path]])} == IMAGES
    assert image_scan_problems(workflow) == []
    assert len(steps_of(workflow, IMAGE_JOB[path], TRIVY)) == 3, "report, SBOM, gate"


@pytest.mark.parametrize("path", [CI, RELEASE])
def test_only_the_job_that_uploads_sarif_may_write_security_events(path: Path) -> None:
    workflow = load_workflow(path)
    assert permission_problems(workflow) == []
    uploading = {job_id for job_id in workflow["jobs"] if steps_of(workflow, job_id, UPLOAD_SARIF)}
    assert uploading == {IMAGE_JOB[path]}
    assert workflow["permissions"] == {}


def test_the_release_pushes_only_after_the_gate_and_never_caches_trivy_db() -> None:
    steps = load_workflow(RELEASE)["jobs"]["publish"]["steps"]
    names = [step.get("name") for step in steps]
    assert names.index(GATE) < names.index(PUSH) == len(steps) - 1
    assert all(step["with"]["cache"] is False for step in steps if action(step) == TRIVY)


def test_the_accepted_findings_file_is_valid_and_read_by_every_gate() -> None:
    assert ignore_file_problems(ROOT / IGNORE_FILE) == []
    for path in (CI, RELEASE):
        assert step_named(load_workflow(path), IMAGE_JOB[path], GATE)["with"]["trivyignores"] == IGNORE_FILE


def set_input(job_id: str, name: str, key: str, value: Any) -> Callable[[Workflow], None]:
    def change(workflow: Workflow) -> None:
        inputs = step_named(workflow, job_id, name)["with"]
        if value is None:
            del inputs[key]
        else:
            inputs[key] = value

    return change


def drop_step(job_id: str, uses: str) -> Callable[[Workflow], None]:
    def change(workflow: Workflow) -> None:
        job = workflow["jobs"][job_id]
        job["steps"] = [step for step in job["steps"] if action(step) != uses]

    return change


def set_on_step(job_id: str, name: str, key: str, value: Any) -> Callable[[Workflow], None]:
    return lambda workflow: step_named(workflow, job_id, name).__setitem__(key, value)


def push_first(workflow: Workflow) -> None:
    steps = workflow["jobs"]["publish"]["steps"]
    push = step_named(workflow, "publish", PUSH)
    steps.remove(push)
    steps.insert(steps.index(step_named(workflow, "publish", GATE)), push)


BUILD_CI = "Build the image (loaded into the runner's Docker for the scans)"
SARIF_UPLOAD = "Upload the report to code scanning (fork pull requests get no write token)"


@pytest.mark.parametrize(
    ("path", "change", "expected"),
    [
        (CI, set_input("build", GATE, "exit-code", 0), "fails the job (exit-code: 1)"),
        (CI, set_input("build", GATE, "ignore-unfixed", None), "findings with no fix"),
        (CI, set_input("build", GATE, "severity", "HIGH"), "severity: CRITICAL"),
        (CI, set_input("build", GATE, "format", "sarif"), "drops the severity filter"),
        (CI, set_input("build", GATE, "trivyignores", None), "accepted findings"),
        (CI, set_input("build", GATE, "image-ref", "credit-risk/${{ matrix.image }}:latest"), "exit-code: 1"),
        (CI, set_input("build", BUILD_CI, "load", None), "no build is loaded"),
        (CI, set_on_step("build", GATE, "continue-on-error", True), "may be skipped or ignored"),
        (CI, set_on_step("build", GATE, "if", "${{ matrix.image != 'trainer' }}"), "may be skipped or ignored"),
        (CI, drop_step("build", UPLOAD_SARIF), "no SARIF report"),
        (CI, drop_step("build", "actions/upload-artifact"), "no SBOM"),
        (CI, set_input("build", SARIF_UPLOAD, "sarif_file", "other.sarif"), "no SARIF report"),
        (RELEASE, push_first, "pushed before its scans finish"),
        (RELEASE, set_input("publish", PUSH, "build-args", "REVISION=dirty"), "differs from the scanned one"),
    ],
)
def test_a_broken_copy_is_caught_for_every_image(path: Path, change: Callable[[Workflow], None], expected: str) -> None:
    problems = [problem for problem in image_scan_problems(broken(path, change)) if expected in problem]
    named = {image for image in IMAGES if any(f"({image})" in problem for problem in problems)}
    assert named == IMAGES, image_scan_problems(broken(path, change))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (set_input("build", SARIF_UPLOAD, "category", None), "has no category"),
        (
            set_input("build", SARIF_UPLOAD, "category", "trivy"),
            "'trivy' is shared by build (backend), build (frontend)",
        ),
        (lambda workflow: workflow["jobs"]["build"].__setitem__("continue-on-error", True), "build: continue-on-error"),
    ],
)
def test_a_broken_copy_is_caught_once_per_workflow(change: Callable[[Workflow], None], expected: str) -> None:
    assert any(expected in problem for problem in image_scan_problems(broken(CI, change)))


def test_an_image_built_by_another_job_without_scans_is_named() -> None:
    def add_unscanned_job(workflow: Workflow) -> None:
        job = copy.deepcopy(workflow["jobs"]["build"])
        job["strategy"]["matrix"]["include"] = [{"image": "docs", "context": "docs", "dockerfile": "docs/Dockerfile"}]
        job["steps"] = [step for step in job["steps"] if action(step) not in {TRIVY, UPLOAD_SARIF}]
        workflow["jobs"]["build-docs"] = job

    problems = image_scan_problems(broken(CI, add_unscanned_job))
    assert problems and all(problem.startswith(("build-docs (docs): ", "build-docs: ")) for problem in problems)
    assert any("no Trivy scan of the built image fails the job" in problem for problem in problems)
    assert any(
        "has security-events: write but uploads no SARIF" in p
        for p in permission_problems(broken(CI, add_unscanned_job))
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda workflow: workflow.__setitem__("permissions", {"security-events": "write"}), "workflow-level"),
        (lambda workflow: workflow["jobs"]["build"]["permissions"].pop("security-events"), "build: uploads SARIF"),
        (lambda workflow: workflow["jobs"]["lint"]["permissions"].__setitem__("security-events", "write"), "lint: has"),
        (lambda workflow: workflow["jobs"]["build"].pop("permissions"), "build: uploads SARIF without"),
    ],
)
def test_security_events_write_anywhere_but_the_uploading_job_is_caught(
    change: Callable[[Workflow], None], expected: str
) -> None:
    assert any(expected in problem for problem in permission_problems(broken(CI, change)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vulnerabilities:\n  - id: CVE-2024-1\n    statement: not reachable\n    expired_at: 2027-01-31\n", []),
        (
            "vulnerabilities:\n  - id: CVE-2024-1\n    expired_at: 2027-01-31\n",
            [".trivyignore.yaml: vulnerabilities CVE-2024-1: no statement saying why it is accepted"],
        ),
        (
            "vulnerabilities:\n  - id: CVE-2024-1\n    statement: later\n    expired_at: soon\n",
            [".trivyignore.yaml: vulnerabilities CVE-2024-1: no expired_at date (acceptances expire and are reviewed)"],
        ),
        (
            "vulnerabilities:\n  - statement: no id\n",
            [".trivyignore.yaml: vulnerabilities None: an entry without an id"],
        ),
        ("vulns: []\n", [".trivyignore.yaml: unknown section 'vulns'"]),
    ],
)
def test_an_accepted_finding_needs_an_id_a_reason_and_an_expiry(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / IGNORE_FILE
    path.write_text(text)
    assert ignore_file_problems(path) == expected
