"""The scoring service: labels, bands and decisions from the bundle, top factors, reasons, the prediction seam."""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.core.bundle import BundleError, read_bundle
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


def test_decisions_follow_the_bundles_cut_offs_at_their_edges(service: ScoringService, catboost_bundle: Path) -> None:
    outcomes = json.loads((catboost_bundle / "metadata.json").read_text())["decision_policy"]["outcomes"]
    assert [o["name"] for o in outcomes] == ["approve", "refer", "decline"] and not service.policy.derived
    assert (outcomes[1]["from"], outcomes[2]["from"]) == (service.medium, service.threshold)
    edges = [o["from"] for o in outcomes[1:]]
    probabilities = np.array([0.0, *(p for edge in edges for p in (np.nextafter(edge, 0), edge)), 1.0])
    expected = ["approve", "approve", "refer", "refer", "decline", "decline"]
    assert service.classify(probabilities).decisions == expected
    assert service.classify(np.tile(probabilities, 10)).decisions == expected * 10  # the numpy path


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
    together = [prediction for prediction, _ in service.predict_rows(rows, sources)]
    alone = [service.predict([row], "single") for row in rows]
    assert together == [next(iter(predictions)) for predictions in alone[:4]]
    single, probe = events[0], events[1]
    assert (single.source, probe.source) == ("single", "probe")
    assert single.applicants == [rows[0], rows[2], rows[3]] and probe.applicants == [rows[1]]
    assert list(single.predictions) == [together[0], together[2], together[3]]
    assert list(probe.predictions) == [together[1]]


def test_explained_rows_scored_together_answer_as_alone(service: ScoringService, applicant_rows: list[tuple]) -> None:
    rows = applicant_rows[10:16]
    together = service.predict_rows(rows, ["single"] * len(rows), explain=True)
    for row, (prediction, explanation) in zip(rows, together):
        alone_prediction, alone_explanation = service.predict_one(row, "single", True)
        assert prediction == alone_prediction and explanation is not None and alone_explanation is not None
        assert explanation.reasons == alone_explanation.reasons
        assert [f.feature for f in explanation.factors] == [f.feature for f in alone_explanation.factors]
        np.testing.assert_allclose(
            [f.contribution for f in explanation.factors],
            [f.contribution for f in alone_explanation.factors],
            atol=1e-12,
        )
    assert all(explanation is None for _, explanation in service.predict_rows(rows, ["single"] * len(rows)))


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


def test_top_factors_and_reasons_come_from_the_largest_contributions(
    service: ScoringService, applicant_rows: list
) -> None:
    applicant = applicant_rows[4]
    _, explanation = service.predict_one(applicant, "single", True)
    _, (contributions,) = service.predictor.explain([applicant])
    by_name = dict(zip(service.parser.names, contributions.tolist()))
    largest = sorted(by_name, key=lambda name: abs(by_name[name]), reverse=True)[:4]
    assert [f.feature for f in explanation.factors] == largest
    values = service.parser.record(applicant)
    assert all(f.value == values[f.feature] and f.contribution == by_name[f.feature] for f in explanation.factors)
    adverse = sorted((name for name in by_name if by_name[name] > 0), key=by_name.get, reverse=True)[:4]
    texts = service.bundle.raw["reason_codes"]["features"]
    assert len(explanation.reasons) == len(adverse) > 0
    for name, reason in zip(adverse, explanation.reasons):  # each reason is its feature's text for the value
        entry = texts[name]
        if entry["type"] == "categorical":
            assert reason == entry["categories"][values[name]]
        else:
            assert str(values[name]) in reason or reason.startswith(entry["label"])


def test_a_bundle_whose_policy_leaves_a_gap_is_refused(
    catboost_bundle: Path, bundle_copy: Callable, service: ScoringService
) -> None:
    def gap(metadata: dict) -> None:
        metadata["decision_policy"]["outcomes"][1]["from"] += 0.01

    bundle = read_bundle(bundle_copy(catboost_bundle, gap))
    with pytest.raises(BundleError, match="decision_policy: outcome 'refer' does not start where 'approve' ends"):
        ScoringService(bundle, service.predictor, [])


def test_self_test_passes_on_a_trained_bundle(service: ScoringService) -> None:
    service.self_test()


def test_each_request_gets_its_own_key_and_each_applicant_its_own_id(
    service: ScoringService, events: list[PredictionEvent], applicant_rows: list[tuple]
) -> None:
    events.clear()
    batch = service.predict(applicant_rows[:3], "batch")
    assert batch.ids() == [f"{batch.key}-{i}" for i in range(3)] and len(batch.key) == 32
    assert events[-1].predictions.key == batch.key, "listeners (the log) see the key the answer gives"
    rows, sources = applicant_rows[:4], ["single", "probe", "single", "single"]
    together = [prediction.prediction_id for prediction, _ in service.predict_rows(rows, sources)]
    single, probe = events[-2], events[-1]
    assert together == [f"{single.predictions.key}-0", f"{probe.predictions.key}-0"] + [
        f"{single.predictions.key}-{i}" for i in (1, 2)
    ]
    assert len({batch.key, single.predictions.key, probe.predictions.key}) == 3
