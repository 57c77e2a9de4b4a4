"""Model wrappers with one interface: probabilities for rows, and signed contributions for rows."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from app.core.applicant import Row
from app.core.bundle import Bundle, BundleError
from app.core.mlmodel import load_model


class Predictor(Protocol):
    """What the scoring service needs from a model."""

    explanation_method: str
    explains_fast: bool  # explanations cost about as much as a score: scored on the event loop like scores

    def probabilities(self, applicants: list[Row]) -> np.ndarray:
        """P(default) per validated applicant (values in the bundle's feature order), in order (float64)."""

    def explain(self, applicants: list[Row]) -> tuple[np.ndarray, np.ndarray]:
        """P(default) per applicant and the signed contribution of each feature to each applicant's score
        (rows x features in the bundle's feature order; positive: towards default), from one model input."""


def build_predictor(bundle: Bundle) -> Predictor:
    """Load the bundle's model and wrap it; BundleError if it does not fit the bundle's schema."""
    model = load_model(bundle.model_dir, bundle.metadata.flavor)
    if bundle.metadata.flavor == "catboost":
        from app.core.predictors.catboost import CatBoostPredictor

        return CatBoostPredictor(model, bundle.metadata)
    if bundle.metadata.flavor == "sklearn":
        from app.core.predictors.sklearn import SklearnPredictor

        return SklearnPredictor(model, bundle.metadata)
    raise BundleError(f"unsupported flavor {bundle.metadata.flavor!r}")


def check_binary_classes(classes: Any) -> None:
    """Column 1 of predict_proba must be the positive class (1 = default)."""
    if classes is None or [int(c) for c in classes] != [0, 1]:
        raise BundleError(f"the model's classes are {classes!r}, expected [0, 1]")
