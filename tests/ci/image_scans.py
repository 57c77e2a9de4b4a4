"""Check the image scans of a workflow: every image it builds is scanned by Trivy before any push, fails on fixable
critical findings, reports SARIF to code scanning and leaves a CycloneDX SBOM artifact; only the jobs that upload
SARIF may write security events; accepted findings are justified and expire. Each check returns the problems it
finds as sentences (an empty list is a pass), so a test can feed it a broken copy and see what it names."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from tests.ci.workflow_checks import expand_matrix, matrix_rows

TRIVY = "aquasecurity/trivy-action"
UPLOAD_SARIF = "github/codeql-action/upload-sarif"
UPLOAD_ARTIFACT = "actions/upload-artifact"
BUILD = "docker/build-push-action"
IGNORE_FILE = ".trivyignore.yaml"
IGNORE_SECTIONS = {"vulnerabilities", "misconfigurations", "secrets", "licenses"}

Step = dict[str, Any]


def action(step: Step) -> str:
    """owner/name[/path] of a `uses:` step, without its ref ("" for a `run:` step)."""
    return step.get("uses", "").split("@")[0]


def is_true(value: Any) -> bool:
    """A YAML boolean or the string an action input receives."""
    return value is True or str(value).lower() == "true"


def split_list(value: Any) -> list[str]:
    """An action's list input (newline- or comma-separated) as items."""
    return [item.strip() for line in str(value or "").splitlines() for item in line.split(",") if item.strip()]


def expand(value: Any, row: dict[str, str]) -> Any:
    return expand_matrix(value, row) if isinstance(value, str) else value


def row_steps(job: dict[str, Any], row: dict[str, str]) -> list[Step]:
    """A job's steps as one matrix row runs them: ${{ matrix.x }} substituted in `with:` and `if:`."""
    expanded = []
    for step in job.get("steps", []):
        step = dict(step)
        step["with"] = {key: expand(value, row) for key, value in step.get("with", {}).items()}
        if "if" in step:
            step["if"] = expand(step["if"], row)
        expanded.append(step)
    return expanded


def image_jobs(workflow: dict[str, Any]) -> list[str]:
    """The jobs that build an image (a docker/build-push-action step)."""
    return [job_id for job_id, job in workflow["jobs"].items() if any(action(s) == BUILD for s in job.get("steps", []))]


def image_scan_problems(workflow: dict[str, Any]) -> list[str]:
    """Every image built by every job of the workflow, one matrix row at a time; SARIF categories unique."""
    problems: list[str] = []
    categories: dict[str, list[str]] = {}
    for job_id in image_jobs(workflow):
        job = workflow["jobs"][job_id]
        if is_true(job.get("continue-on-error")):
            problems.append(f"{job_id}: continue-on-error lets a failed scan pass")
        for row in matrix_rows(job):
            where = f"{job_id} ({row.get('image', 'image')})"
            steps = row_steps(job, row)
            problems += row_problems(where, steps)
            for step in steps:
                if action(step) == UPLOAD_SARIF and step["with"].get("category"):
                    categories.setdefault(step["with"]["category"], []).append(where)
    problems += [
        f"SARIF category {name!r} is shared by {', '.join(owners)}"
        for name, owners in categories.items()
        if len(owners) > 1
    ]
    return problems


def row_problems(where: str, steps: list[Step]) -> list[str]:
    """One image of one job: loaded for the scans, gated, reported, SBOM'd, all before any push of it."""
    builds = [(index, step) for index, step in enumerate(steps) if action(step) == BUILD]
    loaded = [step for _, step in builds if is_true(step["with"].get("load"))]
    if not loaded:
        return [f"{where}: no build is loaded into Docker (load: true), so nothing built can be scanned"]
    refs = {tag for step in loaded for tag in split_list(step["with"].get("tags"))}
    scans = [(index, step) for index, step in enumerate(steps) if action(step) == TRIVY and scanned_ref(step) in refs]
    problems = [f"{where}: {message}" for message in gate_problems([step for _, step in scans])]
    for _, step in scans:
        if "if" in step or is_true(step.get("continue-on-error")):
            problems.append(
                f"{where}: Trivy step {step.get('name', '')!r} may be skipped or ignored (if/continue-on-error)"
            )
    problems += [f"{where}: {message}" for message in report_problems(scans, steps)]
    last_scan = max((index for index, _ in scans), default=-1)
    for index, push in builds:
        if not is_true(push["with"].get("push")):
            continue
        if index < last_scan:
            problems.append(f"{where}: the image is pushed before its scans finish")
        if not any(same_build(push, step) for step in loaded):
            problems.append(
                f"{where}: the pushed build differs from the scanned one (context, file, build-args, labels)"
            )
    return problems


def scanned_ref(step: Step) -> str:
    """The image a Trivy step scans (image-ref, else scan-ref as the action's entrypoint does)."""
    if step["with"].get("scan-type", "image") != "image":
        return ""
    return str(step["with"].get("image-ref") or step["with"].get("scan-ref") or "")


