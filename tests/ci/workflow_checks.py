"""Read the GitHub Actions workflows and the Makefile: jobs, steps, make targets called, repository paths named."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
PRE_COMMIT_CONFIG = ROOT / ".pre-commit-config.yaml"

# Files the jobs create at run time (training output, reports): named by workflows, absent from a fresh checkout.
GENERATED_PREFIXES = ("models/", "mlruns/", "train-report/", "htmlcov/", "coverage.xml", ".coverage", ".venv/")
FILE_PATTERN = re.compile(
    r"(?<![\w$/.~-])((?:[\w.-]+/)*(?:[\w.-]+\.(?:txt|ya?ml|py|sh|toml|cfg|ini|json|md)|Dockerfile(?:\.[\w-]+)?))\b"
)
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", ">", ">>", "<"}
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
COMMAND_PREFIXES = {"sudo", "time", "env", "exec", "nice", "command"}
MAKE_OPTIONS_WITH_VALUE = {"-C", "-f", "-I", "-o", "-W", "-j", "-l", "--file", "--directory"}
MATRIX_EXPRESSION = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")
SECRET_EXPRESSION = re.compile(r"\bsecrets\.([A-Za-z_]\w*)")
TARGET_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)")


def workflow_files() -> list[Path]:
    """Every workflow of the repository."""
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def load_workflow(path: Path) -> dict[str, Any]:
    """A workflow as a dict; YAML 1.1 reads the `on:` key as True, so it is put back under "on"."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step of every job."""
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def steps_using(workflow: dict[str, Any], action: str) -> list[tuple[str, dict[str, Any]]]:
    """The steps whose `uses:` is the given action (owner/name), any ref."""
    return [(job_id, step) for job_id, step in steps(workflow) if step.get("uses", "").split("@")[0] == action]


def secrets_used(job: dict[str, Any]) -> set[str]:
    """The names of the secrets a job reads (`secrets.NAME` anywhere in it; GITHUB_TOKEN included)."""
    return set(SECRET_EXPRESSION.findall(yaml.safe_dump(job)))


def run_scripts(workflow: dict[str, Any]) -> list[str]:
    """The shell script of every `run:` step."""
    return [step["run"] for _, step in steps(workflow) if "run" in step]


def script_commands(script: str) -> Iterator[list[str]]:
    """Each logical line of a shell script as shell tokens (continuations joined, comments dropped)."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes: keep what a plain split sees
            tokens = line.split()
        if tokens:
            yield tokens


def make_targets_called(script: str) -> set[str]:
    """The targets of every `make` command in a shell script (options and VAR=value skipped), including
    commands inside quoted strings (e.g. a command line sent over ssh)."""
    targets: set[str] = set()
    for tokens in script_commands(script):
        in_make = skip_next = False
        command_start = True
        for token in tokens:
            if " " in token.strip():
                targets |= make_targets_called(token)
                in_make = command_start = False
            elif token in SHELL_OPERATORS:
                in_make, command_start = False, True
            elif command_start:
                in_make = token == "make" or token.endswith("/make")
                command_start = token in COMMAND_PREFIXES or bool(ASSIGNMENT.match(token))
            elif not in_make:
                continue
            elif skip_next:
                skip_next = False
            elif token.startswith("-"):
                skip_next = token in MAKE_OPTIONS_WITH_VALUE
            elif "=" not in token:
                targets.add(token)
    return targets


def workflow_make_targets(workflow: dict[str, Any]) -> set[str]:
    """Every make target any step of the workflow runs."""
    return set().union(*(make_targets_called(script) for script in run_scripts(workflow)))


def clean_make_env() -> dict[str, str]:
    """The environment without the variables of an enclosing make (pytest may run under `make test`)."""
    return {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def run_make(args: list[str], directory: Path, **options: Any) -> subprocess.CompletedProcess:
    """`make --no-print-directory ARGS` in directory, outside any enclosing make; the output captured."""
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        env=clean_make_env(),
        timeout=60,
        **options,
    )


def make_database(directory: Path = ROOT) -> str:
    """`make -p` output for the Makefile in directory: every rule and variable, nothing executed."""
    return run_make(["-n", "-p", "-q", ".DEFAULT"], directory).stdout


def makefile_targets(directory: Path = ROOT) -> set[str]:
    """The targets of the Makefile in directory that do something: a recipe or prerequisites (make's own
    database, so included files count; a name only listed in .PHONY does not)."""
    targets: set[str] = set()
    for block in make_database(directory).split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines or (len(lines) > 1 and lines[0] == "# Not a target:"):
            continue
        match = TARGET_LINE.match(lines[0])
        if not match:
            continue
        has_prerequisites = bool(lines[0][match.end() :].split("|")[0].strip())
        if has_prerequisites or any(line.startswith("#  recipe to execute") for line in lines):
            targets.add(match.group(1))
    return targets - {".DEFAULT", ".PHONY", ".SUFFIXES"}


def makefile_variable(name: str, directory: Path = ROOT) -> str:
    """A variable's value as make expands it (`make -p` prints the unexpanded text, so ask make to echo it)."""
    script = f"print-variable:\n\t@echo $({name})\n"
    result = run_make(["-s", "-f", "Makefile", "-f", "-", "print-variable"], directory, input=script, check=True)
    return result.stdout.strip()


