"""The health-gated switch of public traffic to the other stack, with automatic restore.

1. the target's /ready answers 200 within a deadline, with its pinned model and revision (preview port);
2. smoke test: reference applicants scored by the target, its headers naming it (preview port);
3. the active-color marker nginx reads per request is flipped atomically (no reload: no connection closed);
4. the public port answers /api/health and a prediction with the target's color;
5. any failure after the flip: the marker is flipped back and the source verified;
6. every attempt is recorded in the state file, with the operator and the release on each side.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from deploy.errors import DeployError
from deploy.nginx_config import ActiveFile
from deploy.probe import Expected, GateError
from deploy.release import Release
from deploy.state import Event, StateFile, now, operator

STEPS = 4


class Gates(Protocol):
    def wait_ready(self, color: str, timeout: float, expected: Expected = ...) -> str: ...

    def smoke(self, color: str, expected: Expected = ...) -> int: ...

    def verify(self, color: str, timeout: float) -> None: ...


@dataclass(frozen=True)
class SwitchOutcome:
    result: str  # switched | already active | refused | rolled back | failed
    reason: str
    exit_code: int
    seconds: float = 0.0  # the attempt's duration (set by Switch.run)


@dataclass
class Switch:
    active_file: ActiveFile
    gates: Gates
    state: StateFile
    ready_timeout: float
    verify_timeout: float
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    operation: str = "switch"  # how the history names it: switch, rollback, release
    sanity: Callable[[str], dict] | None = None  # the decision-sanity gate of the target (its figures)

    def run(self, target: str) -> SwitchOutcome:
        started = self.clock()
        self.figures: dict = {}
        source = self.active_file.active()
        releases = self.state.load().colors
        if target == source:
            outcome = SwitchOutcome("already active", f"{target} already receives the traffic; nothing changed", 0)
        else:
            outcome = self._switch(source, target, releases.get(target))
        outcome = replace(outcome, seconds=round(self.clock() - started, 2))
        self.state.record(
            Event(
                time=now(),
                operation=self.operation,
                operator=operator(),
                target=target,
                source=source,
                result=outcome.result,
                reason=outcome.reason,
                seconds=outcome.seconds,
                target_release=releases[target].to_json() if target in releases else None,
                source_release=releases[source].to_json() if source in releases else None,
                figures=self.figures,
            )
        )
        return outcome

    def _step(self, number: int, text: str) -> None:
        self.say(f"  [{number}/{STEPS}] {text}")

    def _switch(self, source: str, target: str, release: Release | None) -> SwitchOutcome:
        expected = Expected(release.model_version, release.tag) if release else Expected()
        try:
            self._step(1, f"waiting for {target} to be ready (up to {self.ready_timeout:.0f}s, preview port)")
            version = self.gates.wait_ready(target, self.ready_timeout, expected)
            self.say(f"        ready: model v{version}")
            self._step(2, f"smoke test of {target} through the preview port")
            scored = self.gates.smoke(target, expected)
            self.say(f"        {scored} reference applicants scored by {target}")
            if self.sanity is not None:
                self.figures = self.sanity(target)
        except GateError as exc:
            return SwitchOutcome("refused", f"{exc}; traffic stays on {source}, nginx untouched", 1)

        snapshot = self.active_file.read()
        try:
            self._step(3, f"pointing nginx at {target} (the active-color marker, flipped atomically; no reload)")
            self.active_file.write(target)
            self._step(4, f"verifying the public port answers as {target}")
            self.gates.verify(target, self.verify_timeout)
        except (DeployError, OSError) as exc:
            self.say(f"        FAILED: {exc}")
            return self._restore(snapshot, source, str(exc))
        return SwitchOutcome("switched", f"traffic moved from {source} to {target}", 0)

    def _restore(self, snapshot: str, source: str, reason: str) -> SwitchOutcome:
        self.say(f"  pointing nginx back at {source}")
        try:
            self.active_file.restore(snapshot)
        except OSError as exc:
            return SwitchOutcome(
                "failed", f"{reason}; RESTORING the active color FAILED: {exc}; check `make status`", 1
            )
        try:
            self.gates.verify(source, self.verify_timeout)
        except DeployError as exc:
            return SwitchOutcome("failed", f"{reason}; nginx is back on {source}, but {source} fails: {exc}", 1)
        return SwitchOutcome("rolled back", f"{reason}; rolled back: traffic is on {source} again", 1)
