"""When the traffic moves by itself: the active color fails (its probes, or its 5xx ratio) and the idle color
is a safe place to go. Pure functions of the probes, the history and the bounds: what to do and why.

Hysteresis: a color fails only after `after_failed_probes` failed probes in a row (or two analyses in a row
above the 5xx bound) and the idle color must have answered ready `idle_healthy_probes` times in a row. After
an automatic move, none follows within `cooldown_s` (no flapping between two sick colors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deploy.controller.probes import ProbeTrack
from deploy.controller_config import Failover
from deploy.release import Release
from deploy.state import Event

SERVED = {"switched", "started", "failed over", "promoted"}  # results by which a color took the public traffic
REFUSED = {"refused"}
ERROR_BREACHES_TO_FAIL = 2  # consecutive 5xx analyses above the bound


@dataclass(frozen=True)
class Decision:
    move: bool
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)


def served_before(history: Sequence[Event], color: str, release: Release) -> bool:
    """Whether `color` took public traffic on exactly this release (a switch, `up`, or a failover to it)."""
    pinned = release.to_json()
    return any(e.target == color and e.result in SERVED and e.target_release == pinned for e in history)


def failed_gates(history: Sequence[Event], color: str, release: Release) -> str | None:
    """Why this release on `color` must not get traffic: a refused deploy or switch, or a rollback by the watch."""
    pinned = release.to_json()
    for event in reversed(history):
        if event.target == color and event.target_release == pinned and event.result in REFUSED:
            return f"its release was refused at {event.time}: {event.reason}"
        if event.operation == "watch" and event.result == "rolled back" and event.source == color:
            if event.source_release == pinned:
                return f"the watch rolled it back at {event.time}: {event.reason}"
    return None


def active_failure(track: ProbeTrack, error_breaches: int, bounds: Failover) -> str | None:
    """Why the active color counts as failed (None: it does not)."""
    if track.failures >= bounds.after_failed_probes:
        detail = track.last.detail if track.last else "?"
        return f"{track.failures} failed readiness probes in a row (last: {detail})"
    if error_breaches >= ERROR_BREACHES_TO_FAIL:
        return f"its 5xx ratio stayed above {bounds.max_5xx_ratio:.0%} for {error_breaches} analyses"
    return None


def idle_problem(
    track: ProbeTrack, release: Release | None, history: Sequence[Event], color: str, bounds: Failover
) -> str | None:
    """Why the idle color is not a safe place for the traffic (None: it is)."""
    if release is None:
        return f"nothing is deployed on {color}"
    if track.successes < bounds.idle_healthy_probes:
        return f"{color} is not healthy ({track.last.detail if track.last else 'not probed yet'})"
    last = track.last
    if last is not None and last.version not in (None, release.model_version):
        return f"{color} serves model v{last.version}, not its pinned v{release.model_version}"
    refused = failed_gates(history, color, release)
    if refused:
        return f"{color} failed its gates: {refused}"
    if not served_before(history, color, release):
        return f"{color}'s release {release.describe()} never served traffic"
    return None


def decide(
    active: str,
    idle: str,
    tracks: dict[str, ProbeTrack],
    idle_release: Release | None,
    history: Sequence[Event],
    error_breaches: int,
    bounds: Failover,
    now: float,
    last_move_at: float | None,
) -> Decision | None:
    """None while the active color is fine; otherwise whether to move to the idle color, and why (not)."""
    failure = active_failure(tracks[active], error_breaches, bounds)
    if failure is None:
        return None
    figures = {
        "active_failure": failure,
        "active_failing_for_s": round(now - tracks[active].failing_since, 2) if tracks[active].failing_since else 0,
        "idle_healthy_probes": tracks[idle].successes,
    }
    problem = idle_problem(tracks[idle], idle_release, history, idle, bounds)
    if problem:
        return Decision(False, f"{active} fails ({failure}) but traffic stays: {problem}", figures)
    if last_move_at is not None and now - last_move_at < bounds.cooldown_s:
        wait = bounds.cooldown_s - (now - last_move_at)
        return Decision(
            False, f"{active} fails ({failure}) but the cool-down holds traffic for {wait:.0f}s more", figures
        )
    return Decision(True, f"{active} failed: {failure}; {idle} is healthy on a release that served before", figures)
