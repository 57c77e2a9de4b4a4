"""HTTP gates of a switch, through nginx: readiness and a smoke test on the preview port,
verification on the public port. Every request uses a fresh connection (no stale keep-alive) and the CLI's own
API key (deploy/service_keys.py): with it /ready names the color, model version and reason, and the smoke
test's predictions are honored as probes (left out of monitoring)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from deploy.errors import DeployError

COLOR_HEADER = "X-Deployment-Color"
VERSION_HEADER = "X-Model-Version"
REVISION_HEADER = "X-App-Revision"
REQUEST_TIMEOUT = 5.0
POLL_INTERVAL = 1.0
VERIFY_STREAK = 3  # consecutive good answers the public port must give
VERIFY_MAX_FAULTS = 3  # failed answers of the target itself that end the verification at once


class GateError(DeployError):
    """A stack failed a gate (not ready, bad smoke answers, wrong color behind the public port)."""


@dataclass(frozen=True)
class Serving:
    """What answers behind a port: its color, model version, code revision and readiness (None: nothing
    answers); `failed`: the backend says waiting will not help (its bundle cannot be served)."""

    color: str | None
    version: str | None
    ready: bool
    detail: str
    revision: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class Expected:
    """What a gate expects behind a port besides the color: the pinned model version and code revision."""

    version: str | None = None
    revision: str | None = None

    def mismatch(self, version: str | None, revision: str | None) -> str | None:
        if self.version is not None and version != self.version:
            return f"it serves model v{version}, not its pinned v{self.version}"
        if self.revision is not None and revision != self.revision:
            return f"it runs revision {revision}, not its pinned {self.revision}"
        return None


def headers_with(api_key: str | None, **extra: str) -> dict[str, str]:
    """A fresh connection's headers, with the key (if any) as a Bearer credential."""
    return {"Connection": "close", **extra, **({"Authorization": f"Bearer {api_key}"} if api_key else {})}


def probe_headers(api_key: str | None) -> dict[str, str]:
    """The headers of a deployment check's prediction: marked as a probe (the backend logs it as such and leaves it
    out of monitoring's volume and drift, for the deploy CLI's own key only)."""
    return headers_with(api_key, **{"X-Traffic-Source": "probe"})


def _get(url: str, api_key: str | None = None, verify: str | bool = True) -> requests.Response:
    return requests.get(url, timeout=REQUEST_TIMEOUT, headers=headers_with(api_key), verify=verify)


def _post(url: str, body: Any, api_key: str | None = None, verify: str | bool = True) -> requests.Response:
    return requests.post(url, json=body, timeout=REQUEST_TIMEOUT, headers=probe_headers(api_key), verify=verify)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def serving(base_url: str, api_key: str | None = None, verify: str | bool = True) -> Serving:
    """GET <base>/api/ready: who answers and whether it is ready (who, and why not, only with a key); `verify` is
    requests' (the CA bundle of an https:// URL)."""
    try:
        response = _get(f"{base_url}/api/ready", api_key, verify)
    except requests.RequestException as exc:
        return Serving(None, None, False, f"no answer ({type(exc).__name__})")
    body = _json(response)
    color = response.headers.get(COLOR_HEADER) or body.get("color")
    version = response.headers.get(VERSION_HEADER) or body.get("model_version")
    detail = body.get("reason") or body.get("detail") or f"HTTP {response.status_code}"
    return Serving(
        color,
        None if version == "none" else version,
        response.status_code == 200,
        str(detail),
        response.headers.get(REVISION_HEADER),
        body.get("phase") == "failed",
    )


def reference_applicants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's example applicant, and two built from the schema: every feature at its observed
    minimum / first category, and at its maximum / last category."""
    low: dict[str, Any] = {}
    high: dict[str, Any] = {}
    for feature in schema["features"]:
        name = feature["name"]
        if feature["type"] == "numeric":
            cast = int if feature.get("dtype") == "integer" else float
            low[name] = cast(feature["min"])
            high[name] = cast(feature["max"])
        else:
            low[name] = feature["categories"][0]
            high[name] = feature["categories"][-1]
    return [dict(schema["example"]), low, high]


def prediction_problem(response: requests.Response, color: str, expected: Expected = Expected()) -> str | None:
    """Why a /predict answer is not a valid prediction by `color` (None when it is)."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    answered = response.headers.get(COLOR_HEADER)
    if answered != color:
        return f"{COLOR_HEADER} is {answered!r}, expected {color!r}"
    mismatch = expected.mismatch(response.headers.get(VERSION_HEADER), response.headers.get(REVISION_HEADER))
    if mismatch:
        return mismatch
    body = _json(response)
    probability = body.get("probability_default")
    if not isinstance(probability, (int, float)) or not math.isfinite(probability) or not 0 <= probability <= 1:
        return f"probability_default {probability!r} is not a probability"
    if body.get("label") not in (0, 1):
        return f"label {body.get('label')!r} is not 0 or 1"
    return None


