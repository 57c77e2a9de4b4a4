"""GET /monitoring/summary and the drift gauges: logged predictions, drift, and logging faults."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.monitoring.prediction_log import PredictionLog
from deploy.api_keys import ApiKeyStore
from tests.kit.api_keys import bearer
from tests.kit.applicants import LONGER_LARGER_LOANS, shifted_population

pytestmark = pytest.mark.slow


def wait_for_count(client: TestClient | httpx.Client, expected: int, timeout_s: float = 10.0) -> dict[str, Any]:
    """The summary once the background writer has logged `expected` predictions."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get("/monitoring/summary?window=15m").json()
        if body["count"] >= expected or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def metric_value(text: str, prefix: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.rsplit(" ", 1)[1])


def test_every_prediction_is_logged_and_summarised(serve: Callable, catboost_bundle: Path, applicants: list) -> None:
    with serve(catboost_bundle, DEPLOY_COLOR="green") as client:
        assert client.get("/monitoring/summary").json()["count"] == 0
        for applicant in applicants[:5]:
            assert client.post("/predict?explain=false", json=applicant).status_code == 200
        batch = client.post("/predict/batch", json=applicants[5:100]).json()
        body = wait_for_count(client, 100)
        records = client.app.state.monitoring.log.since(0, include_probes=True)
    assert body["count"] == 100 and body["window"] == "15m" and body["window_seconds"] == 900
    assert sum(bucket["count"] for bucket in body["volume"]) == 100
    assert body["flagged"] == sum(bucket["flagged"] for bucket in body["volume"])
    assert body["share_flagged"] == pytest.approx(body["flagged"] / 100)
    version = json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    assert body["model_versions"] == {version: 100} and body["colors"] == {"green": 100}
    assert body["score"]["rows"] == 100 and sum(body["score"]["current"]) == pytest.approx(1)
    assert {(r.color, r.source) for r in records} == {("green", "single"), ("green", "batch")}
    assert [r.inputs for r in records[5:]] == applicants[5:100], "the validated inputs, in order"
    assert [r.probability for r in records[5:]] == pytest.approx(
        [p["probability_default"] for p in batch["predictions"]]
    )


def test_the_summary_covers_single_or_batch_traffic_apart(
    serve: Callable, catboost_bundle: Path, applicants: list
) -> None:
    """An analyst's uploaded file (a batch) can be told apart from applicants scored one at a time."""
    with serve(catboost_bundle) as client:
        for applicant in applicants[:4]:
            assert client.post("/predict?explain=false", json=applicant).status_code == 200
        assert client.post("/predict/batch", json=applicants[4:30]).status_code == 200
        everything = wait_for_count(client, 30)
        single = client.get("/monitoring/summary?window=15m&traffic=single").json()
        batch = client.get("/monitoring/summary?window=15m&traffic=batch").json()
        bad = client.get("/monitoring/summary?traffic=uploads")
    assert (everything["traffic"], everything["count"]) == ("all", 30)
    assert (single["traffic"], single["count"], batch["traffic"], batch["count"]) == ("single", 4, "batch", 26)
    assert single["flagged"] + batch["flagged"] == everything["flagged"]
    assert bad.status_code == 422 and "traffic" in bad.text


def test_a_shifted_population_drifts_and_the_training_population_does_not(
    serve: Callable, catboost_bundle: Path, random_applicants: list
) -> None:
    with serve(catboost_bundle, DRIFT_METRICS_TTL_S=0) as client:
        client.post("/predict/batch", json=random_applicants[:150])
        calm = wait_for_count(client, 150)
        features = json.loads((catboost_bundle / "metadata.json").read_text())["features"]
        client.post("/predict/batch", json=shifted_population(random_applicants[150:], features))
        drifted = wait_for_count(client, 300)
        metrics = client.get("/metrics").text
    assert calm["drifting_features"] == [] and calm["status"] == "ok"
    assert set(LONGER_LARGER_LOANS) <= set(drifted["drifting_features"])
    for name in LONGER_LARGER_LOANS:
        assert drifted["features"][name]["status"] == "alert" and drifted["features"][name]["psi"] > 0.25
    assert drifted["status"] == "alert"
    assert drifted["features"]["purpose"]["status"] == "ok", "an unshifted feature stays ok"
    assert metric_value(metrics, 'feature_drift_psi{feature="duration_in_month"}') == pytest.approx(
        drifted["features"]["duration_in_month"]["psi"]
    )
    assert metric_value(metrics, 'feature_drift_status{feature="duration_in_month"}') == 2
    assert metric_value(metrics, "monitoring_window_predictions") == 300
    assert metric_value(metrics, "score_drift_psi") >= 0


