"""The decision of one scored applicant in words: its headline color and a copyable summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

Color = Literal["green", "orange", "red"]  # Streamlit's markdown colors


def decision_color(name: str, outcomes: Sequence[dict[str, Any]]) -> Color:
    """Green for the policy's lowest outcome, red for its highest, orange in between (by position, so any
    policy's names work)."""
    names = [o.get("name") for o in outcomes]
    if name not in names or len(names) < 2:
        return "orange"
    position = names.index(name)
    return "green" if position == 0 else "red" if position == len(names) - 1 else "orange"


def decision_summary(result: dict[str, Any], card: dict[str, Any], scored_at: datetime) -> str:
    """Plain text an analyst can paste into a case file: the decision, the probability against the
    threshold, the principal reasons, the model version and the time of scoring."""
    decision = result.get("decision") or {}
    reasons = result.get("reasons") or []
    lines = [
        f"Decision: {decision.get('label', '?')}",
        f"Probability of default: {float(result['probability_default']):.1%} "
        f"(threshold {float(result['threshold']):.1%}, risk band {result.get('risk_band')})",
        "Principal reasons:" if reasons else "Principal reasons: none (no factor raises the risk)",
        *(f"  {number}. {reason}" for number, reason in enumerate(reasons, start=1)),
        f"Model: {card.get('name', 'model')} v{result.get('model_version')} ({card.get('algorithm', '?')})",
        f"Scored: {scored_at:%Y-%m-%d %H:%M:%S %Z}".rstrip(),
    ]
    return "\n".join(lines)
