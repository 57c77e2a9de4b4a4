"""Export a registered model version as a self-contained, versioned bundle directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow

from training.bundle_digest import write_digest
from training.errors import TrainingInputError

METADATA_FILE = "metadata.json"
LATEST_LINK = "latest"
BUNDLE_SCHEMA_VERSION = 1


def export_bundle(
    export_dir: Path,
    model_name: str,
    version: str,
    metadata: dict[str, Any],
    plots: dict[str, Path],
    texts: dict[str, str] | None = None,
) -> Path:
    """Write <export_dir>/<model_name>/<version>/ atomically (with `texts`: file name -> content, e.g. the
    model card) and repoint <model_name>/latest."""
    model_root = Path(export_dir) / model_name
    target = model_root / str(version)
    existing_run = exported_run_id(target) if target.exists() else None
    if target.exists() and existing_run != metadata.get("run_id"):
        raise TrainingInputError(
            f"{target} already holds version {version} of run {existing_run}, not run "
            f"{metadata.get('run_id')}: refusing to overwrite a bundle from another MLflow store"
        )
    model_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=model_root))
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{model_name}/{version}", dst_path=str(staging / "model")
        )
        plot_dir = staging / "plots"
        plot_dir.mkdir()
        for name, path in plots.items():
            shutil.copyfile(path, plot_dir / f"{name}.png")
        bundle_meta = {
            **metadata,
            "bundle_schema_version": BUNDLE_SCHEMA_VERSION,
            "plots": {name: f"plots/{name}.png" for name in plots},
        }
        (staging / METADATA_FILE).write_text(json.dumps(bundle_meta, indent=2, sort_keys=False), encoding="utf-8")
        for name, content in (texts or {}).items():
            (staging / name).write_text(content, encoding="utf-8")
        write_digest(staging)  # last: it covers every other file
        os.chmod(staging, 0o755)
        if target.exists():
            # Re-export of the same run: swap, never leave half a bundle.
            aside = Path(tempfile.mkdtemp(prefix=f".old-{version}-", dir=model_root))
            os.replace(target, aside / "bundle")
            os.replace(staging, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    point_latest(model_root, str(version))
    return target


def _exported(bundle_dir: Path, key: str) -> str | None:
    try:
        value = json.loads((bundle_dir / METADATA_FILE).read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def exported_run_id(bundle_dir: Path) -> str | None:
    """The MLflow run a bundle was exported from (None if its metadata is unreadable)."""
    return _exported(bundle_dir, "run_id")


def exported_version(bundle_dir: Path) -> str | None:
    """The model version a bundle's metadata names (None if unreadable)."""
    return _exported(bundle_dir, "version")


def exported_versions(export_dir: Path, model_name: str) -> list[Path]:
    """The exported bundle directories of `model_name`, oldest version first."""
    model_root = Path(export_dir) / model_name
    if not model_root.is_dir():
        return []
    bundles = [p for p in model_root.iterdir() if p.is_dir() and not p.is_symlink() and p.name.isdigit()]
    return sorted(bundles, key=lambda p: int(p.name))


def point_latest(model_root: Path, version: str) -> None:
    """Atomically repoint the `latest` symlink (relative, so it survives bind mounts)."""
    temp_link = model_root / f".{LATEST_LINK}.tmp"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    temp_link.symlink_to(version, target_is_directory=True)
    os.replace(temp_link, model_root / LATEST_LINK)