def test_deployment_probes_are_logged_but_left_out_of_the_summary(
    serve: Callable, catboost_bundle: Path, applicants: list
) -> None:
    with serve(catboost_bundle, DRIFT_METRICS_TTL_S=0) as client:
        for _ in range(3):
            response = client.post("/predict", json=applicants[0], headers={"X-Traffic-Source": "probe"})
            assert response.status_code == 200
        batch = client.post("/predict/batch", json=applicants[2:4], headers={"X-Traffic-Source": "probe"})
        assert batch.status_code == 200  # the decision-sanity gate scores its reference rows so
        client.post("/predict", json=applicants[1])
        body = wait_for_count(client, 1)
        monitoring = client.app.state.monitoring
        monitoring.log.flush()
        metrics = client.get("/metrics").text
        sources = [r.source for r in monitoring.log.since(0, include_probes=True)]
    assert sources == ["probe"] * 5 + ["single"], "every prediction is on record"
    assert body["count"] == 1 and body["score"]["rows"] == 1
    counted = [line for line in metrics.splitlines() if line.startswith("predictions_total{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counted if 'source="probe"' in line) == 5


def test_the_probe_marker_of_a_key_without_the_probe_scope_counts_as_traffic(
    serve: Callable, catboost_bundle: Path, applicants: list
) -> None:
    with serve(catboost_bundle, API_KEYS_RECHECK_S=0) as client:
        client_key = ApiKeyStore(client.app.state.settings.API_KEYS_PATH).create("a-client", ["score", "read"])
        marked = {"X-Traffic-Source": "probe", **bearer(client_key)}
        assert client.post("/predict", json=applicants[0], headers=marked).status_code == 200
        assert client.post("/predict/batch", json=applicants[1:3], headers=marked).status_code == 200
        body = wait_for_count(client, 3)
        monitoring = client.app.state.monitoring
        monitoring.log.flush()
        sources = [r.source for r in monitoring.log.since(0, include_probes=True)]
        requests = monitoring.log.requests_by("a-client", 0)
    assert sources == ["single", "batch", "batch"], "the marker of a key without the probe scope is ignored"
    assert [(r.source, r.api_key) for r in requests] == [("batch", "a-client"), ("single", "a-client")]
    assert body["count"] == 3


def test_too_few_predictions_are_insufficient_data(serve: Callable, catboost_bundle: Path, applicants: list) -> None:
    with serve(catboost_bundle, DRIFT_MIN_ROWS=50) as client:
        client.post("/predict/batch", json=applicants[:10])
        body = wait_for_count(client, 10)
    assert body["status"] == "insufficient_data" and body["score"]["status"] == "insufficient_data"
    assert body["drifting_features"] == []


@pytest.mark.parametrize("window", ["0m", "1w", "abc", "-5h", "1.5h", "9999999d"])
def test_a_bad_window_is_a_422_naming_the_parameter(catboost_client: TestClient, window: str) -> None:
    response = catboost_client.get("/monitoring/summary", params={"window": window})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["window"]
    assert "minutes, hours or days (15m, 24h, 7d)" in response.json()["errors"][0]["message"]


def test_long_windows_are_capped_at_a_year(catboost_client: TestClient) -> None:
    body = catboost_client.get("/monitoring/summary?window=999d").json()
    assert body["window_seconds"] == 366 * 86_400 and len(body["volume"]) <= 400


def test_an_unwritable_log_never_fails_a_prediction(
    serve: Callable, catboost_bundle: Path, applicants: list, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log's folder should be")
    with serve(catboost_bundle, PREDICTION_LOG_PATH=blocker / "predictions.db") as client:
        assert client.post("/predict", json=applicants[0]).status_code == 200
        assert client.post("/predict/batch", json=applicants[:7]).status_code == 200
        summary = client.get("/monitoring/summary")
        metrics = client.get("/metrics").text
    assert summary.status_code == 503 and "could not be opened" in summary.json()["detail"]
    assert metric_value(metrics, "prediction_log_failures_total") == 8


def test_a_write_failure_is_counted_and_the_predictions_still_answer(
    serve: Callable, catboost_bundle: Path, applicants: list
) -> None:
    with serve(catboost_bundle) as client:
        client.post("/predict/batch", json=applicants[:3])
        monitoring = client.app.state.monitoring
        monitoring.log.flush()
        with sqlite3.connect(monitoring.log.path) as connection:
            connection.execute("DROP TABLE prediction_requests")
        answers = [client.post("/predict?explain=false", json=a).status_code for a in applicants[:4]]
        monitoring.log.flush()
        metrics = client.get("/metrics").text
    assert answers == [200] * 4
    assert metric_value(metrics, "prediction_log_failures_total") == 4


def test_a_disabled_log_records_nothing(serve: Callable, catboost_bundle: Path, applicants: list) -> None:
    with serve(catboost_bundle, PREDICTION_LOG_ENABLED=False) as client:
        assert client.post("/predict", json=applicants[0]).status_code == 200
        response = client.get("/monitoring/summary")
        metrics = client.get("/metrics").text
        log_path = client.app.state.monitoring.log.path
    assert response.status_code == 503 and "disabled" in response.json()["detail"]
    assert metric_value(metrics, "prediction_log_failures_total") == 0
    assert not log_path.exists()


def test_no_model_means_no_summary(serve: Callable) -> None:
    with serve(None) as client:
        response = client.get("/monitoring/summary")
    assert response.status_code == 503 and "model not loaded" in response.json()["detail"]


def test_concurrent_load_on_two_worker_processes_loses_no_rows(
    start_live_server: Callable, catboost_bundle: Path, applicants: list, tmp_path: Path
) -> None:
    """Two worker processes share one SQLite file; 16 clients at once; every prediction is logged."""
    log_path = tmp_path / "shared" / "predictions.db"
    with start_live_server(catboost_bundle, PREDICTION_LOG_PATH=str(log_path), WORKERS="2") as server:
        server.wait_for_log(") ready in ", count=2)  # both workers have loaded the model
        with httpx.Client(base_url=server.url, timeout=30, headers=server.headers) as http:

            def score(index: int) -> int:
                if index % 10 == 0:
                    return http.post("/predict/batch", json=applicants[:20]).status_code
                return http.post("/predict?explain=false", json=applicants[index % 200]).status_code

            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(score, range(400)))
            assert statuses == [200] * 400
            expected = 360 + 40 * 20
            body = wait_for_count(http, expected, timeout_s=20)
    assert body["count"] == expected
    assert PredictionLog(log_path, retention_days=30).count() == expected
