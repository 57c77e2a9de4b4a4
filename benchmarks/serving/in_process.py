"""The reference the c=1 latency target is set against: the backend's own predict call, in this process."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.serving.servers import BACKEND


class InProcess:
    """The backend's scoring service loaded in this process: the call /predict makes, minus HTTP."""

    def __init__(self, bundle: Path, example: dict[str, Any]) -> None:
        sys.path.insert(0, str(BACKEND))
        from app.core.config import Settings
        from app.core.state import load_service

        self.service = load_service(Settings(SERVED_BUNDLE=bundle), [])
        self.applicant = self.service.parser.one_from_dict(example)
        self.body = json.dumps(example).encode()
        self.rounds: dict[str, list[float]] = {"predict": [], "validate_and_predict": [], "predict_spaced": []}

    def measure(self, calls: int = 2000, spaced_calls: int = 500) -> dict[str, float]:
        """Median microseconds of one single-row prediction: back to back (the target's reference),
        with JSON validation, and spaced 0.3 ms apart like requests at concurrency 1 (for information:
        caches go cold while the CPU waits, as they do between requests)."""
        timings: dict[str, list[float]] = {name: [] for name in self.rounds}
        for _ in range(calls):
            started = time.perf_counter_ns()
            self.service.predict([self.applicant], "single")
            middle = time.perf_counter_ns()
            self.service.predict([self.service.parser.one_from_json(self.body)], "single")
            timings["predict"].append((middle - started) / 1000)
            timings["validate_and_predict"].append((time.perf_counter_ns() - middle) / 1000)
        for _ in range(spaced_calls):
            time.sleep(0.0003)
            started = time.perf_counter_ns()
            self.service.predict([self.applicant], "single")
            timings["predict_spaced"].append((time.perf_counter_ns() - started) / 1000)
        medians = {name: statistics.median(values[len(values) // 10 :]) for name, values in timings.items()}
        for name, value in medians.items():
            self.rounds[name].append(value)
        return medians

    def median(self, name: str = "predict") -> float:
        """The median over the rounds measured so far."""
        return statistics.median(self.rounds[name])

    def medians(self) -> dict[str, float]:
        """The median over the rounds of each measure."""
        return {name: self.median(name) for name in self.rounds}
