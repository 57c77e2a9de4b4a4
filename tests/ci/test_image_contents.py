"""No data in any image: every image the compose files build gets neither the dataset, models, MLflow runs, the
deploy state (keys, passwords) nor secrets, whether through its build context (the files its .dockerignore lets
in, walked on disk: untracked files count) or a COPY/ADD naming such a path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.ci.workflow_checks import ROOT, compose_builds

COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / "docker-compose.green.yml"]
# Repository-relative paths that hold data or credentials: the dataset, bundles, runs, the deploy CLI's state.
FORBIDDEN_DIRS = ("data", "models", "mlruns", ".deploy", "reports", "test-artifacts", ".dvc/cache")
FORBIDDEN_FILES = re.compile(r"(\.(csv|parquet|db|sqlite|pem|key|env)$|(^|/)secrets\.toml$|(^|/)api-keys?\.json$)")
COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?P<args>.+)$", re.MULTILINE | re.IGNORECASE)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: anchored at the context root, `*` and `?` within one path
    element, `**` across any number of them."""
    parts = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        else:
            char = pattern[index]
            parts.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            index += 1
    return re.compile("".join(parts))


def ignore_rules(lines: list[str]) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception `!…`, pattern) in file order; the last rule that matches a path decides."""
    rules = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        cleaned = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((negated, pattern_regex(cleaned)))
    return rules


def sent(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends `relative` (a file in the context): a pattern matching the file or one of its parent
    directories excludes it, unless a later exception matches."""
    elements = relative.split("/")
    candidates = ["/".join(elements[: end + 1]) for end in range(len(elements))]
    decision = True
    for negated, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            decision = negated
    return decision


def ignore_file(context: str, dockerfile: str) -> Path:
    """`<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's .dockerignore (BuildKit)."""
    beside = ROOT / f"{dockerfile}.dockerignore"
    return beside if beside.is_file() else ROOT / context / ".dockerignore"


def context_files(context: Path) -> list[str]:
    """Every file under the context, as Docker would list it (symlinked directories are not followed)."""
    files = []
    for directory, subdirs, names in os.walk(context):
        subdirs[:] = [d for d in subdirs if d != ".git"]
        files += [os.path.relpath(os.path.join(directory, name), context) for name in names]
    return files


def forbidden(repository_path: str) -> bool:
    path = repository_path.replace(os.sep, "/")
    in_dir = any(path == d or path.startswith(f"{d}/") for d in FORBIDDEN_DIRS)
    return in_dir or bool(FORBIDDEN_FILES.search(path))


BUILDS = sorted(compose_builds(COMPOSE_FILES))


def test_every_image_is_checked() -> None:
    assert {dockerfile for _, dockerfile in BUILDS} >= {
        "backend/Dockerfile",
        "frontend/Dockerfile",
        "mlflow/Dockerfile",
        "training/Dockerfile",
        "nginx/Dockerfile",
        "prometheus/Dockerfile",
        "deploy/Dockerfile",
    }


@pytest.mark.parametrize("context, dockerfile", BUILDS, ids=[dockerfile for _, dockerfile in BUILDS])
def test_no_data_or_credentials_enter_the_build_context(context: str, dockerfile: str) -> None:
    ignore = ignore_file(context, dockerfile)
    assert ignore.is_file(), f"{dockerfile}: no .dockerignore, the whole of {context}/ would be sent"
    rules = ignore_rules(ignore.read_text(encoding="utf-8").splitlines())
    leaked = [
        path
        for relative in context_files(ROOT / context)
        if sent(relative, rules) and forbidden(path := os.path.normpath(os.path.join(context, relative)))
    ]
    assert not leaked, f"{ignore.relative_to(ROOT)} lets these into {dockerfile}'s image: {leaked[:10]}"


@pytest.mark.parametrize("context, dockerfile", BUILDS, ids=[dockerfile for _, dockerfile in BUILDS])
def test_no_copy_names_a_data_path(context: str, dockerfile: str) -> None:
    text = (ROOT / dockerfile).read_text(encoding="utf-8").replace("\\\n", " ")
    for match in COPY.finditer(text):
        words = [w for w in match.group("args").split() if not w.startswith("--")]
        if "--from=" in match.group("args") or words[0].startswith("["):
            continue  # from another stage (or the JSON form, which this project does not use)
        for source in words[:-1]:
            path = os.path.normpath(os.path.join(context, source))
            assert not forbidden(path), f"{dockerfile} copies {source} ({path}) into its image"


@pytest.mark.parametrize(
    "lines, path, expected",
    [
        (["*", "!training/"], "training/train.py", True),
        (["*", "!training/"], "data/german_credit.csv", False),
        (["*", "!training/", "training/tests/"], "training/tests/test_x.py", False),
        (["tests/", "**/*.pyc"], "views/score.py", True),
        (["tests/", "**/*.pyc"], "views/__pycache__/score.cpython-311.pyc", False),
        (["tests/"], "views/tests/x.py", True),  # anchored at the context root, unlike .gitignore
    ],
)
def test_dockerignore_rules_read_as_docker_reads_them(lines: list[str], path: str, expected: bool) -> None:
    assert sent(path, ignore_rules(lines)) is expected


def test_a_data_path_is_caught() -> None:
    assert forbidden("data/german_credit.csv") and forbidden(".deploy/credit-risk/mlflow/server.env")
    assert forbidden("frontend/.streamlit/secrets.toml") and not forbidden("training/train.py")
