"""Shadow traffic on the real stack: blue serves model v1, green (idle) holds v2; `shadow green` makes nginx copy the
public port's live scoring requests to green. The report's agreement and Δ figures equal numpy's over the same
applicants scored on each color directly; clients get the same answers with and without the mirror; the copies are
never counted as served; bad input changes nothing; the latency through the public port with and without the mirror
goes to the figures (docs/benchmarks.md, "Shadow traffic")."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from deploy.lock import operation_lock
from deploy.nginx_config import ActiveFile
from tests.e2e.stack import Stack, fast_training_config
from tests.e2e.test_blue_green import on_blue
from tests.kit.applicants import real_applicants

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("patient_controller")]
SINGLES = 40
BATCH = 60
LATENCY_ROUNDS, LATENCY_REQUESTS = 3, 150
BANDS = ["low", "medium", "high"]
CHALLENGER_CONFIG = ".e2e-challenger-params.yaml"  # in the bundles directory, the trainer's /bundles


def ok(done: Any) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


def scored(session: requests.Session, url: str, headers: dict, applicants: list[dict]) -> list[dict]:
    """Each applicant on /api/predict, then all of them as one batch; the answers without their prediction ids."""
    answers = []
    for applicant in applicants[:SINGLES]:
        response = session.post(f"{url}/api/predict", json=applicant, headers=headers, params={"explain": "false"})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    batch = session.post(f"{url}/api/predict/batch", json=applicants[SINGLES:], headers=headers)
    assert batch.status_code == 200, batch.text
    answers += batch.json()["predictions"]
    for answer in answers:
        answer.pop("prediction_id")
    return answers


def decision(answer: dict) -> str:
    return answer["decision"] if isinstance(answer["decision"], str) else answer["decision"]["name"]


def expected_report(champion: list[dict], challenger: list[dict]) -> dict[str, Any]:
    """The report's figures computed here, from the two colors' own answers to the same applicants."""
    p = [np.array([a["probability_default"] for a in side]) for side in (champion, challenger)]
    labels = [np.array([a["label"] for a in side]) for side in (champion, challenger)]
    delta = np.abs(p[1] - p[0])
    bands = [[a["risk_band"] for a in side] for side in (champion, challenger)]
    return {
        "rows_compared": len(champion),
        "label_agreement": float(np.mean(labels[0] == labels[1])),
        "decision_agreement": float(np.mean([decision(a) == decision(b) for a, b in zip(champion, challenger)])),
        "mean_abs_delta": float(delta.mean()),
        "p95_abs_delta": float(np.percentile(delta, 95)),
        "flagged_shares": (float(labels[0].mean()), float(labels[1].mean())),
        "band_transitions": [[sum(1 for a, b in zip(*bands) if (a, b) == (x, y)) for y in BANDS] for x in BANDS],
    }


def report(stack: Stack, requests_wanted: int) -> dict:
    """GET /api/monitoring/shadow until it compares `requests_wanted` requests (the logs are written every 0.2 s)."""
    deadline = time.monotonic() + 30
    while True:
        response = requests.get(
            f"{stack.settings.public_url}/api/monitoring/shadow",
            params={"window": "15m"},
            headers=stack.headers,
            verify=stack.verify,
        )
        assert response.status_code == 200, response.text
        if response.json()["requests_compared"] >= requests_wanted or time.monotonic() > deadline:
            return response.json()
        time.sleep(0.5)


def latencies(stack: Stack, applicant: dict, count: int) -> list[float]:
    """Seconds of `count` sequential /api/predict calls on one keep-alive connection through the public port."""
    seconds = []
    with stack.session(auth=False) as session:
        for _ in range(count):
            started = time.perf_counter()
            response = session.post(
                f"{stack.settings.public_url}/api/predict", json=applicant, headers=stack.headers, timeout=10
            )
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return seconds


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2)


def served_by(stack: Stack, key_name: str) -> list[dict]:
    """The requests made with the key `key_name` that count as served (the audit lists no shadow copy), newest
    first."""
    trail = requests.get(
        f"{stack.settings.public_url}/api/audit/predictions",
        params={"author": key_name, "window": "1h"},
        headers=stack.headers,
        verify=stack.verify,
        timeout=30,
    )
    assert trail.status_code == 200 and not trail.json()["truncated"], trail.text
    return trail.json()["items"]


def challenger_config() -> str:
    """The e2e training config with one candidate, a logistic regression regularized far more than training's: a
    model that certainly differs from the stack's v1 and v2 (the same config twice trains the same model)."""
    cfg = yaml.safe_load(fast_training_config())
    (candidate,) = [c for c in cfg["candidates"] if c["name"] == "logistic_regression"]
    candidate["params"]["C"] = 0.01
    cfg["candidates"] = [candidate]
    return yaml.safe_dump(cfg, sort_keys=False)


@pytest.fixture(scope="module")
def shadow_stack(stack: Stack) -> Stack:
    """Blue active; green on a challenger trained for this module (another model version), shadow off."""
    (stack.settings.BUNDLES_DIR / CHALLENGER_CONFIG).write_text(challenger_config())
    ok(stack.cli("train", TRAINER_CONFIG=f"/bundles/{CHALLENGER_CONFIG}"))
    on_blue(stack)  # after the training: the earlier modules may leave green active
    # --force: the challenger may flag a share unlike the champion's; how differently it decides is the point.
    ok(stack.cli("deploy", "--color", "green", "--force"))
    ok(stack.cli("shadow", "off"))
    versions = {c: r.model_version for c, r in stack.state().colors.items()}
    assert versions["green"] != versions["blue"], versions
    return stack


