"""The challenger page in AppTest against two real backend processes sharing one prediction log: blue (CatBoost)
serves requests, green (logistic regression) scores their shadow copies; the page's figures, heat map and tables are
the report's; without shadow data the page says how to start it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from analyst_ui.challenger import NO_DATA, band_moves, points, summary_text
from tests.kit.applicants import real_applicants
from tests.kit.backend import BackendProcess, ready_backend

pytestmark = pytest.mark.slow

PAGE = "views/challenger.py"
ROWS = 50


def shadow_report(server: BackendProcess, rows: int) -> dict:
    deadline = time.monotonic() + 20
    while True:
        report = requests.get(f"{server.url}/monitoring/shadow", headers=server.headers, timeout=10).json()
        if report["rows_compared"] >= rows or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


@pytest.fixture(scope="module")
def colors(
    catboost_bundle: Path, logreg_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BackendProcess, BackendProcess]]:
    work = tmp_path_factory.mktemp("challenger")
    log = str(work / "predictions.db")
    blue = ready_backend(catboost_bundle, work, DEPLOY_COLOR="blue", PREDICTION_LOG_PATH=log)
    green = ready_backend(logreg_bundle, work, DEPLOY_COLOR="green", PREDICTION_LOG_PATH=log)
    try:
        schema = requests.get(f"{blue.url}/schema", timeout=10, headers=blue.headers).json()
        applicants = real_applicants(schema["features"], ROWS, seed=7)
        for server, header in ((blue, "X-Request-ID"), (green, "X-Shadow-Of")):
            response = requests.post(
                f"{server.url}/predict/batch", json=applicants, headers={**server.headers, header: "a" * 32}, timeout=60
            )
            response.raise_for_status()
        yield blue, green
    finally:
        blue.stop()
        green.stop()


def test_the_page_shows_the_report_in_figures_a_heat_map_and_tables(colors, open_app) -> None:
    blue, _ = colors
    report = shadow_report(blue, ROWS)
    assert report["rows_compared"] == ROWS
    app = open_app(blue, PAGE)
    assert not app.exception and not app.error
    shown = {metric.label: metric.value for metric in app.main.metric}
    assert shown["Applicants compared"] == str(ROWS)
    assert shown["Same flag"] == f"{report['label_agreement']:.1%}"
    assert shown["Same decision"] == f"{report['decision_agreement']:.1%}"
    assert shown["Probability difference"] == points(report["mean_abs_delta"])
    assert summary_text(report) in [m.value for m in app.main.markdown]
    assert "blue (v1)" in summary_text(report) and "green (v1)" in summary_text(report)
    (chart,) = [c for c in app.get("plotly_chart") if c.proto.id.endswith("challenger_bands")]
    heat = json.loads(chart.proto.spec)["data"][0]
    assert heat["type"] == "heatmap" and heat["z"] == report["band_transitions"] and heat["x"] == report["risk_bands"]
    bands, decisions, speed = (table.value for table in app.dataframe)  # in the page's order
    assert bands.iloc[:, 1:].values.tolist() == report["band_transitions"]
    assert sum(band_moves(report)) == ROWS
    assert decisions.iloc[:, 1:].values.sum() == ROWS
    assert speed["requests"].tolist() == [1, 1] and speed["unanswered"].tolist() == [0, 0]


def test_without_shadow_data_the_page_says_how_to_start_it(catboost_bundle: Path, tmp_path: Path, open_app) -> None:
    server = ready_backend(catboost_bundle, tmp_path)
    try:
        app = open_app(server, PAGE)
    finally:
        server.stop()
    assert not app.exception and not app.error
    assert [info.value for info in app.info] == [NO_DATA]
