"""Export a registered model version as a self-contained, versioned bundle directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow

METADATA_FILE = "metadata.json"
LATEST_LINK = "latest"
BUNDLE_SCHEMA_VERSION = 1


def export_bundle(
    export_dir: Path, model_name: str, version: str, metadata: dict[str, Any], plots: dict[str, Path]
) -> Path:
    """Write <export_dir>/<model_name>/<version>/ atomically and repoint <model_name>/latest."""
    model_root = Path(export_dir) / model_name
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
        os.chmod(staging, 0o755)
        target = model_root / str(version)
        if target.exists():
            # Re-export of the same version (e.g. another store): swap, never leave half a bundle.
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


def point_latest(model_root: Path, version: str) -> None:
    """Atomically repoint the `latest` symlink (relative, so it survives bind mounts)."""
    temp_link = model_root / f".{LATEST_LINK}.tmp"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    temp_link.symlink_to(version, target_is_directory=True)
    os.replace(temp_link, model_root / LATEST_LINK)
