"""Export a registered model version as a self-contained, versioned bundle directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

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


def exported_run_id(bundle_dir: Path) -> str | None:
    """The MLflow run a bundle was exported from (None if its metadata is unreadable)."""
    try:
        return json.loads((bundle_dir / METADATA_FILE).read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None


def foreign_bundles(export_dir: Path, model_name: str, client: MlflowClient) -> list[str]:
    """Exported versions the current registry did not produce (same number, other run, or unknown).

    Two MLflow stores exporting into one directory would number their versions independently and
    overwrite each other's bundles; training checks this before it starts.
    """
    model_root = Path(export_dir) / model_name
    if not model_root.is_dir():
        return []
    foreign = []
    for bundle in sorted(p for p in model_root.iterdir() if p.is_dir() and not p.is_symlink() and p.name.isdigit()):
        exported_run = exported_run_id(bundle)
        try:
            registered_run = client.get_model_version(model_name, bundle.name).run_id
        except MlflowException:
            registered_run = None
        if exported_run is None or registered_run != exported_run:
            foreign.append(f"v{bundle.name} (run {exported_run}, registry has {registered_run or 'no such version'})")
    return foreign


def refuse_foreign_bundles(export_dir: Path, model_name: str, client: MlflowClient, tracking_uri: str) -> None:
    """Stop (exit 2) before training when the export directory holds bundles of another MLflow store."""
    foreign = foreign_bundles(export_dir, model_name, client)
    if foreign:
        raise TrainingInputError(
            f"{Path(export_dir) / model_name} holds bundles this MLflow store "
            f"({tracking_uri}) did not register: {', '.join(foreign)}. Its new versions would overwrite "
            "them. Train against the store that exported them (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5000 "
            "for the stack's server) or export elsewhere with BUNDLES_DIR=..."
        )


def point_latest(model_root: Path, version: str) -> None:
    """Atomically repoint the `latest` symlink (relative, so it survives bind mounts)."""
    temp_link = model_root / f".{LATEST_LINK}.tmp"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    temp_link.symlink_to(version, target_is_directory=True)
    os.replace(temp_link, model_root / LATEST_LINK)