def gate_problems(scans: list[Step]) -> list[str]:
    """At least one Trivy step fails the job on fixable CRITICAL findings, with the accepted findings file."""
    gates = [step for step in scans if str(step["with"].get("exit-code", "0")) != "0"]
    if not gates:
        return ["no Trivy scan of the built image fails the job (exit-code: 1)"]
    found = [gate_step_problems(step) for step in gates]
    return [] if [] in found else [message for messages in found for message in messages]


def gate_step_problems(step: Step) -> list[str]:
    settings = step["with"]
    problems = []
    if "CRITICAL" not in split_list(settings.get("severity")):
        problems.append("the failing scan does not select CRITICAL findings (severity: CRITICAL)")
    if not is_true(settings.get("ignore-unfixed")):
        problems.append("the failing scan also fails on findings with no fix (ignore-unfixed: true)")
    if str(settings.get("exit-code")) != "1":
        problems.append(f"the failing scan exits {settings.get('exit-code')!r}, not 1")
    if settings.get("format") == "sarif" and not is_true(settings.get("limit-severities-for-sarif")):
        problems.append("format: sarif drops the severity filter (the action unsets it), so any severity fails")
    if settings.get("trivyignores") != IGNORE_FILE:
        problems.append(f"the failing scan does not read the accepted findings (trivyignores: {IGNORE_FILE})")
    return problems


def report_problems(scans: list[tuple[int, Step]], steps: list[Step]) -> list[str]:
    """A SARIF report uploaded to code scanning (with a category) and a CycloneDX SBOM uploaded as an artifact."""
    problems = []
    for kind, output_format, uploader in (
        ("SARIF report", "sarif", UPLOAD_SARIF),
        ("SBOM", "cyclonedx", UPLOAD_ARTIFACT),
    ):
        outputs = [
            (index, step["with"].get("output")) for index, step in scans if step["with"].get("format") == output_format
        ]
        uploaded = [
            output
            for index, output in outputs
            if output and any(uploads(later, uploader, output) for later in steps[index + 1 :])
        ]
        if not uploaded:
            problems.append(f"no {kind} ({output_format}) of the built image is written and uploaded by {uploader}")
    for step in steps:
        if action(step) == UPLOAD_SARIF and not step["with"].get("category"):
            problems.append("a SARIF upload has no category (one per image, or the images overwrite each other)")
    return problems


def uploads(step: Step, uploader: str, output: str) -> bool:
    if action(step) != uploader:
        return False
    if uploader == UPLOAD_SARIF:
        return step["with"].get("sarif_file") == output
    return output in split_list(step["with"].get("path")) and "if" not in step


def same_build(first: Step, second: Step) -> bool:
    """Two build steps with the same inputs: the second reuses the first's layers from the job's builder."""
    keys = ("context", "file", "build-args", "labels", "target", "platforms", "no-cache")
    return all(first["with"].get(key) == second["with"].get(key) for key in keys)


def permission_problems(workflow: dict[str, Any]) -> list[str]:
    """security-events: write on exactly the jobs that upload SARIF; nothing written at workflow level."""
    problems = []
    top = workflow.get("permissions", {})
    if top == "write-all" or (isinstance(top, dict) and "write" in top.values()):
        problems.append(f"workflow-level permissions must stay read-only, not {top!r}")
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions")
        writes = isinstance(granted, dict) and granted.get("security-events") == "write"
        uploads_sarif = any(action(step) == UPLOAD_SARIF for step in job.get("steps", []))
        if uploads_sarif and not writes:
            problems.append(f"{job_id}: uploads SARIF without its own security-events: write")
        if writes and not uploads_sarif:
            problems.append(f"{job_id}: has security-events: write but uploads no SARIF")
    return problems


def ignore_file_problems(path: Path) -> list[str]:
    """Every accepted finding names its id, says why (statement) and expires (expired_at, a date)."""
    if not path.is_file():
        return [f"{path.name} is missing"]
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        return [f"{path.name}: not a mapping of {sorted(IGNORE_SECTIONS)}"]
    problems = [f"{path.name}: unknown section {key!r}" for key in document if key not in IGNORE_SECTIONS]
    for section in IGNORE_SECTIONS & set(document):
        for entry in document[section] or []:
            label = entry.get("id") if isinstance(entry, dict) else repr(entry)
            name = f"{path.name}: {section} {label}"
            if not isinstance(entry, dict) or not entry.get("id"):
                problems.append(f"{name}: an entry without an id")
                continue
            if not str(entry.get("statement") or "").strip():
                problems.append(f"{name}: no statement saying why it is accepted")
            if not isinstance(entry.get("expired_at"), datetime.date):
                problems.append(f"{name}: no expired_at date (acceptances expire and are reviewed)")
    return problems
