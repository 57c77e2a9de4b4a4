"""The scoring service: the one place predictions are produced (and can be observed).

Listeners (a list shared with the model state) receive every prediction (validated inputs and
results) right after it is made, single or batch: the seam for prediction logging and drift.
A failing listener is logged and never fails the prediction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from app.core.applicant import ApplicantParser, Row
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
class Predictions:
    """One request's predictions as columns (a 1,000-row batch needs no per-row objects); iterating
    yields a Prediction per applicant."""

    probabilities: list[float]
    labels: list[int]
    risk_bands: list[str]

    def __len__(self) -> int:
        return len(self.probabilities)

    def __iter__(self) -> Iterator[Prediction]:
        return map(Prediction, *self.columns())

    def columns(self) -> tuple[list[float], list[int], list[str]]:
        return self.probabilities, self.labels, self.risk_bands

    def take(self, indices: list[int]) -> Predictions:
        """The predictions at these positions."""
        return Predictions(*([column[i] for i in indices] for column in self.columns()))


RISK_BANDS = np.array(["low", "medium", "high"], dtype=object)
NUMPY_FROM_ROWS = 32


@dataclass(frozen=True, slots=True)
class Factor:
    feature: str
    value: Any
    contribution: float


@dataclass(frozen=True)
class PredictionEvent:
    """What listeners see: one request's applicants (rows of `feature_names` values) and their
    predictions, in order."""

    source: Source
    model_version: str
    feature_names: tuple[str, ...]
    applicants: Sequence[Row]
    predictions: Predictions


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

    def classify(self, probabilities: np.ndarray) -> Predictions:
        """Labels at the threshold; bands: high from `high`, else medium from `medium`, else low.
        Plain Python for a few rows (numpy's per-call overhead dominates there), numpy for batches."""
        if len(probabilities) < NUMPY_FROM_ROWS:
            values = probabilities.tolist()
            return Predictions(values, [int(p >= self.threshold) for p in values], [self._band(p) for p in values])
        bands = np.where(probabilities >= self.high, 2, np.where(probabilities >= self.medium, 1, 0))
        return Predictions(
            probabilities.tolist(), (probabilities >= self.threshold).astype(int).tolist(), RISK_BANDS[bands].tolist()
        )

    def _band(self, probability: float) -> str:
        if probability >= self.high:
            return "high"
        return "medium" if probability >= self.medium else "low"

    def predict(self, applicants: list[Row], source: Source) -> Predictions:
        """Predictions for validated applicants, in order; listeners are notified."""
        predictions = self.classify(self.predictor.probabilities(applicants))
        if self.listeners:
            self._notify(PredictionEvent(source, self.version, self.parser.names, applicants, predictions))
        return predictions

    def predict_rows(self, applicants: list[Row], sources: list[Source]) -> list[Prediction]:
        """Single-row requests scored in one model call (see RowCoalescer); one event per source."""
        predictions = self.classify(self.predictor.probabilities(applicants))
        if self.listeners:
            for source in dict.fromkeys(sources):
                rows = [i for i, s in enumerate(sources) if s == source]
                chosen = [applicants[i] for i in rows]
                self._notify(PredictionEvent(source, self.version, self.parser.names, chosen, predictions.take(rows)))
        return list(predictions)

    def explain(self, applicant: Row) -> list[Factor]:
        """The top features by |contribution|, largest first."""
        contributions = self.predictor.contributions(applicant)
        ranked = sorted(contributions.items(), key=lambda item: abs(item[1]), reverse=True)
        values = self.parser.record(applicant)
        return [Factor(name, values[name], value) for name, value in ranked[: self.top_factors]]

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
