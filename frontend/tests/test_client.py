"""The HTTP client: friendly exceptions for every way the backend can fail, real answers when it works."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from analyst_ui.client import (
    BackendClient,
    BackendFailed,
    BackendNotReady,
    BackendRejected,
    BackendTimeout,
    BackendUnreachable,
    Problem,
)
from analyst_ui.settings import Settings
from tests.kit.api_keys import UNUSED_KEY
from tests.kit.backend import BackendProcess


def client_for(target: BackendProcess | str, **timeouts: float) -> BackendClient:
    """A client of a backend process (with its key) or of a URL (with a key nothing checks)."""
    if isinstance(target, str):
        return BackendClient(Settings(BACKEND_URL=target, BACKEND_API_KEY=UNUSED_KEY, **timeouts))
    return BackendClient(Settings(BACKEND_URL=target.url, BACKEND_API_KEY=target.key, **timeouts))


def test_a_stopped_backend_is_unreachable_with_a_friendly_message(closed_url: str) -> None:
    with pytest.raises(BackendUnreachable) as caught:
        client_for(closed_url).schema()
    assert caught.value.message.startswith(f"The scoring service at {closed_url} is not reachable")
    assert "Traceback" not in caught.value.message


def test_a_hung_backend_times_out_quickly(stalled_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(BackendTimeout, match=r"did not answer within 0\.5 s"):
        client_for(stalled_url, BACKEND_TIMEOUT=0.5).predict({"a": 1})
    assert time.monotonic() - started < 5


def test_status_of_a_hung_backend_says_so_without_raising(stalled_url: str) -> None:
    status = client_for(stalled_url, BACKEND_STATUS_TIMEOUT=0.3).status()
    assert (status.reachable, status.ready, status.model_version) == (False, False, None)
    assert "did not answer within 0.3 s" in status.message


def test_a_proxy_error_page_means_unavailable(answering_server: Callable[..., str]) -> None:
    url = answering_server(502, "text/html", b"<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(BackendUnreachable, match=r"unavailable \(HTTP 502\)"):
        client_for(url).model_card()


def test_a_server_error_is_reported_with_its_detail(answering_server: Callable[..., str]) -> None:
    url = answering_server(500, "application/json", json.dumps({"detail": "disk full", "errors": []}).encode())
    with pytest.raises(BackendFailed, match=r"failed \(HTTP 500\): disk full"):
        client_for(url).schema()


def test_an_unreadable_success_is_a_failure_not_a_crash(answering_server: Callable[..., str]) -> None:
    url = answering_server(200, "text/html", b"<html>hello</html>")
    with pytest.raises(BackendFailed, match="unreadable answer to /schema"):
        client_for(url).schema()


def test_not_ready_uses_the_reason(answering_server: Callable[..., str]) -> None:
    body = json.dumps({"status": "not_ready", "reason": "no bundle at /models/x"}).encode()
    url = answering_server(503, "application/json", body)
    with pytest.raises(BackendNotReady, match="no model ready: no bundle at /models/x"):
        client_for(url).schema()


@pytest.mark.slow
def test_status_of_a_real_backend(backend, catboost_bundle: Path) -> None:
    version = json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    status = client_for(backend).status()
    assert (status.reachable, status.ready, status.color, status.model_version) == (True, True, "green", version)


@pytest.mark.slow
def test_predict_schema_and_plot_of_a_real_backend(backend, catboost_bundle: Path) -> None:
    client = client_for(backend)
    schema = client.schema()
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    assert [f["name"] for f in schema["features"]] == [f["name"] for f in metadata["features"]]
    answer = client.predict(schema["example"])
    assert 0.0 <= answer["probability_default"] <= 1.0
    assert answer["risk_band"] in ("low", "medium", "high")
    assert client.plot("roc_curve").startswith(b"\x89PNG")


@pytest.mark.slow
def test_refused_applicant_names_the_field(backend) -> None:
    client = client_for(backend)
    applicant = {**client.schema()["example"], "duration_in_month": "long"}
    with pytest.raises(BackendRejected) as caught:
        client.predict(applicant)
    assert caught.value.status_code == 422
    assert [p.field for p in caught.value.problems] == ["duration_in_month"]


@pytest.mark.slow
def test_an_unknown_plot_is_a_refusal(backend) -> None:
    with pytest.raises(BackendRejected, match="no plot named"):
        client_for(backend).plot("nope")


@pytest.mark.slow
def test_csv_batch_gives_the_backends_scored_csv(backend) -> None:
    client = client_for(backend)
    schema = client.schema()
    names = [f["name"] for f in schema["features"]]
    body = (",".join(names) + "\n" + ",".join(str(schema["example"][n]) for n in names) + "\n").encode()
    scored = client.predict_csv(body)
    direct = requests.post(
        f"{backend.url}/predict/batch?explain=true",
        data=body,
        headers={**backend.headers, "Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=30,
    )
    # the same CSV with the principal reasons, up to its last two columns (scored_at and prediction_id: each
    # request's own)
    assert [line.rsplit(",", 2)[0] for line in scored.content.decode().splitlines()] == [
        line.rsplit(",", 2)[0] for line in direct.text.splitlines()
    ]
    assert "reason_1" in direct.text.splitlines()[0] and "Checking account" in scored.content.decode()
    assert (scored.model_version, scored.color) == (client.status().model_version, "green")


@pytest.mark.slow
def test_bad_csv_lists_row_and_column_problems(backend) -> None:
    client = client_for(backend)
    schema = client.schema()
    names = [f["name"] for f in schema["features"]]
    row = [str(schema["example"][n]) for n in names]
    row[names.index("credit_amount")] = "lots"
    with pytest.raises(BackendRejected) as caught:
        client.predict_csv((",".join(names) + "\n" + ",".join(row) + "\n").encode())
    assert caught.value.status_code == 422
    assert [(p.row, p.field) for p in caught.value.problems] == [(0, "credit_amount")]
    assert isinstance(caught.value.problems[0], Problem)


def test_monitoring_without_its_log_says_monitoring_is_unavailable(answering_server: Callable[..., str]) -> None:
    body = json.dumps({"detail": "the prediction log is disabled (PREDICTION_LOG_ENABLED=false)", "errors": []})
    url = answering_server(503, "application/json", body.encode())
    with pytest.raises(BackendNotReady) as caught:
        client_for(url).monitoring_summary("1h")
    assert caught.value.message == (
        "Monitoring is unavailable: the prediction log is disabled (PREDICTION_LOG_ENABLED=false)."
    )


def test_a_backend_without_monitoring_is_explained(answering_server: Callable[..., str]) -> None:
    url = answering_server(404, "application/json", b'{"detail": "Not Found"}')
    with pytest.raises(BackendRejected, match=r"has no monitoring endpoint \(HTTP 404\): it may run an older version"):
        client_for(url).monitoring_summary("1h")


@pytest.mark.slow
def test_a_window_the_backend_refuses_is_named(backend) -> None:
    with pytest.raises(BackendRejected) as caught:
        client_for(backend).monitoring_summary("2y")
    assert caught.value.status_code == 422
    assert caught.value.message.startswith("The scoring service refused the window '2y': ")
    assert caught.value.problems == []  # the message says it all: no table of one row


@pytest.mark.slow
def test_monitoring_summary_of_a_real_backend(backend) -> None:
    summary = client_for(backend).monitoring_summary("15m")
    assert (summary["window"], summary["window_seconds"]) == ("15m", 900)
    assert summary["count"] == sum(bucket["count"] for bucket in summary["volume"])
