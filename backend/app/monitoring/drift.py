"""Drift against the bundle's reference distributions: PSI per feature and for the score.

A feature drifts when its PSI reaches a threshold (the size of the change) and a chi-square
goodness-of-fit test against the reference shares says the change is not sampling noise
(p < max_p_value): PSI alone is biased upwards on small windows (about bins/rows), so 50 rows of an
unchanged population would often read as "warn".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

OTHER = "__other__"
EPSILON = 1e-4  # floor for empty bins, the usual PSI convention


@dataclass(frozen=True)
class DriftThresholds:
    warn: float = 0.1
    alert: float = 0.25
    min_rows: int = 30
    max_p_value: float = 0.01


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index: sum((a - e) * ln(a / e)) over bins, with empty bins floored."""
    e = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_shares(values: Sequence[float], edges: Sequence[float]) -> list[float]:
    """Shares per bin, with the same open outer bins as training's reference."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size == 0:
        return [0.0] * (len(edges) + 1)
    counts = np.bincount(np.searchsorted(np.asarray(edges), data, side="right"), minlength=len(edges) + 1)
    return (counts / data.size).tolist()


def categorical_shares(values: Sequence[Any], categories: Sequence[str]) -> dict[str, float]:
    """Shares per reference category, plus one bucket for anything unseen."""
    counts = Counter(str(v) if str(v) in categories else OTHER for v in values)
    total = max(sum(counts.values()), 1)
    return {c: counts.get(c, 0) / total for c in [*categories, OTHER]}


def p_value(expected: Sequence[float], actual: Sequence[float], rows: int) -> float | None:
    """Chi-square goodness of fit of the observed counts to the reference shares (empty bins floored)."""
    from scipy.stats import chisquare  # imported on first use: scipy.stats would slow every start-up

    if rows == 0:
        return None
    expected_shares = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    observed = np.asarray(actual, dtype=float) * rows
    return float(chisquare(observed, expected_shares / expected_shares.sum() * observed.sum()).pvalue)


def status(value: float | None, significance: float | None, rows: int, thresholds: DriftThresholds) -> str:
    """insufficient_data below min_rows; ok unless the change is significant; then warn/alert by PSI."""
    if value is None or significance is None or rows < thresholds.min_rows:
        return "insufficient_data"
    if significance >= thresholds.max_p_value:
        return "ok"
    if value >= thresholds.alert:
        return "alert"
    return "warn" if value >= thresholds.warn else "ok"


def distribution_drift(reference: dict[str, Any], values: Sequence[Any], thresholds: DriftThresholds) -> dict:
    """PSI, status and both distributions for one feature (or the score)."""
    if reference["kind"] == "numeric":
        edges = reference["edges"]
        expected = list(reference["shares"])
        actual = numeric_shares(values, edges)
        inner = [f"{lo:g} – {hi:g}" for lo, hi in zip(edges, edges[1:])]
        bins = [f"< {edges[0]:g}", *inner, f">= {edges[-1]:g}"] if edges else ["all"]
    else:
        categories = list(reference["shares"])
        expected = [reference["shares"][c] for c in categories] + [0.0]
        shares = categorical_shares(values, categories)
        actual = [shares[c] for c in [*categories, OTHER]]
        bins = [*categories, "(unseen)"]
    value = psi(expected, actual) if values else None
    significance = p_value(expected, actual, len(values))
    return {
        "kind": reference["kind"],
        "psi": value,
        "p_value": significance,
        "status": status(value, significance, len(values), thresholds),
        "rows": len(values),
        "bins": bins,
        "reference": expected,
        "current": actual,
    }


def feature_drift(
    reference: dict[str, dict[str, Any]], rows: Sequence[dict[str, Any]], thresholds: DriftThresholds
) -> dict[str, dict]:
    """Per-feature drift of logged inputs against the reference distributions."""
    return {
        feature: distribution_drift(ref, [row[feature] for row in rows if row.get(feature) is not None], thresholds)
        for feature, ref in reference.items()
    }
