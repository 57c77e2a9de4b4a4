"""A release: the code (one image per stack service, tagged with the git revision it was built from) plus the
model version it serves. Each color pins one release; the pin is what compose starts, so a re-created or
restarted container always comes back on its own code and model."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deploy.errors import UsageError

STACK_SERVICES = ("backend", "frontend")  # the images a release pins, per color
BUILD_CONTEXTS = ("backend", "frontend")  # what an image is built from: a change there changes the release
LOCAL_PREFIX = "credit-risk"  # image names without a registry: credit-risk/backend:<tag>


@dataclass(frozen=True)
class Release:
    """What a color runs: the images of its services (by tag) and its model version (with the bundle digest)."""

    tag: str
    images: dict[str, str]  # service -> image reference (name:tag)
    model_version: str
    model_digest: str | None = None

    def describe(self) -> str:
        return f"{short(self.tag)} + model v{self.model_version}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Release:
        return cls(
            str(raw["tag"]),
            {str(k): str(v) for k, v in raw["images"].items()},
            str(raw["model_version"]),
            raw.get("model_digest"),
        )


def short(tag: str) -> str:
    """A revision as people read it: 12 characters of the commit, plus any `-dirty-…` suffix."""
    head, _, rest = tag.partition("-")
    return head[:12] + (f"-{rest}" if rest else "")


def image_ref(service: str, tag: str, registry: str | None) -> str:
    """`<registry>/<service>:<tag>` (as the release workflow pushes them) or `credit-risk/<service>:<tag>`."""
    return f"{(registry or LOCAL_PREFIX).rstrip('/')}/{service}:{tag}"


def release_images(tag: str, registry: str | None) -> dict[str, str]:
    return {service: image_ref(service, tag, registry) for service in STACK_SERVICES}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)


def checkout_tag(root: Path) -> tuple[str, bool]:
    """The release tag of the working tree and whether it is dirty: the commit, or `<commit>-dirty-<hash>` when
    the build contexts (backend/, frontend/) differ from it (the hash is that of the difference, so the same
    uncommitted change gets the same tag)."""
    try:
        head = _git(root, "rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        head = None
    if head is None or head.returncode != 0:
        raise UsageError(f"{root} is not a git checkout: give the release tag explicitly (TAG=...)")
    commit = head.stdout.strip()
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *BUILD_CONTEXTS).stdout
    if not status.strip():
        return commit, False
    digest = hashlib.sha256(_git(root, "diff", "HEAD", "--binary", "--", *BUILD_CONTEXTS).stdout.encode())
    for line in sorted(status.splitlines()):
        if line.startswith("??"):
            path = root / line[3:]
            digest.update(line.encode() + (path.read_bytes() if path.is_file() else b""))
    return f"{commit}-dirty-{digest.hexdigest()[:12]}", True
