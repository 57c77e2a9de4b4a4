"""Readiness probes of both colors' backends, straight at their fixed addresses on the stack network (not
through nginx, so a dead proxy and a dead backend are told apart), and the streaks that decide. They send the
deploy CLI's key (from the state directory): with it /ready names the model version and why it is not ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from deploy.nginx_config import PORTS, address
from deploy.probe import REVISION_HEADER, VERSION_HEADER, headers_with, no_key
from deploy.settings import COLORS


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str  # "ready", "HTTP 503 (loading)", "ConnectTimeout", ...
    version: str | None = None
    revision: str | None = None


@dataclass
class ProbeTrack:
    """One color's recent probes: consecutive failures and successes (the hysteresis), since when it fails."""

    failures: int = 0
    successes: int = 0
    last: ProbeResult | None = None
    failing_since: float | None = None

    def add(self, result: ProbeResult, now: float) -> None:
        self.last = result
        if result.ok:
            self.successes += 1
            self.failures = 0
            self.failing_since = None
        else:
            self.failures += 1
            self.successes = 0
            self.failing_since = self.failing_since or now


def probe_ready(url: str, timeout_s: float, api_key: str | None = None) -> ProbeResult:
    """GET /ready once; a timeout (a hung backend) or no answer (dead, unreachable) is a failure."""
    try:
        response = requests.get(url, timeout=timeout_s, headers=headers_with(api_key))
    except requests.RequestException as exc:
        return ProbeResult(False, type(exc).__name__)
    if response.status_code != 200:
        try:
            phase = response.json().get("phase", "")
        except ValueError:
            phase = ""
        return ProbeResult(False, f"HTTP {response.status_code}{f' ({phase})' if phase else ''}")
    return ProbeResult(True, "ready", response.headers.get(VERSION_HEADER), response.headers.get(REVISION_HEADER))


def probe_status(url: str, timeout_s: float) -> ProbeResult:
    """GET a status page (nginx's) once: it answers 200 or it fails."""
    try:
        response = requests.get(url, timeout=timeout_s)
    except requests.RequestException as exc:
        return ProbeResult(False, type(exc).__name__)
    return ProbeResult(response.status_code == 200, f"HTTP {response.status_code}")


@dataclass
class Prober:
    """Probes both colors at once each round and keeps their tracks; `api_key` gives the key to send (read each
    round: `make up` may re-create it)."""

    stack_net: str
    timeout_s: float
    port: int = PORTS["backend"]
    api_key: Callable[[], str | None] = no_key
    tracks: dict[str, ProbeTrack] = field(default_factory=lambda: {color: ProbeTrack() for color in COLORS})
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(len(COLORS) + 1, "probe"))

    def url(self, color: str) -> str:
        return f"http://{address(self.stack_net, 'backend', color)}:{self.port}/ready"

    def submit(self, probe: Callable[[str, float], ProbeResult], url: str) -> Future[ProbeResult]:
        """Another probe (nginx's status page) run alongside the colors': a dead target costs a round one timeout."""
        return self._pool.submit(probe, url, self.timeout_s)

    def probe_all(self, now: float | None = None) -> dict[str, ProbeResult]:
        now = time.time() if now is None else now
        key = self.api_key()
        futures = {color: self._pool.submit(probe_ready, self.url(color), self.timeout_s, key) for color in COLORS}
        results = {color: future.result() for color, future in futures.items()}
        for color, result in results.items():
            self.tracks[color].add(result, now)
        return results
