"""A real `streamlit run` process against a real backend, driven by headless Chromium; screenshots kept."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from analyst_ui.applicant_form import label_of
from analyst_ui.score_result import probability_text
from tests.kit.chromium import CHROMIUM, Chromium
from tests.kit.applicants import real_applicants, shifted_population
from tests.kit.paths import ROOT, UI_SCRIPT
from tests.kit.ports import free_port
from tests.kit.processes import LiveProcess
from tests.kit.traffic import score_batch, summary_counting

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "ui"


def count(test_id: str) -> str:
    return f"document.querySelectorAll('[data-testid={test_id}]').length"


def texts(test_id: str) -> str:
    return f"[...document.querySelectorAll('[data-testid={test_id}]')].map(e => e.innerText)"


@pytest.fixture
def ui_url(backend, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(UI_SCRIPT), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1"]
    ui = LiveProcess.start(
        command, f"http://127.0.0.1:{port}", tmp_path / "streamlit.log", ROOT, {"BACKEND_URL": backend.url}
    )
    try:
        ui.wait_for("/_stcore/health")
        yield ui.url
    finally:
        ui.stop()


@pytest.fixture
def browser() -> Iterator[Chromium]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    chromium = Chromium(width=1440, height=1000)
    yield chromium
    chromium.close()


def test_a_browser_scores_an_applicant_uploads_a_batch_and_reads_the_model_card(
    backend, ui_url: str, browser: Chromium, tmp_path: Path
) -> None:
    schema = requests.get(f"{backend.url}/schema", timeout=10, headers=backend.headers).json()
    numeric = sum(f["type"] == "numeric" for f in schema["features"])
    categorical = len(schema["features"]) - numeric

    browser.open(ui_url)
    browser.wait_for(f"{count('stNumberInput')} == {numeric} && {count('stSelectbox')} == {categorical}")
    assert sorted(browser.evaluate(texts("stWidgetLabel"))) == sorted(label_of(f["name"]) for f in schema["features"])
    assert "Ready" in browser.evaluate("document.querySelector('[data-testid=stSidebar]').innerText")
    browser.screenshot(ARTIFACTS / "score-form.png")

    browser.evaluate("document.querySelector('[data-testid=stBaseButton-primaryFormSubmit]').click()")
    browser.wait_for(f"{count('stPlotlyChart')} == 2 && {count('stMetricValue')} >= 4")
    expected = requests.post(
        f"{backend.url}/predict", json=schema["example"], timeout=10, headers=backend.headers
    ).json()
    assert probability_text(expected["probability_default"]) in browser.evaluate(texts("stMetricValue"))
    browser.wait_for(f"{count('stCode')} == 1")
    page = browser.evaluate("document.querySelector('[data-testid=stMain]').innerText")
    assert expected["decision"]["label"] in browser.evaluate(texts("stHeading"))
    assert expected["decision"]["wording"] in page
    assert expected["reasons"] and all(reason in page for reason in expected["reasons"])
    assert f"Decision: {expected['decision']['label']}" in browser.evaluate(texts("stCode"))[0]
    browser.screenshot(ARTIFACTS / "score-result.png")

    batch = tmp_path / "applicants.csv"
    checking_accounts = next(
        f["categories"] for f in schema["features"] if f["name"] == "status_of_existing_checking_account"
    )
    with batch.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=[f["name"] for f in schema["features"]])
        writer.writeheader()
        writer.writerows(
            {**schema["example"], "status_of_existing_checking_account": status, "duration_in_month": months}
            for status in checking_accounts
            for months in (6, 24, 48)
        )
    browser.open(f"{ui_url}/batch")
    browser.wait_for("document.querySelector('input[type=file]') !== null")
    document = browser.call("DOM.getDocument")["root"]["nodeId"]
    file_input = browser.call("DOM.querySelector", nodeId=document, selector="input[type=file]")["nodeId"]
    browser.call("DOM.setFileInputFiles", nodeId=file_input, files=[str(batch)])
    browser.wait_for(f"{count('stDataFrame')} == 1 && {count('stPlotlyChart')} == 1")
    assert str(3 * len(checking_accounts)) in browser.evaluate(texts("stMetricValue"))
    browser.screenshot(ARTIFACTS / "batch-results.png")

    browser.open(f"{ui_url}/model")
    plots = requests.get(f"{backend.url}/model", timeout=10, headers=backend.headers).json()["plots"]
    browser.wait_for(f"{count('stImage')} == {len(plots)}")
    browser.screenshot(ARTIFACTS / "model-card.png")


def test_a_browser_shows_volume_and_drift_on_the_monitoring_page(backend, ui_url: str, browser: Chromium) -> None:
    before = summary_counting(backend, 0)["count"]
    schema = requests.get(f"{backend.url}/schema", timeout=10, headers=backend.headers).json()
    applicants = real_applicants(schema["features"], 120, seed=1)
    score_batch(backend, applicants[:80])
    score_batch(backend, shifted_population(applicants[80:], schema["features"]))
    summary = summary_counting(backend, before + 120)

    browser.open(f"{ui_url}/monitoring?window=1h")
    charts = 3 + len(summary["drifting_features"])
    browser.wait_for(f"{count('stPlotlyChart')} == {charts} && {count('stDataFrame')} == 1")
    assert str(summary["count"]) in browser.evaluate(texts("stMetricValue"))
    assert {"duration_in_month", "credit_amount"} <= set(summary["drifting_features"])
    browser.screenshot(ARTIFACTS / "monitoring.png")
