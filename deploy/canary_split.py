"""The canary's weight as nginx reads it: one empty file per one-percent bucket that goes to the canary (idle)
color, in a directory nginx sees as /etc/nginx/active/canary (nginx/conf.d/canary.conf).

A new weight is a new directory holding the files 0..w-1, then the link `canary` renamed over to it: one atomic
step, so nginx sees the whole old or the whole new weight and never half of a change. Weight 0 removes the link:
every request goes to the active color, exactly as without a canary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from deploy.errors import UsageError

LINK = "canary"
BUCKETS = 100
PREFIX = ".canary-"


def check_weight(weight: object) -> int:
    """`weight` as the share of requests (percent) for the canary; UsageError unless a whole number 0..100."""
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= BUCKETS:
        raise UsageError(f"a canary weight is a whole number from 0 to {BUCKETS}, got {weight!r}")
    return weight


class CanarySplit:
    """The bucket files in the directory mounted into nginx at /etc/nginx/active."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.link = directory / LINK

    def weight(self) -> int:
        """The weight nginx applies now (0: no canary)."""
        if not self.link.is_dir():
            return 0
        return sum(1 for entry in self.link.iterdir() if entry.name.isdigit() and int(entry.name) < BUCKETS)

    def write(self, weight: int) -> None:
        """Send `weight` % of the public requests to the idle color, in one atomic step; old weights removed."""
        check_weight(weight)
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = os.readlink(self.link) if self.link.is_symlink() else None
        if weight == 0:
            self.link.unlink(missing_ok=True)
        else:
            name = f"{PREFIX}{weight}-{uuid.uuid4().hex[:12]}"
            target = self.directory / name
            target.mkdir(mode=0o755)
            for bucket in range(weight):
                (target / str(bucket)).touch(mode=0o644)
            temp = self.directory / f"{PREFIX}link-{uuid.uuid4().hex[:12]}"
            os.symlink(name, temp)  # relative: it resolves inside nginx's mount as on the host
            os.replace(temp, self.link)
        self._remove_stale(previous)

    def _remove_stale(self, previous: str | None) -> None:
        """Every older weight's directory but the one just replaced: a request that resolved the link an instant
        before the rename still finds all of its files."""
        keep = {previous, os.readlink(self.link) if self.link.is_symlink() else None}
        for entry in self.directory.glob(f"{PREFIX}*"):
            if entry.name in keep:
                continue
            if entry.is_symlink() or entry.is_file():
                entry.unlink(missing_ok=True)
            else:
                shutil.rmtree(entry, ignore_errors=True)
