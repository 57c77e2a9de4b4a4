"""Batch scoring: the template CSV, scoring an uploaded CSV, and the summary of the scored rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analyst_ui.charts import BAND_ORDER
from analyst_ui.batch_file import ApplicantsFile, read_applicants, to_csv
from analyst_ui.client import BackendClient, BackendFailed, BackendRejected, Problem, ScoredCsv

RESULT_COLUMNS = ("probability_default", "label", "risk_band")  # every scored CSV has them
SHOWN_FIRST = (*RESULT_COLUMNS, "decision", "reason_1", "reason_2", "reason_3", "reason_4")


@dataclass(frozen=True)
class ScoredBatch:
    """The scored rows as a table (for the page) and as CSV (for the download): each row's spreadsheet `line`, the
    passed-through columns, then the backend's scored CSV (input columns and results)."""

    table: pd.DataFrame
    csv: bytes
    model_version: str | None
    color: str | None


@dataclass(frozen=True)
class BatchOutcome:
    """What became of an upload: the scored rows (None when none could be scored) and the refused ones."""

    scored: ScoredBatch | None
    refused: pd.DataFrame  # line, column, problem: one line per problem
    refused_csv: bytes  # the refused rows as uploaded, after a `line` and a `problems` column
    file: ApplicantsFile
    passed_through: list[str]


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


def score_upload(client: BackendClient, content: bytes, features: Sequence[str]) -> BatchOutcome:
    """Read the upload as a spreadsheet wrote it, send its feature columns, and score every row the backend accepts:
    rows it refuses are set aside with their problems and the rest are sent again (so 3 bad rows out of 20 do not
    block the other 17). A problem with the whole file (its header, its size) raises BackendRejected."""
    file = read_applicants(content, features)
    columns = file.feature_columns(features)
    header = [file.header[i] for i in columns]
    problems: dict[int, list[Problem]] = {}
    for index, values in enumerate(file.rows):
        if len(values) != len(file.header):
            message = f"has {len(values)} fields, the header {len(file.header)}"
            problems[index] = [Problem(file.lines[index], None, message)]
    good = [i for i in range(len(file.rows)) if i not in problems]
    scored = None
    while good and scored is None:
        try:
            scored = client.predict_csv(to_csv(header, [[file.rows[i][c] for c in columns] for i in good]))
        except BackendRejected as error:
            if not error.problems or any(p.row is None or not 0 <= p.row < len(good) for p in error.problems):
                raise  # about the whole file: nothing to set aside
            for problem in error.problems:
                index = good[problem.row]
                problems.setdefault(index, []).append(Problem(file.lines[index], problem.field, problem.message))
            good = [i for i in good if i not in problems]
    return BatchOutcome(
        None if scored is None else _joined(scored, file, good, features),
        problems_table([p for index in sorted(problems) for p in problems[index]]),
        _refused_csv(file, problems),
        file,
        file.passed_through(features),
    )


def _joined(scored: ScoredCsv, file: ApplicantsFile, good: list[int], features: Sequence[str]) -> ScoredBatch:
    try:
        results = read_scored_csv(scored.content)
    except ValueError as exc:
        raise BackendFailed(f"The scoring service returned a scored CSV the UI cannot read: {exc}.") from None
    if len(results) != len(good):
        raise BackendFailed(f"The scoring service returned {len(results)} scored rows for {len(good)} sent.")
    kept = [(i, name) for i, name in enumerate(file.header) if name in file.passed_through(features)]
    front = {"line": [file.lines[i] for i in good]}
    front.update({name: [_cell(file.rows[i], c) for i in good] for c, name in kept})
    table = pd.concat([pd.DataFrame(front), results.reset_index(drop=True)], axis=1)
    return ScoredBatch(table, table.to_csv(index=False).encode("utf-8"), scored.model_version, scored.color)


def _cell(values: list[str], position: int) -> str:
    return values[position] if position < len(values) else ""


def _refused_csv(file: ApplicantsFile, problems: dict[int, list[Problem]]) -> bytes:
    """The refused rows as uploaded, each after its line and its problems (to fix and upload again)."""
    rows = [
        [str(file.lines[i]), "; ".join(f"{p.field or 'row'}: {p.message}" for p in problems[i]), *file.rows[i]]
        for i in sorted(problems)
    ]
    return to_csv(["line", "problems", *file.header], rows)


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
    """One line per problem: its line in the file (empty for the header or the whole file), column, message."""
    return pd.DataFrame(
        {
            "line": pd.array([p.row for p in problems], dtype="Int64"),
            "column": [p.field or "" for p in problems],
            "problem": [p.message for p in problems],
        }
    )
