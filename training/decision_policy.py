"""The decision policy: named outcomes over the model's own probability scale, and the threshold in words.

An outcome covers the probabilities from its `from` cut-off (included) to its `to` cut-off (excluded; the
last one includes 1). Cut-offs are points of the model's scale, resolved when the model is trained, so the
policy follows every retrained threshold: `0`, `medium` (where the medium risk band starts), `threshold`
(the model's decision threshold, where the high band starts) and `1`. Their order is known before training
(0 < medium < threshold < 1), so overlapping or gapped outcomes are refused when the config is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from training.config import ThresholdConfig

CutOff = Literal[0, "medium", "threshold", 1]
CUT_OFF_ORDER: dict[Any, int] = {0: 0, "medium": 1, "threshold": 2, 1: 3}


class OutcomeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="stable code, e.g. approve")
    label: str = Field(min_length=1, description="what the analyst reads, e.g. Refer to a senior analyst")
    wording: str = Field(min_length=1, description="what the outcome means, in one or two sentences")
    lower: CutOff = Field(alias="from")
    upper: CutOff = Field(alias="to")


DEFAULT_OUTCOMES = [
    OutcomeConfig(
        name="approve",
        label="Approve",
        wording="Low risk: the probability of default is below the medium risk band. Approve on standard terms.",
        lower=0,
        upper="medium",
    ),
    OutcomeConfig(
        name="refer",
        label="Refer to a senior analyst",
        wording="Elevated risk: the probability of default is in the medium band, below the model's threshold. "
        "A senior analyst reviews the application before it is decided.",
        lower="medium",
        upper="threshold",
    ),
    OutcomeConfig(
        name="decline",
        label="Decline",
        wording="High risk: the probability of default is at or above the model's threshold. Decline; the "
        "principal reasons are the ones to state in the adverse-action notice.",
        lower="threshold",
        upper=1,
    ),
]


class DecisionPolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[OutcomeConfig] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1)

    @model_validator(mode="after")
    def _outcomes_tile_the_scale(self) -> DecisionPolicyConfig:
        problems = tiling_problems(self.outcomes)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def tiling_problems(outcomes: list[OutcomeConfig]) -> list[str]:
    """What keeps the outcomes, in the order given, from covering 0..1 exactly once."""
    names = [o.name for o in outcomes]
    problems = [f"outcome name '{n}' is used twice" for n in dict.fromkeys(names) if names.count(n) > 1]
    for outcome in outcomes:
        if CUT_OFF_ORDER[outcome.lower] >= CUT_OFF_ORDER[outcome.upper]:
            problems.append(f"outcome '{outcome.name}' is empty: from {outcome.lower} to {outcome.upper}")
    if outcomes[0].lower != 0:
        problems.append(f"a gap below outcome '{outcomes[0].name}': the first outcome must start from 0")
    if outcomes[-1].upper != 1:
        problems.append(f"a gap above outcome '{outcomes[-1].name}': the last outcome must end at 1")
    for before, after in zip(outcomes, outcomes[1:]):
        end, start = CUT_OFF_ORDER[before.upper], CUT_OFF_ORDER[after.lower]
        if end != start:
            kind = "a gap" if end < start else "an overlap"
            problems.append(
                f"{kind} between outcome '{before.name}' (to {before.upper}) and '{after.name}' (from {after.lower})"
            )
    return problems


def policy_metadata(
    policy: DecisionPolicyConfig,
    threshold_settings: ThresholdConfig,
    threshold: float,
    medium: float,
    y_test: np.ndarray,
    test_proba: np.ndarray,
) -> dict[str, Any]:
    """The policy as the bundle stores it: each outcome with its resolved cut-offs and its share and default
    rate on the hold-out set, the hold-out figures of the threshold, and the threshold's rationale in words."""
    points = {0: 0.0, "medium": medium, "threshold": threshold, 1: 1.0}
    outcomes = []
    for outcome in policy.outcomes:
        lower, upper = points[outcome.lower], points[outcome.upper]
        inside = (test_proba >= lower) & ((test_proba < upper) | (upper == 1.0))
        outcomes.append(
            {
                "name": outcome.name,
                "label": outcome.label,
                "wording": outcome.wording,
                "from": lower,
                "to": upper,
                "from_point": str(outcome.lower),
                "to_point": str(outcome.upper),
                "holdout_share": float(inside.mean()),
                "holdout_default_rate": float(y_test[inside].mean()) if inside.any() else None,
            }
        )
    holdout = holdout_figures(y_test, test_proba, threshold)
    return {
        "outcomes": outcomes,
        "holdout": holdout,
        "threshold_rationale": threshold_rationale(threshold_settings, threshold, holdout),
    }


def holdout_figures(y_test: np.ndarray, test_proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """What the threshold means on the hold-out set: applicants flagged, defaults missed, good applicants flagged."""
    flagged = test_proba >= threshold
    defaults = y_test == 1
    missed = int(np.sum(defaults & ~flagged))
    return {
        "applicants": int(len(y_test)),
        "defaults": int(defaults.sum()),
        "flagged_share": float(flagged.mean()),
        "missed_defaults": missed,
        "missed_default_share": missed / max(int(defaults.sum()), 1),
        "flagged_good": int(np.sum(~defaults & flagged)),
    }


def threshold_rationale(settings: ThresholdConfig, threshold: float, holdout: dict[str, Any]) -> str:
    """Why the threshold is where it is, and what it means on the hold-out set, in plain words."""
    if settings.strategy == "cost":
        why = (
            f"The threshold {threshold:.3f} minimises the expected cost on out-of-fold predictions of the training "
            f"set, counting a missed default as {settings.cost_false_negative:g} and a good applicant wrongly "
            f"flagged as {settings.cost_false_positive:g}."
        )
    else:
        why = (
            f"The threshold {threshold:.3f} maximises the F1 score (the balance of catching defaults and not "
            "flagging good applicants) on out-of-fold predictions of the training set."
        )
    return (
        f"{why} On the hold-out set ({holdout['applicants']} applicants, {holdout['defaults']} defaults) it flags "
        f"{holdout['flagged_share']:.1%} of applicants and misses {holdout['missed_defaults']} of the "
        f"{holdout['defaults']} defaults ({holdout['missed_default_share']:.1%}); {holdout['flagged_good']} good "
        "applicants are flagged."
    )
