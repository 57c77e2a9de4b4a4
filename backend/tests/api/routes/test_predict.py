"""Scoring over HTTP: single and batch, JSON and CSV, every kind of bad input."""

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.bundle import read_bundle
from app.core.predictors import build_predictor
from app.core.scored_batch import RESULT_COLUMNS

pytestmark = pytest.mark.slow


def to_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "client_name, bundle_name",
    [("catboost_client", "catboost_bundle"), ("logreg_client", "logreg_bundle"), ("forest_client", "forest_bundle")],
)
def test_single_prediction_is_the_models_own(
    request: pytest.FixtureRequest, client_name: str, bundle_name: str, applicants: list[dict[str, Any]], as_row: Any
) -> None:
    client: TestClient = request.getfixturevalue(client_name)
    bundle = read_bundle(request.getfixturevalue(bundle_name))
    predictor = build_predictor(bundle)
    for applicant in applicants[:3]:
        body = client.post("/predict", json=applicant).json()
        (expected,) = predictor.probabilities([as_row(applicant)])
        assert body["probability_default"] == pytest.approx(expected, abs=1e-12)
        assert body["label"] == int(body["probability_default"] >= bundle.metadata.threshold)
        assert body["threshold"] == bundle.metadata.threshold
        assert body["risk_band"] in {"low", "medium", "high"}
        assert (body["model_version"], body["color"]) == (bundle.metadata.version, "blue")
        factors = body["top_factors"]
        assert len(factors) == 5
        assert [abs(f["contribution"]) for f in factors] == sorted(
            (abs(f["contribution"]) for f in factors), reverse=True
        )
        assert all(f["value"] == applicant[f["feature"]] for f in factors)
        outcome = [o for o in bundle.raw["decision_policy"]["outcomes"] if o["from"] <= body["probability_default"]][-1]
        assert body["decision"] == {k: outcome[k] for k in ("name", "label", "wording")}
        assert 0 < len(body["reasons"]) <= 4 and all(isinstance(r, str) and r for r in body["reasons"])


@pytest.mark.parametrize(
    ("query", "explained"),
    [
        ("explain=false", False),
        ("explain=0", False),
        ("explain=off", False),
        ("explain=FALSE", False),  # not one of the looked-up spellings: parsed
        ("explain=%20no", False),
        ("other=1&explain=false", False),
        ("explain=true", True),
        ("explain=yes", True),
        ("explain=On", True),
        ("other=1", True),
    ],
)
def test_explain_flag_spellings(catboost_client: TestClient, example: dict, query: str, explained: bool) -> None:
    answer = catboost_client.post(f"/predict?{query}", json=example)
    assert answer.status_code == 200
    assert (answer.json()["top_factors"] is not None) is explained
    assert (answer.json()["reasons"] is not None) is explained


def test_explain_false_skips_the_factors(catboost_client: TestClient, example: dict) -> None:
    with_factors = catboost_client.post("/predict", json=example).json()
    without = catboost_client.post("/predict?explain=false", json=example).json()
    assert without["top_factors"] is None and without["reasons"] is None
    assert without["probability_default"] == with_factors["probability_default"]
    assert without["decision"] == with_factors["decision"]
    for path in ("/predict?explain=perhaps", "/predict/batch?explain=perhaps"):
        refused = catboost_client.post(path, json=example if path == "/predict?explain=perhaps" else [example])
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "explain"


@pytest.mark.parametrize(
    "change, field, status",
    [
        (lambda a: a.pop("purpose"), "purpose", 422),
        (lambda a: a.update(favourite_colour="red"), "favourite_colour", 422),
        (lambda a: a.update(age_in_years="forty"), "age_in_years", 422),
        (lambda a: a.update(age_in_years=40.5), "age_in_years", 422),
        (lambda a: a.update(purpose="yacht"), "purpose", 422),
        (lambda a: a.update(credit_amount=10**9), "credit_amount", 422),
        (lambda a: a.update(duration_in_month=-3), "duration_in_month", 422),
        (lambda a: a.update(housing=None), "housing", 422),
    ],
)
def test_bad_fields_are_named(
    catboost_client: TestClient, example: dict, change: Callable, field: str, status: int
) -> None:
    applicant = dict(example)
    change(applicant)
    response = catboost_client.post("/predict", json=applicant)
    assert response.status_code == status
    body = response.json()
    assert body["detail"].startswith("invalid applicant data")
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(None, field)]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(catboost_client: TestClient, example: dict, token: str) -> None:
    body = json.dumps({**example, "credit_amount": 1}).replace('"credit_amount": 1', f'"credit_amount": {token}')
    response = catboost_client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "credit_amount"


