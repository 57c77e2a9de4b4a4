"""The backend's HTTP API over `requests`: timeouts on every call, failures as friendly exceptions. Every call
carries the UI's API key and, once an analyst signed in, their name (`X-On-Behalf-Of`): the backend's audit trail
records them as the author of what they score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from analyst_ui.credentials import api_key
from analyst_ui.settings import Settings

CONNECT_TIMEOUT = 3.0
UNAVAILABLE_STATUSES = (502, 503, 504)


@dataclass(frozen=True)
class Problem:
    """One thing the backend refused: the row (from 0) and the field it is about, if any."""

    row: int | None
    field: str | None
    message: str


@dataclass(eq=False)
class BackendError(Exception):
    """A call that did not give an answer; `message` is written for an analyst, not a developer."""

    message: str
    status_code: int | None = None
    problems: list[Problem] = field(default_factory=list)
    reason: str = ""  # the backend's own words (its `detail`), when it gave some

    def __post_init__(self) -> None:
        super().__init__(self.message)


class BackendUnreachable(BackendError):
    """No connection (down, restarting, wrong BACKEND_URL) or a proxy saying the same (502/504)."""


class BackendTimeout(BackendError):
    """Connected, but no answer in time."""


class BackendNotReady(BackendError):
    """Running, but no model is loaded (503)."""


class BackendRejected(BackendError):
    """The request was refused (4xx): `problems` names the rows and fields."""


class BackendFailed(BackendError):
    """A server error (5xx) or an answer the UI cannot read."""


@dataclass(frozen=True)
class BackendStatus:
    """What the sidebar shows: is the service up, is a model ready, which color and version answer."""

    url: str
    reachable: bool
    ready: bool
    color: str | None
    model_version: str | None
    message: str
    revision: str | None = None  # the code revision (release tag) the scoring service runs


@dataclass(frozen=True)
class ScoredCsv:
    """A scored batch: the backend's CSV (input columns + results) and who scored it."""

    content: bytes
    model_version: str | None
    color: str | None


