"""Lineage of a trained model: who trained it, from which commit and data, through which DVC stages and MLflow runs."""

from __future__ import annotations

import getpass
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from training.metadata import git_commit

DVC_LOCK = Path("dvc.lock")


def trained_by() -> str:
    """$TRAINED_BY when set (CI sets it to the actor), else the login name of the process."""
    if os.environ.get("TRAINED_BY"):
        return os.environ["TRAINED_BY"]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def uncommitted_changes() -> bool | None:
    """Whether the work tree differs from its commit (None where git is not available, e.g. the trainer image)."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(status.strip())


def file_md5(path: Path) -> str:
    """The MD5 of a file's bytes: the hash DVC 3 records for it in dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def public_uri(uri: str) -> str:
    """The tracking URI without any user or password it may carry."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, f"{host}:{parts.port}" if parts.port else host, parts.path, parts.query, ""))


def training_lineage(
    data_path: Path,
    dataset_sha256: str,
    tracking_uri: str,
    experiment: str,
    session_run_id: str,
    champion_run_id: str,
    registered: tuple[str, str],
) -> dict[str, Any]:
    """What the train step knows: the person, the code, the data file and the MLflow runs and registry version."""
    name, version = registered
    return {
        "trained_by": trained_by(),
        "git": {"commit": git_commit(), "uncommitted_changes": uncommitted_changes()},
        "dataset": {"path": str(data_path), "sha256": dataset_sha256, "md5": file_md5(Path(data_path))},
        "mlflow": {
            "tracking_uri": public_uri(tracking_uri),
            "experiment": experiment,
            "session_run_id": session_run_id,
            "champion_run_id": champion_run_id,
            "registered_model": name,
            "version": version,
        },
    }


def dvc_stages(lock: Path = DVC_LOCK) -> dict[str, dict[str, dict[str, str]]] | None:
    """Stage -> {"deps": {path: md5}, "outs": {path: md5}} from dvc.lock; None when there is none (or unreadable)."""
    try:
        raw = yaml.safe_load(lock.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("stages"), dict):
        return None
    stages = {}
    for name, stage in raw["stages"].items():
        stages[str(name)] = {
            kind: {str(entry.get("path")): str(entry.get("md5")) for entry in stage.get(kind) or []}
            for kind in ("deps", "outs")
        }
    return stages


def dvc_lineage(lineage: dict[str, Any], lock: Path = DVC_LOCK) -> dict[str, Any]:
    """The lineage plus the DVC stage hashes of dvc.lock, and whether it records the very data file trained on."""
    stages = dvc_stages(lock)
    data = lineage.get("dataset", {})
    recorded = {
        md5 for stage in (stages or {}).values() for path, md5 in stage["deps"].items() if path == data.get("path")
    }
    return {
        **lineage,
        "dvc": {
            "lock": str(lock) if stages is not None else None,
            "stages": stages,
            "data_matches_lock": (data.get("md5") in recorded) if recorded else None,
        },
    }
