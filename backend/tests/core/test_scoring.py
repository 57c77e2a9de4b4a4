"""The scoring service: labels and bands from the bundle, top factors, and the prediction seam."""

from pathlib import Path

import numpy as np
import pytest

from app.core.bundle import read_bundle
from app.core.predictors import build_predictor
from app.core.scoring import NUMPY_FROM_ROWS, PredictionEvent, Predictions, ScoringService

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def events() -> list[PredictionEvent]:
    return []


@pytest.fixture(scope="module")
def service(catboost_bundle: Path, events: list[PredictionEvent]) -> ScoringService:
    bundle = read_bundle(catboost_bundle)
    return ScoringService(bundle, build_predictor(bundle), [events.append], top_factors=4)


def test_risk_bands_follow_the_bundle_cut_points(service: ScoringService) -> None:
    medium, high = service.medium, service.high
    cut_points = np.array([0.0, medium - 1e-9, medium, high - 1e-9, high, 1.0])
    assert service.classify(cut_points).risk_bands == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_many_rows_are_classified_like_a_few(service: ScoringService) -> None:
    """Batches take the numpy path, a few rows plain Python: the same labels and bands."""
    few = np.array([0.0, service.medium, service.threshold - 1e-9, service.threshold, service.high, 0.99])
    many = np.tile(few, 20)
    assert len(few) < NUMPY_FROM_ROWS <= len(many)
    assert service.classify(many) == Predictions(*(column * 20 for column in service.classify(few).columns()))


def test_rows_scored_together_answer_as_alone_with_one_event_per_source(
    service: ScoringService, events: list[PredictionEvent], applicant_rows: list[tuple]
) -> None:
    events.clear()
    rows, sources = applicant_rows[:4], ["single", "probe", "single", "single"]
    together = service.predict_rows(rows, sources)
    alone = [service.predict([row], "single") for row in rows]
    assert together == [next(iter(predictions)) for predictions in alone[:4]]
    single, probe = events[0], events[1]
    assert (single.source, probe.source) == ("single", "probe")
    assert single.applicants == [rows[0], rows[2], rows[3]] and probe.applicants == [rows[1]]
    assert list(single.predictions) == [together[0], together[2], together[3]]
    assert list(probe.predictions) == [together[1]]


def test_labels_use_the_threshold_and_agree_with_the_bands(service: ScoringService, applicant_rows: list) -> None:
    predictions = service.predict(applicant_rows, "batch")
    assert {p.label for p in predictions} == {0, 1}
    for prediction in predictions:
        assert prediction.label == int(prediction.probability >= service.threshold)
        assert (prediction.risk_band == "high") == (prediction.label == 1)  # high starts at the threshold


def test_listeners_see_every_prediction(
    service: ScoringService, events: list[PredictionEvent], applicant_rows: list[tuple]
) -> None:
    events.clear()
    single = service.predict(applicant_rows[:1], "single")
    batch = service.predict(applicant_rows[:3], "batch")
    assert [(e.source, e.model_version, len(e.applicants)) for e in events] == [
        ("single", service.version, 1),
        ("batch", service.version, 3),
    ]
    assert events[0].predictions == single and events[1].predictions == batch
    assert events[1].applicants[2] == applicant_rows[2]


def test_a_failing_listener_never_fails_a_prediction(service: ScoringService, applicant_rows: list) -> None:
    def broken(event: PredictionEvent) -> None:
        raise RuntimeError("disk full")

    service.listeners.append(broken)
    try:
        assert len(service.predict(applicant_rows[:2], "batch")) == 2
    finally:
        service.listeners.remove(broken)


def test_top_factors_are_the_largest_contributions_first(service: ScoringService, applicant_rows: list) -> None:
    applicant = applicant_rows[4]
    factors = service.explain(applicant)
    contributions = service.predictor.contributions(applicant)
    largest = sorted(contributions, key=lambda name: abs(contributions[name]), reverse=True)[:4]
    assert [f.feature for f in factors] == largest
    values = service.parser.record(applicant)
    assert all(f.value == values[f.feature] and f.contribution == contributions[f.feature] for f in factors)


def test_self_test_passes_on_a_trained_bundle(service: ScoringService) -> None:
    service.self_test()
