"""A small JSON file the CLI edits (API keys, analysts): read, or edited under an exclusive lock and replaced
atomically, so two commands at once never lose a change and readers never see half a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deploy.errors import UsageError
from deploy.files import changing_alone, write_atomic


def read_store(path: Path, version: int, section: str) -> dict[str, Any]:
    """The file's `section` (an empty one if the file does not exist); UsageError if it is not such a store."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is unreadable ({exc}): fix or remove it") from None
    if not isinstance(raw, dict) or raw.get("version") != version or not isinstance(raw.get(section), dict):
        raise UsageError(f"{path} is not a version {version} store with a {section!r} object: fix or remove it")
    return raw[section]


@contextmanager
def editing(path: Path, version: int, section: str, mode: int = 0o644) -> Iterator[dict[str, Any]]:
    """The store's `section` to change in place; written back (atomically) when the block ends without error."""
    with changing_alone(path):
        entries = read_store(path, version, section)
        yield entries
        write_atomic(path, json.dumps({"version": version, section: entries}, indent=2, sort_keys=True) + "\n", mode)
