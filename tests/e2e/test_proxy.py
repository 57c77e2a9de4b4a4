"""The public path through nginx: an analyst's open page across a switch (real browser), and nginx's limits:
oversized bodies and headers refused before a backend sees them (JSON in the API's error shape), a burst from one
client refused with 429 and Retry-After, slow clients cut off without touching other clients; security headers;
HTTPS (the stack's self-signed certificate verified, plain HTTP redirected, HSTS, Streamlit's websocket over wss).
Runs on the session's stack (conftest.py); each test first puts traffic on blue."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.stack import ROOT, Stack
from tests.e2e.test_blue_green import deployed_green, example_applicant, on_blue, public_color, websocket_status
from tests.kit.analysts import ANALYST, PASSWORD, analyst_store
from tests.kit.chromium import CHROMIUM, Chromium

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
AMOUNT_INPUT = "document.querySelector('input[aria-label^=\"Credit amount\"]')"  # with its unit: (DM)


@pytest.fixture
def browser(stack: Stack) -> Iterator[Chromium]:
    """The test browser, trusting the stack's self-signed certificate (its key only)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    chromium = Chromium(width=1440, height=1000, trust=[Path(stack.verify)])
    yield chromium
    chromium.close()


def audited(stack: Stack, author: str, seconds: float = 15) -> dict:
    """The newest request `author` made, from the audit trail through nginx (the log is written every ~0.2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        items = requests.get(
            f"{stack.settings.public_url}/api/audit/predictions",
            params={"author": author, "window": "15m", "limit": "1"},
            headers=stack.headers,
            timeout=10,
            verify=stack.verify,
        ).json()["items"]
        if items or time.monotonic() > deadline:
            assert items, f"no request of {author} in the audit trail"
            return items[0]
        time.sleep(0.2)


def main_text(browser: Chromium) -> str:
    return browser.evaluate("document.querySelector('[data-testid=stMain]').innerText") or ""


def test_an_analysts_open_page_keeps_its_inputs_across_a_switch_and_scores_with_the_new_color(
    stack: Stack, browser: Chromium
) -> None:
    on_blue(stack)
    deployed_green(stack)
    green_version = stack.state().colors["green"].model_version
    analyst_store(stack.settings.analysts_file)  # as `make user-add` does; the frontends read it through /ui
    browser.open(stack.settings.public_url + "/")
    browser.wait_for("document.querySelector('input[type=password]') !== null")
    browser.type_into("document.querySelector('input[autocomplete=username]')", ANALYST)
    browser.type_into("document.querySelector('input[type=password]')", PASSWORD)
    browser.evaluate("document.querySelector('[data-testid=stBaseButton-primaryFormSubmit]').click()")
    browser.wait_for(f"{AMOUNT_INPUT} !== null")
    typed = "1300"
    browser.type_into(AMOUNT_INPUT, typed)
    browser.wait_for(f"{AMOUNT_INPUT}.value == '{typed}'")

    started = time.monotonic()
    assert stack.cli("switch", "green").returncode == 0
    stack.record(browser_switch_seconds=round(time.monotonic() - started, 1))

    browser.evaluate("document.querySelector('[data-testid=stBaseButton-primary]').click()")  # Score applicant
    browser.wait_for("/answered by model/.test(document.querySelector('[data-testid=stMain]').innerText)")
    answered = next(line for line in main_text(browser).splitlines() if "answered by" in line)
    assert f"model v{green_version}" in answered, answered  # the color is in the audit trail, below
    assert browser.evaluate(f"{AMOUNT_INPUT}.value") == typed, "the analyst's input is still there"
    page = browser.evaluate("document.body.innerText")
    assert "Connection error" not in page and "Please wait" not in page
    assert not browser.evaluate("document.querySelectorAll('[data-testid=stException]').length")
    browser.screenshot(ARTIFACTS / "score-across-a-switch.png")
    scored = audited(stack, ANALYST)
    assert (scored["analyst"], scored["api_key"], scored["color"]) == (ANALYST, "analyst-ui", "green")
    on_blue(stack)


def test_a_body_over_the_limit_is_refused_by_nginx_before_any_backend(stack: Stack) -> None:
    on_blue(stack)
    response = requests.post(
        f"{stack.settings.public_url}/api/predict",
        data=b"x" * (17 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
        timeout=30,
        verify=stack.verify,
    )
    assert "16 MiB" in api_error(response, 413)["detail"]
    assert "X-Deployment-Color" not in response.headers, "nginx answered: no backend saw the body"
    junk = requests.post(
        f"{stack.settings.public_url}/api/predict?explain=false",
        data=b"x" * (65 * 1024),
        headers={**stack.headers, "Content-Type": "application/json"},
        timeout=30,
        verify=stack.verify,
    )
    assert "64 KiB" in api_error(junk, 413)["detail"], "one applicant's route takes at most 64 KiB"
    assert "X-Deployment-Color" not in junk.headers
    ok = requests.post(
        f"{stack.settings.public_url}/api/predict",
        json=example_applicant(stack),
        headers=stack.headers,
        timeout=10,
        verify=stack.verify,
    )
    assert ok.status_code == 200


def test_a_slow_client_is_cut_off_and_others_are_served_meanwhile(stack: Stack) -> None:
    on_blue(stack)
    host, port = "127.0.0.1", stack.settings.PUBLIC_PORT
    tls = ssl.create_default_context(cafile=stack.verify)
    slow = tls.wrap_socket(socket.create_connection((host, port), timeout=30), server_hostname=host)
    slow.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    started = time.monotonic()
    applicant = example_applicant(stack)
    answered = 0
    while time.monotonic() - started < 3:
        answered += requests.post(
            f"{stack.settings.public_url}/api/predict",
            json=applicant,
            headers=stack.headers,
            timeout=5,
            verify=stack.verify,
        ).ok
    assert answered > 10, "other clients are served while the slow one dawdles"
    slow.settimeout(30)
    data = slow.recv(4096)  # nginx closes it after client_header_timeout (a 408, or just the close)
    waited = time.monotonic() - started
    slow.close()
    assert data == b"" or b" 408 " in data.split(b"\r\n")[0]
    stack.record(slow_client_cut_after_seconds=round(waited, 1))
    assert public_color(stack) == "blue"


def api_error(response: requests.Response, status: int) -> dict:
    """The body of an error nginx answered on /api/: JSON in the API's error shape, with the API's headers."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    body = response.json()
    assert body.keys() == {"detail", "errors"} and body["errors"] == []
    return body


