"""When each API key was last used: noted in memory per request (a dict store), written to the prediction log's
SQLite file every few seconds by a background thread (both colors share it), read by GET /audit/keys."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from app.monitoring.prediction_log import connect

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_key_usage (
    name TEXT PRIMARY KEY,
    last_used REAL NOT NULL,
    color TEXT NOT NULL
);
"""
UPSERT = (
    "INSERT INTO api_key_usage (name, last_used, color) VALUES (?, ?, ?)"
    " ON CONFLICT(name) DO UPDATE SET last_used = excluded.last_used, color = excluded.color"
    " WHERE excluded.last_used > api_key_usage.last_used"
)


class KeyUsage:
    """Last use of each key by this process, flushed to `path` every `flush_interval_s` (None: not recorded)."""

    def __init__(self, path: Path | None, color: str, flush_interval_s: float = 5.0) -> None:
        self.path = path
        self.color = color
        self.flush_interval_s = flush_interval_s
        self._pending: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self, name: str) -> None:
        """A request of key `name` was authenticated now (called on the request path: a dict store)."""
        self._pending[name] = time.time()

    def start(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(connect(self.path)) as connection:
                connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            logger.error("API key usage is not recorded (%s: %s)", self.path, exc)
            self.path = None
            return
        self._thread = threading.Thread(target=self._run, name="api-key-usage", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)

    def flush(self) -> None:
        """Write what was noted since the last flush."""
        pending, self._pending = self._pending, {}
        if not pending or self.path is None:
            return
        try:
            with closing(connect(self.path)) as connection, connection:
                connection.executemany(UPSERT, [(name, ts, self.color) for name, ts in pending.items()])
        except sqlite3.Error as exc:
            logger.warning("API key usage: %d update(s) lost: %s", len(pending), exc)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()
        self.flush()

    def last_used(self) -> dict[str, tuple[float, str]]:
        """(time, color) of each key's last recorded use, this process's unflushed uses included."""
        self.flush()
        if self.path is None:
            return {}
        with closing(connect(self.path)) as connection:
            rows = connection.execute("SELECT name, last_used, color FROM api_key_usage").fetchall()
        return {name: (ts, color) for name, ts, color in rows}
