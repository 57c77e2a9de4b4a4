"""Drift: PSI against the training reference flags a shifted sample, not an unshifted one."""

import numpy as np
import pandas as pd
import pytest

from app.monitoring.drift import DriftThresholds, feature_drift, numeric_shares, psi, distribution_drift
from training.config import SplitConfig
from training.data import Dataset, reference_distributions, split


@pytest.fixture(scope="module")
def reference_and_holdout(dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    x_train, x_test, _, _ = split(dataset, SplitConfig(test_size=0.3, seed=1))
    return reference_distributions(x_train, dataset.numeric, bins=10), x_test


def test_psi_is_zero_for_identical_and_large_for_disjoint_distributions() -> None:
    assert psi([0.25] * 4, [0.25] * 4) == 0
    assert psi([0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]) > 5


def test_numeric_shares_use_open_outer_bins() -> None:
    assert numeric_shares([-100, 0.5, 1.5, 99], [1.0]) == [0.5, 0.5]


def test_unshifted_sample_does_not_drift(reference_and_holdout) -> None:
    reference, holdout = reference_and_holdout
    drift = feature_drift(reference, holdout.to_dict("records"), DriftThresholds())
    assert all(entry["status"] == "ok" for entry in drift.values()), {
        k: round(v["psi"], 3) for k, v in drift.items() if v["status"] != "ok"
    }


def test_shifted_sample_drifts_on_the_shifted_features_only(reference_and_holdout) -> None:
    reference, holdout = reference_and_holdout
    shifted = holdout.copy()
    shifted["credit_amount"] = shifted["credit_amount"] * 2.5
    shifted["status_of_existing_checking_account"] = "... < 0 DM"
    drift = feature_drift(reference, shifted.to_dict("records"), DriftThresholds())
    assert drift["credit_amount"]["status"] == "alert"
    assert drift["status_of_existing_checking_account"]["status"] == "alert"
    assert drift["housing"]["status"] == "ok"


def test_unseen_category_counts_as_drift() -> None:
    reference = {"kind": "categorical", "shares": {"a": 0.5, "b": 0.5}}
    entry = distribution_drift(reference, ["c"] * 40, DriftThresholds())
    assert entry["bins"][-1] == "(unseen)" and entry["current"][-1] == 1.0
    assert entry["status"] == "alert"


def test_too_few_rows_is_not_a_verdict() -> None:
    reference = {"kind": "numeric", "edges": [1.0, 2.0], "shares": [0.3, 0.4, 0.3]}
    entry = distribution_drift(reference, list(np.full(5, 10.0)), DriftThresholds(min_rows=30))
    assert entry["status"] == "insufficient_data" and entry["psi"] > 1


def test_small_unshifted_windows_are_not_false_alarms(reference_and_holdout) -> None:
    """PSI alone is biased upwards on small samples; the chi-square test keeps noise at 'ok'."""
    reference, holdout = reference_and_holdout
    noisy_psi = flagged = 0
    for seed in range(20):
        sample = holdout.sample(40, random_state=seed).to_dict("records")
        for entry in feature_drift(reference, sample, DriftThresholds()).values():
            noisy_psi += entry["psi"] >= 0.1
            flagged += entry["status"] != "ok"
    assert noisy_psi > 50, "the bias this guards against exists at 40 rows"
    assert flagged <= 0.02 * 20 * len(reference)