def test_a_huge_header_is_refused_with_431_and_the_next_request_is_served(stack: Stack) -> None:
    on_blue(stack)
    url = stack.settings.public_url
    huge = requests.get(f"{url}/api/health", headers={"X-Junk": "a" * 20_000}, timeout=10, verify=stack.verify)
    assert "headers too large" in api_error(huge, 431)["detail"]
    cookies = requests.get(f"{url}/", headers={"Cookie": "c=" + "a" * 70_000}, timeout=10, verify=stack.verify)
    assert cookies.status_code == 431 and "cookies" in cookies.text, "the UI gets a page, not JSON"
    assert requests.get(f"{url}/api/health", timeout=10, verify=stack.verify).status_code == 200


def test_security_headers_on_the_ui_and_the_api_and_streamlit_still_works(stack: Stack) -> None:
    on_blue(stack)
    url = stack.settings.public_url
    page = requests.get(f"{url}/", timeout=10, verify=stack.verify)
    health = requests.get(f"{url}/api/health", timeout=10, verify=stack.verify)
    assert page.status_code == 200 and "<title>Streamlit</title>" in page.text
    for response in (page, health):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", "HTTPS: HSTS"
        assert response.headers["Server"] == "nginx", "no version"
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert health.status_code == 200 and health.headers["Content-Security-Policy"].startswith("default-src 'none'")
    docs = requests.get(f"{url}/api/docs", timeout=10, verify=stack.verify)
    assert docs.status_code == 200 and "https://cdn.jsdelivr.net" in docs.headers["Content-Security-Policy"]
    assert websocket_status(url, stack.verify) == 101, "Streamlit's websocket opens through nginx"


