"""The health-gated switch of public traffic to the other stack, with automatic restore.

1. the target's /ready answers 200 within a deadline (preview port);
2. smoke test: reference applicants scored by the target, X-Deployment-Color names it (preview port);
3. the active-upstream file is replaced atomically, `nginx -t`, graceful `nginx -s reload`;
4. the public port answers /api/health and a prediction with the target's color;
5. any failure after the file changed: the previous file is restored and nginx reloaded;
6. every attempt is recorded in the state file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from deploy.errors import DeployError
from deploy.nginx_config import ActiveFile
from deploy.probe import GateError
from deploy.state import Attempt, StateFile

STEPS = 4


class Proxy(Protocol):
    """nginx control: test the configuration, reload it gracefully (raise DeployError on failure)."""

    def test(self) -> None: ...

    def reload(self) -> None: ...


class Gates(Protocol):
    def wait_ready(self, color: str, timeout: float) -> str: ...

    def smoke(self, color: str) -> int: ...

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
    proxy: Proxy
    gates: Gates
    state: StateFile
    ready_timeout: float
    verify_timeout: float
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic

    def run(self, target: str) -> SwitchOutcome:
        started = self.clock()
        source = self.active_file.active()
        versions = self.state.load().versions
        target_version = versions.get(target)
        if target == source:
            outcome = SwitchOutcome("already active", f"{target} already receives the traffic; nothing changed", 0)
        else:
            outcome, target_version = self._switch(source, target, target_version)
        outcome = replace(outcome, seconds=round(self.clock() - started, 2))
        self.state.record(
            Attempt(
                time=Attempt.now(),
                source=source,
                target=target,
                source_version=versions.get(source),
                target_version=target_version,
                result=outcome.result,
                reason=outcome.reason,
                seconds=outcome.seconds,
            )
        )
        return outcome

    def _step(self, number: int, text: str) -> None:
        self.say(f"  [{number}/{STEPS}] {text}")

    def _switch(self, source: str, target: str, version: str | None) -> tuple[SwitchOutcome, str | None]:
        try:
            self._step(1, f"waiting for {target} to be ready (up to {self.ready_timeout:.0f}s, preview port)")
            version = self.gates.wait_ready(target, self.ready_timeout)
            self.say(f"        ready: model v{version}")
            self._step(2, f"smoke test of {target} through the preview port")
            scored = self.gates.smoke(target)
            self.say(f"        {scored} reference applicants scored by {target}")
        except GateError as exc:
            return SwitchOutcome("refused", f"{exc}; traffic stays on {source}, nginx untouched", 1), version

        snapshot = self.active_file.read()
        try:
            self._step(3, f"pointing nginx at {target} (atomic write, nginx -t, graceful reload)")
            self.active_file.write(target)
            self.proxy.test()
            self.proxy.reload()
            self._step(4, f"verifying the public port answers as {target}")
            self.gates.verify(target, self.verify_timeout)
        except DeployError as exc:
            self.say(f"        FAILED: {exc}")
            return self._restore(snapshot, source, str(exc)), version
        return SwitchOutcome("switched", f"traffic moved from {source} to {target}", 0), version

    def _restore(self, snapshot: str | None, source: str, reason: str) -> SwitchOutcome:
        self.say(f"  restoring the previous nginx configuration ({source} active)")
        try:
            self.active_file.restore(snapshot)
            self.proxy.test()
            self.proxy.reload()
        except DeployError as exc:
            return SwitchOutcome("failed", f"{reason}; RESTORING nginx FAILED: {exc}; check `make status`", 1)
        try:
            self.gates.verify(source, self.verify_timeout)
        except DeployError as exc:
            return SwitchOutcome("failed", f"{reason}; nginx is back on {source}, but {source} fails: {exc}", 1)
        return SwitchOutcome("rolled back", f"{reason}; rolled back: traffic is on {source} again", 1)
