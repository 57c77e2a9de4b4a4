"""The champion vs challenger report of this process's prediction log: on request (GET /monitoring/shadow) and for
the scrape-time gauges (over DRIFT_METRICS_WINDOW, recomputed at most every DRIFT_METRICS_TTL_S seconds)."""

from __future__ import annotations

import time
from typing import Any

from app.core.config import Settings
from app.monitoring.service import Monitoring
from app.monitoring.shadow_pairs import pair, read_answers
from app.monitoring.shadow_report import build_report
from app.monitoring.ttl_cache import TtlCache


class ShadowReports:
    """Reports over the log that `monitoring` writes (the log both colors share)."""

    def __init__(self, settings: Settings, monitoring: Monitoring) -> None:
        self.monitoring = monitoring
        self.metrics_window = settings.DRIFT_METRICS_WINDOW
        self._cache: TtlCache[dict[str, Any]] = TtlCache(settings.DRIFT_METRICS_TTL_S, "shadow report")

    def report(self, window: str) -> dict[str, Any]:
        """The report over the last `window`; 422 naming `window` if it is malformed, 503 without a log."""
        window_s = self.monitoring.window_s(window)
        now = time.time()
        return build_report(pair(read_answers(self.monitoring.log.path, now - window_s)), window, window_s, now)

    def for_metrics(self) -> dict[str, Any] | None:
        """The report over the gauges' window (cached), None without a log."""
        if self.monitoring.unavailable:
            return None
        return self._cache.get("shadow", lambda: self.report(self.metrics_window))
