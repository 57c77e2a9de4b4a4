"""Prediction log: every prediction in an embedded SQLite store, written off the request path.

Each request's predictions are queued in memory as one item and a background thread writes them
in batches (inputs serialized with orjson), so logging never blocks or fails a prediction. SQLite
runs in WAL mode with a busy timeout, so several worker processes can share one file. A full
queue or a failed write drops those records and calls `on_failure` (a metric counts them); the
prediction itself has already been answered.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

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


class Scored(Protocol):
    probability: float
    label: int


@dataclass(frozen=True)
class PredictionBatch:
    """The predictions of one request, queued as one item: the request pays O(1), the writer expands it."""

    ts: float
    model_version: str
    color: str
    source: str  # "single", "batch" or "probe"
    inputs: Sequence[dict[str, Any]]
    predictions: Sequence[Scored]

    def rows(self) -> list[tuple]:
        return [
            (self.ts, self.model_version, self.color, self.source, p.probability, p.label, orjson.dumps(i).decode())
            for i, p in zip(self.inputs, self.predictions)
        ]


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
        max_queue: int = 10_000,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.retention_s = retention_days * 86_400
        self.on_failure = on_failure
        self.flush_interval_s = flush_interval_s
        self._queue: queue.Queue[PredictionBatch] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_purge = 0.0

    def start(self) -> None:
        """Create the table (and folder) and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(self.path)) as connection:
            connection.executescript(SCHEMA)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, batches: Iterable[PredictionBatch]) -> None:
        """Queue the predictions of requests; never raises and never waits (a full queue drops and counts)."""
        dropped = 0
        for item in batches:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                dropped += len(item.predictions)
        if dropped:
            self.on_failure(dropped)

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush what is queued and stop the writer."""
        if self._thread is not None and self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout_s)

    def flush(self, timeout_s: float = 10.0) -> None:
        """Block until everything queued so far is written (for tests and shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        """Every flush interval, write what is queued: the writer never wakes per request."""
        connection = None
        while True:
            stopping = self._stop.wait(self.flush_interval_s)
            while not self._queue.empty():
                batch = self._drain(max_items=1000)
                try:
                    connection = connection or connect(self.path)
                    self._write(connection, [row for item in batch for row in item.rows()])
                except (sqlite3.Error, TypeError) as exc:  # TypeError: inputs orjson cannot serialize
                    lost = sum(len(item.predictions) for item in batch)
                    logger.warning("prediction log: dropped %d records: %s", lost, exc)
                    self.on_failure(lost)
                    if connection is not None:
                        connection.close()
                    connection = None
                finally:
                    for _ in batch:
                        self._queue.task_done()
            if stopping:
                break
        if connection is not None:
            connection.close()

    def _drain(self, max_items: int) -> list[PredictionBatch]:
        items: list[PredictionBatch] = []
        while len(items) < max_items:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _write(self, connection: sqlite3.Connection, rows: list[tuple]) -> None:
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
            LoggedPrediction(ts, version, color, p, label, orjson.loads(inputs))
            for ts, version, color, p, label, inputs in rows
        ]

    def count(self) -> int:
        with closing(connect(self.path)) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])