class BackendClient:
    """One method per endpoint the UI uses, on behalf of `analyst` (None: the UI itself, e.g. cached reads)."""

    def __init__(self, settings: Settings, analyst: str | None = None) -> None:
        self.settings = settings
        self.base_url = settings.BACKEND_URL
        self.analyst = analyst

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        key = api_key(self.settings)
        headers = {**(extra or {})}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if self.analyst:
            headers["X-On-Behalf-Of"] = self.analyst
        return headers

    def status(self) -> BackendStatus:
        """GET /health then /ready; never raises."""
        try:
            health = self._call("GET", "/health", self.settings.BACKEND_STATUS_TIMEOUT)
        except BackendNotReady as exc:  # it answered: up, without a model
            return BackendStatus(self.base_url, True, False, None, None, exc.message)
        except BackendError as exc:
            return BackendStatus(self.base_url, False, False, None, None, exc.message)
        alive = _json_or_empty(health)
        color = alive.get("color") or health.headers.get("X-Deployment-Color")
        revision = alive.get("revision") or health.headers.get("X-App-Revision")
        try:
            ready = self._call("GET", "/ready", self.settings.BACKEND_STATUS_TIMEOUT).json()
        except BackendError as exc:
            return BackendStatus(self.base_url, True, False, color, None, exc.message, revision)
        except ValueError:
            unreadable = "The scoring service gave an unreadable answer."
            return BackendStatus(self.base_url, True, False, color, None, unreadable, revision)
        version = ready.get("model_version")
        color = ready.get("color", color)
        return BackendStatus(self.base_url, True, True, color, version, f"Model v{version} ready.", revision)

    def schema(self) -> dict[str, Any]:
        """GET /schema: features (type, categories or bounds, example), example applicant, target."""
        return self._json("GET", "/schema", self.settings.BACKEND_TIMEOUT)

    def model_card(self) -> dict[str, Any]:
        """GET /model: the served model's metadata."""
        return self._json("GET", "/model", self.settings.BACKEND_TIMEOUT)

    def plot(self, name: str) -> bytes:
        """GET /model/plots/{name}: a PNG."""
        return self._call("GET", f"/model/plots/{name}", self.settings.BACKEND_TIMEOUT).content

    def predict(self, applicant: dict[str, Any]) -> dict[str, Any]:
        """POST /predict: probability, label, risk band, decision, top factors and reasons of one applicant."""
        return self._json("POST", "/predict", self.settings.BACKEND_TIMEOUT, json=applicant)

    def predict_csv(self, csv_bytes: bytes) -> ScoredCsv:
        """POST /predict/batch?explain=true with a CSV body, asking for the scored CSV back (with decisions
        and principal reasons)."""
        response = self._call(
            "POST",
            "/predict/batch",
            self.settings.BACKEND_BATCH_TIMEOUT,
            params={"explain": "true"},
            data=csv_bytes,
            headers={"Content-Type": "text/csv", "Accept": "text/csv"},
        )
        return ScoredCsv(
            response.content, response.headers.get("X-Model-Version"), response.headers.get("X-Deployment-Color")
        )

    def monitoring_summary(self, window: str, traffic: str = "all") -> dict[str, Any]:
        """GET /monitoring/summary: volume, share flagged, score and feature drift over the last `window`, of all
        applicants or of those scored one at a time (`single`) or in batches (`batch`)."""
        params = {"window": window, "traffic": traffic}
        try:
            return self._json("GET", "/monitoring/summary", self.settings.BACKEND_TIMEOUT, params=params)
        except BackendNotReady as exc:  # a model may be ready while the prediction log is not
            raise BackendNotReady(
                f"Monitoring is unavailable: {exc.reason}.", exc.status_code, reason=exc.reason
            ) from None
        except BackendRejected as exc:
            if exc.status_code == 404:
                raise BackendRejected(
                    f"The scoring service at {self.base_url} has no monitoring endpoint (HTTP 404): "
                    "it may run an older version.",
                    404,
                ) from None
            about_window = [p.message for p in exc.problems if p.field == "window"]
            if about_window:
                raise BackendRejected(
                    f"The scoring service refused the window {window!r}: {about_window[0]}.", exc.status_code
                ) from None
            raise

    def shadow_report(self, window: str) -> dict[str, Any]:
        """GET /monitoring/shadow: the active color's answers against the idle color's answers to the same requests."""
        return self._json("GET", "/monitoring/shadow", self.settings.BACKEND_TIMEOUT, params={"window": window})

    def realized_performance(self, window: str) -> dict[str, Any]:
        """GET /outcomes/performance: per model version, how its predictions did against the observed outcomes."""
        return self._json("GET", "/outcomes/performance", self.settings.BACKEND_TIMEOUT, params={"window": window})

    def _json(self, method: str, path: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
        response = self._call(method, path, timeout, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise BackendFailed(f"The scoring service gave an unreadable answer to {path}.") from None
        if not isinstance(body, dict):
            raise BackendFailed(f"The scoring service gave an unexpected answer to {path}.")
        return body

    def _call(self, method: str, path: str, timeout: float, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        try:
            response = requests.request(method, url, timeout=(min(CONNECT_TIMEOUT, timeout), timeout), **kwargs)
        except requests.Timeout:
            raise BackendTimeout(
                f"The scoring service at {self.base_url} did not answer within {timeout:g} s. "
                "It may be overloaded; please try again in a moment."
            ) from None
        except requests.RequestException:
            raise BackendUnreachable(
                f"The scoring service at {self.base_url} is not reachable. "
                "It may be down or restarting; please try again in a moment."
            ) from None
        if response.status_code >= 400:
            raise _error_of(response, self.base_url)
        return response


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _problems(body: dict[str, Any]) -> list[Problem]:
    problems = []
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            problems.append(Problem(error.get("row"), error.get("field"), str(error.get("message", ""))))
    return problems


def _error_of(response: requests.Response, base_url: str) -> BackendError:
    """The exception for a 4xx/5xx answer, with the backend's own explanation when it gave one."""
    body = _json_or_empty(response)
    code = response.status_code
    reason = str(body.get("detail") or body.get("reason") or "").strip()
    if code in (401, 403):  # the UI's own key: nothing the analyst can fix
        return BackendFailed(
            f"The scoring service refused the UI's credentials (HTTP {code}: {reason or 'no reason given'}). "
            "The UI is misconfigured; please tell the team.",
            code,
            reason=reason,
        )
    if code == 503 and reason:
        return BackendNotReady(f"The scoring service has no model ready: {reason}.", code, reason=reason)
    if code in UNAVAILABLE_STATUSES:
        return BackendUnreachable(
            f"The scoring service at {base_url} is unavailable (HTTP {code}). "
            "It may be restarting; please try again in a moment.",
            code,
        )
    if code < 500:
        return BackendRejected(
            reason or f"The scoring service refused the request (HTTP {code}).", code, _problems(body)
        )
    suffix = f": {reason}" if reason else ""
    return BackendFailed(f"The scoring service failed (HTTP {code}){suffix}. Please try again or tell the team.", code)
