"""Instant PromQL queries against the stack's Prometheus (its documented HTTP API, /api/v1/query).

An unreachable or failing Prometheus is a MetricsUnavailable: callers say so and keep their last decision;
nothing is ever switched on missing data.
"""

from __future__ import annotations

import math

import requests

QUERY_TIMEOUT_S = 3.0


class MetricsUnavailable(Exception):
    """Prometheus did not answer the query (down, unreachable, or the query failed)."""


class Prometheus:
    def __init__(self, base_url: str, timeout_s: float = QUERY_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def vector(self, query: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """The instant vector `query` gives (at epoch `at`, default now): (labels, value) per series."""
        params = {"query": query, **({"time": f"{at:.3f}"} if at is not None else {})}
        try:
            response = requests.get(f"{self.base_url}/api/v1/query", params=params, timeout=self.timeout_s)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise MetricsUnavailable(f"Prometheus at {self.base_url} is unreachable ({type(exc).__name__})") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise MetricsUnavailable(
                f"Prometheus refused the query {query!r}: {body.get('error', response.status_code)}"
            )
        data = body["data"]
        if data.get("resultType") == "scalar":
            return [({}, float(data["result"][1]))]
        return [(series["metric"], float(series["value"][1])) for series in data["result"]]

    def value(self, query: str, at: float | None = None) -> float | None:
        """The single value of `query` (None when it has no series or is NaN, e.g. a ratio of no requests)."""
        series = self.vector(query, at)
        if not series:
            return None
        value = series[0][1]
        return None if math.isnan(value) else value

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/-/ready", timeout=self.timeout_s).status_code == 200
        except requests.RequestException:
            return False
