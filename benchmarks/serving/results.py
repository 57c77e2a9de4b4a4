"""What the benchmark measures: one load run, and everything measured on one server."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    concurrency: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class ServerResult:
    name: str
    cold_start_s: list[float] = field(default_factory=list)
    single: list[LoadResult] = field(default_factory=list)
    explained: list[LoadResult] = field(default_factory=list)  # /predict with reasons, at c=1 and c=8
    batch: LoadResult | None = None  # wrk, concurrency 1: the median round
    explained_batch: LoadResult | None = None  # the same batch with reasons (explain=true)
    split_batch: LoadResult | None = None  # mlflow only: the same rows in `dataframe_split`
    lone_batch_ms: list[float] = field(default_factory=list)
    idle_as_is: LoadResult | None = None  # c=1 with the CPU latency request released

    @property
    def cold_start(self) -> float:
        return min(self.cold_start_s)

    @property
    def lone_batch_median_ms(self) -> float:
        return statistics.median(self.lone_batch_ms)

    def at(self, concurrency: int) -> LoadResult:
        return next(r for r in self.single if r.concurrency == concurrency)

    def explained_at(self, concurrency: int) -> LoadResult:
        return next(r for r in self.explained if r.concurrency == concurrency)

    def loads(self) -> list[LoadResult]:
        """Every wrk measure kept for this server (to check none had failed requests)."""
        batches = [b for b in (self.batch, self.split_batch, self.explained_batch) if b]
        return self.single + self.explained + batches


def median_load(loads: list[LoadResult]) -> LoadResult:
    """Per-measure median over the rounds."""
    return LoadResult(
        concurrency=loads[0].concurrency,
        requests_per_s=statistics.median(r.requests_per_s for r in loads),
        p50_ms=statistics.median(r.p50_ms for r in loads),
        p99_ms=statistics.median(r.p99_ms for r in loads),
        requests=sum(r.requests for r in loads),
        errors=sum(r.errors for r in loads),
    )
