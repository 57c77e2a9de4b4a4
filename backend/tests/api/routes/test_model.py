"""Model metadata, plots and the feature schema."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow


def test_model_describes_the_served_bundle(catboost_client: TestClient, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    body = catboost_client.get("/model").json()
    for key in ("name", "version", "algorithm", "run_id", "trained_at", "metrics", "threshold", "risk_bands"):
        assert body[key] == metadata[key], key
    for key in ("dropped_features", "dataset", "feature_importance", "candidates"):
        assert body[key] == metadata[key], key
    for key in ("model_card", "fairness", "behavioral_tests", "gate", "lineage"):
        assert body[key] == metadata[key], key
    assert body["fairness"]["gate"]["decision"] in ("passed", "warned")
    assert {g["group"] for g in body["fairness"]["sets"]["holdout"]["sex"]["groups"]} == {"female", "male"}
    assert body["plots"] == sorted(metadata["plots"])
    assert (body["color"], body["explanation"], body["revision"]) == ("blue", "shap", "unknown")
    policy = body["decision_policy"]
    assert (
        policy["derived"] is False
        and policy["threshold_rationale"] == metadata["decision_policy"]["threshold_rationale"]
    )
    assert policy["holdout"] == metadata["decision_policy"]["holdout"] and 0 < policy["holdout"]["flagged_share"] < 1
    assert policy["outcomes"] == [
        {key: outcome[key] for key in ("name", "label", "wording", "from", "to")}
        for outcome in metadata["decision_policy"]["outcomes"]
    ]
    assert body["feature_labels"] == {
        name: entry["label"] for name, entry in metadata["reason_codes"]["features"].items()
    }


@pytest.mark.parametrize("client_name, method", [("logreg_client", "linear"), ("forest_client", "replacement")])
def test_model_says_how_factors_are_computed(request: pytest.FixtureRequest, client_name: str, method: str) -> None:
    assert request.getfixturevalue(client_name).get("/model").json()["explanation"] == method


def test_an_older_bundle_without_governance_keys_is_still_served(bundle_copy, logreg_bundle: Path, serve) -> None:
    def strip(metadata: dict) -> None:
        for key in ("model_card", "fairness", "behavioral_tests", "gate", "lineage"):
            del metadata[key]

    with serve(bundle_copy(logreg_bundle, strip)) as client:
        body = client.get("/model").json()
    assert body["fairness"] is None and body["lineage"] is None and body["version"] == "1"


def test_plots_are_pngs_and_unknown_names_404(catboost_client: TestClient) -> None:
    for name in catboost_client.get("/model").json()["plots"]:
        response = catboost_client.get(f"/model/plots/{name}")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        assert response.content.startswith(b"\x89PNG")
    missing = catboost_client.get("/model/plots/..%2Fmetadata.json")
    assert missing.status_code == 404 and missing.json()["errors"] == []


def test_schema_is_the_bundles_feature_schema(catboost_client: TestClient, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    assert catboost_client.get("/schema").json() == {
        "features": metadata["features"],
        "example": metadata["example"],
        "target": metadata["dataset"]["target"],
        "positive_label": metadata["dataset"]["positive_label"],
    }
