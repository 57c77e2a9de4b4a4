"""The HTTP gates against a small real HTTP server that answers like a backend behind nginx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from deploy.probe import GateError, HttpChecks, prediction_problem, reference_applicants, serving
from tests.kit.ports import free_port

SCHEMA = {
    "features": [
        {"name": "age", "type": "numeric", "dtype": "integer", "min": 19, "max": 75},
        {"name": "amount", "type": "numeric", "dtype": "float", "min": 250.0, "max": 18424.5},
        {"name": "housing", "type": "categorical", "categories": ["free", "own", "rent"]},
    ],
    "example": {"age": 30, "amount": 1000.0, "housing": "own"},
}


@dataclass
class Backend:
    """What the fake stack answers; tests change it while the server runs."""

    color: str = "green"
    version: str = "7"
    ready_after: int = 0  # /ready answers 503 this many times first
    probability: Any = 0.25
    scored: list[dict] = field(default_factory=list)
    ready_calls: int = 0


def handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Deployment-Color", backend.color)
            self.send_header("X-Model-Version", backend.version)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/api/ready":
                backend.ready_calls += 1
                if backend.ready_calls <= backend.ready_after:
                    self.answer(503, {"status": "not_ready", "reason": "model loading"})
                else:
                    self.answer(200, {"status": "ready", "model_version": backend.version, "color": backend.color})
            elif self.path == "/api/health":
                self.answer(200, {"status": "ok", "color": backend.color})
            elif self.path == "/api/schema":
                self.answer(200, SCHEMA)
            else:
                self.answer(404, {"detail": "not found", "errors": []})

        def do_POST(self) -> None:  # noqa: N802
            applicant = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            backend.scored.append(applicant)
            self.answer(200, {"probability_default": backend.probability, "label": 0, "color": backend.color})

    return Handler


@pytest.fixture()
def backend() -> Iterator[tuple[Backend, str]]:
    state = Backend()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


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
