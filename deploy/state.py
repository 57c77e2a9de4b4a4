"""The deployment state file: each color's pinned release and the history of operations (who, what, outcome).

Each change is a read-modify-write under the file's own short lock (a few milliseconds) and replaces the file
atomically: the CLI's operations (which also hold the operation lock, deploy/lock.py) and the controller's
bookkeeping (the watch's figures, an nginx outage) never lose each other's changes, and bookkeeping never makes
an operator's command wait for or be refused by the operation lock.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from deploy.errors import DeployError
from deploy.files import changing_alone, write_atomic
from deploy.release import LOCAL_PREFIX, STACK_SERVICES, Release

HISTORY_LIMIT = 500
STATE_VERSION = 2


def operator() -> str:
    """Who runs this operation: user@host (CI and the controller set DEPLOY_OPERATOR instead)."""
    given = os.environ.get("DEPLOY_OPERATOR", "").strip()
    if given:
        return given
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Event:
    """One operation: deploy | switch | rollback | release | up, its outcome, and the releases on both sides.

    result: deployed | switched | rolled back | restored | refused | already active | failed | started."""

    time: str
    operation: str
    operator: str
    target: str
    source: str | None
    result: str
    reason: str
    seconds: float
    target_release: dict[str, Any] | None = None
    source_release: dict[str, Any] | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # what decided (gates, analysis), when any

    def release(self, side: str) -> Release | None:
        raw = self.target_release if side == "target" else self.source_release
        return Release.from_json(raw) if raw else None

    @classmethod
    def happening(
        cls,
        operation: str,
        target: str,
        source: str | None,
        result: str,
        reason: str,
        seconds: float = 0.0,
        target_release: Release | None = None,
        source_release: Release | None = None,
        figures: dict[str, Any] | None = None,
    ) -> Event:
        """An operation that ends now, by this process's operator."""
        return cls(
            now(),
            operation,
            operator(),
            target,
            source,
            result,
            reason,
            round(seconds, 2),
            target_release.to_json() if target_release else None,
            source_release.to_json() if source_release else None,
            figures or {},
        )


WATCHING = "watching"


@dataclass
class WatchRecord:
    """The watch of a color after a switch: the controller judges it on live traffic until `window_s` has passed
    and rolls back to `previous` if it fails. status: watching | passed | rolled back | inconclusive |
    superseded (another switch came first) | failed (it failed, but `previous` was not healthy either)."""

    color: str
    previous: str
    started: str  # ISO time, for people
    started_ts: float  # epoch seconds, for Prometheus queries
    window_s: float
    release: dict[str, Any] | None = None
    training_flagged_share: float | None = None  # what training recorded on the reference applicants
    status: str = WATCHING
    verdict: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    checked: str | None = None  # the time of the last analysis

    @property
    def ends_ts(self) -> float:
        return self.started_ts + self.window_s


@dataclass
class DeployState:
    colors: dict[str, Release] = field(default_factory=dict)  # color -> the release it is pinned to
    history: list[Event] = field(default_factory=list)
    watch: WatchRecord | None = None  # the last switch's watch


def _legacy_release(version: str) -> Release:
    """A color pinned by the first state format (a model version, images `:local`)."""
    return Release("local", {s: f"{LOCAL_PREFIX}/{s}:local" for s in STACK_SERVICES}, str(version))


def _legacy_event(raw: dict[str, Any]) -> Event:
    return Event(
        raw["time"],
        "switch",
        "unknown",
        raw["target"],
        raw.get("source"),
        raw["result"],
        raw["reason"],
        float(raw.get("seconds", 0.0)),
        _legacy_release(raw["target_version"]).to_json() if raw.get("target_version") else None,
        _legacy_release(raw["source_version"]).to_json() if raw.get("source_version") else None,
    )


class StateFile:
    """state.json in the state directory, replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> DeployState:
        if not self.path.exists():
            return DeployState()
        try:
            raw: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            if raw.get("state_version") != STATE_VERSION:  # the first format: model versions only
                return DeployState(
                    {str(c): _legacy_release(v) for c, v in raw.get("versions", {}).items()},
                    [_legacy_event(entry) for entry in raw.get("history", [])],
                )
            return DeployState(
                {str(c): Release.from_json(r) for c, r in raw.get("colors", {}).items()},
                [Event(**entry) for entry in raw.get("history", [])],
                WatchRecord(**raw["watch"]) if raw.get("watch") else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise DeployError(f"state file {self.path} is unreadable ({exc}); fix or delete it") from None

    def save(self, state: DeployState) -> None:
        raw = {
            "state_version": STATE_VERSION,
            "colors": {color: release.to_json() for color, release in sorted(state.colors.items())},
            "history": [asdict(e) for e in state.history[-HISTORY_LIMIT:]],
            "watch": asdict(state.watch) if state.watch else None,
        }
        write_atomic(self.path, json.dumps(raw, indent=2) + "\n")

    @contextmanager
    def changing(self) -> Iterator[DeployState]:
        """The state to change in place, read and written back under the file's lock (others wait their turn)."""
        with changing_alone(self.path):
            state = self.load()
            yield state
            self.save(state)

    def pin(self, color: str, release: Release | None) -> None:
        """Pin `color` to `release` (None: nothing deployed there)."""
        with self.changing() as state:
            if release is None:
                state.colors.pop(color, None)
            else:
                state.colors[color] = release

    def record(self, event: Event) -> None:
        with self.changing() as state:
            state.history.append(event)

    def set_watch(self, watch: WatchRecord | None, event: Event | None = None, unless_replaced: bool = False) -> None:
        """Replace the watch record (and add `event` to the history) in one write; with `unless_replaced`, only
        while the recorded watch is still the one `watch` updates (a newer switch's watch is kept)."""
        with self.changing() as state:
            current = state.watch
            if unless_replaced and current is not None and watch is not None and current.started_ts != watch.started_ts:
                return
            state.watch = watch
            if event is not None:
                state.history.append(event)
