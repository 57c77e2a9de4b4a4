"""The coalescer: lone requests scored inline, queued ones together, answers as if alone."""

import asyncio
from pathlib import Path

import pytest

from app.core.bundle import read_bundle
from app.core.coalescer import RowCoalescer
from app.core.predictors import build_predictor
from app.core.scoring import PredictionEvent, ScoringService

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(catboost_bundle: Path) -> ScoringService:
    bundle = read_bundle(catboost_bundle)
    return ScoringService(bundle, build_predictor(bundle), [])


async def turn(coalescer: RowCoalescer, service: ScoringService, rows: list[tuple]) -> list:
    """Requests that arrive in the same event-loop turn."""
    return await asyncio.gather(*(coalescer.predict(service, row, "single") for row in rows))


def test_requests_are_scored_together_only_while_they_queue(
    service: ScoringService, applicant_rows: list[tuple]
) -> None:
    alone = [(next(iter(service.predict([row], "single"))), None) for row in applicant_rows[:6]]

    async def scenario() -> list[int]:
        coalescer, calls = RowCoalescer(), []
        first = await turn(coalescer, service, applicant_rows[:4])  # no history: each inline
        calls.append(coalescer.calls)
        second = await turn(coalescer, service, applicant_rows[:4])  # after a busy turn: one call
        calls.append(coalescer.calls)
        await turn(coalescer, service, applicant_rows[4:5])  # a lone request (still after a busy turn)
        calls.append(coalescer.calls)
        lone = await turn(coalescer, service, applicant_rows[5:6])  # after a quiet turn: inline
        calls.append(coalescer.calls)
        assert first == second == alone[:4] and lone == alone[5:6]
        return calls

    assert asyncio.run(scenario()) == [4, 5, 6, 7]


def finishes_without_suspending(coroutine) -> bool:
    try:
        coroutine.send(None)  # runs until its first suspension
    except StopIteration:
        return True
    coroutine.close()
    return False


def test_a_lone_request_waits_for_no_loop_turn_unless_requests_are_queuing(
    service: ScoringService, applicant_rows: list[tuple]
) -> None:
    async def scenario() -> list[bool]:
        coalescer, row = RowCoalescer(), applicant_rows[0]
        fresh = finishes_without_suspending(coalescer.predict(service, row, "single"))
        await asyncio.sleep(0)  # that turn ends
        await turn(coalescer, service, applicant_rows[:3])  # a busy turn
        after_busy = finishes_without_suspending(coalescer.predict(service, row, "single"))
        await asyncio.sleep(0)
        await turn(coalescer, service, applicant_rows[:1])  # a quiet turn
        after_quiet = finishes_without_suspending(coalescer.predict(service, row, "single"))
        return [fresh, after_busy, after_quiet]

    assert asyncio.run(scenario()) == [True, False, True]


def test_listeners_get_one_event_per_source_of_a_coalesced_call(
    catboost_bundle: Path, applicant_rows: list[tuple]
) -> None:
    events: list[PredictionEvent] = []
    bundle = read_bundle(catboost_bundle)
    service = ScoringService(bundle, build_predictor(bundle), [events.append])

    async def scenario() -> None:
        coalescer = RowCoalescer()
        await turn(coalescer, service, applicant_rows[:2])  # makes the next turn a coalescing one
        events.clear()
        await asyncio.gather(
            coalescer.predict(service, applicant_rows[2], "single"),
            coalescer.predict(service, applicant_rows[3], "probe"),
            coalescer.predict(service, applicant_rows[4], "single"),
        )

    asyncio.run(scenario())
    assert [(e.source, list(e.applicants)) for e in events] == [
        ("single", [applicant_rows[2], applicant_rows[4]]),
        ("probe", [applicant_rows[3]]),
    ]


def test_explained_requests_of_a_turn_are_scored_in_one_call_apart_from_the_others(
    service: ScoringService, applicant_rows: list[tuple]
) -> None:
    rows = applicant_rows[6:12]

    async def scenario() -> tuple[list, int]:
        coalescer = RowCoalescer()
        await turn(coalescer, service, rows[:2])  # makes the next turn a coalescing one
        before = coalescer.calls
        answers = await asyncio.gather(
            *(coalescer.predict(service, row, "single", i % 2 == 0) for i, row in enumerate(rows))
        )
        return answers, coalescer.calls - before

    answers, calls = asyncio.run(scenario())
    assert calls == 2  # one call for the explained requests, one for the others
    for index, (row, (prediction, explanation)) in enumerate(zip(rows, answers)):
        alone_prediction, alone_explanation = service.predict_one(row, "single", index % 2 == 0)
        assert prediction == alone_prediction
        assert (explanation is None) == (index % 2 == 1)
        assert explanation is None or explanation.reasons == alone_explanation.reasons


def test_a_failing_call_fails_every_request_in_it(service: ScoringService, applicant_rows: list[tuple]) -> None:
    async def scenario() -> list:
        coalescer = RowCoalescer()
        await turn(coalescer, service, applicant_rows[:2])
        broken = applicant_rows[2][:-1]  # one value short: the model call itself fails
        return await asyncio.gather(
            coalescer.predict(service, applicant_rows[3], "single"),
            coalescer.predict(service, broken, "single"),
            return_exceptions=True,
        )

    answers = asyncio.run(scenario())
    assert len(answers) == 2 and all(isinstance(a, Exception) for a in answers)
