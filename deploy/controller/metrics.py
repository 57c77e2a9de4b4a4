"""What the controller exports to Prometheus (its /metrics): both colors' probes, which color is active, the
automatic moves and the watch; and nginx's stub_status turned into metrics (nginx has no Prometheus endpoint
of its own), fetched at scrape time."""

from __future__ import annotations

import re
from collections.abc import Iterator

import requests
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

STUB_STATUS = re.compile(
    r"Active connections:\s*(\d+).*?(\d+)\s+(\d+)\s+(\d+)\s*Reading:\s*(\d+)\s*Writing:\s*(\d+)\s*Waiting:\s*(\d+)",
    re.S,
)
WATCH_LEVEL = {None: 0, "watching": 1, "passed": 2, "inconclusive": 3, "superseded": 4, "rolled back": 5, "failed": 6}


def parse_stub_status(text: str) -> dict[str, int] | None:
    """nginx's stub_status page as numbers (None if it is not one)."""
    match = STUB_STATUS.search(text)
    if match is None:
        return None
    names = ("active", "accepted", "handled", "requests", "reading", "writing", "waiting")
    return dict(zip(names, map(int, match.groups())))


class NginxStatusCollector(Collector):
    """nginx_up, nginx_connections{state}, nginx_connections_accepted/handled_total, nginx_http_requests_total."""

    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def collect(self) -> Iterator[Metric]:
        try:
            numbers = parse_stub_status(requests.get(self.url, timeout=self.timeout_s).text)
        except requests.RequestException:
            numbers = None
        yield GaugeMetricFamily("nginx_up", "1 when nginx answered its status page", value=int(numbers is not None))
        if numbers is None:
            return
        connections = GaugeMetricFamily("nginx_connections", "Client connections by state", labels=["state"])
        for state in ("active", "reading", "writing", "waiting"):
            connections.add_metric([state], numbers[state])
        yield connections
        yield CounterMetricFamily(
            "nginx_connections_accepted", "Accepted client connections", value=numbers["accepted"]
        )
        yield CounterMetricFamily("nginx_connections_handled", "Handled client connections", value=numbers["handled"])
        yield CounterMetricFamily("nginx_http_requests", "Client requests", value=numbers["requests"])


class ControllerMetrics:
    def __init__(self, nginx_status_url: str) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(NginxStatusCollector(nginx_status_url))
        self.active = Gauge(
            "deploy_color_active",
            "1 for the color nginx sends the public traffic to",
            ["color"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "deploy_color_ready", "1 when the color's last readiness probe succeeded", ["color"], registry=self.registry
        )
        self.pinned = Gauge(
            "deploy_color_pinned", "1 when a release is deployed on the color", ["color"], registry=self.registry
        )
        self.failed_probes = Gauge(
            "deploy_color_failed_probes", "Consecutive failed readiness probes", ["color"], registry=self.registry
        )
        self.moves = Counter(
            "deploy_automatic_moves", "Traffic moved by the controller", ["operation", "to"], registry=self.registry
        )
        self.watch = Gauge(
            "deploy_watch_state",
            "The last switch's watch: "
            "0 none, 1 watching, 2 passed, 3 inconclusive, 4 superseded, 5 rolled back, 6 failed",
            registry=self.registry,
        )
        self.prometheus_up = Gauge(
            "deploy_prometheus_reachable",
            "1 when the controller's last Prometheus query succeeded",
            registry=self.registry,
        )
