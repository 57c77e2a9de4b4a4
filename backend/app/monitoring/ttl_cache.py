"""One value per served model version, recomputed at most every `ttl_s` seconds: the scrape-time gauges (drift,
realized performance) read the log at most that often, however often Prometheus scrapes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, ttl_s: float, what: str) -> None:
        self.ttl_s = ttl_s
        self.what = what  # named in the log when computing fails
        self._entry: tuple[float, str, T] | None = None
        self._lock = threading.Lock()

    def get(self, version: str, compute: Callable[[], T]) -> T | None:
        """The cached value for `version` while fresh, else `compute()`; None (logged) if that raises."""
        with self._lock:
            now = time.monotonic()
            if self._entry and self._entry[1] == version and now - self._entry[0] < self.ttl_s:
                return self._entry[2]
            try:
                value = compute()
            except Exception:  # noqa: BLE001 - a scrape must not fail because the log is unreadable
                logger.exception("%s could not be computed from the prediction log", self.what)
                return None
            self._entry = (now, version, value)
            return value
