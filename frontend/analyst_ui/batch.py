"""Batch scoring: the template CSV, scoring an uploaded CSV, and the summary of the scored rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analyst_ui.charts import BAND_ORDER
from analyst_ui.client import BackendClient, BackendFailed, Problem

RESULT_COLUMNS = ("probability_default", "label", "risk_band")  # every scored CSV has them
SHOWN_FIRST = (*RESULT_COLUMNS, "decision", "reason_1", "reason_2", "reason_3", "reason_4")


@dataclass(frozen=True)
class ScoredBatch:
    """The backend's scored CSV, as bytes (for the download) and as a table (for the page)."""

    table: pd.DataFrame
    csv: bytes
    model_version: str | None
    color: str | None


@dataclass(frozen=True)
class BatchSummary:
    count: int
    above_threshold: int
    mean_probability: float
    band_counts: dict[str, int]
    decision_counts: dict[str, int]  # by outcome name, in the order they first appear; empty without decisions

    @property
    def share_above_threshold(self) -> float:
        return self.above_threshold / self.count if self.count else 0.0


def template_csv(features: Sequence[dict[str, Any]], example: dict[str, Any]) -> bytes:
    """A header with every feature in the schema's order and the example applicant as the first row."""
    names = [f["name"] for f in features]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerow(["" if example.get(name) is None else example[name] for name in names])
    return buffer.getvalue().encode("utf-8")


def score_csv(client: BackendClient, upload: bytes) -> ScoredBatch:
    """Send the uploaded CSV as it is; the backend validates it (raising BackendRejected with the problems)."""
    scored = client.predict_csv(upload)
    try:
        table = read_scored_csv(scored.content)
    except ValueError as exc:
        raise BackendFailed(f"The scoring service returned a scored CSV the UI cannot read: {exc}.") from None
    return ScoredBatch(table, scored.content, scored.model_version, scored.color)


def read_scored_csv(content: bytes) -> pd.DataFrame:
    """The scored CSV as a table; text stays text (no 'none' -> NaN), empty fields are missing."""
    table = pd.read_csv(io.BytesIO(content), keep_default_na=False, na_values=[""])
    missing = [c for c in RESULT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the scored CSV lacks the columns {missing}")
    return table


def summarize(table: pd.DataFrame) -> BatchSummary:
    """Count, rows labelled as default (probability at or above the threshold), mean, rows per band."""
    counts = table["risk_band"].value_counts()
    decisions = table["decision"].value_counts(sort=False) if "decision" in table.columns else pd.Series(dtype=int)
    return BatchSummary(
        count=len(table),
        above_threshold=int((table["label"] == 1).sum()),
        mean_probability=float(table["probability_default"].mean()) if len(table) else 0.0,
        band_counts={band: int(counts.get(band, 0)) for band in BAND_ORDER},
        decision_counts={str(name): int(number) for name, number in decisions.items()},
    )


def problems_table(problems: Sequence[Problem]) -> pd.DataFrame:
    """One line per problem: row (from 0, empty for the header or the whole file), column, message."""
    return pd.DataFrame(
        {
            "row": pd.array([p.row for p in problems], dtype="Int64"),
            "column": [p.field or "" for p in problems],
            "problem": [p.message for p in problems],
        }
    )
