"""Canary steps on the real stack (nginx's per-request split, Prometheus, the controller, Alertmanager), with steady
clients through the public port: a good challenger goes 10 -> 50 -> 100 % and is promoted without one failed
request, the share the canary answers at each step close to its weight, UI page loads split and pinned and each
session scoring with its page's color; a challenger that starts answering 5xx (or a second late) once it takes
traffic is aborted by the controller within an analysis window, all traffic back on the stable color, and
the alert reaches the webhook. Bad steps are refused with exit 2 and nothing changes. Figures go to
test-artifacts/e2e/figures.json (docs/benchmarks.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from deploy.canary_record import CANARY_FILE, CanaryFile, CanaryRecord
from deploy.canary_split import CanarySplit
from deploy.tests.prometheus_server import Received
from tests.e2e.stack import Stack
from tests.e2e.test_blue_green import example_applicant, on_blue, public_color
from tests.e2e.test_controller import (  # noqa: F401 (faulty_release: a fixture)
    alerts_named,
    docker,
    faulty_release,
    outage_seconds,
    wait_until,
)
from tests.kit.traffic import Answer, Traffic

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STEP_WINDOW_S = 15
ANALYSIS_INTERVAL_S = 2
SCRAPE_INTERVAL_S = 5  # prometheus/prometheus.yml
SHARE_TOLERANCE = 0.05
EDGE_S = 1.5  # answers this close to a step change are not attributed to either step
PAGE_LOADS = 60


@pytest.fixture(scope="module")
def short_steps(stack: Stack) -> Iterator[None]:
    """15 s steps analysed every 2 s."""
    with stack.controller_bounds(canary={"step_window_s": STEP_WINDOW_S, "analysis_interval_s": ANALYSIS_INTERVAL_S}):
        yield


def canary(stack: Stack) -> CanaryRecord | None:
    return CanaryFile(stack.settings.DEPLOY_STATE_DIR / CANARY_FILE).load()


def weight(stack: Stack) -> int:
    return CanarySplit(stack.settings.nginx_dir).weight()


def on_blue_with_green(stack: Stack, tag: str) -> None:
    """Blue active, the switch's watch over, green on release `tag` with blue's model (same scores)."""
    on_blue(stack)
    blue = stack.state().colors["blue"]
    done = stack.cli("deploy", "--color", "green", "--tag", tag, "--model", blue.model_version)
    assert done.returncode == 0, done.stdout + done.stderr
    stack.watch_over()


def canary_in_background(stack: Stack, steps: str) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(stack.cli("canary", "green", "--steps", steps, timeout=600)))
    thread.start()
    return thread, result


def follow_steps(
    stack: Stack, thread: threading.Thread, since: float, on_weight: dict[int, Callable[[], None]] | None = None
) -> list[tuple[float, int]]:
    """(monotonic time, weight) at every change of the canary's weight while the CLI runs; `on_weight[w]` is called
    once the weight is w."""
    changes: list[tuple[float, int]] = []
    while thread.is_alive():
        record = canary(stack)
        current = record.weight if record is not None and record.started_ts >= since else 0
        if not changes or changes[-1][1] != current:
            changes.append((time.monotonic(), current))
            (on_weight or {}).get(current, lambda: None)()
        time.sleep(0.1)
    changes.append((time.monotonic(), weight(stack)))
    return changes


def shares(answers: list[Answer], changes: list[tuple[float, int]]) -> list[dict]:
    """For each weight the canary had: the answers started well within it and the share green answered."""
    measured = []
    for (start, at_weight), (end, _) in zip(changes, changes[1:]):
        inside = [a for a in answers if start + EDGE_S <= a.started and a.ended <= end - EDGE_S]
        if at_weight and inside:
            green = sum(a.color == "green" for a in inside) / len(inside)
            measured.append({"weight": at_weight, "requests": len(inside), "green_share": round(green, 4)})
    return measured


def pinned_colors(stack: Stack, page_loads: int) -> list[str]:
    """The colors `page_loads` page loads of the UI are pinned to (the cr_ui cookie nginx sets on a navigation)."""
    colors = []
    for _ in range(page_loads):
        response = requests.get(
            f"{stack.settings.public_url}/",
            headers={"Sec-Fetch-Dest": "document", "Connection": "close"},
            timeout=10,
            verify=stack.verify,
        )
        assert response.status_code == 200
        colors.append(response.cookies.get("cr_ui"))
    return colors


def session_backend(stack: Stack, frontend: str) -> str:
    """The color that answers a public UI session of `frontend` (its PUBLIC_BACKEND_URL, nginx's port 8090, asked
    from inside the frontend's container with its own key)."""
    script = (
        "import os, requests; key = open(os.environ['BACKEND_API_KEY_FILE']).read().strip(); "
        "print(requests.get(os.environ['PUBLIC_BACKEND_URL'] + '/health', "
        "headers={'Authorization': 'Bearer ' + key}, timeout=5).headers.get('X-Deployment-Color'))"
    )
    container = stack.container(f"frontend-{frontend}")
    assert container is not None
    return docker("exec", container["Id"], "python", "-c", script).strip()


def test_bad_steps_are_refused_and_nothing_changes(stack: Stack, short_steps: None) -> None:
    on_blue(stack)
    before = (stack.active_conf(), weight(stack), canary(stack))
    refused = stack.cli("canary", "green", "--steps", "50,10,100")
    assert refused.returncode == 2 and "strictly increasing" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    active = stack.cli("canary", "blue")
    assert active.returncode == 2 and "blue receives the traffic" in active.stderr, active.stderr
    assert (stack.active_conf(), weight(stack), canary(stack)) == before


def test_a_good_challenger_is_promoted_step_by_step_without_a_failed_request(stack: Stack, short_steps: None) -> None:
    blue = stack.state().colors["blue"]
    on_blue_with_green(stack, blue.tag)
    events = len(stack.history())
    traffic = Traffic(
        stack.settings.public_url, example_applicant(stack), clients=4, headers=stack.headers, verify=stack.verify
    )
    traffic.start()
    try:
        time.sleep(2 * SCRAPE_INTERVAL_S + 2)  # blue's figures before the canary: two scrapes at least
        since = time.time()
        started = time.monotonic()
        thread, result = canary_in_background(stack, "10,50,100")
        sticky: dict[str, object] = {}

        def at_half() -> None:
            sticky["page_loads"] = pinned_colors(stack, PAGE_LOADS)
            sticky["sessions"] = {color: session_backend(stack, color) for color in ("blue", "green")}

        changes = follow_steps(stack, thread, since, {50: at_half})
        thread.join()
        traffic.wait_for(traffic.count() + 100, timeout=30)
    finally:
        traffic.stop()

    (done,) = result
    assert done.returncode == 0 and "PROMOTED" in done.stdout, done.stdout + done.stderr
    measured = shares(traffic.answers, changes)
    stack.record(
        canary_good={
            "seconds": round(time.monotonic() - started, 1),
            "requests": len(traffic.answers),
            "failed": len(traffic.failures()),
            "steps": measured,
        }
    )
    assert traffic.failures() == [], traffic.failures()[:3]
    assert [m["weight"] for m in measured] == [10, 50, 100], changes
    for step in measured:
        assert abs(step["green_share"] - step["weight"] / 100) <= SHARE_TOLERANCE, measured
    assert stack.active_conf() == "green" and public_color(stack) == "green" and weight(stack) == 0
    green_pages = sticky["page_loads"].count("green") / PAGE_LOADS
    stack.record(canary_ui_page_loads_pinned_to_green_at_50=green_pages)
    assert set(sticky["page_loads"]) <= {"blue", "green"} and 0.3 <= green_pages <= 0.7, sticky
    assert sticky["sessions"] == {"blue": "blue", "green": "green"}, "each session scores with its page's color"
    assert {color: session_backend(stack, color) for color in ("blue", "green")} == {"blue": "green", "green": "green"}
    canary_events = [e for e in stack.history()[events:] if e["operation"] == "canary"]
    assert [e["result"] for e in canary_events] == ["started", "stepped", "stepped", "promoted"]
    for event in canary_events[1:]:
        assert event["figures"]["requests"] >= 20 and event["figures"]["errors_5xx"] == 0, event
        assert event["figures"]["score_psi"] is not None and event["figures"]["score_psi"] < 0.01, event


def slow(answer: Answer) -> bool:
    return answer.status == 200 and answer.ended - answer.started > 0.5


@pytest.mark.parametrize("fault", ["5xx", "slow"])
def test_a_challenger_failing_once_it_takes_traffic_is_aborted_by_the_controller_with_an_alert(
    stack: Stack, short_steps: None, faulty_release: str, alert_receiver: tuple[Received, int], fault: str  # noqa: F811
) -> None:
    received, _ = alert_receiver
    on_blue_with_green(stack, faulty_release)
    events, posts = len(stack.history()), len(received.posts)
    trigger = stack.settings.BUNDLES_DIR / ".fault"
    traffic = Traffic(
        stack.settings.public_url, example_applicant(stack), clients=4, headers=stack.headers, verify=stack.verify
    )
    traffic.start()
    try:
        time.sleep(2 * SCRAPE_INTERVAL_S + 2)
        since = time.time()
        thread, result = canary_in_background(stack, "10,50,100")
        wait_until(lambda: (canary(stack) or None) and canary(stack).started_ts >= since, 180, "the canary starts")
        trigger.write_text(fault)  # green fails (or answers a second late) from now on, while it takes 10 %
        faulted = time.monotonic()
        thread.join(timeout=300)
        aborted = time.monotonic()
        time.sleep(3)  # answers well after the abort
    finally:
        trigger.unlink(missing_ok=True)
        traffic.stop()

    (done,) = result
    assert done.returncode == 1 and "ABORTED" in done.stdout, done.stdout + done.stderr
    (event,) = [e for e in stack.history()[events:] if e["operation"] == "canary" and e["result"] == "aborted"]
    assert (event["target"], event["source"], event["figures"]["weight"]) == ("blue", "green", 10), event
    assert ("5xx" in event["reason"]) if fault == "5xx" else ("p99" in event["reason"]), event
    assert stack.active_conf() == "blue" and weight(stack) == 0 and public_color(stack) == "blue"
    failures = traffic.failures()
    hurt = failures if fault == "5xx" else [a for a in traffic.answers if slow(a) and a.color == "green"]
    after = [a for a in traffic.answers if a.started > aborted + 0.5]
    stack.record(
        **{
            f"canary_aborted_{fault}": {
                "detected_after_s": round(aborted - faulted, 1),
                "requests": len(traffic.answers),
                "failed_requests": len(failures),
                "slow_answers": sum(map(slow, traffic.answers)),
                "hurt_for_s": outage_seconds(hurt),
                "reason": event["reason"],
            }
        }
    )
    assert hurt and all(a.status == (500 if fault == "5xx" else 200) for a in hurt), hurt[:3]
    assert fault == "5xx" or failures == [], failures[:3]
    assert outage_seconds(hurt) <= SCRAPE_INTERVAL_S + 2 * ANALYSIS_INTERVAL_S + STEP_WINDOW_S, "one window"
    assert after and {(a.status, a.color) for a in after} == {(200, "blue")}, "all traffic back on blue"
    wait_until(lambda: alerts_named(received, "CanaryAborted", posts), 90, "the alert arrives")
