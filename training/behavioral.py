"""Behavioral tests of a fitted model (Made-With-ML's model tests), declared in the config.

- directional: raising a feature (others fixed) must not lower (or raise) P(outcome) for a share of applicants;
- invariance: setting a protected attribute to other values moves P(outcome) by at most a stated amount;
- minimum functionality: textbook applicants get the expected decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from training.data import Dataset
from training.errors import TrainingInputError
from training.governance_config import DirectionalTest, InvarianceTest, MinimumFunctionalityTest
from training.models import predict_positive

Test = DirectionalTest | InvarianceTest | MinimumFunctionalityTest


@dataclass(frozen=True)
class BehavioralResult:
    """One test's outcome: passed or not, a sentence for people, and the figures behind it."""

    name: str
    type: str
    enforced: bool
    passed: bool
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_tests(tests: list[Test], dataset: Dataset, dropped: list[str]) -> None:
    """Every feature and value a test names must exist in the data; TrainingInputError names the first that does not."""
    for test in tests:
        where = f"behavioral_tests.{test.name}"
        if isinstance(test, MinimumFunctionalityTest):
            for feature, value in test.applicant.items():
                _check_feature(where, feature, dataset, dropped)
                if feature not in dropped:
                    _check_value(where, feature, value, dataset)
            continue
        _check_feature(where, test.feature, dataset, dropped)
        if test.feature in dropped:
            continue
        if isinstance(test, DirectionalTest) and test.feature not in dataset.numeric:
            raise TrainingInputError(f"{where}: directional tests need a numeric feature, '{test.feature}' is not")
        if isinstance(test, InvarianceTest):
            if test.values is None and test.feature in dataset.numeric:
                raise TrainingInputError(f"{where}: numeric feature '{test.feature}' needs `values` to set")
            for value in test.values or []:
                _check_value(where, test.feature, value, dataset)


def _check_feature(where: str, feature: str, dataset: Dataset, dropped: list[str]) -> None:
    if feature not in dataset.features.columns and feature not in dropped:
        raise TrainingInputError(
            f"{where}: unknown feature '{feature}' (features: {', '.join(dataset.features.columns)})"
        )


def _check_value(where: str, feature: str, value: Any, dataset: Dataset) -> None:
    if feature in dataset.numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainingInputError(f"{where}: '{feature}' is numeric, {value!r} is not a number")
    elif str(value) not in set(dataset.features[feature]):
        raise TrainingInputError(f"{where}: {value!r} is not a category of '{feature}'")


def typical_applicant(features: pd.DataFrame, numeric: list[str]) -> pd.Series:
    """The median of each numeric feature and the most frequent category of the others."""
    return pd.Series(
        {c: float(features[c].median()) if c in numeric else features[c].mode().iloc[0] for c in features.columns},
        dtype=object,
    )


def run_tests(
    tests: list[Test],
    model: BaseEstimator,
    applicants: pd.DataFrame,
    typical: pd.Series,
    threshold: float,
    dropped: list[str],
    outcome: str = "default",
) -> list[BehavioralResult]:
    """Run every test against the model on the given applicants (the hold-out set); `outcome` names what the
    model predicts in the summaries (P(default))."""
    base = predict_positive(model, applicants)
    results = []
    for test in tests:
        if isinstance(test, MinimumFunctionalityTest):
            results.append(_minimum_functionality(test, model, typical, threshold, dropped, outcome))
        elif test.feature in dropped:
            results.append(
                BehavioralResult(
                    test.name,
                    test.type,
                    test.enforce,
                    True,
                    f"'{test.feature}' is not a model input (data.drop_features): holds by construction",
                )
            )
        elif isinstance(test, DirectionalTest):
            results.append(_directional(test, model, applicants, base, outcome))
        else:
            results.append(_invariance(test, model, applicants, base, threshold, outcome))
    return results


def _directional(
    test: DirectionalTest, model: BaseEstimator, applicants: pd.DataFrame, base: np.ndarray, outcome: str
) -> BehavioralResult:
    changed = applicants.copy()
    column = changed[test.feature].astype(float)
    changed[test.feature] = column + test.add if test.add is not None else column * test.multiply
    delta = predict_positive(model, changed) - base
    ok = delta >= -test.tolerance if test.direction == "not_lower" else delta <= test.tolerance
    share = float(ok.mean())
    change = f"+{test.add:g}" if test.add is not None else f"x{test.multiply:g}"
    verb = "drop" if test.direction == "not_lower" else "rise"
    summary = (
        f"{test.feature} {change}: P({outcome}) did not {verb} by more than {test.tolerance:g} for "
        f"{share:.1%} of {len(ok)} applicants (required {test.min_share:.0%})"
    )
    figures = {
        "feature": test.feature,
        "change": change,
        "share": share,
        "min_share": test.min_share,
        "applicants": len(ok),
        "mean_change": float(delta.mean()),
        "largest_drop": float(delta.min()),
        "largest_rise": float(delta.max()),
    }
    return BehavioralResult(test.name, test.type, test.enforce, share >= test.min_share, summary, figures)


def _invariance(
    test: InvarianceTest,
    model: BaseEstimator,
    applicants: pd.DataFrame,
    base: np.ndarray,
    threshold: float,
    outcome: str,
) -> BehavioralResult:
    values = test.values if test.values is not None else sorted(applicants[test.feature].unique())
    largest = np.zeros(len(applicants))
    flipped = np.zeros(len(applicants), dtype=bool)
    for value in values:
        changed = applicants.copy()
        changed[test.feature] = float(value) if pd.api.types.is_numeric_dtype(applicants[test.feature]) else str(value)
        proba = predict_positive(model, changed)
        largest = np.maximum(largest, np.abs(proba - base))
        flipped |= (proba >= threshold) != (base >= threshold)
    within = float(np.mean(largest <= test.max_delta))
    summary = (
        f"setting {test.feature} to {len(values)} values moves P({outcome}) by up to {largest.max():.3f} "
        f"(more than {test.max_delta:g} for {1 - within:.1%} of {len(largest)} applicants) and changes "
        f"{int(flipped.sum())} decisions"
    )
    figures = {
        "feature": test.feature,
        "values": [str(v) for v in values],
        "max_delta": test.max_delta,
        "share_within": within,
        "min_share": test.min_share,
        "largest_change": float(largest.max()),
        "mean_largest_change": float(largest.mean()),
        "decisions_changed": int(flipped.sum()),
        "applicants": len(largest),
    }
    return BehavioralResult(test.name, test.type, test.enforce, within >= test.min_share, summary, figures)


def _minimum_functionality(
    test: MinimumFunctionalityTest,
    model: BaseEstimator,
    typical: pd.Series,
    threshold: float,
    dropped: list[str],
    outcome: str,
) -> BehavioralResult:
    applicant = typical.copy()
    for feature, value in test.applicant.items():
        if feature not in dropped:
            applicant[feature] = float(value) if isinstance(typical[feature], float) else str(value)
    frame = pd.DataFrame([applicant])
    numeric = [c for c in frame.columns if isinstance(typical[c], float)]
    frame[numeric] = frame[numeric].astype("float64")
    probability = float(predict_positive(model, frame)[0])
    decision = "flagged" if probability >= threshold else "approved"
    summary = (
        f"P({outcome}) {probability:.3f} {'>=' if decision == 'flagged' else '<'} threshold {threshold:.3f}: "
        f"{decision} (expected {test.expect})"
    )
    figures = {"probability": probability, "threshold": threshold, "decision": decision, "expected": test.expect}
    return BehavioralResult(test.name, test.type, test.enforce, decision == test.expect, summary, figures)
