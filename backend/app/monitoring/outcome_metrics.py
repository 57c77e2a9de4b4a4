"""Realized-performance gauges for /metrics, per model version, computed at scrape time over
OUTCOME_METRICS_WINDOW (cached for OUTCOME_METRICS_TTL_S): what the outcome alerts (prometheus/rules) watch."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.core.state import ModelState
from app.monitoring.outcome_service import OutcomeService

# gauge name -> (help, how to read it from a version's figures)
GAUGES = {
    "realized_roc_auc": ("ROC AUC against matured outcomes", lambda v: v["roc_auc"]["value"]),
    "realized_roc_auc_ci_low": ("2.5th bootstrap percentile of the realized ROC AUC", lambda v: v["roc_auc"]["ci_low"]),
    "realized_roc_auc_ci_high": (
        "97.5th bootstrap percentile of the realized ROC AUC",
        lambda v: v["roc_auc"]["ci_high"],
    ),
    "realized_brier": ("Brier score against matured outcomes", lambda v: v["brier"]),
    "realized_calibration_error": (
        "Count-weighted mean |predicted - observed default rate| over deciles",
        lambda v: v["calibration_error"],
    ),
    "realized_labeled_predictions": ("Matured predictions with an outcome", lambda v: v["labeled"]),
    "realized_flagged_share": ("Share of the labeled predictions flagged", lambda v: v["realized_flagged_share"]),
    "expected_flagged_share": ("Share flagged on the training hold-out", lambda v: v["expected_flagged_share"]),
    "realized_default_rate": ("Observed default rate of the labeled predictions", lambda v: v["realized_default_rate"]),
}


class OutcomeCollector(Collector):
    """One series per model version with labeled predictions in the window (a missing figure: no sample)."""

    def __init__(self, state: ModelState, outcomes: OutcomeService) -> None:
        self.state = state
        self.outcomes = outcomes

    def collect(self) -> Iterator[Metric]:
        service = self.state.service
        window = self.outcomes.metrics_window
        families = {
            name: GaugeMetricFamily(name, f"{text} (predictions of the last {window})", labels=["model_version"])
            for name, (text, _) in GAUGES.items()
        }
        versions = self.outcomes.for_metrics(service) if service is not None else None
        for version in versions or []:
            for name, (_, read) in GAUGES.items():
                value = read(version)
                if value is not None:
                    families[name].add_metric([version["model_version"]], value)
        yield from families.values()
