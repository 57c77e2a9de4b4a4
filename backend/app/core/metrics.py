"""Prometheus metrics in a registry per app instance (tests create several apps)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from app.core.probability_metric import ProbabilityHistogram
from app.core.scoring import PredictionEvent
from app.core.state import ModelState

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 10, 50, 100, 500, 1_000, 2_500, 5_000, 10_000, 50_000)
UNMATCHED_ROUTE = "unmatched"

disable_created_metrics()  # no *_created series: a smaller scrape, nothing a dashboard uses


class Metrics:
    """Requests, latency, predictions and their probabilities, batch sizes, errors and the served model."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, state: ModelState) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ModelCollector(state))
        self.probabilities = ProbabilityHistogram()
        self.registry.register(self.probabilities)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_errors_total",
            "HTTP responses with a 4xx or 5xx status by route template and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.predictions = Counter(
            "predictions_total",
            "Predictions by label (1 = default) and source (single, batch; probe and shadow are not served)",
            ["label", "source"],
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "prediction_batch_rows", "Rows per batch request", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.auth_refusals = Counter(
            "auth_refusals_total",
            "Requests refused by authentication, by reason (missing, malformed, unknown, revoked, scope, "
            "store_unavailable)",
            ["reason"],
            registry=self.registry,
        )
        self.log_failures = Counter(
            "prediction_log_failures",
            "Predictions that could not be recorded in the prediction log (the predictions were still answered)",
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple] = {}  # labelled children, looked up once
        self._prediction_children: dict[tuple[str, str], Counter] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            labels = (route, method, str(status))
            error = self.errors.labels(route, str(status)) if status >= 400 else None
            children = (self.requests.labels(*labels), self.latency.labels(*labels), error)
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if children[2] is not None:
            children[2].inc()

    def observe_predictions(self, event: PredictionEvent) -> None:
        """A prediction listener: counts labels and probabilities, and rows per batch."""
        self.probabilities.observe(event.source, event.predictions.probabilities)
        positives = sum(event.predictions.labels)
        negatives = len(event.predictions) - positives
        if positives:
            self._prediction_counter("1", event.source).inc(positives)
        if negatives:
            self._prediction_counter("0", event.source).inc(negatives)
        if event.source == "batch":
            self.batch_rows.observe(len(event.predictions))

    def _prediction_counter(self, label: str, source: str) -> Counter:
        key = (label, source)
        child = self._prediction_children.get(key)
        if child is None:
            child = self._prediction_children[key] = self.predictions.labels(label, source)
        return child

    def count_log_failures(self, records: int) -> None:
        self.log_failures.inc(records)

    def count_auth_refusal(self, reason: str) -> None:
        self.auth_refusals.labels(reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class ModelCollector(Collector):
    """model_info{name, version, algorithm, color} = 1 and model_ready, read from the state at scrape time."""

    def __init__(self, state: ModelState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        service = self.state.service
        info = GaugeMetricFamily(
            "model_info",
            "The served model (value 1); version 'none' when no model is loaded",
            labels=["name", "version", "algorithm", "color"],
        )
        if service is None:
            info.add_metric(["none", "none", "none", self.state.color], 1)
        else:
            info.add_metric([service.metadata.name, service.version, service.metadata.algorithm, self.state.color], 1)
        yield info
        yield GaugeMetricFamily(
            "model_ready", "1 when a model is loaded and self-tested", value=int(service is not None)
        )
