"""GET /metrics: Prometheus text with route templates, labels, batch sizes and the model."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

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
