"""The monitoring summary: volume over time, share flagged, score and feature drift."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from app.monitoring.drift import DriftThresholds, distribution_drift, feature_drift
from app.monitoring.prediction_log import LoggedPrediction

WINDOW_REGEX = r"^[1-9][0-9]{0,5}[mhd]$"
WINDOW_PATTERN = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400}
BUCKET_CHOICES = (60, 300, 900, 3600, 6 * 3600, 86_400)
MAX_WINDOW_S = 366 * 86_400


def iso(ts: float) -> str:
    """UTC, ISO 8601, to the second."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def parse_window(text: str) -> int:
    """'15m', '24h', '7d' -> seconds (at most 366 days); ValueError with a readable message otherwise."""
    match = WINDOW_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"window must be a positive number of minutes, hours or days (15m, 24h, 7d), got {text!r}")
    return min(int(match.group(1)) * UNIT_SECONDS[match.group(2)], MAX_WINDOW_S)


def bucket_seconds(window_s: int, target_buckets: int = 48) -> int:
    """A round bucket size giving about target_buckets buckets over the window."""
    return next((b for b in BUCKET_CHOICES if window_s / b <= target_buckets), BUCKET_CHOICES[-1])


def volume(rows: list[LoggedPrediction], start_ts: float, end_ts: float, bucket_s: int) -> list[dict[str, Any]]:
    first = int(start_ts // bucket_s) * bucket_s
    count = int((end_ts - first) // bucket_s) + 1
    totals, flagged = [0] * count, [0] * count
    for row in rows:
        index = min(int((row.ts - first) // bucket_s), count - 1)
        totals[index] += 1
        flagged[index] += row.label
    return [
        {
            "start": iso(first + i * bucket_s),
            "count": totals[i],
            "flagged": flagged[i],
        }
        for i in range(count)
    ]


def overall_status(feature_statuses: list[str], score_status: str, has_rows: bool) -> str:
    """The worst drift of any feature or the score; insufficient_data without rows or served-model scores."""
    statuses = {*feature_statuses, score_status}
    if "alert" in statuses:
        return "alert"
    if "warn" in statuses:
        return "warn"
    return "insufficient_data" if not has_rows or score_status == "insufficient_data" else "ok"


def build_summary(
    rows: list[LoggedPrediction],
    reference: dict[str, Any],
    window: str,
    window_s: int,
    now: float,
    thresholds: DriftThresholds,
    served_version: str,
) -> dict[str, Any]:
    """Everything the monitoring page shows, for predictions in [now - window_s, now].

    Feature drift looks at every applicant in the window; score drift only at the served model's
    scores (its reference is that model's hold-out scores; another version scores differently).
    """
    start = now - window_s
    features = feature_drift(reference["features"], [r.inputs for r in rows], thresholds)
    served_scores = [r.probability for r in rows if r.model_version == served_version]
    score = distribution_drift(reference["score"], served_scores, thresholds)
    flagged = sum(r.label for r in rows)
    bucket_s = bucket_seconds(window_s)
    return {
        "window": window,
        "window_seconds": window_s,
        "from": iso(start),
        "to": iso(now),
        "count": len(rows),
        "flagged": flagged,
        "share_flagged": flagged / len(rows) if rows else None,
        "model_versions": dict(Counter(row.model_version for row in rows)),
        "served_version": served_version,
        "colors": dict(Counter(row.color for row in rows)),
        "volume": volume(rows, start, now, bucket_s),
        "bucket_seconds": bucket_s,
        "score": score,
        "features": features,
        "drifting_features": sorted(n for n, f in features.items() if f["status"] in ("warn", "alert")),
        "status": overall_status([f["status"] for f in features.values()], score["status"], bool(rows)),
        "thresholds": asdict(thresholds),
    }
