"""The UI's API key: from BACKEND_API_KEY, or read from BACKEND_API_KEY_FILE and re-read when the file changes
(the deploy CLI rotates it without restarting the frontends)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from analyst_ui.settings import Settings

_cache: dict[Path, tuple[tuple[int, int], str | None]] = {}
_lock = threading.Lock()


def read_key_file(path: Path) -> str | None:
    """The key in `path` (None if the file is missing or empty), cached until the file changes."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    signature = (stat.st_ino, stat.st_mtime_ns)
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == signature:
            return cached[1]
    try:
        key = path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
    with _lock:
        _cache[path] = (signature, key)
    return key


def api_key(settings: Settings) -> str | None:
    """The key the UI sends to the backend (None: it has none, and every call will be refused)."""
    if settings.BACKEND_API_KEY:
        return settings.BACKEND_API_KEY
    return read_key_file(settings.BACKEND_API_KEY_FILE) if settings.BACKEND_API_KEY_FILE else None
