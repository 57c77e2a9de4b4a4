"""The switch's steps, gates and automatic restore, with nginx control and HTTP gates injected
(the real thing runs in tests/e2e). The active-upstream and state files are real files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.nginx_config import ActiveFile
from deploy.probe import Expected, GateError
from deploy.release import Release
from deploy.state import StateFile
from deploy.switch import Switch

BLUE = Release("b" * 40, {"backend": "credit-risk/backend:b", "frontend": "credit-risk/frontend:b"}, "6")
GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")


@dataclass
class FakeNginx:
    """The public port as nginx would route it: the color of the marker, read per request."""

    active_file: ActiveFile

    @property
    def serving(self) -> str:
        return self.active_file.active()


class FailingActiveFile(ActiveFile):
    """The marker's directory refusing writes once (a full or read-only disk)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.fail_next = False

    def write(self, active: str) -> None:
        if self.fail_next:
            self.fail_next = False
            raise OSError(30, "Read-only file system")
        super().write(active)


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
    active = FailingActiveFile(tmp_path / "nginx")
    active.write("blue")
    state = StateFile(tmp_path / "state.json")
    state.pin("blue", BLUE)
    state.pin("green", GREEN)
    nginx = FakeNginx(active)
    gates = FakeGates(nginx)
    lines: list[str] = []
    switch = Switch(active, gates, state, ready_timeout=5, verify_timeout=5, say=lines.append)
    return switch, nginx, gates, lines


def last_attempt(switch: Switch):
    return switch.state.load().history[-1]


def test_a_healthy_target_gets_the_traffic(parts) -> None:
    switch, nginx, gates, lines = parts
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("switched", 0)
    assert switch.active_file.active() == "green" and nginx.serving == "green"
    assert gates.calls == ["ready:green", "smoke:green", "verify:green"]
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
    outcome = switch.run("blue")
    assert (outcome.result, outcome.exit_code) == ("already active", 0)
    assert "already receives the traffic" in outcome.reason
    assert gates.calls == [] and nginx.serving == "blue"
    assert last_attempt(switch).result == "already active"


@pytest.mark.parametrize("gate", ["ready", "smoke"])
def test_a_target_failing_a_gate_is_refused_and_nginx_is_untouched(parts, gate: str) -> None:
    switch, nginx, gates, _ = parts
    gates.fail[gate] = f"green failed {gate}"
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("refused", 1)
    assert f"green failed {gate}" in outcome.reason and "traffic stays on blue" in outcome.reason
    assert nginx.serving == "blue"
    attempt = last_attempt(switch)
    assert (attempt.result, attempt.target) == ("refused", "green")
    assert f"green failed {gate}" in attempt.reason


def test_a_marker_that_cannot_be_written_leaves_the_traffic_where_it_was(parts) -> None:
    switch, nginx, gates, _ = parts
    switch.active_file.fail_next = True
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("rolled back", 1)
    assert "Read-only file system" in outcome.reason and nginx.serving == "blue"
    assert gates.calls[-1] == "verify:blue"


def test_a_target_that_breaks_after_the_flip_is_rolled_back(parts) -> None:
    switch, nginx, gates, lines = parts
    gates.broken_after_reload = "green"
    outcome = switch.run("green")
    assert (outcome.result, outcome.exit_code) == ("rolled back", 1)
    assert "green stopped answering" in outcome.reason and "traffic is on blue again" in outcome.reason
    assert nginx.serving == "blue"
    assert gates.calls == ["ready:green", "smoke:green", "verify:green", "verify:blue"]
    assert last_attempt(switch).result == "rolled back"
    assert any("pointing nginx back at blue" in line for line in lines)


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
