"""The controller on the real stack (Prometheus, Alertmanager, the controller and the guard run in compose), with
live traffic through nginx: a killed, paused or disconnected active backend fails over to the healthy idle
color; a killed nginx comes back; a green that starts failing after its switch is rolled back by the watch;
with Prometheus down the watch is not judged and traffic stays; the sanity gate refuses a bundle that flags
everyone. Every fault's alert reaches the webhook receiver and the history says why. Outages are recorded in
test-artifacts/e2e/figures.json (docs/benchmarks.md), never asserted as times."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from deploy.model_registry import ModelRegistry
from deploy.monitoring import controller_status
from deploy.tests.prometheus_server import Received
from tests.e2e.stack import Stack
from tests.e2e.test_blue_green import deployed_green, example_applicant, on_blue, public_color
from tests.kit.traffic import Answer, Traffic
from training.bundle_digest import write_digest

pytestmark = [pytest.mark.docker, pytest.mark.slow]
FAULTY_BACKEND = Path(__file__).resolve().parent / "faulty_backend"
SERVED = ("switched", "started", "failed over")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120).stdout


def kill(container: dict) -> Callable[[], object]:
    docker("kill", container["Id"])
    return lambda: docker("start", container["Id"])


def pause(container: dict) -> Callable[[], object]:
    docker("pause", container["Id"])
    return lambda: docker("unpause", container["Id"])


def disconnect(container: dict) -> Callable[[], object]:
    """Cut the container from the stack network (Docker still calls it healthy); the restore puts it back on its
    fixed address with its aliases."""
    ((network, endpoint),) = container["NetworkSettings"]["Networks"].items()
    aliases = [alias for alias in endpoint.get("Aliases") or [] if not container["Id"].startswith(alias)]
    address = endpoint["IPAMConfig"]["IPv4Address"]
    docker("network", "disconnect", network, container["Id"])
    return lambda: docker(
        "network", "connect", "--ip", address, *(f"--alias={a}" for a in aliases), network, container["Id"]
    )


FAULTS = {"killed": kill, "paused": pause, "disconnected": disconnect}


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f}s: {what}")
        time.sleep(0.2)


def new_events(stack: Stack, since: int, operation: str) -> list[dict]:
    return [event for event in stack.history()[since:] if event["operation"] == operation]


def alerts_named(received: Received, name: str, since: int) -> list[dict]:
    """The firing alerts called `name` first delivered to the webhook after its first `since` posts (Alertmanager
    sends a group's alerts again with each notification: an alert already delivered before is not new)."""
    seen = {_key(alert) for post in received.posts[:since] for alert in post.get("alerts", [])}
    new = {
        _key(alert): alert
        for post in received.posts[since:]
        for alert in post.get("alerts", [])
        if alert["labels"]["alertname"] == name and alert["status"] == "firing" and _key(alert) not in seen
    }
    return list(new.values())


def _key(alert: dict) -> str:
    return json.dumps(alert["labels"], sort_keys=True)


def controller_can_fail_over_to(stack: Stack, color: str) -> bool:
    """The controller has seen `color` ready several times in a row and its cool-down is over."""
    status = controller_status(stack.settings) or {}
    track = status.get("colors", {}).get(color, {})
    cooldown = status.get("cooldown_until")
    cooled = cooldown is None or datetime.fromisoformat(cooldown) < datetime.now(timezone.utc)
    return track.get("healthy_probes", 0) >= 3 and cooled


def on_blue_with_green_standing_by(stack: Stack) -> None:
    """Traffic on blue; green ready on a release that served traffic before (the controller fails over only
    onto such a color)."""
    deployed_green(stack)
    green = stack.state().colors["green"]
    served = [
        e
        for e in stack.history()
        if e["target"] == "green" and e["result"] in SERVED and e.get("target_release") == green.to_json()
    ]
    if not served:
        done = stack.cli("switch", "green")
        assert done.returncode == 0, done.stdout + done.stderr
    on_blue(stack)
    wait_until(lambda: controller_can_fail_over_to(stack, "green"), 60, "the controller sees green ready")


def outage_seconds(failures: list[Answer]) -> float:
    """From the first failed request's start to the last one's end: how long clients saw errors."""
    return round(max(a.ended for a in failures) - min(a.started for a in failures), 2) if failures else 0.0


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_active_backend_fails_over_to_the_healthy_idle_color(
    stack: Stack, alert_receiver: tuple[Received, int], fault: str
) -> None:
    received, _ = alert_receiver
    on_blue_with_green_standing_by(stack)
    events, posts = len(stack.history()), len(received.posts)
    traffic = Traffic(
        stack.settings.public_url, example_applicant(stack), clients=4, headers=stack.headers, verify=stack.verify
    )
    traffic.start()
    restore = None
    try:
        traffic.wait_for(200, timeout=60)
        restore = FAULTS[fault](stack.container("backend-blue"))
        (failover,) = wait_until(lambda: new_events(stack, events, "failover"), 60, "the controller fails over")
        moved = time.monotonic()
        traffic.wait_for(traffic.count() + 200, timeout=60)
    finally:
        traffic.stop()
        if restore is not None:
            restore()

    failures = traffic.failures()
    stack.record(**{f"failover_{fault}": {"requests": len(traffic.answers), "failed": len(failures)}})
    stack.record(**{f"failover_{fault}_outage_s": outage_seconds(failures)})
    assert (failover["target"], failover["source"], failover["result"]) == ("green", "blue", "failed over")
    assert "blue" in failover["reason"], failover["reason"]
    after = [a for a in traffic.answers if a.started > moved]
    assert after and {(a.status, a.color) for a in after} == {(200, "green")}, "traffic ends on the healthy color"
    assert public_color(stack) == "green"
    (sent,) = wait_until(lambda: alerts_named(received, "TrafficFailedOver", posts), 90, "the alert arrives")
    assert sent["labels"]["color"] == "green" and "blue" in sent["annotations"]["summary"]


def test_a_killed_nginx_comes_back_and_a_failing_webhook_still_gets_the_alert(
    stack: Stack, alert_receiver: tuple[Received, int]
) -> None:
    received, _ = alert_receiver
    on_blue(stack)
    events, posts = len(stack.history()), len(received.posts)
    received.fail_first = received.attempts + 2  # the webhook refuses its next two deliveries
    nginx = stack.container("nginx")
    killed = time.monotonic()
    docker("kill", nginx["Id"])

    def answers() -> bool:
        try:
            health = requests.get(f"{stack.settings.public_url}/api/health", timeout=2, verify=stack.verify)
            return health.status_code == 200  # open
        except requests.RequestException:
            return False

    wait_until(answers, 60, "nginx answers again")
    stack.record(nginx_killed_back_s=round(time.monotonic() - killed, 2))
    assert stack.container("nginx")["Id"] == nginx["Id"], "the guard started the same container again"
    (recovered,) = wait_until(lambda: new_events(stack, events, "proxy"), 30, "the outage is in the history")
    assert (recovered["target"], recovered["result"]) == ("nginx", "recovered")
    wait_until(lambda: alerts_named(received, "NginxDown", posts), 120, "the alert arrives despite the webhook")
    assert received.attempts > received.fail_first, "Alertmanager retried the failed deliveries"


@pytest.fixture(scope="module")
def faulty_release(stack: Stack) -> Iterator[str]:
    """A release whose backend turns faulty on demand (tests/e2e/faulty_backend): blue's images, tagged anew, with
    a middleware that answers 500 or a second late while BUNDLES_DIR/.fault says so. Green is given this
    checkout's release back afterwards."""
    blue = stack.state().colors["blue"]
    tag = f"faulty-{blue.tag[:12]}"
    docker(
        "build",
        "--quiet",
        "--build-arg",
        f"BASE={blue.images['backend']}",
        "--build-arg",
        f"TAG={tag}",
        "-t",
        f"credit-risk/backend:{tag}",
        str(FAULTY_BACKEND),
    )
    docker("tag", blue.images["frontend"], f"credit-risk/frontend:{tag}")
    try:
        yield tag
    finally:
        (stack.settings.BUNDLES_DIR / ".fault").unlink(missing_ok=True)
        on_blue(stack)
        redeployed = stack.cli("deploy", "--color", "green", "--tag", blue.tag, "--model", blue.model_version)
        assert redeployed.returncode == 0, redeployed.stdout + redeployed.stderr
        docker("rmi", f"credit-risk/backend:{tag}", f"credit-risk/frontend:{tag}")


def switch_in_background(stack: Stack, color: str) -> tuple[threading.Thread, list[subprocess.CompletedProcess]]:
    """`switch COLOR` following the controller's watch to its verdict (DEPLOY_WATCH_WAIT=true), in a thread."""
    result: list[subprocess.CompletedProcess] = []
    thread = threading.Thread(target=lambda: result.append(stack.cli("switch", color, DEPLOY_WATCH_WAIT="true")))
    thread.start()
    return thread, result


def watching(stack: Stack, color: str) -> bool:
    watch = stack.state().watch
    return watch is not None and watch.color == color and watch.status == "watching" and stack.active_conf() == color


@pytest.mark.parametrize("fault", ["5xx", "slow"])
def test_a_green_that_fails_after_its_switch_is_rolled_back_by_the_watch(
    stack: Stack, alert_receiver: tuple[Received, int], faulty_release: str, fault: str
) -> None:
    received, _ = alert_receiver
    on_blue(stack)
    blue = stack.state().colors["blue"]
    deployed = stack.cli("deploy", "--color", "green", "--tag", faulty_release, "--model", blue.model_version)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    events, posts = len(stack.history()), len(received.posts)
    traffic = Traffic(
        stack.settings.public_url, example_applicant(stack), clients=4, headers=stack.headers, verify=stack.verify
    )
    traffic.start()
    try:
        time.sleep(12)  # blue's latency before the switch: two scrapes at least (prometheus.yml: every 5 s)
        thread, result = switch_in_background(stack, "green")
        wait_until(lambda: watching(stack, "green"), 120, "the switch passes its gates and the watch starts")
        (stack.settings.BUNDLES_DIR / ".fault").write_text(fault)
        thread.join(timeout=180)
    finally:
        (stack.settings.BUNDLES_DIR / ".fault").unlink(missing_ok=True)
        traffic.stop()

    (switched,) = result
    assert switched.returncode == 1 and "ROLLED BACK" in switched.stdout, switched.stdout
    (rollback,) = [e for e in stack.history()[events:] if e["result"] == "rolled back"]
    assert (rollback["operation"], rollback["target"], rollback["source"]) == ("watch", "blue", "green")
    reason = rollback["reason"]
    assert ("5xx" in reason) if fault == "5xx" else ("p99" in reason), reason
    assert stack.active_conf() == "blue" and public_color(stack) == "blue"
    assert stack.state().watch.status == "rolled back"
    stack.record(**{f"watch_rollback_{fault}": {"reason": reason, "failed_requests": len(traffic.failures())}})
    wait_until(lambda: alerts_named(received, "SwitchRolledBack", posts), 90, "the alert arrives")


def test_with_prometheus_down_the_watch_is_not_judged_and_traffic_stays(stack: Stack) -> None:
    on_blue_with_green_standing_by(stack)
    compose = stack.compose()
    compose.stop(["prometheus"])
    try:
        traffic = Traffic(
            stack.settings.public_url, example_applicant(stack), clients=2, headers=stack.headers, verify=stack.verify
        )
        traffic.start()
        try:
            switched = stack.cli("switch", "green", DEPLOY_WATCH_WAIT="true")
        finally:
            traffic.stop()
    finally:
        compose.up(["prometheus"], wait=False, no_deps=True, recreate=False)
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert "INCONCLUSIVE" in switched.stdout, switched.stdout
    assert stack.active_conf() == "green" and traffic.failures() == []
    last = stack.history()[-1]
    assert (last["operation"], last["target"], last["result"]) == ("watch", "green", "inconclusive")
    assert "Prometheus" in last["reason"] or "prometheus" in last["reason"], last["reason"]


def copied_version(stack: Stack, source: str, **metadata_changes: object) -> str:
    """A copy of version `source` as a new version (its metadata changed as asked), with a valid digest and in the
    registry: every check before the sanity gate passes it. It stays: the registry knows it, and a number it knows
    without a bundle would fork the numbering of the next training."""
    root = stack.settings.BUNDLES_DIR / "credit-default"
    version = str(max(int(p.name) for p in root.iterdir() if p.name.isdigit()) + 1)
    shutil.copytree(root / source, root / version)
    metadata_path = root / version / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata.update(version=version, **metadata_changes)
    metadata_path.write_text(json.dumps(metadata))
    write_digest(root / version)
    ModelRegistry(stack.settings.mlflow_url, "credit-default").sync(stack.settings.BUNDLES_DIR)
    return version


def test_the_sanity_gate_refuses_a_bundle_that_flags_everyone_and_passes_a_real_version(stack: Stack) -> None:
    on_blue(stack)
    blue = stack.state().colors["blue"]
    green_before = stack.state().colors.get("green")
    doctored = copied_version(stack, blue.model_version, threshold=0.001)  # flags (almost) every applicant
    refused = stack.cli("deploy", "--color", "green", "--model", doctored)
    real = copied_version(stack, blue.model_version)  # the same model as a new version; also the newest again
    assert refused.returncode == 1 and "decision sanity" in refused.stdout, refused.stdout
    assert "--force" in refused.stdout
    assert stack.state().colors.get("green") == green_before, "green keeps its release"
    last = stack.cli_history()[-1]
    assert (last["operation"], last["result"]) == ("deploy", "refused") and "flag" in last["reason"]

    passed = stack.cli("deploy", "--color", "green", "--model", real)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    sanity = stack.cli_history()[-1]["figures"]["sanity"]
    assert sanity["flagged_share"] == pytest.approx(sanity["training_flagged_share"], abs=0.15), sanity
    stack.record(sanity_gate={"refused": last["reason"], "passed": sanity})
