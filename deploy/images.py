"""The images of a release: present locally, built from this checkout, or pulled from the registry by tag."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable

from deploy.compose import Compose, Runner
from deploy.errors import DeployError, UsageError
from deploy.release import STACK_SERVICES

UNKNOWN_TAG_WORDS = ("manifest unknown", "not found", "manifest for", "does not exist")
UNREACHABLE_WORDS = ("connection refused", "no such host", "dial tcp", "i/o timeout", "timeout", "server gave http")


class Images:
    """docker image operations; `runner` is subprocess.run (injectable for tests)."""

    def __init__(self, runner: Runner = subprocess.run) -> None:
        self.runner = runner

    def _docker(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return self.runner(["docker", *args], capture_output=True, text=True)
        except FileNotFoundError:
            raise DeployError("the docker CLI is not installed (see docs/deployment.md)") from None

    def exists(self, ref: str) -> bool:
        return self._docker("image", "inspect", "--format", "{{.Id}}", ref).returncode == 0

    def labels(self, ref: str) -> dict[str, str]:
        done = self._docker("image", "inspect", "--format", "{{json .Config.Labels}}", ref)
        if done.returncode != 0:
            return {}
        try:
            return json.loads(done.stdout or "{}") or {}
        except ValueError:
            return {}

    def pull(self, ref: str) -> None:
        """Pull one image; an unknown tag or an unreachable registry is a UsageError (exit 2) naming it."""
        done = self._docker("pull", "--quiet", ref)
        if done.returncode == 0:
            return
        detail = " ".join((done.stderr or done.stdout or "").split())[-300:]
        lowered = detail.lower()
        if any(word in lowered for word in UNREACHABLE_WORDS):
            raise UsageError(f"the registry of {ref} cannot be reached: {detail}")
        if any(word in lowered for word in UNKNOWN_TAG_WORDS):
            raise UsageError(f"unknown tag: the registry has no image {ref}")
        raise UsageError(f"cannot pull {ref}: {detail}")

    def remove(self, refs: Iterable[str]) -> list[str]:
        """Remove these images (those in use by a container stay); the ones removed."""
        removed = []
        for ref in refs:
            if self._docker("image", "rm", ref).returncode == 0:
                removed.append(ref)
        return removed

    def tags_on_disk(self, prefix: str) -> set[str]:
        """The tags of every stack service image named `<prefix>/<service>` on this engine."""
        tags: set[str] = set()
        for service in STACK_SERVICES:
            done = self._docker("images", "--format", "{{.Tag}}", f"{prefix}/{service}")
            tags.update(t for t in done.stdout.split() if t and t != "<none>")
        return tags


def ensure_release_images(
    images: Images, compose: Compose, refs: dict[str, str], tag: str, checkout: str | None, registry: str | None, say
) -> str:
    """Make the images of a release present: already there, pulled (with a registry), or built from this
    checkout (when `tag` is the checkout's own). How they were obtained, in words."""
    missing = [ref for ref in refs.values() if not images.exists(ref)]
    if not missing:
        return "present"
    if registry:
        for ref in missing:
            say(f"  pulling {ref}")
            images.pull(ref)
        return "pulled"
    if tag != checkout:
        raise UsageError(
            f"unknown tag {tag}: its images ({', '.join(missing)}) are not on this machine, this checkout is "
            f"{checkout}, and no REGISTRY is set to pull them from"
        )
    say(f"  building {', '.join(refs.values())} from this checkout")
    compose.build_release(refs, tag)
    return "built"
