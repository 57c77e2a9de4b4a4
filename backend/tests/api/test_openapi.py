"""The OpenAPI document carries the bundle's schema and the API key scheme; schemathesis finds no server error in
it, with a key holding every scope and without any credential."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SCHEMATHESIS_CONFIG = """
[checks]
negative_data_rejection.expected-statuses = [400, 404, 405, 413, 415, 422]

# A CSV body is a string in JSON Schema: its header and rows cannot be described there, so
# "any string" is not expected to be accepted. Every other check still runs on this operation.
[[operations]]
include-path = "/predict/batch"
checks.positive_data_acceptance.enabled = false

# An outcome is valid only for a prediction the log holds, observed on or after its day: no schema can say which
# ids exist, so schema-valid outcomes are answered 404 (unknown ids) or 422 (a date in the future or before the
# prediction): the warnings that say so ("missing test data", "validation mismatch") are expected there.
[[operations]]
include-path = "/outcomes"
include-method = "POST"
checks.positive_data_acceptance.enabled = false
warnings = false
"""
# Without a credential every protected operation answers 401 whatever the data: valid data is not accepted, and
# the refusal is the documented 401 (with WWW-Authenticate), never a 5xx.
ANONYMOUS_CONFIG = """
[checks]
negative_data_rejection.expected-statuses = [400, 401, 404, 405, 413, 415, 422]
positive_data_acceptance.enabled = false
"""


def test_before_loading_the_request_bodies_are_free_form(unloaded) -> None:
    document = unloaded().get("/openapi.json").json()
    assert document["components"]["schemas"]["Applicant"]["type"] == "object"
    assert "no model loaded" in document["components"]["schemas"]["Applicant"]["description"]


@pytest.mark.slow
def test_the_request_schema_is_generated_from_the_bundle(catboost_client: TestClient, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    document = catboost_client.get("/openapi.json").json()
    applicant = document["components"]["schemas"]["Applicant"]
    assert applicant["additionalProperties"] is False
    assert applicant["required"] == metadata["feature_order"]
    for feature in metadata["features"]:
        prop = applicant["properties"][feature["name"]]
        if feature["type"] == "categorical":
            assert prop["enum"] == feature["categories"]
        else:
            assert prop["type"] == ("integer" if feature["dtype"] == "integer" else "number")
            assert (prop["minimum"], prop["maximum"]) == (feature["lower_bound"], feature["upper_bound"])
    single = document["paths"]["/predict"]["post"]
    assert single["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Applicant"}
    assert single["requestBody"]["content"]["application/json"]["example"] == metadata["example"]
    assert [p["name"] for p in single["parameters"]] == ["explain"]
    batch = document["paths"]["/predict/batch"]["post"]["requestBody"]["content"]
    assert set(batch) == {"application/json", "text/csv"} and batch["application/json"]["schema"]["maxItems"] == 10_000
    plot_names = document["paths"]["/model/plots/{name}"]["get"]["parameters"][0]["schema"]["enum"]
    assert plot_names == sorted(metadata["plots"])
    assert {"200", "400", "413", "415", "422", "503"} <= set(single["responses"])


def test_the_api_key_scheme_is_declared_for_the_docs_authorize_button(unloaded) -> None:
    document = unloaded().get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer") and "`score`" in scheme["description"]
    predict = document["paths"]["/predict"]["post"]
    assert predict["security"] == [{"ApiKey": ["score"]}] and {"401", "403", "503"} <= set(predict["responses"])
    assert document["paths"]["/metrics"]["get"]["security"] == [{"ApiKey": ["metrics"]}]
    assert document["paths"]["/ready"]["get"]["security"] == [{}, {"ApiKey": []}], "open, a key optional"


@pytest.mark.slow
@pytest.mark.parametrize("authenticated", [True, False], ids=["with a key", "without a credential"])
def test_schemathesis_finds_no_server_error(live_catboost, tmp_path: Path, authenticated: bool) -> None:
    """Every check of schemathesis (server errors, status codes, response schemas, accepting valid
    and refusing invalid data, ignored authentication) over every operation, against a real uvicorn process."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG if authenticated else ANONYMOUS_CONFIG)
    headers = ["--header", f"Authorization: Bearer {live_catboost.key}"] if authenticated else []
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{live_catboost.url}/openapi.json",
        "--max-examples",
        "40",
        "--seed",
        "42",
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "true",
        *headers,
    ]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    summary = completed.stdout[-6000:]
    assert completed.returncode == 0, summary
    assert "Tested: 15" in summary and re.search(r"(\d+) generated, \1 passed", summary), summary
    if authenticated:
        assert "No issues found" in summary
    else:  # schemathesis notes that the protected operations (all but /health and /ready) only answer 401
        assert "Authentication failed: 13 operations returned only 401/403 responses" in summary
    assert live_catboost.process.poll() is None


def test_docs_page_is_served(unloaded) -> None:
    assert "swagger-ui" in unloaded().get("/docs").text
