"""When the controller moves the traffic by itself, and when it must not: hysteresis, a safe idle color (healthy,
on a release that served before, never refused or rolled back), the cool-down."""

from __future__ import annotations

import pytest

from deploy.controller.failover import decide, failed_gates, served_before
from deploy.controller.probes import ProbeResult, ProbeTrack
from deploy.controller_config import Failover
from deploy.release import Release
from deploy.state import Event, now

BLUE = Release("b" * 40, {"backend": "credit-risk/backend:b", "frontend": "credit-risk/frontend:b"}, "6")
GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")
NEW_GREEN = Release("n" * 40, {"backend": "credit-risk/backend:n", "frontend": "credit-risk/frontend:n"}, "8")
BOUNDS = Failover(after_failed_probes=3, idle_healthy_probes=3, cooldown_s=120)


def event(operation: str, target: str, result: str, target_release: Release, source_release: Release) -> Event:
    source = "blue" if target == "green" else "green"
    return Event(
        now(),
        operation,
        "ana@host",
        target,
        source,
        result,
        "why",
        1.0,
        target_release.to_json(),
        source_release.to_json(),
    )


SERVED = [event("switch", "green", "switched", GREEN, BLUE), event("switch", "blue", "switched", BLUE, GREEN)]


def tracks(active_failures: int, idle_ok: int = 5, idle_version: str = "7") -> dict[str, ProbeTrack]:
    blue, green = ProbeTrack(), ProbeTrack()
    for i in range(active_failures):
        blue.add(ProbeResult(False, "ConnectTimeout"), 100.0 + i)
    if not active_failures:
        blue.add(ProbeResult(True, "ready", "6"), 100.0)
    for i in range(idle_ok):
        green.add(ProbeResult(True, "ready", idle_version), 100.0 + i)
    return {"blue": blue, "green": green}


def decision(**overrides):
    args = dict(
        active="blue",
        idle="green",
        tracks=tracks(3),
        idle_release=GREEN,
        history=SERVED,
        error_breaches=0,
        bounds=BOUNDS,
        now=110.0,
        last_move_at=None,
    )
    args.update(overrides)
    return decide(**args)


def test_a_healthy_active_color_is_left_alone() -> None:
    assert decision(tracks=tracks(0)) is None


def test_two_failed_probes_are_not_enough() -> None:
    assert decision(tracks=tracks(2)) is None


def test_three_failed_probes_move_the_traffic_to_a_healthy_idle_color_that_served_before() -> None:
    verdict = decision()
    assert verdict.move
    assert "3 failed readiness probes in a row (last: ConnectTimeout)" in verdict.reason
    assert verdict.figures["idle_healthy_probes"] == 5 and verdict.figures["active_failing_for_s"] == 10.0


def test_5xx_above_the_bound_in_two_analyses_in_a_row_is_a_failure_too() -> None:
    assert decision(tracks=tracks(0), error_breaches=1) is None
    verdict = decision(tracks=tracks(0), error_breaches=2)
    assert verdict.move and "5xx ratio stayed above 50%" in verdict.reason


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"tracks": tracks(3, idle_ok=2)}, "green is not healthy"),
        ({"tracks": tracks(3, idle_version="9")}, "green serves model v9, not its pinned v7"),
        ({"idle_release": None}, "nothing is deployed on green"),
        ({"idle_release": NEW_GREEN, "tracks": tracks(3, idle_version="8")}, "never served traffic"),
        ({"last_move_at": 50.0}, "the cool-down holds traffic for 60s more"),
    ],
)
def test_traffic_stays_when_the_idle_color_is_no_safe_place_or_a_move_was_recent(overrides: dict, why: str) -> None:
    verdict = decision(**overrides)
    assert verdict is not None and not verdict.move
    assert why in verdict.reason and verdict.reason.startswith("blue fails (")


def test_a_release_refused_at_its_gates_or_rolled_back_by_the_watch_never_gets_traffic_by_failover() -> None:
    refused = [*SERVED, event("deploy", "green", "refused", GREEN, BLUE)]
    assert "was refused" in failed_gates(refused, "green", GREEN)
    assert not decision(history=refused).move
    watched = [*SERVED, event("watch", "blue", "rolled back", BLUE, GREEN)]
    assert "rolled it back" in failed_gates(watched, "green", GREEN)
    assert not decision(history=watched).move
    assert failed_gates(SERVED, "green", GREEN) is None


def test_served_before_means_this_exact_release_on_this_color() -> None:
    assert served_before(SERVED, "green", GREEN)
    assert not served_before(SERVED, "green", NEW_GREEN)
    assert not served_before(SERVED, "blue", GREEN)
    up = [Event(now(), "up", "ana@host", "green", None, "started", "x", 1.0, NEW_GREEN.to_json(), None)]
    assert served_before(up, "green", NEW_GREEN)
