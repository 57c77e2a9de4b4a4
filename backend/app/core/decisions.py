"""The decision policy: named outcomes (approve, refer, decline...) over probability cut-offs.

Bundles store it as `decision_policy` in metadata.json (training/decision_policy.py writes it): each
outcome covers the probabilities from its `from` (included) up to its `to` (excluded; the last one
includes 1), and the outcomes cover 0..1 exactly once. A bundle without one (older bundles) gets the
policy derived from its threshold and risk bands, with a generic wording: approve below the medium band,
refer to a senior analyst from the medium band up to the threshold, decline from the threshold.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from app.core.bundle_decisions import DecisionPolicyInfo


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    wording: str
    lower: float
    upper: float


class DecisionPolicy:
    """Outcomes in order of probability; `decide` gives the outcome name of each probability."""

    def __init__(self, outcomes: list[Outcome], threshold_rationale: str, derived: bool) -> None:
        problems = tiling_problems(outcomes)
        if problems:
            raise ValueError(f"decision_policy: {problems[0]}")
        self.outcomes = outcomes
        self.threshold_rationale = threshold_rationale
        self.derived = derived  # True: the bundle had no policy of its own
        self.by_name = {o.name: o for o in outcomes}
        self._lowers = [o.lower for o in outcomes]
        self._lowers_array = np.array(self._lowers)
        self._names = np.array([o.name for o in outcomes], dtype=object)

    @classmethod
    def of_bundle(
        cls, info: DecisionPolicyInfo | None, threshold: float, medium: float, strategy: str | None
    ) -> DecisionPolicy:
        """The bundle's own policy, or the one derived from its threshold and risk bands."""
        if info is None:
            return derived_policy(threshold, medium, strategy)
        outcomes = [Outcome(o.name, o.label, o.wording, o.lower, o.upper) for o in info.outcomes]
        return cls(outcomes, info.threshold_rationale, derived=False)

    def decide_one(self, probability: float) -> str:
        return self.outcomes[bisect.bisect_right(self._lowers, probability) - 1].name

    def decide(self, probabilities: np.ndarray) -> list[str]:
        """The outcome of each probability (numpy, for batches)."""
        return self._names[np.searchsorted(self._lowers_array, probabilities, side="right") - 1].tolist()

    def describe(self) -> dict[str, object]:
        """The policy for clients (GET /model)."""
        return {
            "outcomes": [
                {"name": o.name, "label": o.label, "wording": o.wording, "from": o.lower, "to": o.upper}
                for o in self.outcomes
            ],
            "threshold_rationale": self.threshold_rationale,
            "derived": self.derived,
        }


def tiling_problems(outcomes: list[Outcome]) -> list[str]:
    """What keeps the outcomes from covering 0..1 once, in order (an empty list when they do)."""
    problems = []
    if len({o.name for o in outcomes}) != len(outcomes):
        problems.append("outcome names are not unique")
    if outcomes[0].lower != 0.0 or outcomes[-1].upper != 1.0:
        problems.append("the outcomes must start at 0 and end at 1")
    problems += [f"outcome '{o.name}' is empty or reversed" for o in outcomes if not o.lower < o.upper]
    problems += [
        f"outcome '{after.name}' does not start where '{before.name}' ends"
        for before, after in zip(outcomes, outcomes[1:])
        if before.upper != after.lower
    ]
    return problems


def derived_policy(threshold: float, medium: float, strategy: str | None) -> DecisionPolicy:
    """The policy of a bundle without one: the three outcomes of its risk bands, in generic words."""
    outcomes = [
        Outcome(
            "approve",
            "Approve",
            f"The probability of default is below the medium risk band (from {medium:.1%}).",
            0.0,
            medium,
        ),
        Outcome(
            "refer",
            "Refer to a senior analyst",
            f"The probability of default is in the medium risk band ({medium:.1%} up to the threshold "
            f"{threshold:.1%}): a senior analyst reviews the application.",
            medium,
            threshold,
        ),
        Outcome(
            "decline",
            "Decline",
            f"The probability of default is at or above the model's threshold ({threshold:.1%}).",
            threshold,
            1.0,
        ),
    ]
    outcomes = [o for o in outcomes if o.lower < o.upper]  # bands that collapse (medium at 0 or at the threshold)
    rationale = (
        f"This model's bundle has no decision policy of its own: the outcomes follow its threshold "
        f"({threshold:.3f}, chosen by {strategy or 'an unrecorded'} strategy) and its risk bands."
    )
    return DecisionPolicy(outcomes, rationale, derived=True)
