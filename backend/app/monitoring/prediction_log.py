"""Prediction log: every prediction in an embedded SQLite store, written off the request path.

Each request's predictions are queued in memory as one item and a background thread writes them
in batches, one row per request: its probabilities and labels as JSON arrays, its inputs as JSON
`{"columns": [feature names], "rows": [[values], ...]}` (orjson): a large batch is one compact
insert instead of a row of JSON objects per prediction, which would take CPU from the next request on
a small machine (docs/benchmarks.md). SQLite runs in WAL mode with a busy timeout, so several worker
processes can share one file. A full queue or a failed write drops those records and calls
`on_failure` with their number (a metric counts them); the prediction itself has already been
answered. Reads expand the rows into one record per prediction.

Each row names who asked (the audit trail): the API key's name and, for the analyst UI's service key, the
analyst it asked for; and the request's random key (`prediction_key`, indexed): applicant i's prediction id is
"<key>-<i>" (what outcomes name, app.monitoring.outcomes). Each row also keeps the request's id (nginx's, pairing a
served request with its shadow copy on the idle color: source `shadow`, never counted as served), the backend's
serving time, and the applicants' risk bands and decisions (for the champion vs challenger report,
app.monitoring.shadow). Files written before these columns existed are migrated on open (the columns are added, their
old rows have none).
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
from typing import Any

import orjson

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS prediction_requests (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    model_version TEXT NOT NULL,
    color TEXT NOT NULL,
    source TEXT NOT NULL,
    prediction_count INTEGER NOT NULL,
    probabilities TEXT NOT NULL,
    labels TEXT NOT NULL,
    inputs TEXT NOT NULL,
    api_key TEXT,
    analyst TEXT,
    prediction_key TEXT,
    request_id TEXT,
    seconds REAL,
    risk_bands TEXT,
    decisions TEXT
);
CREATE INDEX IF NOT EXISTS prediction_requests_ts ON prediction_requests (ts);
"""
# Columns added after the first release of the log: (name, type), added to older files on open.
ADDED_COLUMNS = (
    ("api_key", "TEXT"),
    ("analyst", "TEXT"),
    ("prediction_key", "TEXT"),
    ("request_id", "TEXT"),
    ("seconds", "REAL"),
    ("risk_bands", "TEXT"),
    ("decisions", "TEXT"),
)
# Rows that are not served predictions: deployment checks and shadow copies. Every count of served traffic leaves
# them out (summary, drift, outcomes, performance, audit).
NOT_SERVED = ("probe", "shadow")
SERVED = f"source NOT IN ({', '.join(repr(source) for source in NOT_SERVED)})"  # ('probe', 'shadow')
AUTHOR = "COALESCE(analyst, api_key)"  # who asked: the analyst, else the key
AUTHOR_INDEX = f"CREATE INDEX IF NOT EXISTS prediction_requests_author_ts ON prediction_requests ({AUTHOR}, ts)"
KEY_INDEX = "CREATE INDEX IF NOT EXISTS prediction_requests_key ON prediction_requests (prediction_key)"
REQUEST_INDEX = "CREATE INDEX IF NOT EXISTS prediction_requests_request ON prediction_requests (request_id)"
INSERT = (
    "INSERT INTO prediction_requests (ts, model_version, color, source, prediction_count, probabilities, labels,"
    " inputs, api_key, analyst, prediction_key, request_id, seconds, risk_bands, decisions)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class PredictionBatch:
    """The predictions of one request, queued as one item and stored as one row."""

    ts: float
    model_version: str
    color: str
    source: str  # "single", "batch", "probe" or "shadow"
    feature_names: Sequence[str]
    inputs: Sequence[Sequence[Any]]  # one row of values per applicant, in feature_names order
    probabilities: Sequence[float]
    labels: Sequence[int]
    api_key: str | None = None  # the name of the key that asked
    analyst: str | None = None  # the analyst it asked for (the analyst UI's service key)
    prediction_key: str | None = None  # the request's key: applicant i's prediction id is "<key>-<i>"
    request_id: str | None = None  # nginx's id of the request (a shadow copy's: the served request's)
    seconds: float | None = None  # the backend's serving time, from the handler's start to the scored answer
    risk_bands: Sequence[str] | None = None
    decisions: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.probabilities)

    def row(self) -> tuple:
        """The values of INSERT (raises TypeError for inputs orjson cannot serialize)."""
        probabilities, labels = orjson.dumps(self.probabilities).decode(), orjson.dumps(self.labels).decode()
        inputs = orjson.dumps({"columns": self.feature_names, "rows": self.inputs}).decode()
        return (
            self.ts,
            self.model_version,
            self.color,
            self.source,
            len(self),
            probabilities,
            labels,
            inputs,
            self.api_key,
            self.analyst,
            self.prediction_key,
            self.request_id,
            self.seconds,
            None if self.risk_bands is None else orjson.dumps(self.risk_bands).decode(),
            None if self.decisions is None else orjson.dumps(self.decisions).decode(),
        )


@dataclass(frozen=True)
class LoggedPrediction:
    ts: float
    model_version: str
    color: str
    source: str
    probability: float
    label: int
    inputs: dict[str, Any]


