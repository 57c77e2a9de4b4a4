"""The scoring service: labels and bands from the bundle, top factors, and the prediction seam."""

from pathlib import Path
from typing import Any

import pytest

from app.core.bundle import read_bundle
from app.core.predictors import build_predictor
from app.core.scoring import PredictionEvent, ScoringService

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
    assert [service.risk_band(p) for p in (0.0, medium - 1e-9, medium, high - 1e-9, high, 1.0)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_labels_use_the_threshold_and_agree_with_the_bands(service: ScoringService, applicants: list) -> None:
    predictions = service.predict(applicants, "batch")
    assert {p.label for p in predictions} == {0, 1}
    for prediction in predictions:
        assert prediction.label == int(prediction.probability >= service.threshold)
        assert (prediction.risk_band == "high") == (prediction.label == 1)  # high starts at the threshold


def test_listeners_see_every_prediction(
    service: ScoringService, events: list[PredictionEvent], applicants: list[dict[str, Any]]
) -> None:
    events.clear()
    single = service.predict(applicants[:1], "single")
    batch = service.predict(applicants[:3], "batch")
    assert [(e.source, e.model_version, len(e.applicants)) for e in events] == [
        ("single", service.version, 1),
        ("batch", service.version, 3),
    ]
    assert list(events[0].predictions) == single and list(events[1].predictions) == batch
    assert events[1].applicants[2] == applicants[2]


def test_a_failing_listener_never_fails_a_prediction(service: ScoringService, applicants: list) -> None:
    def broken(event: PredictionEvent) -> None:
        raise RuntimeError("disk full")

    service.listeners.append(broken)
    try:
        assert len(service.predict(applicants[:2], "batch")) == 2
    finally:
        service.listeners.remove(broken)


def test_top_factors_are_the_largest_contributions_first(service: ScoringService, applicants: list) -> None:
    applicant = applicants[4]
    factors = service.explain(applicant)
    contributions = service.predictor.contributions(applicant)
    largest = sorted(contributions, key=lambda name: abs(contributions[name]), reverse=True)[:4]
    assert [f.feature for f in factors] == largest
    assert all(f.value == applicant[f.feature] and f.contribution == contributions[f.feature] for f in factors)


def test_self_test_passes_on_a_trained_bundle(service: ScoringService) -> None:
    service.self_test()
