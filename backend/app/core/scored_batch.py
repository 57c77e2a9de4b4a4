"""A scored batch as the API answers it: JSON rows, or the result columns of the scored CSV.

The CSV result columns, in this order, are part of the API contract (docs/api.md): probability_default,
label, risk_band, decision, reason_1..reason_4 (empty without `explain=true`, or when an applicant has
fewer adverse factors), threshold, model_version, scored_at, prediction_id (what POST /outcomes names).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import count
from typing import Any

import orjson

from app.core.bundle_decisions import MAX_REASONS
from app.core.scoring import Predictions

REASON_COLUMNS = tuple(f"reason_{i}" for i in range(1, MAX_REASONS + 1))
RESULT_COLUMNS = (
    "probability_default",
    "label",
    "risk_band",
    "decision",
    *REASON_COLUMNS,
    "threshold",
    "model_version",
    "scored_at",
    "prediction_id",
)
NO_REASONS: list[str] = []


def scored_at_now() -> str:
    """The time a batch is scored: UTC, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ScoredBatch:
    predictions: Predictions
    reasons: list[list[str]] | None  # None: not explained
    threshold: float
    model_version: str
    scored_at: str

    def json(self, color: str) -> bytes:
        """The JSON answer, serialized by orjson straight from the prediction columns."""
        reasons = self.reasons if self.reasons is not None else [None] * len(self.predictions)
        columns = zip(count(), *self.predictions.columns(), reasons, self.predictions.ids())
        rows = [
            {
                "row": i,
                "prediction_id": pid,
                "probability_default": p,
                "label": label,
                "risk_band": band,
                "decision": d,
                "reasons": r,
            }
            for i, p, label, band, d, r, pid in columns
        ]
        return orjson.dumps(
            {
                "model_version": self.model_version,
                "color": color,
                "threshold": self.threshold,
                "scored_at": self.scored_at,
                "count": len(rows),
                "predictions": rows,
            }
        )

    def csv_results(self) -> Iterator[tuple[Any, ...]]:
        """The RESULT_COLUMNS values of each row."""
        reasons = self.reasons if self.reasons is not None else [NO_REASONS] * len(self.predictions)
        padding = ("",) * MAX_REASONS
        tail = (self.threshold, self.model_version, self.scored_at)
        rows = zip(zip(*self.predictions.columns()), reasons, self.predictions.ids())
        for (*prediction, decision), row_reasons, prediction_id in rows:
            yield (*prediction, decision, *(*row_reasons, *padding)[:MAX_REASONS], *tail, prediction_id)
