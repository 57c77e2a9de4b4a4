"""Single-row requests that arrive in the same event-loop turn are scored in one model call.

A model call has a fixed cost (building the model's input, starting a prediction) that dwarfs the
cost of one more row, so under concurrent load scoring the waiting rows together multiplies
throughput (docs/benchmarks.md). Batching needs the first request of a turn to step aside for one
loop turn so the others can join, which only pays when several arrive together. So the coalescer
counts the requests of each turn: after a turn with a single request (light load) the next one is
scored at once, inline; after a turn with several (requests are queuing) each turn's requests are
scored together. Nothing ever waits on a timer. Every request gets its own answer; listeners get one
event per source, caller and call. Explained requests (`/predict` with reasons) are coalesced the same way when
the model explains about as fast as it scores (precomputed SHAP tables, linear terms): the explained
requests of a turn are scored and explained in one vectorized call, the others in another.
COALESCE_SINGLE_ROWS=false scores every request on its own (InlineScorer).
"""

from __future__ import annotations

import asyncio

from app.auth.callers import Caller
from app.core.applicant import Row
from app.core.scoring import Scored, ScoringService, Source

Pending = tuple[ScoringService, Row, Source, bool, Caller | None, "asyncio.Future[Scored]"]


class InlineScorer:
    """Scores each single-row request on its own, at once (the coalescer turned off)."""

    async def predict(
        self,
        service: ScoringService,
        applicant: Row,
        source: Source,
        explain: bool = False,
        caller: Caller | None = None,
    ) -> Scored:
        return service.predict_one(applicant, source, explain, caller)


class RowCoalescer:
    """Scores the single-row requests of one event loop, together when they arrive together."""

    def __init__(self) -> None:
        self._pending: list[Pending] = []
        self._arrivals = 0  # requests seen in the current turn
        self._busy = False  # the last counted turn had more than one request
        self.calls = 0  # model calls made (for tests and curiosity)

    async def predict(
        self,
        service: ScoringService,
        applicant: Row,
        source: Source,
        explain: bool = False,
        caller: Caller | None = None,
    ) -> Scored:
        loop = asyncio.get_running_loop()
        self._arrivals += 1
        if self._arrivals == 1:
            loop.call_soon(self._end_turn)  # runs after every request already ready in this turn
        if not self._busy and not self._pending:
            self.calls += 1
            return service.predict_one(applicant, source, explain, caller)
        future: asyncio.Future[Scored] = loop.create_future()
        self._pending.append((service, applicant, source, explain, caller, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _end_turn(self) -> None:
        self._busy, self._arrivals = self._arrivals > 1, 0

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        groups: dict[tuple[int, bool], list[Pending]] = {}
        for entry in pending:  # one service (unless a reload swapped it in between), explained or not
            groups.setdefault((id(entry[0]), entry[3]), []).append(entry)
        for entries in groups.values():
            self._score(entries)

    def _score(self, entries: list[Pending]) -> None:
        service, explain = entries[0][0], entries[0][3]
        self.calls += 1
        try:
            predictions = service.predict_rows(
                [e[1] for e in entries], [e[2] for e in entries], explain, [e[4] for e in entries]
            )
        except Exception as exc:  # noqa: BLE001 - each waiting request fails as it would alone
            for *_, future in entries:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), prediction in zip(entries, predictions):
            if not future.done():  # a client that went away cancelled its future
                future.set_result(prediction)