def test_the_report_equals_an_independent_computation_and_clients_see_no_difference(shadow_stack: Stack) -> None:
    stack = shadow_stack
    url, preview = stack.settings.public_url, stack.settings.preview_url
    schema = requests.get(f"{url}/api/schema", headers=stack.headers, timeout=10, verify=stack.verify).json()
    key_name, key = stack.another_key("shadow")  # the log also holds the earlier modules' traffic
    applicants = real_applicants(schema["features"], SINGLES + BATCH, seed=18)
    with stack.session(auth=False) as session:
        without = scored(session, url, key, applicants)
        done = stack.cli("shadow", "green")
        ok(done)
        assert "shadow green: ON" in done.stdout and ActiveFile(stack.settings.nginx_dir).shadow()
        event = stack.cli_history()[-1]
        assert (event["operation"], event["target"], event["result"]) == ("shadow", "green", "on") and event["operator"]
        mirrored = scored(session, url, key, applicants)
    assert mirrored == without, "the mirror changes nothing in the clients' answers"
    assert {a["color"] for a in mirrored if "color" in a} == {"blue"}
    figures = report(stack, SINGLES + 1)
    ok(stack.cli("shadow", "off"))
    assert not ActiveFile(stack.settings.nginx_dir).shadow()
    # The challenger's own answers, asked directly on the preview port (as deployment checks: not served traffic).
    probe = {**stack.headers, "X-Traffic-Source": "probe"}
    with stack.session(auth=False) as session:
        challenger = scored(session, preview, probe, applicants)
    challenger_version = stack.state().colors["green"].model_version
    assert {a["model_version"] for a in challenger if "model_version" in a} == {challenger_version}
    expected = expected_report(mirrored, challenger)
    assert expected["mean_abs_delta"] > 0, "two different models: some applicant's probability differs"
    kept = ("rows_compared", "label_agreement", "decision_agreement", "mean_abs_delta", "p95_abs_delta")
    stack.record(shadow_report={**{k: figures[k] for k in kept}, "band_transitions": figures["band_transitions"]})
    assert figures["requests_compared"] == SINGLES + 1 and figures["rows_compared"] == expected["rows_compared"]
    for name in ("label_agreement", "decision_agreement", "mean_abs_delta", "p95_abs_delta"):
        assert figures[name] == pytest.approx(expected[name], abs=1e-9), name
    assert (figures["champion"]["flagged_share"], figures["challenger"]["flagged_share"]) == pytest.approx(
        expected["flagged_shares"]
    )
    assert figures["band_transitions"] == expected["band_transitions"]
    assert (figures["champion"]["color"], figures["challenger"]["color"]) == ("blue", "green")
    assert figures["champion"]["model_versions"] == {stack.state().colors["blue"].model_version: SINGLES + BATCH}
    assert figures["challenger"]["model_versions"] == {challenger_version: SINGLES + BATCH}
    assert figures["challenger"]["unanswered"] == 0 and figures["champion"]["unanswered"] == 0
    # Never counted as served: the log serves the two passes of the clients, on blue; the copies only on green's
    # metrics, as shadow.
    served = served_by(stack, key_name)
    assert {item["color"] for item in served} == {"blue"} and sum(item["count"] for item in served) == 2 * (
        SINGLES + BATCH
    )
    green_metrics = requests.get(f"{preview}/api/metrics", headers=stack.headers, timeout=10).text
    counted = {
        sample.labels["source"]: sample.value
        for family in text_string_to_metric_families(green_metrics)
        for sample in family.samples
        if sample.name == "predictions_total" and sample.labels.get("label") == "1"
    }
    assert counted.get("shadow", 0) == sum(a["label"] for a in challenger), "green's flagged copies, as shadow"
    assert "single" not in counted and "batch" not in counted, "green served nothing"
    status = stack.cli("status")
    ok(status)
    assert "shadow: off" in status.stdout and f"{SINGLES + BATCH} applicants" in status.stdout


def test_bad_input_changes_nothing(shadow_stack: Stack) -> None:
    stack = shadow_stack
    marker = ActiveFile(stack.settings.nginx_dir)
    for args, message in ((("shadow", "blue"), "serves the public traffic"), (("shadow", "red"), "invalid choice")):
        done = stack.cli(*args)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not marker.shadow() and stack.active_conf() == "blue"
    with operation_lock(stack.settings.DEPLOY_STATE_DIR, "test holds the lock", 0):
        done = stack.cli("shadow", "green")
    assert done.returncode == 2 and "is running (one operation at a time)" in done.stderr
    assert not marker.shadow()


def test_latency_through_the_public_port_with_and_without_the_mirror(shadow_stack: Stack) -> None:
    stack = shadow_stack
    marker = ActiveFile(stack.settings.nginx_dir)
    applicant = requests.get(
        f"{stack.settings.public_url}/api/schema", headers=stack.headers, verify=stack.verify
    ).json()["example"]
    latencies(stack, applicant, 50)  # warm-up
    measured: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for _ in range(LATENCY_ROUNDS):  # alternating, so drift of the machine hits both alike
            for state in ("off", "on"):
                marker.set_shadow("green" if state == "on" else None)
                measured[state] += latencies(stack, applicant, LATENCY_REQUESTS)
    finally:
        marker.set_shadow(None)
    figures = {
        state: {
            "requests": len(values),
            "p50_ms": percentile(values, 50),
            "p95_ms": percentile(values, 95),
            "p99_ms": percentile(values, 99),
            "mean_ms": round(statistics.fmean(values) * 1000, 2),
        }
        for state, values in measured.items()
    }
    stack.record(shadow_latency=figures)
    print(f"shadow latency through the public port: {figures}")
    assert figures["on"]["requests"] == figures["off"]["requests"] == LATENCY_ROUNDS * LATENCY_REQUESTS
