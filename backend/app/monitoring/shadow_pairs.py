"""The rows of the champion vs challenger report: served requests of the active color and the shadow copies the idle
color scored of them (nginx's mirror), read from the one prediction log both colors write and paired by request id.

A served request and its copy carry the same id (nginx's $request_id: X-Request-ID on the served request,
X-Shadow-Of on the copy); applicant i of one is applicant i of the other.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.monitoring.prediction_log import connect


@dataclass(frozen=True)
class LoggedAnswer:
    """One request's answer as logged by one color."""

    ts: float
    color: str
    source: str
    model_version: str
    request_id: str
    probabilities: list[float]
    labels: list[int]
    risk_bands: list[str] | None
    decisions: list[str] | None
    seconds: float | None


@dataclass(frozen=True)
class Pair:
    """A served request (the champion's answer) and the challenger's answer to its copy."""

    served: LoggedAnswer
    shadow: LoggedAnswer


@dataclass(frozen=True)
class Pairing:
    """The window's pairs for the newest challenger, and what one side answered without the other."""

    pairs: list[Pair]
    challenger_unanswered: int  # served requests during the shadow period with no copy answered (errors, timeouts)
    champion_unanswered: int  # copies answered whose served request was never logged (the champion failed it)


PAIRING_MARGIN_S = 60.0  # a served request and its copy are logged within the relay's timeout of each other
SHADOW_SPAN = (
    "SELECT MIN(ts), MAX(ts) FROM prediction_requests" " WHERE ts >= ? AND source = 'shadow' AND request_id IS NOT NULL"
)


def read_answers(path: Path, start_ts: float) -> list[LoggedAnswer]:
    """Served and shadow requests with a request id logged at or after start_ts, oldest first: only around the
    window's shadow copies (none without copies), so a scrape never parses a busy hour of served requests for
    nothing."""
    query = (
        "SELECT ts, color, source, model_version, request_id, probabilities, labels, risk_bands, decisions, seconds"
        " FROM prediction_requests WHERE ts >= ? AND ts <= ? AND request_id IS NOT NULL"
        " AND source IN ('single', 'batch', 'shadow') ORDER BY ts, id"
    )
    with closing(connect(path)) as connection:
        first, last = connection.execute(SHADOW_SPAN, (start_ts,)).fetchone()
        if first is None:
            return []
        span = (max(start_ts, first - PAIRING_MARGIN_S), last + PAIRING_MARGIN_S)
        rows = connection.execute(query, span).fetchall()
    return [
        LoggedAnswer(
            ts,
            color,
            source,
            version,
            request_id,
            orjson.loads(probabilities),
            orjson.loads(labels),
            None if bands is None else orjson.loads(bands),
            None if decisions is None else orjson.loads(decisions),
            seconds,
        )
        for ts, color, source, version, request_id, probabilities, labels, bands, decisions, seconds in rows
    ]


def pair(answers: list[LoggedAnswer]) -> Pairing:
    """Pair the newest challenger's copies with the served requests they copy (same id, another color, as many
    applicants)."""
    shadows = [a for a in answers if a.source == "shadow"]
    if not shadows:
        return Pairing([], 0, 0)
    challenger = shadows[-1].color
    copies = {a.request_id: a for a in shadows if a.color == challenger}
    served = {a.request_id: a for a in answers if a.source != "shadow" and a.color != challenger}
    pairs = [
        Pair(served[rid], copy)
        for rid, copy in copies.items()
        if rid in served and len(served[rid].probabilities) == len(copy.probabilities)
    ]
    first, last = min(c.ts for c in copies.values()), max(c.ts for c in copies.values())
    missed = sum(1 for rid, a in served.items() if first <= a.ts <= last and rid not in copies)
    return Pairing(pairs, missed, sum(1 for rid in copies if rid not in served))
