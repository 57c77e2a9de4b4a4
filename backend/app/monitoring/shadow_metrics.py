"""Champion vs challenger gauges for /metrics, computed at scrape time from the shadow report (cached). Both colors
read the one shared log, so both export the same figures (under their own `color` target label)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.monitoring.shadow import ShadowReports

FIGURES = {
    "rows_compared": "Applicants scored by both the champion (served) and the challenger (shadow copy)",
    "label_agreement": "Share of compared applicants with the same label (flagged or not) on both colors",
    "decision_agreement": "Share of compared applicants with the same decision on both colors",
    "mean_abs_delta": "Mean |challenger - champion| probability of default",
    "p95_abs_delta": "95th percentile of |challenger - champion| probability of default",
}
SIDE_FIGURES = {
    "flagged_share": "Share of compared applicants flagged",
    "p95_seconds": "95th percentile of the backend's serving time of compared requests",
    "unanswered": "Requests this side did not answer while the other did",
}


class ShadowCollector(Collector):
    """shadow_* gauges over DRIFT_METRICS_WINDOW; none while no applicant was compared."""

    def __init__(self, reports: ShadowReports) -> None:
        self.reports = reports

    def collect(self) -> Iterator[Metric]:
        report = self.reports.for_metrics()
        window = self.reports.metrics_window
        compared = bool(report and report["rows_compared"])
        for name, text in FIGURES.items():
            family = GaugeMetricFamily(f"shadow_{name}", f"{text} (last {window})")
            if compared and report[name] is not None:
                family.add_metric([], report[name])
            yield family
        for name, text in SIDE_FIGURES.items():
            family = GaugeMetricFamily(f"shadow_{name}", f"{text} (last {window})", labels=["side", "side_color"])
            for side in ("champion", "challenger") if compared else ():
                if report[side][name] is not None:
                    family.add_metric([side, report[side]["color"]], report[side][name])
            yield family
        transitions = GaugeMetricFamily(
            "shadow_band_transitions",
            f"Compared applicants by risk band on the champion and on the challenger (last {window})",
            labels=["champion_band", "challenger_band"],
        )
        if compared:
            for i, before in enumerate(report["risk_bands"]):
                for j, after in enumerate(report["risk_bands"]):
                    transitions.add_metric([before, after], report["band_transitions"][i][j])
        yield transitions
