"""The batch page in AppTest against a real backend: upload, results, download, and refused files."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from analyst_ui.batch import template_csv

pytestmark = pytest.mark.slow

BATCH_PAGE = "views/batch.py"


def applicants_csv(schema: dict, changes: list[dict]) -> bytes:
    """One row per change: the example applicant with those fields replaced."""
    names = [f["name"] for f in schema["features"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for change in changes:
        row = {**schema["example"], **change}
        writer.writerow([row[name] for name in names])
    return buffer.getvalue().encode()


def upload(app, name: str, content: bytes) -> None:
    app.file_uploader(key="batch.upload").set_value((name, content, "text/csv"))
    app.run()


@pytest.fixture
def schema(backend) -> dict:
    return requests.get(f"{backend.url}/schema", timeout=10, headers=backend.headers).json()


def test_upload_shows_results_summary_and_the_scored_download(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    content = applicants_csv(schema, [{}, {"duration_in_month": 6, "credit_amount": 500}, {"duration_in_month": 60}])
    upload(app, "applicants.csv", content)

    assert not app.exception and not app.error
    expected = requests.post(
        f"{backend.url}/predict/batch",
        data=content,
        headers={**backend.headers, "Content-Type": "text/csv"},
        timeout=30,
    ).json()["predictions"]
    results = app.dataframe[0].value
    assert len(results) == 3
    assert results["probability_default"].tolist() == pytest.approx([p["probability_default"] for p in expected])
    assert results["risk_band"].tolist() == [p["risk_band"] for p in expected]
    metrics = {metric.label: metric.value for metric in app.main.metric}
    above = sum(p["label"] for p in expected)
    assert metrics["Applicants"] == "3"
    assert metrics["At or above the threshold"] == f"{above / 3:.1%}"
    assert any(chart.proto.id.endswith("batch_histogram") for chart in app.get("plotly_chart"))

    assert results["decision"].tolist() == [p["decision"] for p in expected]
    assert "Download the scored CSV" in [button.label for button in app.get("download_button")]
    scored_csv = requests.post(
        f"{backend.url}/predict/batch?explain=true",
        data=content,
        headers={**backend.headers, "Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=30,
    ).text
    downloaded = app.session_state["batch.outcome"][1].csv.decode()
    assert without_time(downloaded) == without_time(scored_csv)  # the backend's CSV, with reasons
    header = next(csv.reader(io.StringIO(downloaded)))
    assert header[-12:] == ["probability_default", "label", "risk_band", "decision"] + [
        f"reason_{i}" for i in range(1, 5)
    ] + ["threshold", "model_version", "scored_at", "prediction_id"]
    assert any(row["reason_1"] for row in csv.DictReader(io.StringIO(downloaded)))


def without_time(text: str) -> list[list[str]]:
    """The CSV's rows without their last two columns (scored_at: the two requests may fall in different seconds;
    prediction_id: each request's own)."""
    return [row[:-2] for row in csv.reader(io.StringIO(text))]


def test_the_template_is_accepted_as_it_is(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    assert "Download the template CSV" in [button.label for button in app.get("download_button")]
    upload(app, "template.csv", template_csv(schema["features"], schema["example"]))
    assert not app.error
    assert [metric.value for metric in app.main.metric][0] == "1"


def test_invalid_values_are_listed_by_row_and_column(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    content = applicants_csv(schema, [{}, {"credit_amount": "lots"}, {"purpose": "spaceship", "age_in_years": -4}])
    upload(app, "bad.csv", content)

    assert not app.exception
    assert app.error[0].value.startswith("invalid batch")
    problems = app.dataframe[0].value
    assert list(problems.columns) == ["row", "column", "problem"]
    assert sorted(zip(problems["row"].tolist(), problems["column"])) == [
        (1, "credit_amount"),
        (2, "age_in_years"),
        (2, "purpose"),
    ]
    assert "Download the scored CSV" not in [button.label for button in app.get("download_button")]


def test_a_wrong_header_is_listed_by_column(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    content = applicants_csv(schema, [{}]).replace(b"age_in_years", b"age", 1)
    upload(app, "renamed.csv", content)

    problems = app.dataframe[0].value
    assert sorted(zip(problems["column"], problems["problem"])) == [
        ("age", "unknown column"),
        ("age_in_years", "column missing from the header"),
    ]
    assert problems["row"].isna().all()


def test_a_new_upload_is_scored_again_and_removing_it_clears_the_results(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    upload(app, "one.csv", applicants_csv(schema, [{}]))
    upload(app, "two.csv", applicants_csv(schema, [{}, {}]))
    assert app.dataframe[0].value.shape[0] == 2
    app.file_uploader(key="batch.upload").clear()
    app.run()
    assert not app.dataframe and "batch.outcome" not in app.session_state
