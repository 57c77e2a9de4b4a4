"""Champion vs challenger over a window: how differently the idle color (the challenger, fed nginx's shadow copies)
would have decided on the applicants the active color (the champion) served.

Figures over the paired applicants: label agreement (flagged or not), decision agreement, mean and p95 of
|Δ probability|, the flagged share on each side, the risk-band and decision transition matrices (champion's rows,
challenger's columns). Latency is each color's serving time as its backend logged it (handler start to scored
answer, per request); errors are the requests one side answered and the other did not (app.monitoring.shadow_pairs).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from app.core.scoring import RISK_BANDS
from app.monitoring.shadow_pairs import LoggedAnswer, Pairing
from app.monitoring.summary import iso

BANDS = [str(band) for band in RISK_BANDS]  # low, medium, high


def _share(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if values.size else None


def _flat(answers: list[LoggedAnswer], column: str) -> list[Any]:
    return [value for answer in answers for value in (getattr(answer, column) or [None] * len(answer.labels))]


def transitions(before: list[Any], after: list[Any], names: list[str]) -> list[list[int]]:
    """counts[i][j]: applicants in names[i] on the champion and names[j] on the challenger."""
    counted = Counter(zip(before, after))
    return [[counted[(row, column)] for column in names] for row in names]


def _side(answers: list[LoggedAnswer], labels: np.ndarray, unanswered: int) -> dict[str, Any]:
    seconds = np.array([a.seconds for a in answers if a.seconds is not None], dtype=float)
    return {
        "color": answers[-1].color if answers else None,
        "model_versions": dict(Counter(v for a in answers for v in [a.model_version] * len(a.labels))),
        "requests": len(answers),
        "flagged_share": _share(labels),
        "mean_seconds": _share(seconds),
        "p95_seconds": _quantile(seconds, 0.95),
        "unanswered": unanswered,
    }


def build_report(pairing: Pairing, window: str, window_s: float, now: float) -> dict[str, Any]:
    """The report's figures (None where no applicant was compared)."""
    served = [p.served for p in pairing.pairs]
    shadow = [p.shadow for p in pairing.pairs]
    p_served = np.array(_flat(served, "probabilities"), dtype=float)
    p_shadow = np.array(_flat(shadow, "probabilities"), dtype=float)
    l_served = np.array(_flat(served, "labels"), dtype=int)
    l_shadow = np.array(_flat(shadow, "labels"), dtype=int)
    d_served, d_shadow = _flat(served, "decisions"), _flat(shadow, "decisions")
    decided = [(a, b) for a, b in zip(d_served, d_shadow) if a is not None and b is not None]
    delta = np.abs(p_shadow - p_served)
    decisions = sorted({name for both in decided for name in both})
    return {
        "window": window,
        "window_seconds": int(window_s),
        "from": iso(now - window_s),
        "to": iso(now),
        "requests_compared": len(pairing.pairs),
        "rows_compared": int(delta.size),
        "label_agreement": _share(l_served == l_shadow),
        "decision_agreement": _share(np.array([a == b for a, b in decided], dtype=bool)),
        "mean_abs_delta": _share(delta),
        "p95_abs_delta": _quantile(delta, 0.95),
        "champion": _side(served, l_served, pairing.champion_unanswered),
        "challenger": _side(shadow, l_shadow, pairing.challenger_unanswered),
        "risk_bands": BANDS,
        "band_transitions": transitions(_flat(served, "risk_bands"), _flat(shadow, "risk_bands"), BANDS),
        "decisions": decisions,
        "decision_transitions": transitions([a for a, _ in decided], [b for _, b in decided], decisions),
    }
