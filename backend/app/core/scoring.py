"""The scoring service: the one place predictions are produced (and can be observed).

Listeners (a list shared with the model state) receive every prediction (validated inputs and
results) right after it is made, single or batch: the seam for prediction logging and drift.
A failing listener is logged and never fails the prediction.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from app.auth.callers import Caller
from app.core.applicant import ApplicantParser, Row
from app.core.bundle import Bundle, BundleError
from app.core.decisions import DecisionPolicy
from app.core.predictors import Predictor
from app.core.reasons import ReasonWriter

logger = logging.getLogger(__name__)

# probe: deployment checks (X-Traffic-Source: probe); shadow: nginx's copy of a live request to the idle color
# (X-Shadow-Of), scored but never counted as served
Source = Literal["single", "batch", "probe", "shadow"]


@dataclass(frozen=True, slots=True)
class Prediction:
    probability: float
    label: int
    risk_band: str
    decision: str  # the name of the decision policy's outcome
    # "<request key>-<index>": what outcomes name (POST /outcomes); an identity, not a result (left out of ==)
    prediction_id: str = field(default="", compare=False)


def new_prediction_key() -> str:
    """A random key for one request's predictions (uuid4, hex): its applicants are "<key>-<index>"."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Predictions:
    """One request's predictions as columns (a 1,000-row batch needs no per-row objects); iterating
    yields a Prediction per applicant. `key` names the request once it is announced (one uuid per request, not per
    applicant: cheap on the request path); applicant i's id is "<key>-<i>"."""

    probabilities: list[float]
    labels: list[int]
    risk_bands: list[str]
    decisions: list[str]
    key: str = field(default="", compare=False)

    def __len__(self) -> int:
        return len(self.probabilities)

    def __iter__(self) -> Iterator[Prediction]:
        return map(Prediction, *self.columns(), self.ids())

    def ids(self) -> list[str]:
        """Each applicant's prediction id ("<key>-<index>")."""
        return [f"{self.key}-{i}" for i in range(len(self))]

    def keyed(self) -> Predictions:
        """The same predictions under a new request key."""
        return Predictions(*self.columns(), new_prediction_key())

    def columns(self) -> tuple[list[float], list[int], list[str], list[str]]:
        return self.probabilities, self.labels, self.risk_bands, self.decisions

    def take(self, indices: list[int]) -> Predictions:
        """The predictions at these positions (without a key: announcing them gives one)."""
        return Predictions(*([column[i] for i in indices] for column in self.columns()))


RISK_BANDS = np.array(["low", "medium", "high"], dtype=object)
NUMPY_FROM_ROWS = 32


@dataclass(frozen=True, slots=True)
class Factor:
    feature: str
    value: Any
    contribution: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """One applicant's explanation: the top factors by |contribution| and the principal reasons (texts)."""

    factors: list[Factor]
    reasons: list[str]


Scored = tuple[Prediction, Explanation | None]  # one single-row request's answer (no explanation: explain=false)


@dataclass(frozen=True)
class PredictionEvent:
    """What listeners see: one request's applicants (rows of `feature_names` values) and their
    predictions, in order, and who asked (None: an internal call, e.g. the self-test)."""

    source: Source
    model_version: str
    feature_names: tuple[str, ...]
    applicants: Sequence[Row]
    predictions: Predictions  # keyed: predictions.key names the request (its applicants' ids)
    caller: Caller | None = None


PredictionListener = Callable[[PredictionEvent], None]


