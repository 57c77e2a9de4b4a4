"""The content digest of a bundle directory: what training recorded, checked again before a deploy.

The digest is the SHA-256 of one line per file (`<sha256 of the file>  <relative path>`), files in path
order, the digest file itself excluded. Training writes it into the bundle (DIGEST_FILE) and records it in
MLflow (tag `bundle_digest` on the model version and its run); the deploy CLI recomputes it and refuses a
bundle whose content, or whose recorded digest, does not match. Standard library only: the deploy CLI and
the trainer image use it too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DIGEST_FILE = "bundle.sha256"
DIGEST_TAG = "bundle_digest"
BUNDLE_ARTIFACT = "bundle"  # where training logs a version's whole bundle, under the version's MLflow run


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def compute_digest(bundle: Path) -> str:
    """The digest of every file below `bundle` (symlinks are not followed; the digest file is left out)."""
    lines = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(bundle).as_posix()
        if relative != DIGEST_FILE:
            lines.append(f"{file_sha256(path)}  {relative}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def write_digest(bundle: Path) -> str:
    """Compute the digest and store it in the bundle's digest file; returns it."""
    digest = compute_digest(bundle)
    (bundle / DIGEST_FILE).write_text(digest + "\n", encoding="utf-8")
    return digest


def recorded_digest(bundle: Path) -> str | None:
    """The digest the bundle's digest file holds (None without one)."""
    path = bundle / DIGEST_FILE
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None
