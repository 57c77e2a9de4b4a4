"""Drift gauges for /metrics, computed at scrape time over DRIFT_METRICS_WINDOW (cached)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.core.state import ModelState
from app.monitoring.service import Monitoring

STATUS_LEVEL = {"insufficient_data": -1, "ok": 0, "warn": 1, "alert": 2}


class DriftCollector(Collector):
    """PSI and status per feature and for the score, and the window's volume."""

    def __init__(self, state: ModelState, monitoring: Monitoring) -> None:
        self.state = state
        self.monitoring = monitoring

    def collect(self) -> Iterator[Metric]:
        service = self.state.service
        reference = service.bundle.raw.get("reference") if service is not None else None
        summary = self.monitoring.drift_for_metrics(reference, service.version) if reference else None
        window = self.monitoring.metrics_window
        feature_psi = GaugeMetricFamily(
            "feature_drift_psi", f"PSI of each feature over the last {window} vs training", labels=["feature"]
        )
        score_psi = GaugeMetricFamily("score_drift_psi", f"PSI of the predicted probability over the last {window}")
        levels = "-1 insufficient data, 0 ok, 1 warn, 2 alert"
        feature_status = GaugeMetricFamily(
            "feature_drift_status", f"Drift status per feature: {levels}", labels=["feature"]
        )
        score_status = GaugeMetricFamily("score_drift_status", f"Drift status of the predicted probability: {levels}")
        predictions = GaugeMetricFamily("monitoring_window_predictions", f"Predictions logged in the last {window}")
        if summary is not None:
            for name, drift in summary["features"].items():
                if drift["psi"] is not None:
                    feature_psi.add_metric([name], drift["psi"])
                feature_status.add_metric([name], STATUS_LEVEL[drift["status"]])
            if summary["score"]["psi"] is not None:
                score_psi.add_metric([], summary["score"]["psi"])
            score_status.add_metric([], STATUS_LEVEL[summary["score"]["status"]])
            predictions.add_metric([], summary["count"])
        yield from (feature_psi, score_psi, feature_status, score_status, predictions)
