"""The decision-sanity gate: before a release gets traffic, it scores its bundle's reference applicants (hold-out
rows with the probabilities training computed for them, sanity.json) and its decisions are compared with what
training recorded and with the active color's on the same rows. A model that flags (almost) everyone or no one
is refused unless forced; every figure goes to the history.

The gates check that a release answers; this one checks that its decisions are sane.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from deploy.controller_config import Sanity
from deploy.probe import GateError, probe_headers

SANITY_FILE = "sanity.json"  # written by training (training/sanity_reference.py)
SCORE_EDGES = [i / 10 for i in range(1, 10)]


@dataclass
class SanityVerdict:
    """The figures that decided, and the bounds that were broken (none: sane)."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_reference(bundle: Path) -> dict[str, Any] | None:
    """The bundle's reference applicants (None for a bundle exported before training wrote them)."""
    path = bundle / SANITY_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def score(
    base_url: str,
    applicants: list[dict[str, Any]],
    api_key: str | None = None,
    timeout_s: float = 60,
    verify: str | bool = True,
) -> tuple[list[float], list[int]]:
    """Probabilities and labels of the color behind `base_url` for these applicants (one batch, marked probe: the
    backend honors the marker from the deploy CLI's own key only)."""
    try:
        response = requests.post(
            f"{base_url}/api/predict/batch",
            json=applicants,
            headers=probe_headers(api_key),
            timeout=timeout_s,
            verify=verify,
        )
    except requests.RequestException as exc:
        raise GateError(f"sanity: the reference applicants could not be scored: {exc}") from None
    if response.status_code != 200:
        raise GateError(
            f"sanity: scoring the reference applicants answered HTTP {response.status_code}: " f"{response.text[:200]}"
        )
    rows = response.json()["predictions"]
    return [float(r["probability_default"]) for r in rows], [int(r["label"]) for r in rows]


def _shares(values: list[float]) -> list[float]:
    counts = [0] * (len(SCORE_EDGES) + 1)
    for value in values:
        counts[sum(value >= edge for edge in SCORE_EDGES)] += 1
    return [count / max(len(values), 1) for count in counts]


def shares_psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two distributions over the same bins, as shares (empty bins floored at 1e-4)."""
    pairs = zip(expected, actual)
    return sum((a - e) * math.log(a / e) for e, a in ((max(e, 1e-4), max(a, 1e-4)) for e, a in pairs))


def score_psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two score samples over ten equal bins."""
    return shares_psi(_shares(expected), _shares(actual))


def judge(
    reference: dict[str, Any],
    target: tuple[list[float], list[int]],
    active: tuple[list[float], list[int]] | None,
    bounds: Sanity,
) -> SanityVerdict:
    """Compare the target's answers with training's record and with the active color's."""
    probabilities, labels = target
    verdict = SanityVerdict()
    flagged = sum(labels) / max(len(labels), 1)
    delta = max((abs(p - q) for p, q in zip(probabilities, reference["probabilities"])), default=0.0)
    verdict.figures.update(
        rows=len(labels),
        flagged_share=round(flagged, 4),
        training_flagged_share=round(reference["flagged_share"], 4),
        max_probability_delta_vs_training=delta,
    )
    if delta > bounds.max_probability_delta:
        verdict.problems.append(
            f"its probabilities differ from training's by up to {delta:.4f} "
            f"(bound {bounds.max_probability_delta}): it is not the model training exported"
        )
    if abs(flagged - reference["flagged_share"]) > bounds.max_flagged_share_delta:
        verdict.problems.append(
            f"it flags {flagged:.0%} of the reference applicants, training flagged "
            f"{reference['flagged_share']:.0%} (bound ±{bounds.max_flagged_share_delta:.0%})"
        )
    if not bounds.min_flagged_share <= flagged <= bounds.max_flagged_share:
        verdict.problems.append(
            f"it flags {flagged:.0%} of the reference applicants: (almost) "
            f"{'everyone' if flagged > bounds.max_flagged_share else 'no one'}"
        )
    if active is not None:
        active_flagged = sum(active[1]) / max(len(active[1]), 1)
        psi = score_psi(active[0], probabilities)
        verdict.figures.update(active_flagged_share=round(active_flagged, 4), score_psi_vs_active=round(psi, 4))
        if abs(flagged - active_flagged) > bounds.max_flagged_share_delta:
            verdict.problems.append(
                f"it flags {flagged:.0%} where the active color flags {active_flagged:.0%} "
                f"(bound ±{bounds.max_flagged_share_delta:.0%})"
            )
        if psi > bounds.max_score_psi:
            verdict.problems.append(
                f"its scores differ from the active color's (PSI {psi:.2f} > {bounds.max_score_psi})"
            )
    return verdict
