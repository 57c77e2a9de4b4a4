"""The app as its image runs it: `python -m app` from backend/, settings from the environment."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.main import create_app

pytestmark = pytest.mark.slow


def test_factory_apps_are_independent() -> None:
    app, other = create_app(), create_app()
    assert other.state.metrics.registry is not app.state.metrics.registry
    assert other.state.model is not app.state.model


def test_a_real_process_serves_the_bundle(live_catboost, example: dict) -> None:
    response = httpx.post(f"{live_catboost.url}/predict", json=example, headers=live_catboost.headers, timeout=10)
    assert response.status_code == 200 and 0 <= response.json()["probability_default"] <= 1
    assert response.headers["x-deployment-color"] == "green" and response.json()["color"] == "green"
    batch = httpx.post(
        f"{live_catboost.url}/predict/batch", json=[example] * 3, headers=live_catboost.headers, timeout=10
    ).json()
    assert [p["probability_default"] for p in batch["predictions"]] == [response.json()["probability_default"]] * 3


def test_docs_behind_the_proxy_prefix(live_catboost) -> None:
    """nginx strips /api/ and sends X-Forwarded-Prefix: /api; the page then loads /api/openapi.json."""
    proxied = {"x-forwarded-prefix": "/api"}
    docs = httpx.get(f"{live_catboost.url}/docs", headers=proxied, timeout=10)
    assert docs.status_code == 200 and "url: '/api/openapi.json'" in docs.text
    document = httpx.get(f"{live_catboost.url}/openapi.json", headers=proxied, timeout=10).json()
    assert document["servers"] == [{"url": "/api"}] and "/predict" in document["paths"]
    assert "url: '/openapi.json'" in httpx.get(f"{live_catboost.url}/docs", timeout=10).text


def test_without_a_bundle_the_process_stays_up_and_says_why(start_live_server: Callable, tmp_path: Path) -> None:
    with start_live_server(tmp_path / "absent") as server:
        assert server.wait_for("/ready", 503).json() == {"status": "not_ready"}, "anonymous: no reason"
        reason = httpx.get(f"{server.url}/ready", headers=server.headers, timeout=10).json()["reason"]
        assert str(tmp_path / "absent") in reason
        refused = httpx.post(f"{server.url}/predict", json={}, headers=server.headers, timeout=10)
        assert refused.status_code == 503 and refused.json()["detail"] == reason
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        assert server.process.poll() is None
    assert "Application shutdown complete" in server.log.read_text()  # SIGTERM: a graceful shutdown
