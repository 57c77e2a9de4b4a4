"""The HTTP gates against a small real HTTP server that answers like a backend behind nginx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from deploy.probe import Expected, GateError, HttpChecks, prediction_problem, reference_applicants, serving
from deploy.tests.stack_server import SCHEMA, Backend, serve
from tests.kit.ports import free_port


@pytest.fixture()
def backend() -> Iterator[tuple[Backend, str]]:
    state = Backend()
    with serve(state) as url:
        yield state, url


class FakeClock:
    """Time that passes only when the checks sleep."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def checks(url: str, clock: FakeClock) -> HttpChecks:
    return HttpChecks(url, url, clock=clock, sleep=clock.sleep)


def test_serving_reports_color_version_and_readiness(backend) -> None:
    state, url = backend
    state.ready_after = 1
    loading = serving(url)
    assert (loading.color, loading.ready, loading.detail) == ("green", False, "model loading")
    ready = serving(url)
    assert (ready.color, ready.version, ready.ready) == ("green", "7", True)


def test_serving_without_a_server_is_no_answer() -> None:
    answer = serving("http://127.0.0.1:9")
    assert answer.color is None and not answer.ready and "no answer" in answer.detail


def test_reference_applicants_are_the_example_and_the_schema_extremes() -> None:
    example, low, high = reference_applicants(SCHEMA)
    assert example == SCHEMA["example"]
    assert low == {"age": 19, "amount": 250.0, "housing": "free"}
    assert high == {"age": 75, "amount": 18424.5, "housing": "rent"}
    assert isinstance(low["age"], int) and isinstance(high["amount"], float)


def test_wait_ready_polls_until_ready(backend) -> None:
    state, url = backend
    state.ready_after = 3
    clock = FakeClock()
    assert checks(url, clock).wait_ready("green", timeout=10) == "7"
    assert state.ready_calls == 4 and clock.now == 3


def test_wait_ready_gives_up_at_the_deadline_with_the_reason(backend) -> None:
    state, url = backend
    state.ready_after = 1000
    clock = FakeClock()
    with pytest.raises(GateError, match="green not ready within 5s: model loading"):
        checks(url, clock).wait_ready("green", timeout=5)
    assert clock.now == 5


def test_wait_ready_refuses_a_port_answering_as_the_other_color(backend) -> None:
    state, url = backend
    state.color = "blue"
    with pytest.raises(GateError, match="answers as blue, not green"):
        checks(url, FakeClock()).wait_ready("green", timeout=2)


def test_smoke_scores_the_reference_applicants(backend) -> None:
    state, url = backend
    assert checks(url, FakeClock()).smoke("green") == 3
    assert state.scored == reference_applicants(SCHEMA)


@pytest.mark.parametrize(
    "probability, color, message",
    [
        (1.5, "green", "1.5 is not a probability"),
        ("NaN", "green", "is not a probability"),
        (0.3, "blue", "by 'blue', expected 200 by 'green'"),
    ],
)
def test_smoke_fails_on_invalid_answers(backend, probability: Any, color: str, message: str) -> None:
    state, url = backend
    state.probability, state.color = probability, color
    with pytest.raises(GateError, match="smoke test") as failure:
        checks(url, FakeClock()).smoke("green")
    assert message in str(failure.value)


def test_verify_passes_on_consecutive_good_answers_from_the_target(backend) -> None:
    state, url = backend
    checks(url, FakeClock()).verify("green", timeout=1)
    assert len(state.scored) == 3


def test_verify_waits_for_the_reload_while_the_other_color_answers(backend) -> None:
    _, url = backend
    clock = FakeClock()
    with pytest.raises(GateError, match="public port not answering as blue within 3s: .* by 'green'"):
        checks(url, clock).verify("blue", timeout=3)
    assert clock.now >= 3


def test_verify_fails_fast_when_the_target_itself_fails(backend) -> None:
    state, url = backend
    state.probability = 7
    clock = FakeClock()
    with pytest.raises(GateError, match="green failed 3 checks, the last: probability_default 7"):
        checks(url, clock).verify("green", timeout=60)
    assert clock.now < 1


def test_verify_counts_no_answer_as_a_failure() -> None:
    clock = FakeClock()
    with pytest.raises(GateError, match="green failed 3 checks, the last: ConnectionError"):
        checks(f"http://127.0.0.1:{free_port()}", clock).verify("green", timeout=60)


def test_prediction_problem_accepts_a_valid_answer(backend) -> None:
    _, url = backend
    response = requests.post(f"{url}/api/predict", json={})
    assert prediction_problem(response, "green") is None
    assert "expected 'blue'" in prediction_problem(response, "blue")


def test_a_backend_that_says_its_bundle_cannot_be_served_fails_at_once(backend) -> None:
    """No waiting for the whole deadline: the backend says waiting will not help."""
    state, url = backend
    state.failed = "model not loaded: CatBoost cannot read model.cb"
    clock = FakeClock()
    with pytest.raises(GateError, match="cannot serve its model .* CatBoost cannot read"):
        checks(url, clock).wait_ready("green", timeout=120)
    assert clock.now == 0 and state.ready_calls == 1


def test_ready_with_another_model_or_code_than_pinned_is_refused(backend) -> None:
    state, url = backend
    with pytest.raises(GateError, match="serves model v7, not its pinned v8"):
        checks(url, FakeClock()).wait_ready("green", timeout=5, expected=Expected("8", "r7"))
    with pytest.raises(GateError, match="runs revision r7, not its pinned r8"):
        checks(url, FakeClock()).wait_ready("green", timeout=5, expected=Expected("7", "r8"))
    assert checks(url, FakeClock()).wait_ready("green", timeout=5, expected=Expected("7", "r7")) == "7"


def test_the_smoke_test_refuses_answers_from_another_model_than_pinned(backend) -> None:
    _, url = backend
    with pytest.raises(GateError, match="serves model v7, not its pinned v9"):
        checks(url, FakeClock()).smoke("green", Expected("9", None))


def test_the_gates_authenticate_with_the_clis_key_and_fail_clearly_without(tmp_path) -> None:
    from deploy.api_keys import ApiKeyStore

    store = ApiKeyStore(tmp_path / "api-keys.json")
    key = store.create("deploy-cli", ["score", "read", "probe"])
    state = Backend(key_store=store.path)
    clock = FakeClock()
    with serve(state) as url:
        anonymous = serving(url)
        assert (anonymous.ready, anonymous.color, anonymous.version) == (True, None, None), "no details without a key"
        gates = HttpChecks(url, url, clock=clock, sleep=clock.sleep, api_key=lambda: key)
        assert gates.wait_ready("green", 5, Expected("7", "r7")) == "7"
        assert gates.smoke("green", Expected("7", "r7")) == 3 and state.probes == 3
        gates.verify("green", 5)
        keyless = HttpChecks(url, url, clock=clock, sleep=clock.sleep)
        with pytest.raises(GateError, match="not ready within"):
            keyless.wait_ready("green", 3)
        store.revoke("deploy-cli")
        with pytest.raises(GateError, match="HTTP 401"):
            gates.smoke("green")