@dataclass(frozen=True)
class LoggedRequest:
    """One scoring request of the audit trail: when, by whom, on which color and model, what came out."""

    ts: float
    model_version: str
    color: str
    source: str
    api_key: str | None
    analyst: str | None
    probabilities: list[float]
    labels: list[int]
    inputs: list[dict[str, Any]] | None  # only when asked for
    prediction_key: str | None = None  # None in logs older than prediction ids

    def prediction_ids(self) -> list[str] | None:
        """Each applicant's prediction id ("<key>-<index>"), if the request has a key."""
        return None if self.prediction_key is None else [f"{self.prediction_key}-{i}" for i in range(len(self.labels))]


def migrate(connection: sqlite3.Connection) -> None:
    """Bring a log file of any earlier layout to this one (several processes may race: a column another one
    just added is fine)."""
    connection.executescript(SCHEMA)
    present = {row[1] for row in connection.execute("PRAGMA table_info(prediction_requests)")}
    for name, kind in ADDED_COLUMNS:
        if name not in present:
            try:
                connection.execute(f"ALTER TABLE prediction_requests ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise
    connection.execute(AUTHOR_INDEX)
    connection.execute(KEY_INDEX)
    connection.execute(REQUEST_INDEX)
    connection.commit()


def connect(path: Path, timeout_s: float = 5.0) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout (safe for several writer processes)."""
    connection = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    _enable_wal(connection, deadline=time.monotonic() + timeout_s)
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _enable_wal(connection: sqlite3.Connection, deadline: float) -> None:
    """Switch to WAL, retrying while another process holds the lock.

    SQLite answers "database is locked" to a journal-mode change without calling the
    busy handler, so processes starting together on a new file must retry themselves.
    """
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


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
            migrate(connection)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, batches: Iterable[PredictionBatch]) -> None:
        """Queue the predictions of requests; never raises and never waits (a full queue drops and counts)."""
        dropped = 0
        for item in batches:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                dropped += len(item)
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
                    self._write(connection, [item.row() for item in batch])
                except (sqlite3.Error, TypeError) as exc:  # TypeError: inputs orjson cannot serialize
                    lost = sum(map(len, batch))
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
            connection.executemany(INSERT, rows)
            now = time.time()
            if now - self._last_purge > 60:
                connection.execute("DELETE FROM prediction_requests WHERE ts < ?", (now - self.retention_s,))
                self._last_purge = now

    def since(self, start_ts: float, limit: int = 200_000, include_probes: bool = False) -> list[LoggedPrediction]:
        """Served predictions logged at or after start_ts, oldest first (the newest `limit` of them); deployment
        probes only with include_probes; shadow copies never."""
        probes = " AND source != 'shadow'" if include_probes else f" AND {SERVED}"
        records: list[LoggedPrediction] = []
        with closing(connect(self.path)) as connection:
            requests = connection.execute(
                "SELECT ts, model_version, color, source, probabilities, labels, inputs FROM prediction_requests"
                f" WHERE ts >= ?{probes} ORDER BY ts DESC, id DESC",
                (start_ts,),
            )
            for ts, version, color, source, probabilities, labels, inputs in requests:
                applicants = applicant_records(orjson.loads(inputs))
                rows = zip(orjson.loads(probabilities), orjson.loads(labels), applicants)
                newest_first = [LoggedPrediction(ts, version, color, source, p, label, i) for p, label, i in rows][::-1]
                records.extend(newest_first[: limit - len(records)])
                if len(records) >= limit:
                    break
        return records[::-1]

    def requests_by(
        self, author: str, start_ts: float, limit: int = 1000, with_inputs: bool = False
    ) -> list[LoggedRequest]:
        """The requests `author` (an analyst, or a key acting for nobody) made at or after start_ts, newest first
        (at most `limit`); with their applicants' inputs only if asked. Shadow copies are nginx's, not theirs."""
        inputs_column = "inputs" if with_inputs else "NULL"
        with closing(connect(self.path)) as connection:
            rows = connection.execute(
                "SELECT ts, model_version, color, source, api_key, analyst, probabilities, labels,"
                f" {inputs_column}, prediction_key FROM prediction_requests WHERE {AUTHOR} = ? AND ts >= ?"
                " AND source != 'shadow' ORDER BY ts DESC, id DESC LIMIT ?",
                (author, start_ts, limit),
            ).fetchall()
        return [
            LoggedRequest(
                ts,
                version,
                color,
                source,
                api_key,
                analyst,
                orjson.loads(probabilities),
                orjson.loads(labels),
                None if inputs is None else applicant_records(orjson.loads(inputs)),
                key,
            )
            for ts, version, color, source, api_key, analyst, probabilities, labels, inputs, key in rows
        ]

    def count(self) -> int:
        """Every logged prediction, probes included."""
        with closing(connect(self.path)) as connection:
            return int(
                connection.execute("SELECT COALESCE(SUM(prediction_count), 0) FROM prediction_requests").fetchone()[0]
            )


def applicant_records(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The applicants of an `inputs` column: one feature -> value mapping each."""
    return [dict(zip(table["columns"], row)) for row in table["rows"]]