def test_a_burst_from_one_client_gets_429_with_retry_after_and_the_client_is_served_again(stack: Stack) -> None:
    on_blue(stack)
    url = stack.settings.public_url
    lowered = stack.cli("up", API_RATE_PER_CLIENT="20", API_BURST_PER_CLIENT="20")
    try:
        assert lowered.returncode == 0, lowered.stdout + lowered.stderr
        assert "nginx limits each client on /api/ to 20 requests/s (burst 20)" in lowered.stdout
        time.sleep(2)  # `up`'s own checks used part of the burst

        def health(_: int) -> requests.Response:
            return requests.get(f"{url}/api/health", timeout=10, verify=stack.verify)

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(health, range(200)))
        statuses = [a.status_code for a in answers]
        limited = [a for a in answers if a.status_code == 429]
        assert set(statuses) == {200, 429} and 20 <= statuses.count(200) < 150, statuses
        assert "retry after 1 s" in api_error(limited[0], 429)["detail"]
        assert limited[0].headers["Retry-After"] == "1" and "X-Deployment-Color" not in limited[0].headers
        assert requests.get(f"{url}/", timeout=10, verify=stack.verify).status_code == 200, "the UI is not rate limited"
        time.sleep(float(limited[0].headers["Retry-After"]) + 0.5)
        assert health(0).status_code == 200, "served again after Retry-After"
        stack.record(burst_of_200_served=statuses.count(200))
    finally:
        restored = stack.cli("up")
        assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "nginx limits each client on /api/ to 5000 requests/s" in restored.stdout


def test_the_public_port_speaks_https_with_the_stacks_certificate_and_sends_plain_http_there(stack: Stack) -> None:
    on_blue(stack)
    url, port = stack.settings.public_url, stack.settings.PUBLIC_PORT
    assert url == f"https://127.0.0.1:{port}"
    with stack.session() as http:
        health = http.get(f"{url}/api/health", timeout=10)
    assert health.status_code == 200 and health.headers["X-Deployment-Color"] == "blue"
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000"
    with pytest.raises(requests.exceptions.SSLError):  # verification is real: the system's authorities refuse it
        requests.get(f"{url}/api/health", timeout=10, verify=True)
    tls12 = ssl.create_default_context(cafile=stack.verify)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with tls12.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost") as s:
        assert s.version() == "TLSv1.2" and s.cipher()[0].startswith("ECDHE-"), s.cipher()
    # Plain HTTP to the same port: a permanent redirect to HTTPS on the port the client used, path and query kept.
    plain = requests.get(f"http://127.0.0.1:{port}/api/schema?x=1", timeout=10, allow_redirects=False)
    assert plain.status_code == 301 and plain.headers["Location"] == f"{url}/api/schema?x=1"
    assert "Strict-Transport-Security" not in plain.headers, "HSTS only on HTTPS answers"
    followed = requests.get(f"http://localhost:{port}/", timeout=10, verify=stack.verify)
    assert followed.url == f"https://localhost:{port}/" and "<title>Streamlit</title>" in followed.text
    preview = requests.get(f"{stack.settings.preview_url}/api/health", timeout=10)
    assert preview.status_code == 200 and "Strict-Transport-Security" not in preview.headers, "preview: plain HTTP"


def test_streamlits_websocket_opens_over_wss(stack: Stack) -> None:
    on_blue(stack)
    stream = stack.settings.public_url.replace("https://", "wss://", 1) + "/_stcore/stream"
    with connect(stream, ssl=ssl.create_default_context(cafile=stack.verify), open_timeout=10) as websocket:
        assert websocket.response.status_code == 101
        websocket.ping().wait(10)
