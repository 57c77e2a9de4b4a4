"""Model bundles on the host (models/<name>/<version>/): which exist, which is newest, whether one is what training
exported (version and content digest)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from deploy.errors import UsageError
from training.bundle_digest import DIGEST_FILE, compute_digest, recorded_digest

METADATA_FILE = "metadata.json"
LATEST_LINK = "latest"


def versions(bundles_dir: Path, name: str) -> list[str]:
    """Exported versions (directories with a metadata.json), oldest first."""
    root = bundles_dir / name
    if not root.is_dir():
        return []
    found = [
        entry.name
        for entry in root.iterdir()
        if not entry.is_symlink() and not entry.name.startswith(".") and (entry / METADATA_FILE).is_file()
    ]
    return sorted(found, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))


def newest(bundles_dir: Path, name: str) -> str:
    """The version `latest` points to (the training pipeline's newest export), else the highest one."""
    link = bundles_dir / name / LATEST_LINK
    if link.is_symlink() and (link / METADATA_FILE).is_file():
        return link.resolve().name
    found = versions(bundles_dir, name)
    if not found:
        raise UsageError(f"no model bundle in {bundles_dir / name}: train one first (make train)")
    return found[-1]


def require(bundles_dir: Path, name: str, version: str) -> Path:
    """The bundle directory of `version`, which must exist."""
    if not version or "/" in version or version.startswith("."):
        raise UsageError(f"bad model version {version!r}")
    bundle = bundles_dir / name / version
    if not (bundle / METADATA_FILE).is_file():
        available = ", ".join(versions(bundles_dir, name)) or "none"
        raise UsageError(f"model version {version} not found in {bundles_dir / name} (available: {available})")
    unreadable = unreadable_by_others(bundle)
    if unreadable:
        raise UsageError(
            f"{unreadable} is not readable by the containers' user (uid 10001, not the owner): "
            f"run `chmod -R a+rX {bundles_dir}`"
        )
    return bundle


def unreadable_by_others(bundle: Path) -> Path | None:
    """The first path of the bundle (or above it) that a different, non-root user cannot read."""
    for directory in [*reversed(bundle.parents[:2]), bundle]:
        if not directory.stat().st_mode & stat.S_IXOTH:
            return directory
    for path in sorted(bundle.rglob("*")):
        mode = path.stat().st_mode
        needed = stat.S_IROTH | stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH
        if mode & needed != needed:
            return path
    return None


def verify(bundle: Path, version: str, registered_digest: str | None) -> str:
    """The bundle's digest, once it is shown to be what training exported as `version`: its metadata names that
    version, its content matches the digest written at export, and that digest is the one the registry
    recorded. Anything else is a UsageError (exit 2) saying what does not match."""
    try:
        named = json.loads((bundle / METADATA_FILE).read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"{bundle / METADATA_FILE} is unreadable: {exc}") from None
    if str(named) != version:
        raise UsageError(f"{bundle} claims to be model version {named!r}, not {version}: refused")
    written = recorded_digest(bundle)
    if written is None:
        raise UsageError(f"{bundle} has no {DIGEST_FILE}: it was not exported by training; refused")
    actual = compute_digest(bundle)
    if actual != written:
        raise UsageError(
            f"{bundle} was changed after training exported it (content digest {actual[:12]}, "
            f"exported {written[:12]}): refused"
        )
    if registered_digest is None:
        raise UsageError(f"the registry recorded no bundle digest for v{version}: it cannot vouch for {bundle}")
    if registered_digest != actual:
        raise UsageError(
            f"{bundle} is not the bundle the registry recorded for v{version} "
            f"(digest {actual[:12]}, registry {registered_digest[:12]}): refused"
        )
    return actual
