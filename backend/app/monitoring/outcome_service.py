"""Outcomes wired into the app: record a batch, realized performance over a window, the labeled export, and the
figures behind the /metrics gauges (recomputed at most every OUTCOME_METRICS_TTL_S)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from app.core.bundle import BundleMetadata
from app.core.config import Settings
from app.core.errors import ApiError
from app.core.scoring import ScoringService
from app.monitoring.outcome_input import parse_outcomes
from app.monitoring.outcomes import LabeledPrediction, OutcomeStore, RecordResult
from app.monitoring.realized import RealizedSettings, realized_performance
from app.monitoring.service import Monitoring
from app.monitoring.summary import iso
from app.monitoring.ttl_cache import TtlCache

logger = logging.getLogger(__name__)


def labels_of(metadata: BundleMetadata) -> tuple[str, str]:
    """(positive, negative) label of the bundle's data set; 503 for a bundle that does not name the negative one."""
    dataset = metadata.dataset
    if not dataset.negative_label:
        raise ApiError(503, f"model v{metadata.version}'s bundle does not name its data set's negative label")
    return dataset.positive_label, dataset.negative_label


def holdout_flagged_share(metadata: BundleMetadata) -> float | None:
    """The share of the training hold-out flagged at the threshold, as training recorded it with the decision
    policy (None for a bundle without)."""
    holdout = metadata.decision_policy.holdout if metadata.decision_policy else None
    return holdout.flagged_share if holdout else None


class OutcomeService:
    """The outcomes table of this process's prediction log, and what is computed from it."""

    def __init__(self, settings: Settings, monitoring: Monitoring) -> None:
        self.monitoring = monitoring
        self.store = OutcomeStore(settings.PREDICTION_LOG_PATH)
        self.max_rows = settings.MAX_BATCH_ROWS
        self.maturity_days = settings.OUTCOME_MATURITY_DAYS
        self.min_labeled = settings.OUTCOME_MIN_LABELED
        self.resamples = settings.OUTCOME_BOOTSTRAP_RESAMPLES
        self.metrics_window = settings.OUTCOME_METRICS_WINDOW
        self._metrics_cache: TtlCache[list[dict[str, Any]]] = TtlCache(
            settings.OUTCOME_METRICS_TTL_S, "realized-performance metrics"
        )

    def start(self) -> None:
        """Create the outcomes table once the log is open (a failure leaves outcomes unavailable, scoring on)."""
        if self.monitoring.unavailable:
            return
        try:
            self.store.create()
        except Exception as exc:  # noqa: BLE001 - storage problems must leave scoring untouched
            self.monitoring.unavailable = f"the outcomes table in {self.store.path} could not be created: {exc}"
            logger.error("%s", self.monitoring.unavailable)

    def _available(self) -> None:
        if self.monitoring.unavailable:
            raise ApiError(503, self.monitoring.unavailable)

    def record(self, body: bytes, kind: str, service: ScoringService, recorded_by: str | None) -> RecordResult:
        """Check and store a batch (see app.monitoring.outcomes)."""
        self._available()
        today = datetime.now(timezone.utc).date()
        outcomes = parse_outcomes(body, kind, labels_of(service.metadata), today, self.max_rows)
        return self.store.record(outcomes, recorded_by)

    def realized_settings(self, service: ScoringService) -> RealizedSettings:
        metadata = service.metadata
        return RealizedSettings(
            positive_label=metadata.dataset.positive_label,
            maturity_days=self.maturity_days,
            min_labeled=self.min_labeled,
            resamples=self.resamples,
            band_edges=(metadata.risk_bands.medium, metadata.risk_bands.high),
            expected_flagged={service.version: holdout_flagged_share(metadata)},
        )

    def performance(self, window: str, service: ScoringService) -> dict[str, Any]:
        """Realized performance per model version of the predictions scored over the last `window`."""
        window_s = self.monitoring.window_s(window)
        cfg = self.realized_settings(service)
        now = time.time()
        start = now - window_s
        versions = realized_performance(self.store.labeled(start), self.store.prediction_counts(start), cfg)
        return {
            "window": window,
            "from": iso(start),
            "to": iso(now),
            "maturity_days": self.maturity_days,
            "min_labeled": self.min_labeled,
            "positive_label": cfg.positive_label,
            "served_version": service.version,
            "versions": versions,
        }

    def labeled(self, matured_only: bool) -> list[LabeledPrediction]:
        """Every labeled prediction (with inputs) the log still holds, oldest first; only matured ones if asked."""
        self._available()
        rows = self.store.labeled(0.0, with_inputs=True)
        return [row for row in rows if row.matured(self.maturity_days)] if matured_only else rows

    def for_metrics(self, service: ScoringService) -> list[dict[str, Any]] | None:
        """Realized performance over OUTCOME_METRICS_WINDOW, recomputed at most every OUTCOME_METRICS_TTL_S."""
        if self.monitoring.unavailable:
            return None
        return self._metrics_cache.get(
            service.version, lambda: self.performance(self.metrics_window, service)["versions"]
        )
