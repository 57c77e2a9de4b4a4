"""The controller's rounds against real HTTP backends at the colors' fixed addresses (127.0.0.11 and .21 here),
a Prometheus query API and an alert receiver: failover of a dead active color, no move on a healthy stack,
the cool-down, the operation lock, the watch's rollback, pass and inconclusive verdicts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from deploy.alerts import AlertSender
from deploy.controller.loop import ConfigSource, Controller
from deploy.controller.metrics import ControllerMetrics
from deploy.controller.settings import ControllerSettings
from deploy.controller_config import DEFAULT_CONFIG
from deploy.errors import UsageError
from deploy.lock import operation_lock
from deploy.nginx_config import ActiveFile
from deploy.prometheus import Prometheus
from deploy.release import Release
from deploy.service_keys import ensure_service_keys
from deploy.settings import DeploySettings
from deploy.state import Event, StateFile, WatchRecord, now
from deploy.tests.prometheus_server import Answers, Received, serve_prometheus, serve_receiver
from deploy.tests.stack_server import Backend, serve, serve_text

BLUE = Release("b" * 40, {"backend": "credit-risk/backend:b", "frontend": "credit-risk/frontend:b"}, "6")
GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")
HOSTS = {"blue": "127.0.0.11", "green": "127.0.0.21"}


@dataclass
class Rig:
    controller: Controller
    state: StateFile
    active: ActiveFile
    received: Received
    answers: Answers
    backends: dict[str, Backend]
    servers: dict[str, ExitStack]
    port: int

    def ticks(self, count: int) -> None:
        for _ in range(count):
            self.controller.tick()

    def stop(self, color: str) -> None:
        self.servers[color].close()

    def start(self, color: str) -> None:
        self.servers[color] = ExitStack()
        self.servers[color].enter_context(serve(self.backends[color], self.port, HOSTS[color]))

    def alerts(self, timeout_s: float = 5.0) -> list[str]:
        deadline = time.time() + timeout_s
        while time.time() < deadline and not self.received.posts:
            time.sleep(0.05)
        return [alert["labels"]["alertname"] for post in self.received.posts for alert in post]


def free_shared_port() -> int:
    import socket

    for _ in range(50):
        with socket.socket() as first:
            first.bind((HOSTS["blue"], 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind((HOSTS["green"], port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free on both addresses")


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("DEPLOY_OPERATOR", "controller")
    config = tmp_path / "controller" / "controller.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(DEFAULT_CONFIG.read_text().replace("cooldown_s: 120", "cooldown_s: 60"))
    state = StateFile(tmp_path / "state.json")
    state.pin("blue", BLUE)
    state.pin("green", GREEN)
    state.record(
        Event(now(), "switch", "ana@host", "green", "blue", "switched", "ok", 1.0, GREEN.to_json(), BLUE.to_json())
    )
    state.record(
        Event(now(), "switch", "ana@host", "blue", "green", "switched", "ok", 1.0, BLUE.to_json(), GREEN.to_json())
    )
    active = ActiveFile(tmp_path / "nginx")
    active.write("blue")
    received, answers = Received(), Answers({"http_requests_total": 0.0})
    deploy_settings = DeploySettings(DEPLOY_STATE_DIR=tmp_path)
    ensure_service_keys(deploy_settings, say=lambda line: None)  # as `make up` does: the probes send the CLI's key
    backends = {
        color: Backend(color=color, version=version, key_store=deploy_settings.api_keys_file)
        for color, version in (("blue", "6"), ("green", "7"))
    }
    port = free_shared_port()
    nginx = ExitStack()
    nginx_url = nginx.enter_context(serve_text("Active connections: 1\n"))
    with serve_receiver(received) as receiver_url, serve_prometheus(answers) as prometheus_url, nginx:
        settings = ControllerSettings(STACK_NET="127.0.0", DEPLOY_STATE_DIR=tmp_path, NGINX_STATUS_URL=nginx_url)
        controller = Controller(
            settings,
            ConfigSource(config),
            Prometheus(prometheus_url),
            AlertSender(receiver_url),
            ControllerMetrics("http://127.0.0.1:9/nginx_status"),
        )
        controller.prober.port = port
        test_rig = Rig(controller, state, active, received, answers, backends, {"nginx": nginx}, port)
        test_rig.start("blue")
        test_rig.start("green")
        try:
            yield test_rig
        finally:
            for color in ("blue", "green"):
                test_rig.servers[color].close()


def test_a_healthy_stack_is_left_alone_and_its_status_is_written(rig: Rig) -> None:
    rig.ticks(10)
    assert rig.active.active() == "blue"
    assert [e.operation for e in rig.state.load().history] == ["switch", "switch"]
    status = json.loads(rig.controller.settings.status_path.read_text())
    assert (
        status["active"] == "blue" and status["colors"]["green"]["ready"] and status["colors"]["blue"]["version"] == "6"
    )
    assert status["prometheus"]["reachable"] is True
    assert {*rig.backends["blue"].callers, *rig.backends["green"].callers} == {"deploy-cli"}, "with the CLI's key"


def test_a_dead_active_color_fails_over_after_three_probes_with_an_alert_and_a_record(rig: Rig) -> None:
    rig.ticks(3)
    rig.stop("blue")
    rig.ticks(2)
    assert rig.active.active() == "blue", "two failed probes are not enough"
    rig.ticks(1)
    assert rig.active.active() == "green"
    event = rig.state.load().history[-1]
    assert (event.operation, event.operator, event.target, event.source, event.result) == (
        "failover",
        "controller",
        "green",
        "blue",
        "failed over",
    )
    assert "3 failed readiness probes in a row" in event.reason and event.figures["idle_healthy_probes"] >= 3
    assert rig.alerts() == ["TrafficFailedOver"]


def test_no_flapping_within_the_cool_down(rig: Rig) -> None:
    rig.ticks(3)
    rig.stop("blue")
    rig.ticks(3)
    assert rig.active.active() == "green"
    rig.start("blue")
    rig.stop("green")
    rig.ticks(6)
    assert rig.active.active() == "green", "the cool-down holds the traffic"
    assert "cool-down" in (rig.controller.blocked or "")
    assert sum(e.operation == "failover" for e in rig.state.load().history) == 1


def test_the_cool_down_survives_a_restart_of_the_controller(rig: Rig) -> None:
    rig.ticks(3)
    rig.stop("blue")
    rig.ticks(3)
    restarted = Controller(
        rig.controller.settings,
        rig.controller.config,
        rig.controller.prometheus,
        rig.controller.alerts,
        rig.controller.metrics,
    )
    assert restarted.last_move_at is not None and time.time() - restarted.last_move_at < 60


def test_a_running_cli_operation_defers_the_failover_until_it_is_done(rig: Rig) -> None:
    rig.ticks(3)
    rig.stop("blue")
    with operation_lock(rig.controller.settings.DEPLOY_STATE_DIR, "deploy", 0.0):
        rig.ticks(4)
        assert rig.active.active() == "blue"
    rig.ticks(1)
    assert rig.active.active() == "green"


def test_no_failover_onto_a_color_that_is_not_ready(rig: Rig) -> None:
    rig.backends["green"].failed = "the bundle is truncated"
    rig.ticks(3)
    rig.stop("blue")
    rig.ticks(5)
    assert rig.active.active() == "blue"
    assert "green is not healthy (HTTP 503 (failed))" in rig.controller.blocked


def start_watch(rig: Rig, started_ago_s: float = 10.0, window_s: float = 60.0) -> WatchRecord:
    rig.active.write("green")
    watch = WatchRecord("green", "blue", now(), time.time() - started_ago_s, window_s, GREEN.to_json(), 0.3)
    rig.state.set_watch(watch)
    return watch


def test_the_watch_rolls_a_failing_color_back_by_itself(rig: Rig) -> None:
    start_watch(rig)
    rig.answers.values = {'status=~"5.."': 50.0, "http_requests_total": 100.0}
    rig.ticks(2)
    assert rig.active.active() == "blue"
    state = rig.state.load()
    assert (
        state.watch.status == "rolled back" and "50% of its 100 scoring requests failed with 5xx" in state.watch.verdict
    )
    event = state.history[-1]
    assert (event.operation, event.target, event.source, event.result) == ("watch", "blue", "green", "rolled back")
    assert event.figures["errors_5xx"] == 50 and event.figures["requests"] == 100
    assert rig.alerts() == ["SwitchRolledBack"]


def test_a_watch_that_fails_while_the_previous_color_is_down_keeps_the_traffic_and_says_so(rig: Rig) -> None:
    start_watch(rig)
    rig.stop("blue")
    rig.answers.values = {'status=~"5.."': 50.0, "http_requests_total": 100.0}
    rig.ticks(1)
    state = rig.state.load()
    assert rig.active.active() == "green" and state.watch.status == "failed"
    assert "blue is not ready: traffic stays" in state.watch.verdict


def test_a_watch_passes_at_the_end_of_its_window_with_the_figures_that_decided(rig: Rig) -> None:
    start_watch(rig, started_ago_s=61.0)
    rig.answers.values = {'status=~"5.."': 0.0, "http_requests_total": 500.0}
    rig.ticks(1)
    state = rig.state.load()
    assert rig.active.active() == "green" and state.watch.status == "passed"
    event = state.history[-1]
    assert (event.operation, event.result) == ("watch", "passed") and event.figures["requests"] == 500


def test_without_prometheus_the_watch_is_inconclusive_and_nothing_moves(rig: Rig) -> None:
    start_watch(rig, started_ago_s=61.0)
    rig.answers.down = True
    rig.ticks(1)
    state = rig.state.load()
    assert rig.active.active() == "green" and state.watch.status == "inconclusive"
    assert "refused the query" in state.watch.verdict
    rig.controller.last_status_at = 0
    rig.ticks(1)
    status = json.loads(rig.controller.settings.status_path.read_text())
    assert status["prometheus"]["reachable"] is False and "refused the query" in status["prometheus"]["error"]


def test_a_switch_by_someone_else_supersedes_the_watch(rig: Rig) -> None:
    start_watch(rig)
    rig.active.write("blue")
    rig.ticks(1)
    assert rig.state.load().watch.status == "superseded"


def test_a_bad_new_bounds_file_is_logged_and_the_last_good_one_kept(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    path = rig.controller.config.path
    path.write_text(path.read_text().replace("after_failed_probes: 3", "after_failed_probes: 0"))
    future = time.time() + 5
    import os

    os.utime(path, (future, future))
    with caplog.at_level("ERROR"):
        config = rig.controller.config.get()
    assert config.failover.after_failed_probes == 3
    assert "failover.after_failed_probes" in caplog.text and "keeping the previous bounds" in caplog.text


def test_nginx_not_answering_is_alerted_and_its_outage_recorded_when_it_is_back(rig: Rig) -> None:
    url = rig.controller.settings.nginx_status_url
    rig.ticks(2)
    rig.servers["nginx"].close()
    rig.ticks(3)
    assert rig.alerts() == ["NginxDown"]
    rig.servers["nginx"] = ExitStack()
    port = int(url.split(":")[2].split("/")[0])
    rig.servers["nginx"].enter_context(serve_text("Active connections: 1\n", port=port))
    rig.ticks(1)
    event = rig.state.load().history[-1]
    assert (event.operation, event.target, event.result) == ("proxy", "nginx", "recovered")
    assert "nginx did not answer for" in event.reason and event.figures["down_s"] >= 0
    assert rig.active.active() == "blue", "nginx down is no reason to move the traffic"


def test_5xx_fail_over_counts_only_answers_since_the_color_became_active(rig: Rig) -> None:
    """Half of the active color's answers are 5xx: it fails over after two analyses, but only once it has been
    active long enough for a window of its own (a color switched to again does not pay for earlier errors)."""
    clock = [1_000.0]
    rig.controller.clock = lambda: clock[0]
    rig.answers.values = {'status=~"5.."': 9.0, "http_requests_total": 10.0}

    def analyse_after(seconds: float) -> None:
        clock[0] += seconds
        rig.ticks(1)

    rig.ticks(3)  # one analysis; green seen ready three times. Since when blue is active is unknown: 30 s count
    analyse_after(6)
    assert rig.active.active() == "green", "two analyses over the bound"
    asked = [query for query, _ in rig.answers.queries if 'status=~"5.."' in query]
    assert asked and all("[30s]" in query for query in asked)

    clock[0] += 61  # past the cool-down
    rig.active.write("blue")  # an operator switches back
    analyse_after(0)
    analyse_after(6)
    assert rig.active.active() == "blue", "6 s on blue: no window of its own yet"
    analyse_after(6)
    analyse_after(6)
    assert rig.active.active() == "green"
    assert any("[12s]" in query for query, _ in rig.answers.queries), "the window starts at the switch"


def test_the_controller_writing_its_watch_never_refuses_an_operators_command(rig: Rig) -> None:
    """The watch's figures are bookkeeping, not an operation: while the controller writes them (every analysis),
    a `make switch-…` started at that instant must run, not be refused as if a deploy held the lock."""
    watch = start_watch(rig)
    writing = threading.Event()
    writes = 0

    def write_the_watch() -> None:
        nonlocal writes
        while not writing.is_set():
            rig.controller._update_watch(replace(watch, checked=now()))
            writes += 1

    writer = threading.Thread(target=write_the_watch)
    writer.start()
    refused = []
    try:
        for _ in range(200):
            try:
                with operation_lock(rig.controller.settings.DEPLOY_STATE_DIR, "switch blue", 0.0):
                    rig.state.record(Event(now(), "switch", "ana@host", "blue", "green", "switched", "ok", 0.1))
            except UsageError as refusal:
                refused.append(str(refusal))
            time.sleep(0.002)
    finally:
        writing.set()
        writer.join()
    assert writes > 50 and refused == []
    state = rig.state.load()
    assert state.watch.started_ts == watch.started_ts  # both writers' changes kept: the watch and every event
    assert sum(event.operation == "switch" for event in state.history) == 202
