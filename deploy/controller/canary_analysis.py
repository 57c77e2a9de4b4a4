"""A canary step judged on live traffic with Prometheus queries, over the step so far, per color.

Judged (each only with enough traffic to mean something): the canary's 5xx ratio on the scoring routes; its p99
latency against the stable color's over the same window (the stable color's before the canary started when it
gets too little traffic, e.g. at 100 %); and its score distribution against the stable color's (PSI over the
prediction_probability buckets). Probes and mirrored (shadow) predictions never count.
"""

from __future__ import annotations

import math
from typing import Any

from deploy.canary_record import CanaryRecord
from deploy.controller.queries import BEFORE_WINDOW, p99, probability_buckets, scoring_requests
from deploy.controller.watch import Analysis, failing_or_slow
from deploy.controller_config import Canary
from deploy.prometheus import Prometheus
from deploy.sanity import shares_psi


def bin_counts(series: list[tuple[dict[str, str], float]]) -> list[float]:
    """Per-bin counts from a histogram's cumulative buckets (`le` labels, +Inf last)."""
    bounds = sorted((float(labels.get("le", "inf")), value) for labels, value in series)
    counts, below = [], 0.0
    for _, cumulative in bounds:
        counts.append(max(0.0, cumulative - below))
        below = max(below, cumulative)
    return counts


def counts_psi(expected: list[float], actual: list[float]) -> float | None:
    """PSI of two histograms over the same bins (None when either is empty or their bins differ)."""
    if len(expected) != len(actual) or not sum(expected) or not sum(actual):
        return None
    return shares_psi([c / sum(expected) for c in expected], [c / sum(actual) for c in actual])


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def analyse_step(prometheus: Prometheus, record: CanaryRecord, bounds: Canary, now: float) -> Analysis:
    """Judge the canary's current step (MetricsUnavailable when Prometheus does not answer); figures["judged"]
    says whether the canary got enough requests for a verdict."""
    window = f"{max(1, math.ceil(now - record.step_started_ts))}s"
    color, stable = record.color, record.stable
    requests = prometheus.value(scoring_requests(color, window)) or 0.0
    errors = prometheus.value(scoring_requests(color, window, status="5..")) or 0.0
    latency = prometheus.value(p99(color, window))
    stable_requests = prometheus.value(scoring_requests(stable, window)) or 0.0
    scores = bin_counts(prometheus.vector(probability_buckets(color, window)))
    if stable_requests >= bounds.min_requests:
        baseline = "same window"
        stable_latency = prometheus.value(p99(stable, window))
        stable_scores = bin_counts(prometheus.vector(probability_buckets(stable, window)))
    else:  # the stable color gets (almost) nothing: its figures before the canary started
        baseline = f"{BEFORE_WINDOW} before the canary"
        stable_latency = prometheus.value(p99(stable, BEFORE_WINDOW), at=record.started_ts)
        stable_scores = bin_counts(prometheus.vector(probability_buckets(stable, BEFORE_WINDOW), at=record.started_ts))
    psi = counts_psi(stable_scores, scores)
    figures: dict[str, Any] = {
        "weight": record.steps[record.step],
        "window_s": round(now - record.step_started_ts, 1),
        "requests": round(requests),
        "errors_5xx": round(errors),
        "error_ratio": round(errors / requests, 4) if requests else None,
        "p99_s": _round(latency),
        "stable_requests": round(stable_requests),
        "stable_p99_s": _round(stable_latency),
        "predictions": round(sum(scores)),
        "stable_predictions": round(sum(stable_scores)),
        "score_psi": _round(psi),
        "baseline": baseline,
        "judged": requests >= bounds.min_requests,
    }
    result = Analysis(figures)
    if not figures["judged"]:
        return result
    compared = None if stable_latency is None else f"{stable}'s {stable_latency * 1000:.0f} ms ({baseline})"
    result.problems.extend(failing_or_slow(requests, errors, latency, stable_latency, compared, bounds))
    enough = min(sum(scores), sum(stable_scores)) >= bounds.min_requests
    if psi is not None and enough and psi > bounds.max_score_psi:
        result.problems.append(
            f"its scores differ from {stable}'s (PSI {psi:.2f} > {bounds.max_score_psi:g} over "
            f"{sum(scores):.0f} vs {sum(stable_scores):.0f} predictions)"
        )
    return result
