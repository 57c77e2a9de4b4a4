"""Prediction log: every prediction in an embedded SQLite store, written off the request path.

Predictions are queued in memory and a background thread writes them in batches, so logging
never blocks or fails a prediction. SQLite runs in WAL mode with a busy timeout, so several
worker processes can share one file. A full queue or a failed write drops those records and
calls `on_failure` (a metric counts them); the prediction itself has already been answered.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    model_version TEXT NOT NULL,
    color TEXT NOT NULL,
    source TEXT NOT NULL,
    probability REAL NOT NULL,
    label INTEGER NOT NULL,
    inputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions (ts);
"""


@dataclass(frozen=True)
class PredictionRecord:
    ts: float
    model_version: str
    color: str
    source: str  # "single", "batch" or "probe"
    probability: float
    label: int
    inputs: dict[str, Any]


@dataclass(frozen=True)
class LoggedPrediction:
    ts: float
    model_version: str
    color: str
    probability: float
    label: int
    inputs: dict[str, Any]


def connect(path: Path, timeout_s: float = 5.0) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout (safe for several writer processes)."""
    connection = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    return connection


class PredictionLog:
    """Asynchronous, batched writer plus window queries over the log."""

    def __init__(
        self,
        path: Path,
        retention_days: float,
        on_failure: Callable[[int], None] = lambda count: None,
        max_queue: int = 100_000,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.retention_s = retention_days * 86_400
        self.on_failure = on_failure
        self.flush_interval_s = flush_interval_s
        self._queue: queue.Queue[PredictionRecord | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    def start(self) -> None:
        """Create the table (and folder) and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(self.path)) as connection:
            connection.executescript(SCHEMA)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, records: Iterable[PredictionRecord]) -> None:
        """Queue records; never raises and never waits."""
        dropped = 0
        for item in records:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                dropped += 1
        if dropped:
            self.on_failure(dropped)

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush what is queued and stop the writer."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)

    def flush(self, timeout_s: float = 10.0) -> None:
        """Block until everything queued so far is written (for tests and shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        connection = None
        stop = False
        while not stop:
            batch: list[PredictionRecord] = []
            item = self._queue.get()
            if item is None:
                stop = True
            else:
                batch.append(item)
            while len(batch) < 1000:
                try:
                    item = self._queue.get(timeout=self.flush_interval_s if not stop else 0)
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            try:
                connection = connection or connect(self.path)
                self._write(connection, batch)
            except sqlite3.Error as exc:
                logger.warning("prediction log: dropped %d records: %s", len(batch), exc)
                self.on_failure(len(batch))
                if connection is not None:
                    connection.close()
                connection = None
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
        if connection is not None:
            connection.close()

    def _write(self, connection: sqlite3.Connection, batch: list[PredictionRecord]) -> None:
        rows = [(r.ts, r.model_version, r.color, r.source, r.probability, r.label, json.dumps(r.inputs)) for r in batch]
        with connection:
            connection.executemany(
                "INSERT INTO predictions (ts, model_version, color, source, probability, label, inputs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            now = time.time()
            if now - self._last_purge > 60:
                connection.execute("DELETE FROM predictions WHERE ts < ?", (now - self.retention_s,))
                self._last_purge = now

    def since(self, start_ts: float, limit: int = 200_000) -> list[LoggedPrediction]:
        """Applicants' predictions (not deployment probes) logged at or after start_ts, oldest first
        (the newest `limit` of them)."""
        with closing(connect(self.path)) as connection:
            rows = connection.execute(
                "SELECT ts, model_version, color, probability, label, inputs FROM"
                " (SELECT * FROM predictions WHERE ts >= ? AND source != 'probe' ORDER BY ts DESC LIMIT ?)"
                " ORDER BY ts",
                (start_ts, limit),
            ).fetchall()
        return [
            LoggedPrediction(ts, version, color, p, label, json.loads(inputs))
            for ts, version, color, p, label, inputs in rows
        ]

    def count(self) -> int:
        with closing(connect(self.path)) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])
