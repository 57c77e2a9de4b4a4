"""The decision policy: outcomes over probability cut-offs, exactly at their edges; derived for older bundles."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.bundle_decisions import DecisionPolicyInfo
from app.core.decisions import DecisionPolicy, Outcome, derived_policy

MEDIUM, THRESHOLD = 0.14, 0.28


def policy(*cuts: float) -> DecisionPolicy:
    """Outcomes a, b, c... between 0, the cuts and 1."""
    edges = [0.0, *cuts, 1.0]
    outcomes = [Outcome(chr(97 + i), chr(65 + i), "", low, high) for i, (low, high) in enumerate(zip(edges, edges[1:]))]
    return DecisionPolicy(outcomes, "", derived=False)


def test_an_outcome_starts_at_its_cut_off_and_ends_just_below_the_next() -> None:
    three = policy(MEDIUM, THRESHOLD)
    below = np.nextafter
    probabilities = [0.0, below(MEDIUM, 0), MEDIUM, below(THRESHOLD, 0), THRESHOLD, below(1.0, 0), 1.0]
    expected = ["a", "a", "b", "b", "c", "c", "c"]
    assert [three.decide_one(p) for p in probabilities] == expected
    assert three.decide(np.array(probabilities)) == expected  # the numpy path of batches agrees


def test_a_bundles_policy_is_read_with_its_cut_offs() -> None:
    info = DecisionPolicyInfo.model_validate(
        {
            "outcomes": [
                {"name": "approve", "label": "Approve", "wording": "ok", "from": 0.0, "to": 0.3},
                {"name": "decline", "label": "Decline", "wording": "no", "from": 0.3, "to": 1.0, "extra": 1},
            ],
            "threshold_rationale": "because",
        }
    )
    read = DecisionPolicy.of_bundle(info, THRESHOLD, MEDIUM, "f1")
    assert [o.name for o in read.outcomes] == ["approve", "decline"] and not read.derived
    assert read.decide_one(0.2999) == "approve" and read.decide_one(0.3) == "decline"
    assert read.describe()["outcomes"][1] == {
        "name": "decline",
        "label": "Decline",
        "wording": "no",
        "from": 0.3,
        "to": 1.0,
    }
    assert read.describe()["threshold_rationale"] == "because"


def test_a_bundle_without_a_policy_gets_one_from_its_threshold_and_bands() -> None:
    derived = DecisionPolicy.of_bundle(None, THRESHOLD, MEDIUM, "cost")
    assert derived.derived
    assert [(o.name, o.lower, o.upper) for o in derived.outcomes] == [
        ("approve", 0.0, MEDIUM),
        ("refer", MEDIUM, THRESHOLD),
        ("decline", THRESHOLD, 1.0),
    ]
    assert "14.0%" in derived.by_name["approve"].wording and "cost" in derived.threshold_rationale
    assert [o.name for o in derived_policy(THRESHOLD, THRESHOLD, None).outcomes] == ["approve", "decline"]


@pytest.mark.parametrize(
    "edges, problem",
    [
        ([(0.0, 0.2), (0.3, 1.0)], "does not start where"),  # a gap
        ([(0.0, 0.4), (0.3, 1.0)], "does not start where"),  # an overlap
        ([(0.1, 0.3), (0.3, 1.0)], "start at 0"),
        ([(0.0, 0.3), (0.3, 0.9)], "end at 1"),
        ([(0.0, 0.3), (0.3, 0.3), (0.3, 1.0)], "empty"),
    ],
)
def test_outcomes_that_do_not_cover_the_scale_once_are_refused(edges: list, problem: str) -> None:
    outcomes = [Outcome(f"o{i}", "O", "", low, high) for i, (low, high) in enumerate(edges)]
    with pytest.raises(ValueError, match=problem):
        DecisionPolicy(outcomes, "", derived=False)