def dry_run(target: str, directory: Path = ROOT) -> list[str]:
    """The commands `make -n target` prints (recipes shown, not executed; continued lines joined)."""
    result = run_make(["-n", target], directory, check=True)
    return result.stdout.replace("\\\n", " ").splitlines()


def matrix_rows(job: dict[str, Any]) -> list[dict[str, str]]:
    """The `include` rows of a job's matrix (one empty row without a matrix)."""
    matrix = job.get("strategy", {}).get("matrix", {})
    return list(matrix.get("include", [])) or [{}]


def expand_matrix(value: str, row: dict[str, str]) -> str:
    """Substitute ${{ matrix.x }} expressions with one matrix row's values."""
    return MATRIX_EXPRESSION.sub(lambda match: str(row[match.group(1)]), value)


def is_generated(path: str) -> bool:
    return path.startswith(GENERATED_PREFIXES)


def paths_named(workflow: dict[str, Any]) -> set[str]:
    """Repository paths a workflow depends on: pip cache keys, image build contexts and Dockerfiles, and
    every file-like word of its scripts (requirements, compose files, scripts), minus run-time outputs."""
    paths: set[str] = set()
    for _, step in steps_using(workflow, "actions/setup-python"):
        paths.update(line.strip() for line in step.get("with", {}).get("cache-dependency-path", "").splitlines())
    for job_id, step in steps_using(workflow, "docker/build-push-action"):
        for row in matrix_rows(workflow["jobs"][job_id]):
            paths.update(expand_matrix(step["with"][key], row) for key in ("context", "file") if key in step["with"])
    for script in run_scripts(workflow):
        paths.update(FILE_PATTERN.findall(script))
    return {path for path in paths if path and not is_generated(path)}


def missing_paths(workflow: dict[str, Any], root: Path = ROOT) -> set[str]:
    """The paths a workflow names that do not exist under root."""
    return {path for path in paths_named(workflow) if not (root / path).exists()}


def build_matrix(workflow: dict[str, Any], job_id: str) -> set[tuple[str, str]]:
    """(context, Dockerfile) of every image a build job's matrix builds, normalised to repository paths."""
    job = workflow["jobs"][job_id]
    built = set()
    for _, step in steps_using({"jobs": {job_id: job}}, "docker/build-push-action"):
        for row in matrix_rows(job):
            context = expand_matrix(step["with"]["context"], row)
            dockerfile = expand_matrix(step["with"].get("file", f"{context}/Dockerfile"), row)
            built.add((os.path.normpath(context), os.path.normpath(dockerfile)))
    return built


def compose_builds(compose_files: list[Path]) -> set[tuple[str, str]]:
    """(context, Dockerfile) of every service with a `build:` in the compose files, as repository paths."""
    builds = set()
    for compose_file in compose_files:
        services = yaml.safe_load(compose_file.read_text(encoding="utf-8")).get("services", {})
        for service in services.values():
            build = service.get("build")
            if build is None:
                continue
            if isinstance(build, str):
                build = {"context": build}
            context = os.path.normpath(build.get("context", "."))
            dockerfile = os.path.normpath(os.path.join(context, build.get("dockerfile", "Dockerfile")))
            builds.add((context, dockerfile))
    return builds
