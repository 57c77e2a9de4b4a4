"""A real `streamlit run` process against a real backend, driven by headless Chromium; screenshots kept. The
analyst signs in first: with the built-in user store, or through a local OpenID Connect provider process."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from analyst_ui.field_rules import codes, field_label
from analyst_ui.score_result import probability_text
from tests.kit.analysts import ANALYST, PASSWORD
from tests.kit.axe import missing as axe_missing
from tests.kit.axe import violations
from tests.kit.chromium import CHROMIUM, Chromium
from tests.kit.applicants import real_applicants, shifted_population
from tests.kit.oidc import missing as oidc_missing
from tests.kit.oidc import oidc_provider
from tests.kit.paths import ROOT, UI_SCRIPT
from tests.kit.ports import free_port
from tests.kit.processes import LiveProcess
from tests.kit.traffic import audit_trail, score_batch, summary_counting

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "ui"


def count(test_id: str) -> str:
    return f"document.querySelectorAll('[data-testid={test_id}]').length"


def texts(test_id: str) -> str:
    return f"[...document.querySelectorAll('[data-testid={test_id}]')].map(e => e.innerText)"


def start_ui(backend, work: Path, port: int, **env: str) -> LiveProcess:
    """`streamlit run` on `port` against the backend (with its key), the analysts of `analysts`."""
    command = [sys.executable, "-m", "streamlit", "run", str(UI_SCRIPT), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1"]
    settings = {"BACKEND_URL": backend.url, "BACKEND_API_KEY": backend.key, **env}
    ui = LiveProcess.start(command, f"http://127.0.0.1:{port}", work / "streamlit.log", ROOT, settings)
    try:
        ui.wait_for("/_stcore/health")
    except BaseException:
        ui.stop()
        raise
    return ui


@pytest.fixture
def ui_url(backend, analysts: Path, tmp_path: Path) -> Iterator[str]:
    ui = start_ui(backend, tmp_path, free_port(), UI_USERS_PATH=str(analysts))
    yield ui.url
    ui.stop()


SIGN_IN_NAME = "document.querySelector('input[autocomplete=username]')"
SIGN_IN_PASSWORD = "document.querySelector('input[type=password]')"
SIGN_IN_BUTTON = "document.querySelector('[data-testid=stBaseButton-primaryFormSubmit]')"


def only_the_sign_in(browser: Chromium) -> None:
    """The page shows the sign-in and nothing of the app (no navigation, no form fields, no sidebar), once the run
    that draws it is over (until then Streamlit keeps the previous page's elements on screen, e.g. after a
    sign-out)."""
    main = "document.querySelector('[data-testid=stMain]').innerText"
    app_elements = f"{count('stSidebarNav')} + {count('stNumberInput')} + {count('stSelectbox')}"
    browser.wait_for(f"{main}.includes('analyst sign-in') && {app_elements} == 0", seconds=30)


def contrast_on_white(rgb: str) -> float:
    """WCAG 2.1 contrast ratio of an `rgb(r, g, b)` color against white."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(v)) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def chart_text_colors(browser: Chromium) -> set[str]:
    """The fill colors of every text drawn inside the page's Plotly charts (axe does not check chart text)."""
    return set(
        browser.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot svg text')]"
            ".filter(t => t.textContent.trim()).map(t => getComputedStyle(t).fill)"
        )
    )


def sign_in(browser: Chromium, url: str, name: str = ANALYST, password: str = PASSWORD) -> None:
    """Open the UI and sign in with the built-in store, as an analyst types it."""
    browser.open(url)
    browser.wait_for(f"{SIGN_IN_PASSWORD} !== null")
    only_the_sign_in(browser)
    browser.type_into(SIGN_IN_NAME, name)
    browser.type_into(SIGN_IN_PASSWORD, password)
    browser.evaluate(f"{SIGN_IN_BUTTON}.click()")
    browser.wait_for(f"{count('stSidebarNav')} == 1")


def go_to(browser: Chromium, page: str) -> None:
    """Follow the sidebar's link to a page (a new page load would be a new session, signed out)."""
    browser.evaluate(f"document.querySelector('[data-testid=stSidebarNav] a[href$=\"/{page}\"]').click()")


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
    numeric = sum(f["type"] == "numeric" and not codes(f) for f in schema["features"])
    categorical = len(schema["features"]) - numeric  # categories and coded numbers are choices

    sign_in(browser, ui_url)
    browser.wait_for(f"{count('stNumberInput')} == {numeric} && {count('stSelectbox')} == {categorical}")
    assert sorted(browser.evaluate(texts("stWidgetLabel"))) == sorted(field_label(f) for f in schema["features"])
    assert "Ready" in browser.evaluate("document.querySelector('[data-testid=stSidebar]').innerText")
    browser.screenshot(ARTIFACTS / "score-form.png")

    browser.evaluate("document.querySelector('[data-testid=stBaseButton-primary]').click()")
    browser.wait_for(f"{count('stPlotlyChart')} == 2 && {count('stMetricValue')} >= 4")
    browser.wait_for("document.querySelectorAll('.js-plotly-plot svg text').length > 0")
    colors = chart_text_colors(browser)
    assert colors and all(contrast_on_white(color) >= 4.5 for color in colors), f"chart text colors: {colors}"
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
    go_to(browser, "batch")
    browser.wait_for("document.querySelector('input[type=file]') !== null")
    document = browser.call("DOM.getDocument")["root"]["nodeId"]
    file_input = browser.call("DOM.querySelector", nodeId=document, selector="input[type=file]")["nodeId"]
    browser.call("DOM.setFileInputFiles", nodeId=file_input, files=[str(batch)])
    browser.wait_for(f"{count('stDataFrame')} == 1 && {count('stPlotlyChart')} == 1")
    assert str(3 * len(checking_accounts)) in browser.evaluate(texts("stMetricValue"))
    browser.screenshot(ARTIFACTS / "batch-results.png")

    go_to(browser, "model")
    plots = requests.get(f"{backend.url}/model", timeout=10, headers=backend.headers).json()["plots"]
    browser.wait_for(f"{count('stImage')} == {len(plots)}")
    browser.screenshot(ARTIFACTS / "model-card.png")


