"""The watched switch: after a switch the new color is judged on its live traffic since the switch, with
Prometheus queries, until the watch window ends.

Judged (each only with enough traffic to mean something): the 5xx ratio of the scoring routes; their p99
latency against the previous color's before the switch; the share of applicants flagged against what training
recorded on its reference applicants. Probes are left out (`X-Traffic-Source: probe`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from deploy.controller.queries import BEFORE_WINDOW, p99, predictions, scoring_requests
from deploy.controller_config import Watch
from deploy.prometheus import Prometheus
from deploy.state import WatchRecord


@dataclass
class Analysis:
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class LatencyBounds(Protocol):
    max_5xx_ratio: float
    max_p99_ratio: float
    min_p99_floor_s: float


def failing_or_slow(
    requests: float,
    errors: float,
    latency: float | None,
    baseline: float | None,
    baseline_text: str | None,
    bounds: LatencyBounds,
) -> list[str]:
    """The 5xx ratio above its bound, and the p99 latency above `baseline` × the ratio (and above the floor), as
    the operator reads them; `requests` must be above zero (the caller checks it has enough)."""
    problems = []
    ratio = errors / requests
    if ratio > bounds.max_5xx_ratio:
        problems.append(
            f"{ratio:.0%} of its {requests:.0f} scoring requests failed with 5xx (bound {bounds.max_5xx_ratio:.0%})"
        )
    if latency is not None and baseline is not None:
        if latency > max(bounds.min_p99_floor_s, baseline * bounds.max_p99_ratio):
            problems.append(
                f"its p99 latency is {latency * 1000:.0f} ms, {baseline_text} (bound ×{bounds.max_p99_ratio:g})"
            )
    return problems


def analyse(prometheus: Prometheus, watch: WatchRecord, bounds: Watch, now: float) -> Analysis:
    """Judge `watch.color` on its traffic since the switch (MetricsUnavailable when Prometheus does not answer)."""
    window = f"{max(1, math.ceil(now - watch.started_ts))}s"
    color, previous = watch.color, watch.previous
    requests = prometheus.value(scoring_requests(color, window)) or 0.0
    errors = prometheus.value(scoring_requests(color, window, status="5..")) or 0.0
    latency = prometheus.value(p99(color, window))
    latency_before = prometheus.value(p99(previous, BEFORE_WINDOW), at=watch.started_ts)
    scored = prometheus.value(predictions(color, window)) or 0.0
    flagged = prometheus.value(predictions(color, window, label="1")) or 0.0
    result = Analysis(
        {
            "window_s": round(now - watch.started_ts, 1),
            "requests": round(requests),
            "errors_5xx": round(errors),
            "p99_s": None if latency is None else round(latency, 4),
            "previous_p99_s": None if latency_before is None else round(latency_before, 4),
            "predictions": round(scored),
            "flagged_share": round(flagged / scored, 4) if scored else None,
            "training_flagged_share": watch.training_flagged_share,
        }
    )
    if requests >= bounds.min_requests:
        result.figures["error_ratio"] = round(errors / requests, 4)
        before = (
            None if latency_before is None else f"{previous}'s was {latency_before * 1000:.0f} ms before the switch"
        )
        result.problems.extend(failing_or_slow(requests, errors, latency, latency_before, before, bounds))
    share, expected = result.figures["flagged_share"], watch.training_flagged_share
    if scored >= bounds.min_predictions and share is not None and expected is not None:
        if abs(share - expected) > bounds.max_flagged_share_delta:
            result.problems.append(
                f"it flags {share:.0%} of {scored:.0f} live applicants, training flagged {expected:.0%} "
                f"(bound ±{bounds.max_flagged_share_delta:.0%})"
            )
    return result
