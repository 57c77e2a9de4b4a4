"""Monitoring wired into the app: a prediction listener that logs, window summaries, drift for /metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from app.core.config import Settings
from app.core.errors import ApiError, FieldError
from app.core.scoring import PredictionEvent
from app.monitoring.drift import DriftThresholds
from app.monitoring.prediction_log import LoggedRequest, PredictionBatch, PredictionLog
from app.monitoring.summary import build_summary, parse_window
from app.monitoring.ttl_cache import TtlCache

logger = logging.getLogger(__name__)
Traffic = Literal["all", "single", "batch"]  # which served applicants a summary covers (probes, shadow copies never)


class Monitoring:
    """Owns the prediction log of this process; answers summaries against a bundle's reference."""

    def __init__(self, settings: Settings, color: str, on_log_failure: Callable[[int], None]) -> None:
        self.enabled = settings.PREDICTION_LOG_ENABLED
        self.color = color
        self.thresholds = DriftThresholds(
            settings.DRIFT_PSI_WARN, settings.DRIFT_PSI_ALERT, settings.DRIFT_MIN_ROWS, settings.DRIFT_MAX_P_VALUE
        )
        self.metrics_window = settings.DRIFT_METRICS_WINDOW
        self.on_log_failure = on_log_failure
        self.log = PredictionLog(settings.PREDICTION_LOG_PATH, settings.PREDICTION_LOG_RETENTION_DAYS, on_log_failure)
        self.unavailable = "" if self.enabled else "the prediction log is disabled (PREDICTION_LOG_ENABLED=false)"
        self._drift_cache: TtlCache[dict[str, Any]] = TtlCache(settings.DRIFT_METRICS_TTL_S, "drift metrics")

    def start(self) -> None:
        """Open the log; a failure (e.g. an unwritable path) disables it, predictions go on."""
        if not self.enabled:
            return
        try:
            self.log.start()
        except Exception as exc:  # noqa: BLE001 - any storage problem must leave scoring untouched
            self.unavailable = f"the prediction log at {self.log.path} could not be opened: {exc}"
            logger.error("%s; predictions are served but not logged", self.unavailable)
        else:
            logger.info("prediction log: %s (retention %.0f days)", self.log.path, self.log.retention_s / 86_400)

    def close(self) -> None:
        self.log.close()  # a no-op when the writer never started (log disabled or not opened)

    def observe(self, event: PredictionEvent) -> None:
        """Prediction listener: queue the request's predictions as one item (never blocks, never raises)."""
        if self.unavailable:
            if self.enabled:
                self.on_log_failure(len(event.predictions))
            return
        predictions, caller = event.predictions, event.caller
        tag = caller.request if caller else None
        self.log.record(
            [
                PredictionBatch(
                    time.time(),
                    event.model_version,
                    self.color,
                    event.source,
                    event.feature_names,
                    event.applicants,
                    predictions.probabilities,
                    predictions.labels,
                    caller.key if caller else None,
                    caller.analyst if caller else None,
                    predictions.key,
                    tag.request_id if tag else None,
                    time.perf_counter() - tag.started if tag else None,
                    predictions.risk_bands,
                    predictions.decisions,
                )
            ]
        )

    def window_s(self, window: str) -> float:
        """The window in seconds; 422 naming `window` if it is malformed, 503 without a log."""
        try:
            window_s = parse_window(window)
        except ValueError as exc:
            raise ApiError(422, "invalid query parameter", [FieldError(None, "window", str(exc))]) from None
        if self.unavailable:
            raise ApiError(503, self.unavailable)
        return window_s

    def requests_by(self, author: str, window: str, limit: int, with_inputs: bool) -> list[LoggedRequest]:
        """The scoring requests of `author` over the last `window`, newest first (the audit trail)."""
        window_s = self.window_s(window)
        return self.log.requests_by(author, time.time() - window_s, limit, with_inputs)

    def summary(
        self, window: str, reference: dict[str, Any], served_version: str, traffic: Traffic = "all"
    ) -> dict[str, Any]:
        """The summary over the last `window` of the `traffic` asked for (every scored applicant, those scored one
        at a time, or those in batches: an analyst's uploaded file is often a review of old cases, not today's
        applicants); 422 naming `window` if it is malformed, 503 without a log."""
        window_s = self.window_s(window)
        now = time.time()
        rows = self.log.since(now - window_s)
        if traffic != "all":
            rows = [row for row in rows if row.source == traffic]
        summary = build_summary(rows, reference, window, window_s, now, self.thresholds, served_version)
        return {**summary, "traffic": traffic}

    def drift_for_metrics(self, reference: dict[str, Any], version: str) -> dict[str, Any] | None:
        """The summary over DRIFT_METRICS_WINDOW, recomputed at most every DRIFT_METRICS_TTL_S seconds."""
        if self.unavailable:
            return None
        return self._drift_cache.get(version, lambda: self.summary(self.metrics_window, reference, version))
