"""The active-upstream file nginx includes: which color gets the public traffic."""

from __future__ import annotations

import re
from pathlib import Path

from deploy.errors import DeployError
from deploy.files import write_atomic
from deploy.settings import COLORS, other

ACTIVE_FILE = "active.conf"
DEFAULT_ACTIVE = "blue"  # what nginx/conf.d/stacks.conf falls back to while the file is missing
_ACTIVE_LINE = re.compile(r"^\s*set\s+\$active_color\s+(\w+)\s*;", re.MULTILINE)


def render(active: str) -> str:
    """The file's text: the public server routes to `active`, the preview server to the other color."""
    if active not in COLORS:
        raise ValueError(f"unknown color {active!r}")
    return (
        "# Written by `python -m deploy.cli switch` (deploy/nginx_config.py); do not edit by hand.\n"
        "# Included by both servers of nginx/conf.d/stacks.conf: :8080 -> active, :8081 (preview) -> idle.\n"
        f"set $active_color {active};\n"
        f"set $idle_color {other(active)};\n"
    )


def parse_active(text: str) -> str:
    """The active color named in the file's text."""
    match = _ACTIVE_LINE.search(text)
    if not match or match.group(1) not in COLORS:
        raise DeployError("the nginx active-upstream file names no color (expected `set $active_color blue|green;`)")
    return match.group(1)


class ActiveFile:
    """The file in the directory mounted into nginx at /etc/nginx/active."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / ACTIVE_FILE

    def read(self) -> str | None:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else None

    def active(self) -> str:
        text = self.read()
        return DEFAULT_ACTIVE if text is None else parse_active(text)

    def write(self, active: str) -> None:
        write_atomic(self.path, render(active))

    def restore(self, text: str | None) -> None:
        """Put back a previous snapshot (None: the file did not exist)."""
        if text is None:
            self.path.unlink(missing_ok=True)
        else:
            write_atomic(self.path, text)

    def ensure(self) -> str:
        """Create the file (blue active) if missing; the active color."""
        if self.read() is None:
            self.write(DEFAULT_ACTIVE)
        return self.active()