class ScoringService:
    """A loaded bundle: validation, probabilities, labels, risk bands, decisions, explanations and reasons.

    The decision policy and the reason table come from the bundle (derived from its threshold and bands,
    with generic wording, for bundles without them); BundleError when they do not fit its schema."""

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
        self.explains_fast = predictor.explains_fast
        meta = bundle.metadata
        try:
            strategy = meta.model_extra.get("threshold_strategy") if meta.model_extra else None
            self.policy = DecisionPolicy.of_bundle(meta.decision_policy, self.threshold, self.medium, strategy)
            self.reason_writer = ReasonWriter.of_bundle(meta.reason_codes, meta.ordered_features())
        except ValueError as exc:
            raise BundleError(str(exc)) from None

    def classify(self, probabilities: np.ndarray) -> Predictions:
        """Labels at the threshold; bands: high from `high`, else medium from `medium`, else low; the
        policy's outcome. Plain Python for a few rows (numpy's per-call overhead dominates there), numpy
        for batches."""
        if len(probabilities) < NUMPY_FROM_ROWS:
            values = probabilities.tolist()
            return Predictions(
                values,
                [int(p >= self.threshold) for p in values],
                [self._band(p) for p in values],
                [self.policy.decide_one(p) for p in values],
            )
        bands = np.where(probabilities >= self.high, 2, np.where(probabilities >= self.medium, 1, 0))
        return Predictions(
            probabilities.tolist(),
            (probabilities >= self.threshold).astype(int).tolist(),
            RISK_BANDS[bands].tolist(),
            self.policy.decide(probabilities),
        )

    def _band(self, probability: float) -> str:
        if probability >= self.high:
            return "high"
        return "medium" if probability >= self.medium else "low"

    def predict(self, applicants: list[Row], source: Source, caller: Caller | None = None) -> Predictions:
        """Predictions for validated applicants, in order; listeners are notified."""
        return self._announce(source, applicants, self.classify(self.predictor.probabilities(applicants)), caller)

    def predict_explained(
        self, applicants: list[Row], source: Source, caller: Caller | None = None
    ) -> tuple[Predictions, np.ndarray]:
        """Predictions and contributions (rows x features in the model's column order) from one model
        input; listeners are notified."""
        probabilities, contributions = self.predictor.explain(applicants)
        return self._announce(source, applicants, self.classify(probabilities), caller), contributions

    def _announce(
        self, source: Source, applicants: list[Row], predictions: Predictions, caller: Caller | None
    ) -> Predictions:
        """The predictions under a new request key (their ids), after listeners saw them."""
        predictions = predictions.keyed()
        if self.listeners:
            self._notify(PredictionEvent(source, self.version, self.parser.names, applicants, predictions, caller))
        return predictions

    def reasons(self, applicants: list[Row], contributions: np.ndarray) -> list[list[str]]:
        """The principal reasons of each applicant (see app.core.reasons)."""
        return self.reason_writer.reasons(applicants, contributions)

    def predict_rows(
        self,
        applicants: list[Row],
        sources: list[Source],
        explain: bool = False,
        callers: list[Caller | None] | None = None,
    ) -> list[Scored]:
        """Single-row requests scored (and explained) in one model call (see RowCoalescer); one event (and request
        key) per source and caller."""
        if explain:
            probabilities, contributions = self.predictor.explain(applicants)
        else:
            probabilities, contributions = self.predictor.probabilities(applicants), None
        predictions = self.classify(probabilities)
        origins = list(zip(sources, callers or [None] * len(sources)))
        distinct = list(dict.fromkeys(origins))
        if len(distinct) == 1:  # the usual case: one request, or requests of one caller and source
            ordered = list(self._announce(distinct[0][0], applicants, predictions, distinct[0][1]))
        else:
            keyed: dict[int, Prediction] = {}
            for source, caller in distinct:
                rows = [i for i, o in enumerate(origins) if o == (source, caller)]
                group = self._announce(source, [applicants[i] for i in rows], predictions.take(rows), caller)
                keyed.update(zip(rows, group))
            ordered = [keyed[row] for row in range(len(applicants))]
        if contributions is None:
            return [(prediction, None) for prediction in ordered]
        return list(zip(ordered, self.explanations(applicants, contributions)))

    def predict_one(self, applicant: Row, source: Source, explain: bool, caller: Caller | None = None) -> Scored:
        """One applicant, scored and (if asked) explained on its own."""
        if not explain:
            (prediction,) = self.predict([applicant], source, caller)
            return prediction, None
        predictions, contributions = self.predict_explained([applicant], source, caller)
        return next(iter(predictions)), self.explanations([applicant], contributions)[0]

    def explanations(self, applicants: list[Row], contributions: np.ndarray) -> list[Explanation]:
        """Top factors (largest |contribution| first) and principal reasons of each applicant."""
        reasons = self.reasons(applicants, contributions)
        ranked = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, : self.top_factors].tolist()
        names, values = self.parser.names, contributions.tolist()
        return [
            Explanation([Factor(names[c], applicant[c], row_values[c]) for c in columns], row_reasons)
            for applicant, columns, row_values, row_reasons in zip(applicants, ranked, values, reasons)
        ]

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
            probabilities, contributions = self.predictor.explain([applicant])
            self.explanations([applicant], contributions)
        except Exception as exc:
            raise BundleError(f"self-test prediction failed: {type(exc).__name__}: {exc}") from None
        probability = float(probabilities[0])
        if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
            raise BundleError(f"self-test probability {probability!r} is not in [0, 1]")
        if contributions.shape != (1, len(self.parser.names)) or not np.all(np.isfinite(contributions)):
            raise BundleError("self-test explanation does not cover every feature with finite values")
