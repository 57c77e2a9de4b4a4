"""Deployment headers on every answer, the forwarded prefix, and JSON for unexpected errors."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app


def headers_of(response) -> tuple[str, str]:
    return response.headers["x-deployment-color"], response.headers["x-model-version"]


def test_headers_without_a_model_say_none() -> None:
    client = TestClient(create_app(Settings(SERVED_BUNDLE=Path("unused"), DEPLOY_COLOR="green")))
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


def test_routing_errors_use_the_error_shape_and_keep_allow() -> None:
    client = TestClient(create_app(Settings(SERVED_BUNDLE=Path("unused"))))
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found", "errors": []}
    wrong_method = client.get("/predict")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"


def test_an_unexpected_error_is_a_json_500_with_headers() -> None:
    app = create_app(Settings(SERVED_BUNDLE=Path("unused"), DEPLOY_COLOR="green"))

    @app.get("/explode")
    async def explode() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/explode")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "errors": []}
    assert headers_of(response) == ("green", "none")


@pytest.mark.parametrize(
    "prefix, root", [("/api", "/api"), ("/api/", "/api"), ("/a/b", "/a/b"), ("javascript:x", ""), ("/x y", "")]
)
def test_forwarded_prefix_becomes_the_root_path(prefix: str, root: str) -> None:
    client = TestClient(create_app(Settings(SERVED_BUNDLE=Path("unused"))))
    docs = client.get("/docs", headers={"x-forwarded-prefix": prefix})
    assert docs.status_code == 200 and f"url: '{root}/openapi.json'" in docs.text
    servers = client.get("/openapi.json", headers={"x-forwarded-prefix": prefix}).json().get("servers")
    assert servers == ([{"url": root}] if root else None)
    assert client.get("/health", headers={"x-forwarded-prefix": prefix}).status_code == 200


def test_direct_docs_have_no_prefix() -> None:
    client = TestClient(create_app(Settings(SERVED_BUNDLE=Path("unused"))))
    assert "url: '/openapi.json'" in client.get("/docs").text


def test_scoring_routes_match_under_the_forwarded_prefix_like_the_others() -> None:
    """Reached as /api/predict with X-Forwarded-Prefix: /api, the route matches (503: no model here)."""
    client = TestClient(create_app(Settings(SERVED_BUNDLE=Path("unused"))))
    for path in ("/api/predict", "/api/predict/batch"):
        assert client.post(path, json={}, headers={"x-forwarded-prefix": "/api"}).status_code == 503
    assert client.get("/api/health", headers={"x-forwarded-prefix": "/api"}).status_code == 200
