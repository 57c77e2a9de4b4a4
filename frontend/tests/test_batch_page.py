"""The batch page in AppTest against a real backend: upload, results, download, and refused files."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import requests

from analyst_ui.batch import read_scored_csv, template_csv

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
    assert results["line"].tolist() == [2, 3, 4]  # the header is line 1
    assert "Download the scored CSV" in [button.label for button in app.get("download_button")]
    scored_csv = requests.post(
        f"{backend.url}/predict/batch?explain=true",
        data=content,
        headers={**backend.headers, "Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=30,
    ).content
    downloaded = read_scored_csv(app.session_state["batch.outcome"][1].scored.csv)
    assert list(downloaded.columns) == ["line", *read_scored_csv(scored_csv).columns]  # the backend's, with reasons
    # scored_at: the two requests may fall in different seconds; prediction_id: each request's own.
    own = ["scored_at", "prediction_id"]
    pd.testing.assert_frame_equal(
        downloaded.drop(columns=["line", *own]), read_scored_csv(scored_csv).drop(columns=own)
    )
    assert downloaded["reason_1"].notna().any()
    assert downloaded["prediction_id"].notna().all() and downloaded["prediction_id"].is_unique


def test_the_template_is_accepted_as_it_is(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    assert "Download the template CSV" in [button.label for button in app.get("download_button")]
    upload(app, "template.csv", template_csv(schema["features"], schema["example"]))
    assert not app.error
    assert [metric.value for metric in app.main.metric][0] == "1"


def test_bad_rows_are_listed_by_line_and_the_good_rows_scored(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    content = applicants_csv(schema, [{}, {"credit_amount": "lots"}, {}, {"purpose": "spaceship", "age_in_years": -4}])
    upload(app, "bad.csv", content)

    assert not app.exception and not app.error
    problems = app.table[0].value
    assert problems.index.name == "line"
    assert sorted(zip(problems.index.astype(int), problems["column"])) == [
        (3, "credit_amount"),
        (5, "age_in_years"),
        (5, "purpose"),
    ]  # spreadsheet lines: the header is line 1
    assert "2 row(s) not scored" in [h.value for h in app.subheader]
    scored = app.dataframe[0].value
    assert scored["line"].tolist() == [2, 4]
    outcome = app.session_state["batch.outcome"][1]
    refused = list(csv.DictReader(io.StringIO(outcome.refused_csv.decode())))
    assert [row["line"] for row in refused] == ["3", "5"] and refused[0]["credit_amount"] == "lots"
    assert "purpose" in refused[1]["problems"] and "age_in_years" in refused[1]["problems"]
    labels = [button.label for button in app.get("download_button")]
    assert "Download the scored CSV" in labels and "Download the rows not scored" in labels


def test_ids_pass_through_and_a_semicolon_windows_file_is_read(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    rows = list(csv.reader(io.StringIO(applicants_csv(schema, [{}, {"duration_in_month": 6}, {}]).decode())))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["application_id", *rows[0]])
    writer.writerows([[f"Antrag-{n}-ä", *row] for n, row in enumerate(rows[1:], start=1)])
    upload(app, "antraege.csv", buffer.getvalue().encode("cp1252"))

    assert not app.exception and not app.error and not app.table
    scored = app.dataframe[0].value
    assert scored["application_id"].tolist() == ["Antrag-1-ä", "Antrag-2-ä", "Antrag-3-ä"]
    assert scored["line"].tolist() == [2, 3, 4]
    assert scored["probability_default"].nunique() == 2  # rows 1 and 3 are the same applicant
    assert any(
        "Read as semicolon-separated, Windows-1252" in c.value and "not scored: application_id" in c.value
        for c in app.caption
    )
    downloaded = read_scored_csv(app.session_state["batch.outcome"][1].scored.csv)
    assert downloaded["application_id"].tolist() == scored["application_id"].tolist()


def test_a_missing_column_refuses_the_file_and_says_which(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    content = applicants_csv(schema, [{}]).replace(b"age_in_years", b"age", 1)
    upload(app, "renamed.csv", content)

    assert any("was not scored" in h.value for h in app.subheader)
    problems = app.table[0].value
    assert problems.index.tolist() == ["age_in_years"]
    assert problems["problem"].tolist() == ["column missing from the header"]  # "age" passes through


def test_a_new_upload_is_scored_again_and_removing_it_clears_the_results(backend, open_app, schema: dict) -> None:
    app = open_app(backend, BATCH_PAGE)
    upload(app, "one.csv", applicants_csv(schema, [{}]))
    upload(app, "two.csv", applicants_csv(schema, [{}, {}]))
    assert app.dataframe[0].value.shape[0] == 2
    app.file_uploader(key="batch.upload").clear()
    app.run()
    assert not app.dataframe and "batch.outcome" not in app.session_state
