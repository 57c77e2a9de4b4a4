"""GET /metrics: Prometheus text with route templates, labels, batch sizes and the model."""

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

pytestmark = pytest.mark.slow


def test_metrics_after_some_traffic(serve: Callable, catboost_bundle: Path, applicants: list) -> None:
    with serve(catboost_bundle, DEPLOY_COLOR="green") as client:
        client.post("/predict?explain=false", json=applicants[0])
        client.post("/predict/batch", json=applicants[:20])
        client.post("/predict", json={})
        client.get("/model/plots/roc_curve")
        client.get("/no/such/page")
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="/model/plots/{name}",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'http_errors_total{route="/predict",status="422"} 1.0' in text
    assert 'http_request_duration_seconds_count{method="POST",route="/predict/batch",status="200"} 1.0' in text
    assert "prediction_batch_rows_sum 20.0" in text
    single = [line for line in text.splitlines() if line.startswith("predictions_total{") and 'source="single"' in line]
    batch = [line for line in text.splitlines() if line.startswith("predictions_total{") and 'source="batch"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in single) == 1
    assert sum(float(line.rsplit(" ", 1)[1]) for line in batch) == 20
    version = json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    assert f'model_info{{algorithm="catboost",color="green",name="credit-default",version="{version}"}} 1.0' in text
    assert "model_ready 1.0" in text


class BlockingCollector(Collector):
    """A collector slow as a scrape over a long prediction log: it waits (up to 10 s) for another request to
    have been answered."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.other_answered = threading.Event()
        self.saw_other_answer = False

    def collect(self) -> Iterator[Metric]:
        self.started.set()
        self.saw_other_answer = self.other_answered.wait(10)
        yield from ()


def test_a_slow_scrape_does_not_hold_up_other_requests(catboost_client: TestClient) -> None:
    collector = BlockingCollector()
    registry = catboost_client.app.state.metrics.registry
    registry.register(collector)
    try:
        scrape = threading.Thread(target=lambda: catboost_client.get("/metrics"))
        scrape.start()
        assert collector.started.wait(10)
        assert catboost_client.get("/health").status_code == 200
        collector.other_answered.set()
        scrape.join(15)
    finally:
        registry.unregister(collector)
    assert collector.saw_other_answer, "/health waited for the scrape to finish"
