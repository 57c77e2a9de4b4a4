"""The decision policy: outcomes that tile the scale (refused otherwise), resolved and described on the hold-out."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from training.config import ThresholdConfig
from training.decision_policy import DecisionPolicyConfig, policy_metadata, threshold_rationale

Y = np.array([0, 0, 0, 1, 0, 1, 1, 0, 1, 1])
P = np.array([0.05, 0.1, 0.2, 0.2, 0.3, 0.3, 0.5, 0.6, 0.9, 1.0])


def outcomes(*cuts: tuple) -> dict:
    return {
        "outcomes": [
            {"name": f"o{i}", "label": "O", "wording": "w", "from": a, "to": b} for i, (a, b) in enumerate(cuts)
        ]
    }


def test_the_default_policy_approves_refers_and_declines() -> None:
    policy = DecisionPolicyConfig()
    assert [(o.name, o.lower, o.upper) for o in policy.outcomes] == [
        ("approve", 0, "medium"),
        ("refer", "medium", "threshold"),
        ("decline", "threshold", 1),
    ]


@pytest.mark.parametrize(
    "cuts, problem",
    [
        ([(0, "medium"), ("threshold", 1)], "a gap between outcome 'o0' (to medium) and 'o1' (from threshold)"),
        ([(0, "threshold"), ("medium", 1)], "an overlap between outcome 'o0' (to threshold) and 'o1' (from medium)"),
        ([("medium", 1)], "a gap below outcome 'o0'"),
        ([(0, "threshold")], "a gap above outcome 'o0'"),
        ([(0, "medium"), ("medium", "medium"), ("medium", 1)], "outcome 'o1' is empty"),
        ([(0, 0.5), (0.5, 1)], "Input should be 0, 'medium', 'threshold' or 1"),
    ],
)
def test_outcomes_that_overlap_or_leave_gaps_are_refused(cuts: list, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        DecisionPolicyConfig.model_validate(outcomes(*cuts))


def test_outcomes_are_resolved_and_measured_on_the_holdout() -> None:
    described = policy_metadata(DecisionPolicyConfig(), ThresholdConfig(), 0.3, 0.15, Y, P)
    approve, refer, decline = described["outcomes"]
    assert (approve["from"], approve["to"], refer["to"], decline["to"]) == (0.0, 0.15, 0.3, 1.0)
    assert (approve["from_point"], refer["from_point"], decline["to_point"]) == ("0", "medium", "1")
    assert [o["holdout_share"] for o in described["outcomes"]] == [0.2, 0.2, 0.6]  # 0.3 belongs to decline
    assert refer["holdout_default_rate"] == 0.5 and decline["holdout_default_rate"] == pytest.approx(4 / 6)
    assert described["holdout"] == {
        "applicants": 10,
        "defaults": 5,
        "flagged_share": 0.6,
        "missed_defaults": 1,
        "missed_default_share": 0.2,
        "flagged_good": 2,
    }


@pytest.mark.parametrize(
    "settings, words",
    [
        (ThresholdConfig(strategy="f1"), "maximises the F1 score"),
        (
            ThresholdConfig(strategy="cost", cost_false_negative=5, cost_false_positive=1),
            "counting a missed default as 5",
        ),
    ],
)
def test_the_rationale_says_why_and_what_it_means_on_the_holdout(settings: ThresholdConfig, words: str) -> None:
    holdout = policy_metadata(DecisionPolicyConfig(), settings, 0.3, 0.15, Y, P)["holdout"]
    text = threshold_rationale(settings, 0.3, holdout)
    assert words in text and "threshold 0.300" in text
    assert "flags 60.0% of applicants and misses 1 of the 5 defaults (20.0%); 2 good applicants are flagged" in text