def field(label: str) -> str:
    return f"document.querySelector('input[aria-label=\"{label}\"]')"


def main_text() -> str:
    return "document.querySelector('[data-testid=stMain]').innerText"


def tabs_to(browser: Chromium, text: str, limit: int = 60) -> int:
    """Tab presses from the top of the page until the focused element reads `text` (limit + 1: never)."""
    browser.evaluate("document.activeElement && document.activeElement.blur(); window.focus()")
    for presses in range(1, limit + 1):
        for kind in ("keyDown", "keyUp"):
            browser.call("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9)
        if browser.evaluate("(document.activeElement.innerText || '').trim()") == text:
            return presses
    return limit + 1


def test_a_browser_walks_the_analyst_fixes_with_no_serious_accessibility_violations(
    backend, ui_url: str, browser: Chromium
) -> None:
    if axe_missing():
        pytest.fail(axe_missing())
    schema = requests.get(f"{backend.url}/schema", timeout=10, headers=backend.headers).json()
    example = schema["example"]

    sign_in(browser, f"{ui_url}/score")  # opened directly: the score page, no "page not found"
    browser.wait_for(f"{field('Credit amount (DM)')} !== null")
    browser.open(f"{ui_url}/score")  # a reload, timed: a new session, the sign-in again, then the form
    started = time.monotonic()
    browser.wait_for(f"{SIGN_IN_PASSWORD} !== null")
    browser.type_into(SIGN_IN_NAME, ANALYST)
    browser.type_into(SIGN_IN_PASSWORD, PASSWORD)
    browser.evaluate(f"{SIGN_IN_BUTTON}.click()")
    browser.wait_for(f"{field('Credit amount (DM)')} !== null && {count('stSelectbox')} > 0")
    timings = {"page_open_to_form_s": round(time.monotonic() - started, 2)}
    assert "Page not found" not in browser.evaluate("document.body.innerText")
    assert browser.evaluate("location.pathname") == "/score"
    icons = browser.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icons and all(icon.startswith(ui_url) for icon in icons)  # no external font or icon host
    assert violations(browser) == []
    presses = tabs_to(browser, "Score applicant")
    assert presses <= 25, f"{presses} Tab presses to reach Score applicant"

    timings["score_to_result_s"] = browser.evaluate(  # measured in the page: click to the charts on screen
        "new Promise(done => { const t0 = performance.now();"
        " document.querySelector('[data-testid=stBaseButton-primary]').click();"
        f" const tick = () => {count('stPlotlyChart')} == 2 ? done(Math.round(performance.now() - t0) / 1000)"
        " : requestAnimationFrame(tick); tick(); })"
    )
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings))
    assert timings["score_to_result_s"] < 3, timings
    announced = browser.evaluate("document.querySelector('[role=status][aria-live=polite]').innerText")
    assert announced.startswith("Scored: ")
    assert violations(browser) == []
    browser.screenshot(ARTIFACTS / "score-result-announced.png")

    browser.type_into(field("Credit amount (DM)"), "3000")  # the result is out of date at once
    browser.wait_for(f"{main_text()}.includes('Out of date — score again') && {count('stPlotlyChart')} == 0")
    browser.screenshot(ARTIFACTS / "score-out-of-date.png")
    for _ in range(2):  # reset works, and again
        browser.evaluate(
            "[...document.querySelectorAll('button')].find(b => b.innerText.includes('Reset to the example')).click()"
        )
        browser.wait_for(f"{field('Credit amount (DM)')}.value == '{example['credit_amount']}'")
        browser.type_into(field("Credit amount (DM)"), "4000")
        browser.wait_for(f"{field('Credit amount (DM)')}.value == '4000'")

    browser.type_into(field("Age (years)"), "5")  # the message is visible under the field, not on hover
    browser.wait_for(f"{main_text()}.includes('5 years is too small: enter at least 18 years')")
    browser.evaluate("document.querySelector('[data-testid=stBaseButton-primary]').click()")
    browser.wait_for(f"{main_text()}.includes('Not scored: 1 field(s) need a different value')")
    assert browser.evaluate(f"{count('stPlotlyChart')}") == 0
    browser.screenshot(ARTIFACTS / "score-invalid-value.png")

    for page, ready in (
        ("batch", "document.querySelector('input[type=file]') !== null"),
        ("model", f"{count('stImage')} > 0"),
        ("monitoring", f"{count('stMetric')} > 0"),
    ):
        go_to(browser, page)
        browser.wait_for(ready)
        found = violations(browser)
        assert not found, f"{page}:\n" + "\n".join(found)


