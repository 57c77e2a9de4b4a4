"""Prometheus metrics: one registry per app, route templates, labels, model info."""

from app.core.metrics import Metrics
from app.core.scoring import Predictions, PredictionEvent
from app.core.state import ModelState


def scrape(metrics: Metrics) -> str:
    return metrics.render().decode()


def test_each_instance_has_its_own_registry() -> None:
    first, second = Metrics(ModelState("blue")), Metrics(ModelState("green"))
    first.observe_request("/predict", "POST", 200, 0.002)
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 1.0' in scrape(first)
    assert "http_requests_total{" not in scrape(second)


def test_requests_latency_and_errors() -> None:
    metrics = Metrics(ModelState("blue"))
    for status in (200, 200, 422):
        metrics.observe_request("/predict", "POST", status, 0.003)
    text = scrape(metrics)
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 2.0' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="POST",route="/predict",status="200"} 2.0' in text
    assert 'http_errors_total{route="/predict",status="422"} 1.0' in text
    assert 'http_errors_total{route="/predict",status="200"}' not in text
    assert "_created" not in text


def test_predictions_by_label_and_batch_sizes() -> None:
    metrics = Metrics(ModelState("blue"))
    batch = Predictions([0.9, 0.1, 0.8], [1, 0, 1], ["high", "low", "high"], ["decline", "approve", "decline"])
    metrics.observe_predictions(PredictionEvent("batch", "3", ("x",), [(1,)] * 3, batch))
    metrics.observe_predictions(
        PredictionEvent("single", "3", ("x",), [(1,)], Predictions([0.1], [0], ["low"], ["approve"]))
    )
    text = scrape(metrics)
    assert 'predictions_total{label="1",source="batch"} 2.0' in text
    assert 'predictions_total{label="0",source="batch"} 1.0' in text
    assert 'predictions_total{label="0",source="single"} 1.0' in text
    assert "prediction_batch_rows_count 1.0" in text and "prediction_batch_rows_sum 3.0" in text


def test_probabilities_are_a_histogram_per_source_in_ten_bins() -> None:
    metrics = Metrics(ModelState("blue"))
    batch = Predictions([0.05, 0.1, 0.15, 0.95], [0, 0, 0, 1], ["low"] * 3 + ["high"], ["approve"] * 3 + ["decline"])
    metrics.observe_predictions(PredictionEvent("batch", "3", ("x",), [(1,)] * 4, batch))
    metrics.observe_predictions(
        PredictionEvent("probe", "3", ("x",), [(1,)], Predictions([0.5], [0], ["low"], ["approve"]))
    )
    lines = set(scrape(metrics).splitlines())
    cumulative = {"batch": {"0.1": 2, "0.2": 3, "0.9": 3, "1": 4, "+Inf": 4}, "probe": {"0.4": 0, "0.5": 1}}  # le: <=
    for source, buckets in cumulative.items():
        for bound, count in buckets.items():
            assert f'prediction_probability_bucket{{le="{bound}",source="{source}"}} {count:.1f}' in lines, (
                source,
                bound,
            )
    assert {
        'prediction_probability_count{source="batch"} 4.0',
        'prediction_probability_sum{source="batch"} 1.25',
    } <= lines


def test_model_info_follows_the_state() -> None:
    state = ModelState("green")
    metrics = Metrics(state)
    assert 'model_info{algorithm="none",color="green",name="none",version="none"} 1.0' in scrape(metrics)
    assert "model_ready 0.0" in scrape(metrics)
