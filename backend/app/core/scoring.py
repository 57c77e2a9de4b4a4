"""The scoring service: the one place predictions are produced (and can be observed).

Listeners (a list shared with the model state) receive every prediction (validated inputs and
results) right after it is made, single or batch: the seam for prediction logging and drift.
A failing listener is logged and never fails the prediction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.core.applicant import ApplicantParser
from app.core.bundle import Bundle, BundleError
from app.core.predictors import Predictor

logger = logging.getLogger(__name__)

Source = Literal["single", "batch", "probe"]  # probe: deployment checks (X-Traffic-Source: probe)


@dataclass(frozen=True, slots=True)
class Prediction:
    probability: float
    label: int
    risk_band: str


@dataclass(frozen=True, slots=True)
class Factor:
    feature: str
    value: Any
    contribution: float


@dataclass(frozen=True)
class PredictionEvent:
    """What listeners see: one request's applicants and their predictions, in order."""

    source: Source
    model_version: str
    applicants: Sequence[dict[str, Any]]
    predictions: Sequence[Prediction]


PredictionListener = Callable[[PredictionEvent], None]


class ScoringService:
    """A loaded bundle: validation, probabilities, labels, risk bands, explanations."""

    def __init__(
        self,
        bundle: Bundle,
        predictor: Predictor,
        listeners: list[PredictionListener],
        top_factors: int = 5,
        max_batch_rows: int = 10_000,
    ) -> None:
        self.bundle = bundle
        self.metadata = bundle.metadata
        self.version = bundle.metadata.version
        self.predictor = predictor
        self.parser = ApplicantParser(bundle.metadata, max_batch_rows)
        self.top_factors = top_factors
        self.threshold = bundle.metadata.threshold
        self.medium = bundle.metadata.risk_bands.medium
        self.high = bundle.metadata.risk_bands.high
        self.listeners = listeners

    def risk_band(self, probability: float) -> str:
        if probability >= self.high:
            return "high"
        return "medium" if probability >= self.medium else "low"

    def _predictions(self, probabilities: list[float]) -> list[Prediction]:
        return [Prediction(p, int(p >= self.threshold), self.risk_band(p)) for p in probabilities]

    def predict(self, applicants: list[dict[str, Any]], source: Source) -> list[Prediction]:
        """Predictions for validated applicants, in order; listeners are notified."""
        predictions = self._predictions(self.predictor.probabilities(applicants))
        if self.listeners:
            self._notify(PredictionEvent(source, self.version, applicants, predictions))
        return predictions

    def explain(self, applicant: dict[str, Any]) -> list[Factor]:
        """The top features by |contribution|, largest first."""
        contributions = self.predictor.contributions(applicant)
        ranked = sorted(contributions.items(), key=lambda item: abs(item[1]), reverse=True)
        return [Factor(name, applicant[name], value) for name, value in ranked[: self.top_factors]]

    def _notify(self, event: PredictionEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("prediction listener %r failed", listener)

    def self_test(self) -> None:
        """Score and explain the bundle's example row; BundleError if anything is off."""
        try:
            applicant = self.parser.one_from_dict(self.metadata.example)
        except Exception as exc:
            raise BundleError(f"the bundle's example row does not fit its own schema: {exc}") from None
        try:
            (probability,) = self.predictor.probabilities([applicant])
            contributions = self.predictor.contributions(applicant)
        except Exception as exc:
            raise BundleError(f"self-test prediction failed: {type(exc).__name__}: {exc}") from None
        if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
            raise BundleError(f"self-test probability {probability!r} is not in [0, 1]")
        if set(contributions) != set(self.metadata.feature_order) or not all(
            math.isfinite(v) for v in contributions.values()
        ):
            raise BundleError("self-test explanation does not cover every feature with finite values")