def test_a_browser_shows_volume_and_drift_on_the_monitoring_page(backend, ui_url: str, browser: Chromium) -> None:
    before = summary_counting(backend, 0)["count"]
    schema = requests.get(f"{backend.url}/schema", timeout=10, headers=backend.headers).json()
    applicants = real_applicants(schema["features"], 120, seed=1)
    score_batch(backend, applicants[:80])
    score_batch(backend, shifted_population(applicants[80:], schema["features"]))
    summary = summary_counting(backend, before + 120)

    sign_in(browser, f"{ui_url}/monitoring?window=1h")
    charts = 3 + len(summary["drifting_features"])
    browser.wait_for(f"{count('stPlotlyChart')} == {charts} && {count('stDataFrame')} == 1")
    assert str(summary["count"]) in browser.evaluate(texts("stMetricValue"))
    assert {"duration_in_month", "credit_amount"} <= set(summary["drifting_features"])
    browser.screenshot(ARTIFACTS / "monitoring.png")


def test_a_browser_sees_only_the_sign_in_until_the_password_is_right(ui_url: str, browser: Chromium) -> None:
    browser.open(f"{ui_url}/batch")
    browser.wait_for(f"{SIGN_IN_PASSWORD} !== null")
    only_the_sign_in(browser)
    browser.type_into(SIGN_IN_NAME, ANALYST)
    browser.type_into(SIGN_IN_PASSWORD, "not the password of alice")
    browser.evaluate(f"{SIGN_IN_BUTTON}.click()")
    browser.wait_for(f"{count('stAlertContentError')} == 1")
    only_the_sign_in(browser)
    browser.screenshot(ARTIFACTS / "sign-in-refused.png")
    sign_in(browser, ui_url)
    sidebar = "document.querySelector('[data-testid=stSidebar]').innerText"
    browser.wait_for(f"{sidebar}.includes('Signed in as {ANALYST}') && {sidebar}.includes('Sign out')")
    browser.evaluate(
        "[...document.querySelectorAll('[data-testid=stSidebar] button')].find(b => /Sign out/.test(b.innerText))"
        ".click()"
    )
    browser.wait_for(f"{SIGN_IN_PASSWORD} !== null")
    only_the_sign_in(browser)


def test_single_sign_on_through_a_local_oidc_provider(backend, browser: Chromium, tmp_path: Path) -> None:
    if oidc_missing():
        pytest.fail(oidc_missing())
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/oauth2callback"
    with oidc_provider(redirect, tmp_path / "oidc.log") as provider:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(provider.streamlit_secrets(redirect))
        ui = start_ui(backend, tmp_path, port, STREAMLIT_SECRETS_FILES=str(secrets))
        try:
            browser.open(ui.url)
            browser.wait_for(f"{count('stButton')} == 1")
            only_the_sign_in(browser)
            assert browser.evaluate(f"{SIGN_IN_PASSWORD} === null"), "no password field: the provider signs in"
            browser.screenshot(ARTIFACTS / "sign-in-sso.png")
            browser.evaluate("document.querySelector('[data-testid=stButton] button').click()")
            browser.wait_for(f"location.href.startsWith('{provider.issuer}') && document.forms.length > 0")
            browser.evaluate("document.querySelector('input[name=login]').value = 'carol'")
            browser.evaluate("document.querySelector('input[name=password]').value = 'anything'")
            browser.evaluate("document.forms[0].submit()")
            browser.wait_for(
                "document.querySelector('button[type=submit]') !== null && /consent|Authorize/i.test("
                "document.body.innerText) || location.href.startsWith('" + ui.url + "')"
            )
            if browser.evaluate(f"location.href.startsWith('{provider.issuer}')"):
                browser.evaluate("document.querySelector('button[type=submit]').click()")  # the consent
            browser.wait_for(f"{count('stSidebarNav')} == 1", seconds=60)
            sidebar = browser.evaluate("document.querySelector('[data-testid=stSidebar]').innerText")
            assert "Signed in as carol@bank.example" in sidebar
            browser.wait_for(f"{count('stNumberInput')} > 0")
            browser.evaluate("document.querySelector('[data-testid=stBaseButton-primary]').click()")
            browser.wait_for(f"{count('stPlotlyChart')} == 2")
            browser.screenshot(ARTIFACTS / "signed-in-sso.png")
            (scored,) = audit_trail(backend, "carol@bank.example")
            assert (scored["analyst"], scored["api_key"], scored["source"]) == ("carol@bank.example", "tests", "single")
        finally:
            ui.stop()
