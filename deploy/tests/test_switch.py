"""The switch's steps, gates and automatic restore, with nginx control and HTTP gates injected
(the real thing runs in tests/e2e). The active-upstream and state files are real files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.nginx_config import ActiveFile, render
from deploy.probe import Expected, GateError
from deploy.release import Release
from deploy.state import StateFile
from deploy.switch import Switch

BLUE = Release("b" * 40, {"backend": "credit-risk/backend:b", "frontend": "credit-risk/frontend:b"}, "6")
GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")


@dataclass
class FakeNginx:
    """Records the calls with the active color nginx would load; fails the listed calls."""

    active_file: ActiveFile
    fail: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    serving: str = "blue"  # the color the public port routes to after the last successful reload

    def test(self) -> None:
        self.calls.append(f"test:{self.active_file.active()}")
        if "test" in self.fail:
            raise DeployError("nginx -t: syntax error")

    def reload(self) -> None:
        self.calls.append(f"reload:{self.active_file.active()}")
        if "reload" in self.fail:
            self.fail.discard("reload")  # the restore's reload works
            raise DeployError("nginx -s reload: no master process")
        self.serving = self.active_file.active()


@dataclass
class FakeGates:
    nginx: FakeNginx
    fail: dict[str, str] = field(default_factory=dict)  # gate -> reason
    calls: list[str] = field(default_factory=list)
    broken_after_reload: str | None = None  # a color that stops answering once it gets the traffic

    expected: list[Expected] = field(default_factory=list)

    def wait_ready(self, color: str, timeout: float, expected: Expected = Expected()) -> str:
        self.calls.append(f"ready:{color}")
        self.expected.append(expected)
        if "ready" in self.fail:
            raise GateError(self.fail["ready"])
        return "7"

    def smoke(self, color: str, expected: Expected = Expected()) -> int:
        self.calls.append(f"smoke:{color}")
        if "smoke" in self.fail:
            raise GateError(self.fail["smoke"])
        return 3

    def verify(self, color: str, timeout: float) -> None:
        self.calls.append(f"verify:{color}")
        if self.nginx.serving != color:
            raise GateError(f"public port answers as {self.nginx.serving}")
        if color == self.broken_after_reload:
            raise GateError(f"{color} stopped answering")


@pytest.fixture()
def parts(tmp_path: Path) -> tuple[Switch, FakeNginx, FakeGates, list[str]]:
    active = ActiveFile(tmp_path / "nginx")
    active.write("blue")
    state = StateFile(tmp_path / "state.json")
    state.pin("blue", BLUE)
    state.pin("green", GREEN)
    nginx = FakeNginx(active)
    gates = FakeGates(nginx)
    lines: list[str] = []
    switch = Switch(active, nginx, gates, state, ready_timeout=5, verify_timeout=5, say=lines.append)
    return switch, nginx, gates, lines


def last_attempt(switch: Switch):
    return switch.state.load().history[-1]


def test_a_healthy_target_gets_the_traffic(parts) -> None:
    switch, nginx, gates, lines = parts
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("switched", 0)
    assert switch.active_file.read() == render("green")
    assert gates.calls == ["ready:green", "smoke:green", "verify:green"]
    assert nginx.calls == ["test:green", "reload:green"]
    attempt = last_attempt(switch)
    assert (attempt.source, attempt.target, attempt.release("source"), attempt.release("target")) == (
        "blue",
        "green",
        BLUE,
        GREEN,
    )
    assert attempt.result == "switched" and "@" in attempt.operator
    assert gates.expected == [Expected("7", "g" * 40)], "the gates check the pinned model and code"
    assert [line.strip()[:5] for line in lines if line.strip().startswith("[")] == [
        "[1/4]",
        "[2/4]",
        "[3/4]",
        "[4/4]",
    ]


def test_switching_to_the_active_color_changes_nothing(parts) -> None:
    switch, nginx, gates, _ = parts
    before = switch.active_file.path.stat()
    outcome = switch.run("blue")
    assert (outcome.result, outcome.exit_code) == ("already active", 0)
    assert "already receives the traffic" in outcome.reason
    assert nginx.calls == [] and gates.calls == []
    assert switch.active_file.path.stat().st_mtime_ns == before.st_mtime_ns
    assert last_attempt(switch).result == "already active"


@pytest.mark.parametrize("gate", ["ready", "smoke"])
def test_a_target_failing_a_gate_is_refused_and_nginx_is_untouched(parts, gate: str) -> None:
    switch, nginx, gates, _ = parts
    gates.fail[gate] = f"green failed {gate}"
    before = switch.active_file.read()
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("refused", 1)
    assert f"green failed {gate}" in outcome.reason and "traffic stays on blue" in outcome.reason
    assert switch.active_file.read() == before
    assert nginx.calls == []
    attempt = last_attempt(switch)
    assert (attempt.result, attempt.target) == ("refused", "green")
    assert f"green failed {gate}" in attempt.reason


def test_a_config_that_fails_nginx_t_is_restored_without_reload(parts) -> None:
    switch, nginx, gates, _ = parts
    nginx.fail.add("test")
    before = switch.active_file.read()
    outcome = switch.run("green")
    assert outcome.exit_code == 1
    assert switch.active_file.read() == before
    assert not any(call.startswith("reload") for call in nginx.calls)
    assert last_attempt(switch).result == "failed"  # the restore's own nginx -t fails too here


def test_a_failed_reload_is_rolled_back(parts) -> None:
    switch, nginx, gates, _ = parts
    nginx.fail.add("reload")
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("rolled back", 1)
    assert "no master process" in outcome.reason
    assert switch.active_file.active() == "blue"
    assert nginx.calls == ["test:green", "reload:green", "test:blue", "reload:blue"]
    assert nginx.serving == "blue"


def test_a_target_that_breaks_after_the_reload_is_rolled_back(parts) -> None:
    switch, nginx, gates, lines = parts
    gates.broken_after_reload = "green"
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("rolled back", 1)
    assert "green stopped answering" in outcome.reason and "traffic is on blue again" in outcome.reason
    assert switch.active_file.read() == render("blue")
    assert nginx.serving == "blue"
    assert gates.calls == ["ready:green", "smoke:green", "verify:green", "verify:blue"]
    assert last_attempt(switch).result == "rolled back"
    assert any("restoring the previous nginx configuration" in line for line in lines)


def test_a_rollback_whose_source_does_not_answer_is_reported_as_failed(parts) -> None:
    switch, nginx, gates, _ = parts
    gates.broken_after_reload = "green"
    original_verify = gates.verify

    def verify(color: str, timeout: float) -> None:
        if color == "blue":
            raise GateError("blue is down too")
        original_verify(color, timeout)

    gates.verify = verify
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("failed", 1)
    assert "nginx is back on blue, but blue fails: blue is down too" in outcome.reason
    assert switch.active_file.active() == "blue"


def test_every_attempt_is_recorded_in_order(parts) -> None:
    switch, _, gates, _ = parts
    gates.fail["ready"] = "not ready"
    switch.run("green")
    del gates.fail["ready"]
    switch.run("green")
    switch.run("green")
    switch.run("blue")
    assert [(a.target, a.result) for a in switch.state.load().history] == [
        ("green", "refused"),
        ("green", "switched"),
        ("green", "already active"),
        ("blue", "switched"),
    ]
