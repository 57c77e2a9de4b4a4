"""Liveness and readiness: before, after and instead of a model."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


def test_before_loading_health_is_ok_and_ready_says_why_not(unloaded: Callable) -> None:
    client = unloaded(DEPLOY_COLOR="green", APP_REVISION="0a1b2c3")  # no lifespan
    health = client.get("/health")
    assert health.json() == {"status": "ok", "color": "green", "revision": "0a1b2c3"}
    assert health.headers["x-app-revision"] == "0a1b2c3"
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not_ready", "phase": "loading", "reason": "the model is still loading"}


def test_a_missing_bundle_keeps_the_process_up_and_says_why(serve: Callable, tmp_path: Path) -> None:
    with serve(tmp_path / "nothing-here") as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503 and str(tmp_path / "nothing-here") in ready.json()["reason"]
        assert ready.json()["phase"] == "failed", "a missing bundle is permanent: a deploy need not wait for it"
        for method, path in [("POST", "/predict"), ("POST", "/predict/batch"), ("GET", "/model"), ("GET", "/schema")]:
            response = client.request(method, path, json={})
            assert response.status_code == 503, path
            assert response.json() == {"detail": ready.json()["reason"], "errors": []}
        assert client.get("/model/plots/roc_curve").status_code == 503


@pytest.mark.slow
def test_after_loading_ready_names_the_version(catboost_client: TestClient, catboost_bundle: Path) -> None:
    version = json.loads((catboost_bundle / "metadata.json").read_text())["version"]
    response = catboost_client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": version, "color": "blue"}


@pytest.mark.slow
def test_a_corrupt_bundle_is_not_served(serve: Callable, catboost_bundle: Path, bundle_copy: Callable) -> None:
    bundle = bundle_copy(catboost_bundle)
    (bundle / "model" / "model.cb").write_bytes(b"not a model")
    with serve(bundle) as client:
        assert client.get("/health").status_code == 200
        assert "CatBoost cannot read" in client.get("/ready").json()["reason"]
        assert client.get("/ready").json()["phase"] == "failed"
        response = client.post("/predict", json={})
        assert response.status_code == 503 and response.headers["x-model-version"] == "none"
