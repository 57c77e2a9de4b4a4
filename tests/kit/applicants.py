"""Applicants for tests: real rows of the dataset, and a shifted population (the same generators as
`make simulate-traffic`, deploy/simulate_traffic.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from deploy.simulate_traffic import dataset_applicants, shift
from tests.kit.paths import DATASET

# Longer loans for larger amounts: the shift the monitoring tests expect to be flagged as drift.
LONGER_LARGER_LOANS = ("duration_in_month", "credit_amount")

__all__ = ["DATASET", "dataset_applicants", "real_applicants", "shift", "shifted_population"]


def real_applicants(features: Sequence[Mapping[str, Any]], count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` rows of the German credit dataset drawn at random, restricted to the served features."""
    return dataset_applicants(DATASET, features, count, random.Random(seed))


def shifted_population(
    applicants: Sequence[Mapping[str, Any]], features: Sequence[Mapping[str, Any]], factor: float = 3.0
) -> list[dict[str, Any]]:
    """The applicants with longer, larger loans (within the accepted bounds)."""
    return [shift(applicant, features, factor, only=LONGER_LARGER_LOANS) for applicant in applicants]
