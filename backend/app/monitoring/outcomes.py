"""Outcomes: what really happened to each prediction, stored next to the prediction log (same SQLite file).

A prediction id is "<request key>-<index>" (app.core.scoring): the key finds the logged request, the index the
applicant in it. One outcome per prediction id (the table's primary key): the same value again is "unchanged",
a different one a conflict; ids the log does not know are "unknown" (never scored here, or purged by retention).
A batch is checked, then written in one transaction: a date before its prediction rejects the whole batch (422),
unknown and conflicting ids are left out and the rest is recorded. Reads join outcomes with their predictions:
the labeled rows behind realized performance and the retraining export.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from app.core.errors import FieldError, validation_error
from app.monitoring.prediction_log import SERVED, applicant_records, connect, migrate

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    prediction_id TEXT PRIMARY KEY,
    prediction_key TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    observed_date TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    recorded_by TEXT
);
CREATE INDEX IF NOT EXISTS outcomes_key ON outcomes (prediction_key);
"""
INSERT = (
    "INSERT INTO outcomes (prediction_id, prediction_key, row_index, outcome, observed_date, recorded_at, recorded_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
CHUNK = 500  # ids per IN (...) query


@dataclass(frozen=True)
class Outcome:
    """One reported outcome: the row of its batch (for error messages), the prediction id, label and date."""

    row: int
    prediction_id: str
    outcome: str
    observed_date: date


@dataclass
class RecordResult:
    """What a batch did: the ids recorded, already recorded with the same value, unknown, and conflicting."""

    recorded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(ids) for name, ids in vars(self).items()}


@dataclass(frozen=True)
class LabeledPrediction:
    """A logged prediction with its outcome."""

    prediction_id: str
    model_version: str
    ts: float
    observed_date: date
    outcome: str
    probability: float
    label: int
    inputs: dict[str, Any] | None  # only when asked for

    def matured(self, maturity_days: int) -> bool:
        """Observed at least `maturity_days` after the day it was scored (UTC)."""
        return (self.observed_date - scored_date(self.ts)).days >= maturity_days


def scored_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, timezone.utc).date()


def split_id(prediction_id: str) -> tuple[str, int] | None:
    """(request key, applicant index) of a well-formed id, else None."""
    key, _, index = prediction_id.rpartition("-")
    return (key, int(index)) if key and index.isdigit() else None


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class OutcomeStore:
    """The outcomes table of the prediction log's file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def create(self) -> None:
        """The log's tables (any earlier layout migrated) and the outcomes table."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(self.path)) as connection:
            migrate(connection)
            connection.executescript(SCHEMA)

    def record(self, outcomes: Sequence[Outcome], recorded_by: str | None) -> RecordResult:
        """Record a checked batch in one transaction; 422 (nothing written) when an outcome predates its
        prediction."""
        result = RecordResult()
        with closing(connect(self.path)) as connection:
            connection.execute("BEGIN IMMEDIATE")  # read and write under one lock: no race with another process
            try:
                scored = self._requests(connection, [o.prediction_id for o in outcomes])
                existing = self._existing(connection, [o.prediction_id for o in outcomes])
                rows, errors = [], []
                now = time.time()
                for item in outcomes:
                    parts, request = split_id(item.prediction_id), None
                    if parts is not None and parts[0] in scored and parts[1] < scored[parts[0]][1]:
                        request = scored[parts[0]]
                    if request is None:
                        result.unknown.append(item.prediction_id)
                        continue
                    day = scored_date(request[0])
                    if item.observed_date < day:
                        message = f"{item.observed_date} is before the prediction was made ({day})"
                        errors.append(FieldError(item.row, "observed_date", message))
                    elif item.prediction_id not in existing:
                        existing[item.prediction_id] = item.outcome
                        rows.append(
                            (item.prediction_id, *parts, item.outcome, str(item.observed_date), now, recorded_by)
                        )
                        result.recorded.append(item.prediction_id)
                    elif existing[item.prediction_id] == item.outcome:
                        result.unchanged.append(item.prediction_id)
                    else:
                        result.conflicts.append(item.prediction_id)
                if errors:
                    raise validation_error(errors, "outcomes")
                connection.executemany(INSERT, rows)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        return result

    @staticmethod
    def _requests(connection: Any, ids: Sequence[str]) -> dict[str, tuple[float, int]]:
        """Request key -> (scored ts, prediction count) of the requests these ids name."""
        keys = sorted({parts[0] for parts in map(split_id, ids) if parts is not None})
        found: dict[str, tuple[float, int]] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT prediction_key, ts, prediction_count FROM prediction_requests"
                f" WHERE prediction_key IN ({marks})"
            )
            found.update((key, (ts, count)) for key, ts, count in connection.execute(query, chunk))
        return found

    @staticmethod
    def _existing(connection: Any, ids: Sequence[str]) -> dict[str, str]:
        """Prediction id -> recorded outcome, for those of `ids` already recorded."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT prediction_id, outcome FROM outcomes WHERE prediction_id IN ({marks})"
            found.update(connection.execute(query, chunk))
        return found

    def labeled(self, start_ts: float, with_inputs: bool = False) -> list[LabeledPrediction]:
        """Every served prediction (no probes, no shadow copies) scored at or after start_ts that has an outcome, oldest
        first."""
        inputs_column = "r.inputs" if with_inputs else "NULL"
        query = (
            "SELECT o.prediction_id, o.row_index, o.outcome, o.observed_date, r.id, r.ts, r.model_version,"
            f" r.probabilities, r.labels, {inputs_column} FROM outcomes o"
            " JOIN prediction_requests r ON r.prediction_key = o.prediction_key"
            f" WHERE r.ts >= ? AND r.{SERVED} ORDER BY r.ts, r.id, o.row_index"
        )
        labeled: list[LabeledPrediction] = []
        decoded: tuple[int, list, list, list | None] | None = None  # the current request's columns, decoded once
        with closing(connect(self.path)) as connection:
            for (
                pid,
                index,
                outcome,
                observed,
                request_id,
                ts,
                version,
                probabilities,
                labels,
                inputs,
            ) in connection.execute(query, (start_ts,)):
                if decoded is None or decoded[0] != request_id:
                    rows = applicant_records(orjson.loads(inputs)) if inputs is not None else None
                    decoded = (request_id, orjson.loads(probabilities), orjson.loads(labels), rows)
                _, probability_column, label_column, input_rows = decoded
                labeled.append(
                    LabeledPrediction(
                        pid,
                        version,
                        ts,
                        date.fromisoformat(observed),
                        outcome,
                        probability_column[index],
                        label_column[index],
                        None if input_rows is None else input_rows[index],
                    )
                )
        return labeled

    def prediction_counts(self, start_ts: float) -> dict[str, int]:
        """Predictions scored at or after start_ts per model version (served only: no probes, no shadow copies)."""
        with closing(connect(self.path)) as connection:
            rows = connection.execute(
                "SELECT model_version, SUM(prediction_count) FROM prediction_requests"
                f" WHERE ts >= ? AND {SERVED} GROUP BY model_version",
                (start_ts,),
            )
            return {version: int(count) for version, count in rows}