@pytest.mark.parametrize(
    "body, content_type, status, detail",
    [
        (b"{not json", "application/json", 400, "malformed JSON"),
        (b"", "application/json", 400, "empty request body"),
        (b"   ", "application/json", 400, "empty request body"),
        (b"[]", "application/json", 422, "the body must be a JSON object"),
        (b"a,b\n1,2\n", "text/csv", 415, "unsupported content type 'text/csv'"),
        (b"x=1", "application/x-www-form-urlencoded", 415, "unsupported content type"),
        (b"<a/>", "application/xml", 415, "unsupported content type"),
    ],
)
def test_unreadable_bodies_are_4xx(
    catboost_client: TestClient, body: bytes, content_type: str, status: int, detail: str
) -> None:
    response = catboost_client.post("/predict", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_oversized_bodies_are_413_before_and_while_reading(
    serve: Callable, catboost_bundle: Path, example: dict
) -> None:
    with serve(catboost_bundle, MAX_BODY_BYTES=2048) as client:
        big = json.dumps([example] * 5).encode()
        declared = client.post("/predict/batch", content=big, headers={"content-type": "application/json"})
        assert declared.status_code == 413 and "2048" in declared.json()["detail"]
        streamed = client.post(
            "/predict/batch", content=iter([big[:1000], big[1000:]]), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert client.post("/predict", json=example).status_code == 200


def test_batch_json_equals_single_calls(catboost_client: TestClient, applicants: list[dict[str, Any]]) -> None:
    rows = applicants[:25]
    body = catboost_client.post("/predict/batch", json=rows).json()
    assert body["count"] == 25 and body["color"] == "blue"
    assert [p["row"] for p in body["predictions"]] == list(range(25))
    for applicant, prediction in zip(rows, body["predictions"]):
        single = catboost_client.post("/predict?explain=false", json=applicant).json()
        assert prediction["probability_default"] == single["probability_default"]
        assert (prediction["label"], prediction["risk_band"]) == (single["label"], single["risk_band"])
        assert prediction["decision"] == single["decision"]["name"] and prediction["reasons"] is None


@pytest.mark.parametrize("client_name", ["catboost_client", "logreg_client", "forest_client"])
def test_batch_reasons_on_request_equal_the_single_answers(
    request: pytest.FixtureRequest, client_name: str, applicants: list[dict[str, Any]]
) -> None:
    client: TestClient = request.getfixturevalue(client_name)
    rows = applicants[:300:10]
    body = client.post("/predict/batch?explain=true", json=rows).json()
    assert body["threshold"] == client.get("/model").json()["threshold"]
    assert datetime.fromisoformat(body["scored_at"]).tzinfo is not None
    for applicant, prediction in zip(rows, body["predictions"]):
        single = client.post("/predict", json=applicant).json()
        assert prediction["probability_default"] == pytest.approx(single["probability_default"], abs=1e-12)
        assert (prediction["decision"], prediction["reasons"]) == (single["decision"]["name"], single["reasons"])


def test_batch_csv_in_json_out_equals_json_in(catboost_client: TestClient, applicants: list[dict[str, Any]]) -> None:
    rows = applicants[:25]
    columns = list(reversed(list(rows[0])))  # any column order
    from_csv = catboost_client.post(
        "/predict/batch", content=to_csv(rows, columns), headers={"content-type": "text/csv"}
    ).json()
    from_json = catboost_client.post("/predict/batch", json=rows).json()
    ids = [[row.pop("prediction_id") for row in answer["predictions"]] for answer in (from_csv, from_json)]
    assert from_csv == from_json
    assert len(set(ids[0]) | set(ids[1])) == 2 * len(rows)  # every applicant of every request: its own id


def test_batch_csv_answer_has_input_columns_then_results(
    catboost_client: TestClient, applicants: list[dict[str, Any]]
) -> None:
    rows = applicants[:10]
    response = catboost_client.post(
        "/predict/batch", content=to_csv(rows), headers={"content-type": "text/csv", "accept": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    answer = list(csv.DictReader(io.StringIO(response.text)))
    assert list(answer[0]) == [*rows[0], *RESULT_COLUMNS]
    expected = catboost_client.post("/predict/batch", json=rows).json()["predictions"]
    for given, got, want in zip(rows, answer, expected):
        assert got["purpose"] == given["purpose"] and int(got["age_in_years"]) == given["age_in_years"]
        assert float(got["probability_default"]) == want["probability_default"]
        assert (int(got["label"]), got["risk_band"]) == (want["label"], want["risk_band"])
        assert got["decision"] == want["decision"]
        assert [got[f"reason_{i}"] for i in range(1, 5)] == ["", "", "", ""]  # no explain: empty reasons
    json_in_csv_out = catboost_client.post("/predict/batch", json=rows, headers={"accept": "text/csv"})
    assert (
        json_in_csv_out.text.splitlines()[1:] == response.text.splitlines()[1:]
        or list(csv.DictReader(io.StringIO(json_in_csv_out.text)))[0]["probability_default"]
        == answer[0]["probability_default"]
    )


def test_batch_csv_columns_are_the_inputs_then_the_results_in_the_contracts_order(
    catboost_client: TestClient, applicants: list[dict[str, Any]]
) -> None:
    rows = applicants[:40]
    columns = list(reversed(list(rows[0])))  # the input columns keep the upload's order
    response = catboost_client.post(
        "/predict/batch?explain=true",
        content=to_csv(rows, columns),
        headers={"content-type": "text/csv", "accept": "text/csv"},
    )
    header, *lines = list(csv.reader(io.StringIO(response.text)))
    assert header == [
        *columns,
        "probability_default",
        "label",
        "risk_band",
        "decision",
        "reason_1",
        "reason_2",
        "reason_3",
        "reason_4",
        "threshold",
        "model_version",
        "scored_at",
        "prediction_id",
    ]
    model = catboost_client.get("/model").json()
    singles = [catboost_client.post("/predict", json=applicant).json() for applicant in rows]
    for line, single in zip(lines, singles):
        got = dict(zip(header, line))
        assert got["decision"] == single["decision"]["name"]
        reasons = [got[f"reason_{i}"] for i in range(1, 5)]
        assert reasons == [*single["reasons"], *[""] * (4 - len(single["reasons"]))]
        assert (float(got["threshold"]), got["model_version"]) == (model["threshold"], model["version"])
        assert datetime.fromisoformat(got["scored_at"]).tzinfo is not None
    assert len({dict(zip(header, line))["scored_at"] for line in lines}) == 1  # one time for the whole batch
    ids = [dict(zip(header, line))["prediction_id"] for line in lines]
    assert len(set(ids)) == len(lines) and len({i.rsplit("-", 1)[0] for i in ids}) == 1  # one key per request


def test_a_bundle_without_policy_or_reason_table_gets_derived_ones(
    serve: Callable, bundle_copy: Callable, catboost_bundle: Path, example: dict
) -> None:
    def strip(metadata: dict) -> None:
        del metadata["decision_policy"], metadata["reason_codes"]

    with serve(bundle_copy(catboost_bundle, strip)) as client:
        model = client.get("/model").json()
        assert model["decision_policy"]["derived"] is True
        assert [o["name"] for o in model["decision_policy"]["outcomes"]] == ["approve", "refer", "decline"]
        assert model["feature_labels"]["duration_in_month"] == "Duration in month"
        body = client.post("/predict", json=example).json()
        edges = [o["from"] for o in model["decision_policy"]["outcomes"]]
        assert (
            body["decision"]["name"]
            == ["approve", "refer", "decline"][sum(body["probability_default"] >= e for e in edges) - 1]
        )
        assert body["reasons"] and all(isinstance(r, str) for r in body["reasons"])


def test_batch_errors_name_row_and_field(catboost_client: TestClient, applicants: list[dict[str, Any]]) -> None:
    rows = [applicants[0], {**applicants[1], "purpose": "yacht"}, {**applicants[2], "age_in_years": "old"}]
    body = catboost_client.post("/predict/batch", json=rows).json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "purpose"), (2, "age_in_years")]
    bad_csv = to_csv(rows)
    csv_body = catboost_client.post("/predict/batch", content=bad_csv, headers={"content-type": "text/csv"}).json()
    assert [(e["row"], e["field"]) for e in csv_body["errors"]] == [(1, "purpose"), (2, "age_in_years")]


def test_csv_structure_problems(catboost_client: TestClient, applicants: list[dict[str, Any]]) -> None:
    text = to_csv(applicants[:3])
    header, *lines = text.splitlines()
    wrong_header = "\n".join([header.replace("purpose", "purpos"), *lines])
    response = catboost_client.post("/predict/batch", content=wrong_header, headers={"content-type": "text/csv"})
    assert response.status_code == 422
    assert {(e["field"], e["message"]) for e in response.json()["errors"]} == {
        ("purpos", "unknown column"),
        ("purpose", "column missing from the header"),
    }
    ragged = "\n".join([header, lines[0], lines[1] + ",extra", lines[2].rsplit(",", 1)[0]])
    response = catboost_client.post("/predict/batch", content=ragged, headers={"content-type": "text/csv"})
    assert response.status_code == 400 and [e["row"] for e in response.json()["errors"]] == [1, 2]
    header_only = catboost_client.post("/predict/batch", content=header, headers={"content-type": "text/csv"})
    assert header_only.status_code == 422


def test_too_many_rows_is_413(serve: Callable, catboost_bundle: Path, applicants: list[dict[str, Any]]) -> None:
    with serve(catboost_bundle, MAX_BATCH_ROWS=5) as client:
        assert client.post("/predict/batch", json=applicants[:5]).status_code == 200
        assert client.post("/predict/batch", json=applicants[:6]).status_code == 413
        csv_response = client.post(
            "/predict/batch", content=to_csv(applicants[:6]), headers={"content-type": "text/csv"}
        )
        assert csv_response.status_code == 413 and "MAX_BATCH_ROWS=5" in csv_response.json()["detail"]


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"[{", "application/json", 400),
        (b"{}", "application/json", 422),
        (b"[]", "application/json", 422),
        (b"", "text/csv", 400),
        (b"\xff\xfe", "text/csv", 400),
        (b"x", "application/pdf", 415),
    ],
)
def test_unreadable_batches_are_4xx(catboost_client: TestClient, body: bytes, content_type: str, status: int) -> None:
    response = catboost_client.post("/predict/batch", content=body, headers={"content-type": content_type})
    assert response.status_code == status and set(response.json()) == {"detail", "errors"}
