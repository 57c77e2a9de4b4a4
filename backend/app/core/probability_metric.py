"""prediction_probability: the predicted default probabilities as a Prometheus histogram by source, so that the
controller can compare a canary's score distribution with the stable color's (PSI over the buckets) from
`increase(...)` by color. Counted per batch with numpy (a batch of 10,000 rows is one bincount, not 10,000
observations) and exposed through prometheus_client's public HistogramMetricFamily."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

PROBABILITY_BUCKETS = tuple(round(i / 10, 1) for i in range(1, 11))  # ten equal bins of [0, 1]


class ProbabilityHistogram(Collector):
    """Cumulative counts of probabilities per upper bound (`le`) and source, and their sum."""

    name = "prediction_probability"

    def __init__(self, bounds: Sequence[float] = PROBABILITY_BUCKETS) -> None:
        self.bounds = np.asarray(bounds, dtype=float)
        self._counts: dict[str, np.ndarray] = {}  # source -> per-bin counts (the last bin: above every bound)
        self._sums: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, source: str, probabilities: Sequence[float]) -> None:
        if not len(probabilities):
            return
        values = np.asarray(probabilities, dtype=float)
        bins = np.bincount(np.searchsorted(self.bounds, values, side="left"), minlength=len(self.bounds) + 1)
        with self._lock:
            counts = self._counts.get(source)
            self._counts[source] = bins if counts is None else counts + bins
            self._sums[source] = self._sums.get(source, 0.0) + float(values.sum())

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            self.name,
            "Predicted default probabilities by source (single, batch, probe; shadow for mirrored requests)",
            labels=["source"],
        )
        with self._lock:
            snapshot = {source: (counts.cumsum(), self._sums[source]) for source, counts in self._counts.items()}
        for source, (cumulative, total) in sorted(snapshot.items()):
            buckets = [(f"{bound:g}", float(count)) for bound, count in zip(self.bounds, cumulative)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([source], buckets, total)
        yield family
