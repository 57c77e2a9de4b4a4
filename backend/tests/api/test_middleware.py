"""Deployment headers on every answer to an authenticated caller, the forwarded prefix, and JSON for unexpected
errors."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collections.abc import Callable


def headers_of(response) -> tuple[str, str]:
    return response.headers["x-deployment-color"], response.headers["x-model-version"]


def test_headers_without_a_model_say_none(unloaded: Callable) -> None:
    client = unloaded(DEPLOY_COLOR="green")
    for response in (client.get("/health"), client.get("/ready"), client.post("/predict", json={}), client.get("/x")):
        assert headers_of(response) == ("green", "none")


@pytest.mark.slow
def test_headers_on_every_kind_of_answer(catboost_client: TestClient, catboost_bundle: Path, example: dict) -> None:
    version = json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    answers = [
        catboost_client.get("/health"),
        catboost_client.post("/predict", json=example),
        catboost_client.post("/predict", json={}),
        catboost_client.post("/predict", content=b"{", headers={"content-type": "application/json"}),
        catboost_client.get("/model/plots/nope"),
        catboost_client.get("/predict"),
        catboost_client.get("/metrics"),
        catboost_client.get("/docs"),
        catboost_client.get("/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 422, 400, 404, 405, 200, 200, 200]
    assert all(headers_of(r) == ("blue", version) for r in answers)


def test_routing_errors_use_the_error_shape_and_keep_allow(unloaded: Callable) -> None:
    client = unloaded()
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found", "errors": []}
    wrong_method = client.get("/predict")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"


def test_an_unexpected_error_is_a_json_500_with_headers(unloaded: Callable) -> None:
    client = unloaded(DEPLOY_COLOR="green")

    @client.app.get("/explode")
    async def explode() -> None:
        raise RuntimeError("boom")

    client = TestClient(client.app, raise_server_exceptions=False, headers=client.headers)
    response = client.get("/explode")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "errors": []}
    assert headers_of(response) == ("green", "none")


@pytest.mark.parametrize(
    "prefix, root", [("/api", "/api"), ("/api/", "/api"), ("/a/b", "/a/b"), ("javascript:x", ""), ("/x y", "")]
)
def test_forwarded_prefix_becomes_the_root_path(unloaded: Callable, prefix: str, root: str) -> None:
    client = unloaded()
    docs = client.get("/docs", headers={"x-forwarded-prefix": prefix})
    assert docs.status_code == 200 and f"url: '{root}/openapi.json'" in docs.text
    servers = client.get("/openapi.json", headers={"x-forwarded-prefix": prefix}).json().get("servers")
    assert servers == ([{"url": root}] if root else None)
    assert client.get("/health", headers={"x-forwarded-prefix": prefix}).status_code == 200


def test_direct_docs_have_no_prefix(unloaded: Callable) -> None:
    client = unloaded()
    assert "url: '/openapi.json'" in client.get("/docs").text


def test_scoring_routes_match_under_the_forwarded_prefix_like_the_others(unloaded: Callable) -> None:
    """Reached as /api/predict with X-Forwarded-Prefix: /api, the route matches (503: no model here)."""
    client = unloaded()
    for path in ("/api/predict", "/api/predict/batch"):
        assert client.post(path, json={}, headers={"x-forwarded-prefix": "/api"}).status_code == 503
    assert client.get("/api/health", headers={"x-forwarded-prefix": "/api"}).status_code == 200


def test_anonymous_callers_get_no_deployment_headers(unloaded: Callable) -> None:
    client = unloaded(DEPLOY_COLOR="green")
    for path in ("/health", "/ready", "/schema", "/docs", "/nowhere"):
        response = client.get(path, headers={"Authorization": ""})
        assert "x-deployment-color" not in response.headers and "x-model-version" not in response.headers, path