def no_key() -> str | None:
    return None


def system_trust() -> str | bool:
    return True


@dataclass
class HttpChecks:
    """The gates, against nginx's preview (idle stack) and public (active stack) ports; `api_key` gives the key
    to send, `ca_bundle` requests' `verify=` for the public port's certificate (read when needed: `up` makes both
    on a first start)."""

    preview_url: str
    public_url: str
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    api_key: Callable[[], str | None] = no_key
    ca_bundle: Callable[[], str | bool] = system_trust
    example: dict[str, Any] | None = field(default=None, init=False)

    def wait_ready(self, color: str, timeout: float, expected: Expected = Expected()) -> str:
        """Poll the preview port until `color` answers /ready with 200 (with the expected model version and
        revision); its model version. A backend that says its bundle cannot be served fails at once."""
        return self._wait(self.preview_url, "the preview port", color, timeout, expected)

    def wait_public(self, color: str, timeout: float, expected: Expected = Expected()) -> str:
        """Poll the public port until `color` answers /ready with 200; its model version."""
        return self._wait(self.public_url, "the public port", color, timeout, expected)

    def _wait(self, base_url: str, port_name: str, color: str, timeout: float, expected: Expected) -> str:
        deadline = self.clock() + timeout
        while True:
            answer = serving(base_url, self.api_key(), self.ca_bundle())
            if answer.color == color and answer.ready:
                mismatch = expected.mismatch(answer.version, answer.revision)
                if mismatch:
                    raise GateError(f"{color} is ready, but {mismatch}")
                return answer.version or "unknown"
            if answer.color == color and answer.failed:
                raise GateError(f"{color} cannot serve its model (it says so, waiting will not help): {answer.detail}")
            if answer.color not in (None, color):
                last = f"{port_name} answers as {answer.color}, not {color}"
            else:
                last = answer.detail
            if self.clock() >= deadline:
                raise GateError(f"{color} not ready within {timeout:.0f}s: {last}")
            self.sleep(POLL_INTERVAL)

    def smoke(self, color: str, expected: Expected = Expected()) -> int:
        """Score the reference applicants through the preview port; how many were scored."""
        key = self.api_key()
        try:
            response = _get(f"{self.preview_url}/api/schema", key)
            if response.status_code != 200 or response.headers.get(COLOR_HEADER) != color:
                raise GateError(
                    f"smoke test: GET /api/schema answered HTTP {response.status_code} by "
                    f"{response.headers.get(COLOR_HEADER)!r}, expected 200 by {color!r}"
                )
            applicants = reference_applicants(response.json())
            for index, applicant in enumerate(applicants):
                answer = _post(f"{self.preview_url}/api/predict", applicant, key)
                problem = prediction_problem(answer, color, expected)
                if problem:
                    raise GateError(f"smoke test: reference applicant {index}: {problem}")
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise GateError(f"smoke test: {type(exc).__name__}: {exc}") from None
        self.example = applicants[0]
        return len(applicants)

    def verify(self, color: str, timeout: float) -> None:
        """The public port must give VERIFY_STREAK consecutive good answers by `color` (/api/health and a
        prediction each time). Answers by the other color mean the reload is still under way: waited for
        until `timeout`. Failures of `color` itself (errors, 5xx, bad predictions) fail the check at the
        VERIFY_MAX_FAULTS-th, so traffic is not left on a broken stack for the whole timeout."""
        deadline = self.clock() + timeout
        streak = faults = 0
        while streak < VERIFY_STREAK:
            answered, problem = self._public_problem(color)
            if problem is None:
                streak += 1
                continue
            streak = 0
            if answered in (None, color):
                faults += 1
                if faults >= VERIFY_MAX_FAULTS:
                    raise GateError(f"public port: {color} failed {faults} checks, the last: {problem}")
            if self.clock() >= deadline:
                raise GateError(f"public port not answering as {color} within {timeout:.0f}s: {problem}")
            self.sleep(POLL_INTERVAL / 4)

    def _public_problem(self, color: str) -> tuple[str | None, str | None]:
        """(the color that answered, what was wrong, None when nothing)."""
        answered, key, verify = None, self.api_key(), self.ca_bundle()
        try:
            health = _get(f"{self.public_url}/api/health", key, verify)
            answered = health.headers.get(COLOR_HEADER)
            if health.status_code != 200 or answered != color:
                return answered, f"/api/health: HTTP {health.status_code} by {answered!r}"
            if self.example is None:
                self.example = _get(f"{self.public_url}/api/schema", key, verify).json()["example"]
            response = _post(f"{self.public_url}/api/predict", self.example, key, verify)
            return response.headers.get(COLOR_HEADER), prediction_problem(response, color)
        except (requests.RequestException, ValueError, KeyError) as exc:
            return answered, f"{type(exc).__name__}: {exc}"
